"""Render phantom sets with the Rust renderer (`tricho synth`), skipping sets that already exist.

    python models/training/render.py --out models/training/data/train --count 2000 --seed 100000 \
        --size 320x320 --um-per-px 5
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, list_phantoms, load_truth, sha256_file  # noqa: E402

DEFAULT_TRICHO = os.environ.get("TRICHO_BIN", str(REPO_ROOT / "target" / "release" / "tricho"))


def git_revision() -> str:
    """Short commit of the repository the renderer was built from, '+dirty' if it has local changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml", "Cargo.lock"],
                               cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def render(out, count, seed, size=None, um_per_px=None, tricho=DEFAULT_TRICHO, quiet=False) -> dict:
    """Render `count` phantoms into `out` unless a manifest with the same request exists."""
    out = Path(out)
    request = {"count": int(count), "seed": int(seed), "size": size, "um_per_px": um_per_px}
    manifest_path = out / "manifest.json"
    binary_sha = sha256_file(tricho)
    if manifest_path.exists():
        man = json.loads(manifest_path.read_text())
        if man.get("request") != request:
            raise SystemExit(f"[render] {out} holds a different set ({man.get('request')}); delete it or choose another --out")
        if man.get("renderer", {}).get("binary_sha256") == binary_sha and len(list_phantoms(out)) == count:
            if not quiet:
                print(f"[render] {out}: up to date ({count} phantoms, seed {seed})", flush=True)
            return man
        # rendered by another build of the renderer: render again (only our own files are removed)
        print(f"[render] {out}: renderer binary changed since it was rendered; rendering again", flush=True)
        for f in out.iterdir():
            if f.is_file() and (f.suffix in (".png", ".npz") or f.name.endswith(".truth.json") or f.name == "manifest.json"):
                f.unlink()
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"[render] {out} exists without a manifest; delete it first")
    out.mkdir(parents=True, exist_ok=True)
    cmd = [str(tricho), "synth", "--out", str(out), "--count", str(count), "--seed", str(seed)]
    if size:
        cmd += ["--size", str(size)]
    if um_per_px is not None:
        cmd += ["--um-per-px", str(um_per_px)]
    if not quiet:
        print("[render] " + " ".join(cmd), flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True)
    dt = time.time() - t0
    truths = list_phantoms(out)
    if len(truths) != count:
        raise SystemExit(f"[render] expected {count} phantoms in {out}, found {len(truths)}")
    first = load_truth(truths[0])
    gen = first.get("generator", {})
    shown = ["tricho"] + cmd[1:]
    try:
        shown[shown.index("--out") + 1] = str(out.resolve().relative_to(REPO_ROOT))
    except ValueError:
        pass
    man = {
        "request": request,
        "command": " ".join(shown),
        "renderer": {"tool": gen.get("tool", "tricho"), "version": gen.get("version", "unknown"), "git": git_revision(),
                     "binary_sha256": binary_sha},
        "render_seconds": round(dt, 2),
        "width_px": first["image"]["width_px"],
        "height_px": first["image"]["height_px"],
    }
    manifest_path.write_text(json.dumps(man, indent=2) + "\n")
    if not quiet:
        print(f"[render] {count} phantoms in {dt:.1f} s (renderer {man['renderer']['version']})", flush=True)
    return man


def scale_arg(text: str):
    """--um-per-px as train.py passes it: a float, or the range string "A:B" (so both ask for the same set)."""
    return text if ":" in text else float(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--size", default=None, help="WxH (renderer default if omitted)")
    ap.add_argument("--um-per-px", type=scale_arg, default=None, help="A or A:B (renderer default if omitted)")
    ap.add_argument("--tricho", default=DEFAULT_TRICHO)
    a = ap.parse_args()
    render(a.out, a.count, a.seed, a.size, a.um_per_px, a.tricho)


if __name__ == "__main__":
    main()

"""Average the weights of fine-tunes that share one starting point ("model soup") and keep the mix
that scores best on a selection set; export it, evaluate it on the held-out test set, write the card.

Fine-tunes of one model with different loss weights land on different points of the
Dice / thin-hair-recall trade-off; a weighted average of their weights lies between them and can meet
both targets where neither end does. The mixing weight is chosen on its own set of phantoms
(renderer default sizes and scales, like the test set, but another seed), never on the test set:

    python models/training/soup.py --a models/training/runs/finetune3/best.pt \
        --b models/training/runs/finetune4/best.pt --alphas 0,0.1,0.2,0.3,0.4,0.5

`alpha` is the weight of `--a` (the mix is alpha * a + (1 - alpha) * b). Both fine-tunes must start
from the same weights with BatchNorm statistics frozen (`train.py --init-onnx ... --freeze-bn`), so
every BatchNorm holds the same statistics and averaging its affine parameters is exact.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, TRAINING_DIR  # noqa: E402
from evaluate import TARGETS, evaluate  # noqa: E402

SELECT_COUNT, SELECT_SEED = 48, 250000


def score(metrics: dict) -> float:
    """The worst ratio of measured to target over the model card's four targets (as train.py selects)."""
    return min(metrics[k] / t for k, t in TARGETS.items())


def mix(ck_a: dict, ck_b: dict, alpha: float) -> dict:
    """alpha * a + (1 - alpha) * b over every floating-point tensor; integer buffers come from b."""
    sa, sb = ck_a["state_dict"], ck_b["state_dict"]
    if sa.keys() != sb.keys() or ck_a["config"] != ck_b["config"]:
        raise SystemExit("[soup] the two checkpoints have different architectures")
    for k in sa:
        if "running_" in k and not (sa[k] == sb[k]).all():
            raise SystemExit(f"[soup] BatchNorm statistics differ ({k}): fine-tune both with --freeze-bn from one model")
    state = {k: alpha * sa[k] + (1 - alpha) * sb[k] if sb[k].dtype.is_floating_point else sb[k] for k in sb}
    return {**ck_b, "state_dict": state}


def main(argv=None):
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", required=True, help="checkpoint a (best.pt of a fine-tune)")
    ap.add_argument("--b", required=True, help="checkpoint b, fine-tuned from the same weights as a")
    ap.add_argument("--alphas", default="0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1", help="weights of a to try")
    ap.add_argument("--select-count", type=int, default=SELECT_COUNT)
    ap.add_argument("--select-seed", type=int, default=SELECT_SEED)
    ap.add_argument("--data-dir", default=str(TRAINING_DIR / "data"))
    ap.add_argument("--test-dir", default=str(TRAINING_DIR / "data" / "test_s300000_n60_default_defaultscale"))
    ap.add_argument("--run-dir", default=str(TRAINING_DIR / "runs" / "soup"))
    ap.add_argument("--onnx-out", default=str(REPO_ROOT / "models" / "hairseg.onnx"))
    ap.add_argument("--metrics-out", default=str(TRAINING_DIR / "metrics.json"))
    ap.add_argument("--summary", default=str(TRAINING_DIR / "train_summary.json"),
                    help="train_summary.json of checkpoint b's run (the card's last training stage)")
    ap.add_argument("--soup-out", default=str(TRAINING_DIR / "soup_summary.json"))
    ap.add_argument("--card-out", default=str(REPO_ROOT / "models" / "hairseg.md"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tricho", default=None)
    a = ap.parse_args(argv)

    from export import export
    from render import DEFAULT_TRICHO, render
    from write_card import write_card

    torch.set_num_threads(a.threads)
    run = Path(a.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    select_dir = Path(a.data_dir) / f"select_s{a.select_seed}_n{a.select_count}_default_defaultscale"
    render(select_dir, a.select_count, a.select_seed, None, None, a.tricho or DEFAULT_TRICHO)
    ck_a = torch.load(a.a, map_location="cpu", weights_only=False)
    ck_b = torch.load(a.b, map_location="cpu", weights_only=False)
    tried = []
    for alpha in (float(v) for v in a.alphas.split(",")):
        ck = mix(ck_a, ck_b, alpha)
        path = run / f"soup_a{alpha:g}.pt"
        torch.save(ck, path)
        export(path, run / f"soup_a{alpha:g}.onnx", a.threads)
        m = evaluate(run / f"soup_a{alpha:g}.onnx", select_dir, run / f"select_a{alpha:g}.json", a.threads,
                     speed_runs=1, quiet=True)
        row = {"alpha": alpha, "score": score(m), **{k: m[k] for k in TARGETS}}
        tried.append(row)
        print("[soup] " + "  ".join(f"{k} {v:.4f}" for k, v in row.items()), flush=True)
    best = max(tried, key=lambda r: r["score"])
    print(f"[soup] chosen alpha {best['alpha']:g} (selection score {best['score']:.4f})", flush=True)

    command = (f"python models/training/soup.py --a {a.a} --b {a.b} --alphas {a.alphas} "
               f"--select-count {a.select_count} --select-seed {a.select_seed}")
    ck = mix(ck_a, ck_b, best["alpha"])
    ck["training_data"] = (f"{ck_b.get('training_data', 'phantoms')}; weight average {best['alpha']:g} x "
                           f"{Path(a.a).parent.name} + {1 - best['alpha']:g} x {Path(a.b).parent.name}, mixing weight "
                           f"chosen on {a.select_count} phantoms seed {a.select_seed}")
    ck["training_command"] = command
    torch.save(ck, run / "best.pt")
    info = export(run / "best.pt", a.onnx_out, a.threads)
    evaluate(a.onnx_out, a.test_dir, a.metrics_out, a.threads, export_info=info)
    rel = lambda p: str(Path(p).resolve().relative_to(REPO_ROOT)) if Path(p).resolve().is_relative_to(REPO_ROOT) else str(p)  # noqa: E731
    Path(a.soup_out).write_text(json.dumps({
        "a": rel(a.a), "b": rel(a.b), "command": command, "chosen_alpha": best["alpha"],
        "selection_set": {"dir": rel(select_dir), "count": a.select_count, "seed": a.select_seed,
                          "scale": "renderer default sizes and scales"},
        "tried": tried}, indent=2) + "\n")
    write_card(a.onnx_out, a.metrics_out, a.summary, a.card_out)


if __name__ == "__main__":
    main()

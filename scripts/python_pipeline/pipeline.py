#!/usr/bin/env python3
"""A straightforward Python version of `tricho analyze`, kept as a speed and sanity baseline.

Same steps and the same model as the Rust tool, written the way a Python developer would with
onnxruntime + numpy + scipy + scikit-image: decode (PIL) -> resample to the model's um/px
(PIL) -> whole-image ONNX inference -> hair >= 0.5 -> skeletonize -> branch graph (neighbour
counts: junction clusters and branches) -> spur pruning -> branches paired across junctions
by direction, one polyline per hair -> width from the distance transform (median along the
shaft away from tips and junctions) -> count, density, widths, classes -> <stem>.json,
<stem>.overlay.png, summary.csv. Images run in a pool of --jobs processes, each with its own
ONNX Runtime session of --threads intra-op threads (the Rust tool: one session per worker).

    python pipeline.py --um-per-px 5 --out OUT [--jobs 2] [--threads 1] FOLDER_OR_IMAGE...

A comparison baseline, not a product: no tuning in either direction.
"""
import argparse
import csv
import json
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from skimage.morphology import remove_small_objects, skeletonize

MODEL = Path(__file__).resolve().parents[2] / "models" / "hairseg.onnx"
EXTENSIONS = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
HAIR_THRESHOLD = 0.5  # the model card's evaluation threshold on the hair channel
VELLUS_MAX_UM, TERMINAL_MIN_UM = 30.0, 60.0  # DOMAIN.md defaults (Rakowska 2009)
# Smallest blob kept: a vellus-wide (30 um) shaft twice as long as it is wide.
MIN_OBJECT_UM2 = 30.0 * 60.0
MIN_ELONGATION = 2.0  # a hair is at least this many widths long; shorter things are dots
DARK_GREY = 16  # device blank bars: rows/columns with >= 98 % of pixels darker than this
PAIR_MIN_ANGLE_DEG = 135.0  # branches continue each other when at least this opposite
DIRECTION_PX = 8  # pixels along a branch that give its direction at a junction
EIGHT = np.ones((3, 3), dtype=np.uint8)
# 4-neighbours first so a walk along a thin skeleton never skips a corner pixel.
STEPS = [(-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]

_session = None
_meta = None


def init_worker(model_path, threads):
    """One ONNX Runtime session per worker process, created once."""
    global _session, _meta
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    _session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
    meta = _session.get_modelmeta().custom_metadata_map
    floats = lambda key: np.array([float(v) for v in meta[key].split(",")], dtype=np.float32)
    _meta = {
        "mean": floats("tricho.input_mean"),
        "std": floats("tricho.input_std"),
        "multiple": int(meta["tricho.tile_multiple"]),
        "um_per_px": float(meta["tricho.um_per_px"]),
    }


def field_mask(rgb):
    """Scalp pixels: everything except the device's blank (near-black) rows and columns."""
    dark = rgb.mean(axis=2) < DARK_GREY
    field = np.ones(dark.shape, dtype=bool)
    field[dark.mean(axis=1) >= 0.98, :] = False
    field[:, dark.mean(axis=0) >= 0.98] = False
    return field


def hair_probability(rgb):
    """Whole-image inference, padded (reflect) to the model's size multiple; hair channel."""
    h, w, _ = rgb.shape
    m = _meta["multiple"]
    x = (rgb.astype(np.float32) / 255.0 - _meta["mean"]) / _meta["std"]
    x = np.pad(x, ((0, -h % m), (0, -w % m), (0, 0)), mode="reflect")
    out = _session.run(["probabilities"], {"image": x.transpose(2, 0, 1)[None].copy()})[0]
    return out[0, 0, :h, :w]


def walk(pixels, start):
    """Orders the pixels of a simple 8-connected path starting at `start`."""
    path, seen, cur = [start], {start}, start
    while True:
        for dr, dc in STEPS:
            nxt = (cur[0] + dr, cur[1] + dc)
            if nxt in pixels and nxt not in seen:
                break
        else:
            return path
        path.append(nxt)
        seen.add(nxt)
        cur = nxt


def branch_graph(skel):
    """Junction clusters (pixels with >= 3 skeleton neighbours) and the branches between them.

    Returns the junction label image, the number of junctions and, per branch, its ordered
    pixel path and the junction (0 = none) at each end."""
    neighbours = ndi.convolve(skel.astype(np.uint8), EIGHT, mode="constant") - skel
    junction_px = skel & (neighbours >= 3)
    jlab, n_junctions = ndi.label(junction_px, structure=EIGHT)
    branch_px = skel & ~junction_px
    blab, n_branches = ndi.label(branch_px, structure=EIGHT)
    inner = ndi.convolve(branch_px.astype(np.uint8), EIGHT, mode="constant") - branch_px
    h, w = skel.shape
    branches = []
    for label, sl in enumerate(ndi.find_objects(blab), start=1):
        rr, cc = np.nonzero(blab[sl] == label)
        rr, cc = rr + sl[0].start, cc + sl[1].start
        pixels = set(zip(rr.tolist(), cc.tolist()))
        ends = np.flatnonzero(inner[rr, cc] <= 1)
        start = (int(rr[ends[0]]), int(cc[ends[0]])) if len(ends) else (int(rr[0]), int(cc[0]))
        path = walk(pixels, start)
        touched = []
        for end in (path[0], path[-1]):
            r0, r1, c0, c1 = max(end[0] - 1, 0), min(end[0] + 2, h), max(end[1] - 1, 0), min(end[1] + 2, w)
            labels = [int(v) for v in np.unique(jlab[r0:r1, c0:c1]) if v]
            touched.append(labels)
        # A one-pixel branch can touch two junctions with its single pixel: one per end.
        j0 = touched[0][0] if touched[0] else 0
        j1 = next((j for j in touched[1] if j != j0 or len(touched[1]) == 1), 0) if touched[1] else 0
        branches.append({"path": path, "junctions": [j0, j1]})
    return jlab, n_junctions, branches


def direction(path, end):
    """Unit vector pointing along the branch away from its end `end` (0 = first pixel)."""
    p = path if end == 0 else path[::-1]
    k = min(DIRECTION_PX, len(p) - 1)
    v = np.array(p[k], dtype=float) - np.array(p[0], dtype=float)
    n = np.hypot(*v)
    return v / n if n > 0 else v


def trace_hairs(hair, dist):
    """Skeleton -> graph -> spurs pruned -> branches paired at junctions -> hair polylines."""
    skel = skeletonize(hair)
    jlab, n_junctions, branches = branch_graph(skel)
    centres = ndi.center_of_mass(np.ones_like(jlab), jlab, range(1, n_junctions + 1))
    # Spur: a branch with one free end, no longer than the shaft is wide at its junction
    # (the skeleton artefacts of a shaft's ragged edge are about one radius long).
    kept = []
    for b in branches:
        j = [x for x in b["junctions"] if x]
        if len(j) == 1 and b["junctions"].count(0) == 1:
            cr, cc = (int(round(v)) for v in centres[j[0] - 1])
            if len(b["path"]) <= 2 * dist[cr, cc]:
                continue
        kept.append(b)
    # Junction clusters joined by a branch no longer than the shaft is wide are one crossing
    # (two thick shafts crossing skeletonize into two Y junctions about one width apart).
    root = list(range(n_junctions + 1))

    def find(j):
        while root[j] != j:
            root[j] = root[root[j]]
            j = root[j]
        return j

    junction_px = jlab > 0
    branches = []
    for b in kept:
        j0, j1 = b["junctions"]
        if j0 and j1 and find(j0) != find(j1):
            widths = [2 * dist[tuple(int(round(v)) for v in centres[j - 1])] for j in (j0, j1)]
            if len(b["path"]) <= max(widths):
                root[find(j0)] = find(j1)
                junction_px[tuple(np.array(b["path"]).T)] = True
                continue
        branches.append(b)
    for b in branches:
        b["junctions"] = [find(j) if j else 0 for j in b["junctions"]]
    # Pair branch ends at each junction: two ends always continue each other; otherwise the
    # most opposite pairs first, when at least PAIR_MIN_ANGLE_DEG apart.
    at_junction = {}
    for i, b in enumerate(branches):
        for end, j in enumerate(b["junctions"]):
            if j:
                at_junction.setdefault(j, []).append((i, end))
    partner = {}
    min_cos = math.cos(math.radians(PAIR_MIN_ANGLE_DEG))
    for ends in at_junction.values():
        if len(ends) == 2:
            candidates = [(-1.0, ends[0], ends[1])]
        else:
            dirs = {e: direction(branches[e[0]]["path"], e[1]) for e in ends}
            candidates = sorted(
                (float(dirs[a] @ dirs[b]), a, b) for k, a in enumerate(ends) for b in ends[k + 1:]
            )
        for cos, a, b in candidates:
            if cos <= min_cos and a not in partner and b not in partner and a[0] != b[0]:
                partner[a], partner[b] = b, a
    # Chain the paired branches into one polyline per hair (open chains first, then loops).
    used, hairs = set(), []
    order = sorted(range(len(branches)), key=lambda i: ((i, 0) in partner) and ((i, 1) in partner))
    for first in order:
        if first in used:
            continue
        entry = 1 if (first, 0) in partner and (first, 1) not in partner else 0
        polyline, i = [], first
        while i is not None and i not in used:
            used.add(i)
            path = branches[i]["path"]
            polyline.extend(path if entry == 0 else path[::-1])
            nxt = partner.get((i, 1 - entry))
            i, entry = (nxt[0], nxt[1]) if nxt else (None, 0)
        hairs.append(np.array(polyline, dtype=float))
    return hairs, junction_px


def measure(polyline, dist, near_junction, um_per_px):
    """Length and width (um): width = 2 * distance-transform - 1 at centreline pixels, median
    over the shaft away from tips and junctions (all pixels when nothing else is left)."""
    length_px = float(np.hypot(*np.diff(polyline, axis=0).T).sum()) + 1.0
    rr, cc = polyline[:, 0].astype(int), polyline[:, 1].astype(int)
    radii = dist[rr, cc]
    tip = int(math.ceil(np.median(radii)))
    keep = ~near_junction[rr, cc]
    keep[:tip] = keep[len(keep) - tip:] = False
    width_px = max(2.0 * float(np.median(radii[keep] if keep.any() else radii)) - 1.0, 1.0)
    return length_px * um_per_px, width_px * um_per_px


def hair_class(width_um):
    return "vellus" if width_um <= VELLUS_MAX_UM else "terminal" if width_um >= TERMINAL_MIN_UM else "intermediate"


def analyse(task):
    """One image -> <stem>.json and <stem>.overlay.png; returns its summary row."""
    path, out, um_per_px = task
    started = time.perf_counter()
    try:
        photo = Image.open(path).convert("RGB")
        model_um = _meta["um_per_px"]
        scale = um_per_px / model_um  # input px -> model px
        size = (max(round(photo.width * scale), 1), max(round(photo.height * scale), 1))
        resampled = photo if size == photo.size else photo.resize(size, Image.Resampling.BILINEAR)
        rgb = np.asarray(resampled)
        field = field_mask(rgb)
        hair = (hair_probability(rgb) >= HAIR_THRESHOLD) & field
        hair = remove_small_objects(hair, max_size=int(MIN_OBJECT_UM2 / model_um**2))
        dist = ndi.distance_transform_edt(hair)
        polylines, junction_px = trace_hairs(hair, dist)
        # Within twice the local radius of a junction the distance transform sees both hairs.
        near_junction = ndi.distance_transform_edt(~junction_px) < 2.0 * dist
        hairs = []
        for polyline in polylines:
            length_um, width_um = measure(polyline, dist, near_junction, model_um)
            if length_um < MIN_ELONGATION * width_um:
                continue
            xy = polyline[:, ::-1] / scale  # (row, col) model px -> (x, y) input px
            hairs.append({
                "id": len(hairs) + 1, "width_um": round(width_um, 2), "length_um": round(length_um, 1),
                "class": hair_class(width_um), "centreline_px": np.round(xy[::4], 1).tolist(),
            })
        field_cm2 = float(field.sum()) * (model_um * 1e-4) ** 2
        widths = [h["width_um"] for h in hairs]
        result = {
            "file": str(path), "um_per_px": um_per_px, "width_px": photo.width, "height_px": photo.height,
            "field_area_cm2": round(field_cm2, 6), "count": len(hairs),
            "density_per_cm2": round(len(hairs) / field_cm2, 2) if field_cm2 > 0 else None,
            "mean_width_um": round(float(np.mean(widths)), 2) if widths else None,
            **{c: sum(h["class"] == c for h in hairs) for c in ("vellus", "intermediate", "terminal")},
            "hairs": hairs,
        }
        stem = Path(path).stem
        (out / f"{stem}.json").write_text(json.dumps(result, indent=1))
        draw = ImageDraw.Draw(photo)
        colours = {"vellus": (255, 220, 0), "intermediate": (0, 200, 255), "terminal": (255, 0, 160)}
        for h in hairs:
            draw.line([tuple(p) for p in h["centreline_px"]], fill=colours[h["class"]], width=2)
        photo.save(out / f"{stem}.overlay.png")
        row = {k: result[k] for k in ("count", "density_per_cm2", "mean_width_um", "vellus", "intermediate", "terminal")}
        return {"file": str(path), "status": "ok", **row, "seconds": round(time.perf_counter() - started, 3), "error": ""}
    except Exception as e:  # one bad file must not stop the folder
        return {"file": str(path), "status": "failed", "seconds": round(time.perf_counter() - started, 3), "error": repr(e)}


def collect(paths):
    files = []
    for p in map(Path, paths):
        files += sorted(f for f in p.rglob("*") if f.suffix.lower() in EXTENSIONS) if p.is_dir() else [p]
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", help="images and folders (searched recursively)")
    ap.add_argument("--um-per-px", type=float, required=True, help="calibration of every image")
    ap.add_argument("--out", type=Path, default=Path("out-python"))
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads per worker")
    ap.add_argument("--model", type=Path, default=MODEL)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    files = collect(args.paths)
    started = time.perf_counter()
    with Pool(args.jobs, initializer=init_worker, initargs=(args.model, args.threads)) as pool:
        rows = list(pool.imap(analyse, [(f, args.out, args.um_per_px) for f in files], chunksize=1))
    seconds = time.perf_counter() - started
    fields = ["file", "status", "count", "density_per_cm2", "mean_width_um", "vellus", "intermediate", "terminal", "seconds", "error"]
    with open(args.out / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    failed = sum(r["status"] != "ok" for r in rows)
    print(f"analysed {len(rows) - failed} of {len(rows)} images in {seconds:.1f} s "
          f"({len(rows) / max(seconds, 1e-9):.2f} images/s); {failed} failed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

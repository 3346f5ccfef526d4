#!/usr/bin/env python3
"""Width measurement alone, without the tracer: each counted hair of a phantom folder is
measured along its *true* centreline, at stations 1 px apart away from its tips (one width +
2 px) whose profile meets no other hair, in two ways, as `src/measure` does:

- coverage: the model's `coverage` channel integrated across the shaft (the contiguous run
  above 2 % of the peak next to the centreline);
- photo edges: the distance between the outermost colour-gradient peaks that reach half their
  side's largest, within the coverage's half-width + 2 px (of the photo, or of the model's
  5 µm map where those are wider), sampled every 0.5 px;

and prints, per true-width bin and hair colour, the median error and MAE (µm) of the per-hair
medians of each and of their mean. The maps come from `tricho segment` at each phantom's own
calibration, e.g. for the validation phantoms:

    tricho synth --out out/val/p600000 --count 30 --seed 600000
    for f in out/val/p600000/*.truth.json; do
      s=$(basename "$f" .truth.json)
      u=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['calibration']['um_per_px'])" "$f")
      tricho segment --um-per-px "$u" --out out/val/seg600000 "out/val/p600000/$s.png"
    done
    python3 scripts/width_along_truth.py out/val/p600000 out/val/seg600000

Needs numpy, pillow and scipy (the training venv has them: models/training/requirements.txt).
"""
import glob
import json
import os
import sys

import numpy as np
from PIL import Image
from scipy.ndimage import map_coordinates

PROFILE_STEP_PX = 0.25
EDGE_STEP_PX = 0.5
EDGE_MARGIN_PX = 2.0
MODEL_UM_PER_PX = 5.0
PEAK_FRACTION = 0.5
BINS_UM = [0, 15, 20, 30, 45, 60, 80, 100, 200]


def sample(plane, xs, ys):
    """Bilinear values at continuous positions, pixel (i, j) covering [i, i+1) × [j, j+1)."""
    return map_coordinates(plane, [ys - 0.5, xs - 0.5], order=1, mode="nearest")


def coverage_width(cov, centre, normal, reach):
    d = np.arange(-reach, reach + 1e-9, PROFILE_STEP_PX)
    p = sample(cov, centre[0] + normal[0] * d, centre[1] + normal[1] * d)
    k0 = len(d) // 2
    peak_k = k0 + int(np.argmax(p[k0 - 4:k0 + 5])) - 4
    peak = p[peak_k]
    if peak < 0.05:
        return None
    lo = hi = peak_k
    while lo > 0 and p[lo - 1] > 0.02 * peak:
        lo -= 1
    while hi < len(d) - 1 and p[hi + 1] > 0.02 * peak:
        hi += 1
    return float(np.trapezoid(p[lo:hi + 1], dx=PROFILE_STEP_PX))


def outer_peak(g, indices):
    largest = max(g[i] for i in indices)
    if largest <= 1e-12:
        return None
    for a_i, b_i, c_i in zip(indices, indices[1:], indices[2:]):
        a, b, c = g[a_i], g[b_i], g[c_i]
        if b >= PEAK_FRACTION * largest and b >= a and b >= c:
            curvature = a - 2 * b + c
            shift = 0.5 * (a - c) / curvature if curvature < 0 else 0.0
            return b_i + shift * (c_i - b_i)
    return None


def edge_width(rgb, centre, normal, half, um_per_px):
    reach = half + EDGE_MARGIN_PX * max(1.0, MODEL_UM_PER_PX / um_per_px)
    n = int(np.ceil(reach / EDGE_STEP_PX)) + 1
    d = np.arange(-n, n + 1) * EDGE_STEP_PX
    xs, ys = centre[0] + normal[0] * d, centre[1] + normal[1] * d
    colours = np.stack([sample(rgb[..., c], xs, ys) for c in range(3)], -1)
    g = np.linalg.norm(colours[2:] - colours[:-2], axis=1) / (2 * EDGE_STEP_PX)
    centre_index = n - 1
    left = outer_peak(g, list(range(0, centre_index + 1)))
    right = outer_peak(g, list(range(len(g) - 1, centre_index - 1, -1)))
    if left is None or right is None:
        return None
    width = (right - left) * EDGE_STEP_PX
    return width if width > 0 else None


def hair_widths(hair, s, rgb, cov, labels):
    points = np.array(hair["centreline_px"], dtype=np.float64)
    if len(points) < 2:
        return None
    arc = np.concatenate([[0], np.cumsum(np.hypot(*(points[1:] - points[:-1]).T))])
    length, true_px = arc[-1], hair["width_um"] / s
    tip = true_px + 2
    if length < 2 * tip + 3:
        return None
    at = lambda q: np.array([np.interp(q, arc, points[:, 0]), np.interp(q, arc, points[:, 1])])
    height, width = labels.shape
    by_coverage, by_edges = [], []
    for a in np.arange(tip, length - tip, 1.0):
        centre = at(a)
        tangent = at(min(length, a + 3)) - at(max(0, a - 3))
        tangent /= np.hypot(*tangent) + 1e-12
        normal = np.array([-tangent[1], tangent[0]])
        reach = true_px / 2 + 8
        d = np.arange(-reach, reach + 1e-9, PROFILE_STEP_PX)
        xs, ys = centre[0] + normal[0] * d, centre[1] + normal[1] * d
        if xs.min() < 0 or ys.min() < 0 or xs.max() >= width or ys.max() >= height:
            continue
        ids = labels[ys.astype(int), xs.astype(int)]
        if np.any((ids != 0) & (ids != hair["id"])):
            continue
        w = coverage_width(cov, centre, normal, reach)
        if w is None:
            continue
        by_coverage.append(w)
        e = edge_width(rgb, centre, normal, w / 2, s)
        if e is not None:
            by_edges.append(e)
    if len(by_coverage) < 3 or len(by_edges) < 3:
        return None
    return np.median(by_coverage) * s, np.median(by_edges) * s


def main(phantoms, maps):
    rows = []
    for truth_file in sorted(glob.glob(f"{phantoms}/*.truth.json")):
        truth = json.load(open(truth_file))
        stem = os.path.basename(truth_file)[: -len(".truth.json")]
        s = truth["calibration"]["um_per_px"]
        rgb = np.asarray(Image.open(f"{phantoms}/{stem}.png").convert("RGB"), dtype=np.float64) / 255
        labels = np.asarray(Image.open(f"{phantoms}/{stem}.labels.png")).astype(np.int64) & 0x7FFF
        cov = np.asarray(Image.open(f"{maps}/{stem}.coverage.png"), dtype=np.float64)
        cov /= 65535 if cov.max() > 255 else 255
        for hair in truth["hairs"]:
            if hair["counted"]:
                widths = hair_widths(hair, s, rgb, cov, labels)
                if widths:
                    rows.append((hair["width_um"], hair["colour"], *widths))
    true = np.array([r[0] for r in rows])
    estimates = {
        "coverage": np.array([r[2] for r in rows]),
        "photo edges": np.array([r[3] for r in rows]),
        "mean": np.array([(r[2] + r[3]) / 2 for r in rows]),
    }
    header = " | ".join(f"{k}: median error µm | {k}: MAE µm" for k in estimates)
    print(f"| group | hairs | {header} |")
    print("| --- | --- |" + " --- | --- |" * len(estimates))
    colours = np.array([r[1] for r in rows])
    groups = [("all", np.ones(len(rows), bool))]
    groups += [(f"{lo}-{hi} µm", (true >= lo) & (true < hi)) for lo, hi in zip(BINS_UM, BINS_UM[1:])]
    groups += [(c, colours == c) for c in sorted(set(colours))]
    for name, m in groups:
        if m.sum() == 0:
            continue
        cells = " | ".join(
            f"{np.median(e[m] - true[m]):+.1f} | {np.abs(e[m] - true[m]).mean():.1f}" for e in estimates.values()
        )
        print(f"| {name} | {m.sum()} | {cells} |")
    errors = {k: e - true for k, e in estimates.items()}
    print(f"\ncorrelation of the coverage and photo-edge errors: "
          f"{np.corrcoef(errors['coverage'], errors['photo edges'])[0, 1]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Hair-by-hair breakdown of the tracer's count error on phantoms (README, Accuracy).

Each traced centreline written by `TRACE_DUMP=DUMP cargo run --release --example trace_eval --
PHANTOMS` is assigned to the true hair under most of its points in the renderer's label image
(hair id per pixel; the topmost hair where hairs overlap). A centreline with fewer than 30 % of
its points on any hair lies on no hair. Prints per image and in total: true counted hairs,
traced hairs, traced on no hair, extra pieces of split hairs (traced hairs beyond the first
assigned to one true hair), true counted hairs with no traced hair of their own, and how many of
those are hidden: fewer label pixels than a quarter of their visible length × width (under
another hair of their unit; no image-based count can see them), and how many of the visible
missed ones belong to a follicular unit of two or more counted hairs (`missed_in_units`: stubs
of one opening lying side by side merge into one blob). Also: `mixed`, traced hairs
running along two or more true hairs (each under at least a fifth of its points and 100 µm: a
chain that switched hairs in a crossing), and `clean`, true counted hairs with a traced hair of
which at least 80 % of the on-hair points are theirs; clean precision and recall are `clean`
over traced and over true.

    python3 scripts/trace_breakdown.py PHANTOMS DUMP [model|mask]

Needs numpy and pillow.
"""
import glob
import json
import os
import sys
from collections import Counter

import numpy as np
from PIL import Image

ON_HAIR_FRACTION = 0.3
HIDDEN_AREA_FRACTION = 0.25
MIXED_SHARE = 0.2
MIXED_MIN_UM = 100.0
CLEAN_SHARE = 0.8


def load_labels(folder, truth):
    """The phantom's label image (true hair id per pixel, 0 on skin)."""
    labels = np.array(Image.open(os.path.join(folder, truth["image"]["labels_file"]))).astype(np.int64)
    return labels & 0x7FFF  # the top bit marks out-of-focus pixels


def ids_under(line, labels):
    """The label under each of `line`'s points that lies in the frame."""
    height, width = labels.shape
    return [labels[int(y), int(x)] for x, y in line if 0 <= int(x) < width and 0 <= int(y) < height]


def assigned_hair(ids, points):
    """The true hair a line of `points` points with labels `ids` under them is assigned to:
    the one under most of them, or None when fewer than ON_HAIR_FRACTION lie on a hair."""
    on_hair = [i for i in ids if i > 0]
    if len(on_hair) < ON_HAIR_FRACTION * points:
        return None
    return Counter(on_hair).most_common(1)[0][0]


def hair_under(line, labels):
    """The true hair `line` lies on (see `assigned_hair`)."""
    return assigned_hair(ids_under(line, labels), len(line))


def breakdown(truth_path, dump_dir, source):
    truth = json.load(open(truth_path))
    labels = load_labels(os.path.dirname(truth_path), truth)
    counted = {h["id"] for h in truth["hairs"] if h["counted"]}
    traced = json.load(open(os.path.join(dump_dir, truth["image"]["file"] + ".json")))[source]
    um_per_px = truth["calibration"]["um_per_px"]
    pieces = Counter()
    clean = set()
    row = Counter(truth=len(counted), traced=len(traced))
    for centreline in traced:
        ids = ids_under(centreline, labels)
        on_hair = [i for i in ids if i > 0]
        shares = Counter(on_hair)
        carried = [i for i, n in shares.items() if n >= MIXED_SHARE * len(ids) and n * um_per_px >= MIXED_MIN_UM]
        row["mixed"] += len(carried) >= 2
        top, n = shares.most_common(1)[0] if shares else (None, 0)
        if top in counted and n >= CLEAN_SHARE * len(on_hair):
            clean.add(top)
        hair = assigned_hair(ids, len(centreline))
        if hair is None:
            row["on_no_hair"] += 1
            continue
        pieces[hair] += 1
    row["split_pieces"] = sum(n - 1 for n in pieces.values() if n > 1)
    row["missed"] = sum(1 for h in counted if pieces[h] == 0)
    row["clean"] = len(clean)
    area = np.bincount(labels.ravel(), minlength=max(h["id"] for h in truth["hairs"]) + 1)
    unit_size = Counter(h["unit_id"] for h in truth["hairs"] if h["id"] in counted)
    for h in truth["hairs"]:
        if h["id"] not in counted or pieces[h["id"]] > 0:
            continue
        hidden = bool(
            area[h["id"]]
            < HIDDEN_AREA_FRACTION * (h["visible_length_um"] / um_per_px) * max(h["width_um"] / um_per_px, 1.0)
        )
        row["missed_hidden"] += hidden
        row["missed_in_units"] += not hidden and unit_size[h["unit_id"]] >= 2
    return truth["image"]["file"], row


def main():
    phantoms, dump_dir = sys.argv[1], sys.argv[2]
    source = sys.argv[3] if len(sys.argv) > 3 else "model"
    total = Counter()
    by_protocol = {}
    for truth_path in sorted(glob.glob(os.path.join(phantoms, "*.truth.json"))):
        name, row = breakdown(truth_path, dump_dir, source)
        total.update(row)
        by_protocol.setdefault(json.load(open(truth_path))["conditions"]["protocol"], Counter()).update(row)
        print(name, dict(row))
    for protocol, rows in sorted(by_protocol.items()):
        print(protocol, dict(rows))
    print("total", dict(total))
    print(f"clean precision {total['clean'] / total['traced']:.3f} recall {total['clean'] / total['truth']:.3f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How wide the visible part of each phantom hair is, against its truth width, per protocol.

    python3 scripts/visible_width.py out/eval/phantoms-s400000-n60 [MIN_WIDTH_UM]

For every counted hair at least MIN_WIDTH_UM wide (default 60, terminal) with at least 200 µm
of it visible, the hair's pixels in the renderer's label image (the topmost hair where hairs
overlap) times the pixel area, over its visible length, is its mean visible width; printed is
the median and first quartile of that over the truth width, per protocol. The truth width is
the shaft's base caliber, and unclipped hairs end in a natural tip that the renderer tapers
over the last quarter of the hair (up to 1.5 mm): where the frame shows mostly that taper, no
measurement of the image can reach the truth width.

Needs numpy and pillow; uses `scripts/trace_breakdown.py`'s label reader.
"""
import glob
import json
import os
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trace_breakdown import load_labels  # noqa: E402

MIN_VISIBLE_UM = 200.0


def main(folder, min_width_um):
    ratios = defaultdict(list)
    for path in sorted(glob.glob(os.path.join(folder, "*.truth.json"))):
        truth = json.load(open(path))
        labels = load_labels(folder, truth)
        um = truth["calibration"]["um_per_px"]
        ids, counts = np.unique(labels, return_counts=True)
        area_px = dict(zip(ids.tolist(), counts.tolist()))
        for hair in truth["hairs"]:
            visible_um = hair["visible_length_um"]
            if not hair["counted"] or hair["width_um"] < min_width_um or visible_um < MIN_VISIBLE_UM:
                continue
            area_um2 = area_px.get(hair["id"], 0) * um * um
            if area_um2 > 0:
                ratios[truth["conditions"]["protocol"]].append(area_um2 / visible_um / hair["width_um"])
    print("| protocol | hairs | visible width / truth width: median | first quartile |")
    print("| --- | --- | --- | --- |")
    for protocol, values in sorted(ratios.items()):
        print(f"| {protocol} | {len(values)} | {np.median(values):.2f} | {np.percentile(values, 25):.2f} |")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) == 3 else 60.0)

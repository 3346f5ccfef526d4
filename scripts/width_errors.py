#!/usr/bin/env python3
"""Width error of the hairs `tricho eval` matched, by true width: where the width MAE comes from.

    python3 scripts/width_errors.py out/eval/eval.json

Prints per true-width bin (µm) the number of matched hairs, the median signed error
(measured − true, µm), its quartiles, the median |error| and the median ratio measured / true.
Reads only the `phantoms[].widths[]` records of the JSON that `tricho eval --json` writes.
"""
import json
import statistics
import sys

BINS_UM = [0, 15, 20, 30, 45, 60, 80, 100, 130]


def main(path):
    widths = [w for p in json.load(open(path))["phantoms"] for w in p["widths"]]
    print("| true width µm | hairs | median error µm | quartiles µm | median \\|error\\| µm | median ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for lo, hi in zip(BINS_UM, BINS_UM[1:]):
        rows = [w for w in widths if lo <= w["true_width_um"] < hi]
        if len(rows) < 4:
            continue
        err = [w["measured_width_um"] - w["true_width_um"] for w in rows]
        q1, _, q3 = statistics.quantiles(err, n=4)
        ratio = statistics.median(w["measured_width_um"] / w["true_width_um"] for w in rows)
        print(f"| {lo}–{hi} | {len(rows)} | {statistics.median(err):+.1f} | {q1:+.1f} … {q3:+.1f} "
              f"| {statistics.median(abs(e) for e in err):.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out/eval/eval.json")

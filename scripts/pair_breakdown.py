#!/usr/bin/env python3
"""Hair-by-hair breakdown of `tricho compare`'s new and lost hairs on phantom pairs: where the
density-change error of the README's comparison table comes from.

    python3 scripts/pair_breakdown.py out/eval_pairs/pairs-s500000-n30 [OUT_DIR]

Runs `tricho compare` (target/release/tricho, or $TRICHO) on every pair of the folder written
by `tricho synth --pairs`, each visit at its own calibration from the truth, into OUT_DIR
(default: a temporary folder), two pairs at a time. Each hair `compare` calls new (follow-up)
or lost (baseline) is then looked up in its visit's label image (hair id per pixel, the
topmost hair where hairs overlap): the true hair under most of its centreline points, or none
when fewer than 30 % of them lie on a hair. A true hair counts at a visit, as in
`tricho eval-pairs`, when at least 100 µm of its centreline lies in the true common field (the
two frames overlapped with the true transform). Per visit it prints how many are:

- `right`: on a true hair counted at that visit and not at the other (gained or lost there,
  or grown into the common field);
- `persisting`: on a true hair counted at both visits, split into `seen there` (the other
  visit's label image shows the same hair along at least 60 % of the centreline mapped with
  the true transform: the tracer missed it there) and `moved or absent` (it does not: the
  traced piece lies on a part of the hair that grew or was re-clipped between the visits),
  and each of those into `another piece linked` (a hair `compare` linked across the visits
  lies on the same true hair at this visit: the tracer split the hair here) or not;
- `not counted`: on a true hair counted at neither visit (too little of it in the common
  field: the comparison's own common field or count rule differs);
- `no hair`: on no true hair (an artefact traced at one visit only).

Needs numpy and pillow. A hair is assigned to a true hair by the rule of
`scripts/trace_breakdown.py`, whose helpers it uses.
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from trace_breakdown import hair_under, ids_under, load_labels

SEEN_FRACTION = 0.6
MIN_COUNTED_LENGTH_UM = 100.0
VISITS = ("baseline", "followup")


def apply(transform, line):
    """`line` (N × 2 px) carried by the 2 × 3 affine `transform`."""
    return line @ transform[:, :2].T + transform[:, 2]


def share_on(line, hair, labels):
    """Share of `line`'s in-frame points on true hair `hair`."""
    ids = ids_under(line, labels)
    return float(np.mean([i == hair for i in ids])) if ids else 0.0


def length_in_common_px(line, sizes, to_followup):
    """Length (baseline px) of `line` (baseline px) inside both frames: the baseline's and the
    follow-up's mapped into it (`to_followup` takes baseline px to follow-up px)."""
    (wb, hb), (wf, hf) = sizes
    pf = apply(to_followup, line)
    inside = (line[:, 0] >= 0) & (line[:, 1] >= 0) & (line[:, 0] < wb) & (line[:, 1] < hb)
    inside &= (pf[:, 0] >= 0) & (pf[:, 1] >= 0) & (pf[:, 0] < wf) & (pf[:, 1] < hf)
    steps = np.hypot(*np.diff(line, axis=0).T)
    return float(np.sum(steps * (inside[1:] & inside[:-1])))


def run_compare(tricho, folder, stem, truth, out):
    um = {v: truth[v]["calibration"]["um_per_px"] for v in VISITS}
    subprocess.run(
        [tricho, "compare", os.path.join(folder, f"{stem}-baseline.png"), os.path.join(folder, f"{stem}-followup.png"),
         "--baseline-um-per-px", str(um["baseline"]), "--followup-um-per-px", str(um["followup"]), "--out", out],
        check=True, capture_output=True)


def breakdown(folder, stem, truth, out, total):
    label = {v: load_labels(folder, truth[v]) for v in VISITS}
    to_baseline = np.array(json.load(open(os.path.join(folder, f"{stem}.pair.json")))["followup_to_baseline"]["matrix"])
    to_followup = np.linalg.inv(np.vstack([to_baseline, [0.0, 0.0, 1.0]]))[:2]
    sizes = [(truth[v]["image"]["width_px"], truth[v]["image"]["height_px"]) for v in VISITS]
    min_px = MIN_COUNTED_LENGTH_UM / truth["baseline"]["calibration"]["um_per_px"]
    in_baseline_px = {"baseline": lambda line: line, "followup": lambda line: apply(to_baseline, line)}
    counted = {
        v: {
            h["id"]
            for h in truth[v]["hairs"]
            if length_in_common_px(in_baseline_px[v](np.array(h["centreline_px"])), sizes, to_followup) >= min_px
        }
        for v in VISITS
    }
    comparison = json.load(open(os.path.join(out, "comparison.json")))["matching"]
    link_key = {"followup": "followup_id", "baseline": "baseline_id"}
    for visit, other, ids, transform in (
        ("followup", "baseline", comparison["new_ids"], to_baseline),
        ("baseline", "followup", comparison["lost_ids"], to_followup),
    ):
        hairs = {h["id"]: h for h in json.load(open(os.path.join(out, f"{visit}.json")))["hairs"]}
        linked = {
            hair_under(np.array(hairs[link[link_key[visit]]]["centreline_px"]), label[visit])
            for link in comparison["links"]
        }
        for k in ids:
            line = np.array(hairs[k]["centreline_px"])
            hair = hair_under(line, label[visit])
            if hair is None:
                total[(visit, "no hair")] += 1
            elif hair not in counted[visit] and hair not in counted[other]:
                total[(visit, "not counted")] += 1
            elif hair in counted[visit] and hair in counted[other]:
                mapped = apply(transform, line)
                seen = share_on(mapped, hair, label[other]) >= SEEN_FRACTION
                kind = "persisting, seen there" if seen else "persisting, moved or absent"
                total[(visit, kind + (", another piece linked" if hair in linked else ""))] += 1
            else:
                total[(visit, "right")] += 1


def main():
    folder = sys.argv[1]
    out_root = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="pair_breakdown.")
    tricho = os.environ.get("TRICHO", "target/release/tricho")
    stems = sorted(os.path.basename(p)[: -len(".pair.json")] for p in glob.glob(os.path.join(folder, "*.pair.json")))
    truths = [{v: json.load(open(os.path.join(folder, f"{stem}-{v}.truth.json"))) for v in VISITS} for stem in stems]
    outs = [os.path.join(out_root, stem) for stem in stems]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda a: run_compare(tricho, folder, *a), zip(stems, truths, outs)))
    total = Counter()
    for stem, truth, out in zip(stems, truths, outs):
        breakdown(folder, stem, truth, out, total)
    for visit, called in (("followup", "new"), ("baseline", "lost")):
        rows = {kind: n for (v, kind), n in total.items() if v == visit}
        print(f"{called} ({visit}): {sum(rows.values())}: " + ", ".join(f"{kind} {n}" for kind, n in sorted(rows.items())))
    print(f"compare outputs in {out_root}")


if __name__ == "__main__":
    main()

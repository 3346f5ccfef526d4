#!/usr/bin/env bash
# Throughput and peak memory of `tricho batch` (the numbers in the README's batch section):
# renders N phantom pairs (default 50, seed 700000: disjoint from training, eval and
# eval_pairs seeds) at SIZE (default 1280x960) and 5 µm/px, writes a manifest with one subject
# per pair (baseline + week12, dates from the pair's interval, calibration from the truth),
# and times one `tricho batch` run with GNU time (peak RSS of the process).
#
#   bash scripts/batch_timing.sh                  # N=50 SIZE=1280x960
#   N=1000 bash scripts/batch_timing.sh           # a 2,000-image batch
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-50}
SEED=${SEED:-700000}
SIZE=${SIZE:-1280x960}
DIR=out/batch_timing/pairs-s${SEED}-n${N}-${SIZE}
TRICHO=${CARGO_TARGET_DIR:-target}/release/tricho
bash scripts/install-onnxruntime.sh
cargo build --release
if [ ! -f "$DIR/$(printf '%04d' $((N - 1))).pair.json" ]; then
  "$TRICHO" synth --pairs --out "$DIR" --count "$N" --seed "$SEED" --size "$SIZE" --um-per-px 5
fi
python3 - "$DIR" > "$DIR/manifest.csv" <<'PY'
import datetime, glob, json, os, sys
folder = sys.argv[1]
print("subject,site,visit,date,path,um_per_px")
start = datetime.date(2026, 1, 5)
for i, pair_file in enumerate(sorted(glob.glob(os.path.join(folder, "*.pair.json")))):
    pair = json.load(open(pair_file))
    site = "site%d" % (i % 3 + 1)
    later = start + datetime.timedelta(days=pair["interval_days"])
    for visit, truth_name, date in (("baseline", pair["baseline_truth"], start), ("week12", pair["followup_truth"], later)):
        truth = json.load(open(os.path.join(folder, truth_name)))
        photo = os.path.abspath(os.path.join(folder, truth_name.replace(".truth.json", ".png")))
        print("S%04d,%s,%s,%s,%s,%s" % (i, site, visit, date.isoformat(), photo, truth["calibration"]["um_per_px"]))
PY
OUT=out/batch_timing/run-s${SEED}-n${N}-${SIZE}
rm -rf "$OUT"
/usr/bin/time -v "$TRICHO" batch "$DIR/manifest.csv" --out "$OUT" 2> "$OUT.time.txt" || true
grep -E "shard|Maximum resident|Elapsed" "$OUT.time.txt"

#!/usr/bin/env bash
# Accuracy of `tricho analyze` on held-out phantoms (the table in the README):
# renders N phantoms (default 60, seed 400000: disjoint from the model's training 100000+,
# validation 200000+ and test 300000+ seeds) at the renderer's default sizes and scales, runs
# `tricho eval` on them and prints the per-stratum Markdown table; JSON in out/eval/eval.json.
#
#   bash scripts/eval.sh            # N=60 SEED=400000
#   N=100 SEED=500000 bash scripts/eval.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-60}
SEED=${SEED:-400000}
DIR=out/eval/phantoms-s${SEED}-n${N}
bash scripts/install-onnxruntime.sh
cargo build --release
if [ ! -f "$DIR/$(printf '%04d' $((N - 1))).truth.json" ]; then
  target/release/tricho synth --out "$DIR" --count "$N" --seed "$SEED"
fi
target/release/tricho eval "$DIR" --json out/eval/eval.json

#!/usr/bin/env bash
# Accuracy of `tricho compare` on phantom pairs with known truth (the table in the README):
# renders N baseline/follow-up pairs (default 30, seed 500000: disjoint from the model's
# training 100000+, validation 200000+, test 300000+ and `scripts/eval.sh` 400000 seeds) at
# the renderer's default sizes and scales, runs `tricho eval-pairs` on them and prints the
# Markdown tables (registration, hair links, density change registered+matched vs
# independent vs calling every pair "no change"); JSON in out/eval_pairs/eval_pairs.json.
# The 95th percentile of the registered+matched |density-change error| over the pairs given
# a response category (the "Repeatability" line) is the repeatability `tricho compare`
# states.
#
#   bash scripts/eval_pairs.sh            # N=30 SEED=500000
#   N=60 SEED=600000 bash scripts/eval_pairs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-30}
SEED=${SEED:-500000}
DIR=out/eval_pairs/pairs-s${SEED}-n${N}
TRICHO=${CARGO_TARGET_DIR:-target}/release/tricho
bash scripts/install-onnxruntime.sh
cargo build --release
if [ ! -f "$DIR/$(printf '%04d' $((N - 1))).pair.json" ]; then
  "$TRICHO" synth --pairs --out "$DIR" --count "$N" --seed "$SEED"
fi
time "$TRICHO" eval-pairs "$DIR" --json out/eval_pairs/eval_pairs.json

#!/usr/bin/env bash
# The main job on bundled data: installs the pinned ONNX Runtime if missing, builds tricho,
# renders a few phantoms with truth, and segments the bundled fixtures with the committed model.
# Outputs go to out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-onnxruntime.sh
cargo build --release
target/release/tricho synth --out out/phantoms --count 4 --seed 1 --size 640x480 --um-per-px 5
target/release/tricho segment fixtures/crossing_2_hairs_expect_2.png fixtures/crossing_3_hairs_expect_3.png \
    fixtures/crossing_5_hairs_expect_5.png fixtures/parallel_touching_hairs_expect_2.png \
    --um-per-px 5 --out out/segment
echo "phantoms with truth: out/phantoms/   probability maps: out/segment/"

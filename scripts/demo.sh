#!/usr/bin/env bash
# The main job on bundled data: installs the pinned ONNX Runtime if missing, builds tricho,
# analyses the bundled fixture photos (JSON + overlay per image, summary.csv), renders a few
# phantoms with truth and segments the crossing fixtures. Outputs go to out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-onnxruntime.sh
cargo build --release
mkdir -p out/fixture-photos
cp fixtures/0000.png fixtures/0001.png fixtures/crossing_*_expect_*.png fixtures/parallel_touching_hairs_expect_2.png \
    out/fixture-photos/
target/release/tricho analyze out/fixture-photos --um-per-px 5 --out out/analyze
target/release/tricho synth --out out/phantoms --count 4 --seed 1 --size 640x480 --um-per-px 5
target/release/tricho segment fixtures/crossing_2_hairs_expect_2.png fixtures/crossing_3_hairs_expect_3.png \
    fixtures/crossing_5_hairs_expect_5.png fixtures/parallel_touching_hairs_expect_2.png \
    --um-per-px 5 --out out/segment
echo "analysis: out/analyze/ (summary.csv, <stem>.json, <stem>.overlay.png)"
echo "phantoms with truth: out/phantoms/   probability maps: out/segment/"

#!/usr/bin/env bash
# The whole test suite: installs the pinned ONNX Runtime if missing, then format, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-onnxruntime.sh
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test --release

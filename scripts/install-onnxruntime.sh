#!/usr/bin/env bash
# Installs the pinned ONNX Runtime shared library project-locally, under <repo>/.ort/.
#
# The official `onnxruntime` wheel on PyPI ships `libonnxruntime.so`; we install just the
# wheel (no dependencies) with pip's `--target`, so nothing outside the repository changes.
# `tricho` finds `.ort/onnxruntime/capi/libonnxruntime.so.<version>` on its own
# (see src/segment/runtime.rs). Idempotent: does nothing when the library is already there.
#
# Usage: bash scripts/install-onnxruntime.sh
# Environment: PYTHON (default python3) picks the interpreter whose pip is used.
set -euo pipefail

ORT_VERSION="1.31.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$ROOT/.ort"
LIB="$TARGET/onnxruntime/capi/libonnxruntime.so.$ORT_VERSION"
PYTHON="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore

if [[ -f "$LIB" ]]; then
    echo "ONNX Runtime $ORT_VERSION already installed: $LIB"
    exit 0
fi

echo "Installing ONNX Runtime $ORT_VERSION into $TARGET ..."
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps \
    --target "$TARGET" --upgrade "onnxruntime==$ORT_VERSION"

if [[ ! -f "$LIB" ]]; then
    echo "error: pip finished but $LIB does not exist" >&2
    exit 1
fi
echo "Installed: $LIB"
echo "tricho finds it automatically; or set ORT_DYLIB_PATH=$LIB"

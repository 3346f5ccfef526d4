#!/usr/bin/env bash
# Reproduce models/hairseg.onnx, models/hairseg.md and models/training/metrics.json from scratch:
# build the renderer, set up the Python venv, render phantoms, train, export, evaluate, write the card.
#
#   models/training/reproduce.sh                       # MINUTES=50 SEED=1
#   MINUTES=60 SEED=1 models/training/reproduce.sh
#   STEPS=2100 SCHEDULE_PLAN=12:2050,100:2100 SEED=1 models/training/reproduce.sh  # exact re-run (values from the card)
#
# Extra arguments go to train.py (see `python models/training/train.py --help`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SEED=${SEED:-1}
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

cargo build --release
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q ${PIP_ARGS:-} -r models/training/requirements.txt

export PYTHONHASHSEED=0 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
if [ -n "${STEPS:-}" ]; then
  # a fixed step count is not cut short by a time budget unless MINUTES is given too
  MINUTES=${MINUTES:-100000}
  SCHEDULE_PLAN=${SCHEDULE_PLAN:-0:$STEPS}
  args=(--steps "$STEPS" --schedule-plan "$SCHEDULE_PLAN" --minutes "$MINUTES" --seed "$SEED")
  record="STEPS=$STEPS SCHEDULE_PLAN=$SCHEDULE_PLAN MINUTES=$MINUTES SEED=$SEED"
else
  MINUTES=${MINUTES:-50}
  args=(--minutes "$MINUTES" --seed "$SEED")
  record="MINUTES=$MINUTES SEED=$SEED"
fi
exec "$VENV/bin/python" models/training/train.py "${args[@]}" \
  --record-command "$record models/training/reproduce.sh${*:+ $*}" "$@"

#!/usr/bin/env bash
# Reproduce models/hairseg.onnx, models/hairseg.md and models/training/metrics.json from scratch:
# build the renderer, set up the Python venv, render phantoms, train in three stages, fit the coverage head, export,
# evaluate, write the card. CPU only; about 2 h 50 min on 2 cores.
#
#   models/training/reproduce.sh          # the recorded run, step for step (same seeds, data, schedules)
#
# The stages (each continues from the previous stage's best checkpoint):
#   1. base model from random weights: BCE + soft Dice (72 min on 2 cores when first run);
#   2. fine-tune with extra loss weight on the strata the base model missed (vellus x3, light x1,
#      out-of-focus x1 on top of 1), Tversky overlap with false negatives weighted 0.6, and
#      coarse-camera augmentation (box-down/bilinear-up by 1-1.6x, as inference enlarges coarse photos);
#   3. a shorter fine-tune with vellus x8 and a plain (0.5) Dice overlap;
#   4. the coverage head (coverage.py): the network frozen, one more 1x1 output fitted with plain BCE,
#      so the width tricho integrates across a shaft is not inflated by stage 2-3's recall weighting.
# The original runs were time-budgeted (--minutes) on a shared machine; the step counts and the
# lr-schedule plans they recorded (train_summary*.json) are replayed here, so the run is exact.
# Extra arguments go to the final stage's train.py (see `python models/training/train.py --help`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}
RUNS=models/training/runs

cargo build --release
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q ${PIP_ARGS:-} -r models/training/requirements.txt
export PYTHONHASHSEED=0 OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
train() { "$VENV/bin/python" models/training/train.py --minutes 100000 "$@"; }

# stage 1 (recorded in models/training/train_summary_stage1.json)
train --seed 1 --steps 2705 \
  --schedule-plan 12:3160,100:2662,200:3392,300:2875,400:2995,500:3349,600:2636,700:2906,800:2753,900:2619,1000:2663,1100:2742,1200:2672,1300:2604,1400:2651,1500:2595,1600:2631,1700:2747,1800:2703,1900:2673,2500:2705 \
  --run-dir $RUNS/main --onnx-out $RUNS/main/hairseg.onnx --summary-out $RUNS/main/train_summary.json --no-eval
# stage 2 (recorded in models/training/train_summary_stage2.json)
train --seed 2 --lr 2e-3 --init $RUNS/main/best.pt \
  --weight-vellus 3 --weight-light 1 --weight-defocus 1 --fn-weight 0.6 --coarse-prob 0.5 \
  --steps 712 --schedule-plan 12:3043,100:2873,200:894,300:695,400:657,500:637,600:760,700:712 \
  --run-dir $RUNS/finetune --onnx-out $RUNS/finetune/hairseg.onnx --summary-out $RUNS/finetune/train_summary.json --no-eval
# stage 3 (recorded in models/training/train_summary.json)
train --seed 3 --lr 1.5e-3 --init $RUNS/finetune/best.pt \
  --weight-vellus 8 --weight-light 1 --weight-defocus 1 --fn-weight 0.5 --coarse-prob 0.5 \
  --steps 1041 --schedule-plan 12:773,200:844,300:763,400:1039,500:1059,600:1070,700:1023,800:1041 \
  --run-dir $RUNS/finetune2 --onnx-out $RUNS/finetune2/hairseg.onnx --no-eval \
  --record-command "models/training/reproduce.sh (stage 3)" "$@"
# stage 4 (recorded in models/training/coverage_summary.json): exports models/hairseg.onnx, evaluates, writes the card
"$VENV/bin/python" models/training/coverage.py --init-onnx $RUNS/finetune2/hairseg.onnx --steps 1500 --seed 11 \
  --record-command "models/training/reproduce.sh (stage 4)"

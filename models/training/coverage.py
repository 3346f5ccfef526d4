"""Stage 4: fit the `coverage` output, a second 1x1 head on the finished network's last features.

    python models/training/coverage.py --init-onnx models/training/runs/finetune2/hairseg.onnx

tricho measures a shaft's width as the integral of a probability map across it. The `hair`
channel is trained with extra loss weight on thin, light and out-of-focus hairs and a soft-Dice
overlap term, to reach the recall targets; both raise its probability at the edges of thin
shafts, and its integral overestimates vellus widths by 6-8 um. This stage freezes the whole
network and fits one more 1x1 convolution on its last feature map (started from the hair head's
weights) with plain, unweighted binary cross-entropy against the exact mask: a calibrated
probability that a pixel lies inside a hair, whose sum across a shaft is the expected width in
pixels. The `hair` and `centreline` outputs are unchanged (the export is checked against the
initial model). Fixed step count and seeds, so a re-run is exact; about 5 minutes on 2 cores.
Exports, evaluates (evaluate.py adds the width table of both channels) and writes the card.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO_ROOT, TRAINING_DIR, build_model, load_set_cached, read_metadata, seed_everything  # noqa: E402
from train import Batcher, add_data_args, coarsen, render_all  # noqa: E402


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--init-onnx", required=True, help="the finished hair/centreline model (stage 3's export)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=256)
    ap.add_argument("--coarse-prob", type=float, default=0.5,
                    help="probability of the coarse-camera augmentation (as in the fine-tunes), so coverage stays "
                         "calibrated on photos coarser than the model scale")
    ap.add_argument("--coarse-max", type=float, default=1.6)
    ap.add_argument("--threads", type=int, default=2)
    add_data_args(ap)
    ap.add_argument("--run-dir", default=str(TRAINING_DIR / "runs" / "coverage"))
    ap.add_argument("--onnx-out", default=str(REPO_ROOT / "models" / "hairseg.onnx"))
    ap.add_argument("--metrics-out", default=str(TRAINING_DIR / "metrics.json"))
    ap.add_argument("--summary-out", default=str(TRAINING_DIR / "coverage_summary.json"))
    ap.add_argument("--train-summary", default=str(TRAINING_DIR / "train_summary.json"),
                    help="the stages' summary the card describes")
    ap.add_argument("--card-out", default=str(REPO_ROOT / "models" / "hairseg.md"))
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--record-command", default=None, help="command recorded in the model metadata/card")
    return ap.parse_args(argv)


def fit(a):
    import torch
    import torch.nn.functional as F

    from from_onnx import checkpoint_from_onnx

    torch.set_num_threads(a.threads)
    seed_everything(a.seed)
    (trd, _), _, (ted, _) = render_all(a)
    train_set = load_set_cached(trd, -0.5)
    ck = checkpoint_from_onnx(a.init_onnx, 10, 4)
    cfg = ck["config"]
    model = build_model(cfg["base"], cfg["levels"], coverage=True)
    state = {k: v for k, v in ck["state_dict"].items() if not k.startswith("coverage.")}
    missing = model.load_state_dict(state, strict=False).missing_keys
    if sorted(missing) != ["coverage.bias", "coverage.weight"]:
        raise SystemExit(f"unexpected missing weights {missing}")
    with torch.no_grad():
        model.coverage.weight.copy_(model.head.weight[:1])
        model.coverage.bias.copy_(model.head.bias[:1])
    model.eval()
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("coverage."))
    mean, std = ck["normalisation"]["mean"], ck["normalisation"]["std"]
    batcher = Batcher(train_set, a.patch, a.batch, mean, std, a.seed)
    aug_rng = np.random.default_rng(a.seed + 7)
    opt = torch.optim.AdamW(model.coverage.parameters(), lr=a.lr, weight_decay=0.0)
    t0 = time.time()
    losses = []
    for step in range(1, a.steps + 1):
        x, y = batcher.next()
        x = coarsen(torch.from_numpy(x), a, aug_rng)
        logits = model(x)[:, 2]
        loss = F.binary_cross_entropy_with_logits(logits, torch.from_numpy(y[:, 0]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if step % 100 == 0:
            print(f"[coverage] step {step}/{a.steps} bce {np.mean(losses[-100:]):.4f} t {time.time() - t0:.0f}s", flush=True)
    meta = read_metadata(a.init_onnx)
    command = a.record_command or "python models/training/coverage.py " + " ".join(shlex.quote(v) for v in sys.argv[1:])
    run = Path(a.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    checkpoint = run / "coverage.pt"
    torch.save({"config": {**cfg, "coverage": True}, "state_dict": model.state_dict(),
                "normalisation": ck["normalisation"], "step": a.steps,
                "training_data": meta["tricho.training_data"] + f"; coverage head: same train set, {a.steps} steps, plain BCE",
                "training_command": meta.get("tricho.training_command", "") + f"; then {command}"}, checkpoint)
    summary = {"init_onnx": a.init_onnx, "steps": a.steps, "lr": a.lr, "seed": a.seed, "batch": a.batch,
               "patch": a.patch, "coarse_augmentation": {"prob": a.coarse_prob, "max_factor": a.coarse_max},
               "loss": "unweighted binary cross-entropy of the coverage logit against the exact hair mask",
               "bce_first_100": float(np.mean(losses[:100])), "bce_last_100": float(np.mean(losses[-100:])),
               "train_seconds": round(time.time() - t0, 1), "command": command}
    Path(a.summary_out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.summary_out).write_text(json.dumps(summary, indent=2) + "\n")
    return checkpoint, ted


def main(argv=None):
    a = parse_args(argv)
    checkpoint, test_dir = fit(a)
    from export import export, unchanged_outputs

    info = export(checkpoint, a.onnx_out, a.threads)
    unchanged_outputs(a.init_onnx, a.onnx_out)
    if a.no_eval:
        return
    from evaluate import evaluate
    from write_card import write_card

    evaluate(a.onnx_out, test_dir, a.metrics_out, threads=a.threads, export_info=info)
    write_card(a.onnx_out, a.metrics_out, a.train_summary, a.card_out)


if __name__ == "__main__":
    main()

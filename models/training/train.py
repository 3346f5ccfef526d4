"""Train tricho-hairseg on rendered phantoms (CPU), export ONNX, evaluate, write the model card.

    python models/training/train.py --minutes 50 --seed 1

Renders the training / validation / held-out test sets first if they are missing (see render.py).
The wall-clock budget (--minutes) covers training only; export and evaluation come after it.
With --minutes the number of optimiser steps is fixed after timing the first steps (recorded in
train_summary.json); pass that number back as --steps for a bit-identical re-run on any machine.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    HARD_DEFOCUS, HARD_LIGHT, HARD_VELLUS, MODEL_SCALE_UM_PER_PX, REPO_ROOT, TRAINING_DIR, build_model, count_params, load_set_cached,
    seed_everything, tile_multiple,
)
from render import DEFAULT_TRICHO, render  # noqa: E402

DATA = TRAINING_DIR / "data"
REPLAN = 100  # steps between re-estimates of the schedule length


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=50.0, help="wall-clock training budget")
    ap.add_argument("--steps", type=int, default=None, help="fixed number of optimiser steps (overrides the step estimate; --minutes still caps the time)")
    ap.add_argument("--schedule-plan", default=None,
                    help="replay a recorded lr-schedule plan 'step:length,...' (from train_summary.json) for an exact re-run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--patch", type=int, default=256)
    ap.add_argument("--base", type=int, default=10)
    ap.add_argument("--levels", type=int, default=4)
    ap.add_argument("--lr", type=float, default=4e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--centreline-weight", type=float, default=0.5)
    ap.add_argument("--centreline-offset", type=float, default=-0.5,
                    help="added to centreline_px before drawing: the renderer puts pixel centres at i+0.5, PIL at i")
    ap.add_argument("--weight-vellus", type=float, default=0.0,
                    help="extra loss weight on hair pixels of vellus hairs (<= 30 um); 0 = plain loss")
    ap.add_argument("--weight-light", type=float, default=0.0, help="extra loss weight on blond/grey/white hair pixels")
    ap.add_argument("--weight-defocus", type=float, default=0.0, help="extra loss weight on out-of-focus hair pixels")
    ap.add_argument("--fn-weight", type=float, default=0.5,
                    help="Tversky weight of false negatives in the overlap term (0.5 = soft Dice)")
    ap.add_argument("--coarse-prob", type=float, default=0.0,
                    help="probability of simulating a coarser camera: box-downsample a crop by 1..--coarse-max "
                         "and bilinearly enlarge it back, as inference does for images coarser than the model scale")
    ap.add_argument("--coarse-max", type=float, default=1.6)
    ap.add_argument("--init", default=None, help="start from this checkpoint (weights + normalisation) instead of random")
    ap.add_argument("--init-onnx", default=None,
                    help="start from this exported model (via from_onnx.py; BatchNorm folded, so use with --freeze-bn)")
    ap.add_argument("--freeze-bn", action="store_true",
                    help="keep BatchNorm in eval mode (fixed statistics, scale and shift still trained)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-every", type=float, default=0.1, help="validate every this fraction of the run")
    add_data_args(ap)
    # outputs
    ap.add_argument("--run-dir", default=str(TRAINING_DIR / "runs" / "main"))
    ap.add_argument("--onnx-out", default=str(REPO_ROOT / "models" / "hairseg.onnx"))
    ap.add_argument("--metrics-out", default=str(TRAINING_DIR / "metrics.json"))
    ap.add_argument("--summary-out", default=str(TRAINING_DIR / "train_summary.json"))
    ap.add_argument("--card-out", default=str(REPO_ROOT / "models" / "hairseg.md"))
    ap.add_argument("--no-eval", action="store_true", help="stop after export")
    ap.add_argument("--record-command", default=None, help="command recorded in the model metadata/card")
    return ap.parse_args(argv)


def add_data_args(ap):
    """The rendered sets (render_all): renderer, counts, seeds, sizes, folder."""
    ap.add_argument("--tricho", default=DEFAULT_TRICHO)
    ap.add_argument("--train-count", type=int, default=3000)
    ap.add_argument("--train-seed", type=int, default=100000)
    ap.add_argument("--train-size", default="320x320")
    ap.add_argument("--val-count", type=int, default=48)
    ap.add_argument("--val-seed", type=int, default=200000)
    ap.add_argument("--test-count", type=int, default=60)
    ap.add_argument("--test-seed", type=int, default=300000)
    ap.add_argument("--test-size", default=None, help="held-out image size (renderer default if omitted)")
    ap.add_argument("--data-dir", default=str(DATA))


def set_dirs(a):
    d = Path(a.data_dir)
    return (d / f"train_s{a.train_seed}_n{a.train_count}_{a.train_size}_5um",
            d / f"val_s{a.val_seed}_n{a.val_count}_{a.train_size}_5um",
            d / f"test_s{a.test_seed}_n{a.test_count}_{a.test_size or 'default'}_defaultscale")


def render_all(a):
    tr, va, te = set_dirs(a)
    seeds = [a.train_seed, a.val_seed, a.test_seed]
    counts = [a.train_count, a.val_count, a.test_count]
    # renderer seeds may be combined with the index additively: keep the index ranges disjoint
    spans = sorted(zip(seeds, counts))
    for (s0, c0), (s1, _) in zip(spans, spans[1:]):
        if s0 + c0 > s1:
            raise SystemExit(f"seed ranges overlap: {spans}")
    mtr = render(tr, a.train_count, a.train_seed, a.train_size, MODEL_SCALE_UM_PER_PX, a.tricho)
    mva = render(va, a.val_count, a.val_seed, a.train_size, MODEL_SCALE_UM_PER_PX, a.tricho)
    mte = render(te, a.test_count, a.test_seed, a.test_size, None, a.tricho)
    return (tr, mtr), (va, mva), (te, mte)


class Batcher:
    """Random crops + flips + rot90 from uint8 arrays; deterministic from the seed."""

    def __init__(self, data, patch, batch, mean, std, seed):
        self.x, self.h, self.c, self.hard = data["images"], data["hair"], data["centre"], data["hard"]
        self.n, self.H, self.W = self.h.shape
        if self.H < patch or self.W < patch:
            raise SystemExit(f"patch {patch} larger than images {self.W}x{self.H}")
        self.patch, self.batch = patch, batch
        self.mean = np.asarray(mean, np.float32).reshape(1, 1, 3)
        self.std = np.asarray(std, np.float32).reshape(1, 1, 3)
        self.rng = np.random.default_rng(seed)

    def next(self):
        P = self.patch
        xs, ys = [], []
        for _ in range(self.batch):
            i = int(self.rng.integers(self.n))
            y0 = int(self.rng.integers(self.H - P + 1))
            x0 = int(self.rng.integers(self.W - P + 1))
            img = self.x[i, y0:y0 + P, x0:x0 + P].astype(np.float32) / 255.0
            img = (img - self.mean) / self.std
            tgt = np.stack([self.h[i, y0:y0 + P, x0:x0 + P], self.c[i, y0:y0 + P, x0:x0 + P],
                            self.hard[i, y0:y0 + P, x0:x0 + P]], -1).astype(np.float32)
            k = int(self.rng.integers(4))
            flip = bool(self.rng.integers(2))
            img, tgt = np.rot90(img, k), np.rot90(tgt, k)
            if flip:
                img, tgt = img[:, ::-1], tgt[:, ::-1]
            xs.append(img)
            ys.append(tgt)
        x = np.ascontiguousarray(np.stack(xs).transpose(0, 3, 1, 2))
        y = np.ascontiguousarray(np.stack(ys).transpose(0, 3, 1, 2))
        return x, y


def pixel_weights(target, a):
    """1 everywhere, plus the configured extra weight on hair pixels of each hard stratum (bits of common.hard_pixel_map)."""
    import torch

    bits = target[:, 2].to(torch.int64)
    w = torch.ones_like(target[:, 0])
    for bit, extra in ((HARD_VELLUS, a.weight_vellus), (HARD_LIGHT, a.weight_light), (HARD_DEFOCUS, a.weight_defocus)):
        if extra:
            w = w + extra * ((bits & bit) > 0).float() * target[:, 0]
    return w


def loss_fn(logits, target, a):
    """Weighted BCE + Tversky overlap on the hair channel, BCE on the centreline channel."""
    import torch
    import torch.nn.functional as F

    hl, cl = logits[:, 0], logits[:, 1]
    ht, ct = target[:, 0], target[:, 1]
    w = pixel_weights(target, a)
    bce_h = F.binary_cross_entropy_with_logits(hl, ht, weight=w) / w.mean()
    p = torch.sigmoid(hl)
    tp = (p * ht * w).sum()
    fn = ((1 - p) * ht * w).sum()
    fp = (p * (1 - ht)).sum()
    beta = a.fn_weight
    overlap = 1 - (tp + 1) / (tp + beta * fn + (1 - beta) * fp + 1)
    bce_c = F.binary_cross_entropy_with_logits(cl, ct)
    total = bce_h + overlap + a.centreline_weight * bce_c
    return total, {"bce_hair": bce_h.item(), "overlap_loss": overlap.item(), "bce_centre": bce_c.item()}


def coarsen(x, a, rng):
    """Simulate photos coarser than the model scale (see --coarse-prob): per sample, box-downsample and re-enlarge."""
    import torch
    import torch.nn.functional as F

    if not a.coarse_prob:
        return x
    out = x.clone()
    P = x.shape[-1]
    for i in range(x.shape[0]):
        if rng.random() < a.coarse_prob:
            f = float(rng.uniform(1.0, a.coarse_max))
            small = F.interpolate(x[i:i + 1], size=(max(8, round(P / f)),) * 2, mode="area")
            out[i:i + 1] = F.interpolate(small, size=(P, P), mode="bilinear", align_corners=False)
    return out.contiguous(memory_format=torch.channels_last)


def set_training(model, freeze_bn):
    """Training mode, with BatchNorm left in eval mode (its stored statistics) under --freeze-bn."""
    import torch.nn as nn

    model.train()
    if freeze_bn:
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def backbone_state(ck):
    """The checkpoint's weights without a coverage head: that head is fitted to the features it
    was trained on, so after this fine-tune coverage.py fits it again."""
    if not ck["config"].get("coverage"):
        return ck["state_dict"]
    print("[train] coverage head dropped; run coverage.py on the result", flush=True)
    return {k: v for k, v in ck["state_dict"].items() if not k.startswith("coverage.")}


def validate(model, val, mean, std, batch=4, freeze_bn=False):
    import torch

    model.eval()
    tp = fp = fn = 0
    ctp = cfp = cfn = 0
    hard_hit = {b: [0, 0] for b in (HARD_VELLUS, HARD_LIGHT, HARD_DEFOCUS)}
    m = np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
    s = np.asarray(std, np.float32).reshape(1, 3, 1, 1)
    with torch.no_grad():
        for i in range(0, len(val["images"]), batch):
            x = val["images"][i:i + batch].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
            x = torch.from_numpy(np.ascontiguousarray((x - m) / s)).contiguous(memory_format=torch.channels_last)
            pr = (model(x) > 0).numpy()
            h = val["hair"][i:i + batch] > 0
            c = val["centre"][i:i + batch] > 0
            tp += int((pr[:, 0] & h).sum()); fp += int((pr[:, 0] & ~h).sum()); fn += int((~pr[:, 0] & h).sum())
            ctp += int((pr[:, 1] & c).sum()); cfp += int((pr[:, 1] & ~c).sum()); cfn += int((~pr[:, 1] & c).sum())
            hard = val["hard"][i:i + batch]
            for b, acc in hard_hit.items():
                m_ = h & ((hard & b) > 0)
                acc[0] += int((pr[:, 0] & m_).sum()); acc[1] += int(m_.sum())
    set_training(model, freeze_bn)
    v = {"dice": 2 * tp / max(1, 2 * tp + fp + fn), "centre_dice": 2 * ctp / max(1, 2 * ctp + cfp + cfn),
         "recall_vellus": hard_hit[HARD_VELLUS][0] / max(1, hard_hit[HARD_VELLUS][1]),
         "recall_light": hard_hit[HARD_LIGHT][0] / max(1, hard_hit[HARD_LIGHT][1]),
         "recall_defocus": hard_hit[HARD_DEFOCUS][0] / max(1, hard_hit[HARD_DEFOCUS][1])}
    # checkpoint selection: the worst ratio of measured to target over the four model-card targets
    v["score"] = min(v["dice"] / 0.90, v["recall_vellus"] / 0.85, v["recall_light"] / 0.85, v["recall_defocus"] / 0.85)
    return v


def lr_at(step, total, base):
    warm = 50  # constant, so a --steps re-run matches a --minutes run bit for bit
    if step < warm:
        return base * (step + 1) / warm
    t = (step - warm) / max(1, total - warm)
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def train(a):
    import torch

    t_start = time.time()
    torch.set_num_threads(a.threads)
    seed_everything(a.seed)
    (trd, mtr), (vad, mva), (ted, mte) = render_all(a)
    t_data0 = time.time()
    train_set = load_set_cached(trd, a.centreline_offset)
    val_set = load_set_cached(vad, a.centreline_offset)
    print(f"[train] loaded {len(train_set['images'])} train / {len(val_set['images'])} val images "
          f"in {time.time() - t_data0:.1f} s; hair fraction {train_set['hair'].mean():.4f}, "
          f"centreline fraction {train_set['centre'].mean():.4f}", flush=True)
    imgs = train_set["images"]
    # per-channel statistics on a deterministic subsample (exact enough, cheap)
    sub = imgs[:: max(1, len(imgs) // 256)].reshape(-1, 3)
    sub = sub[:: max(1, len(sub) // 2**25)].astype(np.float64) / 255.0  # at most ~33 M pixels (large images)
    mean = [float(v) for v in sub.mean(0)]
    std = [float(v) for v in sub.std(0)]
    del sub

    model = build_model(a.base, a.levels).to(memory_format=torch.channels_last)
    if a.init:
        ck = torch.load(a.init, map_location="cpu")
        if (ck["config"]["base"], ck["config"]["levels"]) != (a.base, a.levels):
            raise SystemExit(f"--init {a.init}: architecture {ck['config']} differs from base {a.base} levels {a.levels}")
        model.load_state_dict(backbone_state(ck))
        mean, std = ck["normalisation"]["mean"], ck["normalisation"]["std"]
        print(f"[train] initialised from {a.init} (step {ck['step']}, val {ck.get('val')})", flush=True)
    if a.init_onnx:
        from from_onnx import checkpoint_from_onnx

        ck = checkpoint_from_onnx(a.init_onnx, a.base, a.levels)
        model.load_state_dict(backbone_state(ck))
        mean, std = ck["normalisation"]["mean"], ck["normalisation"]["std"]
        print(f"[train] initialised from {a.init_onnx} (BatchNorm folded: identity statistics)", flush=True)
    set_training(model, a.freeze_bn)
    aug_rng = np.random.default_rng(a.seed + 7)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    batcher = Batcher(train_set, a.patch, a.batch, mean, std, a.seed)
    run = Path(a.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    log = open(run / "train_log.jsonl", "w")

    renderer_version = mtr["renderer"]["version"] + (f" (git {mtr['renderer']['git']})" if mtr["renderer"].get("git") else "")
    training_data = (f"tricho synth {renderer_version} phantoms: train {a.train_count} x {a.train_size} seed {a.train_seed}, "
                     f"val {a.val_count} seed {a.val_seed}, at {MODEL_SCALE_UM_PER_PX} um/px; random {a.patch}px crops, "
                     f"flips, rot90; held-out test {a.test_count} seed {a.test_seed} at the renderer's default size/scale")
    if a.record_command:
        command = a.record_command
    else:
        command = "python models/training/train.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    config = {"base": a.base, "levels": a.levels}

    def save(path, step, extra):
        torch.save({"config": config, "state_dict": model.state_dict(), "normalisation": {"mean": mean, "std": std},
                    "step": step, "training_data": training_data, "training_command": command, **extra}, path)

    budget = a.minutes * 60.0
    t0 = time.time()
    # The lr schedule length ("plan") is re-estimated from the measured speed at step 12 and every
    # REPLAN steps, so the cosine ends when the time budget does even on a shared, noisy machine.
    # Every change is recorded; --schedule-plan replays them for a bit-identical re-run.
    if a.schedule_plan:
        plan = [tuple(int(v) for v in item.split(":")) for item in a.schedule_plan.split(",")]
        adaptive = False
    elif a.steps:
        plan = [(0, a.steps)]
        adaptive = False
    else:
        plan = []
        adaptive = True
    replay = dict(plan)
    sched = plan[0][1] if plan and plan[0][0] == 0 else None
    stop_at = a.steps if a.steps else 10**9
    val_every = max(1, int(plan[0][1] * a.val_every)) if plan else None
    best = {"score": -1.0}
    ema = None
    step = 0
    hist = []
    step_times = []
    window = (0, t0)  # (step, time) at the last (re)plan
    while step < stop_at and (sched is None or step < sched):
        if time.time() - t0 > budget:
            print(f"[train] time budget reached at step {step}", flush=True)
            break
        ts = time.time()
        lr = lr_at(step, sched if sched else 10**4, a.lr)
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batcher.next()
        x = coarsen(torch.from_numpy(x).contiguous(memory_format=torch.channels_last), a, aug_rng)
        y = torch.from_numpy(y)
        loss, parts = loss_fn(model(x), y, a)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        lv = loss.item()
        ema = lv if ema is None else 0.98 * ema + 0.02 * lv
        step_times.append(time.time() - ts)
        if not adaptive and step in replay:
            sched = replay[step]
        if adaptive and (step == 12 or (step > 12 and step % REPLAN == 0)):
            now = time.time()
            if step == 12:
                rate = float(np.median(step_times[2:])) * 1.05  # validation passes still to come
            else:  # wall time per step since the last plan, validation and machine load included
                rate = (now - window[1]) / (step - window[0])
            new = max(step + 1, step + int((budget - (now - t0)) / rate))
            if sched is None or abs(new - sched) > 0.01 * sched:
                plan.append((step, new))
                if sched is None:
                    print(f"[train] {rate / 1.05:.3f} s/step (batch {a.batch} x {a.patch}^2) -> schedule of {new} steps", flush=True)
                else:
                    print(f"[train] {rate:.3f} s/step since step {window[0]} -> schedule {sched} -> {new} steps", flush=True)
                sched = new
            window = (step, now)
            if val_every is None:
                val_every = max(1, int(sched * a.val_every))
        total = min(stop_at, sched or 10**9)
        rec = {"step": step, "lr": lr, "loss": lv, "loss_ema": ema, "t": round(time.time() - t0, 2), **parts}
        if step % 10 == 0 or step == 1:
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if step % 50 == 0 or step == 1:
            print(f"[train] step {step}/{total if total < 10**9 else '?'} loss {lv:.4f} (ema {ema:.4f}) lr {lr:.2e} "
                  f"t {time.time() - t0:.0f}s", flush=True)
        if val_every and (step % val_every == 0 or step == total):
            v = validate(model, val_set, mean, std, freeze_bn=a.freeze_bn)
            v.update(step=step, loss_ema=ema, t=round(time.time() - t0, 1))
            hist.append(v)
            print(f"[train] val step {step}: dice {v['dice']:.4f} recall vellus {v['recall_vellus']:.4f} light "
                  f"{v['recall_light']:.4f} defocus {v['recall_defocus']:.4f} (score {v['score']:.4f}) "
                  f"centreline dice {v['centre_dice']:.4f}", flush=True)
            log.write(json.dumps({"val": v}) + "\n")
            log.flush()
            if v["score"] > best["score"]:
                best = v
                save(run / "best.pt", step, {"val": v})
    train_seconds = time.time() - t0
    v = validate(model, val_set, mean, std, freeze_bn=a.freeze_bn)
    v.update(step=step, loss_ema=ema, t=round(train_seconds, 1))
    if not hist or hist[-1]["step"] != step:
        hist.append(v)
    save(run / "last.pt", step, {"val": v})
    if v["score"] >= best["score"] or not (run / "best.pt").exists():
        best = v
        save(run / "best.pt", step, {"val": v})
    log.close()
    summary = {
        "seed": a.seed,
        "minutes_budget": a.minutes,
        "steps": step,
        "schedule_plan": ",".join(f"{s_}:{v_}" for s_, v_ in plan),
        "reproduce_exact": (f"STEPS={step} SCHEDULE_PLAN={','.join(f'{s_}:{v_}' for s_, v_ in plan)} SEED={a.seed} models/training/reproduce.sh"
                            if a.record_command else
                            f"python models/training/train.py --seed {a.seed} --steps {step} --schedule-plan {','.join(f'{s_}:{v_}' for s_, v_ in plan)} --minutes 100000"),
        "train_seconds": round(train_seconds, 1),
        "seconds_per_step_median": round(float(np.median(step_times[2:] or step_times)), 4),
        "batch": a.batch, "patch": a.patch, "lr": a.lr, "weight_decay": a.weight_decay,
        "centreline_weight": a.centreline_weight, "centreline_offset": a.centreline_offset,
        "loss_weights": {"vellus": a.weight_vellus, "light": a.weight_light, "defocus": a.weight_defocus,
                         "fn_weight": a.fn_weight},
        "coarse_augmentation": {"prob": a.coarse_prob, "max_factor": a.coarse_max}, "init": a.init, "init_onnx": a.init_onnx, "freeze_bn": a.freeze_bn,
        "base": a.base, "levels": a.levels, "tile_multiple": tile_multiple(a.levels),
        "parameters": count_params(model), "threads": a.threads,
        "final_loss_ema": ema, "best_val": best, "val_history": hist,
        "normalisation": {"mean": mean, "std": std},
        "data": {"train": {"dir": str(trd.relative_to(REPO_ROOT)) if trd.is_relative_to(REPO_ROOT) else str(trd), **mtr},
                 "val": {"dir": str(vad.relative_to(REPO_ROOT)) if vad.is_relative_to(REPO_ROOT) else str(vad), **mva},
                 "test": {"dir": str(ted.relative_to(REPO_ROOT)) if ted.is_relative_to(REPO_ROOT) else str(ted), **mte}},
        "renderer_version": renderer_version,
        "training_data": training_data,
        "training_command": command,
        "checkpoint": "best.pt (highest validation score = worst measured/target ratio over Dice and the three recalls)",
        "host": {"platform": platform.platform(), "python": platform.python_version(), "torch": torch.__version__,
                 "cpu_count": os.cpu_count()},
        "total_wall_seconds_to_here": round(time.time() - t_start, 1),
    }
    Path(a.summary_out).write_text(json.dumps(summary, indent=2) + "\n")
    print(f"[train] done: {step} steps in {train_seconds:.0f} s, final loss (ema) {ema:.4f}, "
          f"best val score {best['score']:.4f} (dice {best['dice']:.4f}) at step {best['step']}", flush=True)
    return summary, ted


def main(argv=None):
    a = parse_args(argv)
    summary, test_dir = train(a)
    from export import export

    info = export(Path(a.run_dir) / "best.pt", a.onnx_out, a.threads)
    if a.no_eval:
        return
    from evaluate import evaluate

    metrics = evaluate(a.onnx_out, test_dir, a.metrics_out, threads=a.threads, export_info=info)
    from write_card import write_card

    write_card(a.onnx_out, a.metrics_out, a.summary_out, a.card_out)


if __name__ == "__main__":
    main()

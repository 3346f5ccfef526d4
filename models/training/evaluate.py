"""Evaluate an exported tricho-hairseg ONNX model on held-out phantoms, through ONNX Runtime.

    python models/training/evaluate.py --model models/hairseg.onnx \
        --data models/training/data/test_s300000_n60_default_defaultscale

Each phantom is resampled from its own scale to the model's native scale (area filter when
shrinking, bilinear when enlarging), padded to the tile multiple, run whole, and the hair
probability is resampled back to the original size and thresholded at 0.5. If --data does not
exist it is rendered (--count/--seed, renderer defaults for size and scale).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    COVERAGE_CHANNEL, DEFOCUS_BIT, ID_MASK, OUTPUT_CHANNELS, LIGHT_COLOURS, REPO_ROOT, TRAINING_DIR, VELLUS_MAX_UM, gmac_per_mp,
    list_phantoms, load_truth, onnx_macs_per_pixel, read_labels, read_metadata, sha256_file,
)

SCALE_BINS = [(2.5, 3.5), (3.5, 4.5), (4.5, 5.5), (5.5, 6.5), (6.5, 8.01)]
WIDTH_BINS_UM = [0, 15, 20, 30, 45, 60, 80, 100, 200]
WIDTH_CHANNELS = (OUTPUT_CHANNELS[0], COVERAGE_CHANNEL)  # hair, coverage
STATION_STEP_PX = 2.0
PROFILE_STEP_PX = 0.25
PROFILE_MARGIN_PX = 4.0
# false-positive pixels farther than this (chessboard distance, px) from every hair pixel are counted
# apart: no boundary blur, something that is not hair (bubble rims, ink, circles, skin) taken for hair
FAR_FP_PX = 6
TARGETS = {"dice_overall": 0.90, "recall_vellus": 0.85, "recall_light": 0.85, "recall_defocus": 0.85}


class Model:
    def __init__(self, path, threads=2):
        import onnxruntime as ort

        meta = read_metadata(path)
        self.meta = meta
        self.scale = float(meta["tricho.um_per_px"])
        self.mean = np.array([float(v) for v in meta["tricho.input_mean"].split(",")], np.float32).reshape(3, 1, 1)
        self.std = np.array([float(v) for v in meta["tricho.input_std"].split(",")], np.float32).reshape(3, 1, 1)
        self.mult = int(meta["tricho.tile_multiple"])
        self.channels = meta["tricho.output_channels"].split(",")
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def predict(self, rgb: np.ndarray, um_per_px: float) -> np.ndarray:
        """rgb uint8 [H,W,3] at um_per_px -> probabilities float32 [C,H,W] at the original size."""
        H, W = rgb.shape[:2]
        f = um_per_px / self.scale  # >1: image is coarser than the model scale -> enlarge
        w2, h2 = max(1, round(W * f)), max(1, round(H * f))
        im = Image.fromarray(rgb)
        if (w2, h2) != (W, H):
            im = im.resize((w2, h2), Image.BOX if f < 1 else Image.BILINEAR)
        x = np.asarray(im, np.float32).transpose(2, 0, 1) / 255.0
        x = (x - self.mean) / self.std
        ph, pw = (-h2) % self.mult, (-w2) % self.mult
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, ph), (0, pw)), mode="reflect")
        p = self.sess.run(None, {"image": x[None]})[0][0, :, :h2, :w2]
        if (w2, h2) != (W, H):
            p = np.stack([np.asarray(Image.fromarray(c).resize((W, H), Image.BILINEAR)) for c in p])
        return p


def _ratio(a, b):
    return float(a) / float(b) if b else None


def evaluate(model_path, data_dir, out_path, threads=2, export_info=None, count=60, seed=300000,
             tricho=None, speed_runs=7, quiet=False) -> dict:
    data_dir = Path(data_dir)
    if not data_dir.exists():
        from render import DEFAULT_TRICHO, render

        render(data_dir, count, seed, None, None, tricho or DEFAULT_TRICHO)
    model = Model(model_path, threads)
    truths = list_phantoms(data_dir)
    if not truths:
        raise SystemExit(f"no phantoms in {data_dir}")
    tot = defaultdict(int)  # tp, fp, fn, gt
    strata = defaultdict(lambda: [0, 0])  # name -> [hit pixels, label pixels]
    scale_bins = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    per_image = []
    width_rows = []
    with_coverage = all(c in model.channels for c in WIDTH_CHANNELS)
    renderer_version = None
    t0 = time.time()
    for tp_ in truths:
        t = load_truth(tp_)
        renderer_version = renderer_version or t.get("generator", {}).get("version")
        upp = float(t["calibration"]["um_per_px"])
        rgb = np.asarray(Image.open(data_dir / t["image"]["file"]).convert("RGB"))
        gt = np.asarray(Image.open(data_dir / t["image"]["mask_file"]).convert("L")) > 127
        labels = read_labels(data_dir / t["image"]["labels_file"])
        prob = model.predict(rgb, upp)
        pred = prob[0] >= 0.5
        tp = int((pred & gt).sum()); fp = int((pred & ~gt).sum()); fn = int((~pred & gt).sum())
        tot["tp"] += tp; tot["fp"] += fp; tot["fn"] += fn
        near_hair = np.asarray(Image.fromarray(gt.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(2 * FAR_FP_PX + 1))) > 0
        tot["fp_far_from_hair"] += int((pred & ~near_hair).sum())
        for lo, hi in SCALE_BINS:
            if lo <= upp < hi:
                b = scale_bins[f"{lo:g}-{min(hi, 8):g}"]
                b[0] += tp; b[1] += fp; b[2] += fn
        # per-hair strata from the label image
        ids = (labels & ID_MASK).astype(np.int32)
        defocus = (labels & DEFOCUS_BIT) > 0
        hairs = {h["id"]: h for h in t.get("hairs", [])}
        lab_px = ids > 0
        hit = pred & lab_px
        if lab_px.any():
            n_all = np.bincount(ids[lab_px], minlength=ID_MASK + 1)
            n_hit = np.bincount(ids[hit], minlength=ID_MASK + 1)
            for hid in np.nonzero(n_all)[0]:
                h = hairs.get(int(hid))
                if h is None:
                    continue
                a_, b_ = int(n_hit[hid]), int(n_all[hid])
                keys = ["all_labelled", f"class:{h.get('class', '?')}", f"colour:{h.get('colour', '?')}"]
                if float(h.get("width_um", 1e9)) <= VELLUS_MAX_UM:
                    keys.append("vellus")
                if h.get("colour") in LIGHT_COLOURS:
                    keys.append("light")
                for k in keys:
                    strata[k][0] += a_; strata[k][1] += b_
            strata["defocus"][0] += int((hit & defocus).sum())
            strata["defocus"][1] += int((lab_px & defocus).sum())
            strata["in_focus"][0] += int((hit & ~defocus).sum())
            strata["in_focus"][1] += int((lab_px & ~defocus).sum())
        if with_coverage:
            maps = {c: prob[model.channels.index(c)] for c in WIDTH_CHANNELS}
            width_rows += integral_widths(t, labels, maps, upp).values()
        per_image.append({"name": t["image"]["file"], "um_per_px": upp,
                          "dice": _ratio(2 * tp, 2 * tp + fp + fn), "gt_px": int(gt.sum())})
    eval_seconds = time.time() - t0

    recall = {k: {"recall": _ratio(v[0], v[1]), "pixels": v[1]} for k, v in sorted(strata.items())}
    metrics = {
        "model": str(Path(model_path).resolve().relative_to(REPO_ROOT)) if Path(model_path).resolve().is_relative_to(REPO_ROOT) else str(model_path),
        "model_sha256": sha256_file(model_path),
        "metadata": model.meta,
        "test_set": {"dir": str(data_dir.relative_to(REPO_ROOT)) if data_dir.resolve().is_relative_to(REPO_ROOT) else str(data_dir),
                     "images": len(truths), "renderer_version": renderer_version,
                     "seed": load_truth(truths[0]).get("generator", {}).get("seed"),
                     "um_per_px_range": [min(p["um_per_px"] for p in per_image), max(p["um_per_px"] for p in per_image)]},
        "threshold": 0.5,
        "dice_overall": _ratio(2 * tot["tp"], 2 * tot["tp"] + tot["fp"] + tot["fn"]),
        "precision_overall": _ratio(tot["tp"], tot["tp"] + tot["fp"]),
        "recall_overall": _ratio(tot["tp"], tot["tp"] + tot["fn"]),
        "dice_mean_per_image": float(np.mean([p["dice"] for p in per_image if p["dice"] is not None])),
        "recall_vellus": recall.get("vellus", {}).get("recall"),
        "recall_light": recall.get("light", {}).get("recall"),
        "recall_defocus": recall.get("defocus", {}).get("recall"),
        "strata": recall,
        "dice_by_scale": {k: {"dice": _ratio(2 * v[0], 2 * v[0] + v[1] + v[2]), "precision": _ratio(v[0], v[0] + v[1]),
                              "recall": _ratio(v[0], v[0] + v[2]), "images": sum(1 for p in per_image if _in_bin(p["um_per_px"], k))}
                          for k, v in sorted(scale_bins.items(), key=lambda kv: float(kv[0].split("-")[0]))},
        "pixels": dict(tot),
        "integral_width_by_channel": width_table(width_rows) if with_coverage else None,
        "per_image": per_image,
        "eval_seconds": round(eval_seconds, 1),
    }
    metrics["targets"] = {k: {"target": v, "value": metrics[k], "met": metrics[k] is not None and metrics[k] >= v}
                          for k, v in TARGETS.items()}
    metrics["all_targets_met"] = all(x["met"] for x in metrics["targets"].values())
    metrics["speed"] = speed(model_path, runs=speed_runs)
    macs_px, split = onnx_macs_per_pixel(model_path)
    metrics["gmac_per_mp"] = round(gmac_per_mp(macs_px), 4)
    import onnx

    om = onnx.load(str(model_path))
    metrics["file_bytes"] = Path(model_path).stat().st_size
    metrics["onnx_parameters"] = int(sum(int(np.prod(i.dims)) for i in om.graph.initializer))
    if export_info:
        metrics["export"] = {k: v for k, v in export_info.items() if k != "metadata"}
    Path(out_path).write_text(json.dumps(metrics, indent=2) + "\n")
    if not quiet:
        print_summary(metrics)
    return metrics


def _bilinear(p, x, y):
    h, w = p.shape
    x0 = np.clip(np.floor(x).astype(int), 0, w - 2)
    y0 = np.clip(np.floor(y).astype(int), 0, h - 2)
    fx, fy = np.clip(x - x0, 0, 1), np.clip(y - y0, 0, 1)
    return (p[y0, x0] * (1 - fx) * (1 - fy) + p[y0, x0 + 1] * fx * (1 - fy)
            + p[y0 + 1, x0] * (1 - fx) * fy + p[y0 + 1, x0 + 1] * fx * fy)


def integral_widths(truth, labels, maps, um_per_px):
    """Per true hair: (true width, {channel: median width um}), tricho's width rule applied along
    the true centreline. Every STATION_STEP_PX of arc, away from the tips by one width, the
    probability is integrated along the normal over the shaft plus PROFILE_MARGIN_PX each side;
    stations whose profile meets another hair's label are skipped, hairs with fewer than 3
    stations left out. Isolates what each channel's probability gives from tracing errors."""
    ids = labels & ID_MASK
    h_, w_ = ids.shape
    out = {}
    for hair in truth.get("hairs", []):
        pts = np.asarray(hair["centreline_px"], float) - 0.5  # renderer: pixel centres at i + 0.5
        if len(pts) < 2:
            continue
        seg = np.diff(pts, axis=0)
        lengths = np.hypot(seg[:, 0], seg[:, 1])
        arc = np.r_[0.0, np.cumsum(lengths)]
        width_px = float(hair["width_um"]) / um_per_px
        offsets = np.arange(-(width_px / 2 + PROFILE_MARGIN_PX), width_px / 2 + PROFILE_MARGIN_PX + 1e-9, PROFILE_STEP_PX)
        widths = {k: [] for k in maps}
        for s in np.arange(width_px + 2, arc[-1] - width_px - 2, STATION_STEP_PX):
            i = int(np.clip(np.searchsorted(arc, s) - 1, 0, len(seg) - 1))
            along = seg[i] / max(lengths[i], 1e-9)
            centre = pts[i] + (s - arc[i]) * along
            xs = centre[0] - offsets * along[1]
            ys = centre[1] + offsets * along[0]
            if xs.min() < 1 or ys.min() < 1 or xs.max() > w_ - 2 or ys.max() > h_ - 2:
                continue
            seen = ids[np.round(ys).astype(int), np.round(xs).astype(int)]
            if np.any((seen != 0) & (seen != hair["id"])) or not np.any(seen == hair["id"]):
                continue
            for k, p in maps.items():
                widths[k].append(float(_bilinear(p, xs, ys).sum()) * PROFILE_STEP_PX * um_per_px)
        if all(len(v) >= 3 for v in widths.values()):
            out[hair["id"]] = (float(hair["width_um"]), {k: float(np.median(v)) for k, v in widths.items()})
    return out


def width_table(rows):
    """Median error and mean |error| (um) of each channel's widths per true-width bin."""
    table = []
    for lo, hi in zip(WIDTH_BINS_UM, WIDTH_BINS_UM[1:]):
        sel = [(t, ws) for t, ws in rows if lo <= t < hi]
        if not sel:
            continue
        entry = {"true_width_um": f"{lo}-{hi}", "hairs": len(sel)}
        for k in WIDTH_CHANNELS:
            err = np.array([ws[k] - t for t, ws in sel])
            entry[k] = {"median_error_um": round(float(np.median(err)), 2), "mae_um": round(float(np.mean(np.abs(err))), 2)}
        table.append(entry)
    return table


def _in_bin(upp, key):
    lo, hi = (float(v) for v in key.split("-"))
    return lo <= upp < (hi if hi < 8 else 8.01)


def speed(model_path, h=960, w=1280, runs=7) -> dict:
    """ms per megapixel through ONNX Runtime at 1 and 2 threads, median of `runs` after warm-up."""
    import onnxruntime as ort

    x = np.random.default_rng(0).normal(0, 1, (1, 3, h, w)).astype(np.float32)
    res = {"input": f"1x3x{h}x{w}", "runs": runs}
    for th in (1, 2):
        so = ort.SessionOptions()
        so.intra_op_num_threads = th
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
        sess.run(None, {"image": x})
        ts = []
        for _ in range(runs):
            t = time.perf_counter()
            sess.run(None, {"image": x})
            ts.append(time.perf_counter() - t)
        ms = statistics.median(ts) * 1000
        res[f"threads_{th}"] = {"ms_median": round(ms, 1), "ms_per_mp": round(ms / (h * w / 1e6), 1)}
    try:
        res["load_average_1min"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    res["cpu_count"] = os.cpu_count()
    return res


def print_summary(m):
    f = lambda v: "n/a" if v is None else f"{v:.4f}"  # noqa: E731
    print(f"[eval] {m['test_set']['images']} held-out phantoms ({m['test_set']['dir']}), scale "
          f"{m['test_set']['um_per_px_range'][0]:.2f}-{m['test_set']['um_per_px_range'][1]:.2f} um/px")
    print(f"[eval] dice {f(m['dice_overall'])}  precision {f(m['precision_overall'])}  recall {f(m['recall_overall'])}")
    px = m["pixels"]
    print(f"[eval] false-positive pixels {px['fp']}, of them more than {FAR_FP_PX} px from any hair {px['fp_far_from_hair']}")
    for k, v in m["targets"].items():
        print(f"[eval]   {k:16s} {f(v['value'])}  (target >= {v['target']})  {'ok' if v['met'] else 'MISSED'}")
    for k, v in m["strata"].items():
        print(f"[eval]   recall {k:22s} {f(v['recall'])}  ({v['pixels']} px)")
    for k, v in m["dice_by_scale"].items():
        print(f"[eval]   dice @ {k:8s} um/px  {f(v['dice'])}  ({v['images']} images)")
    for row in m.get("integral_width_by_channel") or []:
        print(f"[eval]   width {row['true_width_um']:>7s} um ({row['hairs']:4d} hairs): " + ", ".join(
            f"{k} median error {row[k]['median_error_um']:+.1f} um, MAE {row[k]['mae_um']:.1f} um" for k in WIDTH_CHANNELS))
    s = m["speed"]
    print(f"[eval] speed {s['input']}: 1 thread {s['threads_1']['ms_per_mp']} ms/MP, 2 threads "
          f"{s['threads_2']['ms_per_mp']} ms/MP; {m['gmac_per_mp']} GMAC/MP")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO_ROOT / "models" / "hairseg.onnx"))
    ap.add_argument("--data", default=str(TRAINING_DIR / "data" / "test_s300000_n60_default_defaultscale"))
    ap.add_argument("--count", type=int, default=60, help="images to render if --data is missing")
    ap.add_argument("--seed", type=int, default=300000, help="seed to render with if --data is missing")
    ap.add_argument("--tricho", default=None)
    ap.add_argument("--out", default=str(TRAINING_DIR / "metrics.json"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-runs", type=int, default=7)
    a = ap.parse_args()
    evaluate(a.model, a.data, a.out, a.threads, count=a.count, seed=a.seed, tricho=a.tricho, speed_runs=a.speed_runs)


if __name__ == "__main__":
    main()

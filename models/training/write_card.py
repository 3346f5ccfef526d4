"""Write the model card models/hairseg.md from the ONNX file, metrics.json and train_summary.json.

    python models/training/write_card.py
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import COVERAGE_CHANNEL, MODEL_NAME, REPO_ROOT, TRAINING_DIR, read_metadata, sha256_file  # noqa: E402


def _f(v, d=3):
    return "n/a" if v is None else f"{v:.{d}f}"


def coverage_section(m, summary_path, stage) -> str:
    """The coverage head (training stage number `stage`): how it was fitted and what its integral
    gives for widths, next to `hair`'s."""
    c = json.loads(Path(summary_path).read_text())
    rows = "\n".join(f"| {r['true_width_um']} | {r['hairs']} | {r['hair']['median_error_um']:+.1f} | {r['hair']['mae_um']:.1f} | "
                     f"{r['coverage']['median_error_um']:+.1f} | {r['coverage']['mae_um']:.1f} |"
                     for r in m.get("integral_width_by_channel") or [])
    return f"""- Stage {stage}, coverage head (`coverage.py`, summary in `coverage_summary.json`): the network above frozen,
  one more 1×1 convolution on its last feature map (started from the hair head) fitted for {c['steps']} steps
  (lr {c['lr']}, seed {c['seed']}, coarse-camera augmentation p={c['coarse_augmentation']['prob']}) with {c['loss']}
  (mean BCE {c['bce_first_100']:.4f} over the first 100 steps, {c['bce_last_100']:.4f} over the last 100).
  `hair` and `centreline` are unchanged (checked at export).

Width as tricho measures it (probability integrated across the shaft, median along it) on the held-out
phantoms, along each hair's true centreline (stations whose profile meets another hair skipped), so
only the channel differs:

| true width µm | hairs | `hair`: median error µm | `hair`: MAE µm | `coverage`: median error µm | `coverage`: MAE µm |
| --- | --- | --- | --- | --- | --- |
{rows}
"""


def write_card(onnx_path, metrics_path, summary_path, out_path) -> str:
    onnx_path, out_path, summary_path = Path(onnx_path), Path(out_path), Path(summary_path)
    meta = read_metadata(onnx_path)
    m = json.loads(Path(metrics_path).read_text())
    s = json.loads(Path(summary_path).read_text())
    sha = sha256_file(onnx_path)
    if m.get("model_sha256") != sha:
        raise SystemExit(f"{metrics_path} was computed for another model file (sha256 {m.get('model_sha256')} != {sha}); re-run evaluate.py")
    size = onnx_path.stat().st_size
    exp = m.get("export", {})
    sp = m["speed"]
    d = s["data"]
    rel = lambda p: str(Path(p).resolve().relative_to(REPO_ROOT)) if Path(p).resolve().is_relative_to(REPO_ROOT) else str(p)  # noqa: E731

    rows = [
        ("all hair pixels (Dice, pooled)", m["dice_overall"], "≥ 0.90", None),
        ("vellus hairs (width ≤ 30 µm), pixel recall", m["recall_vellus"], "≥ 0.85", m["strata"].get("vellus", {}).get("pixels")),
        ("blond / grey / white hairs, pixel recall", m["recall_light"], "≥ 0.85", m["strata"].get("light", {}).get("pixels")),
        ("out-of-focus segments, pixel recall", m["recall_defocus"], "≥ 0.85", m["strata"].get("defocus", {}).get("pixels")),
    ]
    strat = "\n".join(f"| {n} | {_f(v)} | {t} | {'' if p is None else p} | {'yes' if v is not None and v >= float(t[2:]) else '**no**'} |"
                      for n, v, t, p in rows)
    per = "\n".join(f"| {k.replace(':', ': ')} | {_f(v['recall'])} | {v['pixels']} |"
                    for k, v in m["strata"].items() if k.startswith(("class:", "colour:")) or k in ("in_focus", "all_labelled"))
    scales = "\n".join(f"| {k} | {v['images']} | {_f(v['dice'])} | {_f(v['precision'])} | {_f(v['recall'])} |"
                       for k, v in m["dice_by_scale"].items())
    best = s["best_val"]
    stages = []
    earlier = sorted(summary_path.parent.glob("train_summary_stage*.json"), key=lambda p: int(p.stem.rsplit("stage", 1)[1]))
    earlier = [p for p in earlier if p.resolve() != summary_path.resolve()]
    for k, sp_ in enumerate(earlier + [summary_path], 1):
        st_ = json.loads(Path(sp_).read_text())
        lw = st_.get("loss_weights", {})
        ca = st_.get("coarse_augmentation", {})
        train_set = Path(st_["data"]["train"]["dir"]).name
        stages.append(f"  {k}. seed {st_['seed']}, lr {st_['lr']}, {st_['steps']} steps ({st_['train_seconds'] / 60:.0f} min) on `{train_set}`, "
                      f"{'from ' + Path(st_['init']).parent.name + ' best checkpoint' if st_.get('init') else ('from the exported `' + st_['init_onnx'] + '` (BatchNorm statistics frozen)' if st_.get('init_onnx') else 'random init')}; "
                      f"extra loss weight vellus {lw.get('vellus', 0)}, light {lw.get('light', 0)}, out of focus {lw.get('defocus', 0)}; "
                      f"Tversky FN weight {lw.get('fn_weight', 0.5)}; coarse-camera augmentation p={ca.get('prob', 0)} "
                      f"(up to {ca.get('max_factor', 1)}x)")
    stages_text = "- Stages (each from the previous stage's best checkpoint):\n" + "\n".join(stages) if stages else ""
    channels = meta["tricho.output_channels"].split(",")
    described = {"hair": "pixel belongs to a hair shaft", "centreline": "pixel within ~1 px of a shaft's centreline",
                 "coverage": "calibrated probability that the pixel lies inside a hair; its integral across a shaft is the width"}
    outputs = ", ".join(f"channel {i} `{c}` ({described.get(c, 'undocumented')})" for i, c in enumerate(channels))
    coverage_text = (coverage_section(m, summary_path.parent / "coverage_summary.json", len(stages) + 1)
                     if COVERAGE_CHANNEL in channels else "")
    text = f"""# {meta.get('tricho.name', MODEL_NAME)} {meta.get('tricho.version')}

Hair segmentation model for `tricho` (generated by `models/training/write_card.py`; do not edit by hand).

file: `models/{onnx_path.name}` ({size} bytes)
sha256: {sha}

## Architecture
- {meta.get('tricho.architecture', 'compact U-Net')}: full 3×3 stem, depthwise-separable 3×3 blocks
  (depthwise → BN → pointwise → BN → ReLU), max-pool down, 1×1 + bilinear ×2 up, skip
  concatenation, dilated bottleneck, 1×1 head, sigmoid inside the graph.
- Parameters: {exp.get('parameters', s['parameters'])} (training graph; {m.get('onnx_parameters', 'n/a')} stored after BatchNorm folding).
- Compute: **{m['gmac_per_mp']} GMAC per megapixel** of input (exact count over every Conv/ConvTranspose
  of the exported graph with shape inference at 1280×960).
- Receptive field: {meta.get('tricho.receptive_field_px')} px ({float(meta.get('tricho.receptive_field_px', 0)) * float(meta.get('tricho.um_per_px', 5)):.0f} µm) at the native scale.
- ONNX opset {exp.get('opset', 'n/a')}, exporter `{exp.get('exporter', 'n/a')}`; ONNX Runtime vs PyTorch max |diff| {exp.get('ort_vs_torch_max_abs_diff', 'n/a')}.

## Contract
| | |
| --- | --- |
| input | `image`, float32 `[N,3,H,W]`, RGB/255 then `(x - mean) / std`; N, H, W dynamic; H, W multiples of {meta.get('tricho.tile_multiple')} (`tricho.tile_multiple`) |
| mean / std | `{meta.get('tricho.input_mean')}` / `{meta.get('tricho.input_std')}` |
| native scale | **{meta.get('tricho.um_per_px')} µm/px** (`tricho.um_per_px`): resample every image to it first |
| output | `probabilities`, float32 `[N,{len(channels)},H,W]`, after sigmoid: {outputs} |
| threshold | 0.5 on `hair` in the evaluation below |

All values are also in the ONNX `metadata_props` (`tricho.*`).

## Training data
- {meta.get('tricho.training_data')}
- Renderer: `tricho synth` version {s['renderer_version']}.
  Train: `{d['train']['command']}`; validation: `{d['val']['command']}`; held-out test: `{d['test']['command']}`.
- Targets: `hair` = `NNNN.mask.png`; `centreline` = each hair's `centreline_px` polyline drawn 3 px wide.
- Loss: pixel-weighted BCE + Tversky overlap on `hair`, {s['centreline_weight']} × BCE on `centreline`; AdamW
  (50-step warm-up, cosine), weight decay {s['weight_decay']}, batch {s['batch']} × {s['patch']}² random crops, flips, rot90.
{stages_text}
{coverage_text}
## Reproduce
```
models/training/reproduce.sh
```
replays the stages listed under "Training data" step for step (same seeds, data, lr-schedule plans; thread count {s['threads']}).
The original runs were time-budgeted on a shared {s['host']['cpu_count']}-core machine; their step counts and
schedule plans are in `models/training/train_summary_stage<k>.json` (earlier stages) and
`train_summary.json` (final stage), and `reproduce.sh` passes them back.
Last stage of the network: {s['steps']} optimiser steps, {s['train_seconds'] / 60:.1f} min, final training loss (EMA)
{_f(s['final_loss_ema'], 4)}; checkpoint chosen on the validation set by the worst ratio of measured to target
over Dice and the three recalls (score {_f(best.get('score'), 4)}: Dice {_f(best['dice'], 4)}, recall vellus
{_f(best.get('recall_vellus'), 4)}, light {_f(best.get('recall_light'), 4)}, out of focus
{_f(best.get('recall_defocus'), 4)} at step {best['step']}).

## Evaluation (held-out phantoms)
{m['test_set']['images']} phantoms never used in training (`{m['test_set']['dir']}`, seed {m['test_set']['seed']},
renderer default size and scale {m['test_set']['um_per_px_range'][0]:.2f}–{m['test_set']['um_per_px_range'][1]:.2f} µm/px),
each resampled to {meta.get('tricho.um_per_px')} µm/px, run whole through ONNX Runtime, probability resampled back,
thresholded at 0.5 and compared with the exact mask.

| stratum | value | target | pixels | met |
| --- | --- | --- | --- | --- |
{strat}

Overall precision {_f(m['precision_overall'])}, recall {_f(m['recall_overall'])}, mean per-image Dice {_f(m['dice_mean_per_image'])}.

| hair pixels by | recall | pixels |
| --- | --- | --- |
{per}

| scale bin (µm/px) | images | Dice | precision | recall |
| --- | --- | --- | --- | --- |
{scales}

## Speed
ONNX Runtime (CPU execution provider), input {sp['input']} at the native scale, median of {sp['runs']} runs:
**{sp['threads_1']['ms_per_mp']} ms/MP with 1 thread, {sp['threads_2']['ms_per_mp']} ms/MP with 2 threads**
(host: {sp.get('cpu_count')} cores, 1-min load average {sp.get('load_average_1min', 'n/a')} while measuring). {m['gmac_per_mp']} GMAC/MP.

## Limitations
- Trained and evaluated **only on rendered phantoms**. The numbers above say how well the network
  inverts our renderer, not how it does on real photos. A previous compact U-Net trained the same
  way fired on real skin texture when the phantoms lacked hair-like distractors (count ~9× too high,
  r ≈ 0.15 vs manual counts); with distractors and harsh colour variety false positives nearly
  vanished (r ≈ 0.48 with a crude shape filter). Validate on annotated real images before clinical use.
- Known weak spots on real images: hairs sharing one follicular opening merge into one blob; stubs with
  a bright glossy centre may split in two; hairs cut by the image edge or out of focus are counted
  inconsistently. The `centreline` channel is there to help the tracer separate touching hairs, but
  counting is the tracer's job, not this model's.
- Correct output needs a correct scale: images must be calibrated (µm/px) and resampled to
  {meta.get('tricho.um_per_px')} µm/px; at very fine native scales (< 2.5 µm/px) or very coarse ones (> 8 µm/px) it is untested.
- `coverage` is calibrated over all training pixels, boundary and detection uncertainty together:
  where the network is unsure whether a shaft is there at all (white or blond hair on pale skin)
  coverage stays below 1 inside it, and the width integrated across it comes out low (on tricho's
  eval phantoms terminal-width MAE is 23.0 µm for white and 19.1 µm for blond hair, 14.3 µm for black).
- Pixel metrics are for the `hair` channel only; the `centreline` channel has no accuracy target
  (validation centreline Dice at the chosen checkpoint {_f(best.get('centre_dice'), 3)}).
"""
    out_path.write_text(text)
    print(f"[card] wrote {rel(out_path)} (model sha256 {sha})", flush=True)
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO_ROOT / "models" / "hairseg.onnx"))
    ap.add_argument("--metrics", default=str(TRAINING_DIR / "metrics.json"))
    ap.add_argument("--summary", default=str(TRAINING_DIR / "train_summary.json"))
    ap.add_argument("--out", default=str(REPO_ROOT / "models" / "hairseg.md"))
    a = ap.parse_args()
    write_card(a.model, a.metrics, a.summary, a.out)


if __name__ == "__main__":
    main()

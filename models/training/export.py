"""Export a training checkpoint to ONNX with the tricho model-contract metadata, and check it.

    python models/training/export.py --checkpoint models/training/runs/main/best.pt --out models/hairseg.onnx
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    MODEL_NAME, MODEL_SCALE_UM_PER_PX, MODEL_VERSION, REPO_ROOT, ExportWrapper,
    build_model, count_params, gmac_per_mp, onnx_macs_per_pixel, receptive_field_px, tile_multiple,
    output_channels, read_metadata, torch_macs_per_pixel,
)

OPSET = 17


def _fmt(v):
    return ",".join(f"{x:.6f}" for x in v)


def export(checkpoint, out, threads=2) -> dict:
    import onnx
    import onnxruntime as ort
    import torch

    torch.set_num_threads(threads)
    ck = torch.load(checkpoint, map_location="cpu", weights_only=False)
    cfg = ck["config"]
    channels = output_channels(cfg.get("coverage", False))
    model = build_model(cfg["base"], cfg["levels"], cfg.get("coverage", False))
    model.load_state_dict(ck["state_dict"])
    model.eval()
    wrapped = ExportWrapper.make(model).eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    mult = tile_multiple(cfg["levels"])
    dummy = torch.zeros(1, 3, 4 * mult, 4 * mult)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch.onnx.export(
                wrapped, (dummy,), str(out), dynamo=False, opset_version=OPSET,
                input_names=["image"], output_names=["probabilities"],
                dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "probabilities": {0: "N", 2: "H", 3: "W"}},
                do_constant_folding=True,
            )
            exporter = "torchscript"
        except Exception as e:  # legacy exporter gone: use the dynamo exporter
            print(f"[export] legacy exporter failed ({e!r}); using dynamo", flush=True)
            from torch.export import Dim

            n, h, w = Dim("N", min=1, max=64), Dim("h", min=1, max=1024), Dim("w", min=1, max=1024)
            prog = torch.onnx.export(
                wrapped, (dummy,), None, dynamo=True, opset_version=max(OPSET, 18),
                input_names=["image"], output_names=["probabilities"],
                dynamic_shapes={"image": {0: n, 2: mult * h, 3: mult * w}}, external_data=False,
            )
            prog.save(str(out), external_data=False)
            exporter = "dynamo"

    rf = receptive_field_px(model)
    norm = ck["normalisation"]
    meta = {
        "tricho.name": MODEL_NAME,
        "tricho.version": MODEL_VERSION,
        "tricho.um_per_px": f"{MODEL_SCALE_UM_PER_PX:.1f}",
        "tricho.input_mean": _fmt(norm["mean"]),
        "tricho.input_std": _fmt(norm["std"]),
        "tricho.input_range": "RGB/255, then (x - mean) / std per channel",
        "tricho.output_channels": ",".join(channels),
        "tricho.output_activation": "sigmoid",
        "tricho.tile_multiple": str(mult),
        "tricho.receptive_field_px": str(rf),
        "tricho.training_data": ck.get("training_data", "phantoms"),
        "tricho.training_command": ck.get("training_command", ""),
        "tricho.architecture": f"compact U-Net, base {cfg['base']} channels, {cfg['levels']} levels, depthwise-separable",
    }
    m = onnx.load(str(out))
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.producer_name = "tricho-training"
    m.doc_string = "tricho hair segmentation: input `image` [N,3,H,W] float32 normalised RGB at 5.0 um/px; output `probabilities` " + f"[N,{len(channels)},H,W] ({', '.join(channels)})"
    onnx.checker.check_model(m)
    onnx.save(m, str(out))
    opset = max(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))

    # --- parity with torch on shapes never seen at export time (dynamic N, H, W)
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(out), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    diffs = []
    for shape in [(1, 3, 4 * mult, 4 * mult), (2, 3, 15 * mult, 9 * mult), (1, 3, 960, 1280)]:
        x = rng.normal(0, 1, shape).astype(np.float32)
        with torch.no_grad():
            ref = wrapped(torch.from_numpy(x)).numpy()
        got = sess.run(["probabilities"], {"image": x})[0]
        assert got.shape == ref.shape, (got.shape, ref.shape)
        diffs.append(float(np.abs(got - ref).max()))
    macs_px, per_op = onnx_macs_per_pixel(out)
    info = {
        "onnx": str(out),
        "exporter": exporter,
        "opset": int(opset),
        "file_bytes": out.stat().st_size,
        "parameters": count_params(model),
        "gmac_per_mp_onnx": round(gmac_per_mp(macs_px), 4),
        "gmac_per_mp_torch_hooks": round(gmac_per_mp(torch_macs_per_pixel(model)), 4),
        "mac_split": {k: round(gmac_per_mp(v / (960 * 1280)), 4) for k, v in per_op.items()},
        "receptive_field_px": rf,
        "tile_multiple": mult,
        "ort_vs_torch_max_abs_diff": max(diffs),
        "metadata": meta,
    }
    print(f"[export] {out}: {info['file_bytes']} bytes, opset {opset}, {info['parameters']} params, "
          f"{info['gmac_per_mp_onnx']} GMAC/MP (hooks {info['gmac_per_mp_torch_hooks']}), RF {rf} px, "
          f"ORT vs torch max|diff| {max(diffs):.2e}", flush=True)
    if max(diffs) > 1e-4:
        raise SystemExit("[export] ONNX Runtime output differs from torch by more than 1e-4")
    if info["file_bytes"] > 10 * 1024 * 1024:
        raise SystemExit("[export] model file exceeds 10 MB")
    return info


def unchanged_outputs(before, after, tolerance=1e-5) -> float:
    """Checks that `after` computes the channels `before` has (same names, same values on a random
    input, within `tolerance`): a stage that only adds an output head must not move the others."""
    import onnxruntime as ort

    x = np.random.default_rng(1).normal(0, 1, (1, 3, 96, 128)).astype(np.float32)
    names, outs = [], []
    for path in (before, after):
        names.append(read_metadata(path)["tricho.output_channels"].split(","))
        outs.append(ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0])
    n = len(names[0])
    if names[1][:n] != names[0]:
        raise SystemExit(f"[export] {after} channels {names[1]} do not start with {before}'s {names[0]}")
    diff = float(np.abs(outs[1][:, :n] - outs[0]).max())
    if diff > tolerance:
        raise SystemExit(f"[export] {after} changes {before}'s outputs by {diff:.2e} (> {tolerance})")
    print(f"[export] {', '.join(names[0])} unchanged from {before} (max |diff| {diff:.1e})", flush=True)
    return diff


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--out", default=str(REPO_ROOT / "models" / "hairseg.onnx"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--info-out", default=None, help="write export info JSON here")
    a = ap.parse_args()
    info = export(a.checkpoint, a.out, a.threads)
    if a.info_out:
        Path(a.info_out).write_text(json.dumps(info, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Turn an exported tricho-hairseg ONNX model back into a training checkpoint, to fine-tune it.

    python models/training/from_onnx.py --onnx models/hairseg.onnx --out runs/stage3.pt

The export folds every BatchNorm into the convolution before it, so the graph holds one weight
and one bias per convolution. The checkpoint puts each weight back into its convolution and
each bias into the BatchNorm after it, with identity statistics (mean 0, variance 1 - eps,
scale 1): in eval mode the network computes what the ONNX graph does (every conversion, also
under `train.py --init-onnx`, checks that PyTorch and ONNX Runtime agree on a random input to
1e-4). Fine-tune it with `train.py --freeze-bn`, which keeps BatchNorm in eval mode (batch
statistics would replace the identity ones and change the network).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import COVERAGE_CHANNEL, build_model, read_metadata  # noqa: E402

TOLERANCE = 1e-4


def convs_with_norm(model):
    """(conv, batchnorm registered right after it or None) in the order the forward pass calls
    the convolutions, which is the exported graph's node order (the decoder's up-convolutions
    and blocks interleave there, not in the module registration order)."""
    import torch
    import torch.nn as nn

    modules = list(model.modules())
    norm_after = {}
    for i, m in enumerate(modules):
        if isinstance(m, nn.Conv2d):
            nxt = modules[i + 1] if i + 1 < len(modules) else None
            norm_after[id(m)] = nxt if isinstance(nxt, nn.BatchNorm2d) else None
    order = []
    hooks = [m.register_forward_pre_hook(lambda mod, _inp: order.append(mod))
             for m in modules if isinstance(m, nn.Conv2d)]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 64, 64))
    for h in hooks:
        h.remove()
    return [(m, norm_after[id(m)]) for m in order]


def checkpoint_from_onnx(onnx_path, base: int, levels: int) -> dict:
    import onnx
    import torch
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    weights = {t.name: np.array(numpy_helper.to_array(t)) for t in graph.initializer}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    meta = read_metadata(onnx_path)
    coverage = COVERAGE_CHANNEL in meta["tricho.output_channels"].split(",")
    model = build_model(base, levels, coverage)
    pairs = convs_with_norm(model)
    if len(convs) != len(pairs):
        raise SystemExit(f"{onnx_path}: {len(convs)} Conv nodes, the architecture has {len(pairs)} convolutions")
    with torch.no_grad():
        for node, (conv, norm) in zip(convs, pairs):
            w = weights[node.input[1]]
            b = weights[node.input[2]] if len(node.input) > 2 else None
            if tuple(w.shape) != tuple(conv.weight.shape):
                raise SystemExit(f"{onnx_path}: Conv {node.name} weight {w.shape} vs {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(w))
            target = conv if conv.bias is not None else norm
            if b is None:
                continue
            if target is None:
                raise SystemExit(f"{onnx_path}: Conv {node.name} has a bias but no BatchNorm or bias to hold it")
            if target is norm:
                norm.weight.fill_(1.0)
                norm.running_mean.zero_()
                norm.running_var.fill_(1.0 - norm.eps)
            target.bias.copy_(torch.from_numpy(b))
    diff = max_difference(model, onnx_path)
    if diff > TOLERANCE:
        raise SystemExit(f"{onnx_path}: rebuilt network differs from the graph by {diff:.2e} (> {TOLERANCE})")
    mean = [float(v) for v in meta["tricho.input_mean"].split(",")]
    std = [float(v) for v in meta["tricho.input_std"].split(",")]
    config = {"base": base, "levels": levels, **({"coverage": True} if coverage else {})}
    return {"config": config, "state_dict": model.state_dict(),
            "normalisation": {"mean": mean, "std": std}, "step": 0, "source_onnx": str(onnx_path),
            "max_abs_diff_vs_onnx": diff}


def max_difference(model, onnx_path) -> float:
    """Largest |PyTorch − ONNX Runtime| on a random normalised input, sigmoid outputs."""
    import onnxruntime as ort
    import torch

    model.eval()
    x = np.random.default_rng(0).standard_normal((1, 3, 128, 160)).astype(np.float32)
    with torch.no_grad():
        ours = torch.sigmoid(model(torch.from_numpy(x))).numpy()
    theirs = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    return float(np.abs(ours - theirs).max())


def main(argv=None):
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", type=int, default=10)
    ap.add_argument("--levels", type=int, default=4)
    a = ap.parse_args(argv)
    ck = checkpoint_from_onnx(a.onnx, a.base, a.levels)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    torch.save(ck, a.out)
    print(f"[from_onnx] {a.onnx} -> {a.out} (max |diff| {ck['max_abs_diff_vs_onnx']:.2e})", flush=True)


if __name__ == "__main__":
    main()

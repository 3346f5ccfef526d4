"""Shared pieces of the tricho-hairseg training recipe: model, phantom I/O, targets, MAC count.

Everything here is deterministic; no global state except what callers set up.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import random
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

TRAINING_DIR = Path(__file__).resolve().parent
REPO_ROOT = TRAINING_DIR.parent.parent
MODEL_SCALE_UM_PER_PX = 5.0
MODEL_NAME = "tricho-hairseg"
MODEL_VERSION = "1.0.0"
OUTPUT_CHANNELS = ("hair", "centreline")
COVERAGE_CHANNEL = "coverage"
DEFOCUS_BIT = 0x8000
ID_MASK = 0x7FFF
VELLUS_MAX_UM = 30.0
LIGHT_COLOURS = ("blond", "grey", "white")


# --------------------------------------------------------------------------- seeding

def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


# --------------------------------------------------------------------------- model

def _torch():
    import torch
    import torch.nn as nn

    return torch, nn


def output_channels(coverage: bool = False) -> tuple:
    """Names of the model's output channels, in tensor order."""
    return OUTPUT_CHANNELS + ((COVERAGE_CHANNEL,) if coverage else ())


def build_model(base: int = 12, levels: int = 4, coverage: bool = False):
    """Compact U-Net: full 3x3 stem, depthwise-separable blocks, 1x1 + bilinear upsampling.

    levels = number of resolution levels (levels-1 poolings); tile multiple = 2**(levels-1)
    is what the net strictly needs, we publish 2**levels to leave margin (see tile_multiple()).
    Returns logits [N,2,H,W] (hair, centreline), or [N,3,H,W] with `coverage` (a second 1x1
    head on the same features, trained by coverage.py); the exported graph adds the sigmoid.
    """
    torch, nn = _torch()

    class DSConv(nn.Module):
        """depthwise 3x3 -> BN -> pointwise 1x1 -> BN -> ReLU"""

        def __init__(self, cin, cout, dilation=1):
            super().__init__()
            self.dw = nn.Conv2d(cin, cin, 3, padding=dilation, dilation=dilation, groups=cin, bias=False)
            self.bn1 = nn.BatchNorm2d(cin)
            self.pw = nn.Conv2d(cin, cout, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.act(self.bn2(self.pw(self.bn1(self.dw(x)))))

    class Stem(nn.Module):
        def __init__(self, cout):
            super().__init__()
            self.conv = nn.Conv2d(3, cout, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(cout)
            self.act = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.act(self.bn(self.conv(x)))

    class HairUNet(nn.Module):
        def __init__(self):
            super().__init__()
            ch = [base * (2**i) for i in range(levels)]
            self.ch = ch
            self.levels = levels
            self.base = base
            enc = []
            for i, c in enumerate(ch):
                if i == 0:
                    enc.append(nn.Sequential(Stem(c), DSConv(c, c)))
                elif i == levels - 1:
                    # bottleneck: second block dilated for a larger receptive field
                    enc.append(nn.Sequential(DSConv(ch[i - 1], c), DSConv(c, c, dilation=2)))
                else:
                    enc.append(nn.Sequential(DSConv(ch[i - 1], c), DSConv(c, c)))
            self.enc = nn.ModuleList(enc)
            self.pool = nn.MaxPool2d(2)
            ups, decs = [], []
            for i in range(levels - 1, 0, -1):
                # 1x1 channel reduction at low resolution, then bilinear x2 (4x cheaper than ConvTranspose)
                ups.append(nn.Sequential(nn.Conv2d(ch[i], ch[i - 1], 1, bias=False),
                                         nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)))
                decs.append(nn.Sequential(DSConv(2 * ch[i - 1], ch[i - 1]), DSConv(ch[i - 1], ch[i - 1])))
            self.ups = nn.ModuleList(ups)
            self.decs = nn.ModuleList(decs)
            self.head = nn.Conv2d(ch[0], 2, 1)
            self.coverage = nn.Conv2d(ch[0], 1, 1) if coverage else None

        def forward(self, x):
            skips = []
            for i, block in enumerate(self.enc):
                if i > 0:
                    x = self.pool(x)
                x = block(x)
                skips.append(x)
            x = skips.pop()
            for up, dec in zip(self.ups, self.decs):
                x = up(x)
                x = dec(torch.cat([x, skips.pop()], dim=1))
            if self.coverage is None:
                return self.head(x)
            return torch.cat([self.head(x), self.coverage(x)], dim=1)

    return HairUNet()


def tile_multiple(levels: int) -> int:
    # 2**(levels-1) is the total downsampling; we publish 2**levels as in the model contract brief
    return 2**levels


class ExportWrapper:
    """Wraps the net with the sigmoid so the ONNX output is probabilities."""

    @staticmethod
    def make(model):
        torch, nn = _torch()

        class _W(nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, image):
                return torch.sigmoid(self.m(image))

        return _W(model)


def count_params(model) -> int:
    return int(sum(p.numel() for p in model.parameters()))


def torch_macs_per_pixel(model, h: int = 256, w: int = 256) -> float:
    """MACs of every Conv2d/ConvTranspose2d per input pixel, via forward hooks."""
    torch, nn = _torch()
    total = [0]

    def hook(mod, inp, out):
        x = inp[0]
        if isinstance(mod, nn.ConvTranspose2d):
            # every input element is multiplied into (Cout/groups)*kh*kw outputs
            kh, kw = mod.kernel_size
            total[0] += x.numel() * (mod.out_channels // mod.groups) * kh * kw
        else:
            kh, kw = mod.kernel_size
            total[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    model.train(was_training)
    for hd in hs:
        hd.remove()
    return total[0] / (h * w)


def receptive_field_px(model, size: int = 256) -> int:
    """Empirical receptive field: extent of non-zero input gradient of the centre output pixel."""
    torch, nn = _torch()
    import copy

    m = copy.deepcopy(model).double().eval()
    # make every weight strictly positive so no gradient cancels out by accident
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
                mod.weight.fill_(0.1)
                if mod.bias is not None:
                    mod.bias.fill_(0.1)
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.zero_()
                mod.running_var.fill_(1.0)
                mod.weight.fill_(1.0)
                mod.bias.fill_(1.0)
    x = torch.ones(1, 3, size, size, dtype=torch.float64, requires_grad=True)
    y = m(x)
    c = size // 2
    y[0, 0, c, c].backward()
    g = (x.grad[0].abs().sum(0) > 0).numpy()
    ys, xs = np.nonzero(g)
    return int(max(ys.max() - ys.min() + 1, xs.max() - xs.min() + 1))


# --------------------------------------------------------------------------- phantoms

def read_labels(path) -> np.ndarray:
    im = Image.open(path)
    a = np.asarray(im)
    if a.dtype != np.uint16:
        a = (a.astype(np.int64) & 0xFFFF).astype(np.uint16)
    return a


def list_phantoms(d) -> list[Path]:
    return sorted(Path(d).glob("*.truth.json"))


def load_truth(p) -> dict:
    with open(p) as f:
        return json.load(f)


def centreline_target(truth: dict, w: int, h: int, width: int = 3, offset: float = 0.0) -> np.ndarray:
    """Pixels within ~1 px of every hair's centreline polyline (uint8 0/1).

    `offset` is added to the truth coordinates before drawing; PIL draws integer coordinates
    at pixel centres, so if the renderer uses pixel-corner coordinates (centre of pixel 0 is
    0.5) pass offset=-0.5.
    """
    im = Image.new("L", (w, h), 0)
    dr = ImageDraw.Draw(im)
    for hair in truth.get("hairs", []):
        pts = hair.get("centreline_px") or []
        pts = [(float(x) + offset, float(y) + offset) for x, y in pts]
        if len(pts) >= 2:
            dr.line(pts, fill=1, width=width, joint="curve")
            r = (width - 1) / 2
            for x, y in (pts[0], pts[-1]):
                dr.ellipse([x - r, y - r, x + r, y + r], fill=1)
        elif len(pts) == 1:
            x, y = pts[0]
            dr.point((x, y), fill=1)
    return np.asarray(im, dtype=np.uint8)


def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


HARD_VELLUS, HARD_LIGHT, HARD_DEFOCUS = 1, 2, 4


def hard_pixel_map(truth: dict, labels: np.ndarray) -> np.ndarray:
    """Bits per pixel marking the strata the model tends to miss (uint8):
    HARD_VELLUS (hair <= VELLUS_MAX_UM wide), HARD_LIGHT (blond/grey/white), HARD_DEFOCUS (out of focus)."""
    ids = (labels & ID_MASK).astype(np.int32)
    vellus = np.zeros(ID_MASK + 1, bool)
    light = np.zeros(ID_MASK + 1, bool)
    for h in truth.get("hairs", []):
        vellus[h["id"]] = float(h.get("width_um", 1e9)) <= VELLUS_MAX_UM
        light[h["id"]] = h.get("colour") in LIGHT_COLOURS
    out = vellus[ids] * HARD_VELLUS + light[ids] * HARD_LIGHT + ((labels & DEFOCUS_BIT) > 0) * HARD_DEFOCUS
    return out.astype(np.uint8)


def load_set_cached(d, centreline_offset: float = 0.0):
    """Load a rendered set (all images same size) into uint8 arrays, cached as .npz in the set dir.

    Returns dict(images [N,H,W,3], hair [N,H,W] 0/1, centre [N,H,W] 0/1, hard [N,H,W] bits of
    hard_pixel_map, names).
    """
    d = Path(d)
    cache = d / f"cache_v2_off{centreline_offset:+.2f}.npz"
    truths = list_phantoms(d)
    if cache.exists() and cache.stat().st_mtime >= max(t.stat().st_mtime for t in truths):
        z = np.load(cache)
        return {k: z[k] for k in z.files}
    imgs, hair, centre, hard, names = [], [], [], [], []
    for tp in truths:
        t = load_truth(tp)
        img = np.asarray(Image.open(d / t["image"]["file"]).convert("RGB"), dtype=np.uint8)
        mask = np.asarray(Image.open(d / t["image"]["mask_file"]).convert("L")) > 127
        h, w = mask.shape
        imgs.append(img)
        hair.append(mask.astype(np.uint8))
        centre.append(centreline_target(t, w, h, offset=centreline_offset))
        hard.append(hard_pixel_map(t, read_labels(d / t["image"]["labels_file"])))
        names.append(tp.name[: -len(".truth.json")])
    out = {"images": np.stack(imgs), "hair": np.stack(hair), "centre": np.stack(centre), "hard": np.stack(hard),
           "names": np.array(names)}
    np.savez(cache, **out)
    return out


# --------------------------------------------------------------------------- ONNX helpers

def onnx_macs_per_pixel(onnx_path, h: int = 960, w: int = 1280) -> tuple[float, dict]:
    """Exact MACs of every Conv/ConvTranspose in the exported graph (shape inference at HxW)."""
    import onnx
    from onnx import shape_inference

    m = onnx.load(str(onnx_path))
    inp = m.graph.input[0]
    dims = inp.type.tensor_type.shape.dim
    for d, v in zip(dims, (1, 3, h, w)):
        d.ClearField("dim_param")
        d.dim_value = v
    m = shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    shapes = {}
    for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    total = 0
    per_op = {"Conv": 0, "ConvTranspose": 0}
    for node in m.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose"):
            continue
        wshape = inits.get(node.input[1]) or shapes.get(node.input[1])
        group = 1
        for a in node.attribute:
            if a.name == "group":
                group = a.i
        if node.op_type == "Conv":
            out = shapes[node.output[0]]
            if not out or 0 in out:
                raise RuntimeError(f"shape inference failed for {node.name}")
            # weight [Cout, Cin/group, kh, kw]
            macs = int(np.prod(out)) * wshape[1] * wshape[2] * wshape[3]
        else:
            x = shapes[node.input[0]]
            if not x or 0 in x:
                raise RuntimeError(f"shape inference failed for {node.name}")
            # weight [Cin, Cout/group, kh, kw]
            macs = int(np.prod(x)) * wshape[1] * wshape[2] * wshape[3]
        total += macs
        per_op[node.op_type] += macs
    return total / (h * w), per_op


def read_metadata(onnx_path) -> dict:
    import onnx

    m = onnx.load(str(onnx_path), load_external_data=False)
    return {p.key: p.value for p in m.metadata_props}


def gmac_per_mp(macs_per_pixel: float) -> float:
    return macs_per_pixel * 1e6 / 1e9

"""Writes the test-only ONNX models used by tricho's segmentation tests.

tiny-conv.onnx: a 3x3 convolution (3 -> 2 channels, reflect-free zero padding "same") followed
by a sigmoid, with every `tricho.*` metadata key the pipeline requires. Weights come from a
fixed seed, so the file is reproducible. The graph is built with the `onnx` helper API (no
PyTorch needed) so the file stays a few KB and opset/IR versions are explicit.

tiny-conv-missing-um-per-px.onnx: the same graph without `tricho.um_per_px`, to test the
error for a missing metadata key.

Run from the repository root:
    .venv/bin/python tests/data/make_tiny_conv.py
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
SEED = 20240601
CHANNELS = ["hair", "centreline"]

METADATA = {
    "tricho.name": "tricho-tiny-conv",
    "tricho.version": "0.0.1",
    "tricho.um_per_px": "5.0",
    "tricho.input_mean": "0.485,0.456,0.406",
    "tricho.input_std": "0.229,0.224,0.225",
    "tricho.output_channels": ",".join(CHANNELS),
    "tricho.tile_multiple": "4",
    "tricho.receptive_field_px": "3",
    "tricho.training_data": "none: random weights, test-only model (tests/data/make_tiny_conv.py)",
}


def build(metadata: dict) -> onnx.ModelProto:
    rng = np.random.default_rng(SEED)
    weight = rng.normal(0.0, 0.5, size=(len(CHANNELS), 3, 3, 3)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, size=(len(CHANNELS),)).astype(np.float32)

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", len(CHANNELS), "H", "W"])
    nodes = [
        helper.make_node("Conv", ["image", "weight", "bias"], ["logits"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["logits"], ["probabilities"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_conv",
        [x],
        [y],
        initializer=[numpy_helper.from_array(weight, "weight"), numpy_helper.from_array(bias, "bias")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="tricho-tests")
    model.ir_version = 8
    helper.set_model_props(model, metadata)
    onnx.checker.check_model(model)
    return model


def main() -> None:
    onnx.save(build(METADATA), HERE / "tiny-conv.onnx")
    missing = {k: v for k, v in METADATA.items() if k != "tricho.um_per_px"}
    onnx.save(build(missing), HERE / "tiny-conv-missing-um-per-px.onnx")


if __name__ == "__main__":
    main()

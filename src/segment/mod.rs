//! Segmentation: ONNX Runtime discovery, the self-describing model and its inference.

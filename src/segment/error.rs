//! The one error type of the segmentation stage; every variant names the file it is about.

use std::path::PathBuf;

/// What can go wrong while finding ONNX Runtime, loading a model or running it.
///
/// Runtime and model errors carry the path of the library or model file involved.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No ONNX Runtime shared library was found in any of the places searched.
    #[error(
        "ONNX Runtime not found; install it with `bash scripts/install-onnxruntime.sh` \
         (from the repository root), or pass the library's path with --ort-dylib or \
         ORT_DYLIB_PATH. Searched: {}",
        display_paths(searched)
    )]
    RuntimeNotFound {
        /// Every candidate path that was checked, in lookup order.
        searched: Vec<PathBuf>,
    },

    /// A runtime path was given explicitly (flag or `ORT_DYLIB_PATH`) but no library is there.
    #[error("ONNX Runtime library {} (from {origin}) does not exist", path.display())]
    RuntimeMissing {
        /// The path that was given.
        path: PathBuf,
        /// Where the path came from, e.g. `ORT_DYLIB_PATH`.
        origin: &'static str,
    },

    /// The ONNX Runtime shared library exists but could not be loaded (wrong file, too old, …).
    #[error("cannot load ONNX Runtime from {}", path.display())]
    RuntimeLoad {
        /// The library that failed to load.
        path: PathBuf,
        /// Why loading failed.
        source: ort::LoadDynamicError,
    },

    /// The ONNX Runtime environment could not be created.
    #[error("cannot initialise ONNX Runtime loaded from {}", path.display())]
    RuntimeInit {
        /// The library that was loaded.
        path: PathBuf,
        /// The runtime's error.
        source: ort::Error,
    },

    /// The model file could not be read.
    #[error("cannot read model {}", path.display())]
    Read {
        /// The model file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// ONNX Runtime rejected the model file.
    #[error("cannot create an inference session for model {}", path.display())]
    Session {
        /// The model file.
        path: PathBuf,
        /// The runtime's error.
        source: ort::Error,
    },

    /// A required `tricho.*` metadata key is absent from the model.
    #[error("model {} lacks required metadata key `{key}`", path.display())]
    MissingMetadata {
        /// The model file.
        path: PathBuf,
        /// The missing key.
        key: &'static str,
    },

    /// A `tricho.*` metadata value does not parse or is out of range.
    #[error("model {} has an invalid value {value:?} for metadata key `{key}`: {reason}", path.display())]
    InvalidMetadata {
        /// The model file.
        path: PathBuf,
        /// The offending key.
        key: &'static str,
        /// The value found.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The model's inputs or outputs do not follow the model contract
    /// (one input `[N,3,H,W]`, an output `[N,C,H,W]`).
    #[error("model {} does not follow the model contract: {reason}", path.display())]
    Contract {
        /// The model file.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },

    /// Running the model failed.
    #[error("inference with model {} failed", path.display())]
    Inference {
        /// The model file.
        path: PathBuf,
        /// The runtime's error.
        source: ort::Error,
    },

    /// The input tensor passed to [`HairModel::infer`](super::HairModel::infer) has the wrong size.
    #[error("input for model {} has shape {shape:?} but {len} values", path.display())]
    InputShape {
        /// The model file.
        path: PathBuf,
        /// The declared `[N,3,H,W]` shape.
        shape: [usize; 4],
        /// The number of values given.
        len: usize,
    },

    /// The image to segment has no pixels.
    #[error("cannot segment an empty image ({width}×{height} px) with model {}", path.display())]
    EmptyImage {
        /// The model file.
        path: PathBuf,
        /// Image width in pixels.
        width: u32,
        /// Image height in pixels.
        height: u32,
    },
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "(nothing)".to_owned();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

//! Segmentation: ONNX Runtime discovery, the self-describing model and its inference.
//!
//! [`HairModel::load`] finds ONNX Runtime ([`init_runtime`]), opens the model and reads its
//! `tricho.*` metadata ([`ModelMetadata`]); [`HairModel::segment`] resamples an image to the
//! model's µm/px, runs overlapping tiles and returns [`ProbabilityMaps`]. This is the only
//! module that touches `ort`.

mod error;
mod maps;
mod metadata;
mod model;
mod resample;
mod runtime;
mod tiles;

pub use error::ModelError;
pub use maps::ProbabilityMaps;
pub use metadata::{keys, ModelMetadata, COVERAGE_CHANNEL, HAIR_CHANNEL};
pub use model::{default_model_path, HairModel, ModelOptions, Tensor4, DEFAULT_MODEL};
pub(crate) use resample::resize_map;
pub use runtime::{init_runtime, locate_runtime, Runtime, ORT_DYLIB_ENV, ORT_VERSION, PROJECT_LOCAL_RUNTIME};
pub use tiles::DEFAULT_TILE_PX;

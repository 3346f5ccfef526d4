//! The hair-segmentation model: an ONNX Runtime session plus the model's self-description
//! and identity (path, sha256) for provenance.

use std::path::{Path, PathBuf};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{TensorRef, ValueType};
use sha2::{Digest, Sha256};

use super::metadata::ModelMetadata;
use super::runtime::init_runtime;
use super::tiles::DEFAULT_TILE_PX;
use super::ModelError;

/// ONNX Runtime's graph optimisations for this CPU. `All` adds the NCHWc layout
/// transformation, whose channel blocks follow the widest vector unit: on a CPU without
/// AVX-512 a folder run is about 10 % faster than with `Level2` (extended fusions only) and
/// takes less memory (peak RSS 0.75 against 0.89 GB, two workers); on an AVX-512 CPU it is no
/// faster and each session's buffers nearly double (1.48 against 0.90 GB), so `Level2` is
/// taken there. The probabilities differ only by float rounding (counts identical, widths
/// within 0.05 µm). Measured in the README's speed section.
fn graph_optimization() -> GraphOptimizationLevel {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        return GraphOptimizationLevel::Level2;
    }
    GraphOptimizationLevel::All
}

/// The committed model, relative to the project root.
pub const DEFAULT_MODEL: &str = "models/hairseg.onnx";

/// The committed model found from the current directory, the executable's ancestors or the
/// crate's source directory, if any of them holds [`DEFAULT_MODEL`].
pub fn default_model_path() -> Option<PathBuf> {
    super::runtime::project_roots()
        .into_iter()
        .map(|root| root.join(DEFAULT_MODEL))
        .find(|path| path.is_file())
}

/// How a model is loaded and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelOptions {
    /// Threads ONNX Runtime may use inside one inference. Default 1: images are processed in
    /// parallel with rayon, one session per worker, so sessions should not compete for cores.
    pub intra_threads: usize,
    /// Tile edge at model scale in pixels; default [`DEFAULT_TILE_PX`]. Rounded up to the
    /// model's tile multiple and to the smallest size that leaves room for context and overlap.
    pub tile_px: u32,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            intra_threads: 1,
            tile_px: DEFAULT_TILE_PX,
        }
    }
}

/// An output tensor: its shape and values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor4 {
    /// `[N, C, H, W]`.
    pub shape: [usize; 4],
    /// `N × C × H × W` values.
    pub data: Vec<f32>,
}

/// A loaded hair-segmentation model. Inference takes `&mut self`: use one per worker thread.
pub struct HairModel {
    session: Session,
    path: PathBuf,
    sha256: String,
    metadata: ModelMetadata,
    tile_px: u32,
}

impl std::fmt::Debug for HairModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HairModel")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .field("metadata", &self.metadata)
            .field("tile_px", &self.tile_px)
            .finish_non_exhaustive()
    }
}

impl HairModel {
    /// Loads the model at `path` with default [`ModelOptions`], initialising ONNX Runtime
    /// from `ort_dylib` (or the usual places, see [`init_runtime`]) if needed.
    ///
    /// # Errors
    /// Runtime lookup errors, [`ModelError::Read`] if the file cannot be read,
    /// [`ModelError::Session`] if ONNX Runtime rejects it, [`ModelError::MissingMetadata`] /
    /// [`ModelError::InvalidMetadata`] for its `tricho.*` keys and [`ModelError::Contract`]
    /// if its inputs or outputs do not fit the model contract.
    pub fn load(path: &Path, ort_dylib: Option<&Path>) -> Result<Self, ModelError> {
        Self::load_with(path, ort_dylib, &ModelOptions::default())
    }

    /// Like [`HairModel::load`], with explicit options.
    ///
    /// # Errors
    /// As [`HairModel::load`].
    pub fn load_with(path: &Path, ort_dylib: Option<&Path>, options: &ModelOptions) -> Result<Self, ModelError> {
        // Read first: a missing model is reported as such, even without a runtime.
        let bytes = std::fs::read(path).map_err(|source| ModelError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let sha256 = hex(&Sha256::digest(&bytes));
        let runtime = init_runtime(ort_dylib)?;
        let session_error = |source: ort::Error| ModelError::Session {
            path: path.to_path_buf(),
            source,
        };
        let session = Session::builder(runtime.environment())
            .map_err(session_error)?
            .with_intra_threads(options.intra_threads.max(1))
            .map_err(|e| session_error(e.into()))?
            .with_optimization_level(graph_optimization())
            .map_err(|e| session_error(e.into()))?
            // No memory pattern: ONNX Runtime would pre-plan one block per input shape, which
            // with the NCHWc buffers took peak RSS from 1.1 to 1.5 GB on a folder run; without
            // it the arena reuses freed buffers (0.75 GB), at a cost in speed within the drift.
            .with_memory_pattern(false)
            .map_err(|e| session_error(e.into()))?
            .commit_from_memory(&bytes)
            .map_err(session_error)?;

        let metadata = {
            let props = session.metadata().map_err(session_error)?;
            ModelMetadata::parse(path, |key| props.custom(key))?
        };
        check_contract(&session, &metadata, path)?;
        Ok(Self {
            session,
            path: path.to_path_buf(),
            sha256,
            metadata,
            tile_px: options.tile_px,
        })
    }

    /// The model file this was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lower-case hex sha256 of the model file, for provenance.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The model's parsed `tricho.*` metadata.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.metadata
    }

    /// The model's name (`tricho.name`).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Requested tile edge at model scale, in pixels.
    pub fn tile_px(&self) -> u32 {
        self.tile_px
    }

    /// Sets the tile edge at model scale, in pixels (see [`ModelOptions::tile_px`]).
    pub fn set_tile_px(&mut self, tile_px: u32) {
        self.tile_px = tile_px;
    }

    /// Runs the model once on a normalised `[N, 3, H, W]` tensor (row-major `input`) and
    /// returns its first output. `H` and `W` must be multiples of the tile multiple.
    ///
    /// # Errors
    /// [`ModelError::InputShape`] if `input` does not hold `shape`'s product of values,
    /// [`ModelError::Inference`] if the runtime fails and [`ModelError::Contract`] if the
    /// output is not a 4-D float tensor.
    pub fn infer(&mut self, input: &[f32], shape: [usize; 4]) -> Result<Tensor4, ModelError> {
        if shape.iter().product::<usize>() != input.len() {
            return Err(ModelError::InputShape {
                path: self.path.clone(),
                shape,
                len: input.len(),
            });
        }
        let path = &self.path;
        let inference_error = |source: ort::Error| ModelError::Inference {
            path: path.clone(),
            source,
        };
        let tensor = TensorRef::from_array_view((shape, input)).map_err(inference_error)?;
        let outputs = self.session.run(ort::inputs![tensor]).map_err(inference_error)?;
        let (out_shape, data) = outputs[0]
            .try_extract_tensor::<f32>()
            .map_err(|source| ModelError::Contract {
                path: path.clone(),
                reason: format!("first output is not a float32 tensor: {source}"),
            })?;
        let dims: Vec<usize> = out_shape.iter().map(|&d| usize::try_from(d).unwrap_or(0)).collect();
        let shape: [usize; 4] = dims.as_slice().try_into().map_err(|_| ModelError::Contract {
            path: path.clone(),
            reason: format!("output has shape {dims:?}; expected [N, C, H, W]"),
        })?;
        Ok(Tensor4 {
            shape,
            data: data.to_vec(),
        })
    }
}

/// Checks the declared input and output against the contract: one float input `[N,3,H,W]`,
/// a first output `[N,C,H,W]` with `C` the number of metadata channels (where static).
fn check_contract(session: &Session, metadata: &ModelMetadata, path: &Path) -> Result<(), ModelError> {
    let contract = |reason: String| ModelError::Contract {
        path: path.to_path_buf(),
        reason,
    };
    let [input] = session.inputs() else {
        return Err(contract(format!(
            "expected one input, found {}",
            session.inputs().len()
        )));
    };
    let Some(output) = session.outputs().first() else {
        return Err(contract("the model has no output".to_owned()));
    };
    let dims = |value: &ValueType| match value {
        ValueType::Tensor { shape, .. } => Some(shape.to_vec()),
        _ => None,
    };
    let input_dims =
        dims(input.dtype()).ok_or_else(|| contract(format!("input `{}` is not a tensor", input.name())))?;
    if input_dims.len() != 4 || !(input_dims[1] == 3 || input_dims[1] < 0) {
        return Err(contract(format!(
            "input `{}` has shape {input_dims:?}; expected [N, 3, H, W]",
            input.name()
        )));
    }
    let output_dims =
        dims(output.dtype()).ok_or_else(|| contract(format!("output `{}` is not a tensor", output.name())))?;
    let channels = metadata.output_channels.len() as i64;
    if output_dims.len() != 4 || !(output_dims[1] == channels || output_dims[1] < 0) {
        return Err(contract(format!(
            "output `{}` has shape {output_dims:?}; expected [N, {channels}, H, W] for channels {:?}",
            output.name(),
            metadata.output_channels
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

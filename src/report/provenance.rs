//! Where a result came from: the exact input bytes, model, software version and settings,
//! so an auditor can trace every number and re-run it.

use serde::{Deserialize, Serialize};

use crate::segment::HairModel;

/// Name of this tool in provenance records.
pub const TOOL_NAME: &str = "tricho";

/// The software and model that produced a result, and every setting it used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance<S> {
    /// Always `tricho`.
    pub tool: String,
    /// Version of the `tricho` binary/library (`CARGO_PKG_VERSION`).
    pub tool_version: String,
    /// The segmentation model.
    pub model: ModelRecord,
    /// Every setting of the run.
    pub settings: S,
}

/// Identity of the segmentation model used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// `tricho.name` from the model's metadata.
    pub name: String,
    /// `tricho.version` from the model's metadata.
    pub version: String,
    /// Lower-case hex sha256 of the model file.
    pub sha256: String,
    /// The model file as given.
    pub path: String,
    /// The scale the model runs at (µm per pixel).
    pub um_per_px: f64,
}

impl ModelRecord {
    /// The record of a loaded model.
    pub fn of(model: &HairModel) -> Self {
        Self {
            name: model.name().to_string(),
            version: model.metadata().version.clone(),
            sha256: model.sha256().to_string(),
            path: model.path().display().to_string(),
            um_per_px: model.metadata().spacing.um_per_px,
        }
    }
}

impl<S> Provenance<S> {
    /// Provenance of a result made with `model` and `settings` by this build of tricho.
    pub fn new(model: &HairModel, settings: S) -> Self {
        Self {
            tool: TOOL_NAME.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            model: ModelRecord::of(model),
            settings,
        }
    }
}

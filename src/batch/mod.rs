//! Trial batches: every subject of a manifest analysed at each visit and every later visit
//! compared with the baseline, in parallel, resumable, with per-row errors, and summarised as
//! a cohort.
//!
//! [`run_batch`] takes a [`manifest::Manifest`] and writes into one output folder:
//! `images/<subject>/<visit>.json` + `.overlay.png` (as `tricho analyze`),
//! `pairs/<subject>/<visit>.json` + `.overlay.png` + `.thumb.jpg` (as `tricho compare`, the
//! follow-up visit against the baseline), then [`outputs`]: `batch.json`, `images.csv`,
//! `pairs.csv`, `cohort.json`, `report.html`; every file is recorded in the folder's
//! `audit.jsonl`.
//!
//! **Resuming**: an item whose JSON exists and records the same input sha256 (both inputs
//! for a pair), calibration, model sha256, tool version and settings is done and is not
//! computed again; anything else is (re)computed. Files are written under a
//! temporary name and renamed, so an interrupted run never leaves a half-written result that
//! looks done.
//!
//! **Sharding**: [`shard::Shard`] picks the subjects of one job; `tricho merge` joins the
//! shards' `batch.json` files ([`outputs::merge_summaries`]).

mod html;
pub mod manifest;
mod names;
pub mod outputs;
mod resume;
pub mod rows;
mod run;
pub mod shard;
mod subject;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analyze::{AnalysisConfig, AnalyzeError, ImageAnalysis};
use crate::audit::AuditError;
use crate::cohort::ResponderRule;
use crate::compare::CompareConfig;
use crate::scan::{Calibration, Scan};
pub use run::{run_batch, BatchContext, BatchOutcome};

/// Every setting of a batch, recorded in `batch.json`. Defaults are documented per field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSettings {
    /// Settings of each visit's analysis.
    pub analysis: AnalysisConfig,
    /// Settings of each comparison.
    pub compare: CompareConfig,
    /// Calibration (µm per pixel) for rows without a manifest `um_per_px`, ahead of sidecars
    /// and the device profile. Default none.
    pub um_per_px: Option<f64>,
    /// Compare visits of one subject even when their calibrations differ. Default false: such
    /// a pair is a per-row error, because a scale error moves the density by twice as much.
    pub allow_mixed_calibration: bool,
    /// Who counts as a responder in the cohort. Default: response category improved or better.
    pub responder: ResponderRule,
    /// Width of the overlay thumbnails embedded in `report.html` (px). Default 360.
    pub thumbnail_width_px: u32,
}

impl Default for BatchSettings {
    fn default() -> Self {
        Self {
            analysis: AnalysisConfig::default(),
            compare: CompareConfig::default(),
            um_per_px: None,
            allow_mixed_calibration: false,
            responder: ResponderRule::default(),
            thumbnail_width_px: 360,
        }
    }
}

/// Why a batch could not run or finish writing its outputs (bad rows and failed images are
/// not errors: they are rows with `status` `error`).
#[derive(Debug, Error)]
pub enum BatchError {
    /// The audit log cannot be opened or extended.
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// An output file cannot be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file that was to be read back cannot be.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Shards that cannot be merged.
    #[error("cannot merge: {0}")]
    Merge(String),
    /// A result cannot be turned into JSON or CSV.
    #[error("cannot serialise {what}: {reason}")]
    Serialise {
        /// What.
        what: String,
        /// The serialiser's message.
        reason: String,
    },
}

/// Analyses one loaded photo (the front door supplies it, with one model per worker).
pub type Analyser<'a> = dyn Fn(&Scan, &Calibration) -> Result<ImageAnalysis, AnalyzeFailure> + Sync + 'a;

/// Why the analyser failed: a typed analysis error, or anything else the front door met
/// (e.g. the model could not be loaded on a worker).
#[derive(Debug, Error)]
pub enum AnalyzeFailure {
    /// The analysis itself failed.
    #[error(transparent)]
    Analyze(#[from] AnalyzeError),
    /// Something around it failed.
    #[error("{0}")]
    Other(String),
}

//! Audit events for `tricho analyze`'s own results: one `analysis` record per image (the
//! photo, its report and overlay, the settings to re-run it) and one `export` record per
//! `summary.csv`; and the reproducible hash of an image report.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::canonical::result_sha256;
use super::log::{input_digest, AuditError, AuditEvent};
use super::record::{EventKind, FileDigest};
use crate::analyze::AnalysisConfig;
use crate::report::{ImageReport, SummaryRow};
use crate::scan::{Calibration, CalibrationSource};

/// Fields of an [`ImageReport`] left out of its result hash, as JSON pointers, because they
/// differ between identical runs: wall times (`timings_ms`), the input path as typed on the
/// command line (`input.path`; the record keeps the absolute path and the file's sha256) and
/// the model path (`provenance.model.path`; the model's sha256 stays in).
pub const IMAGE_RESULT_RUN_DEPENDENT: &[&str] = &["/timings_ms", "/input/path", "/provenance/model/path"];

/// The `settings` of an `analysis` record: everything [`crate::analyze::analyze_scan`] needs
/// besides the photo and the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSettings {
    /// Every analysis setting.
    pub analysis: AnalysisConfig,
    /// The calibration used, with its source (re-runs use it as recorded).
    pub calibration: Calibration,
}

/// SHA-256 of `report` without [`IMAGE_RESULT_RUN_DEPENDENT`]: equal for two runs exactly
/// when every count, width, flag, hair and setting is equal.
///
/// # Errors
/// The serialiser's error (not expected).
pub fn image_result_sha256(report: &ImageReport) -> Result<String, serde_json::Error> {
    result_sha256(report, IMAGE_RESULT_RUN_DEPENDENT)
}

/// The `analysis` event of one photo: the photo (hash of the bytes analysed) and any
/// calibration file as inputs, `outputs` (the report JSON and overlay) and the result hash.
///
/// # Errors
/// [`AuditError::Input`] if a calibration file cannot be read, [`AuditError::Serialise`] if
/// the settings or report cannot be turned into JSON.
pub fn analysis_event(
    image: &Path,
    report: &ImageReport,
    settings: &AnalysisSettings,
    outputs: Vec<PathBuf>,
) -> Result<AuditEvent, AuditError> {
    let mut event = AuditEvent::new(EventKind::Analysis, settings)?;
    event.model_sha256 = Some(report.provenance.model.sha256.clone());
    event.inputs.push(FileDigest::input(image, &report.input.sha256));
    event.inputs.extend(calibration_input(&settings.calibration)?);
    event.outputs = outputs;
    event.result_sha256 =
        Some(image_result_sha256(report).map_err(|source| AuditError::Serialise { what: "result", source })?);
    Ok(event)
}

/// The calibration file (sidecar or device profile) a calibration was read from, if any, as
/// an input of the event that used it.
///
/// # Errors
/// [`AuditError::Input`] if the file cannot be read.
pub(super) fn calibration_input(calibration: &Calibration) -> Result<Option<FileDigest>, AuditError> {
    match &calibration.source {
        CalibrationSource::Sidecar { path }
        | CalibrationSource::Manifest { path, .. }
        | CalibrationSource::DeviceProfile { path, .. } => input_digest(path).map(Some),
        CalibrationSource::CommandLine | CalibrationSource::Uncalibrated => Ok(None),
    }
}

/// The `export` event of a `summary.csv` holding `rows`; its result hash is that of the rows.
///
/// # Errors
/// [`AuditError::Serialise`] if the rows cannot be turned into JSON.
pub fn summary_export_event(
    summary: &Path,
    rows: &[SummaryRow],
    model_sha256: Option<&str>,
) -> Result<AuditEvent, AuditError> {
    let failed = rows.iter().filter(|r| r.status != "ok").count();
    let settings = serde_json::json!({"format": "summary.csv", "rows": rows.len(), "failed": failed});
    let mut event = AuditEvent::new(EventKind::Export, &settings)?;
    event.model_sha256 = model_sha256.map(str::to_string);
    event.outputs.push(summary.to_path_buf());
    event.result_sha256 =
        Some(result_sha256(rows, &[]).map_err(|source| AuditError::Serialise { what: "result", source })?);
    Ok(event)
}

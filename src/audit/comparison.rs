//! The audit event of `tricho compare`: one `comparison` record per pair of visits (both
//! photos and any calibration files as inputs, the four files written as outputs, and the
//! reproducible hash of the comparison report).

use std::path::{Path, PathBuf};

use super::analysis::calibration_input;
use super::canonical::result_sha256;
use super::log::{AuditError, AuditEvent};
use super::record::{EventKind, FileDigest};
use crate::report::ComparisonReport;

/// Fields of a [`ComparisonReport`] left out of its result hash, as JSON pointers, because
/// they differ between identical runs: wall times, the photo paths as typed (the record keeps
/// the absolute paths and the files' sha256) and the model path (its sha256 stays in).
pub const COMPARISON_RESULT_RUN_DEPENDENT: &[&str] = &[
    "/timings_ms",
    "/baseline/input/path",
    "/followup/input/path",
    "/provenance/model/path",
];

/// The `comparison` event of `report`, computed from the photos `baseline` and `followup`.
/// Its settings are the report's settings, both calibrations and the interval, so the record
/// alone says how the result was obtained.
///
/// # Errors
/// [`AuditError::Input`] if a calibration file cannot be read, [`AuditError::Serialise`] if
/// the settings or report cannot be turned into JSON.
pub fn comparison_event(
    baseline: &Path,
    followup: &Path,
    report: &ComparisonReport,
    outputs: Vec<PathBuf>,
) -> Result<AuditEvent, AuditError> {
    let settings = serde_json::json!({
        "comparison": report.provenance.settings,
        "baseline_calibration": report.baseline.calibration,
        "followup_calibration": report.followup.calibration,
        "interval": report.interval,
    });
    let mut event = AuditEvent::new(EventKind::Comparison, &settings)?;
    event.model_sha256 = Some(report.provenance.model.sha256.clone());
    for (photo, visit) in [(baseline, &report.baseline), (followup, &report.followup)] {
        event.inputs.push(FileDigest::input(photo, &visit.input.sha256));
        event.inputs.extend(calibration_input(&visit.calibration)?);
    }
    event.outputs = outputs;
    event.result_sha256 = Some(
        result_sha256(report, COMPARISON_RESULT_RUN_DEPENDENT)
            .map_err(|source| AuditError::Serialise { what: "result", source })?,
    );
    Ok(event)
}

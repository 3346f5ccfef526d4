//! Recognising work a batch has already done: a result on disk counts only when it was made
//! from the same input bytes (sha256), calibration, model, tool version and settings as the
//! run now asks for, and its companion files exist. Also: which outputs the audit log already
//! records, so that a run interrupted between writing a result and logging it logs it now.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::analyze::AnalysisConfig;
use crate::audit::{check_chain, AUDIT_LOG_FILE};
use crate::report::{ComparisonReport, ComparisonSettings, ImageReport, ModelRecord, Provenance};
use crate::scan::Calibration;

/// A typed JSON result read back, or `None` when missing or unreadable (then it is redone).
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn same_run<S: PartialEq>(provenance: &Provenance<S>, model: &ModelRecord, settings: &S) -> bool {
    provenance.tool_version == env!("CARGO_PKG_VERSION")
        && provenance.model.sha256 == model.sha256
        && provenance.settings == *settings
}

/// Whether `report` is the analysis this run would produce for a photo with `sha256`.
pub fn image_is_done(
    report: &ImageReport,
    sha256: &str,
    calibration: &Calibration,
    model: &ModelRecord,
    settings: &AnalysisConfig,
) -> bool {
    report.input.sha256 == sha256 && report.calibration == *calibration && same_run(&report.provenance, model, settings)
}

/// What a pair's comparison must have been made from to count as done.
pub struct PairExpectation<'a> {
    /// Baseline photo sha256 and calibration.
    pub baseline: (&'a str, &'a Calibration),
    /// Follow-up photo sha256 and calibration.
    pub followup: (&'a str, &'a Calibration),
    /// Interval given by the manifest dates, if any (else it came from the photos).
    pub interval_days: Option<i64>,
}

/// Whether `report` is the comparison this run would produce.
pub fn pair_is_done(
    report: &ComparisonReport,
    expected: &PairExpectation,
    model: &ModelRecord,
    settings: &ComparisonSettings,
) -> bool {
    let visit_matches = |visit: &crate::report::VisitRecord, (sha, calibration): (&str, &Calibration)| {
        visit.input.sha256 == sha && visit.calibration == *calibration
    };
    visit_matches(&report.baseline, expected.baseline)
        && visit_matches(&report.followup, expected.followup)
        && expected
            .interval_days
            .is_none_or(|days| report.interval.interval_days == Some(days))
        && same_run(&report.provenance, model, settings)
}

/// The sha256 of every output path (relative to the folder) as last recorded in the folder's
/// audit log. An unreadable or missing log records nothing.
pub fn recorded_outputs(folder: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(folder.join(AUDIT_LOG_FILE)).unwrap_or_default();
    let mut recorded = HashMap::new();
    for logged in check_chain(&text).records {
        for output in logged.record.outputs {
            recorded.insert(output.path, output.sha256);
        }
    }
    recorded
}

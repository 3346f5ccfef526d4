//! `summary.csv`: one row per input image — its headline metrics, or why it failed — so a
//! folder run can be read into a spreadsheet or a statistics package directly.

use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::image_report::ImageReport;

/// One row of `summary.csv`. Empty cells are values that do not exist (failed image, no
/// calibration, no hairs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The image file.
    pub path: String,
    /// Base name of its `<stem>.json` and `<stem>.overlay.png`.
    pub output_stem: String,
    /// `ok` or `error`.
    pub status: String,
    /// Why the image failed (empty when ok).
    pub error: String,
    /// Lower-case hex sha256 of the file.
    pub sha256: String,
    /// Scale used (µm per pixel).
    pub um_per_px: Option<f64>,
    /// Where the scale came from.
    pub calibration_source: String,
    /// Counted hairs.
    pub count: Option<usize>,
    /// Hairs per cm² of field.
    pub density_per_cm2: Option<f64>,
    /// Analysed field area (mm²).
    pub field_area_mm2: Option<f64>,
    /// Mean shaft width (µm).
    pub mean_width_um: Option<f64>,
    /// Median shaft width (µm).
    pub median_width_um: Option<f64>,
    /// Mean shaft width (px) — present even without calibration.
    pub mean_width_px: Option<f64>,
    /// Vellus hairs counted.
    pub vellus_count: Option<usize>,
    /// Intermediate hairs counted.
    pub intermediate_count: Option<usize>,
    /// Terminal hairs counted.
    pub terminal_count: Option<usize>,
    /// Terminal hairs per cm².
    pub terminal_density_per_cm2: Option<f64>,
    /// Cumulative shaft width (mm per cm² of field).
    pub hair_mass_mm_per_cm2: Option<f64>,
    /// Fraction of counted hairs at or below the thin threshold.
    pub thin_hair_fraction: Option<f64>,
    /// Follicular units.
    pub follicular_units: Option<usize>,
    /// Mean hairs per follicular unit.
    pub mean_hairs_per_unit: Option<f64>,
    /// Quality flags, `;`-separated.
    pub quality_flags: String,
}

impl SummaryRow {
    /// The row of an analysed image.
    pub fn ok(output_stem: &str, report: &ImageReport) -> Self {
        let m = &report.metrics;
        let flags: Vec<String> = report
            .quality
            .flags
            .iter()
            .map(|f| {
                serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .collect();
        Self {
            path: report.input.path.clone(),
            output_stem: output_stem.to_string(),
            status: "ok".into(),
            sha256: report.input.sha256.clone(),
            um_per_px: report.calibration.spacing.map(|s| s.um_per_px),
            calibration_source: report.calibration.source.label(),
            count: Some(m.count),
            density_per_cm2: m.density_per_cm2,
            field_area_mm2: m.field_area_mm2,
            mean_width_um: m.mean_width_um,
            median_width_um: m.median_width_um,
            mean_width_px: m.mean_width_px,
            vellus_count: m.vellus_count,
            intermediate_count: m.intermediate_count,
            terminal_count: m.terminal_count,
            terminal_density_per_cm2: m.terminal_density_per_cm2,
            hair_mass_mm_per_cm2: m.hair_mass_mm_per_cm2,
            thin_hair_fraction: m.thin_hair_fraction,
            follicular_units: Some(m.follicular_units),
            mean_hairs_per_unit: m.mean_hairs_per_unit,
            quality_flags: flags.join(";"),
            ..Self::default()
        }
    }

    /// The row of an image that could not be analysed.
    pub fn failed(path: &Path, output_stem: &str, error: &str) -> Self {
        Self {
            path: path.display().to_string(),
            output_stem: output_stem.to_string(),
            status: "error".into(),
            error: error.to_string(),
            ..Self::default()
        }
    }
}

/// `summary.csv` could not be written.
#[derive(Debug, Error)]
#[error("cannot write {}: {source}", path.display())]
pub struct SummaryError {
    /// The CSV file.
    pub path: std::path::PathBuf,
    /// The writer's error.
    pub source: csv::Error,
}

/// Writes `rows` (with a header) to `path`, replacing it.
///
/// # Errors
/// [`SummaryError`] if the file cannot be created or written.
pub fn write_summary_csv(path: &Path, rows: &[SummaryRow]) -> Result<(), SummaryError> {
    let error = |source| SummaryError {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = csv::Writer::from_path(path).map_err(error)?;
    for row in rows {
        writer.serialize(row).map_err(error)?;
    }
    writer.flush().map_err(|e| error(e.into()))
}

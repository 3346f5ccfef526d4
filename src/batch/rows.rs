//! The small per-item records a batch keeps in memory and writes out: one [`ImageRow`] per
//! photo and one [`PairRow`] per follow-up visit compared with its baseline. They hold the
//! headline numbers and file names only, so a 2,000-image batch does not grow in memory, and
//! they are all `tricho merge` needs to join shards.

use serde::{Deserialize, Serialize};

use crate::compare::response::{percent_change, Change};
use crate::measure::{ImageMetrics, WidthBin};
use crate::report::{ComparisonReport, SummaryRow};

/// Which subject and visit a row belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct VisitKey {
    /// Subject id.
    pub subject: String,
    /// Trial site (empty when not given).
    pub site: String,
    /// Visit label.
    pub visit: String,
    /// Visit date from the manifest (`YYYY-MM-DD`), empty when not given.
    pub date: String,
}

/// One photo of the batch: where it came from and its `summary.csv`-style row (headline
/// metrics, or why it failed). Paths of outputs are relative to the batch folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRow {
    /// Subject, site, visit, date.
    pub key: VisitKey,
    /// Manifest line or folder the photo came from.
    pub origin: String,
    /// Headline metrics; `status` `ok` or `error` with the reason.
    pub summary: SummaryRow,
}

/// One follow-up visit compared with the subject's baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairRow {
    /// Subject, site and the follow-up visit (its date).
    pub key: VisitKey,
    /// The baseline visit's label.
    pub baseline_visit: String,
    /// `ok` or `error`.
    pub status: String,
    /// Why the pair could not be compared (empty when ok).
    pub error: String,
    /// `comparison.json` of the pair, relative to the batch folder (empty on error).
    pub comparison_json: String,
    /// Side-by-side overlay, relative to the batch folder (empty on error).
    pub overlay_png: String,
    /// Small JPEG of the overlay for the HTML report, relative to the batch folder.
    pub thumbnail_jpg: String,
    /// The comparison's numbers; `None` on error.
    pub result: Option<PairResult>,
}

/// The numbers of one comparison that the batch tables and the cohort use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairResult {
    /// Days between the visits, if known.
    pub interval_days: Option<i64>,
    /// Registration confidence (0–1).
    pub registration_confidence: f64,
    /// Common field / baseline field.
    pub overlap_fraction: f64,
    /// Persisting hairs.
    pub persisting: usize,
    /// New hairs.
    pub new: usize,
    /// Lost hairs.
    pub lost: usize,
    /// Baseline metrics on the common field.
    pub baseline: FieldSummary,
    /// Follow-up metrics on the common field.
    pub followup: FieldSummary,
    /// Follow-up − baseline on the common field.
    pub change: Change,
    /// Change in non-vellus density (hairs/cm²): the usual trial endpoint (target-area
    /// non-vellus hair count per cm²).
    pub non_vellus_density_change_per_cm2: Option<f64>,
    /// Change in non-vellus density (%).
    pub non_vellus_density_change_pct: Option<f64>,
    /// Response category (`improved`, `no_detectable_change`, …, as in `comparison.json`).
    pub category: String,
    /// The repeatability the category was judged against (% density change).
    pub repeatability_density_pct: f64,
    /// Comparison flags (`low_overlap`, …).
    pub flags: Vec<String>,
}

/// One visit's metrics on the common field, as much as the cohort needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSummary {
    /// Counted hairs.
    pub count: usize,
    /// Hairs per cm².
    pub density_per_cm2: Option<f64>,
    /// Non-vellus (intermediate + terminal) hairs per cm².
    pub non_vellus_density_per_cm2: Option<f64>,
    /// Mean shaft width (µm).
    pub mean_width_um: Option<f64>,
    /// Width histogram (µm bins).
    pub width_histogram: Option<Vec<WidthBin>>,
}

impl FieldSummary {
    fn of(metrics: &ImageMetrics) -> Self {
        Self {
            count: metrics.count,
            density_per_cm2: metrics.density_per_cm2,
            non_vellus_density_per_cm2: non_vellus_density(metrics),
            mean_width_um: metrics.mean_width_um,
            width_histogram: metrics.width_histogram.clone(),
        }
    }
}

/// Intermediate + terminal hairs per cm², when calibrated and classified.
fn non_vellus_density(metrics: &ImageMetrics) -> Option<f64> {
    Some(metrics.intermediate_density_per_cm2? + metrics.terminal_density_per_cm2?)
}

/// Serde name of a unit-only enum variant (`improved`, `low_overlap`).
pub(super) fn serde_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => format!("{other:?}"),
    }
}

impl PairResult {
    /// The numbers of `report`.
    pub fn of(report: &ComparisonReport) -> Self {
        let metrics = &report.common_field_metrics;
        let (before, after) = (FieldSummary::of(&metrics.baseline), FieldSummary::of(&metrics.followup));
        let (b, a) = (before.non_vellus_density_per_cm2, after.non_vellus_density_per_cm2);
        Self {
            interval_days: report.interval.interval_days,
            registration_confidence: report.registration.confidence,
            overlap_fraction: report.registration.overlap_fraction,
            persisting: report.matching.summary.persisting,
            new: report.matching.summary.new,
            lost: report.matching.summary.lost,
            change: report.change,
            non_vellus_density_change_per_cm2: b.zip(a).map(|(b, a)| a - b),
            non_vellus_density_change_pct: b.zip(a).and_then(|(b, a)| percent_change(b, a)),
            category: serde_name(&report.response.category),
            repeatability_density_pct: report.response.repeatability_density_pct,
            flags: report.flags.iter().map(serde_name).collect(),
            baseline: before,
            followup: after,
        }
    }
}

/// One line of `pairs.csv`: a [`PairRow`] flattened, empty cells for values that do not exist.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PairCsvRow {
    /// Subject id.
    pub subject: String,
    /// Trial site.
    pub site: String,
    /// Follow-up visit.
    pub visit: String,
    /// Baseline visit.
    pub baseline_visit: String,
    /// `ok` or `error`.
    pub status: String,
    /// Why it failed.
    pub error: String,
    /// Days between the visits.
    pub interval_days: Option<i64>,
    /// Response category.
    pub category: String,
    /// Registration confidence (0–1).
    pub registration_confidence: Option<f64>,
    /// Common field / baseline field.
    pub overlap_fraction: Option<f64>,
    /// Persisting hairs.
    pub persisting: Option<usize>,
    /// New hairs.
    pub new: Option<usize>,
    /// Lost hairs.
    pub lost: Option<usize>,
    /// Baseline hairs on the common field.
    pub baseline_count: Option<usize>,
    /// Follow-up hairs on the common field.
    pub followup_count: Option<usize>,
    /// Baseline density on the common field (hairs/cm²).
    pub baseline_density_per_cm2: Option<f64>,
    /// Follow-up density on the common field (hairs/cm²).
    pub followup_density_per_cm2: Option<f64>,
    /// Density change (hairs/cm²).
    pub density_change_per_cm2: Option<f64>,
    /// Density change (%).
    pub density_change_pct: Option<f64>,
    /// Non-vellus density change (hairs/cm²).
    pub non_vellus_density_change_per_cm2: Option<f64>,
    /// Non-vellus density change (%).
    pub non_vellus_density_change_pct: Option<f64>,
    /// Terminal density change (hairs/cm²).
    pub terminal_density_change_per_cm2: Option<f64>,
    /// Vellus density change (hairs/cm²).
    pub vellus_density_change_per_cm2: Option<f64>,
    /// Mean width change (µm).
    pub mean_width_change_um: Option<f64>,
    /// Hair mass change (mm/cm²).
    pub hair_mass_change_mm_per_cm2: Option<f64>,
    /// Thin-hair fraction change (fraction points).
    pub thin_hair_fraction_change: Option<f64>,
    /// Comparison flags, `;`-separated.
    pub flags: String,
    /// `comparison.json`, relative to the batch folder.
    pub comparison_json: String,
}

impl PairCsvRow {
    /// The CSV line of `row`.
    pub fn of(row: &PairRow) -> Self {
        let mut line = Self {
            subject: row.key.subject.clone(),
            site: row.key.site.clone(),
            visit: row.key.visit.clone(),
            baseline_visit: row.baseline_visit.clone(),
            status: row.status.clone(),
            error: row.error.clone(),
            comparison_json: row.comparison_json.clone(),
            ..Self::default()
        };
        if let Some(r) = &row.result {
            let c = &r.change;
            line.interval_days = r.interval_days;
            line.category = r.category.clone();
            line.registration_confidence = Some(r.registration_confidence);
            line.overlap_fraction = Some(r.overlap_fraction);
            line.persisting = Some(r.persisting);
            line.new = Some(r.new);
            line.lost = Some(r.lost);
            line.baseline_count = Some(r.baseline.count);
            line.followup_count = Some(r.followup.count);
            line.baseline_density_per_cm2 = r.baseline.density_per_cm2;
            line.followup_density_per_cm2 = r.followup.density_per_cm2;
            line.density_change_per_cm2 = c.density_per_cm2;
            line.density_change_pct = c.density_pct;
            line.non_vellus_density_change_per_cm2 = r.non_vellus_density_change_per_cm2;
            line.non_vellus_density_change_pct = r.non_vellus_density_change_pct;
            line.terminal_density_change_per_cm2 = c.terminal_density_per_cm2;
            line.vellus_density_change_per_cm2 = c.vellus_density_per_cm2;
            line.mean_width_change_um = c.mean_width_um;
            line.hair_mass_change_mm_per_cm2 = c.hair_mass_mm_per_cm2;
            line.thin_hair_fraction_change = c.thin_hair_fraction;
            line.flags = r.flags.join(";");
        }
        line
    }
}

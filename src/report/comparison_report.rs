//! The per-pair JSON (`comparison.json`): typed, versioned, every field named with its unit,
//! with the provenance of both inputs. Scripts may rely on `change.density_per_cm2`,
//! `change.density_pct`, `change.mean_width_um`, `registration.overlap_fraction`,
//! `matching.persisting`, `matching.new` and `matching.lost`.

use serde::{Deserialize, Serialize};

use super::image_report::InputRecord;
use super::provenance::Provenance;
use crate::analyze::{AnalysisConfig, ImageAnalysis};
use crate::compare::field::CommonFieldRecord;
use crate::compare::matching::HairLink;
use crate::compare::response::{Change, ComparisonFlag, IntervalSource, Response};
use crate::compare::{CompareConfig, Comparison, MatchingSummary};
use crate::measure::ImageMetrics;
use crate::quality::QualityReport;
use crate::scan::{Calibration, Scan};

/// Version of the comparison JSON schema; bumped on any incompatible change.
pub const COMPARISON_REPORT_SCHEMA_VERSION: u32 = 1;
/// Value of [`ComparisonReport::kind`].
pub const COMPARISON_REPORT_KIND: &str = "tricho.comparison";

/// Every setting of a comparison: the analysis of each visit and the comparison itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonSettings {
    /// Settings of the per-visit analyses.
    pub analysis: AnalysisConfig,
    /// Registration, matching and response settings.
    pub compare: CompareConfig,
}

/// Everything `tricho compare` reports about a pair of visits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    /// [`COMPARISON_REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`COMPARISON_REPORT_KIND`].
    pub kind: String,
    /// The baseline photo, its calibration and quality.
    pub baseline: VisitRecord,
    /// The follow-up photo.
    pub followup: VisitRecord,
    /// Tool, model and every setting.
    pub provenance: Provenance<ComparisonSettings>,
    /// Days between the visits and where the number came from.
    pub interval: IntervalRecord,
    /// The follow-up → baseline transform, its confidence and the overlap.
    pub registration: RegistrationRecord,
    /// Persisting / new / lost hairs and class transitions.
    pub matching: MatchingRecord,
    /// Metrics of each visit on the common field only.
    pub common_field_metrics: CommonFieldMetrics,
    /// Follow-up − baseline on the common field (absolute and %).
    pub change: Change,
    /// The response category and the repeatability it was judged against.
    pub response: Response,
    /// What a reader must know before trusting the numbers.
    pub flags: Vec<ComparisonFlag>,
    /// Wall time (ms): per-visit analyses and the comparison.
    pub timings_ms: ComparisonTimings,
}

/// One visit's photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitRecord {
    /// File, sha256, format, size, capture date.
    pub input: InputRecord,
    /// Scale used and its source.
    pub calibration: Calibration,
    /// Focus, exposure and field flags.
    pub quality: QualityReport,
    /// Name of this visit's own analysis JSON written beside `comparison.json`.
    pub analysis_file: String,
    /// Whole-field metrics of the visit analysed on its own (not the common field).
    pub whole_field_density_per_cm2: Option<f64>,
}

/// The interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct IntervalRecord {
    /// Days between the visits, if known.
    pub interval_days: Option<i64>,
    /// Where it came from.
    pub source: IntervalSource,
}

/// The registration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegistrationRecord {
    /// `[[a, −b, tx], [b, a, ty]]`: baseline px = matrix · (follow-up px, 1).
    pub followup_to_baseline: [[f64; 3]; 2],
    /// Scale factor (follow-up px → baseline px).
    pub scale: f64,
    /// Whether `scale` is the visits' calibration ratio (held fixed) rather than fitted.
    pub scale_from_calibration: bool,
    /// The scale a free fit to the hairs gives from the final pose (checked against the
    /// calibration ratio).
    pub fitted_scale: f64,
    /// Rotation (degrees).
    pub rotation_deg: f64,
    /// Translation of the matrix (baseline px).
    pub shift_px: [f64; 2],
    /// Chance-corrected share of follow-up centreline points on baseline hairs (0–1).
    pub confidence: f64,
    /// Raw share of follow-up centreline points on baseline hairs.
    pub inlier_fraction: f64,
    /// The share a random pose would score.
    pub chance_inlier_fraction: f64,
    /// Inlier distance (px).
    pub tolerance_px: f64,
    /// RMS distance of inlier pairs (px).
    pub residual_rms_px: f64,
    /// Best coarse peak over the best clearly different pose.
    pub coarse_peak_ratio: f64,
    /// Whether the hair-based pose was refined on the skin.
    pub refined_on_skin: bool,
    /// Correlation (−1…1) of the two visits' band-passed skin at the skin-refined pose.
    pub skin_correlation: Option<f64>,
    /// The same 120 µm (at the model's scale) away from that pose: what the skin shows by chance.
    pub skin_sidelobe_correlation: Option<f64>,
    /// Common field area / baseline field area.
    pub overlap_fraction: f64,
    /// Common field area (baseline px).
    pub common_area_px: u64,
    /// Common field area (mm²), if calibrated.
    pub common_area_mm2: Option<f64>,
    /// Baseline pixels seen as scalp at both visits but left out of the common field because
    /// glare hid them at either visit.
    pub glare_excluded_px: u64,
}

/// The matching: counts, then hair by hair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingRecord {
    /// Counts and transitions.
    #[serde(flatten)]
    pub summary: MatchingSummary,
    /// Persisting hairs (ids as in each visit's analysis JSON and the overlay).
    pub links: Vec<HairLink>,
    /// Ids of the new follow-up hairs.
    pub new_ids: Vec<u32>,
    /// Ids of the lost baseline hairs.
    pub lost_ids: Vec<u32>,
    /// Ids of the follow-up hairs traced at follow-up only but seen in the baseline's
    /// segmentation or photo (persisting).
    pub untraced_at_baseline_ids: Vec<u32>,
    /// Ids of the baseline hairs traced at baseline only but seen in the follow-up's
    /// segmentation or photo (persisting).
    pub untraced_at_followup_ids: Vec<u32>,
    /// Of `untraced_at_baseline_ids`, those seen in the baseline photo only.
    pub baseline_photo_only_ids: Vec<u32>,
    /// Of `untraced_at_followup_ids`, those seen in the follow-up photo only.
    pub followup_photo_only_ids: Vec<u32>,
}

/// Per-visit metrics on the common field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommonFieldMetrics {
    /// Baseline.
    pub baseline: ImageMetrics,
    /// Follow-up.
    pub followup: ImageMetrics,
}

/// Wall time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ComparisonTimings {
    /// Loading and analysing both visits (in parallel where possible).
    pub analyses_ms: f64,
    /// Registration, matching and response.
    pub compare_ms: f64,
}

/// One visit for [`ComparisonReport::new`].
pub struct VisitParts<'a> {
    /// The loaded photo.
    pub scan: &'a Scan,
    /// Its analysis.
    pub analysis: &'a ImageAnalysis,
    /// Name of its analysis JSON.
    pub analysis_file: String,
}

impl ComparisonReport {
    /// The report of `comparison` between two visits.
    pub fn new(
        baseline: VisitParts,
        followup: VisitParts,
        comparison: &Comparison,
        provenance: Provenance<ComparisonSettings>,
        analyses_ms: f64,
    ) -> Self {
        let r = &comparison.registration;
        let common: CommonFieldRecord = comparison.common_field_record;
        Self {
            schema_version: COMPARISON_REPORT_SCHEMA_VERSION,
            kind: COMPARISON_REPORT_KIND.to_string(),
            baseline: visit_record(&baseline),
            followup: visit_record(&followup),
            provenance,
            interval: IntervalRecord {
                interval_days: comparison.interval.days,
                source: comparison.interval.source,
            },
            registration: RegistrationRecord {
                followup_to_baseline: r.followup_to_baseline.matrix,
                scale: r.scale,
                scale_from_calibration: r.scale_from_calibration,
                fitted_scale: r.fitted_scale,
                rotation_deg: r.rotation_deg,
                shift_px: r.shift_px,
                confidence: r.confidence,
                inlier_fraction: r.inlier_fraction,
                chance_inlier_fraction: r.chance_inlier_fraction,
                tolerance_px: r.tolerance_px,
                residual_rms_px: r.residual_rms_px,
                coarse_peak_ratio: r.coarse_peak_ratio,
                refined_on_skin: r.refined_on_skin,
                skin_correlation: r.skin_correlation,
                skin_sidelobe_correlation: r.skin_sidelobe_correlation,
                overlap_fraction: common.overlap_fraction,
                common_area_px: common.area_px,
                common_area_mm2: common.area_mm2,
                glare_excluded_px: common.glare_excluded_px,
            },
            matching: MatchingRecord {
                summary: comparison.summary.clone(),
                links: comparison.matching.links.clone(),
                new_ids: comparison.matching.new_ids.clone(),
                lost_ids: comparison.matching.lost_ids.clone(),
                untraced_at_baseline_ids: comparison.matching.untraced_at_baseline_ids.clone(),
                untraced_at_followup_ids: comparison.matching.untraced_at_followup_ids.clone(),
                baseline_photo_only_ids: comparison.matching.baseline_photo_only_ids.clone(),
                followup_photo_only_ids: comparison.matching.followup_photo_only_ids.clone(),
            },
            common_field_metrics: CommonFieldMetrics {
                baseline: comparison.baseline.clone(),
                followup: comparison.followup.clone(),
            },
            change: comparison.change,
            response: comparison.response.clone(),
            flags: comparison.flags.clone(),
            timings_ms: ComparisonTimings {
                analyses_ms,
                compare_ms: comparison.elapsed_ms,
            },
        }
    }
}

fn visit_record(visit: &VisitParts) -> VisitRecord {
    let scan = visit.scan;
    VisitRecord {
        input: InputRecord {
            path: scan.path.display().to_string(),
            sha256: scan.sha256.clone(),
            format: scan.format.clone(),
            width_px: scan.rgb.width(),
            height_px: scan.rgb.height(),
            exif_orientation: scan.exif_orientation,
            captured_at: scan.captured_at.clone(),
        },
        calibration: visit.analysis.calibration.clone(),
        quality: visit.analysis.quality.clone(),
        analysis_file: visit.analysis_file.clone(),
        whole_field_density_per_cm2: visit.analysis.metrics.density_per_cm2,
    }
}

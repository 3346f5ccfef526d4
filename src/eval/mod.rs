//! Accuracy against phantoms with exact truth (`tricho eval`): per image the count, density
//! and hair-by-hair width and class errors, summarised overall and per stratum (hair colour,
//! protocol, scale, blur, skin tone) so that weak spots are visible.

mod matching;
pub mod pairs;
mod summary;

use serde::{Deserialize, Serialize};

use crate::analyze::ImageAnalysis;
use crate::compare::response::percent_change;
use crate::measure::{HairClass, MeasureConfig};
use crate::synth::truth::PhantomTruth;
pub use matching::{match_hairs, shared_fraction, tolerance_px, Track, MIN_SHARED_FRACTION};
pub use summary::{markdown_report, summarise, EvalSummary, StratumSummary};

/// Scale bins (µm/px, lower bound inclusive) used as a stratum.
pub const SCALE_BINS_UM_PER_PX: [(f64, f64); 3] = [(0.0, 4.0), (4.0, 6.0), (6.0, f64::INFINITY)];
/// Optical blur (Gaussian σ, px) above which a phantom is in the "blurred" stratum.
pub const BLURRED_SIGMA_PX: f64 = 0.75;

/// The strata one phantom belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strata {
    /// Dominant hair colour of the subject.
    pub colour: String,
    /// `clipped` or `unclipped`.
    pub protocol: String,
    /// Scale bin, e.g. `4-6 um/px`.
    pub scale: String,
    /// `sharp` or `blurred`.
    pub blur: String,
    /// Skin tone.
    pub skin_tone: String,
}

/// One matched hair's width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WidthComparison {
    /// True class (by the configured thresholds applied to the true width).
    pub true_class: HairClass,
    /// True shaft width (µm).
    pub true_width_um: f64,
    /// Measured shaft width (µm).
    pub measured_width_um: f64,
    /// Whether the measured class equals the true class.
    pub class_agrees: bool,
}

/// How one phantom was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhantomScore {
    /// Image file name.
    pub image: String,
    /// Scale of the phantom (µm/px).
    pub um_per_px: f64,
    /// Strata it belongs to.
    pub strata: Strata,
    /// Hairs that count in the truth.
    pub true_count: usize,
    /// Hairs counted by the analysis.
    pub count: usize,
    /// (count − true count) / true count × 100; `None` when the truth has no hairs.
    pub count_error_pct: Option<f64>,
    /// True hairs per cm² of field.
    pub true_density_per_cm2: f64,
    /// Measured density.
    pub density_per_cm2: Option<f64>,
    /// (density − true density) / true density × 100.
    pub density_error_pct: Option<f64>,
    /// Counted true hairs matched one-to-one with counted traced hairs.
    pub matched: usize,
    /// Widths of the matched hairs that have a measured width.
    pub widths: Vec<WidthComparison>,
}

/// Scores `analysis` of a phantom against its `truth`.
pub fn score_phantom(truth: &PhantomTruth, analysis: &ImageAnalysis, config: &MeasureConfig) -> PhantomScore {
    let um_per_px = truth.calibration.um_per_px;
    let counted_truth: Vec<_> = truth.hairs.iter().filter(|h| h.counted).collect();
    let tracks: Vec<Track> = counted_truth
        .iter()
        .map(|h| Track {
            points: &h.centreline_px,
            tolerance_px: tolerance_px(h.width_um / um_per_px),
        })
        .collect();
    let counted: Vec<_> = analysis.hairs.iter().filter(|h| h.counted).collect();
    let lines: Vec<&[[f64; 2]]> = counted.iter().map(|h| h.centreline_px.as_slice()).collect();
    let matches = match_hairs(&lines, &tracks);
    let widths = matches
        .iter()
        .filter_map(|&(i, j)| {
            let measured_width_um = counted[i].width_um?;
            let true_width_um = counted_truth[j].width_um;
            let true_class = HairClass::from_width_um(true_width_um, config);
            Some(WidthComparison {
                true_class,
                true_width_um,
                measured_width_um,
                class_agrees: counted[i].class == Some(true_class),
            })
        })
        .collect();
    let count = analysis.metrics.count;
    PhantomScore {
        image: truth.image.file.clone(),
        um_per_px,
        strata: strata_of(truth),
        true_count: truth.count,
        count,
        count_error_pct: percent_change(truth.count as f64, count as f64),
        true_density_per_cm2: truth.density_per_cm2,
        density_per_cm2: analysis.metrics.density_per_cm2,
        density_error_pct: analysis
            .metrics
            .density_per_cm2
            .and_then(|d| percent_change(truth.density_per_cm2, d)),
        matched: matches.len(),
        widths,
    }
}

fn strata_of(truth: &PhantomTruth) -> Strata {
    let condition = |key: &str| {
        truth
            .conditions
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("unknown")
            .to_string()
    };
    let um_per_px = truth.calibration.um_per_px;
    let scale = SCALE_BINS_UM_PER_PX
        .iter()
        .find(|(lo, hi)| um_per_px >= *lo && um_per_px < *hi)
        .map_or_else(
            || "unknown".to_string(),
            |(lo, hi)| match (lo, hi) {
                (lo, hi) if *lo == 0.0 => format!("< {hi} um/px"),
                (lo, hi) if hi.is_infinite() => format!(">= {lo} um/px"),
                (lo, hi) => format!("{lo}-{hi} um/px"),
            },
        );
    let blur_sigma = truth
        .conditions
        .get("blur_sigma_px")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0);
    Strata {
        colour: condition("dominant_hair_colour"),
        protocol: condition("protocol"),
        scale,
        blur: if blur_sigma > BLURRED_SIGMA_PX {
            "blurred"
        } else {
            "sharp"
        }
        .to_string(),
        skin_tone: condition("skin_tone"),
    }
}

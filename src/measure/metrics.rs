//! Per-image metrics: what a clinician reads off one trichoscopy field — count and density,
//! the width distribution and its classes, hair mass, the thin-hair fraction and
//! follicular units — computed from measured hairs, in micrometres and cm² where the image
//! is calibrated and never invented where it is not.

use crate::trace::unit_size_histogram;
use serde::{Deserialize, Serialize};

use super::hairs::MeasuredHair;
use super::stats::median;
use crate::units::PixelSpacing;

/// Micrometres in one millimetre.
const UM_PER_MM: f64 = 1_000.0;
/// Square millimetres in one square centimetre.
const MM2_PER_CM2: f64 = 100.0;
/// Most histogram bins built from a configuration, so that a tiny bin width cannot
/// allocate without bound.
const MAX_HISTOGRAM_BINS: usize = 1_000;

/// Settings of the per-image metrics; widths in µm, as published conventions state them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeasureConfig {
    /// Hairs at most this wide (µm) are vellus. Default 30 µm: the ≤ 30 µm "thin"/vellus
    /// threshold of Rakowska 2009 (TrichoScan uses 40 µm).
    pub vellus_max_um: f64,
    /// Hairs at least this wide (µm) are terminal. Default 60 µm, the common convention;
    /// hairs between the two thresholds are intermediate.
    pub terminal_min_um: f64,
    /// Hairs at most this wide (µm) count towards the thin-hair fraction. Default 30 µm
    /// (Rakowska 2009); more than 20 % thin hairs is a classic sign of androgenetic alopecia.
    pub thin_max_um: f64,
    /// Width of the width-histogram bins (µm). Default 10 µm, finer than the 30/60 µm class
    /// thresholds and coarser than the measurement's repeatability.
    pub width_histogram_bin_um: f64,
    /// Widths from here up (µm) share one open-ended last bin. Default 150 µm, above the
    /// thickest scalp hairs (terminal shafts are about 60–120 µm).
    pub width_histogram_max_um: f64,
    /// A hair counts when at least this much of its centreline (µm) lies in the field.
    /// Default 100 µm (0.1 mm): long enough to tell a shaft from a dot or debris, short
    /// enough for clipped stubs of a phototrichogram.
    pub min_counted_length_um: f64,
}

impl Default for MeasureConfig {
    fn default() -> Self {
        Self {
            vellus_max_um: 30.0,
            terminal_min_um: 60.0,
            thin_max_um: 30.0,
            width_histogram_bin_um: 10.0,
            width_histogram_max_um: 150.0,
            min_counted_length_um: 100.0,
        }
    }
}

/// Width class of a hair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HairClass {
    /// At most `vellus_max_um` wide.
    Vellus,
    /// Between the vellus and terminal thresholds.
    Intermediate,
    /// At least `terminal_min_um` wide.
    Terminal,
}

impl HairClass {
    /// The class of a shaft `width_um` wide; a width exactly at a threshold belongs to the
    /// outer class (vellus or terminal).
    pub fn from_width_um(width_um: f64, config: &MeasureConfig) -> Self {
        if width_um <= config.vellus_max_um {
            Self::Vellus
        } else if width_um >= config.terminal_min_um {
            Self::Terminal
        } else {
            Self::Intermediate
        }
    }
}

/// One bin of the width histogram: widths in [lower_um, upper_um).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WidthBin {
    /// Lower edge (µm), included.
    pub lower_um: f64,
    /// Upper edge (µm), excluded; `None` for the open-ended last bin.
    pub upper_um: Option<f64>,
    /// Counted hairs in the bin.
    pub count: usize,
}

/// Metrics of one image field. Only counted hairs enter them. Values that need a length
/// calibration are `None` when the image has none; values that need at least one measured
/// width are `None` when there is none. No value is ever NaN or infinite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageMetrics {
    /// Counted hairs.
    pub count: usize,
    /// Field area in input pixels.
    pub field_area_px: u64,
    /// Field area (mm²).
    pub field_area_mm2: Option<f64>,
    /// Counted hairs per cm² of field.
    pub density_per_cm2: Option<f64>,
    /// Counted hairs with a measured width.
    pub width_measured_count: usize,
    /// Mean width (input px).
    pub mean_width_px: Option<f64>,
    /// Median width (input px).
    pub median_width_px: Option<f64>,
    /// Mean width (µm).
    pub mean_width_um: Option<f64>,
    /// Median width (µm).
    pub median_width_um: Option<f64>,
    /// Sample standard deviation of widths (µm); needs two widths.
    pub width_sd_um: Option<f64>,
    /// Coefficient of variation of widths (SD / mean), the anisotrichosis measure.
    pub width_cv: Option<f64>,
    /// Width histogram (µm bins, the last open-ended).
    pub width_histogram: Option<Vec<WidthBin>>,
    /// Counted vellus hairs.
    pub vellus_count: Option<usize>,
    /// Counted intermediate hairs.
    pub intermediate_count: Option<usize>,
    /// Counted terminal hairs.
    pub terminal_count: Option<usize>,
    /// Vellus hairs per cm².
    pub vellus_density_per_cm2: Option<f64>,
    /// Intermediate hairs per cm².
    pub intermediate_density_per_cm2: Option<f64>,
    /// Terminal hairs per cm².
    pub terminal_density_per_cm2: Option<f64>,
    /// Cumulative thickness ("hair mass"): the sum of measured shaft widths in mm per cm² of
    /// field.
    pub hair_mass_mm_per_cm2: Option<f64>,
    /// Share of measured hairs at most `thin_max_um` wide.
    pub thin_hair_fraction: Option<f64>,
    /// Follicular units among the counted hairs.
    pub follicular_units: usize,
    /// Follicular units holding 1, 2, 3 and 4 or more counted hairs.
    pub hairs_per_unit_histogram: [usize; 4],
    /// Counted hairs per follicular unit.
    pub mean_hairs_per_unit: Option<f64>,
}

/// Computes the metrics of a field of `field_area_px` input pixels from its measured hairs.
/// Widths and classes are taken from the hairs (built with the same `spacing`); `spacing`
/// (input µm/px) converts the area, and without it every µm- or cm²-valued metric is `None`.
pub fn compute_metrics(
    hairs: &[MeasuredHair],
    field_area_px: u64,
    spacing: Option<PixelSpacing>,
    config: &MeasureConfig,
) -> ImageMetrics {
    let counted: Vec<&MeasuredHair> = hairs.iter().filter(|h| h.counted).collect();
    let count = counted.len();
    let area_cm2 = spacing
        .map(|s| s.area_cm2(field_area_px as f64))
        .filter(|&a| a > 0.0 && a.is_finite());
    let per_cm2 = |n: usize| area_cm2.map(|a| n as f64 / a);
    let widths_px: Vec<f64> = counted.iter().filter_map(|h| h.width_px).collect();
    let widths_um: Vec<f64> = counted.iter().filter_map(|h| h.width_um).collect();
    let calibrated = spacing.is_some();
    let class_count = |class: HairClass| calibrated.then(|| counted.iter().filter(|h| h.class == Some(class)).count());
    let vellus_count = class_count(HairClass::Vellus);
    let intermediate_count = class_count(HairClass::Intermediate);
    let terminal_count = class_count(HairClass::Terminal);
    let thin = widths_um.iter().filter(|&&w| w <= config.thin_max_um).count();
    let (mean_um, sd_um) = mean_and_sd(&widths_um);
    let units = unit_size_histogram(counted.iter().map(|h| h.unit_id));
    let unit_count: usize = units.iter().sum();
    ImageMetrics {
        count,
        field_area_px,
        field_area_mm2: spacing.map(|s| s.area_cm2(field_area_px as f64) * MM2_PER_CM2),
        density_per_cm2: per_cm2(count),
        width_measured_count: widths_px.len(),
        mean_width_px: mean_and_sd(&widths_px).0,
        median_width_px: median(widths_px.iter().copied()),
        mean_width_um: mean_um.filter(|_| calibrated),
        median_width_um: median(widths_um.iter().copied()).filter(|_| calibrated),
        width_sd_um: sd_um.filter(|_| calibrated),
        width_cv: mean_um
            .zip(sd_um)
            .filter(|&(m, _)| calibrated && m > 0.0)
            .map(|(m, sd)| sd / m),
        width_histogram: calibrated.then(|| width_histogram(&widths_um, config)),
        vellus_count,
        intermediate_count,
        terminal_count,
        vellus_density_per_cm2: vellus_count.and_then(per_cm2),
        intermediate_density_per_cm2: intermediate_count.and_then(per_cm2),
        terminal_density_per_cm2: terminal_count.and_then(per_cm2),
        hair_mass_mm_per_cm2: area_cm2.map(|a| widths_um.iter().sum::<f64>() / UM_PER_MM / a),
        thin_hair_fraction: (calibrated && !widths_um.is_empty()).then(|| thin as f64 / widths_um.len() as f64),
        follicular_units: unit_count,
        hairs_per_unit_histogram: units,
        mean_hairs_per_unit: (unit_count > 0).then(|| count as f64 / unit_count as f64),
    }
}

/// Mean and sample standard deviation; the mean needs one value, the SD two.
fn mean_and_sd(values: &[f64]) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (Some(mean), sd)
}

/// Histogram of `widths_um` in bins of `width_histogram_bin_um` from 0 to
/// `width_histogram_max_um`, plus an open-ended bin from there up.
fn width_histogram(widths_um: &[f64], config: &MeasureConfig) -> Vec<WidthBin> {
    let bin = config.width_histogram_bin_um;
    let closed = if bin > 0.0 && config.width_histogram_max_um > 0.0 {
        ((config.width_histogram_max_um / bin).ceil() as usize).min(MAX_HISTOGRAM_BINS)
    } else {
        0
    };
    let mut bins: Vec<WidthBin> = (0..=closed)
        .map(|k| WidthBin {
            lower_um: k as f64 * bin.max(0.0),
            upper_um: (k < closed).then(|| (k + 1) as f64 * bin),
            count: 0,
        })
        .collect();
    for &w in widths_um {
        let k = if closed > 0 {
            ((w / bin).floor().max(0.0) as usize).min(closed)
        } else {
            0
        };
        bins[k].count += 1;
    }
    bins
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counted hair `width_um` wide at 5 µm/px in follicular unit `unit_id`.
    fn hair(width_um: Option<f64>, unit_id: u32) -> MeasuredHair {
        let config = MeasureConfig::default();
        MeasuredHair {
            id: 1,
            unit_id,
            centreline_px: vec![[0.0, 0.0], [40.0, 0.0]],
            length_px: 40.0,
            length_in_field_px: 40.0,
            width_px: width_um.map(|w| w / 5.0),
            width_um,
            class: width_um.map(|w| HairClass::from_width_um(w, &config)),
            counted: true,
            touches_border: false,
        }
    }

    /// 1000 × 1000 px at 5 µm/px: 0.5 cm × 0.5 cm = 0.25 cm².
    const QUARTER_CM2_PX: u64 = 1_000_000;

    fn spacing() -> Option<PixelSpacing> {
        PixelSpacing::new(5.0)
    }

    #[test]
    fn classes_at_exactly_the_thresholds_are_the_outer_ones() {
        let c = MeasureConfig::default();
        assert_eq!(HairClass::from_width_um(30.0, &c), HairClass::Vellus);
        assert_eq!(HairClass::from_width_um(30.001, &c), HairClass::Intermediate);
        assert_eq!(HairClass::from_width_um(59.999, &c), HairClass::Intermediate);
        assert_eq!(HairClass::from_width_um(60.0, &c), HairClass::Terminal);
        assert_eq!(
            serde_json::to_string(&HairClass::Intermediate).unwrap(),
            "\"intermediate\""
        );
    }

    #[test]
    fn density_mass_and_classes_of_three_hairs_in_a_quarter_cm2() {
        let hairs = [hair(Some(30.0), 1), hair(Some(50.0), 2), hair(Some(70.0), 3)];
        let m = compute_metrics(&hairs, QUARTER_CM2_PX, spacing(), &MeasureConfig::default());
        assert_eq!(m.count, 3);
        assert!((m.field_area_mm2.unwrap() - 25.0).abs() < 1e-9);
        assert!((m.density_per_cm2.unwrap() - 12.0).abs() < 1e-9);
        // (30 + 50 + 70) µm = 0.15 mm over 0.25 cm².
        assert!((m.hair_mass_mm_per_cm2.unwrap() - 0.6).abs() < 1e-9);
        assert_eq!(
            (m.vellus_count, m.intermediate_count, m.terminal_count),
            (Some(1), Some(1), Some(1))
        );
        assert!((m.terminal_density_per_cm2.unwrap() - 4.0).abs() < 1e-9);
        assert_eq!(m.mean_width_um, Some(50.0));
        assert_eq!(m.median_width_um, Some(50.0));
        assert_eq!(m.mean_width_px, Some(10.0));
        assert_eq!(m.width_sd_um, Some(20.0));
        assert_eq!(m.width_cv, Some(0.4));
        assert!((m.thin_hair_fraction.unwrap() - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.follicular_units, 3);
        assert_eq!(m.mean_hairs_per_unit, Some(1.0));
    }

    #[test]
    fn histogram_bins_include_their_lower_edge_and_end_open() {
        let widths = [0.0, 9.999, 10.0, 149.9, 150.0, 400.0];
        let hairs: Vec<MeasuredHair> = widths.iter().map(|&w| hair(Some(w), 1)).collect();
        let m = compute_metrics(&hairs, QUARTER_CM2_PX, spacing(), &MeasureConfig::default());
        let bins = m.width_histogram.unwrap();
        assert_eq!(bins.len(), 16);
        assert_eq!(
            (bins[0].lower_um, bins[0].upper_um, bins[0].count),
            (0.0, Some(10.0), 2)
        );
        assert_eq!(
            (bins[1].lower_um, bins[1].upper_um, bins[1].count),
            (10.0, Some(20.0), 1)
        );
        assert_eq!(
            (bins[14].lower_um, bins[14].upper_um, bins[14].count),
            (140.0, Some(150.0), 1)
        );
        assert_eq!((bins[15].lower_um, bins[15].upper_um, bins[15].count), (150.0, None, 2));
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), widths.len());
    }

    #[test]
    fn units_of_four_or_more_share_the_last_bin() {
        assert_eq!(unit_size_histogram([1, 1, 1, 1, 1, 2, 3, 3, 4, 4, 4, 4]), [1, 1, 0, 2]);
        let hairs: Vec<MeasuredHair> = [1, 1, 1, 2, 3, 3].iter().map(|&u| hair(Some(40.0), u)).collect();
        let m = compute_metrics(&hairs, QUARTER_CM2_PX, spacing(), &MeasureConfig::default());
        assert_eq!(m.hairs_per_unit_histogram, [1, 1, 1, 0]);
        assert_eq!(m.mean_hairs_per_unit, Some(2.0));
    }

    #[test]
    fn uncounted_and_unmeasured_hairs_are_handled() {
        let mut short = hair(Some(80.0), 9);
        short.counted = false;
        let hairs = [hair(Some(20.0), 1), hair(None, 2), short];
        let m = compute_metrics(&hairs, QUARTER_CM2_PX, spacing(), &MeasureConfig::default());
        assert_eq!((m.count, m.width_measured_count, m.follicular_units), (2, 1, 2));
        assert!((m.density_per_cm2.unwrap() - 8.0).abs() < 1e-9);
        assert_eq!(m.terminal_count, Some(0));
        assert_eq!((m.width_sd_um, m.width_cv), (None, None));
        assert_eq!(m.thin_hair_fraction, Some(1.0));
    }

    #[test]
    fn no_hairs_or_no_calibration_gives_none_never_nan() {
        let m = compute_metrics(&[], QUARTER_CM2_PX, spacing(), &MeasureConfig::default());
        assert_eq!(
            (m.count, m.density_per_cm2, m.hair_mass_mm_per_cm2),
            (0, Some(0.0), Some(0.0))
        );
        assert_eq!(
            (m.mean_width_px, m.mean_width_um, m.width_cv, m.thin_hair_fraction),
            (None, None, None, None)
        );
        assert_eq!((m.follicular_units, m.mean_hairs_per_unit), (0, None));
        // A NaN would be written as null and read back as None: the round trip catches it.
        let back: ImageMetrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);

        let hairs = [hair(Some(30.0), 1)];
        let m = compute_metrics(&hairs, QUARTER_CM2_PX, None, &MeasureConfig::default());
        assert_eq!((m.count, m.mean_width_px), (1, Some(6.0)));
        assert_eq!(
            (m.density_per_cm2, m.field_area_mm2, m.mean_width_um),
            (None, None, None)
        );
        assert_eq!(
            (m.vellus_count, m.width_histogram, m.hair_mass_mm_per_cm2),
            (None, None, None)
        );
        let m = compute_metrics(&hairs, 0, spacing(), &MeasureConfig::default());
        assert_eq!(m.density_per_cm2, None);
        let back: ImageMetrics = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}

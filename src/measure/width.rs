//! Shaft width per hair, subpixel and perpendicular to the hair's axis.
//!
//! Width is the quantity clinicians track to see miniaturisation reverse, and the one
//! existing tools overestimate by measuring along the wrong axis or at a blurred edge. Here
//! each hair is sampled at stations about a pixel apart; at each station the model's coverage
//! probability is integrated along the local normal (exact for a soft coverage mask, unchanged
//! by blur), and the hair's width is the median over the stations that are away from its
//! tips, away from other hairs, inside the image and not outliers. Where the photo is given,
//! the distance between the shaft's edges on it is measured at the same stations and the
//! two medians are averaged: the model's map and the photo's pixels err largely apart.

use serde::{Deserialize, Serialize};

use super::edges::{edge_width_across, EdgeRule, PhotoPixels};
use super::profile::{width_across, ProfileRule};
use super::proximity::SegmentIndex;
use super::stations::{ArcPolyline, Station};
use super::stats::{median, quantile, sorted};
use super::MeasureError;
use crate::probability_image::ProbabilityImage;
use crate::trace::TracedHair;

/// Settings of the width measurement. Distances that are properties of the pixel grid are
/// in pixels; those that are properties of the hair are relative to its width.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WidthConfig {
    /// Arc length (px) between stations. Default 1 px: one sample per pixel of shaft.
    pub station_spacing_px: f64,
    /// Distance (px) between samples along a profile. Default 0.25 px, fine enough that the
    /// trapezoid rule on the bilinear (piecewise-linear) profile is within ~0.01 px.
    pub profile_step_px: f64,
    /// Smallest half-window (px) of centreline over which the axis direction is taken.
    /// Default 3 px: the smoothed skeleton still steps by up to half a pixel, which over
    /// ±3 px tilts the normal by at most ~5° (width error under 0.4 %).
    pub min_tangent_half_window_px: f64,
    /// Half-window for the axis direction as a multiple of the hair's first-pass width, when
    /// larger than the minimum. Default 1: a thick shaft's skeleton wanders in proportion to
    /// its width, and the chord over one width either side averages that out.
    pub tangent_window_factor: f64,
    /// A profile ends where the probability falls to this fraction of its peak. Default
    /// 0.02: for a Gaussian-blurred edge the probability left beyond that point integrates
    /// to under 0.01 σ, and a coverage edge loses under 0.02 px.
    pub low_fraction: f64,
    /// A dip and rise of at least this fraction of the peak along a profile is the valley
    /// between two shafts; the profile ends at its floor. Default 0.1, above the ripple of
    /// bilinear-sampled coverage.
    pub valley_fraction: f64,
    /// ... unless the dip's floor lies within this distance (px) of the centreline: that is
    /// a glossy highlight along the shaft's axis, which lowers the coverage there, and ending
    /// the profile in it measured half the shaft. Default 1 px, the error of a centreline
    /// traced on the pixel grid.
    pub axis_dip_px: f64,
    /// In the second pass the distance for a dip on the axis grows to this fraction of the
    /// hair's first-pass width where that is larger: the skeleton of a broad shaft wanders
    /// off its axis by more than a pixel. Default 0.25: a valley to a touching neighbour of
    /// similar width lies half a width from the centreline.
    pub axis_dip_width_fraction: f64,
    /// Stations closer to either end of the centreline than this many widths are left out
    /// (tapered, rounded or cut tips). Default 1.
    pub tip_exclusion_widths: f64,
    /// Stations are left out when another hair's centreline passes within the sum of both
    /// half-widths times (1 + this factor) plus `crossing_margin_px`. For straight shafts
    /// crossing at angle α, the profile at arc distance s from the crossing meets the other
    /// shaft when s·sin α < (w·cos α + w_other)/2, i.e. when the other centreline (at
    /// distance s·sin α) is within about the sum of half-widths. Default 0.25, for
    /// centrelines off the shaft's middle and curved shafts.
    pub crossing_margin_factor: f64,
    /// Fixed part (px) of the crossing margin. Default 1.5 px: bilinear sampling reaches one
    /// pixel beyond an edge and blur spreads edges by about another half pixel.
    pub crossing_margin_px: f64,
    /// Stations whose width differs from the median of the kept stations by more than this
    /// fraction of it are outliers (debris, splits, missed crossings). Default 0.25: a shaft's
    /// width varies along its length by well under that away from tips.
    pub outlier_fraction: f64,
    /// Fewer kept stations than this and the width falls back to all stations that gave a
    /// width. Default 3, the fewest with a meaningful median.
    pub min_stations: usize,
    /// Whether the photo's own edges are measured at the same stations and the hair's width
    /// is the mean of that median and the coverage one. Default true: the two err largely
    /// independently (see the README's Accuracy section).
    pub photo_edges: bool,
    /// Distance (photo px) between samples along an edge profile. Default 0.5 px: the
    /// gradient is a central difference over one photo pixel, the finest the photo resolves;
    /// finer steps difference the bilinear interpolation's noise (on the 30 validation
    /// phantoms, 0.25 px measured vellus widths 0.8 µm worse).
    pub edge_step_px: f64,
    /// The photo's edges are read at no more than this many of a hair's stations, spread
    /// evenly along it. Default 32: their median is then within about a fifth of the
    /// station-to-station spread of the median over all of them, and a long hair costs no
    /// more than a short one.
    pub edge_max_stations: usize,
    /// How far beyond the coverage's half-width the edge search looks on each side, in pixels
    /// of the photo or, where those are wider (a photo finer than the model's scale), of the
    /// map. Default 2 px: a blurred edge's steepest point lies within a pixel or two of where
    /// the model puts it, and the model puts it to within its own pixels. In photo pixels
    /// alone, the same scalp photographed at twice the pixel density (phantoms upscaled 2×,
    /// `scripts/rescale_phantoms.py`) measured a median 0.8 µm narrower, 5.3 µm at the 90th
    /// percentile of phantoms; in map pixels there, +0.2 and 3.1 µm, with native-scale results
    /// unchanged (README, Accuracy).
    pub edge_margin_px: f64,
    /// An edge is the outermost local maximum of the colour gradient that reaches this
    /// fraction of the side's largest. Default 0.5: a shaft's edge is its side's strongest
    /// change; rim shading and highlights inside it are weaker.
    pub edge_peak_fraction: f64,
}

impl Default for WidthConfig {
    fn default() -> Self {
        Self {
            station_spacing_px: 1.0,
            profile_step_px: 0.25,
            min_tangent_half_window_px: 3.0,
            tangent_window_factor: 1.0,
            low_fraction: 0.02,
            valley_fraction: 0.1,
            axis_dip_px: 1.0,
            axis_dip_width_fraction: 0.25,
            tip_exclusion_widths: 1.0,
            crossing_margin_factor: 0.25,
            crossing_margin_px: 1.5,
            outlier_fraction: 0.25,
            min_stations: 3,
            photo_edges: true,
            edge_step_px: 0.5,
            edge_max_stations: 32,
            edge_margin_px: 2.0,
            edge_peak_fraction: 0.5,
        }
    }
}

/// The measured width of one hair, in map pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WidthMeasurement {
    /// Median width (px) over the stations used; `None` if no station gave a width.
    pub width_px: Option<f64>,
    /// Stations that went into the median.
    pub samples_used: usize,
    /// Stations along the centreline.
    pub samples_total: usize,
    /// Interquartile range (px) of the widths at the stations used; `None` with no width.
    pub iqr_px: Option<f64>,
}

/// Measures the shaft width of each hair (same order as `hairs`) on a `width × height`
/// probability map on the grid they were traced on: the model's coverage channel, or its hair
/// channel when it has none ([`ProbabilityMaps::width_map`](crate::segment::ProbabilityMaps::width_map); row-major, pixel (i, j) covering
/// [i, i+1) × [j, j+1), the convention of [`TracedHair::centreline_px`]). With `photo` (and
/// [`WidthConfig::photo_edges`]) each width is the mean of the coverage median and the median
/// distance between the shaft's edges on the photo at the same stations.
///
/// # Errors
/// [`MeasureError::SizeMismatch`] if the map does not hold `width × height` values or is
/// empty.
pub fn measure_widths(
    coverage: &[f32],
    width: usize,
    height: usize,
    hairs: &[TracedHair],
    photo: Option<&PhotoPixels>,
    config: &WidthConfig,
) -> Result<Vec<WidthMeasurement>, MeasureError> {
    let map = ProbabilityImage::new(coverage, width, height).ok_or(MeasureError::SizeMismatch {
        expected: width * height,
        actual: coverage.len(),
        width,
        height,
    })?;
    let rule = ProfileRule {
        step_px: config.profile_step_px,
        low_fraction: config.low_fraction,
        valley_fraction: config.valley_fraction,
        axis_dip_px: config.axis_dip_px,
    };
    let edge_rule = EdgeRule {
        step_px: config.edge_step_px,
        margin_px: config.edge_margin_px,
        peak_fraction: config.edge_peak_fraction,
    };
    let photo = photo.filter(|_| config.photo_edges);
    let lines: Vec<ArcPolyline> = hairs.iter().map(|h| ArcPolyline::new(&h.centreline_px)).collect();
    let width_at = |s: &Station| width_across(&map, s.point, s.normal, &rule);
    // First pass: a rough width per hair (and how many stations it has), which scales the
    // axis window, the tip zone and the crossing reach of the second.
    let first_pass: Vec<(Option<f64>, usize)> = lines
        .iter()
        .map(|l| {
            let stations = l.stations(config.station_spacing_px, config.min_tangent_half_window_px);
            (median(stations.iter().filter_map(width_at)), stations.len())
        })
        .collect();
    let rough_px: Vec<Option<f64>> = first_pass.iter().map(|&(rough, _)| rough).collect();
    let reach_factor = 0.5 * (1.0 + config.crossing_margin_factor);
    let widest_px = rough_px.iter().flatten().copied().fold(0.0, f64::max);
    let max_reach_px = 2.0 * widest_px * reach_factor + config.crossing_margin_px;
    let index = SegmentIndex::new(hairs.iter().map(|h| &h.centreline_px[..]), max_reach_px);
    let measurements = lines
        .iter()
        .zip(&first_pass)
        .enumerate()
        .map(|(k, (line, &(rough, first_stations)))| {
            let Some(rough) = rough else {
                return no_width(first_stations);
            };
            let half_window = config
                .min_tangent_half_window_px
                .max(config.tangent_window_factor * rough);
            let stations = line.stations(config.station_spacing_px, half_window);
            let tip_px = config.tip_exclusion_widths * rough;
            let hair_rule = ProfileRule {
                axis_dip_px: config.axis_dip_px.max(config.axis_dip_width_fraction * rough),
                ..rule
            };
            let width_at = |s: &Station| width_across(&map, s.point, s.normal, &hair_rule);
            let reach =
                |other: usize| (rough + rough_px[other].unwrap_or(0.0)) * reach_factor + config.crossing_margin_px;
            // The farthest any other hair can reach this one: the search square need not be
            // sized for the widest pair when this hair is thin.
            let own_max_reach_px = (rough + widest_px) * reach_factor + config.crossing_margin_px;
            let clear = |s: &Station| {
                s.arc_px >= tip_px
                    && line.length_px() - s.arc_px >= tip_px
                    && !index.any_other_within(s.point, k, own_max_reach_px, reach)
            };
            // Profiles are the costly part: measure the clear stations first, and the others only
            // when too few clear ones gave a width (`summarise` then falls back to all of them).
            let is_clear: Vec<bool> = stations.iter().map(clear).collect();
            let mut widths: Vec<Option<f64>> = stations
                .iter()
                .zip(&is_clear)
                .map(|(s, &c)| if c { width_at(s) } else { None })
                .collect();
            if !enough_stations(widths.iter().flatten().count(), config) {
                for ((width, s), _) in widths.iter_mut().zip(&stations).zip(&is_clear).filter(|(_, &c)| !c) {
                    *width = width_at(s);
                }
            }
            let valid: Vec<(f64, bool)> = widths
                .iter()
                .zip(&is_clear)
                .filter_map(|(w, &c)| w.map(|w| (w, c)))
                .collect();
            let coverage_width = summarise(&valid, stations.len(), config);
            let Some(photo) = photo else {
                return coverage_width;
            };
            // Spread over the stations that gave a coverage width, at most `edge_max_stations`.
            let measured = widths.iter().flatten().count();
            let stride = measured.div_ceil(config.edge_max_stations.max(1)).max(1);
            let edges: Vec<(f64, bool)> = stations
                .iter()
                .zip(&widths)
                .zip(&is_clear)
                .filter_map(|((s, w), &c)| w.map(|w| (s, w, c)))
                .step_by(stride)
                .filter_map(|(s, w, c)| {
                    edge_width_across(photo, s.point, s.normal, w / 2.0, &edge_rule).map(|e| (e, c))
                })
                .collect();
            let edge_width = summarise(&edges, stations.len(), config);
            WidthMeasurement {
                width_px: coverage_width
                    .width_px
                    .map(|c| edge_width.width_px.map_or(c, |e| 0.5 * (c + e))),
                ..coverage_width
            }
        })
        .collect();
    Ok(measurements)
}

/// Whether `count` clear stations are enough for a median of their own.
fn enough_stations(count: usize, config: &WidthConfig) -> bool {
    count >= config.min_stations.max(1)
}

fn no_width(samples_total: usize) -> WidthMeasurement {
    WidthMeasurement {
        width_px: None,
        samples_used: 0,
        samples_total,
        iqr_px: None,
    }
}

/// The median of the clear station widths (all valid ones if too few are clear) after
/// dropping outliers. `valid` holds (width, clear) per station that gave a width.
fn summarise(valid: &[(f64, bool)], samples_total: usize, config: &WidthConfig) -> WidthMeasurement {
    let clear: Vec<f64> = valid.iter().filter(|v| v.1).map(|v| v.0).collect();
    let kept = if enough_stations(clear.len(), config) {
        clear
    } else {
        valid.iter().map(|v| v.0).collect()
    };
    let Some(centre) = median(kept.iter().copied()) else {
        return no_width(samples_total);
    };
    let inliers = sorted(
        kept.iter()
            .copied()
            .filter(|w| (w - centre).abs() <= config.outlier_fraction * centre),
    );
    let used = if inliers.is_empty() { sorted(kept) } else { inliers };
    let quartiles = quantile(&used, 0.25).zip(quantile(&used, 0.75));
    WidthMeasurement {
        width_px: quantile(&used, 0.5),
        samples_used: used.len(),
        samples_total,
        iqr_px: quartiles.map(|(q1, q3)| q3 - q1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> WidthConfig {
        WidthConfig::default()
    }

    #[test]
    fn median_of_clear_stations_drops_outliers() {
        let valid = [
            (4.0, true),
            (4.2, true),
            (3.8, true),
            (9.0, true),
            (1.0, false),
            (4.1, true),
        ];
        let m = summarise(&valid, 8, &config());
        assert_eq!(m.width_px, Some(4.05));
        assert_eq!((m.samples_used, m.samples_total), (4, 8));
        let iqr = m.iqr_px.unwrap();
        assert!((iqr - 0.175).abs() < 1e-9, "{iqr}");
    }

    #[test]
    fn too_few_clear_stations_fall_back_to_all() {
        let valid = [(5.0, false), (5.2, false), (4.8, true), (5.1, false)];
        let m = summarise(&valid, 4, &config());
        assert_eq!(m.width_px, Some(5.05));
        assert_eq!(m.samples_used, 4);
        assert_eq!(summarise(&[], 7, &config()), no_width(7));
    }

    #[test]
    fn map_of_the_wrong_size_is_an_error() {
        let err = measure_widths(&[0.0; 10], 4, 4, &[], None, &config()).unwrap_err();
        assert!(matches!(
            err,
            MeasureError::SizeMismatch {
                expected: 16,
                actual: 10,
                ..
            }
        ));
    }

    #[test]
    fn hair_on_empty_map_has_no_width() {
        let hair = TracedHair {
            centreline_px: vec![[2.0, 5.0], [18.0, 5.0]],
            length_px: 16.0,
            width_px: 3.0,
            touches_border: false,
            unit_id: 1,
        };
        let m = measure_widths(&[0.0; 200], 20, 10, &[hair], None, &config()).unwrap();
        assert_eq!(m, vec![no_width(17)]);
    }
}

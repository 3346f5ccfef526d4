//! Hair tracing: segmentation maps → one centreline polyline per hair.
//!
//! Counting hairs needs individual shafts, not pixels: small holes where the map still shows
//! hair (glossy highlights) are filled, the hair mask is thinned to a skeleton, the skeleton
//! becomes a graph of line ends and junctions, spurs are pruned against the local hair radius,
//! junctions that thinning split are merged, and at every junction the branches are paired by
//! direction continuity (and by where they leave it) so that crossing hairs pass straight
//! through; a chain that turns back on
//! itself (two hairs of one opening traced as a V) is cut at the turn. A hair crossing the whole
//! field is one chain and counts once. Pieces of one hair that the segmentation broke apart
//! (faint stretches, crossings) are joined where their ends face each other across a short gap,
//! or across a device overlay that hides them. The model's centreline channel is used only as
//! evidence to cut the seam between hairs lying side by side in one blob; it is never thinned
//! itself, so its gaps cannot break hairs. Hairs ending together at one opening are grouped into
//! follicular units.

mod bridge;
mod chain;
mod graph;
mod grid;
mod kink;
mod pairing;
mod ridge;
mod rings;
mod skeleton;
mod split;
mod units;

use imageproc::distance_transform::euclidean_squared_distance_transform;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::geometry::polyline_length;
use crate::probability_image::ProbabilityImage;
use crate::segment::{ProbabilityMaps, HAIR_CHANNEL};
use crate::units::PixelSpacing;
use grid::BinaryImage;
pub use units::unit_size_histogram;

/// Name of the centreline probability channel in [`ProbabilityMaps`].
pub const CENTRELINE_CHANNEL: &str = "centreline";

/// Settings of the tracer. Lengths are in micrometres where they are properties of hairs
/// (converted with `spacing`) and relative to the local hair radius where they are
/// properties of the skeleton.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TraceConfig {
    /// Pixel spacing of the maps being traced (µm/px). Default 5 µm/px, the model's scale.
    pub spacing: PixelSpacing,
    /// Hair probability at or above which a pixel is hair. Default 0.5.
    pub hair_threshold: f32,
    /// Holes in the hair mask (background enclosed by hair) no larger than a square of this
    /// side (µm), over which the hair probability still averages `support_fraction ×
    /// hair_threshold`, are filled before thinning. Default 60 µm, one terminal shaft's width
    /// (the default terminal threshold): such a hole is a dip inside a shaft (a glossy
    /// highlight, a faint stretch where two shafts overlap), not skin between hairs, and would
    /// make a loop in the skeleton whose two sides the pairing hands to different chains.
    /// Holes of skin (probability near 0) are never filled. On validation phantoms (30, seed
    /// 600000) 0 → 60 µm took the median |count error| on the model's maps from 30.1 % to
    /// 27.6 % and the 90th percentile from 60.0 % to 53.8 % (`examples/trace_eval.rs`).
    /// Holes are 4-connected background, as the thinning sees them: counting a faint pixel
    /// that touches the skin only at a corner as a hole too took the 90th percentile on the
    /// model's maps from 53.8 % to 39.6 % (median 24.0 %, unchanged).
    pub max_hole_um: f64,
    /// Centreline probability at or above which a pixel is on a centreline. Default 0.5.
    pub centreline_threshold: f32,
    /// A branch from a junction to a free end is a spur if it is at most this many times the
    /// junction's radius (distance from the junction to the mask edge) long. Thinning leaves
    /// spurs about √2 radii long at the corners of flat ends and blobs. Default 2.0.
    pub spur_length_factor: f64,
    /// Spurs up to this length (µm) are pruned whatever the radius (edge noise). Default 10 µm.
    pub min_spur_length_um: f64,
    /// Junctions joined by a branch at most this many times the larger junction radius long
    /// are one crossing. Default 1.5: thinning splits a crossing of several hairs at small
    /// angles into junctions up to about one and a half blob radii apart.
    pub junction_merge_factor: f64,
    /// Two three-way junctions (a crossing of two hairs) are one crossing up to this many
    /// radii apart. Default 4.0: two shafts crossing at 15° share their course for about four
    /// widths (width / sin 15°), and thinning leaves a Y at each end of the shared stretch;
    /// with more hairs, merging that far pairs the wrong branches (measured on phantoms with
    /// `examples/trace_eval.rs`: 1.5 → 4.0 takes the median |count error| on model maps from
    /// 55.6 % to 42.9 %).
    pub two_hair_merge_factor: f64,
    /// Largest turn (degrees) a hair may take through a junction of two or an odd number of
    /// branches or across a bridged gap; branches turning more end there. At junctions of an
    /// even number of branches, four or more, every branch is paired (see `pairing`).
    /// Default 50°.
    pub max_turn_deg: f64,
    /// Chain ends (free, or left unpaired at a junction) facing each other are joined across a
    /// gap up to this many times the sum of their radii (the shaft's width). Default 1.0: a hair lying across another of
    /// similar width hides about one shaft width of it; longer gaps are as likely to be two
    /// hairs in line (clipped stubs) as one.
    pub bridge_gap_factor: f64,
    /// Gaps up to this length (µm) are bridged whatever the radii. Default 15 µm, the width
    /// of the thinnest (vellus) shafts, whose radius in the map is only a pixel or two.
    pub bridge_min_gap_um: f64,
    /// Chain ends facing each other across a longer gap are joined up to this many times the
    /// sum of their radii when the gap continues the hair more strictly (half the turn) and
    /// the hair map still shows hair along it. Default 10.0: hairs of one patch of scalp grow
    /// in much the same direction, so they often cross at shallow angles, and two shafts
    /// crossing at 6° share their course for about ten widths (width / sin 6°), along which
    /// the skeleton loses the thinner one; a faint stretch of one shaft drops out of the mask
    /// the same way. Measured against 4.0 (crossings down to 15°), 7.0 and 16.0 in the README's
    /// Accuracy section.
    pub supported_gap_factor: f64,
    /// Such gaps up to this length (µm) are joined whatever the radii. Default 60 µm, four
    /// widths of the thinnest (vellus, 15 µm) shafts.
    pub supported_min_gap_um: f64,
    /// The hair probability averaged along such a gap must reach this fraction of
    /// `hair_threshold`. Default 0.5: hair that faded below the threshold but stands above
    /// the background.
    pub support_fraction: f32,
    /// Hairs shorter than this (µm of traced centreline) are dropped. Default 100 µm, the
    /// counting rule of the phantom truth (at least 0.1 mm of centreline in the field).
    pub min_hair_length_um: f64,
    /// Hairs along whose centreline the hair probability averages below this are dropped:
    /// weak, fragmentary detections (skin furrows, vessel walls) that only just pass
    /// `hair_threshold`. Default 0.75, halfway between the default `hair_threshold` and
    /// certainty (a midpoint, not fitted). On validation phantoms (30, seed 600000, not the
    /// eval set) it took the 90th percentile of |count error| from 76.9 % to 59.0 % with the
    /// median unchanged (`examples/trace_eval.rs` with `TRACE_CONFIG`).
    pub min_mean_probability: f32,
    /// Hairs whose free ends (away from the border) lie within this distance (µm), or that
    /// end at the same junction, share a follicular opening. Default 60 µm.
    pub follicular_unit_radius_um: f64,
    /// Half-width (in polyline points, about 1 px each) of the moving average that smooths
    /// the skeleton's pixel staircase. Default 2.
    pub smoothing_half_window: usize,
    /// Trace hairs along the centreline channel's ridges (see `ridge`), then add the hairs
    /// of the mask's skeleton that no tracked hair runs along, where the maps have a
    /// centreline channel; otherwise the skeleton alone. Default false: on the phantoms it
    /// resolves crossings and drops most false traces, but loses and mis-measures more
    /// vellus hairs (README, Accuracy).
    pub ridge_tracking: bool,
    /// Mean centreline probability over the stretch ahead that keeps a ridge-tracked hair
    /// going. Default 0.25.
    pub ridge_follow_probability: f32,
    /// Length (µm) of the stretch ahead scored at each step of ridge tracking. Default 100 µm.
    pub ridge_lookahead_um: f64,
    /// With ridge tracking, hairs of the mask's skeleton that no tracked hair runs along
    /// (centrelines too faint to track: vellus, out of focus) are added where the centreline
    /// probability along them averages at least this. Default 0.3.
    pub skeleton_fill_min_centreline: f32,
}

impl Default for TraceConfig {
    fn default() -> Self {
        Self {
            spacing: PixelSpacing { um_per_px: 5.0 },
            hair_threshold: 0.5,
            max_hole_um: 60.0,
            centreline_threshold: 0.5,
            spur_length_factor: 2.0,
            min_spur_length_um: 10.0,
            junction_merge_factor: 1.5,
            two_hair_merge_factor: 4.0,
            max_turn_deg: 50.0,
            bridge_gap_factor: 1.0,
            bridge_min_gap_um: 15.0,
            supported_gap_factor: 10.0,
            supported_min_gap_um: 60.0,
            support_fraction: 0.5,
            min_hair_length_um: 100.0,
            min_mean_probability: 0.75,
            follicular_unit_radius_um: 60.0,
            smoothing_half_window: 2,
            ridge_tracking: false,
            ridge_follow_probability: 0.2,
            ridge_lookahead_um: 100.0,
            skeleton_fill_min_centreline: 0.3,
        }
    }
}

/// One traced hair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracedHair {
    /// Centreline in continuous pixel coordinates (pixel (i, j) covers [i, i+1) × [j, j+1)).
    pub centreline_px: Vec<[f64; 2]>,
    /// Length of `centreline_px` in pixels.
    pub length_px: f64,
    /// Rough shaft width (px): twice the median distance from the centreline pixels to the
    /// mask background, minus one pixel. The measure stage measures width properly.
    pub width_px: f64,
    /// Whether an end of the hair reaches the image border (the hair may continue outside).
    pub touches_border: bool,
    /// Follicular unit, numbered from 1 in order of first hair; hairs sharing an opening
    /// share the id.
    pub unit_id: u32,
}

/// Why maps could not be traced.
#[derive(Debug, Error, PartialEq)]
pub enum TraceError {
    /// A map does not hold `width × height` values.
    #[error("{channel} map has {actual} values, expected {expected} ({width}×{height})")]
    SizeMismatch {
        /// Which map.
        channel: String,
        /// Values expected.
        expected: usize,
        /// Values given.
        actual: usize,
        /// Map width (px).
        width: usize,
        /// Map height (px).
        height: usize,
    },
    /// The maps have no hair channel.
    #[error("probability maps have no `{name}` channel (channels: {available:?})")]
    MissingChannel {
        /// The channel looked for.
        name: String,
        /// The channels there are.
        available: Vec<String>,
    },
}

/// Traces the hairs of segmentation output.
///
/// `hair` (and `centreline`, if given) are `height × width` probabilities, row-major, at
/// `config.spacing`. A binary mask (0.0 / 1.0) works as `hair`. `hidden`, if given, marks the
/// pixels where nothing can be seen (device overlays drawn over the scalp, zeroed in the maps):
/// a hair passing under them is hidden, not interrupted, so its pieces on either side may be
/// joined across them.
///
/// # Errors
/// [`TraceError::SizeMismatch`] if a map or `hidden` does not hold `width × height` values.
pub fn trace_hairs(
    hair: &[f32],
    centreline: Option<&[f32]>,
    hidden: Option<&[bool]>,
    width: usize,
    height: usize,
    config: &TraceConfig,
) -> Result<Vec<TracedHair>, TraceError> {
    let lengths = [
        (HAIR_CHANNEL, Some(hair.len())),
        (CENTRELINE_CHANNEL, centreline.map(<[f32]>::len)),
        ("hidden", hidden.map(<[bool]>::len)),
    ];
    for (channel, actual) in lengths {
        if let Some(actual) = actual.filter(|&n| n != width * height) {
            return Err(TraceError::SizeMismatch {
                channel: channel.into(),
                expected: width * height,
                actual,
                width,
                height,
            });
        }
    }
    // A mask hiding nothing (a photo without overlays) would only cost the bridging its
    // cheap rejection of long gaps.
    let hidden = hidden.filter(|h| h.contains(&true));
    let mut mask = BinaryImage::from_threshold(hair, width, height, config.hair_threshold);
    let um_per_px = config.spacing.um_per_px;
    // Filled holes are hair by enclosure: they do not weigh in a hair's mean probability.
    let filled = mask.fill_holes(
        hair,
        (config.max_hole_um / um_per_px).powi(2).floor() as usize,
        config.support_fraction * config.hair_threshold,
    );
    let radius_px = distance_to_background(&mask);
    let evidence = ProbabilityImage::new(hair, width, height);
    let input = MaskedHair {
        hair,
        hidden,
        mask: &mask,
        radius_px: &radius_px,
    };
    let skeleton = skeleton_traces(&input, centreline, config);
    let centreline_map = centreline.and_then(|map| ProbabilityImage::new(map, width, height));
    let traces = match centreline_map.zip(evidence).filter(|_| config.ridge_tracking) {
        Some((centreline_map, hair_map)) => {
            // Hairs whose centreline is too faint to track (vellus, out of focus) come from
            // the skeleton where no tracked hair runs.
            let (mut traces, coverage) = ridge_traces(&input, centreline_map, hair_map, config);
            traces.extend(skeleton.into_iter().filter(|(points, _)| {
                !coverage.shadows(points)
                    && centreline_map.mean_at_points(points, None) >= config.skeleton_fill_min_centreline
            }));
            traces
        }
        None => skeleton,
    };
    let min_length_px = config.min_hair_length_um / um_per_px;
    let traces: Vec<_> = traces
        .into_iter()
        .filter(|(points, _)| {
            polyline_length(points) >= min_length_px
                && evidence
                    .as_ref()
                    .is_some_and(|map| map.mean_at_points(points, Some(&filled)) >= config.min_mean_probability)
        })
        .collect();
    let traces = rings::drop_rings(traces, width, height);
    let unit_radius_px = config.follicular_unit_radius_um / um_per_px;
    Ok(units::build_hairs(&traces, &mask, &radius_px, unit_radius_px))
}

/// A traced hair: its centreline and what is known about its two ends.
type Trace = (Vec<[f64; 2]>, [units::HairEnd; 2]);

/// What both tracers read besides the centreline channel.
struct MaskedHair<'a> {
    /// Hair probability per pixel.
    hair: &'a [f32],
    /// Where nothing can be seen (device overlays), if anywhere.
    hidden: Option<&'a [bool]>,
    /// `hair` at the hair threshold, small holes filled.
    mask: &'a BinaryImage,
    /// Distance (px) from each hair pixel to the mask's background.
    radius_px: &'a [f64],
}

/// Hairs along the centreline channel's ridges, each end with the mask's radius there, and
/// the pixels they cover.
fn ridge_traces(
    input: &MaskedHair,
    centreline: ProbabilityImage,
    hair: ProbabilityImage,
    config: &TraceConfig,
) -> (Vec<Trace>, ridge::Coverage) {
    let (mask, radius_px) = (input.mask, input.radius_px);
    let um_per_px = config.spacing.um_per_px;
    let maps = ridge::RidgeMaps {
        centreline,
        hair,
        radius_px,
        hidden: input.hidden,
        width: mask.width,
        height: mask.height,
    };
    let limits = ridge::RidgeLimits {
        start_probability: config.centreline_threshold,
        follow_probability: f64::from(config.ridge_follow_probability),
        lookahead_px: config.ridge_lookahead_um / um_per_px,
        support_probability: f64::from(config.support_fraction * config.hair_threshold),
        gap_factor: config.supported_gap_factor,
        min_gap_px: config.supported_min_gap_um / um_per_px,
    };
    let end = |p: [f64; 2]| units::HairEnd {
        radius_px: mask
            .index(p[0].floor() as i64, p[1].floor() as i64)
            .map_or(0.0, |i| radius_px[i]),
        junction: None,
    };
    let (lines, coverage) = ridge::track_ridges(&maps, &limits);
    let traces = lines
        .into_iter()
        .map(|points| {
            let ends = [end(points[0]), end(points[points.len() - 1])];
            (points, ends)
        })
        .collect();
    (traces, coverage)
}

/// Hairs along the hair mask's skeleton: thinned, made a graph, spurs pruned, junctions
/// paired, kinks cut and gaps bridged; each end with its graph node's radius and, where the
/// hair stops at a junction, that junction.
fn skeleton_traces(input: &MaskedHair, centreline: Option<&[f32]>, config: &TraceConfig) -> Vec<Trace> {
    let MaskedHair {
        hair,
        hidden,
        mask,
        radius_px,
    } = *input;
    let (width, height) = (mask.width, mask.height);
    let um_per_px = config.spacing.um_per_px;
    let source = match centreline {
        Some(map) => split::cut_seams(
            mask,
            &BinaryImage::from_threshold(map, width, height, config.centreline_threshold),
            radius_px,
        ),
        None => mask.clone(),
    };
    let skeleton = skeleton::thin(&source);
    let mut graph = graph::Graph::from_skeleton(&skeleton, radius_px);
    let min_spur_px = config.min_spur_length_um / um_per_px;
    graph.prune_spurs(config.spur_length_factor, min_spur_px);
    graph.merge_junctions(graph::MergeLimits {
        any: config.junction_merge_factor,
        two_hairs: config.two_hair_merge_factor,
    });
    graph.prune_spurs(config.spur_length_factor, min_spur_px);
    let pairs = pairing::pair_junctions(&graph, config.max_turn_deg.to_radians());
    let mut chains = chain::chain_edges(&graph, &pairs, config.smoothing_half_window);
    for c in &mut chains {
        chain::extend_free_ends(c, &graph, mask);
    }
    let chains = kink::cut_at_kinks(chains, &mut graph, mask, radius_px);
    // Free ends and ends left unpaired at a junction may both be a hair interrupted
    // there; only ends leaving the image may not be joined.
    let joinable: Vec<[bool; 2]> = chains
        .iter()
        .map(|c| {
            let tips = [c.points.first(), c.points.last()];
            [0, 1].map(|e| {
                let radius = graph.nodes[c.end_nodes[e]].radius_px;
                tips[e].is_some_and(|&p| !units::reaches_border(p, radius, mask))
            })
        })
        .collect();
    let limits = bridge::BridgeLimits {
        gap_factor: config.bridge_gap_factor,
        min_gap_px: config.bridge_min_gap_um / um_per_px,
        max_turn_rad: config.max_turn_deg.to_radians(),
        supported_gap_factor: config.supported_gap_factor,
        supported_min_gap_px: config.supported_min_gap_um / um_per_px,
        support_probability: config.support_fraction * config.hair_threshold,
    };
    let evidence = ProbabilityImage::new(hair, width, height);
    let gap_evidence = bridge::GapEvidence { hair: evidence, hidden };
    let chains = bridge::bridge_gaps(chains, &joinable, &graph, &limits, &gap_evidence);
    chains
        .into_iter()
        .map(|c| {
            let ends = [0, 1].map(|e| units::HairEnd {
                radius_px: graph.nodes[c.end_nodes[e]].radius_px,
                junction: (!c.free[e]).then_some(c.end_nodes[e]),
            });
            (c.points, ends)
        })
        .collect()
}

/// Traces the `hair` (and, if present, `centreline`) channel of segmentation output, with
/// the maps' own pixel spacing, with `hidden` as in [`trace_hairs`]. Centrelines are in map
/// pixels.
///
/// # Errors
/// [`TraceError::MissingChannel`] if there is no hair channel.
pub fn trace_maps(
    maps: &ProbabilityMaps,
    hidden: Option<&[bool]>,
    config: &TraceConfig,
) -> Result<Vec<TracedHair>, TraceError> {
    let hair = maps.channel(HAIR_CHANNEL).ok_or_else(|| TraceError::MissingChannel {
        name: HAIR_CHANNEL.into(),
        available: maps.channels.clone(),
    })?;
    let config = TraceConfig {
        spacing: maps.spacing,
        ..*config
    };
    let (width, height) = (maps.width as usize, maps.height as usize);
    trace_hairs(hair, maps.channel(CENTRELINE_CHANNEL), hidden, width, height, &config)
}

/// Distance (px) from each hair pixel centre to the nearest background pixel centre; 0 on
/// background. The image border is not background: hairs continue beyond it.
pub(crate) fn distance_to_background(mask: &BinaryImage) -> Vec<f64> {
    let background = image::GrayImage::from_fn(mask.width as u32, mask.height as u32, |x, y| {
        image::Luma([if mask.get(i64::from(x), i64::from(y)) { 0 } else { 255 }])
    });
    let cap = (mask.width + mask.height) as f64;
    euclidean_squared_distance_transform(&background)
        .pixels()
        .map(|p| p[0].sqrt().min(cap))
        .collect()
}

/// Hand-drawn maps for the tracer's unit tests.
#[cfg(test)]
mod test_maps {
    /// A map of `width × height` with value 1 within `half_width` px of each segment.
    pub(super) fn lines_map(
        width: usize,
        height: usize,
        segments: &[([f64; 2], [f64; 2])],
        half_width: f64,
    ) -> Vec<f32> {
        (0..width * height)
            .map(|i| {
                let p = [(i % width) as f64 + 0.5, (i / width) as f64 + 0.5];
                let near = segments
                    .iter()
                    .any(|&(a, b)| crate::geometry::distance_to_segment(p, a, b) <= half_width);
                f32::from(u8::from(near))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::test_maps::lines_map;
    use super::*;

    fn bar_map(width: usize, height: usize, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) -> Vec<f32> {
        let mut map = vec![0.0; width * height];
        for y in rows {
            for x in cols.clone() {
                map[y * width + x] = 1.0;
            }
        }
        map
    }

    /// Bars of `width × height` maps, `(rows, cols)` each, combined by maximum.
    fn bars_map(width: usize, height: usize, bars: &[(std::ops::Range<usize>, std::ops::Range<usize>)]) -> Vec<f32> {
        bars.iter().fold(vec![0.0; width * height], |mut map, (rows, cols)| {
            let bar = bar_map(width, height, rows.clone(), cols.clone());
            map.iter_mut().zip(bar).for_each(|(m, b)| *m = m.max(b));
            map
        })
    }

    #[test]
    fn one_bar_is_one_hair_with_full_length() {
        let map = bar_map(80, 30, 12..18, 10..70);
        let hairs = trace_hairs(&map, None, None, 80, 30, &TraceConfig::default()).unwrap();
        assert_eq!(hairs.len(), 1);
        let hair = &hairs[0];
        assert!((hair.length_px - 60.0).abs() < 4.0, "length {}", hair.length_px);
        assert!(
            hair.centreline_px.iter().all(|p| (p[1] - 15.0).abs() < 1.0),
            "{:?}",
            hair.centreline_px
        );
        assert!(!hair.touches_border);
        assert!((hair.width_px - 6.0).abs() <= 1.5, "width {}", hair.width_px);
    }

    #[test]
    fn a_highlight_hole_inside_a_shaft_does_not_split_it() {
        // A 10 px wide shaft (50 µm at 5 µm/px) with a 3 × 30 px dip to 0.35 along its middle,
        // as a glossy highlight leaves in the hair map: without filling, the skeleton loops
        // around it; filled, the dip also stays out of the hair's mean probability.
        let mut map = bar_map(100, 30, 10..20, 10..90);
        for y in 14..17 {
            for x in 30..60 {
                map[y * 100 + x] = 0.35;
            }
        }
        let filled = trace_hairs(&map, None, None, 100, 30, &TraceConfig::default()).unwrap();
        assert_eq!(filled.len(), 1);
        assert!(
            (filled[0].length_px - 80.0).abs() < 5.0,
            "length {}",
            filled[0].length_px
        );
        let unfilled = TraceConfig {
            max_hole_um: 0.0,
            ..TraceConfig::default()
        };
        let looped = trace_hairs(&map, None, None, 100, 30, &unfilled).unwrap();
        assert!(
            looped.len() != 1 || (looped[0].length_px - 80.0).abs() >= 5.0,
            "the hole should disturb the unfilled trace: {looped:?}"
        );
        // A hole of skin (probability 0) is a hole: the same shape is not filled.
        for y in 14..17 {
            for x in 30..60 {
                map[y * 100 + x] = 0.0;
            }
        }
        let skin = trace_hairs(&map, None, None, 100, 30, &TraceConfig::default()).unwrap();
        assert_eq!(skin, trace_hairs(&map, None, None, 100, 30, &unfilled).unwrap());
    }

    #[test]
    fn weak_detection_is_dropped_confident_one_kept() {
        let bar = bar_map(80, 30, 12..18, 10..70);
        let scaled = |p: f32| bar.iter().map(|v| v * p).collect::<Vec<f32>>();
        let config = TraceConfig::default();
        assert_eq!(trace_hairs(&scaled(0.9), None, None, 80, 30, &config).unwrap().len(), 1);
        assert!(trace_hairs(&scaled(0.6), None, None, 80, 30, &config)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn bar_through_the_frame_touches_border() {
        let map = bar_map(80, 30, 12..18, 0..80);
        let hairs = trace_hairs(&map, None, None, 80, 30, &TraceConfig::default()).unwrap();
        assert_eq!(hairs.len(), 1);
        assert!(hairs[0].touches_border);
    }

    #[test]
    fn a_thin_hair_crossing_a_thick_one_at_a_shallow_angle_is_one_hair() {
        // A 4-px hair crosses a 12-px one at 7°: they share their course for about 130 px,
        // eleven widths of the thin hair, where the skeleton loses it.
        let (width, height) = (400, 60);
        let angle = 7f64.to_radians();
        let thin = ([10.0, 30.0 - 190.0 * angle.tan()], [390.0, 30.0 + 190.0 * angle.tan()]);
        let thick = lines_map(width, height, &[([0.0, 30.0], [400.0, 30.0])], 6.0);
        let thin = lines_map(width, height, &[thin], 2.0);
        let map: Vec<f32> = thick.iter().zip(&thin).map(|(a, b)| a.max(*b)).collect();
        let hairs = trace_hairs(&map, None, None, width, height, &TraceConfig::default()).unwrap();
        assert_eq!(
            hairs.len(),
            2,
            "{:?}",
            hairs.iter().map(|h| h.length_px).collect::<Vec<_>>()
        );
    }

    #[test]
    fn short_blob_is_not_a_hair() {
        let map = bar_map(40, 40, 10..16, 10..20);
        assert!(trace_hairs(&map, None, None, 40, 40, &TraceConfig::default())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn centreline_channel_splits_a_double_bar() {
        // The bars run through the frame, as in the parallel-touching fixture; a seam that
        // stays enclosed by hair is not cut (see `split`).
        let hair = bar_map(80, 30, 8..22, 0..80);
        let centreline = bars_map(80, 30, &[(11..12, 0..80), (18..19, 0..80)]);
        let config = TraceConfig::default();
        assert_eq!(trace_hairs(&hair, None, None, 80, 30, &config).unwrap().len(), 1);
        assert_eq!(
            trace_hairs(&hair, Some(&centreline), None, 80, 30, &config)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn centreline_channel_splits_a_long_double_bar_whose_ridges_merge_near_the_frame() {
        // As the model draws touching hairs: two ridges along most of the pair, one merged
        // ridge near where they leave the frame, so the seam is enclosed by hair but long.
        let hair = bar_map(200, 30, 8..22, 0..200);
        let centreline = bars_map(
            200,
            30,
            &[
                (11..12, 25..175),
                (18..19, 25..175),
                (14..16, 0..25),
                (14..16, 175..200),
            ],
        );
        let config = TraceConfig::default();
        assert_eq!(
            trace_hairs(&hair, Some(&centreline), None, 200, 30, &config)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn ridge_tracking_splits_a_double_bar_ending_inside_the_image() {
        // The skeleton tracer does not split this pair: the seam between touching hairs that
        // both end inside the image is enclosed by hair and put back (see `split`).
        let hair = bar_map(80, 30, 8..22, 5..75);
        let centreline = bars_map(80, 30, &[(11..12, 5..75), (18..19, 5..75)]);
        let ridge = TraceConfig {
            ridge_tracking: true,
            ..TraceConfig::default()
        };
        assert_eq!(
            trace_hairs(&hair, Some(&centreline), None, 80, 30, &ridge)
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn wrong_size_is_an_error() {
        let err = trace_hairs(&[0.0; 10], None, None, 4, 4, &TraceConfig::default()).unwrap_err();
        assert!(matches!(
            err,
            TraceError::SizeMismatch {
                expected: 16,
                actual: 10,
                ..
            }
        ));
    }
}

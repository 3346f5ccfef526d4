//! Registration: the similarity transform that takes follow-up pixels to baseline pixels.
//!
//! It works on the traced hair centrelines, not on colour, so a new lamp, white balance or
//! exposure at follow-up does not matter. Two stages:
//! 1. *coarse*: both visits' centrelines are rasterised on a grid of about
//!    [`RegisterConfig::raster_cells`] cells along the longer side, band-passed (a one-cell
//!    blur minus a wide local mean) and cross-correlated over every shift at once with an
//!    FFT, for each rotation in ±[`RegisterConfig::max_rotation_deg`] and scale in
//!    [`RegisterConfig::min_scale`]…[`RegisterConfig::max_scale`]; the best peaks are refined
//!    on a finer rotation/scale grid around them.
//! 2. *fine*: trimmed point-to-line iterative closest point from each of the best coarse
//!    poses — every follow-up centreline point is paired with the nearest baseline centreline
//!    point within a radius that shrinks from 1.5 grid cells to the inlier tolerance; pairs
//!    farther apart (new, lost or grown hairs, the part outside the overlap) are ignored; the
//!    similarity minimising the across-line distances (plus a tenth of the along-line ones,
//!    since where a hair ends is unreliable) is solved by least squares. The pose with most
//!    inliers wins.
//!
//! **Confidence**: the share of follow-up centreline points (those that land inside the
//! baseline frame) lying within the inlier tolerance of a baseline centreline, corrected for
//! chance: `(inliers − chance) / (1 − chance)`, where `chance` is the share of the baseline
//! frame within the tolerance of any baseline centreline (what a random pose would score).
//! 1 means every follow-up point lies on a baseline hair; 0 means no better than chance.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::fft::{cross_correlation, signed_shift, spectrum};
use super::texture::{SkinPair, TextureFit};
use super::transform::Similarity;
use crate::skin_texture::SkinTexture;

/// Settings of the registration. Defaults are documented per field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegisterConfig {
    /// Largest rotation searched (degrees, both ways). Default 12°: the protocol allows a
    /// 10° difference in how the dermatoscope is held, plus margin.
    pub max_rotation_deg: f64,
    /// Rotation step of the coarse search (degrees). Default 2°: at the coarse grid's cell
    /// size a 1° error moves the frame corners by less than one cell, which the fine stage
    /// recovers.
    pub rotation_step_deg: f64,
    /// Smallest scale (follow-up → baseline) searched. Default 0.9.
    pub min_scale: f64,
    /// Largest scale searched. Default 1.1 (a 10 % change in magnification; the search is
    /// centred on the calibration ratio when both visits are calibrated).
    pub max_scale: f64,
    /// Relative scale step of the coarse search. Default 0.04 (±2 % off at most, under one
    /// cell at the frame edge).
    pub scale_step: f64,
    /// Cells along the longer image side in the coarse raster. Default 96 (the FFT grid is
    /// 128, leaving a third as a margin against wrap-around).
    pub raster_cells: usize,
    /// Iterations of the fine (ICP) stage. Default 40; it stops earlier once the frame
    /// corners move less than 0.01 px.
    pub icp_iterations: usize,
    /// Coarse poses refined by the fine stage. Default 3.
    pub candidates: usize,
    /// When both visits are calibrated, hold the scale at their calibration ratio in the fine
    /// stage and fit only rotation and shift. Default true: calibration fixes how many µm a
    /// pixel is at each visit, so it fixes the scale between them; fitted to the hairs, the
    /// scale absorbs growth, re-clipping and tracing noise (on the 30 phantom pairs of
    /// `scripts/eval_pairs.sh` a free fit was off by 0.4–1 % in scale, several pixels at
    /// the frame corners). Set false when the calibrations are nominal and the
    /// magnification may really differ between visits.
    pub scale_from_calibration: bool,
    /// Refine the hair-based pose on the two visits' skin (pores, pigment dots, skin lines)
    /// and keep the refinement where the skin shows it clearly. Default true.
    pub refine_on_skin: bool,
    /// Where the skin does not show the hair pose beyond doubt, search the skin alone for the
    /// pose (every rotation of the coarse search and every shift) and take it where the skin
    /// shows it beyond doubt (see [`super::texture`]). Needs `refine_on_skin`. Default true.
    pub search_skin: bool,
}

impl Default for RegisterConfig {
    fn default() -> Self {
        Self {
            max_rotation_deg: 12.0,
            rotation_step_deg: 2.0,
            min_scale: 0.9,
            max_scale: 1.1,
            scale_step: 0.04,
            raster_cells: 96,
            icp_iterations: 40,
            candidates: 3,
            scale_from_calibration: true,
            refine_on_skin: true,
            search_skin: true,
        }
    }
}

/// Side of the square FFT grid (cells).
const FFT_SIDE: usize = 128;
/// Spacing (px) of the baseline centreline samples the fine stage pairs with.
const BASELINE_STEP_PX: f64 = 1.0;
/// Spacing (px) of the follow-up centreline samples.
const FOLLOWUP_STEP_PX: f64 = 2.0;
/// Radius (cells) of the local mean subtracted from the coarse rasters (the band-pass).
const HIGH_PASS_RADIUS_CELLS: usize = 4;
/// Fewest centreline samples a visit needs to be registered.
const MIN_POINTS: usize = 20;

/// Why two visits could not be registered.
#[derive(Debug, Error)]
pub enum RegisterError {
    /// One visit has (almost) no traced hairs to align on.
    #[error("too few traced hairs to register the {visit} visit ({points} centreline samples, need {MIN_POINTS})")]
    TooFewHairs {
        /// `baseline` or `follow-up`.
        visit: &'static str,
        /// Centreline samples found.
        points: usize,
    },
}

/// The follow-up → baseline transform and how much to trust it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// Maps follow-up pixels to baseline pixels.
    pub followup_to_baseline: Similarity,
    /// Scale factor (follow-up px → baseline px).
    pub scale: f64,
    /// Whether `scale` is the calibration ratio, held fixed (see
    /// [`RegisterConfig::scale_from_calibration`]), rather than fitted to the hairs.
    pub scale_from_calibration: bool,
    /// The scale the hairs alone give: a free similarity fit from the final pose (equal to
    /// `scale` when the scale is not held). Far from the calibration ratio, it says a
    /// calibration is wrong or the registration failed.
    pub fitted_scale: f64,
    /// Rotation (degrees).
    pub rotation_deg: f64,
    /// Translation `(tx, ty)` of the matrix (baseline px).
    pub shift_px: [f64; 2],
    /// Inlier tolerance used (px): half the median traced width plus one pixel, at least 2 px.
    pub tolerance_px: f64,
    /// Share of follow-up centreline samples inside the baseline frame that lie within the
    /// tolerance of a baseline centreline.
    pub inlier_fraction: f64,
    /// The same share for a random pose: the part of the baseline frame within the tolerance
    /// of a baseline centreline.
    pub chance_inlier_fraction: f64,
    /// `(inlier − chance) / (1 − chance)`, clamped to 0–1.
    pub confidence: f64,
    /// RMS distance of the inlier pairs (px).
    pub residual_rms_px: f64,
    /// Best coarse correlation over the best one at a clearly different pose (≥ 1; near 1
    /// means the coarse search was ambiguous).
    pub coarse_peak_ratio: f64,
    /// Whether the hair-based pose was refined on the skin (the skin showed the refined pose
    /// clearly; see [`super::texture`]).
    pub refined_on_skin: bool,
    /// Correlation of the two visits' band-passed skin at the skin-refined pose, if the skins
    /// overlapped enough to measure it.
    pub skin_correlation: Option<f64>,
    /// Mean skin correlation at poses 12 texture px (120 µm at the model's scale) away from it:
    /// what the skin shows by chance.
    pub skin_sidelobe_correlation: Option<f64>,
}

impl Registration {
    /// [`Self::tolerance_px`] (baseline px) in follow-up pixels.
    pub fn followup_tolerance_px(&self) -> f64 {
        self.tolerance_px / self.scale.max(1e-9)
    }
}

/// One visit's centrelines and frame.
#[derive(Debug, Clone, Copy)]
pub struct VisitLines<'a> {
    /// Every traced centreline (px).
    pub lines: &'a [Vec<[f64; 2]>],
    /// Frame width (px).
    pub width: u32,
    /// Frame height (px).
    pub height: u32,
    /// The visit's skin, to refine the hair-based pose on (see [`super::texture`]).
    pub texture: Option<&'a SkinTexture>,
}

/// Share of the hair pose's inlier fraction that the skin-refined pose must keep: the skin
/// corrects the pose within the hairs' tolerance, it does not overrule them.
const MIN_SKIN_HAIR_AGREEMENT: f64 = 0.9;

/// Registers `followup` onto `baseline`.
///
/// `expected_scale` (the calibration ratio follow-up µm/px ÷ baseline µm/px, when both are
/// known) centres the scale search and, with [`RegisterConfig::scale_from_calibration`], is
/// the scale of the result; `tolerance_px` is the inlier distance.
///
/// # Errors
/// [`RegisterError::TooFewHairs`] if either visit has fewer than 20 centreline samples.
pub fn register(
    baseline: VisitLines,
    followup: VisitLines,
    expected_scale: Option<f64>,
    tolerance_px: f64,
    config: &RegisterConfig,
) -> Result<Registration, RegisterError> {
    let (base_points, base_normals) = sample_lines_with_normals(baseline.lines, BASELINE_STEP_PX);
    let follow_points = sample_lines(followup.lines, FOLLOWUP_STEP_PX);
    for (visit, points) in [("baseline", base_points.len()), ("follow-up", follow_points.len())] {
        if points < MIN_POINTS {
            return Err(RegisterError::TooFewHairs { visit, points });
        }
    }
    let cell = f64::from(
        baseline
            .width
            .max(baseline.height)
            .max(followup.width)
            .max(followup.height),
    ) / config.raster_cells.max(8) as f64;
    let coarse = coarse_candidates(
        &base_points,
        &follow_points,
        baseline,
        followup,
        cell,
        expected_scale,
        config,
    );
    let nearest = NearestMap::with_normals(&base_points, &base_normals, baseline.width, baseline.height);
    let chance = nearest.fraction_within(tolerance_px);
    let fixed_scale = expected_scale.filter(|_| config.scale_from_calibration);
    let mut best: Option<(f64, Similarity)> = None;
    for candidate in coarse.poses.iter().take(config.candidates.max(1)) {
        let refined = icp(
            &nearest,
            &follow_points,
            *candidate,
            IcpLimits {
                radius_px: 1.5 * cell,
                tolerance_px,
                iterations: config.icp_iterations,
                fixed_scale,
            },
        );
        let (inliers, _) = inlier_stats(&nearest, &follow_points, &refined, tolerance_px);
        if best.is_none_or(|(score, _)| inliers > score) {
            best = Some((inliers, refined));
        }
    }
    let hair_pose = best.map_or(Similarity::IDENTITY, |(_, t)| t);
    let skin = match (baseline.texture, followup.texture) {
        (Some(b), Some(f)) if config.refine_on_skin => skin_pose(&SkinPair::new(b, f), &hair_pose, config),
        _ => None,
    };
    // the skin's pose must also be the hairs' (two independent cues agreeing), unless the skin
    // shows it beyond doubt: ICP can settle on a wrong pose where more hairs happen to line up
    let inliers_at = |pose: &Similarity| inlier_stats(&nearest, &follow_points, pose, tolerance_px).0;
    let refined_on_skin = skin.is_some_and(|fit| {
        fit.is_clear()
            && (fit.is_decisive() || inliers_at(&fit.transform) >= MIN_SKIN_HAIR_AGREEMENT * inliers_at(&hair_pose))
    });
    let transform = match skin {
        Some(fit) if refined_on_skin => fit.transform,
        _ => hair_pose,
    };
    let fitted_scale = match fixed_scale {
        Some(_) => icp(
            &nearest,
            &follow_points,
            transform,
            IcpLimits {
                radius_px: tolerance_px,
                tolerance_px,
                iterations: config.icp_iterations,
                fixed_scale: None,
            },
        )
        .scale(),
        None => transform.scale(),
    };
    let (inlier_fraction, residual_rms_px) = inlier_stats(&nearest, &follow_points, &transform, tolerance_px);
    let confidence = if chance < 1.0 {
        ((inlier_fraction - chance) / (1.0 - chance)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    Ok(Registration {
        followup_to_baseline: transform,
        scale: transform.scale(),
        scale_from_calibration: fixed_scale.is_some(),
        fitted_scale,
        rotation_deg: transform.rotation_deg(),
        shift_px: transform.shift_px(),
        tolerance_px,
        inlier_fraction,
        chance_inlier_fraction: chance,
        confidence,
        residual_rms_px,
        coarse_peak_ratio: coarse.peak_ratio,
        refined_on_skin,
        skin_correlation: skin.map(|fit| fit.correlation),
        skin_sidelobe_correlation: skin.map(|fit| fit.sidelobe_correlation),
    })
}

/// What the skin says: the hair pose refined on it; where that is not decisive and
/// [`RegisterConfig::search_skin`] is set, the pose the skin alone shows instead, if it shows
/// it beyond doubt and better (the hairs misled the coarse search: few hairs, changed ones,
/// glare).
fn skin_pose(skin: &SkinPair, hair_pose: &Similarity, config: &RegisterConfig) -> Option<TextureFit> {
    let refined = skin.refine(hair_pose);
    if !config.search_skin || refined.is_some_and(|fit| fit.is_decisive()) {
        return refined;
    }
    let searched = skin
        .search(hair_pose.scale(), config.max_rotation_deg, config.rotation_step_deg)
        .filter(|fit| fit.is_decisive() && refined.is_none_or(|r| fit.correlation > r.correlation));
    searched.or(refined)
}

/// Points every `step` px along each line (each line's last point included).
pub fn sample_lines(lines: &[Vec<[f64; 2]>], step: f64) -> Vec<[f64; 2]> {
    sample_lines_with_normals(lines, step).0
}

/// [`sample_lines`] with the unit normal of the line at each point.
pub fn sample_lines_with_normals(lines: &[Vec<[f64; 2]>], step: f64) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    let mut out = Vec::new();
    let mut normals = Vec::new();
    let normal = |a: [f64; 2], b: [f64; 2]| {
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let n = dx.hypot(dy);
        if n > 0.0 {
            [-dy / n, dx / n]
        } else {
            [0.0, 0.0]
        }
    };
    for line in lines {
        let Some(&first) = line.first() else { continue };
        out.push(first);
        normals.push(line.get(1).map_or([0.0, 0.0], |&b| normal(first, b)));
        let mut carry = 0.0;
        for w in line.windows(2) {
            let (a, b) = (w[0], w[1]);
            let len = (b[0] - a[0]).hypot(b[1] - a[1]);
            let mut t = step - carry;
            while t <= len {
                let f = t / len;
                out.push([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f]);
                normals.push(normal(a, b));
                t += step;
            }
            carry = len - (t - step);
        }
        if carry > step * 0.25 {
            out.push(line[line.len() - 1]);
            let n = line.len();
            normals.push(if n > 1 {
                normal(line[n - 2], line[n - 1])
            } else {
                [0.0, 0.0]
            });
        }
    }
    (out, normals)
}

/// The best coarse poses, best first, and how distinct the best was.
struct Coarse {
    poses: Vec<Similarity>,
    peak_ratio: f64,
}

/// One scored coarse pose.
#[derive(Clone, Copy)]
struct Scored {
    score: f64,
    rotation_rad: f64,
    scale: f64,
    transform: Similarity,
}

fn coarse_candidates(
    base_points: &[[f64; 2]],
    follow_points: &[[f64; 2]],
    baseline: VisitLines,
    followup: VisitLines,
    cell: f64,
    expected_scale: Option<f64>,
    config: &RegisterConfig,
) -> Coarse {
    let base_spectrum = {
        let mut grid = raster(base_points.iter().copied(), cell);
        band_pass(&mut grid);
        let energy = grid.iter().map(|v| v * v).sum::<f64>();
        (spectrum(grid, FFT_SIDE), energy)
    };
    let centre_f = [f64::from(followup.width) / 2.0, f64::from(followup.height) / 2.0];
    let centre_b = [f64::from(baseline.width) / 2.0, f64::from(baseline.height) / 2.0];
    let score_pose = |rotation_rad: f64, scale: f64| -> Scored {
        let about = Similarity::about(scale, rotation_rad, centre_f, centre_b);
        let mut grid = raster(follow_points.iter().map(|&p| about.apply(p)), cell);
        band_pass(&mut grid);
        let energy = grid.iter().map(|v| v * v).sum::<f64>();
        let spectrum = cross_correlation(&base_spectrum.0, spectrum(grid, FFT_SIDE), FFT_SIDE);
        let norm = (energy * base_spectrum.1).sqrt().max(1e-12) * (FFT_SIDE * FFT_SIDE) as f64;
        let (peak, value) = spectrum
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c[0]))
            .fold((0, f64::NEG_INFINITY), |acc, x| if x.1 > acc.1 { x } else { acc });
        let at = |dx: isize, dy: isize| {
            let (x, y) = ((peak % FFT_SIDE) as isize, (peak / FFT_SIDE) as isize);
            let (x, y) = (
                (x + dx).rem_euclid(FFT_SIDE as isize),
                (y + dy).rem_euclid(FFT_SIDE as isize),
            );
            spectrum[y as usize * FFT_SIDE + x as usize][0]
        };
        let sub = |minus: f64, plus: f64| {
            let denom = minus - 2.0 * value + plus;
            if denom < 0.0 {
                (0.5 * (minus - plus) / denom).clamp(-0.5, 0.5)
            } else {
                0.0
            }
        };
        let shift = [
            (signed_shift(peak % FFT_SIDE, FFT_SIDE) + sub(at(-1, 0), at(1, 0))) * cell,
            (signed_shift(peak / FFT_SIDE, FFT_SIDE) + sub(at(0, -1), at(0, 1))) * cell,
        ];
        let mut transform = about;
        transform.matrix[0][2] += shift[0];
        transform.matrix[1][2] += shift[1];
        Scored {
            score: value / norm,
            rotation_rad,
            scale,
            transform,
        }
    };
    let centre_scale = expected_scale
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(1.0)
        .clamp(config.min_scale, config.max_scale);
    let mut scales = vec![centre_scale];
    let step = config.scale_step.max(1e-3);
    let mut k = 1.0;
    while scales.len() < 64 {
        let (lo, hi) = (centre_scale * (1.0 - step * k), centre_scale * (1.0 + step * k));
        let before = scales.len();
        if lo >= config.min_scale - 1e-9 {
            scales.push(lo);
        }
        if hi <= config.max_scale + 1e-9 {
            scales.push(hi);
        }
        if scales.len() == before {
            break;
        }
        k += 1.0;
    }
    let rot_step = config.rotation_step_deg.max(0.1);
    let n_rot = (config.max_rotation_deg / rot_step).floor() as i64;
    let mut scored: Vec<Scored> = (-n_rot..=n_rot)
        .flat_map(|r| scales.iter().map(move |&s| ((r as f64 * rot_step).to_radians(), s)))
        .map(|(r, s)| score_pose(r, s))
        .collect();
    scored.sort_by(|a, b| b.score.total_cmp(&a.score));
    // refine the best distinct poses on a grid of half the steps around each
    let mut refined: Vec<Scored> = Vec::new();
    let distinct = |a: &Scored, b: &Scored| {
        (a.rotation_rad - b.rotation_rad).abs() > rot_step.to_radians() * 1.01
            || (a.scale / b.scale - 1.0).abs() > step * 1.01
            || a.transform.mean_corner_distance_px(&b.transform, 1.0, 1.0) > 3.0 * cell
    };
    let mut seeds: Vec<Scored> = Vec::new();
    for s in &scored {
        if seeds.len() >= config.candidates.max(1) {
            break;
        }
        if seeds.iter().all(|seed| distinct(seed, s)) {
            seeds.push(*s);
        }
    }
    for seed in &seeds {
        let mut best = *seed;
        for dr in [-0.5, 0.0, 0.5] {
            for ds in [-0.5, 0.0, 0.5] {
                if dr == 0.0 && ds == 0.0 {
                    continue;
                }
                let candidate = score_pose(
                    seed.rotation_rad + (dr * rot_step).to_radians(),
                    seed.scale * (1.0 + ds * step),
                );
                if candidate.score > best.score {
                    best = candidate;
                }
            }
        }
        refined.push(best);
    }
    let peak_ratio = match (seeds.first(), seeds.get(1)) {
        (Some(a), Some(b)) if b.score > 0.0 => a.score / b.score,
        _ => f64::INFINITY,
    };
    refined.sort_by(|a, b| b.score.total_cmp(&a.score));
    Coarse {
        poses: refined.iter().map(|s| s.transform).collect(),
        peak_ratio: if peak_ratio.is_finite() { peak_ratio } else { 99.0 },
    }
}

/// Counts of points per cell of the FFT grid (`cell` px per cell), wrapped around.
fn raster(points: impl Iterator<Item = [f64; 2]>, cell: f64) -> Vec<f64> {
    let mut grid = vec![0.0; FFT_SIDE * FFT_SIDE];
    let side = FFT_SIDE as i64;
    for p in points {
        let (x, y) = ((p[0] / cell).floor() as i64, (p[1] / cell).floor() as i64);
        grid[(y.rem_euclid(side) * side + x.rem_euclid(side)) as usize] += 1.0;
    }
    grid
}

/// A 3 × 3 tent blur minus the local mean over a (2r+1)² box: keeps hair-sized structure,
/// drops density gradients and the frame's own outline.
fn band_pass(grid: &mut [f64]) {
    let blurred = box_blur(grid, 1);
    let wide = box_blur(&blurred, HIGH_PASS_RADIUS_CELLS);
    for ((g, b), w) in grid.iter_mut().zip(&blurred).zip(&wide) {
        *g = b - w;
    }
}

/// Mean over a (2r+1)² box, wrapping around (the grid is circular for the FFT anyway).
fn box_blur(grid: &[f64], radius: usize) -> Vec<f64> {
    let side = FFT_SIDE;
    let r = radius as isize;
    let n = (2 * radius + 1) as f64;
    let mut rows = vec![0.0; side * side];
    for y in 0..side {
        for x in 0..side {
            let mut sum = 0.0;
            for dx in -r..=r {
                sum += grid[y * side + (x as isize + dx).rem_euclid(side as isize) as usize];
            }
            rows[y * side + x] = sum / n;
        }
    }
    let mut out = vec![0.0; side * side];
    for y in 0..side {
        for x in 0..side {
            let mut sum = 0.0;
            for dy in -r..=r {
                sum += rows[(y as isize + dy).rem_euclid(side as isize) as usize * side + x];
            }
            out[y * side + x] = sum / n;
        }
    }
    out
}

/// For every pixel of the baseline frame, the nearest baseline centreline sample
/// (propagated in two raster passes; exact for the distances that matter here, within a
/// fraction of a pixel beyond).
pub struct NearestMap {
    width: usize,
    height: usize,
    points: Vec<[f64; 2]>,
    normals: Vec<[f64; 2]>,
    nearest: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl NearestMap {
    /// The map of `points` over a `width` × `height` frame.
    pub fn new(points: &[[f64; 2]], width: u32, height: u32) -> Self {
        let (w, h) = (width as usize, height as usize);
        let mut nearest = vec![NONE; w * h];
        let centre = |i: usize| [(i % w) as f64 + 0.5, (i / w) as f64 + 0.5];
        let d2 = |p: [f64; 2], q: [f64; 2]| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
        for (k, p) in points.iter().enumerate() {
            if p[0] >= 0.0 && p[1] >= 0.0 && (p[0] as usize) < w && (p[1] as usize) < h {
                let i = p[1] as usize * w + p[0] as usize;
                if nearest[i] == NONE || d2(*p, centre(i)) < d2(points[nearest[i] as usize], centre(i)) {
                    nearest[i] = k as u32;
                }
            }
        }
        let relax = |i: usize, j: usize, nearest: &mut Vec<u32>| {
            let cand = nearest[j];
            if cand == NONE {
                return;
            }
            let c = centre(i);
            if nearest[i] == NONE || d2(points[cand as usize], c) < d2(points[nearest[i] as usize], c) {
                nearest[i] = cand;
            }
        };
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if x > 0 {
                    relax(i, i - 1, &mut nearest);
                }
                if y > 0 {
                    relax(i, i - w, &mut nearest);
                    if x > 0 {
                        relax(i, i - w - 1, &mut nearest);
                    }
                    if x + 1 < w {
                        relax(i, i - w + 1, &mut nearest);
                    }
                }
            }
            for x in (0..w.saturating_sub(1)).rev() {
                relax(y * w + x, y * w + x + 1, &mut nearest);
            }
        }
        for y in (0..h).rev() {
            for x in (0..w).rev() {
                let i = y * w + x;
                if x + 1 < w {
                    relax(i, i + 1, &mut nearest);
                }
                if y + 1 < h {
                    relax(i, i + w, &mut nearest);
                    if x + 1 < w {
                        relax(i, i + w + 1, &mut nearest);
                    }
                    if x > 0 {
                        relax(i, i + w - 1, &mut nearest);
                    }
                }
            }
            for x in 1..w {
                relax(y * w + x, y * w + x - 1, &mut nearest);
            }
        }
        Self {
            width: w,
            height: h,
            points: points.to_vec(),
            normals: Vec::new(),
            nearest,
        }
    }

    /// The map of `points` with the unit normal of the line at each (for point-to-line pairing).
    pub fn with_normals(points: &[[f64; 2]], normals: &[[f64; 2]], width: u32, height: u32) -> Self {
        let mut map = Self::new(points, width, height);
        map.normals = normals.to_vec();
        map
    }

    /// The nearest sample to `p`, the line's unit normal there (zero if unknown) and the distance.
    fn nearest_with_normal(&self, p: [f64; 2]) -> Option<([f64; 2], [f64; 2], f64)> {
        if !self.inside(p) {
            return None;
        }
        let k = self.nearest[p[1] as usize * self.width + p[0] as usize];
        (k != NONE).then(|| {
            let q = self.points[k as usize];
            let n = self.normals.get(k as usize).copied().unwrap_or([0.0, 0.0]);
            (q, n, (q[0] - p[0]).hypot(q[1] - p[1]))
        })
    }

    /// Whether `p` lies inside the frame.
    pub fn inside(&self, p: [f64; 2]) -> bool {
        p[0] >= 0.0 && p[1] >= 0.0 && p[0] < self.width as f64 && p[1] < self.height as f64
    }

    /// The nearest sample to `p` and its distance, if `p` is inside the frame.
    pub fn nearest(&self, p: [f64; 2]) -> Option<([f64; 2], f64)> {
        if !self.inside(p) {
            return None;
        }
        let k = self.nearest[p[1] as usize * self.width + p[0] as usize];
        (k != NONE).then(|| {
            let q = self.points[k as usize];
            (q, (q[0] - p[0]).hypot(q[1] - p[1]))
        })
    }

    /// Share of the frame's pixel centres within `radius` of a sample.
    pub fn fraction_within(&self, radius: f64) -> f64 {
        let total = self.width * self.height;
        if total == 0 {
            return 0.0;
        }
        let near = (0..total)
            .filter(|&i| {
                let p = [(i % self.width) as f64 + 0.5, (i / self.width) as f64 + 0.5];
                self.nearest(p).is_some_and(|(_, d)| d <= radius)
            })
            .count();
        near as f64 / total as f64
    }
}

/// How the fine stage runs.
#[derive(Debug, Clone, Copy)]
struct IcpLimits {
    /// Pairing radius (px) of the first iteration.
    radius_px: f64,
    /// Pairing radius (px) it shrinks to.
    tolerance_px: f64,
    /// Most iterations.
    iterations: usize,
    /// Scale held fixed, if any.
    fixed_scale: Option<f64>,
}

/// Trimmed point-to-line ICP for a similarity (or, with a fixed scale, a rotation and shift),
/// from `start`, with the pairing radius shrinking geometrically from `radius_px` to
/// `tolerance_px`.
fn icp(nearest: &NearestMap, points: &[[f64; 2]], start: Similarity, limits: IcpLimits) -> Similarity {
    let IcpLimits {
        radius_px,
        tolerance_px,
        iterations,
        fixed_scale,
    } = limits;
    let mut transform = start;
    let mut radius = radius_px.max(tolerance_px);
    let (w, h) = (nearest.width as f64, nearest.height as f64);
    for _ in 0..iterations {
        let pairs: Vec<([f64; 2], [f64; 2], [f64; 2])> = points
            .iter()
            .filter_map(|&p| {
                let q = transform.apply(p);
                nearest
                    .nearest_with_normal(q)
                    .filter(|(_, _, d)| *d <= radius)
                    .map(|(m, n, _)| (p, m, n))
            })
            .collect();
        let Some(next) = fit_similarity_point_to_line(&pairs, fixed_scale) else {
            break;
        };
        let moved = next.mean_corner_distance_px(&transform, w, h);
        transform = next;
        let at_floor = radius <= tolerance_px * 1.0001;
        radius = (radius * 0.8).max(tolerance_px);
        if at_floor && moved < 0.01 {
            break;
        }
    }
    transform
}

/// Weight of the along-line residual relative to the across-line one in the fine stage: the
/// position of a point along a hair is poorly defined (hairs grow, are re-clipped, are traced
/// to different ends), its distance across the hair is not.
pub const ALONG_LINE_WEIGHT: f64 = 0.1;

/// Least-squares similarity taking each `(p, q, n)` point `p` onto the line through `q` with
/// unit normal `n` (plus [`ALONG_LINE_WEIGHT`] × the along-line distance); pairs without a
/// normal count as point-to-point. With `fixed_scale`, the fitted rotation is kept, the scale
/// set to it, and the shift fitted again for that rotation and scale. `None` with fewer than
/// three pairs or singular geometry.
pub fn fit_similarity_point_to_line(
    pairs: &[([f64; 2], [f64; 2], [f64; 2])],
    fixed_scale: Option<f64>,
) -> Option<Similarity> {
    if pairs.len() < 3 {
        return None;
    }
    // centre for conditioning
    let n = pairs.len() as f64;
    let c = pairs
        .iter()
        .fold([0.0, 0.0], |acc, (p, _, _)| [acc[0] + p[0] / n, acc[1] + p[1] / n]);
    let mut ata = [[0.0f64; 4]; 4];
    let mut atb = [0.0f64; 4];
    for (p, q, normal) in pairs {
        let (px, py) = (p[0] - c[0], p[1] - c[1]);
        let directions: [([f64; 2], f64); 2] = if *normal == [0.0, 0.0] {
            [([1.0, 0.0], 1.0), ([0.0, 1.0], 1.0)]
        } else {
            [(*normal, 1.0), ([-normal[1], normal[0]], ALONG_LINE_WEIGHT)]
        };
        for (d, w) in directions {
            // d · (A p + t) with A = [[a, −b], [b, a]]
            let row = [d[0] * px + d[1] * py, d[1] * px - d[0] * py, d[0], d[1]];
            let target = d[0] * q[0] + d[1] * q[1];
            for i in 0..4 {
                for j in 0..4 {
                    ata[i][j] += w * row[i] * row[j];
                }
                atb[i] += w * row[i] * target;
            }
        }
    }
    let mut x = solve(ata, atb)?;
    if let Some(scale) = fixed_scale {
        let rotation = x[1].atan2(x[0]);
        let (a, b) = (scale * rotation.cos(), scale * rotation.sin());
        // the shift's normal equations (rows 2 and 3) with a and b known
        let rhs = [0, 1].map(|k| atb[2 + k] - ata[2 + k][0] * a - ata[2 + k][1] * b);
        let det = ata[2][2] * ata[3][3] - ata[2][3] * ata[3][2];
        if det.abs() < 1e-12 {
            return None;
        }
        x = [
            a,
            b,
            (rhs[0] * ata[3][3] - ata[2][3] * rhs[1]) / det,
            (ata[2][2] * rhs[1] - ata[3][2] * rhs[0]) / det,
        ];
    }
    let (a, b) = (x[0], x[1]);
    // undo the centring: A (p − c) + t = A p + (t − A c)
    Some(Similarity::from_params(
        a,
        b,
        x[2] - (a * c[0] - b * c[1]),
        x[3] - (b * c[0] + a * c[1]),
    ))
}

/// Solves the N × N system `m · x = v` by Gaussian elimination with partial pivoting; `None`
/// if it is singular.
pub(super) fn solve<const N: usize>(mut m: [[f64; N]; N], mut v: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))?;
        if m[pivot][col].abs() < 1e-12 {
            return None;
        }
        m.swap(col, pivot);
        v.swap(col, pivot);
        let pivot_row = m[col];
        for row in col + 1..N {
            let f = m[row][col] / pivot_row[col];
            for (cell, p) in m[row].iter_mut().zip(pivot_row).skip(col) {
                *cell -= f * p;
            }
            v[row] -= f * v[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let sum: f64 = (row + 1..N).map(|k| m[row][k] * x[k]).sum();
        x[row] = (v[row] - sum) / m[row][row];
    }
    Some(x)
}

/// Share of `points` (mapped by `transform` into the frame) within `tolerance_px` of a
/// baseline sample, and the RMS distance of those inliers.
fn inlier_stats(nearest: &NearestMap, points: &[[f64; 2]], transform: &Similarity, tolerance_px: f64) -> (f64, f64) {
    let (mut inside, mut inliers, mut sq) = (0usize, 0usize, 0.0);
    for &p in points {
        let q = transform.apply(p);
        if !nearest.inside(q) {
            continue;
        }
        inside += 1;
        if let Some((_, d)) = nearest.nearest(q).filter(|(_, d)| *d <= tolerance_px) {
            inliers += 1;
            sq += d * d;
        }
    }
    let fraction = if inside > 0 {
        inliers as f64 / inside as f64
    } else {
        0.0
    };
    let rms = if inliers > 0 { (sq / inliers as f64).sqrt() } else { 0.0 };
    (fraction, rms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Random gently curved "hairs" over a `w` × `h` frame (plus margin).
    fn random_hairs(rng: &mut ChaCha8Rng, n: usize, w: f64, h: f64) -> Vec<Vec<[f64; 2]>> {
        (0..n)
            .map(|_| {
                let (x0, y0) = (rng.random_range(-0.2 * w..1.2 * w), rng.random_range(-0.2 * h..1.2 * h));
                let mut angle: f64 = rng.random_range(0.3..1.2);
                let length = rng.random_range(30.0..200.0);
                let curvature = rng.random_range(-0.01..0.01);
                let mut p = [x0, y0];
                let mut line = vec![p];
                let mut s = 0.0;
                while s < length {
                    p = [p[0] + angle.cos() * 2.0, p[1] + angle.sin() * 2.0];
                    angle += curvature * 2.0;
                    line.push(p);
                    s += 2.0;
                }
                line
            })
            .collect()
    }

    fn inside_frame(lines: Vec<Vec<[f64; 2]>>, w: f64, h: f64) -> Vec<Vec<[f64; 2]>> {
        lines
            .into_iter()
            .map(|l| {
                l.into_iter()
                    .filter(|p| p[0] >= 0.0 && p[1] >= 0.0 && p[0] < w && p[1] < h)
                    .collect::<Vec<_>>()
            })
            .filter(|l| l.len() > 2)
            .collect()
    }

    #[test]
    fn recovers_a_known_similarity_despite_new_and_lost_hairs() {
        let (w, h) = (640.0, 480.0);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let scalp = random_hairs(&mut rng, 260, w, h);
        // follow-up camera: baseline px = truth · follow-up px
        let truth = Similarity::about(
            1.03,
            7f64.to_radians(),
            [w / 2.0, h / 2.0],
            [w / 2.0 + 40.0, h / 2.0 - 25.0],
        );
        let to_follow = truth.inverse();
        let baseline = inside_frame(scalp[..230].to_vec(), w, h); // 30 hairs are new at follow-up
        let follow_world: Vec<Vec<[f64; 2]>> = scalp[25..].to_vec(); // 25 hairs lost
        let followup = inside_frame(
            follow_world
                .iter()
                .map(|l| l.iter().map(|&p| to_follow.apply(p)).collect())
                .collect(),
            w,
            h,
        );
        let found = register(
            VisitLines {
                lines: &baseline,
                width: w as u32,
                height: h as u32,
                texture: None,
            },
            VisitLines {
                lines: &followup,
                width: w as u32,
                height: h as u32,
                texture: None,
            },
            None,
            2.0,
            &RegisterConfig::default(),
        )
        .unwrap();
        let error = found.followup_to_baseline.mean_corner_distance_px(&truth, w, h);
        assert!(error < 2.0, "corner error {error:.2} px, found {found:?}");
        assert!(found.confidence > 0.5, "{found:?}");
    }

    #[test]
    fn skin_refines_the_hair_pose_where_the_hairs_agree_or_it_is_decisive() {
        use crate::skin_texture::blob_skin;
        const NOISE: f32 = 3.0;
        let (w, h) = (320.0, 240.0);
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let scalp = random_hairs(&mut rng, 40, w, h);
        let truth = Similarity::about(
            1.0,
            4f64.to_radians(),
            [w / 2.0, h / 2.0],
            [w / 2.0 + 12.0, h / 2.0 - 9.0],
        );
        let to_follow = truth.inverse();
        let baseline = inside_frame(scalp.clone(), w, h);
        // each follow-up hair traced up to 2 px off its baseline course (growth, tracing noise)
        let followup = inside_frame(
            scalp
                .iter()
                .map(|l| {
                    let (dx, dy) = (rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0));
                    l.iter().map(|&p| to_follow.apply([p[0] + dx, p[1] + dy])).collect()
                })
                .collect(),
            w,
            h,
        );
        let skin_b = blob_skin(w as u32, h as u32, &Similarity::IDENTITY, 1.0);
        let register_with = |skin_f: Option<&SkinTexture>| {
            let visit = |lines, texture| VisitLines {
                lines,
                width: w as u32,
                height: h as u32,
                texture,
            };
            register(
                visit(&baseline, skin_f.map(|_| &skin_b)),
                visit(&followup, skin_f),
                Some(1.0),
                2.0,
                &RegisterConfig::default(),
            )
            .unwrap()
        };
        let hairs_only = register_with(None)
            .followup_to_baseline
            .mean_corner_distance_px(&truth, w, h);
        // the skin seen through the true pose, under another lamp: used
        let found = register_with(Some(&blob_skin(w as u32, h as u32, &truth, 0.7)));
        let error = found.followup_to_baseline.mean_corner_distance_px(&truth, w, h);
        assert!(
            found.refined_on_skin && error < 0.2 && error < hairs_only,
            "corner error {error:.2} px (hairs only {hairs_only:.2} px), {found:?}"
        );
        // a skin showing a pose 6 px away beyond doubt: it overrules the hairs
        let elsewhere = Similarity::from_params(1.0, 0.0, 6.0, 0.0).compose(&truth);
        let decisive = blob_skin(w as u32, h as u32, &elsewhere, 0.7);
        let found = register_with(Some(&decisive));
        let error = found.followup_to_baseline.mean_corner_distance_px(&elsewhere, w, h);
        assert!(
            found.refined_on_skin && error < 0.3,
            "corner error {error:.2} px, {found:?}"
        );
        // the same skin under heavy noise: clear, not decisive, and the hairs disagree: they win
        let mut noisy = decisive;
        for (i, g) in noisy.grey.iter_mut().enumerate() {
            let hash = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
            *g += NOISE * ((hash % 1000) as f32 / 1000.0 - 0.5);
        }
        let found = register_with(Some(&noisy));
        let error = found.followup_to_baseline.mean_corner_distance_px(&truth, w, h);
        let correlation = found.skin_correlation.unwrap_or(0.0);
        assert!(
            (0.2..0.5).contains(&correlation) && !found.refined_on_skin && (error - hairs_only).abs() < 1e-9,
            "corner error {error:.2} px, {found:?}"
        );
    }

    #[test]
    fn fixed_scale_is_held_while_rotation_and_shift_are_fitted() {
        let truth = Similarity::about(1.03, 7f64.to_radians(), [50.0, 40.0], [70.0, 20.0]);
        let pairs: Vec<([f64; 2], [f64; 2], [f64; 2])> = (0..40)
            .map(|k| {
                let p = [f64::from(k % 8) * 13.0, f64::from(k / 8) * 17.0];
                (p, truth.apply(p), [0.0, 0.0])
            })
            .collect();
        let free = fit_similarity_point_to_line(&pairs, None).unwrap();
        let held = fit_similarity_point_to_line(&pairs, Some(1.03)).unwrap();
        for fit in [free, held] {
            assert!(fit.mean_corner_distance_px(&truth, 100.0, 80.0) < 1e-6, "{fit:?}");
        }
        // held at a scale the points do not have: the scale stays, the rotation is still found
        let off = fit_similarity_point_to_line(&pairs, Some(1.0)).unwrap();
        assert!((off.scale() - 1.0).abs() < 1e-12, "{off:?}");
        assert!((off.rotation_deg() - 7.0).abs() < 1e-6, "{off:?}");
    }

    #[test]
    fn nearest_map_finds_the_closest_sample() {
        let points = [[10.2, 10.7], [30.5, 5.5], [2.0, 18.0]];
        let map = NearestMap::new(&points, 40, 20);
        for y in 0..20 {
            for x in 0..40 {
                let p = [x as f64 + 0.5, y as f64 + 0.5];
                let (_, d) = map.nearest(p).unwrap();
                let best = points
                    .iter()
                    .map(|q| (q[0] - p[0]).hypot(q[1] - p[1]))
                    .fold(f64::INFINITY, f64::min);
                assert!(d - best < 0.5, "at {p:?}: {d} vs {best}");
            }
        }
    }

    #[test]
    fn too_few_hairs_is_an_error() {
        let lines = vec![vec![[0.0, 0.0], [5.0, 0.0]]];
        let visit = VisitLines {
            lines: &lines,
            width: 64,
            height: 64,
            texture: None,
        };
        assert!(matches!(
            register(visit, visit, None, 2.0, &RegisterConfig::default()),
            Err(RegisterError::TooFewHairs { .. })
        ));
    }
}

//! Fine registration on the skin: the hair-based pose is refined by aligning the two visits'
//! skin textures (pores, pigment dots, skin lines), which stay put between visits, where the
//! hairs alone are few or have changed.
//!
//! Each visit's grey level ([`SkinTexture`], hair, glare and overlays left out) is
//! band-passed and divided by its local contrast at every level of an image pyramid, so that
//! a new lamp, white balance or exposure at follow-up does not matter. Gauss–Newton fits the
//! rotation and shift (the scale is held at the hair pose's, itself the calibration ratio by
//! default) that minimise the robust (Huber) squared difference between the baseline and the
//! warped follow-up, level by level from the coarsest down (a start several pixels off) and at
//! the finest level alone (the coarse levels of a washed-out photo can mislead); the better
//! correlation wins, and no level's step is kept that lowers its correlation. The skin shows
//! the refined pose clearly ([`TextureFit::is_clear`]) when its correlation is at least
//! [`MIN_PEAK_RATIO`] times the mean correlation at poses [`SIDELOBE_SHIFT_PX`] away and higher
//! than at the hair pose and at least [`MIN_CORRELATION`]; the registration also asks the hairs
//! to agree before using it, unless the skin is decisive ([`DECISIVE_CORRELATION`]).
//! Where the skin is not decisive at the hairs' pose, [`SkinPair::search`] looks for the pose
//! on the skin alone (every rotation and shift, by FFT), for when the hairs misled the
//! coarse search (few hairs, hairs changed or washed out by glare).

use imageproc::filter::gaussian_blur_f32;

use super::fft::{cross_correlation, signed_shift, spectrum, Complex};
use super::register::solve;
use super::transform::Similarity;
use crate::skin_texture::SkinTexture;

type Plane = image::ImageBuffer<image::Luma<f32>, Vec<f32>>;

/// Inner and outer scale (px at each pyramid level) of the band-pass.
const BAND_SIGMAS_PX: (f32, f32) = (1.5, 6.0);
/// Largest blur scale (px) done as a true Gaussian.
const MAX_GAUSSIAN_SIGMA_PX: f32 = 2.0;
/// Scale (px) over which the local contrast is measured and divided out.
const CONTRAST_SIGMA_PX: f32 = 12.0;
/// Side of the square FFT grid of the skin search (level px): the search runs at the finest
/// pyramid level that fits it.
const SEARCH_SIDE: usize = 256;
/// Correlation peaks of the skin search (best over rotations) refined down the pyramid.
const SEARCH_CANDIDATES: usize = 2;
/// Pyramid levels (each half the size of the previous); fewer if the image gets small.
const MAX_LEVELS: usize = 4;
/// Shortest side (px) a pyramid level may have.
const MIN_LEVEL_SIDE: u32 = 48;
/// Gauss–Newton iterations per level (it stops earlier when the pose settles).
const ITERATIONS: usize = 30;
/// Huber threshold on the residual, in units of local contrast.
const HUBER: f32 = 1.0;
/// Smallest share of a level's follow-up pixels that must find usable baseline skin.
const MIN_OVERLAP_SHARE: f64 = 0.05;
/// Distance (texture px at full resolution) of the poses the peak is compared with: twice
/// the band-pass's outer scale, beyond which the band-passed skin no longer resembles itself.
pub const SIDELOBE_SHIFT_PX: f64 = 2.0 * BAND_SIGMAS_PX.1 as f64;
/// How many times the correlation at the refined pose must exceed the mean correlation at
/// poses [`SIDELOBE_SHIFT_PX`] away for the skin to count as showing the pose.
pub const MIN_PEAK_RATIO: f64 = 2.0;
/// Least correlation at the refined pose for the skin to show it at all: well above chance
/// (the correlation at poses [`SIDELOBE_SHIFT_PX`] away stayed within −0.1…0.1 on the 60
/// phantom pairs of `scripts/eval_pairs.sh` and its validation set).
pub const MIN_CORRELATION: f64 = 0.2;
/// Correlation from which the skin shows the pose beyond doubt — half the band-passed skin's
/// contrast explained — and overrules the hairs (no false peak on those 60 pairs came above
/// 0.35; true poses scored 0.5–0.95).
pub const DECISIVE_CORRELATION: f64 = 0.5;

/// What the skin says about a pose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextureFit {
    /// The refined follow-up → baseline transform (input px).
    pub transform: Similarity,
    /// Correlation of the two skins at the refined pose.
    pub correlation: f64,
    /// Correlation at the pose it started from.
    pub start_correlation: f64,
    /// Mean correlation at poses [`SIDELOBE_SHIFT_PX`] away from the refined one.
    pub sidelobe_correlation: f64,
}

impl TextureFit {
    /// Whether the skin shows the refined pose clearly enough to use it where the hairs agree.
    pub fn is_clear(&self) -> bool {
        self.correlation > self.start_correlation
            && self.correlation >= MIN_CORRELATION
            && self.correlation >= MIN_PEAK_RATIO * self.sidelobe_correlation.max(0.0)
    }

    /// Whether the skin shows the refined pose beyond doubt, whatever the hairs say.
    pub fn is_decisive(&self) -> bool {
        self.is_clear() && self.correlation >= DECISIVE_CORRELATION
    }
}

/// One pyramid level of one visit: the normalised band-pass (NaN where unusable) and its
/// gradient.
struct Level {
    width: usize,
    height: usize,
    value: Vec<f32>,
    gx: Vec<f32>,
    gy: Vec<f32>,
}

impl Level {
    fn new(grey: &[f32], width: usize, height: usize) -> Self {
        let fine = masked_blur(grey, width, height, BAND_SIGMAS_PX.0);
        let wide = masked_blur(grey, width, height, BAND_SIGMAS_PX.1);
        let band: Vec<f32> = fine.iter().zip(&wide).map(|(f, w)| f - w).collect();
        let power = masked_blur(
            &band.iter().map(|b| b * b).collect::<Vec<_>>(),
            width,
            height,
            CONTRAST_SIGMA_PX,
        );
        let value: Vec<f32> = band
            .iter()
            .zip(&power)
            .zip(grey)
            .map(|((b, p), g)| if g.is_nan() { f32::NAN } else { b / (p.sqrt() + 1e-4) })
            .collect();
        let at = |x: usize, y: usize| value[y * width + x];
        let (mut gx, mut gy) = (vec![f32::NAN; value.len()], vec![f32::NAN; value.len()]);
        for y in 1..height.saturating_sub(1) {
            for x in 1..width.saturating_sub(1) {
                gx[y * width + x] = 0.5 * (at(x + 1, y) - at(x - 1, y));
                gy[y * width + x] = 0.5 * (at(x, y + 1) - at(x, y - 1));
            }
        }
        Self {
            width,
            height,
            value,
            gx,
            gy,
        }
    }

    /// Bilinear sample of `plane` at (x, y) (pixel centres at integers); NaN outside or
    /// next to an unusable pixel.
    fn sample(&self, plane: &[f32], x: f64, y: f64) -> f32 {
        if x < 0.0 || y < 0.0 {
            return f32::NAN;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        if x0 + 1 >= self.width || y0 + 1 >= self.height {
            return f32::NAN;
        }
        let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
        let i = y0 * self.width + x0;
        let top = plane[i] * (1.0 - fx) + plane[i + 1] * fx;
        let bottom = plane[i + self.width] * (1.0 - fx) + plane[i + self.width + 1] * fx;
        top * (1.0 - fy) + bottom * fy
    }
}

/// Blur of scale `sigma` (px) that ignores NaN pixels (normalised convolution); NaN where
/// nothing usable is near. Small scales are a true Gaussian; large ones two passes of a box
/// of the same variance (running sums: the cost does not grow with the scale).
fn masked_blur(values: &[f32], width: usize, height: usize, sigma: f32) -> Vec<f32> {
    let blur = |f: &dyn Fn(f32) -> f32| -> Vec<f32> {
        let plane: Vec<f32> = values.iter().map(|&v| f(v)).collect();
        if sigma <= MAX_GAUSSIAN_SIGMA_PX {
            Plane::from_raw(width as u32, height as u32, plane)
                .map(|p| gaussian_blur_f32(&p, sigma).into_raw())
                .unwrap_or_default()
        } else {
            // two boxes of radius r have variance 2·r(r + 1)/3
            let radius = ((0.25 + 1.5 * f64::from(sigma).powi(2)).sqrt() - 0.5).round() as usize;
            let mut plane = plane;
            for _ in 0..2 {
                box_pass(&mut plane, width, height, radius);
            }
            plane
        }
    };
    let sum = blur(&|v| if v.is_nan() { 0.0 } else { v });
    let weight = blur(&|v| if v.is_nan() { 0.0 } else { 1.0 });
    sum.iter()
        .zip(&weight)
        .map(|(s, w)| if *w > 1e-3 { s / w } else { f32::NAN })
        .collect()
}

/// One box filter of `radius` along rows, then columns, in place; outside the image counts as 0.
fn box_pass(plane: &mut [f32], width: usize, height: usize, radius: usize) {
    let norm = 1.0 / (2 * radius + 1) as f64;
    let mut line = Vec::new();
    let mut run = |plane: &mut [f32], start: usize, stride: usize, n: usize| {
        line.clear();
        line.extend((0..n).map(|k| f64::from(plane[start + k * stride])));
        let mut sum: f64 = line.iter().take(radius + 1).sum();
        for k in 0..n {
            plane[start + k * stride] = (sum * norm) as f32;
            if k + radius + 1 < n {
                sum += line[k + radius + 1];
            }
            if k >= radius {
                sum -= line[k - radius];
            }
        }
    };
    for y in 0..height {
        run(plane, y * width, 1, width);
    }
    for x in 0..width {
        run(plane, x, width, height);
    }
}

/// `grey` halved in size: each pixel the mean of the usable ones of its 2 × 2 block (NaN if
/// fewer than two are usable).
fn halve(grey: &[f32], width: usize, height: usize) -> (Vec<f32>, usize, usize) {
    let (w, h) = (width / 2, height / 2);
    let mut out = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            let block = [(0, 0), (1, 0), (0, 1), (1, 1)].map(|(dx, dy)| grey[(2 * y + dy) * width + 2 * x + dx]);
            let usable: Vec<f32> = block.into_iter().filter(|v| !v.is_nan()).collect();
            out.push(if usable.len() >= 2 {
                usable.iter().sum::<f32>() / usable.len() as f32
            } else {
                f32::NAN
            });
        }
    }
    (out, w, h)
}

/// Pyramid of `texture`, finest level first.
fn pyramid(texture: &SkinTexture) -> Vec<Level> {
    let (mut grey, mut w, mut h) = (texture.grey.clone(), texture.width as usize, texture.height as usize);
    let mut levels = vec![Level::new(&grey, w, h)];
    while levels.len() < MAX_LEVELS && w.min(h) / 2 >= MIN_LEVEL_SIDE as usize {
        (grey, w, h) = halve(&grey, w, h);
        levels.push(Level::new(&grey, w, h));
    }
    levels
}

/// Texture px → input px of a visit: `input = s·(t + ½) − ½` per axis, with `s` the mean of
/// the two axes' factors (they differ only by the rounding of the map size).
fn texture_to_input(texture: &SkinTexture) -> Similarity {
    let s = 0.5 * (texture.input_per_px[0] + texture.input_per_px[1]);
    let c = 0.5 * (s - 1.0);
    Similarity::from_params(s, 0.0, c, c)
}

/// Level px → texture px at pyramid level `level` (`2^level` texture px per level px, pixel
/// centres at integers): `t = f·l + (f − 1)/2`.
fn level_to_texture(level: usize) -> Similarity {
    let f = f64::from(1u32 << level);
    Similarity::from_params(f, 0.0, 0.5 * (f - 1.0), 0.5 * (f - 1.0))
}

/// Every follow-up pixel usable at `pose` (level px) whose image lands on usable baseline
/// skin: `(follow-up value, its position in the baseline level, baseline value there)`.
fn warped_pairs<'a>(
    base: &'a Level,
    follow: &'a Level,
    pose: &'a Similarity,
) -> impl Iterator<Item = (f32, [f64; 2], f32)> + 'a {
    (0..follow.height)
        .flat_map(move |y| (0..follow.width).map(move |x| (x, y)))
        .filter_map(move |(x, y)| {
            let a = follow.value[y * follow.width + x];
            if a.is_nan() {
                return None;
            }
            let p = pose.apply([x as f64, y as f64]);
            let b = base.sample(&base.value, p[0], p[1]);
            (!b.is_nan()).then_some((a, p, b))
        })
}

/// Whether `pairs` pixels are enough of `follow` to go by.
fn enough_overlap(pairs: usize, follow: &Level) -> bool {
    pairs as f64 >= MIN_OVERLAP_SHARE * (follow.width * follow.height) as f64
}

/// Correlation of the baseline level with the follow-up level warped by `pose` (level px),
/// over the pixels usable in both; `None` if too few overlap.
fn correlation(base: &Level, follow: &Level, pose: &Similarity) -> Option<f64> {
    let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) = (0usize, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (a, _, b) in warped_pairs(base, follow, pose) {
        let (a, b) = (f64::from(a), f64::from(b));
        n += 1;
        (sa, sb, saa, sbb, sab) = (sa + a, sb + b, saa + a * a, sbb + b * b, sab + a * b);
    }
    if !enough_overlap(n, follow) {
        return None;
    }
    let n = n as f64;
    let (va, vb) = (saa - sa * sa / n, sbb - sb * sb / n);
    (va > 0.0 && vb > 0.0).then(|| (sab - sa * sb / n) / (va * vb).sqrt())
}

/// Gauss–Newton refinement of rotation and shift (scale held) at one level.
fn refine_level(base: &Level, follow: &Level, mut pose: Similarity) -> Similarity {
    let scale = pose.scale();
    let mut angle = pose.rotation_deg().to_radians();
    for _ in 0..ITERATIONS {
        let [tx, ty] = pose.shift_px();
        let mut normal = [[0.0f64; 3]; 3];
        let mut rhs = [0.0f64; 3];
        let mut used = 0usize;
        for (a, p, b) in warped_pairs(base, follow, &pose) {
            let (gx, gy) = (base.sample(&base.gx, p[0], p[1]), base.sample(&base.gy, p[0], p[1]));
            if gx.is_nan() || gy.is_nan() {
                continue;
            }
            let r = b - a;
            let weight = f64::from(if r.abs() <= HUBER { 1.0 } else { HUBER / r.abs() });
            let (gx, gy) = (f64::from(gx), f64::from(gy));
            let jacobian = [gx * -(p[1] - ty) + gy * (p[0] - tx), gx, gy];
            for i in 0..3 {
                rhs[i] -= weight * jacobian[i] * f64::from(r);
                for j in 0..3 {
                    normal[i][j] += weight * jacobian[i] * jacobian[j];
                }
            }
            used += 1;
        }
        if !enough_overlap(used, follow) {
            break;
        }
        let Some(step) = solve(normal, rhs) else { break };
        // largest displacement of a follow-up pixel; a step moves none by more than a pixel
        let reach = step[0].abs() * follow.width.max(follow.height) as f64 + step[1].hypot(step[2]);
        let [d_angle, dx, dy] = step.map(|v| v / reach.max(1.0));
        angle += d_angle;
        pose = Similarity::from_params(scale * angle.cos(), scale * angle.sin(), tx + dx, ty + dy);
        if reach < 0.01 {
            break;
        }
    }
    pose
}

/// Refines `pose` (texture px) level by level from pyramid level `top` down to the finest.
fn coarse_to_fine(base_levels: &[Level], follow_levels: &[Level], top: usize, mut pose: Similarity) -> Similarity {
    for level in (0..=top).rev() {
        let (base, follow) = (&base_levels[level], &follow_levels[level]);
        let to_texture = level_to_texture(level);
        let start = to_texture.inverse().compose(&pose.compose(&to_texture));
        let refined = refine_level(base, follow, start);
        // Gauss–Newton minimises squared differences; keep its result only where the
        // correlation agrees
        let refined = match (correlation(base, follow, &refined), correlation(base, follow, &start)) {
            (Some(after), Some(before)) if after < before => start,
            _ => refined,
        };
        pose = to_texture.compose(&refined.compose(&to_texture.inverse()));
    }
    pose
}

/// Both visits' skin pyramids, built once for any number of fits.
pub struct SkinPair {
    base: Vec<Level>,
    follow: Vec<Level>,
    /// Baseline texture px → baseline input px.
    to_input_b: Similarity,
    /// Follow-up texture px → follow-up input px.
    to_input_f: Similarity,
}

impl SkinPair {
    /// The pyramids of both visits' skin.
    pub fn new(baseline: &SkinTexture, followup: &SkinTexture) -> Self {
        let (mut base, mut follow) = (pyramid(baseline), pyramid(followup));
        let levels = base.len().min(follow.len());
        base.truncate(levels);
        follow.truncate(levels);
        Self {
            base,
            follow,
            to_input_b: texture_to_input(baseline),
            to_input_f: texture_to_input(followup),
        }
    }

    /// Refines `start` (follow-up → baseline, input px) on the skin; `None` when the skins do
    /// not overlap enough to say anything.
    pub fn refine(&self, start: &Similarity) -> Option<TextureFit> {
        // pose in texture px: baseline texture ← follow-up texture
        let start_px = self.to_input_b.inverse().compose(&start.compose(&self.to_input_f));
        // Coarse to fine from the top of the pyramid (a start several pixels off), and at the
        // finest level alone (coarse levels of a washed-out photo can mislead): the better wins.
        let pose = [self.base.len() - 1, 0]
            .into_iter()
            .map(|top| coarse_to_fine(&self.base, &self.follow, top, start_px))
            .max_by(|a, b| {
                let score = |p: &Similarity| self.correlation_at(p).unwrap_or(f64::NEG_INFINITY);
                score(a).total_cmp(&score(b))
            })
            .unwrap_or(start_px);
        self.fit(&pose, &start_px)
    }

    /// Searches the skin alone for the pose, whatever the hairs say: at the finest pyramid
    /// level that fits a [`SEARCH_SIDE`]² grid, for each rotation in ±`max_rotation_deg` (step
    /// `rotation_step_deg`) at `scale` (follow-up → baseline input px), the two skins are
    /// cross-correlated over every shift at once with an FFT; the [`SEARCH_CANDIDATES`] best
    /// peaks are refined down the pyramid and the best fit is returned. `None` when no level
    /// fits the grid or the skins never overlap enough.
    pub fn search(&self, scale: f64, max_rotation_deg: f64, rotation_step_deg: f64) -> Option<TextureFit> {
        let level = (0..self.base.len()).find(|&l| {
            let (b, f) = (&self.base[l], &self.follow[l]);
            b.width.max(b.height).max(f.width).max(f.height) <= SEARCH_SIDE
        })?;
        let (base, follow) = (&self.base[level], &self.follow[level]);
        let to_texture = level_to_texture(level);
        // level px → input px of each visit
        let (level_to_input_b, level_to_input_f) = (
            self.to_input_b.compose(&to_texture),
            self.to_input_f.compose(&to_texture),
        );
        let centre = |l: &Level, to_input: &Similarity| {
            to_input.apply([(l.width as f64 - 1.0) / 2.0, (l.height as f64 - 1.0) / 2.0])
        };
        let (centre_b, centre_f) = (centre(base, &level_to_input_b), centre(follow, &level_to_input_f));
        let base_spectrum = skin_spectrum(|x, y| {
            if x < base.width && y < base.height {
                base.value[y * base.width + x]
            } else {
                f32::NAN
            }
        });
        // the best shift at one rotation (degrees): its correlation and pose (level px)
        let peak_at = |rotation_deg: f64| -> Option<(f64, Similarity)> {
            let input_pose = Similarity::about(scale, rotation_deg.to_radians(), centre_f, centre_b);
            let pose = level_to_input_b
                .inverse()
                .compose(&input_pose.compose(&level_to_input_f));
            let back = pose.inverse();
            let follow_spectrum = skin_spectrum(|x, y| {
                let p = back.apply([x as f64, y as f64]);
                follow.sample(&follow.value, p[0], p[1])
            });
            let surface = cross_correlation(&base_spectrum, follow_spectrum, SEARCH_SIDE);
            let peak = (0..surface.len()).max_by(|&i, &j| surface[i][0].total_cmp(&surface[j][0]))?;
            let shift = Similarity::from_params(
                1.0,
                0.0,
                signed_shift(peak % SEARCH_SIDE, SEARCH_SIDE),
                signed_shift(peak / SEARCH_SIDE, SEARCH_SIDE),
            );
            let pose = shift.compose(&pose);
            correlation(base, follow, &pose).map(|c| (c, pose))
        };
        let step = rotation_step_deg.max(0.1);
        let turns = (max_rotation_deg / step).floor() as i64;
        let mut peaks: Vec<(f64, f64, Similarity)> = (-turns..=turns)
            .filter_map(|k| {
                let rotation = k as f64 * step;
                peak_at(rotation).map(|(c, pose)| (c, rotation, pose))
            })
            .collect();
        peaks.sort_by(|a, b| b.0.total_cmp(&a.0));
        peaks
            .iter()
            .take(SEARCH_CANDIDATES)
            .filter_map(|&(c, rotation, pose)| {
                // the skin decorrelates within a degree or so at the frame's edge: finer
                // rotations around each peak, before the pyramid refines it
                let (_, pose) = [-0.5, -0.25, 0.25, 0.5]
                    .iter()
                    .filter_map(|f| peak_at(rotation + f * step))
                    .fold((c, pose), |best, p| if p.0 > best.0 { p } else { best });
                let start = to_texture.compose(&pose.compose(&to_texture.inverse()));
                self.fit(&coarse_to_fine(&self.base, &self.follow, level, start), &start)
            })
            .max_by(|a, b| a.correlation.total_cmp(&b.correlation))
    }

    /// Correlation at the finest level at `pose` (texture px).
    fn correlation_at(&self, pose: &Similarity) -> Option<f64> {
        correlation(&self.base[0], &self.follow[0], pose)
    }

    /// What the skin says about `pose`, reached from `start` (both texture px).
    fn fit(&self, pose: &Similarity, start: &Similarity) -> Option<TextureFit> {
        let peak = self.correlation_at(pose)?;
        let start_correlation = self.correlation_at(start).unwrap_or(f64::NEG_INFINITY);
        let sides: Vec<f64> = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]
            .iter()
            .filter_map(|[dx, dy]| {
                let shifted = Similarity::from_params(1.0, 0.0, dx * SIDELOBE_SHIFT_PX, dy * SIDELOBE_SHIFT_PX);
                self.correlation_at(&shifted.compose(pose))
            })
            .collect();
        let sidelobe_correlation = sides.iter().sum::<f64>() / sides.len().max(1) as f64;
        Some(TextureFit {
            transform: self.to_input_b.compose(&pose.compose(&self.to_input_f.inverse())),
            correlation: peak,
            start_correlation,
            sidelobe_correlation,
        })
    }
}

/// The 2-D FFT of a [`SEARCH_SIDE`]² grid whose cell (x, y) holds `value(x, y)`, NaN (no
/// usable skin) as 0.
fn skin_spectrum(value: impl Fn(usize, usize) -> f32) -> Vec<Complex> {
    let values = (0..SEARCH_SIDE * SEARCH_SIDE).map(|i| {
        let v = value(i % SEARCH_SIDE, i / SEARCH_SIDE);
        if v.is_nan() {
            0.0
        } else {
            f64::from(v)
        }
    });
    spectrum(values, SEARCH_SIDE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skin_texture::blob_skin as skin;

    #[test]
    fn skin_refines_a_pose_a_few_pixels_off_under_another_lamp() {
        let truth = Similarity::about(1.0, 3f64.to_radians(), [160.0, 120.0], [166.0, 115.0]);
        let baseline = skin(320, 240, &Similarity::IDENTITY, 1.0);
        let followup = skin(320, 240, &truth, 0.7);
        let start = Similarity::about(1.0, 1.5f64.to_radians(), [160.0, 120.0], [171.0, 112.0]);
        let fit = SkinPair::new(&baseline, &followup).refine(&start).expect("overlap");
        assert!(fit.is_clear(), "{fit:?}");
        let before = start.mean_corner_distance_px(&truth, 320.0, 240.0);
        let after = fit.transform.mean_corner_distance_px(&truth, 320.0, 240.0);
        assert!(
            before > 5.0 && after < 0.5,
            "corner error {before:.2} px → {after:.2} px"
        );
    }

    #[test]
    fn skin_search_finds_a_pose_far_off_under_another_lamp() {
        // 50 px and 7° away: far beyond the refinement's reach from the identity
        let truth = Similarity::about(1.0, 7f64.to_radians(), [160.0, 120.0], [210.0, 95.0]);
        let baseline = skin(320, 240, &Similarity::IDENTITY, 1.0);
        let followup = skin(320, 240, &truth, 0.7);
        let pair = SkinPair::new(&baseline, &followup);
        let from_identity = pair.refine(&Similarity::IDENTITY);
        assert!(from_identity.is_none_or(|f| !f.is_decisive()), "{from_identity:?}");
        let fit = pair.search(1.0, 12.0, 2.0).expect("overlap");
        let error = fit.transform.mean_corner_distance_px(&truth, 320.0, 240.0);
        assert!(fit.is_decisive() && error < 0.5, "corner error {error:.2} px, {fit:?}");
    }

    #[test]
    fn featureless_skin_is_not_clear() {
        let flat = |lamp: f32| SkinTexture {
            width: 200,
            height: 150,
            input_per_px: [1.0, 1.0],
            grey: vec![0.4 * lamp; 200 * 150],
        };
        let pair = SkinPair::new(&flat(1.0), &flat(0.8));
        let fit = pair.refine(&Similarity::IDENTITY);
        assert!(fit.is_none_or(|f| !f.is_clear()), "{fit:?}");
        let found = pair.search(1.0, 12.0, 2.0);
        assert!(found.is_none_or(|f| !f.is_clear()), "{found:?}");
    }
}

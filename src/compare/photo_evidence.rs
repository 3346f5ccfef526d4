//! Evidence in the other visit's *photo*: a hair traced at one visit only, and not in the other
//! visit's segmentation either (see [`super::evidence`]), may still show in the other photo as
//! a line the model missed there — washed out by a new exposure, blurred, or lighter against
//! a new white balance. Counting it as gained or lost then puts the model's change of mind
//! into the response.
//!
//! Rule: along the hair's centreline in its own photo, the colour *contrast* of the shaft is
//! its colour minus the mean colour of the skin a half-width + [`SIDE_GAP_PX`] to either side;
//! the median contrast gives the hair's colour direction (darker, lighter, redder…) and its
//! strength. The same contrast is read in the other photo along the mapped centreline,
//! projected on that direction, at the best lateral offset within the registration tolerance
//! of each point. The *relative contrast* is the other photo's median over the own photo's.
//! Lighting and focus change it for every hair alike, so it is judged against the hairs the
//! matching linked: the hair is seen in the other photo when its relative contrast reaches
//! [`super::matching::MatchConfig::min_photo_contrast`] times the median relative contrast of
//! the linked hairs read the same way (at least [`MIN_LINKED_READINGS`] of them).

use super::register::sample_lines_with_normals;
use super::transform::Similarity;
use crate::measure::stats::median;
use crate::measure::PhotoPixels;

/// Gap (px of the photo read) between the shaft's edge and the skin it is compared with.
pub const SIDE_GAP_PX: f64 = 2.0;
/// Spacing (px of the hair's own photo) of the points read along a centreline.
const STEP_PX: f64 = 1.0;
/// Most points read along one centreline (evenly spread).
const MAX_POINTS: usize = 64;
/// Step (px of the other photo) of the lateral offsets tried within the tolerance.
const OFFSET_STEP_PX: f64 = 0.5;
/// Fewest linked hairs whose relative contrast calibrates the rule; with fewer, no hair is
/// judged by its photo.
pub const MIN_LINKED_READINGS: usize = 5;

/// One visit's photo and a hair's centreline in it.
#[derive(Clone, Copy)]
pub struct Shaft<'a> {
    /// Centreline (px of its own photo).
    pub line: &'a [[f64; 2]],
    /// Half its width (px of its own photo).
    pub half_width_px: f64,
}

/// The two photos and the pose that carries the first one's pixels onto the second's.
pub struct PhotoPair<'a> {
    /// The photo the hairs were traced on.
    pub own: &'a PhotoPixels<'a>,
    /// The photo they are looked for in.
    pub other: &'a PhotoPixels<'a>,
    /// Own px → other px.
    pub own_to_other: Similarity,
    /// Largest lateral offset (px of the other photo) tried at each point.
    pub tolerance_px: f64,
}

impl PhotoPair<'_> {
    /// The shaft's relative contrast in the other photo (see the module docs); `None` when it
    /// has no measurable contrast in its own photo or fewer than half of its points lie in
    /// the other photo.
    pub fn relative_contrast(&self, shaft: Shaft) -> Option<f64> {
        let (points, normals) = spread(shaft.line);
        let own: Vec<[f64; 3]> = points
            .iter()
            .zip(&normals)
            .filter_map(|(&p, &n)| contrast(self.own, p, n, shaft.half_width_px))
            .collect();
        if own.len() < points.len().div_ceil(2) {
            return None;
        }
        let median_colour = [0, 1, 2].map(|c| median(own.iter().map(|v| v[c])).unwrap_or(0.0));
        let norm = median_colour.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm < 1e-3 {
            return None;
        }
        let direction = median_colour.map(|v| v / norm);
        let reference = median(own.iter().map(|v| dot(*v, direction)))?;
        if reference <= 0.0 {
            return None;
        }
        let scale = self.own_to_other.scale();
        let half_width = shaft.half_width_px * scale;
        let steps = (self.tolerance_px / OFFSET_STEP_PX).floor() as i64;
        let other: Vec<f64> = points
            .iter()
            .zip(&normals)
            .filter_map(|(&p, &n)| {
                let q = self.own_to_other.apply(p);
                let ahead = self.own_to_other.apply([p[0] + n[0], p[1] + n[1]]);
                let m = unit([ahead[0] - q[0], ahead[1] - q[1]])?;
                (-steps..=steps)
                    .filter_map(|k| {
                        let o = k as f64 * OFFSET_STEP_PX;
                        contrast(self.other, [q[0] + m[0] * o, q[1] + m[1] * o], m, half_width)
                    })
                    .map(|v| dot(v, direction))
                    .max_by(f64::total_cmp)
            })
            .collect();
        if other.len() < points.len().div_ceil(2) {
            return None;
        }
        Some(median(other)? / reference)
    }
}

/// The median relative contrast of the linked shafts, the yardstick of the rule; `None` with
/// fewer than [`MIN_LINKED_READINGS`] readings or a non-positive median.
pub fn linked_yardstick(pair: &PhotoPair, linked: &[Shaft]) -> Option<f64> {
    let readings: Vec<f64> = linked.iter().filter_map(|&s| pair.relative_contrast(s)).collect();
    if readings.len() < MIN_LINKED_READINGS {
        return None;
    }
    median(readings).filter(|m| *m > 0.0)
}

/// Points (at most [`MAX_POINTS`], evenly spread) and unit normals along `line`.
fn spread(line: &[[f64; 2]]) -> (Vec<[f64; 2]>, Vec<[f64; 2]>) {
    let (points, normals) = sample_lines_with_normals(&[line.to_vec()], STEP_PX);
    let stride = points.len().div_ceil(MAX_POINTS).max(1);
    points
        .into_iter()
        .zip(normals)
        .step_by(stride)
        .filter(|(_, n)| n[0] != 0.0 || n[1] != 0.0)
        .unzip()
}

/// Shaft colour minus the mean of the skin colours `half_width + SIDE_GAP_PX` either side of
/// `p` along the unit `normal`; `None` where any of the three reads leaves the photo.
fn contrast(photo: &PhotoPixels, p: [f64; 2], normal: [f64; 2], half_width: f64) -> Option<[f64; 3]> {
    let d = half_width + SIDE_GAP_PX;
    let centre = photo.colour(p[0], p[1])?;
    let left = photo.colour(p[0] - normal[0] * d, p[1] - normal[1] * d)?;
    let right = photo.colour(p[0] + normal[0] * d, p[1] + normal[1] * d)?;
    Some([0, 1, 2].map(|c| centre[c] - (left[c] + right[c]) / 2.0))
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn unit(v: [f64; 2]) -> Option<[f64; 2]> {
    let n = v[0].hypot(v[1]);
    (n > 0.0).then(|| [v[0] / n, v[1] / n])
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};

    /// A 120 × 80 skin-coloured photo with a horizontal shaft 4 px wide centred on y = `row`
    /// (rows `row` − 2 … `row` + 1), `depth` darker than the skin (0 = no shaft).
    fn photo(row: u32, depth: u8) -> RgbImage {
        RgbImage::from_fn(120, 80, |_, y| {
            if (row - 2..row + 2).contains(&y) {
                Rgb([200 - depth, 160 - depth, 140 - depth])
            } else {
                Rgb([200, 160, 140])
            }
        })
    }

    fn shaft_line() -> Vec<[f64; 2]> {
        (10..110).map(|x| [f64::from(x), 40.0]).collect()
    }

    fn reading(own: &RgbImage, other: &RgbImage, own_to_other: Similarity, tolerance_px: f64) -> Option<f64> {
        let (own, other) = (PhotoPixels::new(own, 1.0), PhotoPixels::new(other, 1.0));
        let pair = PhotoPair {
            own: &own,
            other: &other,
            own_to_other,
            tolerance_px,
        };
        let line = shaft_line();
        pair.relative_contrast(Shaft {
            line: &line,
            half_width_px: 2.0,
        })
    }

    #[test]
    fn a_fainter_shaft_keeps_its_share_of_the_contrast_and_bare_skin_has_none() {
        let own = photo(40, 100);
        let same = reading(&own, &photo(40, 100), Similarity::IDENTITY, 2.0).unwrap();
        assert!((same - 1.0).abs() < 1e-9, "{same}");
        let faint = reading(&own, &photo(40, 30), Similarity::IDENTITY, 2.0).unwrap();
        assert!((faint - 0.3).abs() < 0.01, "{faint}");
        let bare = reading(&own, &photo(40, 0), Similarity::IDENTITY, 2.0).unwrap();
        assert!(bare.abs() < 1e-9, "{bare}");
    }

    #[test]
    fn the_shaft_is_found_within_the_tolerance_of_the_mapped_line_and_not_beyond() {
        let own = photo(40, 100);
        // the other visit's shaft lies 4 px lower than the pose says
        let shifted = photo(44, 100);
        let within = reading(&own, &shifted, Similarity::IDENTITY, 4.0).unwrap();
        assert!(within > 0.95, "{within}");
        let beyond = reading(&own, &shifted, Similarity::IDENTITY, 1.0).unwrap();
        assert!(beyond < 0.8, "{beyond}");
        // the pose carries the line onto the shaft of a photo shifted by 10 px
        let moved = photo(30, 100);
        let posed = reading(&own, &moved, Similarity::from_params(1.0, 0.0, 0.0, -10.0), 1.0).unwrap();
        assert!(posed > 0.95, "{posed}");
    }

    #[test]
    fn a_shaft_without_contrast_in_its_own_photo_or_outside_the_other_is_not_read() {
        let bare = photo(40, 0);
        assert_eq!(reading(&bare, &photo(40, 100), Similarity::IDENTITY, 2.0), None);
        let far = Similarity::from_params(1.0, 0.0, 500.0, 0.0);
        assert_eq!(reading(&photo(40, 100), &photo(40, 100), far, 2.0), None);
    }

    #[test]
    fn the_yardstick_needs_enough_linked_shafts() {
        let (own, other) = (photo(40, 100), photo(40, 50));
        let (own, other) = (PhotoPixels::new(&own, 1.0), PhotoPixels::new(&other, 1.0));
        let pair = PhotoPair {
            own: &own,
            other: &other,
            own_to_other: Similarity::IDENTITY,
            tolerance_px: 1.0,
        };
        let line = shaft_line();
        let shaft = Shaft {
            line: &line,
            half_width_px: 2.0,
        };
        let few = vec![shaft; MIN_LINKED_READINGS - 1];
        assert_eq!(linked_yardstick(&pair, &few), None);
        let enough = vec![shaft; MIN_LINKED_READINGS];
        let yardstick = linked_yardstick(&pair, &enough).unwrap();
        assert!((yardstick - 0.5).abs() < 0.01, "{yardstick}");
    }
}

//! Which traced hair is which true hair: a traced centreline matches a true one when most of
//! it runs within half the true shaft width (plus a pixel) of it. Used to score widths and
//! classes hair by hair.

use crate::geometry::distance_to_polyline;

/// Fraction of a traced centreline that must lie along a true one for the two to match.
pub const MIN_SHARED_FRACTION: f64 = 0.6;
/// Slack (px) added to the true half-width when deciding that a traced point lies on a hair:
/// a centreline traced from a pixel grid is off by up to a pixel.
pub const CENTRELINE_SLACK_PX: f64 = 1.0;
/// Smallest tolerance (px) for thin hairs.
pub const MIN_TOLERANCE_PX: f64 = 2.0;

/// A centreline with the half-width within which points count as on it.
pub struct Track<'a> {
    /// Polyline in pixels.
    pub points: &'a [[f64; 2]],
    /// Tolerance (px).
    pub tolerance_px: f64,
}

impl Track<'_> {
    fn bounds(&self) -> [f64; 4] {
        let t = self.tolerance_px;
        self.points.iter().fold(
            [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
            |b, p| {
                [
                    b[0].min(p[0] - t),
                    b[1].min(p[1] - t),
                    b[2].max(p[0] + t),
                    b[3].max(p[1] + t),
                ]
            },
        )
    }
}

/// The tolerance for a true hair `width_px` wide.
pub fn tolerance_px(width_px: f64) -> f64 {
    (width_px / 2.0 + CENTRELINE_SLACK_PX).max(MIN_TOLERANCE_PX)
}

/// Fraction of `traced`'s points within `truth.tolerance_px` of `truth`'s centreline.
pub fn shared_fraction(traced: &[[f64; 2]], truth: &Track) -> f64 {
    if traced.is_empty() {
        return 0.0;
    }
    let b = truth.bounds();
    let on = traced
        .iter()
        .filter(|p| p[0] >= b[0] && p[1] >= b[1] && p[0] <= b[2] && p[1] <= b[3])
        .filter(|p| distance_to_polyline(**p, truth.points) <= truth.tolerance_px)
        .count();
    on as f64 / traced.len() as f64
}

/// One-to-one matches `(traced index, truth index)`: pairs sharing at least
/// [`MIN_SHARED_FRACTION`] of the traced centreline, best first.
pub fn match_hairs(traced: &[&[[f64; 2]]], truths: &[Track]) -> Vec<(usize, usize)> {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, points) in traced.iter().enumerate() {
        for (j, truth) in truths.iter().enumerate() {
            let f = shared_fraction(points, truth);
            if f >= MIN_SHARED_FRACTION {
                candidates.push((f, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_traced, mut used_truth) = (vec![false; traced.len()], vec![false; truths.len()]);
    let mut matches = Vec::new();
    for (_, i, j) in candidates {
        if !used_traced[i] && !used_truth[j] {
            used_traced[i] = true;
            used_truth[j] = true;
            matches.push((i, j));
        }
    }
    matches
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(y: f64) -> Vec<[f64; 2]> {
        (0..50).map(|x| [f64::from(x), y]).collect()
    }

    #[test]
    fn parallel_lines_match_their_own_hair_only() {
        let (a, b) = (line(10.0), line(20.0));
        let truths = [
            Track {
                points: &b,
                tolerance_px: tolerance_px(4.0),
            },
            Track {
                points: &a,
                tolerance_px: tolerance_px(4.0),
            },
        ];
        let traced_a = line(11.0);
        let traced_far = line(15.0);
        let matches = match_hairs(&[&traced_a, &traced_far], &truths);
        assert_eq!(matches, vec![(0, 1)]);
    }

    #[test]
    fn a_short_piece_of_a_long_hair_matches_it() {
        let long = line(5.0);
        let truth = [Track {
            points: &long,
            tolerance_px: 2.0,
        }];
        let piece: Vec<[f64; 2]> = (10..20).map(|x| [f64::from(x), 6.5]).collect();
        assert!((shared_fraction(&piece, &truth[0]) - 1.0).abs() < 1e-12);
        assert_eq!(match_hairs(&[&piece], &truth), vec![(0, 0)]);
    }
}

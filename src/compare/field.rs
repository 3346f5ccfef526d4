//! The common field: the baseline pixels that are scalp in both visits once the follow-up is
//! registered onto the baseline. Every response metric is computed on it, so hairs that
//! merely moved into or out of view do not count as gained or lost.

use serde::{Deserialize, Serialize};

use super::glare::Glare;
use super::transform::Similarity;
use crate::quality::FieldMask;

/// The part of the baseline frame seen as scalp in both visits.
#[derive(Debug, Clone, PartialEq)]
pub struct CommonField {
    /// Baseline frame width (px).
    pub width: u32,
    /// Baseline frame height (px).
    pub height: u32,
    /// Row-major, `true` where both visits show scalp.
    pub mask: Vec<bool>,
    /// Pixels in the common field (baseline px).
    pub area_px: u64,
    /// Scalp pixels of the baseline field.
    pub baseline_area_px: u64,
    /// Pixels scalp in both visits but left out because glare hid them at either visit.
    pub glare_excluded_px: u64,
}

/// Whether the row-major `width × height` `mask` is set at position `(x, y)` (px, continuous);
/// `false` outside it.
pub(crate) fn mask_at(mask: &[bool], width: u32, height: u32, x: f64, y: f64) -> bool {
    x >= 0.0
        && y >= 0.0
        && x < f64::from(width)
        && y < f64::from(height)
        && mask[y as usize * width as usize + x as usize]
}

/// Areas of the common field, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CommonFieldRecord {
    /// Common field area in baseline pixels.
    pub area_px: u64,
    /// Common field area in mm² (baseline calibration), if calibrated.
    pub area_mm2: Option<f64>,
    /// Common field area over the baseline field area.
    pub overlap_fraction: f64,
    /// Baseline pixels of both visits' scalp left out because glare hid them at either visit.
    pub glare_excluded_px: u64,
}

impl CommonField {
    /// The baseline pixels that are scalp in `baseline` and whose image under the inverse of
    /// `followup_to_baseline` is scalp in `followup`, less those under `glare` at either visit
    /// (`glare.0` on the baseline, `glare.1` on the follow-up), which are counted in
    /// [`Self::glare_excluded_px`].
    pub fn new(
        baseline: &FieldMask,
        followup: &FieldMask,
        followup_to_baseline: &Similarity,
        glare: Option<(&Glare, &Glare)>,
    ) -> Self {
        let to_followup = followup_to_baseline.inverse();
        let (w, h) = (baseline.width, baseline.height);
        let mut mask = vec![false; w as usize * h as usize];
        let (mut area_px, mut glare_excluded_px) = (0, 0);
        for y in 0..h {
            for x in 0..w {
                if !baseline.is_scalp(x, y) {
                    continue;
                }
                let p = [f64::from(x) + 0.5, f64::from(y) + 0.5];
                let q = to_followup.apply(p);
                let inside = q[0] >= 0.0
                    && q[1] >= 0.0
                    && q[0] < f64::from(followup.width)
                    && q[1] < f64::from(followup.height)
                    && followup.is_scalp(q[0] as u32, q[1] as u32);
                if !inside {
                    continue;
                }
                if glare.is_some_and(|(b, f)| b.covers(p[0], p[1]) || f.covers(q[0], q[1])) {
                    glare_excluded_px += 1;
                } else {
                    mask[(y * w + x) as usize] = true;
                    area_px += 1;
                }
            }
        }
        Self {
            width: w,
            height: h,
            mask,
            area_px,
            baseline_area_px: baseline.scalp_pixels,
            glare_excluded_px,
        }
    }

    /// Whether baseline position `(x, y)` (px, continuous) is in the common field.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        mask_at(&self.mask, self.width, self.height, x, y)
    }

    /// Common area over the baseline field area (0 when the baseline field is empty).
    pub fn overlap_fraction(&self) -> f64 {
        if self.baseline_area_px == 0 {
            0.0
        } else {
            self.area_px as f64 / self.baseline_area_px as f64
        }
    }

    /// Length (px) of `line` (baseline px) inside the common field, sampled every half pixel.
    pub fn length_inside_px(&self, line: &[[f64; 2]]) -> f64 {
        const STEP_PX: f64 = 0.5;
        line.windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                let len = (b[0] - a[0]).hypot(b[1] - a[1]);
                let pieces = (len / STEP_PX).ceil().max(1.0) as usize;
                let inside = (0..pieces)
                    .filter(|&i| {
                        let t = (i as f64 + 0.5) / pieces as f64;
                        self.contains(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                    })
                    .count();
                len * inside as f64 / pieces as f64
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glare_at_either_visit_is_left_out() {
        let field = FieldMask::full(100, 50);
        let shift = Similarity::from_params(1.0, 0.0, 10.0, 0.0);
        let common = CommonField::new(&field, &field, &shift, None);
        let area = common.area_px;
        let glare = |x0: u32, x1: u32| Glare {
            width: 100,
            height: 50,
            mask: (0..100 * 50).map(|i| (x0..x1).contains(&(i % 100))).collect(),
        };
        let none = glare(0, 0);
        // baseline columns 20..30 under glare at baseline; follow-up columns 60..70 (baseline
        // columns 70..80) under glare at follow-up
        let left = CommonField::new(&field, &field, &shift, Some((&glare(20, 30), &glare(60, 70))));
        let removed = left.glare_excluded_px;
        assert_eq!(removed, 2 * 10 * 50);
        assert_eq!(left.area_px, area - removed);
        assert!(!left.contains(25.5, 10.5) && !left.contains(75.5, 10.5) && left.contains(50.5, 10.5));
        let unchanged = CommonField::new(&field, &field, &shift, Some((&none, &none)));
        assert_eq!((unchanged.glare_excluded_px, unchanged), (0, common));
    }

    #[test]
    fn a_half_frame_shift_leaves_half_the_field() {
        let field = FieldMask::full(100, 50);
        let shift = Similarity::from_params(1.0, 0.0, 50.0, 0.0);
        let common = CommonField::new(&field, &field, &shift, None);
        assert_eq!(common.area_px, 50 * 50);
        assert!((common.overlap_fraction() - 0.5).abs() < 1e-12);
        assert!(common.contains(75.0, 10.0) && !common.contains(25.0, 10.0));
        assert!((common.length_inside_px(&[[0.0, 10.0], [100.0, 10.0]]) - 50.0).abs() < 0.6);
    }
}

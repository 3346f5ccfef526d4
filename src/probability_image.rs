//! A probability map read at continuous positions: bilinear values for the width profiles
//! across shafts, pixel means along the gaps the tracer may bridge.

use crate::geometry::distance;

/// A `width × height` probability map, row-major; pixel (i, j) covers [i, i+1) × [j, j+1)
/// and its value belongs to the pixel centre (i + ½, j + ½).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProbabilityImage<'a> {
    data: &'a [f32],
    width: usize,
    height: usize,
}

/// The four pixels (row-major index) and weights of a bilinear read at (x, y) on a `width ×
/// height` grid whose pixel (i, j) covers [i, i+1) × [j, j+1) with its value at the centre;
/// `None` outside [0, width] × [0, height] or on an empty grid. Within half a pixel of the
/// border the outermost row or column is extended.
pub(crate) fn bilinear_taps(x: f64, y: f64, width: usize, height: usize) -> Option<[(usize, f64); 4]> {
    let (w, h) = (width as f64, height as f64);
    if width == 0 || height == 0 || !((0.0..=w).contains(&x) && (0.0..=h).contains(&y)) {
        return None;
    }
    let u = (x - 0.5).clamp(0.0, w - 1.0);
    let v = (y - 0.5).clamp(0.0, h - 1.0);
    let (i0, j0) = (u.floor() as usize, v.floor() as usize);
    let (i1, j1) = ((i0 + 1).min(width - 1), (j0 + 1).min(height - 1));
    let (fx, fy) = (u - i0 as f64, v - j0 as f64);
    Some([
        (j0 * width + i0, (1.0 - fx) * (1.0 - fy)),
        (j0 * width + i1, fx * (1.0 - fy)),
        (j1 * width + i0, (1.0 - fx) * fy),
        (j1 * width + i1, fx * fy),
    ])
}

impl<'a> ProbabilityImage<'a> {
    /// The map, or `None` if it is empty or does not hold `width × height` values.
    pub(crate) fn new(data: &'a [f32], width: usize, height: usize) -> Option<Self> {
        (width > 0 && height > 0 && data.len() == width * height).then_some(Self { data, width, height })
    }

    /// Bilinear value at (x, y); `None` outside the image [0, width] × [0, height]. Within
    /// half a pixel of the border the outermost row or column is extended.
    pub(crate) fn sample(&self, x: f64, y: f64) -> Option<f64> {
        let taps = bilinear_taps(x, y, self.width, self.height)?;
        Some(taps.iter().map(|&(i, weight)| weight * f64::from(self.data[i])).sum())
    }

    /// The values, row-major.
    pub(crate) fn values(&self) -> &'a [f32] {
        self.data
    }

    /// Longest straight walk (px) that can stay inside the image.
    pub(crate) fn diagonal_px(&self) -> f64 {
        (self.width as f64).hypot(self.height as f64)
    }

    /// Mean value of the pixels under the points of `polyline` (about a pixel apart, as traced
    /// centrelines are), leaving out points on `skipped` pixels (a `width × height` mask);
    /// points outside the image count as 0; 0 when no point is left.
    pub(crate) fn mean_at_points(&self, polyline: &[[f64; 2]], skipped: Option<&[bool]>) -> f32 {
        let (sum, kept) = polyline
            .iter()
            .filter(|&&[x, y]| !self.flagged(skipped, x, y))
            .fold((0.0f32, 0usize), |(sum, kept), &[x, y]| {
                (sum + self.pixel(x, y), kept + 1)
            });
        if kept == 0 {
            return 0.0;
        }
        sum / kept as f32
    }

    /// Whether (x, y) lies on a set pixel of `mask` (`width × height`, row-major); `false`
    /// outside the image, without a mask, or with a mask of another size.
    fn flagged(&self, mask: Option<&[bool]>, x: f64, y: f64) -> bool {
        mask.filter(|m| m.len() == self.data.len())
            .is_some_and(|m| self.index(x, y).is_some_and(|i| m[i]))
    }

    /// Value of the pixel containing (x, y); 0 outside the image.
    fn pixel(&self, x: f64, y: f64) -> f32 {
        self.index(x, y).map_or(0.0, |i| self.data[i])
    }

    /// Row-major index of the pixel containing (x, y); `None` outside the image.
    fn index(&self, x: f64, y: f64) -> Option<usize> {
        let (xi, yi) = (x.floor() as i64, y.floor() as i64);
        let inside = (0..self.width as i64).contains(&xi) && (0..self.height as i64).contains(&yi);
        inside.then(|| yi as usize * self.width + xi as usize)
    }

    /// The pixels under the segment `a`–`b`, sampled every half pixel: samples on `hidden`
    /// pixels (a `width × height` mask of where nothing can be seen, such as device overlays
    /// drawn over the scalp) are left out of the mean and counted as hidden; samples outside
    /// the image count as 0.
    pub(crate) fn along(&self, a: [f64; 2], b: [f64; 2], hidden: Option<&[bool]>) -> Along {
        let steps = (2.0 * distance(a, b)).ceil().max(1.0) as usize;
        let (mut sum, mut seen) = (0.0f32, 0usize);
        for k in 0..=steps {
            let t = k as f64 / steps as f64;
            let (x, y) = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]));
            if !self.flagged(hidden, x, y) {
                sum += self.pixel(x, y);
                seen += 1;
            }
        }
        Along {
            mean: (seen > 0).then(|| sum / seen as f32),
            hidden_fraction: (steps + 1 - seen) as f64 / (steps + 1) as f64,
        }
    }
}

/// What a straight walk over a map saw (see [`ProbabilityImage::along`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Along {
    /// Mean value over the samples not hidden; `None` when every sample was hidden.
    pub mean: Option<f32>,
    /// Share of the samples (0–1) that fell on hidden pixels.
    pub hidden_fraction: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bilinear_sampling_uses_pixel_centres() {
        let data = [0.0, 1.0, 2.0, 3.0];
        let map = ProbabilityImage::new(&data, 2, 2).unwrap();
        assert_eq!(map.sample(0.5, 0.5), Some(0.0));
        assert_eq!(map.sample(1.0, 0.5), Some(0.5));
        assert_eq!(map.sample(1.0, 1.0), Some(1.5));
        assert_eq!(map.sample(0.0, 0.0), Some(0.0));
        assert_eq!(map.sample(2.0, 2.0), Some(3.0));
        assert_eq!(map.sample(2.1, 1.0), None);
        assert_eq!(map.sample(f64::NAN, 1.0), None);
        assert!(ProbabilityImage::new(&data, 3, 2).is_none());
    }

    #[test]
    fn the_walk_along_a_segment_counts_samples_outside_as_zero() {
        let data = [1.0, 1.0, 0.0, 0.0];
        let map = ProbabilityImage::new(&data, 2, 2).unwrap();
        assert_eq!(map.along([0.5, 0.5], [1.5, 0.5], None).mean, Some(1.0));
        assert_eq!(map.along([0.5, 1.5], [1.5, 1.5], None).mean, Some(0.0));
        // half the samples (x ≥ 2) fall outside
        assert_eq!(map.along([0.25, 0.5], [3.75, 0.5], None).mean, Some(4.0 / 8.0));
    }

    #[test]
    fn hidden_pixels_are_left_out_of_the_mean_and_counted() {
        let data = [1.0, 0.0, 1.0, 1.0];
        let map = ProbabilityImage::new(&data, 4, 1).unwrap();
        let hidden = [false, true, false, false];
        // samples at x = 0.5, 1.0, …, 3.5: x in [1, 2) is hidden
        let walk = map.along([0.5, 0.5], [3.5, 0.5], Some(&hidden));
        assert_eq!(walk.mean, Some(1.0));
        assert!((walk.hidden_fraction - 2.0 / 7.0).abs() < 1e-12, "{walk:?}");
        let all_hidden = [true; 4];
        assert_eq!(map.along([0.5, 0.5], [3.5, 0.5], Some(&all_hidden)).mean, None);
        assert_eq!(map.along([0.5, 0.5], [3.5, 0.5], None).hidden_fraction, 0.0);
    }

    #[test]
    fn the_mean_at_points_reads_each_points_pixel() {
        let data = [1.0, 0.5, 0.0, 0.0];
        let map = ProbabilityImage::new(&data, 2, 2).unwrap();
        assert_eq!(map.mean_at_points(&[[0.2, 0.9], [1.7, 0.1]], None), 0.75);
        assert_eq!(
            map.mean_at_points(&[[0.5, 0.5], [5.0, 0.5]], None),
            0.5,
            "outside counts as 0"
        );
        assert_eq!(map.mean_at_points(&[], None), 0.0);
        let skipped = [false, false, true, false];
        assert_eq!(
            map.mean_at_points(&[[0.5, 0.5], [0.5, 1.5], [1.5, 0.5]], Some(&skipped)),
            0.75,
            "the point on (0, 1) is left out"
        );
        assert_eq!(map.mean_at_points(&[[0.5, 1.5]], Some(&skipped)), 0.0);
    }
}

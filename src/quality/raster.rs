//! Pixel-level helpers shared by the overlay detectors and the quality report: luma, windows of
//! the frame, square dilation/erosion, local range and a sensor-noise estimate, all on row-major
//! buffers.

use image::RgbImage;

/// Rec. 601 luma of an RGB pixel, in grey levels (0–255).
pub(crate) fn luma(p: [u8; 3]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// Luma of every pixel, row-major.
pub(crate) fn luma_plane(rgb: &RgbImage) -> Vec<f32> {
    rgb.pixels().map(|p| luma(p.0)).collect()
}

/// Largest per-channel absolute difference between two colours (grey levels).
pub(crate) fn colour_distance(a: [u8; 3], b: [u8; 3]) -> u8 {
    (0..3).map(|c| a[c].abs_diff(b[c])).max().unwrap_or(0)
}

/// A rectangle of the frame (row-major, frame width `w`): the part of the frame around one
/// candidate (a stroke, a dark surround) that its morphology runs on, or a graphic's bounding box.
pub(crate) struct Window {
    pub(crate) x0: usize,
    pub(crate) y0: usize,
    pub(crate) width: usize,
    pub(crate) height: usize,
}

impl Window {
    /// The bounding box of `pixels` (frame indices, at least one) widened by `margin`, clipped
    /// to the frame.
    pub(crate) fn around<'p>(pixels: impl IntoIterator<Item = &'p usize>, w: usize, h: usize, margin: usize) -> Self {
        let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
        for &i in pixels {
            let (x, y) = (i % w, i / w);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        let (x0, y0) = (x0.saturating_sub(margin), y0.saturating_sub(margin));
        let (x1, y1) = ((x1 + margin).min(w - 1), (y1 + margin).min(h - 1));
        Self {
            x0,
            y0,
            width: x1 + 1 - x0,
            height: y1 + 1 - y0,
        }
    }

    /// The window's part of a frame-sized `mask`.
    pub(crate) fn crop(&self, mask: &[bool], w: usize) -> Vec<bool> {
        (self.y0..self.y0 + self.height)
            .flat_map(|y| &mask[y * w + self.x0..y * w + self.x0 + self.width])
            .copied()
            .collect()
    }

    /// Window index of frame index `i` (which must lie inside the window).
    pub(crate) fn local(&self, i: usize, w: usize) -> usize {
        (i / w - self.y0) * self.width + i % w - self.x0
    }

    /// Frame index of window index `k`.
    pub(crate) fn frame_index(&self, k: usize, w: usize) -> usize {
        (self.y0 + k / self.width) * w + self.x0 + k % self.width
    }
}

/// Square (Chebyshev) dilation of `mask` by `r` px; separable, border treated as unset.
pub(crate) fn dilate(mask: &[bool], width: usize, height: usize, r: usize) -> Vec<bool> {
    morph(mask, width, height, r, true)
}

/// Square erosion of `mask` by `r` px; pixels outside the image count as unset.
pub(crate) fn erode(mask: &[bool], width: usize, height: usize, r: usize) -> Vec<bool> {
    morph(mask, width, height, r, false)
}

/// Running counts over a square window: dilation keeps a pixel if any neighbour within `r` is
/// set, erosion if all `(2r+1)²` are (outside counts as unset). Separable: a pass along each
/// row, then a pass down the columns that keeps one count per column and moves the window a
/// row at a time, so both passes read memory in order.
fn morph(mask: &[bool], width: usize, height: usize, r: usize, any: bool) -> Vec<bool> {
    let keep = |set: usize| if any { set > 0 } else { set == 2 * r + 1 };
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let mut rows = vec![false; mask.len()];
    let mut prefix = vec![0usize; width + 1];
    for (src, dst) in mask.chunks_exact(width).zip(rows.chunks_exact_mut(width)) {
        for (k, &set) in src.iter().enumerate() {
            prefix[k + 1] = prefix[k] + usize::from(set);
        }
        for (k, out) in dst.iter_mut().enumerate() {
            let (lo, hi) = (k.saturating_sub(r), (k + r + 1).min(width));
            *out = keep(prefix[hi] - prefix[lo]);
        }
    }
    let row = |y: usize| &rows[y * width..(y + 1) * width];
    let mut counts = vec![0usize; width];
    let mut out = vec![false; mask.len()];
    // The window of row y is rows y-r..=y+r, clipped; start with the part above row r.
    for y in 0..r.min(height) {
        for (n, &set) in counts.iter_mut().zip(row(y)) {
            *n += usize::from(set);
        }
    }
    for (y, dst) in out.chunks_exact_mut(width).enumerate() {
        if y + r < height {
            for (n, &set) in counts.iter_mut().zip(row(y + r)) {
                *n += usize::from(set);
            }
        }
        if y > r {
            for (n, &set) in counts.iter_mut().zip(row(y - r - 1)) {
                *n -= usize::from(set);
            }
        }
        dst.iter_mut().zip(&counts).for_each(|(d, &n)| *d = keep(n));
    }
    out
}

/// Max − min of `plane` over the (2r+1)² square around each pixel (clipped at the border);
/// separable, so the cost does not grow with the window area. Each pass combines whole rows
/// (shifted copies along a row, neighbouring rows down the columns), so it reads memory in
/// order and vectorises.
pub(crate) fn local_range(plane: &[f32], width: usize, height: usize, r: usize) -> Vec<f32> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let (mut row_max, mut row_min) = (plane.to_vec(), plane.to_vec());
    for (src, (hi, lo)) in plane
        .chunks_exact(width)
        .zip(row_max.chunks_exact_mut(width).zip(row_min.chunks_exact_mut(width)))
    {
        for shift in 1..=r.min(width - 1) {
            // Neighbours `shift` to the right, then `shift` to the left.
            for (k, &v) in src[shift..].iter().enumerate() {
                (hi[k], lo[k]) = (hi[k].max(v), lo[k].min(v));
            }
            for (k, &v) in src[..width - shift].iter().enumerate() {
                let k = k + shift;
                (hi[k], lo[k]) = (hi[k].max(v), lo[k].min(v));
            }
        }
    }
    let mut range = vec![0f32; plane.len()];
    let mut hi = vec![0f32; width];
    let mut lo = vec![0f32; width];
    for (y, out) in range.chunks_exact_mut(width).enumerate() {
        hi.copy_from_slice(&row_max[y * width..(y + 1) * width]);
        lo.copy_from_slice(&row_min[y * width..(y + 1) * width]);
        for other in y.saturating_sub(r)..(y + r + 1).min(height) {
            let (other_hi, other_lo) = (
                &row_max[other * width..(other + 1) * width],
                &row_min[other * width..(other + 1) * width],
            );
            hi.iter_mut().zip(other_hi).for_each(|(a, &b)| *a = a.max(b));
            lo.iter_mut().zip(other_lo).for_each(|(a, &b)| *a = a.min(b));
        }
        out.iter_mut()
            .zip(hi.iter().zip(&lo))
            .for_each(|(o, (a, b))| *o = a - b);
    }
    range
}

/// Sensor-noise σ (grey levels) of a luma plane, by Immerkær's operator (1996): the 3×3
/// second-difference mask cancels smooth image structure, leaving noise. Averaged per 16×16
/// tile and taken at the 10th percentile of tiles, so that hair edges and texture (which the
/// mask does not cancel) in most tiles do not inflate it.
pub(crate) fn noise_sigma(plane: &[f32], width: usize, height: usize) -> f64 {
    const TILE: usize = 16;
    const PERCENTILE: f64 = 0.10;
    if width < 3 || height < 3 {
        return 0.0;
    }
    let mut tiles = Vec::new();
    for ty in (1..height - 1).step_by(TILE) {
        for tx in (1..width - 1).step_by(TILE) {
            let (mut sum, mut n) = (0f64, 0usize);
            for y in ty..(ty + TILE).min(height - 1) {
                for x in tx..(tx + TILE).min(width - 1) {
                    let v = |dx: isize, dy: isize| {
                        plane[(y as isize + dy) as usize * width + (x as isize + dx) as usize] as f64
                    };
                    let l = v(-1, -1) - 2.0 * v(0, -1) + v(1, -1) - 2.0 * v(-1, 0) + 4.0 * v(0, 0) - 2.0 * v(1, 0)
                        + v(-1, 1)
                        - 2.0 * v(0, 1)
                        + v(1, 1);
                    sum += l.abs();
                    n += 1;
                }
            }
            if n > 0 {
                tiles.push(sum / n as f64);
            }
        }
    }
    tiles.sort_by(f64::total_cmp);
    let at = ((tiles.len() as f64 - 1.0) * PERCENTILE).round() as usize;
    // E|L| = 6σ·sqrt(2/π) for Gaussian noise under this mask.
    tiles
        .get(at)
        .map_or(0.0, |m| m * (std::f64::consts::PI / 2.0).sqrt() / 6.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dilation_and_erosion_are_square_and_border_safe() {
        let (w, h) = (9, 9);
        let mut mask = vec![false; w * h];
        mask[4 * w + 4] = true;
        let grown = dilate(&mask, w, h, 2);
        assert_eq!(grown.iter().filter(|v| **v).count(), 25);
        assert_eq!(erode(&grown, w, h, 2).iter().filter(|v| **v).count(), 1);
        assert!(erode(&vec![true; w * h], w, h, 1)[0..w].iter().all(|v| !v));
    }

    /// A deterministic pseudo-random sequence for the reference comparisons.
    fn hashed(i: usize, salt: usize) -> usize {
        (i.wrapping_mul(2_654_435_761) ^ salt.wrapping_mul(40_503)).wrapping_mul(2_246_822_519) >> 7
    }

    /// Indices of the (2r+1)² window around pixel `i` of a `w × h` plane, clipped at the border.
    fn clipped_window(i: usize, w: usize, h: usize, r: usize) -> impl Iterator<Item = usize> {
        let (x, y) = (i % w, i / w);
        (y.saturating_sub(r)..(y + r + 1).min(h))
            .flat_map(move |yy| (x.saturating_sub(r)..(x + r + 1).min(w)).map(move |xx| yy * w + xx))
    }

    /// Whether the clipped (2r+1)² window around (x, y) has any / all pixels set, directly.
    fn naive_morph(mask: &[bool], w: usize, h: usize, r: usize, any: bool) -> Vec<bool> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                let r = r as isize;
                let window = (y - r..=y + r).flat_map(|yy| (x - r..=x + r).map(move |xx| (xx, yy)));
                let mut values = window.map(|(xx, yy)| {
                    (0..w as isize).contains(&xx)
                        && (0..h as isize).contains(&yy)
                        && mask[yy as usize * w + xx as usize]
                });
                if any {
                    values.any(|v| v)
                } else {
                    values.all(|v| v)
                }
            })
            .collect()
    }

    #[test]
    fn dilation_and_erosion_match_the_direct_definition() {
        for (w, h) in [(1, 1), (1, 7), (9, 1), (13, 11), (30, 17)] {
            for density in [2, 5, 9] {
                let mask: Vec<bool> = (0..w * h).map(|i| hashed(i, density) % 10 < density).collect();
                for r in [0, 1, 2, 4, 20] {
                    assert_eq!(
                        dilate(&mask, w, h, r),
                        naive_morph(&mask, w, h, r, true),
                        "{w}x{h} r={r}"
                    );
                    assert_eq!(
                        erode(&mask, w, h, r),
                        naive_morph(&mask, w, h, r, false),
                        "{w}x{h} r={r}"
                    );
                }
            }
        }
    }

    #[test]
    fn local_range_matches_the_direct_definition() {
        for (w, h) in [(1, 1), (1, 6), (8, 1), (12, 9), (25, 19)] {
            let plane: Vec<f32> = (0..w * h).map(|i| (hashed(i, 3) % 1000) as f32 / 7.0).collect();
            for r in [0, 1, 4, 30] {
                let naive: Vec<f32> = (0..w * h)
                    .map(|i| {
                        let values: Vec<f32> = clipped_window(i, w, h, r).map(|j| plane[j]).collect();
                        values.iter().copied().fold(f32::MIN, f32::max)
                            - values.iter().copied().fold(f32::MAX, f32::min)
                    })
                    .collect();
                assert_eq!(local_range(&plane, w, h, r), naive, "{w}x{h} r={r}");
            }
        }
    }

    #[test]
    fn local_range_is_max_minus_min_of_the_window() {
        let plane = vec![0.0, 5.0, 1.0, 9.0, 2.0];
        assert_eq!(local_range(&plane, 5, 1, 1), vec![5.0, 5.0, 8.0, 8.0, 7.0]);
    }

    #[test]
    fn noise_estimate_ignores_gradients_and_finds_noise() {
        let (w, h) = (64, 64);
        let ramp: Vec<f32> = (0..w * h).map(|i| (i % w) as f32 * 2.0 + (i / w) as f32).collect();
        assert!(noise_sigma(&ramp, w, h) < 1e-6);
        // Deterministic ±5 pseudo-noise (σ = 5).
        let noisy: Vec<f32> = (0..w * h)
            .map(|i| 100.0 + if (i * 7919 + i / 3) % 2 == 0 { 5.0 } else { -5.0 })
            .collect();
        let s = noise_sigma(&noisy, w, h);
        assert!(s > 2.0 && s < 12.0, "{s}");
    }
}

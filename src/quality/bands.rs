//! Whole rows and columns that are one flat colour: blank (letterbox or dropped) lines anywhere,
//! and text bars — flat strips along an image edge with the device's caption printed inside.
//!
//! A line is *flat* when its pixels are one colour up to sensor noise and its local medians agree
//! along its whole length. Skin never passes: illumination falls off across the field, and
//! texture, pores and hairs vary along any line.

use image::RgbImage;

use super::raster::{colour_distance, luma};
use super::{OverlayKind, OverlayRegion};

/// Largest robust noise σ (grey levels) a flat line may show. Burnt-in graphics have none;
/// graphics that passed through an analogue video chain or a sensor pipeline pick up the same
/// noise as the photo, which stays below ~5 % of full scale on any usable camera.
const MAX_LINE_NOISE_SIGMA: f64 = 12.0;
/// Tolerance floor (grey levels) for "the same colour": covers 8-bit rounding and the ±1–2
/// level drift JPEG leaves in flat 8×8 blocks.
const FLAT_TOL_MIN: f64 = 4.0;
/// Noise multiples added to the tolerance: 3σ keeps 99.7 % of Gaussian noise inside.
const FLAT_TOL_SIGMAS: f64 = 3.0;
/// Share of a flat line's pixels that must lie within tolerance (plus [`JPEG_RINGING_TOL`]) of its
/// colour; the rest is JPEG ringing around nearby glyphs, chroma bleeding, a stray glyph pixel.
/// Drift along the line is excluded separately, by the segment medians.
const FLAT_INLIER_FRACTION: f64 = 0.9;
/// Share of an interior blank line's pixels within tolerance (no ringing allowance): dropped
/// or letterboxed lines carry no text, so nearly all of them is the one colour.
const EXACT_INLIER_FRACTION: f64 = 0.97;
/// Largest noise σ (grey levels) of an exact line: 8-bit rounding and JPEG leave well under 2.
const EXACT_LINE_NOISE_SIGMA: f64 = 2.0;
/// Largest luma (grey levels) of a dark device line or bar with noise on it.
const DARK_LINE_LUMA: f32 = 64.0;
/// Segments a line is cut into to check that its colour does not drift along it: quarters,
/// long enough that their medians resolve a few grey levels of drift even under heavy noise.
const LINE_SEGMENTS: usize = 4;
/// Tolerance floor (grey levels) for a segment median to differ from the line's colour.
const SEGMENT_TOL_MIN: f64 = 2.0;
/// Share of a text row's pixels that must still have the bar colour: caption glyphs cover at
/// most about half of a row they cross.
const TEXT_ROW_MIN_BAR_FRACTION: f64 = 0.5;
/// Extra tolerance (grey levels) for a pixel to still have a line's colour: JPEG rings around
/// glyph edges over the rest of their 8×8 block, and 4:2:0 chroma bleeds across 2 px.
const JPEG_RINGING_TOL: u8 = 12;
/// A bar is never deeper than this share of the image side (deeper flat lines are still found,
/// one by one, as blank lines).
const MAX_BAR_DEPTH_FRACTION: f64 = 0.25;

/// A line's colour and noise if it is flat.
#[derive(Debug, Clone, Copy)]
struct Flat {
    colour: [u8; 3],
    tol: u8,
    /// Pixel-to-pixel noise σ (grey levels).
    sigma: f64,
}

impl Flat {
    /// Whether the line is device-made rather than weakly textured skin under heavy noise: either
    /// exact (no noise: composited digitally) or dark (letterbox and dropped lines are black, and
    /// caption bars dark so their text reads; skin is never that dark evenly along a whole line).
    fn is_device_made(&self) -> bool {
        self.sigma <= EXACT_LINE_NOISE_SIGMA || luma(self.colour) <= DARK_LINE_LUMA
    }
}

/// The value at index `n / 2` of the `n` bytes in sorted order (the upper median), found by
/// counting: exact, linear in `n` and without a copy to sort. 0 when there are none.
fn byte_median(values: impl Iterator<Item = u8>) -> u8 {
    let mut histogram = [0usize; 256];
    let mut n = 0;
    for v in values {
        histogram[usize::from(v)] += 1;
        n += 1;
    }
    let mut seen = 0;
    for (value, &count) in (0..=u8::MAX).zip(&histogram) {
        seen += count;
        if seen > n / 2 {
            return value;
        }
    }
    0
}

/// Per-channel median colour of `pixels` (non-empty).
fn median_colour(pixels: &[[u8; 3]]) -> [u8; 3] {
    [0, 1, 2].map(|c| byte_median(pixels.iter().map(|p| p[c])))
}

/// Noise σ from neighbour differences (robust; largest channel): smooth drift cancels out.
fn difference_sigma(pixels: &[[u8; 3]]) -> f64 {
    (0..3)
        .map(|c| {
            let diffs = pixels.windows(2).map(|p| p[0][c].abs_diff(p[1][c]));
            // Differences of two noisy pixels have σ√2; their median |d| is 0.674·σ√2.
            byte_median(diffs) as f64 / (0.674 * std::f64::consts::SQRT_2)
        })
        .fold(0.0, f64::max)
}

fn tolerance(sigma: f64) -> f64 {
    FLAT_TOL_MIN + FLAT_TOL_SIGMAS * sigma
}

/// The line's colour and tolerance if it is flat (see the module doc). `ringing` allows JPEG
/// ringing (for lines at an edge bar, next to its text); interior blank lines are exact.
fn flat_line(pixels: &[[u8; 3]], ringing: bool) -> Option<Flat> {
    if pixels.len() < LINE_SEGMENTS * 2 {
        return None;
    }
    // Pixel-to-pixel noise alone, so that drift and texture cannot widen their own tolerance.
    let sigma = difference_sigma(pixels);
    if sigma > MAX_LINE_NOISE_SIGMA {
        return None;
    }
    let colour = median_colour(pixels);
    let tol = tolerance(sigma);
    let (inlier_tol, fraction) = if ringing {
        (tol + JPEG_RINGING_TOL as f64, FLAT_INLIER_FRACTION)
    } else {
        (tol, EXACT_INLIER_FRACTION)
    };
    let inliers = pixels
        .iter()
        .filter(|p| colour_distance(**p, colour) as f64 <= inlier_tol)
        .count();
    if (inliers as f64) < fraction * pixels.len() as f64 {
        return None;
    }
    let segment = pixels.len() / LINE_SEGMENTS;
    // The median of n noisy pixels scatters by about 1.25σ/√n.
    let segment_tol = SEGMENT_TOL_MIN + FLAT_TOL_SIGMAS * 1.25 * sigma / (segment as f64).sqrt();
    let drifts = pixels
        .chunks(segment)
        .filter(|chunk| chunk.len() == segment)
        .any(|chunk| colour_distance(median_colour(chunk), colour) as f64 > segment_tol);
    (!drifts).then_some(Flat {
        colour,
        tol: tol.round().min(255.0) as u8,
        sigma,
    })
}

/// Rows (`horizontal`) or columns of the image as pixel lists.
struct Lines<'a> {
    rgb: &'a RgbImage,
    horizontal: bool,
}

impl Lines<'_> {
    fn count(&self) -> usize {
        (if self.horizontal {
            self.rgb.height()
        } else {
            self.rgb.width()
        }) as usize
    }

    fn line(&self, k: usize) -> Vec<[u8; 3]> {
        let (w, h) = (self.rgb.width() as usize, self.rgb.height() as usize);
        let raw = self.rgb.as_raw();
        let pixel = |i: usize| [raw[3 * i], raw[3 * i + 1], raw[3 * i + 2]];
        if self.horizontal {
            (k * w..(k + 1) * w).map(pixel).collect()
        } else {
            (0..h).map(|y| pixel(y * w + k)).collect()
        }
    }

    /// Marks lines `first..=last` in `mask` and returns their region.
    fn mark(&self, mask: &mut [bool], first: usize, last: usize, kind: OverlayKind) -> OverlayRegion {
        let (w, h) = (self.rgb.width() as usize, self.rgb.height() as usize);
        let depth = last - first + 1;
        let (x, y, width, height) = if self.horizontal {
            (0, first, w, depth)
        } else {
            (first, 0, depth, h)
        };
        for yy in y..y + height {
            mask[yy * w + x..yy * w + x + width].fill(true);
        }
        OverlayRegion {
            kind,
            x: x as u32,
            y: y as u32,
            width: width as u32,
            height: height as u32,
            pixels: (width * height) as u64,
        }
    }
}

/// Scans inward from one edge: the bar starts at a flat line among the outermost two and runs
/// through *solid* lines (flat, in the bar colour) and *text* lines (at least half bar colour); it
/// ends at its last solid line. Returns (first, last, has_text) as line indices.
fn edge_bar(lines: &Lines, order: &[usize]) -> Option<(usize, usize, bool)> {
    let (start, bar) = order.iter().take(2).enumerate().find_map(|(depth, &k)| {
        flat_line(&lines.line(k), true)
            .filter(Flat::is_device_made)
            .map(|f| (depth, f))
    })?;
    let tol = bar.tol.saturating_add(JPEG_RINGING_TOL);
    let max_depth = ((order.len() as f64 * MAX_BAR_DEPTH_FRACTION) as usize).max(start + 1);
    let (mut last, mut text, mut pending_text) = (start, false, false);
    for (depth, &k) in order.iter().enumerate().skip(start + 1).take(max_depth) {
        let pixels = lines.line(k);
        let bar_like = pixels
            .iter()
            .filter(|p| colour_distance(**p, bar.colour) <= tol)
            .count() as f64;
        let solid = flat_line(&pixels, true).is_some_and(|f| colour_distance(f.colour, bar.colour) <= bar.tol);
        if solid {
            last = depth;
            text |= pending_text;
        } else if bar_like >= TEXT_ROW_MIN_BAR_FRACTION * pixels.len() as f64 {
            pending_text = true;
        } else {
            break;
        }
    }
    Some((order[start].min(order[last]), order[start].max(order[last]), text))
}

/// Finds edge bars and blank lines, marks them in `mask` (row-major, image size) and returns them.
pub(crate) fn detect_lines(rgb: &RgbImage, mask: &mut [bool]) -> Vec<OverlayRegion> {
    let mut regions = Vec::new();
    for horizontal in [true, false] {
        let lines = Lines { rgb, horizontal };
        let n = lines.count();
        let flat: Vec<bool> = (0..n)
            .map(|k| flat_line(&lines.line(k), false).is_some_and(|f| f.is_device_made()))
            .collect();
        let mut taken = vec![false; n];
        let forward: Vec<usize> = (0..n).collect();
        let backward: Vec<usize> = (0..n).rev().collect();
        for order in [&forward, &backward] {
            if let Some((first, last, text)) = edge_bar(&lines, order) {
                if taken[first..=last].iter().any(|t| *t) {
                    continue;
                }
                taken[first..=last].fill(true);
                let kind = if text {
                    OverlayKind::Band
                } else {
                    OverlayKind::BlankRows
                };
                regions.push(lines.mark(mask, first, last, kind));
            }
        }
        let mut k = 0;
        while k < n {
            if taken[k] || !flat[k] {
                k += 1;
                continue;
            }
            let first = k;
            while k + 1 < n && !taken[k + 1] && flat[k + 1] {
                k += 1;
            }
            regions.push(lines.mark(mask, first, k, OverlayKind::BlankRows));
            k += 1;
        }
    }
    regions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic skin-like texture: a gradient plus hashed per-pixel variation.
    fn skin(x: u32, y: u32) -> [u8; 3] {
        let h = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7) % 23;
        let v = 120 + (x / 8) as u8 % 30 + h as u8;
        [v + 30, v, v - 20]
    }

    #[test]
    fn byte_median_is_the_upper_median() {
        assert_eq!(byte_median([7u8].into_iter()), 7);
        assert_eq!(byte_median([3u8, 1, 2].into_iter()), 2);
        assert_eq!(byte_median([4u8, 1, 9, 2].into_iter()), 4);
        assert_eq!(byte_median([255u8, 0, 255, 0, 255].into_iter()), 255);
        for n in 1..60usize {
            let values: Vec<u8> = (0..n).map(|i| (i * 37 % 11 * 23) as u8).collect();
            let mut sorted = values.clone();
            sorted.sort_unstable();
            assert_eq!(byte_median(values.into_iter()), sorted[n / 2], "n={n}");
        }
    }

    #[test]
    fn skin_rows_are_not_flat_but_noisy_uniform_rows_are() {
        let skin_row: Vec<[u8; 3]> = (0..400).map(|x| skin(x, 3)).collect();
        assert!(flat_line(&skin_row, true).is_none());
        let noisy: Vec<[u8; 3]> = (0..400u32).map(|x| [20 + (x * 7 % 9) as u8; 3]).collect();
        assert!(flat_line(&noisy, false).is_some());
    }

    #[test]
    fn a_bar_with_text_is_one_band_and_an_interior_blank_row_is_found() {
        let (w, h) = (200, 120);
        let mut img = RgbImage::from_fn(w, h, |x, y| image::Rgb(skin(x, y)));
        for y in 0..16 {
            for x in 0..w {
                // Glyph-like blocks on rows 4..12 covering ~40 % of the row.
                let glyph = (4..12).contains(&y) && x % 10 < 4;
                img.put_pixel(x, y, image::Rgb(if glyph { [240; 3] } else { [30; 3] }));
            }
        }
        for x in 0..w {
            img.put_pixel(x, 70, image::Rgb([0; 3]));
        }
        let mut mask = vec![false; (w * h) as usize];
        let regions = detect_lines(&img, &mut mask);
        assert_eq!(regions.len(), 2, "{regions:?}");
        assert!(regions
            .iter()
            .any(|r| r.kind == OverlayKind::Band && r.y == 0 && r.height == 16));
        assert!(regions
            .iter()
            .any(|r| r.kind == OverlayKind::BlankRows && r.y == 70 && r.height == 1));
    }
}

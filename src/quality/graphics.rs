//! Device graphics drawn over the field — floating captions, scale bars, measurement circles:
//! thin strokes of one constant, high-contrast colour, repeated over many pixels.
//!
//! Skin and hair never show one colour over hundreds of pixels of thin strokes: light falls off
//! across the field, shafts are shaded across their width, and both carry texture. A clipped
//! glare blob *is* one colour, but it is a blob, not a stroke, so the thinness test keeps it as
//! scalp (its exposure is reported by the quality assessment instead).

use image::RgbImage;

use super::raster::{colour_distance, dilate, erode, luma, Window};
use super::{OverlayKind, OverlayRegion};

/// Radius (px) of the neighbourhood a stroke must stand out from: 15 × 15 px is wider than any
/// glyph stroke or line, so the mean is mostly background.
const CONTRAST_RADIUS_PX: usize = 7;
/// Least difference (grey levels, largest channel) from the neighbourhood mean for a stroke
/// pixel: device graphics are drawn to be legible on any skin, so their contrast is large; faint
/// skin structure and light hairs stay below it.
const STROKE_CONTRAST: f32 = 48.0;
/// Quantisation (grey levels per bin, per channel) of the colour histogram that finds candidate
/// graphic colours; wider than JPEG drift and moderate noise on a flat colour.
const COLOUR_BIN: u8 = 16;
/// At most this many candidate colours are tried (devices draw with a handful).
const MAX_COLOURS: usize = 8;
/// Least pixel count of one graphic colour: a short caption or a thin 0.5 mm scale bar has
/// several hundred pixels at any device resolution; single marks below this are left alone.
const MIN_GRAPHIC_PX: usize = 150;
/// Least size (px) of one stroke component (a glyph, a bar); smaller specks are noise.
const MIN_STROKE_PX: usize = 12;
/// Tolerance floor (grey levels) around a graphic colour: 8-bit rounding and JPEG drift.
const COLOUR_TOL_MIN: f64 = 8.0;
/// Noise multiples added to the colour tolerance (3σ keeps 99.7 % of Gaussian noise).
const COLOUR_TOL_SIGMAS: f64 = 3.0;
/// Largest stroke half-width as a share of the smaller image side: device fonts and lines scale
/// with the display resolution (~1/150 of the side at most for captions and bars).
const STROKE_HALF_WIDTH_FRACTION: f64 = 1.0 / 300.0;
/// Stroke half-width floor (px): a 1-cell glyph stroke on a VGA frame is up to ~7 px wide.
const STROKE_HALF_WIDTH_MIN_PX: usize = 4;
/// Share of a component that may survive erosion by the stroke half-width and still count as
/// thin (stroke corners and junctions).
const THIN_SURVIVOR_MAX: f64 = 0.02;

/// Least chroma (largest − smallest channel, grey levels) of a saturated graphic colour: device
/// palettes use pure yellow, green, cyan, red (chroma ≥ 200 before compression); skin and even
/// red hair stay below ~100.
const SYNTHETIC_MIN_CHROMA: u8 = 100;
/// Least chromaticity difference (largest of the three channel shares r/(r+g+b), g/…, b/…)
/// between a saturated graphic colour and the photo's median colour. Under a strong colour cast
/// the skin itself is saturated, and the skin between dark shafts forms thin, hard-edged strips
/// of one colour; shading and vignetting change its brightness but hardly its chromaticity
/// (within about 0.05), while device palette colours (pure yellow, green, cyan, red, blue) lie
/// 0.2 or more from any skin's. White graphics are exempt: pale, brightly lit skin comes close to
/// white, and a white caption on it must still be found.
const MIN_CHROMATICITY_FROM_SKIN: f64 = 0.1;

/// The largest difference of the channel shares of `a` and `b` (see
/// [`MIN_CHROMATICITY_FROM_SKIN`]).
fn chromaticity_distance(a: [u8; 3], b: [u8; 3]) -> f64 {
    let shares = |c: [u8; 3]| {
        let sum = c.iter().map(|&v| f64::from(v)).sum::<f64>().max(1.0);
        c.map(|v| f64::from(v) / sum)
    };
    let (sa, sb) = (shares(a), shares(b));
    (0..3).map(|k| (sa[k] - sb[k]).abs()).fold(0.0, f64::max)
}
/// Least luma of a white graphic colour (pure white, after JPEG and a little tone curve).
const SYNTHETIC_WHITE_LUMA: f32 = 230.0;
/// Largest chroma of a white graphic colour: pure white stays neutral through JPEG, while
/// glare-lit skin under a colour cast and the highlights of blond shafts are tinted.
const SYNTHETIC_WHITE_MAX_CHROMA: u8 = 32;

/// Whether `colour` is white as a device draws it: bright and neutral.
fn is_white(colour: [u8; 3]) -> bool {
    let chroma = colour.iter().max().unwrap_or(&0) - colour.iter().min().unwrap_or(&0);
    luma(colour) >= SYNTHETIC_WHITE_LUMA && chroma <= SYNTHETIC_WHITE_MAX_CHROMA
}

/// Whether `colour` is one a device draws with over the field: strongly saturated, or pure
/// white. Mid-level greys and browns are what skin and hair are made of and are never taken;
/// neither is black, because black shaft cores clip to it in thin, solid strokes that no image
/// statistic tells from a black scale bar.
fn is_synthetic(colour: [u8; 3]) -> bool {
    let chroma = colour.iter().max().unwrap_or(&0) - colour.iter().min().unwrap_or(&0);
    chroma >= SYNTHETIC_MIN_CHROMA || is_white(colour)
}

/// Least ratio of the colour step one pixel outside a stroke to the step three pixels out: a
/// composited graphic reaches the background within a pixel (JPEG softens that by ~30 % at
/// most), while a clipped shaft or highlight fades out over several pixels of shading and blur.
const HARD_EDGE_RATIO: f64 = 0.6;
/// How far out (px) the edge test looks: the step at this distance is the "far" step.
const HARD_EDGE_REACH_PX: usize = 3;

/// Whether the component's outer edge is a hard step (see [`HARD_EDGE_RATIO`]).
fn has_hard_edge(rgb: &RgbImage, comp: &[usize], inside: impl Fn(usize) -> bool, colour: [u8; 3]) -> bool {
    let (w, h) = (rgb.width() as i64, rgb.height() as i64);
    let dist = |i: i64| {
        colour_distance(
            rgb.as_raw()[i as usize * 3..i as usize * 3 + 3]
                .try_into()
                .unwrap_or([0; 3]),
            colour,
        ) as f64
    };
    let reach = HARD_EDGE_REACH_PX as i64;
    let (mut near, mut far) = (0f64, 0f64);
    for &i in comp {
        let (x, y) = ((i as i64) % w, (i as i64) / w);
        for (dx, dy) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
            let (x_far, y_far) = (x + reach * dx, y + reach * dy);
            if x_far < 0 || y_far < 0 || x_far >= w || y_far >= h {
                continue;
            }
            let at = |k: i64| (y + k * dy) * w + x + k * dx;
            if (1..=reach).all(|k| !inside(at(k) as usize)) {
                near += dist(at(1));
                far += dist(at(reach));
            }
        }
    }
    far > 0.0 && near >= HARD_EDGE_RATIO * far
}

/// Whether the component `comp` of `same` (pixels of one graphic colour, frame-sized) is a
/// stroke: thin (hardly anything survives erosion by `half_width` after a closing that fills
/// noise holes, so a same-coloured skin patch does not pass) and with a hard outer edge.
///
/// The tests read the closed mask at most `half_width` (or [`HARD_EDGE_REACH_PX`]) from the
/// component, and closing reads two pixels further, so the morphology runs on the component's
/// bounding box widened by that much, exactly as on the whole frame.
fn is_thin_hard_stroke(rgb: &RgbImage, same: &[bool], comp: &[usize], colour: [u8; 3], half_width: usize) -> bool {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let window = Window::around(comp, w, h, half_width.max(HARD_EDGE_REACH_PX) + 2);
    let same = window.crop(same, w);
    let (ww, wh) = (window.width, window.height);
    let closed = erode(&dilate(&same, ww, wh, 1), ww, wh, 1);
    let core = erode(&closed, ww, wh, half_width);
    let survivors = comp.iter().filter(|&&i| core[window.local(i, w)]).count();
    (survivors as f64) <= THIN_SURVIVOR_MAX * comp.len() as f64
        && has_hard_edge(rgb, comp, |i| closed[window.local(i, w)], colour)
}

/// Per-pixel contrast against the neighbourhood mean (largest channel difference). The
/// (2r+1)² window sums are exact integers, summed along each row and then down the columns
/// with running sums, all three channels in one pass; the window is clipped at the border.
fn contrast(rgb: &RgbImage) -> Vec<f32> {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let r = CONTRAST_RADIUS_PX;
    let raw = rgb.as_raw();
    let span = |i: usize, n: usize| (i.saturating_sub(r), (i + r + 1).min(n));
    // Per row: each pixel's sum over its clipped horizontal window, per channel.
    let mut row_sums = vec![0u32; w * h * 3];
    let mut prefix = vec![0u32; (w + 1) * 3];
    for (src, dst) in raw.chunks_exact(w * 3).zip(row_sums.chunks_exact_mut(w * 3)) {
        for (k, &v) in src.iter().enumerate() {
            prefix[k + 3] = prefix[k] + u32::from(v);
        }
        for x in 0..w {
            let (x0, x1) = span(x, w);
            for c in 0..3 {
                dst[x * 3 + c] = prefix[x1 * 3 + c] - prefix[x0 * 3 + c];
            }
        }
    }
    let row = |y: usize| &row_sums[y * w * 3..(y + 1) * w * 3];
    let mut column = vec![0u32; w * 3];
    for y in 0..r.min(h) {
        column.iter_mut().zip(row(y)).for_each(|(s, v)| *s += v);
    }
    let mut out = vec![0f32; w * h];
    for (y, out_row) in out.chunks_exact_mut(w).enumerate() {
        if y + r < h {
            column.iter_mut().zip(row(y + r)).for_each(|(s, v)| *s += v);
        }
        if y > r {
            column.iter_mut().zip(row(y - r - 1)).for_each(|(s, v)| *s -= v);
        }
        let (y0, y1) = span(y, h);
        let pixels = &raw[y * w * 3..(y + 1) * w * 3];
        for (x, o) in out_row.iter_mut().enumerate() {
            let (x0, x1) = span(x, w);
            let area = ((y1 - y0) * (x1 - x0)) as f32;
            *o = (0..3)
                .map(|c| (f32::from(pixels[x * 3 + c]) - column[x * 3 + c] as f32 / area).abs())
                .fold(0.0, f32::max);
        }
    }
    out
}

/// Per-channel median colour of the pixels not set in `mask`: the skin's colour, since skin
/// covers most of any trichoscopy field.
fn median_colour(rgb: &RgbImage, mask: &[bool]) -> [u8; 3] {
    let mut histograms = [[0usize; 256]; 3];
    let mut n = 0usize;
    for (p, _) in rgb.pixels().zip(mask).filter(|(_, m)| !**m) {
        for c in 0..3 {
            histograms[c][usize::from(p.0[c])] += 1;
        }
        n += 1;
    }
    histograms.map(|h| {
        let mut seen = 0;
        h.iter()
            .position(|&k| {
                seen += k;
                2 * seen > n
            })
            .unwrap_or(0) as u8
    })
}

/// Colours of the high-contrast pixels: the most populated histogram bins first, each refined
/// to the per-channel median of its pixels (dark shafts and their rims, far more numerous in a
/// dense field, do not crowd out a device's few colours among them).
fn stroke_colours(rgb: &RgbImage, stroke: &[bool]) -> Vec<[u8; 3]> {
    let bins_per_channel = (256 / COLOUR_BIN as usize).max(1);
    let bin = |p: [u8; 3]| {
        p.iter()
            .fold(0usize, |acc, v| acc * bins_per_channel + (v / COLOUR_BIN) as usize)
    };
    let mut members: Vec<Vec<[u8; 3]>> = vec![Vec::new(); bins_per_channel.pow(3)];
    for (p, _) in rgb.pixels().zip(stroke).filter(|(_, s)| **s) {
        members[bin(p.0)].push(p.0);
    }
    let mut populated: Vec<&mut Vec<[u8; 3]>> = members.iter_mut().filter(|m| m.len() >= MIN_GRAPHIC_PX).collect();
    populated.sort_by_key(|m| std::cmp::Reverse(m.len()));
    populated
        .into_iter()
        .map(|m| {
            let mid = m.len() / 2;
            [0, 1, 2].map(|c| *m.iter().map(|p| p[c]).collect::<Vec<_>>().select_nth_unstable(mid).1)
        })
        .collect()
}

/// Whether a device could have drawn with `colour` over skin of colour `skin`.
fn is_graphic_colour(colour: [u8; 3], skin: [u8; 3]) -> bool {
    is_synthetic(colour) && (chromaticity_distance(colour, skin) >= MIN_CHROMATICITY_FROM_SKIN || is_white(colour))
}

/// 8-connected components of `mask` that contain at least one `seed` pixel, as index lists.
fn seeded_components(mask: &[bool], seed: &[bool], width: usize) -> Vec<Vec<usize>> {
    let height = mask.len() / width.max(1);
    let mut seen = vec![false; mask.len()];
    let mut out = Vec::new();
    for start in 0..mask.len() {
        if !seed[start] || !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let (mut stack, mut comp) = (vec![start], Vec::new());
        while let Some(i) = stack.pop() {
            comp.push(i);
            let (x, y) = (i % width, i / width);
            for ny in y.saturating_sub(1)..(y + 2).min(height) {
                for nx in x.saturating_sub(1)..(x + 2).min(width) {
                    let j = ny * width + nx;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        out.push(comp);
    }
    out
}

/// The region of kind `kind` over the pixels `pixels` (frame indices, at least one).
pub(crate) fn overlay_region<'p>(
    kind: OverlayKind,
    pixels: impl IntoIterator<Item = &'p usize> + Clone,
    w: usize,
    h: usize,
) -> OverlayRegion {
    let bounds = Window::around(pixels.clone(), w, h, 0);
    OverlayRegion {
        kind,
        x: bounds.x0 as u32,
        y: bounds.y0 as u32,
        width: bounds.width as u32,
        height: bounds.height as u32,
        pixels: pixels.into_iter().count() as u64,
    }
}

/// The device graphics found by [`detect_graphics`].
pub(crate) struct Graphics {
    /// Circles (measurement rings, bubble rims), found by their shape.
    pub(crate) rings: Vec<super::circles::Ring>,
    /// Strokes of a device colour, per colour (frame indices).
    pub(crate) strokes: Vec<Vec<Vec<usize>>>,
}

/// Finds graphics among the pixels not yet set in `mask` (earlier stages' overlays): first
/// circles of any colour ([`super::circles`]), then strokes of a device colour;
/// marks them in `mask`. `noise_sigma` is the image's sensor noise (grey levels).
pub(crate) fn detect_graphics(rgb: &RgbImage, noise_sigma: f64, mask: &mut [bool]) -> Graphics {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let stroke: Vec<bool> = contrast(rgb)
        .iter()
        .zip(mask.iter())
        .map(|(c, masked)| *c >= STROKE_CONTRAST && !masked)
        .collect();
    let tol = COLOUR_TOL_MIN + COLOUR_TOL_SIGMAS * noise_sigma;
    let half_width = ((w.min(h) as f64 * STROKE_HALF_WIDTH_FRACTION).round() as usize).max(STROKE_HALF_WIDTH_MIN_PX);
    let skin = median_colour(rgb, mask);
    let colours = stroke_colours(rgb, &stroke);
    let rings = super::circles::detect_circles(rgb, &colours, tol, &stroke, mask);
    let mut graphics = Vec::new();
    let device_colours = colours.into_iter().filter(|&c| is_graphic_colour(c, skin));
    for colour in device_colours.take(MAX_COLOURS) {
        let same: Vec<bool> = rgb
            .pixels()
            .zip(mask.iter())
            .map(|(p, masked)| !masked && colour_distance(p.0, colour) as f64 <= tol)
            .collect();
        let strokes: Vec<Vec<usize>> = seeded_components(&same, &stroke, w)
            .into_iter()
            .filter(|comp| comp.len() >= MIN_STROKE_PX && is_thin_hard_stroke(rgb, &same, comp, colour, half_width))
            .collect();
        let total: usize = strokes.iter().map(Vec::len).sum();
        if total < MIN_GRAPHIC_PX {
            continue;
        }
        for &i in strokes.iter().flatten() {
            mask[i] = true;
        }
        graphics.push(strokes);
    }
    Graphics {
        rings,
        strokes: graphics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_is_the_largest_channel_difference_from_the_clipped_window_mean() {
        let r = CONTRAST_RADIUS_PX as i64;
        for (w, h) in [(1u32, 1u32), (3, 20), (20, 3), (31, 17)] {
            let rgb = RgbImage::from_fn(w, h, |x, y| {
                let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).wrapping_mul(2_246_822_519) >> 7;
                image::Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
            });
            let got = contrast(&rgb);
            for (i, &value) in got.iter().enumerate() {
                let (x, y) = ((i as u32 % w) as i64, (i as u32 / w) as i64);
                let window: Vec<[u8; 3]> = (y - r..=y + r)
                    .flat_map(|yy| (x - r..=x + r).map(move |xx| (xx, yy)))
                    .filter(|&(xx, yy)| xx >= 0 && yy >= 0 && xx < w as i64 && yy < h as i64)
                    .map(|(xx, yy)| rgb.get_pixel(xx as u32, yy as u32).0)
                    .collect();
                let direct = (0..3)
                    .map(|c| {
                        let mean = window.iter().map(|p| f64::from(p[c])).sum::<f64>() / window.len() as f64;
                        (f64::from(rgb.get_pixel(x as u32, y as u32).0[c]) - mean).abs()
                    })
                    .fold(0.0, f64::max);
                assert!(
                    (f64::from(value) - direct).abs() < 1e-3,
                    "{w}x{h} at {i}: {value} vs {direct}"
                );
            }
        }
    }
}

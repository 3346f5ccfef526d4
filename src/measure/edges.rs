//! A second width sample from the photo itself: the distance between the shaft's two edges,
//! each where the colour changes fastest across the shaft. The coverage integral reads the
//! model's opinion of where hair is; the edges are direct evidence in the pixels, at the
//! photo's own resolution rather than the model's, and hold for any hair or skin colour
//! that differs from its surround.

use image::RgbImage;

use crate::probability_image::bilinear_taps;

/// The photo's colours (interleaved 8-bit RGB) on its own pixel grid, read at map positions.
pub struct PhotoPixels<'a> {
    rgb: &'a [u8],
    width: usize,
    height: usize,
    /// Input (photo) pixels per map pixel.
    input_px_per_map_px: f64,
}

/// How an edge profile is sampled and which gradient peak is an edge.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EdgeRule {
    /// Distance (photo px) between samples along the profile.
    pub step_px: f64,
    /// The profile reaches this many pixels beyond the coverage's half-width on each side:
    /// pixels of the photo, or of the map where those are wider (a photo finer than the
    /// model's scale), since the coverage's edge is only as exact as the map's pixels.
    pub margin_px: f64,
    /// On each side the edge is the outermost local maximum of the colour gradient that
    /// reaches this fraction of the side's largest gradient.
    pub peak_fraction: f64,
}

impl<'a> PhotoPixels<'a> {
    /// Reads `rgb`; `input_px_per_map_px` carries map positions onto the photo.
    pub fn new(rgb: &'a RgbImage, input_px_per_map_px: f64) -> Self {
        Self {
            rgb: rgb.as_raw(),
            width: rgb.width() as usize,
            height: rgb.height() as usize,
            input_px_per_map_px,
        }
    }

    /// Bilinear colour (0–1) at photo position (x, y), pixel (i, j) covering [i, i+1) ×
    /// [j, j+1) as on the maps; `None` outside the photo.
    pub(crate) fn colour(&self, x: f64, y: f64) -> Option<[f64; 3]> {
        let taps = bilinear_taps(x, y, self.width, self.height)?;
        let mut colour = [0.0; 3];
        for (pixel, weight) in taps {
            for (c, value) in colour.iter_mut().enumerate() {
                *value += weight * f64::from(self.rgb[3 * pixel + c]);
            }
        }
        Some(colour.map(|v| v / 255.0))
    }
}

/// Width (map px) between the shaft's two edges on the photo, along the unit `normal` through
/// the map position `centre`, looking `half_width_map_px` (the coverage's half-width) plus the
/// rule's margin either side. `None` if the profile leaves the photo, the photo is flat
/// there, or either side has no gradient peak inside the window.
pub(crate) fn edge_width_across(
    photo: &PhotoPixels,
    centre: [f64; 2],
    normal: [f64; 2],
    half_width_map_px: f64,
    rule: &EdgeRule,
) -> Option<f64> {
    let scale = photo.input_px_per_map_px;
    let reach = half_width_map_px * scale + rule.margin_px * scale.max(1.0);
    if !(reach.is_finite() && rule.step_px > 0.0 && scale > 0.0) {
        return None;
    }
    // One sample beyond the window on each side, for the central differences at its ends.
    let half_steps = (reach / rule.step_px).ceil() as i64 + 1;
    let (cx, cy) = (centre[0] * scale, centre[1] * scale);
    let colours = (-half_steps..=half_steps)
        .map(|k| {
            let t = k as f64 * rule.step_px;
            photo.colour(cx + normal[0] * t, cy + normal[1] * t)
        })
        .collect::<Option<Vec<_>>>()?;
    let gradient: Vec<f64> = colours
        .windows(3)
        .map(|w| {
            let change: f64 = (0..3).map(|c| (w[2][c] - w[0][c]).powi(2)).sum();
            change.sqrt() / (2.0 * rule.step_px)
        })
        .collect();
    // gradient[i] belongs to offset (i + 1 - half_steps) steps; the centre is i = half_steps - 1.
    let centre_index = half_steps as usize - 1;
    let offset_px = |i: f64| (i + 1.0 - half_steps as f64) * rule.step_px;
    // Each side walked from the outside in: the left one up from 0, the right one down from the end.
    let last = gradient.len() - 1;
    let left = outer_peak(|k| gradient[k], centre_index + 1, rule.peak_fraction)?;
    let right = last as f64 - outer_peak(|k| gradient[last - k], last - centre_index + 1, rule.peak_fraction)?;
    let width_input_px = offset_px(right) - offset_px(left);
    (width_input_px > 0.0).then(|| width_input_px / scale)
}

/// The first local maximum of a side's `len` gradients, `side(0)` the outermost, that reaches
/// `fraction` of their largest, refined to subpixel by a parabola through it and its
/// neighbours; its fractional position from the outside. `None` on a flat profile or without
/// such a peak.
fn outer_peak(side: impl Fn(usize) -> f64, len: usize, fraction: f64) -> Option<f64> {
    let largest = (0..len).map(&side).fold(0.0, f64::max);
    if largest <= f64::EPSILON {
        return None;
    }
    (1..len.saturating_sub(1)).find_map(|k| {
        let (a, b, c) = (side(k - 1), side(k), side(k + 1));
        if b < fraction * largest || b < a || b < c {
            return None;
        }
        let curvature = a - 2.0 * b + c;
        let shift = if curvature < 0.0 {
            0.5 * (a - c) / curvature
        } else {
            0.0
        };
        Some(k as f64 + shift)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: EdgeRule = EdgeRule {
        step_px: 0.5,
        margin_px: 2.0,
        peak_fraction: 0.5,
    };

    /// A photo whose columns are skin except a dark bar covering [left, right) with
    /// anti-aliased (area-weighted) edge pixels.
    fn bar_photo(width: u32, left: f64, right: f64) -> RgbImage {
        RgbImage::from_fn(width, 12, |x, _| {
            let (x0, x1) = (f64::from(x), f64::from(x) + 1.0);
            let cover = (x1.min(right) - x0.max(left)).clamp(0.0, 1.0);
            let value = 200.0 - 160.0 * cover;
            image::Rgb([value as u8, (value * 0.9) as u8, (value * 0.8) as u8])
        })
    }

    #[test]
    fn sharp_bar_measures_its_width_in_map_pixels() {
        let rgb = bar_photo(40, 14.0, 22.0);
        let photo = PhotoPixels::new(&rgb, 2.0);
        // Map position 9 → photo 18, the bar's middle; coverage half-width 2 map px.
        let width = edge_width_across(&photo, [9.0, 3.0], [1.0, 0.0], 2.0, &RULE).unwrap();
        assert!((width - 4.0).abs() < 0.15, "{width}");
    }

    #[test]
    fn subpixel_edges_are_found() {
        let rgb = bar_photo(40, 14.5, 21.25);
        let photo = PhotoPixels::new(&rgb, 1.0);
        let width = edge_width_across(&photo, [18.0, 6.0], [-1.0, 0.0], 3.5, &RULE).unwrap();
        assert!((width - 6.75).abs() < 0.2, "{width}");
    }

    #[test]
    fn on_a_photo_finer_than_the_map_the_edge_search_reaches_two_map_pixels_out() {
        // Two photo px per map px; the bar spans photo 10–26 (8 map px) around map 9, but the
        // coverage's half-width says 2.5 map px (5 photo px): its edges lie 3 photo px beyond
        // that, outside two photo pixels of margin and inside two map pixels.
        let rgb = bar_photo(40, 10.0, 26.0);
        let photo = PhotoPixels::new(&rgb, 2.0);
        let width = edge_width_across(&photo, [9.0, 3.0], [1.0, 0.0], 2.5, &RULE).unwrap();
        assert!((width - 8.0).abs() < 0.15, "{width}");
    }

    #[test]
    fn flat_photo_or_profile_off_the_photo_has_no_width() {
        let flat_rgb = RgbImage::from_pixel(20, 10, image::Rgb([90, 80, 70]));
        let flat = PhotoPixels::new(&flat_rgb, 1.0);
        assert_eq!(edge_width_across(&flat, [10.0, 5.0], [1.0, 0.0], 2.0, &RULE), None);
        let rgb = bar_photo(20, 1.0, 4.0);
        let photo = PhotoPixels::new(&rgb, 1.0);
        assert_eq!(edge_width_across(&photo, [2.5, 5.0], [1.0, 0.0], 1.5, &RULE), None);
    }
}

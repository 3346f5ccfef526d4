//! Painting thin device graphics out of the photo before segmentation: a hair crossing under a
//! caption or a scale bar is then continued through it, where masking alone cut it into pieces
//! that were counted as separate hairs.

use image::RgbImage;

/// Radius (px) of the neighbourhood a painted pixel takes its colour from: past a stroke's
/// half-width (at most about 4 px) and the overlay margin, so every painted pixel has scalp
/// within reach.
pub(crate) const FILL_RADIUS_PX: usize = 8;
/// Spread (px) of the weights: the nearest scalp decides, so a shaft crossing the stroke keeps
/// its darkness instead of being averaged with the skin beside it.
const FILL_SIGMA_PX: f64 = 2.0;

/// Paints the `targets` (frame indices) of `rgb` with the Gaussian-weighted mean colour
/// (σ = [`FILL_SIGMA_PX`]) of the `source` pixels within [`FILL_RADIUS_PX`]; a target with no
/// source in reach keeps its colour. Sources are read from the photo as it was.
pub(crate) fn fill_from_sources(rgb: &mut RgbImage, targets: &[usize], source: &[bool]) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let original = rgb.clone();
    let raw = original.as_raw();
    let r = FILL_RADIUS_PX as i64;
    let sigma = FILL_SIGMA_PX;
    let weights: Vec<f64> = (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .map(|(dx, dy)| (-((dx * dx + dy * dy) as f64) / (2.0 * sigma * sigma)).exp())
        .collect();
    for &i in targets {
        let (x, y) = ((i % w) as i64, (i / w) as i64);
        let (mut sum, mut total) = ([0.0f64; 3], 0.0f64);
        for dy in -r..=r {
            for dx in -r..=r {
                let (sx, sy) = (x + dx, y + dy);
                if sx < 0 || sy < 0 || sx >= w as i64 || sy >= h as i64 {
                    continue;
                }
                let j = sy as usize * w + sx as usize;
                if !source[j] {
                    continue;
                }
                let wt = weights[((dy + r) * (2 * r + 1) + dx + r) as usize];
                for c in 0..3 {
                    sum[c] += wt * f64::from(raw[j * 3 + c]);
                }
                total += wt;
            }
        }
        if total > 0.0 {
            let colour = sum.map(|v| (v / total).round().clamp(0.0, 255.0) as u8);
            rgb.put_pixel(x as u32, y as u32, image::Rgb(colour));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_their_sources_colour_and_nothing_else_changes() {
        // Left half grey 100, right half grey 200; a vertical stroke of colour 0 at x = 9–10.
        let mut rgb = RgbImage::from_fn(20, 10, |x, _| image::Rgb([if x < 10 { 100 } else { 200 }; 3]));
        let stroke: Vec<usize> = (0..10).flat_map(|y| [y * 20 + 9, y * 20 + 10]).collect();
        for &i in &stroke {
            rgb.put_pixel((i % 20) as u32, (i / 20) as u32, image::Rgb([0; 3]));
        }
        let before = rgb.clone();
        let source: Vec<bool> = (0..200).map(|i| !stroke.contains(&i)).collect();
        fill_from_sources(&mut rgb, &stroke, &source);
        for (i, (a, b)) in rgb.pixels().zip(before.pixels()).enumerate() {
            if stroke.contains(&i) {
                assert!((100..=200).contains(&a.0[0]) && a.0[0] == a.0[1], "pixel {i}: {a:?}");
            } else {
                assert_eq!(a, b, "pixel {i} untouched");
            }
        }
        // Symmetric neighbourhood: the stroke's two columns lean to their own side.
        assert!(rgb.get_pixel(9, 5).0[0] < 150 && rgb.get_pixel(10, 5).0[0] > 150);
    }
}

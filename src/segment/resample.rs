//! Resampling between the camera's pixel spacing and the model's, in floating point.

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma, Rgb};

use crate::units::PixelSpacing;

/// Relative spacing difference below which no resampling is done.
const SAME_SPACING_TOLERANCE: f64 = 1e-9;

/// Filter for all resampling. `image`'s resize widens the kernel by the shrink factor, so the
/// triangle filter averages over the source area when shrinking and interpolates bilinearly
/// when enlarging; it has no negative lobes, so probabilities stay within [0, 1].
const FILTER: FilterType = FilterType::Triangle;

/// An RGB image at the model's pixel spacing, values pixel/255 in [0, 1], interleaved.
#[derive(Debug, Clone)]
pub(crate) struct ModelScaleImage {
    pub width: u32,
    pub height: u32,
    /// `3 × width × height` values, row-major, RGB interleaved.
    pub rgb: Vec<f32>,
}

/// The size an image of `width × height` pixels at `from` spacing has at `to` spacing
/// (rounded, at least one pixel per axis).
pub(crate) fn size_at_spacing(width: u32, height: u32, from: PixelSpacing, to: PixelSpacing) -> (u32, u32) {
    let factor = from.um_per_px / to.um_per_px;
    if (factor - 1.0).abs() < SAME_SPACING_TOLERANCE {
        return (width, height);
    }
    let scale = |n: u32| ((f64::from(n) * factor).round().max(1.0)).min(f64::from(u32::MAX)) as u32;
    (scale(width), scale(height))
}

/// Converts `rgb` (at spacing `from`) to floats and resamples it to spacing `to`.
pub(crate) fn resample_to_spacing(rgb: &image::RgbImage, from: PixelSpacing, to: PixelSpacing) -> ModelScaleImage {
    let (width, height) = size_at_spacing(rgb.width(), rgb.height(), from, to);
    let float: ImageBuffer<Rgb<f32>, Vec<f32>> = ImageBuffer::from_fn(rgb.width(), rgb.height(), |x, y| {
        let p = rgb.get_pixel(x, y).0;
        Rgb(p.map(|v| f32::from(v) / 255.0))
    });
    let resized = if (width, height) == (rgb.width(), rgb.height()) {
        float
    } else {
        imageops::resize(&float, width, height, FILTER)
    };
    ModelScaleImage {
        width,
        height,
        rgb: resized.into_raw(),
    }
}

/// Resamples a single-channel `width × height` map to `new_width × new_height`.
///
/// `map` must hold `width × height` values; returns `None` otherwise.
pub(crate) fn resize_map(map: &[f32], width: u32, height: u32, new_width: u32, new_height: u32) -> Option<Vec<f32>> {
    if (width, height) == (new_width, new_height) {
        return (map.len() == width as usize * height as usize).then(|| map.to_vec());
    }
    let buffer: ImageBuffer<Luma<f32>, Vec<f32>> = ImageBuffer::from_raw(width, height, map.to_vec())?;
    Some(imageops::resize(&buffer, new_width, new_height, FILTER).into_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spacing(um: f64) -> PixelSpacing {
        PixelSpacing::new(um).unwrap()
    }

    #[test]
    fn sizes_follow_the_spacing_ratio() {
        assert_eq!(size_at_spacing(1000, 600, spacing(2.5), spacing(5.0)), (500, 300));
        assert_eq!(size_at_spacing(1000, 600, spacing(5.0), spacing(5.0)), (1000, 600));
        assert_eq!(size_at_spacing(10, 3, spacing(10.0), spacing(5.0)), (20, 6));
        assert_eq!(size_at_spacing(1, 1, spacing(1.0), spacing(100.0)), (1, 1));
    }

    #[test]
    fn same_spacing_keeps_pixels_exactly() {
        let rgb = image::RgbImage::from_fn(5, 4, |x, y| image::Rgb([x as u8 * 50, y as u8 * 60, 7]));
        let out = resample_to_spacing(&rgb, spacing(5.0), spacing(5.0));
        assert_eq!((out.width, out.height), (5, 4));
        assert_eq!(out.rgb[3 * (2 * 5 + 3)], 150.0 / 255.0);
        assert_eq!(out.rgb[3 * (2 * 5 + 3) + 1], 120.0 / 255.0);
    }

    #[test]
    fn shrinking_averages_a_uniform_image_to_the_same_value() {
        let rgb = image::RgbImage::from_pixel(40, 30, image::Rgb([200, 100, 0]));
        let out = resample_to_spacing(&rgb, spacing(2.0), spacing(5.0));
        assert_eq!((out.width, out.height), (16, 12));
        for px in out.rgb.chunks_exact(3) {
            assert!((px[0] - 200.0 / 255.0).abs() < 1e-5 && (px[1] - 100.0 / 255.0).abs() < 1e-5 && px[2] == 0.0);
        }
    }

    #[test]
    fn shrinking_by_two_averages_fine_stripes() {
        // Alternating black/white columns become mid grey: area averaging, not point sampling.
        let rgb = image::RgbImage::from_fn(64, 8, |x, _| image::Rgb([if x % 2 == 0 { 0 } else { 255 }; 3]));
        let out = resample_to_spacing(&rgb, spacing(1.0), spacing(2.0));
        for px in out.rgb.chunks_exact(3).skip(1).take(30) {
            assert!((px[0] - 0.5).abs() < 0.1, "{px:?}");
        }
    }

    #[test]
    fn resize_map_checks_its_length_and_keeps_range() {
        assert!(resize_map(&[0.0; 5], 2, 3, 4, 6).is_none());
        let map: Vec<f32> = (0..12).map(|i| (i % 2) as f32).collect();
        let out = resize_map(&map, 4, 3, 9, 7).unwrap();
        assert_eq!(out.len(), 63);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

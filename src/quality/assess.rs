//! Is the photo fit to measure? Focus and exposure judged over the scalp pixels only, so that
//! device overlays (flat, hard-edged) neither fake sharpness nor count as clipped.

use std::borrow::Cow;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::raster::{erode, local_range, luma_plane, noise_sigma};
use super::FieldMask;
use crate::units::PixelSpacing;

/// Scale (µm/px) focus is measured at when the calibration is known: the middle of the 4–7 µm/px
/// of 20× dermatoscopes, so one threshold fits every camera. Finer images are box-averaged down.
pub const FOCUS_SCALE_UM_PER_PX: f64 = 5.0;
/// Largest edge blur (Gaussian σ, px at the focus scale) an in-focus photo may show: 2 px at
/// 5 µm/px is 10 µm, two-thirds of a 15 µm vellus shaft, beyond which thin shafts smear into
/// the skin and widths are overestimated.
pub const MAX_EDGE_BLUR_SIGMA_PX: f64 = 2.0;
/// Radius (px) of the window whose luma range stands for the local edge contrast (9 × 9 spans a
/// step blurred by σ = 2 px out to ±2σ).
const RANGE_RADIUS_PX: usize = 4;
/// Least local contrast (grey levels) for a pixel to count as an edge; also at least
/// [`EDGE_CONTRAST_NOISE_SIGMAS`] × the noise σ, so that noise alone never makes an edge.
const MIN_EDGE_CONTRAST: f32 = 20.0;
/// Noise multiples an edge's contrast must exceed.
const EDGE_CONTRAST_NOISE_SIGMAS: f64 = 8.0;
/// Percentile of the normalised gradient over edge pixels: the sharpest edges (shaft borders)
/// tell the focus; skin texture is soft by nature even in a sharp photo.
const FOCUS_PERCENTILE: f64 = 0.95;
/// Fewer edge pixels than this and focus is not judged (a bald, featureless field).
const MIN_EDGE_PIXELS: usize = 200;
/// Luma (grey levels) at or above which a pixel is clipped white: JPEG keeps clipped areas
/// within ~5 levels of 255.
pub(crate) const CLIPPED_WHITE_LUMA: f32 = 250.0;
/// Luma at or below which a pixel is clipped black.
const CLIPPED_BLACK_LUMA: f32 = 5.0;
/// Share of the field clipped white that flags over-exposure: 5 % of the field lost is as much
/// as the repeatability of a phototrichogram count (CV 2.6–9.8 %).
pub const MAX_CLIPPED_FRACTION: f64 = 0.05;
/// Mean scalp luma (grey levels) below which a photo is under-exposed: even the darkest skin
/// (≈10 % reflectance) maps to ~90 in sRGB when exposed for mid-grey; a mean below 40 means
/// the exposure is at least ~1.5 stops short.
pub const MIN_MEAN_LUMA: f64 = 40.0;
/// Smallest share of the frame that must remain scalp after masking overlays: below half, the
/// field (and the count's Poisson error) no longer matches what the protocol imaged.
pub const MIN_SCALP_FRACTION: f64 = 0.5;

/// A reason to distrust a photo's measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualityFlag {
    /// Shaft edges are blurred beyond [`MAX_EDGE_BLUR_SIGMA_PX`] at the focus scale.
    OutOfFocus,
    /// More than [`MAX_CLIPPED_FRACTION`] of the field is clipped white (glare, overexposure).
    OverExposed,
    /// Mean scalp luma below [`MIN_MEAN_LUMA`] or more than [`MAX_CLIPPED_FRACTION`] clipped black.
    UnderExposed,
    /// Device overlays were found and masked out of the field.
    OverlaysMasked,
    /// Less than [`MIN_SCALP_FRACTION`] of the frame is analysable scalp.
    SmallField,
    /// Too few hairs to measure reliably; set by the analysis after counting, not here.
    TooFewHairs,
}

/// The focus statistic and the threshold it was judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FocusMeasure {
    /// Normalised edge gradient (0 flat … 0.5 a perfect step); higher is sharper.
    pub value: f64,
    /// Values below this are out of focus (a step blurred by [`MAX_EDGE_BLUR_SIGMA_PX`]).
    pub threshold: f64,
    /// How `value` was computed, in words.
    pub method: String,
    /// Scale the statistic was measured at (µm/px), if the calibration is known.
    pub measured_at_um_per_px: Option<f64>,
    /// Edge pixels the statistic is based on (too few: focus not judged).
    pub edge_pixels: u64,
}

/// Focus and exposure of one photo over its scalp pixels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Everything found wrong (empty: fit to measure).
    pub flags: Vec<QualityFlag>,
    /// Sharpness.
    pub focus: FocusMeasure,
    /// Share of scalp pixels clipped white.
    pub overexposed_fraction: f64,
    /// Share of scalp pixels clipped black.
    pub underexposed_fraction: f64,
    /// Mean scalp luma (grey levels 0–255).
    pub mean_luminance: f64,
    /// Share of the frame that is scalp.
    pub scalp_fraction: f64,
    /// Estimated sensor-noise σ (grey levels) at native resolution.
    pub noise_sigma: f64,
}

/// Normalised gradient at a step blurred by σ px, as central differences see it:
/// erf(1/(σ√2)) / 2.
fn step_response(sigma_px: f64) -> f64 {
    // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
    let x = 1.0 / (sigma_px * std::f64::consts::SQRT_2);
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly =
        t * (0.254_829_592 + t * (-0.284_496_736 + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (1.0 - poly * (-x * x).exp()) / 2.0
}

/// Box-averages `plane` and the scalp flags by `factor` (a block is scalp if all of it is).
fn downsample(plane: &[f32], scalp: &[bool], w: usize, h: usize, factor: usize) -> (Vec<f32>, Vec<bool>, usize, usize) {
    let (dw, dh) = (w / factor, h / factor);
    let mut out = vec![0f32; dw * dh];
    let mut ok = vec![true; dw * dh];
    for y in 0..dh * factor {
        for x in 0..dw * factor {
            let (i, o) = (y * w + x, (y / factor) * dw + x / factor);
            out[o] += plane[i];
            ok[o] &= scalp[i];
        }
    }
    let n = (factor * factor) as f32;
    out.iter_mut().for_each(|v| *v /= n);
    (out, ok, dw, dh)
}

/// The focus statistic: the [`FOCUS_PERCENTILE`] of |∇I| / (local range) over edge pixels whose
/// whole window is scalp.
fn focus(luma: &[f32], luma_noise_sigma: f64, field: &FieldMask, spacing: Option<PixelSpacing>) -> FocusMeasure {
    let (w, h) = (field.width as usize, field.height as usize);
    let factor = spacing.map_or(1, |s| ((FOCUS_SCALE_UM_PER_PX / s.um_per_px).floor() as usize).max(1));
    // At factor 1 the "downsampled" plane is the luma itself, and so is its noise.
    let (plane, scalp, dw, dh, plane_noise) = if factor == 1 {
        (
            Cow::Borrowed(luma),
            Cow::Borrowed(&field.scalp[..]),
            w,
            h,
            luma_noise_sigma,
        )
    } else {
        let (plane, scalp, dw, dh) = downsample(luma, &field.scalp, w, h, factor);
        let noise = noise_sigma(&plane, dw, dh);
        (Cow::Owned(plane), Cow::Owned(scalp), dw, dh, noise)
    };
    let min_contrast = MIN_EDGE_CONTRAST.max((EDGE_CONTRAST_NOISE_SIGMAS * plane_noise) as f32);
    let r = RANGE_RADIUS_PX;
    let range = local_range(&plane, dw, dh, r);
    let inside = erode(&scalp, dw, dh, r);
    let mut ratios = Vec::new();
    for y in 1..dh.saturating_sub(1) {
        for x in 1..dw.saturating_sub(1) {
            let i = y * dw + x;
            if !inside[i] || range[i] < min_contrast {
                continue;
            }
            let gx = plane[i + 1] - plane[i - 1];
            let gy = plane[i + dw] - plane[i - dw];
            ratios.push((0.5 * gx.hypot(gy) / range[i]) as f64);
        }
    }
    let value = if ratios.len() >= MIN_EDGE_PIXELS {
        let at = ((ratios.len() - 1) as f64 * FOCUS_PERCENTILE).round() as usize;
        *ratios.select_nth_unstable_by(at, f64::total_cmp).1
    } else {
        0.0
    };
    FocusMeasure {
        value,
        threshold: step_response(MAX_EDGE_BLUR_SIGMA_PX),
        method: format!(
            "{:.0}th percentile of |central-difference gradient| / {}x{} luma range over scalp edge pixels{}",
            FOCUS_PERCENTILE * 100.0,
            2 * r + 1,
            2 * r + 1,
            if factor > 1 {
                format!(", after {factor}x{factor} box averaging")
            } else {
                String::new()
            }
        ),
        measured_at_um_per_px: spacing.map(|s| s.um_per_px * factor as f64),
        edge_pixels: ratios.len() as u64,
    }
}

/// Judges focus and exposure of `rgb` over the scalp pixels of `field`; `spacing` (if known)
/// lets focus be measured at [`FOCUS_SCALE_UM_PER_PX`].
pub fn assess_quality(rgb: &RgbImage, field: &FieldMask, spacing: Option<PixelSpacing>) -> QualityReport {
    let luma = luma_plane(rgb);
    let noise_sigma = noise_sigma(&luma, field.width as usize, field.height as usize);
    assess_luma(&luma, noise_sigma, field, spacing)
}

/// [`assess_quality`] from the photo's luma plane and its [`noise_sigma`], when the caller
/// has them already.
pub(super) fn assess_luma(
    luma: &[f32],
    noise_sigma: f64,
    field: &FieldMask,
    spacing: Option<PixelSpacing>,
) -> QualityReport {
    let scalp_luma: Vec<f32> = luma
        .iter()
        .zip(&field.scalp)
        .filter(|(_, s)| **s)
        .map(|(v, _)| *v)
        .collect();
    let n = scalp_luma.len().max(1) as f64;
    let share = |pred: &dyn Fn(f32) -> bool| scalp_luma.iter().filter(|v| pred(**v)).count() as f64 / n;
    let overexposed_fraction = share(&|v| v >= CLIPPED_WHITE_LUMA);
    let underexposed_fraction = share(&|v| v <= CLIPPED_BLACK_LUMA);
    let mean_luminance = scalp_luma.iter().map(|v| *v as f64).sum::<f64>() / n;
    let focus = focus(luma, noise_sigma, field, spacing);
    let scalp_fraction = field.scalp_fraction();
    let mut flags = Vec::new();
    if focus.edge_pixels as usize >= MIN_EDGE_PIXELS && focus.value < focus.threshold {
        flags.push(QualityFlag::OutOfFocus);
    }
    if overexposed_fraction > MAX_CLIPPED_FRACTION {
        flags.push(QualityFlag::OverExposed);
    }
    if mean_luminance < MIN_MEAN_LUMA || underexposed_fraction > MAX_CLIPPED_FRACTION {
        flags.push(QualityFlag::UnderExposed);
    }
    if !field.overlays.is_empty() {
        flags.push(QualityFlag::OverlaysMasked);
    }
    if scalp_fraction < MIN_SCALP_FRACTION {
        flags.push(QualityFlag::SmallField);
    }
    QualityReport {
        flags,
        focus,
        overexposed_fraction,
        underexposed_fraction,
        mean_luminance,
        scalp_fraction,
        noise_sigma,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_images::{paint, skin};
    use super::super::{detect_field, FieldMask};
    use super::*;

    #[test]
    fn flags_serialise_in_snake_case() {
        let json = serde_json::to_string(&[QualityFlag::OutOfFocus, QualityFlag::OverlaysMasked]).unwrap();
        assert_eq!(json, r#"["out_of_focus","overlays_masked"]"#);
    }

    #[test]
    fn a_large_clipped_glare_area_is_over_exposed_not_masked() {
        let mut img = skin(200, 150);
        paint(&mut img, [255, 255, 255], |x, y| (x - 100.0).hypot(y - 75.0) < 30.0);
        let field = detect_field(&img);
        let report = assess_quality(&img, &field, None);
        assert_eq!(field.scalp_fraction(), 1.0);
        assert!(report.overexposed_fraction > 0.09, "{}", report.overexposed_fraction);
        assert_eq!(report.flags, vec![QualityFlag::OverExposed]);
    }

    #[test]
    fn dark_photos_and_small_fields_are_flagged() {
        let dark = image::RgbImage::from_fn(120, 90, |x, y| {
            image::Rgb(skin(120, 90).get_pixel(x, y).0.map(|c| c / 6))
        });
        let report = assess_quality(&dark, &FieldMask::full(120, 90), None);
        assert!(report.flags.contains(&QualityFlag::UnderExposed));
        let mut field = FieldMask::full(120, 90);
        field.scalp[..120 * 60].fill(false);
        field.scalp_pixels = 120 * 30;
        let report = assess_quality(&skin(120, 90), &field, None);
        assert!(report.flags.contains(&QualityFlag::SmallField));
    }

    #[test]
    fn step_response_matches_known_values() {
        assert!((step_response(1e-6) - 0.5).abs() < 1e-6);
        // erf(1/(2√2)) = erf(0.35355) = 0.38292
        assert!((step_response(2.0) - 0.38292 / 2.0).abs() < 1e-4);
    }
}

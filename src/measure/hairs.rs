//! From traced hairs (map pixels) to measured hairs (input-image pixels and µm): each hair
//! with its width, width class, the length of centreline inside the scalp field, and
//! whether it counts towards the image's metrics.

use serde::{Deserialize, Serialize};

use super::metrics::{HairClass, MeasureConfig};
use super::width::WidthMeasurement;
use super::MeasureError;
use crate::geometry::distance;
use crate::trace::TracedHair;
use crate::units::{Micrometres, PixelSpacing, Pixels};

/// Longest piece (input px) of centreline judged in or out of the field as a whole.
const FIELD_SAMPLE_STEP_PX: f64 = 0.5;

/// One hair with its measurements, in input-image pixels (pixel (i, j) covers
/// [i, i+1) × [j, j+1)) and, where the image is calibrated, micrometres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasuredHair {
    /// Number of the hair in the image, from 1.
    pub id: u32,
    /// Follicular unit (hairs sharing an opening share it), from the tracer.
    pub unit_id: u32,
    /// Centreline (input px).
    pub centreline_px: Vec<[f64; 2]>,
    /// Length of the centreline (input px).
    pub length_px: f64,
    /// Length of the centreline inside the scalp field (input px).
    pub length_in_field_px: f64,
    /// Shaft width (input px); `None` if it could not be measured.
    pub width_px: Option<f64>,
    /// Shaft width (µm); `None` if unmeasured or the image is uncalibrated.
    pub width_um: Option<f64>,
    /// Width class; `None` whenever `width_um` is.
    pub class: Option<HairClass>,
    /// Whether the hair enters the image's metrics (enough of it lies in the field).
    pub counted: bool,
    /// Whether an end reaches the image border (the hair may continue outside).
    pub touches_border: bool,
}

/// A scalp-field mask of `width × height` input pixels, row-major.
#[derive(Debug, Clone, Copy)]
pub struct FieldMask<'a> {
    mask: &'a [bool],
    width: usize,
    height: usize,
}

impl<'a> FieldMask<'a> {
    /// The mask.
    ///
    /// # Errors
    /// [`MeasureError::SizeMismatch`] if it does not hold `width × height` values.
    pub fn new(mask: &'a [bool], width: usize, height: usize) -> Result<Self, MeasureError> {
        if mask.len() != width * height {
            return Err(MeasureError::SizeMismatch {
                expected: width * height,
                actual: mask.len(),
                width,
                height,
            });
        }
        Ok(Self { mask, width, height })
    }

    /// Whether the point (x, y) (input px) lies on a field pixel; false outside the image.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if !(x >= 0.0 && y >= 0.0 && x < self.width as f64 && y < self.height as f64) {
            return false;
        }
        self.mask[y as usize * self.width + x as usize]
    }

    /// Field pixels.
    pub fn area_px(&self) -> u64 {
        self.mask.iter().filter(|&&m| m).count() as u64
    }
}

/// Builds measured hairs from traced hairs and their widths (`widths[k]` belongs to
/// `traced[k]`; a hair without one has no width).
///
/// Map pixels become input pixels by multiplying by `input_px_per_map_px`
/// ([`crate::segment::ProbabilityMaps::scale_to_input`]): with pixel edges on integers both
/// images span the same field, so the map's corner (w, h) lands on the input's (W, H) up to
/// the rounding of the map size (under one input pixel). `in_field(x, y)` says whether an
/// input-pixel position is scalp field (e.g. [`FieldMask::contains`]); `spacing` is the
/// input's µm/px. A hair is counted when its length in the field reaches
/// `min_counted_length_um`, or, uncalibrated, when any of it lies in the field.
///
/// # Errors
/// [`MeasureError::InvalidScale`] if `input_px_per_map_px` is not finite and positive.
pub fn measured_hairs(
    traced: &[TracedHair],
    widths: &[WidthMeasurement],
    input_px_per_map_px: f64,
    in_field: impl Fn(f64, f64) -> bool,
    spacing: Option<PixelSpacing>,
    config: &MeasureConfig,
) -> Result<Vec<MeasuredHair>, MeasureError> {
    let scale = input_px_per_map_px;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(MeasureError::InvalidScale { input_px_per_map_px });
    }
    let min_counted_px = spacing.map(|s| s.to_px(Micrometres(config.min_counted_length_um)).0);
    let hairs = traced
        .iter()
        .enumerate()
        .map(|(k, hair)| {
            let centreline_px: Vec<[f64; 2]> = hair
                .centreline_px
                .iter()
                .map(|p| [p[0] * scale, p[1] * scale])
                .collect();
            let length_in_field_px = length_in_field_px(&centreline_px, &in_field);
            let width_px = widths.get(k).and_then(|w| w.width_px).map(|w| w * scale);
            let width_um = width_px.zip(spacing).map(|(w, s)| s.to_um(Pixels(w)).0);
            let counted = match min_counted_px {
                Some(min) => length_in_field_px >= min && length_in_field_px > 0.0,
                None => length_in_field_px > 0.0,
            };
            MeasuredHair {
                id: u32::try_from(k + 1).unwrap_or(u32::MAX),
                unit_id: hair.unit_id,
                length_px: hair.length_px * scale,
                length_in_field_px,
                width_px,
                width_um,
                class: width_um.map(|w| HairClass::from_width_um(w, config)),
                counted,
                touches_border: hair.touches_border,
                centreline_px,
            }
        })
        .collect();
    Ok(hairs)
}

/// Length of `line` whose pieces (at most [`FIELD_SAMPLE_STEP_PX`] long) have their
/// midpoint in the field.
fn length_in_field_px(line: &[[f64; 2]], in_field: &impl Fn(f64, f64) -> bool) -> f64 {
    line.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let pieces = (distance(a, b) / FIELD_SAMPLE_STEP_PX).ceil().max(1.0) as usize;
            let inside = (0..pieces)
                .filter(|&i| {
                    let t = (i as f64 + 0.5) / pieces as f64;
                    in_field(a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                })
                .count();
            distance(a, b) * inside as f64 / pieces as f64
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traced(points: Vec<[f64; 2]>, unit_id: u32) -> TracedHair {
        TracedHair {
            length_px: crate::geometry::polyline_length(&points),
            centreline_px: points,
            width_px: 0.0,
            touches_border: false,
            unit_id,
        }
    }

    fn width(px: f64) -> WidthMeasurement {
        WidthMeasurement {
            width_px: Some(px),
            samples_used: 10,
            samples_total: 12,
            iqr_px: Some(0.1),
        }
    }

    #[test]
    fn field_length_counts_only_the_part_in_the_field() {
        // Left half of a 40 × 10 image is field; a hair from x = 10 to x = 30 has 10 px in it.
        let mask: Vec<bool> = (0..400).map(|i| i % 40 < 20).collect();
        let field = FieldMask::new(&mask, 40, 10).unwrap();
        assert_eq!(field.area_px(), 200);
        let line = [[10.0, 5.0], [30.0, 5.0]];
        assert!((length_in_field_px(&line, &|x, y| field.contains(x, y)) - 10.0).abs() < 1e-9);
        assert!(!field.contains(-0.1, 5.0) && !field.contains(40.0, 5.0) && !field.contains(f64::NAN, 1.0));
        assert!(FieldMask::new(&mask, 40, 11).is_err());
    }

    #[test]
    fn hairs_are_scaled_to_input_pixels_classified_and_counted() {
        // Map at 2 input px per map px; input at 2.5 µm/px, so 100 µm = 40 input px.
        let spacing = PixelSpacing::new(2.5);
        let hairs = [
            traced(vec![[0.0, 0.0], [30.0, 0.0]], 1),
            traced(vec![[0.0, 5.0], [19.0, 5.0]], 1),
        ];
        let widths = [width(6.0)];
        let measured = measured_hairs(&hairs, &widths, 2.0, |_, _| true, spacing, &MeasureConfig::default()).unwrap();
        assert_eq!(measured[0].id, 1);
        assert_eq!(measured[1].id, 2);
        assert_eq!(measured[0].centreline_px[1], [60.0, 0.0]);
        assert_eq!(measured[0].length_px, 60.0);
        assert_eq!(measured[0].width_px, Some(12.0));
        assert_eq!(measured[0].width_um, Some(30.0));
        assert_eq!(measured[0].class, Some(HairClass::Vellus));
        assert!(measured[0].counted);
        // 38 px < 40 px: too short to count; no width given.
        assert!(!measured[1].counted);
        assert_eq!((measured[1].width_px, measured[1].class), (None, None));
        // Uncalibrated: pixels only, and any part in the field counts.
        let measured = measured_hairs(&hairs, &widths, 2.0, |_, _| true, None, &MeasureConfig::default()).unwrap();
        assert_eq!(
            (measured[0].width_px, measured[0].width_um, measured[0].class),
            (Some(12.0), None, None)
        );
        assert!(measured[1].counted);
        let bad = measured_hairs(&hairs, &widths, 0.0, |_, _| true, spacing, &MeasureConfig::default());
        assert!(matches!(bad, Err(MeasureError::InvalidScale { .. })));
    }
}

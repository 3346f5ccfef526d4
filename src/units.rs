//! Units that must never mix silently: pixels, micrometres and the calibration between them.

use serde::{Deserialize, Serialize};

/// A length in image pixels.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Pixels(pub f64);

/// A length in micrometres (µm).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct Micrometres(pub f64);

/// Calibration: how many micrometres one pixel spans (square pixels).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
pub struct PixelSpacing {
    /// Micrometres per pixel; always finite and positive.
    pub um_per_px: f64,
}

/// Micrometres in one centimetre.
pub const UM_PER_CM: f64 = 10_000.0;

impl PixelSpacing {
    /// A spacing of `um_per_px` micrometres per pixel, or `None` if it is not a finite positive number.
    pub fn new(um_per_px: f64) -> Option<Self> {
        (um_per_px.is_finite() && um_per_px > 0.0).then_some(Self { um_per_px })
    }

    /// Converts a pixel length to micrometres.
    pub fn to_um(self, length: Pixels) -> Micrometres {
        Micrometres(length.0 * self.um_per_px)
    }

    /// Converts a micrometre length to pixels.
    pub fn to_px(self, length: Micrometres) -> Pixels {
        Pixels(length.0 / self.um_per_px)
    }

    /// Area in cm² covered by `pixel_count` pixels.
    pub fn area_cm2(self, pixel_count: f64) -> f64 {
        let side_cm = self.um_per_px / UM_PER_CM;
        pixel_count * side_cm * side_cm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_positive_or_non_finite_spacing() {
        assert!(PixelSpacing::new(0.0).is_none());
        assert!(PixelSpacing::new(-1.0).is_none());
        assert!(PixelSpacing::new(f64::NAN).is_none());
        assert!(PixelSpacing::new(f64::INFINITY).is_none());
    }

    #[test]
    fn converts_between_pixels_and_micrometres() {
        let s = PixelSpacing::new(5.0).unwrap();
        assert_eq!(s.to_um(Pixels(3.0)), Micrometres(15.0));
        assert_eq!(s.to_px(Micrometres(15.0)), Pixels(3.0));
        // 2000 × 2000 px at 5 µm/px is 1 cm × 1 cm.
        assert!((s.area_cm2(4_000_000.0) - 1.0).abs() < 1e-12);
    }
}

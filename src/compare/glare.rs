//! Glare between the visits: where a photo is clipped white over an area (a reflection off the
//! immersion fluid or the skin, an overexposed patch), no hair can be seen under it. That part
//! of the frame is left out of the common field, or a hair hidden there at one visit would be
//! counted as lost or gained.
//!
//! Rule: pixels whose luma is clipped (≥ [`CLIPPED_WHITE_LUMA`], as for the quality check's
//! over-exposure) are opened by a square of
//! 2 × [`OPENING_RADIUS_UM`] + 1 px, which removes the clipped lines of glossy hair highlights
//! (at most a third of a 120 µm shaft, 40 µm) and keeps areas; what stays is grown by
//! [`MARGIN_UM`], the soft rim where the glare still drowns a hair's contrast.

use super::field::mask_at;

use crate::quality::raster::{dilate, erode};
use crate::quality::CLIPPED_WHITE_LUMA;
use crate::units::PixelSpacing;

/// Half the width (µm) of the narrowest clipped area that counts as glare.
pub const OPENING_RADIUS_UM: f64 = 25.0;
/// Margin (µm) added around each glare area.
pub const MARGIN_UM: f64 = 25.0;
/// Spacing assumed for an uncalibrated photo (µm per px): the model's.
const UNCALIBRATED_UM_PER_PX: f64 = 5.0;

/// The pixels of one photo where glare hides the skin.
#[derive(Debug, Clone, PartialEq)]
pub struct Glare {
    /// Photo width (px).
    pub width: u32,
    /// Photo height (px).
    pub height: u32,
    /// Row-major, `true` under glare.
    pub mask: Vec<bool>,
}

impl Glare {
    /// The glare areas of a `width × height` photo from its luma plane (see the module docs),
    /// sized by its `spacing`.
    pub fn find(luma: &[f32], width: u32, height: u32, spacing: Option<PixelSpacing>) -> Self {
        let (w, h) = (width as usize, height as usize);
        let um_per_px = spacing.map_or(UNCALIBRATED_UM_PER_PX, |s| s.um_per_px);
        let radius = |um: f64| (um / um_per_px).ceil().max(1.0) as usize;
        let clipped: Vec<bool> = luma.iter().map(|&v| v >= CLIPPED_WHITE_LUMA).collect();
        let r = radius(OPENING_RADIUS_UM);
        // fewer clipped pixels than the opening's square: no area can survive it
        let mask = if clipped.iter().filter(|&&c| c).count() >= (2 * r + 1).pow(2) {
            let opened = dilate(&erode(&clipped, w, h, r), w, h, r);
            dilate(&opened, w, h, radius(MARGIN_UM))
        } else {
            vec![false; clipped.len()]
        };
        Self { width, height, mask }
    }

    /// Whether photo position `(x, y)` (px, continuous) lies under glare; `false` outside.
    pub fn covers(&self, x: f64, y: f64) -> bool {
        mask_at(&self.mask, self.width, self.height, x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quality::raster::luma_plane;
    use image::{Rgb, RgbImage};

    fn glare_of(photo: &RgbImage, spacing: Option<PixelSpacing>) -> Glare {
        Glare::find(&luma_plane(photo), photo.width(), photo.height(), spacing)
    }

    /// Skin 200 × 100 at 5 µm/px with a clipped disc of radius 15 px (150 µm across) at
    /// (50, 50) and a clipped line 4 px (20 µm) wide along row 50 from x = 120 on: a hair's
    /// glossy highlight.
    fn photo() -> RgbImage {
        RgbImage::from_fn(200, 100, |x, y| {
            let (fx, fy) = (f64::from(x), f64::from(y));
            let disc = (fx - 50.0).hypot(fy - 50.0) < 15.0;
            let line = x >= 120 && (48..52).contains(&y);
            if disc || line {
                Rgb([255, 255, 255])
            } else {
                Rgb([190, 150, 130])
            }
        })
    }

    #[test]
    fn a_clipped_area_and_its_rim_are_glare_but_a_highlight_line_is_not() {
        let glare = glare_of(&photo(), PixelSpacing::new(5.0));
        assert!(glare.covers(50.0, 50.0));
        // the disc's rim grown by 25 µm (5 px)
        assert!(glare.covers(50.0, 50.0 + 18.0));
        assert!(!glare.covers(50.0, 50.0 + 25.0));
        assert!(!glare.covers(160.0, 50.0), "highlight line");
        assert!(!glare.covers(-1.0, 50.0));
    }

    #[test]
    fn a_photo_without_clipped_pixels_has_no_glare() {
        let skin = RgbImage::from_pixel(40, 30, Rgb([190, 150, 130]));
        assert!(glare_of(&skin, None).mask.iter().all(|&g| !g));
    }
}

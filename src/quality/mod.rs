//! Which pixels of a photo are analysable scalp, and whether the photo is fit to measure.
//!
//! Trichoscopy devices burn text bars, captions, scale bars, measurement circles and blank
//! lines into their photos, and many image a round field, black outside. They are not hair and they hide the field, so hair counting must
//! skip them and density must use the field area without them. [`detect_field`] finds them from
//! image statistics alone — device graphics are synthetic (flat colour, hard strokes of one
//! colour), skin always has texture and noise — and [`assess_quality`] then judges focus and
//! exposure over the scalp pixels only. Skin-marker ink is on the skin: it stays scalp.

mod assess;
pub(crate) use assess::CLIPPED_WHITE_LUMA;
mod bands;
mod circles;
mod graphics;
mod paint;
pub(crate) mod raster;
mod surround;

use std::borrow::Cow;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::units::PixelSpacing;

pub use assess::{
    assess_quality, FocusMeasure, QualityFlag, QualityReport, FOCUS_SCALE_UM_PER_PX, MAX_CLIPPED_FRACTION,
    MAX_EDGE_BLUR_SIGMA_PX, MIN_MEAN_LUMA, MIN_SCALP_FRACTION,
};

/// Safety margin (px) added around every overlay: JPEG ringing and chroma subsampling smear a
/// hard graphic edge over about two pixels.
pub const OVERLAY_MARGIN_PX: usize = 2;

/// What kind of device overlay a region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverlayKind {
    /// Whole rows or columns of one flat colour (letterbox bands, dropped lines).
    BlankRows,
    /// A flat strip along an image edge with text inside it (the device's caption bar).
    Band,
    /// Thin strokes of one device colour over the field: captions, scale bars, circles.
    Graphic,
    /// A thin circular line of one colour, whatever the colour, found by its shape: a
    /// device's measurement circle, or the rim of an air bubble in the immersion fluid.
    Circle,
    /// The black surround outside the optics' round field of view (corners or a ring).
    OutsideFieldOfView,
}

/// One detected overlay: its bounding box and how many pixels it covers (before the
/// [`OVERLAY_MARGIN_PX`] safety margin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlayRegion {
    /// What it is.
    pub kind: OverlayKind,
    /// Left edge of the bounding box (px).
    pub x: u32,
    /// Top edge of the bounding box (px).
    pub y: u32,
    /// Bounding-box width (px).
    pub width: u32,
    /// Bounding-box height (px).
    pub height: u32,
    /// Pixels the overlay itself covers.
    pub pixels: u64,
}

/// The analysable field of one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldMask {
    /// Image width (px).
    pub width: u32,
    /// Image height (px).
    pub height: u32,
    /// `width × height` flags, row-major: `true` = analysable scalp.
    pub scalp: Vec<bool>,
    /// The overlays found (their pixels, plus the margin, are not scalp).
    pub overlays: Vec<OverlayRegion>,
    /// Number of scalp pixels (the field area in px).
    pub scalp_pixels: u64,
    /// Pixels covered by the overlays other than device-colour graphics (before the margin):
    /// the ones never handed back.
    #[serde(skip)]
    fixed: Vec<bool>,
    /// The graphics, per colour: their strokes (frame indices, before the margin).
    #[serde(skip)]
    graphics: Vec<Vec<Vec<usize>>>,
    /// The circles (measurement rings, bubble rims).
    #[serde(skip)]
    rings: Vec<circles::Ring>,
    /// `width × height` flags: pixels off the field that [`FieldMask::photo_to_segment`] paints
    /// over (the circles' lines and the graphic strokes, with their margin), so they hide
    /// nothing.
    #[serde(skip)]
    painted: Vec<bool>,
    /// The painted pixels within the overlay margin of a graphic stroke (frame indices), filled
    /// from the scalp.
    #[serde(skip)]
    filled: Vec<usize>,
}

impl FieldMask {
    /// The field from the overlays' own pixels: `fixed` (blank lines, bands, the surround of a
    /// round field, circles, as regions `regions`), the graphic strokes per colour
    /// and the circles `rings` (whose lines are in `fixed`).
    fn from_overlays(
        width: u32,
        height: u32,
        fixed: Vec<bool>,
        regions: Vec<OverlayRegion>,
        graphics: Vec<Vec<Vec<usize>>>,
        rings: Vec<circles::Ring>,
    ) -> Self {
        let (w, h) = (width as usize, height as usize);
        let mut covered = fixed.clone();
        for &i in graphics.iter().flatten().flatten() {
            covered[i] = true;
        }
        let covered = raster::dilate(&covered, w, h, OVERLAY_MARGIN_PX);
        let scalp: Vec<bool> = covered.iter().map(|c| !c).collect();
        let scalp_pixels = scalp.iter().filter(|s| **s).count() as u64;
        let mut painted = vec![false; w * h];
        for ring in &rings {
            for i in ring.cleared(ring_clearance(ring), w, h) {
                painted[i] = !scalp[i];
            }
        }
        let mut strokes = vec![false; w * h];
        for &i in graphics.iter().flatten().flatten() {
            strokes[i] = true;
        }
        let near_strokes = raster::dilate(&strokes, w, h, OVERLAY_MARGIN_PX);
        for (i, &near) in near_strokes.iter().enumerate() {
            painted[i] |= near && !scalp[i] && !fixed[i];
        }
        // Near a stroke, a circle's painted line is filled again, after its own painting.
        let filled: Vec<usize> = (0..w * h).filter(|&i| near_strokes[i] && painted[i]).collect();
        let mut overlays = regions;
        overlays.extend(
            graphics
                .iter()
                .map(|strokes| graphics::overlay_region(OverlayKind::Graphic, strokes.iter().flatten(), w, h)),
        );
        Self {
            width,
            height,
            scalp,
            overlays,
            scalp_pixels,
            fixed,
            graphics,
            rings,
            painted,
            filled,
        }
    }

    /// The field with the graphic strokes for which `is_hair` (given a stroke's pixels, frame
    /// indices) holds handed back as scalp, or `None` when there is none. A shaft's glossy
    /// highlight (blond, grey and white hair clip to a near-white or saturated line) can pass
    /// every colour and shape test of a device graphic; the segmentation, trained on phantoms
    /// that carry both, tells them apart.
    pub fn without_strokes(&self, is_hair: impl Fn(&[usize]) -> bool) -> Option<Self> {
        let kept: Vec<Vec<Vec<usize>>> = self
            .graphics
            .iter()
            .map(|strokes| strokes.iter().filter(|s| !is_hair(s)).cloned().collect::<Vec<_>>())
            .collect();
        if kept.iter().map(Vec::len).eq(self.graphics.iter().map(Vec::len)) {
            return None;
        }
        let regions = self
            .overlays
            .iter()
            .filter(|o| o.kind != OverlayKind::Graphic)
            .cloned()
            .collect();
        let graphics = kept.into_iter().filter(|strokes| !strokes.is_empty()).collect();
        Some(Self::from_overlays(
            self.width,
            self.height,
            self.fixed.clone(),
            regions,
            graphics,
            self.rings.clone(),
        ))
    }

    /// A field with every pixel scalp (no overlays).
    pub fn full(width: u32, height: u32) -> Self {
        let n = width as usize * height as usize;
        Self::from_overlays(width, height, vec![false; n], Vec::new(), Vec::new(), Vec::new())
    }

    /// Whether (x, y) is analysable scalp; `false` outside the image.
    pub fn is_scalp(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.scalp[y as usize * self.width as usize + x as usize]
    }

    /// Whether (x, y) is off the field and nothing under it can be seen (an overlay not painted
    /// over in [`FieldMask::photo_to_segment`]); `true` outside the image.
    pub fn hides(&self, x: u32, y: u32) -> bool {
        let inside = x < self.width && y < self.height;
        let painted = inside && self.painted[y as usize * self.width as usize + x as usize];
        !(self.is_scalp(x, y) || painted)
    }

    /// The photo to segment and measure: `rgb` with the circles' lines painted over along their
    /// radius (see [`circles::Ring::paint_over`]) and the graphic strokes filled from the scalp
    /// around them ([`paint::fill_from_sources`]), or `rgb` itself when there is none. Their
    /// pixels stay off the field; what crosses under them is continued, not cut.
    pub fn photo_to_segment<'a>(&self, rgb: &'a RgbImage) -> Cow<'a, RgbImage> {
        if !self.painted.contains(&true) {
            return Cow::Borrowed(rgb);
        }
        let mut photo = rgb.clone();
        for ring in &self.rings {
            ring.paint_over(&mut photo, ring_clearance(ring));
        }
        paint::fill_from_sources(&mut photo, &self.filled, &self.scalp);
        Cow::Owned(photo)
    }

    /// Share of the frame that is scalp (0–1; 0 for an empty image).
    pub fn scalp_fraction(&self) -> f64 {
        let total = self.width as f64 * self.height as f64;
        if total > 0.0 {
            self.scalp_pixels as f64 / total
        } else {
            0.0
        }
    }
}

/// How far from a circle's line (px) the photo is painted over: the band that
/// holds the line and the overlay margin around it.
fn ring_clearance(ring: &circles::Ring) -> f64 {
    ring.half_width_px + OVERLAY_MARGIN_PX as f64
}

/// Finds the device overlays of `rgb` and returns the analysable scalp field.
///
/// Blank lines and edge bars are found first (whole lines of one flat colour), then the black
/// surround of a round field of view; device graphics are then searched among the remaining
/// pixels. Every overlay is widened by
/// [`OVERLAY_MARGIN_PX`]. Never fails: an image without overlays is all scalp.
pub fn detect_field(rgb: &RgbImage) -> FieldMask {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let luma = raster::luma_plane(rgb);
    let noise = raster::noise_sigma(&luma, w, h);
    field_with_noise(rgb, &luma, noise)
}

/// [`detect_field`] then [`assess_quality`] on its field, with the luma plane and its noise
/// estimate (which both need) computed once.
pub fn field_and_quality(rgb: &RgbImage, spacing: Option<PixelSpacing>) -> (FieldMask, QualityReport) {
    let (w, h) = (rgb.width() as usize, rgb.height() as usize);
    let luma = raster::luma_plane(rgb);
    let noise = raster::noise_sigma(&luma, w, h);
    let field = field_with_noise(rgb, &luma, noise);
    let quality = assess::assess_luma(&luma, noise, &field, spacing);
    (field, quality)
}

/// [`detect_field`] given the photo's luma plane and its noise σ (grey levels).
fn field_with_noise(rgb: &RgbImage, luma: &[f32], noise_sigma: f64) -> FieldMask {
    let (width, height) = rgb.dimensions();
    let (w, h) = (width as usize, height as usize);
    let mut covered = vec![false; w * h];
    let mut overlays = bands::detect_lines(rgb, &mut covered);
    overlays.extend(surround::detect_surround(luma, w, h, &mut covered));
    let mut fixed = covered.clone();
    let graphics = graphics::detect_graphics(rgb, noise_sigma, &mut covered);
    for ring in &graphics.rings {
        for &i in &ring.pixels {
            fixed[i] = true;
        }
        overlays.push(graphics::overlay_region(OverlayKind::Circle, &ring.pixels, w, h));
    }
    FieldMask::from_overlays(width, height, fixed, overlays, graphics.strokes, graphics.rings)
}

#[cfg(test)]
pub(crate) mod test_images {
    //! Hand-built scalp-like images for the unit tests.
    use image::{Rgb, RgbImage};

    /// Skin: a soft diagonal illumination gradient, 2-D mottling (no line through skin is one
    /// colour) and hashed uniform ±8 noise (σ ≈ 4.6 levels).
    pub fn skin(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            let h = (x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77)).wrapping_mul(0xC2B2_AE3D) >> 28;
            let (fx, fy) = (x as f32, y as f32);
            let mottle = (4.0 * (fx / 9.0 + fy / 13.0).sin() + 4.0 * (fy / 7.0 - fx / 17.0).cos()) as i32;
            let light = x as i32 * 20 / width as i32 + y as i32 * 12 / height as i32;
            let v = 150 + light + mottle + h as i32 - 8;
            Rgb([
                (v + 40).clamp(0, 255) as u8,
                v.clamp(0, 255) as u8,
                (v - 25).clamp(0, 255) as u8,
            ])
        })
    }

    /// Paints `colour` where `inside(x, y)`.
    pub fn paint(img: &mut RgbImage, colour: [u8; 3], inside: impl Fn(f32, f32) -> bool) {
        for (x, y, p) in img.enumerate_pixels_mut() {
            if inside(x as f32 + 0.5, y as f32 + 0.5) {
                p.0 = colour;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_images::{paint, skin};
    use super::*;

    fn has(field: &FieldMask, kind: OverlayKind) -> bool {
        field.overlays.iter().any(|o| o.kind == kind)
    }

    #[test]
    fn field_and_quality_equal_the_two_separate_steps() {
        let mut img = skin(240, 180);
        paint(&mut img, [25, 25, 25], |_, y| y < 20.0);
        for spacing in [None, PixelSpacing::new(5.0), PixelSpacing::new(2.0)] {
            let field = detect_field(&img);
            let quality = assess_quality(&img, &field, spacing);
            assert_eq!(field_and_quality(&img, spacing), (field, quality));
        }
    }

    #[test]
    fn plain_skin_is_all_scalp() {
        let field = detect_field(&skin(240, 180));
        assert!(field.overlays.is_empty(), "{:?}", field.overlays);
        assert_eq!(field.scalp_fraction(), 1.0);
    }

    #[test]
    fn a_flat_bar_with_text_at_the_top_is_masked_whole() {
        let mut img = skin(240, 180);
        paint(&mut img, [25, 25, 25], |_, y| y < 24.0);
        // Caption glyph blocks, 3 px strokes, rows 6..18.
        paint(&mut img, [235, 235, 235], |x, y| {
            (6.0..18.0).contains(&y) && x < 180.0 && (x as u32 / 3).is_multiple_of(3)
        });
        let field = detect_field(&img);
        assert!(has(&field, OverlayKind::Band), "{:?}", field.overlays);
        assert!(!field.is_scalp(10, 10) && !field.is_scalp(200, 23));
        assert!(field.is_scalp(120, 30 + OVERLAY_MARGIN_PX as u32));
        let expected = 240 * (180 - 24 - OVERLAY_MARGIN_PX as u64);
        assert_eq!(field.scalp_pixels, expected);
    }

    #[test]
    fn blank_rows_are_masked() {
        let mut img = skin(240, 180);
        paint(&mut img, [0, 0, 0], |_, y| (90.0..93.0).contains(&y));
        let field = detect_field(&img);
        assert!(has(&field, OverlayKind::BlankRows), "{:?}", field.overlays);
        assert!(!field.is_scalp(50, 91) && field.is_scalp(50, 80));
    }

    /// Whether (x, y) lies within `d` px of the circle of centre (`cx`, `cy`) and radius `r`.
    fn on_circle(x: f32, y: f32, (cx, cy, r): (f32, f32, f32), d: f32) -> bool {
        ((x - cx).hypot(y - cy) - r).abs() <= d
    }

    #[test]
    fn a_one_colour_circle_is_masked_and_its_inside_stays_scalp() {
        let mut img = skin(240, 180);
        paint(&mut img, [40, 230, 60], |x, y| {
            on_circle(x, y, (120.0, 90.0, 60.0), 1.2)
        });
        let field = detect_field(&img);
        assert!(has(&field, OverlayKind::Circle), "{:?}", field.overlays);
        assert!(!field.is_scalp(180, 90) && !field.is_scalp(120, 30));
        assert!(field.is_scalp(120, 90) && field.is_scalp(10, 10));
    }

    #[test]
    fn a_grey_ring_of_a_hair_colour_is_found_by_its_shape_and_painted_over() {
        // A light grey ring (the colour of a grey shaft: neither saturated nor white) over
        // skin, partly off the frame, with a dark shaft crossing under it.
        let mut img = skin(320, 240);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let across = x as f32 + 0.5 - 153.5;
            if across.abs() < 3.5 && y < 200 {
                let v = (20.0 + 3.0 * across * across) as u8;
                p.0 = [v + 8, v + 2, v];
            }
        }
        let ring = (170.0, 130.0, 125.0);
        paint(&mut img, [215, 215, 205], |x, y| on_circle(x, y, ring, 1.3));
        let field = detect_field(&img);
        assert!(has(&field, OverlayKind::Circle), "{:?}", field.overlays);
        assert!(!has(&field, OverlayKind::Graphic), "{:?}", field.overlays);
        // The ring's line crosses the shaft at x = 153.5 near y = 5.9 (top) and 254 (off frame).
        let (x, y) = (153u32, 6u32);
        assert!(
            !field.is_scalp(x, y) && !field.hides(x, y),
            "off the field, painted over"
        );
        assert!(field.is_scalp(170, 130) && !field.hides(170, 130));
        let painted = field.photo_to_segment(&img);
        assert!(
            painted.get_pixel(x, y).0[0] < 80,
            "the shaft continues: {:?}",
            painted.get_pixel(x, y)
        );
        let (rx, ry) = (295u32, 130u32);
        let green = |p: &image::Rgb<u8>| i32::from(p.0[1]);
        assert_eq!(green(img.get_pixel(rx, ry)), 215);
        assert!(
            (green(painted.get_pixel(rx, ry)) - green(img.get_pixel(rx + 8, ry))).abs() < 16,
            "the ring is gone: {:?}",
            painted.get_pixel(rx, ry)
        );
        assert_eq!(
            painted.get_pixel(100, 100),
            img.get_pixel(100, 100),
            "the rest is untouched"
        );
    }

    #[test]
    fn a_curved_shaft_is_no_measurement_circle() {
        // A dark 5 px shaft bent along a third of a circle of radius 70 px.
        let mut img = skin(320, 240);
        paint(&mut img, [70, 52, 40], |x, y| {
            let a = (y - 120.0).atan2(x - 160.0).to_degrees();
            (-60.0..60.0).contains(&a) && on_circle(x, y, (160.0, 120.0, 70.0), 2.5)
        });
        let field = detect_field(&img);
        assert!(!has(&field, OverlayKind::Circle), "{:?}", field.overlays);
        assert!(field.photo_to_segment(&img).as_ref() == &img);
    }

    #[test]
    fn a_shaft_under_a_scale_bar_is_continued_in_the_photo_to_segment() {
        let mut img = skin(240, 180);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let across = x as f32 + 0.5 - 104.0;
            if across.abs() < 4.0 && (10..170).contains(&y) {
                let v = (12.0 + 2.0 * across * across) as u8;
                p.0 = [v + 6, v + 2, v];
            }
        }
        paint(&mut img, [250, 250, 250], |x, y| {
            (40.0..200.0).contains(&x) && (90.0..93.0).contains(&y)
        });
        let field = detect_field(&img);
        assert!(has(&field, OverlayKind::Graphic), "{:?}", field.overlays);
        assert!(!field.is_scalp(104, 91) && !field.hides(104, 91) && field.is_scalp(104, 80));
        assert!(!field.hides(60, 91), "the bar is painted over on the skin too");
        let photo = field.photo_to_segment(&img);
        // Darker than halfway between the shaft (12–44) and the skin (about 190).
        assert!(photo.get_pixel(104, 91).0[0] < 100, "{:?}", photo.get_pixel(104, 91));
        let skin_level = i32::from(img.get_pixel(60, 80).0[1]);
        assert!((i32::from(photo.get_pixel(60, 91).0[1]) - skin_level).abs() < 20);
        assert_eq!(photo.get_pixel(60, 80), img.get_pixel(60, 80));
    }

    #[test]
    fn strokes_shown_to_be_hair_are_handed_back_whole_but_circles_are_not() {
        let mut img = skin(240, 180);
        paint(&mut img, [40, 230, 60], |x, y| {
            (40.0..200.0).contains(&x) && (150.0..152.5).contains(&y)
        });
        paint(&mut img, [40, 230, 60], |x, y| {
            on_circle(x, y, (120.0, 80.0, 50.0), 1.2)
        });
        paint(&mut img, [0, 0, 0], |_, y| (170.0..173.0).contains(&y));
        let field = detect_field(&img);
        assert!(field.without_strokes(|_| false).is_none(), "nothing handed back");
        let back = field.without_strokes(|_| true).expect("the line handed back");
        assert!(!has(&back, OverlayKind::Graphic), "{:?}", back.overlays);
        assert!(has(&back, OverlayKind::BlankRows) && has(&back, OverlayKind::Circle));
        assert!(back.is_scalp(120, 151) && !back.is_scalp(170, 80) && !back.is_scalp(50, 171));
        let only_circle = {
            let mut img = skin(240, 180);
            paint(&mut img, [40, 230, 60], |x, y| {
                on_circle(x, y, (120.0, 80.0, 50.0), 1.2)
            });
            paint(&mut img, [0, 0, 0], |_, y| (170.0..173.0).contains(&y));
            detect_field(&img)
        };
        assert_eq!(back.scalp_pixels, only_circle.scalp_pixels);
    }

    #[test]
    fn skin_strips_between_dark_shafts_under_a_colour_cast_stay_scalp() {
        // Saturated (yellow-cast) skin, then dark 6 px shafts side by side with 3 px of skin
        // between them: thin, hard-edged strips of one saturated colour.
        let mut img = skin(240, 180);
        for p in img.pixels_mut() {
            p.0[2] = p.0[2].saturating_sub(60);
        }
        paint(&mut img, [12, 10, 8], |x, y| {
            (40.0..140.0).contains(&y) && (60.0..180.0).contains(&x) && (x as u32) % 9 < 6
        });
        let field = detect_field(&img);
        assert!(!has(&field, OverlayKind::Graphic), "{:?}", field.overlays);
        assert!(field.is_scalp(67, 90) && field.is_scalp(70, 100));
    }

    #[test]
    fn a_circle_is_found_among_many_dark_shafts() {
        // Ten dark shafts of ten different shades: ten colour bins with more high-contrast
        // pixels than the circle's own.
        let mut img = skin(320, 240);
        for k in 0..10u8 {
            let x0 = 10.0 + 30.0 * f32::from(k);
            paint(&mut img, [4 + 16 * k, 6, 4], |x, y| {
                (x0..x0 + 6.0).contains(&x) && (20.0..220.0).contains(&y)
            });
        }
        paint(&mut img, [40, 230, 60], |x, y| {
            ((x - 160.0).hypot(y - 120.0) - 45.0).abs() <= 1.2
        });
        let field = detect_field(&img);
        assert!(has(&field, OverlayKind::Graphic), "{:?}", field.overlays);
        assert!(!field.is_scalp(205, 120) && field.is_scalp(160, 120));
    }

    #[test]
    fn a_dark_smooth_hair_stays_scalp() {
        let mut img = skin(240, 180);
        // A 9 px shaft with a shaded profile (dark core, lighter rims), drawn diagonally.
        for (x, y, p) in img.enumerate_pixels_mut() {
            let d = ((x as f32 - y as f32 * 1.2) / 1.56f32.sqrt()).abs();
            if d < 4.5 {
                let v = (8.0 + 30.0 * (d / 4.5).powi(2)) as u8;
                p.0 = [v + 4, v, v];
            }
        }
        let field = detect_field(&img);
        assert!(field.overlays.is_empty(), "{:?}", field.overlays);
    }

    #[test]
    fn a_clipped_glare_blob_stays_scalp() {
        let mut img = skin(240, 180);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let d = (x as f32 - 100.0).hypot(y as f32 - 80.0);
            let add = 400.0 * (-(d / 25.0).powi(2)).exp();
            p.0 = p.0.map(|c| (c as f32 + add).min(255.0) as u8);
        }
        let field = detect_field(&img);
        assert!(field.overlays.is_empty(), "{:?}", field.overlays);
    }
}

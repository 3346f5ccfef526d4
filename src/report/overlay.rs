//! The overlay PNG a clinician checks a result with: the photo, dimmed, with masked device
//! overlays hatched, every counted hair's centreline drawn in its class colour and numbered
//! with its id, and hairs that do not count drawn thin and grey.

use image::{Rgb, RgbImage};
use imageproc::drawing::{draw_filled_circle_mut, draw_filled_rect_mut, draw_line_segment_mut};
use imageproc::rect::Rect;

use crate::glyphs::{inked_cells, text_width_cells, GLYPH_HEIGHT};
use crate::measure::{HairClass, MeasuredHair};
use crate::quality::FieldMask;

/// Colour of vellus hairs.
pub const VELLUS_COLOUR: Rgb<u8> = Rgb([0, 220, 255]);
/// Colour of intermediate hairs.
pub const INTERMEDIATE_COLOUR: Rgb<u8> = Rgb([255, 200, 0]);
/// Colour of terminal hairs.
pub const TERMINAL_COLOUR: Rgb<u8> = Rgb([255, 40, 40]);
/// Colour of counted hairs without a class (no calibration or no width).
pub const UNCLASSIFIED_COLOUR: Rgb<u8> = Rgb([255, 255, 255]);
/// Colour of traced hairs that do not count (too little of them in the field).
pub const NOT_COUNTED_COLOUR: Rgb<u8> = Rgb([150, 150, 150]);
/// Brightness kept of the photo under the drawing, so the lines stand out.
const PHOTO_BRIGHTNESS: f32 = 0.7;

/// The colour a hair is drawn in.
pub fn hair_colour(hair: &MeasuredHair) -> Rgb<u8> {
    match (hair.counted, hair.class) {
        (false, _) => NOT_COUNTED_COLOUR,
        (true, Some(HairClass::Vellus)) => VELLUS_COLOUR,
        (true, Some(HairClass::Intermediate)) => INTERMEDIATE_COLOUR,
        (true, Some(HairClass::Terminal)) => TERMINAL_COLOUR,
        (true, None) => UNCLASSIFIED_COLOUR,
    }
}

/// Draws the overlay of `hairs` (centrelines in `photo` pixels) over a copy of `photo`.
pub fn draw_overlay(photo: &RgbImage, field: &FieldMask, hairs: &[MeasuredHair]) -> RgbImage {
    let mut canvas = photo.clone();
    for (x, y, pixel) in canvas.enumerate_pixels_mut() {
        let hatch = !field.is_scalp(x, y) && (x + y) % 6 < 2;
        for c in pixel.0.iter_mut() {
            *c = if hatch {
                255
            } else {
                (f32::from(*c) * PHOTO_BRIGHTNESS) as u8
            };
        }
    }
    let line_radius = line_radius_px(photo);
    for hair in hairs.iter().filter(|h| !h.counted) {
        draw_polyline(&mut canvas, &hair.centreline_px, 0, hair_colour(hair));
    }
    for hair in hairs.iter().filter(|h| h.counted) {
        draw_polyline(&mut canvas, &hair.centreline_px, line_radius, hair_colour(hair));
    }
    let cell = (line_radius + 1).max(1);
    for hair in hairs.iter().filter(|h| h.counted) {
        if let Some(&[x, y]) = hair.centreline_px.get(hair.centreline_px.len() / 2) {
            draw_label(&mut canvas, &hair.id.to_string(), x, y, cell, hair_colour(hair));
        }
    }
    canvas
}

/// Line half-thickness: about one pixel per 500 px of the longer image side.
pub(super) fn line_radius_px(photo: &RgbImage) -> i32 {
    (photo.width().max(photo.height()) / 500) as i32
}

pub(super) fn draw_polyline(canvas: &mut RgbImage, points: &[[f64; 2]], radius: i32, colour: Rgb<u8>) {
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // centreline coordinates put pixel centres at i + 0.5; imageproc at i
        let (ax, ay, bx, by) = (
            (a[0] - 0.5) as f32,
            (a[1] - 0.5) as f32,
            (b[0] - 0.5) as f32,
            (b[1] - 0.5) as f32,
        );
        draw_line_segment_mut(canvas, (ax, ay), (bx, by), colour);
        if radius > 0 {
            draw_filled_circle_mut(canvas, (bx.round() as i32, by.round() as i32), radius, colour);
        }
    }
}

/// The hair's number on a dark box, centred on (`x`, `y`) and kept inside the image.
pub(super) fn draw_label(canvas: &mut RgbImage, text: &str, x: f64, y: f64, cell: i32, colour: Rgb<u8>) {
    let cell = i64::from(cell);
    let (w, h) = ((text_width_cells(text) + 2) * cell, (GLYPH_HEIGHT + 2) * cell);
    let x0 = (x as i64 - w / 2).clamp(0, (i64::from(canvas.width()) - w).max(0));
    let y0 = (y as i64 - h / 2).clamp(0, (i64::from(canvas.height()) - h).max(0));
    draw_filled_rect_mut(
        canvas,
        Rect::at(x0 as i32, y0 as i32).of_size(w as u32, h as u32),
        Rgb([0, 0, 0]),
    );
    for (cx, cy) in inked_cells(text) {
        let rect =
            Rect::at(((cx + 1) * cell + x0) as i32, ((cy + 1) * cell + y0) as i32).of_size(cell as u32, cell as u32);
        draw_filled_rect_mut(canvas, rect, colour);
    }
}

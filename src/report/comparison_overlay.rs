//! The side-by-side overlay of a comparison (`comparison.overlay.png`): the baseline on the
//! left, the follow-up registered into the baseline frame on the right, outside the common
//! field darkened. Each persisting hair is drawn in the same colour on both sides with the
//! same number (its link number); lost hairs are red on the left with a ring at their
//! middle, new hairs green on the right with a ring. Traced pieces of a persisting shaft and
//! hairs outside the common field are thin grey.

use image::{Rgb, RgbImage};
use imageproc::drawing::draw_hollow_circle_mut;

use super::overlay::{draw_label, draw_polyline, line_radius_px};
use crate::compare::Comparison;
use crate::measure::MeasuredHair;

/// Colour of lost hairs.
pub const LOST_COLOUR: Rgb<u8> = Rgb([255, 40, 40]);
/// Colour of new hairs.
pub const NEW_COLOUR: Rgb<u8> = Rgb([40, 255, 80]);
/// Colour of hairs that take no part (pieces, outside the common field).
pub const OTHER_COLOUR: Rgb<u8> = Rgb([150, 150, 150]);
/// Gap between the two panels (px).
const GAP_PX: u32 = 8;
/// Brightness kept of the photo inside the common field.
const INSIDE_BRIGHTNESS: f32 = 0.7;
/// Brightness kept outside it.
const OUTSIDE_BRIGHTNESS: f32 = 0.3;

/// Colours for linked pairs: bright, distinct from red and green, cycled.
const LINK_PALETTE: [Rgb<u8>; 8] = [
    Rgb([0, 220, 255]),
    Rgb([255, 200, 0]),
    Rgb([255, 0, 255]),
    Rgb([255, 255, 255]),
    Rgb([120, 160, 255]),
    Rgb([255, 140, 60]),
    Rgb([0, 255, 200]),
    Rgb([200, 120, 255]),
];

/// Draws the overlay: `baseline` and `followup` photos with their traced `*_hairs`.
pub fn draw_comparison_overlay(
    baseline: &RgbImage,
    followup: &RgbImage,
    baseline_hairs: &[MeasuredHair],
    followup_hairs: &[MeasuredHair],
    comparison: &Comparison,
) -> RgbImage {
    let (w, h) = baseline.dimensions();
    let mut canvas = RgbImage::new(2 * w + GAP_PX, h);
    let to_followup = comparison.registration.followup_to_baseline.inverse();
    let common = &comparison.common_field;
    for y in 0..h {
        for x in 0..w {
            let inside = common.contains(f64::from(x) + 0.5, f64::from(y) + 0.5);
            let k = if inside { INSIDE_BRIGHTNESS } else { OUTSIDE_BRIGHTNESS };
            let dim = |p: &Rgb<u8>| Rgb(p.0.map(|c| (f32::from(c) * k) as u8));
            canvas.put_pixel(x, y, dim(baseline.get_pixel(x, y)));
            let q = to_followup.apply([f64::from(x) + 0.5, f64::from(y) + 0.5]);
            if q[0] >= 0.0 && q[1] >= 0.0 && q[0] < f64::from(followup.width()) && q[1] < f64::from(followup.height()) {
                canvas.put_pixel(x + w + GAP_PX, y, dim(followup.get_pixel(q[0] as u32, q[1] as u32)));
            }
        }
    }
    let radius = line_radius_px(baseline);
    let to_baseline = comparison.registration.followup_to_baseline;
    let offset = f64::from(w + GAP_PX);
    let left = |hair: &MeasuredHair| hair.centreline_px.clone();
    // the follow-up hair in the right panel: mapped into the baseline frame, clipped to it
    // (the part outside would spill into the left panel), shifted right
    let right = |hair: &MeasuredHair| -> Vec<[f64; 2]> {
        hair.centreline_px
            .iter()
            .map(|&p| to_baseline.apply(p))
            .filter(|q| q[0] >= 0.0 && q[1] >= 0.0 && q[0] < f64::from(w) && q[1] < f64::from(h))
            .map(|q| [q[0] + offset, q[1]])
            .collect()
    };
    for hair in baseline_hairs.iter().filter(|h| h.counted) {
        draw_polyline(&mut canvas, &left(hair), 0, OTHER_COLOUR);
    }
    for hair in followup_hairs.iter().filter(|h| h.counted) {
        draw_polyline(&mut canvas, &right(hair), 0, OTHER_COLOUR);
    }
    let find = |hairs: &[MeasuredHair], id: u32| hairs.iter().find(|h| h.id == id).cloned();
    let cell = (radius + 1).max(1);
    for (k, link) in comparison.matching.links.iter().enumerate() {
        let colour = LINK_PALETTE[k % LINK_PALETTE.len()];
        let label = (k + 1).to_string();
        for line in [
            find(baseline_hairs, link.baseline_id).map(|h| left(&h)),
            find(followup_hairs, link.followup_id).map(|h| right(&h)),
        ]
        .into_iter()
        .flatten()
        {
            draw_polyline(&mut canvas, &line, radius, colour);
            if let Some(&[x, y]) = line.get(line.len() / 2) {
                draw_label(&mut canvas, &label, x, y, cell, colour);
            }
        }
    }
    let ring = (6 * (radius + 1)).max(6);
    let mark = |canvas: &mut RgbImage, line: &[[f64; 2]], colour| {
        draw_polyline(canvas, line, radius, colour);
        if let Some(&[x, y]) = line.get(line.len() / 2) {
            draw_hollow_circle_mut(canvas, (x as i32, y as i32), ring, colour);
        }
    };
    for &id in &comparison.matching.lost_ids {
        if let Some(hair) = find(baseline_hairs, id) {
            mark(&mut canvas, &left(&hair), LOST_COLOUR);
        }
    }
    for &id in &comparison.matching.new_ids {
        if let Some(hair) = find(followup_hairs, id) {
            mark(&mut canvas, &right(&hair), NEW_COLOUR);
        }
    }
    canvas
}

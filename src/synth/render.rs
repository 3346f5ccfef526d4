//! Renders one view of a subject: skin texture, skin marks, follicular openings and hairs,
//! with the exact hair mask and per-pixel hair labels drawn from the same geometry.

use super::camera::Camera;
use super::noise;
use super::raster::{bar_coverage, edge_coverage, Canvas, StrokeScratch};
use super::subject::{Hair, SkinMark, Subject};
use crate::geometry::polyline_length;

/// Blur σ (px) from which a hair pixel counts as out of focus in the labels.
pub const DEFOCUS_LABEL_SIGMA_PX: f64 = 1.5;
/// Label bit marking an out-of-focus hair pixel; the low 15 bits hold the hair id.
pub const DEFOCUS_LABEL_BIT: u16 = 0x8000;
/// Blur σ (px) of a perfectly focused edge: the camera's own point spread.
const SHARP_EDGE_SIGMA_PX: f64 = 0.4;
/// Largest defocus blur a lifted shaft reaches (px).
const MAX_DEFOCUS_PX: f64 = 6.0;
/// Step (µm) at which shaft centrelines are sampled; fixed so every view sees the same course.
pub const SHAFT_STEP_UM: f64 = 10.0;
/// Fraction of a natural tip's length over which the shaft tapers.
const TAPER_FRACTION: f64 = 0.25;
/// Longest taper (µm).
const MAX_TAPER_UM: f64 = 1500.0;

/// The scene before optics: colours, hair mask and labels.
pub struct Scene {
    /// Colour canvas.
    pub canvas: Canvas,
    /// Hair labels: 0 background, else hair id (low 15 bits) | defocus bit.
    pub labels: Vec<u16>,
    /// Each drawn hair's centreline in pixels, by hair id.
    pub centrelines_px: Vec<(u32, Vec<[f64; 2]>)>,
}

/// Skin colour at world point `w` (µm).
fn skin_colour(subject: &Subject, w: [f64; 2]) -> [f32; 3] {
    let skin = &subject.skin;
    let blotch = noise::fbm(w[0], w[1], 600.0, 3, skin.salt);
    let redness = noise::fbm(w[0], w[1], 900.0, 2, skin.salt.wrapping_add(50));
    let mottle = noise::fbm(w[0], w[1], 35.0, 2, skin.salt.wrapping_add(10));
    let mut k = (1.0 + skin.blotch * blotch) * (1.0 + skin.mottle * mottle);
    if skin.relief_strength > 0.0 {
        let (f1, f2) = noise::worley(w[0], w[1], skin.relief_cell_um, skin.salt.wrapping_add(20));
        let line = 1.0 - ((f2 - f1) / skin.relief_width_um).clamp(0.0, 1.0);
        let fade = 0.5 + 0.5 * noise::fbm(w[0], w[1], 1500.0, 2, skin.salt.wrapping_add(21));
        k *= 1.0 - skin.relief_strength * line * line * fade;
    }
    let mut rgb = skin.rgb.map(|c| c * k as f32);
    rgb[0] *= (1.0 + 0.06 * redness) as f32;
    if let Some((cell, strength)) = skin.pigment_network {
        let (f1, f2) = noise::worley(w[0], w[1], cell, skin.salt.wrapping_add(30));
        let line = 1.0 - ((f2 - f1) / (cell * 0.3)).clamp(0.0, 1.0);
        let patch = (0.5 + noise::fbm(w[0], w[1], 2000.0, 2, skin.salt.wrapping_add(31))).clamp(0.0, 1.0);
        let d = (strength * line * patch) as f32;
        rgb = [rgb[0] * (1.0 - d * 0.8), rgb[1] * (1.0 - d), rgb[2] * (1.0 - d * 1.1)];
    }
    rgb
}

fn draw_marks(canvas: &mut Canvas, scratch: &mut StrokeScratch, subject: &Subject, camera: &Camera) {
    let s = camera.um_per_px;
    for mark in &subject.marks {
        match mark {
            SkinMark::Disc {
                centre_um,
                radius_um,
                soft_um,
                rgb,
                alpha,
            } => {
                canvas.disc(camera.world_to_px(*centre_um), radius_um / s, soft_um / s, *rgb, *alpha);
            }
            SkinMark::Stroke {
                path_um,
                width_um,
                rgb,
                alpha,
            } => {
                let path: Vec<[f64; 2]> = path_um.iter().map(|p| camera.world_to_px(*p)).collect();
                let length = polyline_length(&path);
                let half = width_um / s / 2.0;
                let soft = (half * 0.5).max(0.5);
                let (w, h) = (canvas.width, canvas.height);
                for hit in scratch.pixels_near(w, h, &path, half + 3.0 * soft).to_vec() {
                    let length_cover = edge_coverage(hit.arc, soft) * edge_coverage(length - hit.arc, soft);
                    let cover = bar_coverage(hit.signed_distance.abs(), half, soft) * length_cover;
                    canvas.blend(hit.index, *rgb, *alpha * cover as f32);
                }
            }
        }
    }
}

fn draw_openings(canvas: &mut Canvas, subject: &Subject, camera: &Camera) {
    let style = subject.skin.salt % 3;
    for unit in &subject.units {
        let c = camera.world_to_px(unit.centre_um);
        let r = unit.radius_um / camera.um_per_px;
        let base = subject.skin.rgb;
        match style {
            0 => canvas.disc(c, r, r * 0.4, base.map(|v| v * 0.7), 0.45),
            1 => canvas.disc(c, r, r * 0.3, [0.92, 0.82, 0.45], 0.35),
            _ => {
                canvas.disc(c, r * 1.8, r * 0.6, [0.45, 0.5, 0.6], 0.35);
                canvas.disc(c, r * 0.7, r * 0.3, base.map(|v| v * 0.6), 0.5);
            }
        }
    }
}

/// Draws one hair; updates colours and labels. `field_sigma` gives the focus blur at a pixel.
fn draw_hair(
    scene: &mut Scene,
    scratch: &mut StrokeScratch,
    hair: &Hair,
    camera: &Camera,
    bounds_um: [f64; 4],
    field_sigma: &dyn Fn(f64, f64) -> f64,
) {
    let s = camera.um_per_px;
    let path: Vec<[f64; 2]> = hair
        .path_um(SHAFT_STEP_UM, bounds_um)
        .iter()
        .map(|p| camera.world_to_px(*p))
        .collect();
    let length_px = hair.length_um / s;
    let half_px = hair.width_um / s / 2.0;
    let taper_px = if hair.tapered_tip {
        (hair.length_um * TAPER_FRACTION).min(MAX_TAPER_UM) / s
    } else {
        0.0
    };
    let lift_px = hair.lift_off_um.map(|l| l / s);
    let defocus_at = |arc: f64| match lift_px {
        Some(lift) if arc > lift => ((arc - lift) * s / 1000.0 * hair.defocus_px_per_mm).min(MAX_DEFOCUS_PX),
        _ => 0.0,
    };
    let reach = half_px + 3.0 * (SHARP_EDGE_SIGMA_PX + defocus_at(length_px)) + 1.0;
    let (w, h) = (scene.canvas.width, scene.canvas.height);
    let luminance = 0.3 * hair.rgb[0] + 0.59 * hair.rgb[1] + 0.11 * hair.rgb[2];
    for hit in scratch.pixels_near(w, h, &path, reach).to_vec() {
        let arc = hit.arc;
        let taper = if taper_px > 0.0 {
            ((length_px - arc) / taper_px).clamp(0.08, 1.0)
        } else {
            1.0
        };
        let r = half_px * taper;
        let defocus = defocus_at(arc);
        let sigma = SHARP_EDGE_SIGMA_PX + defocus;
        let along = edge_coverage(arc, sigma) * edge_coverage(length_px - arc, sigma);
        let cover = bar_coverage(hit.signed_distance.abs(), r, sigma) * along;
        if cover < 1e-3 {
            continue;
        }
        // Cylinder shading: light shafts show dark refracting edges, dark shafts lighter rims.
        let u = (hit.signed_distance / r.max(0.5)).clamp(-1.0, 1.0);
        let thickness = (1.0 - u * u).sqrt();
        let sharpness = r / (r + sigma);
        let edge = if luminance > 0.4 {
            1.0 - 0.45 * (1.0 - thickness) * sharpness
        } else {
            1.0 + 0.8 * (1.0 - thickness) * sharpness
        };
        let gloss = hair.gloss as f64 * (-((u - hair.highlight_offset as f64) / 0.25).powi(2)).exp() * sharpness;
        let colour = hair.rgb.map(|c| (c as f64 * edge + gloss).min(1.0) as f32);
        scene.canvas.blend(hit.index, colour, hair.opacity * cover as f32);
        let inside = hit.signed_distance.abs() <= r && (0.0..=length_px).contains(&arc);
        if inside {
            let (x, y) = ((hit.index % w) as f64 + 0.5, (hit.index / w) as f64 + 0.5);
            let total_sigma = defocus.hypot(field_sigma(x, y));
            let bit = if total_sigma >= DEFOCUS_LABEL_SIGMA_PX {
                DEFOCUS_LABEL_BIT
            } else {
                0
            };
            scene.labels[hit.index] = (hair.id as u16 & !DEFOCUS_LABEL_BIT) | bit;
        }
    }
    if !path.is_empty() {
        scene.centrelines_px.push((hair.id, path));
    }
}

/// Renders skin, marks, openings and hairs of `subject` as seen by `camera`.
pub fn render_scene(subject: &Subject, camera: &Camera, field_sigma: &dyn Fn(f64, f64) -> f64) -> Scene {
    let (w, h) = (camera.width, camera.height);
    let mut canvas = Canvas::filled(w, h, [0.0; 3]);
    for (i, p) in canvas.rgb.iter_mut().enumerate() {
        *p = skin_colour(
            subject,
            camera.px_to_world([(i % w) as f64 + 0.5, (i / w) as f64 + 0.5]),
        );
    }
    let mut scratch = StrokeScratch::new(w, h);
    draw_marks(&mut canvas, &mut scratch, subject, camera);
    draw_openings(&mut canvas, subject, camera);
    let mut scene = Scene {
        canvas,
        labels: vec![0; w * h],
        centrelines_px: Vec::new(),
    };
    let view_bounds = view_bounds_um(camera, 2.0 * MAX_TAPER_UM);
    let bounds = [
        view_bounds[0].max(subject.region_um[0] - MAX_TAPER_UM),
        view_bounds[1].max(subject.region_um[1] - MAX_TAPER_UM),
        view_bounds[2].min(subject.region_um[2] + MAX_TAPER_UM),
        view_bounds[3].min(subject.region_um[3] + MAX_TAPER_UM),
    ];
    for hair in &subject.hairs {
        let reach = hair.length_um + hair.width_um;
        let s = hair.start_um;
        let near = s[0] > view_bounds[0] - reach
            && s[0] < view_bounds[2] + reach
            && s[1] > view_bounds[1] - reach
            && s[1] < view_bounds[3] + reach;
        if near {
            draw_hair(&mut scene, &mut scratch, hair, camera, bounds, field_sigma);
        }
    }
    scene
}

/// The world rectangle (µm) holding the view, grown by `margin_um`.
pub fn view_bounds_um(camera: &Camera, margin_um: f64) -> [f64; 4] {
    let corners = [
        [0.0, 0.0],
        [camera.width as f64, 0.0],
        [0.0, camera.height as f64],
        [camera.width as f64, camera.height as f64],
    ]
    .map(|p| camera.px_to_world(p));
    let xs = corners.map(|c| c[0]);
    let ys = corners.map(|c| c[1]);
    let min = |v: [f64; 4]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: [f64; 4]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    [
        min(xs) - margin_um,
        min(ys) - margin_um,
        max(xs) + margin_um,
        max(ys) + margin_um,
    ]
}

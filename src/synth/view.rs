//! One finished photograph of a subject: scene, optics, overlays and the truth of that view.

use std::collections::HashSet;

use image::{GrayImage, ImageBuffer, Luma, RgbImage};
use rand_chacha::ChaCha8Rng;

use super::camera::Camera;
use super::optics::{jpeg_round_trip, Optics};
use super::overlay::{paint_overlays, Overlays};
use super::render::{render_scene, DEFOCUS_LABEL_BIT};
use super::subject::{Hair, Subject};
use super::truth::{trim_to_frame, visible_length_px, HairClass, HairTruth, MIN_COUNTED_LENGTH_UM};

/// A rendered view with its pixel-exact truth.
pub struct RenderedView {
    /// The photograph.
    pub image: RgbImage,
    /// Hair mask (255 hair, 0 not).
    pub mask: GrayImage,
    /// Hair labels (see `render::DEFOCUS_LABEL_BIT`).
    pub labels: ImageBuffer<Luma<u16>, Vec<u16>>,
    /// Hairs seen in the frame.
    pub hairs: Vec<HairTruth>,
    /// Field area: frame pixels not covered by overlays.
    pub field_area_px: u64,
    /// Conditions for the truth file.
    pub conditions: serde_json::Value,
}

fn hair_truth(hair: &Hair, path: &[[f64; 2]], camera: &Camera, covered: &[bool]) -> HairTruth {
    let visible_um = visible_length_px(path, camera.width, camera.height, covered) * camera.um_per_px;
    HairTruth {
        id: hair.id,
        unit_id: hair.unit_id,
        colour: serde_json::to_value(hair.colour)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        width_um: hair.width_um,
        class: HairClass::from_width_um(hair.width_um),
        length_um: hair.length_um,
        visible_length_um: visible_um,
        tip: if hair.tapered_tip { "tapered" } else { "cut" }.to_owned(),
        out_of_focus_from_um: hair.lift_off_um.filter(|l| *l < hair.length_um),
        centreline_px: trim_to_frame(
            path,
            camera.width,
            camera.height,
            hair.width_um / camera.um_per_px / 2.0 + 2.0,
        )
        .into_iter()
        .map(|p| p.map(|v| (v * 100.0).round() / 100.0))
        .collect(),
        counted: visible_um >= MIN_COUNTED_LENGTH_UM,
    }
}

/// Renders `subject` through `camera` with `optics`, drawing random device overlays from `rng`
/// when `with_overlays`.
pub fn render_view(
    subject: &Subject,
    camera: &Camera,
    optics: &Optics,
    with_overlays: bool,
    rng: &mut ChaCha8Rng,
) -> RenderedView {
    let (w, h) = (camera.width, camera.height);
    let mut scene = render_scene(subject, camera, &|x, y| optics.blur_sigma_at(x, y, w, h));
    optics.apply_blur(&mut scene.canvas);
    optics.apply_lighting(&mut scene.canvas);
    let (overlays, covered) = if with_overlays {
        paint_overlays(rng, &mut scene.canvas, camera.um_per_px)
    } else {
        (Overlays::default(), vec![false; w * h])
    };
    for (label, hidden) in scene.labels.iter_mut().zip(&covered) {
        if *hidden {
            *label = 0;
        }
    }
    let mut image = optics.develop(&scene.canvas, rng);
    if let Some(q) = optics.jpeg_quality {
        image = jpeg_round_trip(&image, q);
    }
    let mask = GrayImage::from_fn(w as u32, h as u32, |x, y| {
        Luma([if scene.labels[y as usize * w + x as usize] != 0 {
            255
        } else {
            0
        }])
    });
    let labels =
        ImageBuffer::from_raw(w as u32, h as u32, scene.labels).unwrap_or_else(|| ImageBuffer::new(w as u32, h as u32));
    let labelled: HashSet<u32> = labels
        .pixels()
        .map(|p: &Luma<u16>| (p.0[0] & !DEFOCUS_LABEL_BIT) as u32)
        .collect();
    let hairs: Vec<HairTruth> = scene
        .centrelines_px
        .iter()
        .filter_map(|(id, path)| {
            subject
                .hairs
                .iter()
                .find(|hair| hair.id == *id)
                .map(|hair| hair_truth(hair, path, camera, &covered))
        })
        .filter(|t| t.visible_length_um > 0.0 || labelled.contains(&t.id))
        .collect();
    let field_area_px = covered.iter().filter(|c| !**c).count() as u64;
    let conditions = serde_json::json!({
        "skin_tone": subject.skin.tone,
        "protocol": subject.protocol,
        "dominant_hair_colour": subject.dominant_colour,
        "terminal_mean_um": subject.terminal_mean_um,
        "relief_strength": subject.skin.relief_strength,
        "pigment_network": subject.skin.pigment_network.is_some(),
        "skin_marks": subject.marks.len(),
        "blur_sigma_px": optics.blur_sigma_px,
        "noise_sigma": optics.noise_sigma,
        "jpeg_quality": optics.jpeg_quality,
        "optics": optics,
        "overlays": overlays,
        "defocus_label_bit": DEFOCUS_LABEL_BIT,
    });
    RenderedView {
        image,
        mask,
        labels,
        hairs,
        field_area_px,
        conditions,
    }
}

//! The committed test fixtures: hand-placed crossing and touching hairs whose names state the
//! expected count, plus a few random phantoms and one pair, all small.

use std::path::{Path, PathBuf};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::camera::Camera;
use super::optics::Optics;
use super::subject::{Hair, HairColour, Protocol, Skin, Subject};
use super::view::render_view;
use super::{finish, generator, render_pair, render_single, write_json, write_phantom, SynthConfig, SynthError};

/// Seed of the fixture set.
pub const FIXTURE_SEED: u64 = 2026;
/// Fixture image size (px) and scale (µm/px).
const SIZE: (usize, usize) = (320, 240);
const UM_PER_PX: f64 = 5.0;
/// Index of the committed pair in the fixture run: a clipped scalp with about 20 hairs per
/// visit (lower indices give near-empty 320×240 fields).
const PAIR_INDEX: usize = 5;

/// A straight dark terminal hair through `through` (µm) at `angle_deg`, crossing the whole field.
fn straight_hair(id: u32, through: [f64; 2], angle_deg: f64, width_um: f64, rgb: [f32; 3]) -> Hair {
    let angle = angle_deg.to_radians();
    let half_length = 2500.0;
    Hair {
        id,
        unit_id: 0,
        colour: HairColour::DarkBrown,
        rgb,
        opacity: 1.0,
        gloss: 0.3,
        highlight_offset: -0.2,
        width_um,
        start_um: [
            through[0] - angle.cos() * half_length,
            through[1] - angle.sin() * half_length,
        ],
        angle_rad: angle,
        curvature: 0.0,
        shape_seed: u64::from(id),
        length_um: 2.0 * half_length,
        tapered_tip: false,
        lift_off_um: None,
        defocus_px_per_mm: 0.0,
    }
}

/// A scene with hand-placed hairs on random skin, rendered without overlays.
fn hand_placed(name: &str, index: usize, hairs: Vec<Hair>) -> super::Phantom {
    let mut rng = ChaCha8Rng::seed_from_u64(FIXTURE_SEED + index as u64);
    let camera = Camera {
        um_per_px: UM_PER_PX,
        origin_um: [0.0, 0.0],
        rotation_rad: 0.0,
        width: SIZE.0,
        height: SIZE.1,
    };
    let region = [-3000.0, -3000.0, 4600.0, 4200.0];
    let subject = Subject {
        skin: Skin::generate(&mut rng),
        marks: Vec::new(),
        units: Vec::new(),
        hairs,
        protocol: Protocol::Unclipped,
        dominant_colour: HairColour::DarkBrown,
        terminal_mean_um: 70.0,
        region_um: region,
        flow_rad: 0.0,
    };
    let mut optics = Optics::generate(&mut rng);
    optics.glare.clear();
    optics.jpeg_quality = None;
    optics.blur_tilt_px = 0.0;
    optics.blur_sigma_px = 0.5;
    optics.gamma = 1.0;
    optics.exposure = 1.0;
    let view = render_view(&subject, &camera, &optics, false, &mut rng);
    finish(view, &camera, name, "single", 20_454, generator(FIXTURE_SEED, index))
}

/// Hairs crossing at the field centre, evenly spread in angle.
fn crossing(n: usize) -> Vec<Hair> {
    let centre = [SIZE.0 as f64 * UM_PER_PX / 2.0, SIZE.1 as f64 * UM_PER_PX / 2.0];
    (0..n)
        .map(|k| {
            let angle = 15.0 + 180.0 * k as f64 / n as f64;
            straight_hair(k as u32 + 1, centre, angle, 60.0 + 5.0 * k as f64, [0.08, 0.06, 0.05])
        })
        .collect()
}

/// Writes the fixture set into `out`; returns the image paths.
///
/// # Errors
/// The first file that could not be written.
pub fn write_fixtures(out: &Path) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(out).map_err(|source| SynthError::OutputFolder {
        path: out.to_owned(),
        source,
    })?;
    let mut written = Vec::new();
    for (index, n) in [2usize, 3, 5].into_iter().enumerate() {
        let name = format!("crossing_{n}_hairs_expect_{n}");
        written.push(write_phantom(out, &hand_placed(&name, index, crossing(n)))?);
    }
    let centre = [SIZE.0 as f64 * UM_PER_PX / 2.0, SIZE.1 as f64 * UM_PER_PX / 2.0];
    let (w1, w2, angle) = (70.0, 55.0, 30.0f64);
    let normal = [-angle.to_radians().sin(), angle.to_radians().cos()];
    let gap = (w1 + w2) / 2.0;
    let touching = vec![
        straight_hair(1, centre, angle, w1, [0.1, 0.07, 0.05]),
        straight_hair(
            2,
            [centre[0] + normal[0] * gap, centre[1] + normal[1] * gap],
            angle,
            w2,
            [0.12, 0.08, 0.06],
        ),
    ];
    written.push(write_phantom(
        out,
        &hand_placed("parallel_touching_hairs_expect_2", 3, touching),
    )?);
    let config = SynthConfig {
        size: Some((SIZE.0 as u32, SIZE.1 as u32)),
        um_per_px: (4.0, 6.0),
        pairs: true,
    };
    for index in 0..2 {
        written.push(write_phantom(out, &render_single(&config, FIXTURE_SEED, index))?);
    }
    let pair = render_pair(&config, FIXTURE_SEED, PAIR_INDEX);
    written.push(write_phantom(out, &pair.baseline)?);
    written.push(write_phantom(out, &pair.followup)?);
    write_json(&out.join(format!("{PAIR_INDEX:04}.pair.json")), &pair.truth)?;
    Ok(written)
}

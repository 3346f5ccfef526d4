//! Follow-up visits: the same scalp 3–4 months later with known hair changes, seen from a
//! shifted, rotated camera under different light.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::camera::{Camera, Similarity};
use super::subject::{hair_length, make_hair, HairPopulation, Protocol, ShaftCourse, Subject};
use super::truth::HairClass;

/// Largest camera rotation between visits (degrees).
pub const MAX_ROTATION_DEG: f64 = 10.0;
/// Largest camera shift between visits, as a fraction of the image size.
pub const MAX_SHIFT_FRACTION: f64 = 0.12;

/// What happened to one hair between the visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HairFate {
    /// Present at both visits.
    Persisting,
    /// Only at follow-up.
    New,
    /// Only at baseline.
    Lost,
}

/// One hair's change, in the pair truth.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HairChange {
    /// Hair id (the same in both visits' truth and labels).
    pub id: u32,
    /// Fate.
    pub fate: HairFate,
    /// Width at baseline (µm), if present.
    pub width_um_baseline: Option<f64>,
    /// Width at follow-up (µm), if present.
    pub width_um_followup: Option<f64>,
    /// Class at baseline.
    pub class_baseline: Option<HairClass>,
    /// Class at follow-up.
    pub class_followup: Option<HairClass>,
}

/// The truth that links a baseline and a follow-up view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairTruth {
    /// Layout version.
    pub schema_version: u32,
    /// Baseline truth file.
    pub baseline_truth: String,
    /// Follow-up truth file.
    pub followup_truth: String,
    /// Days between the visits.
    pub interval_days: i64,
    /// Maps follow-up pixels to baseline pixels.
    pub followup_to_baseline: SimilarityTruth,
    /// Every hair of the subject that changed or persisted, in the world region.
    pub hairs: Vec<HairChange>,
}

/// A serialisable similarity transform.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SimilarityTruth {
    /// Scale factor.
    pub scale: f64,
    /// Rotation (degrees).
    pub rotation_deg: f64,
    /// `[[a, -b, tx], [b, a, ty]]`.
    pub matrix: [[f64; 3]; 2],
}

impl From<Similarity> for SimilarityTruth {
    fn from(s: Similarity) -> Self {
        Self {
            scale: s.scale,
            rotation_deg: s.rotation_deg,
            matrix: s.matrix,
        }
    }
}

/// The follow-up scalp: some hairs lost, some new, some thicker or thinner, clipped hairs re-clipped.
pub fn follow_up(rng: &mut ChaCha8Rng, baseline: &Subject, population: &HairPopulation) -> (Subject, Vec<HairChange>) {
    let loss = rng.random_range(0.0..0.2);
    let gain = rng.random_range(0.0..0.25);
    let thicken = rng.random_range(0.0..0.4);
    let thin = rng.random_range(0.0..0.3);
    let mut next = baseline.clone();
    let mut changes = Vec::new();
    next.hairs.clear();
    for hair in &baseline.hairs {
        if rng.random_bool(loss) {
            changes.push(change(hair.id, HairFate::Lost, Some(hair.width_um), None));
            continue;
        }
        let mut h = hair.clone();
        if rng.random_bool(thicken) {
            h.width_um = (h.width_um * rng.random_range(1.15..1.6)).min(120.0);
        } else if rng.random_bool(thin) {
            h.width_um = (h.width_um * rng.random_range(0.55..0.85)).max(10.0);
        }
        h.length_um = match baseline.protocol {
            Protocol::Clipped => hair_length(rng, Protocol::Clipped, h.width_um).0,
            Protocol::Unclipped => h.length_um + rng.random_range(0.0..8000.0),
        };
        changes.push(change(
            h.id,
            HairFate::Persisting,
            Some(hair.width_um),
            Some(h.width_um),
        ));
        next.hairs.push(h);
    }
    let first_new_id = baseline.hairs.iter().map(|h| h.id).max().unwrap_or(0) + 1;
    let new_count = if next.units.is_empty() {
        0
    } else {
        (baseline.hairs.len() as f64 * gain).round() as u32
    };
    for next_id in first_new_id..first_new_id + new_count {
        let unit = next.units[rng.random_range(0..next.units.len())].clone();
        let width = rng.random_range(10.0..45.0);
        let (length, tapered) = hair_length(rng, baseline.protocol, width);
        let angle = baseline
            .hairs
            .iter()
            .find(|h| h.unit_id == unit.id)
            .map(|h| h.angle_rad)
            .unwrap_or(baseline.flow_rad)
            + rng.random_range(-0.3..0.3);
        let course = ShaftCourse {
            start_um: unit.centre_um,
            angle_rad: angle,
            curvature: rng.random_range(-3e-4..3e-4),
            length_um: length,
            tapered_tip: tapered,
        };
        let hair = make_hair(rng, population, next_id, unit.id, width, course, baseline.protocol);
        changes.push(change(next_id, HairFate::New, None, Some(width)));
        let at = rng.random_range(0..=next.hairs.len());
        next.hairs.insert(at, hair);
    }
    (next, changes)
}

fn change(id: u32, fate: HairFate, before: Option<f64>, after: Option<f64>) -> HairChange {
    HairChange {
        id,
        fate,
        width_um_baseline: before,
        width_um_followup: after,
        class_baseline: before.map(HairClass::from_width_um),
        class_followup: after.map(HairClass::from_width_um),
    }
}

/// The follow-up camera: rotated up to 10°, shifted up to 12 % and rescaled up to 3 % from baseline.
pub fn follow_up_camera(rng: &mut ChaCha8Rng, baseline: &Camera) -> Camera {
    let rotation = rng.random_range(-MAX_ROTATION_DEG..MAX_ROTATION_DEG).to_radians();
    let um_per_px = baseline.um_per_px * rng.random_range(0.97..1.03);
    let c = baseline.centre_world();
    let span = [
        baseline.width as f64 * baseline.um_per_px,
        baseline.height as f64 * baseline.um_per_px,
    ];
    let centre = [
        c[0] + span[0] * rng.random_range(-MAX_SHIFT_FRACTION..MAX_SHIFT_FRACTION),
        c[1] + span[1] * rng.random_range(-MAX_SHIFT_FRACTION..MAX_SHIFT_FRACTION),
    ];
    let (s, k) = rotation.sin_cos();
    let (hx, hy) = (
        baseline.width as f64 / 2.0 * um_per_px,
        baseline.height as f64 / 2.0 * um_per_px,
    );
    Camera {
        um_per_px,
        origin_um: [centre[0] - (k * hx - s * hy), centre[1] - (s * hx + k * hy)],
        rotation_rad: rotation,
        width: baseline.width,
        height: baseline.height,
    }
}

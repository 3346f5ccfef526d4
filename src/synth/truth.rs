//! The ground truth written beside every phantom: calibration, every hair with its exact
//! centreline and width, which hairs count, and the count and density they give.

use serde::{Deserialize, Serialize};

use crate::units::PixelSpacing;

/// Version of the truth JSON layout.
pub const TRUTH_SCHEMA_VERSION: u32 = 1;
/// A hair counts when at least this much of its centreline (µm) lies inside the field.
pub const MIN_COUNTED_LENGTH_UM: f64 = 100.0;
/// Widest vellus hair (µm), inclusive (Rakowska 2009).
pub const VELLUS_MAX_UM: f64 = 30.0;
/// Narrowest terminal hair (µm), inclusive.
pub const TERMINAL_MIN_UM: f64 = 60.0;

/// Width class of a hair shaft.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HairClass {
    /// Width ≤ 30 µm.
    Vellus,
    /// Between vellus and terminal.
    Intermediate,
    /// Width ≥ 60 µm.
    Terminal,
}

impl HairClass {
    /// The class of a shaft `width_um` wide, with the default thresholds.
    pub fn from_width_um(width_um: f64) -> Self {
        if width_um <= VELLUS_MAX_UM {
            HairClass::Vellus
        } else if width_um >= TERMINAL_MIN_UM {
            HairClass::Terminal
        } else {
            HairClass::Intermediate
        }
    }
}

/// Who made the phantom, from which seed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Generator {
    /// Always "tricho synth".
    pub tool: String,
    /// tricho version.
    pub version: String,
    /// The run's seed.
    pub seed: u64,
    /// Index of this phantom (or pair) within the run.
    pub index: usize,
}

/// Files written for one view, relative to the truth file's folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImageFiles {
    /// The RGB image (PNG).
    pub file: String,
    /// Exact hair mask, 8-bit, 0 or 255.
    pub mask_file: String,
    /// 16-bit labels: 0 background, low 15 bits hair id, bit 15 out of focus.
    pub labels_file: String,
    /// Width in pixels.
    pub width_px: u32,
    /// Height in pixels.
    pub height_px: u32,
}

/// The calibrated scale of the view.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// Micrometres per pixel.
    pub um_per_px: f64,
}

/// The analysable field: the frame minus pixels hidden by device overlays.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Field {
    /// Field area in pixels.
    pub area_px: u64,
    /// Field area in cm².
    pub area_cm2: f64,
}

/// One hair of the view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HairTruth {
    /// Hair id on the subject (the same across the visits of a pair); equals its label value.
    pub id: u32,
    /// Follicular unit id (0: the hair comes from outside the patch).
    pub unit_id: u32,
    /// Pigmentation: black, dark_brown, brown, red, blond, grey, white.
    pub colour: String,
    /// Shaft diameter (µm).
    pub width_um: f64,
    /// Width class with the default thresholds (≤ 30 µm vellus, ≥ 60 µm terminal).
    pub class: HairClass,
    /// Full shaft length (µm).
    pub length_um: f64,
    /// Length of centreline inside the field (µm).
    pub visible_length_um: f64,
    /// "cut" (clipped stub) or "tapered" (natural tip).
    pub tip: String,
    /// Arc length (µm) from the opening after which the shaft is out of focus, if it lifts off.
    pub out_of_focus_from_um: Option<f64>,
    /// Centreline from the opening outwards in pixels (points farther outside the frame than half
    /// the width + 2 px dropped).
    pub centreline_px: Vec<[f64; 2]>,
    /// Whether the hair counts (at least 100 µm of centreline inside the field).
    pub counted: bool,
}

/// The complete truth of one phantom view.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PhantomTruth {
    /// Layout version.
    pub schema_version: u32,
    /// Provenance.
    pub generator: Generator,
    /// "single", "baseline" or "followup".
    pub visit: String,
    /// Capture date (YYYY-MM-DD).
    pub captured_at: String,
    /// Files of this view.
    pub image: ImageFiles,
    /// Scale.
    pub calibration: Calibration,
    /// Field.
    pub field: Field,
    /// Rendering conditions, for per-stratum evaluation.
    pub conditions: serde_json::Value,
    /// Every hair with any centreline inside the frame.
    pub hairs: Vec<HairTruth>,
    /// Number of counted hairs.
    pub count: usize,
    /// Counted hairs per cm² of field.
    pub density_per_cm2: f64,
}

/// Length (px) of the part of `path` inside the frame and not under an overlay.
pub fn visible_length_px(path: &[[f64; 2]], width: usize, height: usize, covered: &[bool]) -> f64 {
    const STEP: f64 = 0.25;
    let mut visible = 0.0;
    for seg in path.windows(2) {
        let (a, b) = (seg[0], seg[1]);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        let n = (len / STEP).ceil().max(1.0) as usize;
        for k in 0..n {
            let t = (k as f64 + 0.5) / n as f64;
            let (x, y) = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t);
            if x >= 0.0
                && y >= 0.0
                && (x as usize) < width
                && (y as usize) < height
                && !covered[y as usize * width + x as usize]
            {
                visible += len / n as f64;
            }
        }
    }
    visible
}

/// The part of `path` from its first to its last point within `margin` px of the frame.
pub fn trim_to_frame(path: &[[f64; 2]], width: usize, height: usize, margin: f64) -> Vec<[f64; 2]> {
    let near = |p: &[f64; 2]| {
        p[0] >= -margin && p[1] >= -margin && p[0] <= width as f64 + margin && p[1] <= height as f64 + margin
    };
    match (path.iter().position(near), path.iter().rposition(near)) {
        (Some(first), Some(last)) => path[first.saturating_sub(1)..=(last + 1).min(path.len() - 1)].to_vec(),
        _ => Vec::new(),
    }
}

/// Count and density of the counted hairs over the field.
pub fn count_and_density(hairs: &[HairTruth], field_area_px: u64, spacing: PixelSpacing) -> (usize, f64, f64) {
    let count = hairs.iter().filter(|h| h.counted).count();
    let area_cm2 = spacing.area_cm2(field_area_px as f64);
    let density = if area_cm2 > 0.0 { count as f64 / area_cm2 } else { 0.0 };
    (count, area_cm2, density)
}

/// Civil date (YYYY-MM-DD) of a day number counted from 1970-01-01 (H. Hinnant's algorithm).
pub fn date_from_days(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_documented_thresholds() {
        assert_eq!(HairClass::from_width_um(30.0), HairClass::Vellus);
        assert_eq!(HairClass::from_width_um(30.1), HairClass::Intermediate);
        assert_eq!(HairClass::from_width_um(60.0), HairClass::Terminal);
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(date_from_days(0), "1970-01-01");
        assert_eq!(date_from_days(20_454), "2026-01-01");
        assert_eq!(date_from_days(19_782), "2024-02-29");
    }

    #[test]
    fn visible_length_ignores_the_outside_and_overlays() {
        let covered = vec![false; 100];
        let line = [[-5.0, 5.0], [15.0, 5.0]];
        assert!((visible_length_px(&line, 10, 10, &covered) - 10.0).abs() < 0.3);
        let mut covered = covered;
        for x in 0..5 {
            covered[5 * 10 + x] = true;
        }
        assert!((visible_length_px(&line, 10, 10, &covered) - 5.0).abs() < 0.3);
    }
}

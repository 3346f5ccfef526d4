//! Evidence at the other visit: a hair traced at one visit only may still be visible at the
//! other, below what the tracer picked up there (a faint shaft under different light). Its
//! centreline is mapped into the other visit and the segmentation there is read along it:
//! when most of it runs over hair pixels, the hair was present at both visits (persisting,
//! untraced at one), not gained or lost.
//!
//! Rule: at most [`MAX_SAMPLES`] points evenly along the mapped centreline inside the other
//! frame; a point has hair evidence when the hair probability reaches the threshold (the
//! model's decision threshold, 0.5 — the one the tracer uses) anywhere within the
//! registration tolerance of it. The hair is *seen* when at least the matching's
//! `min_shared_fraction` of the points have evidence, or when the evidence runs unbroken from
//! either end of the line for at least the matching's `min_evidence_run_um`: a hair that grew
//! between visits is longer at follow-up, so only its follicle end lies over the shorter
//! baseline shaft (and a baseline hair mapped onto a follow-up shaft that was clipped shorter
//! is seen from its cut end the same way).

use crate::geometry::polyline_length;
use crate::segment::{ProbabilityMaps, HAIR_CHANNEL};

/// Most points read along one centreline.
pub const MAX_SAMPLES: usize = 48;

/// What the other visit's segmentation shows along a mapped centreline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    /// Share of the points inside the other frame with hair evidence.
    pub share: f64,
    /// Length (input px, along the line) of the longest unbroken stretch of evidence that
    /// starts at either end of the line.
    pub end_run_px: f64,
}

impl Evidence {
    /// Whether the hair is there: evidence at ≥ `min_share` of the points, or an unbroken
    /// stretch of ≥ `min_end_run_px` from one end.
    pub fn shows_hair(&self, min_share: f64, min_end_run_px: f64) -> bool {
        self.share >= min_share || self.end_run_px >= min_end_run_px
    }
}

/// The hair evidence along `line` (the other visit's input px): probability ≥ `threshold`
/// within `radius_px` (input px); `None` when no point lies in that frame or the maps have
/// no hair channel.
pub fn evidence_along(line: &[[f64; 2]], maps: &ProbabilityMaps, threshold: f32, radius_px: f64) -> Option<Evidence> {
    let hair = maps.channel(HAIR_CHANNEL)?;
    let (w, h) = (maps.width as i64, maps.height as i64);
    let scale = maps.scale_to_input;
    if scale.is_nan() || scale <= 0.0 || line.is_empty() {
        return None;
    }
    let r = (radius_px / scale).ceil().max(1.0) as i64;
    let stride = line.len().div_ceil(MAX_SAMPLES).max(1);
    // per sampled point: None outside the frame, else whether it has evidence
    let samples: Vec<(usize, Option<bool>)> = (0..line.len())
        .step_by(stride)
        .map(|i| {
            let p = line[i];
            let (x, y) = ((p[0] / scale).floor() as i64, (p[1] / scale).floor() as i64);
            if x < 0 || y < 0 || x >= w || y >= h {
                return (i, None);
            }
            let hit = (-r..=r).any(|dy| {
                (-r..=r).any(|dx| {
                    let (u, v) = (x + dx, y + dy);
                    u >= 0 && v >= 0 && u < w && v < h && hair[(v * w + u) as usize] >= threshold
                })
            });
            (i, Some(hit))
        })
        .collect();
    let inside = samples.iter().filter(|(_, s)| s.is_some()).count();
    let seen = samples.iter().filter(|(_, s)| *s == Some(true)).count();
    // the unbroken stretches of evidence from the first and from the last sampled point
    let has_hair = |s: &&(usize, Option<bool>)| s.1 == Some(true);
    let last = samples.last().map_or(0, |s| s.0);
    let from_start = samples
        .iter()
        .take_while(has_hair)
        .last()
        .map_or(0.0, |&(i, _)| polyline_length(&line[..=i]));
    let from_end = samples
        .iter()
        .rev()
        .take_while(has_hair)
        .last()
        .map_or(0.0, |&(i, _)| polyline_length(&line[i..=last]));
    let end_run_px = from_start.max(from_end);
    (inside > 0).then(|| Evidence {
        share: seen as f64 / inside as f64,
        end_run_px,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PixelSpacing;

    /// A 40 × 20 map at 2 input px per map px with a faint (0.6) horizontal shaft along map
    /// row 10 over map columns `columns`.
    fn shaft_map(columns: std::ops::Range<u32>) -> ProbabilityMaps {
        let (w, h) = (40u32, 20u32);
        let mut data = vec![0.0f32; (w * h) as usize];
        for x in columns {
            data[(10 * w + x) as usize] = 0.6;
        }
        ProbabilityMaps {
            width: w,
            height: h,
            spacing: PixelSpacing::new(5.0).unwrap(),
            input_width: 2 * w,
            input_height: 2 * h,
            scale_to_input: 2.0,
            channels: vec![HAIR_CHANNEL.to_string()],
            data,
        }
    }

    #[test]
    fn a_faint_but_present_shaft_is_seen_and_empty_skin_is_not() {
        let maps = shaft_map(0..40);
        let along: Vec<[f64; 2]> = (0..70).map(|x| [f64::from(x), 22.5]).collect();
        assert_eq!(evidence_along(&along, &maps, 0.5, 2.0).map(|e| e.share), Some(1.0));
        let off: Vec<[f64; 2]> = (0..70).map(|x| [f64::from(x), 5.0]).collect();
        assert_eq!(evidence_along(&off, &maps, 0.5, 2.0).map(|e| e.share), Some(0.0));
        let outside = [[-10.0, -10.0]];
        assert_eq!(evidence_along(&outside, &maps, 0.5, 2.0), None);
    }

    #[test]
    fn a_grown_hair_is_seen_from_its_follicle_end_but_a_crossing_shaft_is_not() {
        // the follow-up hair runs 100 input px; the baseline shaft covers its first 30
        let grown: Vec<[f64; 2]> = (0..100).map(|x| [f64::from(x), 22.5]).collect();
        let from_end = evidence_along(&grown, &shaft_map(0..15), 0.5, 1.0).unwrap();
        assert!(from_end.share < 0.6, "share {}", from_end.share);
        assert!(
            (28.0..=34.0).contains(&from_end.end_run_px),
            "run {}",
            from_end.end_run_px
        );
        assert!(from_end.shows_hair(0.6, 20.0));
        assert!(!from_end.shows_hair(0.6, 40.0));
        // the same amount of evidence in the middle of the line (another hair crossing it
        // along the way) is not an end run
        let middle = evidence_along(&grown, &shaft_map(20..35), 0.5, 1.0).unwrap();
        assert!((middle.share - from_end.share).abs() < 0.1);
        assert_eq!(middle.end_run_px, 0.0);
        assert!(!middle.shows_hair(0.6, 20.0));
    }
}

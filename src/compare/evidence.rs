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
//! `min_shared_fraction` of the points have evidence.

use crate::segment::{ProbabilityMaps, HAIR_CHANNEL};

/// Most points read along one centreline.
pub const MAX_SAMPLES: usize = 48;

/// Share of points along `line` (the other visit's input px) with hair probability ≥
/// `threshold` within `radius_px` (input px); `None` when no point lies in that frame or the
/// maps have no hair channel.
pub fn evidence_along(line: &[[f64; 2]], maps: &ProbabilityMaps, threshold: f32, radius_px: f64) -> Option<f64> {
    let hair = maps.channel(HAIR_CHANNEL)?;
    let (w, h) = (maps.width as i64, maps.height as i64);
    let scale = maps.scale_to_input;
    if scale.is_nan() || scale <= 0.0 || line.is_empty() {
        return None;
    }
    let r = (radius_px / scale).ceil().max(1.0) as i64;
    let stride = line.len().div_ceil(MAX_SAMPLES).max(1);
    let (mut inside, mut seen) = (0usize, 0usize);
    for p in line.iter().step_by(stride) {
        let (x, y) = ((p[0] / scale).floor() as i64, (p[1] / scale).floor() as i64);
        if x < 0 || y < 0 || x >= w || y >= h {
            continue;
        }
        inside += 1;
        let hit = (-r..=r).any(|dy| {
            (-r..=r).any(|dx| {
                let (u, v) = (x + dx, y + dy);
                u >= 0 && v >= 0 && u < w && v < h && hair[(v * w + u) as usize] >= threshold
            })
        });
        if hit {
            seen += 1;
        }
    }
    (inside > 0).then(|| seen as f64 / inside as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PixelSpacing;

    #[test]
    fn a_faint_but_present_shaft_is_seen_and_empty_skin_is_not() {
        // 40 × 20 map at 2 input px per map px; a horizontal shaft along map row 10
        let (w, h) = (40u32, 20u32);
        let mut data = vec![0.0f32; (w * h) as usize];
        for x in 0..w {
            data[(10 * w + x) as usize] = 0.6;
        }
        let maps = ProbabilityMaps {
            width: w,
            height: h,
            spacing: PixelSpacing::new(5.0).unwrap(),
            input_width: 2 * w,
            input_height: 2 * h,
            scale_to_input: 2.0,
            channels: vec![HAIR_CHANNEL.to_string()],
            data,
        };
        let along: Vec<[f64; 2]> = (0..70).map(|x| [f64::from(x), 22.5]).collect();
        assert_eq!(evidence_along(&along, &maps, 0.5, 2.0), Some(1.0));
        let off: Vec<[f64; 2]> = (0..70).map(|x| [f64::from(x), 5.0]).collect();
        assert_eq!(evidence_along(&off, &maps, 0.5, 2.0), Some(0.0));
        let outside = [[-10.0, -10.0]];
        assert_eq!(evidence_along(&outside, &maps, 0.5, 2.0), None);
    }
}

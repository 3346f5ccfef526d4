//! Hair-to-hair matching in the common field: each follow-up hair, mapped into the baseline
//! frame, is paired one-to-one with the baseline hair it runs along (greedy, best score
//! first). Paired hairs persist; unpaired baseline hairs are lost, unpaired follow-up hairs
//! are new.
//!
//! **Score** of a candidate pair: the share of the *shorter* centreline's points that lie
//! within the tolerance of the other centreline (a persisting hair may have grown or been
//! re-clipped, so only the shorter one must lie fully along the other), times the mean
//! |cos| of the angle between the two centrelines at those points. A pair needs a share of
//! at least [`MatchConfig::min_shared_fraction`] and a mean angle below
//! [`MatchConfig::max_angle_deg`].
//!
//! **Pieces**: the single-image tracer sometimes cuts one shaft into two pieces, or traces a
//! second line along one shaft, at one visit and not at the other. An unpaired hair whose
//! shaft overlaps that of a paired hair (of either visit) along most of its length — at
//! least [`MatchConfig::min_shared_fraction`] of its points closer to the paired centreline
//! than the sum of the two half-widths plus the slack, in the same direction — is recorded
//! as a *piece* of that pair: the same shaft, not a gained or lost hair. It counts at
//! neither visit.

use serde::{Deserialize, Serialize};

use super::transform::Similarity;
use crate::measure::{HairClass, MeasuredHair};

/// Settings of the matching. Defaults are documented per field.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MatchConfig {
    /// Least share of the shorter centreline within the tolerance of the other. Default
    /// 0.6, the rule `tricho eval` uses to match traced hairs with true ones.
    pub min_shared_fraction: f64,
    /// Largest mean angle between the centrelines along their shared part (degrees).
    /// Default 30°: a registered persisting shaft keeps its direction within a few degrees;
    /// a different hair of the same follicular unit diverges by more.
    pub max_angle_deg: f64,
    /// Slack (px) added to the larger half-width of the two hairs, plus the registration's
    /// residual (when the pose rests on the hairs alone), to get the distance within which
    /// points lie along a hair. Default 1 px
    /// (the pixel-grid error of a traced centreline), with the tolerance at least 2 px.
    pub slack_px: f64,
    /// Hair probability from which a pixel of the other visit counts as evidence that an
    /// unpaired hair is there too (see [`super::evidence`]). Default 0.5, the model's
    /// decision threshold that the tracer also uses.
    pub evidence_threshold: f32,
    /// Length (µm) of unbroken evidence from one end of an unpaired hair's mapped centreline
    /// that also shows the hair at the other visit (see [`super::evidence`]): a hair that grew
    /// between visits lies over the shorter shaft of the other visit only from its follicle
    /// end. Default 100 µm, chosen on the 30 validation pairs of seed 700000 among 100, 150,
    /// 250 and 400 µm and off. Needs a calibrated photo; off without one.
    pub min_evidence_run_um: f64,
    /// A hair traced at one visit only, and not in the other visit's segmentation, is seen in
    /// the other *photo* when its shaft's contrast there reaches this fraction of the contrast
    /// the linked hairs keep between the photos (see [`super::photo_evidence`]). Default 0.4,
    /// chosen on the 30 validation pairs of seed 700000 among 0.3, 0.4 and 0.5 and off;
    /// `None` switches the photo reading off.
    pub min_photo_contrast: Option<f64>,
}

impl Default for MatchConfig {
    fn default() -> Self {
        Self {
            min_shared_fraction: 0.6,
            max_angle_deg: 30.0,
            slack_px: 1.0,
            evidence_threshold: 0.5,
            min_evidence_run_um: 100.0,
            min_photo_contrast: Some(0.4),
        }
    }
}

/// Smallest matching tolerance (px).
const MIN_TOLERANCE_PX: f64 = 2.0;

/// A hair present at both visits.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HairLink {
    /// `id` of the baseline hair (as in the baseline report and overlay).
    pub baseline_id: u32,
    /// `id` of the follow-up hair.
    pub followup_id: u32,
    /// Share of the shorter centreline along the other.
    pub shared_fraction: f64,
    /// Baseline width (µm), if measured and calibrated.
    pub width_um_baseline: Option<f64>,
    /// Follow-up width (µm).
    pub width_um_followup: Option<f64>,
    /// Follow-up − baseline width (µm).
    pub width_change_um: Option<f64>,
    /// Baseline class.
    pub class_baseline: Option<HairClass>,
    /// Follow-up class.
    pub class_followup: Option<HairClass>,
}

/// The outcome of matching, by hair `id`s of each visit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HairMatching {
    /// Hairs present at both visits.
    pub links: Vec<HairLink>,
    /// Follow-up hairs in the common field with no baseline partner.
    pub new_ids: Vec<u32>,
    /// Baseline hairs in the common field with no follow-up partner.
    pub lost_ids: Vec<u32>,
    /// Unpaired baseline hairs lying along a paired follow-up hair (pieces of one shaft).
    pub baseline_piece_ids: Vec<u32>,
    /// Unpaired follow-up hairs lying along a paired baseline hair.
    pub followup_piece_ids: Vec<u32>,
    /// Baseline hairs traced only at baseline but visible in the follow-up segmentation or
    /// photo (persisting, untraced at follow-up).
    pub untraced_at_followup_ids: Vec<u32>,
    /// Follow-up hairs traced only at follow-up but visible in the baseline segmentation or
    /// photo.
    pub untraced_at_baseline_ids: Vec<u32>,
    /// Of [`Self::untraced_at_followup_ids`], those seen in the follow-up photo only, not in
    /// its segmentation.
    pub followup_photo_only_ids: Vec<u32>,
    /// Of [`Self::untraced_at_baseline_ids`], those seen in the baseline photo only.
    pub baseline_photo_only_ids: Vec<u32>,
}

/// A hair taking part in the matching: its centreline in baseline pixels.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// The hair as measured at its own visit.
    pub hair: &'a MeasuredHair,
    /// Centreline in baseline pixels.
    pub line: Vec<[f64; 2]>,
    /// Half-width (baseline px), 0 if unmeasured.
    pub half_width_px: f64,
    /// Whether the hair counts in the common field on its own (enough of it inside).
    pub counts: bool,
}

impl<'a> Candidate<'a> {
    /// `hair` with its centreline mapped by `to_baseline` (identity for baseline hairs),
    /// counting in the common field until [`Candidate::counts`] says otherwise.
    pub fn new(hair: &'a MeasuredHair, to_baseline: &Similarity) -> Self {
        let line = hair.centreline_px.iter().map(|&p| to_baseline.apply(p)).collect();
        let half_width_px = hair.width_px.map_or(0.0, |w| w * to_baseline.scale() / 2.0);
        Self {
            hair,
            line,
            half_width_px,
            counts: true,
        }
    }

    fn bounds(&self, margin: f64) -> [f64; 4] {
        self.line.iter().fold(
            [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
            |b, p| {
                [
                    b[0].min(p[0] - margin),
                    b[1].min(p[1] - margin),
                    b[2].max(p[0] + margin),
                    b[3].max(p[1] + margin),
                ]
            },
        )
    }

    fn length(&self) -> f64 {
        crate::geometry::polyline_length(&self.line)
    }
}

/// Matches `baseline` with `followup` hairs (both already restricted to the common field,
/// centrelines in baseline px). `residual_px` is the registration's residual.
pub fn match_hairs(
    baseline: &[Candidate],
    followup: &[Candidate],
    residual_px: f64,
    config: &MatchConfig,
) -> HairMatching {
    let tolerance = |b: &Candidate, f: &Candidate| {
        (b.half_width_px.max(f.half_width_px) + config.slack_px).max(MIN_TOLERANCE_PX) + residual_px
    };
    let min_cos = config.max_angle_deg.to_radians().cos();
    let along = |b: &Candidate, f: &Candidate| -> Option<f64> {
        let tol = tolerance(b, f);
        let (bb, fb) = (b.bounds(tol), f.bounds(tol));
        if bb[0] > fb[2] || fb[0] > bb[2] || bb[1] > fb[3] || fb[1] > bb[3] {
            return None;
        }
        let (short, long) = if b.length() <= f.length() {
            (&b.line, &f.line)
        } else {
            (&f.line, &b.line)
        };
        let (shared, cos) = shared_along(short, long, tol, config.min_shared_fraction);
        (shared >= config.min_shared_fraction && cos >= min_cos).then_some(shared * cos)
    };
    let mut scored: Vec<(f64, usize, usize)> = Vec::new();
    for (i, b) in baseline.iter().enumerate() {
        for (j, f) in followup.iter().enumerate() {
            if let Some(score) = along(b, f) {
                scored.push((score, i, j));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut b_used, mut f_used) = (vec![false; baseline.len()], vec![false; followup.len()]);
    let mut matching = HairMatching::default();
    for &(_, i, j) in &scored {
        if b_used[i] || f_used[j] {
            continue;
        }
        b_used[i] = true;
        f_used[j] = true;
        let (b, f) = (baseline[i].hair, followup[j].hair);
        let (short, long) = if baseline[i].length() <= followup[j].length() {
            (&baseline[i].line, &followup[j].line)
        } else {
            (&followup[j].line, &baseline[i].line)
        };
        matching.links.push(HairLink {
            baseline_id: b.id,
            followup_id: f.id,
            shared_fraction: shared_along(short, long, tolerance(&baseline[i], &followup[j]), 0.0).0,
            width_um_baseline: b.width_um,
            width_um_followup: f.width_um,
            width_change_um: b.width_um.zip(f.width_um).map(|(x, y)| y - x),
            class_baseline: b.class,
            class_followup: f.class,
        });
    }
    // pieces: an unpaired hair whose shaft overlaps a paired hair of either visit along
    // most of its length (centrelines closer than the two half-widths plus the slack)
    let paired: Vec<&Candidate> = baseline
        .iter()
        .zip(&b_used)
        .chain(followup.iter().zip(&f_used))
        .filter(|(_, used)| **used)
        .map(|(c, _)| c)
        .collect();
    let overlaps_paired = |c: &Candidate| {
        paired.iter().any(|p| {
            if std::ptr::eq(*p, c) {
                return false;
            }
            let tol = (c.half_width_px + p.half_width_px + config.slack_px).max(MIN_TOLERANCE_PX) + residual_px;
            let (cb, pb) = (c.bounds(tol), p.bounds(tol));
            if cb[0] > pb[2] || pb[0] > cb[2] || cb[1] > pb[3] || pb[1] > cb[3] {
                return false;
            }
            let (shared, cos) = shared_along(&c.line, &p.line, tol, config.min_shared_fraction);
            shared >= config.min_shared_fraction && cos >= min_cos
        })
    };
    for (c, used) in baseline.iter().zip(&b_used) {
        if c.counts && !*used && overlaps_paired(c) {
            matching.baseline_piece_ids.push(c.hair.id);
        }
    }
    for (c, used) in followup.iter().zip(&f_used) {
        if c.counts && !*used && overlaps_paired(c) {
            matching.followup_piece_ids.push(c.hair.id);
        }
    }
    // a pair counts when either side counts in the common field; an unpaired hair when it does
    matching.links.retain(|l| {
        let b = baseline.iter().any(|c| c.hair.id == l.baseline_id && c.counts);
        let f = followup.iter().any(|c| c.hair.id == l.followup_id && c.counts);
        b || f
    });
    for (c, used) in baseline.iter().zip(b_used.iter_mut()) {
        if !c.counts && !*used {
            *used = true;
        }
    }
    for (c, used) in followup.iter().zip(f_used.iter_mut()) {
        if !c.counts && !*used {
            *used = true;
        }
    }
    matching.baseline_piece_ids.sort_unstable();
    matching.followup_piece_ids.sort_unstable();
    matching.lost_ids = baseline
        .iter()
        .zip(&b_used)
        .filter(|(c, used)| !**used && matching.baseline_piece_ids.binary_search(&c.hair.id).is_err())
        .map(|(c, _)| c.hair.id)
        .collect();
    matching.new_ids = followup
        .iter()
        .zip(&f_used)
        .filter(|(c, used)| !**used && matching.followup_piece_ids.binary_search(&c.hair.id).is_err())
        .map(|(c, _)| c.hair.id)
        .collect();
    matching.links.sort_by_key(|l| l.baseline_id);
    matching
}

/// Most points of the shorter line examined per pair (evenly spaced along it).
const MAX_SHARED_SAMPLES: usize = 32;

/// Share of `short`'s points within `tolerance` of `long`, and the mean |cos| of the angle
/// between the two lines at those points; at most [`MAX_SHARED_SAMPLES`] points are
/// examined, and the count stops (returning what it has) once the share can no longer reach
/// `need`.
fn shared_along(short: &[[f64; 2]], long: &[[f64; 2]], tolerance: f64, need: f64) -> (f64, f64) {
    if short.is_empty() || long.is_empty() {
        return (0.0, 0.0);
    }
    let stride = short.len().div_ceil(MAX_SHARED_SAMPLES).max(1);
    let samples = short.len().div_ceil(stride);
    let allowed_misses = ((1.0 - need) * samples as f64).floor() as usize;
    let (mut on, mut misses, mut cos_sum) = (0usize, 0usize, 0.0);
    for (k, &p) in short.iter().enumerate().step_by(stride) {
        let near = nearest_segment(p, long).filter(|(d, _)| *d <= tolerance);
        let Some((_, dir)) = near else {
            misses += 1;
            if misses > allowed_misses {
                return (on as f64 / samples as f64, 0.0);
            }
            continue;
        };
        on += 1;
        let a = short[k.saturating_sub(1)];
        let b = short[(k + 1).min(short.len() - 1)];
        let t = [b[0] - a[0], b[1] - a[1]];
        let n = t[0].hypot(t[1]);
        cos_sum += if n > 0.0 && dir != [0.0, 0.0] {
            ((t[0] * dir[0] + t[1] * dir[1]) / n).abs()
        } else {
            1.0
        };
    }
    if on == 0 {
        return (0.0, 0.0);
    }
    (on as f64 / samples as f64, cos_sum / on as f64)
}

/// Distance from `p` to polyline `line` and the unit direction of the nearest segment.
fn nearest_segment(p: [f64; 2], line: &[[f64; 2]]) -> Option<(f64, [f64; 2])> {
    if line.len() == 1 {
        return Some(((p[0] - line[0][0]).hypot(p[1] - line[0][1]), [0.0, 0.0]));
    }
    line.windows(2)
        .map(|w| {
            let d = crate::geometry::distance_to_segment(p, w[0], w[1]);
            let v = [w[1][0] - w[0][0], w[1][1] - w[0][1]];
            let n = v[0].hypot(v[1]);
            (d, if n > 0.0 { [v[0] / n, v[1] / n] } else { [0.0, 0.0] })
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hair(id: u32, from: [f64; 2], to: [f64; 2], width_um: f64) -> MeasuredHair {
        let n = 40;
        let centreline_px: Vec<[f64; 2]> = (0..=n)
            .map(|k| {
                let t = f64::from(k) / f64::from(n);
                [from[0] + (to[0] - from[0]) * t, from[1] + (to[1] - from[1]) * t]
            })
            .collect();
        let length_px = crate::geometry::polyline_length(&centreline_px);
        MeasuredHair {
            id,
            unit_id: id,
            centreline_px,
            length_px,
            length_in_field_px: length_px,
            width_px: Some(width_um / 5.0),
            width_um: Some(width_um),
            class: Some(HairClass::from_width_um(
                width_um,
                &crate::measure::MeasureConfig::default(),
            )),
            counted: true,
            touches_border: false,
        }
    }

    #[test]
    fn persisting_new_lost_and_pieces_from_exact_hairs() {
        // follow-up px = baseline px shifted by (−20, +10): to baseline add (20, −10)
        let to_base = Similarity::from_params(1.0, 0.0, 20.0, -10.0);
        let baseline = [
            hair(1, [10.0, 10.0], [60.0, 30.0], 25.0),     // persists, thickens to terminal
            hair(2, [100.0, 100.0], [100.0, 160.0], 70.0), // lost
            hair(3, [150.0, 20.0], [200.0, 20.0], 50.0),   // persists, grown at follow-up
            hair(4, [30.0, 120.0], [80.0, 170.0], 50.0),   // crossing neighbour of the new hair
        ];
        let followup = [
            hair(11, [-10.0, 20.0], [40.0, 40.0], 65.0),
            hair(12, [130.0, 30.0], [210.0, 30.0], 50.0),
            hair(13, [10.0, 180.0], [60.0, 130.0], 20.0), // new, crosses hair 4
            hair(14, [10.0, 130.0], [35.0, 155.0], 50.0), // hair 4, first half
            hair(15, [36.0, 156.0], [60.0, 180.0], 50.0), // hair 4, second half: a piece
        ];
        let identity = Similarity::IDENTITY;
        let b: Vec<Candidate> = baseline.iter().map(|h| Candidate::new(h, &identity)).collect();
        let f: Vec<Candidate> = followup.iter().map(|h| Candidate::new(h, &to_base)).collect();
        let m = match_hairs(&b, &f, 0.5, &MatchConfig::default());
        let pairs: Vec<(u32, u32)> = m.links.iter().map(|l| (l.baseline_id, l.followup_id)).collect();
        assert_eq!(pairs.len(), 3, "{m:?}");
        assert!(pairs.contains(&(1, 11)) && pairs.contains(&(3, 12)), "{pairs:?}");
        assert!(pairs.contains(&(4, 14)) || pairs.contains(&(4, 15)), "{pairs:?}");
        assert_eq!(m.lost_ids, vec![2]);
        assert_eq!(m.new_ids, vec![13]);
        assert_eq!(m.followup_piece_ids.len(), 1);
        let first = m.links.iter().find(|l| l.baseline_id == 1).unwrap();
        assert_eq!(first.width_change_um, Some(40.0));
        assert_eq!(
            (first.class_baseline, first.class_followup),
            (Some(HairClass::Vellus), Some(HairClass::Terminal))
        );
    }
}

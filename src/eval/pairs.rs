//! Accuracy of the visit comparison against phantom pairs with known truth
//! (`tricho eval-pairs`): registration error, hair-link precision/recall/F1 and the error
//! of the density change — with registration and matching, and for the same pair analysed
//! as two independent images — so the gain of matching is visible.
//!
//! **Truth of the density change**: the phantom's true hairs counted in the true common
//! field (baseline frame ∩ the follow-up frame mapped by the true transform; a hair counts
//! with ≥ 100 µm of centreline inside), `(n_followup − n_baseline) / n_baseline × 100`.
//! Both estimates are scored against it: the registered one measures exactly this; the
//! independent one (`(density_followup − density_baseline) / density_baseline` of the two
//! whole-image analyses) is what a tool without registration reports.
//!
//! **Links**: each counted traced hair is identified with the true hair it runs along (the
//! `tricho eval` rule: ≥ 60 % of it within half the true width + 1 px), many-to-one. A
//! predicted link is correct when both ends are identified with the same true hair;
//! precision is over links with both ends identified. Recall is over true persisting hairs
//! identified at both visits among the hairs the comparison counted in the common field.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::matching::{shared_fraction, tolerance_px, Track, MIN_SHARED_FRACTION};
use super::summary::percentile;
use crate::analyze::ImageAnalysis;
use crate::compare::field::CommonField;
use crate::compare::response::{percent_change, ResponseCategory};
use crate::compare::{Comparison, Similarity};
use crate::measure::MeasuredHair;
use crate::quality::FieldMask;
use crate::synth::pair::{HairFate, PairTruth};
use crate::synth::truth::{PhantomTruth, MIN_COUNTED_LENGTH_UM};

/// How one pair was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairScore {
    /// The pair truth file name.
    pub pair: String,
    /// Mean distance (px) between the estimated and true positions of the follow-up frame's corners.
    pub registration_error_px: f64,
    /// Registration confidence reported.
    pub registration_confidence: f64,
    /// Overlap reported.
    pub overlap_fraction: f64,
    /// Predicted links with both ends identified.
    pub links_identified: usize,
    /// Of those, linking the same true hair.
    pub links_correct: usize,
    /// True persisting hairs identified at both visits.
    pub persisting_identifiable: usize,
    /// Of those, linked correctly.
    pub persisting_linked: usize,
    /// True hairs counted in the true common field at each visit, and how many of them are
    /// new / lost.
    pub true_common: HairTally,
    /// Hairs the comparison counted in its common field at each visit, new and lost.
    pub measured_common: HairTally,
    /// True density change on the true common field (%).
    pub true_density_change_pct: Option<f64>,
    /// Registered + matched estimate (%).
    pub matched_density_change_pct: Option<f64>,
    /// Independent (whole-image) estimate (%).
    pub independent_density_change_pct: Option<f64>,
    /// Time of registration + matching + response (ms).
    pub compare_ms: f64,
    /// The response category `tricho compare` gave.
    pub category: ResponseCategory,
}

/// Hairs counted in a common field: `baseline − lost + new = followup` when every hair is
/// accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HairTally {
    /// Counted at baseline.
    pub baseline: usize,
    /// Counted at follow-up.
    pub followup: usize,
    /// Of the follow-up hairs, only at follow-up.
    pub new: usize,
    /// Of the baseline hairs, only at baseline.
    pub lost: usize,
}

/// Summary over all pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PairSummary {
    /// Pairs scored.
    pub pairs: usize,
    /// Median registration error (px).
    pub registration_error_px_median: Option<f64>,
    /// 90th percentile registration error (px).
    pub registration_error_px_p90: Option<f64>,
    /// Largest registration error (px).
    pub registration_error_px_max: Option<f64>,
    /// Share of pairs registered within 2 px.
    pub registered_within_2px: Option<f64>,
    /// Link precision (pooled over pairs).
    pub link_precision: Option<f64>,
    /// Link recall (pooled).
    pub link_recall: Option<f64>,
    /// Link F1.
    pub link_f1: Option<f64>,
    /// Registered + matched: median |density-change error| (percentage points).
    pub matched_abs_error_pp_median: Option<f64>,
    /// Registered + matched: 90th percentile.
    pub matched_abs_error_pp_p90: Option<f64>,
    /// Registered + matched: 95th percentile over every pair.
    pub matched_abs_error_pp_p95: Option<f64>,
    /// Pairs given a response category (not `undetermined`).
    pub categorised_pairs: usize,
    /// Registered + matched: 95th percentile over the pairs given a category — the
    /// repeatability stated in reports, which only those pairs are judged against.
    pub categorised_abs_error_pp_p95: Option<f64>,
    /// Registered + matched: mean signed error (pp).
    pub matched_error_pp_mean: Option<f64>,
    /// Independent: median |density-change error| (pp).
    pub independent_abs_error_pp_median: Option<f64>,
    /// Independent: 90th percentile.
    pub independent_abs_error_pp_p90: Option<f64>,
    /// Independent: 95th percentile.
    pub independent_abs_error_pp_p95: Option<f64>,
    /// Independent: mean signed error (pp).
    pub independent_error_pp_mean: Option<f64>,
    /// No-change reference (every pair called 0 %): median |density-change error| (pp), i.e.
    /// the median size of the true changes — what a method must beat to see any change.
    pub no_change_abs_error_pp_median: Option<f64>,
    /// No-change reference: 90th percentile.
    pub no_change_abs_error_pp_p90: Option<f64>,
    /// No-change reference: 95th percentile.
    pub no_change_abs_error_pp_p95: Option<f64>,
    /// No-change reference: mean signed error (pp), minus the mean true change.
    pub no_change_error_pp_mean: Option<f64>,
    /// Median time of registration + matching + response (ms).
    pub compare_ms_median: Option<f64>,
    /// Every pair.
    pub scores: Vec<PairScore>,
}

/// The truth files of one pair.
pub struct PairTruths<'a> {
    /// The pair truth file name.
    pub name: String,
    /// Pair truth.
    pub pair: &'a PairTruth,
    /// Baseline view truth.
    pub baseline: &'a PhantomTruth,
    /// Follow-up view truth.
    pub followup: &'a PhantomTruth,
}

/// Scores `comparison` of the two analyses of a phantom pair against its truth.
pub fn score_pair(
    truth: &PairTruths,
    baseline: &ImageAnalysis,
    followup: &ImageAnalysis,
    comparison: &Comparison,
) -> PairScore {
    let true_transform = Similarity {
        matrix: truth.pair.followup_to_baseline.matrix,
    };
    let (fw, fh) = (
        f64::from(truth.followup.image.width_px),
        f64::from(truth.followup.image.height_px),
    );
    let registration_error_px =
        comparison
            .registration
            .followup_to_baseline
            .mean_corner_distance_px(&true_transform, fw, fh);

    // identify traced hairs with true ids
    let ids_b = identify(&baseline.hairs, truth.baseline);
    let ids_f = identify(&followup.hairs, truth.followup);
    let id_of = |ids: &[(u32, u32)], hair: u32| ids.iter().find(|(h, _)| *h == hair).map(|(_, t)| *t);
    let (mut links_identified, mut links_correct) = (0, 0);
    let mut linked_truth = Vec::new();
    for link in &comparison.matching.links {
        if let (Some(b), Some(f)) = (id_of(&ids_b, link.baseline_id), id_of(&ids_f, link.followup_id)) {
            links_identified += 1;
            if b == f {
                links_correct += 1;
                linked_truth.push(b);
            }
        }
    }
    let in_b: Vec<u32> = comparison
        .matching
        .links
        .iter()
        .map(|l| l.baseline_id)
        .chain(comparison.matching.lost_ids.iter().copied())
        .filter_map(|h| id_of(&ids_b, h))
        .collect();
    let in_f: Vec<u32> = comparison
        .matching
        .links
        .iter()
        .map(|l| l.followup_id)
        .chain(comparison.matching.new_ids.iter().copied())
        .filter_map(|h| id_of(&ids_f, h))
        .collect();
    let persisting: Vec<u32> = truth
        .pair
        .hairs
        .iter()
        .filter(|c| c.fate == HairFate::Persisting && in_b.contains(&c.id) && in_f.contains(&c.id))
        .map(|c| c.id)
        .collect();
    let persisting_linked = persisting.iter().filter(|id| linked_truth.contains(id)).count();

    let true_common = true_common_tally(truth, &true_transform);
    let true_density_change_pct = percent_change(true_common.baseline as f64, true_common.followup as f64);
    let measured_common = HairTally {
        baseline: comparison.baseline.count,
        followup: comparison.followup.count,
        new: comparison.summary.new,
        lost: comparison.summary.lost,
    };
    let matched = comparison.change.density_pct.or(comparison.change.count_pct);
    let independent = baseline
        .metrics
        .density_per_cm2
        .zip(followup.metrics.density_per_cm2)
        .and_then(|(b, f)| percent_change(b, f));
    PairScore {
        pair: truth.name.clone(),
        registration_error_px,
        registration_confidence: comparison.registration.confidence,
        overlap_fraction: comparison.common_field_record.overlap_fraction,
        links_identified,
        links_correct,
        persisting_identifiable: persisting.len(),
        persisting_linked,
        true_common,
        measured_common,
        true_density_change_pct,
        matched_density_change_pct: matched,
        independent_density_change_pct: independent,
        compare_ms: comparison.elapsed_ms,
        category: comparison.response.category,
    }
}

/// `(traced id, true id)` for each counted traced hair that runs along a true hair.
fn identify(hairs: &[MeasuredHair], truth: &PhantomTruth) -> Vec<(u32, u32)> {
    let um_per_px = truth.calibration.um_per_px;
    let tracks: Vec<Track> = truth
        .hairs
        .iter()
        .map(|h| Track {
            points: &h.centreline_px,
            tolerance_px: tolerance_px(h.width_um / um_per_px),
        })
        .collect();
    hairs
        .iter()
        .filter(|h| h.counted)
        .filter_map(|h| {
            tracks
                .iter()
                .zip(&truth.hairs)
                .map(|(track, t)| (shared_fraction(&h.centreline_px, track), t.id))
                .filter(|(f, _)| *f >= MIN_SHARED_FRACTION)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, id)| (h.id, id))
        })
        .collect()
}

/// The true hairs counted in the true common field at each visit.
fn true_common_tally(truth: &PairTruths, true_transform: &Similarity) -> HairTally {
    let b = &truth.baseline.image;
    let f = &truth.followup.image;
    let common = CommonField::new(
        &FieldMask::full(b.width_px, b.height_px),
        &FieldMask::full(f.width_px, f.height_px),
        true_transform,
        None,
    );
    let min_px = MIN_COUNTED_LENGTH_UM / truth.baseline.calibration.um_per_px;
    let fate = |id: u32| truth.pair.hairs.iter().find(|c| c.id == id).map(|c| c.fate);
    let in_b: Vec<u32> = truth
        .baseline
        .hairs
        .iter()
        .filter(|h| common.length_inside_px(&h.centreline_px) >= min_px)
        .map(|h| h.id)
        .collect();
    let in_f: Vec<u32> = truth
        .followup
        .hairs
        .iter()
        .filter(|h| {
            let line: Vec<[f64; 2]> = h.centreline_px.iter().map(|&p| true_transform.apply(p)).collect();
            common.length_inside_px(&line) >= min_px
        })
        .map(|h| h.id)
        .collect();
    HairTally {
        baseline: in_b.len(),
        followup: in_f.len(),
        new: in_f.iter().filter(|&&id| fate(id) == Some(HairFate::New)).count(),
        lost: in_b.iter().filter(|&&id| fate(id) == Some(HairFate::Lost)).count(),
    }
}

/// Whether `tricho compare` gave the pair a response category: only those are judged against
/// the repeatability.
fn is_categorised(score: &PairScore) -> bool {
    score.category != ResponseCategory::Undetermined
}

/// Summarises pair scores.
pub fn summarise_pairs(scores: Vec<PairScore>) -> PairSummary {
    let reg: Vec<f64> = scores.iter().map(|s| s.registration_error_px).collect();
    let errors = |estimate: fn(&PairScore) -> Option<f64>| -> Vec<f64> {
        scores
            .iter()
            .filter_map(|s| estimate(s).zip(s.true_density_change_pct).map(|(e, t)| e - t))
            .collect()
    };
    let matched = errors(|s| s.matched_density_change_pct);
    let categorised_matched = errors(|s| s.matched_density_change_pct.filter(|_| is_categorised(s)));
    let independent = errors(|s| s.independent_density_change_pct);
    let no_change = errors(|s| s.true_density_change_pct.map(|_| 0.0));
    let abs = |v: &[f64]| v.iter().map(|e| e.abs()).collect::<Vec<f64>>();
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let (identified, correct, identifiable, linked) = scores.iter().fold((0, 0, 0, 0), |acc, s| {
        (
            acc.0 + s.links_identified,
            acc.1 + s.links_correct,
            acc.2 + s.persisting_identifiable,
            acc.3 + s.persisting_linked,
        )
    });
    let precision = (identified > 0).then(|| correct as f64 / identified as f64);
    let recall = (identifiable > 0).then(|| linked as f64 / identifiable as f64);
    let f1 = precision
        .zip(recall)
        .filter(|(p, r)| p + r > 0.0)
        .map(|(p, r)| 2.0 * p * r / (p + r));
    let times: Vec<f64> = scores.iter().map(|s| s.compare_ms).collect();
    PairSummary {
        pairs: scores.len(),
        registration_error_px_median: percentile(&reg, 0.5),
        registration_error_px_p90: percentile(&reg, 0.9),
        registration_error_px_max: reg.iter().copied().reduce(f64::max),
        registered_within_2px: (!reg.is_empty())
            .then(|| reg.iter().filter(|&&e| e <= 2.0).count() as f64 / reg.len() as f64),
        link_precision: precision,
        link_recall: recall,
        link_f1: f1,
        matched_abs_error_pp_median: percentile(&abs(&matched), 0.5),
        matched_abs_error_pp_p90: percentile(&abs(&matched), 0.9),
        matched_abs_error_pp_p95: percentile(&abs(&matched), 0.95),
        categorised_pairs: scores.iter().filter(|s| is_categorised(s)).count(),
        categorised_abs_error_pp_p95: percentile(&abs(&categorised_matched), 0.95),
        matched_error_pp_mean: mean(&matched),
        independent_abs_error_pp_median: percentile(&abs(&independent), 0.5),
        independent_abs_error_pp_p90: percentile(&abs(&independent), 0.9),
        independent_abs_error_pp_p95: percentile(&abs(&independent), 0.95),
        independent_error_pp_mean: mean(&independent),
        no_change_abs_error_pp_median: percentile(&abs(&no_change), 0.5),
        no_change_abs_error_pp_p90: percentile(&abs(&no_change), 0.9),
        no_change_abs_error_pp_p95: percentile(&abs(&no_change), 0.95),
        no_change_error_pp_mean: mean(&no_change),
        compare_ms_median: percentile(&times, 0.5),
        scores,
    }
}

/// The Markdown tables the README quotes.
pub fn markdown_pairs_report(summary: &PairSummary) -> String {
    let f = |v: Option<f64>, digits: usize| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.digits$}"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| pairs | registration error px: median | p90 | max | within 2 px | link precision | link recall | link F1 | compare ms (median) |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} % | {} | {} | {} | {} |",
        summary.pairs,
        f(summary.registration_error_px_median, 2),
        f(summary.registration_error_px_p90, 2),
        f(summary.registration_error_px_max, 2),
        f(summary.registered_within_2px.map(|v| v * 100.0), 0),
        f(summary.link_precision, 3),
        f(summary.link_recall, 3),
        f(summary.link_f1, 3),
        f(summary.compare_ms_median, 0),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| density change (pp vs truth on the common field) | \\|error\\| median | \\|error\\| p90 | \\|error\\| p95 | mean error |"
    );
    let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
    let rows = [
        (
            "registered + matched (`tricho compare`)",
            [
                summary.matched_abs_error_pp_median,
                summary.matched_abs_error_pp_p90,
                summary.matched_abs_error_pp_p95,
                summary.matched_error_pp_mean,
            ],
        ),
        (
            "independent (two whole-image analyses)",
            [
                summary.independent_abs_error_pp_median,
                summary.independent_abs_error_pp_p90,
                summary.independent_abs_error_pp_p95,
                summary.independent_error_pp_mean,
            ],
        ),
        (
            "no-change reference (every pair called 0 %)",
            [
                summary.no_change_abs_error_pp_median,
                summary.no_change_abs_error_pp_p90,
                summary.no_change_abs_error_pp_p95,
                summary.no_change_error_pp_mean,
            ],
        ),
    ];
    for (label, values) in rows {
        let cells: Vec<String> = values.iter().map(|&v| f(v, 2)).collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Repeatability (registered + matched |error| p95 over the {} of {} pairs given a response category, not `undetermined`): {} pp",
        summary.categorised_pairs,
        summary.pairs,
        f(summary.categorised_abs_error_pp_p95, 2),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(error_pp: f64, category: ResponseCategory) -> PairScore {
        let tally = HairTally {
            baseline: 20,
            followup: 20,
            new: 0,
            lost: 0,
        };
        PairScore {
            pair: String::new(),
            registration_error_px: 0.5,
            registration_confidence: 0.8,
            overlap_fraction: 0.9,
            links_identified: 0,
            links_correct: 0,
            persisting_identifiable: 0,
            persisting_linked: 0,
            true_common: tally,
            measured_common: tally,
            true_density_change_pct: Some(10.0),
            matched_density_change_pct: Some(10.0 + error_pp),
            independent_density_change_pct: None,
            compare_ms: 1.0,
            category,
        }
    }

    #[test]
    fn repeatability_leaves_out_undetermined_pairs() {
        let summary = summarise_pairs(vec![
            score(1.0, ResponseCategory::Improved),
            score(-3.0, ResponseCategory::NoDetectableChange),
            score(80.0, ResponseCategory::Undetermined),
        ]);
        assert_eq!(summary.categorised_pairs, 2);
        // |errors| 1 and 3: the 95th percentile interpolates to 2.9.
        let p95 = summary.categorised_abs_error_pp_p95.unwrap();
        assert!((p95 - 2.9).abs() < 1e-9, "{p95}");
        assert!(summary.matched_abs_error_pp_p95.unwrap() > 70.0);
    }

    #[test]
    fn the_no_change_reference_scores_the_size_of_the_true_changes() {
        let mut shrinking = score(0.0, ResponseCategory::Worsened);
        shrinking.true_density_change_pct = Some(-30.0);
        let summary = summarise_pairs(vec![score(5.0, ResponseCategory::Improved), shrinking]);
        // true changes +10 % and −30 %: called 0 %, the errors are −10 and +30 pp
        assert_eq!(summary.no_change_abs_error_pp_median, Some(20.0));
        assert_eq!(summary.no_change_error_pp_mean, Some(10.0));
    }
}

//! Baseline vs follow-up: register the two visits, match hair to hair, and compute the
//! response on the common field only.
//!
//! [`compare_visits`] takes the two per-visit analyses (from
//! [`crate::analyze::analyze_scan`]) and chains the stages, each its own module:
//! [`mod@register`] (follow-up → baseline similarity from the traced centrelines),
//! [`field`] (the common field), [`matching`] (persisting / new / lost hairs, width change,
//! class transitions; a hair traced at one visit only is looked for in the other visit's
//! segmentation, [`evidence`], and photo, [`photo_evidence`]) and [`response`] (changes,
//! interval, flags, category).

pub mod evidence;
pub mod fft;
pub mod field;
pub mod glare;
pub mod matching;
pub mod photo_evidence;
pub mod register;
pub mod response;
pub mod texture;
pub mod transform;

use std::time::Instant;

use image::RgbImage;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analyze::ImageAnalysis;
use crate::measure::{compute_metrics, HairClass, ImageMetrics, MeasureConfig, MeasuredHair, PhotoPixels};
use crate::quality::raster::luma_plane;
use crate::units::{Micrometres, PixelSpacing};
use field::{CommonField, CommonFieldRecord};
use glare::Glare;
use matching::{match_hairs, Candidate, HairMatching, MatchConfig};
use photo_evidence::PhotoPair;
use register::{register, RegisterConfig, RegisterError, Registration, VisitLines};
use response::{
    categorise, interval_days, visit_flags, Change, ClassTransition, ComparisonFlag, IntervalSource, Response,
    ResponseConfig,
};
pub use transform::Similarity;

/// Every setting of a comparison. Defaults are documented per field of each part.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareConfig {
    /// Registration.
    pub register: RegisterConfig,
    /// Leave the areas under glare at either visit out of the common field (see [`glare`]).
    /// Default true.
    pub exclude_glare: bool,
    /// Hair-to-hair matching.
    pub matching: MatchConfig,
    /// Response: interval, flags, category thresholds.
    pub response: ResponseConfig,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            register: RegisterConfig::default(),
            exclude_glare: true,
            matching: MatchConfig::default(),
            response: ResponseConfig::default(),
        }
    }
}

/// Why two visits could not be compared.
#[derive(Debug, Error)]
pub enum CompareError {
    /// The visits could not be registered (the message says why, naming the visit).
    #[error(transparent)]
    Register(#[from] RegisterError),
}

/// Counts of the matching, for the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchingSummary {
    /// Hairs present at both visits: linked, plus those traced at one visit and seen in the
    /// other's segmentation.
    pub persisting: usize,
    /// Persisting hairs traced and linked at both visits.
    pub linked: usize,
    /// Persisting hairs traced at follow-up only (seen in the baseline segmentation).
    pub untraced_at_baseline: usize,
    /// Persisting hairs traced at baseline only (seen in the follow-up segmentation or photo).
    pub untraced_at_followup: usize,
    /// Of `untraced_at_baseline`, those seen in the baseline photo only, not its segmentation.
    pub untraced_at_baseline_photo_only: usize,
    /// Of `untraced_at_followup`, those seen in the follow-up photo only.
    pub untraced_at_followup_photo_only: usize,
    /// Hairs only at follow-up.
    pub new: usize,
    /// Hairs only at baseline.
    pub lost: usize,
    /// Traced pieces of a persisting shaft at baseline (counted at neither visit).
    pub baseline_pieces: usize,
    /// Traced pieces of a persisting shaft at follow-up.
    pub followup_pieces: usize,
    /// Persisting hairs that went from vellus to terminal.
    pub vellus_to_terminal: usize,
    /// Persisting hairs that went from terminal to vellus.
    pub terminal_to_vellus: usize,
    /// Every class transition among persisting hairs with a class at both visits.
    pub transitions: Vec<ClassTransition>,
    /// Mean width change of the persisting hairs (µm).
    pub mean_width_change_um: Option<f64>,
    /// Persisting hairs at least 10 % wider at follow-up.
    pub thickened: usize,
    /// Persisting hairs at least 10 % narrower at follow-up.
    pub thinned: usize,
}

/// A persisting hair's relative width change beyond which it counts as thickened or thinned.
/// 10 %: larger than the spread of the per-hair width measurement on sharp phantoms.
pub const WIDTH_CHANGE_FRACTION: f64 = 0.10;

/// How the interval was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// Days between the visits, if known.
    pub days: Option<i64>,
    /// Where it came from.
    pub source: IntervalSource,
}

/// Everything the comparison of two visits found.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The follow-up → baseline transform and its confidence.
    pub registration: Registration,
    /// The common field (baseline frame).
    pub common_field: CommonField,
    /// Its areas, for the report.
    pub common_field_record: CommonFieldRecord,
    /// Hair by hair.
    pub matching: HairMatching,
    /// Counts of the matching.
    pub summary: MatchingSummary,
    /// Baseline metrics on the common field.
    pub baseline: ImageMetrics,
    /// Follow-up metrics on the common field.
    pub followup: ImageMetrics,
    /// Follow-up − baseline.
    pub change: Change,
    /// Interval between the visits.
    pub interval: Interval,
    /// What a reader must know.
    pub flags: Vec<ComparisonFlag>,
    /// The response category.
    pub response: Response,
    /// Time taken by registration, matching and the response (ms).
    pub elapsed_ms: f64,
}

/// What the matching tolerance allows for the registration's own error (px): the hairs' RMS
/// residual about each other when the pose rests on the hairs alone, nothing when the skin
/// refined it (the residual then measures tracing noise, not misregistration, and widening
/// the tolerance by it linked neighbouring hairs of one unit: on 30 validation pairs, seed
/// 700000, link precision 0.784 → 0.804 and recall 0.925 → 0.938 without it).
fn registration_slack_px(registration: &Registration) -> f64 {
    if registration.refined_on_skin {
        0.0
    } else {
        registration.residual_rms_px
    }
}

/// Compares two analysed visits, `photos` the baseline's and the follow-up's images they were
/// analysed from (their skin refines the registration). `interval_override` (days, e.g. `--interval-days`) wins
/// over the capture dates `captured_at` (`YYYY-MM-DD…`) of the two photos.
///
/// # Errors
/// [`CompareError::Register`] if either visit has too few traced hairs to register.
pub fn compare_visits(
    baseline: &ImageAnalysis,
    followup: &ImageAnalysis,
    photos: (&RgbImage, &RgbImage),
    captured_at: (Option<&str>, Option<&str>),
    interval_override: Option<i64>,
    measure: &MeasureConfig,
    config: &CompareConfig,
) -> Result<Comparison, CompareError> {
    let started = Instant::now();
    let (spacing_b, spacing_f) = (baseline.calibration.spacing, followup.calibration.spacing);
    let expected_scale = spacing_b.zip(spacing_f).map(|(b, f)| f.um_per_px / b.um_per_px);
    let lines_b: Vec<Vec<[f64; 2]>> = baseline.hairs.iter().map(|h| h.centreline_px.clone()).collect();
    let lines_f: Vec<Vec<[f64; 2]>> = followup.hairs.iter().map(|h| h.centreline_px.clone()).collect();
    let tolerance_px = inlier_tolerance_px(&baseline.hairs);
    // one luma plane per photo, for the skin texture and the glare both
    let lumas =
        (config.register.refine_on_skin || config.exclude_glare).then(|| (luma_plane(photos.0), luma_plane(photos.1)));
    let skins = if let Some((luma_b, luma_f)) = lumas.as_ref().filter(|_| config.register.refine_on_skin) {
        (Some(baseline.skin(luma_b)), Some(followup.skin(luma_f)))
    } else {
        (None, None)
    };
    let registration = register(
        VisitLines {
            lines: &lines_b,
            width: baseline.field.width,
            height: baseline.field.height,
            texture: skins.0.as_ref(),
        },
        VisitLines {
            lines: &lines_f,
            width: followup.field.width,
            height: followup.field.height,
            texture: skins.1.as_ref(),
        },
        expected_scale,
        tolerance_px,
        &config.register,
    )?;
    let to_baseline = registration.followup_to_baseline;
    let glare = lumas.as_ref().filter(|_| config.exclude_glare).map(|(luma_b, luma_f)| {
        let (b, f) = (photos.0, photos.1);
        (
            Glare::find(luma_b, b.width(), b.height(), spacing_b),
            Glare::find(luma_f, f.width(), f.height(), spacing_f),
        )
    });
    let common = CommonField::new(
        &baseline.field,
        &followup.field,
        &to_baseline,
        glare.as_ref().map(|(b, f)| (b, f)),
    );
    // a hair counts in the common field with ≥ min_counted_length_um of it inside (baseline px)
    let min_len_px = spacing_b.map(|s| s.to_px(Micrometres(measure.min_counted_length_um)).0);
    let cand_b = candidates(&baseline.hairs, &Similarity::IDENTITY, &common, min_len_px);
    let cand_f = candidates(&followup.hairs, &to_baseline, &common, min_len_px);
    let mut matching = match_hairs(&cand_b, &cand_f, registration_slack_px(&registration), &config.matching);
    look_for_evidence(
        &mut matching,
        baseline,
        followup,
        &cand_b,
        &cand_f,
        &registration,
        &config.matching,
    );
    if let Some(min_contrast) = config.matching.min_photo_contrast {
        look_in_photos(&mut matching, baseline, followup, photos, &registration, min_contrast);
    }

    let included_b: Vec<u32> = matching
        .links
        .iter()
        .map(|l| l.baseline_id)
        .chain(matching.lost_ids.iter().copied())
        .chain(matching.untraced_at_followup_ids.iter().copied())
        .collect();
    let included_f: Vec<u32> = matching
        .links
        .iter()
        .map(|l| l.followup_id)
        .chain(matching.new_ids.iter().copied())
        .chain(matching.untraced_at_baseline_ids.iter().copied())
        .collect();
    // a hair seen untraced at one visit counts there too: no width, its class from the
    // visit where it was traced, a follicular unit of its own
    let subset = |hairs: &[MeasuredHair], ids: &[u32], other: &[MeasuredHair], seen: &[u32]| -> Vec<MeasuredHair> {
        let mut out: Vec<MeasuredHair> = hairs
            .iter()
            .filter(|h| ids.contains(&h.id))
            .map(|h| MeasuredHair {
                counted: true,
                ..h.clone()
            })
            .collect();
        let first_unit = hairs.iter().map(|h| h.unit_id).max().unwrap_or(0) + 1;
        out.extend(
            other
                .iter()
                .filter(|h| seen.contains(&h.id))
                .enumerate()
                .map(|(k, h)| MeasuredHair {
                    counted: true,
                    width_px: None,
                    width_um: None,
                    unit_id: first_unit + k as u32,
                    ..h.clone()
                }),
        );
        out
    };
    let area_b_px = common.area_px;
    // the same patch at both visits: the follow-up area in its own pixels is the baseline
    // area converted through the calibrations (or the registered scale when uncalibrated)
    let area_f_px = match (spacing_b, spacing_f) {
        (Some(b), Some(f)) => (area_b_px as f64 * (b.um_per_px / f.um_per_px).powi(2)).round() as u64,
        _ => (area_b_px as f64 / registration.scale.powi(2)).round() as u64,
    };
    let hairs_b = subset(
        &baseline.hairs,
        &included_b,
        &followup.hairs,
        &matching.untraced_at_baseline_ids,
    );
    let hairs_f = subset(
        &followup.hairs,
        &included_f,
        &baseline.hairs,
        &matching.untraced_at_followup_ids,
    );
    let metrics_b = compute_metrics(&hairs_b, area_b_px, spacing_b, measure);
    let metrics_f = compute_metrics(&hairs_f, area_f_px, spacing_f, measure);
    let change = Change::between(&metrics_b, &metrics_f);
    let summary = summarise(&matching);

    let interval = match (interval_override, interval_days(captured_at.0, captured_at.1)) {
        (Some(days), _) => Interval {
            days: Some(days),
            source: IntervalSource::CommandLine,
        },
        (None, Some(days)) => Interval {
            days: Some(days),
            source: IntervalSource::CaptureDates,
        },
        (None, None) => Interval {
            days: None,
            source: IntervalSource::Unknown,
        },
    };
    let flags = pair_flags(
        baseline,
        followup,
        &registration,
        &common,
        interval,
        metrics_b.count,
        &config.response,
    );
    let change_pct = change.density_pct.or(change.count_pct);
    let response = categorise(change_pct, &flags, &config.response);
    let common_field_record = CommonFieldRecord {
        area_px: common.area_px,
        area_mm2: spacing_b.map(|s| area_mm2(s, common.area_px)),
        overlap_fraction: common.overlap_fraction(),
        glare_excluded_px: common.glare_excluded_px,
    };
    Ok(Comparison {
        registration,
        common_field: common,
        common_field_record,
        matching,
        summary,
        baseline: metrics_b,
        followup: metrics_f,
        change,
        interval,
        flags,
        response,
        elapsed_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

/// Moves lost and new hairs that the other visit's segmentation shows along their mapped
/// centreline (see [`evidence`]) to the untraced-persisting lists.
fn look_for_evidence(
    matching: &mut HairMatching,
    baseline: &ImageAnalysis,
    followup: &ImageAnalysis,
    cand_b: &[Candidate],
    cand_f: &[Candidate],
    registration: &Registration,
    config: &MatchConfig,
) {
    let to_followup = registration.followup_to_baseline.inverse();
    let radius_b = registration.tolerance_px;
    let radius_f = registration.followup_tolerance_px();
    // the end-run rule in each visit's input px; off (infinite) on an uncalibrated visit
    let min_run_px = |analysis: &ImageAnalysis| {
        analysis
            .calibration
            .spacing
            .map_or(f64::INFINITY, |s| config.min_evidence_run_um / s.um_per_px)
    };
    let (min_run_b, min_run_f) = (min_run_px(baseline), min_run_px(followup));
    let seen = |line: &[[f64; 2]], maps, radius, min_run: f64| {
        evidence::evidence_along(line, maps, config.evidence_threshold, radius)
            .is_some_and(|e| e.shows_hair(config.min_shared_fraction, min_run))
    };
    let line_of = |cands: &[Candidate], id: u32| cands.iter().find(|c| c.hair.id == id).map(|c| c.line.clone());
    let (mut lost, mut seen_f) = (Vec::new(), Vec::new());
    for &id in &matching.lost_ids {
        let in_followup: Option<Vec<[f64; 2]>> =
            line_of(cand_b, id).map(|l| l.iter().map(|&p| to_followup.apply(p)).collect());
        match in_followup {
            Some(line) if seen(&line, &followup.maps, radius_f, min_run_f) => seen_f.push(id),
            _ => lost.push(id),
        }
    }
    let (mut new, mut seen_b) = (Vec::new(), Vec::new());
    for &id in &matching.new_ids {
        match line_of(cand_f, id) {
            Some(line) if seen(&line, &baseline.maps, radius_b, min_run_b) => seen_b.push(id),
            _ => new.push(id),
        }
    }
    matching.lost_ids = lost;
    matching.new_ids = new;
    matching.untraced_at_followup_ids = seen_f;
    matching.untraced_at_baseline_ids = seen_b;
}

/// Moves lost and new hairs that the other visit's *photo* shows along their mapped centreline
/// (see [`photo_evidence`]; judged against the linked hairs) to the untraced-persisting lists.
fn look_in_photos(
    matching: &mut HairMatching,
    baseline: &ImageAnalysis,
    followup: &ImageAnalysis,
    photos: (&RgbImage, &RgbImage),
    registration: &Registration,
    min_contrast: f64,
) {
    let to_baseline = registration.followup_to_baseline;
    let (photo_b, photo_f) = (PhotoPixels::new(photos.0, 1.0), PhotoPixels::new(photos.1, 1.0));
    let towards_followup = PhotoPair {
        own: &photo_b,
        other: &photo_f,
        own_to_other: to_baseline.inverse(),
        tolerance_px: registration.followup_tolerance_px(),
    };
    let towards_baseline = PhotoPair {
        own: &photo_f,
        other: &photo_b,
        own_to_other: to_baseline,
        tolerance_px: registration.tolerance_px,
    };
    let linked_b: Vec<u32> = matching.links.iter().map(|l| l.baseline_id).collect();
    let linked_f: Vec<u32> = matching.links.iter().map(|l| l.followup_id).collect();
    let lost = std::mem::take(&mut matching.lost_ids);
    let (seen_f, lost) = seen_in_photo(&towards_followup, &baseline.hairs, &linked_b, lost, min_contrast);
    matching.lost_ids = lost;
    matching.untraced_at_followup_ids.extend(&seen_f);
    matching.followup_photo_only_ids = seen_f;
    let new = std::mem::take(&mut matching.new_ids);
    let (seen_b, new) = seen_in_photo(&towards_baseline, &followup.hairs, &linked_f, new, min_contrast);
    matching.new_ids = new;
    matching.untraced_at_baseline_ids.extend(&seen_b);
    matching.baseline_photo_only_ids = seen_b;
}

/// Splits `unpaired` (ids of `hairs`) into those the pair's other photo shows (relative
/// contrast ≥ `min_contrast` × the `linked` hairs' median) and the rest; all unseen when the
/// linked hairs give no yardstick.
fn seen_in_photo(
    pair: &PhotoPair,
    hairs: &[MeasuredHair],
    linked: &[u32],
    unpaired: Vec<u32>,
    min_contrast: f64,
) -> (Vec<u32>, Vec<u32>) {
    fn shaft(h: &MeasuredHair) -> photo_evidence::Shaft<'_> {
        photo_evidence::Shaft {
            line: &h.centreline_px,
            half_width_px: h.width_px.map_or(1.0, |w| w / 2.0),
        }
    }
    let linked_shafts: Vec<photo_evidence::Shaft> =
        hairs.iter().filter(|h| linked.contains(&h.id)).map(shaft).collect();
    let Some(yardstick) = photo_evidence::linked_yardstick(pair, &linked_shafts) else {
        return (Vec::new(), unpaired);
    };
    unpaired.into_iter().partition(|id| {
        hairs
            .iter()
            .find(|h| h.id == *id)
            .and_then(|h| pair.relative_contrast(shaft(h)))
            .is_some_and(|c| c >= min_contrast * yardstick)
    })
}

/// The counted hairs of one visit with any part in the common field, mapped into the
/// baseline frame; a hair counts there with at least `min_len_px` (baseline px) inside
/// (uncalibrated: any part).
fn candidates<'a>(
    hairs: &'a [MeasuredHair],
    to_baseline: &Similarity,
    common: &CommonField,
    min_len_px: Option<f64>,
) -> Vec<Candidate<'a>> {
    hairs
        .iter()
        .filter(|h| h.counted)
        .map(|h| Candidate::new(h, to_baseline))
        .filter_map(|mut c| {
            let inside = common.length_inside_px(&c.line);
            c.counts = min_len_px.is_none_or(|m| inside >= m);
            (inside > 0.0).then_some(c)
        })
        .collect()
}

fn area_mm2(spacing: PixelSpacing, pixels: u64) -> f64 {
    spacing.area_cm2(pixels as f64) * 100.0
}

/// Registration inlier tolerance: half the median traced width plus one pixel, at least 2 px
/// (a traced centreline lies within its shaft; the pixel grid adds up to a pixel).
fn inlier_tolerance_px(hairs: &[MeasuredHair]) -> f64 {
    let mut widths: Vec<f64> = hairs.iter().filter_map(|h| h.width_px).collect();
    widths.sort_by(f64::total_cmp);
    let median = widths.get(widths.len() / 2).copied().unwrap_or(0.0);
    (median / 2.0 + 1.0).max(2.0)
}

fn summarise(matching: &HairMatching) -> MatchingSummary {
    let mut transitions: Vec<ClassTransition> = Vec::new();
    for link in &matching.links {
        if let (Some(from), Some(to)) = (link.class_baseline, link.class_followup) {
            match transitions.iter_mut().find(|t| t.from == from && t.to == to) {
                Some(t) => t.count += 1,
                None => transitions.push(ClassTransition { from, to, count: 1 }),
            }
        }
    }
    let order = |c: HairClass| match c {
        HairClass::Vellus => 0,
        HairClass::Intermediate => 1,
        HairClass::Terminal => 2,
    };
    transitions.sort_by_key(|t| (order(t.from), order(t.to)));
    let moved = |from, to| {
        transitions
            .iter()
            .find(|t| t.from == from && t.to == to)
            .map_or(0, |t| t.count)
    };
    let changes: Vec<f64> = matching.links.iter().filter_map(|l| l.width_change_um).collect();
    let relative = |l: &matching::HairLink| {
        l.width_um_baseline
            .zip(l.width_um_followup)
            .filter(|(b, _)| *b > 0.0)
            .map(|(b, f)| f / b - 1.0)
    };
    MatchingSummary {
        persisting: matching.links.len()
            + matching.untraced_at_baseline_ids.len()
            + matching.untraced_at_followup_ids.len(),
        linked: matching.links.len(),
        untraced_at_baseline: matching.untraced_at_baseline_ids.len(),
        untraced_at_followup: matching.untraced_at_followup_ids.len(),
        untraced_at_baseline_photo_only: matching.baseline_photo_only_ids.len(),
        untraced_at_followup_photo_only: matching.followup_photo_only_ids.len(),
        new: matching.new_ids.len(),
        lost: matching.lost_ids.len(),
        baseline_pieces: matching.baseline_piece_ids.len(),
        followup_pieces: matching.followup_piece_ids.len(),
        vellus_to_terminal: moved(HairClass::Vellus, HairClass::Terminal),
        terminal_to_vellus: moved(HairClass::Terminal, HairClass::Vellus),
        mean_width_change_um: (!changes.is_empty()).then(|| changes.iter().sum::<f64>() / changes.len() as f64),
        thickened: matching
            .links
            .iter()
            .filter(|l| relative(l).is_some_and(|r| r >= WIDTH_CHANGE_FRACTION))
            .count(),
        thinned: matching
            .links
            .iter()
            .filter(|l| relative(l).is_some_and(|r| r <= -WIDTH_CHANGE_FRACTION))
            .count(),
        transitions,
    }
}

fn pair_flags(
    baseline: &ImageAnalysis,
    followup: &ImageAnalysis,
    registration: &Registration,
    common: &CommonField,
    interval: Interval,
    baseline_hairs: usize,
    config: &ResponseConfig,
) -> Vec<ComparisonFlag> {
    let mut flags = Vec::new();
    match interval.days {
        None => flags.push(ComparisonFlag::IntervalUnknown),
        Some(d) if d < config.min_interval_days || d > config.max_interval_days => {
            flags.push(ComparisonFlag::IntervalOutside10To20Weeks);
        }
        Some(_) => {}
    }
    if common.overlap_fraction() < config.min_overlap_fraction {
        flags.push(ComparisonFlag::LowOverlap);
    }
    if registration.confidence < config.min_registration_confidence {
        flags.push(ComparisonFlag::LowRegistrationConfidence);
    }
    flags.extend(visit_flags(&baseline.quality, true));
    flags.extend(visit_flags(&followup.quality, false));
    match (baseline.calibration.spacing, followup.calibration.spacing) {
        (Some(b), Some(f)) => {
            let ratio = f.um_per_px / b.um_per_px;
            if (ratio - 1.0).abs() > 1e-9 {
                flags.push(ComparisonFlag::CalibrationDiffers);
            }
            if (registration.fitted_scale / ratio - 1.0).abs() > config.calibration_tolerance {
                flags.push(ComparisonFlag::CalibrationInconsistentWithRegistration);
            }
        }
        _ => flags.push(ComparisonFlag::Uncalibrated),
    }
    if baseline_hairs < config.min_baseline_hairs {
        flags.push(ComparisonFlag::TooFewHairs);
    }
    flags
}

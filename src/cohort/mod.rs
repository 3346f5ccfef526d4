//! The cohort: what a trial statistician reads first. Every compared pair of a batch is
//! grouped by follow-up visit (and by site), and for each change (density, non-vellus
//! density, terminal and vellus density, mean width, hair mass, thin-hair fraction, count)
//! the mean, SD, median, a paired t-test and a Wilcoxon signed-rank test are reported, with
//! the responder rate and its 95 % Wilson interval.
//!
//! **Which pairs count**: compared pairs whose response category is not `undetermined`
//! (registration not trusted or too few hairs) are *evaluable* and enter every statistic;
//! undetermined and failed pairs are counted and listed, never silently dropped.
//! Because each change is follow-up − baseline on the same patch, a one-sample test of the
//! changes against 0 is the paired test of the two visits.

pub mod stats;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::batch::rows::{PairResult, PairRow};
use stats::{describe, paired_t_test, wilcoxon_signed_rank, wilson_interval, WilcoxonMethod};

/// Version of the cohort JSON schema; bumped on any incompatible change.
pub const COHORT_SCHEMA_VERSION: u32 = 1;
/// Value of [`Cohort::kind`].
pub const COHORT_KIND: &str = "tricho.cohort";
/// The response categories that make a responder under [`ResponderRule::Category`].
pub const RESPONDER_CATEGORIES: [&str; 2] = ["improved", "marked_improvement"];
/// Confidence of the responder-rate interval.
pub const RESPONDER_CONFIDENCE: f64 = 0.95;

/// Who is a responder. Responder definitions differ per protocol, so this is configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum ResponderRule {
    /// Default: the pair's response category is `improved` or `marked_improvement`, i.e. the
    /// density rose by more than the measured repeatability.
    #[default]
    Category,
    /// The density change (%) on the common field is at least this.
    MinDensityChangePct {
        /// Threshold (%).
        pct: f64,
    },
}

impl ResponderRule {
    /// A sentence for reports.
    pub fn describe(&self) -> String {
        match self {
            Self::Category => "response category improved or marked_improvement \
                 (density change above the measured repeatability)"
                .to_string(),
            Self::MinDensityChangePct { pct } => format!("density change ≥ {pct} %"),
        }
    }

    fn is_responder(&self, result: &PairResult) -> bool {
        match self {
            Self::Category => RESPONDER_CATEGORIES.contains(&result.category.as_str()),
            Self::MinDensityChangePct { pct } => result.change.density_pct.is_some_and(|d| d >= *pct),
        }
    }
}

/// The cohort summary (`cohort.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cohort {
    /// [`COHORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`COHORT_KIND`].
    pub kind: String,
    /// Who counts as a responder.
    pub responder_rule: ResponderRule,
    /// [`ResponderRule::describe`].
    pub responder_definition: String,
    /// Subjects with at least one row in the batch.
    pub subjects: usize,
    /// Per follow-up visit: all sites first, then each site when there are several.
    pub groups: Vec<CohortGroup>,
}

/// The statistics of one follow-up visit, over all sites or one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortGroup {
    /// Follow-up visit label.
    pub visit: String,
    /// The site, or `None` for all sites.
    pub site: Option<String>,
    /// Pairs compared.
    pub pairs_compared: usize,
    /// Pairs that could not be compared.
    pub pairs_failed: usize,
    /// Compared pairs with category `undetermined` (left out of the statistics).
    pub pairs_undetermined: usize,
    /// Pairs in the statistics.
    pub pairs_evaluable: usize,
    /// One entry per change measure.
    pub changes: Vec<ChangeSummary>,
    /// Responder rate.
    pub responders: ResponderSummary,
    /// Widths of every counted hair on the common fields, pooled over the evaluable pairs.
    pub width_histogram: PooledWidthHistogram,
}

/// Descriptive statistics and tests of one change over the evaluable pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeSummary {
    /// Field name, unit in the name (e.g. `density_change_per_cm2`).
    pub measure: String,
    /// Label with its unit for tables (e.g. `density change (hairs/cm²)`).
    pub label: String,
    /// Pairs with a value (uncalibrated pairs have no µm or per-cm² changes).
    pub n: usize,
    /// Mean.
    pub mean: Option<f64>,
    /// Sample standard deviation.
    pub sd: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// First quartile.
    pub q1: Option<f64>,
    /// Third quartile.
    pub q3: Option<f64>,
    /// Paired t-test (changes against 0), two-sided p.
    pub t_test_p: Option<f64>,
    /// Its t statistic.
    pub t_statistic: Option<f64>,
    /// Wilcoxon signed-rank test (zeros dropped), two-sided p.
    pub wilcoxon_p: Option<f64>,
    /// `exact` or `normal_approximation`.
    pub wilcoxon_method: Option<String>,
}

/// Responders among the evaluable pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResponderSummary {
    /// Responders.
    pub responders: usize,
    /// Evaluable pairs.
    pub n: usize,
    /// responders / n.
    pub rate: Option<f64>,
    /// Lower bound of the 95 % Wilson interval.
    pub ci95_lower: Option<f64>,
    /// Upper bound of the 95 % Wilson interval.
    pub ci95_upper: Option<f64>,
}

/// Hair widths pooled over pairs: counts per bin at baseline and follow-up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PooledWidthHistogram {
    /// Lower edge of each bin (µm); the last bin is open-ended.
    pub bin_lower_um: Vec<f64>,
    /// Baseline hairs per bin.
    pub baseline_counts: Vec<u64>,
    /// Follow-up hairs per bin.
    pub followup_counts: Vec<u64>,
}

/// A visit label's natural sort key ([`crate::batch::manifest`]'s visit order).
type NaturalKey = Vec<(String, u64)>;

/// A change measure: its field name, label and how to read it from a pair.
struct Measure {
    name: &'static str,
    label: &'static str,
    value: fn(&PairResult) -> Option<f64>,
}

/// The changes summarised, in report order.
const MEASURES: [Measure; 9] = [
    Measure {
        name: "density_change_per_cm2",
        label: "density change (hairs/cm²)",
        value: |r| r.change.density_per_cm2,
    },
    Measure {
        name: "density_change_pct",
        label: "density change (%)",
        value: |r| r.change.density_pct,
    },
    Measure {
        name: "non_vellus_density_change_per_cm2",
        label: "non-vellus density change (hairs/cm²)",
        value: |r| r.non_vellus_density_change_per_cm2,
    },
    Measure {
        name: "terminal_density_change_per_cm2",
        label: "terminal density change (hairs/cm²)",
        value: |r| r.change.terminal_density_per_cm2,
    },
    Measure {
        name: "vellus_density_change_per_cm2",
        label: "vellus density change (hairs/cm²)",
        value: |r| r.change.vellus_density_per_cm2,
    },
    Measure {
        name: "mean_width_change_um",
        label: "mean width change (µm)",
        value: |r| r.change.mean_width_um,
    },
    Measure {
        name: "hair_mass_change_mm_per_cm2",
        label: "hair mass change (mm/cm²)",
        value: |r| r.change.hair_mass_mm_per_cm2,
    },
    Measure {
        name: "thin_hair_fraction_change",
        label: "thin-hair fraction change (fraction points)",
        value: |r| r.change.thin_hair_fraction,
    },
    Measure {
        name: "count_change",
        label: "count change (hairs on the common field)",
        value: |r| Some(r.change.count as f64),
    },
];

/// The cohort of `pairs` (failed pairs included, as counts). `subjects` is the number of
/// subjects in the batch.
pub fn summarise(pairs: &[PairRow], subjects: usize, rule: ResponderRule) -> Cohort {
    // keyed by the natural order of the visit label (week4 before week12), then the label
    let mut by_visit: BTreeMap<(NaturalKey, String), Vec<&PairRow>> = BTreeMap::new();
    for pair in pairs {
        let visit = pair.key.visit.clone();
        by_visit
            .entry((crate::batch::manifest::natural_key(&visit), visit))
            .or_default()
            .push(pair);
    }
    let mut groups = Vec::new();
    for ((_, visit), rows) in by_visit {
        groups.push(group(&visit, None, &rows, rule));
        let mut by_site: BTreeMap<&str, Vec<&PairRow>> = BTreeMap::new();
        for row in &rows {
            by_site.entry(row.key.site.as_str()).or_default().push(row);
        }
        if by_site.len() > 1 {
            for (site, site_rows) in by_site {
                groups.push(group(&visit, Some(site.to_string()), &site_rows, rule));
            }
        }
    }
    Cohort {
        schema_version: COHORT_SCHEMA_VERSION,
        kind: COHORT_KIND.to_string(),
        responder_rule: rule,
        responder_definition: rule.describe(),
        subjects,
        groups,
    }
}

fn group(visit: &str, site: Option<String>, rows: &[&PairRow], rule: ResponderRule) -> CohortGroup {
    let compared: Vec<&PairResult> = rows.iter().filter_map(|r| r.result.as_ref()).collect();
    let evaluable: Vec<&PairResult> = compared
        .iter()
        .copied()
        .filter(|r| r.category != "undetermined")
        .collect();
    let responders = evaluable.iter().filter(|r| rule.is_responder(r)).count();
    let interval = wilson_interval(responders, evaluable.len(), RESPONDER_CONFIDENCE);
    CohortGroup {
        visit: visit.to_string(),
        site,
        pairs_compared: compared.len(),
        pairs_failed: rows.len() - compared.len(),
        pairs_undetermined: compared.len() - evaluable.len(),
        pairs_evaluable: evaluable.len(),
        changes: MEASURES.iter().map(|m| change_summary(m, &evaluable)).collect(),
        responders: ResponderSummary {
            responders,
            n: evaluable.len(),
            rate: interval.map(|i| i.proportion),
            ci95_lower: interval.map(|i| i.lower),
            ci95_upper: interval.map(|i| i.upper),
        },
        width_histogram: pool_histograms(&evaluable),
    }
}

fn change_summary(measure: &Measure, pairs: &[&PairResult]) -> ChangeSummary {
    let values: Vec<f64> = pairs
        .iter()
        .filter_map(|p| (measure.value)(p))
        .filter(|v| v.is_finite())
        .collect();
    let description = describe(&values);
    let t = paired_t_test(&values);
    let w = wilcoxon_signed_rank(&values);
    ChangeSummary {
        measure: measure.name.to_string(),
        label: measure.label.to_string(),
        n: values.len(),
        mean: description.map(|d| d.mean),
        sd: description.filter(|d| d.n > 1).map(|d| d.sd),
        median: description.map(|d| d.median),
        q1: description.map(|d| d.q1),
        q3: description.map(|d| d.q3),
        t_test_p: t.map(|t| t.p_value),
        t_statistic: t.map(|t| t.t).filter(|t| t.is_finite()),
        wilcoxon_p: w.map(|w| w.p_value),
        wilcoxon_method: w.map(|w| {
            match w.method {
                WilcoxonMethod::Exact => "exact",
                WilcoxonMethod::NormalApproximation => "normal_approximation",
            }
            .to_string()
        }),
    }
}

/// Sums the common-field width histograms of `pairs`, bin by bin (bins are keyed by their
/// lower edge, so histograms with different ranges still add up).
fn pool_histograms(pairs: &[&PairResult]) -> PooledWidthHistogram {
    // key: lower edge in 1/1000 µm, so that equal edges compare equal
    let mut bins: BTreeMap<i64, (f64, u64, u64)> = BTreeMap::new();
    for pair in pairs {
        for (visit, histogram) in [(0, &pair.baseline.width_histogram), (1, &pair.followup.width_histogram)] {
            for bin in histogram.iter().flatten() {
                let entry = bins
                    .entry((bin.lower_um * 1000.0).round() as i64)
                    .or_insert((bin.lower_um, 0, 0));
                if visit == 0 {
                    entry.1 += bin.count as u64;
                } else {
                    entry.2 += bin.count as u64;
                }
            }
        }
    }
    PooledWidthHistogram {
        bin_lower_um: bins.values().map(|b| b.0).collect(),
        baseline_counts: bins.values().map(|b| b.1).collect(),
        followup_counts: bins.values().map(|b| b.2).collect(),
    }
}

#[cfg(test)]
mod tests;

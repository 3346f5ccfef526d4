//! Accuracy summaries: the figures (median and 90th-percentile count error, density
//! error, width MAE per class, class agreement) overall and per stratum, as JSON and as the
//! Markdown table the README quotes.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::PhantomScore;
use crate::measure::HairClass;

/// The accuracy figures of a set of phantoms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StratumSummary {
    /// Phantoms.
    pub images: usize,
    /// Median |count error| (%).
    pub count_abs_error_pct_median: Option<f64>,
    /// 90th percentile |count error| (%).
    pub count_abs_error_pct_p90: Option<f64>,
    /// Mean signed count error (%): positive = overcount.
    pub count_error_pct_mean: Option<f64>,
    /// Median |density error| (%).
    pub density_abs_error_pct_median: Option<f64>,
    /// Matched hairs with a width.
    pub hairs_matched: usize,
    /// Fraction of counted true hairs matched to a counted traced hair.
    pub match_fraction: Option<f64>,
    /// Width mean absolute error of true vellus hairs (µm).
    pub width_mae_um_vellus: Option<f64>,
    /// Width mean absolute error of true intermediate hairs (µm).
    pub width_mae_um_intermediate: Option<f64>,
    /// Width mean absolute error of true terminal hairs (µm).
    pub width_mae_um_terminal: Option<f64>,
    /// Mean signed width error of all matched hairs (µm): positive = too wide.
    pub width_bias_um: Option<f64>,
    /// Fraction of matched hairs whose measured class is the true class.
    pub class_agreement: Option<f64>,
}

/// Overall and per-stratum summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    /// All phantoms.
    pub overall: StratumSummary,
    /// stratum kind (colour, protocol, scale, blur, skin_tone) → value → summary.
    pub by_stratum: BTreeMap<String, BTreeMap<String, StratumSummary>>,
    /// Every phantom's score.
    pub phantoms: Vec<PhantomScore>,
}

pub(crate) fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    // linear interpolation between closest ranks
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn summarise_set(scores: &[&PhantomScore]) -> StratumSummary {
    let count_errors: Vec<f64> = scores.iter().filter_map(|s| s.count_error_pct).collect();
    let abs_count: Vec<f64> = count_errors.iter().map(|e| e.abs()).collect();
    let abs_density: Vec<f64> = scores
        .iter()
        .filter_map(|s| s.density_error_pct.map(f64::abs))
        .collect();
    let widths: Vec<_> = scores.iter().flat_map(|s| s.widths.iter()).collect();
    let mae = |class: HairClass| {
        mean(
            widths
                .iter()
                .filter(|w| w.true_class == class)
                .map(|w| (w.measured_width_um - w.true_width_um).abs()),
        )
    };
    let true_counted: usize = scores.iter().map(|s| s.true_count).sum();
    let matched: usize = scores.iter().map(|s| s.matched).sum();
    StratumSummary {
        images: scores.len(),
        count_abs_error_pct_median: percentile(&abs_count, 0.5),
        count_abs_error_pct_p90: percentile(&abs_count, 0.9),
        count_error_pct_mean: mean(count_errors.iter().copied()),
        density_abs_error_pct_median: percentile(&abs_density, 0.5),
        hairs_matched: widths.len(),
        match_fraction: (true_counted > 0).then(|| matched as f64 / true_counted as f64),
        width_mae_um_vellus: mae(HairClass::Vellus),
        width_mae_um_intermediate: mae(HairClass::Intermediate),
        width_mae_um_terminal: mae(HairClass::Terminal),
        width_bias_um: mean(widths.iter().map(|w| w.measured_width_um - w.true_width_um)),
        class_agreement: mean(widths.iter().map(|w| if w.class_agrees { 1.0 } else { 0.0 })),
    }
}

/// Picks one stratum value of a phantom.
type StratumKey = fn(&PhantomScore) -> &str;

/// Summarises phantom scores overall and per stratum.
pub fn summarise(scores: Vec<PhantomScore>) -> EvalSummary {
    let all: Vec<&PhantomScore> = scores.iter().collect();
    let overall = summarise_set(&all);
    let mut by_stratum: BTreeMap<String, BTreeMap<String, StratumSummary>> = BTreeMap::new();
    let kinds: [(&str, StratumKey); 5] = [
        ("colour", |s| &s.strata.colour),
        ("protocol", |s| &s.strata.protocol),
        ("scale", |s| &s.strata.scale),
        ("blur", |s| &s.strata.blur),
        ("skin_tone", |s| &s.strata.skin_tone),
    ];
    for (kind, key) in kinds {
        let mut groups: BTreeMap<String, Vec<&PhantomScore>> = BTreeMap::new();
        for s in &scores {
            groups.entry(key(s).to_string()).or_default().push(s);
        }
        let entry = by_stratum.entry(kind.to_string()).or_default();
        for (value, set) in groups {
            entry.insert(value, summarise_set(&set));
        }
    }
    EvalSummary {
        overall,
        by_stratum,
        phantoms: scores,
    }
}

fn cell(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.digits$}"))
}

fn row(label: &str, s: &StratumSummary) -> String {
    format!(
        "| {label} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
        s.images,
        cell(s.count_abs_error_pct_median, 1),
        cell(s.count_abs_error_pct_p90, 1),
        cell(s.count_error_pct_mean, 1),
        cell(s.density_abs_error_pct_median, 1),
        cell(s.width_mae_um_vellus, 2),
        cell(s.width_mae_um_terminal, 2),
        cell(s.class_agreement.map(|v| v * 100.0), 1),
        cell(s.match_fraction.map(|v| v * 100.0), 1),
    )
}

/// The summary as a Markdown table: one row overall, then one per stratum value.
pub fn markdown_report(summary: &EvalSummary) -> String {
    let mut out = String::from(
        "| phantoms | n | count \\|err\\| median % | count \\|err\\| p90 % | count bias % | density \\|err\\| median % \
         | width MAE vellus µm | width MAE terminal µm | class agreement % | true hairs matched % |\n\
         | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    out.push_str(&row("**all**", &summary.overall));
    for (kind, values) in &summary.by_stratum {
        for (value, s) in values {
            let _ = write!(out, "{}", row(&format!("{kind}: {value}"), s));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_ranks() {
        assert_eq!(percentile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(percentile(&[0.0, 10.0], 0.9), Some(9.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}

//! Statistics of a cohort of paired (baseline vs follow-up) changes, for a clinical-trial summary.
//!
//! Every function takes plain slices: the per-subject changes (follow-up minus baseline) of one
//! measurement, or counts of responders. Inputs must be finite: filter out NaN and infinities before
//! calling (debug builds assert it). The results match `scipy.stats` and `statsmodels` (see the tests).

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Descriptive statistics of a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Description {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor n − 1); 0.0 when n == 1.
    pub sd: f64,
    /// Median (the 50th percentile).
    pub median: f64,
    /// First quartile, linearly interpolated like numpy's default `percentile`.
    pub q1: f64,
    /// Third quartile, linearly interpolated like numpy's default `percentile`.
    pub q3: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// Result of a two-sided paired t-test (one-sample t-test of the differences against 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    /// Number of differences.
    pub n: usize,
    /// Mean of the differences.
    pub mean_difference: f64,
    /// t statistic; ±infinity when every difference is the same non-zero value.
    pub t: f64,
    /// Degrees of freedom, n − 1.
    pub degrees_of_freedom: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// How the p-value of a Wilcoxon signed-rank test was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WilcoxonMethod {
    /// Exact null distribution of W+ over all sign assignments of the ranks. Used when there are
    /// at most 50 differences with neither ties among |d| nor zeros, and also, with mid-ranks, for
    /// at most 13 differences with ties or zeros (where scipy runs an exhaustive permutation test).
    Exact,
    /// Normal approximation with the tie correction of the variance and no continuity correction.
    NormalApproximation,
}

/// Result of a two-sided Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wilcoxon {
    /// Number of non-zero differences (zeros are dropped, scipy's `zero_method="wilcox"`).
    pub n_nonzero: usize,
    /// Sum of the ranks of |d| over the positive differences (mid-ranks within ties).
    pub w_plus: f64,
    /// min(W+, W−), the statistic scipy reports for the two-sided test.
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// How `p_value` was computed.
    pub method: WilcoxonMethod,
}

/// A proportion with a confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Observed proportion, successes / n.
    pub proportion: f64,
    /// Lower bound of the interval, within [0, 1].
    pub lower: f64,
    /// Upper bound of the interval, within [0, 1].
    pub upper: f64,
}

/// Describes a sample; `None` when it is empty. Values must be finite (filter them first).
pub fn describe(values: &[f64]) -> Option<Description> {
    debug_assert_finite(values);
    let mean = mean(values)?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(Description {
        n: values.len(),
        mean,
        sd: sample_sd(values, mean),
        median: percentile(&sorted, 0.5),
        q1: percentile(&sorted, 0.25),
        q3: percentile(&sorted, 0.75),
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    })
}

/// Two-sided paired t-test of paired differences (follow-up minus baseline) against a zero mean,
/// as `scipy.stats.ttest_1samp(differences, 0)`; `None` for fewer than 2 differences.
///
/// When all differences are equal (SD 0) the t-distribution is degenerate: a zero mean gives
/// t = 0 and p = 1, any other mean gives t = ±infinity (its sign) and p = 0.
/// Values must be finite (filter them first).
pub fn paired_t_test(differences: &[f64]) -> Option<TTest> {
    debug_assert_finite(differences);
    let n = differences.len();
    if n < 2 {
        return None;
    }
    let mean_difference = mean(differences)?;
    let sd = sample_sd(differences, mean_difference);
    let degrees_of_freedom = (n - 1) as f64;
    let (t, p_value) = if sd > 0.0 {
        let t = mean_difference / (sd / (n as f64).sqrt());
        let distribution = StudentsT::new(0.0, 1.0, degrees_of_freedom).ok()?;
        // 2·P(T ≤ −|t|): the lower tail keeps tiny p-values that 1 − cdf(|t|) would round to 0.
        (t, (2.0 * distribution.cdf(-t.abs())).min(1.0))
    } else if mean_difference == 0.0 {
        (0.0, 1.0)
    } else {
        (f64::INFINITY.copysign(mean_difference), 0.0)
    };
    Some(TTest {
        n,
        mean_difference,
        t,
        degrees_of_freedom,
        p_value,
    })
}

/// Two-sided Wilcoxon signed-rank test of paired differences, matching `scipy.stats.wilcoxon(d)`
/// with its defaults (scipy 1.17: zeros dropped, no continuity correction, `method="auto"`; see
/// [`WilcoxonMethod`] for when the p-value is exact). `None` when no non-zero difference remains.
/// Values must be finite (filter them first).
pub fn wilcoxon_signed_rank(differences: &[f64]) -> Option<Wilcoxon> {
    debug_assert_finite(differences);
    let mut nonzero: Vec<f64> = differences.iter().copied().filter(|&d| d != 0.0).collect();
    let n = nonzero.len();
    if n == 0 {
        return None;
    }
    nonzero.sort_by(|a, b| a.abs().total_cmp(&b.abs()));

    // Twice the mid-rank of each value: an integer even within ties, so the exact distribution
    // can be counted over integer sums. `tie_term` is Σ(t³ − t) over the groups of tied |d|.
    let mut doubled_ranks = Vec::with_capacity(n);
    let mut doubled_w_plus = 0;
    let mut tie_term = 0.0;
    for group in nonzero.chunk_by(|a, b| a.abs() == b.abs()) {
        let doubled_rank = 2 * doubled_ranks.len() + group.len() + 1;
        doubled_ranks.extend(std::iter::repeat_n(doubled_rank, group.len()));
        doubled_w_plus += doubled_rank * group.iter().filter(|&&d| d > 0.0).count();
        let size = group.len() as f64;
        tie_term += size * size * size - size;
    }
    let w_plus = doubled_w_plus as f64 / 2.0;
    let n_f = n as f64;
    let statistic = w_plus.min(n_f * (n_f + 1.0) / 2.0 - w_plus);

    let total = differences.len();
    let untied = tie_term == 0.0 && total == n;
    let (p_value, method) = if total <= 50 && (untied || total <= 13) {
        (exact_p_value(&doubled_ranks, doubled_w_plus), WilcoxonMethod::Exact)
    } else {
        let expected = n_f * (n_f + 1.0) / 4.0;
        let sd = ((n_f * (n_f + 1.0) * (2.0 * n_f + 1.0) - tie_term / 2.0) / 24.0).sqrt();
        let z = (w_plus - expected) / sd;
        let p = (2.0 * Normal::standard().cdf(-z.abs())).min(1.0);
        (p, WilcoxonMethod::NormalApproximation)
    };
    Some(Wilcoxon {
        n_nonzero: n,
        w_plus,
        statistic,
        p_value,
        method,
    })
}

/// Wilson score interval for a binomial proportion, as
/// `statsmodels.stats.proportion.proportion_confint(successes, n, alpha = 1 - confidence, method="wilson")`.
/// `None` when n == 0, successes > n, or confidence is not strictly between 0 and 1.
pub fn wilson_interval(successes: usize, n: usize, confidence: f64) -> Option<Interval> {
    if n == 0 || successes > n || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let z = Normal::standard().inverse_cdf(1.0 - (1.0 - confidence) / 2.0);
    let n_f = n as f64;
    let proportion = successes as f64 / n_f;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n_f;
    let center = (proportion + z2 / (2.0 * n_f)) / denominator;
    let half_width = z * (proportion * (1.0 - proportion) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denominator;
    Some(Interval {
        proportion,
        lower: (center - half_width).clamp(0.0, 1.0),
        upper: (center + half_width).clamp(0.0, 1.0),
    })
}

/// Debug-build check of the documented precondition that every value is finite.
fn debug_assert_finite(values: &[f64]) {
    debug_assert!(
        values.iter().all(|v| v.is_finite()),
        "filter out non-finite values first"
    );
}

/// Mean computed as an offset from the first value, so that a constant sample gives that value
/// exactly (and hence an SD of exactly 0); `None` when empty.
fn mean(values: &[f64]) -> Option<f64> {
    let first = *values.first()?;
    Some(first + values.iter().map(|v| v - first).sum::<f64>() / values.len() as f64)
}

/// Sample standard deviation (divisor n − 1) around `mean`; 0.0 for fewer than 2 values.
fn sample_sd(values: &[f64], mean: f64) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}

/// Percentile `fraction` (0..=1) of a sorted, non-empty sample, with numpy's linear interpolation.
fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let position = (sorted.len() - 1) as f64 * fraction;
    let below = position.floor() as usize;
    let above = (below + 1).min(sorted.len() - 1);
    sorted[below] + (position - below as f64) * (sorted[above] - sorted[below])
}

/// Exact two-sided p-value 2·min(P(W ≤ w), P(W ≥ w)), capped at 1, where W is the sum of a random
/// subset of `doubled_ranks` (each rank's sign is a fair coin) and w is `observed`.
fn exact_p_value(doubled_ranks: &[usize], observed: usize) -> f64 {
    let max_sum: usize = doubled_ranks.iter().sum();
    // counts[s] = number of sign assignments whose positive doubled ranks sum to s (≤ 2^50: exact in u64).
    let mut counts = vec![0u64; max_sum + 1];
    counts[0] = 1;
    let mut reached = 0;
    for &rank in doubled_ranks {
        for sum in (0..=reached).rev() {
            counts[sum + rank] += counts[sum];
        }
        reached += rank;
    }
    let at_most: u64 = counts[..=observed].iter().sum();
    let at_least: u64 = counts[observed..].iter().sum();
    let assignments = (1u64 << doubled_ranks.len()) as f64;
    (2.0 * at_most.min(at_least) as f64 / assignments).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values below come from scipy 1.17.1, statsmodels 0.15.0 and numpy 2.4.6.
    fn assert_close(actual: f64, expected: f64, relative: f64) {
        assert!(
            (actual - expected).abs() <= relative * expected.abs(),
            "actual {actual:e}, expected {expected:e} (relative tolerance {relative:e})"
        );
    }

    #[test]
    fn describe_odd_and_even_samples() {
        let odd = describe(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0]).expect("non-empty");
        assert_eq!((odd.n, odd.min, odd.max), (7, 1.0, 9.0));
        assert_close(odd.mean, 3.5714285714285716, 1e-12); // np.mean
        assert_close(odd.sd, 2.819996622760558, 1e-12); // np.std(a, ddof=1)
        assert_close(odd.median, 3.0, 1e-12); // np.median
        assert_close(odd.q1, 1.5, 1e-12); // np.percentile(a, 25)
        assert_close(odd.q3, 4.5, 1e-12); // np.percentile(a, 75)

        let even = describe(&[2.5, -1.0, 4.0, 7.5, 0.5, 3.0]).expect("non-empty");
        assert_eq!((even.n, even.min, even.max), (6, -1.0, 7.5));
        assert_close(even.mean, 2.75, 1e-12);
        assert_close(even.sd, 2.9453352950046283, 1e-12);
        assert_close(even.median, 2.75, 1e-12);
        assert_close(even.q1, 1.0, 1e-12);
        assert_close(even.q3, 3.75, 1e-12);
    }

    #[test]
    fn describe_single_value_and_empty() {
        let single = describe(&[42.0]).expect("non-empty");
        assert_eq!(
            (single.mean, single.sd, single.median, single.q1, single.q3),
            (42.0, 0.0, 42.0, 42.0, 42.0)
        );
        assert_eq!(describe(&[]), None);
    }

    #[test]
    fn t_test_on_density_changes() {
        let changes = [12.4, 8.1, -3.2, 15.6, 6.3, 9.8, -1.5, 11.2, 4.7, 7.9, 13.1, 2.6];
        let test = paired_t_test(&changes).expect("n >= 2");
        assert_eq!((test.n, test.degrees_of_freedom), (12, 11.0));
        assert_close(test.mean_difference, 7.25, 1e-12);
        assert_close(test.t, 4.339106737206602, 1e-12); // scipy.stats.ttest_1samp(changes, 0).statistic
        assert_close(test.p_value, 0.0011765500873396723, 1e-9); // scipy.stats.ttest_1samp(changes, 0).pvalue
    }

    #[test]
    fn t_test_keeps_tiny_p_values() {
        let changes = [10.0, 10.1, 9.9, 10.05, 9.95, 10.02, 9.98, 10.01];
        let test = paired_t_test(&changes).expect("n >= 2");
        assert_close(test.t, 465.1609416034771, 1e-12); // scipy.stats.ttest_1samp(changes, 0).statistic
        assert_close(test.p_value, 5.604137781448898e-17, 1e-9); // scipy.stats.ttest_1samp(changes, 0).pvalue
    }

    #[test]
    fn t_test_zero_variance_and_too_few() {
        let zero = paired_t_test(&[0.0, 0.0, 0.0]).expect("n >= 2");
        assert_eq!((zero.t, zero.p_value), (0.0, 1.0));
        let up = paired_t_test(&[0.1, 0.1, 0.1]).expect("n >= 2");
        assert_eq!((up.mean_difference, up.t, up.p_value), (0.1, f64::INFINITY, 0.0));
        let down = paired_t_test(&[-1.5; 4]).expect("n >= 2");
        assert_eq!((down.t, down.p_value), (f64::NEG_INFINITY, 0.0));
        assert_eq!(paired_t_test(&[1.0]), None);
        assert_eq!(paired_t_test(&[]), None);
    }

    #[test]
    fn wilcoxon_exact_without_ties() {
        let d = [1.83, -0.52, 2.71, 0.94, -1.27, 3.45, 0.38, 2.06, -0.11, 1.59];
        let test = wilcoxon_signed_rank(&d).expect("non-zero differences");
        assert_eq!(
            (test.n_nonzero, test.w_plus, test.method),
            (10, 46.0, WilcoxonMethod::Exact)
        );
        assert_eq!(test.statistic, 9.0); // scipy.stats.wilcoxon(d).statistic
        assert_close(test.p_value, 0.064453125, 1e-12); // scipy.stats.wilcoxon(d).pvalue
        let single = wilcoxon_signed_rank(&[1.0]).expect("non-zero differences");
        assert_eq!((single.statistic, single.p_value), (0.0, 1.0)); // scipy.stats.wilcoxon([1.0])
    }

    #[test]
    fn wilcoxon_ties_and_zeros_use_normal_approximation() {
        let d = [
            2.0, -1.0, 3.0, 0.0, 2.0, 4.0, -2.0, 1.0, 0.0, 3.0, 5.0, -1.0, 2.0, 6.0, 1.5, -0.5, 3.0, 4.5, 0.0, 2.5,
        ];
        let test = wilcoxon_signed_rank(&d).expect("non-zero differences");
        assert_eq!((test.n_nonzero, test.method), (17, WilcoxonMethod::NormalApproximation));
        assert_eq!(test.statistic, 14.5); // scipy.stats.wilcoxon(d).statistic
        assert_close(test.p_value, 0.0032568969473929384, 1e-9); // scipy.stats.wilcoxon(d).pvalue
    }

    #[test]
    fn wilcoxon_small_sample_with_ties_is_enumerated() {
        // scipy's method="auto" runs an exhaustive permutation test for <= 13 values with ties or zeros
        // (method="asymptotic" would give 0.06768567343276796).
        let d = [1.0, -2.0, 3.0, 3.0, 0.0, 4.0, -1.0, 5.0, 2.0];
        let test = wilcoxon_signed_rank(&d).expect("non-zero differences");
        assert_eq!((test.n_nonzero, test.method), (8, WilcoxonMethod::Exact));
        assert_eq!(test.statistic, 5.0); // scipy.stats.wilcoxon(d).statistic
        assert_close(test.p_value, 0.078125, 1e-12); // scipy.stats.wilcoxon(d).pvalue
    }

    #[test]
    fn wilcoxon_sixty_differences_use_normal_approximation() {
        // d = [((i * 37 + 11) % 101) - 45.25 for i in range(60)]: no ties, no zeros, but n > 50.
        let d: Vec<f64> = (0..60).map(|i| ((i * 37 + 11) % 101) as f64 - 45.25).collect();
        let test = wilcoxon_signed_rank(&d).expect("non-zero differences");
        assert_eq!((test.n_nonzero, test.method), (60, WilcoxonMethod::NormalApproximation));
        assert_eq!(test.statistic, 736.0); // scipy.stats.wilcoxon(d).statistic
        assert_close(test.p_value, 0.18759507374323436, 1e-9); // scipy.stats.wilcoxon(d).pvalue
    }

    #[test]
    fn wilcoxon_tiny_p_values() {
        // d = [-(i + 1) * 0.1 for i in range(50)]: exact p = 2 / 2^50.
        let negative: Vec<f64> = (0..50).map(|i| -f64::from(i + 1) * 0.1).collect();
        let exact = wilcoxon_signed_rank(&negative).expect("non-zero differences");
        assert_eq!((exact.statistic, exact.method), (0.0, WilcoxonMethod::Exact));
        assert_close(exact.p_value, 1.7763568394002505e-15, 1e-12); // scipy.stats.wilcoxon(d).pvalue
                                                                    // d = [(i + 1) * 0.1 for i in range(60)]
        let positive: Vec<f64> = (0..60).map(|i| f64::from(i + 1) * 0.1).collect();
        let approximate = wilcoxon_signed_rank(&positive).expect("non-zero differences");
        assert_eq!(
            (approximate.w_plus, approximate.method),
            (1830.0, WilcoxonMethod::NormalApproximation)
        );
        assert_close(approximate.p_value, 1.6295557943119345e-11, 1e-9); // scipy.stats.wilcoxon(d).pvalue
    }

    #[test]
    fn wilcoxon_without_non_zero_differences() {
        assert_eq!(wilcoxon_signed_rank(&[]), None);
        assert_eq!(wilcoxon_signed_rank(&[0.0, 0.0]), None);
    }

    #[test]
    fn wilson_intervals() {
        // proportion_confint(0, 20, alpha=0.05, method="wilson")
        let none = wilson_interval(0, 20, 0.95).expect("valid");
        assert_eq!(none.proportion, 0.0);
        assert!(none.lower.abs() < 1e-15);
        assert_close(none.upper, 0.16112515805281938, 1e-12);
        // proportion_confint(20, 20, alpha=0.05, method="wilson")
        let all = wilson_interval(20, 20, 0.95).expect("valid");
        assert_close(all.lower, 0.8388748419471806, 1e-12);
        assert!((all.upper - 1.0).abs() < 1e-15);
        // proportion_confint(7, 25, alpha=0.05, method="wilson")
        let some = wilson_interval(7, 25, 0.95).expect("valid");
        assert_close(some.proportion, 0.28, 1e-15);
        assert_close(some.lower, 0.14283853850956563, 1e-12);
        assert_close(some.upper, 0.47576605190361576, 1e-12);
        // proportion_confint(7, 25, alpha=0.1, method="wilson")
        let ninety = wilson_interval(7, 25, 0.90).expect("valid");
        assert_close(ninety.lower, 0.15953836195207005, 1e-12);
        assert_close(ninety.upper, 0.44342918069059245, 1e-12);
    }

    #[test]
    fn wilson_invalid_inputs() {
        assert_eq!(wilson_interval(0, 0, 0.95), None);
        assert_eq!(wilson_interval(3, 2, 0.95), None);
        assert_eq!(wilson_interval(1, 2, 0.0), None);
        assert_eq!(wilson_interval(1, 2, 1.0), None);
        assert_eq!(wilson_interval(1, 2, f64::NAN), None);
    }
}

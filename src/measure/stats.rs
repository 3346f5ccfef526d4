//! Order statistics shared by the width and metrics code, so that both take medians and
//! quartiles the same way (linear interpolation between order statistics).

/// The `q`-quantile (0 ≤ q ≤ 1) of `sorted` (ascending, finite), interpolating linearly
/// between neighbouring values; `None` if `sorted` is empty.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q.clamp(0.0, 1.0) * last as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    Some(sorted[below] + (sorted[above] - sorted[below]) * fraction)
}

/// The values sorted ascending (they must be finite).
pub(crate) fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut values: Vec<f64> = values.into_iter().collect();
    values.sort_by(f64::total_cmp);
    values
}

/// Median of `values` (any order); `None` if empty.
pub(crate) fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    quantile(&sorted(values), 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_quartiles_interpolate() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(std::iter::empty()), None);
        let s = sorted([1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(quantile(&s, 0.25), Some(2.0));
        assert_eq!(quantile(&s, 0.75), Some(4.0));
        assert_eq!(quantile(&[7.0], 0.25), Some(7.0));
    }
}

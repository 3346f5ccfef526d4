//! One width sample: the hair probability read along a line across the shaft and
//! integrated. For a soft coverage mask the integral across a shaft is exactly its width,
//! and blur (optical or the network's) moves probability sideways without changing the
//! integral, so no threshold biases the result.

use crate::probability_image::ProbabilityImage;

/// How a profile across a shaft is sampled and where it ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProfileRule {
    /// Distance (px) between samples along the profile.
    pub step_px: f64,
    /// The profile ends where the probability falls to this fraction of its peak.
    pub low_fraction: f64,
    /// A dip at least this fraction of the peak deep followed by a rise at least as large is
    /// the valley between this shaft and a neighbour; the profile ends at the valley floor.
    pub valley_fraction: f64,
    /// ... unless its floor lies within this distance (px) of the profile's centre: a glossy
    /// highlight runs along the shaft's axis, where the centreline is.
    pub axis_dip_px: f64,
}

/// Width (px) of the shaft through `centre` measured along the unit vector `normal`: the
/// integral of probability over the contiguous run around the profile's peak. The peak is
/// found by climbing from `centre`. `None` if the profile leaves the image before it ends,
/// if there is no probability at all, or if `normal` is not a unit vector.
pub(crate) fn width_across(
    map: &ProbabilityImage<'_>,
    centre: [f64; 2],
    normal: [f64; 2],
    rule: &ProfileRule,
) -> Option<f64> {
    if !((normal[0].hypot(normal[1]) - 1.0).abs() < 1e-6 && rule.step_px > 0.0) {
        return None;
    }
    let max_steps = (map.diagonal_px() / rule.step_px).ceil() as i64 + 1;
    let at = |k: i64| -> Option<f64> {
        if k.abs() > max_steps {
            return None;
        }
        let t = k as f64 * rule.step_px;
        map.sample(centre[0] + normal[0] * t, centre[1] + normal[1] * t)
    };
    let (mut peak_k, mut peak) = (0, at(0)?);
    let direction = if at(1)? >= at(-1)? { 1 } else { -1 };
    while let Some(next) = at(peak_k + direction).filter(|&v| v > peak) {
        peak_k += direction;
        peak = next;
    }
    if peak <= 0.0 {
        return None;
    }
    let ahead = walk(&at, peak_k, 1, peak, rule)?;
    let behind = walk(&at, peak_k, -1, peak, rule)?;
    // Trapezoid rule over behind (reversed), the peak, and ahead.
    let ends = behind.last().copied().unwrap_or(peak) + ahead.last().copied().unwrap_or(peak);
    let sum: f64 = peak + ahead.iter().sum::<f64>() + behind.iter().sum::<f64>();
    Some(rule.step_px * (sum - 0.5 * ends))
}

/// Samples from `start` (exclusive) in `direction` until the profile ends; `None` if it
/// leaves the image first.
fn walk(
    at: &impl Fn(i64) -> Option<f64>,
    start: i64,
    direction: i64,
    peak: f64,
    rule: &ProfileRule,
) -> Option<Vec<f64>> {
    let low = rule.low_fraction * peak;
    let depth = rule.valley_fraction * peak;
    let axis_steps = (rule.axis_dip_px / rule.step_px).floor() as i64;
    let mut values = Vec::new();
    let (mut max_so_far, mut min_since_max, mut min_index) = (peak, peak, 0);
    let mut k = start;
    loop {
        k += direction;
        let value = at(k)?;
        values.push(value);
        if value <= low {
            return Some(values);
        }
        // The floor is the `min_index`-th sample after `start`.
        let off_axis = || (start + direction * (min_index as i64 + 1)).abs() > axis_steps;
        if min_since_max <= max_so_far - depth && value >= min_since_max + depth && off_axis() {
            values.truncate(min_index + 1);
            return Some(values);
        }
        if value > max_so_far {
            (max_so_far, min_since_max, min_index) = (value, value, values.len() - 1);
        } else if value < min_since_max {
            (min_since_max, min_index) = (value, values.len() - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: ProfileRule = ProfileRule {
        step_px: 0.25,
        low_fraction: 0.02,
        valley_fraction: 0.1,
        axis_dip_px: 1.0,
    };

    /// A `width × height` map whose columns hold `columns` (repeated on every row).
    fn columns_map(columns: &[f32], height: usize) -> Vec<f32> {
        (0..height).flat_map(|_| columns.iter().copied()).collect()
    }

    #[test]
    fn soft_vertical_bar_integrates_to_its_coverage() {
        // Columns covering 0.3 + 1 + 1 + 0.45 = 2.75 px.
        let data = columns_map(&[0.0, 0.0, 0.0, 0.3, 1.0, 1.0, 0.45, 0.0, 0.0, 0.0], 5);
        let map = ProbabilityImage::new(&data, 10, 5).unwrap();
        let width = width_across(&map, [5.2, 2.5], [1.0, 0.0], &RULE).unwrap();
        assert!((width - 2.75).abs() < 1e-9, "{width}");
        // Starting off-centre on the shoulder climbs to the same shaft.
        let width = width_across(&map, [3.6, 2.5], [-1.0, 0.0], &RULE).unwrap();
        assert!((width - 2.75).abs() < 1e-9, "{width}");
    }

    #[test]
    fn profile_stops_in_the_valley_before_a_neighbour() {
        let data = columns_map(&[0.0, 0.0, 1.0, 1.0, 0.2, 1.0, 1.0, 1.0, 0.0, 0.0], 3);
        let map = ProbabilityImage::new(&data, 10, 3).unwrap();
        let width = width_across(&map, [3.0, 1.5], [1.0, 0.0], &RULE).unwrap();
        // Two full columns plus the slopes down to the floor at 0.2 (each ½·(1+0.2)·1 px
        // integrated to the floor at x = 4.5) — not the neighbour's three columns.
        assert!((width - 2.1).abs() < 1e-6, "{width}");
    }

    #[test]
    fn a_dip_on_the_axis_is_inside_the_shaft() {
        // A glossy highlight: the probability dips to 0.4 on the shaft's axis (x = 4.5).
        let data = columns_map(&[0.0, 0.0, 1.0, 1.0, 0.4, 1.0, 1.0, 0.0, 0.0, 0.0], 3);
        let map = ProbabilityImage::new(&data, 10, 3).unwrap();
        let width = width_across(&map, [4.5, 1.5], [1.0, 0.0], &RULE).unwrap();
        assert!((width - 4.4).abs() < 1e-6, "{width}");
    }

    #[test]
    fn profile_off_the_image_or_in_empty_space_has_no_width() {
        let data = columns_map(&[1.0, 1.0, 0.0, 0.0, 0.0], 3);
        let map = ProbabilityImage::new(&data, 5, 3).unwrap();
        assert_eq!(width_across(&map, [1.0, 1.5], [1.0, 0.0], &RULE), None);
        let empty = [0.0; 15];
        let map = ProbabilityImage::new(&empty, 5, 3).unwrap();
        assert_eq!(width_across(&map, [2.5, 1.5], [1.0, 0.0], &RULE), None);
        assert_eq!(width_across(&map, [2.5, 1.5], [0.0, 0.0], &RULE), None);
    }
}

//! From chains to reported hairs: border contact, a rough width, and follicular units
//! (hairs that end together at one opening), which clinicians count as units of 1, 2, 3, 4+.

use super::grid::BinaryImage;
use super::TracedHair;
use crate::geometry::{distance, polyline_length};

/// An end this close (px) to the frame, beyond its own radius, reaches the border.
const BORDER_SLACK_PX: f64 = 1.5;

/// What is known about one end of a traced hair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HairEnd {
    /// Hair radius (px) where the end lies.
    pub radius_px: f64,
    /// The junction the hair stops at, if it does not end freely: hairs stopping at one
    /// junction share an opening.
    pub junction: Option<usize>,
}

/// Turns traced polylines (with what is known about their two ends) into hairs and numbers
/// their follicular units.
pub(crate) fn build_hairs(
    traces: &[(Vec<[f64; 2]>, [HairEnd; 2])],
    mask: &BinaryImage,
    radius_px: &[f64],
    unit_radius_px: f64,
) -> Vec<TracedHair> {
    let mut hairs = Vec::with_capacity(traces.len());
    let mut ends: Vec<(usize, [f64; 2], Option<usize>)> = Vec::new();
    for (points, hair_ends) in traces {
        let (Some(&first), Some(&last)) = (points.first(), points.last()) else {
            continue;
        };
        let k = hairs.len();
        let tips = [first, last];
        let border = [0, 1].map(|e| reaches_border(tips[e], hair_ends[e].radius_px, mask));
        for e in 0..2 {
            if !border[e] {
                ends.push((k, tips[e], hair_ends[e].junction));
            }
        }
        hairs.push(TracedHair {
            centreline_px: points.clone(),
            length_px: polyline_length(points),
            width_px: rough_width_px(points, mask, radius_px),
            touches_border: border[0] || border[1],
            unit_id: 0,
        });
    }
    let mut parent: Vec<usize> = (0..hairs.len()).collect();
    for (i, a) in ends.iter().enumerate() {
        for b in &ends[i + 1..] {
            let same_junction = a.2.is_some() && a.2 == b.2;
            if a.0 != b.0 && (same_junction || distance(a.1, b.1) <= unit_radius_px) {
                let (ra, rb) = (root(&mut parent, a.0), root(&mut parent, b.0));
                parent[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut unit_of_root = vec![0u32; hairs.len()];
    let mut next = 0;
    for (k, hair) in hairs.iter_mut().enumerate() {
        let r = root(&mut parent, k);
        if unit_of_root[r] == 0 {
            next += 1;
            unit_of_root[r] = next;
        }
        hair.unit_id = unit_of_root[r];
    }
    hairs
}

/// Whether a hair end at `tip`, of radius `radius_px`, reaches the border of `mask`'s frame.
pub(crate) fn reaches_border(tip: [f64; 2], radius_px: f64, mask: &BinaryImage) -> bool {
    let (w, h) = (mask.width as f64, mask.height as f64);
    let gap = tip[0].min(tip[1]).min(w - tip[0]).min(h - tip[1]);
    gap <= radius_px + BORDER_SLACK_PX
}

/// The representative of `i` in the union-find forest `parent` (with path halving).
pub(crate) fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

fn rough_width_px(points: &[[f64; 2]], mask: &BinaryImage, radius_px: &[f64]) -> f64 {
    let mut radii: Vec<f64> = points
        .iter()
        .filter_map(|p| mask.index(p[0].floor() as i64, p[1].floor() as i64))
        .map(|i| radius_px[i])
        .filter(|&r| r > 0.0)
        .collect();
    if radii.is_empty() {
        return 0.0;
    }
    radii.sort_by(f64::total_cmp);
    (2.0 * radii[radii.len() / 2] - 1.0).max(1.0)
}

/// Number of follicular units holding 1, 2, 3 and 4 or more hairs, from the hairs' unit ids
/// (e.g. `hairs.iter().map(|h| h.unit_id)`).
pub fn unit_size_histogram(unit_ids: impl IntoIterator<Item = u32>) -> [usize; 4] {
    let mut sizes = std::collections::BTreeMap::<u32, usize>::new();
    for id in unit_ids {
        *sizes.entry(id).or_default() += 1;
    }
    let mut histogram = [0; 4];
    for size in sizes.values() {
        histogram[(size - 1).min(3)] += 1;
    }
    histogram
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hair(unit_id: u32) -> TracedHair {
        TracedHair {
            centreline_px: vec![],
            length_px: 0.0,
            width_px: 0.0,
            touches_border: false,
            unit_id,
        }
    }

    #[test]
    fn histogram_counts_units_by_size() {
        let hairs: Vec<TracedHair> = [1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 5].map(hair).into();
        assert_eq!(unit_size_histogram(hairs.iter().map(|h| h.unit_id)), [2, 1, 1, 1]);
    }

    #[test]
    fn v_from_one_opening_is_one_unit() {
        // Two strokes diverging from (10, 20): a V whose vertex is one follicular opening.
        let mut mask = BinaryImage::new(60, 40);
        for t in 0..45 {
            for (dx, dy) in [(1.0, -0.5), (1.0, 0.4)] {
                let (x, y) = (10.0 + dx * t as f64, 20.0 + dy * t as f64);
                for (ox, oy) in [(0, 0), (0, 1), (0, -1)] {
                    if let Some(i) = mask.index(x as i64 + ox, y as i64 + oy) {
                        mask.data[i] = true;
                    }
                }
            }
        }
        let map: Vec<f32> = mask.data.iter().map(|&b| f32::from(u8::from(b))).collect();
        let hairs = super::super::trace_hairs(&map, None, None, 60, 40, &super::super::TraceConfig::default()).unwrap();
        assert_eq!(hairs.len(), 2, "{hairs:?}");
        assert_eq!(hairs[0].unit_id, hairs[1].unit_id);
        assert_eq!(unit_size_histogram(hairs.iter().map(|h| h.unit_id)), [0, 1, 0, 0]);
    }
}

//! Which hairs come close to a point: the centreline segments of all hairs bucketed in a
//! coarse grid, so that excluding width stations near crossings costs a few distance
//! computations per station instead of one per segment of every other hair.

use std::collections::HashMap;

use crate::geometry::squared_distance_to_segment;

/// A centreline segment: (hair index, start, end).
type Segment = (usize, [f64; 2], [f64; 2]);

/// Centreline segments of many hairs, bucketed by grid cell.
pub(crate) struct SegmentIndex {
    cell_px: f64,
    /// Every segment touching each cell.
    cells: HashMap<(i64, i64), Vec<Segment>>,
}

impl SegmentIndex {
    /// Indexes the segments of `centrelines` (hair k is `centrelines[k]`) in cells of
    /// `cell_px` (at least 1 px); queries are cheapest when it is about their radius.
    pub(crate) fn new<'a>(centrelines: impl IntoIterator<Item = &'a [[f64; 2]]>, cell_px: f64) -> Self {
        let cell_px = if cell_px.is_finite() { cell_px.max(1.0) } else { 1.0 };
        let mut cells: HashMap<(i64, i64), Vec<Segment>> = HashMap::new();
        for (hair, line) in centrelines.into_iter().enumerate() {
            let segments = line.windows(2).map(|w| (w[0], w[1]));
            // A single point is a segment of no length.
            let single = (line.len() == 1).then(|| (line[0], line[0]));
            for (a, b) in segments.chain(single) {
                let (x0, x1) = (cell(a[0].min(b[0]), cell_px), cell(a[0].max(b[0]), cell_px));
                let (y0, y1) = (cell(a[1].min(b[1]), cell_px), cell(a[1].max(b[1]), cell_px));
                for cx in x0..=x1 {
                    for cy in y0..=y1 {
                        cells.entry((cx, cy)).or_default().push((hair, a, b));
                    }
                }
            }
        }
        Self { cell_px, cells }
    }

    /// Whether any hair other than `exclude` passes within `reach(hair)` of `p`, where
    /// `reach` never exceeds `max_reach_px`.
    pub(crate) fn any_other_within(
        &self,
        p: [f64; 2],
        exclude: usize,
        max_reach_px: f64,
        reach: impl Fn(usize) -> f64,
    ) -> bool {
        let (x0, x1) = (
            cell(p[0] - max_reach_px, self.cell_px),
            cell(p[0] + max_reach_px, self.cell_px),
        );
        let (y0, y1) = (
            cell(p[1] - max_reach_px, self.cell_px),
            cell(p[1] + max_reach_px, self.cell_px),
        );
        (x0..=x1).any(|cx| {
            (y0..=y1).any(|cy| {
                self.cells.get(&(cx, cy)).is_some_and(|segments| {
                    segments.iter().any(|&(hair, a, b)| {
                        hair != exclude && squared_distance_to_segment(p, a, b) <= reach(hair).powi(2)
                    })
                })
            })
        })
    }
}

fn cell(coordinate: f64, cell_px: f64) -> i64 {
    (coordinate / cell_px).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_other_hairs_within_their_reach_only() {
        let horizontal = [[0.0, 10.0], [50.0, 10.0]];
        let vertical = [[25.0, 0.0], [25.0, 50.0]];
        let index = SegmentIndex::new([&horizontal[..], &vertical[..]], 8.0);
        // 5 px from the vertical hair, on the horizontal one.
        assert!(index.any_other_within([20.0, 10.0], 0, 6.0, |_| 6.0));
        assert!(!index.any_other_within([20.0, 10.0], 0, 4.0, |_| 4.0));
        // A hair never counts as near itself.
        assert!(!index.any_other_within([40.0, 10.0], 0, 6.0, |_| 6.0));
        assert!(index.any_other_within([40.0, 12.0], 1, 6.0, |_| 6.0));
    }
}

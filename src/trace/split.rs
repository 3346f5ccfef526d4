//! Splitting hairs that lie side by side: the centreline channel as evidence for a cut.
//!
//! Two hairs touching along their length make one wide blob in the hair mask, and thinning it
//! gives one line between them. Where the model's centreline channel shows two ridges across
//! such a blob, the valley midway between them (off the centreline, with centreline on both
//! sides at equal distance within the local radius) is the seam; cutting the blob along it
//! lets each hair thin on its own. The centreline channel is only evidence here, never what is thinned, so gaps in
//! it (common at crossings and in faint hairs) cannot cut a hair into pieces. A seam must
//! open onto the background or the frame through a pixel's edge (seams and background are
//! 4-connected, as the thinning sees background: a cut touching skin only at a corner would
//! be a hole to it, ringed by a loop of skeleton), or be long: short seam pixels enclosed by hair (a
//! gap in the centreline along one hair, the middle of a crossing) are put back, since two
//! touching hairs usually part somewhere, run out of the image, or lie together far longer than
//! a crossing lasts. Short touching hairs that end together with flat ends inside the image
//! therefore stay one blob (a known limitation).

use super::grid::{BinaryImage, EDGE_NEIGHBOURS};

/// A seam enclosed by hair is still cut when it has at least this many pixels per unit of the
/// widest radius along it. A seam is one or two pixels wide, so that is 8–16 radii (4–8 shaft
/// widths) of length: longer than two hairs crossing at 15° or more share (width / sin θ), so
/// only hairs lying side by side over a long stretch.
const MIN_ENCLOSED_SEAM_PIXELS_PER_RADIUS: f64 = 16.0;

/// Directions across which a seam is looked for: horizontal, vertical and both diagonals.
const ACROSS: [(i64, i64); 4] = [(1, 0), (0, 1), (1, 1), (1, -1)];

/// `mask` with the seams between touching hairs removed. `centreline` marks centreline
/// pixels; `radius_px` is each pixel's distance to the mask background.
pub(crate) fn cut_seams(mask: &BinaryImage, centreline: &BinaryImage, radius_px: &[f64]) -> BinaryImage {
    let seam = BinaryImage {
        width: mask.width,
        height: mask.height,
        data: (0..mask.data.len())
            .map(|i| mask.data[i] && !centreline.data[i] && between_ridges(mask, centreline, i, radius_px[i]))
            .collect(),
    };
    let (labels, count) = seam.components(&EDGE_NEIGHBOURS);
    // Per seam component: whether it opens onto the background or the frame, its pixel
    // count and the widest radius along it.
    let mut opens = vec![false; count as usize + 1];
    let mut pixels = vec![0usize; count as usize + 1];
    let mut widest = vec![0.0f64; count as usize + 1];
    for (i, label) in labels.iter().enumerate().filter(|(_, &l)| l != 0) {
        let (x, y) = mask.xy(i);
        let label = *label as usize;
        // outside the image reads as background
        opens[label] |= EDGE_NEIGHBOURS.iter().any(|&(dx, dy)| !mask.get(x + dx, y + dy));
        pixels[label] += 1;
        widest[label] = widest[label].max(radius_px[i]);
    }
    let cut: Vec<bool> = (0..=count as usize)
        .map(|l| l != 0 && (opens[l] || pixels[l] as f64 >= MIN_ENCLOSED_SEAM_PIXELS_PER_RADIUS * widest[l]))
        .collect();
    BinaryImage {
        width: mask.width,
        height: mask.height,
        data: (0..mask.data.len())
            .map(|i| mask.data[i] && !cut[labels[i] as usize])
            .collect(),
    }
}

/// Whether pixel `i` lies midway between two ridges: some line through it meets centreline
/// on both sides within `reach` px, without leaving the mask, at distances that differ by at
/// most one step along the line (so the seam is the valley line, one or two pixels wide, and
/// each hair keeps its pixels up to it).
fn between_ridges(mask: &BinaryImage, centreline: &BinaryImage, i: usize, reach: f64) -> bool {
    let (x, y) = mask.xy(i);
    let hit = |dx: i64, dy: i64| {
        let step = ((dx * dx + dy * dy) as f64).sqrt();
        let mut k = 1;
        while k as f64 * step <= reach {
            let (px, py) = (x + k * dx, y + k * dy);
            if !mask.get(px, py) {
                return None;
            }
            if centreline.get(px, py) {
                return Some(k);
            }
            k += 1;
        }
        None
    };
    ACROSS
        .iter()
        .any(|&(dx, dy)| matches!((hit(dx, dy), hit(-dx, -dy)), (Some(a), Some(b)) if a.abs_diff(b) <= 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::grid::NEIGHBOURS;

    /// Horizontal bars: `rows` as half-open `(first, end)` row ranges, over columns `cols`.
    fn bars(width: usize, height: usize, rows: &[(usize, usize)], cols: std::ops::Range<usize>) -> BinaryImage {
        let mut image = BinaryImage::new(width, height);
        for &(first, end) in rows {
            for y in first..end {
                for x in cols.clone() {
                    image.data[y * width + x] = true;
                }
            }
        }
        image
    }

    fn radius(mask: &BinaryImage) -> Vec<f64> {
        crate::trace::distance_to_background(mask)
    }

    #[test]
    fn seam_between_two_ridges_is_cut_to_the_frame() {
        let mask = bars(60, 20, &[(4, 16)], 0..60);
        let centreline = bars(60, 20, &[(7, 8), (12, 13)], 0..60);
        let cut = cut_seams(&mask, &centreline, &radius(&mask));
        assert_eq!(cut.components(&NEIGHBOURS).1, 2, "two hairs after the cut");
    }

    #[test]
    fn diagonal_seam_separates_eight_connected_hairs() {
        // Two touching hairs running at about 30° out of the frame on both sides: a seam one
        // pixel wide along a slanted line leaves corner contacts unless it is closed up.
        let (width, height) = (80, 60);
        let line = |x: usize| 10.0 + 0.55 * x as f64;
        let mut mask = BinaryImage::new(width, height);
        let mut centreline = BinaryImage::new(width, height);
        for y in 0..height {
            for x in 0..width {
                let offset = y as f64 + 0.5 - line(x);
                mask.data[y * width + x] = offset.abs() <= 7.0;
                centreline.data[y * width + x] = (offset + 3.5).abs() <= 0.7 || (offset - 3.5).abs() <= 0.7;
            }
        }
        let cut = cut_seams(&mask, &centreline, &radius(&mask));
        assert_eq!(cut.components(&NEIGHBOURS).1, 2, "two hairs after the cut");
    }

    #[test]
    fn long_seam_enclosed_by_hair_is_cut() {
        // Two hairs lying together over 100 px, ending inside the image: the seam does not
        // reach the background, but it is far longer than a crossing.
        let mask = bars(140, 20, &[(4, 14)], 20..120);
        let centreline = bars(140, 20, &[(6, 7), (11, 12)], 20..120);
        let cut = cut_seams(&mask, &centreline, &radius(&mask));
        let removed = mask.data.iter().zip(&cut.data).filter(|(m, c)| **m && !**c).count();
        assert!(removed >= 80, "the seam is cut ({removed} pixels)");
        let short_mask = bars(140, 20, &[(4, 14)], 20..50);
        let short_centreline = bars(140, 20, &[(6, 7), (11, 12)], 20..50);
        let short = cut_seams(&short_mask, &short_centreline, &radius(&short_mask));
        assert_eq!(short, short_mask, "a short enclosed seam is put back");
    }

    #[test]
    fn a_short_seam_touching_the_background_only_at_a_corner_is_put_back() {
        // Two thin hairs lying together (ridges on rows 7 and 9) in a block; a strip of skin
        // from the block's edge along row 7 ends at (13, 7), touching the seam (row 8 from
        // column 14) only at a corner. To the thinning (4-connected background) the cut would
        // be a hole, and it would ring it with a loop of skeleton.
        let mut mask = bars(40, 20, &[(2, 16)], 2..38);
        for x in 2..14 {
            mask.data[7 * 40 + x] = false; // skin from the block's left edge along row 7
        }
        let mut centreline = bars(40, 20, &[(7, 8)], 14..30);
        for x in 10..30 {
            centreline.data[9 * 40 + x] = true;
        }
        let cut = cut_seams(&mask, &centreline, &radius(&mask));
        assert_eq!(cut, mask, "the seam is put back");
    }

    #[test]
    fn gap_along_one_hair_is_not_a_seam() {
        let mask = bars(60, 20, &[(6, 14)], 5..55);
        let centreline = bars(60, 20, &[(10, 11)], 5..25);
        let mut more = bars(60, 20, &[(10, 11)], 30..55);
        more.data.iter_mut().zip(&centreline.data).for_each(|(m, &c)| *m |= c);
        assert_eq!(cut_seams(&mask, &more, &radius(&mask)), mask);
    }
}

//! Topology-preserving thinning of the hair mask to a one-pixel-wide skeleton.
//!
//! imageproc has no thinning, so this is directional sequential thinning by simple-point
//! deletion: in passes from the north, south, east and west borders, a border pixel is deleted
//! when removing it changes neither the 8-connected foreground nor the 4-connected background
//! in its neighbourhood (a *simple point*) and it is not a line end. Deleting only simple
//! points keeps every component and hole; keeping line ends keeps each hair's extent.

use super::grid::BinaryImage;

/// Bits of the four edge neighbours (N, S, E, W) in pass order.
const PASS_DIRECTIONS: [u8; 4] = [1 << 0, 1 << 4, 1 << 2, 1 << 6];

/// For every 8-neighbourhood (bit k set = neighbour k of [`super::grid::NEIGHBOURS`] set),
/// whether the centre is a simple point, from the Yokoi 8-connectivity number.
fn simple_point_table() -> [bool; 256] {
    let mut table = [false; 256];
    for (bits, simple) in table.iter_mut().enumerate() {
        let background = |k: usize| u32::from(bits & (1 << (k % 8)) == 0);
        let yokoi: u32 = [0, 2, 4, 6]
            .iter()
            .map(|&k| background(k) - background(k) * background(k + 1) * background(k + 2))
            .sum();
        *simple = yokoi == 1;
    }
    table
}

/// Thins `mask` to a skeleton one pixel wide, preserving 8-connected components, holes
/// and line ends.
pub(crate) fn thin(mask: &BinaryImage) -> BinaryImage {
    let table = simple_point_table();
    thin_with(mask, |bits| table[usize::from(bits)])
}

/// The thinning loop, with the simple-point test supplied (so the table can be checked
/// against a direct computation).
fn thin_with(mask: &BinaryImage, is_simple: impl Fn(u8) -> bool) -> BinaryImage {
    let mut image = mask.clone();
    // Only foreground pixels can be deleted; visiting them in index order, as a raster scan
    // would, keeps the result independent of this bookkeeping.
    let mut foreground: Vec<usize> = (0..image.data.len()).filter(|&i| image.data[i]).collect();
    let mut border = Vec::new();
    loop {
        let mut changed = false;
        for direction in PASS_DIRECTIONS {
            border.clear();
            border.extend(foreground.iter().copied().filter(|&i| {
                let (x, y) = image.xy(i);
                image.data[i] && image.neighbour_bits(x, y) & direction == 0
            }));
            for &i in &border {
                let (x, y) = image.xy(i);
                let bits = image.neighbour_bits(x, y);
                if bits.count_ones() >= 2 && is_simple(bits) {
                    image.data[i] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return image;
        }
        foreground.retain(|&i| image.data[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::grid::NEIGHBOURS;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Naive simple-point test: count foreground 8-components and background 4-components
    /// (those touching an edge neighbour) among the neighbours by flood fill.
    fn simple_by_flood_fill(bits: u8) -> bool {
        let cells: Vec<((i64, i64), bool)> = NEIGHBOURS
            .iter()
            .enumerate()
            .map(|(k, &offset)| (offset, bits & (1 << k) != 0))
            .collect();
        let count = |foreground: bool, eight: bool| -> usize {
            let members: Vec<(i64, i64)> = cells.iter().filter(|c| c.1 == foreground).map(|c| c.0).collect();
            let adjacent = |a: (i64, i64), b: (i64, i64)| {
                let (dx, dy) = ((a.0 - b.0).abs(), (a.1 - b.1).abs());
                if eight {
                    dx.max(dy) == 1
                } else {
                    dx + dy == 1
                }
            };
            let mut seen = vec![false; members.len()];
            let mut components = 0;
            for start in 0..members.len() {
                if seen[start] {
                    continue;
                }
                seen[start] = true;
                let mut stack = vec![start];
                let mut touches_edge = false;
                while let Some(m) = stack.pop() {
                    touches_edge |= members[m].0 == 0 || members[m].1 == 0;
                    for n in 0..members.len() {
                        if !seen[n] && adjacent(members[m], members[n]) {
                            seen[n] = true;
                            stack.push(n);
                        }
                    }
                }
                if eight || touches_edge {
                    components += 1;
                }
            }
            components
        };
        count(true, true) == 1 && count(false, false) == 1
    }

    fn random_blobs(seed: u64, width: usize, height: usize) -> BinaryImage {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut image = BinaryImage::new(width, height);
        for _ in 0..rng.random_range(1..5) {
            let (x0, y0) = (
                rng.random_range(0.0..width as f64),
                rng.random_range(0.0..height as f64),
            );
            let (x1, y1) = (
                rng.random_range(0.0..width as f64),
                rng.random_range(0.0..height as f64),
            );
            let radius = rng.random_range(0.5..5.0);
            for i in 0..width * height {
                let (x, y) = ((i % width) as f64, (i / width) as f64);
                let t = (((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0))
                    / ((x1 - x0).powi(2) + (y1 - y0).powi(2) + 1e-9))
                    .clamp(0.0, 1.0);
                if (x - x0 - t * (x1 - x0)).hypot(y - y0 - t * (y1 - y0)) <= radius {
                    image.data[i] = true;
                }
            }
        }
        for _ in 0..rng.random_range(0..20) {
            let i = rng.random_range(0..width * height);
            image.data[i] = !image.data[i];
        }
        image
    }

    #[test]
    fn table_matches_flood_fill_reference() {
        let table = simple_point_table();
        for bits in 0..=255u8 {
            assert_eq!(
                table[usize::from(bits)],
                simple_by_flood_fill(bits),
                "neighbourhood {bits:08b}"
            );
        }
    }

    #[test]
    fn thinning_matches_naive_reference_on_random_blobs() {
        for seed in 0..40 {
            let mask = random_blobs(seed, 40, 30);
            assert_eq!(thin(&mask), thin_with(&mask, simple_by_flood_fill), "seed {seed}");
        }
    }

    #[test]
    fn skeleton_is_thin_and_keeps_connectivity() {
        let table = simple_point_table();
        for seed in 0..40 {
            let mask = random_blobs(seed, 40, 30);
            let skeleton = thin(&mask);
            assert!(
                skeleton.data.iter().zip(&mask.data).all(|(&s, &m)| !s || m),
                "seed {seed}: outside mask"
            );
            assert_eq!(
                skeleton.components(&NEIGHBOURS).1,
                mask.components(&NEIGHBOURS).1,
                "seed {seed}: components changed"
            );
            for i in (0..skeleton.data.len()).filter(|&i| skeleton.data[i]) {
                let (x, y) = skeleton.xy(i);
                let bits = skeleton.neighbour_bits(x, y);
                assert!(
                    bits.count_ones() < 2 || !table[usize::from(bits)],
                    "seed {seed}: removable pixel left"
                );
            }
        }
    }

    #[test]
    fn thick_bar_thins_to_a_centred_line() {
        let mut mask = BinaryImage::new(30, 11);
        for y in 3..8 {
            for x in 2..28 {
                mask.data[y * 30 + x] = true;
            }
        }
        let skeleton = thin(&mask);
        let rows: Vec<usize> = (0..skeleton.data.len())
            .filter(|&i| skeleton.data[i])
            .map(|i| i / 30)
            .collect();
        let on_centre = rows.iter().filter(|&&r| r == 5).count();
        assert!(
            on_centre >= 18,
            "{on_centre} of {} skeleton pixels on the centre row",
            rows.len()
        );
        for y in 0..11 {
            for x in 0..29 {
                let block = [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)];
                assert!(!block.iter().all(|&(a, b)| skeleton.get(a, b)), "2×2 block at {x},{y}");
            }
        }
    }
}

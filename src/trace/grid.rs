//! A small binary raster with 8-neighbourhood helpers, shared by the tracing stages so that
//! they agree on pixel indexing and on what lies outside the image (always background).

/// Offsets of the eight neighbours, clockwise from north: N, NE, E, SE, S, SW, W, NW.
pub(crate) const NEIGHBOURS: [(i64, i64); 8] = [(0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1)];

/// Offsets of the four edge neighbours: N, E, S, W.
pub(crate) const EDGE_NEIGHBOURS: [(i64, i64); 4] = [(0, -1), (1, 0), (0, 1), (-1, 0)];

/// A row-major binary image; pixels outside it read as background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BinaryImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height × width` flags, row-major.
    pub data: Vec<bool>,
}

impl BinaryImage {
    /// An all-background image.
    #[cfg(test)]
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![false; width * height],
        }
    }

    /// Pixels of `map` at or above `threshold`.
    pub fn from_threshold(map: &[f32], width: usize, height: usize, threshold: f32) -> Self {
        let data = (0..width * height)
            .map(|i| map.get(i).is_some_and(|&v| v >= threshold))
            .collect();
        Self { width, height, data }
    }

    /// Sets the holes (4-connected background regions not reaching the image border) of at
    /// most `max_area` pixels over which `map` averages at least `min_mean`: dips inside hair,
    /// not skin between hairs. Returns which pixels were filled. The background is
    /// 4-connected as in the thinning: a background pixel that touches the skin outside only
    /// at a corner is a hole to the thinning, which rings it with a loop of skeleton.
    pub fn fill_holes(&mut self, map: &[f32], max_area: usize, min_mean: f32) -> Vec<bool> {
        let mut filled = vec![false; self.data.len()];
        if max_area == 0 || map.len() != self.data.len() {
            return filled;
        }
        let background = Self {
            width: self.width,
            height: self.height,
            data: self.data.iter().map(|&hair| !hair).collect(),
        };
        let (labels, regions) = background.components(&EDGE_NEIGHBOURS);
        let regions = regions as usize;
        let mut area = vec![0usize; regions + 1];
        let mut sum = vec![0.0f32; regions + 1];
        let mut reaches_border = vec![false; regions + 1];
        for (i, &label) in labels.iter().enumerate() {
            let l = label as usize;
            let (x, y) = (i % self.width, i / self.width);
            area[l] += 1;
            sum[l] += map[i];
            reaches_border[l] |= x == 0 || y == 0 || x + 1 == self.width || y + 1 == self.height;
        }
        for ((flag, was_filled), &l) in self.data.iter_mut().zip(&mut filled).zip(labels.iter()) {
            let l = l as usize;
            if l > 0 && !reaches_border[l] && area[l] <= max_area && sum[l] >= min_mean * area[l] as f32 {
                (*flag, *was_filled) = (true, true);
            }
        }
        filled
    }

    /// Whether (x, y) is inside the image and set.
    pub fn get(&self, x: i64, y: i64) -> bool {
        self.index(x, y).is_some_and(|i| self.data[i])
    }

    /// The index of (x, y), or `None` outside the image.
    pub fn index(&self, x: i64, y: i64) -> Option<usize> {
        let inside = x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height;
        inside.then(|| y as usize * self.width + x as usize)
    }

    /// (x, y) of index `i`.
    pub fn xy(&self, i: usize) -> (i64, i64) {
        ((i % self.width) as i64, (i / self.width) as i64)
    }

    /// The eight neighbour flags of (x, y) as bits, bit k for `NEIGHBOURS[k]`.
    pub fn neighbour_bits(&self, x: i64, y: i64) -> u8 {
        let inner = x >= 1 && y >= 1 && (x as usize) + 1 < self.width && (y as usize) + 1 < self.height;
        if !inner {
            return self.neighbour_bits_checked(x, y);
        }
        // Away from the border every neighbour is in the image: read them directly (thinning
        // asks this for every hair pixel in every pass).
        let (w, i) = (self.width as i64, y * self.width as i64 + x);
        NEIGHBOURS.iter().enumerate().fold(0u8, |bits, (k, &(dx, dy))| {
            bits | u8::from(self.data[(i + dy * w + dx) as usize]) << k
        })
    }

    /// [`Self::neighbour_bits`] with every neighbour bounds-checked.
    fn neighbour_bits_checked(&self, x: i64, y: i64) -> u8 {
        NEIGHBOURS.iter().enumerate().fold(0u8, |bits, (k, &(dx, dy))| {
            if self.get(x + dx, y + dy) {
                bits | (1 << k)
            } else {
                bits
            }
        })
    }

    /// Indices of the set 8-neighbours of pixel `i`.
    pub fn set_neighbours(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        let (x, y) = self.xy(i);
        NEIGHBOURS
            .iter()
            .filter_map(move |&(dx, dy)| self.index(x + dx, y + dy).filter(|&j| self.data[j]))
    }

    /// Labels of the set pixels' components (0 unset, 1..) and the component count, pixels
    /// joined through `neighbours`: [`NEIGHBOURS`] for hair (8-connected), [`EDGE_NEIGHBOURS`]
    /// for background, as the thinning sees them.
    pub fn components(&self, neighbours: &[(i64, i64)]) -> (Vec<u32>, u32) {
        let mut labels = vec![0u32; self.data.len()];
        let mut next = 0u32;
        let mut stack = Vec::new();
        for start in 0..self.data.len() {
            if !self.data[start] || labels[start] != 0 {
                continue;
            }
            next += 1;
            labels[start] = next;
            stack.push(start);
            while let Some(i) = stack.pop() {
                let (x, y) = self.xy(i);
                for &(dx, dy) in neighbours {
                    if let Some(j) = self.index(x + dx, y + dy) {
                        if self.data[j] && labels[j] == 0 {
                            labels[j] = next;
                            stack.push(j);
                        }
                    }
                }
            }
        }
        (labels, next)
    }
}

/// The centre of pixel `i` in continuous coordinates (pixel (x, y) covers [x, x+1) × [y, y+1)).
pub(crate) fn pixel_centre(width: usize, i: usize) -> [f64; 2] {
    [(i % width) as f64 + 0.5, (i / width) as f64 + 0.5]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_use_8_connectivity() {
        let mut image = BinaryImage::new(5, 5);
        for (x, y) in [(0, 0), (1, 1), (4, 4), (4, 3)] {
            image.data[y * 5 + x] = true;
        }
        assert_eq!(image.components(&NEIGHBOURS).1, 2);
        assert_eq!(image.neighbour_bits(0, 0), 1 << 3);
        assert!(!image.get(-1, 0));
    }

    #[test]
    fn small_enclosed_faint_holes_are_filled_open_large_and_empty_ones_kept() {
        // A 12 × 7 block with a 1-px hole, a 2 × 2 hole (4 px), and a notch open to the image
        // border; the map is 0.3 in every hole except where it says otherwise.
        let mut image = BinaryImage::new(12, 7);
        image.data.fill(true);
        let mut map = vec![1.0f32; 12 * 7];
        for (x, y) in [(2, 2), (5, 2), (6, 2), (5, 3), (6, 3), (9, 0), (9, 1), (9, 2)] {
            image.data[y * 12 + x] = false;
            map[y * 12 + x] = 0.3;
        }
        let mut small = image.clone();
        let filled = small.fill_holes(&map, 1, 0.25);
        assert!(small.get(2, 2), "1-px hole filled");
        assert_eq!(filled.iter().filter(|&&f| f).count(), 1);
        assert!(filled[2 * 12 + 2]);
        assert!(!small.get(5, 2) && !small.get(6, 3), "4-px hole kept at max area 1");
        let mut larger = image.clone();
        larger.fill_holes(&map, 4, 0.25);
        assert!(larger.get(5, 2) && larger.get(6, 3), "4-px hole filled at max area 4");
        assert!(
            !larger.get(9, 2) && !larger.get(9, 0),
            "a notch reaching the border is not a hole"
        );
        let mut skin = image.clone();
        map[2 * 12 + 5] = 0.0; // the 4-px hole now averages 0.225
        skin.fill_holes(&map, 4, 0.25);
        assert!(!skin.get(5, 2) && skin.get(2, 2), "a hole of skin stays a hole");
        let mut untouched = image.clone();
        assert!(!untouched.fill_holes(&map, 0, 0.25).contains(&true));
        assert_eq!(untouched, image);
    }

    #[test]
    fn a_faint_pixel_touching_the_skin_only_at_a_corner_is_a_hole() {
        // Hair fills the top rows; below it, skin reaches up to (2, 4); the faint pixel (3, 3)
        // touches that skin only diagonally, so thinning (4-connected background) would ring
        // it with a loop of skeleton.
        let mut image = BinaryImage::new(7, 6);
        image.data.fill(true);
        let mut map = vec![1.0f32; 7 * 6];
        for (x, y) in [(3, 3), (2, 4), (1, 5), (2, 5), (3, 5)] {
            image.data[y * 7 + x] = false;
            map[y * 7 + x] = if (x, y) == (3, 3) { 0.3 } else { 0.0 };
        }
        let filled = image.fill_holes(&map, 4, 0.25);
        assert!(
            image.get(3, 3) && filled[3 * 7 + 3],
            "the corner-touching faint pixel is filled"
        );
        assert!(!image.get(2, 4) && !image.get(2, 5), "the skin stays");
    }

    #[test]
    fn direct_neighbour_bits_match_the_checked_ones() {
        let mut image = BinaryImage::new(7, 6);
        for i in 0..image.data.len() {
            image.data[i] = (i * 7919) % 5 < 2;
        }
        for y in 0..6 {
            for x in 0..7 {
                assert_eq!(
                    image.neighbour_bits(x, y),
                    image.neighbour_bits_checked(x, y),
                    "({x}, {y})"
                );
            }
        }
    }
}

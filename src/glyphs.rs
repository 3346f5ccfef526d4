//! A 3×5 bitmap font for text burnt into images: the renderer's device captions and the
//! analysis overlay's hair numbers. One font, so both draw digits the same way.

/// Glyph width in font cells.
pub const GLYPH_WIDTH: i64 = 3;
/// Glyph height in font cells.
pub const GLYPH_HEIGHT: i64 = 5;
/// Horizontal distance between the left edges of consecutive glyphs, in font cells.
pub const GLYPH_ADVANCE: i64 = 4;

/// Each row is 3 bits, top row first; the leftmost cell is the highest bit.
const GLYPHS: [(char, [u8; 5]); 17] = [
    ('0', [7, 5, 5, 5, 7]),
    ('1', [2, 6, 2, 2, 7]),
    ('2', [7, 1, 7, 4, 7]),
    ('3', [7, 1, 7, 1, 7]),
    ('4', [5, 5, 7, 1, 1]),
    ('5', [7, 4, 7, 1, 7]),
    ('6', [7, 4, 7, 5, 7]),
    ('7', [7, 1, 1, 1, 1]),
    ('8', [7, 5, 7, 5, 7]),
    ('9', [7, 5, 7, 1, 7]),
    ('/', [1, 1, 2, 4, 4]),
    (':', [0, 2, 0, 2, 0]),
    ('.', [0, 0, 0, 0, 2]),
    ('x', [0, 5, 2, 5, 0]),
    ('m', [0, 6, 7, 5, 5]),
    ('u', [0, 5, 5, 5, 7]),
    (' ', [0, 0, 0, 0, 0]),
];

/// Top-left corners (in font cells, relative to the text origin) of the inked cells of
/// `text`; characters without a glyph are skipped but keep their place.
pub fn inked_cells(text: &str) -> impl Iterator<Item = (i64, i64)> + '_ {
    text.chars().enumerate().flat_map(|(k, ch)| {
        let rows = GLYPHS.iter().find(|g| g.0 == ch).map_or([0; 5], |g| g.1);
        (0..GLYPH_HEIGHT).flat_map(move |r| {
            (0..GLYPH_WIDTH)
                .filter(move |&b| rows[r as usize] & (4 >> b) != 0)
                .map(move |b| (k as i64 * GLYPH_ADVANCE + b, r))
        })
    })
}

/// Width in font cells of `text` drawn with [`inked_cells`].
pub fn text_width_cells(text: &str) -> i64 {
    let n = text.chars().count() as i64;
    if n == 0 {
        0
    } else {
        (n - 1) * GLYPH_ADVANCE + GLYPH_WIDTH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_drawn_as_its_bitmap() {
        let cells: Vec<_> = inked_cells("1").collect();
        let expected = vec![(1, 0), (0, 1), (1, 1), (1, 2), (1, 3), (0, 4), (1, 4), (2, 4)];
        assert_eq!(cells, expected);
    }

    #[test]
    fn later_characters_are_advanced_and_unknown_ones_keep_their_place() {
        let cells: Vec<_> = inked_cells("?.").collect();
        assert_eq!(cells, vec![(GLYPH_ADVANCE + 1, 4)]);
        assert_eq!(text_width_cells("12"), 7);
        assert_eq!(text_width_cells(""), 0);
    }
}

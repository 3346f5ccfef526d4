//! Between the two pixel grids of an analysis: the segmentation maps live at the model's
//! µm/px, the photo, its field mask and every reported coordinate at the photo's own.

use crate::quality::FieldMask;
use crate::segment::{ProbabilityMaps, HAIR_CHANNEL};

/// Whether the segmentation shows hair (probability ≥ `threshold`) on most of `pixels`
/// (indices into the photo's `input_width`-wide frame), each read at the nearest map pixel: a
/// device graphic's colour and shape that the model sees as a shaft is the shaft's highlight.
pub fn shows_hair(maps: &ProbabilityMaps, pixels: &[usize], threshold: f32) -> bool {
    let Some(hair) = maps.channel(HAIR_CHANNEL) else {
        return false;
    };
    let input_width = maps.input_width as usize;
    let on_hair = pixels
        .iter()
        .filter(|&&i| hair[maps.nearest_to_input_px(i % input_width, i / input_width)] >= threshold)
        .count();
    2 * on_hair > pixels.len()
}

/// Sets every channel to 0 on map pixels whose centre falls where the field hides the scalp, so
/// device overlays (text bars, blank rows, a round field's surround) can never become hairs;
/// circles and graphic strokes (captions, scale bars), painted over before segmentation, hide
/// nothing.
/// Returns those map pixels (row-major, `true` = off the field): the tracer treats them as
/// hiding whatever hair passes under them.
pub fn mask_outside_field(maps: &mut ProbabilityMaps, field: &FieldMask) -> Vec<bool> {
    let hidden = map_pixels_where(maps, |x, y| field.hides(x, y));
    let plane = hidden.len();
    for (i, _) in hidden.iter().enumerate().filter(|(_, &off)| off) {
        for channel in 0..maps.channels.len() {
            maps.data[channel * plane + i] = 0.0;
        }
    }
    hidden
}

/// The map pixels (row-major) whose centre falls outside the scalp field.
pub fn off_field(maps: &ProbabilityMaps, field: &FieldMask) -> Vec<bool> {
    map_pixels_where(maps, |x, y| !field.is_scalp(x, y))
}

/// The map pixels (row-major) whose centre, rounded to an input pixel (x, y), satisfies `at`.
fn map_pixels_where(maps: &ProbabilityMaps, at: impl Fn(u32, u32) -> bool) -> Vec<bool> {
    let width = maps.width as usize;
    // The map-to-input mapping is separable: a column's x and a row's y are computed once.
    let input_px = |v: f64| v.round().max(0.0) as u32;
    let columns: Vec<u32> = (0..width)
        .map(|i| input_px(maps.to_input_px(i as f64, 0.0).0))
        .collect();
    let rows: Vec<u32> = (0..maps.height as usize)
        .map(|j| input_px(maps.to_input_px(0.0, j as f64).1))
        .collect();
    rows.iter()
        .flat_map(|&y| columns.iter().map(move |&x| (x, y)))
        .map(|(x, y)| at(x, y))
        .collect()
}

/// Whether the input-pixel position (`x`, `y`) (pixel (i, j) covers [i, i+1) × [j, j+1)) is
/// scalp field.
pub fn in_field(field: &FieldMask, x: f64, y: f64) -> bool {
    x >= 0.0 && y >= 0.0 && field.is_scalp(x as u32, y as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PixelSpacing;

    #[test]
    fn a_stroke_counts_as_hair_where_the_map_shows_hair_on_most_of_it() {
        // Input 6 × 4 px, maps at half the size; hair on map pixel (1, 0): input x 2–3, y 0–1.
        let mut hair = vec![0.0f32; 6];
        hair[1] = 0.9;
        let maps = ProbabilityMaps {
            width: 3,
            height: 2,
            spacing: PixelSpacing::new(10.0).unwrap(),
            input_width: 6,
            input_height: 4,
            scale_to_input: 2.0,
            channels: vec![HAIR_CHANNEL.to_string()],
            data: hair,
        };
        let at = |x: usize, y: usize| y * 6 + x;
        assert!(shows_hair(&maps, &[at(2, 0), at(3, 1), at(3, 0)], 0.5));
        assert!(shows_hair(&maps, &[at(2, 0), at(3, 1), at(5, 3)], 0.5));
        assert!(!shows_hair(&maps, &[at(2, 0), at(0, 0), at(5, 3)], 0.5));
    }

    #[test]
    fn map_pixels_whose_centre_is_off_the_field_are_zeroed() {
        // Input 9 × 6 px, maps at a third of the size: map pixel (i, j) is centred on input
        // pixel (3i + 1, 3j + 1).
        let mut field = FieldMask::full(9, 6);
        for (x, y) in [(4, 1), (1, 4), (8, 5), (3, 3)] {
            field.scalp[y * 9 + x] = false;
        }
        let mut maps = ProbabilityMaps {
            width: 3,
            height: 2,
            spacing: PixelSpacing::new(15.0).unwrap(),
            input_width: 9,
            input_height: 6,
            scale_to_input: 3.0,
            channels: vec!["hair".into(), "centreline".into()],
            data: vec![0.5; 12],
        };
        let hidden = mask_outside_field(&mut maps, &field);
        let zeroed = [1, 3]; // (1, 0) and (0, 1); (3, 3) and (8, 5) are no map pixel's centre
        assert_eq!(hidden, (0..6).map(|i| zeroed.contains(&i)).collect::<Vec<_>>());
        for channel in 0..2 {
            for i in 0..6 {
                let expected = if zeroed.contains(&i) { 0.0 } else { 0.5 };
                assert_eq!(maps.data[channel * 6 + i], expected, "channel {channel} pixel {i}");
            }
        }
    }
}

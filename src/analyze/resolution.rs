//! Between the two pixel grids of an analysis: the segmentation maps live at the model's
//! µm/px, the photo, its field mask and every reported coordinate at the photo's own.

use crate::quality::FieldMask;
use crate::segment::ProbabilityMaps;

/// Sets every channel to 0 on map pixels whose centre falls outside the scalp field, so
/// device overlays (text bars, scale bars, circles, blank rows) can never become hairs.
pub fn mask_outside_field(maps: &mut ProbabilityMaps, field: &FieldMask) {
    let (width, height) = (maps.width as usize, maps.height as usize);
    let plane = width * height;
    let outside: Vec<usize> = (0..plane)
        .filter(|&i| {
            let (x, y) = maps.to_input_px((i % width) as f64, (i / width) as f64);
            !field.is_scalp(x.round().max(0.0) as u32, y.round().max(0.0) as u32)
        })
        .collect();
    for channel in 0..maps.channels.len() {
        for &i in &outside {
            maps.data[channel * plane + i] = 0.0;
        }
    }
}

/// Whether the input-pixel position (`x`, `y`) (pixel (i, j) covers [i, i+1) × [j, j+1)) is
/// scalp field.
pub fn in_field(field: &FieldMask, x: f64, y: f64) -> bool {
    x >= 0.0 && y >= 0.0 && field.is_scalp(x as u32, y as u32)
}

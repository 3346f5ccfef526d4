//! The black surround outside the optics' field of view: many dermatoscopes image a round field
//! (the lens or the contact plate's rim), leaving black corners or a black ring in the frame.
//!
//! The surround is no scalp: counted as field it would inflate the area (a circle inscribed in a
//! 4:3 frame leaves about a fifth of it black, so density would read a fifth low) and its pixels
//! would flag the photo as under-exposed. It is found as a large region of near-black pixels
//! reaching the frame's edge whose boundary is a step up to the field: even very dark skin (and
//! dark vignetted corners) fades into its surroundings, while the field stop cuts the light off
//! within a few pixels.

use super::raster::Window;
use super::{OverlayKind, OverlayRegion};

/// Brightest luma (grey levels) of the surround: no light reaches it, so it is the sensor's
/// black plus noise and compression (real surrounds read 0–10). Dark skin under a dermatoscope
/// reads from about 20 up, so the threshold alone does not separate them: see [`MIN_RIM_STEP`].
const SURROUND_MAX_LUMA: f32 = 24.0;
/// Opening radius as a share of the smaller image side: the black square the opening needs,
/// a tenth of the side, is wider than a black shaft core at any trichoscopy magnification (a
/// 120 µm shaft at 2.5 µm/px is 48 px wide, its dark core narrower; a tenth of a 480-px side is
/// 49 px), and narrower than the corners a round field leaves unless the circle nearly fills the
/// frame (slivers thinner than that stay field: a few per cent of area at most).
const OPENING_RADIUS_FRACTION: f64 = 1.0 / 20.0;
/// Opening radius floor (px), for small frames.
const MIN_OPENING_RADIUS_PX: usize = 8;
/// Least rise (grey levels) from the surround's median luma to the median of the band of field
/// just outside it (one to two opening radii away): the field stop is a hard step from black to
/// lit skin; the darkest stretch of an under-exposed or very dark photo rises by a few levels
/// only (5–10 on the darkest phantoms).
const MIN_RIM_STEP: f32 = 24.0;

/// Finds the black surround among the pixels not yet `covered`, marks it in `covered` and
/// returns one region per connected part (a corner, or the whole ring).
///
/// `luma` is the photo's luma plane, `width × height`, row-major. Pixels already covered (blank
/// bands found before) take part only as dark pixels: a black letterbox band touching a black
/// corner makes one region with it, reported for the pixels it adds.
pub(crate) fn detect_surround(luma: &[f32], width: usize, height: usize, covered: &mut [bool]) -> Vec<OverlayRegion> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let r = ((width.min(height) as f64 * OPENING_RADIUS_FRACTION) as usize).max(MIN_OPENING_RADIUS_PX);
    let dark: Vec<bool> = luma.iter().map(|&v| v <= SURROUND_MAX_LUMA).collect();
    let opened = super::raster::dilate(&super::raster::erode(&dark, width, height, r), width, height, r);
    let mut regions = Vec::new();
    let square = (2 * r + 1) * (2 * r + 1);
    for component in border_components(&opened, width, height) {
        // A black band found before is no surround by itself: the component must hold at least
        // one opening square of its own.
        if component.pixels.iter().filter(|&&i| !covered[i]).count() < square {
            continue;
        }
        let window = Window::around(&component.pixels, width, height, 2 * r);
        let local = window.crop(&component.mask, width);
        let near = super::raster::dilate(&local, window.width, window.height, r);
        let far = super::raster::dilate(&near, window.width, window.height, r);
        let frame = |k: usize| window.frame_index(k, width);
        let inside: Vec<f32> = component.pixels.iter().map(|&i| luma[i]).collect();
        let rim: Vec<f32> = (0..local.len())
            .filter(|&k| far[k] && !near[k])
            .map(|k| luma[frame(k)])
            .collect();
        if rim.is_empty() || median(rim) - median(inside) < MIN_RIM_STEP {
            continue;
        }
        // The opening rounds the surround's edge off; the dark pixels it left near the rim are
        // surround too.
        let added: Vec<usize> = (0..local.len())
            .map(|k| (k, frame(k)))
            .filter(|&(k, i)| (local[k] || (near[k] && dark[i])) && !covered[i])
            .map(|(_, i)| i)
            .collect();
        if let Some(region) = region_of(&added, width) {
            added.iter().for_each(|&i| covered[i] = true);
            regions.push(region);
        }
    }
    regions
}

/// One 4-connected component of a mask.
struct Component {
    /// Frame indices of its pixels.
    pixels: Vec<usize>,
    /// Frame-sized membership.
    mask: Vec<bool>,
}

/// The 4-connected components of `mask` that reach the frame's edge.
fn border_components(mask: &[bool], width: usize, height: usize) -> Vec<Component> {
    let mut seen = vec![false; mask.len()];
    let mut components = Vec::new();
    let edge = (0..width)
        .flat_map(|x| [x, (height - 1) * width + x])
        .chain((0..height).flat_map(|y| [y * width, y * width + width - 1]));
    for start in edge.collect::<Vec<_>>() {
        if !mask[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut pixels = vec![start];
        let mut next = 0;
        while next < pixels.len() {
            let i = pixels[next];
            next += 1;
            let (x, y) = (i % width, i / width);
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < width).then(|| i + 1),
                (y > 0).then(|| i - width),
                (y + 1 < height).then(|| i + width),
            ];
            for j in neighbours.into_iter().flatten() {
                if mask[j] && !seen[j] {
                    seen[j] = true;
                    pixels.push(j);
                }
            }
        }
        let mut member = vec![false; mask.len()];
        pixels.iter().for_each(|&i| member[i] = true);
        components.push(Component { pixels, mask: member });
    }
    components
}

/// Median of `values` (the upper one of an even count); `values` must not be empty.
fn median(mut values: Vec<f32>) -> f32 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// The bounding box and pixel count of `pixels` as a surround region; `None` when empty.
fn region_of(pixels: &[usize], width: usize) -> Option<OverlayRegion> {
    let xs = pixels.iter().map(|&i| i % width);
    let ys = pixels.iter().map(|&i| i / width);
    let (x0, x1) = (xs.clone().min()?, xs.max()?);
    let (y0, y1) = (ys.clone().min()?, ys.max()?);
    Some(OverlayRegion {
        kind: OverlayKind::OutsideFieldOfView,
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 + 1 - x0) as u32,
        height: (y1 + 1 - y0) as u32,
        pixels: pixels.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_images::{paint, skin};
    use super::super::{detect_field, OverlayKind};

    /// Skin with everything outside a centred circle of `radius` px painted `surround`.
    fn round_field(width: u32, height: u32, radius: f32, surround: [u8; 3]) -> image::RgbImage {
        let mut img = skin(width, height);
        let (cx, cy) = (width as f32 / 2.0, height as f32 / 2.0);
        paint(&mut img, surround, |x, y| (x - cx).hypot(y - cy) > radius);
        img
    }

    #[test]
    fn the_black_surround_of_a_round_field_is_not_scalp() {
        let (w, h, radius) = (320u32, 240u32, 130.0f32);
        let field = detect_field(&round_field(w, h, radius, [6, 4, 5]));
        assert!(
            field.overlays.iter().any(|o| o.kind == OverlayKind::OutsideFieldOfView),
            "{:?}",
            field.overlays
        );
        assert!(!field.is_scalp(2, 2) && !field.is_scalp(w - 3, h - 3));
        assert!(field.is_scalp(w / 2, h / 2) && field.is_scalp(w / 2 + 100, h / 2));
        // The field is the disc (clipped by the frame) less the 2 px safety margin at its rim.
        let disc = (0..w * h)
            .filter(|i| ((i % w) as f32 + 0.5 - 160.0).hypot((i / w) as f32 + 0.5 - 120.0) <= radius)
            .count() as f64;
        let share = field.scalp_pixels as f64 / disc;
        assert!(
            (0.95..=1.0).contains(&share),
            "field {} px, disc {disc} px",
            field.scalp_pixels
        );
    }

    #[test]
    fn a_noisy_dark_grey_surround_is_found_too() {
        // Sensor black with noise and a raised black level, as cameras and JPEG leave it.
        let mut img = round_field(320, 240, 130.0, [0, 0, 0]);
        for (x, y, p) in img.enumerate_pixels_mut() {
            if p.0 == [0, 0, 0] {
                let n = (x.wrapping_mul(0x9E37_79B1) ^ y.wrapping_mul(0x85EB_CA77)).wrapping_mul(0xC2B2_AE3D) >> 28;
                p.0 = [10 + n as u8; 3];
            }
        }
        let field = detect_field(&img);
        assert!(
            !field.is_scalp(2, 2) && field.is_scalp(160, 120),
            "{:?}",
            field.overlays
        );
    }

    #[test]
    fn very_dark_skin_with_dark_vignetted_corners_stays_scalp() {
        // Skin at a third of its brightness (luma about 50) falling off to black at the corners:
        // a quarter of the frame is darker than the surround threshold, but it fades, not cut off.
        let mut img = skin(320, 240);
        for (x, y, p) in img.enumerate_pixels_mut() {
            let d = (x as f32 - 160.0).hypot(y as f32 - 120.0) / 200.0;
            let gain = 0.33 * (1.0 - d * d).max(0.0);
            p.0 = p.0.map(|c| (c as f32 * gain) as u8);
        }
        let field = detect_field(&img);
        assert!(
            field.overlays.iter().all(|o| o.kind != OverlayKind::OutsideFieldOfView),
            "{:?}",
            field.overlays
        );
        assert!(field.is_scalp(1, 1));
    }

    #[test]
    fn a_thick_black_shaft_leaving_the_frame_stays_scalp() {
        // A 24 px black shaft (120 µm at 5 µm/px) running off the top edge.
        let mut img = skin(320, 240);
        paint(&mut img, [3, 3, 3], |x, y| (x - 100.0 - 0.3 * y).abs() < 12.0);
        let field = detect_field(&img);
        assert!(
            field.overlays.iter().all(|o| o.kind != OverlayKind::OutsideFieldOfView),
            "{:?}",
            field.overlays
        );
    }
}

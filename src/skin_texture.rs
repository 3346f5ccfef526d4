//! The photo's skin on a grid derived from the segmentation's, so that a comparison can align
//! the two visits on the skin itself (pores, pigment dots, skin lines), which stays put between
//! visits while hairs grow, are clipped and fall out.

use crate::quality::raster::dilate;
use crate::quality::CLIPPED_WHITE_LUMA;
use crate::segment::{resize_map, ProbabilityMaps, HAIR_CHANNEL};

/// Hair probability at or above which a pixel shows hair, not skin. Lower than the tracer's
/// 0.5, so that the soft rims of shafts are left out too.
const HAIR_PROBABILITY: f32 = 0.25;
/// Pixels within this distance (texture px, Chebyshev) of hair are left out as well.
const HAIR_MARGIN_PX: usize = 1;
/// Map pixels per texture pixel along each axis: at the model's 5 µm/px the texture has
/// 10 µm pixels, fine for pores and pigment dots (50–200 µm) and a quarter of the work.
const MAP_PX_PER_TEXTURE_PX: u32 = 2;
/// Grey levels (0–1) at or above this are clipped (glare, overexposure): no skin shows there.
/// The quality check's clipped-white level, so the photo's overexposed share, the glare left
/// out of the common field and the skin left out of registration are one definition.
const GLARE_LEVEL: f32 = CLIPPED_WHITE_LUMA / 255.0;

/// The grey level (Rec. 601 luma, 0–1) of the photo on a grid of half the maps' resolution;
/// NaN where no skin can be seen (hair, clipped glare, device overlays, outside the field of view).
#[derive(Debug, Clone, PartialEq)]
pub struct SkinTexture {
    /// Width (texture px).
    pub width: u32,
    /// Height (texture px).
    pub height: u32,
    /// Input pixels per texture pixel along x and y (the maps' own factors).
    pub input_per_px: [f64; 2],
    /// `width × height` grey levels, row-major; NaN where unusable.
    pub grey: Vec<f32>,
}

impl SkinTexture {
    /// The skin of a `width × height` photo given its luma plane (grey levels 0–255), on a grid
    /// of half the resolution of `maps` (segmented from the photo); `hidden` marks the map
    /// pixels outside the field (device overlays, the dark surround of a round field).
    pub fn new(luma: &[f32], (photo_width, photo_height): (u32, u32), maps: &ProbabilityMaps, hidden: &[bool]) -> Self {
        let width = (maps.width / MAP_PX_PER_TEXTURE_PX).max(1);
        let height = (maps.height / MAP_PX_PER_TEXTURE_PX).max(1);
        let luma: Vec<f32> = luma.iter().map(|v| v / 255.0).collect();
        let mut grey = resize_map(&luma, photo_width, photo_height, width, height).unwrap_or_default();
        // a texture pixel shows no skin if any of its map pixels is hair or hidden
        let hair = maps.channel(HAIR_CHANNEL).unwrap_or(&[]);
        let (map_width, map_height) = (maps.width as usize, maps.height as usize);
        let reduction = MAP_PX_PER_TEXTURE_PX as usize;
        let unusable: Vec<bool> = (0..(width * height) as usize)
            .map(|i| {
                let (x, y) = (i % width as usize * reduction, i / width as usize * reduction);
                (y..(y + reduction).min(map_height)).any(|my| {
                    (x..(x + reduction).min(map_width)).any(|mx| {
                        let m = my * map_width + mx;
                        hair.get(m).is_some_and(|&p| p >= HAIR_PROBABILITY) || hidden.get(m).copied().unwrap_or(false)
                    })
                })
            })
            .collect();
        let unusable = dilate(&unusable, width as usize, height as usize, HAIR_MARGIN_PX);
        for (g, &off) in grey.iter_mut().zip(&unusable) {
            if off || *g >= GLARE_LEVEL {
                *g = f32::NAN;
            }
        }
        Self {
            width,
            height,
            input_per_px: [
                f64::from(photo_width) / f64::from(width),
                f64::from(photo_height) / f64::from(height),
            ],
            grey,
        }
    }
}

#[cfg(test)]
pub(crate) fn blob_skin(width: u32, height: u32, to_world: &crate::compare::Similarity, lamp: f32) -> SkinTexture {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let blobs: Vec<[f64; 3]> = (0..900)
        .map(|_| {
            [
                rng.random_range(-100.0..600.0),
                rng.random_range(-100.0..500.0),
                rng.random_range(2.0..6.0),
            ]
        })
        .collect();
    let grey = (0..width * height)
        .map(|i| {
            let p = to_world.apply([f64::from(i % width), f64::from(i / width)]);
            let v: f64 = blobs
                .iter()
                .map(|b| (-((p[0] - b[0]).powi(2) + (p[1] - b[1]).powi(2)) / (b[2] * b[2])).exp())
                .sum();
            lamp * (0.3 + 0.2 * v.min(1.0)) as f32
        })
        .collect();
    SkinTexture {
        width,
        height,
        input_per_px: [1.0, 1.0],
        grey,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::PixelSpacing;

    #[test]
    fn hair_glare_and_hidden_pixels_are_not_skin() {
        let (w, h) = (24u32, 12u32);
        let mut hair = vec![0.0f32; (w * h) as usize];
        hair[6 * 24 + 12] = 0.9; // texture pixel (6, 3)
        let maps = ProbabilityMaps {
            width: w,
            height: h,
            spacing: PixelSpacing { um_per_px: 5.0 },
            input_width: w,
            input_height: h,
            scale_to_input: 1.0,
            channels: vec![HAIR_CHANNEL.to_string()],
            data: hair,
        };
        let rgb = image::RgbImage::from_fn(w, h, |x, _| {
            if x < 4 {
                image::Rgb([255; 3])
            } else {
                image::Rgb([100; 3])
            }
        });
        let mut hidden = vec![false; (w * h) as usize];
        hidden[23] = true; // texture pixel (11, 0)
        let texture = SkinTexture::new(
            &crate::quality::raster::luma_plane(&rgb),
            rgb.dimensions(),
            &maps,
            &hidden,
        );
        let usable = |x: usize, y: usize| !texture.grey[y * 12 + x].is_nan();
        assert!(!usable(0, 0), "glare");
        assert!(!usable(11, 0), "hidden");
        assert_eq!((texture.width, texture.height), (12, 6));
        assert!(!usable(6, 3) && !usable(5, 2) && !usable(7, 4), "hair and its margin");
        assert!(usable(4, 3) && usable(8, 3) && usable(6, 1));
        assert!((texture.grey[3 * 12 + 3] - 100.0 / 255.0).abs() < 1e-4);
    }
}

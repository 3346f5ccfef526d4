//! Tiled inference: overlapping tiles with context, blended with weights that sum to one,
//! so the probability map does not depend on where tile seams fall.
//!
//! The image is first padded on every side with [`BORDER_CONTEXT_PX`] of mirrored pixels (and
//! at its right and bottom up to a multiple of [`SHAPE_QUANTUM_PX`]). Along each axis a tile's input
//! window is `context` pixels wider than its *valid* region on each side that faces another
//! tile (context ≥ receptive field / 2, so valid outputs never see that side's window edge); at
//! the image's own edges the window stops at the padded image, so every valid output sees the
//! padded image's edge exactly where a single window over the whole image would. One window
//! or many, the map is the same. Neighbouring valid regions overlap by `ramp` pixels, where the two tiles'
//! raised-cosine weights sum to exactly one. Window origins are multiples of the model's tile
//! multiple, so strided networks see the same pixel grid in every tile.

use std::f64::consts::FRAC_PI_2;

use super::maps::ProbabilityMaps;
use super::resample::{resample_to_spacing, ModelScaleImage};
use super::{HairModel, ModelError};
use crate::units::PixelSpacing;

/// Default tile edge at model scale, in pixels (rounded up to the model's tile multiple).
///
/// 1408 = 1280 + 2 × 64, the hair model's 64 px of context on both sides of a 1280 px valid
/// region: a 1280 × 960 photo at the model's scale is a single window (1344 × 1024 with the
/// [`BORDER_CONTEXT_PX`] on each side, 1.4 MP), computed once instead of as four overlapping
/// 800 × 640 tiles (2.0 MP). Larger images are tiled.
pub const DEFAULT_TILE_PX: u32 = 1408;

/// Mirrored context (px at model scale, rounded up to the tile multiple, at most the full
/// context) kept beyond the image's own edges. With none, the network meets its zero padding
/// right at the edge and its output fades over the last pixels: the two shafts of
/// `fixtures/parallel_touching_hairs_expect_2` then join into one loop where they leave the
/// frame (also with 8 and 16 px); with 32 px they stay apart, as with the full 64 px. Half the
/// full context costs 1344 × 1024 instead of 1408 × 1088 model pixels for a 1280 × 960 photo.
const BORDER_CONTEXT_PX: usize = 32;

/// The padded axis is a multiple of this (px at model scale, rounded up to the tile multiple):
/// ONNX Runtime plans and keeps memory per input shape, and photos a few per cent apart in
/// scale (a follow-up camera's zoom) would otherwise each bring a new shape.
const SHAPE_QUANTUM_PX: usize = 64;

/// How one image axis is cut into tiles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AxisTiling {
    /// Image length along the axis, in model pixels.
    pub len: usize,
    /// Mirrored pixels before the image (a multiple of the tile multiple): the context every
    /// window keeps at the image's own edges.
    pub border: usize,
    /// Length of the padded axis: `border`, the image, and mirrored pixels after it up to
    /// at least `border` and a multiple of [`SHAPE_QUANTUM_PX`]. Windows lie inside it.
    pub padded: usize,
    /// Length of an interior tile's input window (a multiple of the tile multiple); windows
    /// are cut where the padded axis ends.
    pub window: usize,
    /// Pixels of context on each side of a valid region that faces another tile.
    pub context: usize,
    /// Overlap of neighbouring valid regions, blended by the weights.
    pub ramp: usize,
    /// Start of each tile's valid region in image pixels; its window starts `context`
    /// earlier (or at the start of the padded axis).
    pub starts: Vec<usize>,
}

impl AxisTiling {
    /// Tiles an axis of `len` pixels with windows of about `tile_px`, for a model whose inputs
    /// must be multiples of `multiple` and whose receptive field is `receptive_field_px`.
    ///
    /// `tile_px` is raised to the smallest workable window (`2·context + 2·ramp`); an axis that
    /// fits in one window is a single window over the padded axis.
    pub fn new(len: usize, tile_px: usize, multiple: usize, receptive_field_px: usize) -> Self {
        let multiple = multiple.max(1);
        let context = round_up(receptive_field_px.div_ceil(2), multiple);
        let border = round_up(BORDER_CONTEXT_PX, multiple).min(context);
        let padded = round_up(len + 2 * border, round_up(SHAPE_QUANTUM_PX, multiple));
        let ramp = context.max(multiple);
        let window = round_up(tile_px, multiple).max(2 * context + 2 * ramp);
        if padded <= window {
            return Self {
                len,
                border,
                padded,
                window: padded + 2 * context,
                context,
                ramp,
                starts: vec![0],
            };
        }
        // As few tiles as windows of at most `window` allow, then the smallest window that
        // still covers the axis with that many: tiles of equal size, no mostly-empty last tile.
        let max_valid = window - 2 * context;
        let tiles = (len - ramp).div_ceil(max_valid - ramp).max(1);
        let valid = (len + (tiles - 1) * ramp).div_ceil(tiles).max(2 * ramp);
        let window = round_up(valid + 2 * context, multiple).min(window);
        let valid = window - 2 * context;
        let stride = valid - ramp;
        let mut starts = vec![0];
        let mut start = 0;
        while start + valid < len {
            start += stride;
            starts.push(start);
        }
        Self {
            len,
            border,
            padded,
            window,
            context,
            ramp,
            starts,
        }
    }

    /// Length of each tile's valid region.
    pub fn valid(&self) -> usize {
        self.window - 2 * self.context
    }

    /// The input window of tile `tile`, `begin..end` along the padded axis: the valid region
    /// with `context` on each side, cut at the padded axis's ends.
    pub fn window_of(&self, tile: usize) -> std::ops::Range<usize> {
        let start = self.starts[tile] + self.border;
        start.saturating_sub(self.context)..(start + self.valid() + self.context).min(self.padded)
    }

    /// For each tile, the image index of each window position (the padding mirrors the image).
    pub fn source_indices(&self) -> Vec<Vec<usize>> {
        (0..self.starts.len())
            .map(|tile| {
                self.window_of(tile)
                    .map(|i| mirror(i as isize - self.border as isize, self.len))
                    .collect()
            })
            .collect()
    }

    /// For each tile, its blending weight at each position of its valid region.
    pub fn valid_weights(&self) -> Vec<Vec<f64>> {
        (0..self.starts.len())
            .map(|tile| {
                let start = self.starts[tile];
                (start..start + self.valid()).map(|x| self.weight(tile, x)).collect()
            })
            .collect()
    }

    /// Blending weight of tile `tile` at image coordinate `x` (0 outside its valid region).
    /// Over all tiles the weights at any `x < len` sum to one.
    pub fn weight(&self, tile: usize, x: usize) -> f64 {
        let start = self.starts[tile];
        let end = start + self.valid();
        if x < start || x >= end {
            return 0.0;
        }
        let ramp = self.ramp as f64;
        let rise = |t: f64| (FRAC_PI_2 * t).sin().powi(2);
        let mut w = 1.0;
        if tile > 0 && x < start + self.ramp {
            w *= rise(((x - start) as f64 + 0.5) / ramp);
        }
        if tile + 1 < self.starts.len() && x + self.ramp >= end {
            w *= rise(((end - x) as f64 - 0.5) / ramp);
        }
        w
    }
}

/// A reflect-101 index map (`dcb|abcd|cba`) for any offset, however far outside `0..len`.
pub(crate) fn mirror(index: isize, len: usize) -> usize {
    if len <= 1 {
        return 0;
    }
    let period = 2 * (len as isize - 1);
    let m = index.rem_euclid(period);
    (if m < len as isize { m } else { period - m }) as usize
}

fn round_up(value: usize, multiple: usize) -> usize {
    value.div_ceil(multiple) * multiple
}

impl HairModel {
    /// Segments `rgb`, whose pixels are `spacing` apart: resamples it to the model's scale,
    /// runs overlapping tiles and blends them into probability maps at the model's scale.
    ///
    /// # Errors
    /// [`ModelError::EmptyImage`] for an image without pixels, [`ModelError::Inference`]
    /// when the runtime fails and [`ModelError::Contract`] when the output is not
    /// `[1, C, H, W]`.
    pub fn segment(&mut self, rgb: &image::RgbImage, spacing: PixelSpacing) -> Result<ProbabilityMaps, ModelError> {
        if rgb.width() == 0 || rgb.height() == 0 {
            return Err(ModelError::EmptyImage {
                path: self.path().to_path_buf(),
                width: rgb.width(),
                height: rgb.height(),
            });
        }
        let model_spacing = self.metadata().spacing;
        let scaled = resample_to_spacing(rgb, spacing, model_spacing);
        let data = self.segment_model_scale(&scaled)?;
        Ok(ProbabilityMaps {
            width: scaled.width,
            height: scaled.height,
            spacing: model_spacing,
            input_width: rgb.width(),
            input_height: rgb.height(),
            scale_to_input: model_spacing.um_per_px / spacing.um_per_px,
            channels: self.metadata().output_channels.clone(),
            data,
        })
    }

    /// Runs the tiles over an image already at model scale; returns `C×H×W` probabilities.
    fn segment_model_scale(&mut self, image: &ModelScaleImage) -> Result<Vec<f32>, ModelError> {
        let meta = self.metadata();
        let (w, h) = (image.width as usize, image.height as usize);
        let multiple = meta.tile_multiple as usize;
        let rf = meta.receptive_field_px as usize;
        let (mean, std) = (meta.input_mean, meta.input_std);
        let channels = meta.output_channels.len();
        let tile_px = self.tile_px() as usize;
        let xs = AxisTiling::new(w, tile_px, multiple, rf);
        let ys = AxisTiling::new(h, tile_px, multiple, rf);

        let mut sum = vec![0.0f32; channels * w * h];
        let mut weight_sum = vec![0.0f32; w * h];
        let (x_windows, y_windows) = (xs.source_indices(), ys.source_indices());
        let (x_weights, y_weights) = (xs.valid_weights(), ys.valid_weights());
        let mut input = Vec::new();
        for (ty, &y0) in ys.starts.iter().enumerate() {
            for (tx, &x0) in xs.starts.iter().enumerate() {
                let (tw, th) = (x_windows[tx].len(), y_windows[ty].len());
                // Normalised planar window, read through the (mirrored at the padding) indices.
                input.resize(3 * tw * th, 0.0);
                for c in 0..3 {
                    let dst = &mut input[c * tw * th..(c + 1) * tw * th];
                    for (dst_row, &row) in dst.chunks_exact_mut(tw).zip(&y_windows[ty]) {
                        let src_row = &image.rgb[3 * row * w..3 * (row + 1) * w];
                        for (d, &col) in dst_row.iter_mut().zip(&x_windows[tx]) {
                            *d = (src_row[3 * col + c] - mean[c]) / std[c];
                        }
                    }
                }
                let output = self.infer(&input, [1, 3, th, tw])?;
                if output.shape != [1, channels, th, tw] {
                    return Err(ModelError::Contract {
                        path: self.path().to_path_buf(),
                        reason: format!(
                            "output shape {:?} for input [1, 3, {th}, {tw}]; expected [1, {channels}, {th}, {tw}]",
                            output.shape
                        ),
                    });
                }
                // Accumulate the part of the valid region that lies inside the image, a row
                // at a time; (x0, y0) lies `x0 - window start` into the window.
                let wx0 = x0 + xs.border - xs.window_of(tx).start;
                let wy0 = y0 + ys.border - ys.window_of(ty).start;
                let x_weights = &x_weights[tx][..xs.valid().min(w - x0)];
                for (dy, &wy) in y_weights[ty].iter().enumerate().take(h - y0) {
                    let (y, j) = (y0 + dy, wy0 + dy);
                    let at = y * w + x0..y * w + x0 + x_weights.len();
                    for (total, &wx) in weight_sum[at.clone()].iter_mut().zip(x_weights) {
                        *total += (wy * wx) as f32;
                    }
                    for c in 0..channels {
                        let row = (c * th + j) * tw + wx0;
                        let values = &output.data[row..row + x_weights.len()];
                        let dst = &mut sum[c * w * h + at.start..c * w * h + at.end];
                        for ((total, &value), &wx) in dst.iter_mut().zip(values).zip(x_weights) {
                            *total += (wy * wx) as f32 * value;
                        }
                    }
                }
            }
        }
        // The weights form a partition of unity; dividing only removes rounding error.
        for channel in sum.chunks_exact_mut(weight_sum.len()) {
            for (value, &weight) in channel.iter_mut().zip(&weight_sum) {
                *value /= weight;
            }
        }
        Ok(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layouts() -> Vec<AxisTiling> {
        let mut all = Vec::new();
        for len in [1, 2, 7, 16, 31, 100, 513, 1000, 2049] {
            for tile in [1, 16, 40, 64, 512] {
                for multiple in [1, 4, 16] {
                    for rf in [0, 3, 33, 96] {
                        all.push(AxisTiling::new(len, tile, multiple, rf));
                    }
                }
            }
        }
        all
    }

    #[test]
    fn tiles_cover_the_axis_with_aligned_windows() {
        for t in layouts() {
            assert!(t.context * 2 < t.window, "{t:?}");
            assert_eq!(t.starts[0], 0, "{t:?}");
            let last = *t.starts.last().unwrap();
            assert!(last + t.valid() >= t.len, "last tile must reach the end: {t:?}");
            for pair in t.starts.windows(2) {
                // Consecutive valid regions overlap by exactly the ramp, and never three deep.
                assert_eq!(pair[0] + t.valid(), pair[1] + t.ramp, "{t:?}");
                assert!(t.valid() >= 2 * t.ramp, "{t:?}");
                assert!(pair[1] < t.len, "no tile starts past the end: {t:?}");
            }
        }
    }

    #[test]
    fn windows_are_multiples_and_aligned() {
        for multiple in [1, 4, 16] {
            for len in [5, 77, 600, 1500] {
                let t = AxisTiling::new(len, 200, multiple, 40);
                assert_eq!(t.window % multiple, 0, "{t:?}");
                for tile in 0..t.starts.len() {
                    let range = t.window_of(tile);
                    assert_eq!((range.start % multiple, range.end % multiple), (0, 0), "{t:?}");
                }
                for &s in &t.starts {
                    assert_eq!(
                        (s as isize - t.context as isize).rem_euclid(multiple as isize),
                        0,
                        "{t:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn context_is_at_least_half_the_receptive_field() {
        for rf in [0, 1, 3, 33, 96, 200] {
            for multiple in [1, 4, 16] {
                let t = AxisTiling::new(1000, 64, multiple, rf);
                assert!(2 * t.context >= rf, "rf={rf} {t:?}");
                assert_eq!(t.context % multiple, 0, "{t:?}");
            }
        }
    }

    #[test]
    fn weights_sum_to_one_everywhere() {
        for t in layouts() {
            for x in 0..t.len {
                let total: f64 = (0..t.starts.len()).map(|i| t.weight(i, x)).sum();
                assert!((total - 1.0).abs() < 1e-12, "x={x} total={total} {t:?}");
            }
        }
    }

    #[test]
    fn weights_fall_smoothly_to_zero_towards_inner_seams() {
        let t = AxisTiling::new(1000, 64, 4, 8);
        assert!(t.starts.len() > 2);
        let second = t.starts[1];
        assert!(t.weight(1, second) < 0.05);
        assert!(t.weight(0, second) > 0.95);
        assert_eq!(t.weight(1, second + t.ramp), 1.0);
    }

    #[test]
    fn small_axis_gets_one_window_just_large_enough() {
        let t = AxisTiling::new(30, 512, 16, 20);
        assert_eq!(t.starts, [0]);
        // 16 mirrored pixels (the border context, capped at the full context) before and
        // after the 30, rounded up to 64.
        assert_eq!((t.border, t.padded), (16, 64));
        assert_eq!(t.window_of(0), 0..64);
        let source = &t.source_indices()[0];
        assert_eq!(source[..2], [16, 15]);
        assert_eq!(source[16..18], [0, 1]);
        assert_eq!(source[44..48], [28, 29, 28, 27]);
    }

    #[test]
    fn photos_a_few_per_cent_apart_in_scale_share_window_shapes() {
        // A 1280 px side at ±3 % zoom: 1242..=1318 px at the model's scale.
        let shapes: std::collections::BTreeSet<usize> = (1242..=1318)
            .map(|len| AxisTiling::new(len, 1408, 16, 117).padded)
            .collect();
        assert_eq!(shapes.into_iter().collect::<Vec<_>>(), [1344, 1408]);
    }

    #[test]
    fn windows_stop_at_the_padded_image_and_keep_context_between_tiles() {
        for t in layouts() {
            let tiles = t.starts.len();
            for tile in 0..tiles {
                let range = t.window_of(tile);
                let start = t.starts[tile];
                assert!(range.end <= t.padded, "{t:?}");
                if tile > 0 {
                    assert_eq!(
                        range.start + t.context,
                        start + t.border,
                        "context before an inner seam: {t:?}"
                    );
                } else {
                    assert_eq!(range.start, 0, "{t:?}");
                }
                // Context after the valid region, unless the padded axis ends first.
                let end = (start + t.border + t.valid() + t.context).min(t.padded);
                assert_eq!(range.end, end, "{t:?}");
                if tile + 1 == tiles {
                    // The image's last pixel keeps its mirrored border and context, as it does
                    // in a single window over the padded axis.
                    assert!(range.end >= (t.border + t.len + t.context).min(t.padded), "{t:?}");
                }
            }
        }
    }

    #[test]
    fn mirror_reflects_without_repeating_the_edge() {
        let got: Vec<usize> = (-4..9).map(|i| mirror(i, 4)).collect();
        assert_eq!(got, [2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
        assert_eq!(mirror(-7, 1), 0);
        assert_eq!(mirror(100, 2), 0);
    }

    fn tiny_model() -> HairModel {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny-conv.onnx");
        HairModel::load(&path, None).expect("tiny test model loads (run scripts/install-onnxruntime.sh)")
    }

    /// A deterministic, detailed test image: a hash pattern plus a smooth gradient.
    fn test_image(width: u32, height: u32) -> image::RgbImage {
        image::RgbImage::from_fn(width, height, |x, y| {
            let h = (x.wrapping_mul(73_856_093) ^ y.wrapping_mul(19_349_663)).wrapping_mul(2_654_435_761);
            image::Rgb([
                (h >> 24) as u8,
                (x * 255 / width) as u8,
                ((h >> 8) as u8) / 2 + (y * 127 / height) as u8,
            ])
        })
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn tiny_tiles_give_the_same_map_as_one_whole_tile() {
        let mut model = tiny_model();
        let image = test_image(53, 41);
        let spacing = PixelSpacing::new(5.0).unwrap();
        model.set_tile_px(4096);
        let whole = model.segment(&image, spacing).unwrap();
        assert_eq!((whole.width, whole.height), (53, 41));
        for tile_px in [1, 20, 28, 36] {
            model.set_tile_px(tile_px);
            let tiled = model.segment(&image, spacing).unwrap();
            let diff = max_abs_diff(&whole.data, &tiled.data);
            assert!(diff < 1e-4, "tile_px={tile_px}: max difference {diff}");
        }
    }

    #[test]
    fn seams_do_not_show_after_resampling_either() {
        let mut model = tiny_model();
        let image = test_image(90, 70);
        let spacing = PixelSpacing::new(2.5).unwrap(); // model runs at 5 µm/px: 45 × 35
        model.set_tile_px(4096);
        let whole = model.segment(&image, spacing).unwrap();
        assert_eq!((whole.width, whole.height), (45, 35));
        assert_eq!(whole.scale_to_input, 2.0);
        model.set_tile_px(1);
        let tiled = model.segment(&image, spacing).unwrap();
        assert!(max_abs_diff(&whole.data, &tiled.data) < 1e-4);
        assert_eq!(tiled.channel_at_input_size("hair").unwrap().len(), 90 * 70);
    }

    #[test]
    fn whole_tile_matches_a_direct_run_of_the_model() {
        // Reference: the model run directly on the image (no tiling), mirrored context only
        // affects nothing here because the tiny model's zero padding is outside the context.
        let mut model = tiny_model();
        let (w, h) = (12usize, 8usize); // multiples of the tile multiple (4)
        let image = test_image(w as u32, h as u32);
        let meta = model.metadata().clone();
        let mut input = vec![0.0f32; 3 * w * h];
        for (x, y, p) in image.enumerate_pixels() {
            for c in 0..3 {
                input[c * w * h + y as usize * w + x as usize] =
                    (f32::from(p.0[c]) / 255.0 - meta.input_mean[c]) / meta.input_std[c];
            }
        }
        let direct = model.infer(&input, [1, 3, h, w]).unwrap();
        model.set_tile_px(1);
        let maps = model.segment(&image, PixelSpacing::new(5.0).unwrap()).unwrap();
        // Interior pixels (away from the border, where the direct run sees zero padding
        // and the tiled run sees mirrored pixels) agree.
        for c in 0..2 {
            for y in 1..h - 1 {
                for x in 1..w - 1 {
                    let a = direct.data[(c * h + y) * w + x];
                    let b = maps.data[(c * h + y) * w + x];
                    assert!((a - b).abs() < 1e-5, "c={c} x={x} y={y}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn empty_image_is_an_error() {
        let mut model = tiny_model();
        let err = model
            .segment(&image::RgbImage::new(0, 5), PixelSpacing::new(5.0).unwrap())
            .unwrap_err();
        assert!(matches!(err, ModelError::EmptyImage { .. }), "{err}");
    }
}

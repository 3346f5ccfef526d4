//! The segmentation result: per-channel probability maps at the model's scale, with the
//! calibration needed to map them back onto the input image.

use super::metadata::{COVERAGE_CHANNEL, HAIR_CHANNEL};
use super::resample::resize_map;
use crate::units::PixelSpacing;

/// Per-channel probabilities in [0, 1] at the model's pixel spacing.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbabilityMaps {
    /// Map width in model pixels.
    pub width: u32,
    /// Map height in model pixels.
    pub height: u32,
    /// Pixel spacing of the maps (the model's, `tricho.um_per_px`).
    pub spacing: PixelSpacing,
    /// Width of the segmented input image, in input pixels.
    pub input_width: u32,
    /// Height of the segmented input image, in input pixels.
    pub input_height: u32,
    /// Input pixels per map pixel (model µm/px ÷ input µm/px); the exact per-axis factors,
    /// which differ by rounding of the map size, are `input_width / width` and
    /// `input_height / height`.
    pub scale_to_input: f64,
    /// Channel names in the order of `data`, e.g. `["hair", "centreline"]`.
    pub channels: Vec<String>,
    /// `channels.len() × height × width` probabilities, channel-major then row-major.
    pub data: Vec<f32>,
}

impl ProbabilityMaps {
    /// The `height × width` map of channel `name`, row-major, or `None` if there is no such
    /// channel.
    pub fn channel(&self, name: &str) -> Option<&[f32]> {
        let index = self.channels.iter().position(|c| c == name)?;
        let plane = self.width as usize * self.height as usize;
        self.data.get(index * plane..(index + 1) * plane)
    }

    /// The map shaft widths are integrated on: [`COVERAGE_CHANNEL`] when the model has one,
    /// else [`HAIR_CHANNEL`]; `None` if neither is there.
    pub fn width_map(&self) -> Option<&[f32]> {
        self.channel(COVERAGE_CHANNEL).or_else(|| self.channel(HAIR_CHANNEL))
    }

    /// Channel `name` resampled to the input image's size (`input_height × input_width`,
    /// row-major), or `None` if there is no such channel.
    pub fn channel_at_input_size(&self, name: &str) -> Option<Vec<f32>> {
        let map = self.channel(name)?;
        resize_map(map, self.width, self.height, self.input_width, self.input_height)
    }

    /// Maps a position in map pixels (pixel centres at integers) to input pixels.
    pub fn to_input_px(&self, x: f64, y: f64) -> (f64, f64) {
        let sx = f64::from(self.input_width) / f64::from(self.width);
        let sy = f64::from(self.input_height) / f64::from(self.height);
        ((x + 0.5) * sx - 0.5, (y + 0.5) * sy - 0.5)
    }

    /// Index (row-major) of the map pixel nearest to input pixel (`x`, `y`): the inverse of
    /// [`Self::to_input_px`], rounded and kept inside the map.
    pub fn nearest_to_input_px(&self, x: usize, y: usize) -> usize {
        let nearest = |v: usize, input: u32, map: u32| {
            let at = (v as f64 + 0.5) * f64::from(map) / f64::from(input) - 0.5;
            (at.round().max(0.0) as usize).min(map.saturating_sub(1) as usize)
        };
        nearest(y, self.input_height, self.height) * self.width as usize + nearest(x, self.input_width, self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn maps() -> ProbabilityMaps {
        ProbabilityMaps {
            width: 3,
            height: 2,
            spacing: PixelSpacing::new(5.0).unwrap(),
            input_width: 6,
            input_height: 4,
            scale_to_input: 2.0,
            channels: vec!["hair".into(), "centreline".into()],
            data: (0..12).map(|i| i as f32 / 12.0).collect(),
        }
    }

    #[test]
    fn channels_are_found_by_name() {
        let m = maps();
        assert_eq!(m.channel("hair").unwrap().len(), 6);
        assert_eq!(m.channel("centreline").unwrap()[0], 6.0 / 12.0);
        assert!(m.channel("scalp").is_none());
    }

    #[test]
    fn widths_use_coverage_when_the_model_has_it() {
        let mut m = maps();
        assert_eq!(m.width_map().unwrap(), m.channel("hair").unwrap());
        m.channels[1] = "coverage".into();
        assert_eq!(m.width_map().unwrap(), m.channel("coverage").unwrap());
        m.channels = vec!["scalp".into(), "centreline".into()];
        assert!(m.width_map().is_none());
    }

    #[test]
    fn input_size_map_has_input_dimensions() {
        let m = maps();
        assert_eq!(m.channel_at_input_size("hair").unwrap().len(), 24);
    }

    #[test]
    fn map_coordinates_scale_about_pixel_centres() {
        let m = maps();
        assert_eq!(m.to_input_px(0.0, 0.0), (0.5, 0.5));
        assert_eq!(m.to_input_px(-0.5, -0.5), (-0.5, -0.5));
        assert_eq!(m.to_input_px(2.5, 1.5), (5.5, 3.5));
    }
}

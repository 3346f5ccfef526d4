//! The model's self-description: the `tricho.*` ONNX `metadata_props`, parsed and checked.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ModelError;
use crate::units::PixelSpacing;

/// Name of the output channel holding the hair probability, which every model must have.
pub const HAIR_CHANNEL: &str = "hair";

/// Name of the optional output channel holding each pixel's expected hair coverage: trained
/// with plain cross-entropy (no extra weight on thin or faint hairs, no overlap term), so its
/// integral across a shaft is the shaft's width. The `hair` channel, trained to reach faint
/// and thin hairs, paints them wider than they are.
pub const COVERAGE_CHANNEL: &str = "coverage";

/// Metadata keys a model must carry (written by the training script).
pub mod keys {
    /// Model name, e.g. `tricho-hairseg`.
    pub const NAME: &str = "tricho.name";
    /// Model version, e.g. `1.0.0`.
    pub const VERSION: &str = "tricho.version";
    /// Micrometres per pixel the model was trained at.
    pub const UM_PER_PX: &str = "tricho.um_per_px";
    /// Per-channel mean `r,g,b` subtracted from pixel/255.
    pub const INPUT_MEAN: &str = "tricho.input_mean";
    /// Per-channel standard deviation `r,g,b` dividing pixel/255 − mean.
    pub const INPUT_STD: &str = "tricho.input_std";
    /// Comma-separated output channel names, e.g. `hair,centreline`.
    pub const OUTPUT_CHANNELS: &str = "tricho.output_channels";
    /// Input height and width must be multiples of this.
    pub const TILE_MULTIPLE: &str = "tricho.tile_multiple";
    /// Receptive field in pixels at model scale; sets the tile overlap.
    pub const RECEPTIVE_FIELD_PX: &str = "tricho.receptive_field_px";
    /// Free-text description of the training data.
    pub const TRAINING_DATA: &str = "tricho.training_data";
}

/// What a model says about itself: scale, input normalisation, output channels, tiling needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Model name (`tricho.name`).
    pub name: String,
    /// Model version (`tricho.version`).
    pub version: String,
    /// Pixel spacing the model was trained at, and at which it runs (`tricho.um_per_px`).
    pub spacing: PixelSpacing,
    /// Per-channel RGB mean subtracted from pixel/255 (`tricho.input_mean`).
    pub input_mean: [f32; 3],
    /// Per-channel RGB standard deviation, all positive (`tricho.input_std`).
    pub input_std: [f32; 3],
    /// Output channel names in tensor order; contains [`HAIR_CHANNEL`] (`tricho.output_channels`).
    pub output_channels: Vec<String>,
    /// Input height and width must be multiples of this, ≥ 1 (`tricho.tile_multiple`).
    pub tile_multiple: u32,
    /// Receptive field in model pixels (`tricho.receptive_field_px`).
    pub receptive_field_px: u32,
    /// Description of the training data (`tricho.training_data`).
    pub training_data: String,
}

impl ModelMetadata {
    /// Parses the metadata of the model at `path`, reading keys through `lookup`.
    ///
    /// # Errors
    /// [`ModelError::MissingMetadata`] or [`ModelError::InvalidMetadata`], naming the model
    /// path and the key.
    pub fn parse(path: &Path, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ModelError> {
        let get = |key: &'static str| {
            lookup(key).ok_or_else(|| ModelError::MissingMetadata {
                path: path.to_path_buf(),
                key,
            })
        };
        let invalid = |key: &'static str, value: &str, reason: &str| ModelError::InvalidMetadata {
            path: path.to_path_buf(),
            key,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };

        let name = non_empty(get(keys::NAME)?, keys::NAME, &invalid)?;
        let version = non_empty(get(keys::VERSION)?, keys::VERSION, &invalid)?;
        let training_data = get(keys::TRAINING_DATA)?;

        let raw = get(keys::UM_PER_PX)?;
        let spacing = raw
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(PixelSpacing::new)
            .ok_or_else(|| invalid(keys::UM_PER_PX, &raw, "expected a positive number of µm per pixel"))?;

        let raw = get(keys::INPUT_MEAN)?;
        let input_mean = parse_rgb(&raw)
            .filter(|v| v.iter().all(|x| x.is_finite()))
            .ok_or_else(|| invalid(keys::INPUT_MEAN, &raw, "expected three finite numbers `r,g,b`"))?;
        let raw = get(keys::INPUT_STD)?;
        let input_std = parse_rgb(&raw)
            .filter(|v| v.iter().all(|x| x.is_finite() && *x > 0.0))
            .ok_or_else(|| invalid(keys::INPUT_STD, &raw, "expected three positive numbers `r,g,b`"))?;

        let raw = get(keys::OUTPUT_CHANNELS)?;
        let output_channels: Vec<String> = raw.split(',').map(|c| c.trim().to_owned()).collect();
        if output_channels.iter().any(String::is_empty) {
            return Err(invalid(
                keys::OUTPUT_CHANNELS,
                &raw,
                "expected comma-separated non-empty names",
            ));
        }
        if (1..output_channels.len()).any(|i| output_channels[..i].contains(&output_channels[i])) {
            return Err(invalid(keys::OUTPUT_CHANNELS, &raw, "channel names must be unique"));
        }
        if !output_channels.iter().any(|c| c == HAIR_CHANNEL) {
            return Err(invalid(keys::OUTPUT_CHANNELS, &raw, "no `hair` channel"));
        }

        let raw = get(keys::TILE_MULTIPLE)?;
        let tile_multiple = raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|&m| (1..=1024).contains(&m))
            .ok_or_else(|| invalid(keys::TILE_MULTIPLE, &raw, "expected an integer from 1 to 1024"))?;

        let raw = get(keys::RECEPTIVE_FIELD_PX)?;
        let receptive_field_px = raw
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|&r| r <= 4096)
            .ok_or_else(|| invalid(keys::RECEPTIVE_FIELD_PX, &raw, "expected an integer from 0 to 4096"))?;

        Ok(Self {
            name,
            version,
            spacing,
            input_mean,
            input_std,
            output_channels,
            tile_multiple,
            receptive_field_px,
            training_data,
        })
    }

    /// Index of the channel called `name` in the model output.
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.output_channels.iter().position(|c| c == name)
    }
}

fn non_empty(
    value: String,
    key: &'static str,
    invalid: &impl Fn(&'static str, &str, &str) -> ModelError,
) -> Result<String, ModelError> {
    if value.trim().is_empty() {
        Err(invalid(key, &value, "must not be empty"))
    } else {
        Ok(value)
    }
}

fn parse_rgb(raw: &str) -> Option<[f32; 3]> {
    let values: Vec<f32> = raw.split(',').map(|v| v.trim().parse().ok()).collect::<Option<_>>()?;
    values.try_into().ok()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn complete() -> HashMap<&'static str, String> {
        [
            (keys::NAME, "tricho-hairseg"),
            (keys::VERSION, "1.0.0"),
            (keys::UM_PER_PX, "5.0"),
            (keys::INPUT_MEAN, "0.5, 0.4,0.3"),
            (keys::INPUT_STD, "0.2,0.2,0.25"),
            (keys::OUTPUT_CHANNELS, "hair,centreline"),
            (keys::TILE_MULTIPLE, "16"),
            (keys::RECEPTIVE_FIELD_PX, "96"),
            (keys::TRAINING_DATA, "synthetic phantoms"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
    }

    fn parse(map: &HashMap<&'static str, String>) -> Result<ModelMetadata, ModelError> {
        ModelMetadata::parse(Path::new("m.onnx"), |k| map.get(k).cloned())
    }

    #[test]
    fn parses_a_complete_set() {
        let m = parse(&complete()).unwrap();
        assert_eq!(m.name, "tricho-hairseg");
        assert_eq!(m.spacing.um_per_px, 5.0);
        assert_eq!(m.input_mean, [0.5, 0.4, 0.3]);
        assert_eq!(m.input_std, [0.2, 0.2, 0.25]);
        assert_eq!(m.output_channels, ["hair", "centreline"]);
        assert_eq!(m.tile_multiple, 16);
        assert_eq!(m.receptive_field_px, 96);
        assert_eq!(m.channel_index("centreline"), Some(1));
    }

    #[test]
    fn every_missing_key_is_named() {
        for key in complete().keys() {
            let mut map = complete();
            map.remove(key);
            let err = parse(&map).unwrap_err();
            assert!(
                matches!(err, ModelError::MissingMetadata { key: k, .. } if k == *key),
                "{err}"
            );
            let message = err.to_string();
            assert!(message.contains(key) && message.contains("m.onnx"), "{message}");
        }
    }

    #[test]
    fn malformed_values_are_rejected_with_key() {
        let cases = [
            (keys::UM_PER_PX, "0"),
            (keys::UM_PER_PX, "five"),
            (keys::INPUT_MEAN, "0.5,0.4"),
            (keys::INPUT_STD, "0.2,0,0.2"),
            (keys::OUTPUT_CHANNELS, "centreline"),
            (keys::OUTPUT_CHANNELS, "hair,,x"),
            (keys::OUTPUT_CHANNELS, "hair,hair"),
            (keys::TILE_MULTIPLE, "0"),
            (keys::RECEPTIVE_FIELD_PX, "-3"),
            (keys::NAME, " "),
        ];
        for (key, value) in cases {
            let mut map = complete();
            map.insert(key, value.to_owned());
            let err = parse(&map).unwrap_err();
            assert!(
                matches!(err, ModelError::InvalidMetadata { key: k, .. } if k == key),
                "{key}={value}: {err}"
            );
            assert!(err.to_string().contains(key), "{err}");
        }
    }
}

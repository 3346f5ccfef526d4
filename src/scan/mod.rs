//! Loading a photo: the first stage of the pipeline, turning a file into upright RGB pixels
//! with the facts later stages and the audit trail need (content hash, what the file stored,
//! capture time), and finding its calibration ([`calibration`]).
//!
//! [`load_scan`] reads the file once; the same bytes give the SHA-256 and the pixels. The format
//! comes from the content, never the file name. Image size is checked from the header before
//! any pixel buffer exists, so a hostile header cannot make the loader allocate gigabytes.

pub mod calibration;
mod decode;
mod error;
mod jpeg;
mod metadata;

use std::path::{Path, PathBuf};

use image::metadata::Orientation;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use calibration::{
    resolve_calibration, validate_um_per_px, Calibration, CalibrationError, CalibrationSource, DeviceProfile,
};
pub use error::ScanError;

/// Default for [`LoadConfig::max_pixels`]: 100 megapixels.
///
/// Dermatoscope and camera sensors used for trichoscopy are 5–60 megapixels; 100 MP leaves
/// room for stitched fields while bounding the decoded buffer (300 MB as 8-bit RGB, up to
/// 1.6 GB while decoding the widest pixel type).
pub const DEFAULT_MAX_PIXELS: u64 = 100_000_000;

/// Default for [`LoadConfig::min_side_px`]: 64 px.
///
/// At clinical scales of 2–10 µm/px, 64 px spans 0.13–0.64 mm: shorter than one clipped hair
/// (~1 mm in phototrichogram protocols), so a smaller image cannot show even one hair whole and
/// is almost certainly a thumbnail or an icon, not a scan.
pub const DEFAULT_MIN_SIDE_PX: u32 = 64;

/// Limits applied while loading a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadConfig {
    /// Largest accepted width × height in pixels, checked from the header before decoding.
    /// Default [`DEFAULT_MAX_PIXELS`].
    pub max_pixels: u64,
    /// Smallest accepted width and height in pixels. Default [`DEFAULT_MIN_SIDE_PX`].
    pub min_side_px: u32,
}

impl Default for LoadConfig {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
            min_side_px: DEFAULT_MIN_SIDE_PX,
        }
    }
}

/// What the file stored, before conversion to 8-bit RGB and before EXIF orientation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalPixels {
    /// Stored width in pixels (before orientation).
    pub width: u32,
    /// Stored height in pixels (before orientation).
    pub height: u32,
    /// Bits per channel as decoded (8 or 16 for the usual files; palette PNGs report 8).
    pub bit_depth: u8,
    /// Colour model: `grey`, `grey_alpha`, `rgb`, `rgba`, `cmyk` (or `alpha`, `unknown`).
    pub colour: String,
}

/// A loaded photo: upright 8-bit RGB pixels and the facts about the file they came from.
///
/// Serialises without the pixels (for provenance records).
#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    /// The file that was read.
    pub path: PathBuf,
    /// Pixels, 8-bit RGB, after EXIF orientation. 16-bit input is scaled to 8 bits; alpha is
    /// dropped (not premultiplied); grey is replicated; CMYK is converted.
    #[serde(skip)]
    pub rgb: image::RgbImage,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Format detected from the content: `jpeg`, `png` or `tiff`.
    pub format: String,
    /// What the file stored.
    pub original: OriginalPixels,
    /// The raw EXIF Orientation tag, if the file has one (1–8; 1 is upright).
    pub exif_orientation: Option<u16>,
    /// Capture time, ISO 8601 `YYYY-MM-DDTHH:MM:SS` from EXIF DateTimeOriginal, else DateTime.
    /// Local camera time: no time zone is invented.
    pub captured_at: Option<String>,
}

impl Scan {
    /// A scan of pixels already in memory (benches, services receiving decoded images):
    /// format `raw`, `sha256` of the RGB pixel bytes (not of any file), no EXIF facts.
    pub fn from_rgb(path: PathBuf, rgb: image::RgbImage) -> Self {
        let sha256 = format!("{:x}", Sha256::digest(rgb.as_raw()));
        let original = OriginalPixels {
            width: rgb.width(),
            height: rgb.height(),
            bit_depth: 8,
            colour: "rgb".into(),
        };
        Self {
            path,
            rgb,
            sha256,
            format: "raw".into(),
            original,
            exif_orientation: None,
            captured_at: None,
        }
    }
}

/// Loads a JPEG, PNG or TIFF photo.
///
/// The file is read once. Missing or garbled EXIF is never an error (orientation and capture
/// time are then `None`).
///
/// # Errors
/// [`ScanError`], naming `path`: the file cannot be read, is empty, is not an image (whatever
/// its extension), is in another format, is truncated or corrupt, or its header claims more
/// than `config.max_pixels` or a side shorter than `config.min_side_px`.
pub fn load_scan(path: &Path, config: &LoadConfig) -> Result<Scan, ScanError> {
    let bytes = std::fs::read(path).map_err(|source| ScanError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(ScanError::Empty {
            path: path.to_path_buf(),
        });
    }
    let sha256 = format!("{:x}", Sha256::digest(&bytes));
    let decoded = decode::decode(path, &bytes, config)?;
    let facts = metadata::read_exif(&bytes);

    let mut image = decoded.image;
    let orientation = facts
        .orientation
        .and_then(|tag| u8::try_from(tag).ok())
        .and_then(Orientation::from_exif);
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(Scan {
        path: path.to_path_buf(),
        rgb: image.into_rgb8(),
        sha256,
        format: decoded.format.to_owned(),
        original: decoded.original,
        exif_orientation: facts.orientation,
        captured_at: facts.captured_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_matches_documented_values() {
        let config: LoadConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(
            config,
            LoadConfig {
                max_pixels: 100_000_000,
                min_side_px: 64
            }
        );
    }
}

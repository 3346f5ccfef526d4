//! The one error type of photo loading; every variant names the file it is about.

use std::path::PathBuf;

/// Why a photo could not be loaded. Every variant carries the path of the file.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The file could not be read (missing, no permission, a directory, …).
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// The file exists but holds zero bytes.
    #[error("cannot load {}: the file is empty (0 bytes)", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// The content starts with no known image signature (whatever the file name says).
    #[error(
        "cannot load {}: not an image (no JPEG, PNG or TIFF signature in the first bytes)",
        path.display()
    )]
    NotAnImage {
        /// The file.
        path: PathBuf,
    },

    /// The content is an image, but in a format this pipeline does not read.
    #[error("cannot load {}: unsupported image: {format} (this pipeline reads JPEG, PNG and TIFF)", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
        /// The detected format as a MIME type (e.g. `image/gif`), or the decoder's description of an
        /// unsupported feature of a JPEG, PNG or TIFF.
        format: String,
    },

    /// The file is truncated or corrupt.
    #[error("cannot decode {}: {message}", path.display())]
    Decode {
        /// The file.
        path: PathBuf,
        /// What went wrong, including the decoder's own message.
        message: String,
    },

    /// The header claims more pixels than the configured limit; nothing was allocated for them.
    #[error(
        "cannot load {}: the image claims {width}×{height} px ({} megapixels), above the limit of {} megapixels \
         (LoadConfig::max_pixels = {max_pixels})",
        path.display(),
        megapixels(u64::from(*width) * u64::from(*height)),
        megapixels(*max_pixels)
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Width claimed by the header, in pixels.
        width: u32,
        /// Height claimed by the header, in pixels.
        height: u32,
        /// The configured limit on width × height.
        max_pixels: u64,
    },

    /// One side of the image is shorter than the configured minimum.
    #[error(
        "cannot load {}: the image is {width}×{height} px, smaller than the minimum side of {min_side_px} px",
        path.display()
    )]
    TooSmall {
        /// The file.
        path: PathBuf,
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// The configured minimum side.
        min_side_px: u32,
    },
}

impl ScanError {
    /// The file this error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Self::Read { path, .. }
            | Self::Empty { path }
            | Self::NotAnImage { path }
            | Self::UnsupportedFormat { path, .. }
            | Self::Decode { path, .. }
            | Self::TooLarge { path, .. }
            | Self::TooSmall { path, .. } => path,
        }
    }
}

/// A pixel count in megapixels with one decimal, for messages.
fn megapixels(pixels: u64) -> String {
    format!("{:.1}", pixels as f64 / 1e6)
}

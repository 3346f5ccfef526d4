//! Bytes in memory → RGB pixels: format detection from content, the size checks made from the
//! header before any pixel buffer exists, and the decoder's errors turned into [`ScanError`]s.

use std::io::{Cursor, ErrorKind};
use std::path::Path;

use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

use super::jpeg::inspect_jpeg;
use super::{LoadConfig, OriginalPixels, ScanError};

/// Bytes of the widest pixel type `image` decodes into (RGBA, 32-bit float per channel). The
/// decoder's memory budget is `max_pixels` × this, so any image within `max_pixels` decodes.
const WIDEST_DECODED_PIXEL_BYTES: u64 = 16;

/// A decoded image before orientation is applied.
pub(crate) struct Decoded {
    /// The decoded pixels, in the file's own layout.
    pub image: DynamicImage,
    /// The detected format: `jpeg`, `png` or `tiff`.
    pub format: &'static str,
    /// What the file stored.
    pub original: OriginalPixels,
}

/// Detects the format from the first bytes, checks the header's size against `config`, then
/// decodes.
pub(crate) fn decode(path: &Path, bytes: &[u8], config: &LoadConfig) -> Result<Decoded, ScanError> {
    let format = image::guess_format(bytes).map_err(|_| ScanError::NotAnImage {
        path: path.to_path_buf(),
    })?;
    let format_name = match format {
        ImageFormat::Jpeg => "jpeg",
        ImageFormat::Png => "png",
        ImageFormat::Tiff => "tiff",
        other => {
            return Err(ScanError::UnsupportedFormat {
                path: path.to_path_buf(),
                format: other.to_mime_type().to_owned(),
            })
        }
    };
    let decode_error = |error| decode_error(path, format_name, error);

    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_alloc = Some(config.max_pixels.saturating_mul(WIDEST_DECODED_PIXEL_BYTES));
    reader.limits(limits);
    // Reads the header only; no pixel buffer is allocated yet.
    let decoder = reader.into_decoder().map_err(decode_error)?;

    let (width, height) = decoder.dimensions();
    check_size(path, width, height, config)?;

    let mut colour = colour_name(decoder.original_color_type());
    let bit_depth = bits_per_channel(decoder.original_color_type());
    if format == ImageFormat::Jpeg {
        let structure = inspect_jpeg(bytes).map_err(|error| ScanError::Decode {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
        // image reports a 4-component (CMYK or YCCK) JPEG as the RGB it converts it to.
        if structure.components == Some(4) {
            colour = "cmyk";
        }
    }

    let image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    Ok(Decoded {
        image,
        format: format_name,
        original: OriginalPixels {
            width,
            height,
            bit_depth,
            colour: colour.to_owned(),
        },
    })
}

/// Rejects images above `max_pixels` or with a side below `min_side_px`.
fn check_size(path: &Path, width: u32, height: u32, config: &LoadConfig) -> Result<(), ScanError> {
    if u64::from(width) * u64::from(height) > config.max_pixels {
        return Err(ScanError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            max_pixels: config.max_pixels,
        });
    }
    if width.min(height) < config.min_side_px {
        return Err(ScanError::TooSmall {
            path: path.to_path_buf(),
            width,
            height,
            min_side_px: config.min_side_px,
        });
    }
    Ok(())
}

/// Turns a decoder error into a [`ScanError`] that says what kind of failure it was.
fn decode_error(path: &Path, format_name: &str, error: ImageError) -> ScanError {
    let upper = format_name.to_uppercase();
    let message = match &error {
        ImageError::IoError(io) if io.kind() == ErrorKind::UnexpectedEof => format!("truncated {upper} ({error})"),
        ImageError::Unsupported(_) => {
            return ScanError::UnsupportedFormat {
                path: path.to_path_buf(),
                format: format!("{upper} feature ({error})"),
            }
        }
        ImageError::Limits(_) => {
            format!("the {upper} decoder needs more memory than LoadConfig::max_pixels allows ({error})")
        }
        _ => format!("invalid {upper} data ({error})"),
    };
    ScanError::Decode {
        path: path.to_path_buf(),
        message,
    }
}

/// The colour model of what the file stored, e.g. `grey`, `rgb`.
fn colour_name(colour: ExtendedColorType) -> &'static str {
    use ExtendedColorType as C;
    match colour {
        C::A8 => "alpha",
        C::L1 | C::L2 | C::L4 | C::L8 | C::L16 => "grey",
        C::La1 | C::La2 | C::La4 | C::La8 | C::La16 => "grey_alpha",
        C::Rgb1 | C::Rgb2 | C::Rgb4 | C::Rgb5x1 | C::Rgb8 | C::Rgb16 | C::Rgb32F | C::Bgr8 => "rgb",
        C::Rgba1 | C::Rgba2 | C::Rgba4 | C::Rgba8 | C::Rgba16 | C::Rgba32F | C::Bgra8 => "rgba",
        C::Cmyk8 | C::Cmyk16 => "cmyk",
        _ => "unknown",
    }
}

/// Bits per channel of what the file stored.
fn bits_per_channel(colour: ExtendedColorType) -> u8 {
    let bits = colour.bits_per_pixel() / u16::from(colour.channel_count().max(1));
    u8::try_from(bits).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_names_and_depths() {
        assert_eq!(
            (
                colour_name(ExtendedColorType::L16),
                bits_per_channel(ExtendedColorType::L16)
            ),
            ("grey", 16)
        );
        assert_eq!(
            (
                colour_name(ExtendedColorType::La8),
                bits_per_channel(ExtendedColorType::La8)
            ),
            ("grey_alpha", 8)
        );
        assert_eq!(
            (
                colour_name(ExtendedColorType::Rgb16),
                bits_per_channel(ExtendedColorType::Rgb16)
            ),
            ("rgb", 16)
        );
        assert_eq!(
            (
                colour_name(ExtendedColorType::Rgba8),
                bits_per_channel(ExtendedColorType::Rgba8)
            ),
            ("rgba", 8)
        );
        assert_eq!(
            (
                colour_name(ExtendedColorType::Cmyk8),
                bits_per_channel(ExtendedColorType::Cmyk8)
            ),
            ("cmyk", 8)
        );
        assert_eq!(bits_per_channel(ExtendedColorType::Rgb32F), 32);
        assert_eq!(bits_per_channel(ExtendedColorType::L1), 1);
    }

    #[test]
    fn size_checks_use_the_config() {
        let config = LoadConfig {
            max_pixels: 10_000,
            min_side_px: 64,
        };
        let path = Path::new("x.png");
        assert!(check_size(path, 100, 100, &config).is_ok());
        assert!(matches!(
            check_size(path, 101, 100, &config),
            Err(ScanError::TooLarge { width: 101, .. })
        ));
        assert!(matches!(
            check_size(path, 150, 63, &config),
            Err(ScanError::TooSmall { height: 63, .. })
        ));
        // Width × height is computed in 64 bits: no overflow at the largest claimable header.
        assert!(matches!(
            check_size(path, u32::MAX, u32::MAX, &config),
            Err(ScanError::TooLarge { .. })
        ));
    }
}

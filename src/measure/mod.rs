//! Measurement: traced hairs → shaft widths → per-hair measurements → per-image metrics.
//!
//! Widths are measured on the hair probability map the hairs were traced on (map pixels,
//! at the model's scale) and between the shaft's edges on the photo itself, then hairs are
//! carried to input-image pixels and micrometres and summarised as the numbers clinicians
//! read: count, density, width distribution and classes, hair mass, thin-hair fraction and
//! follicular units.

mod edges;
mod hairs;
mod metrics;
mod profile;
mod proximity;
mod stations;
pub(crate) mod stats;
mod width;

use thiserror::Error;

pub use edges::PhotoPixels;
pub use hairs::{measured_hairs, FieldMask, MeasuredHair};
pub use metrics::{compute_metrics, HairClass, ImageMetrics, MeasureConfig, WidthBin};
pub use width::{measure_widths, WidthConfig, WidthMeasurement};

/// Why hairs could not be measured.
#[derive(Debug, Error, PartialEq)]
pub enum MeasureError {
    /// A map or mask does not hold `width × height` values (or is empty).
    #[error("map has {actual} values, expected {expected} ({width}×{height}, not empty)")]
    SizeMismatch {
        /// Values expected.
        expected: usize,
        /// Values given.
        actual: usize,
        /// Width (px).
        width: usize,
        /// Height (px).
        height: usize,
    },
    /// The map-to-input scale factor is not a finite positive number.
    #[error("input pixels per map pixel must be finite and positive, got {input_px_per_map_px}")]
    InvalidScale {
        /// The factor given.
        input_px_per_map_px: f64,
    },
}

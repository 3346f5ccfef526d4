//! The per-image JSON (`<stem>.json`): typed, versioned, every field named with its unit.
//! Scripts may rely on `metrics.count`, `metrics.density_per_cm2` and
//! `metrics.mean_width_um`; everything else is documented in the README.

use serde::{Deserialize, Serialize};

use super::provenance::Provenance;
use crate::analyze::{AnalysisConfig, ImageAnalysis, StageTimings};
use crate::measure::{ImageMetrics, MeasuredHair};
use crate::quality::{OverlayRegion, QualityReport};
use crate::scan::{Calibration, Scan};

/// Version of the per-image JSON schema; bumped on any incompatible change.
pub const IMAGE_REPORT_SCHEMA_VERSION: u32 = 1;
/// Value of [`ImageReport::kind`].
pub const IMAGE_REPORT_KIND: &str = "tricho.image_analysis";

/// Everything `tricho analyze` reports about one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageReport {
    /// [`IMAGE_REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`IMAGE_REPORT_KIND`].
    pub kind: String,
    /// The photo analysed.
    pub input: InputRecord,
    /// The scale used and where it came from.
    pub calibration: Calibration,
    /// Tool, model and settings.
    pub provenance: Provenance<AnalysisConfig>,
    /// Focus, exposure and the other quality flags.
    pub quality: QualityReport,
    /// The analysed field: scalp pixels, with device overlays masked out.
    pub field: FieldRecord,
    /// Count, density, widths, classes, hair mass, follicular units.
    pub metrics: ImageMetrics,
    /// One record per traced hair (also those that do not count), numbered as in the overlay.
    pub hairs: Vec<MeasuredHair>,
    /// Warnings a reader must see (e.g. results in pixels because there is no calibration).
    pub warnings: Vec<String>,
    /// Wall time per stage (ms); the only field that differs between identical runs.
    pub timings_ms: TimingsRecord,
}

/// The photo: file, hash and pixels as decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The file as given on the command line or found in a folder.
    pub path: String,
    /// Lower-case hex sha256 of the file's bytes.
    pub sha256: String,
    /// Decoded format (`jpeg`, `png`, `tiff`).
    pub format: String,
    /// Width after EXIF orientation, in pixels.
    pub width_px: u32,
    /// Height after EXIF orientation, in pixels.
    pub height_px: u32,
    /// EXIF orientation tag (1–8) that was applied, if any.
    pub exif_orientation: Option<u16>,
    /// Capture time from EXIF (`YYYY-MM-DDTHH:MM:SS`, camera local time), if present.
    pub captured_at: Option<String>,
}

/// The analysed field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldRecord {
    /// Scalp pixels analysed.
    pub area_px: u64,
    /// Fraction of the frame that is scalp.
    pub scalp_fraction: f64,
    /// Device overlays found and masked.
    pub overlays: Vec<OverlayRegion>,
}

/// Per-stage wall time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimingsRecord {
    /// Reading, hashing and decoding the file.
    pub decode_ms: f64,
    /// The analysis stages.
    #[serde(flatten)]
    pub stages: StageTimings,
}

impl ImageReport {
    /// The report of `analysis` of `scan`.
    pub fn new(scan: &Scan, analysis: &ImageAnalysis, provenance: Provenance<AnalysisConfig>, decode_ms: f64) -> Self {
        Self {
            schema_version: IMAGE_REPORT_SCHEMA_VERSION,
            kind: IMAGE_REPORT_KIND.to_string(),
            input: InputRecord {
                path: scan.path.display().to_string(),
                sha256: scan.sha256.clone(),
                format: scan.format.clone(),
                width_px: scan.rgb.width(),
                height_px: scan.rgb.height(),
                exif_orientation: scan.exif_orientation,
                captured_at: scan.captured_at.clone(),
            },
            calibration: analysis.calibration.clone(),
            provenance,
            quality: analysis.quality.clone(),
            field: FieldRecord {
                area_px: analysis.field.scalp_pixels,
                scalp_fraction: analysis.field.scalp_fraction(),
                overlays: analysis.field.overlays.clone(),
            },
            metrics: analysis.metrics.clone(),
            hairs: analysis.hairs.clone(),
            warnings: analysis.warnings.clone(),
            timings_ms: TimingsRecord {
                decode_ms,
                stages: analysis.timings,
            },
        }
    }
}

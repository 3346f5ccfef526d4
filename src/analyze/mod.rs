//! The measurement core: one loaded photo in, every hair counted and measured out.
//!
//! [`analyze_scan`] chains the stages of DESIGN.md — field and quality (device overlays
//! masked), segmentation at the model's µm/px, tracing, width measurement and the per-image
//! metrics — and times each one. Front doors (the CLI, later the batch runner) only find
//! files, load them, call this and write the report.

mod inputs;
mod per_thread;
mod resolution;

use std::time::Instant;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::measure::{
    compute_metrics, measure_widths, measured_hairs, ImageMetrics, MeasureConfig, MeasureError, MeasuredHair,
    PhotoPixels, WidthConfig,
};
use crate::quality::{assess_quality, field_and_quality, FieldMask, QualityFlag, QualityReport};
use crate::scan::{Calibration, LoadConfig, Scan};
use crate::segment::{HairModel, ModelError, ProbabilityMaps};
use crate::skin_texture::SkinTexture;
use crate::trace::{trace_maps, TraceConfig, TraceError};
pub use inputs::{collect_images, ImageInput, InputError, IMAGE_EXTENSIONS, OWN_OUTPUT_SUFFIXES};
pub use per_thread::PerThread;
use resolution::{in_field, mask_outside_field, off_field, shows_hair};

/// The message of a caught panic (`catch_unwind`'s payload), empty if it carries none: front
/// doors turn a panic on one photo into that photo's error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Every setting of an analysis, recorded in each report. Defaults are documented per field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisConfig {
    /// Image loading limits.
    pub load: LoadConfig,
    /// Tracer settings (its `spacing` is replaced by the model's at run time).
    pub trace: TraceConfig,
    /// Width measurement settings.
    pub width: WidthConfig,
    /// Classification and counting settings.
    pub measure: MeasureConfig,
    /// Quality limits of the analysis itself.
    pub limits: AnalysisLimits,
}

/// Limits the analysis applies to its own result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisLimits {
    /// Fewer counted hairs than this raise [`QualityFlag::TooFewHairs`]. Default 10: below
    /// ten hairs the Poisson uncertainty of the count alone exceeds 30 %, too much for a
    /// density or a width distribution to mean anything.
    pub min_counted_hairs: usize,
}

impl Default for AnalysisLimits {
    fn default() -> Self {
        Self { min_counted_hairs: 10 }
    }
}

/// Wall time of each stage of one analysis, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StageTimings {
    /// Field (overlay) detection and quality assessment.
    pub quality_ms: f64,
    /// Segmentation: resampling, tiled inference, blending.
    pub segment_ms: f64,
    /// Tracing hairs in the probability maps.
    pub trace_ms: f64,
    /// Width measurement and metrics.
    pub measure_ms: f64,
}

/// Everything measured on one photo.
#[derive(Debug, Clone)]
pub struct ImageAnalysis {
    /// The calibration used, with its source.
    pub calibration: Calibration,
    /// Scalp pixels and the device overlays masked out.
    pub field: FieldMask,
    /// Focus, exposure and the other quality flags.
    pub quality: QualityReport,
    /// Every traced hair, in input-image pixels, with its width, class and whether it counts.
    pub hairs: Vec<MeasuredHair>,
    /// The per-image metrics.
    pub metrics: ImageMetrics,
    /// Human-readable warnings (e.g. no calibration: results in pixels only).
    pub warnings: Vec<String>,
    /// The segmentation at the model's scale, zero outside the field: kept so that a
    /// comparison can look for a hair at one visit where it was traced only at the other.
    pub maps: ProbabilityMaps,
    /// Time per stage.
    pub timings: StageTimings,
}

/// Why an image could not be analysed.
#[derive(Debug, Error)]
pub enum AnalyzeError {
    /// The model failed on the image.
    #[error("cannot segment {}: {source}", path.display())]
    Segment {
        /// The image.
        path: std::path::PathBuf,
        /// The model's error.
        source: ModelError,
    },
    /// Widths could not be measured.
    #[error("cannot measure hairs in {}: {source}", path.display())]
    Measure {
        /// The image.
        path: std::path::PathBuf,
        /// The measuring error.
        source: MeasureError,
    },
    /// The probability maps could not be traced.
    #[error("cannot trace hairs in {}: {source}", path.display())]
    Trace {
        /// The image.
        path: std::path::PathBuf,
        /// The tracer's error.
        source: TraceError,
    },
}

/// Warning recorded when an image has no calibration.
pub const UNCALIBRATED_WARNING: &str = "no calibration (give --um-per-px, a sidecar <image>.calibration.json or a \
     device profile): the image was segmented as if it were at the model's native scale and every result is in \
     pixels; µm and per-cm² fields are null";

/// Analyses one loaded photo with `model`.
///
/// Without a calibration the image is segmented as if it were at the model's native scale
/// and only pixel results are reported (µm and per-cm² fields are `None`), with a warning.
///
/// # Errors
/// [`AnalyzeError::Segment`] if inference fails, [`AnalyzeError::Trace`] if the model's
/// output has no hair channel.
pub fn analyze_scan(
    model: &mut HairModel,
    scan: &Scan,
    calibration: &Calibration,
    config: &AnalysisConfig,
) -> Result<ImageAnalysis, AnalyzeError> {
    let mut timings = StageTimings::default();
    let mut warnings = Vec::new();
    let started = Instant::now();
    let (mut field, mut quality) = field_and_quality(&scan.rgb, calibration.spacing);
    timings.quality_ms = elapsed_ms(started);

    let started = Instant::now();
    let segment_spacing = calibration.spacing.unwrap_or(model.metadata().spacing);
    if calibration.spacing.is_none() {
        warnings.push(UNCALIBRATED_WARNING.to_string());
    }
    let photo_to_segment = field.photo_to_segment(&scan.rgb);
    let mut maps = model
        .segment(&photo_to_segment, segment_spacing)
        .map_err(|source| AnalyzeError::Segment {
            path: scan.path.clone(),
            source,
        })?;
    if let Some(without_highlights) =
        field.without_strokes(|stroke| shows_hair(&maps, stroke, config.trace.hair_threshold))
    {
        field = without_highlights;
        quality = assess_quality(&scan.rgb, &field, calibration.spacing);
    }
    let hidden = mask_outside_field(&mut maps, &field);
    timings.segment_ms = elapsed_ms(started);

    let started = Instant::now();
    let traced = trace_maps(&maps, Some(&hidden), &config.trace).map_err(|source| AnalyzeError::Trace {
        path: scan.path.clone(),
        source,
    })?;
    timings.trace_ms = elapsed_ms(started);

    let started = Instant::now();
    let width_map = maps.width_map().unwrap_or(&[]);
    let measure_error = |source| AnalyzeError::Measure {
        path: scan.path.clone(),
        source,
    };
    let photo = PhotoPixels::new(&photo_to_segment, maps.scale_to_input);
    let widths = measure_widths(
        width_map,
        maps.width as usize,
        maps.height as usize,
        &traced,
        Some(&photo),
        &config.width,
    )
    .map_err(measure_error)?;
    let hairs = measured_hairs(
        &traced,
        &widths,
        maps.scale_to_input,
        |x, y| in_field(&field, x, y),
        calibration.spacing,
        &config.measure,
    )
    .map_err(measure_error)?;
    let metrics = compute_metrics(&hairs, field.scalp_pixels, calibration.spacing, &config.measure);
    if metrics.count < config.limits.min_counted_hairs {
        quality.flags.push(QualityFlag::TooFewHairs);
    }
    timings.measure_ms = elapsed_ms(started);
    Ok(ImageAnalysis {
        calibration: calibration.clone(),
        field,
        quality,
        hairs,
        metrics,
        warnings,
        maps,
        timings,
    })
}

impl ImageAnalysis {
    /// The skin of the photo this analysis was made of, from its luma plane, for aligning it
    /// with another visit (see [`SkinTexture`]); only comparisons need it, so it is not kept.
    pub fn skin(&self, luma: &[f32]) -> SkinTexture {
        let size = (self.field.width, self.field.height);
        SkinTexture::new(luma, size, &self.maps, &off_field(&self.maps, &self.field))
    }
}

fn elapsed_ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

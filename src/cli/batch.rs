//! `tricho batch MANIFEST`: a trial's or clinic's photos analysed per visit, each later visit
//! compared with the baseline, and the cohort summarised ([`tricho::batch`]).
//!
//! Exit codes: 0 every row analysed and every pair compared; 1 any manifest row, photo or
//! pair failed (the rest is still done and written), or the manifest or output folder cannot
//! be used; 2 invalid arguments.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use tricho::analyze::analyze_scan;
use tricho::batch::manifest::Manifest;
use tricho::batch::shard::Shard;
use tricho::batch::{run_batch, AnalyzeFailure, BatchContext, BatchSettings};
use tricho::cohort::ResponderRule;
use tricho::report::ModelRecord;
use tricho::scan::DeviceProfile;

use super::analyze::{parse_um_per_px, AnalysisArgs};

/// Arguments of `tricho batch`.
#[derive(Args, Debug)]
pub struct BatchArgs {
    /// Manifest CSV (subject, site, visit, date, path, um_per_px) or a folder laid out as
    /// subject/visit/photo.
    manifest: PathBuf,
    /// Output folder (created if missing; an earlier run there is resumed).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Run only shard k of n (subjects split by a hash of their id); join with `tricho merge`.
    #[arg(long, default_value_t = Shard::WHOLE)]
    shard: Shard,
    /// Calibration (µm per pixel) for rows without a manifest um_per_px.
    #[arg(long, value_parser = parse_um_per_px)]
    um_per_px: Option<f64>,
    /// Device profile JSON (`{"name": "...", "um_per_px": F}`) for rows without another calibration.
    #[arg(long)]
    device_profile: Option<PathBuf>,
    /// Compare visits whose calibrations differ (default: such a pair is an error).
    #[arg(long)]
    allow_mixed_calibration: bool,
    /// A density change (%) below this is "no detectable change" (default: the measured repeatability).
    #[arg(long)]
    repeatability_pct: Option<f64>,
    /// A responder has a density change of at least this (%) (default: category improved or better).
    #[arg(long)]
    responder_min_density_pct: Option<f64>,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    model: super::ModelArgs,
}

/// Runs the batch; see the module documentation for outputs and exit codes.
pub fn run(args: BatchArgs) -> Result<ExitCode> {
    let mut settings = BatchSettings {
        analysis: args.analysis.analysis_config()?,
        um_per_px: args.um_per_px,
        allow_mixed_calibration: args.allow_mixed_calibration,
        ..BatchSettings::default()
    };
    if let Some(r) = args.repeatability_pct {
        settings.compare.response = super::compare::response_with_repeatability(r)?;
    }
    if let Some(pct) = args.responder_min_density_pct {
        if !pct.is_finite() {
            return Err(anyhow!("--responder-min-density-pct ({pct}) must be a number"));
        }
        settings.responder = ResponderRule::MinDensityChangePct { pct };
    }
    let manifest = Manifest::load(&args.manifest)?;
    let device = args.device_profile.as_deref().map(DeviceProfile::load).transpose()?;
    let (model_path, audit) = args.model.start_run(&args.out)?;
    let models = super::WorkerModels::new(&model_path, args.model.file.ort_dylib.as_deref())?;
    let model = models.with(|model| Ok(ModelRecord::of(model)))?;
    let selected = manifest
        .subjects
        .iter()
        .filter(|s| args.shard.holds(&s.id))
        .map(|s| s.visits.len())
        .sum::<usize>();
    let bar = ProgressBar::new(selected as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} visits  {per_sec}  eta {eta}") {
        bar.set_style(style);
    }
    let analyse = |scan: &tricho::scan::Scan, calibration: &tricho::scan::Calibration| {
        models
            .with(|model| Ok(analyze_scan(model, scan, calibration, &settings.analysis)?))
            .map_err(|e| AnalyzeFailure::Other(format!("{e:#}")))
    };
    let progress = || bar.inc(1);
    let warn = |message: &str| bar.suspend(|| eprintln!("error: {message}"));
    let started = Instant::now();
    let outcome = run_batch(
        &manifest,
        args.shard,
        &BatchContext {
            manifest_path: &args.manifest,
            out: &args.out,
            settings: &settings,
            device: device.as_ref(),
            model: &model,
            analyse: &analyse,
            progress: &progress,
            warn: &warn,
            audit: &audit,
        },
    )
    .with_context(|| format!("batch {}", args.manifest.display()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "shard {}: {} in {seconds:.1} s ({:.2} visits/s); report: {}",
        args.shard,
        outcome.summary.describe(),
        outcome.visits as f64 / seconds.max(1e-9),
        args.out.join("report.html").display()
    );
    Ok(if outcome.summary.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

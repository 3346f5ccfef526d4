//! `tricho analyze`: every hair in one photo or a whole folder counted and measured.
//!
//! Writes `<stem>.json` and `<stem>.overlay.png` per image and `summary.csv` (one row per
//! image, failures included), and appends an `analysis` record per image and an `export`
//! record for `summary.csv` to the folder's `audit.jsonl` ([`tricho::audit`]). Exit code 0
//! when every image was analysed, 1 when any image or folder failed (the others are still
//! analysed and written), 2 for invalid arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use tricho::analyze::{analyze_scan, collect_images, AnalysisConfig, ImageInput};
use tricho::audit::{analysis_event, summary_export_event, AnalysisSettings, AuditLog};
use tricho::report::{draw_overlay, write_summary_csv, ImageReport, Provenance, SummaryRow};
use tricho::scan::{load_scan, resolve_calibration, validate_um_per_px, DeviceProfile, ScanError};
use tricho::segment::HairModel;

/// Arguments of `tricho analyze`.
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// Images (JPEG, PNG, TIFF) and folders (searched recursively for .jpg/.jpeg/.png/.tif/.tiff).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Calibration in µm per pixel for every image (overrides sidecars and the device profile).
    #[arg(long, value_parser = parse_um_per_px)]
    um_per_px: Option<f64>,
    /// Device profile JSON (`{"name": "...", "um_per_px": F}`) used for images without a sidecar.
    #[arg(long)]
    device_profile: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    model: super::ModelArgs,
}

/// The analysis settings a user may change, shared by the commands that analyse photos.
#[derive(Args, Debug)]
pub(super) struct AnalysisArgs {
    /// Hairs at most this wide (µm) are vellus.
    #[arg(long, default_value_t = AnalysisConfig::default().measure.vellus_max_um)]
    vellus_max_um: f64,
    /// Hairs at least this wide (µm) are terminal.
    #[arg(long, default_value_t = AnalysisConfig::default().measure.terminal_min_um)]
    terminal_min_um: f64,
    /// Trace hairs along the model's centreline ridges, then fill in from the hair mask's
    /// skeleton (experimental, see the README's Accuracy section), instead of the skeleton alone.
    #[arg(long)]
    ridge_tracking: bool,
}

impl AnalysisArgs {
    /// The analysis settings with these class thresholds and this tracer.
    pub(super) fn analysis_config(&self) -> Result<AnalysisConfig> {
        if !(self.vellus_max_um > 0.0 && self.vellus_max_um < self.terminal_min_um) {
            return Err(anyhow!(
                "--vellus-max-um ({}) must be positive and below --terminal-min-um ({})",
                self.vellus_max_um,
                self.terminal_min_um
            ));
        }
        let mut config = AnalysisConfig::default();
        config.measure.vellus_max_um = self.vellus_max_um;
        config.measure.terminal_min_um = self.terminal_min_um;
        config.trace.ridge_tracking = self.ridge_tracking;
        Ok(config)
    }
}

pub(super) fn parse_um_per_px(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
    validate_um_per_px(value, "--um-per-px")
        .map(|spacing| spacing.um_per_px)
        .map_err(|e| e.to_string())
}

/// What a worker needs besides its model.
struct Job<'a> {
    config: &'a AnalysisConfig,
    um_per_px: Option<f64>,
    device: Option<&'a DeviceProfile>,
    out: &'a Path,
    audit: &'a AuditLog,
}

/// Analyses every image; see the module documentation for outputs and exit codes.
pub fn run(args: AnalyzeArgs) -> Result<ExitCode> {
    let config = args.analysis.analysis_config()?;
    let device = args.device_profile.as_deref().map(DeviceProfile::load).transpose()?;
    let (model_path, audit) = args.model.start_run(&args.out)?;
    let models = super::WorkerModels::new(&model_path, args.model.file.ort_dylib.as_deref())?;
    let provenance = models.with(|model| Ok(Provenance::new(model, config.clone())))?;

    let (inputs, input_errors) = collect_images(&args.paths);
    for e in &input_errors {
        eprintln!("error: {e}");
    }
    let job = Job {
        config: &config,
        um_per_px: args.um_per_px,
        device: device.as_ref(),
        out: &args.out,
        audit: &audit,
    };
    let bar = progress_bar(inputs.len());
    let started = Instant::now();
    let mut rows: Vec<SummaryRow> = inputs
        .par_iter()
        .map(|input| {
            let result = models.with(|model| analyze_guarded(model, input, &job, &provenance));
            bar.inc(1);
            match result {
                Ok(row) => row,
                Err(e) => {
                    let message = format!("{e:#}");
                    // Every load error names its file; other errors get it in front.
                    let line = if e.is::<ScanError>() {
                        message.clone()
                    } else {
                        format!("{}: {message}", input.path.display())
                    };
                    bar.suspend(|| eprintln!("error: {line}"));
                    SummaryRow::failed(&input.path, &input.output_stem, &message)
                }
            }
        })
        .collect();
    bar.finish_and_clear();
    rows.extend(input_errors.iter().map(|e| SummaryRow::failed(&e.path, "", &e.reason)));
    let summary = args.out.join("summary.csv");
    write_summary_csv(&summary, &rows)?;
    audit.append(summary_export_event(&summary, &rows, Some(&provenance.model.sha256))?)?;
    let failed = rows.iter().filter(|r| r.status != "ok").count();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "analysed {} of {} images in {seconds:.1} s ({:.2} images/s); {failed} failed; summary: {}",
        rows.len() - failed,
        rows.len(),
        inputs.len() as f64 / seconds.max(1e-9),
        summary.display()
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Creates the output folder and checks that files can be written in it, so an unwritable
/// folder fails once, before any image is analysed.
pub(super) fn prepare_output_folder(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create output folder {}", out.display()))?;
    let probe = out.join(".tricho-write-test");
    std::fs::write(&probe, b"").with_context(|| format!("output folder {} is not writable", out.display()))?;
    std::fs::remove_file(&probe).with_context(|| format!("cannot clean up {}", probe.display()))
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} images  {per_sec}  eta {eta}") {
        bar.set_style(style);
    }
    bar
}

/// [`analyze_one`], with a panic turned into this image's error so that a bug triggered by
/// one file cannot abort the whole folder.
fn analyze_guarded(
    model: &mut HairModel,
    input: &ImageInput,
    job: &Job,
    provenance: &Provenance<AnalysisConfig>,
) -> Result<SummaryRow> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze_one(model, input, job, provenance)
    }))
    .unwrap_or_else(|panic| {
        let reason = tricho::analyze::panic_message(panic.as_ref());
        Err(anyhow!(
            "internal error while analysing {}: {reason}",
            input.path.display()
        ))
    })
}

fn analyze_one(
    model: &mut HairModel,
    input: &ImageInput,
    job: &Job,
    provenance: &Provenance<AnalysisConfig>,
) -> Result<SummaryRow> {
    let started = Instant::now();
    let scan = load_scan(&input.path, &job.config.load)?;
    let decode_ms = started.elapsed().as_secs_f64() * 1e3;
    let calibration = resolve_calibration(&input.path, job.um_per_px, job.device)?;
    let analysis = analyze_scan(model, &scan, &calibration, job.config)?;
    let report = ImageReport::new(&scan, &analysis, provenance.clone(), decode_ms);
    let json_path = job.out.join(format!("{}.json", input.output_stem));
    let json = serde_json::to_vec_pretty(&report).context("cannot serialise the report")?;
    std::fs::write(&json_path, json).with_context(|| format!("cannot write {}", json_path.display()))?;
    let overlay_path = job.out.join(format!("{}.overlay.png", input.output_stem));
    draw_overlay(&scan.rgb, &analysis.field, &analysis.hairs)
        .save(&overlay_path)
        .with_context(|| format!("cannot write {}", overlay_path.display()))?;
    let settings = AnalysisSettings {
        analysis: job.config.clone(),
        calibration,
    };
    let outputs = vec![json_path, overlay_path];
    job.audit
        .append(analysis_event(&input.path, &report, &settings, outputs)?)?;
    Ok(SummaryRow::ok(&input.output_stem, &report))
}

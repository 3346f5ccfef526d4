//! `tricho compare BASELINE FOLLOWUP`: both visits analysed (in parallel, one model each),
//! registered, matched hair to hair, and the response written as `comparison.json` with a
//! side-by-side `comparison.overlay.png` and each visit's own analysis JSON.
//!
//! Exit codes: 0 compared; 1 an input could not be read, calibrated or analysed, or the two
//! could not be registered (the message names the file and the cause); 2 invalid arguments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use clap::Args;

use tricho::analyze::{analyze_scan, ImageAnalysis};
use tricho::audit::{comparison_event, AuditLog};
use tricho::compare::response::ResponseConfig;
use tricho::compare::{compare_visits, CompareConfig};
use tricho::report::{
    draw_comparison_overlay, ComparisonReport, ComparisonSettings, ImageReport, Provenance, VisitParts,
};
use tricho::scan::{load_scan, resolve_calibration, DeviceProfile, Scan};

use super::analyze::parse_um_per_px;

/// Arguments of `tricho compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// The baseline photo (JPEG, PNG, TIFF).
    baseline: PathBuf,
    /// The follow-up photo of the same site.
    followup: PathBuf,
    /// Calibration in µm per pixel for both visits (overrides sidecars and the device profile).
    #[arg(long, value_parser = parse_um_per_px)]
    um_per_px: Option<f64>,
    /// Calibration of the baseline only (overrides --um-per-px for it).
    #[arg(long, value_parser = parse_um_per_px)]
    baseline_um_per_px: Option<f64>,
    /// Calibration of the follow-up only (overrides --um-per-px for it).
    #[arg(long, value_parser = parse_um_per_px)]
    followup_um_per_px: Option<f64>,
    /// Device profile JSON (`{"name": "...", "um_per_px": F}`) for visits without a sidecar.
    #[arg(long)]
    device_profile: Option<PathBuf>,
    /// Days between the visits (default: from the photos' EXIF capture dates).
    #[arg(long)]
    interval_days: Option<i64>,
    /// Output folder (created if missing).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// A density change (%) below this is "no detectable change" (default: the measured repeatability).
    #[arg(long)]
    repeatability_pct: Option<f64>,
    #[command(flatten)]
    analysis: super::analyze::AnalysisArgs,
    #[command(flatten)]
    model: super::ModelFileArgs,
}

/// The default response settings with the repeatability given by `--repeatability-pct`.
pub(super) fn response_with_repeatability(pct: f64) -> Result<ResponseConfig> {
    if !(pct.is_finite() && pct >= 0.0) {
        return Err(anyhow!("--repeatability-pct ({pct}) must be a non-negative number"));
    }
    Ok(ResponseConfig {
        repeatability_density_pct: pct,
        repeatability_source: "given on the command line (--repeatability-pct)".to_string(),
        ..ResponseConfig::default()
    })
}

/// One visit loaded and analysed.
struct Visit {
    scan: Scan,
    analysis: ImageAnalysis,
    decode_ms: f64,
}

/// Compares the two visits; see the module documentation for outputs and exit codes.
pub fn run(args: CompareArgs) -> Result<ExitCode> {
    let analysis_config = args.analysis.analysis_config()?;
    let mut compare_config = CompareConfig::default();
    if let Some(r) = args.repeatability_pct {
        compare_config.response = response_with_repeatability(r)?;
    }
    let device = args.device_profile.as_deref().map(DeviceProfile::load).transpose()?;
    let model_path = args.model.path()?;
    super::analyze::prepare_output_folder(&args.out)?;
    let audit = AuditLog::open(&args.out)?;
    let models = super::WorkerModels::new(&model_path, args.model.ort_dylib.as_deref())?;
    let provenance = models.with(|model| {
        Ok(Provenance::new(
            model,
            ComparisonSettings {
                analysis: analysis_config.clone(),
                compare: compare_config.clone(),
            },
        ))
    })?;
    let started = Instant::now();
    let load = |path: &Path, um_per_px: Option<f64>| -> Result<Visit> {
        let t = Instant::now();
        let scan = load_scan(path, &analysis_config.load)?;
        let decode_ms = t.elapsed().as_secs_f64() * 1e3;
        let calibration = resolve_calibration(path, um_per_px, device.as_ref())
            .with_context(|| format!("cannot calibrate {}", path.display()))?;
        let analysis = models.with(|model| Ok(analyze_scan(model, &scan, &calibration, &analysis_config)?))?;
        Ok(Visit {
            scan,
            analysis,
            decode_ms,
        })
    };
    let (baseline, followup) = rayon::join(
        || load(&args.baseline, args.baseline_um_per_px.or(args.um_per_px)),
        || load(&args.followup, args.followup_um_per_px.or(args.um_per_px)),
    );
    let baseline = baseline.with_context(|| format!("baseline {}", args.baseline.display()))?;
    let followup = followup.with_context(|| format!("follow-up {}", args.followup.display()))?;
    let analyses_ms = started.elapsed().as_secs_f64() * 1e3;

    let comparison = compare_visits(
        &baseline.analysis,
        &followup.analysis,
        (&baseline.scan.rgb, &followup.scan.rgb),
        (
            baseline.scan.captured_at.as_deref(),
            followup.scan.captured_at.as_deref(),
        ),
        args.interval_days,
        &analysis_config.measure,
        &compare_config,
    )
    .with_context(|| {
        format!(
            "cannot compare {} with {}",
            args.baseline.display(),
            args.followup.display()
        )
    })?;

    let visit_provenance = Provenance {
        tool: provenance.tool.clone(),
        tool_version: provenance.tool_version.clone(),
        model: provenance.model.clone(),
        settings: analysis_config.clone(),
    };
    let mut files = Vec::new();
    for (name, visit) in [("baseline", &baseline), ("followup", &followup)] {
        let file = format!("{name}.json");
        let report = ImageReport::new(&visit.scan, &visit.analysis, visit_provenance.clone(), visit.decode_ms);
        write_json(&args.out.join(&file), &report)?;
        files.push(file);
    }
    let report = ComparisonReport::new(
        VisitParts {
            scan: &baseline.scan,
            analysis: &baseline.analysis,
            analysis_file: files[0].clone(),
        },
        VisitParts {
            scan: &followup.scan,
            analysis: &followup.analysis,
            analysis_file: files[1].clone(),
        },
        &comparison,
        provenance,
        analyses_ms,
    );
    let json_path = args.out.join("comparison.json");
    write_json(&json_path, &report)?;
    let overlay_path = args.out.join("comparison.overlay.png");
    draw_comparison_overlay(
        &baseline.scan.rgb,
        &followup.scan.rgb,
        &baseline.analysis.hairs,
        &followup.analysis.hairs,
        &comparison,
    )
    .save(&overlay_path)
    .with_context(|| format!("cannot write {}", overlay_path.display()))?;
    let mut outputs: Vec<PathBuf> = files.iter().map(|f| args.out.join(f)).collect();
    outputs.extend([json_path.clone(), overlay_path]);
    audit.append(comparison_event(&args.baseline, &args.followup, &report, outputs)?)?;
    let pct = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), |v| format!("{v:+.1} %"));
    eprintln!(
        "overlap {:.0} %, registration confidence {:.2}; persisting {}, new {}, lost {}; density change {} → {:?}; {}",
        report.registration.overlap_fraction * 100.0,
        report.registration.confidence,
        report.matching.summary.persisting,
        report.matching.summary.new,
        report.matching.summary.lost,
        pct(report.change.density_pct.or(report.change.count_pct)),
        report.response.category,
        json_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_vec_pretty(value).context("cannot serialise the report")?;
    std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
}

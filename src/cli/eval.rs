//! `tricho eval`: runs the whole analysis on phantoms with exact truth and prints the
//! accuracy table (count, density, width, class; overall and per stratum).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use indicatif::ProgressBar;
use rayon::prelude::*;

use tricho::analyze::{analyze_scan, AnalysisConfig};
use tricho::eval::{markdown_report, score_phantom, summarise, PhantomScore};
use tricho::scan::{load_scan, Calibration, CalibrationSource};
use tricho::segment::HairModel;
use tricho::synth::truth::PhantomTruth;
use tricho::units::PixelSpacing;

/// Arguments of `tricho eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Folders of phantoms (`*.truth.json` beside their images), e.g. from `tricho synth`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Write every phantom's score and the summaries here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The ONNX model (default: the committed models/hairseg.onnx).
    #[arg(long)]
    model: Option<PathBuf>,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH, the project's .ort/, an installed onnxruntime).
    #[arg(long)]
    ort_dylib: Option<PathBuf>,
}

fn truth_files(dirs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read folder {}", dir.display()))?
                .path();
            if path.to_string_lossy().ends_with(".truth.json") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn score_one(model: &mut HairModel, truth_path: &Path, config: &AnalysisConfig) -> Result<PhantomScore> {
    let text = std::fs::read_to_string(truth_path).with_context(|| format!("cannot read {}", truth_path.display()))?;
    let truth: PhantomTruth =
        serde_json::from_str(&text).with_context(|| format!("cannot parse {}", truth_path.display()))?;
    let image = truth_path.with_file_name(&truth.image.file);
    let scan = load_scan(&image, &config.load)?;
    let spacing = PixelSpacing::new(truth.calibration.um_per_px)
        .ok_or_else(|| anyhow!("{}: invalid um_per_px", truth_path.display()))?;
    let calibration = Calibration {
        spacing: Some(spacing),
        source: CalibrationSource::Sidecar {
            path: truth_path.to_path_buf(),
        },
    };
    let analysis = analyze_scan(model, &scan, &calibration, config)?;
    Ok(score_phantom(&truth, &analysis, &config.measure))
}

/// Scores every phantom and prints the Markdown accuracy table. Exit code 1 if any phantom
/// could not be scored (the table then covers the others).
pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let model_path = super::model_path(args.model.clone())?;
    let models = super::WorkerModels::new(&model_path, args.ort_dylib.as_deref())?;
    let files = truth_files(&args.dirs)?;
    if files.is_empty() {
        return Err(anyhow!("no *.truth.json phantoms in {:?}", args.dirs));
    }
    let config = AnalysisConfig::default();
    let bar = ProgressBar::new(files.len() as u64);
    let results: Vec<Result<PhantomScore>> = files
        .par_iter()
        .map(|path| {
            let result = models.with(|model| score_one(model, path, &config));
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    let mut scores = Vec::new();
    let mut failed = 0;
    for result in results {
        match result {
            Ok(score) => scores.push(score),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    let summary = summarise(scores);
    print!("{}", markdown_report(&summary));
    if let Some(path) = &args.json {
        let json = serde_json::to_vec_pretty(&summary)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

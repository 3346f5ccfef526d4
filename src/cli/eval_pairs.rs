//! `tricho eval-pairs`: analyses every phantom pair (`*.pair.json` from `tricho synth
//! --pairs`) with its true calibrations, compares the visits, and prints the accuracy of
//! the registration, the hair links and the density change — registered and matched, and
//! as two independent analyses.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use indicatif::ProgressBar;
use rayon::prelude::*;

use tricho::analyze::{analyze_scan, AnalysisConfig, ImageAnalysis};
use tricho::compare::{compare_visits, CompareConfig};
use tricho::eval::pairs::{markdown_pairs_report, score_pair, summarise_pairs, PairScore, PairTruths};
use tricho::scan::{load_scan, Calibration, CalibrationSource};
use tricho::segment::HairModel;
use tricho::synth::pair::PairTruth;
use tricho::synth::truth::PhantomTruth;
use tricho::units::PixelSpacing;

/// Arguments of `tricho eval-pairs`.
#[derive(Args, Debug)]
pub struct EvalPairsArgs {
    /// Folders of phantom pairs (`*.pair.json` beside their views), from `tricho synth --pairs`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Write every pair's score and the summary here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The ONNX model (default: the committed models/hairseg.onnx).
    #[arg(long)]
    model: Option<PathBuf>,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH, the project's .ort/, an installed onnxruntime).
    #[arg(long)]
    ort_dylib: Option<PathBuf>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))
}

fn analyse_view(
    model: &mut HairModel,
    truth_path: &Path,
    truth: &PhantomTruth,
    config: &AnalysisConfig,
) -> Result<ImageAnalysis> {
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
    Ok(analyze_scan(model, &scan, &calibration, config)?)
}

fn score_one(model: &mut HairModel, pair_path: &Path, config: &AnalysisConfig) -> Result<PairScore> {
    let pair: PairTruth = read_json(pair_path)?;
    let b_path = pair_path.with_file_name(&pair.baseline_truth);
    let f_path = pair_path.with_file_name(&pair.followup_truth);
    let b_truth: PhantomTruth = read_json(&b_path)?;
    let f_truth: PhantomTruth = read_json(&f_path)?;
    let baseline = analyse_view(model, &b_path, &b_truth, config)?;
    let followup = analyse_view(model, &f_path, &f_truth, config)?;
    let comparison = compare_visits(
        &baseline,
        &followup,
        (None, None),
        Some(pair.interval_days),
        &config.measure,
        &CompareConfig::default(),
    )
    .with_context(|| format!("cannot compare the views of {}", pair_path.display()))?;
    let truths = PairTruths {
        name: pair_path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        pair: &pair,
        baseline: &b_truth,
        followup: &f_truth,
    };
    Ok(score_pair(&truths, &baseline, &followup, &comparison))
}

/// Scores every pair and prints the Markdown tables. Exit code 1 if any pair could not be
/// scored (the tables then cover the others).
pub fn run(args: EvalPairsArgs) -> Result<ExitCode> {
    let model_path = super::model_path(args.model.clone())?;
    let models = super::WorkerModels::new(&model_path, args.ort_dylib.as_deref())?;
    let mut files = Vec::new();
    for dir in &args.dirs {
        let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read folder {}", dir.display()))?
                .path();
            if path.to_string_lossy().ends_with(".pair.json") {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(anyhow!("no *.pair.json phantom pairs in {:?}", args.dirs));
    }
    let config = AnalysisConfig::default();
    let bar = ProgressBar::new(files.len() as u64);
    let results: Vec<Result<PairScore>> = files
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
    let summary = summarise_pairs(scores);
    print!("{}", markdown_pairs_report(&summary));
    if let Some(path) = &args.json {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let json = serde_json::to_vec_pretty(&summary)?;
        std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

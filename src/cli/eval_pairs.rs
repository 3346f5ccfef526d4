//! `tricho eval-pairs`: analyses every phantom pair (`*.pair.json` from `tricho synth
//! --pairs`) with its true calibrations, compares the visits, and prints the accuracy of
//! the registration, the hair links and the density change — registered and matched, and
//! as two independent analyses.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use tricho::analyze::AnalysisConfig;
use tricho::compare::{compare_visits, CompareConfig};
use tricho::eval::pairs::{markdown_pairs_report, score_pair, summarise_pairs, PairScore, PairTruths};
use tricho::segment::HairModel;
use tricho::synth::pair::PairTruth;
use tricho::synth::truth::PhantomTruth;

use super::phantom_scoring::{analyse_phantom, exit_code, files_ending_with, read_json, score_all, write_json_summary};

/// Arguments of `tricho eval-pairs`.
#[derive(Args, Debug)]
pub struct EvalPairsArgs {
    /// Folders of phantom pairs (`*.pair.json` beside their views), from `tricho synth --pairs`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Write every pair's score and the summary here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    analysis: super::analyze::AnalysisArgs,
    #[command(flatten)]
    model: super::ModelFileArgs,
}

fn score_one(model: &mut HairModel, pair_path: &Path, config: &AnalysisConfig) -> Result<PairScore> {
    let pair: PairTruth = read_json(pair_path)?;
    let b_path = pair_path.with_file_name(&pair.baseline_truth);
    let f_path = pair_path.with_file_name(&pair.followup_truth);
    let b_truth: PhantomTruth = read_json(&b_path)?;
    let f_truth: PhantomTruth = read_json(&f_path)?;
    let (b_scan, baseline) = analyse_phantom(model, &b_path, &b_truth, config)?;
    let (f_scan, followup) = analyse_phantom(model, &f_path, &f_truth, config)?;
    let comparison = compare_visits(
        &baseline,
        &followup,
        (&b_scan.rgb, &f_scan.rgb),
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
    let model_path = args.model.path()?;
    let models = super::WorkerModels::new(&model_path, args.model.ort_dylib.as_deref())?;
    let files = files_ending_with(&args.dirs, ".pair.json")?;
    let config = args.analysis.analysis_config()?;
    let (scores, failed) = score_all(&files, &models, |model, path| score_one(model, path, &config));
    let summary = summarise_pairs(scores);
    print!("{}", markdown_pairs_report(&summary));
    write_json_summary(args.json.as_deref(), &summary)?;
    Ok(exit_code(failed))
}

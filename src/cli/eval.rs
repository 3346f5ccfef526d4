//! `tricho eval`: runs the whole analysis on phantoms with exact truth and prints the
//! accuracy table (count, density, width, class; overall and per stratum).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use tricho::analyze::AnalysisConfig;
use tricho::eval::{markdown_report, score_phantom, summarise, PhantomScore};
use tricho::segment::HairModel;
use tricho::synth::truth::PhantomTruth;

use super::phantom_scoring::{analyse_phantom, exit_code, files_ending_with, read_json, score_all, write_json_summary};

/// Arguments of `tricho eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Folders of phantoms (`*.truth.json` beside their images), e.g. from `tricho synth`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// Write every phantom's score and the summaries here as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    #[command(flatten)]
    analysis: super::analyze::AnalysisArgs,
    #[command(flatten)]
    model: super::ModelFileArgs,
}

fn score_one(model: &mut HairModel, truth_path: &Path, config: &AnalysisConfig) -> Result<PhantomScore> {
    let truth: PhantomTruth = read_json(truth_path)?;
    let (_, analysis) = analyse_phantom(model, truth_path, &truth, config)?;
    Ok(score_phantom(&truth, &analysis, &config.measure))
}

/// Scores every phantom and prints the Markdown accuracy table. Exit code 1 if any phantom
/// could not be scored (the table then covers the others).
pub fn run(args: EvalArgs) -> Result<ExitCode> {
    let model_path = args.model.path()?;
    let models = super::WorkerModels::new(&model_path, args.model.ort_dylib.as_deref())?;
    let files = files_ending_with(&args.dirs, ".truth.json")?;
    let config = args.analysis.analysis_config()?;
    let (scores, failed) = score_all(&files, &models, |model, path| score_one(model, path, &config));
    let summary = summarise(scores);
    print!("{}", markdown_report(&summary));
    write_json_summary(args.json.as_deref(), &summary)?;
    Ok(exit_code(failed))
}

//! Argument parsing and subcommand dispatch for the `tricho` binary.
//!
//! Exit codes: 0 success, 1 the command failed (the message names the file and the cause),
//! 2 invalid arguments (clap's convention).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use tricho::analyze::PerThread;
use tricho::segment::{default_model_path, HairModel, DEFAULT_MODEL};

mod analyze;
mod audit;
mod batch;
mod compare;
mod eval;
mod eval_pairs;
mod merge;
mod phantom_scoring;
mod segment;
mod synth;

/// Trichoscopy image analysis: hair count, density and shaft width from scalp close-ups.
#[derive(Parser, Debug)]
#[command(name = "tricho", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Count and measure every hair in images or folders: JSON + overlay per image, summary.csv.
    Analyze(analyze::AnalyzeArgs),
    /// Compare a baseline with a follow-up photo: registration, hair-to-hair matching, response.
    Compare(compare::CompareArgs),
    /// Measure accuracy on phantoms with exact truth: count, density, width and class errors per stratum.
    Eval(eval::EvalArgs),
    /// Measure compare accuracy on phantom pairs: registration error, hair-link F1, density-change error.
    EvalPairs(eval_pairs::EvalPairsArgs),
    /// Render trichoscopy phantoms with exact ground truth (image, hair mask, labels, truth JSON).
    Synth(synth::SynthArgs),
    /// Run the hair-segmentation model on images and write probability maps (PNG).
    Segment(segment::SegmentArgs),
    /// Analyse a trial's photos per visit, compare each follow-up with the baseline, summarise the cohort.
    Batch(batch::BatchArgs),
    /// Join the output folders of `tricho batch --shard k/n` runs into one cohort report.
    Merge(merge::MergeArgs),
    /// Verify an output folder's audit log: chain, files, and a re-run of sampled analyses.
    Audit(audit::AuditArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth::run(args).map(|()| ExitCode::SUCCESS),
        Command::Segment(args) => segment::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Compare(args) => compare::run(args),
        Command::EvalPairs(args) => eval_pairs::run(args),
        Command::Batch(args) => batch::run(args),
        Command::Merge(args) => merge::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The model and runtime options of every command that runs the model.
#[derive(clap::Args, Debug)]
struct ModelFileArgs {
    /// The ONNX model (default: the committed models/hairseg.onnx).
    #[arg(long)]
    model: Option<PathBuf>,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH, the project's .ort/, an installed onnxruntime).
    #[arg(long)]
    ort_dylib: Option<PathBuf>,
}

impl ModelFileArgs {
    /// The model file: `--model`, else the committed default.
    fn path(&self) -> Result<PathBuf> {
        self.model
            .clone()
            .or_else(default_model_path)
            .ok_or_else(|| anyhow!("cannot find {DEFAULT_MODEL}; pass --model PATH"))
    }
}

/// Model, runtime and worker options of the commands that analyse folders of photos.
#[derive(clap::Args, Debug)]
struct ModelArgs {
    #[command(flatten)]
    file: ModelFileArgs,
    /// Images analysed in parallel (default: one per CPU core).
    #[arg(long)]
    jobs: Option<usize>,
}

impl ModelArgs {
    /// What every analysing command does before its models load: finds the model, makes
    /// sure `out` is writable, opens its audit log and sizes the worker pool. Returns the
    /// model file and the log.
    fn start_run(&self, out: &Path) -> Result<(PathBuf, tricho::audit::AuditLog)> {
        let model_path = self.file.path()?;
        analyze::prepare_output_folder(out)?;
        let audit = tricho::audit::AuditLog::open(out)?;
        self.set_up_pool()?;
        Ok((model_path, audit))
    }

    /// Sizes the worker pool by `--jobs`; call before [`WorkerModels::new`] (its per-thread
    /// slots are sized by the pool).
    fn set_up_pool(&self) -> Result<()> {
        if let Some(jobs) = self.jobs {
            rayon::ThreadPoolBuilder::new()
                .num_threads(jobs.max(1))
                .build_global()
                .context("cannot set up the worker threads")?;
        }
        Ok(())
    }
}

/// One loaded model per worker thread for the whole run (ONNX sessions take `&mut self`).
struct WorkerModels<'a> {
    path: &'a Path,
    ort_dylib: Option<&'a Path>,
    models: PerThread<HairModel>,
}

impl<'a> WorkerModels<'a> {
    /// Loads the calling thread's model now, so a bad model or runtime fails before any work.
    fn new(path: &'a Path, ort_dylib: Option<&'a Path>) -> Result<Self> {
        let workers = Self {
            path,
            ort_dylib,
            models: PerThread::new(),
        };
        workers.with(|_| Ok(()))?;
        Ok(workers)
    }

    /// Runs `f` with this worker's model, loading it on first use.
    fn with<R>(&self, f: impl FnOnce(&mut HairModel) -> Result<R>) -> Result<R> {
        self.models
            .with(|| HairModel::load(self.path, self.ort_dylib), f)
            .map_err(anyhow::Error::from)
            .and_then(|r| r)
    }
}

//! Argument parsing and subcommand dispatch for the `tricho` binary.
//!
//! Exit codes: 0 success, 1 the command failed (the message names the file and the cause),
//! 2 invalid arguments (clap's convention).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod analyze;
mod eval;
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
    /// Measure accuracy on phantoms with exact truth: count, density, width and class errors per stratum.
    Eval(eval::EvalArgs),
    /// Render trichoscopy phantoms with exact ground truth (image, hair mask, labels, truth JSON).
    Synth(synth::SynthArgs),
    /// Run the hair-segmentation model on images and write probability maps (PNG).
    Segment(segment::SegmentArgs),
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => synth::run(args).map(|()| ExitCode::SUCCESS),
        Command::Segment(args) => segment::run(args),
        Command::Analyze(args) => analyze::run(args),
        Command::Eval(args) => eval::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

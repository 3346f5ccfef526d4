//! Argument parsing and subcommand dispatch for the `tricho` binary.
//!
//! Exit codes: 0 success, 1 the command failed (the message names the file and the cause),
//! 2 invalid arguments (clap's convention).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::ProgressBar;

use tricho::synth::{synthesize, SynthConfig};

/// Trichoscopy image analysis: hair count, density and shaft width from scalp close-ups.
#[derive(Parser, Debug)]
#[command(name = "tricho", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Render trichoscopy phantoms with exact ground truth (image, hair mask, labels, truth JSON).
    Synth(SynthArgs),
}

#[derive(Args, Debug)]
struct SynthArgs {
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of phantoms (or pairs with --pairs), at least 1.
    #[arg(long)]
    count: usize,
    /// Seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Render baseline + follow-up pairs with known changes.
    #[arg(long)]
    pairs: bool,
    /// Fixed image size WIDTHxHEIGHT in px (default: drawn from common device sizes up to 1920x1080).
    #[arg(long, value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Scale in µm per pixel: one value, or a range MIN:MAX drawn from uniformly.
    #[arg(long, default_value = "2.5:8", value_parser = parse_range)]
    um_per_px: (f64, f64),
}

fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {text:?}"))?;
    let parse = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("bad size {text:?}: {e}"));
    Ok((parse(w)?, parse(h)?))
}

fn parse_range(text: &str) -> Result<(f64, f64), String> {
    let parse = |v: &str| v.trim().parse::<f64>().map_err(|e| format!("bad number {v:?}: {e}"));
    match text.split_once(':') {
        Some((lo, hi)) => Ok((parse(lo)?, parse(hi)?)),
        None => parse(text).map(|v| (v, v)),
    }
}

fn run_synth(args: SynthArgs) -> Result<()> {
    let config = SynthConfig {
        size: args.size,
        um_per_px: args.um_per_px,
        pairs: args.pairs,
    };
    let bar = ProgressBar::new(args.count as u64).with_message("synth");
    let written = synthesize(&config, &args.out, args.count, args.seed, &|| bar.inc(1))
        .with_context(|| format!("tricho synth into {}", args.out.display()))?;
    bar.finish_and_clear();
    println!("wrote {} images with truth into {}", written.len(), args.out.display());
    Ok(())
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Synth(args) => run_synth(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

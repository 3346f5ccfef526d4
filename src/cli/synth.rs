//! `tricho synth`: arguments and output of the phantom renderer.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::ProgressBar;

use tricho::synth::fixtures::write_fixtures;
use tricho::synth::{synthesize, SynthConfig};

/// Arguments of `tricho synth`.
#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Number of phantoms (or pairs with --pairs), at least 1.
    #[arg(long, required_unless_present = "fixtures")]
    count: Option<usize>,
    /// Write the fixed fixture set (crossing/touching hairs named by their expected count,
    /// random phantoms and a pair) instead of random phantoms.
    #[arg(long, conflicts_with_all = ["count", "pairs", "size"])]
    fixtures: bool,
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

pub fn run(args: SynthArgs) -> Result<()> {
    if args.fixtures {
        let written = write_fixtures(&args.out)
            .with_context(|| format!("tricho synth --fixtures into {}", args.out.display()))?;
        println!(
            "wrote {} fixture images with truth into {}",
            written.len(),
            args.out.display()
        );
        return Ok(());
    }
    let count = args.count.unwrap_or(0);
    let config = SynthConfig {
        size: args.size,
        um_per_px: args.um_per_px,
        pairs: args.pairs,
    };
    let bar = ProgressBar::new(count as u64).with_message("synth");
    let written = synthesize(&config, &args.out, count, args.seed, &|| bar.inc(1))
        .with_context(|| format!("tricho synth into {}", args.out.display()))?;
    bar.finish_and_clear();
    println!("wrote {} images with truth into {}", written.len(), args.out.display());
    Ok(())
}

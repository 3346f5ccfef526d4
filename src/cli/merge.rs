//! `tricho merge SHARD_DIR... --out DIR`: the output folders of `tricho batch --shard k/n`
//! jobs joined into one `batch.json`, `images.csv`, `pairs.csv`, `cohort.json` and
//! `report.html` ([`tricho::batch::outputs::merge_summaries`]); the shards' `batch.json` files
//! are recorded as inputs in `DIR/audit.jsonl`.
//!
//! Exit codes: 0 merged and every row of every shard is ok; 1 merged with failed rows, or the
//! shards cannot be merged (different manifests, settings or models, a shard given twice or
//! missing without `--partial`); 2 invalid arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use tricho::audit::{input_digest, AuditLog};
use tricho::batch::outputs::{merge_summaries, write_batch_outputs, BatchSummary};

use super::analyze::prepare_output_folder;

/// Arguments of `tricho merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Output folders of `tricho batch --shard k/n` runs (each holds a batch.json).
    #[arg(required = true)]
    shards: Vec<PathBuf>,
    /// Folder for the merged outputs (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Merge even when some shards of the split are missing (the report says which are there).
    #[arg(long)]
    partial: bool,
}

/// Merges the shards; see the module documentation for exit codes.
pub fn run(args: MergeArgs) -> Result<ExitCode> {
    let mut parts = Vec::new();
    let mut inputs = Vec::new();
    for dir in &args.shards {
        let path = dir.join("batch.json");
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let summary: BatchSummary =
            serde_json::from_slice(&bytes).with_context(|| format!("{} is not a tricho batch.json", path.display()))?;
        inputs.push(input_digest(&path)?);
        parts.push((dir.clone(), summary));
    }
    prepare_output_folder(&args.out)?;
    let merged = merge_summaries(parts, &args.out, args.partial)?;
    let audit = AuditLog::open(&args.out)?;
    let out = &args.out;
    write_batch_outputs(out, &merged, &|row| Some(out.join(&row.thumbnail_jpg)), inputs, &audit)?;
    let shards: Vec<String> = merged.shards.iter().map(ToString::to_string).collect();
    eprintln!(
        "merged shards {}: {}; report: {}",
        shards.join(", "),
        merged.describe(),
        out.join("report.html").display()
    );
    Ok(if merged.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

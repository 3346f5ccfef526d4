//! [`run_batch`]: the subjects of one shard processed in parallel (one subject per worker at
//! a time), then the batch outputs written.

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::manifest::Manifest;
use super::outputs::{write_batch_outputs, BatchSummary, ManifestRecord, BATCH_KIND, BATCH_SCHEMA_VERSION};
use super::resume::recorded_outputs;
use super::shard::Shard;
use super::subject::run_subject;
use super::{Analyser, BatchError, BatchSettings};
use crate::analyze::AnalysisConfig;
use crate::audit::{file_sha256, AuditLog};
use crate::report::{ComparisonSettings, ModelRecord, Provenance, TOOL_NAME};
use crate::scan::DeviceProfile;

/// What a batch run needs besides its manifest.
pub struct BatchContext<'a> {
    /// The manifest file (or folder), as given.
    pub manifest_path: &'a Path,
    /// The output folder (must exist and be writable).
    pub out: &'a Path,
    /// Every setting.
    pub settings: &'a BatchSettings,
    /// Device profile for rows without another calibration.
    pub device: Option<&'a DeviceProfile>,
    /// The model the analyser uses.
    pub model: &'a ModelRecord,
    /// Analyses one photo (one model per worker thread).
    pub analyse: &'a Analyser<'a>,
    /// Called once per visit processed (for a progress bar).
    pub progress: &'a (dyn Fn() + Sync),
    /// Called with a message that must reach the user (per-row errors, audit problems).
    pub warn: &'a (dyn Fn(&str) + Sync),
    /// The folder's audit log.
    pub audit: &'a AuditLog,
}

/// A run in progress: the context and what the audit log already records.
pub(super) struct Run<'a> {
    ctx: &'a BatchContext<'a>,
    /// Outputs the audit log recorded before this run (relative path → sha256).
    pub recorded: HashMap<String, String>,
}

impl<'a> std::ops::Deref for Run<'a> {
    type Target = BatchContext<'a>;

    fn deref(&self) -> &Self::Target {
        self.ctx
    }
}

impl BatchContext<'_> {
    /// Provenance of one analysis of this batch.
    pub fn analysis_provenance(&self) -> Provenance<AnalysisConfig> {
        self.provenance(self.settings.analysis.clone())
    }

    /// Settings of one comparison of this batch.
    pub fn comparison_settings(&self) -> ComparisonSettings {
        ComparisonSettings {
            analysis: self.settings.analysis.clone(),
            compare: self.settings.compare.clone(),
        }
    }

    /// Provenance with `settings`.
    pub fn provenance<S>(&self, settings: S) -> Provenance<S> {
        Provenance {
            tool: TOOL_NAME.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            model: self.model.clone(),
            settings,
        }
    }
}

/// What a run did.
pub struct BatchOutcome {
    /// Rows and settings, as written to `batch.json`.
    pub summary: BatchSummary,
    /// Visits analysed or recognised as done in this run.
    pub visits: usize,
}

/// Runs shard `shard` of `manifest` into `ctx.out` and writes the batch outputs.
///
/// # Errors
/// [`BatchError`] only when the outputs or the audit log cannot be written; failed photos
/// and pairs are rows with status `error`.
pub fn run_batch(manifest: &Manifest, shard: Shard, ctx: &BatchContext) -> Result<BatchOutcome, BatchError> {
    let manifest_sha256 = if ctx.manifest_path.is_file() {
        file_sha256(ctx.manifest_path).map_err(|e| BatchError::Read {
            path: ctx.manifest_path.to_path_buf(),
            reason: e.to_string(),
        })?
    } else {
        String::new()
    };
    let subjects: Vec<_> = manifest.subjects.iter().filter(|s| shard.holds(&s.id)).collect();
    let issues: Vec<_> = manifest
        .issues
        .iter()
        .filter(|i| shard.holds(&i.subject))
        .cloned()
        .collect();
    for issue in &issues {
        (ctx.warn)(&format!("{}: {}", issue.origin, issue.reason));
    }
    let run = Run {
        ctx,
        recorded: recorded_outputs(ctx.out),
    };
    let per_subject: Vec<_> = subjects.par_iter().map(|subject| run_subject(subject, &run)).collect();
    let visits = subjects.iter().map(|s| s.visits.len()).sum();
    let mut images = Vec::new();
    let mut pairs = Vec::new();
    for rows in per_subject {
        for image in rows.images.iter().filter(|r| r.summary.status != "ok") {
            (ctx.warn)(&format!(
                "{} {} ({}): {}",
                image.key.subject, image.key.visit, image.origin, image.summary.error
            ));
        }
        for pair in rows.pairs.iter().filter(|p| p.status != "ok") {
            (ctx.warn)(&format!("pair {} {}: {}", pair.key.subject, pair.key.visit, pair.error));
        }
        images.extend(rows.images);
        pairs.extend(rows.pairs);
    }
    let summary = BatchSummary {
        schema_version: BATCH_SCHEMA_VERSION,
        kind: BATCH_KIND.to_string(),
        manifest: ManifestRecord {
            path: std::path::absolute(ctx.manifest_path)
                .unwrap_or_else(|_| ctx.manifest_path.to_path_buf())
                .display()
                .to_string(),
            sha256: manifest_sha256,
        },
        shards: vec![shard],
        provenance: ctx.provenance(ctx.settings.clone()),
        subjects: subjects.len(),
        images,
        pairs,
        issues,
    };
    write_batch_outputs(
        ctx.out,
        &summary,
        &|row| Some(ctx.out.join(&row.thumbnail_jpg)),
        Vec::new(),
        ctx.audit,
    )?;
    Ok(BatchOutcome { summary, visits })
}

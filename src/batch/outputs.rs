//! The outputs of a batch (or of shards merged): `batch.json` (every row, the settings and
//! where the manifest came from: what `tricho merge` reads), `images.csv`, `pairs.csv`,
//! `cohort.json` and the self-contained `report.html`, all recorded in the audit log as one
//! `export` record.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::manifest::RowIssue;
use super::rows::{ImageRow, PairCsvRow, PairRow, VisitKey};
use super::shard::Shard;
use super::subject::{save_atomically, write_json_atomically};
use super::{BatchError, BatchSettings};
use crate::audit::{result_sha256, AuditEvent, AuditLog, EventKind, FileDigest};
use crate::cohort::{summarise, Cohort};
use crate::report::{render_cohort_html, Provenance, SummaryRow};

/// Version of the `batch.json` schema; bumped on any incompatible change.
pub const BATCH_SCHEMA_VERSION: u32 = 1;
/// Value of [`BatchSummary::kind`].
pub const BATCH_KIND: &str = "tricho.batch";
/// The files [`write_batch_outputs`] writes, in order.
pub const BATCH_OUTPUT_FILES: [&str; 5] = ["batch.json", "images.csv", "pairs.csv", "cohort.json", "report.html"];

/// Where the manifest came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestRecord {
    /// Absolute path of the manifest file or folder.
    pub path: String,
    /// sha256 of the manifest file (empty for a folder layout).
    pub sha256: String,
}

/// Everything a batch (or a merge of shards) produced: `batch.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    /// [`BATCH_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`BATCH_KIND`].
    pub kind: String,
    /// The manifest.
    pub manifest: ManifestRecord,
    /// The shards covered (one for a run, several after a merge), sorted.
    pub shards: Vec<Shard>,
    /// Tool, model and every setting.
    pub provenance: Provenance<BatchSettings>,
    /// Subjects covered.
    pub subjects: usize,
    /// One row per photo, sorted by subject and visit order.
    pub images: Vec<ImageRow>,
    /// One row per follow-up visit.
    pub pairs: Vec<PairRow>,
    /// Manifest rows left out, and unknown columns.
    pub issues: Vec<RowIssue>,
}

impl BatchSummary {
    /// Whether every photo was analysed, every pair compared and no manifest row left out.
    pub fn is_clean(&self) -> bool {
        self.issues.is_empty()
            && self.images.iter().all(|r| r.summary.status == "ok")
            && self.pairs.iter().all(|p| p.status == "ok")
    }

    /// A one-line account: subjects, photos and pairs, failures.
    pub fn describe(&self) -> String {
        let failed_images = self.images.iter().filter(|r| r.summary.status != "ok").count();
        let failed_pairs = self.pairs.iter().filter(|p| p.status != "ok").count();
        format!(
            "{} subjects: {} of {} photos analysed, {} of {} pairs compared, {} manifest rows left out",
            self.subjects,
            self.images.len() - failed_images,
            self.images.len(),
            self.pairs.len() - failed_pairs,
            self.pairs.len(),
            self.issues.len()
        )
    }

    /// The cohort statistics of these pairs.
    pub fn cohort(&self) -> Cohort {
        summarise(&self.pairs, self.subjects, self.provenance.settings.responder)
    }
}

/// One line of `images.csv`: which subject and visit, then the `summary.csv` columns.
#[derive(Debug, Clone, Serialize)]
struct ImageCsvKey<'a> {
    subject: &'a str,
    site: &'a str,
    visit: &'a str,
    date: &'a str,
    origin: &'a str,
}

/// Writes [`BATCH_OUTPUT_FILES`] into `out` and records them (with `inputs`, e.g. the shards'
/// `batch.json` for a merge) in `audit` as one `export` record. `thumbnail` gives the file of
/// a pair's overlay thumbnail for the HTML report.
///
/// # Errors
/// [`BatchError`] if a file cannot be written or the audit log extended.
pub fn write_batch_outputs(
    out: &Path,
    summary: &BatchSummary,
    thumbnail: &dyn Fn(&PairRow) -> Option<PathBuf>,
    inputs: Vec<FileDigest>,
    audit: &AuditLog,
) -> Result<Vec<PathBuf>, BatchError> {
    let paths: Vec<PathBuf> = BATCH_OUTPUT_FILES.iter().map(|f| out.join(f)).collect();
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |reason: String| BatchError::Write {
            source: std::io::Error::other(reason),
            path,
        }
    };
    write_json_atomically(&paths[0], summary).map_err(write_error(&paths[0]))?;
    write_images_csv(&paths[1], summary).map_err(write_error(&paths[1]))?;
    save_atomically(&paths[2], |tmp| {
        write_csv(tmp, summary.pairs.iter().map(PairCsvRow::of))
    })
    .map_err(write_error(&paths[2]))?;
    let cohort = summary.cohort();
    write_json_atomically(&paths[3], &cohort).map_err(write_error(&paths[3]))?;
    let html = render_cohort_html(&super::html::page(summary, &cohort, thumbnail));
    save_atomically(&paths[4], |tmp| std::fs::write(tmp, &html)).map_err(write_error(&paths[4]))?;

    let settings = serde_json::json!({
        "format": "batch outputs",
        "files": BATCH_OUTPUT_FILES,
        "shards": summary.shards,
        "manifest": summary.manifest,
    });
    let mut event = AuditEvent::new(EventKind::Export, &settings)?;
    event.model_sha256 = Some(summary.provenance.model.sha256.clone());
    event.inputs = inputs;
    event.outputs = paths.clone();
    event.result_sha256 = Some(result_sha256(summary, &[]).map_err(|e| BatchError::Serialise {
        what: "batch summary".into(),
        reason: e.to_string(),
    })?);
    audit.append(event)?;
    Ok(paths)
}

fn write_images_csv(path: &Path, summary: &BatchSummary) -> Result<(), String> {
    let issue_rows: Vec<(VisitKey, &RowIssue, SummaryRow)> = summary
        .issues
        .iter()
        .map(|issue| {
            let key = VisitKey {
                subject: issue.subject.clone(),
                visit: issue.visit.clone(),
                ..VisitKey::default()
            };
            (
                key,
                issue,
                SummaryRow::failed(Path::new(&issue.path), "", &issue.reason),
            )
        })
        .collect();
    let lines = summary
        .images
        .iter()
        .map(|r| (&r.key, r.origin.as_str(), &r.summary))
        .chain(
            issue_rows
                .iter()
                .map(|(key, issue, row)| (key, issue.origin.as_str(), row)),
        )
        .map(|(key, origin, row)| {
            (
                ImageCsvKey {
                    subject: &key.subject,
                    site: &key.site,
                    visit: &key.visit,
                    date: &key.date,
                    origin,
                },
                row,
            )
        });
    save_atomically(path, |tmp| write_csv(tmp, lines))
}

fn write_csv<T: Serialize>(path: &Path, rows: impl Iterator<Item = T>) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_path(path)?;
    for row in rows {
        writer.serialize(row)?;
    }
    writer.flush()?;
    Ok(())
}

/// Joins the `batch.json` of several shards (each with the folder it was read from). They
/// must come from the same manifest (sha256), tool version, model and settings, and be
/// distinct shards of one split; all of them unless `allow_partial`. Output paths of the rows
/// are made relative to `out` where possible, else absolute.
///
/// # Errors
/// [`BatchError::Merge`] naming what does not fit.
pub fn merge_summaries(
    parts: Vec<(PathBuf, BatchSummary)>,
    out: &Path,
    allow_partial: bool,
) -> Result<BatchSummary, BatchError> {
    let merge_error = |reason: String| BatchError::Merge(reason);
    let Some((first_dir, first)) = parts.first() else {
        return Err(merge_error("no shard folders given".into()));
    };
    let mut seen = BTreeSet::new();
    let count = first.shards.first().map_or(1, |s| s.count);
    for (dir, part) in &parts {
        let differs = |what: &str| {
            merge_error(format!(
                "{} has a different {what} than {}",
                dir.display(),
                first_dir.display()
            ))
        };
        if part.manifest.sha256 != first.manifest.sha256 {
            return Err(differs("manifest (sha256)"));
        }
        if part.provenance != first.provenance {
            return Err(differs("tool version, model or settings"));
        }
        for shard in &part.shards {
            if shard.count != count {
                return Err(merge_error(format!(
                    "{} holds shard {shard}, another folder a split into {count}",
                    dir.display()
                )));
            }
            if !seen.insert(shard.index) {
                return Err(merge_error(format!("shard {shard} is given twice ({})", dir.display())));
            }
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !seen.contains(i))
        .map(|index| Shard { index, count }.to_string())
        .collect();
    if !missing.is_empty() && !allow_partial {
        return Err(merge_error(format!(
            "shard(s) {} missing (pass --partial to merge what is there)",
            missing.join(", ")
        )));
    }
    let mut merged = BatchSummary {
        shards: seen.iter().map(|&index| Shard { index, count }).collect(),
        subjects: parts.iter().map(|(_, p)| p.subjects).sum(),
        images: Vec::new(),
        pairs: Vec::new(),
        issues: Vec::new(),
        ..first.clone()
    };
    for (dir, part) in parts {
        let relocate = |path: &str| -> String {
            if path.is_empty() {
                return String::new();
            }
            let file = std::path::absolute(dir.join(path)).unwrap_or_else(|_| dir.join(path));
            let base = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
            file.strip_prefix(&base).unwrap_or(&file).display().to_string()
        };
        merged.images.extend(part.images.into_iter().map(|mut row| {
            row.summary.output_stem = relocate(&row.summary.output_stem);
            row
        }));
        merged.pairs.extend(part.pairs.into_iter().map(|mut row| {
            row.comparison_json = relocate(&row.comparison_json);
            row.overlay_png = relocate(&row.overlay_png);
            row.thumbnail_jpg = relocate(&row.thumbnail_jpg);
            row
        }));
        merged.issues.extend(part.issues);
    }
    merged.images.sort_by(|a, b| a.key.subject.cmp(&b.key.subject));
    merged.pairs.sort_by(|a, b| a.key.subject.cmp(&b.key.subject));
    Ok(merged)
}

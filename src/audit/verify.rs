//! Verification of an output folder's audit log: the chain ([`super::chain`]), the files every
//! record names, and a re-run of a sample of results through a caller-supplied [`Rerun`], so
//! this module needs no model.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::canonical::file_sha256;
use super::chain::{check_chain, LoggedRecord};
use super::findings::Finding;
use super::record::{AuditRecord, AUDIT_LOG_FILE};
use super::sample::{choose_sample, describe_rule, SampleSize};

/// Version of the verification report's JSON.
pub const VERIFY_REPORT_SCHEMA_VERSION: u32 = 1;
/// Value of [`VerifyReport::kind`].
pub const VERIFY_REPORT_KIND: &str = "tricho.audit_verification";

/// How to verify.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// How many eligible records to re-run (default [`super::DEFAULT_SAMPLE_SIZE`]).
    pub sample: SampleSize,
    /// Seed of the sampling rule (see [`super::sample`]); default 0.
    pub seed: u64,
}

/// What re-running one record gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RerunOutcome {
    /// The re-run's result hash (computed exactly as the record's `result_sha256` was).
    Result {
        /// The hash.
        result_sha256: String,
    },
    /// This record cannot be re-run here (unreadable settings, another model, …): a finding.
    CannotRerun {
        /// Why.
        reason: String,
    },
}

/// An error that stops verification altogether (e.g. the model or its runtime cannot load).
pub type RerunError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Re-computes recorded results. The CLI implements it with the model; tests with fakes.
pub trait Rerun {
    /// Whether records like `record` (by event kind) can be re-run at all.
    fn can_rerun(&self, record: &AuditRecord) -> bool;

    /// Re-runs `record` from its inputs and settings.
    ///
    /// # Errors
    /// Only for problems that make every re-run impossible; a problem with this record is
    /// [`RerunOutcome::CannotRerun`].
    fn rerun(&mut self, record: &AuditRecord) -> Result<RerunOutcome, RerunError>;

    /// The fields left out of result hashes because they differ between identical runs
    /// (JSON pointers), for the report.
    fn run_dependent_fields(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A [`Rerun`] that re-runs nothing: chain and file checks only.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRerun;

impl Rerun for NoRerun {
    fn can_rerun(&self, _: &AuditRecord) -> bool {
        false
    }

    fn rerun(&mut self, _: &AuditRecord) -> Result<RerunOutcome, RerunError> {
        Ok(RerunOutcome::CannotRerun {
            reason: "re-running is not available".into(),
        })
    }
}

/// Why verification could not be done at all (as opposed to a [`Finding`]).
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The folder has no audit log.
    #[error("no audit log: {} does not exist", path.display())]
    NoLog {
        /// The expected log file.
        path: PathBuf,
    },
    /// The log or the folder cannot be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Re-running is impossible (model or runtime unavailable).
    #[error("cannot re-run record seq {seq}")]
    Rerun {
        /// The first record that was to be re-run.
        seq: u64,
        /// The cause.
        source: RerunError,
    },
}

/// The last record of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// Its `seq`.
    pub seq: u64,
    /// Its `hash`: keep it elsewhere to detect a later rewrite of the whole log.
    pub hash: String,
}

/// One re-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RerunCheck {
    /// The record's `seq`.
    pub seq: u64,
    /// Its first input.
    pub path: String,
    /// `result_sha256` recorded.
    pub recorded_result_sha256: String,
    /// What the re-run gave (`None` if it could not run).
    pub rerun_result_sha256: Option<String>,
    /// Whether the two are equal.
    pub reproduced: bool,
}

/// The re-run part of a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RerunSummary {
    /// The sampling rule used.
    pub rule: String,
    /// Records that could be sampled: a result hash, a kind the re-runner handles, and no
    /// integrity or input finding of their own.
    pub eligible: usize,
    /// Fields left out of result hashes (JSON pointers) because they differ between runs.
    pub run_dependent_fields: Vec<String>,
    /// The records re-run, in log order.
    pub reruns: Vec<RerunCheck>,
}

/// Everything verification checked and found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// [`VERIFY_REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`VERIFY_REPORT_KIND`].
    pub kind: String,
    /// The log file.
    pub log: String,
    /// Lines in the log.
    pub lines: usize,
    /// Lines that parsed as records.
    pub records: usize,
    /// The last record, if any.
    pub head: Option<ChainHead>,
    /// Input files checked (distinct paths).
    pub inputs_checked: usize,
    /// Output files checked (each against the last record that wrote it).
    pub outputs_checked: usize,
    /// Output entries not checked because a later record wrote the same file again.
    pub outputs_superseded: usize,
    /// Re-runs.
    pub rerun: RerunSummary,
    /// Every problem found; empty when the log verifies.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Verifies `folder/audit.jsonl`: the chain, every input (present, same bytes), every output
/// (present, same bytes as written by the last record that wrote it), files in the folder that
/// no record names, and re-runs a sample of records through `rerun`.
///
/// # Errors
/// [`VerifyError::NoLog`] / [`VerifyError::Read`] if the log or folder cannot be read,
/// [`VerifyError::Rerun`] if `rerun` reports that re-running is impossible.
pub fn verify(folder: &Path, options: &VerifyOptions, rerun: &mut dyn Rerun) -> Result<VerifyReport, VerifyError> {
    let log_path = folder.join(AUDIT_LOG_FILE);
    let text = std::fs::read_to_string(&log_path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => VerifyError::NoLog { path: log_path.clone() },
        _ => VerifyError::Read {
            path: log_path.clone(),
            source,
        },
    })?;
    let chain = check_chain(&text);
    let mut findings = chain.findings.clone();
    let last_line_unreadable = findings
        .iter()
        .any(|f| matches!(f, Finding::UnparseableLine { line, .. } if *line == chain.lines));
    if !chain.ends_with_newline && !last_line_unreadable {
        findings.push(Finding::UnparseableLine {
            line: chain.lines,
            error: "the last line has no newline (torn write)".into(),
        });
    }
    let altered_lines: HashSet<usize> = findings
        .iter()
        .filter_map(|f| match f {
            Finding::RecordAltered { line, .. } => Some(*line),
            _ => None,
        })
        .collect();
    let records = &chain.records;
    let (input_findings, inputs_checked, bad_input_lines) = check_inputs(records);
    findings.extend(input_findings);
    let outputs = check_outputs(folder, records);
    findings.extend(outputs.findings);
    findings.extend(untracked_files(folder, records)?);

    let eligible: Vec<&LoggedRecord> = records
        .iter()
        .filter(|r| {
            r.record.result_sha256.is_some()
                && rerun.can_rerun(&r.record)
                && !altered_lines.contains(&r.line)
                && !bad_input_lines.contains(&r.line)
        })
        .collect();
    let hashes: Vec<&str> = eligible.iter().map(|r| r.record.hash.as_str()).collect();
    let mut reruns = Vec::new();
    for index in choose_sample(&hashes, options.sample, options.seed) {
        let record = &eligible[index].record;
        let recorded = record.result_sha256.clone().unwrap_or_default();
        let path = record.inputs.first().map(|i| i.path.clone()).unwrap_or_default();
        let outcome = rerun.rerun(record).map_err(|source| VerifyError::Rerun {
            seq: record.seq,
            source,
        })?;
        let rerun_result_sha256 = match outcome {
            RerunOutcome::Result { result_sha256 } => Some(result_sha256),
            RerunOutcome::CannotRerun { reason } => {
                findings.push(Finding::RerunFailed {
                    seq: record.seq,
                    reason,
                });
                None
            }
        };
        let reproduced = rerun_result_sha256.as_deref() == Some(recorded.as_str());
        if let (false, Some(got)) = (reproduced, &rerun_result_sha256) {
            findings.push(Finding::NotReproduced {
                seq: record.seq,
                path: path.clone(),
                recorded_result_sha256: recorded.clone(),
                rerun_result_sha256: got.clone(),
            });
        }
        reruns.push(RerunCheck {
            seq: record.seq,
            path,
            recorded_result_sha256: recorded,
            rerun_result_sha256,
            reproduced,
        });
    }
    Ok(VerifyReport {
        schema_version: VERIFY_REPORT_SCHEMA_VERSION,
        kind: VERIFY_REPORT_KIND.into(),
        log: log_path.display().to_string(),
        lines: chain.lines,
        records: records.len(),
        head: records.last().map(|r| ChainHead {
            seq: r.record.seq,
            hash: r.record.hash.clone(),
        }),
        inputs_checked,
        outputs_checked: outputs.checked,
        outputs_superseded: outputs.superseded,
        rerun: RerunSummary {
            rule: describe_rule(options.sample, options.seed),
            eligible: eligible.len(),
            run_dependent_fields: rerun.run_dependent_fields(),
            reruns,
        },
        findings,
    })
}

/// Findings on every record's inputs, the number of distinct input files and the lines of
/// records with an input finding.
fn check_inputs(records: &[LoggedRecord]) -> (Vec<Finding>, usize, HashSet<usize>) {
    let mut actual: HashMap<&str, Result<String, String>> = HashMap::new();
    let mut findings = Vec::new();
    let mut bad_lines = HashSet::new();
    for logged in records {
        for input in &logged.record.inputs {
            let now = actual
                .entry(input.path.as_str())
                .or_insert_with(|| file_sha256(Path::new(&input.path)).map_err(|e| e.to_string()));
            let seq = logged.record.seq;
            match now {
                Err(error) => findings.push(Finding::InputMissing {
                    seq,
                    path: input.path.clone(),
                    error: error.clone(),
                }),
                Ok(sha256) if *sha256 != input.sha256 => findings.push(Finding::InputChanged {
                    seq,
                    path: input.path.clone(),
                    recorded_sha256: input.sha256.clone(),
                    actual_sha256: sha256.clone(),
                }),
                Ok(_) => continue,
            }
            bad_lines.insert(logged.line);
        }
    }
    (findings, actual.len(), bad_lines)
}

struct OutputCheck {
    findings: Vec<Finding>,
    checked: usize,
    superseded: usize,
}

/// Each output path checked against the last record (in log order) that wrote it.
fn check_outputs(folder: &Path, records: &[LoggedRecord]) -> OutputCheck {
    let mut last_writer: HashMap<&str, usize> = HashMap::new();
    for (i, logged) in records.iter().enumerate() {
        for output in &logged.record.outputs {
            last_writer.insert(output.path.as_str(), i);
        }
    }
    let mut check = OutputCheck {
        findings: Vec::new(),
        checked: 0,
        superseded: 0,
    };
    for (i, logged) in records.iter().enumerate() {
        for output in &logged.record.outputs {
            if last_writer.get(output.path.as_str()) != Some(&i) {
                check.superseded += 1;
                continue;
            }
            check.checked += 1;
            let seq = logged.record.seq;
            match file_sha256(&folder.join(&output.path)) {
                Err(error) => check.findings.push(Finding::OutputMissing {
                    seq,
                    path: output.path.clone(),
                    error: error.to_string(),
                }),
                Ok(sha256) if sha256 != output.sha256 => check.findings.push(Finding::OutputChanged {
                    seq,
                    path: output.path.clone(),
                    recorded_sha256: output.sha256.clone(),
                    actual_sha256: sha256,
                }),
                Ok(_) => {}
            }
        }
    }
    check
}

/// Files under `folder` (recursively) that no record wrote or read, except the log itself.
fn untracked_files(folder: &Path, records: &[LoggedRecord]) -> Result<Vec<Finding>, VerifyError> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut known: HashSet<PathBuf> = HashSet::new();
    for logged in records {
        for output in &logged.record.outputs {
            known.insert(absolute(&folder.join(&output.path)));
        }
        for input in &logged.record.inputs {
            known.insert(absolute(Path::new(&input.path)));
        }
    }
    known.insert(absolute(&folder.join(AUDIT_LOG_FILE)));
    let mut files = Vec::new();
    walk(folder, &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .filter(|file| !known.contains(&absolute(file)))
        .map(|file| Finding::UntrackedFile {
            path: file.strip_prefix(folder).unwrap_or(&file).display().to_string(),
        })
        .collect())
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), VerifyError> {
    let read_error = |source| VerifyError::Read {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let kind = entry.file_type().map_err(read_error)?;
        if kind.is_dir() {
            walk(&entry.path(), files)?;
        } else {
            files.push(entry.path());
        }
    }
    Ok(())
}

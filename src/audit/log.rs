//! The append-only writer of `audit.jsonl`: one [`AuditLog`] per output folder and process,
//! shared by all worker threads; each [`AuditEvent`] becomes one sealed, chained, fsynced line.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use super::canonical::file_sha256;
use super::chain::check_chain;
use super::clock::now_utc_rfc3339;
use super::record::{AuditRecord, EventKind, FileDigest, AUDIT_LOG_FILE, AUDIT_RECORD_SCHEMA_VERSION, GENESIS_HASH};

/// Why the audit log could not be opened or extended.
#[derive(Debug, Error)]
pub enum AuditError {
    /// The log file cannot be opened, read, written or synced.
    #[error("cannot {action} audit log {}", path.display())]
    Io {
        /// What was being done (`open`, `read`, `append to`).
        action: &'static str,
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Another process holds the log open for appending.
    #[error("audit log {} is in use by another tricho process; wait for it to finish", path.display())]
    Busy {
        /// The log file.
        path: PathBuf,
    },
    /// The existing log fails its own chain check; appending would hide that.
    #[error(
        "audit log {} is broken ({first}{more}); refusing to append. Run `tricho audit verify {}` for the details",
        path.display(), folder.display()
    )]
    Broken {
        /// The log file.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
        /// The first finding.
        first: String,
        /// `", and N more findings"` or empty.
        more: String,
    },
    /// An output file of an event cannot be hashed.
    #[error("cannot hash output {} for the audit log", path.display())]
    Output {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An input file of an event cannot be hashed.
    #[error("cannot hash input {} for the audit log", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Settings or a result cannot be turned into JSON.
    #[error("cannot serialise the audit record's {what}")]
    Serialise {
        /// `settings`, `result` or `record`.
        what: &'static str,
        /// The serialiser's error.
        source: serde_json::Error,
    },
}

/// What happened, as the caller knows it; [`AuditLog::append`] adds `seq`, the time, the tool
/// version, the output hashes and the chain hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// What kind of event.
    pub event: EventKind,
    /// SHA-256 of the model used, if any.
    pub model_sha256: Option<String>,
    /// Every setting needed to reproduce the result.
    pub settings: Value,
    /// Files read, with the hash of the bytes actually used ([`FileDigest::input`]).
    pub inputs: Vec<FileDigest>,
    /// Files written; [`AuditLog::append`] hashes them as they are on disk.
    pub outputs: Vec<PathBuf>,
    /// [`super::result_sha256`] of the result, if the event has one.
    pub result_sha256: Option<String>,
}

impl AuditEvent {
    /// An event of `kind` with `settings` and nothing else yet; fill the public fields.
    ///
    /// # Errors
    /// [`AuditError::Serialise`] if `settings` cannot be turned into JSON.
    pub fn new(kind: EventKind, settings: &impl Serialize) -> Result<Self, AuditError> {
        Ok(Self {
            event: kind,
            model_sha256: None,
            settings: serde_json::to_value(settings).map_err(|source| AuditError::Serialise {
                what: "settings",
                source,
            })?,
            inputs: Vec::new(),
            outputs: Vec::new(),
            result_sha256: None,
        })
    }
}

/// The end of the chain: what the next record links to.
#[derive(Debug)]
struct Head {
    file: File,
    next_seq: u64,
    last_hash: String,
}

/// The audit log of one output folder, open for appending. Share it by reference between
/// threads: appends are serialised behind a mutex, and the file is locked against other
/// processes while this value lives.
#[derive(Debug)]
pub struct AuditLog {
    folder: PathBuf,
    path: PathBuf,
    head: Mutex<Head>,
}

impl AuditLog {
    /// Opens (creating if needed) `folder/audit.jsonl` for appending, after checking the chain
    /// of what is already there and taking an exclusive lock on the file.
    ///
    /// # Errors
    /// [`AuditError::Io`] if the file cannot be opened or read, [`AuditError::Busy`] if another
    /// process has it open, [`AuditError::Broken`] if the existing log fails its chain check
    /// (an unreadable or torn line, an altered record, a broken link or a seq gap).
    pub fn open(folder: &Path) -> Result<Self, AuditError> {
        let path = folder.join(AUDIT_LOG_FILE);
        let io = |action| {
            let path = path.clone();
            move |source| AuditError::Io { action, path, source }
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io("open"))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(AuditError::Busy { path }),
            Err(std::fs::TryLockError::Error(source)) => return Err(io("lock")(source)),
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io("read"))?;
        let check = check_chain(&text);
        let mut findings: Vec<String> = check.findings.iter().map(ToString::to_string).collect();
        if !check.ends_with_newline {
            findings.push(format!(
                "line {}: the last line is incomplete (torn write)",
                check.lines
            ));
        }
        if let Some(first) = findings.first() {
            return Err(AuditError::Broken {
                path: path.clone(),
                folder: folder.to_path_buf(),
                first: first.clone(),
                more: match findings.len() - 1 {
                    0 => String::new(),
                    n => format!(", and {n} more findings"),
                },
            });
        }
        let (next_seq, last_hash) = check.records.last().map_or((1, GENESIS_HASH.to_string()), |last| {
            (last.record.seq + 1, last.record.hash.clone())
        });
        Ok(Self {
            folder: folder.to_path_buf(),
            path,
            head: Mutex::new(Head {
                file,
                next_seq,
                last_hash,
            }),
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `event` as the next record: hashes its outputs as they are now on disk, seals
    /// the record with `prev_hash` and `hash`, writes it as one line and syncs it to disk before
    /// returning. Safe to call from many threads at once.
    ///
    /// # Errors
    /// [`AuditError::Output`] if an output cannot be read, [`AuditError::Io`] if the line cannot
    /// be written or synced (the log is then left unchanged or, if the disk failed mid-line,
    /// with a torn last line that verification reports).
    pub fn append(&self, event: AuditEvent) -> Result<AuditRecord, AuditError> {
        let outputs = event
            .outputs
            .iter()
            .map(|path| self.output_digest(path))
            .collect::<Result<Vec<_>, _>>()?;
        let mut head = self.head.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut record = AuditRecord {
            schema_version: AUDIT_RECORD_SCHEMA_VERSION,
            seq: head.next_seq,
            recorded_at: now_utc_rfc3339(),
            event: event.event,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            model_sha256: event.model_sha256,
            settings: event.settings,
            inputs: event.inputs,
            outputs,
            result_sha256: event.result_sha256,
            prev_hash: head.last_hash.clone(),
            hash: String::new(),
        };
        let serialise = |source| AuditError::Serialise { what: "record", source };
        record.hash = record.compute_hash().map_err(serialise)?;
        let mut line = serde_json::to_string(&record).map_err(serialise)?;
        line.push('\n');
        let io = |source| AuditError::Io {
            action: "append to",
            path: self.path.clone(),
            source,
        };
        head.file.write_all(line.as_bytes()).map_err(io)?;
        head.file.sync_data().map_err(io)?;
        head.next_seq += 1;
        head.last_hash = record.hash.clone();
        Ok(record)
    }

    /// `path` relative to the log's folder when inside it, with the hash of its bytes.
    fn output_digest(&self, path: &Path) -> Result<FileDigest, AuditError> {
        let sha256 = file_sha256(path).map_err(|source| AuditError::Output {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(FileDigest {
            path: relative_to(path, &self.folder).display().to_string(),
            sha256,
        })
    }
}

/// `path` relative to `folder` if it lies inside it (compared as absolute paths), else absolute.
fn relative_to(path: &Path, folder: &Path) -> PathBuf {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (path, folder) = (absolute(path), absolute(folder));
    path.strip_prefix(&folder)
        .map_or_else(|_| path.clone(), Path::to_path_buf)
}

/// The digest of an input file that the caller did not hash itself (e.g. a calibration sidecar).
///
/// # Errors
/// [`AuditError::Input`] if the file cannot be read.
pub fn input_digest(path: &Path) -> Result<FileDigest, AuditError> {
    let sha256 = file_sha256(path).map_err(|source| AuditError::Input {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(FileDigest::input(path, &sha256))
}

//! What `tricho audit verify` can find wrong with a log, its files or its results: one typed
//! variant per kind of finding, each naming the line or record and what differs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a record's `prev_hash` does not point at the record before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChainCause {
    /// Records before this one are missing: its predecessor is nowhere in the log and its
    /// `seq` jumps.
    Removed,
    /// The line(s) just before this one are not part of the chain: no record points at them.
    Inserted,
    /// Records were moved: this record's predecessor comes later in the file, or its `seq`
    /// goes backwards.
    Reordered,
    /// The line before it cannot be read, so the link cannot be followed.
    UnreadablePredecessor,
    /// Its predecessor is nowhere in the log but no record is missing by `seq`: the record
    /// before it was replaced or re-sealed with a new hash.
    Replaced,
}

impl ChainCause {
    fn explain(self) -> &'static str {
        match self {
            Self::Removed => "record(s) before it were removed",
            Self::Inserted => "the record(s) before it were inserted (no record points at them)",
            Self::Reordered => "records were reordered",
            Self::UnreadablePredecessor => "the line before it cannot be read",
            Self::Replaced => "the record before it was replaced or re-sealed",
        }
    }
}

/// One problem found by verification. Every finding makes verification fail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum Finding {
    /// A line is not a JSON audit record.
    UnparseableLine {
        /// 1-based line number.
        line: usize,
        /// The parser's message.
        error: String,
    },
    /// A record's contents do not give its stored hash: it was edited after it was written.
    RecordAltered {
        /// 1-based line number.
        line: usize,
        /// The record's `seq`.
        seq: u64,
        /// The `hash` stored in the record.
        stored_hash: String,
        /// The hash its contents give.
        computed_hash: String,
    },
    /// A record's `prev_hash` is not the hash of the record before it in the file.
    ChainBroken {
        /// 1-based line number.
        line: usize,
        /// The record's `seq`.
        seq: u64,
        /// The most likely cause.
        cause: ChainCause,
        /// Lines (1-based) involved besides this one: the inserted lines, or where the
        /// record's real predecessor is.
        related_lines: Vec<usize>,
        /// The record's `prev_hash`.
        prev_hash: String,
        /// The hash of the record before it in the file (or the genesis hash).
        expected_prev_hash: String,
    },
    /// `seq` numbers are missing from the log.
    SeqGap {
        /// 1-based line number of the record after the gap.
        line: usize,
        /// Its `seq`.
        seq: u64,
        /// First missing `seq`.
        missing_from: u64,
        /// Last missing `seq`.
        missing_to: u64,
    },
    /// An input file recorded by a record no longer exists or cannot be read.
    InputMissing {
        /// The record's `seq`.
        seq: u64,
        /// The file.
        path: String,
        /// Why it cannot be read.
        error: String,
    },
    /// An input file's bytes differ from those that were analysed.
    InputChanged {
        /// The record's `seq`.
        seq: u64,
        /// The file.
        path: String,
        /// Hash recorded.
        recorded_sha256: String,
        /// Hash now.
        actual_sha256: String,
    },
    /// An output file recorded by the last record that wrote it no longer exists.
    OutputMissing {
        /// The record's `seq`.
        seq: u64,
        /// The file, relative to the log's folder.
        path: String,
        /// Why it cannot be read.
        error: String,
    },
    /// An output file's bytes differ from those written by the last record that wrote it.
    OutputChanged {
        /// The record's `seq`.
        seq: u64,
        /// The file, relative to the log's folder.
        path: String,
        /// Hash recorded.
        recorded_sha256: String,
        /// Hash now.
        actual_sha256: String,
    },
    /// A file in the log's folder that no record wrote or read (e.g. the outputs of a record
    /// removed from the end of the log).
    UntrackedFile {
        /// The file, relative to the log's folder.
        path: String,
    },
    /// Re-running the recorded analysis gives a different result.
    NotReproduced {
        /// The record's `seq`.
        seq: u64,
        /// The record's first input.
        path: String,
        /// `result_sha256` in the record.
        recorded_result_sha256: String,
        /// The re-run's result hash.
        rerun_result_sha256: String,
    },
    /// A sampled record could not be re-run (settings unreadable, another model, …).
    RerunFailed {
        /// The record's `seq`.
        seq: u64,
        /// Why.
        reason: String,
    },
}

impl Finding {
    /// The finding's name as in the JSON report (`record_altered`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::UnparseableLine { .. } => "unparseable_line",
            Self::RecordAltered { .. } => "record_altered",
            Self::ChainBroken { .. } => "chain_broken",
            Self::SeqGap { .. } => "seq_gap",
            Self::InputMissing { .. } => "input_missing",
            Self::InputChanged { .. } => "input_changed",
            Self::OutputMissing { .. } => "output_missing",
            Self::OutputChanged { .. } => "output_changed",
            Self::UntrackedFile { .. } => "untracked_file",
            Self::NotReproduced { .. } => "not_reproduced",
            Self::RerunFailed { .. } => "rerun_failed",
        }
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name();
        match self {
            Self::UnparseableLine { line, error } => write!(f, "line {line}: {name}: not an audit record ({error})"),
            Self::RecordAltered {
                line,
                seq,
                stored_hash,
                computed_hash,
            } => write!(
                f,
                "line {line}, seq {seq}: {name}: contents hash to {}… but the record says {}… (edited after it was written)",
                short(computed_hash),
                short(stored_hash)
            ),
            Self::ChainBroken {
                line,
                seq,
                cause,
                related_lines,
                prev_hash,
                expected_prev_hash,
            } => {
                write!(
                    f,
                    "line {line}, seq {seq}: {name} ({}): prev_hash {}… but the record before it hashes to {}…",
                    cause.explain(),
                    short(prev_hash),
                    short(expected_prev_hash)
                )?;
                if !related_lines.is_empty() {
                    let lines: Vec<String> = related_lines.iter().map(ToString::to_string).collect();
                    write!(f, "; see line(s) {}", lines.join(", "))?;
                }
                Ok(())
            }
            Self::SeqGap {
                line,
                seq,
                missing_from,
                missing_to,
            } => {
                if missing_from == missing_to {
                    write!(f, "line {line}, seq {seq}: {name}: seq {missing_from} is missing")
                } else {
                    write!(f, "line {line}, seq {seq}: {name}: seq {missing_from}–{missing_to} are missing")
                }
            }
            Self::InputMissing { seq, path, error } => write!(f, "seq {seq}: {name}: {path}: {error}"),
            Self::InputChanged {
                seq,
                path,
                recorded_sha256,
                actual_sha256,
            }
            | Self::OutputChanged {
                seq,
                path,
                recorded_sha256,
                actual_sha256,
            } => write!(
                f,
                "seq {seq}: {name}: {path}: sha256 now {}…, recorded {}…",
                short(actual_sha256),
                short(recorded_sha256)
            ),
            Self::OutputMissing { seq, path, error } => write!(f, "seq {seq}: {name}: {path}: {error}"),
            Self::UntrackedFile { path } => write!(f, "{name}: {path}: no record wrote or read this file"),
            Self::NotReproduced {
                seq,
                path,
                recorded_result_sha256,
                rerun_result_sha256,
            } => write!(
                f,
                "seq {seq}: {name}: {path}: re-run result hashes to {}…, recorded {}…",
                short(rerun_result_sha256),
                short(recorded_result_sha256)
            ),
            Self::RerunFailed { seq, reason } => write!(f, "seq {seq}: {name}: {reason}"),
        }
    }
}

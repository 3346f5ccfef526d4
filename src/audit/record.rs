//! One line of `audit.jsonl`: what happened, to which files, with which settings, and the
//! hashes that chain it to the line before.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical::canonical_sha256;

/// File name of the audit log inside an output folder.
pub const AUDIT_LOG_FILE: &str = "audit.jsonl";
/// Version of the record format; bumped on any incompatible change.
pub const AUDIT_RECORD_SCHEMA_VERSION: u32 = 1;
/// `prev_hash` of the first record: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a record records. Serialised as a lower-case word; words this build does not know are
/// kept as [`EventKind::Other`], so a newer log still parses and verifies.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum EventKind {
    /// One image analysed (`tricho analyze`): re-runnable.
    Analysis,
    /// A baseline/follow-up comparison.
    Comparison,
    /// A table or report written from earlier results (`summary.csv`, cohort CSV/HTML).
    Export,
    /// Any other event word.
    Other(String),
}

impl EventKind {
    /// The word written to the log.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Analysis => "analysis",
            Self::Comparison => "comparison",
            Self::Export => "export",
            Self::Other(word) => word,
        }
    }
}

impl From<String> for EventKind {
    fn from(word: String) -> Self {
        match word.as_str() {
            "analysis" => Self::Analysis,
            "comparison" => Self::Comparison,
            "export" => Self::Export,
            _ => Self::Other(word),
        }
    }
}

impl From<EventKind> for String {
    fn from(kind: EventKind) -> Self {
        kind.as_str().to_string()
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// Inputs: absolute path. Outputs: path relative to the log's folder (absolute if outside it).
    pub path: String,
    /// Lower-case hex SHA-256 of the file's bytes.
    pub sha256: String,
}

impl FileDigest {
    /// An input file that was read and hashed by the caller (e.g. [`crate::scan::Scan::sha256`],
    /// the hash of the very bytes analysed); the path is made absolute.
    pub fn input(path: &Path, sha256: &str) -> Self {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Self {
            path: path.display().to_string(),
            sha256: sha256.to_string(),
        }
    }
}

/// One line of the audit log. Field order here is the order written; the hash does not
/// depend on it (see [`AuditRecord::compute_hash`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// [`AUDIT_RECORD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Position in the log: 1 for the first record, then +1 per record.
    pub seq: u64,
    /// When the record was appended, UTC RFC 3339 with milliseconds.
    pub recorded_at: String,
    /// What happened.
    pub event: EventKind,
    /// Version of tricho that produced the result.
    pub tool_version: String,
    /// SHA-256 of the model file used, if a model was involved.
    pub model_sha256: Option<String>,
    /// Every setting needed to reproduce the result (for analyses: [`super::AnalysisSettings`]).
    pub settings: Value,
    /// Files read, with the hash of the bytes that were used.
    pub inputs: Vec<FileDigest>,
    /// Files written, with the hash of their bytes once written.
    pub outputs: Vec<FileDigest>,
    /// SHA-256 of the canonical reproducible result (run-dependent fields such as timings
    /// removed, see [`super::result_sha256`]); `None` for events without one.
    pub result_sha256: Option<String>,
    /// `hash` of the previous record; [`GENESIS_HASH`] for the first.
    pub prev_hash: String,
    /// SHA-256 of the canonical JSON of every other field of this record (`prev_hash` included).
    pub hash: String,
}

impl AuditRecord {
    /// The hash this record's contents give: [`record_hash`] of its JSON.
    ///
    /// # Errors
    /// The serialiser's error (not expected: every field is plain JSON).
    pub fn compute_hash(&self) -> Result<String, serde_json::Error> {
        Ok(record_hash(&serde_json::to_value(self)?))
    }
}

/// The chain rule: SHA-256 of the canonical JSON of a record object without its `hash`
/// field. Every other field counts, also fields this build does not know.
pub fn record_hash(record: &Value) -> String {
    let mut body = record.clone();
    if let Value::Object(map) = &mut body {
        map.remove("hash");
    }
    canonical_sha256(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_words_round_trip_and_unknown_words_are_kept() {
        for kind in [EventKind::Analysis, EventKind::Comparison, EventKind::Export] {
            let text = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<EventKind>(&text).unwrap(), kind);
        }
        assert_eq!(
            serde_json::from_str::<EventKind>("\"cohort\"").unwrap(),
            EventKind::Other("cohort".into())
        );
    }

    #[test]
    fn the_hash_covers_every_field_but_itself() {
        let record = AuditRecord {
            schema_version: AUDIT_RECORD_SCHEMA_VERSION,
            seq: 1,
            recorded_at: "2025-01-01T00:00:00.000Z".into(),
            event: EventKind::Analysis,
            tool_version: "0.1.0".into(),
            model_sha256: None,
            settings: serde_json::json!({"a": 1.5}),
            inputs: vec![],
            outputs: vec![],
            result_sha256: None,
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        };
        let hash = record.compute_hash().unwrap();
        let mut sealed = record.clone();
        sealed.hash = hash.clone();
        assert_eq!(sealed.compute_hash().unwrap(), hash, "hash field excluded");
        let mut changed = record.clone();
        changed.prev_hash = "1".repeat(64);
        assert_ne!(changed.compute_hash().unwrap(), hash);
        let mut value = serde_json::to_value(&record).unwrap();
        value["extra"] = serde_json::json!(true);
        assert_ne!(record_hash(&value), hash, "unknown fields count too");
    }
}

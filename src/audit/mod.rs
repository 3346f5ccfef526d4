//! The audit trail: an append-only, hash-chained log (`audit.jsonl`, one JSON record per
//! line) of every analysis, comparison and export written into an output folder, and its
//! verification.
//!
//! # Recording an event (front doors: analyze, compare, batch)
//! Open the folder's log once per run and share it by reference with every worker thread (a
//! second [`AuditLog::open`] of the same folder while the first is alive fails with
//! [`AuditError::Busy`], in the same process too); append one [`AuditEvent`] per result after
//! its files are written:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use tricho::audit::{result_sha256, AuditEvent, AuditLog, EventKind, FileDigest};
//! # let (out, baseline, followup) = (std::path::Path::new("out"), std::path::Path::new("a.json"), std::path::Path::new("b.json"));
//! # let (settings, response, model_sha256) = (serde_json::json!({}), serde_json::json!({}), String::new());
//! let log = AuditLog::open(out)?; // refuses a log whose own chain is broken
//! let mut event = AuditEvent::new(EventKind::Comparison, &settings)?;
//! event.model_sha256 = Some(model_sha256);
//! event.inputs = vec![FileDigest::input(baseline, "…sha256 of the bytes read…"), FileDigest::input(followup, "…")];
//! event.outputs = vec![out.join("pair.json")]; // hashed by append, as written
//! event.result_sha256 = Some(result_sha256(&response, &["/timings_ms"])?);
//! log.append(event)?; // seq, time, tool version, prev_hash and hash added; fsynced
//! # Ok(()) }
//! ```
//! [`analysis_event`] and [`summary_export_event`] build the events of `tricho analyze`,
//! [`comparison_event`] that of `tricho compare`.
//!
//! # Record format and chain rule
//! See [`AuditRecord`]: `seq` (1, 2, …), `recorded_at` (UTC RFC 3339), `event`,
//! `tool_version`, `model_sha256`, `settings`, `inputs` (absolute path + sha256),
//! `outputs` (path relative to the folder + sha256), `result_sha256` (the result with its
//! run-dependent fields removed, [`result_sha256`]), `prev_hash` (the previous record's
//! `hash`, 64 zeros for the first) and `hash` = SHA-256 of the canonical JSON
//! ([`canonical_json`]: sorted keys, no whitespace) of every other field ([`record_hash`]).
//!
//! # Verification
//! [`verify`] reports typed [`Finding`]s: unparseable lines, altered records, broken links
//! (with the likely cause: removed, inserted, reordered, replaced), seq gaps, changed or
//! missing inputs and outputs, untracked files, and results that do not reproduce when a
//! seeded sample ([`sample`]) is re-run through a caller's [`Rerun`].

mod analysis;
mod canonical;
mod chain;
mod clock;
mod comparison;
mod findings;
mod log;
mod record;
pub mod sample;
mod verify;

pub use analysis::{
    analysis_event, image_result_sha256, summary_export_event, AnalysisSettings, IMAGE_RESULT_RUN_DEPENDENT,
};
pub use canonical::{canonical_json, canonical_sha256, file_sha256, result_sha256, sha256_hex};
pub use chain::{check_chain, ChainCheck, LoggedRecord};
pub use clock::{now_utc_rfc3339, utc_rfc3339};
pub use comparison::{comparison_event, COMPARISON_RESULT_RUN_DEPENDENT};
pub use findings::{ChainCause, Finding};
pub use log::{input_digest, AuditError, AuditEvent, AuditLog};
pub use record::{
    record_hash, AuditRecord, EventKind, FileDigest, AUDIT_LOG_FILE, AUDIT_RECORD_SCHEMA_VERSION, GENESIS_HASH,
};
pub use sample::{SampleSize, DEFAULT_SAMPLE_SIZE};
pub use verify::{
    verify, ChainHead, NoRerun, Rerun, RerunCheck, RerunError, RerunOutcome, RerunSummary, VerifyError, VerifyOptions,
    VerifyReport, VERIFY_REPORT_KIND, VERIFY_REPORT_SCHEMA_VERSION,
};

#[cfg(test)]
mod tests;

//! Reading a log and checking its chain: every line parses, every record hashes to its
//! `hash`, every `prev_hash` is the hash of the record before it, `seq` counts up from 1.
//! Used by [`super::AuditLog::open`] (refuse to extend a broken log) and by verification.

use std::collections::{HashMap, HashSet};

use super::findings::{ChainCause, Finding};
use super::record::{record_hash, AuditRecord, GENESIS_HASH};

/// A record as found in the log.
#[derive(Debug, Clone)]
pub struct LoggedRecord {
    /// 1-based line number.
    pub line: usize,
    /// The record.
    pub record: AuditRecord,
    /// The hash its contents give (equal to `record.hash` unless it was altered).
    pub computed_hash: String,
}

/// A log read and checked.
#[derive(Debug, Clone, Default)]
pub struct ChainCheck {
    /// Every line that parsed as a record, in file order.
    pub records: Vec<LoggedRecord>,
    /// Lines in the file (a last line without a newline counts).
    pub lines: usize,
    /// Whether the text is empty or ends with a newline (a missing one means a torn write).
    pub ends_with_newline: bool,
    /// Chain findings: unparseable lines, altered records, broken links, seq gaps.
    pub findings: Vec<Finding>,
}

/// Parses `text` (the contents of `audit.jsonl`) and checks its chain.
pub fn check_chain(text: &str) -> ChainCheck {
    let mut pieces: Vec<&str> = text.split('\n').collect();
    let ends_with_newline = pieces.last().is_some_and(|last| last.is_empty());
    if ends_with_newline {
        pieces.pop();
    }
    let mut check = ChainCheck {
        lines: pieces.len(),
        ends_with_newline,
        ..ChainCheck::default()
    };
    // None = unreadable line; Some(i) = check.records[i]
    let mut items: Vec<Option<usize>> = Vec::with_capacity(pieces.len());
    for (index, piece) in pieces.iter().enumerate() {
        let line = index + 1;
        match parse_line(piece) {
            Ok(logged) => {
                items.push(Some(check.records.len()));
                check.records.push(LoggedRecord { line, ..logged });
            }
            Err(error) => {
                items.push(None);
                check.findings.push(Finding::UnparseableLine { line, error });
            }
        }
    }
    let findings = link_findings(&check.records, &items);
    check.findings.extend(findings);
    check.findings.sort_by_key(finding_line);
    check
}

fn parse_line(text: &str) -> Result<LoggedRecord, String> {
    if text.trim().is_empty() {
        return Err("empty line".into());
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let computed_hash = record_hash(&value);
    let record: AuditRecord = serde_json::from_value(value).map_err(|e| e.to_string())?;
    Ok(LoggedRecord {
        line: 0,
        record,
        computed_hash,
    })
}

fn finding_line(finding: &Finding) -> usize {
    match finding {
        Finding::UnparseableLine { line, .. }
        | Finding::RecordAltered { line, .. }
        | Finding::ChainBroken { line, .. }
        | Finding::SeqGap { line, .. } => *line,
        _ => usize::MAX,
    }
}

/// Hash, link and seq findings of `records`; `items` is the file's lines in order.
fn link_findings(records: &[LoggedRecord], items: &[Option<usize>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut position_of_hash: HashMap<&str, usize> = HashMap::new();
    for (i, logged) in records.iter().enumerate() {
        position_of_hash.entry(logged.record.hash.as_str()).or_insert(i);
    }
    let referenced: HashSet<&str> = records.iter().map(|r| r.record.prev_hash.as_str()).collect();
    let seqs: HashSet<u64> = records.iter().map(|r| r.record.seq).collect();

    let mut previous: Option<usize> = None;
    let mut unreadable_lines: Vec<usize> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(k) = *item else {
            unreadable_lines.push(index + 1);
            continue;
        };
        let logged = &records[k];
        let record = &logged.record;
        if logged.computed_hash != record.hash {
            findings.push(Finding::RecordAltered {
                line: logged.line,
                seq: record.seq,
                stored_hash: record.hash.clone(),
                computed_hash: logged.computed_hash.clone(),
            });
        }
        let expected_prev = previous.map_or(GENESIS_HASH, |p| records[p].record.hash.as_str());
        if record.prev_hash != expected_prev {
            let (cause, related_lines) = if unreadable_lines.is_empty() {
                classify_break(records, k, previous, &position_of_hash, &referenced)
            } else {
                (ChainCause::UnreadablePredecessor, unreadable_lines.clone())
            };
            findings.push(Finding::ChainBroken {
                line: logged.line,
                seq: record.seq,
                cause,
                related_lines,
                prev_hash: record.prev_hash.clone(),
                expected_prev_hash: expected_prev.to_string(),
            });
        }
        let expected_seq = previous.map_or(1, |p| records[p].record.seq.saturating_add(1));
        if record.seq > expected_seq {
            let missing: Vec<u64> = (expected_seq..record.seq).filter(|s| !seqs.contains(s)).collect();
            if let (Some(&from), Some(&to)) = (missing.first(), missing.last()) {
                findings.push(Finding::SeqGap {
                    line: logged.line,
                    seq: record.seq,
                    missing_from: from,
                    missing_to: to,
                });
            }
        }
        previous = Some(k);
        unreadable_lines.clear();
    }
    findings
}

/// Why `records[k]`'s `prev_hash` is not the hash of `records[previous]`, and the lines involved.
fn classify_break(
    records: &[LoggedRecord],
    k: usize,
    previous: Option<usize>,
    position_of_hash: &HashMap<&str, usize>,
    referenced: &HashSet<&str>,
) -> (ChainCause, Vec<usize>) {
    let record = &records[k].record;
    let predecessor: Option<Option<usize>> = if record.prev_hash == GENESIS_HASH {
        Some(None) // it claims to be first
    } else {
        position_of_hash.get(record.prev_hash.as_str()).map(|&j| Some(j))
    };
    match predecessor {
        Some(Some(j)) if j > k => (ChainCause::Reordered, vec![records[j].line]),
        Some(found) => {
            let start = found.map_or(0, |j| j + 1);
            let between = &records[start..k];
            let orphans = between.iter().all(|r| !referenced.contains(r.record.hash.as_str()));
            if orphans {
                (ChainCause::Inserted, between.iter().map(|r| r.line).collect())
            } else {
                (
                    ChainCause::Reordered,
                    found.map(|j| vec![records[j].line]).unwrap_or_default(),
                )
            }
        }
        None => {
            let expected_seq = previous.map_or(1, |p| records[p].record.seq.saturating_add(1));
            if record.seq > expected_seq {
                (ChainCause::Removed, Vec::new())
            } else if previous.is_some_and(|p| record.seq < records[p].record.seq) {
                (ChainCause::Reordered, Vec::new())
            } else {
                (ChainCause::Replaced, Vec::new())
            }
        }
    }
}

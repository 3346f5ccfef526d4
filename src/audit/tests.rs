//! Tamper tests on synthetic logs: every kind of change to a log or its files is found, with
//! the right finding, and a clean log verifies.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::*;

/// A folder with `n` analysis-like records (input `in/N.txt` outside the log folder, output
/// `out/N.json`) and an export record (`out/summary.csv`).
struct Fixture {
    _root: tempfile::TempDir,
    out: PathBuf,
    inputs: Vec<PathBuf>,
}

fn fixture(n: usize) -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("out");
    let input_dir = root.path().join("in");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(&input_dir).unwrap();
    let log = AuditLog::open(&out).unwrap();
    let mut inputs = Vec::new();
    for i in 0..n {
        let input = input_dir.join(format!("{i}.txt"));
        std::fs::write(&input, format!("image {i}")).unwrap();
        let output = out.join(format!("{i}.json"));
        std::fs::write(&output, format!("{{\"count\": {i}}}")).unwrap();
        let mut event = AuditEvent::new(EventKind::Analysis, &serde_json::json!({"threshold": 0.5, "i": i})).unwrap();
        event.model_sha256 = Some("m".repeat(64));
        event.inputs.push(input_digest(&input).unwrap());
        event.outputs.push(output);
        event.result_sha256 = Some(fake_result(&input));
        log.append(event).unwrap();
        inputs.push(input);
    }
    let summary = out.join("summary.csv");
    std::fs::write(&summary, "path,count\n").unwrap();
    let mut event = AuditEvent::new(EventKind::Export, &serde_json::json!({"rows": n})).unwrap();
    event.outputs.push(summary);
    log.append(event).unwrap();
    Fixture {
        _root: root,
        out,
        inputs,
    }
}

/// The "analysis" of the fake re-runner: a hash of the input's bytes.
fn fake_result(input: &Path) -> String {
    sha256_hex(&std::fs::read(input).unwrap())
}

/// Re-runs by hashing the input again; `wrong` lists inputs whose re-run gives another result.
#[derive(Default)]
struct FakeRerun {
    wrong: HashMap<String, String>,
    calls: usize,
}

impl Rerun for FakeRerun {
    fn can_rerun(&self, record: &AuditRecord) -> bool {
        record.event == EventKind::Analysis
    }

    fn rerun(&mut self, record: &AuditRecord) -> Result<RerunOutcome, RerunError> {
        self.calls += 1;
        let path = &record.inputs[0].path;
        let result_sha256 = self
            .wrong
            .get(path)
            .cloned()
            .unwrap_or_else(|| fake_result(Path::new(path)));
        Ok(RerunOutcome::Result { result_sha256 })
    }
}

fn lines(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join(AUDIT_LOG_FILE))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(out: &Path, lines: &[String]) {
    std::fs::write(out.join(AUDIT_LOG_FILE), lines.join("\n") + "\n").unwrap();
}

fn records(out: &Path) -> Vec<AuditRecord> {
    lines(out).iter().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Re-links and re-seals every record, as a forger with write access could.
fn write_resealed(out: &Path, mut records: Vec<AuditRecord>) {
    let mut prev = GENESIS_HASH.to_string();
    for record in &mut records {
        record.prev_hash = prev;
        record.hash = record.compute_hash().unwrap();
        prev = record.hash.clone();
    }
    write_lines(
        out,
        &records
            .iter()
            .map(|r| serde_json::to_string(r).unwrap())
            .collect::<Vec<_>>(),
    );
}

fn sealed(mut record: AuditRecord) -> String {
    record.hash = record.compute_hash().unwrap();
    serde_json::to_string(&record).unwrap()
}

fn verify_all(out: &Path) -> VerifyReport {
    let options = VerifyOptions {
        sample: SampleSize::All,
        seed: 0,
    };
    verify(out, &options, &mut FakeRerun::default()).unwrap()
}

fn names(report: &VerifyReport) -> Vec<&'static str> {
    report.findings.iter().map(Finding::name).collect()
}

fn chain_causes(report: &VerifyReport) -> Vec<(usize, ChainCause)> {
    report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::ChainBroken { line, cause, .. } => Some((*line, *cause)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_clean_log_verifies_and_every_analysis_is_rerun() {
    let f = fixture(4);
    let mut rerun = FakeRerun::default();
    let options = VerifyOptions {
        sample: SampleSize::All,
        seed: 0,
    };
    let report = verify(&f.out, &options, &mut rerun).unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!((report.lines, report.records), (5, 5));
    assert_eq!(report.head.as_ref().map(|h| h.seq), Some(5));
    assert_eq!((report.inputs_checked, report.outputs_checked), (4, 5));
    assert_eq!(report.rerun.eligible, 4);
    assert_eq!(rerun.calls, 4);
    assert!(report.rerun.reruns.iter().all(|r| r.reproduced));
    let records = records(&f.out);
    assert_eq!(records[0].prev_hash, GENESIS_HASH);
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    assert!(records
        .iter()
        .all(|r| r.outputs.iter().all(|o| !Path::new(&o.path).is_absolute())));
    assert!(records[0].recorded_at.ends_with('Z'));
}

#[test]
fn the_default_sample_reruns_three_records_and_zero_reruns_none() {
    let f = fixture(5);
    let mut rerun = FakeRerun::default();
    let report = verify(&f.out, &VerifyOptions::default(), &mut rerun).unwrap();
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!((rerun.calls, report.rerun.reruns.len()), (3, 3));
    let options = VerifyOptions {
        sample: SampleSize::Count(0),
        seed: 0,
    };
    let mut none = FakeRerun::default();
    assert!(verify(&f.out, &options, &mut none).unwrap().is_clean());
    assert_eq!(none.calls, 0);
}

#[test]
fn reopening_continues_the_chain_and_concurrent_appends_keep_it_intact() {
    let f = fixture(2);
    let log = AuditLog::open(&f.out).unwrap();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let log = &log;
            scope.spawn(move || {
                for i in 0..10 {
                    let event = AuditEvent::new(EventKind::Other("note".into()), &(t, i)).unwrap();
                    log.append(event).unwrap();
                }
            });
        }
    });
    drop(log);
    let report = verify_all(&f.out);
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!(report.records, 83);
    assert_eq!(report.head.map(|h| h.seq), Some(83));
}

#[test]
fn a_second_writer_on_the_same_log_is_refused() {
    let f = fixture(1);
    let _first = AuditLog::open(&f.out).unwrap();
    assert!(matches!(AuditLog::open(&f.out), Err(AuditError::Busy { .. })));
}

#[test]
fn an_edited_field_is_an_altered_record() {
    let f = fixture(3);
    let mut lines = lines(&f.out);
    lines[1] = lines[1].replace("\"threshold\":0.5", "\"threshold\":0.6");
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert_eq!(names(&report), ["record_altered"], "{:#?}", report.findings);
    assert!(matches!(
        report.findings[0],
        Finding::RecordAltered { line: 2, seq: 2, .. }
    ));
    assert!(matches!(AuditLog::open(&f.out), Err(AuditError::Broken { .. })));
}

#[test]
fn an_edited_and_resealed_record_breaks_the_next_link() {
    let f = fixture(3);
    let mut lines = lines(&f.out);
    let mut record: AuditRecord = serde_json::from_str(&lines[1]).unwrap();
    record.settings["threshold"] = serde_json::json!(0.9);
    lines[1] = sealed(record);
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert_eq!(names(&report), ["chain_broken"], "{:#?}", report.findings);
    assert_eq!(chain_causes(&report), [(3, ChainCause::Replaced)]);
}

#[test]
fn a_deleted_record_is_found_as_removed_with_a_seq_gap() {
    let f = fixture(3);
    let mut lines = lines(&f.out);
    lines.remove(1);
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert_eq!(
        chain_causes(&report),
        [(2, ChainCause::Removed)],
        "{:#?}",
        report.findings
    );
    assert!(report.findings.iter().any(|f| matches!(
        f,
        Finding::SeqGap {
            missing_from: 2,
            missing_to: 2,
            ..
        }
    )));
    // the removed record's output is no longer accounted for
    assert!(report
        .findings
        .iter()
        .any(|f| matches!(f, Finding::UntrackedFile { path } if path == "1.json")));
}

#[test]
fn a_deleted_first_record_is_found() {
    let f = fixture(2);
    let mut lines = lines(&f.out);
    lines.remove(0);
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert_eq!(
        chain_causes(&report),
        [(1, ChainCause::Removed)],
        "{:#?}",
        report.findings
    );
    assert!(names(&report).contains(&"seq_gap"));
}

#[test]
fn a_truncated_tail_leaves_untracked_outputs() {
    let f = fixture(2);
    let mut lines = lines(&f.out);
    lines.pop(); // the export record
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert_eq!(names(&report), ["untracked_file"], "{:#?}", report.findings);
}

#[test]
fn an_inserted_self_consistent_record_is_found_as_inserted() {
    let f = fixture(3);
    let mut lines = lines(&f.out);
    let before: AuditRecord = serde_json::from_str(&lines[1]).unwrap();
    let mut forged = before.clone();
    forged.seq = 3;
    forged.prev_hash = before.hash.clone();
    forged.result_sha256 = Some("f".repeat(64));
    forged.outputs[0].path = "forged.json".into();
    lines.insert(2, sealed(forged));
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert_eq!(
        chain_causes(&report),
        [(4, ChainCause::Inserted)],
        "{:#?}",
        report.findings
    );
    assert!(report.findings.iter().any(|f| matches!(
        f,
        Finding::ChainBroken { related_lines, .. } if *related_lines == [3]
    )));
    assert!(names(&report).contains(&"output_missing"));
    assert!(!names(&report).contains(&"record_altered"));
}

#[test]
fn swapped_records_are_found_as_reordered() {
    let f = fixture(4);
    let mut lines = lines(&f.out);
    lines.swap(1, 2);
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    let causes = chain_causes(&report);
    assert!(!causes.is_empty(), "{:#?}", report.findings);
    assert!(causes.iter().all(|(_, c)| *c == ChainCause::Reordered), "{causes:?}");
    assert_eq!(names(&report).iter().filter(|n| **n != "chain_broken").count(), 0);
}

#[test]
fn an_unreadable_line_is_reported_and_blamed_for_the_next_link() {
    let f = fixture(3);
    let mut lines = lines(&f.out);
    lines[1].truncate(40);
    write_lines(&f.out, &lines);
    let report = verify_all(&f.out);
    assert!(matches!(report.findings[0], Finding::UnparseableLine { line: 2, .. }));
    assert_eq!(chain_causes(&report), [(3, ChainCause::UnreadablePredecessor)]);
}

#[test]
fn a_torn_last_line_is_found_and_the_log_is_not_extended() {
    let f = fixture(1);
    let path = f.out.join(AUDIT_LOG_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 10]).unwrap();
    assert!(names(&verify_all(&f.out)).contains(&"unparseable_line"));
    let error = AuditLog::open(&f.out).unwrap_err();
    assert!(matches!(error, AuditError::Broken { .. }), "{error}");
    assert!(error.to_string().contains("tricho audit verify"), "{error}");
}

#[test]
fn changed_and_missing_inputs_are_found() {
    let f = fixture(3);
    std::fs::write(&f.inputs[0], "image 0, edited").unwrap();
    std::fs::remove_file(&f.inputs[2]).unwrap();
    let report = verify_all(&f.out);
    assert_eq!(
        names(&report),
        ["input_changed", "input_missing"],
        "{:#?}",
        report.findings
    );
    // records with input findings are not re-run
    assert_eq!(report.rerun.reruns.iter().map(|r| r.seq).collect::<Vec<_>>(), [2]);
}

#[test]
fn changed_and_missing_outputs_are_found() {
    let f = fixture(3);
    std::fs::write(f.out.join("0.json"), "{\"count\": 99}").unwrap();
    std::fs::remove_file(f.out.join("summary.csv")).unwrap();
    let report = verify_all(&f.out);
    assert_eq!(
        names(&report),
        ["output_changed", "output_missing"],
        "{:#?}",
        report.findings
    );
    assert!(matches!(&report.findings[0], Finding::OutputChanged { seq: 1, path, .. } if path == "0.json"));
}

#[test]
fn an_output_rewritten_by_a_later_record_is_checked_against_that_record_only() {
    let f = fixture(2);
    std::fs::write(f.out.join("0.json"), "{\"count\": 0, \"again\": true}").unwrap();
    let log = AuditLog::open(&f.out).unwrap();
    let mut event = AuditEvent::new(EventKind::Analysis, &serde_json::json!({})).unwrap();
    event.inputs.push(input_digest(&f.inputs[0]).unwrap());
    event.outputs.push(f.out.join("0.json"));
    event.result_sha256 = Some(fake_result(&f.inputs[0]));
    log.append(event).unwrap();
    drop(log);
    let report = verify_all(&f.out);
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert_eq!(report.outputs_superseded, 1);
}

#[test]
fn a_result_that_does_not_reproduce_is_found_only_by_the_rerun() {
    let f = fixture(3);
    let mut records = records(&f.out);
    records[1].result_sha256 = Some("0".repeat(63) + "1");
    write_resealed(&f.out, records);
    let options = VerifyOptions {
        sample: SampleSize::Count(0),
        seed: 0,
    };
    assert!(verify(&f.out, &options, &mut FakeRerun::default()).unwrap().is_clean());
    let report = verify_all(&f.out);
    assert_eq!(names(&report), ["not_reproduced"], "{:#?}", report.findings);
    assert!(matches!(report.findings[0], Finding::NotReproduced { seq: 2, .. }));
    assert!(!report.rerun.reruns[1].reproduced);
}

#[test]
fn a_rerun_that_cannot_run_is_a_finding_and_an_impossible_rerun_an_error() {
    struct Refuses(bool);
    impl Rerun for Refuses {
        fn can_rerun(&self, _: &AuditRecord) -> bool {
            true
        }
        fn rerun(&mut self, _: &AuditRecord) -> Result<RerunOutcome, RerunError> {
            if self.0 {
                Err("no runtime".into())
            } else {
                Ok(RerunOutcome::CannotRerun {
                    reason: "another model".into(),
                })
            }
        }
    }
    let f = fixture(1);
    let options = VerifyOptions {
        sample: SampleSize::All,
        seed: 0,
    };
    let report = verify(&f.out, &options, &mut Refuses(false)).unwrap();
    assert_eq!(names(&report), ["rerun_failed"]);
    assert!(matches!(
        verify(&f.out, &options, &mut Refuses(true)),
        Err(VerifyError::Rerun { seq: 1, .. })
    ));
}

#[test]
fn a_folder_without_a_log_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        verify(dir.path(), &VerifyOptions::default(), &mut NoRerun),
        Err(VerifyError::NoLog { .. })
    ));
}

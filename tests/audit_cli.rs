//! The audit trail through the real binary: `tricho analyze` records every image and the
//! summary in `audit.jsonl`, `tricho audit verify` passes a clean folder (re-running the
//! analyses reproduces them exactly) and finds each kind of tampering with exit code 1.
//!
//! Needs ONNX Runtime: run `bash scripts/install-onnxruntime.sh` first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use tricho::audit::{
    image_result_sha256, AnalysisSettings, AuditRecord, ChainCause, EventKind, Finding, VerifyReport, AUDIT_LOG_FILE,
    GENESIS_HASH,
};
use tricho::report::ImageReport;

const IMAGES: [&str; 2] = ["0000.png", "crossing_2_hairs_expect_2.png"];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn tricho(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tricho"))
        .args(args)
        .output()
        .expect("tricho runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Copies the two fixture images into `root/images` and analyses them into `root/out`.
fn analyse_into(root: &Path) -> PathBuf {
    let images = root.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for name in IMAGES {
        std::fs::copy(fixture(name), images.join(name)).unwrap();
    }
    let out = root.join("out");
    let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref(), images.as_os_str(), "--um-per-px".as_ref()];
    args.extend(["5".as_ref(), "--out".as_ref(), out.as_os_str()]);
    let run = tricho(&args);
    assert!(run.status.success(), "{}", stderr(&run));
    out
}

/// One analysed folder shared by the tests that only tamper with the log and outputs (each
/// on its own copy); the images it records stay untouched.
fn shared_out() -> &'static Path {
    static SHARED: OnceLock<PathBuf> = OnceLock::new();
    SHARED.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit_cli_shared");
        let _ = std::fs::remove_dir_all(&root);
        analyse_into(&root)
    })
}

/// A copy of the shared output folder in a fresh temporary folder.
fn copy_of_shared() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    for entry in std::fs::read_dir(shared_out()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), out.join(entry.file_name())).unwrap();
    }
    (dir, out)
}

/// `tricho audit verify OUT --json --sample SAMPLE`: exit code and parsed report.
fn verify(out: &Path, sample: &str) -> (Option<i32>, VerifyReport) {
    let run = tricho(&[
        "audit".as_ref(),
        "verify".as_ref(),
        out.as_os_str(),
        "--json".as_ref(),
        "--sample".as_ref(),
        sample.as_ref(),
    ]);
    let report = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", String::from_utf8_lossy(&run.stdout), stderr(&run)));
    (run.status.code(), report)
}

fn names(report: &VerifyReport) -> Vec<&'static str> {
    report.findings.iter().map(Finding::name).collect()
}

fn log_lines(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out.join(AUDIT_LOG_FILE))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_log(out: &Path, lines: &[String]) {
    std::fs::write(out.join(AUDIT_LOG_FILE), lines.join("\n") + "\n").unwrap();
}

fn records(out: &Path) -> Vec<AuditRecord> {
    log_lines(out)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Writes `records` re-linked and re-sealed, as someone rewriting the whole log would.
fn write_resealed(out: &Path, mut records: Vec<AuditRecord>) {
    let mut prev = GENESIS_HASH.to_string();
    for record in &mut records {
        record.prev_hash = prev;
        record.hash = record.compute_hash().unwrap();
        prev = record.hash.clone();
    }
    let lines: Vec<String> = records.iter().map(|r| serde_json::to_string(r).unwrap()).collect();
    write_log(out, &lines);
}

fn chain_causes(report: &VerifyReport) -> Vec<ChainCause> {
    report
        .findings
        .iter()
        .filter_map(|f| match f {
            Finding::ChainBroken { cause, .. } => Some(*cause),
            _ => None,
        })
        .collect()
}

#[test]
fn analyze_records_every_image_and_the_summary_and_the_folder_verifies() {
    let out = shared_out();
    let records = records(out);
    let events: Vec<&EventKind> = records.iter().map(|r| &r.event).collect();
    assert_eq!(events, [&EventKind::Analysis, &EventKind::Analysis, &EventKind::Export]);
    assert_eq!(records.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(records[0].prev_hash, GENESIS_HASH);
    for record in &records[..2] {
        let settings: AnalysisSettings = serde_json::from_value(record.settings.clone()).unwrap();
        assert_eq!(settings.calibration.spacing.map(|s| s.um_per_px), Some(5.0));
        assert_eq!(record.inputs.len(), 1);
        assert!(Path::new(&record.inputs[0].path).is_absolute());
        let stem = Path::new(&record.inputs[0].path).file_stem().unwrap().to_str().unwrap();
        let outputs: Vec<&str> = record.outputs.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(outputs, [format!("{stem}.json"), format!("{stem}.overlay.png")]);
        // the report read back from its JSON gives the recorded result hash
        let report: ImageReport =
            serde_json::from_slice(&std::fs::read(out.join(&record.outputs[0].path)).unwrap()).unwrap();
        assert_eq!(
            record.result_sha256.as_deref(),
            Some(image_result_sha256(&report).unwrap().as_str())
        );
        assert_eq!(
            record.model_sha256.as_deref(),
            Some(report.provenance.model.sha256.as_str())
        );
        assert_eq!(record.inputs[0].sha256, report.input.sha256);
    }
    assert_eq!(records[2].outputs[0].path, "summary.csv");

    let (code, report) = verify(out, "all");
    assert_eq!(code, Some(0), "{:#?}", report.findings);
    assert!(report.is_clean());
    assert_eq!(report.rerun.reruns.len(), 2);
    assert!(report.rerun.reruns.iter().all(|r| r.reproduced));
    assert!(report.rerun.run_dependent_fields.contains(&"/timings_ms".to_string()));

    let human = tricho(&["audit".as_ref(), "verify".as_ref(), out.as_os_str()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.status.code(), Some(0), "{text}{}", stderr(&human));
    assert!(
        text.contains("OK: no findings") && text.contains("2 reproduced exactly"),
        "{text}"
    );
}

#[test]
fn a_second_run_continues_the_chain_and_reproduces_the_first_with_one_thread() {
    let (_dir, out) = copy_of_shared();
    let first = records(&out);
    let image = first[0].inputs[0].path.clone();
    let run = tricho(&[
        "analyze".as_ref(),
        image.as_ref(),
        "--um-per-px".as_ref(),
        "5".as_ref(),
        "--jobs".as_ref(),
        "1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let all = records(&out);
    assert_eq!(all.len(), 5);
    assert_eq!(all[3].prev_hash, first[2].hash);
    assert_eq!(all[3].seq, 4);
    assert_eq!(all[3].result_sha256, first[0].result_sha256, "same image, same result");
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(0), "{:#?}", report.findings);
    assert_eq!(report.outputs_superseded, 3);
}

#[test]
fn an_edited_record_is_found() {
    let (_dir, out) = copy_of_shared();
    let mut lines = log_lines(&out);
    let mut value: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    value["settings"]["analysis"]["measure"]["vellus_max_um"] = serde_json::json!(31.0);
    lines[0] = value.to_string();
    write_log(&out, &lines);
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(1));
    assert_eq!(names(&report), ["record_altered"], "{:#?}", report.findings);

    let human = tricho(&["audit".as_ref(), "verify".as_ref(), out.as_os_str()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(human.status.code(), Some(1));
    assert!(
        text.contains("line 1, seq 1: record_altered") && text.contains("FAILED"),
        "{text}"
    );
}

#[test]
fn a_deleted_record_is_found() {
    let (_dir, out) = copy_of_shared();
    let mut lines = log_lines(&out);
    let removed: AuditRecord = serde_json::from_str(&lines.remove(1)).unwrap();
    write_log(&out, &lines);
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(1));
    assert_eq!(chain_causes(&report), [ChainCause::Removed], "{:#?}", report.findings);
    assert!(names(&report).contains(&"seq_gap"));
    for output in &removed.outputs {
        assert!(report.findings.contains(&Finding::UntrackedFile {
            path: output.path.clone()
        }));
    }
}

#[test]
fn an_inserted_record_with_a_valid_hash_is_found() {
    let (_dir, out) = copy_of_shared();
    let mut lines = log_lines(&out);
    let first: AuditRecord = serde_json::from_str(&lines[0]).unwrap();
    let mut forged = first.clone();
    forged.seq = 2;
    forged.prev_hash = first.hash.clone();
    forged.hash = forged.compute_hash().unwrap();
    lines.insert(1, serde_json::to_string(&forged).unwrap());
    write_log(&out, &lines);
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(1));
    assert_eq!(chain_causes(&report), [ChainCause::Inserted], "{:#?}", report.findings);
    assert!(!names(&report).contains(&"record_altered"));
}

#[test]
fn swapped_records_are_found() {
    let (_dir, out) = copy_of_shared();
    let mut lines = log_lines(&out);
    lines.swap(0, 1);
    write_log(&out, &lines);
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(1));
    let causes = chain_causes(&report);
    assert!(
        !causes.is_empty() && causes.iter().all(|c| *c == ChainCause::Reordered),
        "{:#?}",
        report.findings
    );
}

#[test]
fn a_changed_output_json_and_a_deleted_overlay_are_found() {
    let (_dir, out) = copy_of_shared();
    let json = out.join("0000.json");
    let text = std::fs::read_to_string(&json).unwrap();
    std::fs::write(&json, text.replacen("\"count\": ", "\"count\": 1", 1)).unwrap();
    std::fs::remove_file(out.join("crossing_2_hairs_expect_2.overlay.png")).unwrap();
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(1));
    assert!(report
        .findings
        .iter()
        .any(|f| matches!(f, Finding::OutputChanged { path, .. } if path == "0000.json")));
    assert!(report
        .findings
        .iter()
        .any(|f| matches!(f, Finding::OutputMissing { path, .. } if path == "crossing_2_hairs_expect_2.overlay.png")));
    assert_eq!(report.findings.len(), 2, "{:#?}", report.findings);
}

#[test]
fn a_changed_input_image_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyse_into(dir.path());
    let image = dir.path().join("images").join(IMAGES[0]);
    let mut bytes = std::fs::read(&image).unwrap();
    let last = bytes.len() - 20; // inside the IEND chunk's neighbourhood: still a file, other bytes
    bytes[last] ^= 0x01;
    std::fs::write(&image, bytes).unwrap();
    let (code, report) = verify(&out, "all");
    assert_eq!(code, Some(1));
    assert_eq!(names(&report), ["input_changed"], "{:#?}", report.findings);
    assert!(
        report.rerun.reruns.iter().all(|r| !r.path.ends_with(IMAGES[0])),
        "a changed input is not re-run"
    );
}

#[test]
fn a_result_that_does_not_reproduce_is_found_by_the_rerun_only() {
    let (_dir, out) = copy_of_shared();
    let mut records = records(&out);
    records[0].result_sha256 = Some("ab".repeat(32));
    write_resealed(&out, records);
    let (code, report) = verify(&out, "0");
    assert_eq!(code, Some(0), "the chain and files are intact: {:#?}", report.findings);
    let (code, report) = verify(&out, "all");
    assert_eq!(code, Some(1));
    assert_eq!(names(&report), ["not_reproduced"], "{:#?}", report.findings);
}

#[test]
fn no_log_and_bad_arguments_are_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = tricho(&["audit".as_ref(), "verify".as_ref(), dir.path().as_os_str()]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("audit.jsonl"), "{}", stderr(&run));
    let run = tricho(&[
        "audit".as_ref(),
        "verify".as_ref(),
        dir.path().as_os_str(),
        "--sample".as_ref(),
        "some".as_ref(),
    ]);
    assert_eq!(run.status.code(), Some(2));
}

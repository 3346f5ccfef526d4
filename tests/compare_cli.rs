//! `tricho compare` through the real binary: a rendered phantom pair compared into a typed
//! `comparison.json` (parsed back) with the fields scripts rely on, an overlay and the two
//! per-visit analyses; counts that add up; one audit record that verifies and catches a
//! changed result; and a bad follow-up file reported by name with a
//! non-zero exit code.
//!
//! Needs ONNX Runtime: run `bash scripts/install-onnxruntime.sh` first.

use std::path::Path;
use std::process::{Command, Output};

use tricho::compare::Similarity;
use tricho::report::{ComparisonReport, COMPARISON_REPORT_KIND, COMPARISON_REPORT_SCHEMA_VERSION};
use tricho::synth::pair::PairTruth;
use tricho::synth::truth::PhantomTruth;

fn tricho(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tricho"))
        .args(args)
        .output()
        .expect("tricho runs")
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Renders one 640 × 480 phantom pair into `dir` (seed outside every training range).
fn render_pair(dir: &Path) {
    let out = tricho(&[
        "synth".as_ref(),
        "--pairs".as_ref(),
        "--count".as_ref(),
        "1".as_ref(),
        "--size".as_ref(),
        "640x480".as_ref(),
        "--um-per-px".as_ref(),
        "4:6".as_ref(),
        "--seed".as_ref(),
        "510000".as_ref(),
        "--out".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_phantom_pair_is_compared_into_typed_json_with_the_required_fields() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs");
    render_pair(&pairs);
    let truth: PairTruth = read(&pairs.join("0000.pair.json"));
    let b_truth: PhantomTruth = read(&pairs.join(&truth.baseline_truth));
    let f_truth: PhantomTruth = read(&pairs.join(&truth.followup_truth));
    let out_dir = dir.path().join("cmp");
    let (b_um, f_um) = (
        b_truth.calibration.um_per_px.to_string(),
        f_truth.calibration.um_per_px.to_string(),
    );
    let out = tricho(&[
        "compare".as_ref(),
        pairs.join(&b_truth.image.file).as_os_str(),
        pairs.join(&f_truth.image.file).as_os_str(),
        "--baseline-um-per-px".as_ref(),
        b_um.as_ref(),
        "--followup-um-per-px".as_ref(),
        f_um.as_ref(),
        "--interval-days".as_ref(),
        "30".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // the fields scripts rely on, by name
    let raw: serde_json::Value = read(&out_dir.join("comparison.json"));
    for pointer in [
        "/change/density_per_cm2",
        "/change/density_pct",
        "/change/mean_width_um",
        "/registration/overlap_fraction",
        "/matching/persisting",
        "/matching/new",
        "/matching/lost",
        "/response/repeatability_density_pct",
        "/baseline/input/sha256",
        "/followup/input/sha256",
        "/provenance/model/sha256",
    ] {
        assert!(raw.pointer(pointer).is_some(), "comparison.json lacks {pointer}");
    }
    let report: ComparisonReport = read(&out_dir.join("comparison.json"));
    assert_eq!(report.schema_version, COMPARISON_REPORT_SCHEMA_VERSION);
    assert_eq!(report.kind, COMPARISON_REPORT_KIND);
    assert_ne!(report.baseline.input.sha256, report.followup.input.sha256);
    assert!(report.change.density_pct.is_some() && report.change.density_per_cm2.is_some());

    // the registration lands near the true transform (gross failure check: 2 % of the diagonal)
    let estimated = Similarity {
        matrix: report.registration.followup_to_baseline,
    };
    let true_transform = Similarity {
        matrix: truth.followup_to_baseline.matrix,
    };
    let error = estimated.mean_corner_distance_px(&true_transform, 640.0, 480.0);
    assert!(error < 16.0, "registration off by {error:.1} px");
    let overlap = report.registration.overlap_fraction;
    assert!(overlap > 0.0 && overlap <= 1.0, "{overlap}");
    assert!((0.0..=1.0).contains(&report.registration.confidence));

    // counts add up: baseline = persisting + lost, follow-up = persisting + new
    let m = &report.matching.summary;
    let metrics = &report.common_field_metrics;
    assert_eq!(metrics.baseline.count, m.persisting + m.lost, "{m:?}");
    assert_eq!(metrics.followup.count, m.persisting + m.new, "{m:?}");
    assert_eq!(
        report.change.count,
        metrics.followup.count as i64 - metrics.baseline.count as i64
    );
    assert_eq!(m.linked, report.matching.links.len());

    // interval from the command line, flagged because 30 days is outside 10–20 weeks
    assert_eq!(report.interval.interval_days, Some(30));
    let flags = serde_json::to_string(&report.flags).unwrap();
    assert!(flags.contains("\"interval_outside_10_to_20_weeks\""), "{flags}");
    assert!(flags.contains("calibration_differs"), "{flags}");

    // overlay: both panels side by side; per-visit analyses beside it
    let overlay = image::open(out_dir.join("comparison.overlay.png")).unwrap();
    assert_eq!((overlay.width(), overlay.height()), (2 * 640 + 8, 480));
    for file in ["baseline.json", "followup.json"] {
        let visit: tricho::report::ImageReport = read(&out_dir.join(file));
        assert_eq!(visit.kind, tricho::report::IMAGE_REPORT_KIND);
    }

    // one `comparison` audit record covering both photos and all four files; it verifies,
    // and a changed comparison.json is caught
    let log = std::fs::read_to_string(out_dir.join("audit.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 1, "{log}");
    assert_eq!(records[0]["event"], "comparison");
    assert_eq!(records[0]["inputs"].as_array().unwrap().len(), 2, "{log}");
    assert_eq!(records[0]["outputs"].as_array().unwrap().len(), 4, "{log}");
    let verify = |dir: &Path| tricho(&["audit".as_ref(), "verify".as_ref(), dir.as_os_str()]);
    let clean = verify(&out_dir);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stdout)
    );
    let mut changed = raw.clone();
    changed["change"]["density_pct"] = serde_json::json!(99.0);
    std::fs::write(out_dir.join("comparison.json"), changed.to_string()).unwrap();
    let tampered = verify(&out_dir);
    assert_eq!(
        tampered.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&tampered.stdout)
    );
    assert!(String::from_utf8_lossy(&tampered.stdout).contains("comparison.json"));
}

#[test]
fn a_bad_followup_file_is_named_in_the_error_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("visit2_followup.png");
    std::fs::write(&bad, b"this is not an image").unwrap();
    let baseline = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/0005-baseline.png");
    let out = tricho(&[
        "compare".as_ref(),
        baseline.as_os_str(),
        bad.as_os_str(),
        "--um-per-px".as_ref(),
        "5".as_ref(),
        "--out".as_ref(),
        dir.path().join("cmp").as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("visit2_followup.png"), "{stderr}");
    assert!(!dir.path().join("cmp/comparison.json").exists());
}

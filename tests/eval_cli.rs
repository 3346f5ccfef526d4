//! `tricho eval` and `tricho eval-pairs` through the real binary on the committed fixtures:
//! the table and the JSON cover every phantom, a broken truth file is named while the others
//! are still scored (exit 1), and a folder without phantoms is an error.
//!
//! Needs ONNX Runtime: run `bash scripts/install-onnxruntime.sh` first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn tricho(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tricho"))
        .args(args)
        .output()
        .expect("tricho runs")
}

fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn eval_scores_every_fixture_into_the_table_and_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("nested").join("eval.json");
    let out = tricho(&[
        "eval".as_ref(),
        fixtures().as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let truths = std::fs::read_dir(fixtures())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".truth.json")
        })
        .count();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains(&format!("| **all** | {truths} |")), "{table}");
    let summary = read_json(&json);
    assert_eq!(summary["phantoms"].as_array().unwrap().len(), truths);
    assert_eq!(summary["overall"]["images"], truths);
    let median = summary["overall"]["count_abs_error_pct_median"].as_f64().unwrap();
    assert!(median.is_finite() && median >= 0.0, "{median}");
    // Widths come from the model's coverage channel: thin hairs are not painted wide (the
    // recall-weighted hair channel put their median 3.3 µm over on these fixtures) and thick
    // ones are not cut at a glossy highlight.
    let errors = |keep: fn(f64) -> bool| -> Vec<f64> {
        let mut e: Vec<f64> = summary["phantoms"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["widths"].as_array().unwrap())
            .map(|w| {
                (
                    w["true_width_um"].as_f64().unwrap(),
                    w["measured_width_um"].as_f64().unwrap(),
                )
            })
            .filter(|&(truth, _)| keep(truth))
            .map(|(truth, measured)| measured - truth)
            .collect();
        e.sort_by(f64::total_cmp);
        e
    };
    let (thin, thick) = (errors(|w| w <= 30.0), errors(|w| w >= 60.0));
    assert!(
        thin.len() >= 10 && thick.len() >= 10,
        "{} thin, {} thick",
        thin.len(),
        thick.len()
    );
    let (thin_median, thick_median) = (thin[thin.len() / 2], thick[thick.len() / 2]);
    assert!(
        thin_median.abs() <= 2.0,
        "thin hairs: median width error {thin_median} µm"
    );
    assert!(
        thick_median.abs() <= 3.0,
        "thick hairs: median width error {thick_median} µm"
    );
}

#[test]
fn a_broken_truth_file_is_named_and_the_other_phantoms_are_still_scored() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["png", "truth.json"] {
        std::fs::copy(
            fixtures().join(format!("0000.{ext}")),
            dir.path().join(format!("0000.{ext}")),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("9999.truth.json"), "{ not json").unwrap();
    let json = dir.path().join("eval.json");
    let out = tricho(&[
        "eval".as_ref(),
        dir.path().as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("9999.truth.json"), "{stderr}");
    assert_eq!(read_json(&json)["phantoms"].as_array().unwrap().len(), 1);
}

#[test]
fn a_folder_without_phantoms_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["eval", "eval-pairs"] {
        let out = tricho(&[command.as_ref(), dir.path().as_os_str()]);
        assert!(!out.status.success(), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("no *."), "{command}: {stderr}");
    }
}

#[test]
fn eval_pairs_scores_the_fixture_pair() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("pairs.json");
    let out = tricho(&[
        "eval-pairs".as_ref(),
        fixtures().as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = read_json(&json);
    assert_eq!(summary["pairs"], 1);
    assert_eq!(summary["scores"].as_array().unwrap().len(), 1);
    let error = summary["registration_error_px_median"].as_f64().unwrap();
    assert!(error.is_finite() && error >= 0.0, "{error}");
    // the common-field tallies behind the density-change error
    let score = &summary["scores"][0];
    let tally = |which: &str, field: &str| score[which][field].as_i64().unwrap();
    assert_eq!(
        tally("measured_common", "baseline") - tally("measured_common", "lost") + tally("measured_common", "new"),
        tally("measured_common", "followup"),
        "the comparison counts each hair of its common field once per visit: {score}"
    );
    assert!(
        tally("true_common", "new") <= 5,
        "the fixture pair has 5 new hairs: {score}"
    );
    assert!(
        tally("true_common", "lost") <= 3,
        "the fixture pair has 3 lost hairs: {score}"
    );
    let (before, after) = (
        tally("true_common", "baseline") as f64,
        tally("true_common", "followup") as f64,
    );
    let true_change = score["true_density_change_pct"].as_f64().unwrap();
    assert!(
        (true_change - (after - before) / before * 100.0).abs() < 1e-9,
        "{score}"
    );
}

//! `tricho batch` and `tricho merge` through the real binary on the committed fixtures: bad
//! manifest rows reported per row while the rest completes, typed outputs parsed back, a
//! resumed run that recomputes nothing (and recomputes everything when a setting changes),
//! an audit log that verifies and catches a changed comparison, shards that merge into the
//! whole batch, and the folder layout.
//!
//! Needs ONNX Runtime: run `bash scripts/install-onnxruntime.sh` first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tricho::batch::outputs::BatchSummary;
use tricho::batch::shard::Shard;
use tricho::cohort::{Cohort, COHORT_KIND};

fn tricho(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tricho"))
        .args(args)
        .output()
        .expect("tricho runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Audit records of `kind` in `dir/audit.jsonl`.
fn records(dir: &Path, kind: &str) -> usize {
    let text = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    text.lines()
        .filter(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["event"] == kind)
        .count()
}

/// A manifest row of fixture pair 0005 for `subject` (both visits, calibrations from the truth).
fn pair_rows(subject: &str, site: &str) -> String {
    format!(
        "{subject},{site},baseline,2026-01-05,{},4.608\n{subject},{site},week12,2026-04-06,{},4.539\n",
        fixture("0005-baseline.png").display(),
        fixture("0005-followup.png").display()
    )
}

fn batch(manifest: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "batch".as_ref(),
        manifest.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    tricho(&args)
}

#[test]
fn bad_rows_are_reported_per_row_the_rest_completes_and_a_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    let text = format!(
        "subject,site,visit,date,path,um_per_px,comment\n{}\
         S2,lyon,baseline,2026-01-05,{b2},4.72,\n\
         S2,lyon,week12,2026-13-06,{f2},5.43,\n\
         S3,lyon,baseline,,missing.png,,\n\
         S4,lyon,baseline,2026-01-05,{b2},4.72,\n\
         S4,lyon,week12,2026-04-01,{f2},5.43,\n\
         S4,lyon,week12,2026-04-02,{f2},5.43,\n",
        pair_rows("S1", "paris"),
        b2 = fixture("0000.png").display(),
        f2 = fixture("0001.png").display(),
    );
    std::fs::write(&manifest, text).unwrap();
    let out = dir.path().join("out");
    let run = batch(&manifest, &out, &[]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let err = stderr(&run);
    for expected in [
        "manifest.csv:1: unknown column `comment`",
        "manifest.csv:5: unparseable date `2026-13-06`",
        "manifest.csv:6: photo",
        "manifest.csv:9: duplicate visit `week12` of subject `S4`",
        "pair S4 week12: mixed calibrations",
    ] {
        assert!(err.contains(expected), "stderr lacks {expected:?}:\n{err}");
    }

    let summary: BatchSummary = read(&out.join("batch.json"));
    assert_eq!(summary.subjects, 3);
    assert_eq!(summary.images.iter().filter(|r| r.summary.status == "ok").count(), 5);
    assert_eq!(summary.issues.len(), 4);
    let s1 = summary.pairs.iter().find(|p| p.key.subject == "S1").unwrap();
    assert_eq!(s1.status, "ok", "{}", s1.error);
    let result = s1.result.as_ref().unwrap();
    assert_eq!(result.interval_days, Some(91), "from the manifest dates");
    assert!(result.change.density_per_cm2.is_some() && result.persisting > 0);
    assert!(out.join(&s1.comparison_json).is_file() && out.join(&s1.thumbnail_jpg).is_file());

    let images_csv = std::fs::read_to_string(out.join("images.csv")).unwrap();
    assert_eq!(
        images_csv.lines().count(),
        1 + 5 + 4,
        "one line per photo and per bad row"
    );
    assert!(images_csv.contains("unparseable date `2026-13-06`"));
    let pairs_csv = std::fs::read_to_string(out.join("pairs.csv")).unwrap();
    assert!(pairs_csv.starts_with("subject,site,visit,baseline_visit,status,error,interval_days"));
    assert_eq!(pairs_csv.lines().count(), 3);

    let cohort: Cohort = read(&out.join("cohort.json"));
    assert_eq!(cohort.kind, COHORT_KIND);
    let all = cohort
        .groups
        .iter()
        .find(|g| g.visit == "week12" && g.site.is_none())
        .unwrap();
    assert_eq!((all.pairs_compared, all.pairs_failed), (1, 1));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("data:image/jpeg;base64,"), "thumbnail embedded");
    assert!(!html.contains("http://") && !html.contains("https://"), "opens offline");
    assert!(html.contains("mixed calibrations"));

    // the same run again: everything is recognised as done
    let (analyses, comparisons) = (records(&out, "analysis"), records(&out, "comparison"));
    assert_eq!((analyses, comparisons), (5, 1));
    let again = batch(&manifest, &out, &[]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!((records(&out, "analysis"), records(&out, "comparison")), (5, 1));
    let resumed: BatchSummary = read(&out.join("batch.json"));
    assert_eq!(resumed.pairs, summary.pairs, "a resumed run reports the same pairs");

    // a changed setting makes every result stale
    let changed = batch(&manifest, &out, &["--vellus-max-um", "25"]);
    assert_eq!(changed.status.code(), Some(1));
    assert_eq!((records(&out, "analysis"), records(&out, "comparison")), (10, 2));

    let verify = tricho(&[
        "audit".as_ref(),
        "verify".as_ref(),
        out.as_os_str(),
        "--sample".as_ref(),
        "2".as_ref(),
    ]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        stderr(&verify)
    );
    let comparison = out.join(&s1.comparison_json);
    let edited = std::fs::read_to_string(&comparison)
        .unwrap()
        .replacen("\"persisting\"", "\"persisting\" ", 1);
    std::fs::write(&comparison, edited).unwrap();
    let verify = tricho(&[
        "audit".as_ref(),
        "verify".as_ref(),
        out.as_os_str(),
        "--sample".as_ref(),
        "0".as_ref(),
    ]);
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("week12.json"));
}

#[test]
fn shards_merge_into_the_whole_batch() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.csv");
    let subjects = ["S1", "S2", "S3", "S4", "S5", "S6"];
    let rows: String = subjects.iter().map(|s| pair_rows(s, "vertex")).collect();
    std::fs::write(&manifest, format!("subject,site,visit,date,path,um_per_px\n{rows}")).unwrap();
    let halves = [Shard { index: 1, count: 2 }, Shard { index: 2, count: 2 }];
    for half in halves {
        assert!(
            subjects.iter().any(|s| half.holds(s)),
            "shard {half} is empty: pick other ids"
        );
    }
    let whole = dir.path().join("whole");
    assert!(batch(&manifest, &whole, &[]).status.success());
    let mut shard_dirs = Vec::new();
    for half in halves {
        let out = dir.path().join(format!("shard{}", half.index));
        let run = batch(&manifest, &out, &["--shard", &half.to_string()]);
        assert!(run.status.success(), "{}", stderr(&run));
        let part: BatchSummary = read(&out.join("batch.json"));
        assert!(part.pairs.iter().all(|p| half.holds(&p.key.subject)));
        shard_dirs.push(out);
    }
    let merged = dir.path().join("merged");
    let only_one = tricho(&[
        "merge".as_ref(),
        shard_dirs[0].as_os_str(),
        "--out".as_ref(),
        merged.as_os_str(),
    ]);
    assert_eq!(only_one.status.code(), Some(1));
    assert!(
        stderr(&only_one).contains("shard(s) 2/2 missing"),
        "{}",
        stderr(&only_one)
    );
    let merge = tricho(&[
        "merge".as_ref(),
        shard_dirs[1].as_os_str(),
        shard_dirs[0].as_os_str(),
        "--out".as_ref(),
        merged.as_os_str(),
    ]);
    assert!(merge.status.success(), "{}", stderr(&merge));
    let (whole, merged_summary): (BatchSummary, BatchSummary) =
        (read(&whole.join("batch.json")), read(&merged.join("batch.json")));
    let results = |s: &BatchSummary| -> Vec<_> { s.pairs.iter().map(|p| (p.key.clone(), p.result.clone())).collect() };
    assert_eq!(results(&merged_summary), results(&whole));
    assert_eq!(merged_summary.shards, halves);
    let (a, b): (Cohort, Cohort) = (
        read(&dir.path().join("whole/cohort.json")),
        read(&merged.join("cohort.json")),
    );
    assert_eq!(a, b, "the merged cohort is the whole batch's");
    let html = std::fs::read_to_string(merged.join("report.html")).unwrap();
    assert_eq!(
        html.matches("data:image/jpeg;base64,").count(),
        subjects.len(),
        "thumbnails found in the shards"
    );
    let verify = tricho(&["audit".as_ref(), "verify".as_ref(), merged.as_os_str()]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
}

#[test]
fn a_subject_visit_folder_tree_is_a_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("trial");
    for (visit, photo) in [("baseline", "0005-baseline.png"), ("week12", "0005-followup.png")] {
        std::fs::create_dir_all(root.join("S1").join(visit)).unwrap();
        std::fs::copy(fixture(photo), root.join("S1").join(visit).join("scalp.png")).unwrap();
    }
    std::fs::create_dir_all(root.join("S2/baseline")).unwrap();
    for name in ["a.png", "b.png"] {
        std::fs::copy(fixture("0000.png"), root.join("S2/baseline").join(name)).unwrap();
    }
    let out = dir.path().join("out");
    let run = batch(&root, &out, &["--um-per-px", "4.6"]);
    assert_eq!(run.status.code(), Some(1), "S2 has two photos in one visit folder");
    assert!(
        stderr(&run).contains("2 photos in the visit folder (a.png, b.png)"),
        "{}",
        stderr(&run)
    );
    let summary: BatchSummary = read(&out.join("batch.json"));
    assert_eq!(summary.pairs.len(), 1);
    assert_eq!(summary.pairs[0].status, "ok", "{}", summary.pairs[0].error);
    assert_eq!(summary.pairs[0].baseline_visit, "baseline");
}

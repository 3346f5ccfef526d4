//! `tricho analyze` through the real binary: outputs parsed back into typed structs, every
//! kind of bad input reported with its file and cause while the other files are still
//! analysed, and the exit-code policy (0 all analysed, 1 any failure, 2 bad arguments).
//!
//! Needs ONNX Runtime: run `bash scripts/install-onnxruntime.sh` first.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::png_claiming;
use tricho::report::{ImageReport, IMAGE_REPORT_KIND, IMAGE_REPORT_SCHEMA_VERSION};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

fn analyze(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tricho"))
        .arg("analyze")
        .args(args)
        .output()
        .expect("tricho runs")
}

/// `tricho analyze INPUTS... --um-per-px 5 --out OUT`.
fn analyze_at_5_um(inputs: &[&std::ffi::OsStr], out: &Path) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = inputs.to_vec();
    args.extend(["--um-per-px".as_ref(), "5".as_ref(), "--out".as_ref(), out.as_os_str()]);
    analyze(&args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn report(path: &Path) -> ImageReport {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `summary.csv` as (path, status, error) rows.
fn summary(out_dir: &Path) -> Vec<(String, String, String)> {
    let mut reader = csv::Reader::from_path(out_dir.join("summary.csv")).expect("summary.csv exists");
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (p, s, e) = (col("path"), col("status"), col("error"));
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[p].to_string(), r[s].to_string(), r[e].to_string())
        })
        .collect()
}

#[test]
fn a_folder_is_analysed_into_typed_json_overlays_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(images.join("visit")).unwrap();
    std::fs::copy(fixture("0000.png"), images.join("0000.png")).unwrap();
    std::fs::copy(
        fixture("crossing_3_hairs_expect_3.png"),
        images.join("visit/crossing.png"),
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let out = analyze_at_5_um(&[images.as_os_str()], &out_dir);
    assert!(out.status.success(), "{}", stderr(&out));
    for stem in ["0000", "crossing"] {
        let r = report(&out_dir.join(format!("{stem}.json")));
        assert_eq!(r.schema_version, IMAGE_REPORT_SCHEMA_VERSION);
        assert_eq!(r.kind, IMAGE_REPORT_KIND);
        assert_eq!(r.input.sha256.len(), 64);
        assert_eq!(r.provenance.tool, "tricho");
        assert_eq!(r.provenance.model.sha256.len(), 64);
        assert_eq!(r.calibration.spacing.map(|s| s.um_per_px), Some(5.0));
        let counted = r.hairs.iter().filter(|h| h.counted).count();
        assert_eq!(r.metrics.count, counted);
        assert!(r.metrics.density_per_cm2.is_some());
        let overlay = image::open(out_dir.join(format!("{stem}.overlay.png"))).unwrap();
        assert_eq!(
            (overlay.width(), overlay.height()),
            (r.input.width_px, r.input.height_px)
        );
    }
    let rows = summary(&out_dir);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.1 == "ok"), "{rows:?}");
}

#[test]
fn without_calibration_results_are_in_pixels_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let out = analyze(&[
        fixture("0001.png").as_os_str(),
        "--out".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let r = report(&dir.path().join("0001.json"));
    assert!(r.calibration.spacing.is_none());
    assert!(r.metrics.density_per_cm2.is_none());
    assert!(r.metrics.mean_width_um.is_none());
    assert!(
        r.warnings.iter().any(|w| w.contains("no calibration")),
        "{:?}",
        r.warnings
    );
    assert!(r.hairs.iter().all(|h| h.width_um.is_none()));
}

/// Writes every kind of bad file next to one good image; returns (name, expected words in the error).
fn write_bad_inputs(dir: &Path) -> Vec<(&'static str, &'static str)> {
    let good = std::fs::read(fixture("0000.png")).unwrap();
    std::fs::write(dir.join("good.png"), &good).unwrap();
    std::fs::write(dir.join("truncated.png"), &good[..good.len() / 3]).unwrap();
    let mut corrupt = good.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 64].iter_mut().for_each(|b| *b ^= 0x5A);
    std::fs::write(dir.join("corrupt.png"), corrupt).unwrap();
    std::fs::write(dir.join("notes.jpg"), b"patient notes, not an image\n").unwrap();
    std::fs::write(dir.join("empty.jpg"), b"").unwrap();
    std::fs::write(dir.join("huge.png"), png_claiming(50_000, 50_000)).unwrap();
    image::RgbImage::new(1, 1).save(dir.join("tiny.png")).unwrap();
    let jpeg = image::load_from_memory(&good).unwrap().to_rgb8();
    let mut truncated_jpeg = Vec::new();
    jpeg.write_to(&mut std::io::Cursor::new(&mut truncated_jpeg), image::ImageFormat::Jpeg)
        .unwrap();
    truncated_jpeg.truncate(truncated_jpeg.len() / 2);
    std::fs::write(dir.join("truncated.jpg"), truncated_jpeg).unwrap();
    vec![
        ("truncated.png", "truncated.png"),
        ("corrupt.png", "corrupt.png"),
        ("notes.jpg", "notes.jpg"),
        ("empty.jpg", "empty"),
        ("huge.png", "50000"),
        ("tiny.png", "1×1"),
        ("truncated.jpg", "truncated.jpg"),
    ]
}

#[test]
fn bad_files_are_reported_by_name_and_cause_and_the_rest_is_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("images");
    std::fs::create_dir_all(&images).unwrap();
    let bad = write_bad_inputs(&images);
    let out_dir = dir.path().join("out");
    let out = analyze_at_5_um(&[images.as_os_str()], &out_dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(out_dir.join("good.json").exists(), "{err}");
    assert!(out_dir.join("good.overlay.png").exists());
    let rows = summary(&out_dir);
    assert_eq!(rows.len(), bad.len() + 1, "{rows:?}");
    for (name, words) in bad {
        let row = rows
            .iter()
            .find(|r| r.0.ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing from summary: {rows:?}"));
        assert_eq!(row.1, "error", "{name}: {row:?}");
        assert!(
            row.2.contains(words),
            "{name}: error `{}` should mention `{words}`",
            row.2
        );
        assert!(err.contains(name), "stderr should name {name}: {err}");
        assert!(!out_dir
            .join(format!("{}.json", name.split('.').next().unwrap()))
            .exists());
    }
}

#[test]
fn sixteen_bit_tiff_greyscale_and_rgba_images_are_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let rgb = image::open(fixture("0000.png")).unwrap().to_rgb8();
    let wide = image::ImageBuffer::<image::Rgb<u16>, _>::from_fn(rgb.width(), rgb.height(), |x, y| {
        image::Rgb(rgb.get_pixel(x, y).0.map(|v| u16::from(v) * 257))
    });
    wide.save(dir.path().join("deep.tiff")).unwrap();
    image::DynamicImage::ImageRgb8(rgb.clone())
        .to_luma8()
        .save(dir.path().join("grey.jpg"))
        .unwrap();
    image::DynamicImage::ImageRgb8(rgb)
        .to_rgba8()
        .save(dir.path().join("alpha.png"))
        .unwrap();
    let out_dir = dir.path().join("out");
    let out = analyze_at_5_um(&[dir.path().as_os_str()], &out_dir);
    assert!(out.status.success(), "{}", stderr(&out));
    let deep = report(&out_dir.join("deep.json"));
    let alpha = report(&out_dir.join("alpha.json"));
    assert_eq!(deep.input.format, "tiff");
    // the 16-bit copy holds the same pixels, so it must give the same hairs as the 8-bit RGBA copy
    assert_eq!(deep.metrics.count, alpha.metrics.count);
    assert!(out_dir.join("grey.json").exists());
}

#[test]
fn bad_calibration_values_are_argument_errors() {
    for value in ["-5", "0", "nan", "1e9", "abc"] {
        let out = analyze(&[fixture("0000.png").as_os_str(), format!("--um-per-px={value}").as_ref()]);
        assert_eq!(out.status.code(), Some(2), "--um-per-px {value}: {}", stderr(&out));
        assert!(stderr(&out).contains("um-per-px"), "{}", stderr(&out));
    }
}

#[test]
fn an_unwritable_output_folder_fails_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let out_dir = blocker.join("out");
    let out = analyze_at_5_um(&[fixture("0000.png").as_os_str()], &out_dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("output folder"), "{}", stderr(&out));
}

#[test]
fn a_missing_or_unreadable_folder_is_reported_and_the_other_inputs_analysed() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder");
    let out_dir = dir.path().join("out");
    let out = analyze_at_5_um(&[missing.as_os_str(), fixture("0000.png").as_os_str()], &out_dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such-folder"), "{}", stderr(&out));
    assert!(out_dir.join("0000.json").exists());
    let rows = summary(&out_dir);
    assert!(
        rows.iter().any(|r| r.0.contains("no-such-folder") && r.1 == "error"),
        "{rows:?}"
    );
}

#[test]
fn crossing_fixtures_are_counted_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "crossing_2_hairs_expect_2",
        "crossing_3_hairs_expect_3",
        "crossing_5_hairs_expect_5",
        "parallel_touching_hairs_expect_2",
    ];
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(&format!("{n}.png"))).collect();
    let inputs: Vec<&std::ffi::OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    let out = analyze_at_5_um(&inputs, dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    for name in names {
        let expected: usize = name.rsplit('_').next().unwrap().parse().unwrap();
        let r = report(&dir.path().join(format!("{name}.json")));
        assert_eq!(r.metrics.count, expected, "{name}");
    }
}

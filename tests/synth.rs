//! Phantom renderer: determinism, truth consistency, strata coverage, pairs and bad arguments,
//! through the public API and the real `tricho synth` binary.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::Path;
use std::process::Command;

use image::{GrayImage, ImageBuffer, Luma};
use tricho::geometry::distance_to_polyline;
use tricho::synth::pair::{HairFate, PairTruth};
use tricho::synth::render::DEFOCUS_LABEL_BIT;
use tricho::synth::truth::{HairTruth, PhantomTruth, MIN_COUNTED_LENGTH_UM};
use tricho::synth::{synthesize, SynthConfig};

fn tricho() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tricho"))
}

fn read_truth(path: &Path) -> PhantomTruth {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn truths(dir: &Path) -> Vec<PhantomTruth> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    names.sort();
    names.iter().map(|p| read_truth(p)).collect()
}

fn small(pairs: bool) -> SynthConfig {
    SynthConfig {
        size: Some((192, 144)),
        um_per_px: (2.5, 8.0),
        pairs,
    }
}

fn render(config: &SynthConfig, count: usize, seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    synthesize(config, dir.path(), count, seed, &|| {}).unwrap();
    dir
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn same_seed_gives_byte_identical_files_and_another_seed_differs() {
    for pairs in [false, true] {
        let a = render(&small(pairs), 3, 11);
        let b = render(&small(pairs), 3, 11);
        let c = render(&small(pairs), 3, 12);
        let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
        assert_eq!(fa.len(), if pairs { 3 * 9 } else { 3 * 4 });
        assert!(fa == fb, "same seed must give identical bytes (pairs: {pairs})");
        let differing = fa.iter().zip(&fc).filter(|(x, y)| x.1 != y.1).count();
        assert!(differing > fa.len() / 2, "another seed must give other phantoms");
    }
}

/// Samples (every 0.25 px) of the centreline's stretch at full width: away from the opening's
/// first pixel, the cut end's last pixel, and a natural tip's taper.
fn full_width_samples(hair: &HairTruth, um_per_px: f64) -> Vec<[f64; 2]> {
    let length_px = hair.length_um / um_per_px;
    let taper_px = if hair.tip == "tapered" {
        (hair.length_um * 0.25).min(1500.0) / um_per_px
    } else {
        0.0
    };
    let path = &hair.centreline_px;
    // Arc positions in the truth are relative to the trimmed polyline; only untrimmed starts are used.
    let mut samples = Vec::new();
    let mut arc = 0.0;
    for s in path.windows(2) {
        let len = ((s[1][0] - s[0][0]).powi(2) + (s[1][1] - s[0][1]).powi(2)).sqrt();
        let n = (len / 0.25).ceil() as usize;
        for k in 0..n {
            let t = k as f64 / n as f64;
            let a = arc + t * len;
            if a > 1.0 && a < length_px - taper_px - 1.0 {
                samples.push([s[0][0] + t * (s[1][0] - s[0][0]), s[0][1] + t * (s[1][1] - s[0][1])]);
            }
        }
        arc += len;
    }
    samples
}

#[test]
fn mask_and_labels_agree_with_centrelines_and_widths_within_a_pixel() {
    let dir = render(
        &SynthConfig {
            size: Some((256, 192)),
            ..SynthConfig::default()
        },
        12,
        5,
    );
    let (mut on_mask, mut visible) = (0usize, 0usize);
    for truth in truths(dir.path()) {
        let s = truth.calibration.um_per_px;
        let mask: GrayImage = image::open(dir.path().join(&truth.image.mask_file)).unwrap().to_luma8();
        let labels: ImageBuffer<Luma<u16>, Vec<u16>> = image::open(dir.path().join(&truth.image.labels_file))
            .unwrap()
            .to_luma16();
        let (w, h) = (mask.width() as i64, mask.height() as i64);
        let by_id: HashMap<u32, &HairTruth> = truth.hairs.iter().map(|h| (h.id, h)).collect();
        // Every labelled pixel belongs to a listed hair and lies within half its width (+1 px) of its centreline.
        for (x, y, label) in labels.enumerate_pixels() {
            let id = (label.0[0] & !DEFOCUS_LABEL_BIT) as u32;
            assert_eq!(
                mask.get_pixel(x, y).0[0] == 255,
                id != 0,
                "mask and labels disagree at {x},{y}"
            );
            if id == 0 {
                continue;
            }
            let hair = by_id
                .get(&id)
                .unwrap_or_else(|| panic!("label {id} has no hair in the truth"));
            let d = distance_to_polyline([x as f64 + 0.5, y as f64 + 0.5], &hair.centreline_px);
            assert!(
                d <= hair.width_um / s / 2.0 + 1.0,
                "pixel {x},{y} is {d:.2} px from hair {id}"
            );
        }
        // The centreline of every hair at full width lies on the mask (3×3 neighbourhood) unless
        // an overlay hides it: at least 97 % of all samples over the run.
        for hair in &truth.hairs {
            let first = hair.centreline_px[0];
            if first[0] < 0.0 || first[1] < 0.0 || first[0] >= w as f64 || first[1] >= h as f64 {
                continue; // start trimmed: arc positions unknown
            }
            for p in full_width_samples(hair, s) {
                let (px, py) = (p[0].floor() as i64, p[1].floor() as i64);
                if px < 0 || py < 0 || px >= w || py >= h {
                    continue;
                }
                visible += 1;
                let hit = (-1..=1).any(|dy| {
                    (-1..=1).any(|dx| {
                        let (qx, qy) = (px + dx, py + dy);
                        qx >= 0 && qy >= 0 && qx < w && qy < h && mask.get_pixel(qx as u32, qy as u32).0[0] == 255
                    })
                });
                on_mask += usize::from(hit);
            }
        }
    }
    assert!(visible > 1000, "too few samples: {visible}");
    let fraction = on_mask as f64 / visible as f64;
    assert!(
        fraction >= 0.97,
        "only {fraction:.3} of centreline samples lie on the mask"
    );
}

#[test]
fn counted_hairs_follow_the_documented_rule_and_density_is_count_over_field() {
    let dir = render(
        &SynthConfig {
            size: Some((200, 160)),
            ..SynthConfig::default()
        },
        10,
        8,
    );
    for truth in truths(dir.path()) {
        for hair in &truth.hairs {
            assert_eq!(
                hair.counted,
                hair.visible_length_um >= MIN_COUNTED_LENGTH_UM,
                "hair {}",
                hair.id
            );
            assert!((10.0..=120.0).contains(&hair.width_um));
        }
        assert_eq!(truth.count, truth.hairs.iter().filter(|h| h.counted).count());
        let side_cm = truth.calibration.um_per_px / 1e4;
        let area = truth.field.area_px as f64 * side_cm * side_cm;
        assert!((truth.field.area_cm2 - area).abs() < 1e-12);
        assert!((truth.density_per_cm2 - truth.count as f64 / area).abs() < 1e-9);
        assert!(truth.field.area_px <= 200 * 160);
    }
}

#[test]
fn phantoms_cover_every_stratum_of_the_renderer() {
    let dir = render(
        &SynthConfig {
            size: Some((160, 128)),
            ..SynthConfig::default()
        },
        80,
        21,
    );
    let all = truths(dir.path());
    let field = |t: &PhantomTruth, k: &str| t.conditions[k].to_string();
    let set = |k: &str| all.iter().map(|t| field(t, k)).collect::<BTreeSet<_>>();
    assert_eq!(set("protocol").len(), 2, "clipped and unclipped");
    assert!(set("skin_tone").len() >= 6, "skin tones: {:?}", set("skin_tone"));
    let colours: BTreeSet<_> = all
        .iter()
        .flat_map(|t| t.hairs.iter().map(|h| h.colour.clone()))
        .collect();
    assert_eq!(colours.len(), 7, "hair colours: {colours:?}");
    let widths: Vec<f64> = all.iter().flat_map(|t| t.hairs.iter().map(|h| h.width_um)).collect();
    assert!(widths.iter().any(|w| *w <= 15.0) && widths.iter().any(|w| *w >= 100.0));
    let tips: BTreeSet<_> = all.iter().flat_map(|t| t.hairs.iter().map(|h| h.tip.clone())).collect();
    assert_eq!(tips.len(), 2, "cut and tapered tips");
    let scales: Vec<f64> = all.iter().map(|t| t.calibration.um_per_px).collect();
    assert!(scales.iter().all(|s| (2.5..=8.0).contains(s)));
    assert!(scales.iter().any(|s| *s < 3.5) && scales.iter().any(|s| *s > 7.0));
    let flag = |k: &str| {
        all.iter()
            .filter(|t| t.conditions["overlays"][k] == serde_json::json!(true))
            .count()
    };
    for overlay in ["text_bar", "scale_bar", "blank_rows"] {
        assert!(flag(overlay) > 0, "no phantom has a {overlay}");
    }
    assert!(all
        .iter()
        .any(|t| t.conditions["overlays"]["circles"].as_u64() > Some(0)));
    assert!(all.iter().any(|t| t.conditions["jpeg_quality"].is_number()));
    assert!(all.iter().any(|t| t.conditions["blur_sigma_px"].as_f64() > Some(1.0)));
    // Out-of-focus hair pixels exist and are marked in the labels.
    let defocused = all.iter().any(|t| {
        let labels = image::open(dir.path().join(&t.image.labels_file)).unwrap().to_luma16();
        labels.pixels().any(|p| p.0[0] & DEFOCUS_LABEL_BIT != 0)
    });
    assert!(defocused, "no out-of-focus hair pixels");
    // Crossing hairs: some pixel lies within half a width of two different counted hairs.
    assert!(all.iter().any(|t| t.hairs.iter().filter(|h| h.counted).count() >= 2));
}

#[test]
fn pairs_link_the_visits_with_the_true_transform_and_hair_fates() {
    let dir = render(
        &SynthConfig {
            size: Some((320, 240)),
            um_per_px: (4.0, 6.0),
            pairs: true,
        },
        8,
        3,
    );
    let mut persisting_checked = 0;
    for index in 0..8 {
        let pair: PairTruth =
            serde_json::from_str(&fs::read_to_string(dir.path().join(format!("{index:04}.pair.json"))).unwrap())
                .unwrap();
        let base = read_truth(&dir.path().join(&pair.baseline_truth));
        let follow = read_truth(&dir.path().join(&pair.followup_truth));
        assert_eq!(base.visit, "baseline");
        assert_eq!(follow.visit, "followup");
        assert!((70..=126).contains(&pair.interval_days));
        assert!(pair.followup_to_baseline.rotation_deg.abs() <= 10.0);
        assert!((pair.followup_to_baseline.scale - 1.0).abs() <= 0.035);
        let ids = |t: &PhantomTruth| t.hairs.iter().map(|h| h.id).collect::<BTreeSet<_>>();
        let (in_base, in_follow) = (ids(&base), ids(&follow));
        let m = pair.followup_to_baseline.matrix;
        for change in &pair.hairs {
            match change.fate {
                HairFate::Lost => assert!(!in_follow.contains(&change.id)),
                HairFate::New => assert!(!in_base.contains(&change.id)),
                HairFate::Persisting => {
                    let (Some(b), Some(f)) = (
                        base.hairs.iter().find(|h| h.id == change.id),
                        follow.hairs.iter().find(|h| h.id == change.id),
                    ) else {
                        continue;
                    };
                    assert_eq!(Some(b.width_um), change.width_um_baseline);
                    assert_eq!(Some(f.width_um), change.width_um_followup);
                    // The follicular opening maps onto itself through the true transform.
                    let (pf, pb) = (f.centreline_px[0], b.centreline_px[0]);
                    let inside = |p: [f64; 2]| p[0] >= 0.0 && p[1] >= 0.0 && p[0] < 320.0 && p[1] < 240.0;
                    if inside(pf) && inside(pb) {
                        let mapped = [
                            m[0][0] * pf[0] + m[0][1] * pf[1] + m[0][2],
                            m[1][0] * pf[0] + m[1][1] * pf[1] + m[1][2],
                        ];
                        assert!(
                            (mapped[0] - pb[0]).hypot(mapped[1] - pb[1]) < 0.05,
                            "hair {}: {mapped:?} vs {pb:?}",
                            change.id
                        );
                        persisting_checked += 1;
                    }
                }
            }
        }
        // Every hair seen at either visit has its fate in the pair truth.
        let listed: BTreeSet<_> = pair.hairs.iter().map(|c| c.id).collect();
        assert!(in_base.union(&in_follow).all(|id| listed.contains(id)));
    }
    assert!(
        persisting_checked > 10,
        "too few persisting hairs checked: {persisting_checked}"
    );
}

#[test]
fn binary_renders_with_every_option() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/out");
    let status = tricho()
        .args([
            "synth",
            "--count",
            "2",
            "--seed",
            "4",
            "--pairs",
            "--size",
            "96x64",
            "--um-per-px",
            "5",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let truth = read_truth(&out.join("0001-followup.truth.json"));
    assert_eq!((truth.image.width_px, truth.image.height_px), (96, 64));
    assert!(
        (truth.calibration.um_per_px / 5.0 - 1.0).abs() <= 0.031,
        "follow-up scale within 3 % of 5"
    );
    assert!(out.join("0001.pair.json").exists());
    // Default size: a common device size.
    let status = tricho()
        .args(["synth", "--count", "1", "--seed", "2"])
        .arg("--out")
        .arg(dir.path().join("d"))
        .output()
        .unwrap();
    assert!(status.status.success());
    let truth = read_truth(&dir.path().join("d/0000.truth.json"));
    assert!(tricho::synth::DEVICE_SIZES.contains(&(truth.image.width_px, truth.image.height_px)));
}

#[test]
fn bad_arguments_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = tricho().arg("synth").args(args).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let out = dir.path().join("o");
    let out = out.to_str().unwrap();
    let (code, err) = run(&["--count", "0", "--out", out]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--count must be at least 1"), "{err}");
    // A folder that cannot be created: its parent is a regular file.
    let blocker = dir.path().join("file");
    fs::write(&blocker, b"x").unwrap();
    let unwritable = blocker.join("out");
    let (code, err) = run(&["--count", "1", "--out", unwritable.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("cannot write to output folder") && err.contains(unwritable.to_str().unwrap()),
        "{err}"
    );
    let (code, err) = run(&["--count", "1", "--out", out, "--um-per-px=-3"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("µm per pixel"), "{err}");
    let (code, err) = run(&["--count", "1", "--out", out, "--size", "10x10"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("10x10"), "{err}");
    let (code, err) = run(&["--count", "1", "--out", out, "--size", "big"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("WIDTHxHEIGHT"), "{err}");
}

#[test]
fn committed_fixtures_are_what_the_documented_command_writes() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let fresh = tempfile::tempdir().unwrap();
    let out = tricho()
        .args(["synth", "--fixtures", "--out"])
        .arg(fresh.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (a, b) = (files(&committed), files(fresh.path()));
    let names = |f: &[(String, Vec<u8>)]| f.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&a),
        names(&b),
        "fixture file names differ: regenerate with `tricho synth --fixtures --out fixtures`"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "fixtures/{name} differs from a fresh render");
    }
}

#[test]
fn fixture_names_state_their_true_count() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for truth in truths(&dir) {
        if let Some(expect) = truth.image.file.trim_end_matches(".png").rsplit_once("_expect_") {
            assert_eq!(truth.count.to_string(), expect.1, "{}", truth.image.file);
            checked += 1;
        }
    }
    assert_eq!(checked, 4, "the four crossing/touching fixtures");
}

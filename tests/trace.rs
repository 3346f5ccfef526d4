//! Hair tracing on the committed fixtures, against their ground truth: on the exact masks
//! (the tracer's own error) and on the committed model's output (what users get). The model
//! tests need the model and ONNX Runtime and fail, never skip, without them.

use std::path::PathBuf;

use tricho::segment::{default_model_path, HairModel};
use tricho::synth::truth::PhantomTruth;
use tricho::trace::{trace_hairs, trace_maps, TraceConfig, TracedHair};
use tricho::units::PixelSpacing;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// The exact mask (0.0 / 1.0) and truth of fixture `stem`; a missing fixture fails the test.
fn load(stem: &str) -> (Vec<f32>, usize, usize, PhantomTruth) {
    let mask_path = fixture(&format!("{stem}.mask.png"));
    let mask = image::open(&mask_path)
        .unwrap_or_else(|e| panic!("{}: {e}", mask_path.display()))
        .to_luma8();
    let truth_path = fixture(&format!("{stem}.truth.json"));
    let text = std::fs::read_to_string(&truth_path).unwrap_or_else(|e| panic!("{}: {e}", truth_path.display()));
    let truth: PhantomTruth = serde_json::from_str(&text).unwrap();
    let map = mask.pixels().map(|p| if p[0] >= 128 { 1.0 } else { 0.0 }).collect();
    (map, mask.width() as usize, mask.height() as usize, truth)
}

fn config_for(truth: &PhantomTruth) -> TraceConfig {
    TraceConfig {
        spacing: PixelSpacing::new(truth.calibration.um_per_px).unwrap(),
        ..TraceConfig::default()
    }
}

fn distance_to_segment(p: [f64; 2], a: [f64; 2], b: [f64; 2]) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let t = (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy).max(1e-12)).clamp(0.0, 1.0);
    (p[0] - a[0] - t * dx).hypot(p[1] - a[1] - t * dy)
}

fn distance_to_polyline(p: [f64; 2], line: &[[f64; 2]]) -> f64 {
    line.windows(2)
        .map(|w| distance_to_segment(p, w[0], w[1]))
        .fold(f64::INFINITY, f64::min)
}

/// Mean distance from the traced centreline to the nearest true centreline.
fn mean_distance_to_truth(hair: &TracedHair, truth: &PhantomTruth) -> f64 {
    let best = truth
        .hairs
        .iter()
        .map(|h| {
            let sum: f64 = hair
                .centreline_px
                .iter()
                .map(|&p| distance_to_polyline(p, &h.centreline_px))
                .sum();
            sum / hair.centreline_px.len() as f64
        })
        .fold(f64::INFINITY, f64::min);
    best
}

fn assert_crossing_fixture(stem: &str, expected: usize) {
    let (map, width, height, truth) = load(stem);
    assert_eq!(truth.count, expected, "{stem}: fixture truth");
    let hairs = trace_hairs(&map, None, None, width, height, &config_for(&truth)).unwrap();
    assert_eq!(
        hairs.len(),
        expected,
        "{stem}: traced {:?}",
        hairs.iter().map(|h| h.length_px).collect::<Vec<_>>()
    );
    for hair in &hairs {
        let mean = mean_distance_to_truth(hair, &truth);
        assert!(
            mean <= 2.0,
            "{stem}: hair of {:.0} px is {mean:.2} px from the truth",
            hair.length_px
        );
    }
}

/// Traces the committed model's maps of fixture `stem` and checks the count and that every
/// hair lies on a true centreline (map pixels scaled back to image pixels).
fn assert_crossing_fixture_on_model_output(stem: &str, expected: usize) {
    let (_, _, _, truth) = load(stem);
    let path = default_model_path().expect("the committed model models/hairseg.onnx is present");
    let mut model = HairModel::load(&path, None).expect("the committed model loads (ONNX Runtime installed)");
    let image_path = fixture(&truth.image.file);
    let rgb = image::open(&image_path)
        .unwrap_or_else(|e| panic!("{}: {e}", image_path.display()))
        .to_rgb8();
    let spacing = PixelSpacing::new(truth.calibration.um_per_px).unwrap();
    let maps = model.segment(&rgb, spacing).unwrap();
    let mut hairs = trace_maps(&maps, None, &TraceConfig::default()).unwrap();
    assert_eq!(
        hairs.len(),
        expected,
        "{stem}: traced {:?}",
        hairs.iter().map(|h| h.length_px).collect::<Vec<_>>()
    );
    for hair in &mut hairs {
        for p in &mut hair.centreline_px {
            let (x, y) = maps.to_input_px(p[0] - 0.5, p[1] - 0.5);
            *p = [x + 0.5, y + 0.5];
        }
        let mean = mean_distance_to_truth(hair, &truth);
        assert!(mean <= 2.0, "{stem}: a traced hair is {mean:.2} px from the truth");
    }
}

#[test]
fn crossing_fixtures_trace_exactly_on_model_output() {
    assert_crossing_fixture_on_model_output("crossing_2_hairs_expect_2", 2);
    assert_crossing_fixture_on_model_output("crossing_3_hairs_expect_3", 3);
    assert_crossing_fixture_on_model_output("crossing_5_hairs_expect_5", 5);
}

#[test]
fn crossing_2_hairs_traces_2() {
    assert_crossing_fixture("crossing_2_hairs_expect_2", 2);
}

#[test]
fn crossing_3_hairs_traces_3() {
    assert_crossing_fixture("crossing_3_hairs_expect_3", 3);
}

#[test]
fn crossing_5_hairs_traces_5() {
    assert_crossing_fixture("crossing_5_hairs_expect_5", 5);
}

#[test]
fn parallel_touching_hairs_trace_2_with_a_centreline_map() {
    let (map, width, height, truth) = load("parallel_touching_hairs_expect_2");
    let centreline: Vec<f32> = (0..width * height)
        .map(|i| {
            let p = [(i % width) as f64 + 0.5, (i / width) as f64 + 0.5];
            let near = truth
                .hairs
                .iter()
                .any(|h| distance_to_polyline(p, &h.centreline_px) <= 1.0);
            if near {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let hairs = trace_hairs(&map, Some(&centreline), None, width, height, &config_for(&truth)).unwrap();
    assert_eq!(hairs.len(), 2);
    for hair in &hairs {
        assert!(mean_distance_to_truth(hair, &truth) <= 2.0);
        assert!(hair.touches_border, "both hairs run out of the frame");
    }
}

#[test]
fn random_phantoms_count_within_25_percent() {
    for stem in ["0000", "0001", "0005-baseline", "0005-followup"] {
        let (map, width, height, truth) = load(stem);
        let hairs = trace_hairs(&map, None, None, width, height, &config_for(&truth)).unwrap();
        let expected = truth.count as f64;
        let traced = hairs.len() as f64;
        println!("{stem}: traced {traced} hairs, truth count {expected}");
        assert!(
            (traced - expected).abs() <= 0.25 * expected,
            "{stem}: traced {traced}, truth {expected}"
        );
    }
}

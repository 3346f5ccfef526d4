//! The committed model: it loads through ONNX Runtime with its metadata, returns the documented
//! output on a fixture, matches the sha256 in its model card, and segments the fixtures.

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tricho::segment::{HairModel, HAIR_CHANNEL};
use tricho::synth::truth::PhantomTruth;
use tricho::units::PixelSpacing;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model() -> HairModel {
    HairModel::load(&root().join("models/hairseg.onnx"), None).expect("the committed model loads")
}

fn truth(name: &str) -> PhantomTruth {
    let text = std::fs::read_to_string(root().join("fixtures").join(format!("{name}.truth.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn committed_model_is_small_and_its_sha256_matches_the_model_card() {
    let path = root().join("models/hairseg.onnx");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() <= 10 * 1024 * 1024, "model is {} bytes", bytes.len());
    let digest = format!("{:x}", Sha256::digest(&bytes));
    let card = std::fs::read_to_string(root().join("models/hairseg.md")).unwrap();
    let stated = card
        .lines()
        .find_map(|l| l.trim().trim_matches('`').strip_prefix("sha256: "))
        .expect("the model card has a `sha256: <hex>` line");
    assert_eq!(stated.trim().trim_matches('`'), digest);
    assert_eq!(model().sha256(), digest);
}

#[test]
fn committed_model_describes_itself() {
    let model = model();
    let meta = model.metadata();
    assert_eq!(meta.name, "tricho-hairseg");
    assert_eq!(meta.spacing.um_per_px, 5.0);
    assert_eq!(meta.output_channels, ["hair", "centreline", "coverage"]);
    assert!(meta.tile_multiple >= 1 && meta.receptive_field_px > 0);
    assert!(!meta.training_data.is_empty());
}

#[test]
fn committed_model_returns_the_documented_output_shape() {
    let mut model = model();
    let (h, w) = (64usize, 96usize);
    let input = vec![0.0f32; 3 * h * w];
    let out = model.infer(&input, [1, 3, h, w]).unwrap();
    assert_eq!(out.shape, [1, 3, h, w]);
    assert!(out.data.iter().all(|p| (0.0..=1.0).contains(p)));
    let rgb = image::open(root().join("fixtures/crossing_2_hairs_expect_2.png"))
        .unwrap()
        .to_rgb8();
    let maps = model.segment(&rgb, PixelSpacing::new(5.0).unwrap()).unwrap();
    assert_eq!((maps.input_width, maps.input_height), rgb.dimensions());
    assert_eq!(maps.channels, ["hair", "centreline", "coverage"]);
}

/// Pooled Dice of the thresholded hair map against the exact masks of the fixtures.
#[test]
fn committed_model_segments_the_fixture_hairs() {
    let mut model = model();
    let names = [
        "crossing_2_hairs_expect_2",
        "crossing_3_hairs_expect_3",
        "crossing_5_hairs_expect_5",
        "parallel_touching_hairs_expect_2",
        "0000",
        "0001",
        "0005-baseline",
        "0005-followup",
    ];
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for name in names {
        let t = truth(name);
        let dir = root().join("fixtures");
        let rgb = image::open(dir.join(&t.image.file)).unwrap().to_rgb8();
        let mask = image::open(dir.join(&t.image.mask_file)).unwrap().to_luma8();
        let maps = model
            .segment(&rgb, PixelSpacing::new(t.calibration.um_per_px).unwrap())
            .unwrap();
        let hair = maps.channel_at_input_size(HAIR_CHANNEL).unwrap();
        for (p, m) in hair.iter().zip(mask.pixels()) {
            match (*p >= 0.5, m.0[0] == 255) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
                _ => {}
            }
        }
    }
    let dice = 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64;
    assert!(dice >= 0.85, "fixture Dice {dice:.3}");
}

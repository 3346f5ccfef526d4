//! The segmentation model through the public API, with the tiny test model
//! `tests/data/tiny-conv.onnx` (made by `tests/data/make_tiny_conv.py`).
//!
//! Needs ONNX Runtime: run `bash scripts/install-onnxruntime.sh` first.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tricho::segment::{keys, HairModel, ModelError, ModelOptions, HAIR_CHANNEL};
use tricho::units::PixelSpacing;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn tiny() -> HairModel {
    HairModel::load(&data("tiny-conv.onnx"), None).expect("tiny model loads")
}

#[test]
fn tiny_model_loads_with_its_metadata() {
    let model = tiny();
    let meta = model.metadata();
    assert_eq!(meta.name, "tricho-tiny-conv");
    assert_eq!(model.name(), "tricho-tiny-conv");
    assert_eq!(meta.version, "0.0.1");
    assert_eq!(meta.spacing, PixelSpacing::new(5.0).unwrap());
    assert_eq!(meta.input_mean, [0.485, 0.456, 0.406]);
    assert_eq!(meta.input_std, [0.229, 0.224, 0.225]);
    assert_eq!(meta.output_channels, ["hair", "centreline"]);
    assert_eq!(meta.tile_multiple, 4);
    assert_eq!(meta.receptive_field_px, 3);
    assert!(meta.training_data.contains("test-only"));
}

#[test]
fn model_identity_is_its_path_and_sha256() {
    let path = data("tiny-conv.onnx");
    let model = HairModel::load(&path, None).unwrap();
    let expected: String = Sha256::digest(std::fs::read(&path).unwrap())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(model.sha256(), expected);
    assert_eq!(model.path(), path);
}

#[test]
fn raw_output_is_n_c_h_w_probabilities() {
    let mut model = tiny();
    let (h, w) = (8, 12);
    let input: Vec<f32> = (0..3 * h * w).map(|i| ((i * 37) % 11) as f32 / 5.0 - 1.0).collect();
    let out = model.infer(&input, [1, 3, h, w]).unwrap();
    assert_eq!(out.shape, [1, 2, h, w]);
    assert_eq!(out.data.len(), 2 * h * w);
    assert!(
        out.data.iter().all(|p| *p > 0.0 && *p < 1.0),
        "sigmoid outputs lie in (0, 1)"
    );
}

#[test]
fn wrong_input_length_is_an_error() {
    let mut model = tiny();
    let err = model.infer(&[0.0; 10], [1, 3, 4, 4]).unwrap_err();
    assert!(matches!(err, ModelError::InputShape { .. }), "{err}");
}

#[test]
fn segment_returns_maps_at_model_scale_that_map_back_to_the_input() {
    let options = ModelOptions {
        tile_px: 32,
        ..ModelOptions::default()
    };
    let mut model = HairModel::load_with(&data("tiny-conv.onnx"), None, &options).unwrap();
    let rgb = image::RgbImage::from_fn(100, 60, |x, y| image::Rgb([(x * 2) as u8, (y * 4) as u8, 128]));
    // 10 µm/px input, model at 5 µm/px: the maps are twice as large.
    let maps = model.segment(&rgb, PixelSpacing::new(10.0).unwrap()).unwrap();
    assert_eq!((maps.width, maps.height), (200, 120));
    assert_eq!((maps.input_width, maps.input_height), (100, 60));
    assert_eq!(maps.scale_to_input, 0.5);
    assert_eq!(maps.spacing.um_per_px, 5.0);
    assert_eq!(maps.channels, ["hair", "centreline"]);
    assert_eq!(maps.data.len(), 2 * 200 * 120);
    let hair = maps.channel(HAIR_CHANNEL).unwrap();
    assert_eq!(hair.len(), 200 * 120);
    assert!(hair.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(maps.channel_at_input_size(HAIR_CHANNEL).unwrap().len(), 100 * 60);
    assert!(maps.channel("scalp").is_none());
}

#[test]
fn model_missing_a_key_is_an_error_naming_key_and_path() {
    let path = data("tiny-conv-missing-um-per-px.onnx");
    let err = HairModel::load(&path, None).unwrap_err();
    assert!(
        matches!(&err, ModelError::MissingMetadata { key, .. } if *key == keys::UM_PER_PX),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("tricho.um_per_px"), "{message}");
    assert!(message.contains("tiny-conv-missing-um-per-px.onnx"), "{message}");
}

#[test]
fn nonexistent_model_is_an_error_naming_the_path() {
    let path = data("no-such-model.onnx");
    let err = HairModel::load(&path, None).unwrap_err();
    assert!(matches!(err, ModelError::Read { .. }), "{err}");
    assert!(err.to_string().contains("no-such-model.onnx"), "{err}");
}

#[test]
fn file_that_is_not_onnx_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.onnx");
    std::fs::write(&path, b"this is not a protobuf").unwrap();
    let err = HairModel::load(&path, None).unwrap_err();
    assert!(matches!(err, ModelError::Session { .. }), "{err}");
    assert!(err.to_string().contains("garbage.onnx"), "{err}");
}

#[test]
fn runtime_is_found_and_initialised_once() {
    let located = tricho::segment::locate_runtime(None).expect("run `bash scripts/install-onnxruntime.sh`");
    let first = tricho::segment::init_runtime(None).unwrap();
    let second = tricho::segment::init_runtime(Some(&located)).unwrap();
    assert_eq!(first.dylib(), second.dylib());
}

#[test]
fn models_can_move_to_worker_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<HairModel>();
    let mut model = tiny();
    let handle = std::thread::spawn(move || {
        let rgb = image::RgbImage::from_pixel(9, 7, image::Rgb([10, 20, 30]));
        model
            .segment(&rgb, PixelSpacing::new(5.0).unwrap())
            .map(|m| m.data.len())
    });
    assert_eq!(handle.join().unwrap().unwrap(), 2 * 9 * 7);
}

//! Criterion benches of `tricho analyze`'s stages and of the whole analysis of one photo,
//! parameterised by image size (phantoms at 5 µm/px, the model's native scale).
//!
//! `cargo bench --bench pipeline` (needs ONNX Runtime: `bash scripts/install-onnxruntime.sh`).

use std::hint::black_box;
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use tricho::analyze::{analyze_scan, AnalysisConfig};
use tricho::measure::{measure_widths, PhotoPixels};
use tricho::quality::detect_field;
use tricho::scan::{Calibration, CalibrationSource, Scan};
use tricho::segment::{default_model_path, HairModel, HAIR_CHANNEL};
use tricho::synth::{render_single, SynthConfig};
use tricho::trace::{trace_maps, TraceConfig};
use tricho::units::PixelSpacing;

const SIZES: [(u32, u32); 2] = [(640, 480), (1280, 960)];
const UM_PER_PX: f64 = 5.0;

fn phantom_png(width: u32, height: u32) -> Vec<u8> {
    let config = SynthConfig {
        size: Some((width, height)),
        um_per_px: (UM_PER_PX, UM_PER_PX),
        ..SynthConfig::default()
    };
    let phantom = render_single(&config, 950_000, 0);
    let mut png = Vec::new();
    phantom
        .view
        .image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode phantom");
    png
}

fn stages(c: &mut Criterion) {
    let mut model = HairModel::load(&default_model_path().expect("models/hairseg.onnx"), None).expect("model loads");
    let spacing = PixelSpacing::new(UM_PER_PX).expect("valid spacing");
    let config = AnalysisConfig::default();
    let mut group = c.benchmark_group("stage");
    group.sample_size(10);
    for (width, height) in SIZES {
        let id = format!("{width}x{height}");
        let png = phantom_png(width, height);
        let rgb = image::load_from_memory(&png).expect("decode").to_rgb8();
        group.bench_with_input(BenchmarkId::new("decode_png", &id), &png, |b, png| {
            b.iter(|| image::load_from_memory(black_box(png)).expect("decode"));
        });
        group.bench_with_input(BenchmarkId::new("field_and_quality", &id), &rgb, |b, rgb| {
            b.iter(|| detect_field(black_box(rgb)));
        });
        group.bench_with_input(BenchmarkId::new("segment", &id), &rgb, |b, rgb| {
            b.iter(|| model.segment(black_box(rgb), spacing).expect("segment"));
        });
        let maps = model.segment(&rgb, spacing).expect("segment");
        group.bench_with_input(BenchmarkId::new("trace", &id), &maps, |b, maps| {
            b.iter(|| trace_maps(black_box(maps), None, &TraceConfig::default()).expect("trace"));
        });
        let traced = trace_maps(&maps, None, &TraceConfig::default()).expect("trace");
        let hair = maps.channel(HAIR_CHANNEL).expect("hair channel");
        let photo = PhotoPixels::new(&rgb, maps.scale_to_input);
        group.bench_with_input(BenchmarkId::new("measure_widths", &id), &traced, |b, traced| {
            b.iter(|| {
                measure_widths(
                    hair,
                    maps.width as usize,
                    maps.height as usize,
                    black_box(traced),
                    Some(&photo),
                    &config.width,
                )
            });
        });
        let scan = Scan::from_rgb(std::path::PathBuf::from(format!("bench-{id}.png")), rgb.clone());
        let calibration = Calibration {
            spacing: Some(spacing),
            source: CalibrationSource::CommandLine,
        };
        group.bench_with_input(BenchmarkId::new("analyze_scan", &id), &scan, |b, scan| {
            b.iter(|| analyze_scan(&mut model, black_box(scan), &calibration, &config).expect("analyze"));
        });
    }
    group.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);

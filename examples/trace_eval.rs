//! Measures the tracer's count against phantom truth, on the model's output and on the exact
//! masks, for every `*.truth.json` in a folder (fixtures or `tricho synth` output).
//!
//! ```text
//! cargo run --example trace_eval -- DIR [--cache CACHE_DIR]
//! ```
//!
//! Prints one row per image and a summary: median and 90th percentile of |relative count
//! error| and the signed mean (positive = overcount), over all images and over those whose
//! truth says they carry no device overlays (the truth counts only hairs in the field, frame
//! minus overlays; the tracer does not know about overlays). With `--cache`, the model's
//! maps are stored (raw little-endian u32 header and f32 planes) per model sha256,
//! generator seed and index and image name, so re-runs only trace. The environment variable
//! `TRACE_CONFIG` may hold a JSON object of [`TraceConfig`] fields to override, e.g.
//! `TRACE_CONFIG='{"junction_merge_factor": 2.0}'`, to compare settings. With
//! `TRACE_DUMP=DIR`, each image's traced centrelines (from the model's maps and from the exact
//! mask, both in input pixels) are written to `DIR/<image>.json` as
//! `{"model": [[[x, y], …], …], "mask": […]}`, to be drawn over the photo or scored per hair.
//! With `TRACE_EXACT_CENTRELINE` set, the exact mask is traced with a centreline channel drawn
//! from the truth (every hair's centreline, about 3 px wide): what the tracer would do with a
//! perfect segmentation *and* a perfect centreline channel.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use tricho::geometry::{distance, distance_to_segment};
use tricho::segment::{default_model_path, HairModel, ProbabilityMaps};
use tricho::synth::raster::pixels_in_box;
use tricho::synth::truth::PhantomTruth;
use tricho::trace::{trace_hairs, trace_maps, TraceConfig};
use tricho::units::PixelSpacing;

/// One image's counts.
struct Row {
    name: String,
    overlays: bool,
    truth: usize,
    model: usize,
    mask: usize,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, cache) = match args.as_slice() {
        [dir] => (PathBuf::from(dir), None),
        [dir, flag, cache] if flag == "--cache" => (PathBuf::from(dir), Some(PathBuf::from(cache))),
        _ => bail!("usage: trace_eval DIR [--cache CACHE_DIR]"),
    };
    let overrides = trace_config_from_env()?;
    let dump = std::env::var_os("TRACE_DUMP").map(PathBuf::from);
    let exact_centreline = std::env::var_os("TRACE_EXACT_CENTRELINE").is_some();
    if let Some(dump) = &dump {
        std::fs::create_dir_all(dump).with_context(|| dump.display().to_string())?;
    }
    let model_path = default_model_path().context("models/hairseg.onnx not found")?;
    let mut model = HairModel::load(&model_path, None).with_context(|| model_path.display().to_string())?;
    let mut truths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".truth.json"))
        .collect();
    truths.sort();
    println!(
        "{:<36} {:>6} {:>8} {:>6} {:>6} {:>6}",
        "image", "µm/px", "overlay", "truth", "model", "mask"
    );
    let mut rows = Vec::new();
    for path in &truths {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let truth: PhantomTruth = serde_json::from_str(&text).with_context(|| path.display().to_string())?;
        let spacing = PixelSpacing::new(truth.calibration.um_per_px).context("bad calibration")?;
        let config = TraceConfig { spacing, ..overrides };
        let maps = model_maps(&mut model, &dir, &truth, spacing, cache.as_deref())?;
        let model_hairs = trace_maps(&maps, None, &config)?;
        let model_count = model_hairs.len();
        let mask_path = dir.join(&truth.image.mask_file);
        let mask = image::open(&mask_path)
            .with_context(|| mask_path.display().to_string())?
            .to_luma8();
        let map: Vec<f32> = mask.pixels().map(|p| f32::from(u8::from(p[0] >= 128))).collect();
        let (w, h) = (mask.width() as usize, mask.height() as usize);
        let exact_centre = exact_centreline.then(|| truth_centrelines(&truth, w, h));
        let mask_hairs = trace_hairs(&map, exact_centre.as_deref(), None, w, h, &config)?;
        let mask_count = mask_hairs.len();
        if let Some(dump) = &dump {
            let s = maps.scale_to_input;
            let model_in: Vec<Vec<[f64; 2]>> = model_hairs
                .iter()
                .map(|h| h.centreline_px.iter().map(|p| [p[0] * s, p[1] * s]).collect())
                .collect();
            let mask_in: Vec<Vec<[f64; 2]>> = mask_hairs.iter().map(|h| h.centreline_px.clone()).collect();
            std::fs::write(
                dump.join(format!("{}.json", truth.image.file)),
                serde_json::to_string(&serde_json::json!({"model": model_in, "mask": mask_in}))?,
            )?;
        }
        let overlays = truth.conditions["overlays"].as_object().is_some_and(|o| {
            o.values()
                .any(|v| v.as_bool() == Some(true) || v.as_u64().is_some_and(|n| n > 0))
        });
        let row = Row {
            name: truth.image.file.clone(),
            overlays,
            truth: truth.count,
            model: model_count,
            mask: mask_count,
        };
        println!(
            "{:<36} {:>6.2} {:>8} {:>6} {:>6} {:>6}",
            row.name, spacing.um_per_px, row.overlays, row.truth, row.model, row.mask
        );
        rows.push(row);
    }
    println!();
    let clean: Vec<&Row> = rows.iter().filter(|r| !r.overlays).collect();
    let all: Vec<&Row> = rows.iter().collect();
    for (label, set) in [("all", &all), ("no overlays", &clean)] {
        for (source, count) in [
            ("model", (|r: &Row| r.model) as fn(&Row) -> usize),
            ("mask", |r: &Row| r.mask),
        ] {
            let errors: Vec<f64> = set
                .iter()
                .filter(|r| r.truth > 0)
                .map(|r| (count(r) as f64 - r.truth as f64) / r.truth as f64)
                .collect();
            println!("{label:<12} {source:<6} n={:<3} {}", errors.len(), summary(&errors));
        }
    }
    Ok(())
}

/// A centreline map drawn from the truth: 1 within 1.2 px of every hair's centreline (about
/// the 3-px lines the model's centreline channel is trained on), else 0.
fn truth_centrelines(truth: &PhantomTruth, width: usize, height: usize) -> Vec<f32> {
    const REACH_PX: f64 = 1.2;
    let mut map = vec![0.0f32; width * height];
    for seg in truth.hairs.iter().flat_map(|hair| hair.centreline_px.windows(2)) {
        let mid = [(seg[0][0] + seg[1][0]) / 2.0, (seg[0][1] + seg[1][1]) / 2.0];
        let reach = distance(seg[0], seg[1]) / 2.0 + REACH_PX;
        for (x, y) in pixels_in_box(width, height, mid, reach) {
            if distance_to_segment([x as f64 + 0.5, y as f64 + 0.5], seg[0], seg[1]) <= REACH_PX {
                map[y * width + x] = 1.0;
            }
        }
    }
    map
}

/// The model's maps for `truth`'s image, from the cache when there.
fn model_maps(
    model: &mut HairModel,
    dir: &Path,
    truth: &PhantomTruth,
    spacing: PixelSpacing,
    cache: Option<&Path>,
) -> Result<ProbabilityMaps> {
    let image_path = dir.join(&truth.image.file);
    let (seed, index) = (truth.generator.seed, truth.generator.index);
    let key = format!("{}-{seed}-{index}-{}.maps.bin", &model.sha256()[..12], truth.image.file);
    let cached = cache.map(|c| c.join(key));
    if let Some(stored) = cached.as_ref().and_then(|p| std::fs::read(p).ok()) {
        let words: Vec<[u8; 4]> = stored.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect();
        let [w, h, iw, ih] = [0, 1, 2, 3].map(|k| words.get(k).map_or(0, |&b| u32::from_le_bytes(b)));
        let data: Vec<f32> = words.iter().skip(4).map(|&b| f32::from_le_bytes(b)).collect();
        let model_spacing = model.metadata().spacing;
        return Ok(ProbabilityMaps {
            width: w,
            height: h,
            spacing: model_spacing,
            input_width: iw,
            input_height: ih,
            scale_to_input: model_spacing.um_per_px / spacing.um_per_px,
            channels: model.metadata().output_channels.clone(),
            data,
        });
    }
    let rgb = image::open(&image_path)
        .with_context(|| image_path.display().to_string())?
        .to_rgb8();
    let maps = model.segment(&rgb, spacing)?;
    if let Some(path) = cached {
        std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
        let header = [maps.width, maps.height, maps.input_width, maps.input_height];
        let stored: Vec<u8> = header
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .chain(maps.data.iter().flat_map(|v| v.to_le_bytes()))
            .collect();
        std::fs::write(&path, stored).with_context(|| path.display().to_string())?;
    }
    Ok(maps)
}

/// Median and 90th percentile of |error| and the signed mean, as percentages.
fn summary(errors: &[f64]) -> String {
    if errors.is_empty() {
        return "no images".into();
    }
    let mut abs: Vec<f64> = errors.iter().map(|e| e.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let quantile = |q: f64| abs[((q * (abs.len() - 1) as f64).round() as usize).min(abs.len() - 1)];
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    format!(
        "median |err| {:5.1}%  p90 |err| {:5.1}%  signed mean {:+5.1}%",
        100.0 * quantile(0.5),
        100.0 * quantile(0.9),
        100.0 * mean
    )
}

/// The default [`TraceConfig`] with the fields in `TRACE_CONFIG` (a JSON object) replaced.
fn trace_config_from_env() -> Result<TraceConfig> {
    let mut config = serde_json::to_value(TraceConfig::default())?;
    if let Ok(text) = std::env::var("TRACE_CONFIG") {
        let overrides: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).context("TRACE_CONFIG is not a JSON object")?;
        for (key, value) in overrides {
            match config.get_mut(&key) {
                Some(slot) => *slot = value,
                None => bail!("TRACE_CONFIG: unknown field {key}"),
            }
        }
    }
    serde_json::from_value(config).context("TRACE_CONFIG")
}

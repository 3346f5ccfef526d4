//! `tricho segment`: runs the hair-segmentation model over images and writes one probability
//! map per output channel (8-bit PNG at the input size, 255 = probability 1).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use clap::Args;
use image::GrayImage;
use indicatif::ProgressBar;
use rayon::prelude::*;

use tricho::segment::HairModel;
use tricho::units::PixelSpacing;

/// Arguments of `tricho segment`.
#[derive(Args, Debug)]
pub struct SegmentArgs {
    /// Images to segment (PNG, JPEG, TIFF).
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Calibration of the images in µm per pixel.
    #[arg(long)]
    um_per_px: f64,
    /// Output folder for `<stem>.<channel>.png` (created if missing).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    #[command(flatten)]
    model: super::ModelFileArgs,
}

fn segment_one(model: &mut HairModel, image: &Path, spacing: PixelSpacing, out: &Path) -> Result<Vec<PathBuf>> {
    let rgb = image::open(image)
        .with_context(|| format!("cannot read image {}", image.display()))?
        .to_rgb8();
    let maps = model
        .segment(&rgb, spacing)
        .with_context(|| format!("cannot segment {}", image.display()))?;
    let stem = image
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into());
    let mut written = Vec::new();
    for channel in &maps.channels {
        let values = maps
            .channel_at_input_size(channel)
            .ok_or_else(|| anyhow!("no channel {channel}"))?;
        let pixels = values
            .iter()
            .map(|p| (p.clamp(0.0, 1.0) * 255.0).round() as u8)
            .collect();
        let map = GrayImage::from_raw(maps.input_width, maps.input_height, pixels)
            .ok_or_else(|| anyhow!("map size mismatch for {}", image.display()))?;
        let path = out.join(format!("{stem}.{channel}.png"));
        map.save(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Segments every image; a failing image is reported and the others still run.
/// Exit code 1 if any image failed.
pub fn run(args: SegmentArgs) -> Result<ExitCode> {
    let spacing = PixelSpacing::new(args.um_per_px)
        .ok_or_else(|| anyhow!("--um-per-px must be a positive number (got {})", args.um_per_px))?;
    let model_path = args.model.path()?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create output folder {}", args.out.display()))?;
    let models = super::WorkerModels::new(&model_path, args.model.ort_dylib.as_deref())?;
    let bar = ProgressBar::new(args.images.len() as u64);
    let results: Vec<(PathBuf, Result<Vec<PathBuf>>)> = args
        .images
        .par_iter()
        .map(|image| {
            let result = models.with(|model| segment_one(model, image, spacing, &args.out));
            bar.inc(1);
            (image.clone(), result)
        })
        .collect();
    bar.finish_and_clear();
    let mut failed = 0;
    for (image, result) in results {
        match result {
            Ok(paths) => println!(
                "{}: {}",
                image.display(),
                paths
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

//! `tricho synth`: trichoscopy phantoms with exact ground truth, to train the model and to
//! measure every later stage. Everything is deterministic from the seed.
//!
//! A phantom is a scalp patch built in world micrometres ([`subject`]) and photographed
//! through a [`camera::Camera`]: skin with hair-like distractors, follicular units with
//! hairs of every colour and width, optics and device overlays. Each view writes the image,
//! the exact hair mask, 16-bit hair labels and a truth JSON ([`truth::PhantomTruth`]);
//! pairs add a follow-up visit and a [`pair::PairTruth`].

pub mod camera;
pub mod fixtures;
pub mod noise;
pub mod optics;
pub mod overlay;
pub mod pair;
pub mod raster;
pub mod render;
pub mod subject;
pub mod truth;
pub mod view;

use std::fs;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::units::PixelSpacing;
use camera::Camera;
use optics::Optics;
use pair::{follow_up, follow_up_camera, PairTruth};
use subject::{Protocol, Subject};
use truth::{count_and_density, Calibration, Field, Generator, ImageFiles, PhantomTruth, TRUTH_SCHEMA_VERSION};
use view::{render_view, RenderedView};

/// Image sizes of common trichoscopy cameras, drawn from when no size is given.
pub const DEVICE_SIZES: [(u32, u32); 5] = [(640, 480), (800, 600), (1024, 768), (1280, 960), (1920, 1080)];
/// Largest image side accepted (px).
pub const MAX_SIDE_PX: u32 = 4096;
/// Smallest image side accepted (px).
pub const MIN_SIDE_PX: u32 = 32;
/// Margin (µm) of scalp generated around the view for clipped stubs to reach in.
const CLIPPED_MARGIN_UM: f64 = 1500.0;
/// Margin (µm) for unclipped scalps, whose long hairs enter from far outside.
const UNCLIPPED_MARGIN_UM: f64 = 3000.0;
/// First possible baseline date (2024-01-01 as days since 1970-01-01) and the span drawn from.
const FIRST_DAY: i64 = 19_723;
const DAY_SPAN: i64 = 900;

/// What to render.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    /// Fixed image size (width, height) in px; `None` draws from [`DEVICE_SIZES`].
    pub size: Option<(u32, u32)>,
    /// Range of µm per pixel drawn from (inclusive; equal ends fix the scale). Default 2.5–8.
    pub um_per_px: (f64, f64),
    /// Render baseline + follow-up pairs instead of single images.
    pub pairs: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            size: None,
            um_per_px: (2.5, 8.0),
            pairs: false,
        }
    }
}

/// Why phantoms could not be rendered or written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The number of phantoms must be at least one.
    #[error("--count must be at least 1 (got {count})")]
    ZeroCount {
        /// The count given.
        count: usize,
    },
    /// The scale range is not positive or inverted.
    #[error("µm per pixel must be a finite positive range with min ≤ max (got {min}:{max})")]
    BadScale {
        /// Lower end.
        min: f64,
        /// Upper end.
        max: f64,
    },
    /// The image size is outside what the renderer supports.
    #[error("image size {width}x{height} is outside {MIN_SIDE_PX}..={MAX_SIDE_PX} px per side")]
    BadSize {
        /// Width.
        width: u32,
        /// Height.
        height: u32,
    },
    /// The output folder could not be created or written.
    #[error("cannot write to output folder {path}: {source}")]
    OutputFolder {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An image could not be written.
    #[error("cannot write image {path}: {source}")]
    WriteImage {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: image::ImageError,
    },
    /// A truth file could not be written.
    #[error("cannot write truth {path}: {source}")]
    WriteTruth {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl SynthConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`SynthError::BadScale`] or [`SynthError::BadSize`] for values outside the supported range.
    pub fn validate(&self) -> Result<(), SynthError> {
        let (min, max) = self.um_per_px;
        if !(min.is_finite() && max.is_finite() && min > 0.0 && min <= max) {
            return Err(SynthError::BadScale { min, max });
        }
        if let Some((width, height)) = self.size {
            let ok = |v: u32| (MIN_SIDE_PX..=MAX_SIDE_PX).contains(&v);
            if !ok(width) || !ok(height) {
                return Err(SynthError::BadSize { width, height });
            }
        }
        Ok(())
    }
}

/// A deterministic random stream for phantom `index`, purpose `stream`, of run `seed`.
fn stream_rng(seed: u64, index: usize, stream: u64) -> ChaCha8Rng {
    let mixed = noise::hash64(seed ^ noise::hash64(index as u64 ^ noise::hash64(stream.wrapping_add(0x5EED))));
    ChaCha8Rng::seed_from_u64(mixed)
}

fn base_camera(rng: &mut ChaCha8Rng, config: &SynthConfig) -> Camera {
    let (width, height) = config
        .size
        .unwrap_or_else(|| DEVICE_SIZES[rng.random_range(0..DEVICE_SIZES.len())]);
    let (lo, hi) = config.um_per_px;
    let um_per_px = if hi > lo { rng.random_range(lo..=hi) } else { lo };
    Camera {
        um_per_px,
        origin_um: [0.0, 0.0],
        rotation_rad: 0.0,
        width: width as usize,
        height: height as usize,
    }
}

fn subject_for(rng: &mut ChaCha8Rng, camera: &Camera) -> (Subject, subject::HairPopulation) {
    let span = [
        camera.width as f64 * camera.um_per_px,
        camera.height as f64 * camera.um_per_px,
    ];
    let protocol = if rng.random_bool(0.5) {
        Protocol::Clipped
    } else {
        Protocol::Unclipped
    };
    let margin = match protocol {
        Protocol::Clipped => CLIPPED_MARGIN_UM,
        Protocol::Unclipped => UNCLIPPED_MARGIN_UM,
    };
    let region = [-margin, -margin, span[0] + margin, span[1] + margin];
    Subject::generate(rng, region, protocol)
}

/// One view with everything needed to write it.
pub struct Phantom {
    /// Rendered pixels and hairs.
    pub view: RenderedView,
    /// Its truth (file names filled in).
    pub truth: PhantomTruth,
}

fn finish(view: RenderedView, camera: &Camera, stem: &str, visit: &str, day: i64, generator: Generator) -> Phantom {
    let spacing = PixelSpacing::new(camera.um_per_px).unwrap_or(PixelSpacing { um_per_px: 1.0 });
    let (count, area_cm2, density) = count_and_density(&view.hairs, view.field_area_px, spacing);
    let truth = PhantomTruth {
        schema_version: TRUTH_SCHEMA_VERSION,
        generator,
        visit: visit.to_owned(),
        captured_at: truth::date_from_days(day),
        image: ImageFiles {
            file: format!("{stem}.png"),
            mask_file: format!("{stem}.mask.png"),
            labels_file: format!("{stem}.labels.png"),
            width_px: camera.width as u32,
            height_px: camera.height as u32,
        },
        calibration: Calibration {
            um_per_px: camera.um_per_px,
        },
        field: Field {
            area_px: view.field_area_px,
            area_cm2,
        },
        conditions: view.conditions.clone(),
        hairs: view.hairs.clone(),
        count,
        density_per_cm2: density,
    };
    Phantom { view, truth }
}

fn generator(seed: u64, index: usize) -> Generator {
    Generator {
        tool: "tricho synth".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        seed,
        index,
    }
}

/// What every phantom starts from: the camera, the scalp, the optics and the capture day.
struct Baseline {
    camera: Camera,
    subject: Subject,
    population: subject::HairPopulation,
    optics: Optics,
    day: i64,
}

fn baseline(config: &SynthConfig, seed: u64, index: usize) -> Baseline {
    let mut rng = stream_rng(seed, index, 0);
    let camera = base_camera(&mut rng, config);
    let (subject, population) = subject_for(&mut rng, &camera);
    let optics = Optics::generate(&mut rng);
    let day = FIRST_DAY + rng.random_range(0..DAY_SPAN);
    Baseline {
        camera,
        subject,
        population,
        optics,
        day,
    }
}

/// Renders single phantom `index` of run `seed`; its files are named `NNNN.*`.
pub fn render_single(config: &SynthConfig, seed: u64, index: usize) -> Phantom {
    let b = baseline(config, seed, index);
    let view = render_view(&b.subject, &b.camera, &b.optics, true, &mut stream_rng(seed, index, 1));
    finish(
        view,
        &b.camera,
        &format!("{index:04}"),
        "single",
        b.day,
        generator(seed, index),
    )
}

/// A baseline and follow-up of one subject with the truth linking them.
pub struct PhantomPair {
    /// Baseline view.
    pub baseline: Phantom,
    /// Follow-up view.
    pub followup: Phantom,
    /// Changes and registration truth.
    pub truth: PairTruth,
}

/// Renders pair `index` of run `seed`: files `NNNN-baseline.*`, `NNNN-followup.*`, `NNNN.pair.json`.
pub fn render_pair(config: &SynthConfig, seed: u64, index: usize) -> PhantomPair {
    let Baseline {
        camera,
        subject,
        population,
        optics,
        day,
    } = baseline(config, seed, index);
    let mut change_rng = stream_rng(seed, index, 2);
    let (later, mut changes) = follow_up(&mut change_rng, &subject, &population);
    let later_camera = follow_up_camera(&mut change_rng, &camera);
    let later_optics = Optics::generate(&mut change_rng);
    let interval_days = change_rng.random_range(70..=126);
    let stem = format!("{index:04}");
    let baseline_view = render_view(&subject, &camera, &optics, true, &mut stream_rng(seed, index, 1));
    let followup_view = render_view(
        &later,
        &later_camera,
        &later_optics,
        true,
        &mut stream_rng(seed, index, 3),
    );
    let baseline = finish(
        baseline_view,
        &camera,
        &format!("{stem}-baseline"),
        "baseline",
        day,
        generator(seed, index),
    );
    let followup = finish(
        followup_view,
        &later_camera,
        &format!("{stem}-followup"),
        "followup",
        day + interval_days,
        generator(seed, index),
    );
    let seen = |id: u32| {
        baseline
            .truth
            .hairs
            .iter()
            .chain(&followup.truth.hairs)
            .any(|h| h.id == id)
    };
    changes.retain(|c| seen(c.id));
    let truth = PairTruth {
        schema_version: TRUTH_SCHEMA_VERSION,
        baseline_truth: format!("{stem}-baseline.truth.json"),
        followup_truth: format!("{stem}-followup.truth.json"),
        interval_days,
        followup_to_baseline: later_camera.similarity_to(&camera).into(),
        hairs: changes,
    };
    PhantomPair {
        baseline,
        followup,
        truth,
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SynthError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| SynthError::WriteTruth {
        path: path.to_owned(),
        source: e.into(),
    })?;
    fs::write(path, text + "\n").map_err(|source| SynthError::WriteTruth {
        path: path.to_owned(),
        source,
    })
}

/// Writes a view's image, mask, labels and truth into `dir`; returns the image path.
///
/// # Errors
/// [`SynthError::WriteImage`] / [`SynthError::WriteTruth`] naming the file that failed.
pub fn write_phantom(dir: &Path, phantom: &Phantom) -> Result<PathBuf, SynthError> {
    let files = &phantom.truth.image;
    let image_path = dir.join(&files.file);
    let save = |path: PathBuf, result: image::ImageResult<()>| {
        result.map_err(|source| SynthError::WriteImage { path, source })
    };
    save(image_path.clone(), phantom.view.image.save(&image_path))?;
    let mask_path = dir.join(&files.mask_file);
    save(mask_path.clone(), phantom.view.mask.save(&mask_path))?;
    let labels_path = dir.join(&files.labels_file);
    save(labels_path.clone(), phantom.view.labels.save(&labels_path))?;
    let stem = files.file.trim_end_matches(".png");
    write_json(&dir.join(format!("{stem}.truth.json")), &phantom.truth)?;
    Ok(image_path)
}

/// Renders and writes `count` phantoms (or pairs) of run `seed` into `out`, in parallel;
/// calls `on_done` after each. Returns the written image paths in index order.
///
/// # Errors
/// Invalid configuration, an output folder that cannot be created or written, or the first
/// file that failed to write.
pub fn synthesize(
    config: &SynthConfig,
    out: &Path,
    count: usize,
    seed: u64,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<PathBuf>, SynthError> {
    if count == 0 {
        return Err(SynthError::ZeroCount { count });
    }
    config.validate()?;
    let folder_error = |source| SynthError::OutputFolder {
        path: out.to_owned(),
        source,
    };
    fs::create_dir_all(out).map_err(folder_error)?;
    let probe = out.join(".tricho-write-test");
    fs::write(&probe, b"").map_err(folder_error)?;
    fs::remove_file(&probe).map_err(folder_error)?;
    let written: Result<Vec<Vec<PathBuf>>, SynthError> = (0..count)
        .into_par_iter()
        .map(|index| {
            let paths = if config.pairs {
                let pair = render_pair(config, seed, index);
                let paths = vec![write_phantom(out, &pair.baseline)?, write_phantom(out, &pair.followup)?];
                write_json(&out.join(format!("{index:04}.pair.json")), &pair.truth)?;
                paths
            } else {
                vec![write_phantom(out, &render_single(config, seed, index))?]
            };
            on_done();
            Ok(paths)
        })
        .collect();
    Ok(written?.into_iter().flatten().collect())
}

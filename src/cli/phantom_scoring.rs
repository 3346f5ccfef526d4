//! What `tricho eval` and `tricho eval-pairs` share: finding the truth files, analysing a
//! phantom view with its true calibration, scoring every file in parallel with progress and
//! per-file errors, and writing the JSON summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context, Result};
use indicatif::ProgressBar;
use rayon::prelude::*;

use tricho::analyze::{analyze_scan, AnalysisConfig, ImageAnalysis};
use tricho::scan::{load_scan, Calibration, CalibrationSource, Scan};
use tricho::segment::HairModel;
use tricho::synth::truth::PhantomTruth;
use tricho::units::PixelSpacing;

use super::WorkerModels;

/// The files directly in `dirs` whose names end with `suffix`, sorted; an error if none.
pub fn files_ending_with(dirs: &[PathBuf], suffix: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
        for entry in entries {
            let path = entry
                .with_context(|| format!("cannot read folder {}", dir.display()))?
                .path();
            if path.to_string_lossy().ends_with(suffix) {
                files.push(path);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(anyhow!("no *{suffix} files in {dirs:?}"));
    }
    Ok(files)
}

/// Reads and parses one JSON file, naming it in the error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("cannot parse {}", path.display()))
}

/// Analyses the image of the phantom `truth` (read from `truth_path`) at its true scale;
/// returns the loaded photo with its analysis.
pub fn analyse_phantom(
    model: &mut HairModel,
    truth_path: &Path,
    truth: &PhantomTruth,
    config: &AnalysisConfig,
) -> Result<(Scan, ImageAnalysis)> {
    let image = truth_path.with_file_name(&truth.image.file);
    let scan = load_scan(&image, &config.load)?;
    let spacing = PixelSpacing::new(truth.calibration.um_per_px)
        .ok_or_else(|| anyhow!("{}: invalid um_per_px", truth_path.display()))?;
    let calibration = Calibration {
        spacing: Some(spacing),
        source: CalibrationSource::Sidecar {
            path: truth_path.to_path_buf(),
        },
    };
    let analysis = analyze_scan(model, &scan, &calibration, config)?;
    Ok((scan, analysis))
}

/// Scores every file in parallel (one model per worker) with a progress bar; files that fail
/// are reported on stderr and counted. Returns the scores and the number of failures.
pub fn score_all<T: Send>(
    files: &[PathBuf],
    models: &WorkerModels,
    score: impl Fn(&mut HairModel, &Path) -> Result<T> + Sync,
) -> (Vec<T>, usize) {
    let bar = ProgressBar::new(files.len() as u64);
    let results: Vec<Result<T>> = files
        .par_iter()
        .map(|path| {
            let result = models.with(|model| score(model, path));
            bar.inc(1);
            result
        })
        .collect();
    bar.finish_and_clear();
    let mut scores = Vec::new();
    let mut failed = 0;
    for result in results {
        match result {
            Ok(score) => scores.push(score),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    (scores, failed)
}

/// Writes `summary` as pretty JSON to `path` (its folder created), if a path was given.
pub fn write_json_summary<T: serde::Serialize>(path: Option<&Path>, summary: &T) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let json = serde_json::to_vec_pretty(summary)?;
    std::fs::write(path, json).with_context(|| format!("cannot write {}", path.display()))
}

/// Exit code 1 if any file could not be scored (the tables then cover the others).
pub fn exit_code(failed: usize) -> ExitCode {
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

//! Where an image's scale (µm per pixel) comes from, and the check that it is plausible.
//!
//! [`resolve_calibration`] takes the first source that exists, in this order:
//! 1. the command line (`--um-per-px`);
//! 2. a sidecar file next to the image: `<file name>.calibration.json` (e.g.
//!    `a.jpg.calibration.json`), else `<stem>.calibration.json` (e.g. `a.calibration.json`);
//! 3. a device profile ([`DeviceProfile::load`]);
//! 4. none: the image is uncalibrated and results stay in pixels.
//!
//! A lower-priority source is not read once a higher one is found. A source that exists but is
//! unreadable, malformed or implausible is an error, never silently skipped.
//!
//! Sidecar format (unknown fields are rejected, so a misspelt key is caught):
//! ```json
//! {"um_per_px": 4.8, "method": "calibration target, 1 mm grid", "notes": "clinic A, scope 2"}
//! ```
//! `um_per_px` is required; `method` (how the scale was measured) and `notes` are optional text.
//!
//! Device profile format: `{"name": "FotoFinder 20x", "um_per_px": 5.2, "notes": "..."}`, with
//! `notes` optional and unknown fields rejected.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::units::PixelSpacing;

/// Smallest accepted scale, µm/px.
///
/// Trichoscopy images are 2–10 µm/px (20x–70x dermatoscopes). The accepted range is much wider,
/// 0.5–50 µm/px, so unusual optics still work; a value outside it is certainly a unit mistake
/// (mm or nm per pixel, or pixels per µm), e.g. 0.0048 for 4.8 µm/px.
pub const MIN_UM_PER_PX: f64 = 0.5;

/// Largest accepted scale, µm/px; see [`MIN_UM_PER_PX`] for the reasoning.
pub const MAX_UM_PER_PX: f64 = 50.0;

/// Suffix of sidecar calibration files.
pub const SIDECAR_SUFFIX: &str = ".calibration.json";

/// Why a calibration could not be established.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    /// A calibration file (sidecar or device profile) exists but could not be read.
    #[error("cannot read calibration file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },

    /// A calibration file is not the expected JSON.
    #[error("invalid calibration file {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The JSON error (line, column, what was expected).
        source: serde_json::Error,
    },

    /// The value is NaN or infinite.
    #[error("{origin}: µm per pixel must be a finite number, got {value}")]
    NotFinite {
        /// Where the value came from: a file path or `--um-per-px`.
        origin: String,
        /// The value given.
        value: f64,
    },

    /// The value is zero or negative.
    #[error("{origin}: µm per pixel must be positive, got {value}")]
    NotPositive {
        /// Where the value came from: a file path or `--um-per-px`.
        origin: String,
        /// The value given.
        value: f64,
    },

    /// The value is outside the plausible range.
    #[error(
        "{origin}: {value} µm per pixel is outside the accepted {MIN_UM_PER_PX}–{MAX_UM_PER_PX} µm/px \
         (trichoscopy is 2–10 µm/px; this looks like a unit mistake, e.g. mm/px or px/µm)"
    )]
    OutOfRange {
        /// Where the value came from: a file path or `--um-per-px`.
        origin: String,
        /// The value given.
        value: f64,
    },
}

/// Where a calibration came from. Serialised as an object tagged by `kind`, e.g.
/// `{"kind": "sidecar", "path": "a.jpg.calibration.json"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CalibrationSource {
    /// Given on the command line (`--um-per-px`).
    CommandLine,
    /// Read from a sidecar file next to the image.
    Sidecar {
        /// The sidecar file.
        path: PathBuf,
    },
    /// Given in a batch manifest's `um_per_px` column.
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Where in it: `manifest.csv:12` (file and line).
        row: String,
    },
    /// Taken from a device profile.
    DeviceProfile {
        /// The profile's name.
        name: String,
        /// The profile file.
        path: PathBuf,
    },
    /// No source: results are in pixels only.
    Uncalibrated,
}

impl CalibrationSource {
    /// A short one-line description for tables: `command_line`, `sidecar:<path>`,
    /// `manifest:<file:line>`, `device_profile:<name>` or `uncalibrated`.
    pub fn label(&self) -> String {
        match self {
            Self::CommandLine => "command_line".to_owned(),
            Self::Sidecar { path } => format!("sidecar:{}", path.display()),
            Self::Manifest { row, .. } => format!("manifest:{row}"),
            Self::DeviceProfile { name, .. } => format!("device_profile:{name}"),
            Self::Uncalibrated => "uncalibrated".to_owned(),
        }
    }
}

/// An image's scale and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Micrometres per pixel; `None` when uncalibrated.
    pub spacing: Option<PixelSpacing>,
    /// Where the spacing came from.
    pub source: CalibrationSource,
}

/// A camera/dermatoscope profile: the scale of every image it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceProfile {
    /// Device name, e.g. `FotoFinder 20x`.
    pub name: String,
    /// The device's scale (validated when loaded).
    pub spacing: PixelSpacing,
    /// Free text, e.g. how the scale was measured.
    pub notes: Option<String>,
    /// The file the profile was read from.
    pub path: PathBuf,
}

/// A device profile file as written on disk.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceProfileFile {
    name: String,
    um_per_px: f64,
    #[serde(default)]
    notes: Option<String>,
}

/// A sidecar calibration file as written on disk.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SidecarFile {
    um_per_px: f64,
    // Read so that they are accepted; documentation for people, not used by the pipeline.
    #[serde(default, rename = "method")]
    _method: Option<String>,
    #[serde(default, rename = "notes")]
    _notes: Option<String>,
}

impl DeviceProfile {
    /// Reads a device profile JSON file and validates its scale.
    ///
    /// # Errors
    /// [`CalibrationError`] naming `path`: unreadable, not the expected JSON, or an implausible
    /// `um_per_px`.
    pub fn load(path: &Path) -> Result<Self, CalibrationError> {
        let text = std::fs::read_to_string(path).map_err(|source| CalibrationError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let file: DeviceProfileFile = parse_json(path, &text)?;
        let spacing = validate_um_per_px(file.um_per_px, &path.display().to_string())?;
        Ok(Self {
            name: file.name,
            spacing,
            notes: file.notes,
            path: path.to_path_buf(),
        })
    }
}

/// Checks that `value` µm/px is finite, positive and within [`MIN_UM_PER_PX`]–[`MAX_UM_PER_PX`].
/// `origin` names the source in the error (a file path or `--um-per-px`).
///
/// # Errors
/// [`CalibrationError::NotFinite`], [`CalibrationError::NotPositive`] or
/// [`CalibrationError::OutOfRange`].
pub fn validate_um_per_px(value: f64, origin: &str) -> Result<PixelSpacing, CalibrationError> {
    let origin = origin.to_owned();
    if !value.is_finite() {
        return Err(CalibrationError::NotFinite { origin, value });
    }
    if value <= 0.0 {
        return Err(CalibrationError::NotPositive { origin, value });
    }
    if !(MIN_UM_PER_PX..=MAX_UM_PER_PX).contains(&value) {
        return Err(CalibrationError::OutOfRange { origin, value });
    }
    Ok(PixelSpacing { um_per_px: value })
}

/// The calibration of the image at `image_path`: command line, else sidecar, else device
/// profile, else uncalibrated (see the module documentation).
///
/// # Errors
/// [`CalibrationError`] if the chosen source is unreadable, malformed or implausible.
pub fn resolve_calibration(
    image_path: &Path,
    command_line_um_per_px: Option<f64>,
    device_profile: Option<&DeviceProfile>,
) -> Result<Calibration, CalibrationError> {
    if let Some(value) = command_line_um_per_px {
        let spacing = validate_um_per_px(value, "--um-per-px")?;
        return Ok(Calibration {
            spacing: Some(spacing),
            source: CalibrationSource::CommandLine,
        });
    }
    for path in sidecar_candidates(image_path) {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == ErrorKind::NotFound => continue,
            Err(source) => return Err(CalibrationError::Read { path, source }),
        };
        let file: SidecarFile = parse_json(&path, &text)?;
        let spacing = validate_um_per_px(file.um_per_px, &path.display().to_string())?;
        return Ok(Calibration {
            spacing: Some(spacing),
            source: CalibrationSource::Sidecar { path },
        });
    }
    if let Some(profile) = device_profile {
        // Re-validated: the fields are public, so the profile may not come from `load`.
        let spacing = validate_um_per_px(profile.spacing.um_per_px, &profile.path.display().to_string())?;
        let source = CalibrationSource::DeviceProfile {
            name: profile.name.clone(),
            path: profile.path.clone(),
        };
        return Ok(Calibration {
            spacing: Some(spacing),
            source,
        });
    }
    Ok(Calibration {
        spacing: None,
        source: CalibrationSource::Uncalibrated,
    })
}

/// Sidecar paths for `image_path`, most specific first: `a.jpg.calibration.json`, then
/// `a.calibration.json` (only one when the image has no extension).
pub fn sidecar_candidates(image_path: &Path) -> Vec<PathBuf> {
    let mut candidates = Vec::with_capacity(2);
    for name in [image_path.file_name(), image_path.file_stem()].into_iter().flatten() {
        let mut sidecar_name = name.to_os_string();
        sidecar_name.push(SIDECAR_SUFFIX);
        let candidate = image_path.with_file_name(sidecar_name);
        if !candidates.contains(&candidate) {
            candidates.push(candidate);
        }
    }
    candidates
}

fn parse_json<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, CalibrationError> {
    serde_json::from_str(text).map_err(|source| CalibrationError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_range_and_names_the_origin_otherwise() {
        for ok in [MIN_UM_PER_PX, 2.0, 4.8, 10.0, MAX_UM_PER_PX] {
            assert_eq!(validate_um_per_px(ok, "x").unwrap().um_per_px, ok);
        }
        let cases = [
            (f64::NAN, "finite"),
            (f64::INFINITY, "finite"),
            (0.0, "positive"),
            (-4.8, "positive"),
            (0.0048, "unit mistake"),
            (4800.0, "unit mistake"),
        ];
        for (bad, expected) in cases {
            let message = validate_um_per_px(bad, "--um-per-px").unwrap_err().to_string();
            assert!(
                message.starts_with("--um-per-px: ") && message.contains(expected),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn sidecar_names_full_file_name_first_then_stem() {
        assert_eq!(
            sidecar_candidates(Path::new("/d/a.jpg")),
            vec![
                PathBuf::from("/d/a.jpg.calibration.json"),
                PathBuf::from("/d/a.calibration.json")
            ]
        );
        assert_eq!(
            sidecar_candidates(Path::new("/d/scan")),
            vec![PathBuf::from("/d/scan.calibration.json")]
        );
    }

    #[test]
    fn source_serialises_as_tagged_object_and_labels() {
        let source = CalibrationSource::DeviceProfile {
            name: "scope".into(),
            path: "p.json".into(),
        };
        let json = serde_json::to_value(&source).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "device_profile", "name": "scope", "path": "p.json"})
        );
        assert_eq!(
            serde_json::to_value(CalibrationSource::CommandLine).unwrap(),
            serde_json::json!({"kind": "command_line"})
        );
        assert_eq!(source.label(), "device_profile:scope");
        assert_eq!(CalibrationSource::Uncalibrated.label(), "uncalibrated");
    }
}

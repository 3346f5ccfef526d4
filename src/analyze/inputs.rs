//! Which files a folder run analyses, and the output name of each: folders are walked
//! recursively in a stable order, and images with the same stem in different folders get
//! distinct output names, so no result overwrites another.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

/// File extensions (lower case) picked up when a folder is walked. Files named explicitly
/// are analysed whatever their extension (the loader then says what is wrong with them).
pub const IMAGE_EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "tif", "tiff"];

/// Suffixes of files tricho writes itself (analysis overlays, phantom masks and labels):
/// skipped when a folder is walked, so re-running on a folder that holds earlier outputs or
/// phantoms analyses only the photos.
pub const OWN_OUTPUT_SUFFIXES: [&str; 3] = [".overlay.png", ".mask.png", ".labels.png"];

/// One image to analyse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInput {
    /// The image file.
    pub path: PathBuf,
    /// Output base name: `<stem>.json`, `<stem>.overlay.png`. The file stem, or, where two
    /// inputs share a stem, the path below the walked folder with separators as `__`.
    pub output_stem: String,
}

/// A path that could not be walked.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("cannot read {}: {reason}", path.display())]
pub struct InputError {
    /// The file or folder.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Expands files and folders (recursively, sorted by path, symlinked folders not followed)
/// into the images to analyse. Unreadable paths are returned as errors beside the images
/// that could be found, so one bad folder does not stop the run.
pub fn collect_images(paths: &[PathBuf]) -> (Vec<ImageInput>, Vec<InputError>) {
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new(); // (file, walked root)
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, path, &mut found, &mut errors),
            Ok(_) => found.push((path.clone(), path.parent().unwrap_or(Path::new("")).to_path_buf())),
            Err(e) => errors.push(InputError {
                path: path.clone(),
                reason: e.to_string(),
            }),
        }
    }
    (name_outputs(found), errors)
}

fn walk(dir: &Path, root: &Path, found: &mut Vec<(PathBuf, PathBuf)>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(InputError {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => children.push(entry.path()),
            Err(e) => errors.push(InputError {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            }),
        }
    }
    children.sort();
    for child in children {
        match std::fs::symlink_metadata(&child) {
            Ok(meta) if meta.is_dir() => walk(&child, root, found, errors),
            Ok(_) if has_image_extension(&child) => found.push((child, root.to_path_buf())),
            Ok(_) => {}
            Err(e) => errors.push(InputError {
                path: child,
                reason: e.to_string(),
            }),
        }
    }
}

fn has_image_extension(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if OWN_OUTPUT_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return false;
    }
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

fn stem_of(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "image".to_string(), |s| s.to_string_lossy().into_owned())
}

/// Output stems: the file stem where it is unique, otherwise the path below the walked root
/// (without extension, separators as `__`), with a numeric suffix as the last resort.
fn name_outputs(found: Vec<(PathBuf, PathBuf)>) -> Vec<ImageInput> {
    let mut stem_uses: HashMap<String, usize> = HashMap::new();
    for (path, _) in &found {
        *stem_uses.entry(stem_of(path)).or_default() += 1;
    }
    let mut taken: HashMap<String, usize> = HashMap::new();
    found
        .into_iter()
        .map(|(path, root)| {
            let stem = stem_of(&path);
            let mut name = if stem_uses[&stem] > 1 {
                let relative = path.strip_prefix(&root).unwrap_or(&path).with_extension("");
                relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("__")
            } else {
                stem
            };
            let uses = taken.entry(name.clone()).or_default();
            *uses += 1;
            if *uses > 1 {
                name = format!("{name}-{uses}");
            }
            ImageInput {
                path,
                output_stem: name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }

    #[test]
    fn folders_are_walked_recursively_in_order_with_unique_names() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("visits");
        for rel in [
            "b/0001.JPG",
            "a/0001.png",
            "a/notes.txt",
            "a/deep/x.tiff",
            "c.jpeg",
            "c.overlay.png",
            "a/0001.mask.png",
        ] {
            touch(&root.join(rel));
        }
        let (inputs, errors) = collect_images(std::slice::from_ref(&root));
        assert!(errors.is_empty(), "{errors:?}");
        let names: Vec<_> = inputs.iter().map(|i| i.output_stem.as_str()).collect();
        assert_eq!(names, ["a__0001", "x", "b__0001", "c"]);
        assert_eq!(inputs[1].path, root.join("a/deep/x.tiff"));
    }

    #[test]
    fn a_named_file_is_taken_whatever_its_extension_and_a_missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("scan.dat");
        touch(&file);
        let missing = dir.path().join("missing");
        let (inputs, errors) = collect_images(&[file.clone(), missing.clone(), file.clone()]);
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0].output_stem, "scan");
        assert_eq!(inputs[1].output_stem, "scan-2");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, missing);
        assert!(errors[0].to_string().contains("missing"), "{}", errors[0]);
    }
}

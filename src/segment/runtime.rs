//! Finds the ONNX Runtime shared library and initialises it once per process.
//!
//! `ort` is built with `load-dynamic`, so the library is located at run time in this order:
//! an explicit path (the binary's `--ort-dylib` flag), `ORT_DYLIB_PATH`, the project-local
//! install made by `scripts/install-onnxruntime.sh` (looked for next to the current
//! directory, the executable's ancestors and the crate's source directory), and finally an
//! installed `onnxruntime` Python package.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use super::ModelError;

/// The ONNX Runtime version the project pins (see `scripts/install-onnxruntime.sh`).
pub const ORT_VERSION: &str = "1.31.1";

/// Environment variable naming the ONNX Runtime shared library (also honoured by `ort`).
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// Where the install script puts the library, relative to the repository root.
pub const PROJECT_LOCAL_RUNTIME: &str = ".ort/onnxruntime/capi/libonnxruntime.so.1.31.1";

/// An initialised ONNX Runtime: the library it came from and the environment sessions use.
#[derive(Clone)]
pub struct Runtime {
    dylib: PathBuf,
    environment: ort::environment::Environment,
}

impl Runtime {
    /// The shared library this process loaded.
    pub fn dylib(&self) -> &Path {
        &self.dylib
    }

    /// The process-wide ONNX Runtime environment under which sessions are created.
    pub fn environment(&self) -> &ort::environment::Environment {
        &self.environment
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("dylib", &self.dylib)
            .finish_non_exhaustive()
    }
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Finds the ONNX Runtime shared library without loading it.
///
/// `explicit` is a path the user gave (a file, or a directory holding the library); when it
/// or `ORT_DYLIB_PATH` is set, it must exist, and no other place is tried.
///
/// # Errors
/// [`ModelError::RuntimeMissing`] when an explicit path does not exist;
/// [`ModelError::RuntimeNotFound`] (with the command to run and every place searched) when
/// nothing is found.
pub fn locate_runtime(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    if let Some(path) = explicit {
        return existing_library(path, "--ort-dylib");
    }
    if let Some(value) = std::env::var_os(ORT_DYLIB_ENV).filter(|v| !v.is_empty()) {
        return existing_library(Path::new(&value), ORT_DYLIB_ENV);
    }

    let mut searched = Vec::new();
    for root in project_roots() {
        let candidate = root.join(PROJECT_LOCAL_RUNTIME);
        if searched.contains(&candidate) {
            continue;
        }
        if candidate.is_file() {
            return Ok(absolute(candidate));
        }
        searched.push(candidate);
    }
    match python_package_dir() {
        Some(package) => {
            let capi = package.join("capi");
            if let Some(found) = library_in_dir(&capi) {
                return Ok(found);
            }
            searched.push(capi.join(library_file_name()));
        }
        None => searched.push(PathBuf::from("python3: `import onnxruntime` (not installed)")),
    }
    Err(ModelError::RuntimeNotFound { searched })
}

/// Loads ONNX Runtime (found with [`locate_runtime`]) and creates the process-wide
/// environment, once; later calls return the same runtime whatever `explicit` says.
///
/// # Errors
/// The errors of [`locate_runtime`], [`ModelError::RuntimeLoad`] when the library cannot be
/// loaded (not ONNX Runtime, or older than the `ort` crate needs) and
/// [`ModelError::RuntimeInit`] when the environment cannot be created.
pub fn init_runtime(explicit: Option<&Path>) -> Result<Runtime, ModelError> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.clone());
    }
    // A poisoned lock only means another thread panicked mid-initialisation; the OnceLock
    // still says truthfully whether it finished.
    let _guard = INIT_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.clone());
    }
    let dylib = locate_runtime(explicit)?;
    let builder = ort::init_from(&dylib).map_err(|source| ModelError::RuntimeLoad {
        path: dylib.clone(),
        source,
    })?;
    let environment = builder
        .with_name("tricho")
        .with_telemetry(false)
        .build()
        .map_err(|source| ModelError::RuntimeInit {
            path: dylib.clone(),
            source,
        })?;
    let runtime = Runtime { dylib, environment };
    Ok(RUNTIME.get_or_init(|| runtime).clone())
}

/// The file name of the pinned library on this platform.
fn library_file_name() -> String {
    if cfg!(target_os = "macos") {
        format!("libonnxruntime.{ORT_VERSION}.dylib")
    } else if cfg!(windows) {
        "onnxruntime.dll".to_owned()
    } else {
        format!("libonnxruntime.so.{ORT_VERSION}")
    }
}

fn existing_library(path: &Path, origin: &'static str) -> Result<PathBuf, ModelError> {
    if path.is_file() {
        return Ok(absolute(path.to_path_buf()));
    }
    if path.is_dir() {
        if let Some(found) = library_in_dir(path) {
            return Ok(found);
        }
    }
    Err(ModelError::RuntimeMissing {
        path: path.to_path_buf(),
        origin,
    })
}

/// The ONNX Runtime library inside `dir`: the pinned file name first, else any
/// `libonnxruntime.so*` (or platform equivalent) that is not an execution-provider plugin.
fn library_in_dir(dir: &Path) -> Option<PathBuf> {
    let pinned = dir.join(library_file_name());
    if pinned.is_file() {
        return Some(absolute(pinned));
    }
    let prefix = format!("{}onnxruntime", std::env::consts::DLL_PREFIX);
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|name| {
                (name.starts_with(&format!("{prefix}.")) || name == format!("{prefix}{}", std::env::consts::DLL_SUFFIX))
                    && name.contains(std::env::consts::DLL_SUFFIX)
                    && !name.contains("providers")
            })
        })
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().map(absolute)
}

/// Directories that may hold the project-local `.ort/`: the current directory, the
/// executable's ancestors (so `target/release/tricho` finds `<repo>/.ort`) and this crate's
/// source directory.
pub(crate) fn project_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    roots
}

/// Where `python3` imports `onnxruntime` from, if it can.
fn python_package_dir() -> Option<PathBuf> {
    let output = Command::new("python3")
        .args([
            "-c",
            "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let dir = String::from_utf8(output.stdout).ok()?;
    let dir = dir.trim();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

fn absolute(path: PathBuf) -> PathBuf {
    std::path::absolute(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_project_local_runtime() {
        // The install script must have been run (CI runs it before `cargo test`).
        let path = locate_runtime(None).expect("run `bash scripts/install-onnxruntime.sh`");
        assert!(path.is_file(), "{}", path.display());
        assert!(path.is_absolute());
    }

    #[test]
    fn explicit_missing_path_is_an_error_naming_it() {
        let missing = Path::new("/nonexistent/libonnxruntime.so");
        let err = locate_runtime(Some(missing)).unwrap_err();
        assert!(matches!(err, ModelError::RuntimeMissing { .. }));
        assert!(err.to_string().contains("/nonexistent/libonnxruntime.so"), "{err}");
    }

    #[test]
    fn explicit_directory_finds_the_library_inside() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ort/onnxruntime/capi");
        let path = locate_runtime(Some(&dir)).expect("run `bash scripts/install-onnxruntime.sh`");
        assert_eq!(
            path.file_name().and_then(|n| n.to_str()),
            Some("libonnxruntime.so.1.31.1")
        );
    }

    #[test]
    fn not_found_message_says_what_to_run_and_where_it_looked() {
        let err = ModelError::RuntimeNotFound {
            searched: vec![PathBuf::from("/a/.ort/x.so"), PathBuf::from("/b/.ort/x.so")],
        };
        let message = err.to_string();
        assert!(message.contains("bash scripts/install-onnxruntime.sh"), "{message}");
        assert!(
            message.contains("/a/.ort/x.so") && message.contains("/b/.ort/x.so"),
            "{message}"
        );
    }

    #[test]
    fn initialising_twice_is_harmless() {
        let first = init_runtime(None).expect("run `bash scripts/install-onnxruntime.sh`");
        let second = init_runtime(Some(Path::new("/ignored/after/first/init"))).unwrap();
        assert_eq!(first.dylib(), second.dylib());
    }
}

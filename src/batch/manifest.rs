//! What a batch analyses: the subjects of a trial or clinic and the photo of each of their
//! visits, read from a manifest CSV or a `subject/visit/photo` folder tree, with every bad row
//! reported on its own so that the good rows still run.
//!
//! **Manifest CSV** (header names case-insensitive, any order): `subject`, `visit`, `path`
//! required; `site`, `date` (`YYYY-MM-DD`) and `um_per_px` optional. Relative paths are taken
//! from the manifest's folder. A column tricho does not know is reported and ignored.
//!
//! **Folder layout** `ROOT/<subject>/<visit>/<photo>`: one photo per visit folder, no site,
//! no dates (the interval then comes from the photos' EXIF capture dates).
//!
//! **Visit order**: a subject's visits are ordered by date when every one of them has a date,
//! else in manifest order (folders: `baseline` first, then by name with numbers compared as
//! numbers, so `week4` comes before `week12`). The first visit is the baseline; every later
//! visit is compared with it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::analyze::IMAGE_EXTENSIONS;
use crate::scan::validate_um_per_px;

/// Column names a manifest may have.
pub const MANIFEST_COLUMNS: [&str; 6] = ["subject", "site", "visit", "date", "path", "um_per_px"];
/// Columns a manifest must have.
pub const REQUIRED_COLUMNS: [&str; 3] = ["subject", "visit", "path"];

/// Why a manifest could not be read at all (bad rows are [`RowIssue`]s instead).
#[derive(Debug, Error)]
pub enum ManifestError {
    /// The manifest file or folder cannot be read.
    #[error("cannot read manifest {}: {source}", path.display())]
    Read {
        /// The manifest.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The header is not CSV or lacks a required column.
    #[error("manifest {}: {reason}", path.display())]
    Header {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// One photo of one visit, as the manifest gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitEntry {
    /// Visit label (`baseline`, `week12`, …).
    pub visit: String,
    /// The photo (resolved against the manifest's folder).
    pub path: PathBuf,
    /// Visit date (`YYYY-MM-DD`), if given.
    pub date: Option<String>,
    /// Calibration (µm per pixel) given in the manifest, if any.
    pub um_per_px: Option<f64>,
    /// Where the entry came from: `manifest.csv:12` or the photo's path for folder layouts.
    pub origin: String,
}

/// A subject with its visits, baseline first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    /// Subject id.
    pub id: String,
    /// Trial site (empty when not given).
    pub site: String,
    /// Visits, baseline first (see the module documentation for the order).
    pub visits: Vec<VisitEntry>,
}

/// A manifest row (or folder) that cannot be used, or a problem with the manifest as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowIssue {
    /// `manifest.csv:12` (file and line), or the file or folder concerned.
    pub origin: String,
    /// Subject of the row, if known.
    pub subject: String,
    /// Visit of the row, if known.
    pub visit: String,
    /// Photo path of the row, if known.
    pub path: String,
    /// What is wrong and what was done about it.
    pub reason: String,
}

/// A manifest read: the usable subjects and every issue found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Subjects sorted by id, each with at least one usable visit.
    pub subjects: Vec<Subject>,
    /// Rows left out (and unknown columns, ignored), in manifest order.
    pub issues: Vec<RowIssue>,
}

impl Manifest {
    /// Reads a manifest CSV file or a `subject/visit/photo` folder.
    ///
    /// # Errors
    /// [`ManifestError`] if the file or folder cannot be read or the CSV header lacks a
    /// required column. Bad rows are not errors: they are listed in [`Manifest::issues`].
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let read = |source| ManifestError::Read {
            path: path.to_path_buf(),
            source,
        };
        if std::fs::metadata(path).map_err(read)?.is_dir() {
            read_folder(path)
        } else {
            let text = std::fs::read(path).map_err(read)?;
            parse_csv(path, &text)
        }
    }

    /// Number of visits over all subjects.
    pub fn visit_count(&self) -> usize {
        self.subjects.iter().map(|s| s.visits.len()).sum()
    }
}

/// A row before it is grouped by subject.
struct Row {
    subject: String,
    site: String,
    entry: VisitEntry,
}

/// Parses manifest CSV `bytes` read from `path` (relative photo paths resolve against its folder).
///
/// # Errors
/// [`ManifestError::Header`] if the header is unreadable or a required column is missing.
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<Manifest, ManifestError> {
    let header_error = |reason: String| ManifestError::Header {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| header_error(format!("the header is not CSV: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let missing: Vec<&str> = REQUIRED_COLUMNS.into_iter().filter(|c| column(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(header_error(format!(
            "missing column(s) {} (header: {})",
            missing.join(", "),
            header.join(",")
        )));
    }
    let name = path.display().to_string();
    let mut issues = Vec::new();
    for unknown in header.iter().filter(|h| !MANIFEST_COLUMNS.contains(&h.as_str())) {
        issues.push(RowIssue {
            origin: format!("{name}:1"),
            subject: String::new(),
            visit: String::new(),
            path: String::new(),
            reason: format!(
                "unknown column `{unknown}` ignored (known: {})",
                MANIFEST_COLUMNS.join(", ")
            ),
        });
    }
    let base = path.parent().unwrap_or(Path::new(""));
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let origin = format!("{name}:{}", index + 2);
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                issues.push(issue(&origin, "", "", "", format!("not a CSV row: {e}")));
                continue;
            }
        };
        let cell = |name: &str| column(name).and_then(|i| record.get(i)).unwrap_or("").to_string();
        let (subject, visit, photo) = (cell("subject"), cell("visit"), cell("path"));
        let fail = |reason: String| issue(&origin, &subject, &visit, &photo, reason);
        let empty: Vec<&str> = REQUIRED_COLUMNS.into_iter().filter(|c| cell(c).is_empty()).collect();
        if !empty.is_empty() {
            issues.push(fail(format!("empty {}", empty.join(", "))));
            continue;
        }
        let date = match cell("date") {
            d if d.is_empty() => None,
            d => match parse_date(&d) {
                Some(_) => Some(d),
                None => {
                    issues.push(fail(format!("unparseable date `{d}` (expected YYYY-MM-DD)")));
                    continue;
                }
            },
        };
        let um_per_px = match cell("um_per_px") {
            v if v.is_empty() => None,
            v => match v
                .parse::<f64>()
                .map_err(|_| format!("um_per_px `{v}` is not a number"))
                .and_then(|value| {
                    validate_um_per_px(value, "um_per_px")
                        .map(|s| s.um_per_px)
                        .map_err(|e| e.to_string())
                }) {
                Ok(value) => Some(value),
                Err(reason) => {
                    issues.push(fail(reason));
                    continue;
                }
            },
        };
        let resolved = base.join(&photo);
        if let Err(e) = std::fs::metadata(&resolved) {
            issues.push(fail(format!("photo {} not found: {e}", resolved.display())));
            continue;
        }
        rows.push(Row {
            subject,
            site: cell("site"),
            entry: VisitEntry {
                visit,
                path: resolved,
                date,
                um_per_px,
                origin,
            },
        });
    }
    let subjects = group_subjects(rows, &mut issues, false);
    Ok(Manifest { subjects, issues })
}

fn issue(origin: &str, subject: &str, visit: &str, path: &str, reason: String) -> RowIssue {
    RowIssue {
        origin: origin.to_string(),
        subject: subject.to_string(),
        visit: visit.to_string(),
        path: path.to_string(),
        reason,
    }
}

/// Groups rows by subject: duplicate visits and a site that differs from the subject's first
/// row become issues; visits are put in order (see the module documentation).
fn group_subjects(rows: Vec<Row>, issues: &mut Vec<RowIssue>, folder_order: bool) -> Vec<Subject> {
    let mut subjects: BTreeMap<String, Subject> = BTreeMap::new();
    for row in rows {
        let subject = subjects.entry(row.subject.clone()).or_insert_with(|| Subject {
            id: row.subject.clone(),
            site: row.site.clone(),
            visits: Vec::new(),
        });
        let e = &row.entry;
        let fail = |reason: String| issue(&e.origin, &row.subject, &e.visit, &e.path.display().to_string(), reason);
        if let Some(first) = subject.visits.iter().find(|v| v.visit == e.visit) {
            issues.push(fail(format!(
                "duplicate visit `{}` of subject `{}` (first given at {}); row left out",
                e.visit, row.subject, first.origin
            )));
        } else if subject.site != row.site {
            issues.push(fail(format!(
                "site `{}` differs from `{}` given for subject `{}` before; row left out",
                row.site, subject.site, row.subject
            )));
        } else {
            subject.visits.push(row.entry);
        }
    }
    let mut subjects: Vec<Subject> = subjects.into_values().collect();
    for subject in &mut subjects {
        if folder_order {
            subject.visits.sort_by(|a, b| visit_folder_order(&a.visit, &b.visit));
        } else if subject.visits.iter().all(|v| v.date.is_some()) {
            // stable: equal dates keep manifest order
            subject.visits.sort_by_key(|v| v.date.as_deref().and_then(parse_date));
        }
    }
    subjects
}

/// Day number (since 1970-01-01) of a strict `YYYY-MM-DD` date, `None` if it is not one.
pub fn parse_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (y, m, d) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    crate::compare::response::interval_days(Some("1970-01-01"), Some(text))
}

/// `baseline` first, then natural order (digit runs compared as numbers).
fn visit_folder_order(a: &str, b: &str) -> Ordering {
    let is_baseline = |v: &str| v.eq_ignore_ascii_case("baseline");
    is_baseline(b)
        .cmp(&is_baseline(a))
        .then_with(|| natural_key(a).cmp(&natural_key(b)))
}

/// `week12` → [("week", 0), ("", 12)]: text runs and number runs, for natural ordering.
pub(crate) fn natural_key(text: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() {
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            key.push((String::new(), digits.parse().unwrap_or(u64::MAX)));
        } else {
            let mut word = String::new();
            while let Some(&w) = chars.peek().filter(|w| !w.is_ascii_digit()) {
                word.push(w.to_ascii_lowercase());
                chars.next();
            }
            key.push((word, 0));
        }
    }
    key
}

/// Reads a `ROOT/<subject>/<visit>/<photo>` tree.
fn read_folder(root: &Path) -> Result<Manifest, ManifestError> {
    let mut issues = Vec::new();
    let mut rows = Vec::new();
    for subject_dir in sorted_dirs(root)? {
        let subject = file_name(&subject_dir);
        let visit_dirs = match sorted_dirs(&subject_dir) {
            Ok(dirs) => dirs,
            Err(e) => {
                issues.push(issue(
                    &subject_dir.display().to_string(),
                    &subject,
                    "",
                    "",
                    e.to_string(),
                ));
                continue;
            }
        };
        for visit_dir in visit_dirs {
            let visit = file_name(&visit_dir);
            let origin = visit_dir.display().to_string();
            let photos = match photos_in(&visit_dir) {
                Ok(photos) => photos,
                Err(e) => {
                    issues.push(issue(&origin, &subject, &visit, "", e.to_string()));
                    continue;
                }
            };
            match photos.as_slice() {
                [photo] => rows.push(Row {
                    subject: subject.clone(),
                    site: String::new(),
                    entry: VisitEntry {
                        visit,
                        path: photo.clone(),
                        date: None,
                        um_per_px: None,
                        origin: photo.display().to_string(),
                    },
                }),
                [] => issues.push(issue(&origin, &subject, &visit, "", "no photo in the visit folder".into())),
                many => issues.push(issue(
                    &origin,
                    &subject,
                    &visit,
                    "",
                    format!(
                        "{} photos in the visit folder ({}); a folder layout takes one photo per visit, use a manifest CSV",
                        many.len(),
                        many.iter().map(|p| file_name(p)).collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
    }
    let subjects = group_subjects(rows, &mut issues, true);
    Ok(Manifest { subjects, issues })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let read = |source| ManifestError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        entries.push(entry.map_err(read)?.path());
    }
    entries.sort();
    Ok(entries)
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    Ok(sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}

/// Photos of a visit folder: image extensions, tricho's own outputs left out.
fn photos_in(dir: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|p| p.is_file() && is_photo(p))
        .collect())
}

fn is_photo(path: &Path) -> bool {
    let name = file_name(path).to_ascii_lowercase();
    let extension = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    extension.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
        && !crate::analyze::OWN_OUTPUT_SUFFIXES.iter().any(|s| name.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"x").unwrap();
        path
    }

    #[test]
    fn rows_are_grouped_ordered_by_date_and_bad_rows_reported() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a0.jpg", "a1.jpg", "b0.jpg", "b1.jpg", "c0.jpg"] {
            touch(dir.path(), name);
        }
        let csv = "Subject,site,visit,date,path,um_per_px,notes\n\
                   A,paris,week12,2026-04-03,a1.jpg,4.8,x\n\
                   A,paris,baseline,2026-01-02,a0.jpg,4.8,\n\
                   A,paris,baseline,2026-01-02,a0.jpg,4.8,\n\
                   B,lyon,v0,2026-13-01,b0.jpg,,\n\
                   B,lyon,v1,,missing.jpg,,\n\
                   B,lyon,v2,,b1.jpg,-5,\n\
                   C,rome,v0,2026-02-28,c0.jpg,,\n\
                   C,rome,v2,2026-02-30,c0.jpg,,\n\
                   C,oslo,v1,,c0.jpg,,\n\
                   ,rome,v3,,c0.jpg,,\n";
        let manifest_path = dir.path().join("m.csv");
        let m = parse_csv(&manifest_path, csv.as_bytes()).unwrap();
        let a = &m.subjects[0];
        assert_eq!(a.id, "A");
        assert_eq!(
            a.visits.iter().map(|v| v.visit.as_str()).collect::<Vec<_>>(),
            ["baseline", "week12"]
        );
        assert_eq!(a.visits[1].um_per_px, Some(4.8));
        assert_eq!(a.visits[0].path, dir.path().join("a0.jpg"));
        let reasons: Vec<&str> = m.issues.iter().map(|i| i.reason.as_str()).collect();
        let expect = [
            "unknown column `notes`",
            "duplicate visit `baseline`",
            "unparseable date `2026-13-01`",
            "not found",
            "um_per_px",
            "unparseable date `2026-02-30`",
            "empty subject",
            "site `oslo` differs",
        ];
        assert_eq!(reasons.len(), expect.len(), "{reasons:#?}");
        for e in expect {
            assert!(
                reasons.iter().any(|r| r.contains(e)),
                "no issue containing {e:?} in {reasons:#?}"
            );
        }
        assert!(m
            .issues
            .iter()
            .any(|i| i.origin.ends_with("m.csv:4") && i.reason.contains("duplicate")));
        // B has no usable row left and is not a subject; C keeps its first row
        let ids: Vec<&str> = m.subjects.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["A", "C"]);
        assert_eq!(m.subjects[1].visits.len(), 1);
    }

    #[test]
    fn a_missing_required_column_is_a_header_error() {
        let error = parse_csv(Path::new("m.csv"), b"subject,date,path\nA,2026-01-01,a.jpg\n").unwrap_err();
        assert!(error.to_string().contains("missing column(s) visit"), "{error}");
    }

    #[test]
    fn manifest_order_is_kept_when_a_date_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "a.jpg");
        let csv = "subject,visit,date,path\nA,v2,2026-04-01,a.jpg\nA,v1,,a.jpg\n";
        let m = parse_csv(&dir.path().join("m.csv"), csv.as_bytes()).unwrap();
        assert_eq!(m.subjects[0].visits[0].visit, "v2");
    }

    #[test]
    fn folder_layout_puts_baseline_first_and_orders_numbers_naturally() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "S1/week12/p.jpg");
        touch(dir.path(), "S1/week4/p.jpg");
        touch(dir.path(), "S1/baseline/p.jpg");
        touch(dir.path(), "S1/baseline/p.overlay.png");
        touch(dir.path(), "S2/v1/a.jpg");
        touch(dir.path(), "S2/v1/b.jpg");
        std::fs::create_dir_all(dir.path().join("S2/v2")).unwrap();
        let m = Manifest::load(dir.path()).unwrap();
        let visits: Vec<&str> = m.subjects[0].visits.iter().map(|v| v.visit.as_str()).collect();
        assert_eq!(visits, ["baseline", "week4", "week12"]);
        assert_eq!(m.subjects.len(), 1);
        assert!(m
            .issues
            .iter()
            .any(|i| i.reason.contains("2 photos") && i.reason.contains("a.jpg, b.jpg")));
        assert!(m
            .issues
            .iter()
            .any(|i| i.visit == "v2" && i.reason.contains("no photo")));
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2024-2-9"), None);
        assert_eq!(parse_date("2024:02:09"), None);
        assert_eq!(parse_date("+024-02-09"), None);
    }
}

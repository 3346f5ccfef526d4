//! One subject of a batch: each visit analysed (or recognised as done), then each later visit
//! compared with the baseline. Everything a subject needs stays inside this call and is
//! dropped when it returns, so memory does not grow with the number of subjects.

use std::path::{Path, PathBuf};
use std::time::Instant;

use image::imageops::FilterType;
use rayon::prelude::*;

use super::manifest::{Subject, VisitEntry};
use super::names::file_safe;
use super::resume::{image_is_done, pair_is_done, read_json, PairExpectation};
use super::rows::{ImageRow, PairResult, PairRow, VisitKey};
use super::run::Run;
use crate::analyze::{panic_message, ImageAnalysis};
use crate::audit::{analysis_event, comparison_event, file_sha256, AnalysisSettings, AuditEvent};
use crate::compare::compare_visits;
use crate::report::{draw_comparison_overlay, draw_overlay, ComparisonReport, ImageReport, SummaryRow, VisitParts};
use crate::scan::{load_scan, resolve_calibration, validate_um_per_px, Calibration, CalibrationSource, Scan};

/// A visit's photo identified: its bytes' hash and the calibration to use.
struct Identified {
    sha256: String,
    calibration: Calibration,
}

/// One visit while its subject is processed.
struct Visit<'s> {
    entry: &'s VisitEntry,
    key: VisitKey,
    /// `images/<subject>/<visit>` (no extension), relative to the batch folder.
    stem: String,
    identified: Result<Identified, String>,
    /// The report on disk, if it is what this run would produce.
    done: Option<ImageReport>,
    /// Loaded and analysed in this run (only when needed).
    fresh: Option<Result<(Scan, ImageAnalysis, ImageReport), String>>,
}

impl Visit<'_> {
    fn report(&self) -> Result<&ImageReport, String> {
        match (&self.done, &self.fresh, &self.identified) {
            (Some(report), _, _) => Ok(report),
            (None, Some(Ok((_, _, report))), _) => Ok(report),
            (None, Some(Err(e)), _) | (None, None, Err(e)) => Err(e.clone()),
            (None, None, Ok(_)) => Err("not analysed".to_string()),
        }
    }
}

/// Everything a subject produced.
pub struct SubjectRows {
    /// One per visit.
    pub images: Vec<ImageRow>,
    /// One per later visit.
    pub pairs: Vec<PairRow>,
}

/// Processes `subject`; failures become rows, never errors.
pub fn run_subject(subject: &Subject, ctx: &Run) -> SubjectRows {
    let subject_dir = file_safe(&subject.id);
    let mut visits: Vec<Visit> = subject
        .visits
        .iter()
        .map(|entry| {
            let stem = format!("images/{subject_dir}/{}", file_safe(&entry.visit));
            let identified = identify(entry, ctx);
            let done = identified.as_ref().ok().and_then(|id| {
                let report: ImageReport = read_json(&ctx.out.join(format!("{stem}.json")))?;
                let overlay = ctx.out.join(format!("{stem}.overlay.png"));
                (overlay.is_file()
                    && image_is_done(&report, &id.sha256, &id.calibration, ctx.model, &ctx.settings.analysis))
                .then_some(report)
            });
            Visit {
                key: VisitKey {
                    subject: subject.id.clone(),
                    site: subject.site.clone(),
                    visit: entry.visit.clone(),
                    date: entry.date.clone().unwrap_or_default(),
                },
                entry,
                stem,
                identified,
                done,
                fresh: None,
            }
        })
        .collect();

    let mut pairs: Vec<PairState> = (1..visits.len()).map(|i| PairState::new(&visits, i, ctx)).collect();
    let needed: Vec<bool> = (0..visits.len())
        .map(|i| visits[i].done.is_none() || pairs.iter().any(|p| p.pending() && (i == 0 || i == p.followup)))
        .collect();
    visits.par_iter_mut().zip(needed).for_each(|(visit, needed)| {
        if needed {
            if let Ok(identified) = &visit.identified {
                visit.fresh = Some(guarded(|| {
                    analyse_visit(visit.entry, identified, &visit.stem, visit.done.is_none(), ctx)
                }));
            }
        }
        (ctx.progress)();
    });
    for visit in &visits {
        if let Some(report) = &visit.done {
            if let Ok(identified) = &visit.identified {
                let outputs = image_outputs(ctx.out, &visit.stem);
                let settings = AnalysisSettings {
                    analysis: ctx.settings.analysis.clone(),
                    calibration: identified.calibration.clone(),
                };
                log_if_unrecorded(ctx, &outputs, || {
                    analysis_event(&visit.entry.path, report, &settings, outputs.clone())
                });
            }
        }
    }
    for pair in &mut pairs {
        pair.finish(&visits, ctx);
    }
    let images = visits
        .iter()
        .map(|visit| ImageRow {
            key: visit.key.clone(),
            origin: visit.entry.origin.clone(),
            summary: match visit.report() {
                Ok(report) => SummaryRow::ok(&visit.stem, report),
                Err(reason) => SummaryRow::failed(&visit.entry.path, &visit.stem, &reason),
            },
        })
        .collect();
    SubjectRows {
        images,
        pairs: pairs.into_iter().map(|p| p.row).collect(),
    }
}

/// The photo's hash and calibration: manifest `um_per_px`, else `--um-per-px`, a sidecar or
/// the device profile (as `tricho analyze`).
fn identify(entry: &VisitEntry, ctx: &Run) -> Result<Identified, String> {
    let sha256 = file_sha256(&entry.path).map_err(|e| format!("cannot read {}: {e}", entry.path.display()))?;
    let calibration = match entry.um_per_px {
        Some(value) => Calibration {
            spacing: Some(validate_um_per_px(value, &entry.origin).map_err(|e| e.to_string())?),
            source: CalibrationSource::Manifest {
                path: ctx.manifest_path.to_path_buf(),
                row: entry.origin.clone(),
            },
        },
        None => resolve_calibration(&entry.path, ctx.settings.um_per_px, ctx.device)
            .map_err(|e| format!("cannot calibrate {}: {e}", entry.path.display()))?,
    };
    Ok(Identified { sha256, calibration })
}

/// Loads and analyses a photo; writes its report and overlay (and logs them) when `write`.
fn analyse_visit(
    entry: &VisitEntry,
    identified: &Identified,
    stem: &str,
    write: bool,
    ctx: &Run,
) -> Result<(Scan, ImageAnalysis, ImageReport), String> {
    let started = Instant::now();
    let scan = load_scan(&entry.path, &ctx.settings.analysis.load).map_err(|e| e.to_string())?;
    if scan.sha256 != identified.sha256 {
        return Err(format!("{} changed while the batch was running", entry.path.display()));
    }
    let decode_ms = started.elapsed().as_secs_f64() * 1e3;
    let analysis = (ctx.analyse)(&scan, &identified.calibration).map_err(|e| error_chain(&e))?;
    let report = ImageReport::new(&scan, &analysis, ctx.analysis_provenance(), decode_ms);
    if write {
        let outputs = image_outputs(ctx.out, stem);
        write_json_atomically(&outputs[0], &report)?;
        save_atomically(&outputs[1], |path| {
            draw_overlay(&scan.rgb, &analysis.field, &analysis.hairs).save(path)
        })?;
        let settings = AnalysisSettings {
            analysis: ctx.settings.analysis.clone(),
            calibration: identified.calibration.clone(),
        };
        let event = analysis_event(&entry.path, &report, &settings, outputs).map_err(|e| e.to_string())?;
        ctx.audit.append(event).map_err(|e| e.to_string())?;
    }
    Ok((scan, analysis, report))
}

fn image_outputs(out: &Path, stem: &str) -> Vec<PathBuf> {
    vec![
        out.join(format!("{stem}.json")),
        out.join(format!("{stem}.overlay.png")),
    ]
}

fn pair_outputs(out: &Path, stem: &str) -> Vec<PathBuf> {
    ["json", "overlay.png", "thumb.jpg"]
        .iter()
        .map(|ext| out.join(format!("{stem}.{ext}")))
        .collect()
}

/// A follow-up visit and its comparison with the baseline.
struct PairState {
    followup: usize,
    stem: String,
    interval_days: Option<i64>,
    /// Set once the pair is known done or failed; `None` while it still has to be computed.
    row: PairRow,
    blocked: Option<String>,
    done: Option<ComparisonReport>,
}

impl PairState {
    fn new(visits: &[Visit], followup: usize, ctx: &Run) -> Self {
        let (b, f) = (&visits[0], &visits[followup]);
        let stem = format!("pairs/{}/{}", file_safe(&f.key.subject), file_safe(&f.entry.visit));
        let interval_days = b
            .entry
            .date
            .as_deref()
            .zip(f.entry.date.as_deref())
            .and_then(|(b, f)| crate::compare::response::interval_days(Some(b), Some(f)));
        let blocked = match (&b.identified, &f.identified) {
            (Err(e), _) => Some(format!("baseline {}: {e}", b.entry.visit)),
            (_, Err(e)) => Some(e.clone()),
            (Ok(bi), Ok(fi)) => mixed_calibration(&bi.calibration, &fi.calibration, ctx),
        };
        let done = match (&blocked, &b.identified, &f.identified) {
            (None, Ok(bi), Ok(fi)) => {
                read_json::<ComparisonReport>(&ctx.out.join(format!("{stem}.json"))).filter(|r| {
                    let expected = PairExpectation {
                        baseline: (&bi.sha256, &bi.calibration),
                        followup: (&fi.sha256, &fi.calibration),
                        interval_days,
                    };
                    pair_outputs(ctx.out, &stem).iter().all(|p| p.is_file())
                        && pair_is_done(r, &expected, ctx.model, &ctx.comparison_settings())
                })
            }
            _ => None,
        };
        Self {
            followup,
            row: PairRow {
                key: f.key.clone(),
                baseline_visit: b.entry.visit.clone(),
                status: "error".to_string(),
                error: String::new(),
                comparison_json: String::new(),
                overlay_png: String::new(),
                thumbnail_jpg: String::new(),
                result: None,
            },
            stem,
            interval_days,
            blocked,
            done,
        }
    }

    fn pending(&self) -> bool {
        self.blocked.is_none() && self.done.is_none()
    }

    /// Computes the comparison if needed and fills the row.
    fn finish(&mut self, visits: &[Visit], ctx: &Run) {
        let outputs = pair_outputs(ctx.out, &self.stem);
        let result = match (&self.blocked, self.done.take()) {
            (Some(reason), _) => Err(reason.clone()),
            (None, Some(report)) => {
                let (b, f) = (&visits[0].entry.path, &visits[self.followup].entry.path);
                log_if_unrecorded(ctx, &outputs, || comparison_event(b, f, &report, outputs.clone()));
                Ok(report)
            }
            (None, None) => guarded(|| self.compare(visits, &outputs, ctx)),
        };
        match result {
            Ok(report) => {
                let relative = |i: usize| format!("{}.{}", self.stem, ["json", "overlay.png", "thumb.jpg"][i]);
                self.row.status = "ok".to_string();
                self.row.comparison_json = relative(0);
                self.row.overlay_png = relative(1);
                self.row.thumbnail_jpg = relative(2);
                self.row.result = Some(PairResult::of(&report));
            }
            Err(reason) => self.row.error = reason,
        }
    }

    fn compare(&self, visits: &[Visit], outputs: &[PathBuf], ctx: &Run) -> Result<ComparisonReport, String> {
        let (b, f) = (&visits[0], &visits[self.followup]);
        fn loaded<'v>(v: &'v Visit, what: &str) -> Result<(&'v Scan, &'v ImageAnalysis), String> {
            match &v.fresh {
                Some(Ok((scan, analysis, _))) => Ok((scan, analysis)),
                Some(Err(e)) => Err(format!("{what} {} could not be analysed: {e}", v.entry.visit)),
                None => Err(format!("{what} {} was not analysed", v.entry.visit)),
            }
        }
        let ((b_scan, b_analysis), (f_scan, f_analysis)) = (loaded(b, "baseline")?, loaded(f, "visit")?);
        let started = Instant::now();
        let settings = ctx.comparison_settings();
        let comparison = compare_visits(
            b_analysis,
            f_analysis,
            (&b_scan.rgb, &f_scan.rgb),
            (b_scan.captured_at.as_deref(), f_scan.captured_at.as_deref()),
            self.interval_days,
            &settings.analysis.measure,
            &settings.compare,
        )
        .map_err(|e| {
            format!(
                "cannot compare {} with {}: {e}",
                f.entry.path.display(),
                b.entry.path.display()
            )
        })?;
        let report = ComparisonReport::new(
            VisitParts {
                scan: b_scan,
                analysis: b_analysis,
                analysis_file: format!("{}.json", b.stem),
            },
            VisitParts {
                scan: f_scan,
                analysis: f_analysis,
                analysis_file: format!("{}.json", f.stem),
            },
            &comparison,
            ctx.provenance(settings),
            started.elapsed().as_secs_f64() * 1e3,
        );
        let overlay = draw_comparison_overlay(
            &b_scan.rgb,
            &f_scan.rgb,
            &b_analysis.hairs,
            &f_analysis.hairs,
            &comparison,
        );
        write_json_atomically(&outputs[0], &report)?;
        save_atomically(&outputs[1], |path| overlay.save(path))?;
        let width = ctx.settings.thumbnail_width_px.max(16);
        let height = (overlay.height() as u64 * width as u64 / overlay.width().max(1) as u64).max(1) as u32;
        let thumbnail = image::imageops::resize(&overlay, width, height, FilterType::Triangle);
        save_atomically(&outputs[2], |path| {
            thumbnail.save_with_format(path, image::ImageFormat::Jpeg)
        })?;
        let event =
            comparison_event(&b.entry.path, &f.entry.path, &report, outputs.to_vec()).map_err(|e| e.to_string())?;
        ctx.audit.append(event).map_err(|e| e.to_string())?;
        Ok(report)
    }
}

/// A per-row error when the two visits' calibrations differ (one missing, or scales more than
/// the response's calibration tolerance apart), unless the batch allows it.
fn mixed_calibration(baseline: &Calibration, followup: &Calibration, ctx: &Run) -> Option<String> {
    if ctx.settings.allow_mixed_calibration {
        return None;
    }
    let tolerance = ctx.settings.compare.response.calibration_tolerance;
    let describe = |c: &Calibration| match c.spacing {
        Some(s) => format!("{} µm/px ({})", s.um_per_px, c.source.label()),
        None => "uncalibrated".to_string(),
    };
    let differs = match (baseline.spacing, followup.spacing) {
        (Some(b), Some(f)) => (f.um_per_px / b.um_per_px - 1.0).abs() > tolerance,
        (None, None) => false,
        _ => true,
    };
    differs.then(|| {
        format!(
            "mixed calibrations: baseline {}, this visit {}; fix the manifest or pass --allow-mixed-calibration",
            describe(baseline),
            describe(followup)
        )
    })
}

/// Appends `event()` unless the audit log already records `outputs[0]` as it is on disk (the
/// run that wrote it was interrupted before logging it).
fn log_if_unrecorded(
    ctx: &Run,
    outputs: &[PathBuf],
    event: impl FnOnce() -> Result<AuditEvent, crate::audit::AuditError>,
) {
    let Some(first) = outputs.first() else { return };
    let relative = first.strip_prefix(ctx.out).unwrap_or(first).display().to_string();
    let current = file_sha256(first).ok();
    if current.is_some() && ctx.recorded.get(&relative) == current.as_ref() {
        return;
    }
    if let Err(e) = event().and_then(|event| ctx.audit.append(event)) {
        (ctx.warn)(&format!("cannot record {} in the audit log: {e}", first.display()));
    }
}

/// Writes pretty JSON to `path` through a temporary file and a rename.
pub(super) fn write_json_atomically(path: &Path, value: &impl serde::Serialize) -> Result<(), String> {
    let json = serde_json::to_vec_pretty(value).map_err(|e| format!("cannot serialise {}: {e}", path.display()))?;
    save_atomically(path, |tmp| std::fs::write(tmp, &json))
}

/// Runs `save` on a temporary name beside `path`, then renames it to `path`.
pub(super) fn save_atomically<E: std::fmt::Display>(
    path: &Path,
    save: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), String> {
    let write_error = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", path.display());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| write_error(&e))?;
    }
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_default();
    // the temporary keeps the extension: image encoders choose the format from it
    let tmp = path.with_extension(format!("partial.{extension}"));
    save(&tmp).map_err(|e| write_error(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| write_error(&e))
}

/// `f()`, with a panic turned into an error so that one bad photo cannot stop the batch.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|panic| Err(format!("internal error: {}", panic_message(panic.as_ref()))))
}

/// An error and its causes, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

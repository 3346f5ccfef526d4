//! `tricho audit verify DIR`: checks an output folder's audit log, its files, and re-runs a
//! sample of the recorded analyses with the recorded settings.
//!
//! Exit codes: 0 the log verifies, 1 any finding, 2 invalid arguments or the log cannot be
//! verified at all (no log, unreadable folder, model or ONNX Runtime cannot load).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use tricho::analyze::analyze_scan;
use tricho::audit::{
    image_result_sha256, verify, AnalysisSettings, AuditRecord, EventKind, Rerun, RerunError, RerunOutcome, SampleSize,
    VerifyOptions, VerifyReport, DEFAULT_SAMPLE_SIZE, IMAGE_RESULT_RUN_DEPENDENT,
};
use tricho::report::{ImageReport, Provenance};
use tricho::scan::load_scan;
use tricho::segment::HairModel;

/// Arguments of `tricho audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Verify DIR/audit.jsonl: chain, input and output files, and a re-run of sampled analyses
    /// (with --model, whose sha256 must be the recorded one).
    Verify(VerifyArgs),
}

/// Arguments of `tricho audit verify`.
#[derive(Args, Debug)]
struct VerifyArgs {
    /// Output folder holding audit.jsonl.
    dir: PathBuf,
    /// Analyses to re-run: a number, or `all` (0: integrity checks only).
    #[arg(long, default_value_t = SampleSize::Count(DEFAULT_SAMPLE_SIZE))]
    sample: SampleSize,
    /// Seed of the sampling rule (which records are re-run).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// The model for re-runs.
    #[command(flatten)]
    model: super::ModelFileArgs,
}

/// Runs `tricho audit`; see the module documentation for exit codes.
pub fn run(args: AuditArgs) -> Result<ExitCode> {
    match args.command {
        AuditCommand::Verify(args) => match run_verify(&args) {
            Ok(report) => Ok(if report.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }),
            Err(error) => {
                eprintln!("error: {error:#}");
                Ok(ExitCode::from(2))
            }
        },
    }
}

fn run_verify(args: &VerifyArgs) -> Result<VerifyReport> {
    let mut rerun = ImageRerun {
        files: &args.model,
        model: None,
    };
    let options = VerifyOptions {
        sample: args.sample,
        seed: args.seed,
    };
    let report = verify(&args.dir, &options, &mut rerun)
        .with_context(|| format!("cannot verify the audit log of {}", args.dir.display()))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).context("cannot serialise the report")?
        );
    } else {
        print!("{}", render(&report));
    }
    Ok(report)
}

/// The human report.
fn render(report: &VerifyReport) -> String {
    let mut text = format!("audit log {}: {} records", report.log, report.records);
    if let Some(head) = &report.head {
        text += &format!(", head seq {} hash {}", head.seq, head.hash);
    }
    text += &format!(
        "\nfiles: {} inputs and {} outputs checked ({} output entries superseded by later records)\n",
        report.inputs_checked, report.outputs_checked, report.outputs_superseded
    );
    let rerun = &report.rerun;
    let reproduced = rerun.reruns.iter().filter(|r| r.reproduced).count();
    text += &format!(
        "re-run: {} of {} eligible analyses ({}): {reproduced} reproduced exactly\n",
        rerun.reruns.len(),
        rerun.eligible,
        rerun.rule
    );
    if !rerun.run_dependent_fields.is_empty() {
        text += &format!(
            "        (result hashes leave out run-dependent fields: {})\n",
            rerun.run_dependent_fields.join(", ")
        );
    }
    for check in &rerun.reruns {
        let verdict = match (&check.rerun_result_sha256, check.reproduced) {
            (_, true) => "reproduced",
            (Some(_), false) => "NOT reproduced",
            (None, false) => "could not re-run",
        };
        text += &format!("  seq {}: {}: {verdict}\n", check.seq, check.path);
    }
    if report.is_clean() {
        text += "OK: no findings\n";
    } else {
        text += &format!("{} finding(s):\n", report.findings.len());
        for finding in &report.findings {
            text += &format!("  {finding}\n");
        }
        text += "FAILED\n";
    }
    text
}

/// Re-runs `analysis` records with the model, loaded on first use.
struct ImageRerun<'a> {
    files: &'a super::ModelFileArgs,
    model: Option<HairModel>,
}

impl ImageRerun<'_> {
    fn model(&mut self) -> Result<&mut HairModel, RerunError> {
        if self.model.is_none() {
            let path = self.files.path()?;
            self.model = Some(HairModel::load(&path, self.files.ort_dylib.as_deref())?);
        }
        self.model.as_mut().ok_or_else(|| "model not loaded".into())
    }
}

impl Rerun for ImageRerun<'_> {
    fn can_rerun(&self, record: &AuditRecord) -> bool {
        record.event == EventKind::Analysis
    }

    fn rerun(&mut self, record: &AuditRecord) -> Result<RerunOutcome, RerunError> {
        let cannot = |reason: String| Ok(RerunOutcome::CannotRerun { reason });
        let settings: AnalysisSettings = match serde_json::from_value(record.settings.clone()) {
            Ok(settings) => settings,
            Err(e) => return cannot(format!("settings are not those of an analysis: {e}")),
        };
        let Some(input) = record.inputs.first() else {
            return cannot("the record names no input image".into());
        };
        let model = self.model()?;
        if record.model_sha256.as_deref() != Some(model.sha256()) {
            return cannot(format!(
                "recorded with model sha256 {}, but {} has sha256 {} (pass the recorded model with --model)",
                record.model_sha256.as_deref().unwrap_or("(none)"),
                model.path().display(),
                model.sha256()
            ));
        }
        let scan = match load_scan(Path::new(&input.path), &settings.analysis.load) {
            Ok(scan) => scan,
            Err(e) => return cannot(format!("{e:#}")),
        };
        let analysis = match analyze_scan(model, &scan, &settings.calibration, &settings.analysis) {
            Ok(analysis) => analysis,
            Err(e) => return cannot(format!("{e:#}")),
        };
        let report = ImageReport::new(&scan, &analysis, Provenance::new(model, settings.analysis), 0.0);
        Ok(RerunOutcome::Result {
            result_sha256: image_result_sha256(&report)?,
        })
    }

    fn run_dependent_fields(&self) -> Vec<String> {
        IMAGE_RESULT_RUN_DEPENDENT.iter().map(|s| s.to_string()).collect()
    }
}

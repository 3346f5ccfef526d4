//! The batch's view of `report.html`: which numbers of the cohort and which rows go on the
//! page ([`crate::report::CohortPage`] does the drawing).

use std::path::PathBuf;

use super::outputs::BatchSummary;
use super::rows::PairRow;
use crate::cohort::Cohort;
use crate::report::{
    ChangeRow, ChangeTable, CohortPage, FailureRow, PageCounts, PairCard, ResponderRow, Waterfall, WaterfallBar,
    WidthHistogram,
};

/// The page for `summary` and its `cohort`; `thumbnail` finds a pair's overlay thumbnail.
pub fn page(summary: &BatchSummary, cohort: &Cohort, thumbnail: &dyn Fn(&PairRow) -> Option<PathBuf>) -> CohortPage {
    let provenance = &summary.provenance;
    let whole = summary.shards.iter().map(|s| s.count).max() == Some(summary.shards.len());
    let shards: Vec<String> = summary.shards.iter().map(ToString::to_string).collect();
    let failed_images = summary.images.iter().filter(|r| r.summary.status != "ok").count();
    let failed_pairs = summary.pairs.iter().filter(|p| p.status != "ok").count();
    let all_sites = || cohort.groups.iter().filter(|g| g.site.is_none());
    CohortPage {
        title: format!("tricho cohort report — {}", summary.manifest.path),
        generated: format!(
            "{} {} · model {} {} (sha256 {}) · manifest sha256 {}",
            provenance.tool,
            provenance.tool_version,
            provenance.model.name,
            provenance.model.version,
            provenance.model.sha256,
            if summary.manifest.sha256.is_empty() {
                "— (folder layout)"
            } else {
                &summary.manifest.sha256
            },
        ),
        scope_note: (!whole).then(|| format!("partial cohort: shard(s) {} only", shards.join(", "))),
        counts: PageCounts {
            subjects: summary.subjects,
            images_ok: summary.images.len() - failed_images,
            images_failed: failed_images + summary.issues.len(),
            pairs_ok: summary.pairs.len() - failed_pairs,
            pairs_failed: failed_pairs,
        },
        change_tables: cohort
            .groups
            .iter()
            .map(|g| ChangeTable {
                visit: g.visit.clone(),
                site: g.site.clone(),
                rows: g
                    .changes
                    .iter()
                    .map(|c| ChangeRow {
                        measure: c.label.clone(),
                        n: c.n,
                        mean: c.mean,
                        sd: c.sd,
                        median: c.median,
                        t_test_p: c.t_test_p,
                        wilcoxon_p: c.wilcoxon_p,
                    })
                    .collect(),
            })
            .collect(),
        responders: cohort
            .groups
            .iter()
            .map(|g| ResponderRow {
                visit: g.visit.clone(),
                site: g.site.clone(),
                responders: g.responders.responders,
                n: g.responders.n,
                rate: g.responders.rate,
                ci95_lower: g.responders.ci95_lower,
                ci95_upper: g.responders.ci95_upper,
                definition: cohort.responder_definition.clone(),
            })
            .collect(),
        width_histograms: all_sites()
            .map(|g| WidthHistogram {
                visit: g.visit.clone(),
                bin_lower_um: g.width_histogram.bin_lower_um.clone(),
                bin_width_um: provenance.settings.analysis.measure.width_histogram_bin_um,
                baseline_counts: g.width_histogram.baseline_counts.clone(),
                followup_counts: g.width_histogram.followup_counts.clone(),
            })
            .collect(),
        waterfalls: all_sites()
            .map(|g| Waterfall {
                visit: g.visit.clone(),
                measure: "density change (%)".to_string(),
                bars: summary
                    .pairs
                    .iter()
                    .filter(|p| p.key.visit == g.visit)
                    .filter_map(|p| {
                        let result = p.result.as_ref()?;
                        Some(WaterfallBar {
                            subject: p.key.subject.clone(),
                            site: p.key.site.clone(),
                            value: result.change.density_pct?,
                            category: result.category.clone(),
                        })
                    })
                    .collect(),
                threshold_pct: Some(provenance.settings.compare.response.repeatability_density_pct),
            })
            .collect(),
        pairs: summary
            .pairs
            .iter()
            .filter_map(|p| {
                let result = p.result.as_ref()?;
                Some(PairCard {
                    subject: p.key.subject.clone(),
                    site: p.key.site.clone(),
                    visit: p.key.visit.clone(),
                    baseline_visit: p.baseline_visit.clone(),
                    interval_days: result.interval_days,
                    density_change_pct: result.change.density_pct,
                    mean_width_change_um: result.change.mean_width_um,
                    category: result.category.clone(),
                    flags: result.flags.clone(),
                    overlay_jpeg: thumbnail(p).and_then(|path| std::fs::read(path).ok()),
                    comparison_json: p.comparison_json.clone(),
                })
            })
            .collect(),
        failures: failures(summary),
    }
}

fn failures(summary: &BatchSummary) -> Vec<FailureRow> {
    let issues = summary.issues.iter().map(|i| FailureRow {
        subject: i.subject.clone(),
        visit: i.visit.clone(),
        what: format!("manifest row {}", i.origin),
        path: i.path.clone(),
        reason: i.reason.clone(),
    });
    let images = summary
        .images
        .iter()
        .filter(|r| r.summary.status != "ok")
        .map(|r| FailureRow {
            subject: r.key.subject.clone(),
            visit: r.key.visit.clone(),
            what: "image".to_string(),
            path: r.summary.path.clone(),
            reason: r.summary.error.clone(),
        });
    let pairs = summary.pairs.iter().filter(|p| p.status != "ok").map(|p| FailureRow {
        subject: p.key.subject.clone(),
        visit: format!("{} vs {}", p.key.visit, p.baseline_visit),
        what: "pair".to_string(),
        path: String::new(),
        reason: p.error.clone(),
    });
    issues.chain(images).chain(pairs).collect()
}

use super::*;
use crate::batch::rows::{FieldSummary, VisitKey};
use crate::compare::response::Change;
use crate::measure::WidthBin;

fn field(count: usize, bins: &[(f64, usize)]) -> FieldSummary {
    FieldSummary {
        count,
        density_per_cm2: Some(count as f64 * 10.0),
        non_vellus_density_per_cm2: None,
        mean_width_um: Some(60.0),
        width_histogram: Some(
            bins.iter()
                .map(|&(lower_um, count)| WidthBin {
                    lower_um,
                    upper_um: Some(lower_um + 10.0),
                    count,
                })
                .collect(),
        ),
    }
}

fn pair(subject: &str, site: &str, visit: &str, density_pct: Option<f64>, category: &str) -> PairRow {
    PairRow {
        key: VisitKey {
            subject: subject.into(),
            site: site.into(),
            visit: visit.into(),
            date: String::new(),
        },
        baseline_visit: "baseline".into(),
        status: "ok".into(),
        error: String::new(),
        comparison_json: String::new(),
        overlay_png: String::new(),
        thumbnail_jpg: String::new(),
        result: Some(PairResult {
            interval_days: Some(90),
            registration_confidence: 0.8,
            overlap_fraction: 0.9,
            persisting: 10,
            new: 1,
            lost: 1,
            baseline: field(10, &[(50.0, 4), (60.0, 6)]),
            followup: field(11, &[(60.0, 5), (70.0, 6)]),
            change: Change {
                count: 1,
                density_pct,
                ..Change::default()
            },
            non_vellus_density_change_per_cm2: None,
            non_vellus_density_change_pct: None,
            category: category.into(),
            repeatability_density_pct: 10.0,
            flags: vec![],
        }),
    }
}

#[test]
fn groups_by_visit_then_site_and_leaves_undetermined_and_failed_pairs_out_of_the_statistics() {
    let mut failed = pair("E", "b", "week12", None, "improved");
    failed.status = "error".into();
    failed.result = None;
    let pairs = vec![
        pair("A", "a", "week12", Some(20.0), "improved"),
        pair("B", "a", "week12", Some(-15.0), "worsened"),
        pair("C", "b", "week12", Some(30.0), "marked_improvement"),
        pair("D", "b", "week12", Some(90.0), "undetermined"),
        failed,
        pair("A", "a", "week4", Some(5.0), "no_detectable_change"),
    ];
    let cohort = summarise(&pairs, 5, ResponderRule::Category);
    let labels: Vec<(&str, Option<&str>)> = cohort
        .groups
        .iter()
        .map(|g| (g.visit.as_str(), g.site.as_deref()))
        .collect();
    assert_eq!(
        labels,
        [
            ("week4", None),
            ("week12", None),
            ("week12", Some("a")),
            ("week12", Some("b"))
        ]
    );
    let all = &cohort.groups[1];
    assert_eq!(
        (
            all.pairs_compared,
            all.pairs_failed,
            all.pairs_undetermined,
            all.pairs_evaluable
        ),
        (4, 1, 1, 3)
    );
    let density = all.changes.iter().find(|c| c.measure == "density_change_pct").unwrap();
    assert_eq!(density.n, 3);
    assert!((density.mean.unwrap() - 35.0 / 3.0).abs() < 1e-12);
    assert_eq!(density.median, Some(20.0));
    assert!(density.t_test_p.unwrap() > 0.05 && density.wilcoxon_p.is_some());
    assert_eq!((all.responders.responders, all.responders.n), (2, 3));
    let (lo, hi) = (all.responders.ci95_lower.unwrap(), all.responders.ci95_upper.unwrap());
    assert!(lo < 2.0 / 3.0 && 2.0 / 3.0 < hi, "{lo} {hi}");
    // three evaluable pairs pooled: 12 baseline hairs at 50 µm, 18 follow-up at 70 µm
    assert_eq!(all.width_histogram.bin_lower_um, [50.0, 60.0, 70.0]);
    assert_eq!(all.width_histogram.baseline_counts, [12, 18, 0]);
    assert_eq!(all.width_histogram.followup_counts, [0, 15, 18]);
    // the density change is not calibrated in these rows: no per-cm² statistics
    let per_cm2 = all
        .changes
        .iter()
        .find(|c| c.measure == "density_change_per_cm2")
        .unwrap();
    assert_eq!((per_cm2.n, per_cm2.mean, per_cm2.t_test_p), (0, None, None));
}

#[test]
fn a_threshold_rule_counts_responders_by_density_change() {
    let pairs = vec![
        pair("A", "", "v1", Some(20.0), "no_detectable_change"),
        pair("B", "", "v1", Some(9.0), "improved"),
    ];
    let cohort = summarise(&pairs, 2, ResponderRule::MinDensityChangePct { pct: 10.0 });
    assert_eq!(cohort.groups.len(), 1, "one site: no per-site groups");
    assert_eq!(cohort.groups[0].responders.responders, 1);
    assert!(cohort.responder_definition.contains("≥ 10 %"));
}

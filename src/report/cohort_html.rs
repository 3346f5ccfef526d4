//! The cohort report a trial monitor opens offline: one self-contained HTML file (inline CSS, inline SVG plots,
//! thumbnails as `data:` URIs, no scripts and no external URL) that summarises a trial cohort's change tables,
//! responder rates, shaft-width histograms, per-subject waterfalls, pair cards and failures.

use std::collections::BTreeSet;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Everything the cohort page shows, already computed; rendering adds no statistics.
#[derive(Debug, Clone)]
pub struct CohortPage {
    /// Page heading and `<title>`, e.g. "tricho cohort report — trial-x".
    pub title: String,
    /// One line of provenance: tool version, model sha256, date (already formatted).
    pub generated: String,
    /// Restriction of what the page covers, e.g. "shard 2/4 only"; shown as a banner when present.
    pub scope_note: Option<String>,
    /// How many subjects, images and pairs went in and how many failed.
    pub counts: PageCounts,
    /// Change-from-baseline statistics, one table per visit and site.
    pub change_tables: Vec<ChangeTable>,
    /// Responder rates, one row per visit, site and definition.
    pub responders: Vec<ResponderRow>,
    /// Pooled shaft-width histograms, one per visit.
    pub width_histograms: Vec<WidthHistogram>,
    /// Per-subject change plots, one per visit and measure.
    pub waterfalls: Vec<Waterfall>,
    /// One card per compared pair.
    pub pairs: Vec<PairCard>,
    /// Images and pairs that could not be analysed.
    pub failures: Vec<FailureRow>,
}

/// Sizes of the cohort (all counts are numbers of items).
#[derive(Debug, Clone)]
pub struct PageCounts {
    /// Distinct subjects seen.
    pub subjects: usize,
    /// Images analysed successfully.
    pub images_ok: usize,
    /// Images whose analysis failed.
    pub images_failed: usize,
    /// Baseline/follow-up pairs compared successfully.
    pub pairs_ok: usize,
    /// Pairs whose comparison failed.
    pub pairs_failed: usize,
}

/// Change-from-baseline statistics of one visit at one site (or all sites).
#[derive(Debug, Clone)]
pub struct ChangeTable {
    /// Follow-up visit label, e.g. "month-4".
    pub visit: String,
    /// Scalp site; `None` means pooled over all sites.
    pub site: Option<String>,
    /// One row per measure.
    pub rows: Vec<ChangeRow>,
}

/// Summary of one measure's change; mean, SD and median are in the measure's own unit.
#[derive(Debug, Clone)]
pub struct ChangeRow {
    /// Measure name with its unit, e.g. "density change (hairs/cm²)".
    pub measure: String,
    /// Number of pairs contributing.
    pub n: usize,
    /// Mean change, in the measure's unit.
    pub mean: Option<f64>,
    /// Standard deviation of the change, in the measure's unit.
    pub sd: Option<f64>,
    /// Median change, in the measure's unit.
    pub median: Option<f64>,
    /// Two-sided one-sample t-test p-value (0–1).
    pub t_test_p: Option<f64>,
    /// Two-sided Wilcoxon signed-rank p-value (0–1).
    pub wilcoxon_p: Option<f64>,
}

/// Responder rate of one visit at one site (or all sites) under one definition.
#[derive(Debug, Clone)]
pub struct ResponderRow {
    /// Follow-up visit label.
    pub visit: String,
    /// Scalp site; `None` means pooled over all sites.
    pub site: Option<String>,
    /// Number of pairs meeting the definition.
    pub responders: usize,
    /// Number of pairs assessed.
    pub n: usize,
    /// Responder fraction (0–1).
    pub rate: Option<f64>,
    /// Lower bound of the 95 % confidence interval of the rate (0–1).
    pub ci95_lower: Option<f64>,
    /// Upper bound of the 95 % confidence interval of the rate (0–1).
    pub ci95_upper: Option<f64>,
    /// Human-readable responder definition, e.g. "density change ≥ +10 %".
    pub definition: String,
}

/// Shaft-width histogram pooled over all pairs of one visit; bins are aligned across the three vectors.
#[derive(Debug, Clone)]
pub struct WidthHistogram {
    /// Follow-up visit label.
    pub visit: String,
    /// Lower edge of each bin, in µm; the last bin is open-ended.
    pub bin_lower_um: Vec<f64>,
    /// Width of each closed bin, in µm.
    pub bin_width_um: f64,
    /// Hairs per bin at baseline (count).
    pub baseline_counts: Vec<u64>,
    /// Hairs per bin at follow-up (count).
    pub followup_counts: Vec<u64>,
}

/// Per-subject change of one measure at one visit.
#[derive(Debug, Clone)]
pub struct Waterfall {
    /// Follow-up visit label.
    pub visit: String,
    /// Measure name with its unit, e.g. "density change (%)".
    pub measure: String,
    /// One bar per subject and site, in any order (the plot sorts them).
    pub bars: Vec<WaterfallBar>,
    /// Half-width of the no-change band, in the measure's unit (e.g. the repeatability); drawn as ± dashed lines.
    pub threshold_pct: Option<f64>,
}

/// One subject/site bar of a waterfall.
#[derive(Debug, Clone)]
pub struct WaterfallBar {
    /// Subject id.
    pub subject: String,
    /// Scalp site.
    pub site: String,
    /// Change, in the waterfall's measure unit; non-finite values are not drawn.
    pub value: f64,
    /// Response category, e.g. "improved", "no_detectable_change", "worsened", "undetermined".
    pub category: String,
}

/// Summary card of one baseline/follow-up pair.
#[derive(Debug, Clone)]
pub struct PairCard {
    /// Subject id.
    pub subject: String,
    /// Scalp site.
    pub site: String,
    /// Follow-up visit label.
    pub visit: String,
    /// Baseline visit label.
    pub baseline_visit: String,
    /// Days between baseline and follow-up.
    pub interval_days: Option<i64>,
    /// Density change, in % of baseline.
    pub density_change_pct: Option<f64>,
    /// Mean shaft-width change, in µm.
    pub mean_width_change_um: Option<f64>,
    /// Response category, e.g. "improved".
    pub category: String,
    /// Quality or comparison flags raised for this pair.
    pub flags: Vec<String>,
    /// Small JPEG thumbnail of the comparison overlay, embedded as a `data:` URI.
    pub overlay_jpeg: Option<Vec<u8>>,
    /// Path of the pair's `comparison.json`, relative to the report.
    pub comparison_json: String,
}

/// One image or pair that failed.
#[derive(Debug, Clone)]
pub struct FailureRow {
    /// Subject id.
    pub subject: String,
    /// Visit label.
    pub visit: String,
    /// What failed: "image" or "pair".
    pub what: String,
    /// Input path of the failed item.
    pub path: String,
    /// Why it failed.
    pub reason: String,
}

const DASH: &str = "—";
const CSS: &str = "\
body{font:14px/1.45 system-ui,sans-serif;color:#222;max-width:1100px;margin:24px auto;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}\
h3{margin:8px 0 4px}.generated{color:#666;font-size:12px;margin:0}\
.scope{background:#fff3cd;border:2px solid #e0a800;padding:8px 12px;font-weight:600}nav a{margin-right:12px}\
table{border-collapse:collapse;margin:8px 0 18px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\
th{background:#f3f3f3}.text{text-align:left}td.text{overflow-wrap:anywhere}\
caption{text-align:left;font-weight:600;padding:4px 0}.bad{color:#b00020;font-weight:600}\
.nodata{color:#777;font-style:italic}svg{display:block;max-width:100%;height:auto;font-size:11px}\
.legend span{margin-right:16px}\
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}\
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px}\
.card{border:1px solid #ccc;border-radius:6px;padding:8px}\
.card img,.noimg{display:block;width:100%;aspect-ratio:4/3;object-fit:cover;\
background:#eee;color:#777;text-align:center}\
.card dl{display:grid;grid-template-columns:7.5em minmax(0,1fr);gap:2px 8px;margin:0}.card dt{color:#666}\
.card dd{margin:0;overflow-wrap:anywhere}.badge{white-space:nowrap;padding:1px 7px;border-radius:9px;color:#fff}\
.flag{display:inline-block;background:#fde2e2;padding:0 4px;margin:0 4px 2px 0;border-radius:3px}";

/// Renders the whole cohort page as one self-contained HTML document; the same input gives the same bytes.
pub fn render_cohort_html(page: &CohortPage) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (page.title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                h1 { (page.title) }
                p.generated { (page.generated) }
                @if let Some(note) = &page.scope_note { p.scope { "Scope: " (note) } }
                nav {
                    a href="#changes" { "Change" } a href="#responders" { "Responders" } a href="#widths" { "Widths" }
                    a href="#waterfalls" { "Waterfalls" } a href="#pairs" { "Pairs" } a href="#failures" { "Failures" }
                }
                (counts_table(&page.counts))
                h2 #changes { "Change from baseline" }
                @for table in &page.change_tables { (change_table(table)) }
                @if page.change_tables.is_empty() { p.nodata { "No change statistics." } }
                h2 #responders { "Responders" }
                (responder_table(&page.responders))
                h2 #widths { "Shaft-width distribution" }
                @for hist in &page.width_histograms {
                    h3 { "Visit " (hist.visit) " — baseline vs follow-up, pooled over pairs" }
                    (histogram_svg(hist))
                }
                @if page.width_histograms.is_empty() { p.nodata { "No width histograms." } }
                h2 #waterfalls { "Per-subject change" }
                @for waterfall in &page.waterfalls {
                    h3 { "Visit " (waterfall.visit) " — " (waterfall.measure) }
                    (waterfall_svg(waterfall))
                }
                @if page.waterfalls.is_empty() { p.nodata { "No waterfall plots." } }
                h2 #pairs { "Pairs (" (page.pairs.len()) ")" }
                @if page.pairs.is_empty() { p.nodata { "No pairs." } }
                @else { div.cards { @for pair in &page.pairs { (pair_card(pair)) } } }
                h2 #failures { "Failures (" (page.failures.len()) ")" }
                (failure_table(&page.failures))
            }
        }
    }
    .into_string()
}

fn counts_table(c: &PageCounts) -> Markup {
    let failed = |n: usize| html! { td class=[(n > 0).then_some("bad")] { (n) } };
    html! {
        table {
            tr {
                th { "Subjects" } th { "Images analysed" } th { "Images failed" }
                th { "Pairs compared" } th { "Pairs failed" }
            }
            tr {
                td { (c.subjects) } td { (c.images_ok) } (failed(c.images_failed))
                td { (c.pairs_ok) } (failed(c.pairs_failed))
            }
        }
    }
}

fn change_table(t: &ChangeTable) -> Markup {
    html! {
        table {
            caption { "Visit " (t.visit) " — " (site_label(t.site.as_deref())) }
            tr {
                th.text { "Measure (unit)" } th { "n (pairs)" } th { "Mean (unit)" } th { "SD (unit)" }
                th { "Median (unit)" } th { "t-test p" } th { "Wilcoxon p" }
            }
            @for r in &t.rows {
                tr {
                    td.text { (r.measure) } td { (r.n) } td { (signed(r.mean, 2)) } td { (number(r.sd, 2)) }
                    td { (signed(r.median, 2)) } td { (p_value(r.t_test_p)) } td { (p_value(r.wilcoxon_p)) }
                }
            }
        }
    }
}

fn responder_table(rows: &[ResponderRow]) -> Markup {
    let pct = |v: Option<f64>| number(v.map(|r| r * 100.0), 1);
    html! {
        @if rows.is_empty() { p.nodata { "No responder analysis." } }
        @else {
            table {
                tr {
                    th.text { "Visit" } th.text { "Site" } th.text { "Definition" } th { "Responders / n (pairs)" }
                    th { "Rate (%)" } th { "95 % CI (%)" }
                }
                @for r in rows {
                    tr {
                        td.text { (r.visit) } td.text { (site_label(r.site.as_deref())) } td.text { (r.definition) }
                        td { (r.responders) " / " (r.n) } td { (pct(r.rate)) }
                        td { (pct(r.ci95_lower)) " – " (pct(r.ci95_upper)) }
                    }
                }
            }
        }
    }
}

fn failure_table(rows: &[FailureRow]) -> Markup {
    html! {
        @if rows.is_empty() { p.nodata { "No failures." } }
        @else {
            table {
                tr {
                    th.text { "Subject" } th.text { "Visit" } th.text { "What" } th.text { "Path" } th.text { "Reason" }
                }
                @for r in rows {
                    tr {
                        td.text { (r.subject) } td.text { (r.visit) } td.text { (r.what) }
                        td.text { code { (r.path) } } td.text { (r.reason) }
                    }
                }
            }
        }
    }
}

fn pair_card(p: &PairCard) -> Markup {
    html! {
        div.card {
            @if let Some(jpeg) = &p.overlay_jpeg {
                img src={ "data:image/jpeg;base64," (BASE64.encode(jpeg)) } alt={ "overlay " (p.subject) " " (p.site) };
            } @else { div.noimg { "no overlay" } }
            h3 { (p.subject) " · " (p.site) }
            dl {
                dt { "Visit" } dd { (p.visit) " vs " (p.baseline_visit) }
                dt { "Interval (days)" } dd { (p.interval_days.map_or_else(|| DASH.to_string(), |d| d.to_string())) }
                dt { "Density change (%)" } dd { (signed(p.density_change_pct, 1)) }
                dt { "Mean width change (µm)" } dd { (signed(p.mean_width_change_um, 2)) }
                dt { "Category" } dd {
                    span.badge style={ "background:" (category_colour(&p.category)) } { (label(&p.category)) }
                }
                dt { "Flags" } dd {
                    @for flag in &p.flags { span.flag { (flag) } }
                    @if p.flags.is_empty() { "none" }
                }
                dt { "Comparison" } dd {
                    @if is_relative(&p.comparison_json) { a href=(p.comparison_json) { code { (p.comparison_json) } } }
                    @else { code { (p.comparison_json) } }
                }
            }
        }
    }
}

/// A path may be linked only when it cannot leave the report's folder tree for another scheme or host.
fn is_relative(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.starts_with('\\') && !path.contains(':')
}

fn site_label(site: Option<&str>) -> &str {
    site.unwrap_or("all sites")
}

fn label(category: &str) -> String {
    category.replace('_', " ")
}

fn category_colour(category: &str) -> &'static str {
    match category {
        "improved" => "#1b7837",
        "worsened" => "#c51b7d",
        "no_detectable_change" => "#878787",
        _ => "#d9a520",
    }
}

fn number(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| DASH.to_string(), |x| format!("{x:.decimals$}"))
}

fn signed(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| DASH.to_string(), |x| format!("{x:+.decimals$}"))
}

fn p_value(p: Option<f64>) -> String {
    match p.filter(|p| (0.0..=1.0).contains(p)) {
        Some(p) if p < 0.001 => "< 0.001".to_string(),
        Some(p) => format!("{p:.3}"),
        None => DASH.to_string(),
    }
}

const WIDTH: f64 = 760.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 40.0;
const TOP: f64 = 14.0;
const BASELINE_FILL: &str = "#9ecae1";
const FOLLOWUP_FILL: &str = "#08519c";

/// Linear map from data range `lo..hi` to pixel range `p0..p1`, rounded to 0.1 px.
#[derive(Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    p0: f64,
    p1: f64,
}

impl Scale {
    fn at(self, v: f64) -> f64 {
        round1(self.p0 + (v - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0))
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Round tick values (1, 2 or 5 × 10ⁿ apart) inside `lo..=hi`, with their labels; needs finite `lo < hi`.
fn ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| raw <= *s)
        .unwrap_or(10.0 * magnitude);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let (first, last) = ((lo / step).ceil() as i64, (hi / step).floor() as i64);
    (first..=last)
        .map(|k| k as f64 * step)
        .map(|v| (v, format!("{v:.decimals$}")))
        .collect()
}

fn y_axis(y: Scale, title: &str) -> Markup {
    let middle = round1((y.p0 + y.p1) / 2.0);
    html! {
        @for (v, text) in ticks(y.lo, y.hi) {
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y.at(v)) y2=(y.at(v)) stroke="#e4e4e4" {}
            text x=(LEFT - 6.0) y=(y.at(v) + 4.0) text-anchor="end" { (text) }
        }
        line x1=(LEFT) x2=(LEFT) y1=(y.p0) y2=(y.p1) stroke="#333" {}
        text transform={ "translate(16 " (middle) ") rotate(-90)" } text-anchor="middle" { (title) }
    }
}

fn legend(entries: &[(&str, String)]) -> Markup {
    html! {
        p.legend { @for (colour, name) in entries { span { span.swatch style={ "background:" (colour) } {} (name) } } }
    }
}

fn no_data() -> Markup {
    html! { p.nodata { "no data" } }
}

fn histogram_svg(h: &WidthHistogram) -> Markup {
    let count = |counts: &[u64], i: usize| counts.get(i).copied().unwrap_or(0);
    let bins: Vec<(f64, u64, u64)> = h
        .bin_lower_um
        .iter()
        .enumerate()
        .filter(|(_, lower)| lower.is_finite())
        .map(|(i, &lower)| (lower, count(&h.baseline_counts, i), count(&h.followup_counts, i)))
        .collect();
    let max = bins
        .iter()
        .map(|&(_, base, follow)| base.max(follow))
        .max()
        .unwrap_or(0);
    if max == 0 {
        return no_data();
    }
    let height = 300.0;
    let y = Scale {
        lo: 0.0,
        hi: max as f64 * 1.05,
        p0: height - 50.0,
        p1: TOP,
    };
    let slot = (WIDTH - LEFT - RIGHT) / bins.len() as f64;
    let label_every = bins.len().div_ceil(16);
    let bin_width = if h.bin_width_um.is_finite() {
        number(Some(h.bin_width_um), 1)
    } else {
        DASH.to_string()
    };
    html! {
        svg viewBox={ "0 0 " (WIDTH) " " (height) } width=(WIDTH) height=(height) role="img"
            aria-label={ "shaft width histogram, visit " (h.visit) } {
            (y_axis(y, "hairs (count)"))
            @for (i, &(lower, base, follow)) in bins.iter().enumerate() {
                @let x = LEFT + slot * i as f64;
                @let upper = lower + h.bin_width_um;
                @let range = if i + 1 < bins.len() && upper.is_finite() {
                    format!("{}–{} µm", round1(lower), round1(upper))
                } else {
                    format!("≥ {} µm", round1(lower))
                };
                @for (offset, n, fill, name) in
                    [(0.1, base, BASELINE_FILL, "baseline"), (0.5, follow, FOLLOWUP_FILL, "follow-up")] {
                    rect x=(round1(x + slot * offset)) y=(y.at(n as f64)) width=(round1(slot * 0.4))
                        height=(round1(y.p0 - y.at(n as f64))) fill=(fill) {
                        title { (range) ": " (name) " " (n) " hairs" }
                    }
                }
                @if i % label_every == 0 {
                    text x=(round1(x + slot / 2.0)) y=(y.p0 + 15.0) text-anchor="middle" {
                        @if i + 1 == bins.len() { "≥" } (round1(lower))
                    }
                }
            }
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y.p0) y2=(y.p0) stroke="#333" {}
            text x=(round1((LEFT + WIDTH - RIGHT) / 2.0)) y=(height - 10.0) text-anchor="middle" {
                "shaft width (µm), bin lower edge; bins " (bin_width) " µm wide, last bin open-ended"
            }
        }
        (legend(&[(BASELINE_FILL, "baseline".to_string()), (FOLLOWUP_FILL, "follow-up".to_string())]))
    }
}

/// Finite bars sorted by value, highest first; ties broken by subject then site so the order is deterministic.
fn sorted_bars(bars: &[WaterfallBar]) -> Vec<&WaterfallBar> {
    let mut sorted: Vec<&WaterfallBar> = bars.iter().filter(|b| b.value.is_finite()).collect();
    sorted.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then_with(|| (&a.subject, &a.site).cmp(&(&b.subject, &b.site)))
    });
    sorted
}

fn waterfall_svg(w: &Waterfall) -> Markup {
    let bars = sorted_bars(&w.bars);
    let (Some(first), Some(last)) = (bars.first(), bars.last()) else {
        return no_data();
    };
    let threshold = w.threshold_pct.map(f64::abs).filter(|t| t.is_finite() && *t > 0.0);
    let band = threshold.unwrap_or(0.0);
    let (lo, hi) = (last.value.min(0.0).min(-band), first.value.max(0.0).max(band));
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 1.0 };
    if !(hi - lo + 2.0 * pad).is_finite() {
        return no_data();
    }
    let labelled = bars.len() <= 40;
    let height = if labelled { 380.0 } else { 300.0 };
    let y = Scale {
        lo: lo - pad,
        hi: hi + pad,
        p0: height - if labelled { 110.0 } else { 20.0 },
        p1: TOP,
    };
    let slot = (WIDTH - LEFT - RIGHT) / bars.len() as f64;
    let categories: BTreeSet<&str> = bars.iter().map(|b| b.category.as_str()).collect();
    html! {
        svg viewBox={ "0 0 " (WIDTH) " " (height) } width=(WIDTH) height=(height) role="img"
            aria-label={ "waterfall of " (w.measure) ", visit " (w.visit) } {
            (y_axis(y, &w.measure))
            @for (i, bar) in bars.iter().enumerate() {
                @let x = LEFT + slot * i as f64;
                @let (top, bottom) = (y.at(bar.value.max(0.0)), y.at(bar.value.min(0.0)));
                rect x=(round1(x + slot * 0.1)) y=(top) width=(round1(slot * 0.8)) height=(round1(bottom - top))
                    fill=(category_colour(&bar.category)) {
                    title {
                        (bar.subject) " · " (bar.site) ": " (signed(Some(bar.value), 1))
                        " (" (label(&bar.category)) ")"
                    }
                }
                @if labelled {
                    text transform={ "translate(" (round1(x + slot / 2.0 + 4.0)) " " (y.p0 + 8.0) ") rotate(-60)" }
                        text-anchor="end" { (bar.subject) " " (bar.site) }
                }
            }
            line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y.at(0.0)) y2=(y.at(0.0)) stroke="#333" {}
            @if let Some(t) = threshold {
                @for v in [t, -t] {
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y.at(v)) y2=(y.at(v)) stroke="#555" stroke-dasharray="6 4" {}
                    text x=(WIDTH - RIGHT + 4.0) y=(y.at(v) + 4.0) { (format!("{v:+}")) }
                }
            }
        }
        (legend(&categories.iter().map(|c| (category_colour(c), label(c))).collect::<Vec<_>>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_page() -> CohortPage {
        let counts = PageCounts {
            subjects: 0,
            images_ok: 0,
            images_failed: 0,
            pairs_ok: 0,
            pairs_failed: 0,
        };
        CohortPage {
            title: "tricho cohort report — empty".into(),
            generated: "tricho 0.1.0".into(),
            scope_note: None,
            counts,
            change_tables: vec![],
            responders: vec![],
            width_histograms: vec![],
            waterfalls: vec![],
            pairs: vec![],
            failures: vec![],
        }
    }

    fn waterfall(bars: Vec<WaterfallBar>, threshold_pct: Option<f64>) -> Waterfall {
        Waterfall {
            visit: "m4".into(),
            measure: "density change (%)".into(),
            bars,
            threshold_pct,
        }
    }

    fn histogram(bin_lower_um: Vec<f64>, baseline_counts: Vec<u64>, followup_counts: Vec<u64>) -> WidthHistogram {
        WidthHistogram {
            visit: "m4".into(),
            bin_lower_um,
            bin_width_um: 10.0,
            baseline_counts,
            followup_counts,
        }
    }

    fn bar(subject: &str, value: f64, category: &str) -> WaterfallBar {
        WaterfallBar {
            subject: subject.into(),
            site: "vertex".into(),
            value,
            category: category.into(),
        }
    }

    fn pair(subject: &str, jpeg: Option<Vec<u8>>) -> PairCard {
        PairCard {
            subject: subject.into(),
            site: "vertex".into(),
            visit: "m4".into(),
            baseline_visit: "m0".into(),
            interval_days: Some(121),
            density_change_pct: Some(12.5),
            mean_width_change_um: None,
            category: "improved".into(),
            flags: vec!["low_overlap".into()],
            overlay_jpeg: jpeg,
            comparison_json: "pairs/s01/comparison.json".into(),
        }
    }

    fn sample_page() -> CohortPage {
        let row = |measure: &str, p: f64| ChangeRow {
            measure: measure.into(),
            n: 12,
            mean: Some(4.2),
            sd: Some(1.5),
            median: None,
            t_test_p: Some(p),
            wilcoxon_p: Some(f64::NAN),
        };
        CohortPage {
            scope_note: Some("shard 2/4 only".into()),
            counts: PageCounts {
                subjects: 12,
                images_ok: 47,
                images_failed: 1,
                pairs_ok: 23,
                pairs_failed: 1,
            },
            change_tables: vec![ChangeTable {
                visit: "m4".into(),
                site: None,
                rows: vec![
                    row("density change (hairs/cm²)", 0.0002),
                    row("mean width change (µm)", 0.0412),
                ],
            }],
            responders: vec![ResponderRow {
                visit: "m4".into(),
                site: Some("vertex".into()),
                responders: 7,
                n: 12,
                rate: Some(7.0 / 12.0),
                ci95_lower: Some(0.32),
                ci95_upper: Some(0.81),
                definition: "density change ≥ +10 %".into(),
            }],
            width_histograms: vec![histogram(
                vec![20.0, 30.0, 40.0, 50.0],
                vec![40, 120, 90, 10],
                vec![30, 110, 130, 25],
            )],
            waterfalls: vec![waterfall(
                vec![
                    bar("s01", 14.0, "improved"),
                    bar("s02", -9.0, "worsened"),
                    bar("s03", 2.0, "undetermined"),
                ],
                Some(5.0),
            )],
            pairs: vec![
                pair("s01", Some(vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])),
                pair("s02", None),
            ],
            failures: vec![FailureRow {
                subject: "s09".into(),
                visit: "m0".into(),
                what: "image".into(),
                path: "images/s09/m0.png".into(),
                reason: "out of focus".into(),
            }],
            ..empty_page()
        }
    }

    fn svgs(html: &str) -> Vec<&str> {
        html.split("<svg")
            .skip(1)
            .filter_map(|rest| rest.split("</svg>").next())
            .collect()
    }

    #[test]
    fn user_text_is_escaped() {
        let mut page = sample_page();
        page.pairs = vec![pair("<script>alert(1)</script>&co", None)];
        page.failures[0].reason = "decoder said <script> & gave up".into();
        page.waterfalls[0].bars = vec![bar("<script>x</script>", 1.0, "improved")];
        let html = render_cohort_html(&page);
        assert!(!html.contains("<script"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;co"));
        assert!(html.contains("decoder said &lt;script&gt; &amp; gave up"));
    }

    #[test]
    fn full_page_has_no_external_url_and_is_deterministic() {
        let html = render_cohort_html(&sample_page());
        assert!(!html.contains("http://") && !html.contains("https://"), "{html}");
        assert!(html.contains("shard 2/4 only") && html.contains("&lt; 0.001") && html.contains("0.041"));
        assert!(html.contains("58.3") && html.contains("32.0 – 81.0"));
        assert_eq!(html, render_cohort_html(&sample_page()));
    }

    #[test]
    fn thumbnail_is_a_data_uri() {
        let html = render_cohort_html(&sample_page());
        assert!(html.contains(&format!(
            "src=\"data:image/jpeg;base64,{}\"",
            BASE64.encode([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3])
        )));
        assert!(html.contains("no overlay"));
    }

    #[test]
    fn empty_page_renders() {
        let html = render_cohort_html(&empty_page());
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>"));
        assert!(html.contains("No pairs.") && html.contains("No failures.") && !html.contains("<svg"));
    }

    #[test]
    fn degenerate_plots_show_no_data() {
        let mut page = empty_page();
        page.width_histograms = vec![histogram(vec![20.0, 30.0], vec![0, 0], vec![])];
        page.waterfalls = vec![
            waterfall(vec![], None),
            waterfall(
                vec![bar("big", f64::MAX, "improved"), bar("small", f64::MIN, "worsened")],
                None,
            ),
            waterfall(vec![bar("one", 0.0, "no_detectable_change")], None),
        ];
        let html = render_cohort_html(&page);
        assert_eq!(html.matches("no data").count(), 3);
        assert_eq!(svgs(&html).len(), 1);
    }

    #[test]
    fn non_finite_values_never_reach_svg_coordinates() {
        let mut page = sample_page();
        page.width_histograms[0].bin_lower_um[1] = f64::NAN;
        page.width_histograms[0].bin_width_um = f64::INFINITY;
        page.waterfalls[0].threshold_pct = Some(f64::NAN);
        page.waterfalls[0].bars.extend([
            bar("nan", f64::NAN, "improved"),
            bar("inf", f64::NEG_INFINITY, "worsened"),
        ]);
        let html = render_cohort_html(&page);
        let plots = svgs(&html);
        assert_eq!(plots.len(), 2);
        for svg in plots {
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }

    #[test]
    fn waterfall_sorts_descending() {
        let bars = vec![
            bar("s-one", 1.0, "improved"),
            bar("s-five", 5.0, "improved"),
            bar("s-minus", -3.0, "worsened"),
        ];
        let svg = waterfall_svg(&waterfall(bars, None)).into_string();
        let at = |s: &str| svg.find(&format!("<title>{s} ")).unwrap_or(usize::MAX);
        assert!(at("s-five") < at("s-one") && at("s-one") < at("s-minus") && at("s-minus") < usize::MAX);
    }
}

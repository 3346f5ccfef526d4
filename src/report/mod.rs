//! Output formats: the per-image JSON, the per-pair comparison JSON and side-by-side overlay, the folder's `summary.csv`, the overlay PNG, the
//! cohort's HTML report and the provenance every result carries. Only this module knows how results are written.

mod cohort_html;
mod comparison_overlay;
mod comparison_report;
mod image_report;
mod overlay;
mod provenance;
mod summary_csv;

pub use cohort_html::{
    render_cohort_html, ChangeRow, ChangeTable, CohortPage, FailureRow, PageCounts, PairCard, ResponderRow, Waterfall,
    WaterfallBar, WidthHistogram,
};
pub use comparison_overlay::{draw_comparison_overlay, LOST_COLOUR, NEW_COLOUR, OTHER_COLOUR};
pub use comparison_report::{
    CommonFieldMetrics, ComparisonReport, ComparisonSettings, ComparisonTimings, IntervalRecord, MatchingRecord,
    RegistrationRecord, VisitParts, VisitRecord, COMPARISON_REPORT_KIND, COMPARISON_REPORT_SCHEMA_VERSION,
};
pub use image_report::{
    FieldRecord, ImageReport, InputRecord, TimingsRecord, IMAGE_REPORT_KIND, IMAGE_REPORT_SCHEMA_VERSION,
};
pub use overlay::{
    draw_overlay, hair_colour, INTERMEDIATE_COLOUR, NOT_COUNTED_COLOUR, TERMINAL_COLOUR, UNCLASSIFIED_COLOUR,
    VELLUS_COLOUR,
};
pub use provenance::{ModelRecord, Provenance, TOOL_NAME};
pub use summary_csv::{write_summary_csv, SummaryError, SummaryRow};

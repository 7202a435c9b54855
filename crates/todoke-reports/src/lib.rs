//! Surveillance statistics (DOMAIN.md §5): the eleven standard indicators,
//! the small-cell rule with secondary suppression, the input rate (入力率)
//! and the data-quality lists.
//!
//! Pure: no I/O, no clock (callers pass `today` and the date range), no UI.
//! Indicators are computed from [`ReportRow`]s, a compact per-case row that
//! a desk builds with [`ReportRow::from_case`] and a server may fill from
//! indexed columns. Every result is a [`Table`] (JSON via serde, CSV via
//! [`Table::to_csv`]), with ISO dates.
//!
//! ```
//! use todoke_reports::{compute, Indicator, ReportOptions, ReportRow};
//!
//! let cases = vec![todoke_synth::sample_case(1)];
//! let rows: Vec<ReportRow> = cases.iter().filter_map(ReportRow::from_case).collect();
//! let table = compute(Indicator::NewPositives, &rows, &[], &ReportOptions::default());
//! assert_eq!(table.title_ja, "新規陽性者数の推移");
//! ```

mod error;
mod indicators;
pub mod input_rate;
pub mod period;
pub mod quality;
mod row;
pub mod suppression;
mod table;
pub mod wide;

pub use error::ReportError;
pub use indicators::{compute, compute_all, Breakdown, Indicator, ReportOptions};
pub use input_rate::{
    input_rate, input_rate_report, lag_reasons, lag_table, parse_published, read_published, InputRateOptions, InputRateReport, LagIssue,
    LagReason, PublishedCount, PublishedRowError,
};
pub use period::Granularity;
pub use quality::{quality_table, QualityChecker, QualityIssue, QualityList, QualityOptions};
pub use row::{Area, ReportRow};
pub use table::{Cell, Column, HeaderLang, Table};
pub use wide::{open_data_wide, OpenDataFile};

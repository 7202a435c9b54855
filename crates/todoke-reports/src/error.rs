//! What can go wrong in a report: only bad input (published counts that do
//! not parse, an indicator name nobody knows).

/// A report that cannot be made, with the reason in Japanese and English.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// A line of published counts (`date,area,count`) that does not read.
    #[error("published counts, line {line}: {message_en} / 公表数 {line}行目: {message_ja}")]
    PublishedLine { line: u64, message_ja: String, message_en: String },
    /// An indicator name that is not one of [`crate::Indicator::ALL`].
    #[error("unknown report \"{0}\" / 不明な集計「{0}」")]
    UnknownIndicator(String),
    /// An indicator the ministry did not publish in the wide daily layout.
    #[error("\"{0}\" has no open-data wide layout (new-positives, positives-cumulative, severe-trend, deaths-cumulative, number_of_deaths_daily) / 「{0}」はオープンデータの横持ち形式がありません")]
    NoWideLayout(String),
}

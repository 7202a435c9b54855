//! Errors that stop an import or an export as a whole. Problems with single
//! rows are not errors: they are listed in the `ImportReport`.

use std::io;

/// Why a whole file could not be read or written. Each variant has a stable
/// `code()` and a message in Japanese and English; do not match the text.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// Reading or writing failed (disk, pipe, network share).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The file has no header line.
    #[error("the file is empty")]
    Empty,
    /// The header lacks columns the format requires: not a patient list, or
    /// not this format.
    #[error("not an open-data patient list (陽性患者属性): missing column(s) {}", missing.join(", "))]
    NotOpenData {
        missing: Vec<&'static str>,
        /// The header as read (at most 50 names), to show the user what was found.
        found: Vec<String>,
    },
    /// The header line itself is unreadable (too long, unterminated quote).
    #[error("the header line cannot be read: {reason_en}")]
    BadHeader { reason_ja: &'static str, reason_en: &'static str },
    /// The receiver of imported cases refused one; the import stopped at this line.
    #[error("import stopped at line {line}: {source}")]
    Sink {
        line: u64,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl ExchangeError {
    /// Stable code for callers and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            ExchangeError::Io(_) => "io",
            ExchangeError::Empty => "empty_file",
            ExchangeError::NotOpenData { .. } => "not_open_data",
            ExchangeError::BadHeader { .. } => "bad_header",
            ExchangeError::Sink { .. } => "sink",
        }
    }

    pub fn message_ja(&self) -> String {
        match self {
            ExchangeError::Io(e) => format!("ファイルの読み書きに失敗しました: {e}"),
            ExchangeError::Empty => "ファイルが空です（ヘッダー行がありません）。".into(),
            ExchangeError::NotOpenData { missing, .. } => {
                format!("陽性患者属性のオープンデータではありません。必要な列がありません: {}", missing.join("、"))
            }
            ExchangeError::BadHeader { reason_ja, .. } => format!("ヘッダー行を読めません: {reason_ja}"),
            ExchangeError::Sink { line, source } => format!("{line}行目で取込を中止しました: {source}"),
        }
    }

    pub fn message_en(&self) -> String {
        match self {
            ExchangeError::Io(e) => format!("Reading or writing the file failed: {e}"),
            ExchangeError::Empty => "The file is empty (no header line).".into(),
            ExchangeError::NotOpenData { missing, .. } => {
                format!("Not an open-data patient list (陽性患者属性): missing column(s) {}", missing.join(", "))
            }
            ExchangeError::BadHeader { reason_en, .. } => format!("The header line cannot be read: {reason_en}"),
            ExchangeError::Sink { line, source } => format!("Import stopped at line {line}: {source}"),
        }
    }
}

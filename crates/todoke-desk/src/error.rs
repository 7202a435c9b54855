//! One error type for every desk action, shaped for people: a stable code
//! callers can match on, and a message in Japanese and English.

use serde::Serialize;
use todoke_domain::validate::Problem;

/// Stable codes; callers match these, never message strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    NotFound,
    NotInitialised,
    /// The desktop session locked itself (inactivity) or was locked: unlock first.
    Locked,
    AlreadyInitialised,
    WrongKey,
    Keyring,
    BadInput,
    Io,
    Storage,
    /// The server could not be reached; changes stay queued.
    Offline,
    /// Sign in to the server again.
    SignInNeeded,
    /// The server refused a sync request as a whole.
    SyncRefused,
    /// A sync is already running on this desk: this one was not started.
    SyncBusy,
}

#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message_en}")]
pub struct DeskError {
    pub code: ErrorCode,
    pub message_ja: String,
    pub message_en: String,
    /// Every problem found, for `Invalid`.
    pub problems: Vec<Problem>,
}

impl DeskError {
    pub fn new(code: ErrorCode, ja: impl Into<String>, en: impl Into<String>) -> Self {
        DeskError { code, message_ja: ja.into(), message_en: en.into(), problems: Vec::new() }
    }

    pub fn invalid(problems: Vec<Problem>) -> Self {
        let n = problems.len();
        DeskError {
            code: ErrorCode::Invalid,
            message_ja: format!("入力に{n}件の問題があります。保存していません。"),
            message_en: format!("{n} problem(s) in the input. Nothing was saved."),
            problems,
        }
    }

    pub fn not_found(id: &str) -> Self {
        Self::new(
            ErrorCode::NotFound,
            format!("症例 {id} は見つかりません。IDを確認してください。"),
            format!("No case {id} on this desk. Check the ID."),
        )
    }

    /// The desk is locked (after inactivity, or by the user): its database is closed
    /// and its key out of memory until it is unlocked.
    pub fn locked() -> Self {
        Self::new(
            ErrorCode::Locked,
            "窓口はロックされています。「ロック解除」を押してから、もう一度操作してください。",
            "The desk is locked. Press Unlock, then try again.",
        )
    }

    /// Another sync of this desk is running (the app never runs two at once).
    pub fn busy_syncing() -> Self {
        Self::new(ErrorCode::SyncBusy, "同期中です。終わるまでお待ちください。", "A sync is already running. Wait until it finishes.")
    }

    pub fn bad_input(ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadInput, ja, en)
    }

    pub fn io(what: &str, e: std::io::Error) -> Self {
        Self::new(
            ErrorCode::Io,
            format!("{what} を読み書きできません: {e}"),
            format!("Cannot read or write {what}: {e}"),
        )
    }
}

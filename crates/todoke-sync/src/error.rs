//! Sync errors as people read them: what happened and what to do, in
//! Japanese and English, with a stable code.

use serde::Serialize;
use todoke_store::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncErrorKind {
    /// The server could not be reached (or kept failing): nothing is lost,
    /// the changes stay queued.
    Offline,
    /// Not signed in, or the sign-in expired or was revoked: sign in again.
    SignInNeeded,
    /// The server refused the request as a whole.
    Refused,
    /// The desk's own database failed.
    Store,
    /// Fault injection (simulation only): the desk "crashed" mid-apply.
    Crashed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncError {
    pub kind: SyncErrorKind,
    pub code: String,
    pub message_ja: String,
    pub message_en: String,
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message_en, self.code)
    }
}

impl std::error::Error for SyncError {}

impl SyncError {
    pub fn new(kind: SyncErrorKind, code: &str, ja: impl Into<String>, en: impl Into<String>) -> SyncError {
        SyncError { kind, code: code.into(), message_ja: ja.into(), message_en: en.into() }
    }

    pub fn offline(detail: &str) -> SyncError {
        SyncError::new(
            SyncErrorKind::Offline,
            "offline",
            format!("サーバーに接続できませんでした（{detail}）。変更はこの端末に保存されたままです。回線を確認して、後でもう一度同期してください。"),
            format!("Could not reach the server ({detail}). Your changes are kept on this desk; check the connection and sync again later."),
        )
    }

    pub fn sign_in_needed() -> SyncError {
        SyncError::new(
            SyncErrorKind::SignInNeeded,
            "sign_in_needed",
            "サインインが必要です（未サインイン、期限切れ、または端末の無効化）。todoke-cli login でサインインし直してください。変更は失われていません。",
            "Sign-in needed (not signed in, expired, or this device was disabled). Sign in again (todoke-cli login); nothing was lost.",
        )
    }

    pub fn refused(code: &str, ja: &str, en: &str) -> SyncError {
        SyncError::new(
            SyncErrorKind::Refused,
            code,
            format!("サーバーが要求を受け付けませんでした: {ja}"),
            format!("The server refused the request: {en}"),
        )
    }

    pub fn crashed() -> SyncError {
        SyncError::new(SyncErrorKind::Crashed, "crashed", "（試験）適用中に停止しました。", "(test) stopped while applying a page.")
    }
}

impl From<StoreError> for SyncError {
    fn from(e: StoreError) -> SyncError {
        SyncError::new(
            SyncErrorKind::Store,
            e.code(),
            format!("この端末のデータベースで問題が起きました: {}", e.message_ja()),
            format!("The desk's database failed: {e}"),
        )
    }
}

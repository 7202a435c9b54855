//! The store's one error type. Callers match on variants (never on text);
//! `code()` gives a stable code for the UI and `message_ja()` the Japanese words.

use std::path::PathBuf;

use todoke_domain::diff::DiffError;

use crate::keys::KeyError;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder holds no desk (no `desk.json` or no `desk.db`).
    #[error("no desk in {dir}: create one first (todoke init)")]
    NotInitialised { dir: PathBuf },
    /// `init` on a folder that already holds a desk.
    #[error("a desk already exists in {dir}")]
    AlreadyInitialised { dir: PathBuf },
    /// The key does not open the database, or the file is damaged.
    #[error("wrong key or damaged desk database")]
    WrongKey,
    /// The database was written by a newer Todoke.
    #[error("the desk database has schema version {found}, newer than this program supports ({supported}); update Todoke")]
    TooNew { found: i64, supported: i64 },
    /// No key could be had (keyring locked or failing, bad env var).
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id} already exists")]
    AlreadyExists { what: &'static str, id: String },
    /// The case changed since the version the edit started from, in the same fields.
    #[error("case {id} was changed meanwhile in: {}", fields.join(", "))]
    EditConflict { id: String, fields: Vec<String> },
    /// The input cannot be stored as given (e.g. a nil id).
    #[error("invalid input: {0}")]
    Validation(String),
    /// A stored record cannot be read back (a bug or a damaged database).
    #[error("stored {what} {id} cannot be read: {message}")]
    Corrupt { what: &'static str, id: String, message: String },
    /// The desk folder or `desk.json` could not be read or written.
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error(transparent)]
    Diff(#[from] DiffError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl StoreError {
    /// A stable code for the UI and for exit codes.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::NotInitialised { .. } => "not_initialised",
            StoreError::AlreadyInitialised { .. } => "already_initialised",
            StoreError::WrongKey => "wrong_key",
            StoreError::TooNew { .. } => "too_new",
            StoreError::Key(KeyError::KeyringTimeout { .. }) => "keyring_timeout",
            StoreError::Key(_) => "keyring",
            StoreError::NotFound { .. } => "not_found",
            StoreError::AlreadyExists { .. } => "already_exists",
            StoreError::EditConflict { .. } => "edit_conflict",
            StoreError::Validation(_) => "validation",
            StoreError::Corrupt { .. } => "corrupt",
            StoreError::Io { .. } => "io",
            StoreError::Diff(_) => "diff",
            StoreError::Sqlite(_) => "sqlite",
        }
    }

    /// What happened and what to do, in Japanese.
    pub fn message_ja(&self) -> String {
        match self {
            StoreError::NotInitialised { dir } => {
                format!("{} にデスクがありません。先にデスクを作成してください（todoke init）。", dir.display())
            }
            StoreError::AlreadyInitialised { dir } => format!("{} には既にデスクがあります。", dir.display()),
            StoreError::WrongKey => "鍵が違うか、デスクのデータベースが壊れています。".into(),
            StoreError::TooNew { found, supported } => format!(
                "デスクのデータベース（版{found}）はこのプログラム（版{supported}まで対応）より新しい版で作られています。Todoke を更新してください。"
            ),
            StoreError::Key(k) => k.message_ja(),
            StoreError::NotFound { what, id } => format!("{}「{id}」が見つかりません。", what_ja(what)),
            StoreError::AlreadyExists { what, id } => format!("{}「{id}」は既にあります。", what_ja(what)),
            StoreError::EditConflict { fields, .. } => format!(
                "編集中に同じ項目が変更されました（{}）。最新の内容を開き直して、もう一度入力してください。",
                fields.join("、")
            ),
            StoreError::Validation(m) => format!("保存できない内容です: {m}"),
            StoreError::Corrupt { what, id, message } => {
                format!("保存済みの{}「{id}」を読めません（{message}）。", what_ja(what))
            }
            StoreError::Io { path, message } => format!("{} を読み書きできません: {message}", path.display()),
            StoreError::Diff(e) => format!("変更を当てはめられません: {e}"),
            StoreError::Sqlite(e) => format!("データベースの処理に失敗しました: {e}"),
        }
    }
}

fn what_ja(what: &str) -> &str {
    match what {
        "case" => "症例",
        "observation" => "健康観察",
        "cluster" => "集団感染",
        "operation" => "送信待ちの変更",
        _ => what,
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

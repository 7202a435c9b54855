//! One error for every handler: `{code, message_ja, message_en}`, never an internal detail.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use todoke_protocol::ErrorBody;

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("sign-in refused")]
    BadCredentials,
    #[error("account locked")]
    Locked,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// Bad input: which field, which rule.
    #[error("invalid {field}: {rule}")]
    Invalid { field: String, rule: String, message_ja: String, message_en: String },
    #[error("busy")]
    Busy,
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            // No connection came free in time: overload, answered like the concurrency limit.
            DbError::Pool(_) => ApiError::Busy,
            e => ApiError::Internal(e.to_string()),
        }
    }
}

impl ApiError {
    pub fn invalid(field: &str, rule: &str, message_ja: impl Into<String>, message_en: impl Into<String>) -> ApiError {
        ApiError::Invalid { field: field.into(), rule: rule.into(), message_ja: message_ja.into(), message_en: message_en.into() }
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    fn parts(&self) -> (StatusCode, &'static str, String, String) {
        match self {
            ApiError::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "サインインが必要です。もう一度サインインしてください。".into(),
                "Sign-in required. Please sign in again.".into(),
            ),
            ApiError::BadCredentials => (
                StatusCode::UNAUTHORIZED,
                "bad_credentials",
                "ID、パスワードまたはワンタイムパスワードが正しくありません。".into(),
                "The ID, password or one-time password is not correct.".into(),
            ),
            ApiError::Locked => (
                StatusCode::FORBIDDEN,
                "account_locked",
                "失敗が続いたためアカウントがロックされました。管理者に解除を依頼してください。".into(),
                "The account is locked after repeated failures. Ask an administrator to unlock it.".into(),
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "この操作またはこの記録へのアクセス権限がありません。".into(),
                "You are not allowed to do this or to see this record.".into(),
            ),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found", "見つかりません。".into(), "Not found.".into()),
            ApiError::Invalid { field, rule, message_ja, message_en } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{field}: {message_ja} ({rule})"),
                format!("{field}: {message_en} ({rule})"),
            ),
            ApiError::Busy => (
                StatusCode::TOO_MANY_REQUESTS,
                "busy",
                "サーバーが混み合っています。しばらくして自動的に再送します。".into(),
                "The server is busy. The request will be retried shortly.".into(),
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "サーバー内部のエラーです。データは失われていません。しばらくして再試行してください。".into(),
                "Internal server error. Nothing was lost; please retry later.".into(),
            ),
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (_, code, message_ja, message_en) = self.parts();
        ErrorBody { code: code.into(), message_ja, message_en }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let (status, ..) = self.parts();
        let mut response = (status, Json(self.body())).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

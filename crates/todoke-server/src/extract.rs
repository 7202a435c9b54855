//! Request bodies and query strings whose refusals, like every other error,
//! are `{code, message_ja, message_en}` naming the field and the rule (R3).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON body.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Body<T>, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(match &rejection {
                JsonRejection::JsonDataError(_) => ApiError::invalid(
                    "body",
                    "schema",
                    format!("項目の型または値が正しくありません: {}", rejection.body_text()),
                    format!("A field has the wrong type or value: {}", rejection.body_text()),
                ),
                JsonRejection::JsonSyntaxError(_) => ApiError::invalid(
                    "body",
                    "json",
                    "JSONとして読めません。",
                    format!("The body is not valid JSON: {}", rejection.body_text()),
                ),
                JsonRejection::MissingJsonContentType(_) => ApiError::invalid(
                    "content-type",
                    "application/json",
                    "Content-Type は application/json にしてください。",
                    "Content-Type must be application/json.",
                ),
                _ => ApiError::invalid(
                    "body",
                    "size",
                    "本文を読めません(大きすぎる可能性があります)。分割して送ってください。",
                    "The body could not be read (it may be too large); send it in smaller batches.",
                ),
            }),
        }
    }
}

/// A query string.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Params<T>, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(rejection) => Err(ApiError::invalid(
                "query",
                "schema",
                format!("クエリの値が正しくありません: {}", rejection.body_text()),
                format!("A query parameter is not valid: {}", rejection.body_text()),
            )),
        }
    }
}

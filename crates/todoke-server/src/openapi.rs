//! GET /api/openapi.json — the API description, kept by hand beside the code;
//! a test checks it names every route of [`crate::ROUTES`] and nothing else.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::AppState;

pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response() }))
}

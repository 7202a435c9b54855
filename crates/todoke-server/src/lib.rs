//! The central server (中央サーバー): staff sign-in, jurisdiction, audit log
//! and the sync API over one database (SQLite or PostgreSQL).
//!
//! [`app`] builds the whole HTTP surface; each resource module has its own
//! `router()`. Handlers translate HTTP ⇄ calls; rules live in `scope`,
//! `audit`, `credentials` and `sync`.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod cli;
pub mod conflicts;
pub mod credentials;
pub mod db;
pub mod demo;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod openapi;
pub mod reports;
pub mod schema;
pub mod scope;
pub mod scratch_pg;
pub mod stat;
pub mod sync;
pub mod transport;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

pub use db::Db;
pub use error::ApiError;

/// The time, injectable so tests can expire tokens and step TOTP codes.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub clock: Clock,
    /// Requests served at once; beyond it, 429 with Retry-After.
    pub limiter: Arc<Semaphore>,
    /// Push batches take turns here before they take a database connection:
    /// they are single writers anyway (`Tx::lock_writers`), and waiting here
    /// keeps the connection pool free for sign-ins and pulls.
    pub writer_turn: Arc<tokio::sync::Mutex<()>>,
    /// Storage calls under way at once (the connection pool's size): the rest
    /// wait here, as tasks, not on blocking threads (which would leave none
    /// for the call that holds the writer's turn).
    pub db_slots: Arc<Semaphore>,
    /// Pushes admitted (running or waiting for their turn); beyond
    /// [`MAX_QUEUED_PUSHES`] a push is answered 429 at once rather than held
    /// (its body in memory) behind the writer.
    pub push_queue: Arc<Semaphore>,
    /// Pushes prepared and waiting for the writer, taken in groups (`ingest`).
    pub pending: Arc<ingest::Pending>,
}

pub const MAX_QUEUED_PUSHES: usize = 64;

/// Access tokens live 15 minutes; refresh tokens 30 days, bound to one device.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_SECS: i64 = 30 * 24 * 3600;
/// Failed sign-ins before an account locks.
pub const MAX_FAILURES: i64 = 5;
pub const DEFAULT_CONCURRENCY: usize = 256;

impl AppState {
    pub fn new(db: Db) -> AppState {
        AppState {
            db,
            clock: Arc::new(Utc::now),
            limiter: Arc::new(Semaphore::new(DEFAULT_CONCURRENCY)),
            writer_turn: Arc::new(tokio::sync::Mutex::new(())),
            db_slots: Arc::new(Semaphore::new(db::POOL_SIZE as usize)),
            push_queue: Arc::new(Semaphore::new(MAX_QUEUED_PUSHES)),
            pending: Arc::new(ingest::Pending::default()),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Runs storage work on a blocking thread (the store is synchronous).
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce(&Db) -> Result<T, ApiError> + Send + 'static) -> Result<T, ApiError> {
        let _slot = self.db_slots.acquire().await.map_err(ApiError::internal)?;
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db)).await.map_err(ApiError::internal)?
    }
}

/// Every route: (method, path as in the OpenAPI description).
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/api/openapi.json"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/refresh"),
    ("post", "/api/auth/logout"),
    ("get", "/api/cases/{id}"),
    ("get", "/api/stats/cases"),
    ("get", "/api/reports/{name}"),
    ("post", "/api/sync/push"),
    ("get", "/api/sync/pull"),
    ("get", "/api/conflicts"),
];

pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::router())
        .merge(cases::router())
        .merge(reports::router())
        .merge(sync::router())
        .merge(conflicts::router())
        .route_layer(middleware::from_fn_with_state(state.clone(), overload));
    Router::new().route("/healthz", get(|| async { "ok" })).merge(openapi::router()).merge(api).with_state(state)
}

/// A concurrency limit that answers 429 + Retry-After instead of queueing:
/// desks back off with jitter (SYNC.md property 7).
async fn overload(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match state.limiter.clone().try_acquire_owned() {
        Ok(_permit) => next.run(req).await,
        Err(_) => ApiError::Busy.into_response(),
    }
}

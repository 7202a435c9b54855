//! Test harness: the same API suite against SQLite and a real PostgreSQL
//! (initdb into a temp dir, pg_ctl start on a free loopback port, stopped by
//! a watchdog when the test process exits). PostgreSQL missing → the
//! PostgreSQL tests FAIL with a message; nothing is skipped silently.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use todoke_server::credentials::totp_now;
use todoke_server::scratch_pg::ScratchCluster;
use todoke_server::{accounts, demo, AppState, Db};
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

static CLUSTER: OnceLock<Result<ScratchCluster, String>> = OnceLock::new();

pub fn cluster() -> &'static ScratchCluster {
    match CLUSTER.get_or_init(ScratchCluster::start) {
        Ok(c) => c,
        Err(e) => panic!("PostgreSQL tests cannot run — this is a failure, not a skip: {e}"),
    }
}

/// A fresh, empty database address (blocking: call from a blocking thread).
fn fresh_url(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("server.db");
            (path.to_string_lossy().into_owned(), Some(dir))
        }
        Backend::Postgres => (cluster().create_database().expect("a database in the test cluster"), None),
    }
}

pub struct TestApp {
    pub backend: Backend,
    pub state: AppState,
    pub url: String,
    pub router: Router,
    /// Seconds since the epoch, as the server's clock reads it.
    pub time: Arc<AtomicI64>,
    pub passwords: std::collections::HashMap<String, (String, String)>,
    _dir: Option<tempfile::TempDir>,
}

pub const PASSWORD: &str = "correct horse battery";

/// Organisations beyond the demo: another prefecture with its own centre and clinic.
const EXTRA_ORGS: &[(&str, &str, &str, Option<&str>)] = &[
    ("prefecture", "P98", "隣県", Some("JP")),
    ("health-centre", "HC9801", "隣県保健所", Some("P98")),
    ("clinic", "CL980001", "隣県クリニック", Some("HC9801")),
    ("clinic", "CL990002", "デモ県第二クリニック", Some("HC9902")),
];
const EXTRA_USERS: &[(&str, &str, &str)] =
    &[("hc98", "HC9801", "staff"), ("clinic98", "CL980001", "staff"), ("ken98", "P98", "staff"), ("chuo-viewer", "HC9901", "viewer")];

impl TestApp {
    pub async fn new(backend: Backend) -> TestApp {
        let (url, dir, db, passwords) = tokio::task::spawn_blocking(move || {
            let (url, dir) = fresh_url(backend);
            let db = Db::open(&url).expect("open the database");
            let mut passwords = std::collections::HashMap::new();
            for u in demo::seed(&db).expect("seed") {
                passwords.insert(u.login.clone(), (u.password, u.totp_secret));
            }
            for (kind, code, name, parent) in EXTRA_ORGS {
                accounts::create_org(&db, kind, code, name, *parent).unwrap();
            }
            for (login, org, role) in EXTRA_USERS {
                let secret = accounts::create_user(&db, org, role, login, PASSWORD).unwrap();
                passwords.insert(login.to_string(), (PASSWORD.to_string(), secret));
            }
            (url, dir, db, passwords)
        })
        .await
        .unwrap();
        let time = Arc::new(AtomicI64::new(1_800_000_000));
        let t = time.clone();
        let mut state = AppState::new(db);
        state.clock = Arc::new(move || DateTime::<Utc>::from_timestamp(t.load(Ordering::SeqCst), 0).unwrap());
        let router = todoke_server::app(state.clone());
        TestApp { backend, state, url, router, time, passwords, _dir: dir }
    }

    pub fn advance(&self, secs: i64) {
        self.time.fetch_add(secs, Ordering::SeqCst);
    }

    pub fn now(&self) -> i64 {
        self.time.load(Ordering::SeqCst)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value, HeaderMap) {
        call_router(&self.router, method, path, token, body).await
    }

    /// Another server on the same database (its own connections, its own
    /// in-process queues), as a second server process would be.
    pub async fn second_server(&self) -> Router {
        let url = self.url.clone();
        let db = tokio::task::spawn_blocking(move || Db::open(&url).expect("open the database again")).await.unwrap();
        let mut state = AppState::new(db);
        state.clock = self.state.clock.clone();
        todoke_server::app(state)
    }

    /// The current OTP of a user (the clock moves one step first, since a code is accepted once).
    pub fn otp(&self, login: &str) -> String {
        self.advance(30);
        totp_now(&self.passwords[login].1, self.now())
    }

    pub async fn try_login(&self, login: &str, device: &str) -> (StatusCode, Value) {
        let otp = self.otp(login);
        let password = self.passwords[login].0.clone();
        let (s, v, _) = self
            .call(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"login": login, "password": password, "otp": otp, "device_id": device})),
            )
            .await;
        (s, v)
    }

    /// Signs in; returns the access token.
    pub async fn login(&self, login: &str) -> String {
        let (s, v) = self.try_login(login, &format!("desk-{login}")).await;
        assert_eq!(s, StatusCode::OK, "login {login}: {v}");
        v["access_token"].as_str().unwrap().to_string()
    }

    pub async fn push(&self, token: &str, ops: Vec<Value>) -> (StatusCode, Value) {
        let (s, v, _) = self.call(Method::POST, "/api/sync/push", Some(token), Some(json!({"desk_id": "d", "ops": ops}))).await;
        (s, v)
    }

    /// Runs blocking storage work (PostgreSQL's client must not run on the async threads).
    pub async fn with_db<T: Send + 'static>(&self, f: impl FnOnce(&Db) -> T + Send + 'static) -> T {
        let db = self.state.db.clone();
        tokio::task::spawn_blocking(move || f(&db)).await.unwrap()
    }
}

pub async fn call_router(
    router: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, HeaderMap) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, value, headers)
}

pub fn case_doc(id: uuid::Uuid, responsible: &str, related: &[&str], clinic: &str, name: &str) -> Value {
    json!({
        "id": id,
        "basic": {"name": name},
        "jurisdiction": {"responsible_health_centre": responsible, "related_health_centres": related, "reporting_clinic": clinic}
    })
}

pub fn create_op(case: &Value) -> Value {
    json!({"op_id": uuid::Uuid::now_v7(), "seq": 1, "entity": "case", "entity_id": case["id"], "kind": "case.create",
           "payload": {"case": case}, "base_versions": {}})
}

pub fn update_op(case_id: uuid::Uuid, changes: Value, base: Value) -> Value {
    json!({"op_id": uuid::Uuid::now_v7(), "seq": 2, "entity": "case", "entity_id": case_id, "kind": "case.update",
           "payload": {"changes": changes}, "base_versions": base})
}

/// One test function, run against both backends.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::common::Backend::Postgres).await } )*
        }
    };
}

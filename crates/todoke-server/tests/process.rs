//! A real `todoke-server` process over loopback, on SQLite and PostgreSQL:
//! R3 — every route of openapi.json fuzzed (wrong types, missing fields,
//! oversized strings and bodies, future dates, random bytes; deterministic
//! seed): no 5xx, no panic, every 4xx bilingual; R5 — the server killed and
//! restarted while desks push: retried pushes converge, nothing lost or doubled.

#[macro_use]
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use todoke_server::credentials::totp_now;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_todoke-server");

both_backends!(fuzz_every_route_from_the_api_description, a_server_killed_mid_push_loses_nothing_and_doubles_nothing);

/// The server process; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(url: &str, port: u16) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let child = Command::new(BIN)
            .args(["serve", "--db", url, "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let server = Server { child, log, _dir: dir };
        let started = Instant::now();
        let client = reqwest::Client::new();
        while client.get(format!("http://127.0.0.1:{port}/healthz")).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "the server did not start: {}", server.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Signs in over HTTP with the real clock's one-time password.
async fn sign_in(client: &reqwest::Client, base: &str, app: &TestApp, login: &str, device: &str) -> String {
    let (password, secret) = app.passwords[login].clone();
    let body = json!({"login": login, "password": password, "otp": totp_now(&secret, chrono::Utc::now().timestamp()), "device_id": device});
    let r = client.post(format!("{base}/api/auth/login")).json(&body).send().await.unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "sign-in {login}: {v}");
    v["access_token"].as_str().unwrap().to_string()
}

// ---------------------------------------------------------------- R3

/// A value of the wrong kind, an edge value, or junk.
fn junk(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..14) {
        0 => Value::Null,
        1 => json!(rng.gen::<bool>()),
        2 => json!(rng.gen::<i64>()),
        3 => json!(-1),
        4 => json!(1e300),
        5 => json!(""),
        6 => json!("x".repeat(rng.gen_range(1000..200_000))),
        7 => json!("長".repeat(rng.gen_range(10..20_000))),
        8 => json!("2999-12-31T23:59:59Z"),
        9 => json!("9999-99-99"),
        10 => json!([]),
        11 => json!({}),
        12 => json!([[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]),
        _ => json!(Uuid::from_u128(rng.gen()).to_string()),
    }
}

/// A plausible case document with one part spoiled (future dates, wrong types, huge text).
fn spoiled_case(rng: &mut ChaCha8Rng, id: &str) -> Value {
    let mut doc = json!({"id": id, "basic": {"name": "試験 太郎", "birth_date": "2999-01-01"},
        "jurisdiction": {"responsible_health_centre": "HC9901", "related_health_centres": [], "reporting_clinic": ""},
        "notification": {"diagnosed_on": "3000-02-30"}, "tests": [{"id": "t", "collected_on": "2999-12-31"}]});
    let spots = ["basic", "jurisdiction", "notification", "tests", "measures", "updated_at", "id", "deleted"];
    let spot = spots[rng.gen_range(0..spots.len())];
    doc[spot] = junk(rng);
    doc
}

/// A body for a schema of openapi.json: valid-looking, then broken one way.
fn body_for(rng: &mut ChaCha8Rng, schema: &Value, components: &Value) -> Value {
    let schema = match schema["$ref"].as_str() {
        Some(r) => &components[r.rsplit('/').next().unwrap()],
        None => schema,
    };
    let props = schema["properties"].as_object().cloned().unwrap_or_default();
    let mut body = serde_json::Map::new();
    for (name, p) in &props {
        let v = match (name.as_str(), p["type"].as_str()) {
            ("ops", _) => {
                let n = rng.gen_range(0..4);
                let ops: Vec<Value> = (0..n)
                    .map(|_| {
                        let id = Uuid::now_v7().to_string();
                        let kind =
                            ["case.create", "case.update", "observation.add", "conflict.resolve", "case.delete", ""][rng.gen_range(0..6)];
                        let entity = ["case", "observation", "conflict", "x"][rng.gen_range(0..4)];
                        let seq = rng.gen_range(-5..5);
                        let (case, value, base) = (spoiled_case(rng, &id), junk(rng), rng.gen::<i64>());
                        let mut op = json!({"op_id": Uuid::now_v7(), "seq": seq, "entity": entity,
                            "entity_id": id, "kind": kind,
                            "payload": {"case": case, "changes": [{"path": "basic.birth_date", "old": null, "new": "2999-01-01"}],
                                        "observation": {"id": id, "case_id": Uuid::nil(), "date": "2999-01-01"}, "value": value},
                            "base_versions": {"basic.name": base}});
                        if rng.gen_bool(0.3) {
                            let keys: Vec<String> = op.as_object().unwrap().keys().cloned().collect();
                            op.as_object_mut().unwrap().remove(&keys[rng.gen_range(0..keys.len())]);
                        }
                        op
                    })
                    .collect();
                json!(ops)
            }
            ("version", _) => json!(1),
            (_, Some("integer")) => json!(rng.gen_range(-3..100_000)),
            _ => json!(format!("v{}", rng.gen::<u16>())),
        };
        body.insert(name.clone(), v);
    }
    let mut body = Value::Object(body);
    let names: Vec<String> = props.keys().cloned().collect();
    match rng.gen_range(0..6) {
        0 if !names.is_empty() => {
            // A field missing.
            body.as_object_mut().unwrap().remove(names.choose(rng).unwrap());
        }
        1 if !names.is_empty() => {
            // A field of the wrong type or an edge value.
            body[names.choose(rng).unwrap().as_str()] = junk(rng);
        }
        2 => body = junk(rng),
        3 => {
            body["unexpected"] = junk(rng);
        }
        _ => {}
    }
    body
}

fn query_for(rng: &mut ChaCha8Rng, params: &[Value]) -> String {
    let mut parts = Vec::new();
    for p in params.iter().filter(|p| p["in"] == "query") {
        if rng.gen_bool(0.3) {
            continue;
        }
        let v = match rng.gen_range(0..9) {
            0 => "-1".to_string(),
            1 => "99999999999999999999999".into(),
            2 => "0".into(),
            3 => "%FF%FE%00".into(),
            4 => "x".repeat(rng.gen_range(1..5000)),
            5 => "s.1.2.3".into(),
            6 => "c.-5".into(),
            7 => Uuid::now_v7().to_string(),
            _ => p["schema"]["enum"].as_array().and_then(|e| e.choose(rng)).and_then(|v| v.as_str()).unwrap_or("1").to_string(),
        };
        parts.push(format!("{}={v}", p["name"].as_str().unwrap()));
    }
    if rng.gen_bool(0.1) {
        parts.push("limit=1&limit=2".into());
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

async fn fuzz_every_route_from_the_api_description(b: Backend) {
    let app = TestApp::new(b).await;
    let port = free_port();
    let mut server = Server::start(&app.url, port).await;
    let base = format!("http://127.0.0.1:{port}");
    // A connection per request: a refused oversized body may leave its connection closed.
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).pool_max_idle_per_host(0).build().unwrap();
    let token = sign_in(&client, &base, &app, "chuo", "fuzz-desk").await;

    let api: Value = serde_json::from_str(include_str!("../src/openapi.json")).unwrap();
    let components = &api["components"]["schemas"];
    let mut routes = Vec::new();
    for (path, item) in api["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            routes.push((method.to_uppercase(), path.clone(), op.clone()));
        }
    }
    assert_eq!(routes.len(), todoke_server::ROUTES.len(), "every route is fuzzed");
    let seed: u64 = std::env::var("TODOKE_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261121);
    let requests: usize = std::env::var("TODOKE_FUZZ_REQUESTS").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    let mut sent_huge_push = false;
    for i in 0..requests {
        let (method, path, op) = &routes[i % routes.len()];
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let concrete = path.replace(
            "{id}",
            &match rng.gen_range(0..4) {
                0 => Uuid::now_v7().to_string(),
                1 => "not-a-uuid".into(),
                2 => "%E3%81%82".repeat(rng.gen_range(1..200)),
                _ => "00000000-0000-0000-0000-000000000000".into(),
            },
        );
        let url = format!("{base}{concrete}{}", query_for(&mut rng, &params));
        let mut req = client.request(method.parse().unwrap(), &url);
        match rng.gen_range(0..6) {
            0 => {}
            1 => req = req.bearer_auth("garbage"),
            2 => req = req.header("authorization", "Bearer "),
            // (Signing out with the fuzzing session would end it: garbage only there.)
            _ if path == "/api/auth/logout" => req = req.bearer_auth("garbage"),
            _ => req = req.bearer_auth(&token),
        }
        let mut oversized = false;
        if let Some(schema) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
            let pick = rng.gen_range(0..12);
            oversized = pick == 2 && (path != "/api/sync/push" || !sent_huge_push);
            req = match pick {
                // Random bytes, with and without the JSON content type.
                0 => req
                    .header("content-type", "application/json")
                    .body((0..rng.gen_range(0..4096)).map(|_| rng.gen::<u8>()).collect::<Vec<u8>>()),
                1 => req.body((0..rng.gen_range(0..64)).map(|_| rng.gen::<u8>()).collect::<Vec<u8>>()),
                // Oversized: 3 MiB for sign-in (limit 2 MiB), 33 MiB once for push (limit 32 MiB).
                2 if path != "/api/sync/push" => {
                    req.header("content-type", "application/json").body(format!("{{\"x\":\"{}\"}}", "a".repeat(3 << 20)))
                }
                2 if !sent_huge_push => {
                    sent_huge_push = true;
                    req.header("content-type", "application/json").body(format!("{{\"desk_id\":\"{}\",\"ops\":[]}}", "a".repeat(33 << 20)))
                }
                _ => req.json(&body_for(&mut rng, &Value::Object(schema.clone()), components)),
            };
        }
        let res = match req.send().await {
            Ok(res) => res,
            // The server may answer an oversized body before reading it all, and close:
            // the client then sees the connection go. It must still be serving.
            Err(e) if oversized => {
                let alive = client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success());
                assert!(alive, "request {i}: the server is gone after an oversized body ({e})\n{}", server.log_text());
                *by_status.entry(0).or_default() += 1;
                continue;
            }
            Err(e) => panic!("request {i} {method} {url}: {e:?}\n{}", server.log_text()),
        };
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        *by_status.entry(status).or_default() += 1;
        assert!(status < 500, "request {i}: {method} {url} → {status} {text}\n(seed {seed})");
        if (400..500).contains(&status) {
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("request {i}: {method} {url} → {status}, not JSON: {text:.200}"));
            assert!(
                v["code"].is_string()
                    && v["message_ja"].as_str().is_some_and(|m| !m.is_empty())
                    && v["message_en"].as_str().is_some_and(|m| !m.is_empty()),
                "request {i}: {method} {url} → {status}, not a bilingual refusal: {v}"
            );
        }
    }
    eprintln!("{requests} requests (seed {seed}), by status: {by_status:?}");
    assert!(server.child.try_wait().unwrap().is_none(), "the server is still running");
    server.kill();
    let log = server.log_text();
    assert!(!log.contains("panicked"), "the server panicked: {log}");
    // The fuzz reached past the front door: refusals of several kinds, and successes.
    for status in [200, 401, 404, 422] {
        assert!(by_status.get(&status).copied().unwrap_or(0) > 0, "no {status} among {by_status:?}");
    }
    assert!(by_status[&200] > 2 * requests / routes.len(), "signed-in routes answered too: {by_status:?}");
}

// ---------------------------------------------------------------- R5

/// A desk that pushes its batches until each is answered, re-sending the same
/// ops (same op ids) after any failure, as the sync engine does.
async fn desk(client: reqwest::Client, base: String, token: String, batches: Vec<Vec<Value>>, answered: Arc<AtomicUsize>) -> (Vec<Value>, usize) {
    let mut answers = Vec::new();
    let mut retries = 0;
    for ops in batches {
        let body = json!({"desk_id": "r5", "ops": ops});
        let started = Instant::now();
        loop {
            assert!(started.elapsed() < Duration::from_secs(120), "a batch was never accepted");
            match client.post(format!("{base}/api/sync/push")).bearer_auth(&token).json(&body).send().await {
                Ok(r) if r.status().is_success() => {
                    let v: Value = r.json().await.unwrap();
                    answers.extend(v["results"].as_array().unwrap().iter().cloned());
                    answered.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                Ok(r) => assert!(r.status() == 429 || r.status().is_server_error(), "push refused: {}", r.status()),
                Err(_) => {} // connection refused / reset: the server is down
            }
            retries += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    (answers, retries)
}

async fn a_server_killed_mid_push_loses_nothing_and_doubles_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let port = free_port();
    let mut server = Server::start(&app.url, port).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let desks = [("chuo", "HC9901"), ("kita", "HC9902"), ("ken", "HC9901"), ("clinic", "HC9901")];
    let mut tasks = Vec::new();
    let mut expected = BTreeSet::new();
    let mut op_count = 0;
    let answered = Arc::new(AtomicUsize::new(0));
    for (d, (login, hc)) in desks.iter().enumerate() {
        let token = sign_in(&client, &base, &app, login, &format!("r5-{login}")).await;
        let batches: Vec<Vec<Value>> = (0..25)
            .map(|k| {
                (0..20)
                    .map(|i| {
                        let id = Uuid::now_v7();
                        expected.insert(id.to_string());
                        op_count += 1;
                        create_op(&case_doc(id, hc, &[], if *login == "clinic" { "CL990001" } else { "" }, &format!("再起動 {d}-{k}-{i}")))
                    })
                    .collect()
            })
            .collect();
        tasks.push(tokio::spawn(desk(client.clone(), base.clone(), token, batches, answered.clone())));
    }
    // Kill the server (no goodbye) twice while the desks push — after 10 and
    // after 40 of the 100 batches were answered, not after a guessed time —
    // and start it again.
    for after in [10, 40] {
        while answered.load(Ordering::SeqCst) < after {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        server.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        server = Server::start(&app.url, port).await;
    }
    let mut answers = Vec::new();
    let mut retries = 0;
    for t in tasks {
        let (a, r) = t.await.unwrap();
        answers.extend(a);
        retries += r;
    }
    assert!(retries > 0, "the kills happened while desks pushed");
    assert_eq!(answers.len(), op_count);
    assert!(answers.iter().all(|a| a["status"] == "applied"), "{:?}", answers.iter().find(|a| a["status"] != "applied"));
    let seqs: BTreeSet<i64> = answers.iter().map(|a| a["server_seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs.len(), op_count, "each op has its own server sequence number: nothing applied twice");
    // The database holds each case once, each op once, and the change log no duplicates.
    let (records, applied, logged, distinct_logged) = app
        .with_db(|db| {
            db.tx(|tx| {
                let n = |tx: &mut dyn todoke_server::db::Tx, sql: &str| tx.query(sql, &[]).map(|r| r[0][0].int().unwrap());
                Ok::<_, todoke_server::db::DbError>((
                    tx.query("SELECT entity_id FROM record WHERE entity = 'case'", &[])?
                        .iter()
                        .map(|r| r[0].text().unwrap())
                        .collect::<BTreeSet<_>>(),
                    n(tx, "SELECT COUNT(*) FROM applied_op")?,
                    n(tx, "SELECT COUNT(*) FROM change_log WHERE scope = 'P99'")?,
                    n(tx, "SELECT COUNT(DISTINCT case_id) FROM change_log WHERE scope = 'P99'")?,
                ))
            })
            .unwrap()
        })
        .await;
    assert_eq!(records, expected, "nothing lost, nothing extra");
    assert_eq!(applied as usize, op_count);
    assert_eq!((logged as usize, distinct_logged as usize), (op_count, op_count), "the prefecture's log holds each case once");
    // And a desk downloading from the restarted server gets every case exactly once.
    let token = sign_in(&client, &base, &app, "lab", "r5-lab").await;
    let mut cursor = String::new();
    let mut pulled = Vec::new();
    loop {
        let r: Value = client
            .get(format!("{base}/api/sync/pull?limit=300&cursor={cursor}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pulled.extend(r["changes"].as_array().unwrap().iter().map(|c| c["entity_id"].as_str().unwrap().to_string()));
        cursor = r["next_cursor"].as_str().unwrap().to_string();
        if r["has_more"] != true {
            break;
        }
    }
    assert_eq!(pulled.len(), op_count, "no case twice");
    assert_eq!(pulled.into_iter().collect::<BTreeSet<_>>(), expected);
    drop(server);
}

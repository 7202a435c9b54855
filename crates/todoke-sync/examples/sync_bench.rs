//! B5 and B7 (TARGETS.md): initial sync of an empty desk over loopback HTTP,
//! and delta syncs (nothing new; 1,000 changes), with the real server
//! (SQLite) in this process on a loopback port and a real encrypted desk.
//!
//! cargo run --release -p todoke-sync --example sync_bench -- CASES [OUT.json]
//!
//! B5's second condition compares with the desk's own bulk insert of the same
//! cases (`Desk::bulk_create`, 1,000 per transaction) measured in the same run.

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;
use todoke_domain::{Actor, Case};
use todoke_protocol::{Op, PROTOCOL_VERSION};
use todoke_server::scope::{OrgKind, Principal, Role};
use todoke_server::{AppState, Db};
use todoke_store::{Desk, MemoryKeys};
use todoke_sync::{HttpTransport, SyncEngine, SyncOptions};
use uuid::Uuid;

fn case(i: u64) -> Case {
    let mut c = todoke_synth::sample_case(i + 1);
    c.jurisdiction.responsible_health_centre = "HC9901".into();
    c.jurisdiction.related_health_centres.clear();
    c.jurisdiction.reporting_clinic.clear();
    c
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(20_000);
    let out = args.get(2).cloned().unwrap_or_else(|| "bench-results/sync.json".into());
    let tmp = tempfile::tempdir().unwrap();
    let db = Db::open(tmp.path().join("server.db").to_str().unwrap()).unwrap();
    let users = todoke_server::demo::seed(&db).unwrap();
    let chuo = users.iter().find(|u| u.login == "chuo").unwrap();
    let writer = Principal {
        staff_id: "bench".into(),
        login: "bench".into(),
        org: "HC9901".into(),
        org_kind: OrgKind::HealthCentre,
        org_parent: Some("P99".into()),
        role: Role::Staff,
        device_id: "bench-writer".into(),
        session_id: "bench".into(),
    };
    let push = |ops: &[Op]| {
        db.tx(|tx| todoke_server::sync::push_batch(tx, &writer, Utc::now(), ops)).unwrap();
    };
    let started = Instant::now();
    let ids: Vec<Uuid> = (0..n).map(|i| case(i).id).collect();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let ops: Vec<Op> = chunk
            .iter()
            .map(|&i| {
                let c = case(i);
                Op {
                    op_id: Uuid::now_v7(),
                    seq: i as i64,
                    entity: "case".into(),
                    entity_id: c.id.to_string(),
                    kind: "case.create".into(),
                    payload: json!({ "case": c }),
                    base_versions: Default::default(),
                }
            })
            .collect();
        push(&ops);
    }
    eprintln!("server seeded with {n} cases in {:.1} s", started.elapsed().as_secs_f64());

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let state = AppState::new(db.clone());
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, todoke_server::app(state)).await });
    let otp = todoke_server::credentials::totp_now(&chuo.totp_secret, Utc::now().timestamp());
    let login =
        todoke_protocol::LoginRequest { login: "chuo".into(), password: chuo.password.clone(), otp, device_id: "bench-desk".into() };
    let tokens: todoke_protocol::TokenResponse = rt
        .block_on(async { reqwest::Client::new().post(format!("{url}/api/auth/login")).json(&login).send().await?.json().await })
        .unwrap();

    // The server's share: the same download, pages fetched and parsed but not applied.
    let probe = HttpTransport::new(&url, "bench-desk", Some(tokens.access_token.clone()), None, Duration::from_secs(60)).unwrap();
    let t = Instant::now();
    let mut req = todoke_protocol::PullRequest { cursor: None, limit: Some(2000) };
    loop {
        let page = rt.block_on(todoke_sync::Transport::pull(&probe, &req)).unwrap();
        req.cursor = Some(page.next_cursor);
        if !page.has_more {
            break;
        }
    }
    let fetch_only = t.elapsed();
    eprintln!("pages fetched without applying: {:.2} s", fetch_only.as_secs_f64());

    // B5: an empty desk downloads everything in scope.
    let keys = MemoryKeys::new();
    let desk = Desk::init(&tmp.path().join("desk"), &keys).unwrap();
    let transport =
        HttpTransport::new(&url, "bench-desk", Some(tokens.access_token), Some(tokens.refresh_token), Duration::from_secs(60)).unwrap();
    let opts = SyncOptions { pull_limit: 2000, ..SyncOptions::default() };
    let mut engine = SyncEngine::new(desk, transport, "HC9901", opts);
    let t = Instant::now();
    let report = rt.block_on(engine.sync()).unwrap();
    let initial = t.elapsed();
    assert_eq!(engine.desk().case_count().unwrap(), n);
    eprintln!("B5 initial sync: {n} cases in {:.2} s ({} pages)", initial.as_secs_f64(), report.pages);

    // The desk's own bulk insert of the same cases, same run.
    let bulk_desk_dir = tmp.path().join("bulk");
    let mut bulk = Desk::init(&bulk_desk_dir, &keys).unwrap();
    let actor = Actor { login: "bench".into(), org_code: "HC9901".into() };
    let t = Instant::now();
    bulk.bulk_create((0..n).map(case), &actor, 1000, &mut |_| {}).unwrap();
    let bulk_time = t.elapsed();
    drop(bulk);
    let ratio = bulk_time.as_secs_f64() / initial.as_secs_f64();
    eprintln!("bulk insert: {:.2} s; sync rate / bulk rate = {ratio:.2}", bulk_time.as_secs_f64());

    // B7: nothing new.
    let mut idle = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let r = rt.block_on(engine.sync()).unwrap();
        idle.push(t.elapsed());
        assert_eq!(r.changes_pulled, 0);
    }
    // B7: 1,000 changes made elsewhere (one field each on 1,000 cases).
    let mut delta = Vec::new();
    for round in 0..5u64 {
        let ops: Vec<Op> = ids
            .iter()
            .take(1000)
            .map(|id| Op {
                op_id: Uuid::now_v7(),
                seq: 0,
                entity: "case".into(),
                entity_id: id.to_string(),
                kind: "case.update".into(),
                payload: json!({"changes": [{"path": "basic.occupation", "old": null, "new": format!("職業{round}")}]}),
                base_versions: [("basic.occupation".to_string(), i64::MAX)].into(),
            })
            .collect();
        push(&ops);
        let t = Instant::now();
        let r = rt.block_on(engine.sync()).unwrap();
        delta.push(t.elapsed());
        assert_eq!(r.changes_pulled, 1000);
    }
    let figures = json!({
        "what": "B5 initial sync over loopback HTTP, B7 delta sync (todoke-sync examples/sync_bench.rs)",
        "cases": n,
        "b5_initial_sync_s": initial.as_secs_f64(),
        "b5_cases_per_s": n as f64 / initial.as_secs_f64(),
        "b5_bulk_insert_s": bulk_time.as_secs_f64(),
        "b5_fetch_only_s": fetch_only.as_secs_f64(),
        "b5_sync_over_bulk_rate": ratio,
        "b7_nothing_new_ms_median": median(idle.clone()),
        "b7_nothing_new_ms_max": idle.iter().max().unwrap().as_secs_f64() * 1000.0,
        "b7_1000_changes_ms_median": median(delta.clone()),
        "b7_1000_changes_ms_max": delta.iter().max().unwrap().as_secs_f64() * 1000.0,
        "protocol_version": PROTOCOL_VERSION,
    });
    println!("{}", serde_json::to_string_pretty(&figures).unwrap());
    std::fs::write(&out, serde_json::to_string_pretty(&figures).unwrap()).unwrap();
}

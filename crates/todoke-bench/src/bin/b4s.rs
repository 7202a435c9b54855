//! `b4s` — TARGETS.md B4 on the server: all eleven standard indicators, with
//! suppression, for a national user over N cases (default 10,000,000), on a
//! throwaway PostgreSQL cluster (`todoke_server::scratch_pg`).
//!
//! What is loaded: N cases are synthesized (`todoke-synth`, all 47
//! prefectures), each turned into its report row (`ReportRow::from_case`,
//! packed) and COPYed straight into the server's `case_stat` table. The case
//! documents themselves are NOT stored (10 million documents do not fit on the
//! benchmark machine's disk), so this measures the report path —
//! `GET /api/reports/all` over HTTP on loopback, from sign-in token to JSON:
//! the projector's catch-up (nothing to do), the scan of `case_stat`,
//! unpacking, the eleven indicators, suppression, audit — not the projection.
//!
//! The projector is measured separately, on real documents: M synthesized
//! cases (default 100,000) are written into `record` as a push leaves them
//! (document, `last_seq`), then one catch-up projects them all (cases/s).
//!
//! Afterwards the databases are dropped and the cluster is removed.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use serde_json::{json, Value};
use todoke_reports::{compute_all, ReportOptions, ReportRow};
use todoke_server::db::{insert_rows, Db, Val};
use todoke_server::scope::ReportScope;
use todoke_server::scratch_pg::ScratchCluster;
use todoke_server::{credentials, demo, stat, AppState};
use todoke_synth::{Generator, GeneratorConfig, HealthCentreDef, Region};

#[derive(Parser)]
#[command(about = "B4 on the server: all eleven indicators for a national user over N cases (PostgreSQL)")]
struct Args {
    /// Cases whose report rows are loaded into case_stat.
    #[arg(long, default_value_t = 10_000_000)]
    cases: usize,
    /// Measured report requests (after one first request, reported apart).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Case documents the projector's rate is measured on.
    #[arg(long, default_value_t = 100_000)]
    projector_cases: usize,
    #[arg(long, default_value = "bench-results/b4-server.json")]
    out: PathBuf,
    #[arg(long, default_value_t = 4)]
    seed: u64,
}

type R<T> = Result<T, Box<dyn std::error::Error>>;

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn generator(seed: u64, cases: usize) -> Generator {
    let region = Region::Prefectures((1..=47).collect());
    Generator::new(GeneratorConfig { seed, cases, health_centres: HealthCentreDef::invent(&region), region, ..Default::default() })
}

fn pg_client(url: &str) -> R<postgres::Client> {
    Ok(postgres::Client::connect(url, postgres::NoTls)?)
}

/// Synthesizes `cases` cases on two threads and COPYs their packed report rows into case_stat.
fn load_case_stat(url: &str, cases: usize, seed: u64) -> R<(u64, f64)> {
    let started = Instant::now();
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(64);
    let halves = [cases / 2, cases - cases / 2];
    let producers: Vec<_> = halves
        .iter()
        .enumerate()
        .map(|(k, &n)| {
            let send = send.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::with_capacity(1 << 20);
                for (i, g) in generator(seed + k as u64, n).enumerate() {
                    // Live cases only, as the projector writes them.
                    let Some(row) = ReportRow::from_case(&g.case) else { continue };
                    // COPY text format: id, bytea as \\x<hex>, seq.
                    let _ = write!(buf, "{}\t\\\\x{}\t{}\n", g.case.id, hex::encode(row.pack()), (i * 2 + k + 1));
                    if buf.len() > (1 << 20) - 512 {
                        if send.send(std::mem::take(&mut buf)).is_err() {
                            return;
                        }
                        buf.reserve(1 << 20);
                    }
                }
                let _ = send.send(buf);
            })
        })
        .collect();
    drop(send);
    let mut client = pg_client(url)?;
    let mut writer = client.copy_in("COPY case_stat (case_id, row, seq) FROM STDIN")?;
    for chunk in receive {
        writer.write_all(&chunk)?;
    }
    let rows = writer.finish()?;
    for p in producers {
        p.join().map_err(|_| "a generator thread panicked")?;
    }
    // What autovacuum would have done on a live server: visibility map and statistics.
    client.batch_execute("VACUUM ANALYZE case_stat")?;
    Ok((rows, started.elapsed().as_secs_f64()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return 0.0;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Signs the national user in and asks for all eleven indicators `runs + 1` times over HTTP.
fn serve_and_ask(db: &Db, kuni: &demo::DemoUser, runs: usize) -> R<(Vec<f64>, Value)> {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let app = todoke_server::app(AppState::new(db.clone()));
    runtime.spawn(async move { todoke_server::transport::serve(app, addr, None, false).await });
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let base = format!("http://{addr}");
        // The server may still be binding.
        let mut token = None;
        for _ in 0..100 {
            let otp = credentials::totp_now(&kuni.totp_secret, chrono::Utc::now().timestamp());
            let body = json!({"login": kuni.login, "password": kuni.password, "otp": otp, "device_id": "b4s"});
            if let Ok(r) = client.post(format!("{base}/api/auth/login")).json(&body).send().await {
                let v: Value = r.json().await?;
                token = v["access_token"].as_str().map(str::to_string);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let token = token.ok_or("sign-in failed")?;
        let mut seconds = Vec::new();
        let mut last = Value::Null;
        for _ in 0..=runs {
            let t = Instant::now();
            let r = client.get(format!("{base}/api/reports/all")).bearer_auth(&token).send().await?;
            if !r.status().is_success() {
                return Err(format!("report answered {}: {}", r.status(), r.text().await?).into());
            }
            last = r.json().await?;
            seconds.push(t.elapsed().as_secs_f64());
        }
        Ok::<_, Box<dyn std::error::Error>>((seconds, last))
    })
}

fn main() -> R<()> {
    let args = Args::parse();
    let started = Instant::now();
    let cluster = ScratchCluster::start()?;
    let url = cluster.create_database()?;
    let db = Db::open(&url)?;
    let users = demo::seed(&db)?;
    let kuni = users.iter().find(|u| u.org == "JP").ok_or("no national user in the demo seed")?;

    eprintln!("loading {} report rows into case_stat…", args.cases);
    let (loaded, load_seconds) = load_case_stat(&url, args.cases, args.seed)?;
    eprintln!("loaded {loaded} rows in {load_seconds:.1} s");
    let table_bytes: i64 = pg_client(&url)?.query_one("SELECT pg_total_relation_size('case_stat')", &[])?.get(0);

    // The split, in process: catch-up, reading case_stat, computing.
    let t = Instant::now();
    stat::catch_up(&db)?;
    let catch_up_idle = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let rows = db.tx(|tx| stat::report_rows(tx, &ReportScope::Everything))?;
    let read_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let tables = compute_all(&rows, &[], &ReportOptions::default());
    let compute_seconds = t.elapsed().as_secs_f64();
    let cells: usize = tables.iter().map(|t| t.rows.len() * t.columns.len()).sum();
    drop(rows);

    let load_before = load_average();
    let (seconds, body) = serve_and_ask(&db, kuni, args.runs)?;
    let first = seconds[0];
    let measured = seconds[1..].to_vec();
    let served_tables = body.as_array().map_or(0, Vec::len);
    if served_tables != 11 {
        return Err(format!("expected 11 tables, got {served_tables}").into());
    }

    // The projector's own rate, on real case documents.
    eprintln!("projector: {} case documents…", args.projector_cases);
    let purl = cluster.create_database()?;
    let pdb = Db::open(&purl)?;
    let mut docs = Vec::with_capacity(5_000);
    let mut seq = 0i64;
    for g in generator(args.seed + 100, args.projector_cases) {
        seq += 1;
        let id = g.case.id.to_string();
        docs.push(vec![
            Val::from("case"),
            Val::from(id.as_str()),
            Val::from(id.as_str()),
            Val::Text(serde_json::to_string(&g.case)?),
            Val::from("{}"),
            Val::Int(seq),
            Val::Int(seq),
        ]);
        if docs.len() == 5_000 {
            pdb.tx(|tx| {
                insert_rows(tx, "record", &["entity", "entity_id", "case_id", "doc", "versions", "created_seq", "last_seq"], &docs)
            })?;
            docs.clear();
        }
    }
    pdb.tx(|tx| insert_rows(tx, "record", &["entity", "entity_id", "case_id", "doc", "versions", "created_seq", "last_seq"], &docs))?;
    let load_before_projector = load_average();
    let t = Instant::now();
    let projected = stat::catch_up(&pdb)?;
    let projector_seconds = t.elapsed().as_secs_f64();
    // And the same cases' report from case_stat equals the one from their documents.
    let from_stat = compute_all(&pdb.tx(|tx| stat::report_rows(tx, &ReportScope::Everything))?, &[], &ReportOptions::default());
    let from_docs: Vec<ReportRow> =
        generator(args.seed + 100, args.projector_cases).filter_map(|g| ReportRow::from_case(&g.case)).collect();
    let same = serde_json::to_value(&from_stat)? == serde_json::to_value(compute_all(&from_docs, &[], &ReportOptions::default()))?;
    drop(pdb);

    drop(db);
    let mut admin =
        postgres::Client::connect(&format!("host=127.0.0.1 port={} user=postgres dbname=postgres", cluster.port), postgres::NoTls)?;
    for u in [&url, &purl] {
        let name = u.rsplit('/').next().unwrap_or_default();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    }

    let report = json!({
        "B4_server": {
            "target": "<= 10 s at 10,000,000 cases (server)",
            "backend": "postgresql 15 (throwaway cluster on loopback, fsync off)",
            "cases": args.cases,
            "case_stat_rows": loaded,
            "case_stat_mib": round3(table_bytes as f64 / 1_048_576.0),
            "loaded_how": "report rows of synthesized cases (todoke-synth, 47 prefectures) packed and COPYed into case_stat; no case documents stored",
            "load_seconds": round3(load_seconds),
            "request": "GET /api/reports/all over HTTP on loopback as the national user (nation scope): catch-up, case_stat scan, unpack, 11 indicators with suppression, audit",
            "runs": measured.len(),
            "median_seconds": round3(median(measured.clone())),
            "max_seconds": round3(measured.iter().cloned().fold(0.0, f64::max)),
            "first_request_seconds": round3(first),
            "all_seconds": seconds.iter().map(|s| round3(*s)).collect::<Vec<_>>(),
            "split_in_process": {
                "catch_up_nothing_new_seconds": round3(catch_up_idle),
                "read_and_unpack_case_stat_seconds": round3(read_seconds),
                "compute_11_indicators_seconds": round3(compute_seconds),
                "cells": cells,
            },
            "load_average_before": load_before,
        },
        "projector": {
            "what": "synthesized case documents written into record as a push leaves them, then one catch-up projects them all into case_stat",
            "cases": args.projector_cases,
            "projected": projected,
            "seconds": round3(projector_seconds),
            "cases_per_second": (projected as f64 / projector_seconds.max(1e-9)).round(),
            "same_tables_as_from_documents": same,
            "load_average_before": load_before_projector,
        },
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "machine": {
            "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "load_average_1_5_15": load_average(),
            "note": "client, server and PostgreSQL share the machine's cores; the machine is shared with other builds",
        },
        "measured_at": chrono::Utc::now().to_rfc3339(),
        "total_seconds": round3(started.elapsed().as_secs_f64()),
    });
    if !same {
        return Err("case_stat and the documents gave different tables".into());
    }
    if let Some(dir) = args.out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)?;
    println!("{}", serde_json::to_string_pretty(&report["B4_server"])?);
    Ok(())
}

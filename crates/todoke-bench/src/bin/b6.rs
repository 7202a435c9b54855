//! `b6` — TARGETS.md B6, server ingest: N simulated desks (default 1,000),
//! each a signed-in device, push batches of generated `case.create` and
//! `case.update` ops at once to a REAL `todoke-server` process on loopback.
//! Ops are entered at a target rate (default 10,000 ops/s over all desks);
//! every sync interval (10 s) a desk pushes what its outbox holds (≤ 1,000).
//! Only pushes answered by the end of the measured time count; pushes still
//! in flight then are abandoned and reported. Measures sustained
//! acknowledged ops/s, push latency (p50/p95/p99), errors; then, in the same
//! run, copies the very rows the server wrote into a fresh database of the
//! same backend with plain multi-row INSERTs (the raw-ingest ceiling) and
//! reports the ratio. SQLite file and PostgreSQL (a throwaway cluster).
//!
//! The server process is this executable run again with `TODOKE_B6_SERVER=1`,
//! which makes it exactly `todoke-server` (`todoke_server::cli::main`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use todoke_domain::case::Case;
use todoke_domain::diff::value_changes;
use todoke_server::db::{insert_rows, Db, Row, Val};
use todoke_server::scratch_pg::ScratchCluster;
use todoke_server::{accounts, credentials};
use todoke_synth::{Generator, GeneratorConfig, HealthCentreDef, Region};
use uuid::Uuid;

#[derive(Parser, Clone)]
#[command(about = "B6: server ingest under many desks pushing at once")]
struct Args {
    /// sqlite, postgres or both.
    #[arg(long, default_value = "both")]
    backend: String,
    /// Desks pushing at once (each its own user and device).
    #[arg(long, default_value_t = 1000)]
    desks: usize,
    /// Measured duration, seconds.
    #[arg(long, default_value_t = 600)]
    seconds: u64,
    /// Seconds between a desk's pushes (its sync interval).
    #[arg(long, default_value_t = 10.0)]
    interval: f64,
    /// Offered load: ops/s entered over all desks. Each push sends what the
    /// desk's outbox holds (as a desk does), at most 1,000 ops.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Share of ops that create a case (the rest edit one of the desk's recent cases).
    #[arg(long, default_value_t = 0.4)]
    create_share: f64,
    /// Folder for b6-<backend><suffix>.json.
    #[arg(long, default_value = "bench-results")]
    out_dir: PathBuf,
    #[arg(long, default_value = "")]
    suffix: String,
    /// Where the SQLite database goes (removed afterwards).
    #[arg(long, default_value = "/var/tmp")]
    scratch: PathBuf,
    #[arg(long, default_value_t = 6)]
    seed: u64,
}

const PASSWORD: &str = "b6 benchmark password";
const TEMPLATES: usize = 500;
const MAX_BATCH: usize = 1000;
/// Recent cases a desk edits.
const RECENT: usize = 8;
/// A desk's back-off after 429 (as `todoke_sync::SyncOptions`' defaults).
const BACKOFF_BASE_MS: u64 = 500;
const BACKOFF_MAX_MS: u64 = 60_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("TODOKE_B6_SERVER").is_some() {
        std::process::exit(match todoke_server::cli::main() {
            c if c == std::process::ExitCode::SUCCESS => 0,
            _ => 2,
        });
    }
    let args = Args::parse();
    std::fs::create_dir_all(&args.out_dir)?;
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => return Err(format!("unknown backend {other:?} (sqlite, postgres, both)").into()),
    };
    for backend in backends {
        let report = run(&args, backend)?;
        let path = args.out_dir.join(format!("b6-{backend}{}.json", args.suffix));
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        eprintln!("{backend}: {}", serde_json::to_string(&report["summary"])?);
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Where the databases live; removes what it created when dropped.
struct Store {
    cluster: Option<ScratchCluster>,
    dir: Option<tempfile::TempDir>,
}

impl Store {
    fn new(backend: &str, scratch: &std::path::Path) -> Result<Store, Box<dyn std::error::Error>> {
        Ok(match backend {
            "postgres" => Store { cluster: Some(ScratchCluster::start()?), dir: None },
            _ => Store { cluster: None, dir: Some(tempfile::Builder::new().prefix("todoke-b6-").tempdir_in(scratch)?) },
        })
    }
    fn fresh(&self, name: &str) -> Result<String, Box<dyn std::error::Error>> {
        match (&self.cluster, &self.dir) {
            (Some(c), _) => Ok(c.create_database()?),
            (None, Some(d)) => Ok(d.path().join(format!("{name}.db")).to_string_lossy().into_owned()),
            _ => unreachable!(),
        }
    }
}

struct Desk {
    login: String,
    secret: String,
    org: String,
}

fn seed_server(url: &str, args: &Args) -> Result<(Vec<Desk>, Vec<Value>), Box<dyn std::error::Error>> {
    let db = Db::open(url)?;
    let region = Region::Prefecture(13);
    let generator = Generator::new(GeneratorConfig {
        seed: args.seed,
        cases: TEMPLATES,
        health_centres: HealthCentreDef::invent(&region),
        region,
        ..Default::default()
    });
    let mut centres = Vec::new();
    accounts::create_org(&db, "nation", "JP", "国", None)?;
    for o in generator.organisations() {
        let (kind, parent) = match format!("{:?}", o.kind).as_str() {
            "Prefecture" => ("prefecture", Some("JP".to_string())),
            "HealthCentre" => ("health-centre", o.parent.clone()),
            "Clinic" => ("clinic", o.parent.clone()),
            _ => continue,
        };
        match accounts::create_org(&db, kind, &o.code, &o.name, parent.as_deref()) {
            Err(accounts::AdminError::OrgExists(_)) => continue,
            other => other?,
        }
        if kind == "health-centre" {
            centres.push(o.code.clone());
        }
    }
    // The form's own shape (round-tripped through `Case`, as a desk stores it).
    let templates: Vec<Value> = generator
        .map(|g| serde_json::from_value::<Case>(serde_json::to_value(g.case)?).and_then(serde_json::to_value))
        .collect::<Result<_, _>>()?;
    // Accounts: argon2id per user, on both cores.
    let logins: Vec<(String, String)> = (0..args.desks).map(|i| (format!("desk{i:04}"), centres[i % centres.len()].clone())).collect();
    let desks = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for part in logins.chunks(logins.len().div_ceil(2).max(1)) {
            let (db, desks) = (&db, &desks);
            s.spawn(move || {
                for (login, org) in part {
                    let secret = accounts::create_user(db, org, "staff", login, PASSWORD).expect("create a desk user");
                    desks.lock().unwrap().push(Desk { login: login.clone(), secret, org: org.clone() });
                }
            });
        }
    });
    Ok((desks.into_inner().unwrap(), templates))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(url: &str) -> Result<(Server, String), Box<dyn std::error::Error>> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(std::env::current_exe()?)
        .env("TODOKE_B6_SERVER", "1")
        .env("RUST_LOG", "warn")
        .args(["serve", "--db", url, "--listen", &format!("127.0.0.1:{port}"), "--max-concurrent", "1024"])
        .stdin(Stdio::null())
        .spawn()?;
    Ok((Server(child), format!("http://127.0.0.1:{port}")))
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    ops_ok: u64,
    pushes: u64,
    busy_retries: u64,
    http_errors: u64,
    transport_errors: u64,
    rejected_ops: u64,
    conflict_ops: u64,
    first_error: Option<String>,
    batch_sizes: Vec<usize>,
    /// Ops entered but not yet sent when the run ended.
    backlog: u64,
    /// Pushes sent but not answered when the run ended (not counted).
    in_flight_at_end: u64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn run(args: &Args, backend: &str) -> Result<Value, Box<dyn std::error::Error>> {
    let store = Store::new(backend, &args.scratch)?;
    let url = store.fresh("server")?;
    let setup = Instant::now();
    let (desks, templates) = seed_server(&url, args)?;
    eprintln!("{backend}: {} desk accounts ready in {:.1}s", desks.len(), setup.elapsed().as_secs_f64());
    let (server, base) = start_server(&url)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let server_pid = server.0.id();
    let load = runtime.block_on(drive(args, &base, desks, Arc::new(Templates::new(templates)?), server_pid))?;
    drop(server);
    let (tally, elapsed, cpu) = load;

    // What the server holds: every acknowledged op once.
    let db = Db::open(&url)?;
    let stored_ops = db.tx(|tx| tx.query("SELECT COUNT(*) FROM applied_op", &[]))?[0][0].int()?;
    let raw = raw_bulk_copy(&db, &Db::open(&store.fresh("raw")?)?)?;
    drop(db);

    let mut lat = tally.latencies_ms.clone();
    lat.sort_by(|a, b| a.total_cmp(b));
    let ops_per_s = tally.ops_ok as f64 / elapsed;
    let raw_ops_per_s = stored_ops as f64 / raw.1;
    let errors = tally.http_errors + tally.transport_errors + tally.rejected_ops + tally.conflict_ops;
    let summary = json!({
        "sustained_ops_per_s": ops_per_s.round(),
        "push_p99_ms": (percentile(&lat, 0.99) * 10.0).round() / 10.0,
        "errors": errors,
        "raw_bulk_ops_per_s": raw_ops_per_s.round(),
        "push_vs_raw": (ops_per_s / raw_ops_per_s * 1000.0).round() / 1000.0,
        "seconds": (elapsed * 10.0).round() / 10.0,
    });
    Ok(json!({
        "benchmark": "B6 server ingest",
        "backend": backend,
        "summary": summary,
        "target": {"ops_per_s": 10000, "push_p99_ms": 200, "errors": 0, "duration_s": 600},
        "config": {
            "desks": args.desks, "sync_interval_s": args.interval, "offered_ops_per_s": args.rate, "max_ops_per_push": MAX_BATCH,
            "create_share": args.create_share, "measured_seconds": args.seconds, "seed": args.seed,
            "server": "todoke-server serve (separate process, loopback HTTP, --max-concurrent 1024)",
            "machine_cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "note": "client (all desks) and server share the machine's cores",
        },
        "push": {
            "pushes": tally.pushes,
            "ops_acknowledged": tally.ops_ok,
            "ops_stored_on_server": stored_ops,
            "latency_ms": {
                "p50": percentile(&lat, 0.50), "p95": percentile(&lat, 0.95), "p99": percentile(&lat, 0.99),
                "max": lat.last().copied().unwrap_or(0.0),
            },
            "ops_per_push": {"mean": if tally.pushes > 0 { tally.batch_sizes.iter().sum::<usize>() as f64 / tally.pushes as f64 } else { 0.0 },
                             "max": tally.batch_sizes.iter().max().copied().unwrap_or(0)},
            "backlog_at_end_ops": tally.backlog,
            "pushes_unanswered_at_end": tally.in_flight_at_end,
            "busy_429_retries": tally.busy_retries,
            "errors": {
                "http": tally.http_errors, "transport": tally.transport_errors,
                "rejected_ops": tally.rejected_ops, "conflict_ops": tally.conflict_ops,
                "first": tally.first_error,
            },
        },
        "cpu": cpu,
        "raw_bulk_insert": {
            "what": "the rows the push run wrote (record, case_access, change_log, applied_op, audit), copied into a fresh database of the same backend with multi-row INSERTs, 2,000 rows per statement, one transaction per statement",
            "rows": raw.0, "seconds": raw.1, "ops_per_s": raw_ops_per_s.round(),
        },
    }))
}

/// CPU seconds (user + system) a process has used so far (Linux `/proc`, 100 ticks/s).
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// The push answer, read as far as the tally needs.
#[derive(serde::Deserialize)]
struct Answer {
    results: Vec<AnswerResult>,
}

#[derive(serde::Deserialize)]
struct AnswerResult {
    status: String,
}

async fn drive(
    args: &Args,
    base: &str,
    desks: Vec<Desk>,
    templates: Arc<Templates>,
    server_pid: u32,
) -> Result<(Tally, f64, Value), Box<dyn std::error::Error>> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(2048).timeout(Duration::from_secs(120)).build()?;
    // Up, then every desk signs in (password + TOTP), a few at a time.
    let up = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        if up.elapsed() > Duration::from_secs(30) {
            return Err("the server did not start".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signin = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(16));
    let mut logins = Vec::new();
    for (i, d) in desks.into_iter().enumerate() {
        let (client, base, gate) = (client.clone(), base.to_string(), gate.clone());
        logins.push(tokio::spawn(async move {
            let _p = gate.acquire().await;
            let otp = credentials::totp_now(&d.secret, chrono::Utc::now().timestamp());
            let body = json!({"login": d.login, "password": PASSWORD, "otp": otp, "device_id": format!("b6-desk-{i:04}")});
            let r: Value = client.post(format!("{base}/api/auth/login")).json(&body).send().await?.error_for_status()?.json().await?;
            Ok::<_, reqwest::Error>((r["access_token"].as_str().unwrap_or_default().to_string(), d.org))
        }));
    }
    let mut tokens = Vec::new();
    for l in logins {
        tokens.push(l.await??);
    }
    eprintln!("{} desks signed in in {:.1}s; pushing for {}s", tokens.len(), signin.elapsed().as_secs_f64(), args.seconds);

    let n = tokens.len();
    let (client_cpu0, server_cpu0, load_before) = (cpu_seconds("self"), cpu_seconds(&server_pid.to_string()), load_average());
    let per_desk = args.rate as f64 / n as f64;
    let period = Duration::from_secs_f64(args.interval);
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let mut tasks = Vec::new();
    for (i, (token, org)) in tokens.into_iter().enumerate() {
        let (client, base, templates, args) = (client.clone(), base.to_string(), templates.clone(), args.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = ChaCha8Rng::seed_from_u64(args.seed * 100_003 + i as u64);
            let mut desk = DeskState { org, recent: Vec::new(), seq: 0 };
            let url = format!("{base}/api/sync/push");
            let auth = format!("Bearer {token}");
            let mut tally = Tally::default();
            // Spread the desks over one interval; each starts with one interval's worth queued.
            let mut next = start + period.mul_f64(i as f64 / n as f64);
            let mut owed = per_desk * args.interval;
            let mut since = Instant::now();
            loop {
                tokio::time::sleep_until(next.into()).await;
                let now = Instant::now();
                if now >= deadline {
                    tally.backlog += owed.floor() as u64;
                    break;
                }
                owed += now.duration_since(since).as_secs_f64() * per_desk;
                since = now;
                let take = owed.floor().min(MAX_BATCH as f64) as usize;
                if take == 0 {
                    next += period;
                    continue;
                }
                owed -= take as f64;
                // The body is written as text once (the desk's outbox holds ops serialised).
                let mut body = String::with_capacity(take * 4096 + 64);
                body.push_str(&format!(r#"{{"desk_id":"b6-desk-{i:04}","ops":["#));
                for k in 0..take {
                    if k > 0 {
                        body.push(',');
                    }
                    desk.next_op(&mut rng, &templates, args.create_share, &mut body);
                }
                body.push_str("]}");
                let body = bytes::Bytes::from(body);
                let t0 = Instant::now();
                let mut tally_attempt = 0u32;
                loop {
                    let answer = tokio::time::timeout_at(deadline.into(), async {
                        let r = client
                            .post(&url)
                            .header(reqwest::header::AUTHORIZATION, &auth)
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .body(body.clone())
                            .send()
                            .await?;
                        let status = r.status();
                        let text = r.text().await?;
                        Ok::<_, reqwest::Error>((status, text))
                    })
                    .await;
                    let Ok(answer) = answer else {
                        // Unanswered at the end: its latency is at least this long (counted so, not dropped).
                        tally.latencies_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                        tally.in_flight_at_end += 1;
                        break;
                    };
                    match answer {
                        Ok((status, _)) if status == 429 => {
                            // As a desk backs off (todoke-sync): full-jitter exponential, at least Retry-After (1 s).
                            let cap = (BACKOFF_BASE_MS << tally_attempt.min(16)).min(BACKOFF_MAX_MS);
                            let wait = rng.gen_range(0..=cap).max(1000);
                            tally.busy_retries += 1;
                            tally_attempt += 1;
                            tokio::time::sleep(Duration::from_millis(wait)).await;
                        }
                        Ok((status, text)) if status.is_success() => {
                            tally.latencies_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
                            tally.pushes += 1;
                            tally.batch_sizes.push(take);
                            let answer: Answer = serde_json::from_str(&text).unwrap_or(Answer { results: Vec::new() });
                            if answer.results.len() != take {
                                tally.http_errors += 1;
                                tally.first_error.get_or_insert_with(|| format!("{} results for {take} ops", answer.results.len()));
                            }
                            for res in &answer.results {
                                match res.status.as_str() {
                                    "applied" => tally.ops_ok += 1,
                                    "conflict" => tally.conflict_ops += 1,
                                    _ => tally.rejected_ops += 1,
                                }
                            }
                            if answer.results.iter().any(|r| r.status != "applied") {
                                tally.first_error.get_or_insert_with(|| text.chars().take(600).collect());
                            }
                            break;
                        }
                        Ok((status, text)) => {
                            tally.http_errors += 1;
                            tally.first_error.get_or_insert_with(|| format!("HTTP {status}: {text}"));
                            break;
                        }
                        Err(e) => {
                            tally.transport_errors += 1;
                            tally.first_error.get_or_insert_with(|| format!("{e:?}"));
                            break;
                        }
                    }
                }
                // The next sync: one interval after this one began, or at once if it took longer.
                next = (next + period).max(Instant::now());
            }
            tally
        }));
    }
    let mut total = Tally::default();
    for t in tasks {
        let t = t.await?;
        total.latencies_ms.extend(t.latencies_ms);
        total.ops_ok += t.ops_ok;
        total.pushes += t.pushes;
        total.busy_retries += t.busy_retries;
        total.http_errors += t.http_errors;
        total.transport_errors += t.transport_errors;
        total.rejected_ops += t.rejected_ops;
        total.conflict_ops += t.conflict_ops;
        total.batch_sizes.extend(t.batch_sizes);
        total.backlog += t.backlog;
        total.in_flight_at_end += t.in_flight_at_end;
        if total.first_error.is_none() {
            total.first_error = t.first_error;
        }
    }
    let elapsed = args.seconds as f64;
    let (client_cpu, server_cpu) = (cpu_seconds("self") - client_cpu0, cpu_seconds(&server_pid.to_string()) - server_cpu0);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
    let wall = start.elapsed().as_secs_f64();
    let cpu = json!({
        "what": "CPU seconds used during the push phase (user + system), and each as a share of all the machine's cores over that time",
        "wall_s": (wall * 10.0).round() / 10.0,
        "client_s": (client_cpu * 10.0).round() / 10.0,
        "server_s": (server_cpu * 10.0).round() / 10.0,
        "client_share_of_machine": (client_cpu / (wall * cores) * 1000.0).round() / 1000.0,
        "server_share_of_machine": (server_cpu / (wall * cores) * 1000.0).round() / 1000.0,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    });
    Ok((total, elapsed, cpu))
}

/// The generated cases, each serialised once with markers where a desk puts
/// the new case's id and its health centre.
struct Templates {
    docs: Vec<Value>,
    /// Text between the markers; `ID_MARK` / `ORG_MARK` split it.
    pieces: Vec<Vec<Piece>>,
}

enum Piece {
    Text(String),
    Id,
    Org,
}

const ID_MARK: &str = "b6b6b6b6-b6b6-7b6b-8b6b-b6b6b6b6b6b6";
const ORG_MARK: &str = "B6-ORG-MARK";

impl Templates {
    fn new(docs: Vec<Value>) -> Result<Templates, Box<dyn std::error::Error>> {
        let mut pieces = Vec::new();
        for doc in &docs {
            let mut d = doc.clone();
            d["id"] = json!(ID_MARK);
            d["jurisdiction"]["responsible_health_centre"] = json!(ORG_MARK);
            d["jurisdiction"]["related_health_centres"] = json!([]);
            let text = serde_json::to_value(serde_json::from_value::<Case>(d)?)?.to_string();
            let mut out = Vec::new();
            let mut rest = text.as_str();
            while let Some(at) =
                [rest.find(ID_MARK).map(|i| (i, Piece::Id, ID_MARK.len())), rest.find(ORG_MARK).map(|i| (i, Piece::Org, ORG_MARK.len()))]
                    .into_iter()
                    .flatten()
                    .min_by_key(|(i, _, _)| *i)
            {
                out.push(Piece::Text(rest[..at.0].to_string()));
                out.push(at.1);
                rest = &rest[at.0 + at.2..];
            }
            out.push(Piece::Text(rest.to_string()));
            pieces.push(out);
        }
        Ok(Templates { docs, pieces })
    }
}

/// One simulated desk: it creates cases in its health centre and edits the
/// ones it created recently, as an outbox would send them.
struct DeskState {
    org: String,
    recent: Vec<Recent>,
    seq: i64,
}

/// A recent case: its template and the fields this desk has edited since.
struct Recent {
    id: Uuid,
    template: usize,
    edited: Vec<(&'static str, Value)>,
}

impl Recent {
    /// The current value of a top-level field, or of `basic.<name>`.
    fn field<'a>(&'a self, templates: &'a Templates, name: &'static str) -> &'a Value {
        if let Some((_, v)) = self.edited.iter().find(|(n, _)| *n == name) {
            return v;
        }
        let doc = &templates.docs[self.template];
        match name.strip_prefix("basic.") {
            Some(inner) => &doc["basic"][inner],
            None => &doc[name],
        }
    }

    fn set(&mut self, name: &'static str, v: Value) {
        self.edited.retain(|(n, _)| *n != name);
        self.edited.push((name, v));
    }
}

/// `value_changes` of one field, with paths from the record's root.
fn field_changes(name: &str, old: &Value, new: &Value) -> Vec<todoke_domain::diff::FieldChange> {
    let mut changes = value_changes(old, new);
    for c in &mut changes {
        // Paths within the field, from the record's root (a list item's path starts with `[`).
        c.path = match c.path.as_str() {
            "" => name.to_string(),
            p if p.starts_with('[') => format!("{name}{p}"),
            p => format!("{name}.{p}"),
        };
    }
    changes
}

impl DeskState {
    /// Appends the next op, as JSON, to `out`.
    fn next_op(&mut self, rng: &mut ChaCha8Rng, templates: &Templates, create_share: f64, out: &mut String) {
        use std::fmt::Write;
        self.seq += 1;
        if self.recent.is_empty() || rng.gen_bool(create_share) {
            let template = rng.gen_range(0..templates.docs.len());
            let id = Uuid::now_v7();
            if self.recent.len() == RECENT {
                self.recent.remove(0);
            }
            self.recent.push(Recent { id, template, edited: Vec::new() });
            let _ = write!(
                out,
                r#"{{"op_id":"{}","seq":{},"entity":"case","entity_id":"{id}","kind":"case.create","base_versions":{{}},"payload":{{"case":"#,
                Uuid::now_v7(),
                self.seq
            );
            for piece in &templates.pieces[template] {
                match piece {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Id => out.push_str(&id.to_string()),
                    Piece::Org => out.push_str(&self.org),
                }
            }
            out.push_str("}}");
            return;
        }
        let k = rng.gen_range(0..self.recent.len());
        let other = rng.gen_range(0..templates.docs.len());
        let (name, new): (&'static str, Value) = match rng.gen_range(0..3) {
            // A status / measures update, taken from another generated case.
            0 => ("measures", templates.docs[other]["measures"].clone()),
            // Investigation notes, from another case.
            1 => ("investigation", templates.docs[other]["investigation"].clone()),
            // A corrected phone number.
            _ => ("basic.phone", json!(format!("090-{:04}-{:04}", rng.gen_range(0..10_000), rng.gen_range(0..10_000)))),
        };
        let recent = &mut self.recent[k];
        let mut changes = field_changes(name, recent.field(templates, name), &new);
        let (name, new) = if changes.is_empty() {
            let new = json!(format!("会社員{}", self.seq));
            changes = field_changes("basic.occupation", recent.field(templates, "basic.occupation"), &new);
            ("basic.occupation", new)
        } else {
            (name, new)
        };
        recent.set(name, new);
        let op = json!({"op_id": Uuid::now_v7(), "seq": self.seq, "entity": "case", "entity_id": recent.id,
                        "kind": "case.update", "payload": {"changes": changes}, "base_versions": {}});
        out.push_str(&op.to_string());
    }
}

/// The tables a push writes, with their primary keys (for keyset paging).
const TABLES: &[(&str, &[&str], &[&str])] = &[
    ("record", &["entity", "entity_id", "case_id", "doc", "versions", "created_seq", "last_seq"], &["entity", "entity_id"]),
    ("case_access", &["case_id", "org"], &["org", "case_id"]),
    ("change_log", &["scope", "server_seq", "case_id", "body"], &["scope", "server_seq"]),
    ("applied_op", &["op_id", "result"], &["op_id"]),
    ("audit", &["seq", "at", "staff", "org", "device", "action", "entity", "entity_id", "prev_hash", "hash"], &["seq"]),
];

/// Copies every row the push run wrote into `to`; returns (rows, seconds
/// spent inserting — reading them back is not counted).
fn raw_bulk_copy(from: &Db, to: &Db) -> Result<(u64, f64), Box<dyn std::error::Error>> {
    const PAGE: i64 = 2000;
    let mut rows_total = 0u64;
    let mut spent = Duration::ZERO;
    for (table, cols, key) in TABLES {
        let key_list = key.join(", ");
        let mut after: Option<Vec<Val>> = None;
        loop {
            let page: Vec<Row> = from.tx(|tx| {
                let key_marks: Vec<String> = (1..=key.len()).map(|i| format!("${i}")).collect();
                match &after {
                    None => tx.query(&format!("SELECT {} FROM {table} ORDER BY {key_list} LIMIT {PAGE}", cols.join(", ")), &[]),
                    Some(k) => tx.query(
                        &format!(
                            "SELECT {} FROM {table} WHERE ({key_list}) > ({}) ORDER BY {key_list} LIMIT {PAGE}",
                            cols.join(", "),
                            key_marks.join(", ")
                        ),
                        k,
                    ),
                }
            })?;
            if page.is_empty() {
                break;
            }
            let last = page.last().expect("a row");
            after = Some(key.iter().map(|k| last[cols.iter().position(|c| c == k).expect("key column")].clone()).collect());
            let t0 = Instant::now();
            to.tx(|tx| insert_rows(tx, table, cols, &page))?;
            spent += t0.elapsed();
            rows_total += page.len() as u64;
            if (page.len() as i64) < PAGE {
                break;
            }
        }
    }
    Ok((rows_total, spent.as_secs_f64()))
}

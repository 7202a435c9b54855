//! R1 — a deterministic, seeded simulation of SYNC.md (TARGETS R1).
//!
//! Each seed: one server (the real `todoke-server` router and push/pull
//! logic on a SQLite file, driven in-process through its HTTP surface) and
//! four desks (real encrypted SQLite files: two at 中央保健所 HC9901, one at
//! 北保健所 HC9902, one at the prefecture P99), each with the real
//! [`SyncEngine`] over a transport that injects faults: request lost,
//! response lost after commit, duplicated request, delayed request delivered
//! later (reordered), 429 with Retry-After, partition, desk crash in the
//! middle of applying a page (engine dropped, desk reopened from its file),
//! server restart. Desks create and edit cases (often the same fields with
//! few values, so conflicts and no-op writes happen), add observations,
//! transfer cases between health centres (scope left / entered) and resolve
//! conflicts. Then the faults stop, every desk syncs until quiet, and the
//! properties are checked — property 6 with the edits desks pushed after a
//! transfer took the case away (`left_scope_writes`: applied or conflicts,
//! never refused for lack of access).
//!
//! `TODOKE_SIM_SEEDS=n` runs n seeds (default 1500), `TODOKE_SIM_SEED=s`
//! replays one seed with a trace.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, Utc};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use todoke_domain::{Actor, Case, Contact, Observation, TestRecord, TestResult};
use todoke_protocol::{Change, ErrorBody, PullRequest, PullResponse, PushRequest, PushResponse};
use todoke_server::{AppState, Db};
use todoke_store::{Desk, Durability, MemoryKeys, OpStatus};
use todoke_sync::{SyncEngine, SyncOptions, Transport, TransportError};
use tower::ServiceExt;
use uuid::Uuid;

const T0: i64 = 1_800_000_000;

/// (login, org, device) of each desk.
const DESKS: &[(&str, &str, &str)] =
    &[("chuo", "HC9901", "sim-a"), ("chuo", "HC9901", "sim-b"), ("kita", "HC9902", "sim-c"), ("ken", "P99", "sim-d")];

struct Template {
    _dir: tempfile::TempDir,
    server_db: PathBuf,
    tokens: Vec<String>,
}

fn scratch_root() -> PathBuf {
    // RAM-backed when there is one: the simulation is about logic, not disks.
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

async fn call(
    router: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<String>,
) -> (StatusCode, Vec<u8>, Option<u64>) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req.header("content-type", "application/json").body(Body::from(b)).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let retry_after = res.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, bytes, retry_after)
}

fn clock() -> todoke_server::Clock {
    let t = Arc::new(AtomicI64::new(T0));
    Arc::new(move || DateTime::<Utc>::from_timestamp(t.load(Ordering::SeqCst), 0).unwrap())
}

fn template() -> &'static Template {
    static T: OnceLock<Template> = OnceLock::new();
    T.get_or_init(|| {
        let dir = tempfile::tempdir_in(scratch_root()).unwrap();
        let server_db = dir.path().join("server.db");
        let db = Db::open(server_db.to_str().unwrap()).unwrap();
        let users = todoke_server::demo::seed(&db).unwrap();
        let time = Arc::new(AtomicI64::new(T0 - 200));
        let t = time.clone();
        let mut state = AppState::new(db);
        state.clock = Arc::new(move || DateTime::<Utc>::from_timestamp(t.load(Ordering::SeqCst), 0).unwrap());
        let router = todoke_server::app(state);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let tokens = rt.block_on(async {
            let mut tokens = Vec::new();
            for (login, _, device) in DESKS {
                time.fetch_add(30, Ordering::SeqCst);
                let u = users.iter().find(|u| u.login == *login).unwrap();
                let otp = todoke_server::credentials::totp_now(&u.totp_secret, time.load(Ordering::SeqCst));
                let body = serde_json::json!({"login": login, "password": u.password, "otp": otp, "device_id": device}).to_string();
                let (s, b, _) = call(&router, Method::POST, "/api/auth/login", None, Some(body)).await;
                assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
                let v: Value = serde_json::from_slice(&b).unwrap();
                tokens.push(v["access_token"].as_str().unwrap().to_string());
            }
            tokens
        });
        drop(router);
        drop(rt);
        Template { _dir: dir, server_db, tokens }
    })
}

/// Fault rates of one run.
#[derive(Clone, Copy)]
struct Faults {
    on: bool,
    lost_request: f64,
    lost_response: f64,
    duplicate: f64,
    delay: f64,
    busy: f64,
}

enum Delayed {
    Push(String, String),
    Pull(String, String),
}

/// The network and the server, shared by the desks' transports.
struct Net {
    router: Router,
    db_path: PathBuf,
    rng: ChaCha8Rng,
    faults: Faults,
    delayed: Vec<Delayed>,
    partition: Vec<u32>,
    stats: BTreeMap<&'static str, u64>,
    /// (desk, cursor) of every pull that reached the server.
    pulls: Vec<(usize, Option<String>)>,
}

impl Net {
    fn restart(&mut self) {
        let mut state = AppState::new(Db::open(self.db_path.to_str().unwrap()).unwrap());
        state.clock = clock();
        self.router = todoke_server::app(state);
        *self.stats.entry("server_restart").or_default() += 1;
    }
}

struct SimTransport {
    net: Rc<RefCell<Net>>,
    desk: usize,
    token: String,
}

enum Fate {
    Deliver,
    LostRequest,
    LostResponse,
    Duplicate,
    Delay,
    Busy,
}

impl SimTransport {
    fn fate(&self) -> Fate {
        let mut net = self.net.borrow_mut();
        if net.partition[self.desk] > 0 {
            net.partition[self.desk] -= 1;
            *net.stats.entry("partitioned").or_default() += 1;
            return Fate::LostRequest;
        }
        let f = net.faults;
        if !f.on {
            return Fate::Deliver;
        }
        let x: f64 = net.rng.gen();
        let (fate, name) = if x < f.lost_request {
            (Fate::LostRequest, "lost_request")
        } else if x < f.lost_request + f.lost_response {
            (Fate::LostResponse, "lost_response")
        } else if x < f.lost_request + f.lost_response + f.duplicate {
            (Fate::Duplicate, "duplicate")
        } else if x < f.lost_request + f.lost_response + f.duplicate + f.delay {
            (Fate::Delay, "delayed")
        } else if x < f.lost_request + f.lost_response + f.duplicate + f.delay + f.busy {
            (Fate::Busy, "busy")
        } else {
            (Fate::Deliver, "delivered")
        };
        *net.stats.entry(name).or_default() += 1;
        fate
    }

    async fn exchange(&self, method: Method, path: String, body: Option<String>) -> Result<Vec<u8>, TransportError> {
        let fate = self.fate();
        let router = self.net.borrow().router.clone();
        let go = || call(&router, method.clone(), &path, Some(&self.token), body.clone());
        let (status, bytes, retry_after) = match fate {
            Fate::LostRequest => return Err(TransportError::Network("lost request".into())),
            Fate::Busy => return Err(TransportError::Busy { retry_after: Some(Duration::from_secs(1)) }),
            Fate::Delay => {
                let d = if method == Method::POST {
                    Delayed::Push(self.token.clone(), body.clone().unwrap())
                } else {
                    Delayed::Pull(self.token.clone(), path.clone())
                };
                self.net.borrow_mut().delayed.push(d);
                return Err(TransportError::Network("time-out".into()));
            }
            Fate::LostResponse => {
                go().await;
                return Err(TransportError::Network("lost response".into()));
            }
            Fate::Duplicate => {
                go().await;
                go().await
            }
            Fate::Deliver => go().await,
        };
        match status {
            StatusCode::OK => Ok(bytes),
            StatusCode::TOO_MANY_REQUESTS => Err(TransportError::Busy { retry_after: retry_after.map(Duration::from_secs) }),
            StatusCode::UNAUTHORIZED => Err(TransportError::Unauthorized),
            s if s.is_server_error() => Err(TransportError::Server(String::from_utf8_lossy(&bytes).into())),
            _ => Err(TransportError::Refused(serde_json::from_slice::<ErrorBody>(&bytes).unwrap())),
        }
    }
}

impl Transport for SimTransport {
    async fn push(&self, req: &PushRequest) -> Result<PushResponse, TransportError> {
        let bytes = self.exchange(Method::POST, "/api/sync/push".into(), Some(serde_json::to_string(req).unwrap())).await?;
        Ok(serde_json::from_slice(&bytes).unwrap())
    }

    async fn pull(&self, req: &PullRequest) -> Result<PullResponse, TransportError> {
        let mut path = format!("/api/sync/pull?limit={}", req.limit.unwrap_or(500));
        if let Some(c) = &req.cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        if self.net.borrow().partition[self.desk] == 0 {
            self.net.borrow_mut().pulls.push((self.desk, req.cursor.clone()));
        }
        let bytes = self.exchange(Method::GET, path, None).await?;
        Ok(serde_json::from_slice(&bytes).unwrap())
    }

    async fn pause(&self, _d: Duration) {
        // Simulated time: the delay chosen is recorded by the engine, not slept.
    }
}

/// What the simulation knows of an op it made.
#[derive(Debug, Clone)]
struct Made {
    desk: usize,
    kind: String,
    entity_id: String,
    base_versions: Value,
}

struct SimDesk {
    dir: PathBuf,
    org: &'static str,
    actor: Actor,
    engine: Option<SyncEngine<SimTransport>>,
    seen_seq: i64,
}

struct World {
    seed: u64,
    rng: ChaCha8Rng,
    net: Rc<RefCell<Net>>,
    desks: Vec<SimDesk>,
    keys: MemoryKeys,
    made: HashMap<Uuid, Made>,
    trace: Vec<String>,
    verbose: bool,
    _dir: tempfile::TempDir,
}

const NAMES: &[&str] = &["山田 太郎", "佐藤 花子", "鈴木 一郎"];
const PHONES: &[&str] = &["03-1111-2222", "090-3333-4444", "080-5555-6666"];
const JOBS: &[&str] = &["会社員", "教員", "学生"];
const INSTITUTIONS: &[&str] = &["中央病院", "北クリニック"];

fn opts(seed: u64, desk: usize) -> SyncOptions {
    SyncOptions {
        push_batch: 1 + (seed as usize + desk) % 4,
        pull_limit: 1 + (seed as u32 + desk as u32) % 5,
        max_retries: 3,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(5),
        jitter_seed: Some(seed ^ desk as u64),
    }
}

impl World {
    fn new(seed: u64, verbose: bool) -> World {
        let t = template();
        let dir = tempfile::tempdir_in(scratch_root()).unwrap();
        let db_path = dir.path().join("server.db");
        std::fs::copy(&t.server_db, &db_path).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let scale = rng.gen_range(0.0..1.0f64);
        let faults = Faults {
            on: true,
            lost_request: 0.08 * scale,
            lost_response: 0.10 * scale,
            duplicate: 0.05 * scale,
            delay: 0.05 * scale,
            busy: 0.05 * scale,
        };
        let mut state = AppState::new(Db::open(db_path.to_str().unwrap()).unwrap());
        state.clock = clock();
        let net = Rc::new(RefCell::new(Net {
            router: todoke_server::app(state),
            db_path,
            rng: ChaCha8Rng::seed_from_u64(seed.wrapping_mul(31).wrapping_add(7)),
            faults,
            delayed: Vec::new(),
            partition: vec![0; DESKS.len()],
            stats: BTreeMap::new(),
            pulls: Vec::new(),
        }));
        let keys = MemoryKeys::fixed([7; 32]);
        let mut desks = Vec::new();
        for (i, (login, org, _)) in DESKS.iter().enumerate() {
            let ddir = dir.path().join(format!("desk{i}"));
            let desk = Desk::init(&ddir, &keys).unwrap();
            desk.set_durability(Durability::ProcessCrash).unwrap();
            let transport = SimTransport { net: net.clone(), desk: i, token: t.tokens[i].clone() };
            let engine = SyncEngine::new(desk, transport, org, opts(seed, i));
            desks.push(SimDesk {
                dir: ddir,
                org,
                actor: Actor { login: login.to_string(), org_code: org.to_string() },
                engine: Some(engine),
                seen_seq: 0,
            });
        }
        World { seed, rng, net, desks, keys, made: HashMap::new(), trace: Vec::new(), verbose, _dir: dir }
    }

    fn log(&mut self, s: String) {
        if self.verbose {
            eprintln!("{s}");
        }
        self.trace.push(s);
    }

    fn desk(&mut self, i: usize) -> &mut Desk {
        self.desks[i].engine.as_mut().unwrap().desk_mut()
    }

    /// Notes the ops a local action wrote.
    fn note_ops(&mut self, i: usize) {
        let seen = self.desks[i].seen_seq;
        let ops = self.desk(i).outbox_all().unwrap();
        for op in ops.into_iter().filter(|o| o.seq > seen) {
            self.desks[i].seen_seq = self.desks[i].seen_seq.max(op.seq);
            self.made.insert(
                op.op_id,
                Made { desk: i, kind: op.kind.clone(), entity_id: op.entity_id.clone(), base_versions: op.base_versions.clone() },
            );
        }
    }

    fn create(&mut self, i: usize) {
        let org = self.desks[i].org;
        let responsible = if org == "P99" { ["HC9901", "HC9902"][self.rng.gen_range(0..2)] } else { org };
        let mut case = Case { id: Uuid::now_v7(), ..Default::default() };
        case.basic.name = NAMES[self.rng.gen_range(0..NAMES.len())].into();
        case.jurisdiction.responsible_health_centre = responsible.into();
        let actor = self.desks[i].actor.clone();
        self.desk(i).create_case(&case, &actor).unwrap();
        self.log(format!("desk{i} create {} for {responsible}", case.id));
        self.note_ops(i);
    }

    fn pick_case(&mut self, i: usize) -> Option<Case> {
        let ids = self.desk(i).case_ids().unwrap();
        if ids.is_empty() {
            return None;
        }
        let id = ids[self.rng.gen_range(0..ids.len())];
        self.desk(i).get_case(id).unwrap()
    }

    fn edit(&mut self, i: usize) {
        let Some(mut case) = self.pick_case(i) else { return };
        let what = self.rng.gen_range(0..18);
        let field = match what {
            0..=2 => {
                case.basic.name = NAMES[self.rng.gen_range(0..NAMES.len())].into();
                "name"
            }
            3..=5 => {
                case.basic.phone = PHONES[self.rng.gen_range(0..PHONES.len())].into();
                "phone"
            }
            6..=8 => {
                case.basic.occupation = JOBS[self.rng.gen_range(0..JOBS.len())].into();
                "occupation"
            }
            9 => {
                let hc = if case.jurisdiction.responsible_health_centre == "HC9901" { "HC9902" } else { "HC9901" };
                case.jurisdiction.responsible_health_centre = hc.into();
                "transfer"
            }
            // List items, addressed by their own ids: added, edited, removed (tests and contacts).
            10 | 11 => {
                let result = [TestResult::Positive, TestResult::Negative, TestResult::Unknown][self.rng.gen_range(0..3)];
                case.tests.push(TestRecord { id: Uuid::now_v7(), result: Some(result), ..Default::default() });
                "test added"
            }
            12 | 13 if !case.tests.is_empty() => {
                let k = self.rng.gen_range(0..case.tests.len());
                if self.rng.gen_bool(0.5) {
                    case.tests[k].institution = INSTITUTIONS[self.rng.gen_range(0..INSTITUTIONS.len())].into();
                } else {
                    case.tests[k].result = Some([TestResult::Positive, TestResult::Negative][self.rng.gen_range(0..2)]);
                }
                "test edited"
            }
            14 if !case.tests.is_empty() => {
                let k = self.rng.gen_range(0..case.tests.len());
                case.tests.remove(k);
                "test removed"
            }
            15 => {
                let name = NAMES[self.rng.gen_range(0..NAMES.len())].into();
                case.investigation.contacts.push(Contact { id: Uuid::now_v7(), name, ..Default::default() });
                "contact added"
            }
            16 if !case.investigation.contacts.is_empty() => {
                let k = self.rng.gen_range(0..case.investigation.contacts.len());
                case.investigation.contacts[k].phone = PHONES[self.rng.gen_range(0..PHONES.len())].into();
                "contact edited"
            }
            17 if !case.investigation.contacts.is_empty() => {
                let k = self.rng.gen_range(0..case.investigation.contacts.len());
                case.investigation.contacts.remove(k);
                "contact removed"
            }
            _ => return,
        };
        let actor = self.desks[i].actor.clone();
        self.desk(i).update_case(&case, &actor).unwrap();
        self.log(format!("desk{i} edit {} {field}", case.id));
        self.note_ops(i);
    }

    fn observe(&mut self, i: usize) {
        let Some(case) = self.pick_case(i) else { return };
        let obs = Observation {
            id: Uuid::now_v7(),
            case_id: case.id,
            temperature: Some([36.5, 37.5, 38.25][self.rng.gen_range(0..3)]),
            ..Default::default()
        };
        let actor = self.desks[i].actor.clone();
        self.desk(i).add_observation(&obs, &actor).unwrap();
        self.log(format!("desk{i} observation {} of {}", obs.id, case.id));
        self.note_ops(i);
    }

    fn resolve(&mut self, i: usize) {
        let open: Vec<_> = self.desk(i).conflicts(true).unwrap().into_iter().filter(|c| !c.resolution_pending).collect();
        if open.is_empty() {
            return;
        }
        let c = open[self.rng.gen_range(0..open.len())].clone();
        let value = if self.rng.gen_bool(0.5) { c.server_value.clone() } else { c.client_value.clone() };
        self.desk(i).queue_conflict_resolution(c.conflict_id, value).unwrap();
        self.log(format!("desk{i} resolve {}", c.conflict_id));
        self.note_ops(i);
    }

    fn sync(&mut self, i: usize, rt: &tokio::runtime::Runtime) -> Result<todoke_sync::SyncReport, todoke_sync::SyncError> {
        let engine = self.desks[i].engine.as_mut().unwrap();
        let r = rt.block_on(engine.sync());
        self.check_backoff(i);
        self.log(format!(
            "desk{i} sync → {}",
            match &r {
                Ok(rep) => format!("ok {rep:?}"),
                Err(e) => format!("err {}", e.code),
            }
        ));
        r
    }

    fn check_backoff(&mut self, i: usize) {
        let engine = self.desks[i].engine.as_mut().unwrap();
        for d in engine.delays.drain(..) {
            assert!(d <= Duration::from_secs(5), "seed {}: back-off {d:?} above its cap", self.seed);
        }
    }

    /// The desk crashes in the middle of applying a page and starts again from its file.
    fn crash(&mut self, i: usize, rt: &tokio::runtime::Runtime) {
        let after = self.rng.gen_range(0..4);
        self.desks[i].engine.as_mut().unwrap().crash_next_apply(after);
        let _ = self.sync(i, rt);
        let engine = self.desks[i].engine.take().unwrap();
        drop(engine);
        let desk = Desk::open(&self.desks[i].dir, &self.keys).unwrap();
        desk.set_durability(Durability::ProcessCrash).unwrap();
        let transport = SimTransport { net: self.net.clone(), desk: i, token: template().tokens[i].clone() };
        self.desks[i].engine = Some(SyncEngine::new(desk, transport, self.desks[i].org, opts(self.seed, i)));
        self.log(format!("desk{i} crashed mid-apply after {after} changes, reopened"));
    }

    fn deliver_delayed(&mut self, rt: &tokio::runtime::Runtime) {
        let delayed: Vec<Delayed> = std::mem::take(&mut self.net.borrow_mut().delayed);
        let router = self.net.borrow().router.clone();
        let n = delayed.len();
        rt.block_on(async {
            for d in delayed.into_iter().rev() {
                match d {
                    Delayed::Push(token, body) => call(&router, Method::POST, "/api/sync/push", Some(&token), Some(body)).await,
                    Delayed::Pull(token, path) => call(&router, Method::GET, &path, Some(&token), None).await,
                };
            }
        });
        if n > 0 {
            self.log(format!("{n} delayed requests delivered late, newest first"));
        }
    }

    fn run(&mut self) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let steps = self.rng.gen_range(20..60);
        for _ in 0..steps {
            let i = self.rng.gen_range(0..self.desks.len());
            match self.rng.gen_range(0..100) {
                0..=14 => self.create(i),
                15..=44 => self.edit(i),
                45..=52 => self.observe(i),
                53..=58 => self.resolve(i),
                59..=85 => {
                    let _ = self.sync(i, &rt);
                }
                86..=89 => self.crash(i, &rt),
                90..=92 => {
                    self.net.borrow_mut().restart();
                    self.log("server restart".into());
                }
                93..=95 => {
                    let k = self.rng.gen_range(1..8);
                    self.net.borrow_mut().partition[i] = k;
                    self.log(format!("desk{i} partitioned for {k} requests"));
                }
                _ => self.deliver_delayed(&rt),
            }
        }
        // Heal: late requests arrive, the faults stop, everyone syncs until quiet.
        self.deliver_delayed(&rt);
        {
            let mut net = self.net.borrow_mut();
            net.faults.on = false;
            net.partition.iter_mut().for_each(|p| *p = 0);
        }
        // Quiet: a whole round in which no desk sent or received anything.
        for round in 0.. {
            let mut busy = false;
            for i in 0..self.desks.len() {
                match self.sync(i, &rt) {
                    Ok(r) => busy |= r.applied + r.conflicts + r.rejected + r.changes_pulled + r.cases_removed > 0,
                    Err(e) => self.fail(&format!("never stuck: desk{i} cannot sync without faults (round {round}): {e}")),
                }
            }
            if !busy {
                break;
            }
            if round == 8 {
                self.fail("never stuck: still exchanging changes after 8 rounds without faults");
            }
        }
    }

    fn fail(&self, what: &str) -> ! {
        let stats = &self.net.borrow().stats;
        panic!(
            "SYNC.md property violated, seed {seed}: {what}\nreplay: TODOKE_SIM_SEED={seed} cargo test -p todoke-sync --test sim -- --nocapture\nfaults: {stats:?}\ntrace:\n{}",
            self.trace.join("\n"),
            seed = self.seed
        )
    }

    fn check(&mut self) {
        let path = self.net.borrow().db_path.clone();
        let server = rusqlite::Connection::open(&path).unwrap();
        // 1. Nothing lost: every op made is answered on the server and on its desk.
        let answered: HashMap<String, String> = server
            .prepare("SELECT op_id, result FROM applied_op")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for (op, made) in &self.made {
            if !answered.contains_key(&op.to_string()) {
                self.fail(&format!("nothing lost: op {op} ({}) of desk{} never reached the server", made.kind, made.desk));
            }
        }
        for i in 0..self.desks.len() {
            let desk = self.desks[i].engine.as_ref().unwrap().desk();
            for op in desk.outbox_all().unwrap() {
                if matches!(op.status, OpStatus::Pending | OpStatus::Sent) {
                    self.fail(&format!("nothing lost / never stuck: desk{i} op {} still {:?}", op.op_id, op.status));
                }
                let server_result: Value = serde_json::from_str(&answered[&op.op_id.to_string()]).unwrap();
                if server_result["status"] != op.status.code() {
                    self.fail(&format!("desk{i} op {} is {:?} here but {} on the server", op.op_id, op.status, server_result["status"]));
                }
            }
            if desk.integrity_check().unwrap() != ["ok"] {
                self.fail(&format!("desk{i} integrity_check"));
            }
        }
        // 2. Exactly-once effect: no op wrote twice (one patch per op and scope).
        let log: Vec<(String, i64, String)> = server
            .prepare("SELECT scope, server_seq, body FROM change_log ORDER BY server_seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut per_op: HashMap<(String, Uuid), usize> = HashMap::new();
        for (scope, _, body) in &log {
            if let Ok(Change::Patch { op_id: Some(op), .. }) = serde_json::from_str::<Change>(body) {
                *per_op.entry((scope.clone(), op)).or_default() += 1;
                if per_op[&(scope.clone(), op)] > 1 {
                    self.fail(&format!("exactly once: op {op} patched twice in scope {scope}"));
                }
            }
        }
        // 3. No silent overwrite: a write over another desk's value needs a base that saw it.
        let devices: Vec<&str> = DESKS.iter().map(|d| d.2).collect();
        let mut writers: HashMap<(String, String), (i64, usize)> = HashMap::new();
        for (scope, seq, body) in &log {
            if scope != "P99" {
                continue;
            }
            match serde_json::from_str::<Change>(body).unwrap() {
                Change::Put { entity, entity_id, .. } if entity == "case" => {
                    // Created: every field written by the creating desk.
                    let creator =
                        self.made.values().find(|m| m.kind == "case.create" && m.entity_id == entity_id).map_or(usize::MAX, |m| m.desk);
                    writers.insert((entity_id, String::new()), (*seq, creator));
                }
                Change::Patch { entity_id, changes, op_id: Some(op), .. } => {
                    let Some(made) = self.made.get(&op) else { continue };
                    // A list's order (`list[]`) comes with each addition: the server's, no one's entry
                    // (the simulation never reorders by hand).
                    for c in changes.iter().filter(|c| !c.path.ends_with("[]")) {
                        let prev = writers
                            .iter()
                            .filter(|((id, p), _)| id == &entity_id && (overlaps(p, &c.path)))
                            .map(|(_, v)| *v)
                            .max_by_key(|(s, _)| *s);
                        if let Some((prev_seq, prev_desk)) = prev {
                            let base = made.base_versions.get(&c.path).and_then(Value::as_i64).unwrap_or(0);
                            if made.kind == "case.update" && prev_desk != usize::MAX && prev_desk != made.desk && base < prev_seq {
                                self.fail(&format!(
                                    "no silent overwrite: op {op} of {} wrote {} over {}'s write at {prev_seq} with base {base}",
                                    devices[made.desk], c.path, devices[prev_desk]
                                ));
                            }
                        }
                        writers.insert((entity_id.clone(), c.path.clone()), (*seq, made.desk));
                    }
                }
                _ => {}
            }
        }
        // Every op answered "conflict" left conflict records with both values and both authors.
        for (op, made) in &self.made {
            let result: Value = serde_json::from_str(&answered[&op.to_string()]).unwrap();
            if result["status"] == "conflict" {
                for c in result["conflicts"].as_array().unwrap() {
                    let row: (String, String, String, String) = server
                        .query_row(
                            "SELECT server_value, client_value, server_author, client_author FROM conflict WHERE id = ?1",
                            [c["conflict_id"].as_str().unwrap()],
                            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                        )
                        .unwrap();
                    if row.0 == row.1 || row.2.is_empty() || !row.3.ends_with(devices[made.desk]) {
                        self.fail(&format!("no silent overwrite: conflict of op {op} lacks a value or an author: {row:?}"));
                    }
                }
            }
        }
        // 4. Append-only facts never conflict: observations from every desk all arrive, none in a conflict.
        let observation_conflicts: i64 =
            server.query_row("SELECT count(*) FROM conflict WHERE entity <> 'case'", [], |r| r.get(0)).unwrap();
        if observation_conflicts > 0 {
            self.fail("append-only: an observation was recorded as a conflict");
        }
        for (op, made) in &self.made {
            let result: Value = serde_json::from_str(&answered[&op.to_string()]).unwrap();
            if made.kind == "observation.add" && result["status"] == "conflict" {
                self.fail(&format!("append-only: observation op {op} answered conflict"));
            }
        }
        // 6. Jurisdiction: nothing is refused for lack of access. Every op here is about a case its
        // desk held (created or received), so edits pushed after a transfer took the case away
        // are applied or recorded as conflicts; and such a conflict tells the desk nothing of
        // the value it met (it may no longer see the case).
        for (op, made) in &self.made {
            let result: Value = serde_json::from_str(&answered[&op.to_string()]).unwrap();
            if result["code"] == "out_of_scope" {
                self.fail(&format!("jurisdiction: op {op} ({}) of desk{} refused out_of_scope: {result}", made.kind, made.desk));
            }
            for c in result["conflicts"].as_array().into_iter().flatten() {
                if c["withheld"] == true && !c["server_value"].is_null() {
                    self.fail(&format!("jurisdiction: op {op} was told the value of a case it left: {c}"));
                }
            }
        }
        let left_scope_writes: i64 = server
            .query_row("SELECT count(*) FROM audit WHERE action IN ('update_left_scope', 'create_left_scope')", [], |r| r.get(0))
            .unwrap();
        *self.net.borrow_mut().stats.entry("left_scope_writes").or_default() += left_scope_writes as u64;
        // 5 + 6. Convergence and jurisdiction: each desk holds exactly the cases it may see, as the server has them.
        for i in 0..self.desks.len() {
            let org = self.desks[i].org;
            let visible: BTreeSet<String> = server
                .prepare("SELECT case_id FROM case_access WHERE org = ?1")
                .unwrap()
                .query_map([org], |r| r.get(0))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let desk = self.desks[i].engine.as_ref().unwrap().desk();
            let held: BTreeSet<String> = desk.case_ids().unwrap().iter().map(|u| u.to_string()).collect();
            if held != visible {
                self.fail(&format!(
                    "convergence/jurisdiction: desk{i} ({org}) holds {:?} but may see {:?}",
                    held.difference(&visible).collect::<Vec<_>>(),
                    visible.difference(&held).collect::<Vec<_>>()
                ));
            }
            for id in &visible {
                let doc: String =
                    server.query_row("SELECT doc FROM record WHERE entity = 'case' AND entity_id = ?1", [id], |r| r.get(0)).unwrap();
                let mut theirs: Case = serde_json::from_str(&doc).unwrap();
                let mut mine = desk.get_case(Uuid::parse_str(id).unwrap()).unwrap().unwrap();
                // updated_at is display-only wall-clock time (property 9), not synced state.
                theirs.updated_at = None;
                mine.updated_at = None;
                if mine != theirs {
                    let diff = todoke_domain::diff::changes(&theirs, &mine);
                    self.fail(&format!("convergence: desk{i} case {id} differs from the server: {diff:?}"));
                }
                let server_obs: BTreeSet<String> = server
                    .prepare("SELECT entity_id FROM record WHERE entity = 'observation' AND case_id = ?1")
                    .unwrap()
                    .query_map([id], |r| r.get(0))
                    .unwrap()
                    .map(|r| r.unwrap())
                    .collect();
                let desk_obs: BTreeSet<String> =
                    desk.observation_ids(Uuid::parse_str(id).unwrap()).unwrap().iter().map(|u| u.to_string()).collect();
                if server_obs != desk_obs {
                    self.fail(&format!("convergence: desk{i} observations of {id}: {desk_obs:?} vs server {server_obs:?}"));
                }
            }
            for c in desk.conflicts(false).unwrap() {
                let status: String =
                    server.query_row("SELECT status FROM conflict WHERE id = ?1", [c.conflict_id.to_string()], |r| r.get(0)).unwrap();
                if status != c.status {
                    self.fail(&format!("convergence: desk{i} conflict {} is {} here, {status} on the server", c.conflict_id, c.status));
                }
            }
        }
    }
}

fn overlaps(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| {
        outer.is_empty() || inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
    };
    inside(a, b) || inside(b, a)
}

fn run_seed(seed: u64, verbose: bool) -> BTreeMap<&'static str, u64> {
    let t0 = std::time::Instant::now();
    let mut w = World::new(seed, verbose);
    let t1 = std::time::Instant::now();
    w.run();
    let t2 = std::time::Instant::now();
    w.check();
    let t3 = std::time::Instant::now();
    let mut stats = w.net.borrow().stats.clone();
    stats.insert("ms_setup", (t1 - t0).as_millis() as u64);
    stats.insert("ms_run", (t2 - t1).as_millis() as u64);
    stats.insert("ms_check", (t3 - t2).as_millis() as u64);
    drop(w);
    stats.insert("ms_teardown", t3.elapsed().as_millis() as u64);
    stats
}

#[test]
fn seeded_simulation_keeps_every_sync_property() {
    if let Ok(seed) = std::env::var("TODOKE_SIM_SEED") {
        let stats = run_seed(seed.parse().expect("TODOKE_SIM_SEED is a number"), true);
        eprintln!("seed {seed} ok: {stats:?}");
        return;
    }
    let n: u64 = std::env::var("TODOKE_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1500);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4) as u64;
    let started = std::time::Instant::now();
    let totals: Vec<BTreeMap<&'static str, u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    let mut total: BTreeMap<&'static str, u64> = BTreeMap::new();
                    let mut seed = t;
                    while seed < n {
                        for (k, v) in run_seed(seed, false) {
                            *total.entry(k).or_default() += v;
                        }
                        seed += threads;
                    }
                    total
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut total: BTreeMap<&'static str, u64> = BTreeMap::new();
    for t in totals {
        for (k, v) in t {
            *total.entry(k).or_default() += v;
        }
    }
    eprintln!("{n} seeds in {:.1} s, faults injected: {total:?}", started.elapsed().as_secs_f64());
    // The faults really happened (a simulation that injects nothing proves nothing).
    for k in ["lost_request", "lost_response", "duplicate", "delayed", "busy", "server_restart", "partitioned", "left_scope_writes"] {
        assert!(total.get(k).copied().unwrap_or(0) > 0 || n < 20, "no {k} injected in {n} seeds");
    }
}

/// A world with no random faults (targeted tests inject their own).
fn calm_world() -> (World, tokio::runtime::Runtime) {
    let w = World::new(1, false);
    w.net.borrow_mut().faults.on = false;
    (w, tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap())
}

fn engine_with(w: &mut World, i: usize, opts: SyncOptions) {
    let desk = w.desks[i].engine.take().unwrap().into_desk();
    let transport = SimTransport { net: w.net.clone(), desk: i, token: template().tokens[i].clone() };
    w.desks[i].engine = Some(SyncEngine::new(desk, transport, w.desks[i].org, opts));
}

/// Property 8: paged download, newest first, resumed from the saved cursor
/// after a broken line; a time-out never restarts it (property 7).
#[test]
fn download_resumes_where_it_stopped_newest_first() {
    let (mut w, rt) = calm_world();
    for _ in 0..12 {
        w.create(0);
    }
    w.sync(0, &rt).unwrap();
    let created = w.desk(0).case_ids().unwrap();
    let newest: BTreeSet<Uuid> = created[created.len() - 3..].iter().copied().collect();
    engine_with(&mut w, 3, SyncOptions { pull_limit: 3, max_retries: 2, jitter_seed: Some(1), ..SyncOptions::default() });
    let mut report = todoke_sync::SyncReport::default();
    let engine = w.desks[3].engine.as_mut().unwrap();
    assert!(rt.block_on(engine.pull_page(&mut report)).unwrap());
    assert_eq!(engine.desk().case_ids().unwrap().into_iter().collect::<BTreeSet<_>>(), newest, "the newest cases come first");
    assert!(rt.block_on(engine.pull_page(&mut report)).unwrap());
    let saved = engine.desk().sync_cursor("P99").unwrap();
    assert!(saved.is_some());
    // The line breaks for longer than the retries last.
    w.net.borrow_mut().partition[3] = 100;
    let err = w.sync(3, &rt).unwrap_err();
    assert_eq!(err.code, "offline");
    assert!(err.message_ja.contains("保存されたまま") && err.message_en.contains("kept on this desk"), "{err:?}");
    assert_eq!(w.desk(3).case_ids().unwrap().len(), 6, "the pages applied stay applied");
    w.net.borrow_mut().partition[3] = 0;
    let first_after = w.net.borrow().pulls.len();
    w.sync(3, &rt).unwrap();
    let pulls = w.net.borrow().pulls.clone();
    assert_eq!(pulls[first_after], (3, saved), "resumed from the saved cursor");
    assert_eq!(pulls.iter().filter(|(d, c)| *d == 3 && c.is_none()).count(), 1, "downloaded from the start once only");
    assert_eq!(w.desk(3).case_ids().unwrap().len(), 12);
}

/// Property 7: a refused op is parked with its reason in both languages and
/// never blocks the ops behind it.
#[test]
fn a_refused_op_is_parked_and_the_queue_goes_on() {
    let (mut w, rt) = calm_world();
    // 北保健所 enters a case for 中央保健所: outside its jurisdiction, refused.
    let mut case = Case { id: Uuid::now_v7(), ..Default::default() };
    case.basic.name = "管轄外 太郎".into();
    case.jurisdiction.responsible_health_centre = "HC9901".into();
    let actor = w.desks[2].actor.clone();
    w.desk(2).create_case(&case, &actor).unwrap();
    w.create(2);
    let r = w.sync(2, &rt).unwrap();
    assert_eq!((r.rejected, r.applied, r.unsent), (1, 1, 0), "{r:?}");
    let refused = w.desk(2).rejected_ops().unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].code, "out_of_scope");
    assert!(!refused[0].message_ja.is_empty() && !refused[0].message_en.is_empty());
    // Parked: the next sync does not send it again.
    let r = w.sync(2, &rt).unwrap();
    assert_eq!((r.rejected, r.applied), (0, 0));
}

/// Property 7: 429 with Retry-After is honoured, back-off grows with jitter and stays capped.
#[test]
fn busy_server_retry_after_and_capped_jittered_backoff() {
    let (mut w, rt) = calm_world();
    w.create(0);
    engine_with(
        &mut w,
        0,
        SyncOptions {
            max_retries: 6,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            jitter_seed: Some(9),
            ..SyncOptions::default()
        },
    );
    {
        let mut net = w.net.borrow_mut();
        net.faults = Faults { on: true, lost_request: 0.0, lost_response: 0.0, duplicate: 0.0, delay: 0.0, busy: 1.0 };
    }
    let engine = w.desks[0].engine.as_mut().unwrap();
    let err = rt.block_on(engine.sync()).unwrap_err();
    assert_eq!(err.code, "offline");
    let delays = engine.delays.clone();
    assert_eq!(delays.len(), 6);
    assert!(delays.iter().all(|d| *d >= Duration::from_secs(1)), "Retry-After: 1 is a floor: {delays:?}");
    assert!(delays.iter().all(|d| *d <= Duration::from_secs(2)), "capped: {delays:?}");
    // Without Retry-After: full jitter under a doubling cap.
    w.net.borrow_mut().faults.busy = 0.0;
    w.net.borrow_mut().faults.lost_request = 1.0;
    let engine = w.desks[0].engine.as_mut().unwrap();
    engine.delays.clear();
    let _ = rt.block_on(engine.sync());
    let delays = engine.delays.clone();
    for (n, d) in delays.iter().enumerate() {
        assert!(*d <= Duration::from_millis(100 << n).min(Duration::from_secs(2)), "attempt {n}: {d:?}");
    }
    assert!(delays.windows(2).any(|p| p[0] != p[1]), "jittered: {delays:?}");
    w.net.borrow_mut().faults.on = false;
    let r = w.sync(0, &rt).unwrap();
    assert_eq!((r.applied, r.unsent), (1, 0), "nothing lost meanwhile: {r:?}");
}

//! Sync between real processes: a `todoke-server` process on loopback and
//! two `todoke-cli` desks (separate folders and keys) that edit the same
//! case offline — different fields (merged), then the same field (exactly
//! one conflict, both values kept) — resolve it, and converge (SYNC.md 3, 5).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Newest modification time of the sources the server is built from.
fn newest_source() -> std::time::SystemTime {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut newest = std::time::SystemTime::UNIX_EPOCH;
    let mut dirs: Vec<PathBuf> =
        ["todoke-server", "todoke-protocol", "todoke-domain"].iter().map(|c| root.join("crates").join(c)).collect();
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let (path, meta) = (e.path(), e.metadata().unwrap());
            if meta.is_dir() {
                if path.file_name().is_some_and(|n| n != "target" && n != "tests") {
                    dirs.push(path);
                }
            } else {
                newest = newest.max(meta.modified().unwrap());
            }
        }
    }
    newest
}

/// The server binary beside `todoke-cli` (`cargo test --workspace` builds it);
/// built here when missing or older than its sources.
fn server_bin() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let bin = Path::new(env!("CARGO_BIN_EXE_todoke-cli")).with_file_name(format!("todoke-server{}", std::env::consts::EXE_SUFFIX));
            let fresh = std::fs::metadata(&bin).and_then(|m| m.modified()).is_ok_and(|t| t >= newest_source());
            if !fresh {
                let status =
                    Command::new(env!("CARGO")).args(["build", "-q", "-p", "todoke-server", "--bin", "todoke-server"]).status().unwrap();
                assert!(status.success(), "building todoke-server failed");
            }
            assert!(bin.exists(), "{} missing", bin.display());
            bin
        })
        .clone()
}

struct Server {
    child: Child,
    url: String,
    db: PathBuf,
    /// login → (password, TOTP secret)
    users: std::collections::HashMap<String, (String, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Server {
    fn start(dir: &Path) -> Server {
        let bin = server_bin();
        let db = dir.join("server.db");
        let out = Command::new(&bin).args(["seed-demo", "--db"]).arg(&db).output().unwrap();
        assert!(out.status.success(), "seed-demo: {}", String::from_utf8_lossy(&out.stderr));
        let mut users = std::collections::HashMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if let (Some(pw), Some(uri)) = (words.iter().position(|w| *w == "password"), words.iter().find(|w| w.starts_with("otpauth://")))
            {
                let secret = uri.split("secret=").nth(1).unwrap().split('&').next().unwrap().to_string();
                users.insert(words[0].to_string(), (words[pw + 1].to_string(), secret));
            }
        }
        assert!(users.contains_key("chuo") && users.contains_key("ken"), "seed-demo output: {}", String::from_utf8_lossy(&out.stdout));
        let port = free_port();
        let child = Command::new(&bin)
            .args(["serve", "--db"])
            .arg(&db)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, url, db, users }
    }

    fn otp(&self, login: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        todoke_server::credentials::totp_now(&self.users[login].1, now)
    }

    fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

struct Desk {
    dir: PathBuf,
    key: String,
}

impl Desk {
    fn new(root: &Path, name: &str, org: &str, key_byte: u8) -> Desk {
        let d = Desk { dir: root.join(name), key: format!("{key_byte:02x}").repeat(32) };
        d.ok(&["init", "--org", org], None);
        d
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_todoke-cli"));
        c.env("TODOKE_DESK_DIR", &self.dir).env("TODOKE_DESK_KEY", &self.key).env("TODOKE_USER", "staff").env("TODOKE_LANG", "en");
        c
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = self.cmd().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
        drop(input);
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "todoke-cli {args:?} failed ({:?}): {}", out.status, String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn login(&self, server: &Server, user: &str) {
        let password = server.users[user].0.clone();
        self.ok(&["login", "--server", &server.url, "--user", user, "--password-stdin", "--otp", &server.otp(user)], Some(&password));
    }

    fn sync(&self) -> Value {
        serde_json::from_str(&self.ok(&["sync", "--json"], None)).unwrap()
    }

    fn case(&self, id: &str) -> Value {
        let mut v: Value = serde_json::from_str(&self.ok(&["case", "show", id], None)).unwrap();
        // Wall-clock time of the last local save: display only (SYNC.md 9).
        v.as_object_mut().unwrap().remove("updated_at");
        v
    }

    fn edit(&self, id: &str, change: impl FnOnce(&mut Value)) {
        let mut v: Value = serde_json::from_str(&self.ok(&["case", "show", id], None)).unwrap();
        change(&mut v);
        self.ok(&["case", "edit", id, "-"], Some(&v.to_string()));
    }

    fn conflicts(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.ok(&["conflicts", "--json"], None)).unwrap().as_array().unwrap().clone()
    }
}

const CASE: &str = r#"{
  "basic": {
    "name": "山田 花子", "name_kana": "ヤマダ ハナコ", "birth_date": "1979-04-12", "sex": "female",
    "residence": { "prefecture_code": "13", "municipality_code": "131121", "text": "東京都世田谷区太子堂2-3-4" },
    "phone": "090-1111-2222"
  },
  "jurisdiction": { "responsible_health_centre": "HC9901" },
  "notification": { "diagnosis_class": "confirmed", "diagnosis_date": "2022-07-20" },
  "tests": [ { "method": "nucleic_acid", "specimen": "nasopharyngeal_swab", "collected_on": "2022-07-19", "result_on": "2022-07-20", "result": "positive" } ]
}"#;

#[test]
fn two_desks_merge_different_fields_and_resolve_one_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    // 中央保健所 and the prefecture over it: both may edit the centre's cases.
    let a = Desk::new(tmp.path(), "desk-a", "HC9901", 0x11);
    let b = Desk::new(tmp.path(), "desk-b", "P99", 0x22);
    a.login(&server, "chuo");
    b.login(&server, "ken");
    // The refresh token is not in the desk database's settings when a keyring… or anywhere printed.
    assert!(!a.ok(&["conflicts"], None).contains("refresh"));

    let id = a.ok(&["case", "new", "-"], Some(CASE)).trim().to_string();
    let r = a.sync();
    assert_eq!(r["applied"], 1, "{r}");
    assert_eq!(r["unsent"], 0);
    let r = b.sync();
    assert!(r["changes_pulled"].as_u64().unwrap() >= 1, "{r}");
    assert_eq!(a.case(&id), b.case(&id));

    // Offline, different fields: merged.
    a.edit(&id, |v| v["basic"]["phone"] = "090-9999-0000".into());
    b.edit(&id, |v| v["basic"]["occupation"] = "教員".into());
    assert_eq!(a.sync()["applied"], 1);
    let r = b.sync();
    assert_eq!((r["applied"].as_u64(), r["conflicts"].as_u64()), (Some(1), Some(0)), "{r}");
    a.sync();
    let (ca, cb) = (a.case(&id), b.case(&id));
    assert_eq!(ca, cb);
    assert_eq!(ca["basic"]["phone"], "090-9999-0000");
    assert_eq!(ca["basic"]["occupation"], "教員");

    // Offline, the same field: one conflict, both values kept, the first writer's value stands.
    a.edit(&id, |v| v["basic"]["name"] = "山田 華子".into());
    b.edit(&id, |v| v["basic"]["name"] = "山田 花江".into());
    assert_eq!(a.sync()["applied"], 1);
    let r = b.sync();
    assert_eq!(r["conflicts"], 1, "{r}");
    a.sync();
    assert_eq!(server.count("SELECT count(*) FROM conflict"), 1);
    let conflicts = b.conflicts();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    let c = &conflicts[0];
    assert_eq!(
        (c["field"].as_str(), c["server_value"].as_str(), c["client_value"].as_str()),
        (Some("basic.name"), Some("山田 華子"), Some("山田 花江"))
    );
    assert!(c["server_author"].as_str().unwrap().starts_with("chuo@HC9901/"), "{c}");
    assert!(c["client_author"].as_str().unwrap().starts_with("ken@P99/"), "{c}");
    // And when each value reached the server (server time), shown in Japan time.
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(c[k].as_str().unwrap_or_else(|| panic!("{k} missing: {c}"))).unwrap();
    let (server_at, client_at) = (at("server_at"), at("client_at"));
    assert!(server_at <= client_at, "{c}");
    assert!((chrono::Utc::now() - client_at.to_utc()).num_seconds().abs() < 120, "{c}");
    let shown = b.ok(&["conflicts"], None);
    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    for t in [server_at, client_at] {
        let local = t.with_timezone(&jst).format("%-d %b %Y %H:%M JST").to_string();
        assert!(shown.contains(&local), "{local} in {shown}");
    }
    let mut ja = b.cmd();
    let out = ja.env("TODOKE_LANG", "ja").args(["conflicts"]).output().unwrap();
    let local = client_at.with_timezone(&jst).format("%Y年%-m月%-d日 %H:%M").to_string();
    assert!(String::from_utf8_lossy(&out.stdout).contains(&local), "{local}");
    assert_eq!(a.conflicts().len(), 1, "the other desk sees the conflict too");
    assert_eq!(a.case(&id), b.case(&id), "until resolved both show the server's value");
    assert_eq!(b.case(&id)["basic"]["name"], "山田 華子");

    // A person resolves it on desk B; both converge on the chosen value.
    let cid = c["conflict_id"].as_str().unwrap().to_string();
    b.ok(&["resolve", &cid, "--keep", "mine"], None);
    assert_eq!(b.conflicts()[0]["resolution_pending"], true);
    b.sync();
    a.sync();
    for d in [&a, &b] {
        assert!(d.conflicts().is_empty(), "no open conflict left");
        assert_eq!(d.case(&id)["basic"]["name"], "山田 花江");
    }
    assert_eq!(a.case(&id), b.case(&id));
    assert_eq!(server.count("SELECT count(*) FROM conflict WHERE status = 'resolved'"), 1);
    // Nothing left unsent; a sync with nothing new changes nothing.
    let r = a.sync();
    assert_eq!((r["applied"].as_u64(), r["changes_pulled"].as_u64(), r["unsent"].as_u64()), (Some(0), Some(0), Some(0)), "{r}");
}

/// SYNC.md property 6 between real processes: desk A edits a case offline
/// while the prefecture hands it to another health centre; A's sync takes the
/// edit to the server (not refused for lack of access), then removes the case.
#[test]
fn an_edit_made_before_a_transfer_reaches_the_server_and_the_case_leaves() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let a = Desk::new(tmp.path(), "desk-a", "HC9901", 0x44);
    let b = Desk::new(tmp.path(), "desk-b", "P99", 0x55);
    a.login(&server, "chuo");
    b.login(&server, "ken");
    let id = a.ok(&["case", "new", "-"], Some(CASE)).trim().to_string();
    assert_eq!(a.sync()["applied"], 1);
    b.sync();
    a.edit(&id, |v| v["basic"]["phone"] = "080-7777-8888".into());
    b.edit(&id, |v| v["jurisdiction"]["responsible_health_centre"] = "HC9902".into());
    assert_eq!(b.sync()["applied"], 1);
    let r = a.sync();
    assert_eq!((r["applied"].as_u64(), r["rejected"].as_u64(), r["cases_removed"].as_u64()), (Some(1), Some(0), Some(1)), "{r}");
    assert_eq!(a.run(&["case", "show", &id], None).status.code(), Some(4), "the case left desk A");
    b.sync();
    let case = b.case(&id);
    assert_eq!(case["basic"]["phone"], "080-7777-8888", "A's edit reached those who see the case");
    assert_eq!(case["jurisdiction"]["responsible_health_centre"], "HC9902");
    assert_eq!(server.count("SELECT count(*) FROM case_access_left WHERE org = 'HC9901'"), 1);
}

#[test]
fn sync_without_sign_in_or_server_says_what_to_do_and_keeps_the_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = Desk::new(tmp.path(), "desk-a", "HC9901", 0x33);
    let id = a.ok(&["case", "new", "-"], Some(CASE)).trim().to_string();
    let out = a.run(&["sync"], None);
    assert_eq!(out.status.code(), Some(9), "sign-in needed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Sign in again"));
    // Signed in, then the server goes away: exit 8, the change stays queued.
    let server = Server::start(tmp.path());
    a.login(&server, "chuo");
    drop(server);
    let out = a.run(&["sync", "--max-retries", "2", "--base-delay-ms", "10"], None);
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept on this desk"));
    let detail: Value = serde_json::from_str(&a.ok(&["case", "show", &id, "--detail"], None)).unwrap();
    assert_eq!(detail["pending_ops"].as_array().unwrap().len(), 1);
}

/// A TCP proxy that breaks connections on purpose: refuses some (request
/// lost), forwards the request but drops the answer of others (response lost
/// after the server committed), slows some down.
struct FaultProxy {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl FaultProxy {
    fn start(upstream: u16, seed: u64) -> FaultProxy {
        use std::io::{Read, Write};
        use std::net::{Shutdown, TcpListener, TcpStream};
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(AtomicU64::new(seed.wrapping_mul(6364136223846793005).wrapping_add(1)));
        let stop2 = stop.clone();
        std::thread::spawn(move || {
            while !stop2.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                client.set_nonblocking(false).unwrap();
                // xorshift: deterministic per seed, per connection.
                let mut x = state.load(Ordering::SeqCst);
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                state.store(x, Ordering::SeqCst);
                let mode = x % 10; // 0-1 refuse, 2-3 lose the answer, 4 slow, else pass
                if mode < 2 {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let (mut c_read, mut s_write) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match c_read.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if mode == 4 {
                                    std::thread::sleep(Duration::from_millis(150));
                                }
                                if s_write.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = s_write.shutdown(Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match s_read.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if mode == 2 || mode == 3 {
                                    // The server has answered (and committed): the answer is lost.
                                    break;
                                }
                                if c_write.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = c_write.shutdown(Shutdown::Both);
                });
            }
        });
        FaultProxy { port, stop }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// R2: a desk syncing through a fault-injecting proxy is killed (-9) in the
/// middle of syncs, again and again, with edits in between. Afterwards no
/// op is lost or applied twice, the desk database passes `integrity_check`
/// after every kill, and desk and server hold the same cases.
#[test]
fn kill_9_during_sync_through_a_faulty_line_loses_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start(tmp.path());
    let port: u16 = server.url.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = FaultProxy::start(port, 42);
    let a = Desk::new(tmp.path(), "desk-a", "HC9901", 0x44);
    a.login(&server, "chuo");
    // From now on the desk talks to the server through the proxy.
    let settings_url = format!("http://127.0.0.1:{}", proxy.port);
    let open = || todoke_store::Desk::open(&a.dir, &todoke_store::MemoryKeys::fixed([0x44; 32])).unwrap();
    {
        let mut d = open();
        d.set_setting("sync.server", &settings_url).unwrap();
    }
    let mut ids = Vec::new();
    let mut killed = 0;
    let rounds: u64 = std::env::var("TODOKE_R2_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(12);
    for round in 0..rounds {
        // Offline work between syncs: new cases and edits of earlier ones.
        for _ in 0..3 {
            ids.push(a.ok(&["case", "new", "-"], Some(CASE)).trim().to_string());
        }
        let target = ids[(round as usize * 7) % ids.len()].clone();
        a.edit(&target, |v| v["basic"]["phone"] = format!("090-0000-{round:04}").into());
        let mut child = a
            .cmd()
            .args(["sync", "--max-retries", "3", "--base-delay-ms", "20"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if round % 2 == 0 {
            // Some time in: opening the desk, signing in, pushing.
            std::thread::sleep(Duration::from_millis(5 + (round * 7) % 40));
        } else {
            // Right after the first batch was answered: mid-sync by construction.
            let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut err, &mut line).unwrap_or(0) > 0 && !line.contains("push:") && !line.contains("pull:") {
                line.clear();
            }
        }
        let _ = child.kill(); // SIGKILL
        let out = child.wait_with_output().unwrap();
        assert_ne!(out.status.code(), Some(9), "signed out: {}", String::from_utf8_lossy(&out.stderr));
        if std::os::unix::process::ExitStatusExt::signal(&out.status) == Some(9) {
            killed += 1;
        }
        assert_eq!(open().integrity_check().unwrap(), ["ok"], "integrity after kill {round}");
    }
    drop(proxy);
    // The line heals: straight to the server.
    open().set_setting("sync.server", &server.url).unwrap();
    let mut unsent = u64::MAX;
    for _ in 0..3 {
        let out = a.run(&["sync", "--json", "--max-retries", "3", "--base-delay-ms", "20"], None);
        let r: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        unsent = r["unsent"].as_u64().unwrap_or(u64::MAX);
        if out.status.success() && unsent == 0 {
            break;
        }
    }
    assert_eq!(unsent, 0, "everything sent once the line is back");
    eprintln!("R2: {rounds} syncs, {killed} of them killed mid-way, {} cases", ids.len());
    assert!(killed * 2 >= rounds, "most syncs were killed mid-way ({killed} of {rounds})");
    let desk = open();
    assert_eq!(desk.integrity_check().unwrap(), ["ok"]);
    // Zero lost: every op the desk ever queued was answered applied by the server.
    let ops = desk.outbox_all().unwrap();
    assert_eq!(ops.len(), ids.len() + rounds as usize);
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    for op in &ops {
        assert_eq!(op.status, todoke_store::OpStatus::Applied, "op {} {:?}", op.op_id, op.last_error);
        let result: String =
            conn.query_row("SELECT result FROM applied_op WHERE op_id = ?1", [op.op_id.to_string()], |r| r.get(0)).unwrap();
        assert!(result.contains("\"applied\""), "{result}");
    }
    // Zero doubled: one record per case, at most one change-log patch per op and scope.
    assert_eq!(server.count("SELECT count(*) FROM record WHERE entity = 'case'"), ids.len() as i64);
    let doubled: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT scope, json_extract(body, '$.op_id') AS op, count(*) AS n FROM change_log
             WHERE json_extract(body, '$.kind') = 'patch' GROUP BY scope, op HAVING n > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(doubled, 0, "an op was applied twice");
    // And the desk shows what the server has.
    for id in &ids {
        let doc: String = conn.query_row("SELECT doc FROM record WHERE entity_id = ?1", [id], |r| r.get(0)).unwrap();
        let mut theirs: Value = serde_json::from_str(&doc).unwrap();
        let mut mine = serde_json::to_value(desk.get_case(id.parse().unwrap()).unwrap().unwrap()).unwrap();
        theirs.as_object_mut().unwrap().remove("updated_at");
        mine.as_object_mut().unwrap().remove("updated_at");
        assert_eq!(mine, theirs, "case {id}");
    }
}

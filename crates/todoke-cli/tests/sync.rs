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
    let mut dirs: Vec<PathBuf> = ["todoke-server", "todoke-protocol", "todoke-domain"].iter().map(|c| root.join("crates").join(c)).collect();
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
            if let (Some(pw), Some(uri)) = (words.iter().position(|w| *w == "password"), words.iter().find(|w| w.starts_with("otpauth://"))) {
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
    assert_eq!((c["field"].as_str(), c["server_value"].as_str(), c["client_value"].as_str()), (Some("basic.name"), Some("山田 華子"), Some("山田 花江")));
    assert!(c["server_author"].as_str().unwrap().starts_with("chuo@HC9901/"), "{c}");
    assert!(c["client_author"].as_str().unwrap().starts_with("ken@P99/"), "{c}");
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
    let out = a.run(&["sync"], None);
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept on this desk"));
    let detail: Value = serde_json::from_str(&a.ok(&["case", "show", &id, "--detail"], None)).unwrap();
    assert_eq!(detail["pending_ops"].as_array().unwrap().len(), 1);
}

//! The `todoke-server` binary: transport rule (S5), TLS over a real socket,
//! admin commands, seed-demo and `audit verify` (S4). SQLite only: the
//! command line is the same whatever the database (the API suite covers both).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_todoke-server");

fn run(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(BIN).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn plain_http_on_a_public_address_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (code, _, err) = run(&["serve", "--db", db.to_str().unwrap(), "--listen", "0.0.0.0:0"], None);
    assert_ne!(code, 0);
    assert!(err.contains("refusing plain HTTP"), "{err}");
    assert!(!db.exists(), "refused before touching the database");
}

struct Server(std::process::Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    let port = free_port();
    let db = dir.path().join("s.db");
    let listen = format!("0.0.0.0:{port}");
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--db", db.to_str().unwrap(), "--listen", &listen])
            .args(["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/healthz");
    let mut last = None;
    for _ in 0..100 {
        match client.get(&url).send().await {
            Ok(r) => {
                last = Some(r.status());
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(last, Some(reqwest::StatusCode::OK), "HTTPS /healthz");
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    let r = plain.get(format!("http://127.0.0.1:{port}/healthz")).send().await;
    assert!(r.map(|r| !r.status().is_success()).unwrap_or(true), "plain HTTP must not be served on the TLS port");
}

#[test]
fn admin_commands_seed_demo_and_audit_verify() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("s.db");
    let db = db_path.to_str().unwrap();
    let (code, out, err) = run(&["seed-demo", "--db", db], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("otpauth://totp/Todoke:chuo?secret="), "{out}");

    let (code, _, err) =
        run(&["admin", "--db", db, "create-org", "--kind", "clinic", "--code", "CL1", "--name", "テスト医院", "--parent", "HC9901"], None);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run(&["admin", "--db", db, "create-org", "--kind", "moon-base", "--code", "X", "--name", "x"], None);
    assert_ne!(code, 0);
    assert!(err.contains("unknown organisation kind"), "{err}");
    // The new actors are in the demo, with their sign-in lines.
    for login in ["lab-fix", "niid", "hotel", "setagaya"] {
        assert!(out.contains(&format!("otpauth://totp/Todoke:{login}?secret=")), "{login}: {out}");
    }
    assert!(out.lines().any(|l| l.trim_start().starts_with("lab-fix") && l.contains("role corrector")), "{out}");
    // A lab hangs under a prefecture or the nation (NIID); a facility under a prefecture or a health centre.
    let (code, _, err) =
        run(&["admin", "--db", db, "create-org", "--kind", "lab", "--code", "LABX", "--name", "x", "--parent", "HC9901"], None);
    assert_ne!(code, 0);
    assert!(err.contains("needs a parent of kind prefecture or nation"), "{err}");
    let (code, _, err) = run(
        &["admin", "--db", db, "create-org", "--kind", "facility", "--code", "FAC1", "--name", "テスト療養施設", "--parent", "HC9901"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    // Corrections are granted to lab users only.
    let (code, out2, err) = run(&["admin", "--db", db, "set-role", "--login", "lab", "--role", "corrector"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out2.contains("role corrector"), "{out2}");
    let (code, _, err) = run(&["admin", "--db", db, "set-role", "--login", "chuo", "--role", "corrector"], None);
    assert_ne!(code, 0);
    assert!(err.contains("labs only"), "{err}");
    let (code, out, err) = run(
        &["admin", "--db", db, "create-user", "--org", "CL1", "--role", "staff", "--login", "dr", "--password-stdin"],
        Some("a long enough password\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("otpauth://totp/Todoke:dr?secret="), "{out}");
    assert!(out.contains('█') || out.contains('▀') || out.contains('▄'), "a QR code is drawn");
    let (code, _, err) = run(
        &["admin", "--db", db, "create-user", "--org", "CL1", "--role", "staff", "--login", "dr2", "--password-stdin"],
        Some("short\n"),
    );
    assert_ne!(code, 0);
    assert!(err.contains("at least 12"), "{err}");
    for args in [
        vec!["reset-password", "--login", "dr", "--password-stdin"],
        vec!["reset-otp", "--login", "dr"],
        vec!["disable-user", "--login", "dr"],
        vec!["disable-device", "--device", "lost-laptop"],
    ] {
        let mut full = vec!["admin", "--db", db];
        full.extend(args.iter());
        let (code, _, err) = run(&full, Some("another long password\n"));
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    let (code, _, err) = run(&["admin", "--db", db, "reset-otp", "--login", "nobody"], None);
    assert_ne!(code, 0);
    assert!(err.contains("no user"), "{err}");

    // Every administrative change is in the chain: who (the operator), what, to which record.
    let admin_entries: Vec<(String, String, String)> = {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn.prepare("SELECT staff, action, entity_id FROM audit WHERE action LIKE 'admin.%' ORDER BY seq").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    };
    for (action, id) in [
        ("admin.create-org", "CL1"),
        ("admin.create-user", "dr"),
        ("admin.reset-password", "dr"),
        ("admin.reset-otp", "dr"),
        ("admin.disable-user", "dr"),
        ("admin.disable-device", "lost-laptop"),
        ("admin.create-org", "FAC1"),
        ("admin.set-role", "lab"),
    ] {
        assert!(
            admin_entries.iter().any(|(who, a, i)| who.starts_with("admin:") && a == action && i == id),
            "{action} {id}: {admin_entries:?}"
        );
    }
    assert!(
        !admin_entries.iter().any(|(_, _, i)| i == "dr2" || i == "nobody" || i == "X" || i == "LABX"),
        "refused changes leave no entry"
    );
    let before: i64 = rusqlite::Connection::open(db).unwrap().query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0)).unwrap();
    // Write entries through the library too, then verify.
    {
        let store = todoke_server::Db::open(db).unwrap();
        store
            .tx(|tx| {
                for i in 0..3 {
                    todoke_server::audit::append_raw(tx, chrono::Utc::now(), "chuo", "HC9901", "desk", "read", "case", &format!("c{i}"))?;
                }
                Ok::<_, todoke_server::db::DbError>(())
            })
            .unwrap();
    }
    let (code, out, _) = run(&["audit", "verify", "--db", db], None);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(&format!("intact: {} entries", before + 3)), "{out}");
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute("UPDATE audit SET staff = 'someone-else' WHERE seq = 2", []).unwrap();
    drop(conn);
    let (code, out, _) = run(&["audit", "verify", "--db", db], None);
    assert_eq!(code, 1);
    assert!(out.contains("TAMPERED") && out.contains("entry 2"), "{out}");
}

//! A throwaway PostgreSQL 15 cluster for tests and benchmarks: `initdb` into
//! a temporary folder, `pg_ctl start` on a free loopback port (as the
//! `postgres` user when run as root: initdb refuses root), stopped and
//! removed by a watchdog once the process that started it has exited.
//! `TODOKE_PG_BIN` names another PostgreSQL `bin/` directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

pub struct ScratchCluster {
    pub port: u16,
    pub dir: PathBuf,
    databases: AtomicU32,
}

fn pg_bin() -> PathBuf {
    std::env::var_os("TODOKE_PG_BIN").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false)
}

/// A command run as the `postgres` user when we are root.
fn pg_command(bin: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

impl ScratchCluster {
    /// Starts a cluster (durability off: scratch data only).
    pub fn start() -> Result<ScratchCluster, String> {
        let bin = pg_bin();
        let initdb = bin.join("initdb");
        if !initdb.exists() {
            return Err(format!("{} not found: install PostgreSQL 15 (scripts/install-deps.sh) or set TODOKE_PG_BIN", initdb.display()));
        }
        let root = is_root();
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("todoke-pg-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if root {
            let ok = Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir).status().map_err(|e| e.to_string())?.success();
            if !ok {
                return Err("chown to the postgres user failed".into());
            }
        }
        let data = dir.join("data");
        let out = pg_command(&initdb, root)
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string())?.port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            dir.display()
        );
        let out = pg_command(&bin.join("pg_ctl"), root)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-o", &opts, "start"])
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            return Err(format!("pg_ctl start failed: {}\n{log}", String::from_utf8_lossy(&out.stderr)));
        }
        // Stop the cluster and remove it once this process has gone.
        let stop = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {runas} {pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            runas = if root { "runuser -u postgres --" } else { "" },
            pg_ctl = bin.join("pg_ctl").display(),
            data = data.display(),
            dir = dir.display(),
        );
        Command::new("sh")
            .args(["-c", &stop])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("watchdog: {e}"))?;
        Ok(ScratchCluster { port, dir, databases: AtomicU32::new(0) })
    }

    /// A fresh, empty database; its `postgres://` address. Blocking.
    pub fn create_database(&self) -> Result<String, String> {
        let name = format!("t{}_{}", std::process::id(), self.databases.fetch_add(1, Ordering::SeqCst));
        let mut client =
            postgres::Client::connect(&format!("host=127.0.0.1 port={} user=postgres dbname=postgres", self.port), postgres::NoTls)
                .map_err(|e| format!("connect to the scratch cluster: {e}"))?;
        client.batch_execute(&format!("CREATE DATABASE {name}")).map_err(|e| e.to_string())?;
        Ok(format!("postgres://postgres@127.0.0.1:{}/{name}", self.port))
    }
}

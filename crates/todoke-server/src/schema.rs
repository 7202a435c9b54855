//! Tables, in the SQL both backends speak. Created if absent.

use crate::db::{DbError, Tx};

const TABLES: &[&str] = &[
    // 組織: prefecture, health-centre, clinic, lab, facility, nation; `parent` is the organisation over it.
    "CREATE TABLE IF NOT EXISTS org (code TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, parent TEXT)",
    "CREATE TABLE IF NOT EXISTS staff (id TEXT PRIMARY KEY, login TEXT NOT NULL UNIQUE, org TEXT NOT NULL,
        role TEXT NOT NULL, password_hash TEXT NOT NULL, totp_secret TEXT NOT NULL, failures BIGINT NOT NULL,
        disabled BIGINT NOT NULL, last_otp_step BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS device (id TEXT PRIMARY KEY, disabled BIGINT NOT NULL)",
    // Tokens are stored hashed (SHA-256): a copy of this table signs no one in.
    "CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, staff_id TEXT NOT NULL, device_id TEXT NOT NULL,
        access_hash TEXT NOT NULL UNIQUE, access_expires BIGINT NOT NULL, refresh_hash TEXT NOT NULL UNIQUE,
        refresh_expires BIGINT NOT NULL, revoked BIGINT NOT NULL)",
    // Refresh tokens already rotated away (hashed): presented again, they end their session.
    "CREATE TABLE IF NOT EXISTS refresh_used (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    // The authoritative records (cases, observations) as JSON documents;
    // `versions` is {field path: [server_seq, author]}, the field versions of SYNC.md.
    "CREATE TABLE IF NOT EXISTS record (entity TEXT NOT NULL, entity_id TEXT NOT NULL, case_id TEXT NOT NULL,
        doc TEXT NOT NULL, versions TEXT NOT NULL, created_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL,
        PRIMARY KEY (entity, entity_id))",
    "CREATE INDEX IF NOT EXISTS record_case ON record (case_id)",
    // The initial download pages through a scope newest first: a page reads
    // from where the last one stopped, never sorts the whole scope again.
    "CREATE INDEX IF NOT EXISTS record_created ON record (created_seq, entity_id)",
    // Which organisations may see a case now (see scope.rs), kept with every write.
    "CREATE TABLE IF NOT EXISTS case_access (case_id TEXT NOT NULL, org TEXT NOT NULL, PRIMARY KEY (org, case_id))",
    "CREATE INDEX IF NOT EXISTS case_access_case ON case_access (case_id)",
    // One row per scope (organisation) per change: a pull reads its own scope in seq order.
    "CREATE TABLE IF NOT EXISTS change_log (scope TEXT NOT NULL, server_seq BIGINT NOT NULL, case_id TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (scope, server_seq))",
    "CREATE TABLE IF NOT EXISTS applied_op (op_id TEXT PRIMARY KEY, result TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS conflict (id TEXT PRIMARY KEY, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
        field TEXT NOT NULL, base_seq BIGINT NOT NULL, server_value TEXT NOT NULL, client_value TEXT NOT NULL,
        server_author TEXT NOT NULL, client_author TEXT NOT NULL, status TEXT NOT NULL, server_seq BIGINT NOT NULL)",
    // 監査ログ, hash-chained; `audit_head` holds the last entry so a deleted tail is seen too.
    "CREATE TABLE IF NOT EXISTS audit (seq BIGINT PRIMARY KEY, at TEXT NOT NULL, staff TEXT NOT NULL, org TEXT NOT NULL,
        device TEXT NOT NULL, action TEXT NOT NULL, entity TEXT NOT NULL, entity_id TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL)",
    // Who saw a case until it left them (a transfer): `until_seq` is the change
    // that took it away. Their pending edits are still taken (SYNC.md property 6, scope.rs).
    "CREATE TABLE IF NOT EXISTS case_access_left (case_id TEXT NOT NULL, org TEXT NOT NULL, until_seq BIGINT NOT NULL,
        PRIMARY KEY (case_id, org))",
    // When the server wrote the changes from `first_seq` on (one row per push batch):
    // shown with conflicts, never used to order anything (property 9).
    "CREATE TABLE IF NOT EXISTS change_time (first_seq BIGINT PRIMARY KEY, at TEXT NOT NULL)",
    // When each side of a conflict reached the server (RFC 3339); none for older conflicts.
    "CREATE TABLE IF NOT EXISTS conflict_time (conflict_id TEXT PRIMARY KEY, server_at TEXT, client_at TEXT NOT NULL)",
    // The refresh token a session rotated away last (hashed), and when: presented
    // again by its device within the grace, its answer was lost (auth.rs).
    "CREATE TABLE IF NOT EXISTS refresh_rotation (session_id TEXT PRIMARY KEY, prev_hash TEXT NOT NULL UNIQUE,
        rotated_at BIGINT NOT NULL)",
];

/// Steps for databases written by an older binary, after the tables above
/// exist: (the version that needs it, statements). Each can run twice.
const STEPS: &[(i64, &[&str])] = &[(
    4,
    &[
        // Transfers made before `case_access_left` existed, from the change log.
        "INSERT INTO case_access_left (case_id, org, until_seq)
            SELECT case_id, scope, max(server_seq) FROM change_log WHERE body LIKE '%\"kind\":\"scope_left\"%' GROUP BY case_id, scope
            ON CONFLICT (case_id, org) DO NOTHING",
    ],
)];

/// Version 5: the statistics' own table (see `stat.rs`). `case_stat` holds
/// each live case's packed report row (`todoke_reports::ReportRow::pack`,
/// ~60 bytes) and the `server_seq` it was packed at; `case_stat_cursor` the
/// last `server_seq` projected into it. Scope is not copied here: a report
/// joins `case_access`, which `scope.rs` keeps. The partial index lets the
/// projector find the cases changed since its cursor. An existing database
/// gets an empty table and cursor 0: the first catch-up projects every case.
const V5_CASE_STAT: &[&str] = &[
    // BYTEA: PostgreSQL's bytes; SQLite keeps a BLOB in a column of any declared type.
    "CREATE TABLE IF NOT EXISTS case_stat (case_id TEXT PRIMARY KEY, row BYTEA NOT NULL, seq BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS case_stat_cursor (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS record_case_last_seq ON record (last_seq) WHERE entity = 'case'",
];

/// The schema this binary reads and writes. 1: before versioning; 2:
/// `schema_version`, `refresh_used`, the `case_access (case_id)` index;
/// 3: `case_access` also names the nation (read by a national lab) and the
/// facility a case is placed in (see scope.rs); 4: `case_access_left`,
/// `change_time`, `conflict_time`, `refresh_rotation`; 5: `case_stat`,
/// `case_stat_cursor`, the `record (last_seq)` index.
pub const SCHEMA_VERSION: i64 = 5;

/// Brings the database to [`SCHEMA_VERSION`]; refuses one written by a newer
/// binary (it could hold what this one would misread or lose).
pub fn migrate(tx: &mut dyn Tx) -> Result<(), DbError> {
    tx.exec("CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY, version BIGINT NOT NULL)", &[])?;
    let found = match tx.query_opt("SELECT version FROM schema_version WHERE id = 1", &[])? {
        Some(r) => Some(r[0].int()?),
        None => None,
    };
    if let Some(v) = found.filter(|v| *v > SCHEMA_VERSION) {
        return Err(DbError::NewerSchema { found: v, known: SCHEMA_VERSION });
    }
    for sql in TABLES {
        tx.exec(sql, &[])?;
    }
    for (version, sqls) in STEPS {
        if found.is_some_and(|v| v < *version) {
            for sql in *sqls {
                tx.exec(sql, &[])?;
            }
        }
    }
    for sql in V5_CASE_STAT {
        tx.exec(sql, &[])?;
    }
    if tx.query_opt("SELECT seq FROM case_stat_cursor WHERE id = 1", &[])?.is_none() {
        tx.exec("INSERT INTO case_stat_cursor (id, seq) VALUES (1, 0)", &[])?;
    }
    for name in ["change", "audit"] {
        if tx.query_opt("SELECT value FROM counter WHERE name = $1", &[name.into()])?.is_none() {
            tx.exec("INSERT INTO counter (name, value) VALUES ($1, 0)", &[name.into()])?;
        }
    }
    if found.is_some_and(|v| v < 3) {
        recompute_case_access(tx)?;
    }
    if found.is_none() {
        tx.exec("INSERT INTO schema_version (id, version) VALUES (1, $1)", &[SCHEMA_VERSION.into()])?;
    } else if found != Some(SCHEMA_VERSION) {
        tx.exec("UPDATE schema_version SET version = $1 WHERE id = 1", &[SCHEMA_VERSION.into()])?;
    }
    Ok(())
}

/// The next `n` values of a counter. The row stays locked until commit, so
/// numbers are handed out in commit order.
pub fn next_values(tx: &mut dyn Tx, name: &str, n: i64) -> Result<i64, DbError> {
    let row = tx.query("UPDATE counter SET value = value + $1 WHERE name = $2 RETURNING value", &[n.into(), name.into()])?;
    row.first().ok_or_else(|| DbError::Type(format!("counter {name} missing")))?[0].int()
}

/// Version 3: adds to `case_access` what scope.rs now counts (the nation at
/// the top of the tree, a facility); never removes a row. A page at a time.
fn recompute_case_access(tx: &mut dyn Tx) -> Result<(), DbError> {
    let mut parents = crate::scope::Parents::new();
    let mut after = (String::new(), String::new());
    loop {
        let rows = tx.query(
            "SELECT entity, entity_id, doc FROM record WHERE entity IN ('case', 'cluster') AND (entity, entity_id) > ($1, $2)
             ORDER BY entity, entity_id LIMIT 500",
            &[after.0.as_str().into(), after.1.as_str().into()],
        )?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = (last[0].text()?, last[1].text()?);
        for r in &rows {
            let (entity, id) = (r[0].text()?, r[1].text()?);
            let doc: serde_json::Value = serde_json::from_str(&r[2].text()?).map_err(|e| DbError::Type(e.to_string()))?;
            let j = if entity == "case" {
                serde_json::from_value(doc.get("jurisdiction").filter(|v| v.is_object()).cloned().unwrap_or(serde_json::json!({})))
                    .map_err(|e| DbError::Type(e.to_string()))?
            } else {
                let hc = doc.get("health_centre").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                todoke_domain::case::Jurisdiction { responsible_health_centre: hc, ..Default::default() }
            };
            for org in crate::scope::case_orgs_cached(tx, &j, &mut parents)? {
                tx.exec(
                    "INSERT INTO case_access (case_id, org) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[id.as_str().into(), org.as_str().into()],
                )?;
            }
        }
    }
}

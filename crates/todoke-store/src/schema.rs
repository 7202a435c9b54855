//! The desk database's schema, as an ordered list of migrations. The
//! database's `PRAGMA user_version` is the number of steps applied; each step
//! runs in its own transaction together with the version bump. A database
//! newer than this list is refused, never touched.
//!
//! Design notes (numbers in the crate's README-level docs, `lib.rs`):
//! - `case_record` holds only what lists, filters and sorts need, so scans
//!   and row look-ups touch small rows; the full record (JSON) lives in
//!   `case_doc`, read when a case is opened or exported.
//! - search indexes are partial (`WHERE deleted = 0`): queries say
//!   `deleted = 0` literally, and soft-deleted cases stay out of the way.
//! - the reading index `case_name_key` also holds birth date (duplicate
//!   check), report date, status and the written name (the list's tie-break), so a kana search sorted by report date
//!   and filtered by status picks its page from the index alone and reads
//!   only the rows it shows (a cold row read costs ~20 µs: read + decrypt).
//! - the report-date and status indexes also hold the name keys: when a
//!   name matches many cases, the search walks them in report order and
//!   tests the name on the index entry, reading a row only when it matches.
//! - `name_gram` indexes written names (kanji) for substring search: the
//!   bigram starting at each character plus the last character, so that one-
//!   and two-character queries (most Japanese family names) hit an index.
//!   (FTS5's trigram tokenizer needs three characters.)
//! - `outbox.seq` is the desk's monotonic local sequence (AUTOINCREMENT
//!   never reuses a value, even after acknowledged ops are pruned); every
//!   local ordering uses it, never the clock.
//! - `case_doc.doc`, `observation.doc` and `outbox.payload` hold JSON
//!   packed by [`crate::codec`] (zstd with a fixed dictionary, ~6× smaller
//!   for a case: several cases per page instead of one), tagged by format;
//!   plain TEXT JSON is read too.
//! - `case_stat` (v2) holds each live case's report row, packed
//!   (`todoke_reports::ReportRow::pack`, ~60 bytes): the statistics read
//!   this narrow table instead of parsing every document (1M cases: 4.3 s
//!   per 100k through the documents, well under a second through it). It is
//!   derived like `case_record`: written in the same transaction as the case,
//!   absent for a soft-deleted one, filled by the migration for older desks.
//! - `rid` columns are explicit `INTEGER PRIMARY KEY`s because `name_gram`
//!   and `case_doc` refer to them and implicit rowids may change on VACUUM.

use rusqlite::{params, Connection, Transaction};
use todoke_domain::Case;
use todoke_reports::ReportRow;

use crate::codec;
use crate::error::{Result, StoreError};

const V1: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE case_record (
    rid               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL,
    rev               INTEGER NOT NULL,
    changed_seq       INTEGER NOT NULL,
    deleted           INTEGER NOT NULL DEFAULT 0,
    name              TEXT NOT NULL,
    name_kana         TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    name_kanji_key    TEXT NOT NULL,
    phone             TEXT NOT NULL,
    phone_key         TEXT NOT NULL,
    birth_date        TEXT,
    sex               TEXT,
    diagnosis_class   TEXT,
    current_status    TEXT,
    report_date       TEXT,
    diagnosis_date    TEXT,
    status_updated_on TEXT,
    responsible_hc    TEXT NOT NULL,
    confirmed         INTEGER NOT NULL,
    updated_at        TEXT
);
CREATE UNIQUE INDEX case_id      ON case_record(id);
CREATE INDEX case_name_key       ON case_record(name_key, birth_date, report_date, current_status, name_kanji_key) WHERE deleted = 0;
CREATE INDEX case_phone_key      ON case_record(phone_key)                     WHERE deleted = 0;
CREATE INDEX case_report         ON case_record(report_date, name_key, name_kanji_key)                 WHERE deleted = 0;
CREATE INDEX case_diagnosis      ON case_record(diagnosis_date)                WHERE deleted = 0;
CREATE INDEX case_status_updated ON case_record(status_updated_on)             WHERE deleted = 0;
CREATE INDEX case_status         ON case_record(current_status, report_date, name_key, name_kanji_key) WHERE deleted = 0;
CREATE INDEX case_hc             ON case_record(responsible_hc, report_date)   WHERE deleted = 0;
CREATE INDEX case_unconfirmed    ON case_record(report_date)                   WHERE deleted = 0 AND confirmed = 0;
CREATE INDEX case_changed        ON case_record(changed_seq)                   WHERE deleted = 0;
CREATE INDEX case_deleted        ON case_record(changed_seq)                   WHERE deleted = 1;

CREATE TABLE case_doc (
    rid INTEGER PRIMARY KEY REFERENCES case_record(rid) ON DELETE CASCADE,
    doc BLOB NOT NULL
);

CREATE TABLE name_gram (
    gram TEXT NOT NULL,
    rid  INTEGER NOT NULL,
    PRIMARY KEY (gram, rid)
) WITHOUT ROWID;

CREATE TABLE observation (
    rid         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    case_id     TEXT NOT NULL REFERENCES case_record(id) ON DELETE CASCADE,
    observed_at TEXT,
    doc         BLOB NOT NULL
);
CREATE INDEX observation_case ON observation(case_id, observed_at);

CREATE TABLE cluster (
    id          TEXT PRIMARY KEY,
    rev         INTEGER NOT NULL,
    changed_seq INTEGER NOT NULL,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL
);

CREATE TABLE outbox (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id         TEXT NOT NULL UNIQUE,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    case_id       TEXT,
    kind          TEXT NOT NULL,
    payload       BLOB NOT NULL,
    base_versions TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'sent', 'applied', 'conflict', 'rejected')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX outbox_case    ON outbox(case_id, status);
CREATE INDEX outbox_unacked ON outbox(seq) WHERE status IN ('pending', 'sent');

CREATE TABLE history (
    rid         INTEGER PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES case_record(id) ON DELETE CASCADE,
    seq         INTEGER,
    op_id       TEXT,
    kind        TEXT NOT NULL,
    at          TEXT NOT NULL,
    actor_login TEXT NOT NULL,
    actor_org   TEXT NOT NULL,
    changes     TEXT NOT NULL
);
CREATE INDEX history_case ON history(case_id, rid);

CREATE TABLE field_version (
    entity     TEXT NOT NULL,
    id         TEXT NOT NULL,
    field      TEXT NOT NULL,
    server_seq INTEGER NOT NULL,
    PRIMARY KEY (entity, id, field)
) WITHOUT ROWID;

CREATE TABLE sync_state (
    scope  TEXT PRIMARY KEY,
    cursor TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE conflict (
    id           TEXT PRIMARY KEY,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    field        TEXT NOT NULL,
    base_seq     INTEGER,
    server_value TEXT,
    client_value TEXT,
    authors      TEXT NOT NULL,
    op_id        TEXT,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    created_at   TEXT NOT NULL
);
CREATE INDEX conflict_entity ON conflict(entity, entity_id);

CREATE TABLE rejected_op (
    op_id      TEXT PRIMARY KEY,
    code       TEXT NOT NULL,
    message_ja TEXT NOT NULL,
    message_en TEXT NOT NULL,
    at         TEXT NOT NULL
);
"#;

const V2: &str = r#"
CREATE TABLE case_stat (
    rid INTEGER PRIMARY KEY REFERENCES case_record(rid) ON DELETE CASCADE,
    row BLOB NOT NULL
);
"#;

/// Sync bookkeeping (see `sync_apply.rs`): the server's state of a case
/// while local edits of it are pending (the base they are re-applied on),
/// observations pulled before their case (the initial download sends
/// newest records first), and the conflict status "superseded".
const V3: &str = r#"
CREATE TABLE sync_base (
    case_id TEXT PRIMARY KEY,
    doc     BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE sync_orphan (
    id      TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    doc     BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX sync_orphan_case ON sync_orphan(case_id);

-- The server also marks a conflict "superseded" (a resolution made without
-- seeing the current value opens a new conflict in its place).
CREATE TABLE conflict_v3 (
    id           TEXT PRIMARY KEY,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    field        TEXT NOT NULL,
    base_seq     INTEGER,
    server_value TEXT,
    client_value TEXT,
    authors      TEXT NOT NULL,
    op_id        TEXT,
    status       TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'superseded')),
    created_at   TEXT NOT NULL
);
INSERT INTO conflict_v3 SELECT id, entity, entity_id, field, base_seq, server_value, client_value, authors, op_id, status, created_at FROM conflict;
DROP TABLE conflict;
ALTER TABLE conflict_v3 RENAME TO conflict;
CREATE INDEX conflict_entity ON conflict(entity, entity_id);
"#;

/// Published counts (入力率): what municipalities published, imported from
/// their CSV files, one count per day and area (the later import of the
/// same day and area replaces the count), and each import: which file,
/// when, how many rows. Desk-local, never synced.
const V4: &str = r#"
CREATE TABLE published_import (
    id          INTEGER PRIMARY KEY,
    file_name   TEXT NOT NULL,
    path        TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    rows_read   INTEGER NOT NULL,
    accepted    INTEGER NOT NULL,
    refused     INTEGER NOT NULL,
    first_date  TEXT,
    last_date   TEXT
);

CREATE TABLE published_count (
    date      TEXT NOT NULL,
    area      TEXT NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    import_id INTEGER NOT NULL REFERENCES published_import(id),
    PRIMARY KEY (date, area)
) WITHOUT ROWID;
"#;

/// When each side of a conflict reached the server (RFC 3339, server time;
/// display only — SYNC.md property 9). Absent for conflicts from before.
const V5: &str = r#"
ALTER TABLE conflict ADD COLUMN server_at TEXT;
ALTER TABLE conflict ADD COLUMN client_at TEXT;
"#;

/// One schema step: SQL, then (optionally) Rust that fills what SQL cannot
/// derive, in the same transaction.
struct Step {
    sql: &'static str,
    fill: Option<fn(&Transaction) -> Result<()>>,
}

/// Every migration in order; step `i` takes the database to version `i + 1`.
const MIGRATIONS: &[Step] = &[
    Step { sql: V1, fill: None },
    Step { sql: V2, fill: Some(fill_case_stat) },
    Step { sql: V3, fill: None },
    Step { sql: V4, fill: None },
    Step { sql: V5, fill: None },
];

/// v2: the report row of every live case already stored.
fn fill_case_stat(tx: &Transaction) -> Result<()> {
    let mut read = tx.prepare("SELECT r.rid, r.id, d.doc FROM case_record r JOIN case_doc d ON d.rid = r.rid WHERE r.deleted = 0")?;
    let mut write = tx.prepare("INSERT INTO case_stat (rid, row) VALUES (?1, ?2)")?;
    let mut rows = read.query([])?;
    while let Some(r) = rows.next()? {
        let rid: i64 = r.get(0)?;
        let case: Case = codec::parse(r.get_ref(2)?).map_err(|message| StoreError::Corrupt {
            what: "case",
            id: r.get::<_, String>(1).unwrap_or_default(),
            message,
        })?;
        if let Some(row) = ReportRow::from_case(&case) {
            write.execute(params![rid, row.pack()])?;
        }
    }
    Ok(())
}

/// The schema version this program writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`SCHEMA_VERSION`]; refuses a newer one.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew { found, supported: SCHEMA_VERSION });
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step.sql)?;
        if let Some(fill) = step.fill {
            fill(&tx)?;
        }
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(SCHEMA_VERSION)
}

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
//! - `rid` columns are explicit `INTEGER PRIMARY KEY`s because `name_gram`
//!   and `case_doc` refer to them and implicit rowids may change on VACUUM.

use rusqlite::Connection;

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

/// Sync bookkeeping (see `sync_apply.rs`): the server's state of a case
/// while local edits of it are pending (the base they are re-applied on),
/// and observations pulled before their case (the initial download sends
/// newest records first).
const V2: &str = r#"
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
"#;

/// Every migration in order; step `i` takes the database to version `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2];

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
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(SCHEMA_VERSION)
}

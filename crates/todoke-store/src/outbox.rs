//! 送信待ち — the outbox: one operation per local change, written in the
//! change's own transaction, kept until the server has acknowledged it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todoke_domain::diff::FieldChange;
use uuid::Uuid;

use crate::codec;
use crate::desk::Desk;
use crate::error::{Result, StoreError};

/// Operation kinds, as the server reads them.
pub mod kind {
    pub const CASE_CREATE: &str = "case.create";
    pub const CASE_UPDATE: &str = "case.update";
    pub const OBSERVATION_ADD: &str = "observation.add";
    pub const CLUSTER_CREATE: &str = "cluster.create";
    pub const CLUSTER_UPDATE: &str = "cluster.update";
}

/// Where an operation stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    /// Not sent yet.
    Pending,
    /// Sent; no answer yet (re-sending is harmless: the op id makes it idempotent).
    Sent,
    Applied,
    /// The server kept another value for a field; a conflict record says which.
    Conflict,
    /// Refused for good, with a reason shown to the user (`rejected_op`).
    Rejected,
}

impl OpStatus {
    pub fn code(&self) -> &'static str {
        match self {
            OpStatus::Pending => "pending",
            OpStatus::Sent => "sent",
            OpStatus::Applied => "applied",
            OpStatus::Conflict => "conflict",
            OpStatus::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Option<OpStatus> {
        [OpStatus::Pending, OpStatus::Sent, OpStatus::Applied, OpStatus::Conflict, OpStatus::Rejected].into_iter().find(|st| st.code() == s)
    }
}

/// One queued operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxOp {
    /// Client-generated UUIDv7: the server applies each op once.
    pub op_id: Uuid,
    /// The desk's local sequence number (orders ops; clocks never do).
    pub seq: i64,
    /// "case", "observation", "cluster".
    pub entity: String,
    pub entity_id: String,
    /// The case the op belongs to (for per-case pending badges and for
    /// pushing a case's edits before it leaves the desk's scope).
    pub case_id: Option<Uuid>,
    pub kind: String,
    /// `{"case": …}`, `{"observation": …}`, `{"cluster": …}` for creations;
    /// `{"changes": [FieldChange…]}` for updates.
    pub payload: Value,
    /// For updates: `{field path: server_seq}`, the server version each
    /// changed field was last seen at (0 = never seen from the server).
    pub base_versions: Value,
    /// Wall-clock time of the change (display only).
    pub created_at: DateTime<Utc>,
    pub status: OpStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// An op about to be written.
pub(crate) struct NewOp<'a> {
    pub op_id: Uuid,
    pub entity: &'a str,
    pub entity_id: String,
    pub case_id: Option<Uuid>,
    pub kind: &'a str,
    pub payload: String,
    pub base_versions: String,
    pub created_at: &'a str,
}

/// Writes an op; returns its local sequence number.
pub(crate) fn insert_op(conn: &Connection, op: &NewOp<'_>) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO outbox (op_id, entity, entity_id, case_id, kind, payload, base_versions, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![
        op.op_id.to_string(),
        op.entity,
        op.entity_id,
        op.case_id.map(|c| c.to_string()),
        op.kind,
        codec::pack(&op.payload),
        op.base_versions,
        op.created_at,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The server versions the changed fields were based on: each path's own
/// version, else the nearest enclosing path's (an item pulled whole), else 0.
pub(crate) fn base_versions(conn: &Connection, entity: &str, id: &str, changes: &[FieldChange]) -> Result<String> {
    let mut stmt = conn.prepare_cached("SELECT field, server_seq FROM field_version WHERE entity = ?1 AND id = ?2")?;
    let known: HashMap<String, i64> =
        stmt.query_map(params![entity, id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
    let versions: serde_json::Map<String, Value> =
        changes.iter().map(|c| (c.path.clone(), Value::from(version_of(&known, &c.path)))).collect();
    Ok(Value::Object(versions).to_string())
}

pub(crate) fn version_of(known: &HashMap<String, i64>, path: &str) -> i64 {
    let mut p = path;
    loop {
        if let Some(v) = known.get(p) {
            return *v;
        }
        match p.rfind(['.', '[']) {
            Some(i) => p = &p[..i],
            // `""`: the whole record (a case pulled whole keeps its shared version there).
            None => return known.get("").copied().unwrap_or(0),
        }
    }
}

pub(crate) const OP_COLUMNS: &str =
    "op_id, seq, entity, entity_id, case_id, kind, payload, base_versions, created_at, status, attempts, last_error";

pub(crate) fn op_from_row(r: &Row<'_>) -> rusqlite::Result<OutboxOp> {
    let text = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let json = |i: usize| -> rusqlite::Result<Value> { serde_json::from_str(&text(i)?).map_err(|e| bad(i, e.to_string())) };
    let uuid = |s: String, i: usize| Uuid::parse_str(&s).map_err(|e| bad(i, e.to_string()));
    Ok(OutboxOp {
        op_id: uuid(text(0)?, 0)?,
        seq: r.get(1)?,
        entity: text(2)?,
        entity_id: text(3)?,
        case_id: r.get::<_, Option<String>>(4)?.map(|s| uuid(s, 4)).transpose()?,
        kind: text(5)?,
        payload: codec::parse::<Value>(r.get_ref(6)?).map_err(|e| bad(6, e))?,
        base_versions: json(7)?,
        created_at: DateTime::parse_from_rfc3339(&text(8)?).map_err(|e| bad(8, e.to_string()))?.with_timezone(&Utc),
        status: OpStatus::parse(&text(9)?).ok_or_else(|| bad(9, "unknown status".into()))?,
        attempts: r.get(10)?,
        last_error: r.get(11)?,
    })
}

impl Desk {
    /// Operations not yet acknowledged by the server (pending or sent).
    pub fn outbox_pending_count(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sent')", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// The oldest unacknowledged operations, in local order (what a push sends next).
    pub fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxOp>> {
        let sql = format!("SELECT {OP_COLUMNS} FROM outbox WHERE status IN ('pending', 'sent') ORDER BY seq LIMIT ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let ops = stmt.query_map([limit as i64], op_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(ops)
    }

    /// One operation by id.
    pub fn outbox_op(&self, op_id: Uuid) -> Result<Option<OutboxOp>> {
        let sql = format!("SELECT {OP_COLUMNS} FROM outbox WHERE op_id = ?1");
        Ok(self.conn.query_row(&sql, [op_id.to_string()], op_from_row).optional()?)
    }

    /// Records what became of an operation (the sync engine's answer);
    /// `Sent` counts an attempt.
    pub fn set_op_status(&mut self, op_id: Uuid, status: OpStatus, error: Option<&str>) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE outbox SET status = ?2, last_error = ?3, attempts = attempts + (?2 = 'sent') WHERE op_id = ?1",
            params![op_id.to_string(), status.code(), error],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound { what: "operation", id: op_id.to_string() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_enclosing_version() {
        let known: HashMap<String, i64> = [("tests[a]".to_string(), 7), ("basic.name".to_string(), 3)].into_iter().collect();
        assert_eq!(version_of(&known, "tests[a].result"), 7);
        assert_eq!(version_of(&known, "basic.name"), 3);
        assert_eq!(version_of(&known, "basic.phone"), 0);
    }
}

//! 変更履歴 — who changed which fields of a case, and when; one entry per
//! local operation on the case.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, Row};
use serde::{Deserialize, Serialize};
use todoke_domain::diff::FieldChange;
use todoke_domain::Actor;
use uuid::Uuid;

use crate::error::Result;

/// One entry of a case's change history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistoryEntry {
    /// The local sequence number of the operation (orders entries).
    pub seq: Option<i64>,
    pub op_id: Option<Uuid>,
    /// "case.create" (no field list: the initial values are the record) or "case.update".
    pub kind: String,
    /// Wall-clock time (display only).
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub changes: Vec<FieldChange>,
}

pub(crate) struct NewHistory<'a> {
    pub case_id: &'a str,
    pub seq: i64,
    pub op_id: Uuid,
    pub kind: &'a str,
    pub at: &'a str,
    pub actor: &'a Actor,
    pub changes: &'a str,
}

pub(crate) fn insert_history(conn: &Connection, h: &NewHistory<'_>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO history (case_id, seq, op_id, kind, at, actor_login, actor_org, changes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    stmt.execute(params![h.case_id, h.seq, h.op_id.to_string(), h.kind, h.at, h.actor.login, h.actor.org_code, h.changes])?;
    Ok(())
}

pub(crate) fn load_history(conn: &Connection, case_id: &str) -> Result<Vec<HistoryEntry>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, op_id, kind, at, actor_login, actor_org, changes FROM history WHERE case_id = ?1 ORDER BY rid")?;
    let rows = stmt.query_map([case_id], entry_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<HistoryEntry> {
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let op_id: Option<String> = r.get(1)?;
    let at: String = r.get(3)?;
    let changes: String = r.get(6)?;
    Ok(HistoryEntry {
        seq: r.get(0)?,
        op_id: op_id.map(|s| Uuid::parse_str(&s).map_err(|e| bad(1, e.to_string()))).transpose()?,
        kind: r.get(2)?,
        at: DateTime::parse_from_rfc3339(&at).map_err(|e| bad(3, e.to_string()))?.with_timezone(&Utc),
        actor: Actor { login: r.get(4)?, org_code: r.get(5)? },
        changes: serde_json::from_str(&changes).map_err(|e| bad(6, e.to_string()))?,
    })
}

//! 同期の適用 — what the sync engine writes into the desk (SYNC.md).
//!
//! - **Acknowledgements** ([`Desk::record_op_results`]): each op becomes
//!   applied, conflict (with its conflict records) or rejected (parked with
//!   its reason, never retried); ops answered twice are answered once.
//! - **Pulled pages** ([`Desk::apply_pull_page`]): one transaction per page,
//!   the cursor saved in it. Pulled server state is applied *under* the
//!   desk's pending edits: the server state is the base, the pending edits
//!   are re-applied on top, so the desk keeps showing its own edits until
//!   the server has answered them. A page first checks whether the desk has
//!   unanswered edits, kept bases or orphan observations at all; an initial
//!   download (none of them) skips those lookups per case. A case's field
//!   versions are stored compacted (the version its top-level fields share
//!   under `""`, see [`compact_case_versions`]).
//!
//! The base of a case with pending edits is kept in `sync_base` once a pull
//! or an answer has touched it; before that it is the shown case with the
//! pending edits taken back (each field change carries its old value). A
//! case without pending edits shows exactly the server's state.

use std::collections::BTreeMap;

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todoke_domain::diff::{apply_to_value, FieldChange};
use todoke_domain::Case;
use todoke_protocol::{Change, ConflictRecord, OpResult, OpStatus as Answer, PullResponse};
use uuid::Uuid;

use crate::codec;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::observation::observed_key;
use crate::outbox::{insert_op, op_from_row, NewOp, OutboxOp, OP_COLUMNS};
use crate::record::{doc_json, insert_case, load_case, update_case_row, CaseRow, Stored};

/// A conflict as the desk holds it: both values, both authors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredConflict {
    pub conflict_id: Uuid,
    pub entity: String,
    /// For entity "case": the case id.
    pub entity_id: String,
    pub field: String,
    pub base_seq: Option<i64>,
    /// The value the server kept.
    pub server_value: Value,
    /// The value that was not written.
    pub client_value: Value,
    pub server_author: String,
    pub client_author: String,
    /// "open", "resolved" or "superseded" (a stale resolution replaced by a new conflict).
    pub status: String,
    /// When the kept value and the other one reached the server (RFC 3339,
    /// server time; display only, never an order). `None` for conflicts
    /// recorded before the server kept times.
    pub server_at: Option<String>,
    pub client_at: Option<String>,
    /// A "conflict.resolve" op for it waits in the outbox.
    pub resolution_pending: bool,
}

/// An operation the server refused for good, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RejectedOp {
    pub op_id: Uuid,
    pub kind: String,
    pub entity: String,
    pub entity_id: String,
    pub code: String,
    pub message_ja: String,
    pub message_en: String,
}

/// What one pulled page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PageApplied {
    pub records: usize,
    pub patches: usize,
    pub scope_left: usize,
    pub conflicts: usize,
}

/// What a batch of answers did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AckSummary {
    pub applied: usize,
    pub conflicts: usize,
    pub rejected: usize,
    /// Answers for ops already answered (a re-send) or unknown here.
    pub ignored: usize,
}

/// The outbox by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OutboxCounts {
    pub pending: u64,
    pub sent: u64,
    pub applied: u64,
    pub conflict: u64,
    pub rejected: u64,
}

impl OutboxCounts {
    /// Not yet answered by the server.
    pub fn unsent(&self) -> u64 {
        self.pending + self.sent
    }
}

fn pack_value(v: &Value) -> Vec<u8> {
    codec::pack(&v.to_string())
}

fn corrupt(what: &'static str, id: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { what, id: id.to_string(), message: e.to_string() }
}

/// The case's unanswered create/update ops, oldest first.
fn pending_case_ops(conn: &Connection, case_id: &str) -> Result<Vec<OutboxOp>> {
    let sql = format!(
        "SELECT {OP_COLUMNS} FROM outbox WHERE case_id = ?1 AND entity = 'case' AND entity_id = ?1
         AND status IN ('pending', 'sent') ORDER BY seq"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let ops = stmt.query_map([case_id], op_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(ops)
}

fn op_changes(op: &OutboxOp) -> Result<Vec<FieldChange>> {
    match op.payload.get("changes") {
        Some(c) => serde_json::from_value(c.clone()).map_err(|e| corrupt("operation", &op.op_id.to_string(), e)),
        None => Ok(Vec::new()),
    }
}

fn is_create(op: &OutboxOp) -> bool {
    op.kind == crate::outbox::kind::CASE_CREATE
}

/// The server's state of a case as this desk knows it (`None`: the server
/// does not have it, as far as the desk knows: a creation not yet answered).
fn load_base(conn: &Connection, case_id: &str, stored: Option<&Stored>, pending: &[OutboxOp]) -> Result<Option<Value>> {
    let row: Option<Vec<u8>> = conn
        .prepare_cached("SELECT doc FROM sync_base WHERE case_id = ?1")?
        .query_row([case_id], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
                _ => Vec::new(),
            })
        })
        .optional()?;
    if let Some(bytes) = row {
        let v: Value = codec::parse(rusqlite::types::ValueRef::Blob(&bytes)).map_err(|e| corrupt("case", case_id, e))?;
        return Ok(Some(v));
    }
    let Some(stored) = stored else { return Ok(None) };
    if pending.iter().any(is_create) {
        return Ok(None);
    }
    // The shown case with the pending edits taken back, newest first.
    let mut doc = serde_json::to_value(&stored.case).expect("a Case serialises");
    for op in pending.iter().rev() {
        let back: Vec<FieldChange> =
            op_changes(op)?.into_iter().rev().map(|c| FieldChange { path: c.path, old: c.new, new: c.old }).collect();
        apply_to_value(&mut doc, &back)?;
    }
    Ok(Some(doc))
}

fn local_seq(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), 0)", [], |r| r.get(0))?)
}

/// What a page's apply knows of the desk before its first change, so that
/// most cases of an initial download skip lookups that would find nothing:
/// no unanswered edits anywhere → no pending ops to re-apply and no kept
/// base; no orphan observation → none to adopt.
struct Known {
    /// The outbox's sequence (applying never queues ops).
    seq: i64,
    unanswered: bool,
    bases: bool,
    orphans: bool,
}

impl Known {
    fn probe(conn: &Connection) -> Result<Known> {
        let any = |sql: &str| -> Result<bool> { Ok(conn.prepare_cached(sql)?.query_row([], |_| Ok(())).optional()?.is_some()) };
        Ok(Known {
            seq: local_seq(conn)?,
            unanswered: any("SELECT 1 FROM outbox WHERE status IN ('pending', 'sent') LIMIT 1")?,
            bases: any("SELECT 1 FROM sync_base LIMIT 1")?,
            orphans: any("SELECT 1 FROM sync_orphan LIMIT 1")?,
        })
    }

    /// Nothing skipped.
    fn unsure(conn: &Connection) -> Result<Known> {
        Ok(Known { seq: local_seq(conn)?, unanswered: true, bases: true, orphans: true })
    }
}

/// Shows `base` with the case's pending edits on top, and keeps the base
/// while edits are pending.
fn settle(conn: &Connection, known: &Known, case_id: &str, stored: Option<Stored>, base: Option<Value>) -> Result<()> {
    let pending = if known.unanswered { pending_case_ops(conn, case_id)? } else { Vec::new() };
    let Some(base) = base else {
        conn.prepare_cached("DELETE FROM sync_base WHERE case_id = ?1")?.execute([case_id])?;
        return Ok(());
    };
    // The shown document, and the base to keep while edits are pending.
    let (shown, kept) = if pending.is_empty() {
        (base, None)
    } else {
        let mut shown = base.clone();
        for op in pending.iter().filter(|o| !is_create(o)) {
            apply_to_value(&mut shown, &op_changes(op)?)?;
        }
        (shown, Some(base))
    };
    let case = Case::deserialize(&shown).map_err(|e| corrupt("case", case_id, e))?;
    let seq = known.seq;
    match stored {
        Some(s) if s.case == case => {}
        Some(s) => update_case_row(conn, &s, &case, &CaseRow::of(&case), &doc_json(shown), s.rev + 1, seq)?,
        None => {
            insert_case(conn, &case, &CaseRow::of(&case), &doc_json(shown), 1, seq)?;
            if known.orphans {
                adopt_orphans(conn, case_id)?;
            }
        }
    }
    match kept {
        None if known.bases => {
            conn.prepare_cached("DELETE FROM sync_base WHERE case_id = ?1")?.execute([case_id])?;
        }
        None => {}
        Some(base) => {
            conn.prepare_cached(
                "INSERT INTO sync_base (case_id, doc) VALUES (?1, ?2) ON CONFLICT(case_id) DO UPDATE SET doc = excluded.doc",
            )?
            .execute(params![case_id, pack_value(&base)])?;
        }
    }
    Ok(())
}

fn insert_observation_doc(conn: &Connection, id: &str, case_id: &str, doc: &Value) -> Result<()> {
    let obs: todoke_domain::Observation = serde_json::from_value(doc.clone()).map_err(|e| corrupt("observation", id, e))?;
    conn.prepare_cached("INSERT OR IGNORE INTO observation (id, case_id, observed_at, doc) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
        id,
        case_id,
        observed_key(&obs),
        codec::pack(&doc.to_string())
    ])?;
    Ok(())
}

/// Observations pulled before their case join it.
fn adopt_orphans(conn: &Connection, case_id: &str) -> Result<()> {
    let orphans: Vec<(String, Value)> = {
        let mut stmt = conn.prepare_cached("SELECT id, doc FROM sync_orphan WHERE case_id = ?1")?;
        let rows = stmt.query_map([case_id], |r| Ok((r.get::<_, String>(0)?, codec::parse::<Value>(r.get_ref(1)?))))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, doc) = row?;
            out.push((id.clone(), doc.map_err(|e| corrupt("observation", &id, e))?));
        }
        out
    };
    for (id, doc) in orphans {
        insert_observation_doc(conn, &id, case_id, &doc)?;
    }
    conn.prepare_cached("DELETE FROM sync_orphan WHERE case_id = ?1")?.execute([case_id])?;
    Ok(())
}

fn set_versions(conn: &Connection, entity: &str, id: &str, versions: &BTreeMap<String, i64>, replace: bool) -> Result<()> {
    if replace {
        conn.prepare_cached("DELETE FROM field_version WHERE entity = ?1 AND id = ?2")?.execute(params![entity, id])?;
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO field_version (entity, id, field, server_seq) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(entity, id, field) DO UPDATE SET server_seq = max(server_seq, excluded.server_seq)",
    )?;
    for (field, seq) in versions {
        stmt.execute(params![entity, id, field, seq])?;
    }
    Ok(())
}

/// A whole case's field versions as stored: the version most of its
/// top-level fields share under the path `""`, and only the fields that
/// differ from it (a case written once: one row instead of one per field).
/// A lookup takes a path's own version, else its nearest enclosing path's,
/// else `""`'s (`outbox::version_of`): the same answer as the full map for
/// every path within one of the case's top-level fields, because a
/// top-level field is dropped only when it holds that shared version.
fn compact_case_versions(versions: &BTreeMap<String, i64>) -> std::borrow::Cow<'_, BTreeMap<String, i64>> {
    let top = |p: &str| !p.is_empty() && !p.contains(['.', '[']);
    if versions.contains_key("") {
        return std::borrow::Cow::Borrowed(versions);
    }
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for (_, seq) in versions.iter().filter(|(p, _)| top(p)) {
        *counts.entry(*seq).or_default() += 1;
    }
    let Some((shared, _)) = counts.into_iter().max_by_key(|(seq, n)| (*n, *seq)) else {
        return std::borrow::Cow::Borrowed(versions);
    };
    let mut out: BTreeMap<String, i64> =
        versions.iter().filter(|(p, seq)| !(top(p) && **seq == shared)).map(|(p, seq)| (p.clone(), *seq)).collect();
    out.insert(String::new(), shared);
    std::borrow::Cow::Owned(out)
}

fn has_unanswered(conn: &Connection, case_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM outbox WHERE case_id = ?1 AND status IN ('pending', 'sent') LIMIT 1")?
        .query_row([case_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Removes a case's personal data (it left this desk's scope). Refused
/// while edits of it are unanswered: they are pushed first.
fn remove_case(conn: &Connection, case_id: &str) -> Result<()> {
    if has_unanswered(conn, case_id)? {
        return Err(StoreError::Validation(format!("case {case_id} left the desk's scope with edits not yet sent; push them first")));
    }
    conn.prepare_cached(
        "DELETE FROM field_version WHERE entity = 'observation' AND id IN (SELECT id FROM observation WHERE case_id = ?1)",
    )?
    .execute([case_id])?;
    conn.prepare_cached("DELETE FROM field_version WHERE entity = 'case' AND id = ?1")?.execute([case_id])?;
    conn.prepare_cached("DELETE FROM name_gram WHERE rid IN (SELECT rid FROM case_record WHERE id = ?1)")?.execute([case_id])?;
    // case_doc, observation and history follow by foreign key.
    conn.prepare_cached("DELETE FROM case_record WHERE id = ?1")?.execute([case_id])?;
    conn.prepare_cached("DELETE FROM sync_base WHERE case_id = ?1")?.execute([case_id])?;
    conn.prepare_cached("DELETE FROM sync_orphan WHERE case_id = ?1")?.execute([case_id])?;
    conn.prepare_cached("DELETE FROM conflict WHERE entity = 'case' AND entity_id = ?1")?.execute([case_id])?;
    // Answered ops hold personal data too; refused ones stay so that the user sees what was refused.
    conn.prepare_cached("DELETE FROM outbox WHERE case_id = ?1 AND status IN ('applied', 'conflict')")?.execute([case_id])?;
    Ok(())
}

fn upsert_conflict(conn: &Connection, c: &ConflictRecord, op_id: Option<Uuid>) -> Result<()> {
    let authors = serde_json::json!({"server": c.server_author, "client": c.client_author}).to_string();
    conn.prepare_cached(
        "INSERT INTO conflict (id, entity, entity_id, field, base_seq, server_value, client_value, authors, op_id, status, created_at,
                               server_at, client_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, server_value = excluded.server_value,
             client_value = excluded.client_value, authors = excluded.authors, base_seq = excluded.base_seq,
             server_at = coalesce(excluded.server_at, server_at), client_at = coalesce(excluded.client_at, client_at)",
    )?
    .execute(params![
        c.conflict_id.to_string(),
        c.entity,
        c.entity_id,
        c.field,
        c.base_seq,
        c.server_value.to_string(),
        c.client_value.to_string(),
        authors,
        op_id.map(|o| o.to_string()),
        c.status,
        Utc::now().to_rfc3339(),
        c.server_at,
        c.client_at,
    ])?;
    Ok(())
}

fn apply_change(conn: &Connection, known: &mut Known, change: Change, done: &mut PageApplied) -> Result<()> {
    match change {
        Change::Put { entity, entity_id, doc, field_versions, .. } if entity == "case" => {
            let uuid = Uuid::parse_str(&entity_id).map_err(|e| corrupt("case", &entity_id, e))?;
            let stored = load_case(conn, uuid)?;
            set_versions(conn, "case", &entity_id, &compact_case_versions(&field_versions), stored.is_some())?;
            settle(conn, known, &entity_id, stored, Some(doc))?;
            done.records += 1;
        }
        Change::Put { entity, entity_id, case_id, doc, field_versions, .. } if entity == "observation" => {
            let case = case_id.to_string();
            let case_here = conn.prepare_cached("SELECT 1 FROM case_record WHERE id = ?1")?.query_row([&case], |_| Ok(())).optional()?;
            if case_here.is_some() {
                insert_observation_doc(conn, &entity_id, &case, &doc)?;
            } else {
                conn.prepare_cached("INSERT OR IGNORE INTO sync_orphan (id, case_id, doc) VALUES (?1, ?2, ?3)")?.execute(params![
                    entity_id,
                    case,
                    pack_value(&doc)
                ])?;
                known.orphans = true;
            }
            set_versions(conn, "observation", &entity_id, &field_versions, true)?;
            done.records += 1;
        }
        Change::Put { .. } => {}
        Change::Patch { server_seq, entity, entity_id, changes, .. } if entity == "case" => {
            let uuid = Uuid::parse_str(&entity_id).map_err(|e| corrupt("case", &entity_id, e))?;
            let stored = load_case(conn, uuid)?;
            let pending = pending_case_ops(conn, &entity_id)?;
            // A case this desk never received: its whole record comes when it enters the scope.
            let Some(mut base) = load_base(conn, &entity_id, stored.as_ref(), &pending)? else { return Ok(()) };
            // The desk's own answered ops may have moved its base past this (older) patch: a
            // change inside a list item since removed by a change already applied is moot.
            for change in &changes {
                match apply_to_value(&mut base, std::slice::from_ref(change)) {
                    Err(todoke_domain::diff::DiffError::NoSuchField(_)) => {}
                    other => other?,
                }
            }
            let versions: BTreeMap<String, i64> = changes.iter().map(|c| (c.path.clone(), server_seq)).collect();
            set_versions(conn, "case", &entity_id, &versions, false)?;
            settle(conn, known, &entity_id, stored, Some(base))?;
            done.patches += 1;
        }
        Change::Patch { .. } => {}
        Change::ScopeLeft { case_id, .. } => {
            remove_case(conn, &case_id.to_string())?;
            done.scope_left += 1;
        }
        Change::Conflict { conflict, .. } => {
            let here = conflict.entity != "case"
                || conn
                    .prepare_cached("SELECT 1 FROM case_record WHERE id = ?1")?
                    .query_row([&conflict.entity_id], |_| Ok(()))
                    .optional()?
                    .is_some();
            if here {
                upsert_conflict(conn, &conflict, None)?;
                done.conflicts += 1;
            }
        }
    }
    Ok(())
}

fn save_cursor(conn: &Connection, scope: &str, cursor: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sync_state (scope, cursor) VALUES (?1, ?2) ON CONFLICT(scope) DO UPDATE SET cursor = excluded.cursor",
    )?
    .execute(params![scope, cursor])?;
    Ok(())
}

impl Desk {
    /// The saved pull cursor of a scope (`None`: nothing pulled yet).
    pub fn sync_cursor(&self, scope: &str) -> Result<Option<String>> {
        Ok(self.conn.query_row("SELECT cursor FROM sync_state WHERE scope = ?1", [scope], |r| r.get(0)).optional()?)
    }

    /// Applies one pulled page and saves its cursor, in one transaction:
    /// a crash leaves either the whole page with its cursor, or neither.
    /// A `scope_left` of a case with unanswered edits is refused (push them first).
    pub fn apply_pull_page(&mut self, scope: &str, page: &PullResponse) -> Result<PageApplied> {
        self.apply_pulled(scope, page.clone())
    }

    /// [`Desk::apply_pull_page`], taking the page: its documents are stored
    /// as they are, not copied.
    pub fn apply_pulled(&mut self, scope: &str, page: PullResponse) -> Result<PageApplied> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = PageApplied::default();
        let mut known = Known::probe(&tx)?;
        for change in page.changes {
            apply_change(&tx, &mut known, change, &mut done)?;
        }
        save_cursor(&tx, scope, &page.next_cursor)?;
        tx.commit()?;
        Ok(done)
    }

    /// Fault injection for the sync simulation: applies the first `after`
    /// changes of a page, then stops as a crash would — the transaction is
    /// never committed, so nothing of the page (nor its cursor) remains.
    #[doc(hidden)]
    pub fn apply_pull_page_then_crash(&mut self, page: &PullResponse, after: usize) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = PageApplied::default();
        let mut known = Known::probe(&tx)?;
        for change in page.changes.iter().take(after) {
            apply_change(&tx, &mut known, change.clone(), &mut done)?;
        }
        drop(tx);
        Ok(())
    }

    /// Once an initial download is complete: removes cases this desk created, the
    /// server took, and never sent back — they are outside this desk's scope
    /// (e.g. transferred away before this desk's first download, whose
    /// snapshot holds only what is in scope now). Returns how many.
    pub fn remove_unreceived_cases(&mut self) -> Result<usize> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ids: Vec<String> = {
            let mut stmt = tx.prepare(
                "SELECT r.id FROM case_record r
                 WHERE NOT EXISTS (SELECT 1 FROM field_version f WHERE f.entity = 'case' AND f.id = r.id)
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = r.id AND o.status IN ('pending', 'sent'))
                   AND EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = r.id AND o.entity = 'case' AND o.kind = 'case.create'
                               AND o.status IN ('applied', 'conflict'))",
            )?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for id in &ids {
            remove_case(&tx, id)?;
        }
        tx.commit()?;
        Ok(ids.len())
    }

    /// The cases among `ids` with edits not yet answered by the server.
    pub fn cases_with_unanswered_ops(&self, ids: &[Uuid]) -> Result<Vec<Uuid>> {
        let mut out = Vec::new();
        for id in ids {
            if has_unanswered(&self.conn, &id.to_string())? {
                out.push(*id);
            }
        }
        Ok(out)
    }

    /// Marks ops as sent (one more attempt each), in one transaction.
    pub fn mark_ops_sent(&mut self, op_ids: &[Uuid]) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE outbox SET status = 'sent', attempts = attempts + 1 WHERE op_id = ?1 AND status IN ('pending', 'sent')",
            )?;
            for id in op_ids {
                stmt.execute([id.to_string()])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Notes a transient failure on ops that stay queued (shown per op).
    pub fn note_send_error(&mut self, op_ids: &[Uuid], error: &str) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached("UPDATE outbox SET last_error = ?2 WHERE op_id = ?1 AND status IN ('pending', 'sent')")?;
            for id in op_ids {
                stmt.execute(params![id.to_string(), error])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records the server's answers, in one transaction. An answer for an op
    /// already answered (a re-send, a duplicated response) changes nothing.
    pub fn record_op_results(&mut self, results: &[OpResult]) -> Result<AckSummary> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut sum = AckSummary::default();
        for r in results {
            let sql = format!("SELECT {OP_COLUMNS} FROM outbox WHERE op_id = ?1");
            let op = tx.query_row(&sql, [r.op_id.to_string()], op_from_row).optional()?;
            let Some(op) = op.filter(|o| matches!(o.status, crate::OpStatus::Pending | crate::OpStatus::Sent)) else {
                sum.ignored += 1;
                continue;
            };
            let case_op = op.entity == "case";
            // The case's server state before this answer (the op still counts as pending).
            let (stored, base) = if case_op {
                let uuid = Uuid::parse_str(&op.entity_id).map_err(|e| corrupt("case", &op.entity_id, e))?;
                let stored = load_case(&tx, uuid)?;
                let pending = pending_case_ops(&tx, &op.entity_id)?;
                let base = load_base(&tx, &op.entity_id, stored.as_ref(), &pending)?;
                (stored, base)
            } else {
                (None, None)
            };
            let mut new_base = base;
            let status = match &r.status {
                Answer::Applied { .. } => {
                    sum.applied += 1;
                    if case_op {
                        if is_create(&op) {
                            if new_base.is_none() {
                                new_base = op.payload.get("case").cloned();
                            }
                        } else if let Some(b) = new_base.as_mut() {
                            apply_to_value(b, &op_changes(&op)?)?;
                        }
                    }
                    "applied"
                }
                Answer::Conflict { conflicts, .. } => {
                    sum.conflicts += 1;
                    if let Some(b) = new_base.as_mut() {
                        let written: Vec<FieldChange> =
                            op_changes(&op)?.into_iter().filter(|c| !conflicts.iter().any(|f| f.field == c.path)).collect();
                        apply_to_value(b, &written)?;
                        // A withheld value (the case has left this desk's scope) stays as the desk last knew it.
                        let kept: Vec<FieldChange> = conflicts
                            .iter()
                            .filter(|f| !f.withheld)
                            .map(|f| FieldChange { path: f.field.clone(), old: f.client_value.clone(), new: f.server_value.clone() })
                            .collect();
                        apply_to_value(b, &kept)?;
                    }
                    // A withheld conflict belongs to those who see the case now; this desk removes the case next.
                    for f in conflicts.iter().filter(|f| !f.withheld) {
                        let record = ConflictRecord {
                            conflict_id: f.conflict_id,
                            entity: op.entity.clone(),
                            entity_id: op.entity_id.clone(),
                            case_id: op.case_id.unwrap_or_default(),
                            field: f.field.clone(),
                            base_seq: op.base_versions.get(&f.field).and_then(Value::as_i64).unwrap_or(0),
                            server_value: f.server_value.clone(),
                            client_value: f.client_value.clone(),
                            server_author: String::new(),
                            client_author: String::new(),
                            status: "open".into(),
                            server_at: f.server_at.clone(),
                            client_at: f.client_at.clone(),
                        };
                        // A pulled record (with authors) may already be here: keep it.
                        let known = tx
                            .prepare_cached("SELECT 1 FROM conflict WHERE id = ?1")?
                            .query_row([f.conflict_id.to_string()], |_| Ok(()))
                            .optional()?;
                        if known.is_none() {
                            upsert_conflict(&tx, &record, Some(op.op_id))?;
                        }
                    }
                    "conflict"
                }
                Answer::Rejected { code, message_ja, message_en } => {
                    sum.rejected += 1;
                    tx.prepare_cached(
                        "INSERT INTO rejected_op (op_id, code, message_ja, message_en, at) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT(op_id) DO NOTHING",
                    )?
                    .execute(params![op.op_id.to_string(), code, message_ja, message_en, Utc::now().to_rfc3339()])?;
                    "rejected"
                }
            };
            let error = match &r.status {
                Answer::Rejected { code, message_en, .. } => Some(format!("{code}: {message_en}")),
                _ => None,
            };
            tx.prepare_cached("UPDATE outbox SET status = ?2, last_error = ?3 WHERE op_id = ?1")?.execute(params![
                op.op_id.to_string(),
                status,
                error
            ])?;
            if case_op {
                settle(&tx, &Known::unsure(&tx)?, &op.entity_id, stored, new_base)?;
            }
        }
        tx.commit()?;
        Ok(sum)
    }

    /// The outbox by status.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let mut stmt = self.conn.prepare("SELECT status, count(*) FROM outbox GROUP BY status")?;
        let mut c = OutboxCounts::default();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))? {
            let (status, n) = row?;
            match status.as_str() {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                "applied" => c.applied = n,
                "conflict" => c.conflict = n,
                _ => c.rejected = n,
            }
        }
        Ok(c)
    }

    /// Every op in the outbox (answered ones too), in local order.
    pub fn outbox_all(&self) -> Result<Vec<OutboxOp>> {
        let sql = format!("SELECT {OP_COLUMNS} FROM outbox ORDER BY seq");
        let mut stmt = self.conn.prepare(&sql)?;
        let ops = stmt.query_map([], op_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(ops)
    }

    /// Conflicts this desk holds (`open_only`: those awaiting a person).
    pub fn conflicts(&self, open_only: bool) -> Result<Vec<StoredConflict>> {
        let sql = format!(
            "SELECT c.id, c.entity, c.entity_id, c.field, c.base_seq, c.server_value, c.client_value, c.authors, c.status,
                    EXISTS (SELECT 1 FROM outbox o WHERE o.entity = 'conflict' AND o.entity_id = c.id AND o.status IN ('pending', 'sent')),
                    c.server_at, c.client_at
             FROM conflict c {} ORDER BY c.created_at, c.id",
            if open_only { "WHERE c.status = 'open'" } else { "" }
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, bool>(9)?,
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })?;
        let json = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null);
        let mut out = Vec::new();
        for row in rows {
            let (id, entity, entity_id, field, base_seq, sv, cv, authors, status, resolution_pending, server_at, client_at) = row?;
            let authors: Value = serde_json::from_str(&authors).unwrap_or(Value::Null);
            let author = |k: &str| authors.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            out.push(StoredConflict {
                conflict_id: Uuid::parse_str(&id).map_err(|e| corrupt("conflict", &id, e))?,
                entity,
                entity_id,
                field,
                base_seq,
                server_value: json(sv),
                client_value: json(cv),
                server_author: author("server"),
                client_author: author("client"),
                status,
                resolution_pending,
                server_at,
                client_at,
            });
        }
        Ok(out)
    }

    /// Queues a person's choice for a conflict: a "conflict.resolve" op
    /// carrying the chosen value, pushed like any edit.
    pub fn queue_conflict_resolution(&mut self, conflict_id: Uuid, value: Value) -> Result<Uuid> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let row: Option<(String, String)> = tx
            .query_row("SELECT entity_id, status FROM conflict WHERE id = ?1", [conflict_id.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((entity_id, status)) = row else {
            return Err(StoreError::NotFound { what: "conflict", id: conflict_id.to_string() });
        };
        if status != "open" {
            return Err(StoreError::Validation(format!("conflict {conflict_id} is already resolved")));
        }
        let op_id = Uuid::now_v7();
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        insert_op(
            &tx,
            &NewOp {
                op_id,
                entity: "conflict",
                entity_id: conflict_id.to_string(),
                case_id: Uuid::parse_str(&entity_id).ok(),
                kind: KIND_CONFLICT_RESOLVE,
                payload: serde_json::json!({ "value": value }).to_string(),
                base_versions: "{}".into(),
                created_at: &now,
            },
        )?;
        tx.commit()?;
        Ok(op_id)
    }

    /// Ops the server refused for good, newest first.
    pub fn rejected_ops(&self) -> Result<Vec<RejectedOp>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.op_id, o.kind, o.entity, o.entity_id, r.code, r.message_ja, r.message_en
             FROM rejected_op r JOIN outbox o ON o.op_id = r.op_id ORDER BY o.seq DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (op_id, kind, entity, entity_id, code, message_ja, message_en) = row?;
            out.push(RejectedOp {
                op_id: Uuid::parse_str(&op_id).map_err(|e| corrupt("operation", &op_id, e))?,
                kind,
                entity,
                entity_id,
                code,
                message_ja,
                message_en,
            });
        }
        Ok(out)
    }

    /// Ids of every case on the desk (soft-deleted too).
    pub fn case_ids(&self) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare("SELECT id FROM case_record ORDER BY rid")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let id = row?;
            out.push(Uuid::parse_str(&id).map_err(|e| corrupt("case", &id, e))?);
        }
        Ok(out)
    }

    /// Ids of a case's observations.
    pub fn observation_ids(&self, case_id: Uuid) -> Result<Vec<Uuid>> {
        let mut stmt = self.conn.prepare("SELECT id FROM observation WHERE case_id = ?1 ORDER BY id")?;
        let rows = stmt.query_map([case_id.to_string()], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let id = row?;
            out.push(Uuid::parse_str(&id).map_err(|e| corrupt("observation", &id, e))?);
        }
        Ok(out)
    }
}

/// "conflict.resolve", as the server reads it.
pub const KIND_CONFLICT_RESOLVE: &str = "conflict.resolve";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::MemoryKeys;
    use todoke_domain::Actor;
    use todoke_protocol::{FieldConflict, OpStatus as Wire};

    #[test]
    fn compacted_versions_answer_every_path_as_the_full_map() {
        let full: BTreeMap<String, i64> = [
            ("basic", 7),
            ("basic.name", 9),
            ("measures", 7),
            ("tests", 12),
            ("tests[a].result", 15),
            ("notification", 7),
            ("investigation", 3),
            ("investigation.contacts[x]", 7),
        ]
        .into_iter()
        .map(|(p, v)| (p.to_string(), v))
        .collect();
        let compact = compact_case_versions(&full);
        assert!(compact.len() < full.len(), "{compact:?}");
        assert_eq!(compact.get(""), Some(&7));
        let as_map = |m: &BTreeMap<String, i64>| -> std::collections::HashMap<String, i64> { m.clone().into_iter().collect() };
        let (full_map, compact_map) = (as_map(&full), as_map(&compact));
        for path in [
            "basic",
            "basic.name",
            "basic.sex",
            "measures.current_status",
            "tests",
            "tests[a]",
            "tests[a].result",
            "tests[b].result",
            "notification.doctor.name",
            "investigation",
            "investigation.contacts[x].name",
            "investigation.contacts[y]",
        ] {
            assert_eq!(crate::outbox::version_of(&compact_map, path), crate::outbox::version_of(&full_map, path), "{path}");
        }
        // A map that already names the whole record is kept as it is.
        let whole: BTreeMap<String, i64> = [(String::new(), 4), ("basic".to_string(), 4)].into();
        assert_eq!(*compact_case_versions(&whole), whole);
    }

    fn put(case: &Case, seq: i64) -> Change {
        let doc = serde_json::to_value(case).unwrap();
        let versions = doc.as_object().unwrap().keys().map(|k| (k.clone(), seq)).collect();
        Change::Put {
            server_seq: seq,
            entity: "case".into(),
            entity_id: case.id.to_string(),
            case_id: case.id,
            doc,
            field_versions: versions,
        }
    }

    fn patch(case: &Case, seq: i64, path: &str, new: &str) -> Change {
        Change::Patch {
            server_seq: seq,
            entity: "case".into(),
            entity_id: case.id.to_string(),
            case_id: case.id,
            changes: vec![FieldChange { path: path.into(), old: Value::Null, new: new.into() }],
            op_id: None,
        }
    }

    fn page(changes: Vec<Change>, cursor: &str) -> PullResponse {
        PullResponse { changes, next_cursor: cursor.into(), has_more: false }
    }

    /// Pulled changes go under pending edits: the desk keeps showing its own
    /// edit until the server answers, other fields take the server's values,
    /// and once answered the desk shows exactly the server's state.
    #[test]
    fn pulled_state_goes_under_pending_edits() {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = Desk::init(dir.path(), &MemoryKeys::new()).unwrap();
        let actor = Actor { login: "t".into(), org_code: "HC1".into() };
        let mut case = Case { id: Uuid::now_v7(), ..Default::default() };
        case.basic.name = "山田".into();
        desk.apply_pull_page("HC1", &page(vec![put(&case, 5)], "c.5")).unwrap();
        assert_eq!(desk.sync_cursor("HC1").unwrap().as_deref(), Some("c.5"));
        // A local edit of the phone, not yet sent.
        let mut mine = desk.get_case(case.id).unwrap().unwrap();
        mine.basic.phone = "090".into();
        let op = desk.update_case(&mine, &actor).unwrap().op_id.unwrap();
        // The server changed the phone (someone else) and the name.
        let p = page(vec![patch(&case, 6, "basic.phone", "080"), patch(&case, 7, "basic.name", "佐藤")], "c.7");
        desk.apply_pull_page("HC1", &p).unwrap();
        let shown = desk.get_case(case.id).unwrap().unwrap();
        assert_eq!((shown.basic.phone.as_str(), shown.basic.name.as_str()), ("090", "佐藤"), "own pending edit on top");
        // The server answers: conflict, it kept 080.
        let conflict = FieldConflict {
            field: "basic.phone".into(),
            server_value: "080".into(),
            client_value: "090".into(),
            conflict_id: Uuid::now_v7(),
            withheld: false,
            server_at: Some("2026-11-20T01:02:03Z".into()),
            client_at: Some("2026-11-20T04:05:06Z".into()),
        };
        let answer = OpResult { op_id: op, status: Wire::Conflict { server_seq: 7, conflicts: vec![conflict] } };
        assert_eq!(desk.record_op_results(std::slice::from_ref(&answer)).unwrap().conflicts, 1);
        let shown = desk.get_case(case.id).unwrap().unwrap();
        assert_eq!((shown.basic.phone.as_str(), shown.basic.name.as_str()), ("080", "佐藤"), "the server's state once answered");
        let held = desk.conflicts(true).unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(
            (held[0].server_at.as_deref(), held[0].client_at.as_deref()),
            (Some("2026-11-20T01:02:03Z"), Some("2026-11-20T04:05:06Z"))
        );
        // The same answer again (a duplicated response) changes nothing.
        assert_eq!(desk.record_op_results(&[answer]).unwrap().ignored, 1);
        let n: i64 = desk.conn.query_row("SELECT count(*) FROM sync_base", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "no base kept once nothing is pending");
    }

    /// A crash in the middle of a page leaves neither the page nor its cursor.
    #[test]
    fn a_page_and_its_cursor_are_one_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = Desk::init(dir.path(), &MemoryKeys::new()).unwrap();
        let cases: Vec<Case> = (0..3).map(|_| Case { id: Uuid::now_v7(), ..Default::default() }).collect();
        let p = page(cases.iter().enumerate().map(|(i, c)| put(c, i as i64 + 1)).collect(), "c.3");
        desk.apply_pull_page_then_crash(&p, 2).unwrap();
        assert_eq!((desk.case_count().unwrap(), desk.sync_cursor("X").unwrap()), (0, None));
        desk.apply_pull_page("X", &p).unwrap();
        assert_eq!((desk.case_count().unwrap(), desk.sync_cursor("X").unwrap().as_deref()), (3, Some("c.3")));
    }
}

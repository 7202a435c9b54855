//! 取り込み — the push path's writer (B6).
//!
//! A push is prepared in its own request, off the writer: each op's payload
//! is checked and put in the form the server stores (a created case
//! validated, made canonical and serialised once; an update's field changes
//! parsed). Then it queues for the writer. Whoever takes the writer's turn
//! (`AppState::writer_turn`) takes every push queued by then (up to
//! [`MAX_GROUP_OPS`] ops) and applies them in ONE transaction — one counter
//! update, one commit, multi-row INSERTs — and answers each push its own
//! results once that transaction has committed. If the group fails as a
//! whole, each of its pushes is applied again alone, so one failing push
//! never fails the others.
//!
//! Within a group, case records are read once (one query for the group) and
//! kept in memory: a case created and then edited in the same group is never
//! read back; every record the group wrote is written once at the end (an
//! upsert). The common case — a create, or an edit without a conflict that
//! does not move the case to other organisations — runs here; everything
//! else (conflicts, transfers, observations, conflict resolutions, clusters,
//! anything unusual) first writes what the group holds and then runs the
//! general code in `sync.rs` against the database, so both give the same
//! answers.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};
use todoke_domain::case::{Case, Jurisdiction};
use todoke_domain::diff::{apply_to_value, FieldChange};
use todoke_protocol::{kind, Change, Op, OpResult, OpStatus};
use uuid::Uuid;

use crate::db::{upsert_rows, Db, Tx, Val};
use crate::scope::{case_access, case_orgs_cached, Access, Principal};
use crate::sync::{author, initial_versions, invalid_payload, out_of_scope, put_change_json, rejected, version_of, Batch, Versions, Whole};
use crate::{ApiError, AppState};

/// Ops one group takes at most (the pushes queued behind it wait for the next).
pub const MAX_GROUP_OPS: usize = 4000;

/// An op checked and put in stored form before the writer's turn.
pub(crate) enum Prepared {
    /// Refused whatever the database holds (bad payload).
    Rejected(OpStatus),
    CreateCase {
        doc: Value,
        text: String,
        jurisdiction: Jurisdiction,
    },
    /// The changes, each with the top-level field it is in.
    UpdateCase {
        changes: Vec<(FieldChange, String)>,
    },
    /// Handled by the general code (`sync::apply_op`).
    General,
}

/// What needs no database: the same checks, in the same order, as `sync.rs`.
pub(crate) fn prepare(op: &Op) -> Prepared {
    match (op.entity.as_str(), op.kind.as_str()) {
        ("case", kind::CASE_CREATE) => {
            let (doc, uid, jurisdiction) = match op.payload.get("case").map(|d| Whole::Case.check(d)) {
                Some(Ok(checked)) => checked,
                Some(Err(e)) => return Prepared::Rejected(invalid_payload("患者等の記録 (case)", e)),
                None => return Prepared::Rejected(invalid_payload("case", "payload.case is missing")),
            };
            if uid.to_string() != op.entity_id {
                return Prepared::Rejected(invalid_payload("case", "case.id differs from entity_id"));
            }
            let text = doc.to_string();
            Prepared::CreateCase { doc, text, jurisdiction }
        }
        ("case", kind::CASE_UPDATE) => {
            let changes = match op.payload.get("changes").map(Vec::<FieldChange>::deserialize) {
                Some(Ok(c)) => c,
                Some(Err(e)) => return Prepared::Rejected(invalid_payload("changes", e)),
                None => return Prepared::Rejected(invalid_payload("changes", "payload.changes is missing")),
            };
            let mut with_fields = Vec::with_capacity(changes.len());
            for change in changes {
                // The first path segment, as `diff::parse_path` reads it; anything odd goes the general way.
                let top = change.path.split('.').next().unwrap_or("").split('[').next().unwrap_or("");
                // A list item added: its patch carries the list's order (`sync::list_orders`).
                if top.is_empty() || top.contains(']') || (change.path.ends_with(']') && change.old.is_null()) {
                    return Prepared::General;
                }
                let top = top.to_string();
                with_fields.push((change, top));
            }
            Prepared::UpdateCase { changes: with_fields }
        }
        _ => Prepared::General,
    }
}

/// One push: who sent it, when, its ops and their prepared forms.
pub(crate) struct Push {
    pub who: Principal,
    pub now: DateTime<Utc>,
    pub ops: Vec<Op>,
    /// Taken by [`apply_group`]; prepared again if the push is re-applied alone.
    prepared: Vec<Option<Prepared>>,
}

impl Push {
    pub fn new(who: Principal, now: DateTime<Utc>, ops: Vec<Op>) -> Push {
        let prepared = ops.iter().map(|op| Some(prepare(op))).collect();
        Push { who, now, ops, prepared }
    }
}

pub(crate) struct Job {
    push: Push,
    reply: tokio::sync::oneshot::Sender<Result<Vec<OpResult>, ApiError>>,
}

/// Pushes prepared and waiting for the writer.
#[derive(Default)]
pub struct Pending(Mutex<VecDeque<Job>>);

impl Pending {
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add(&self, job: Job) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push_back(job);
    }

    /// The oldest waiting pushes, up to [`MAX_GROUP_OPS`] ops (at least one push).
    fn take_group(&self) -> Vec<Job> {
        let mut queue = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let mut ops = 0;
        let mut group = Vec::new();
        while let Some(next) = queue.front() {
            if !group.is_empty() && ops + next.push.ops.len() > MAX_GROUP_OPS {
                break;
            }
            ops += next.push.ops.len();
            group.extend(queue.pop_front());
        }
        group
    }
}

/// Prepares a push on a blocking thread, queues it and waits for its results:
/// applied by this request if it takes the writer's turn, or by the request
/// that took it first (with its own, in one transaction).
pub(crate) async fn submit(state: &AppState, who: Principal, ops: Vec<Op>) -> Result<Vec<OpResult>, ApiError> {
    let now = state.now();
    let push = tokio::task::spawn_blocking(move || Push::new(who, now, ops)).await.map_err(ApiError::internal)?;
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    state.pending.add(Job { push, reply });
    loop {
        let turn = tokio::select! {
            biased;
            done = &mut answer => return done.map_err(ApiError::internal)?,
            turn = state.writer_turn.clone().lock_owned() => turn,
        };
        let group = state.pending.take_group();
        if group.is_empty() {
            // Ours was taken by a group that has finished (the turn is held to its end).
            drop(turn);
            return answer.await.map_err(ApiError::internal)?;
        }
        // The group runs to its end even if this request goes away (the turn
        // goes with it, so the next group waits); its results go to each push.
        let st = state.clone();
        tokio::spawn(async move {
            let _ = st
                .run(move |db| {
                    let leftovers = run_group(db, group);
                    // The next group may start; what this one read is freed after (off the writer's turn).
                    drop(turn);
                    drop(leftovers);
                    Ok(())
                })
                .await;
        });
    }
}

/// Applies a group and answers its pushes; returns what it read, to be freed
/// once the writer's turn has passed on.
fn run_group(db: &Db, group: Vec<Job>) -> (Vec<Push>, Overlay) {
    let (mut pushes, replies): (Vec<Push>, Vec<_>) = group.into_iter().map(|j| (j.push, j.reply)).unzip();
    let mut cases = Overlay::default();
    match db.tx(|tx| apply_group_with(tx, &mut pushes, &mut cases)) {
        Ok(results) => {
            for (r, reply) in results.into_iter().zip(replies) {
                let _ = reply.send(Ok(r));
            }
        }
        Err(e) if pushes.len() == 1 => {
            let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
        }
        Err(_) => {
            // Each alone: the failing one hears its error, the others their results.
            for (push, reply) in pushes.iter_mut().zip(replies) {
                cases = Overlay::default();
                let alone =
                    db.tx(|tx| apply_group_with(tx, std::slice::from_mut(push), &mut cases)).map(|mut r| r.pop().unwrap_or_default());
                let _ = reply.send(alone);
            }
        }
    }
    (pushes, cases)
}

/// Applies pushes in the caller's transaction, in order, as one batch (one
/// run of `server_seq`); the results of each push.
pub(crate) fn apply_group(tx: &mut dyn Tx, pushes: &mut [Push]) -> Result<Vec<Vec<OpResult>>, ApiError> {
    apply_group_with(tx, pushes, &mut Overlay::default())
}

/// [`apply_group`], holding the case records it reads in `cases` (which must start empty).
fn apply_group_with(tx: &mut dyn Tx, pushes: &mut [Push], cases: &mut Overlay) -> Result<Vec<Vec<OpResult>>, ApiError> {
    let mut b = Batch::begin(tx, pushes.first().map(|p| p.now).unwrap_or_else(Utc::now))?;
    for push in pushes.iter_mut() {
        for (op, prepared) in push.ops.iter().zip(push.prepared.iter_mut()) {
            if prepared.is_none() {
                *prepared = Some(prepare(op));
            }
        }
    }
    // Ops applied before (a re-send after a lost answer): their stored results.
    let ids: Vec<Uuid> = pushes.iter().flat_map(|p| p.ops.iter().map(|op| op.op_id)).collect();
    let mut done = applied_before(tx, &ids)?;
    let wanted: Vec<&str> = pushes
        .iter()
        .flat_map(|p| p.ops.iter().zip(&p.prepared))
        .filter(|(op, prep)| {
            !done.contains_key(&op.op_id) && matches!(prep, Some(Prepared::CreateCase { .. } | Prepared::UpdateCase { .. }))
        })
        .map(|(op, _)| op.entity_id.as_str())
        .collect();
    cases.load(tx, &wanted)?;
    let mut all = Vec::with_capacity(pushes.len());
    for push in pushes.iter_mut() {
        b.now = push.now;
        let who = &push.who;
        let mut results = Vec::with_capacity(push.ops.len());
        for (op, prepared) in push.ops.iter().zip(push.prepared.iter_mut()) {
            if let Some(status) = done.get(&op.op_id) {
                results.push(OpResult { op_id: op.op_id, status: status.clone() });
                continue;
            }
            let fast = match prepared.take() {
                Some(Prepared::Rejected(status)) => Some(status),
                Some(Prepared::CreateCase { doc, text, jurisdiction }) => {
                    Some(create_case(tx, &mut b, cases, who, op, doc, text, &jurisdiction)?)
                }
                Some(Prepared::UpdateCase { changes }) => update_case(tx, &mut b, cases, who, op, &changes)?,
                Some(Prepared::General) | None => None,
            };
            let status = match fast {
                Some(status) => status,
                None => {
                    // The general code reads and writes the database: it sees what this group did.
                    cases.flush(tx)?;
                    cases.forget();
                    crate::sync::apply_op(tx, &mut b, who, op)?
                }
            };
            let stored = serde_json::to_string(&status).map_err(ApiError::internal)?;
            b.applied.push(vec![op.op_id.to_string().into(), stored.into()]);
            done.insert(op.op_id, status.clone());
            results.push(OpResult { op_id: op.op_id, status });
        }
        all.push(results);
    }
    cases.flush(tx)?;
    b.finish(tx)?;
    Ok(all)
}

fn applied_before(tx: &mut dyn Tx, ids: &[Uuid]) -> Result<HashMap<Uuid, OpStatus>, ApiError> {
    let mut done = HashMap::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let params: Vec<Val> = chunk.iter().map(|id| id.to_string().into()).collect();
        let sql = format!("SELECT op_id, result FROM applied_op WHERE op_id IN ({})", marks.join(", "));
        for r in tx.query(&sql, &params)? {
            let id = Uuid::parse_str(&r[0].text()?).map_err(ApiError::internal)?;
            done.insert(id, serde_json::from_str(&r[1].text()?).map_err(ApiError::internal)?);
        }
    }
    Ok(done)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    /// As stored.
    Clean,
    /// Created by this group.
    New,
    /// Changed by this group.
    Changed,
}

/// A case record as this group sees it.
struct CaseRecord {
    doc: Value,
    /// `doc` serialised, while it is the created document.
    text: Option<String>,
    created_seq: i64,
    last_seq: i64,
    versions: Versions,
    /// Who sees it (`case_access`).
    orgs: BTreeSet<String>,
    state: State,
}

/// The case records the group reads and writes: `None` for an id known absent.
#[derive(Default)]
struct Overlay(HashMap<String, Option<CaseRecord>>);

impl Overlay {
    /// Reads the records (and who sees them) not yet held, one query per 500.
    fn load(&mut self, tx: &mut dyn Tx, ids: &[&str]) -> Result<(), ApiError> {
        let missing: Vec<&str> = {
            let mut seen = BTreeSet::new();
            ids.iter().copied().filter(|id| !self.0.contains_key(*id) && seen.insert(*id)).collect()
        };
        for chunk in missing.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let params: Vec<Val> = chunk.iter().map(|id| (*id).into()).collect();
            for id in chunk {
                self.0.insert(id.to_string(), None);
            }
            let sql = format!(
                "SELECT entity_id, doc, created_seq, last_seq, versions FROM record WHERE entity = 'case' AND entity_id IN ({})",
                marks.join(", ")
            );
            for r in tx.query(&sql, &params)? {
                let record = CaseRecord {
                    doc: serde_json::from_str(&r[1].text()?).map_err(ApiError::internal)?,
                    text: None,
                    created_seq: r[2].int()?,
                    last_seq: r[3].int()?,
                    versions: serde_json::from_str(&r[4].text()?).map_err(ApiError::internal)?,
                    orgs: BTreeSet::new(),
                    state: State::Clean,
                };
                self.0.insert(r[0].text()?, Some(record));
            }
            let sql = format!("SELECT case_id, org FROM case_access WHERE case_id IN ({})", marks.join(", "));
            for r in tx.query(&sql, &params)? {
                if let Some(Some(record)) = self.0.get_mut(&r[0].text()?) {
                    record.orgs.insert(r[1].text()?);
                }
            }
        }
        Ok(())
    }

    fn get(&mut self, tx: &mut dyn Tx, id: &str) -> Result<Option<&mut CaseRecord>, ApiError> {
        if !self.0.contains_key(id) {
            self.load(tx, &[id])?;
        }
        Ok(self.0.get_mut(id).and_then(Option::as_mut))
    }

    /// Writes what the group created or changed: one upsert, plus who sees the new records.
    fn flush(&mut self, tx: &mut dyn Tx) -> Result<(), ApiError> {
        let mut rows = Vec::new();
        let mut access = Vec::new();
        for (id, record) in self.0.iter_mut() {
            let Some(r) = record else { continue };
            if r.state == State::Clean {
                continue;
            }
            let versions = serde_json::to_string(&r.versions).map_err(ApiError::internal)?;
            let doc = match r.text.take() {
                Some(text) => text,
                None => r.doc.to_string(),
            };
            rows.push(vec![
                "case".into(),
                id.as_str().into(),
                id.as_str().into(),
                doc.into(),
                versions.into(),
                r.created_seq.into(),
                r.last_seq.into(),
            ]);
            if r.state == State::New {
                access.extend(r.orgs.iter().map(|org| vec![id.as_str().into(), org.as_str().into()]));
            }
            r.state = State::Clean;
        }
        upsert_rows(
            tx,
            "record",
            &["entity", "entity_id", "case_id", "doc", "versions", "created_seq", "last_seq"],
            &rows,
            "ON CONFLICT (entity, entity_id) DO UPDATE SET doc = excluded.doc, versions = excluded.versions, last_seq = excluded.last_seq",
        )?;
        upsert_rows(tx, "case_access", &["case_id", "org"], &access, "")?;
        Ok(())
    }

    /// Forgets every record (after the general code, which may have changed any).
    fn forget(&mut self) {
        debug_assert!(self.0.values().flatten().all(|r| r.state == State::Clean));
        self.0.clear();
    }
}

/// `case.create`, as `sync::create_whole` does it.
#[allow(clippy::too_many_arguments)]
fn create_case(
    tx: &mut dyn Tx,
    b: &mut Batch,
    cases: &mut Overlay,
    who: &Principal,
    op: &Op,
    doc: Value,
    text: String,
    jurisdiction: &Jurisdiction,
) -> Result<OpStatus, ApiError> {
    let id = op.entity_id.as_str();
    if let Some(existing) = cases.get(tx, id)? {
        return Ok(if existing.doc == doc {
            OpStatus::Applied { server_seq: existing.last_seq }
        } else {
            rejected("already_exists", "同じIDの記録が既に登録されています。", "A record with this id already exists.")
        });
    }
    let orgs = case_orgs_cached(tx, jurisdiction, &mut b.parents)?;
    if case_access(who, &orgs) < Access::Write {
        return Ok(out_of_scope());
    }
    let seq = b.next_seq();
    let versions = initial_versions(&doc, seq, &author(who));
    let body = put_body(seq, "case", id, id, &text, &versions)?;
    for org in &orgs {
        b.log.push(vec![org.as_str().into(), seq.into(), id.into(), body.as_str().into()]);
    }
    b.audit(who, "create", "case", id);
    let record = CaseRecord { doc, text: Some(text), created_seq: seq, last_seq: seq, versions, orgs, state: State::New };
    cases.0.insert(id.to_string(), Some(record));
    Ok(OpStatus::Applied { server_seq: seq })
}

/// `Change::Put` as JSON, around a document already serialised.
fn put_body(seq: i64, entity: &str, entity_id: &str, case_id: &str, doc: &str, versions: &Versions) -> Result<String, ApiError> {
    let seqs: BTreeMap<&str, i64> = versions.iter().map(|(p, (v, _))| (p.as_str(), *v)).collect();
    put_change_json(entity, entity_id, case_id, doc, seq, &seqs)
}

/// `case.update` when every change is written (no conflict) and the case
/// stays with the same organisations; `None`: the general code decides.
/// Only the top-level fields the changes touch are copied, compared and
/// validated (a case's fields are checked each on its own: `Case` is a plain
/// `#[serde(default)]` struct), with its id and jurisdiction.
fn update_case(
    tx: &mut dyn Tx,
    b: &mut Batch,
    cases: &mut Overlay,
    who: &Principal,
    op: &Op,
    changes: &[(FieldChange, String)],
) -> Result<Option<OpStatus>, ApiError> {
    let id = op.entity_id.as_str();
    let Some(record) = cases.get(tx, id)? else { return Ok(Some(Whole::Case.unknown())) };
    if case_access(who, &record.orgs) < Access::Write {
        // Field-limited access (a lab's corrections) and edits from a desk
        // that lost the case: the general code decides.
        return Ok(None);
    }
    let Some(current) = record.doc.as_object() else { return Ok(None) };
    let mine = format!("/{}", who.device_id);
    // Top-level field → its new value.
    let mut fields: BTreeMap<&str, Value> = BTreeMap::new();
    let mut written = Vec::new();
    for (change, top) in changes {
        let base = op.base_versions.get(&change.path).copied().unwrap_or(0);
        let (cur, holder) = version_of(&record.versions, &change.path);
        // A desk has seen its own earlier writes (its ops arrive in its order).
        let own_write = holder.is_some_and(|a| a.ends_with(&mine));
        let now = fields.get(top.as_str()).or_else(|| current.get(top));
        let mut probe = Map::new();
        if let Some(v) = now {
            probe.insert(top.clone(), v.clone());
        }
        let mut probe = Value::Object(probe);
        if apply_to_value(&mut probe, std::slice::from_ref(change)).is_err() {
            return Ok(None);
        }
        let Some(new) = probe.as_object_mut().and_then(|o| o.remove(top)) else { return Ok(None) };
        if Some(&new) == now {
            continue; // the new value is already there
        }
        if !(base >= cur || own_write) {
            return Ok(None); // a conflict
        }
        fields.insert(top.as_str(), new);
        written.push(change.clone());
    }
    if written.is_empty() {
        return Ok(Some(OpStatus::Applied { server_seq: record.last_seq }));
    }
    // The changed fields, with the id and jurisdiction, must still make a case.
    let mut partial = Map::new();
    for key in ["id", "jurisdiction"] {
        if let Some(v) = fields.get(key).or_else(|| current.get(key)) {
            partial.insert(key.to_string(), v.clone());
        }
    }
    for (k, v) in &fields {
        partial.insert(k.to_string(), v.clone());
    }
    let Ok(case) = Case::deserialize(&Value::Object(partial)) else { return Ok(None) };
    if case.id.to_string() != id {
        return Ok(None);
    }
    let after = case_orgs_cached(tx, &case.jurisdiction, &mut b.parents)?;
    if after != record.orgs {
        return Ok(None); // it moves: the general code sends it whole to the new organisations
    }
    let seq = b.next_seq();
    let me = author(who);
    let doc = record.doc.as_object_mut().ok_or_else(|| ApiError::internal("a case is an object"))?;
    for (k, v) in fields {
        doc.insert(k.to_string(), v);
    }
    for change in &written {
        record.versions.insert(change.path.clone(), (seq, me.clone()));
    }
    record.text = None;
    record.last_seq = seq;
    if record.state == State::Clean {
        record.state = State::Changed;
    }
    let patch = Change::Patch {
        server_seq: seq,
        entity: "case".into(),
        entity_id: id.into(),
        case_id: case.id,
        changes: written,
        op_id: Some(op.op_id),
    };
    let body = serde_json::to_string(&patch).map_err(ApiError::internal)?;
    for org in &record.orgs {
        b.log.push(vec![org.as_str().into(), seq.into(), id.into(), body.as_str().into()]);
    }
    b.audit(who, "update", "case", id);
    Ok(Some(OpStatus::Applied { server_seq: seq }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_put_body_reads_as_the_change() {
        let doc = serde_json::json!({"id": "x", "basic": {"name": "山田 \"太郎\""}, "tests": []});
        let versions: Versions = [("basic".to_string(), (7, "a@b/c".to_string())), ("tests".to_string(), (7, "a@b/c".to_string()))].into();
        let id = Uuid::now_v7().to_string();
        let body = put_body(7, "case", &id, &id, &doc.to_string(), &versions).unwrap();
        let read: Change = serde_json::from_str(&body).unwrap();
        let expected = Change::Put {
            server_seq: 7,
            entity: "case".into(),
            entity_id: id.clone(),
            case_id: Uuid::parse_str(&id).unwrap(),
            doc,
            field_versions: [("basic".to_string(), 7), ("tests".to_string(), 7)].into(),
        };
        assert_eq!(read, expected);
    }

    #[test]
    fn odd_paths_go_the_general_way() {
        let op = |path: &str| Op {
            op_id: Uuid::now_v7(),
            seq: 1,
            entity: "case".into(),
            entity_id: Uuid::now_v7().to_string(),
            kind: kind::CASE_UPDATE.into(),
            payload: serde_json::json!({"changes": [{"path": path, "old": null, "new": 1}]}),
            base_versions: Default::default(),
        };
        assert!(matches!(prepare(&op("[x]")), Prepared::General));
        assert!(matches!(prepare(&op("")), Prepared::General));
        match prepare(&op("tests[a].result")) {
            Prepared::UpdateCase { changes } => assert_eq!(changes[0].1, "tests"),
            _ => panic!("a plain path is prepared"),
        }
    }
}

//! 同期 — POST /api/sync/push and GET /api/sync/pull (SYNC.md).
//!
//! Push: one transaction per batch, the only writer while it runs, so
//! `server_seq` follows commit order. Each op is applied once (`applied_op`
//! keeps its result for re-sends). Per field: base version = current → write;
//! the new value already there → no-op; otherwise keep the current value and
//! record a conflict with both values and both authors.
//!
//! Pull: without a cursor, a snapshot of the caller's scope, newest records
//! first, paged by a keyset cursor pinned at the sequence number it started
//! at; then the caller's own change log from there. A change writes one
//! change-log row per organisation that sees it, so a transfer of 担当保健所
//! sends the case whole to the new scope and `scope_left` to the old one.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use todoke_domain::case::{Case, Jurisdiction};
use todoke_domain::cluster::Cluster;
use todoke_domain::diff::{apply_to_value, value_changes, FieldChange};
use todoke_domain::observation::Observation;
use todoke_protocol::{
    kind, Change, ConflictRecord, FieldConflict, Op, OpResult, OpStatus, PullRequest, PushRequest, PushResponse, PROTOCOL_VERSION,
};
use uuid::Uuid;

use crate::db::{insert_rows, DbError, Tx, Val};
use crate::extract::{Body, Params};
use crate::scope::{
    case_access, case_orgs_cached, may_change_field, note_scope_left, pull_scope, shown_change, view, write_admission, Access, Admission,
    Parents, Principal, View,
};
use crate::{audit, ApiError, AppState};

pub const MAX_OPS_PER_PUSH: usize = 1000;
/// 1000 full case records fit with room to spare.
pub const MAX_PUSH_BYTES: usize = 32 << 20;
pub const DEFAULT_PULL_LIMIT: u32 = 500;
pub const MAX_PULL_LIMIT: u32 = 2000;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/sync/push", post(push).layer(DefaultBodyLimit::max(MAX_PUSH_BYTES))).route("/api/sync/pull", get(pull))
}

/// A place among the pushes admitted at once ([`crate::MAX_QUEUED_PUSHES`]),
/// taken before the caller is looked up and the body read: beyond it, 429 at
/// once, without parsing what would be refused.
pub struct Admitted(#[allow(dead_code)] tokio::sync::OwnedSemaphorePermit);

impl axum::extract::FromRequestParts<AppState> for Admitted {
    type Rejection = ApiError;

    async fn from_request_parts(_parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Admitted, ApiError> {
        state.push_queue.clone().try_acquire_owned().map(Admitted).map_err(|_| ApiError::Busy)
    }
}

async fn push(
    State(state): State<AppState>,
    _admitted: Admitted,
    who: Principal,
    Body(req): Body<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if req.version != PROTOCOL_VERSION {
        return Err(ApiError::invalid(
            "version",
            "supported",
            "対応していないプロトコル版です。アプリを更新してください。",
            "Unsupported protocol version: please update the app.",
        ));
    }
    if req.ops.len() > MAX_OPS_PER_PUSH {
        return Err(ApiError::invalid("ops", "max_1000", "1回の送信は1000件までです。", "At most 1000 operations per push."));
    }
    let results = crate::ingest::submit(&state, who, req.ops).await?;
    Ok(Json(PushResponse { results }))
}

/// Applies a batch in the caller's transaction (what a push does, without
/// the queue: `ingest::apply_group` with this one push).
pub fn push_batch(tx: &mut dyn Tx, who: &Principal, now: DateTime<Utc>, ops: &[Op]) -> Result<Vec<OpResult>, ApiError> {
    let mut push = [crate::ingest::Push::new(who.clone(), now, ops.to_vec())];
    Ok(crate::ingest::apply_group(tx, &mut push)?.pop().unwrap_or_default())
}

/// One push batch: the only writer while it runs, so it holds the change
/// counter in memory; what it writes to tables nothing reads meanwhile
/// (change log, applied ops, audit) goes at its end in multi-row INSERTs.
pub(crate) struct Batch {
    pub(crate) now: DateTime<Utc>,
    start_seq: i64,
    seq: i64,
    pub(crate) log: Vec<Vec<Val>>,
    pub(crate) applied: Vec<Vec<Val>>,
    audit: audit::Entries,
    pub(crate) parents: Parents,
}

impl Batch {
    pub(crate) fn begin(tx: &mut dyn Tx, now: DateTime<Utc>) -> Result<Batch, ApiError> {
        tx.lock_writers()?;
        let seq = tx
            .query("SELECT value FROM counter WHERE name = 'change'", &[])?
            .first()
            .ok_or_else(|| ApiError::internal("no change counter"))?[0]
            .int()?;
        Ok(Batch {
            now,
            start_seq: seq,
            seq,
            log: Vec::new(),
            applied: Vec::new(),
            audit: audit::Entries::default(),
            parents: Parents::new(),
        })
    }

    pub(crate) fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    fn log(&mut self, scope: &str, change: &Change, case_id: &str) -> Result<(), ApiError> {
        self.log_to(std::iter::once(scope), change, case_id)
    }

    /// One change for several scopes, serialised once.
    fn log_to<'s>(&mut self, scopes: impl IntoIterator<Item = &'s str>, change: &Change, case_id: &str) -> Result<(), ApiError> {
        let body = serde_json::to_string(change).map_err(ApiError::internal)?;
        for scope in scopes {
            self.log.push(vec![scope.into(), change.server_seq().into(), case_id.into(), body.as_str().into()]);
        }
        Ok(())
    }

    pub(crate) fn audit(&mut self, who: &Principal, action: &str, entity: &str, entity_id: &str) {
        self.audit.add(self.now, who, action, entity, entity_id);
    }

    pub(crate) fn finish(self, tx: &mut dyn Tx) -> Result<(), ApiError> {
        if self.seq != self.start_seq {
            tx.exec("UPDATE counter SET value = $1 WHERE name = 'change'", &[self.seq.into()])?;
            tx.exec(
                "INSERT INTO change_time (first_seq, at) VALUES ($1, $2)",
                &[(self.start_seq + 1).into(), server_time(self.now).into()],
            )?;
        }
        insert_rows(tx, "change_log", &["scope", "server_seq", "case_id", "body"], &self.log)?;
        insert_rows(tx, "applied_op", &["op_id", "result"], &self.applied)?;
        self.audit.write(tx)?;
        Ok(())
    }
}

/// A server time as the wire shows it (display only; clocks never order changes).
fn server_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// When the server wrote change `seq` (`None`: before it kept times, or never).
fn change_time(tx: &mut dyn Tx, b: &Batch, seq: i64) -> Result<Option<String>, ApiError> {
    if seq > b.start_seq {
        return Ok(Some(server_time(b.now)));
    }
    if seq <= 0 {
        return Ok(None);
    }
    let row = tx.query_opt("SELECT at FROM change_time WHERE first_seq <= $1 ORDER BY first_seq DESC LIMIT 1", &[seq.into()])?;
    Ok(match row {
        Some(r) => Some(r[0].text()?),
        None => None,
    })
}

pub(crate) fn rejected(code: &str, ja: impl Into<String>, en: impl Into<String>) -> OpStatus {
    OpStatus::Rejected { code: code.into(), message_ja: ja.into(), message_en: en.into() }
}

pub(crate) fn out_of_scope() -> OpStatus {
    rejected(
        "out_of_scope",
        "この患者等の記録を変更する権限がありません(管轄外)。変更は保留され、管轄の保健所に連絡してください。",
        "You may not change this case (outside your jurisdiction). The change is kept aside; contact the responsible health centre.",
    )
}

fn not_permitted(path: &str) -> OpStatus {
    rejected(
        "not_permitted",
        format!("この項目({path})を変更する権限がありません。変更は保留されます。担当の保健所に連絡してください。"),
        format!("You may not change this field ({path}). The change is kept aside; contact the responsible health centre."),
    )
}

pub(crate) fn author(who: &Principal) -> String {
    format!("{}@{}/{}", who.login, who.org, who.device_id)
}

pub(crate) fn apply_op(tx: &mut dyn Tx, b: &mut Batch, who: &Principal, op: &Op) -> Result<OpStatus, ApiError> {
    match (op.entity.as_str(), op.kind.as_str()) {
        ("case", kind::CASE_CREATE) => create_whole(tx, b, who, op, Whole::Case),
        ("case", kind::CASE_UPDATE) => update_whole(tx, b, who, op, Whole::Case, None),
        ("cluster", CLUSTER_CREATE) => create_whole(tx, b, who, op, Whole::Cluster),
        ("cluster", CLUSTER_UPDATE) => update_whole(tx, b, who, op, Whole::Cluster, None),
        ("observation", kind::OBSERVATION_ADD) => add_observation(tx, b, who, op),
        ("conflict", kind::CONFLICT_RESOLVE) => resolve_conflict(tx, b, who, op),
        _ => Ok(rejected(
            "unknown_kind",
            format!("サーバーが扱えない操作です({} / {})。アプリを更新してください。", op.entity, op.kind),
            format!("The server does not handle this operation ({} / {}). Please update the app.", op.entity, op.kind),
        )),
    }
}

pub(crate) fn invalid_payload(what: &str, e: impl std::fmt::Display) -> OpStatus {
    rejected("invalid_payload", format!("{what}の内容が正しくありません: {e}"), format!("The {what} is not valid: {e}"))
}

fn record_doc(tx: &mut dyn Tx, entity: &str, id: &str) -> Result<Option<(Value, i64)>, ApiError> {
    match tx.query_opt("SELECT doc, last_seq FROM record WHERE entity = $1 AND entity_id = $2", &[entity.into(), id.into()])? {
        Some(r) => Ok(Some((serde_json::from_str(&r[0].text()?).map_err(ApiError::internal)?, r[1].int()?))),
        None => Ok(None),
    }
}

fn stored_orgs(tx: &mut dyn Tx, case_id: &str) -> Result<BTreeSet<String>, DbError> {
    tx.query("SELECT org FROM case_access WHERE case_id = $1", &[case_id.into()])?.iter().map(|r| r[0].text()).collect()
}

/// Field path → (server_seq, author) of its last write.
pub(crate) type Versions = BTreeMap<String, (i64, String)>;

/// A record's document, last sequence number and field versions, in one read.
fn record_state(tx: &mut dyn Tx, entity: &str, id: &str) -> Result<Option<(Value, i64, Versions)>, ApiError> {
    match tx.query_opt("SELECT doc, last_seq, versions FROM record WHERE entity = $1 AND entity_id = $2", &[entity.into(), id.into()])? {
        Some(r) => Ok(Some((
            serde_json::from_str(&r[0].text()?).map_err(ApiError::internal)?,
            r[1].int()?,
            serde_json::from_str(&r[2].text()?).map_err(ApiError::internal)?,
        ))),
        None => Ok(None),
    }
}

fn seqs(versions: &Versions) -> BTreeMap<String, i64> {
    versions.iter().map(|(p, (seq, _))| (p.clone(), *seq)).collect()
}

/// A new record's versions: one per top-level field, the granularity at which
/// a desk looks a path's version up (`tests[x].result` → `tests`).
pub(crate) fn initial_versions(doc: &Value, seq: i64, author: &str) -> Versions {
    doc.as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| k.as_str() != "updated_at")
        .map(|k| (k.clone(), (seq, author.to_string())))
        .collect()
}

fn versions_text(versions: &Versions) -> Result<String, ApiError> {
    serde_json::to_string(versions).map_err(ApiError::internal)
}

/// Is `inner` the path `outer` or inside it? (`tests[x].result` is inside `tests[x]` and ``.)
fn within(inner: &str, outer: &str) -> bool {
    outer.is_empty() || inner == outer || (inner.starts_with(outer) && matches!(inner.as_bytes().get(outer.len()), Some(b'.') | Some(b'[')))
}

/// The server version of a field: the latest write to it, to anything
/// around it (a whole item) or to anything inside it.
fn current_version(versions: &BTreeMap<String, i64>, path: &str) -> (i64, Option<String>) {
    versions
        .iter()
        .filter(|(p, _)| within(path, p) || within(p, path))
        .max_by_key(|(_, v)| **v)
        .map(|(p, v)| (*v, Some(p.clone())))
        .unwrap_or((0, None))
}

/// [`current_version`] straight from the stored versions, with the author of that write.
pub(crate) fn version_of<'v>(versions: &'v Versions, path: &str) -> (i64, Option<&'v str>) {
    versions
        .iter()
        .filter(|(p, _)| within(path, p) || within(p, path))
        .max_by_key(|(_, (v, _))| *v)
        .map(|(_, (v, a))| (*v, Some(a.as_str())))
        .unwrap_or((0, None))
}

fn put_of(tx: &mut dyn Tx, entity: &str, id: &str) -> Result<Option<Change>, ApiError> {
    let row = tx.query_opt(
        "SELECT case_id, doc, last_seq, versions FROM record WHERE entity = $1 AND entity_id = $2",
        &[entity.into(), id.into()],
    )?;
    let Some(r) = row else { return Ok(None) };
    let versions: Versions = serde_json::from_str(&r[3].text()?).map_err(ApiError::internal)?;
    Ok(Some(Change::Put {
        server_seq: r[2].int()?,
        entity: entity.into(),
        entity_id: id.into(),
        case_id: Uuid::parse_str(&r[0].text()?).map_err(ApiError::internal)?,
        doc: serde_json::from_str(&r[1].text()?).map_err(ApiError::internal)?,
        field_versions: seqs(&versions),
    }))
}

/// The order of every keyed list that gained an item in `written`, as it now
/// is in `doc` (`list[]` changes). Items are appended where they arrive, so a
/// desk that learns of two additions in another order than the server
/// applied them (its own answered first, then an earlier one pulled) would
/// keep another order: the order sent with each addition settles it. Logged
/// with the patch only — it is no one's write, so it has no version.
fn list_orders(doc: &Value, written: &[FieldChange]) -> Vec<FieldChange> {
    let lists: BTreeSet<&str> = written
        .iter()
        .filter(|c| c.old.is_null() && c.new.is_object())
        .filter_map(|c| c.path.strip_suffix(']')?.rsplit_once('[').map(|(list, _)| list))
        .collect();
    lists
        .into_iter()
        .filter_map(|list| {
            let mut at = doc;
            for part in list.split('.') {
                at = match part.split_once('[') {
                    None => at.get(part)?,
                    Some((key, id)) => {
                        let id = id.strip_suffix(']')?;
                        at.get(key)?.as_array()?.iter().find(|v| v.get("id").and_then(Value::as_str) == Some(id))?
                    }
                };
            }
            let ids: Vec<Value> = at.as_array()?.iter().map(|v| v.get("id").cloned().unwrap_or(Value::Null)).collect();
            Some(FieldChange { path: format!("{list}[]"), old: Value::Null, new: Value::Array(ids) })
        })
        .collect()
}

/// Cluster ops (the desk's outbox sends them; additive to the protocol's `kind`).
pub const CLUSTER_CREATE: &str = "cluster.create";
pub const CLUSTER_UPDATE: &str = "cluster.update";

/// Records kept whole and edited field by field: a case (its jurisdiction
/// decides who sees it) and a cluster (集団感染; seen by its managing health
/// centre and the organisations over it, like a case of that centre).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Whole {
    Case,
    Cluster,
}

impl Whole {
    fn entity(self) -> &'static str {
        match self {
            Whole::Case => "case",
            Whole::Cluster => "cluster",
        }
    }

    /// The document as the server stores it, its id and the jurisdiction that
    /// decides who sees it; or why it is not a valid record.
    pub(crate) fn check(self, doc: &Value) -> Result<(Value, Uuid, Jurisdiction), String> {
        match self {
            Whole::Case => {
                let case = Case::deserialize(doc).map_err(|e| e.to_string())?;
                let (id, j) = (case.id, case.jurisdiction.clone());
                Ok((serde_json::to_value(&case).map_err(|e| e.to_string())?, id, j))
            }
            Whole::Cluster => {
                let cluster = Cluster::deserialize(doc).map_err(|e| e.to_string())?;
                if cluster.id.is_nil() || cluster.health_centre.is_empty() {
                    return Err("a cluster needs an id and its health centre".into());
                }
                let j = Jurisdiction { responsible_health_centre: cluster.health_centre.clone(), ..Jurisdiction::default() };
                Ok((serde_json::to_value(&cluster).map_err(|e| e.to_string())?, cluster.id, j))
            }
        }
    }

    pub(crate) fn unknown(self) -> OpStatus {
        match self {
            Whole::Case => rejected("unknown_case", "サーバーにない患者等への変更です。", "The case does not exist on the server."),
            Whole::Cluster => {
                rejected("unknown_cluster", "サーバーにない集団感染への変更です。", "The cluster does not exist on the server.")
            }
        }
    }
}

fn create_whole(tx: &mut dyn Tx, b: &mut Batch, who: &Principal, op: &Op, kind: Whole) -> Result<OpStatus, ApiError> {
    let entity = kind.entity();
    let (doc, uid, jurisdiction) = match op.payload.get(entity).map(|d| kind.check(d)) {
        Some(Ok(checked)) => checked,
        Some(Err(e)) if kind == Whole::Case => return Ok(invalid_payload("患者等の記録 (case)", e)),
        Some(Err(e)) => return Ok(invalid_payload("集団感染 (cluster)", e)),
        None => return Ok(invalid_payload(entity, format!("payload.{entity} is missing"))),
    };
    if uid.to_string() != op.entity_id {
        return Ok(invalid_payload(entity, format!("{entity}.id differs from entity_id")));
    }
    if let Some((existing, seq)) = record_doc(tx, entity, &op.entity_id)? {
        if existing == doc {
            return Ok(OpStatus::Applied { server_seq: seq });
        }
        return Ok(rejected("already_exists", "同じIDの記録が既に登録されています。", "A record with this id already exists."));
    }
    let orgs = case_orgs_cached(tx, &jurisdiction, &mut b.parents)?;
    if case_access(who, &orgs) < Access::Write {
        return Ok(out_of_scope());
    }
    let seq = b.next_seq();
    let versions = initial_versions(&doc, seq, &author(who));
    tx.exec(
        "INSERT INTO record (entity, entity_id, case_id, doc, versions, created_seq, last_seq) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            entity.into(),
            op.entity_id.as_str().into(),
            op.entity_id.as_str().into(),
            doc.to_string().into(),
            versions_text(&versions)?.into(),
            seq.into(),
            seq.into(),
        ],
    )?;
    let access: Vec<Vec<Val>> = orgs.iter().map(|org| vec![op.entity_id.as_str().into(), org.into()]).collect();
    insert_rows(tx, "case_access", &["case_id", "org"], &access)?;
    // A cluster is its own "case" for scope and the change log.
    let put = Change::Put {
        server_seq: seq,
        entity: entity.into(),
        entity_id: op.entity_id.clone(),
        case_id: uid,
        doc,
        field_versions: seqs(&versions),
    };
    b.log_to(orgs.iter().map(String::as_str), &put, &op.entity_id)?;
    b.audit(who, "create", entity, &op.entity_id);
    Ok(OpStatus::Applied { server_seq: seq })
}

/// `admitted`: the caller has already decided (a resolution); else the op's
/// base versions are weighed by [`write_admission`].
fn update_whole(
    tx: &mut dyn Tx,
    b: &mut Batch,
    who: &Principal,
    op: &Op,
    kind: Whole,
    admitted: Option<(Admission, Access)>,
) -> Result<OpStatus, ApiError> {
    let entity = kind.entity();
    let changes: Vec<FieldChange> = match op.payload.get("changes").cloned().map(serde_json::from_value) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Ok(invalid_payload("changes", e)),
        None => return Ok(invalid_payload("changes", "payload.changes is missing")),
    };
    let id = op.entity_id.as_str();
    let Some((current, last_seq, mut all_versions)) = record_state(tx, entity, id)? else {
        return Ok(kind.unknown());
    };
    let before = stored_orgs(tx, id)?;
    let (admission, access) = match admitted {
        Some(a) => a,
        None => {
            let seen_at = changes.iter().map(|c| op.base_versions.get(&c.path).copied().unwrap_or(0)).max().unwrap_or(0);
            write_admission(tx, who, id, &before, seen_at, Access::may_edit)?
        }
    };
    if admission == Admission::Refused {
        return Ok(out_of_scope());
    }
    if let Some(c) = changes.iter().find(|c| !may_change_field(who, access, entity, &c.path)) {
        return Ok(not_permitted(&c.path));
    }
    let versions = seqs(&all_versions);
    let authors: BTreeMap<String, String> = all_versions.iter().map(|(p, (_, a))| (p.clone(), a.clone())).collect();
    let mut doc = current.clone();
    let mut written = Vec::new();
    let mut pending_conflicts = Vec::new();
    for change in &changes {
        let base = op.base_versions.get(&change.path).copied().unwrap_or(0);
        let (cur, holder) = current_version(&versions, &change.path);
        // A desk has seen its own earlier writes (its ops arrive in its order),
        // even before it learnt their server versions.
        let own_write = holder.and_then(|h| authors.get(&h)).is_some_and(|a| a.ends_with(&format!("/{}", who.device_id)));
        let mut probe = doc.clone();
        if let Err(e) = apply_to_value(&mut probe, std::slice::from_ref(change)) {
            return Ok(invalid_payload("changes", e));
        }
        if probe == doc {
            continue; // the new value is already there
        }
        if base >= cur || own_write {
            doc = probe;
            written.push(change.clone());
        } else {
            // A change that would break the record is refused, never parked as a conflict.
            match kind.check(&probe) {
                Err(e) => return Ok(invalid_payload("changes", format!("{}: {e}", change.path))),
                Ok((_, uid, _)) if uid.to_string() != id => return Ok(invalid_payload("changes", "a record's id never changes")),
                Ok(_) => {}
            }
            // What the server has there now: the value the client's change would replace.
            let server_value = value_changes(&probe, &doc)
                .into_iter()
                .find(|c| c.path == change.path)
                .map(|c| c.new)
                .unwrap_or_else(|| serde_json::to_value(value_changes(&probe, &doc)).unwrap_or(Value::Null));
            pending_conflicts.push((change.clone(), base, server_value));
        }
    }
    // The written changes, checked once together; if they break the record, name the first that does.
    let checked = if written.is_empty() { None } else { Some(kind.check(&doc)) };
    let checked = match checked {
        Some(Err(e)) => {
            let mut step = current.clone();
            for change in &written {
                let _ = apply_to_value(&mut step, std::slice::from_ref(change));
                if let Err(e) = kind.check(&step) {
                    return Ok(invalid_payload("changes", format!("{}: {e}", change.path)));
                }
            }
            return Ok(invalid_payload("changes", e));
        }
        Some(Ok((_, uid, _))) if uid.to_string() != id => return Ok(invalid_payload("changes", "a record's id never changes")),
        Some(Ok((_, uid, jurisdiction))) => Some((uid, jurisdiction)),
        None => None,
    };
    let seq = if written.is_empty() && pending_conflicts.is_empty() {
        return Ok(OpStatus::Applied { server_seq: last_seq });
    } else if written.is_empty() {
        last_seq
    } else {
        b.next_seq()
    };
    let me = author(who);
    let mut conflicts = Vec::new();
    let client_at = server_time(b.now);
    for (change, base, server_value) in pending_conflicts {
        let conflict_id = Uuid::now_v7();
        let (server_seq, holder) = current_version(&versions, &change.path);
        let server_author = holder.and_then(|h| authors.get(&h).cloned()).unwrap_or_default();
        let server_at = change_time(tx, b, server_seq)?;
        tx.exec(
            "INSERT INTO conflict (id, entity, entity_id, field, base_seq, server_value, client_value, server_author, client_author, status, server_seq)
             VALUES ($1, $10, $2, $3, $4, $5, $6, $7, $8, 'open', $9)",
            &[
                conflict_id.to_string().into(),
                id.into(),
                change.path.as_str().into(),
                base.into(),
                server_value.to_string().into(),
                change.new.to_string().into(),
                server_author.into(),
                me.as_str().into(),
                seq.into(),
                entity.into(),
            ],
        )?;
        tx.exec(
            "INSERT INTO conflict_time (conflict_id, server_at, client_at) VALUES ($1, $2, $3)",
            &[conflict_id.to_string().into(), server_at.clone().into(), client_at.as_str().into()],
        )?;
        // A desk the case has left learns that its value met another, not which (personal data it may no longer see).
        let withheld = admission == Admission::LeftScope;
        conflicts.push(FieldConflict {
            field: change.path,
            server_value: if withheld { Value::Null } else { server_value },
            client_value: change.new,
            conflict_id,
            withheld,
            server_at,
            client_at: Some(client_at.clone()),
        });
    }
    // Every desk that sees the case learns of its open conflicts.
    for c in &conflicts {
        if let Some(record) = conflict_record(tx, &c.conflict_id.to_string())? {
            let change = Change::Conflict { server_seq: b.next_seq(), conflict: record };
            for org in &before {
                b.log(org, &change, id)?;
            }
        }
    }
    if !written.is_empty() {
        for change in &written {
            all_versions.insert(change.path.clone(), (seq, me.clone()));
        }
        tx.exec(
            "UPDATE record SET doc = $1, last_seq = $2, versions = $3 WHERE entity = $4 AND entity_id = $5",
            &[
                doc.to_string().into(),
                seq.into(),
                serde_json::to_string(&all_versions).map_err(ApiError::internal)?.into(),
                entity.into(),
                id.into(),
            ],
        )?;
        let (case_uuid, jurisdiction) = checked.ok_or_else(|| ApiError::internal("written changes unchecked"))?;
        let after = case_orgs_cached(tx, &jurisdiction, &mut b.parents)?;
        let patch = Change::Patch {
            server_seq: seq,
            entity: entity.into(),
            entity_id: id.into(),
            case_id: case_uuid,
            changes: written.iter().cloned().chain(list_orders(&doc, &written)).collect(),
            op_id: Some(op.op_id),
        };
        b.log_to(before.intersection(&after).map(String::as_str), &patch, id)?;
        for org in before.difference(&after) {
            tx.exec("DELETE FROM case_access WHERE case_id = $1 AND org = $2", &[id.into(), org.into()])?;
            note_scope_left(tx, id, org, seq)?;
            b.log(org, &Change::ScopeLeft { server_seq: seq, case_id: case_uuid }, id)?;
        }
        let entering: Vec<&String> = after.difference(&before).collect();
        if !entering.is_empty() {
            let put = put_of(tx, entity, id)?.ok_or_else(|| ApiError::internal("record vanished"))?;
            let observations: Vec<String> = tx
                .query("SELECT entity_id FROM record WHERE entity = 'observation' AND case_id = $1 ORDER BY created_seq", &[id.into()])?
                .iter()
                .map(|r| r[0].text())
                .collect::<Result<_, _>>()?;
            for org in &entering {
                tx.exec("INSERT INTO case_access (case_id, org) VALUES ($1, $2)", &[id.into(), org.as_str().into()])?;
                b.log(org, &put, id)?;
            }
            // The case's observations follow it, each at a sequence number of its own.
            for obs in observations {
                let obs_seq = b.next_seq();
                if let Some(Change::Put { entity, entity_id, case_id, doc, field_versions, .. }) = put_of(tx, "observation", &obs)? {
                    let put = Change::Put { server_seq: obs_seq, entity, entity_id, case_id, doc, field_versions };
                    for org in &entering {
                        b.log(org, &put, id)?;
                    }
                }
            }
        }
    }
    b.audit(who, if admission == Admission::LeftScope { "update_left_scope" } else { "update" }, entity, id);
    Ok(if conflicts.is_empty() { OpStatus::Applied { server_seq: seq } } else { OpStatus::Conflict { server_seq: seq, conflicts } })
}

fn add_observation(tx: &mut dyn Tx, b: &mut Batch, who: &Principal, op: &Op) -> Result<OpStatus, ApiError> {
    let obs: Observation = match op.payload.get("observation").cloned().map(serde_json::from_value) {
        Some(Ok(o)) => o,
        Some(Err(e)) => return Ok(invalid_payload("健康観察 (observation)", e)),
        None => return Ok(invalid_payload("observation", "payload.observation is missing")),
    };
    if obs.id.to_string() != op.entity_id {
        return Ok(invalid_payload("observation", "observation.id differs from entity_id"));
    }
    let case_id = obs.case_id.to_string();
    let doc = serde_json::to_value(&obs).map_err(ApiError::internal)?;
    if let Some((existing, seq)) = record_doc(tx, "observation", &op.entity_id)? {
        return Ok(if existing == doc {
            OpStatus::Applied { server_seq: seq }
        } else {
            rejected("already_exists", "同じIDの健康観察が既にあります。", "An observation with this id already exists.")
        });
    }
    if record_doc(tx, "case", &case_id)?.is_none() {
        return Ok(rejected(
            "unknown_case",
            "サーバーにない患者等への健康観察です。",
            "The observation's case does not exist on the server.",
        ));
    }
    let orgs = stored_orgs(tx, &case_id)?;
    // An observation is a new fact, made against no version: any organisation that saw the case may still add it.
    let (admission, _) = write_admission(tx, who, &case_id, &orgs, 0, Access::may_add_observation)?;
    if admission == Admission::Refused {
        return Ok(out_of_scope());
    }
    let seq = b.next_seq();
    tx.exec(
        "INSERT INTO record (entity, entity_id, case_id, doc, versions, created_seq, last_seq)
         VALUES ('observation', $1, $2, $3, $4, $5, $6)",
        &[
            op.entity_id.as_str().into(),
            case_id.as_str().into(),
            doc.to_string().into(),
            versions_text(&initial_versions(&doc, seq, &author(who)))?.into(),
            seq.into(),
            seq.into(),
        ],
    )?;
    let put = put_of(tx, "observation", &op.entity_id)?.ok_or_else(|| ApiError::internal("record vanished"))?;
    for org in &orgs {
        b.log(org, &put, &case_id)?;
    }
    b.audit(who, if admission == Admission::LeftScope { "create_left_scope" } else { "create" }, "observation", &op.entity_id);
    Ok(OpStatus::Applied { server_seq: seq })
}

pub fn conflict_record(tx: &mut dyn Tx, conflict_id: &str) -> Result<Option<ConflictRecord>, ApiError> {
    let row = tx.query_opt(
        "SELECT c.id, c.entity, c.entity_id, r.case_id, c.field, c.base_seq, c.server_value, c.client_value, c.server_author, c.client_author, c.status,
                t.server_at, t.client_at
         FROM conflict c JOIN record r ON r.entity = c.entity AND r.entity_id = c.entity_id
         LEFT JOIN conflict_time t ON t.conflict_id = c.id WHERE c.id = $1",
        &[conflict_id.into()],
    )?;
    let Some(r) = row else { return Ok(None) };
    let json = |v: &crate::db::Val| -> Result<Value, ApiError> { serde_json::from_str(&v.text()?).map_err(ApiError::internal) };
    let uuid = |v: &crate::db::Val| -> Result<Uuid, ApiError> { Uuid::parse_str(&v.text()?).map_err(ApiError::internal) };
    Ok(Some(ConflictRecord {
        conflict_id: uuid(&r[0])?,
        entity: r[1].text()?,
        entity_id: r[2].text()?,
        case_id: uuid(&r[3])?,
        field: r[4].text()?,
        base_seq: r[5].int()?,
        server_value: json(&r[6])?,
        client_value: json(&r[7])?,
        server_author: r[8].text()?,
        client_author: r[9].text()?,
        status: r[10].text()?,
        server_at: r[11].opt_text()?,
        client_at: r[12].opt_text()?,
    }))
}

/// A person chose a value, having seen the conflict's server value. If the
/// field still holds that value (or the op names a base version at least the
/// field's current one), the choice is written like any edit and the conflict
/// closes for every desk. If the field has changed since — another edit,
/// another resolution — the choice was not made against the current value: it
/// becomes a new conflict (nothing is overwritten) and the old one is
/// superseded.
fn resolve_conflict(tx: &mut dyn Tx, b: &mut Batch, who: &Principal, op: &Op) -> Result<OpStatus, ApiError> {
    let Some(value) = op.payload.get("value").cloned() else {
        return Ok(invalid_payload("conflict.resolve", "payload.value is missing"));
    };
    let Some(record) = conflict_record(tx, &op.entity_id)? else {
        return Ok(rejected("unknown_conflict", "サーバーにない競合です。", "The conflict does not exist on the server."));
    };
    let orgs = stored_orgs(tx, &record.entity_id)?;
    // The resolver learnt of the conflict while its organisation saw the case.
    let recorded_at = tx
        .query_opt("SELECT server_seq FROM conflict WHERE id = $1", &[op.entity_id.as_str().into()])?
        .map(|r| r[0].int())
        .transpose()?
        .unwrap_or(0);
    let admitted = write_admission(tx, who, &record.entity_id, &orgs, recorded_at, Access::may_edit)?;
    let admission = admitted.0;
    if admission == Admission::Refused {
        return Ok(out_of_scope());
    }
    if record.status != "open" {
        return Ok(rejected("conflict_resolved", "この競合は既に解決されています。", "This conflict has already been resolved."));
    }
    let Some((current, _, versions)) = record_state(tx, &record.entity, &record.entity_id)? else {
        return Ok(rejected("unknown_case", "サーバーにない患者等への変更です。", "The case does not exist on the server."));
    };
    let (field_version, _) = current_version(&seqs(&versions), &record.field);
    let shown = FieldChange { path: record.field.clone(), old: Value::Null, new: record.server_value.clone() };
    let mut probe = current.clone();
    let still_shown = apply_to_value(&mut probe, std::slice::from_ref(&shown)).is_ok() && probe == current;
    let base = match op.base_versions.get(&record.field) {
        Some(base) if *base >= field_version => i64::MAX,
        Some(base) => *base,
        None if still_shown => i64::MAX,
        None => record.base_seq.min(field_version - 1).max(0),
    };
    let edit = Op {
        op_id: op.op_id,
        seq: op.seq,
        entity: record.entity.clone(),
        entity_id: record.entity_id.clone(),
        kind: if record.entity == "cluster" { CLUSTER_UPDATE.into() } else { kind::CASE_UPDATE.into() },
        payload: serde_json::json!({"changes": [FieldChange { path: record.field.clone(), old: record.server_value.clone(), new: value }]}),
        base_versions: [(record.field.clone(), base)].into(),
    };
    let kind = if record.entity == "cluster" { Whole::Cluster } else { Whole::Case };
    let status = update_whole(tx, b, who, &edit, kind, Some(admitted))?;
    let closed_as = match &status {
        OpStatus::Rejected { .. } => return Ok(status),
        OpStatus::Conflict { .. } => "superseded",
        _ => "resolved",
    };
    tx.exec("UPDATE conflict SET status = $1 WHERE id = $2", &[closed_as.into(), op.entity_id.as_str().into()])?;
    let closed = conflict_record(tx, &op.entity_id)?.ok_or_else(|| ApiError::internal("conflict vanished"))?;
    let seq = b.next_seq();
    let change = Change::Conflict { server_seq: seq, conflict: closed };
    for org in stored_orgs(tx, &record.entity_id)? {
        b.log(&org, &change, &record.entity_id)?;
    }
    b.audit(who, if closed_as == "resolved" { "resolve" } else { "resolve_stale" }, "conflict", &op.entity_id);
    Ok(match status {
        OpStatus::Conflict { conflicts, .. } => OpStatus::Conflict { server_seq: seq, conflicts },
        _ => OpStatus::Applied { server_seq: seq },
    })
}

/// Where a pull stands: in the initial snapshot (pinned at `upto`, after the
/// record `(created_seq, entity_id)` last sent), or following the change log.
#[derive(Debug, Clone, PartialEq)]
enum Cursor {
    Snapshot { upto: i64, after: Option<(i64, String)> },
    Changes { after: i64 },
}

impl Cursor {
    fn parse(s: &str) -> Option<Cursor> {
        let parts: Vec<&str> = s.split('.').collect();
        match parts.as_slice() {
            ["c", n] => Some(Cursor::Changes { after: n.parse().ok()? }),
            ["s", upto] => Some(Cursor::Snapshot { upto: upto.parse().ok()?, after: None }),
            ["s", upto, c, id] => {
                Some(Cursor::Snapshot { upto: upto.parse().ok()?, after: Some((c.parse().ok()?, Uuid::parse_str(id).ok()?.to_string())) })
            }
            _ => None,
        }
    }

    fn render(&self) -> String {
        match self {
            Cursor::Changes { after } => format!("c.{after}"),
            Cursor::Snapshot { upto, after: None } => format!("s.{upto}"),
            Cursor::Snapshot { upto, after: Some((c, id)) } => format!("s.{upto}.{c}.{id}"),
        }
    }
}

async fn pull(State(state): State<AppState>, who: Principal, Params(req): Params<PullRequest>) -> Result<Response, ApiError> {
    let Some(scope) = pull_scope(&who) else { return Err(ApiError::Forbidden) };
    let limit = req.limit.unwrap_or(DEFAULT_PULL_LIMIT);
    if limit == 0 || limit > MAX_PULL_LIMIT {
        return Err(ApiError::invalid("limit", "1..=2000", "limit は1〜2000です。", "limit must be 1–2000."));
    }
    let cursor = match req.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(Cursor::parse(c).ok_or_else(|| {
            ApiError::invalid(
                "cursor",
                "format",
                "カーソルが正しくありません。最初から取得し直してください。",
                "The cursor is not valid; start the download again.",
            )
        })?),
    };
    let now = state.now();
    let page = state.run(move |db| db.tx(|tx| pull_page(tx, &who, &scope, cursor, limit as i64, now))).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], page.into_json()).into_response())
}

/// A pulled page as JSON text (a `todoke_protocol::PullResponse`): stored documents and
/// change-log bodies go out as stored, never parsed and written again.
struct PageText {
    /// Each change's JSON.
    changes: Vec<String>,
    next_cursor: String,
    has_more: bool,
}

impl PageText {
    fn into_json(self) -> String {
        let size = self.changes.iter().map(|c| c.len() + 1).sum::<usize>() + self.next_cursor.len() + 64;
        let mut out = String::with_capacity(size);
        out.push_str("{\"changes\":[");
        for (i, c) in self.changes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(c);
        }
        out.push_str("],\"next_cursor\":");
        out.push_str(&json_string(&self.next_cursor));
        out.push_str(",\"has_more\":");
        out.push_str(if self.has_more { "true" } else { "false" });
        out.push('}');
        out
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// A record's `Change::Put` as JSON, its stored document text spliced in
/// whole; `versions` (the stored text: path → [seq, author]) becomes path → seq.
fn put_json(entity: &str, entity_id: &str, case_id: &str, doc: &str, last_seq: i64, versions: &str) -> Result<String, ApiError> {
    let versions: BTreeMap<String, (i64, serde::de::IgnoredAny)> = serde_json::from_str(versions).map_err(ApiError::internal)?;
    let seqs: BTreeMap<&str, i64> = versions.iter().map(|(p, (seq, _))| (p.as_str(), *seq)).collect();
    put_change_json(entity, entity_id, case_id, doc, last_seq, &seqs)
}

/// `Change::Put` as JSON around a document already serialised (`doc`), with
/// its field versions (path → seq): what a pull page and the change log carry.
pub(crate) fn put_change_json(
    entity: &str,
    entity_id: &str,
    case_id: &str,
    doc: &str,
    last_seq: i64,
    seqs: &BTreeMap<&str, i64>,
) -> Result<String, ApiError> {
    let seqs = serde_json::to_string(seqs).map_err(ApiError::internal)?;
    let case_id = Uuid::parse_str(case_id).map_err(ApiError::internal)?;
    let mut out = String::with_capacity(doc.len() + seqs.len() + 160);
    out.push_str("{\"kind\":\"put\",\"server_seq\":");
    out.push_str(&last_seq.to_string());
    out.push_str(",\"entity\":");
    out.push_str(&json_string(entity));
    out.push_str(",\"entity_id\":");
    out.push_str(&json_string(entity_id));
    out.push_str(",\"case_id\":\"");
    out.push_str(&case_id.to_string());
    out.push_str("\",\"doc\":");
    out.push_str(doc);
    out.push_str(",\"field_versions\":");
    out.push_str(&seqs);
    out.push('}');
    Ok(out)
}

/// The audit of one page: an entry per kind of record read, naming every
/// record of the page (`entity_id`: their ids, space-separated). One read of
/// personal data is one logged access, however many records it returns.
fn audit_page(tx: &mut dyn Tx, who: &Principal, now: DateTime<Utc>, read: &BTreeMap<String, Vec<String>>) -> Result<(), ApiError> {
    let mut entries = audit::Entries::default();
    for (entity, ids) in read {
        entries.add(now, who, "read", entity, &ids.join(" "));
    }
    Ok(entries.write(tx)?)
}

fn pull_page(
    tx: &mut dyn Tx,
    who: &Principal,
    scope: &str,
    cursor: Option<Cursor>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<PageText, ApiError> {
    let cursor = match cursor {
        Some(c) => c,
        None => {
            let upto = tx.query("SELECT value FROM counter WHERE name = 'change'", &[])?[0][0].int()?;
            Cursor::Snapshot { upto, after: None }
        }
    };
    let mut changes = Vec::new();
    // entity → ids read, each once, in page order.
    let mut read: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let (next, has_more) = match cursor {
        Cursor::Snapshot { upto, after } => {
            // Below the last record sent, or for the first page below
            // (upto + 1, ""), i.e. every record created up to `upto`.
            let (after_seq, after_id) = after.clone().unwrap_or((upto + 1, String::new()));
            // One read: the records themselves, newest first from the cursor
            // on (the record_created index, no sort), those of the scope only.
            // The row value is the only bound on purpose: with a second one
            // (`created_seq <= upto`) SQLite starts every page's index scan
            // at the top, which makes a download quadratic.
            let rows = tx.query(
                "SELECT r.entity, r.entity_id, r.case_id, r.doc, r.last_seq, r.versions, r.created_seq FROM record r
                 WHERE (r.created_seq, r.entity_id) < ($2, $3)
                   AND EXISTS (SELECT 1 FROM case_access a WHERE a.org = $1 AND a.case_id = r.case_id)
                 ORDER BY r.created_seq DESC, r.entity_id DESC LIMIT $4",
                &[scope.into(), after_seq.into(), after_id.into(), (limit + 1).into()],
            )?;
            let more = rows.len() as i64 > limit;
            let mut last = after;
            for r in rows.iter().take(limit as usize) {
                let (entity, id) = (r[0].text()?, r[1].text()?);
                changes.push(put_json(&entity, &id, &r[2].text()?, &r[3].text()?, r[4].int()?, &r[5].text()?)?);
                read.entry(entity).or_default().push(id.clone());
                last = Some((r[6].int()?, id));
            }
            if more {
                (Cursor::Snapshot { upto, after: last }, true)
            } else {
                // Snapshot done: from here on, what changed since it began (if anything did).
                let now_at = tx.query("SELECT value FROM counter WHERE name = 'change'", &[])?[0][0].int()?;
                (Cursor::Changes { after: upto }, now_at > upto)
            }
        }
        Cursor::Changes { after } => {
            let rows = tx.query(
                "SELECT server_seq, body FROM change_log WHERE scope = $1 AND server_seq > $2 ORDER BY server_seq LIMIT $3",
                &[scope.into(), after.into(), (limit + 1).into()],
            )?;
            let more = rows.len() as i64 > limit;
            let mut last = after;
            let mut seen = BTreeSet::new();
            for r in rows.iter().take(limit as usize) {
                let body = r[1].text()?;
                // Only what the audit needs is read from the stored body.
                let head: ChangeHead = serde_json::from_str(&body).map_err(ApiError::internal)?;
                if let ChangeHead::Put { entity, entity_id } | ChangeHead::Patch { entity, entity_id } = head {
                    if seen.insert((entity.clone(), entity_id.clone())) {
                        read.entry(entity).or_default().push(entity_id);
                    }
                }
                changes.push(body);
                last = r[0].int()?;
            }
            (Cursor::Changes { after: last }, more)
        }
    };
    // Each change as the caller's view shows it (a lab's, a facility's); the
    // full view goes out as stored, never parsed.
    if view(who) != View::Full {
        let mut shown = Vec::with_capacity(changes.len());
        for text in changes {
            let change: Change = serde_json::from_str(&text).map_err(ApiError::internal)?;
            if let Some(c) = shown_change(who, change) {
                shown.push(serde_json::to_string(&c).map_err(ApiError::internal)?);
            }
        }
        changes = shown;
    }
    audit_page(tx, who, now, &read)?;
    Ok(PageText { changes, next_cursor: next.render(), has_more })
}

/// A stored change, read only as far as the audit needs.
#[derive(serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ChangeHead {
    Put {
        entity: String,
        entity_id: String,
    },
    Patch {
        entity: String,
        entity_id: String,
    },
    #[serde(other)]
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_enclosing_and_enclosed_paths() {
        let v: BTreeMap<String, i64> = [("".to_string(), 1), ("tests[a].result".to_string(), 5), ("basic.name".to_string(), 3)].into();
        assert_eq!(current_version(&v, "basic.name").0, 3);
        assert_eq!(current_version(&v, "basic.sex").0, 1);
        assert_eq!(current_version(&v, "tests[a]").0, 5);
        assert_eq!(current_version(&v, "tests[b].result").0, 1);
        assert!(!within("basic.names", "basic.name"));
    }

    #[test]
    fn cursors_round_trip() {
        for c in [
            Cursor::Changes { after: 42 },
            Cursor::Snapshot { upto: 9, after: None },
            Cursor::Snapshot { upto: 9, after: Some((3, Uuid::nil().to_string())) },
        ] {
            assert_eq!(Cursor::parse(&c.render()), Some(c));
        }
        assert_eq!(Cursor::parse("x.1"), None);
    }
}

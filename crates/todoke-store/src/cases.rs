//! Writing and reading cases. Every change writes the record, its outbox
//! operation and its history entry in one transaction: all three or none.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use todoke_domain::diff::{self, FieldChange};
use todoke_domain::{Actor, Case, Cluster, Observation};
use uuid::Uuid;

use crate::cluster::load_cluster;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::history::{insert_history, load_history, HistoryEntry, NewHistory};
use crate::observation::{load_observations, write_observation};
use crate::outbox::{base_versions, insert_op, kind, op_from_row, NewOp, OutboxOp, OP_COLUMNS};
use crate::record::{case_json, insert_case, load_case, parse_case, update_case_row, CaseRow, Stored};

/// Page cache while bulk writing (KiB).
const BULK_CACHE_KIB: i64 = 512 * 1024;

/// A case as saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SavedCase {
    pub case: Case,
    /// Local revision: 1 when created, +1 per saved edit.
    pub rev: i64,
    /// The outbox operation written; `None` when the edit changed nothing.
    pub op_id: Option<Uuid>,
    /// The fields changed (empty for a creation or a no-op edit).
    pub changes: Vec<FieldChange>,
}

/// Everything shown when a case is opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaseDetail {
    pub case: Case,
    pub rev: i64,
    /// 健康観察, oldest first.
    pub observations: Vec<Observation>,
    /// 変更履歴, oldest first.
    pub history: Vec<HistoryEntry>,
    /// The clusters the case is linked to (that this desk has).
    pub clusters: Vec<Cluster>,
    /// This case's changes (and its observations') not yet acknowledged by the server.
    pub pending_ops: Vec<OutboxOp>,
}

/// Wall-clock time of one save (display only), as value and as stored text.
pub(crate) struct Now {
    pub at: DateTime<Utc>,
    pub text: String,
}

impl Now {
    pub fn new() -> Now {
        let at = Utc::now();
        Now { at, text: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true) }
    }
}

fn require_id(id: Uuid, what: &str) -> Result<()> {
    if id.is_nil() {
        return Err(StoreError::Validation(format!("{what} has no id")));
    }
    Ok(())
}

/// Writes a new case with its "case.create" op and history entry.
pub(crate) fn write_create(conn: &Connection, case: &Case, actor: &Actor, now: &Now) -> Result<SavedCase> {
    require_id(case.id, "the case")?;
    let mut case = case.clone();
    case.updated_at.get_or_insert(now.at);
    let row = CaseRow::of(&case);
    let doc = case_json(&case);
    let op_id = Uuid::now_v7();
    let seq = insert_op(
        conn,
        &NewOp {
            op_id,
            entity: "case",
            entity_id: row.id.clone(),
            case_id: Some(case.id),
            kind: kind::CASE_CREATE,
            payload: format!("{{\"case\":{doc}}}"),
            base_versions: "{}".into(),
            created_at: &now.text,
        },
    )?;
    insert_case(conn, &row, &doc, 1, seq)?;
    let history = NewHistory { case_id: &row.id, seq, op_id, kind: kind::CASE_CREATE, at: &now.text, actor, changes: "[]" };
    insert_history(conn, &history)?;
    Ok(SavedCase { case, rev: 1, op_id: Some(op_id), changes: Vec::new() })
}

/// Writes an edit of a stored case: the changed record, one "case.update"
/// op with the field changes and their base versions, one history entry.
fn write_update(conn: &Connection, current: Stored, new: &Case, actor: &Actor, now: &Now) -> Result<SavedCase> {
    let changes = diff::changes(&current.case, new);
    if changes.is_empty() {
        return Ok(SavedCase { case: current.case, rev: current.rev, op_id: None, changes });
    }
    let mut case = new.clone();
    if case.updated_at == current.case.updated_at {
        case.updated_at = Some(now.at);
    }
    let row = CaseRow::of(&case);
    let doc = case_json(&case);
    let changes_json = serde_json::to_string(&changes).expect("changes serialise");
    let op_id = Uuid::now_v7();
    let seq = insert_op(
        conn,
        &NewOp {
            op_id,
            entity: "case",
            entity_id: row.id.clone(),
            case_id: Some(case.id),
            kind: kind::CASE_UPDATE,
            payload: format!("{{\"changes\":{changes_json}}}"),
            base_versions: base_versions(conn, "case", &row.id, &changes)?,
            created_at: &now.text,
        },
    )?;
    let rev = current.rev + 1;
    update_case_row(conn, &current, &row, &doc, rev, seq)?;
    let history = NewHistory { case_id: &row.id, seq, op_id, kind: kind::CASE_UPDATE, at: &now.text, actor, changes: &changes_json };
    insert_history(conn, &history)?;
    Ok(SavedCase { case, rev, op_id: Some(op_id), changes })
}

fn load_existing(conn: &Connection, id: Uuid) -> Result<Stored> {
    load_case(conn, id)?.ok_or_else(|| StoreError::NotFound { what: "case", id: id.to_string() })
}

/// Whether two field paths touch the same data (equal, or one inside the other).
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |outer: &str, inner: &str| inner.strip_prefix(outer).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']));
    inside(a, b) || inside(b, a)
}

impl Desk {
    /// Saves a new case (local revision 1) with its "case.create" op.
    pub fn create_case(&mut self, case: &Case, actor: &Actor) -> Result<SavedCase> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let saved = write_create(&tx, case, actor, &Now::new())?;
        tx.commit()?;
        Ok(saved)
    }

    /// Saves an edited case: diffs it against the stored version and writes
    /// the record, one "case.update" op and one history entry in one
    /// transaction. An edit that changes nothing writes nothing.
    ///
    /// `updated_at` is stamped with the save time unless the caller set a new value.
    pub fn update_case(&mut self, new: &Case, actor: &Actor) -> Result<SavedCase> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = load_existing(&tx, new.id)?;
        let saved = write_update(&tx, current, new, actor, &Now::new())?;
        tx.commit()?;
        Ok(saved)
    }

    /// Saves an edit made starting from `base` (the version the form showed).
    /// When the stored case changed meanwhile (a sync, another window), the
    /// user's changes are applied on top of it; if both touched the same
    /// field the save is refused with `EditConflict` and nothing is written.
    pub fn update_case_from(&mut self, base: &Case, new: &Case, actor: &Actor) -> Result<SavedCase> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = load_existing(&tx, new.id)?;
        let mine = diff::changes(base, new);
        let theirs = diff::changes(base, &current.case);
        let clashes: Vec<String> =
            mine.iter().filter(|m| theirs.iter().any(|t| overlaps(&m.path, &t.path))).map(|m| m.path.clone()).collect();
        if !clashes.is_empty() {
            return Err(StoreError::EditConflict { id: new.id.to_string(), fields: clashes });
        }
        let mut merged = diff::apply(&current.case, &mine)?;
        merged.updated_at = new.updated_at;
        let saved = write_update(&tx, current, &merged, actor, &Now::new())?;
        tx.commit()?;
        Ok(saved)
    }

    /// Saves many edits in one transaction (bulk status changes, imports of
    /// corrections): each edit still gets its own op and history entry.
    pub fn update_cases(&mut self, cases: &[Case], actor: &Actor) -> Result<Vec<SavedCase>> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = Now::new();
        let mut saved = Vec::with_capacity(cases.len());
        for case in cases {
            let current = load_existing(&tx, case.id)?;
            saved.push(write_update(&tx, current, case, actor, &now)?);
        }
        tx.commit()?;
        Ok(saved)
    }

    /// Creates many cases fast (imports, demo data): `batch_size` cases per
    /// transaction, each with its own op and history entry. `progress` gets
    /// the number written after each committed batch. On error the current
    /// batch is rolled back; earlier batches stay.
    pub fn bulk_create(
        &mut self,
        cases: impl IntoIterator<Item = Case>,
        actor: &Actor,
        batch_size: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<usize> {
        self.with_bulk_cache(|desk| {
            let mut cases = cases.into_iter().peekable();
            let mut written = 0;
            while cases.peek().is_some() {
                let tx = desk.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let now = Now::new();
                for case in cases.by_ref().take(batch_size.max(1)) {
                    write_create(&tx, &case, actor, &now)?;
                    written += 1;
                }
                tx.commit()?;
                progress(written);
            }
            Ok(written)
        })
    }

    /// Runs bulk writes with a large page cache, so that the indexes being
    /// filled stay in memory (random inserts into a million-entry index
    /// otherwise re-read and re-decrypt pages); the usual cache is restored after.
    fn with_bulk_cache<T>(&mut self, work: impl FnOnce(&mut Desk) -> Result<T>) -> Result<T> {
        self.conn.execute_batch(&format!("PRAGMA cache_size = -{BULK_CACHE_KIB};"))?;
        let result = work(self);
        self.conn.execute_batch(&format!("PRAGMA cache_size = -{};", crate::desk::CACHE_KIB))?;
        result
    }

    /// Creates cases and their observations in one transaction (demo data).
    pub fn bulk_create_with_observations(
        &mut self,
        cases: impl IntoIterator<Item = Case>,
        observations: impl IntoIterator<Item = Observation>,
        actor: &Actor,
    ) -> Result<usize> {
        self.with_bulk_cache(|desk| {
            let tx = desk.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = Now::new();
            let mut written = 0;
            for case in cases {
                write_create(&tx, &case, actor, &now)?;
                written += 1;
            }
            for obs in observations {
                write_observation(&tx, &obs, &now)?;
            }
            tx.commit()?;
            Ok(written)
        })
    }

    /// A case with everything shown when it is opened; `None` if this desk does not have it.
    pub fn open_case(&self, id: Uuid) -> Result<Option<CaseDetail>> {
        let Some(stored) = load_case(&self.conn, id)? else { return Ok(None) };
        let key = id.to_string();
        let mut clusters = Vec::new();
        for link in &stored.case.investigation.clusters {
            clusters.extend(load_cluster(&self.conn, link.cluster_id)?.map(|(c, _)| c));
        }
        Ok(Some(CaseDetail {
            observations: load_observations(&self.conn, &key)?,
            history: load_history(&self.conn, &key)?,
            clusters,
            pending_ops: self.pending_ops_of(&key)?,
            rev: stored.rev,
            case: stored.case,
        }))
    }

    /// Just the case (no observations or history).
    pub fn get_case(&self, id: Uuid) -> Result<Option<Case>> {
        Ok(load_case(&self.conn, id)?.map(|s| s.case))
    }

    fn pending_ops_of(&self, case_id: &str) -> Result<Vec<OutboxOp>> {
        let sql = format!("SELECT {OP_COLUMNS} FROM outbox WHERE case_id = ?1 AND status IN ('pending', 'sent') ORDER BY seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let ops = stmt.query_map([case_id], op_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(ops)
    }

    /// Cases on the desk, not counting soft-deleted ones.
    pub fn case_count(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM case_record WHERE deleted = 0", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Every case (soft-deleted ones too: check `case.deleted`), in id order,
    /// a page at a time: memory stays flat at any size.
    pub fn iter_cases(&self) -> Result<CaseIter<'_>> {
        Ok(CaseIter { desk: self, after: String::new(), page: Vec::new().into_iter(), finished: false })
    }

    /// Calls `f` with every case in id order (see [`Desk::iter_cases`]); stops at `f`'s first error.
    pub fn for_each_case<E: From<StoreError>>(&self, mut f: impl FnMut(Case) -> Result<(), E>) -> Result<usize, E> {
        let mut n = 0;
        for case in self.iter_cases()? {
            f(case?)?;
            n += 1;
        }
        Ok(n)
    }

    fn case_page(&self, after: &str, size: usize) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.id, d.doc FROM case_record r JOIN case_doc d ON d.rid = r.rid WHERE r.id > ?1 ORDER BY r.id LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![after, size as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Streams every case in id order, reading a page of rows at a time (no
/// read transaction is held between pages).
pub struct CaseIter<'d> {
    desk: &'d Desk,
    after: String,
    page: std::vec::IntoIter<(String, String)>,
    finished: bool,
}

const PAGE: usize = 512;

impl Iterator for CaseIter<'_> {
    type Item = Result<Case>;

    fn next(&mut self) -> Option<Result<Case>> {
        if let Some((id, doc)) = self.page.next() {
            return Some(parse_case(&doc, &id));
        }
        if self.finished {
            return None;
        }
        match self.desk.case_page(&self.after, PAGE) {
            Ok(rows) => {
                self.finished = rows.len() < PAGE;
                self.after = rows.last().map(|(id, _)| id.clone()).unwrap_or_default();
                self.page = rows.into_iter();
                let (id, doc) = self.page.next()?;
                Some(parse_case(&doc, &id))
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn path_overlap() {
        assert!(overlaps("basic.name", "basic.name"));
        assert!(overlaps("basic", "basic.name"));
        assert!(overlaps("tests[a].result", "tests[a]"));
        assert!(!overlaps("basic.name", "basic.name_kana"));
        assert!(!overlaps("tests[a].result", "tests[b].result"));
    }
}

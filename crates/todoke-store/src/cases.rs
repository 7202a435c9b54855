//! Writing and reading cases. Every change writes the record, its outbox
//! operation and its history entry in one transaction: all three or none.

use chrono::{DateTime, Utc};
use std::collections::VecDeque;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, TransactionBehavior};
use serde::{Deserialize, Serialize};
use todoke_domain::diff::{self, FieldChange};
use todoke_domain::{Actor, Case, Cluster, Observation};
use todoke_reports::ReportRow;
use uuid::Uuid;

use crate::cluster::load_cluster;
use crate::codec;
use crate::desk::Desk;
use crate::error::{Result, StoreError};
use crate::history::{insert_history, load_history, HistoryEntry, NewHistory};
use crate::observation::{load_observations, write_observation};
use crate::outbox::{base_versions, insert_op, kind, op_from_row, NewOp, OutboxOp, OP_COLUMNS};
use crate::record::{case_json, insert_case, load_case, update_case_row, CaseRow, Stored};

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
    insert_case(conn, &case, &row, &doc, 1, seq)?;
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
    update_case_row(conn, &current, &case, &row, &doc, rev, seq)?;
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

    /// Every case (soft-deleted ones too: check `case.deleted`), in the
    /// order they are stored (creation order, not id order), read a page at
    /// a time: memory stays flat at any size.
    ///
    /// The database pages are read in their physical order, and unpacking
    /// and parsing the documents (most of the time of a full export) runs on
    /// worker threads a page ahead of the caller, who meanwhile writes out
    /// the cases already handed over.
    pub fn iter_cases(&self) -> Result<CaseIter<'_>> {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_WORKERS);
        Ok(CaseIter { desk: self, after: 0, workers, in_flight: VecDeque::new(), current: Vec::new().into_iter(), finished: false })
    }

    /// Calls `f` with every case in stored order (see [`Desk::iter_cases`]); stops at `f`'s first error.
    pub fn for_each_case<E: From<StoreError>>(&self, mut f: impl FnMut(Case) -> Result<(), E>) -> Result<usize, E> {
        let mut n = 0;
        for case in self.iter_cases()? {
            f(case?)?;
            n += 1;
        }
        Ok(n)
    }

    /// The report row of every live case (soft-deleted cases have none), read
    /// from the narrow `case_stat` table without parsing a document: what
    /// the statistics need of a million cases in well under a second.
    ///
    /// This thread steps through the table copying the packed rows into
    /// chunks; worker threads unpack the chunks meanwhile (unpacking costs
    /// about as much as reading). Rows come back in stored order.
    pub fn report_rows(&self) -> Result<Vec<ReportRow>> {
        const CHUNK: usize = 16_384;
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_WORKERS);
        // An upper bound without a scan (count(*) would read every page).
        let capacity: i64 = self.conn.query_row("SELECT coalesce(max(rid), 0) FROM case_stat", [], |r| r.get(0))?;
        let unpacked = std::thread::scope(|scope| -> Result<Vec<std::result::Result<Vec<ReportRow>, i64>>> {
            let mut senders = Vec::new();
            let mut handles = Vec::new();
            for _ in 0..workers {
                let (tx, rx) = std::sync::mpsc::channel::<PackedChunk>();
                senders.push(tx);
                handles.push(scope.spawn(move || rx.into_iter().map(|c| c.unpack()).collect::<Vec<_>>()));
            }
            let mut stmt = self.conn.prepare_cached("SELECT rid, row FROM case_stat")?;
            let mut rows = stmt.query([])?;
            let mut chunk = PackedChunk::default();
            let mut sent = 0usize;
            while let Some(r) = rows.next()? {
                chunk.rids.push(r.get(0)?);
                chunk.bytes.extend_from_slice(r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?);
                chunk.ends.push(chunk.bytes.len());
                if chunk.rids.len() == CHUNK {
                    // A worker that is gone has panicked; join() below reports it.
                    let _ = senders[sent % workers].send(std::mem::take(&mut chunk));
                    sent += 1;
                }
            }
            if !chunk.rids.is_empty() {
                let _ = senders[sent % workers].send(chunk);
                sent += 1;
            }
            drop(senders);
            let mut per_worker: Vec<std::vec::IntoIter<_>> =
                handles.into_iter().map(|h| h.join().expect("unpacking a report row does not panic").into_iter()).collect();
            // Chunk k went to worker k % workers: take them back in that order.
            Ok((0..sent).filter_map(|k| per_worker[k % workers].next()).collect())
        })?;
        let mut out = Vec::with_capacity(capacity.max(0) as usize);
        for chunk in unpacked {
            match chunk {
                Ok(rows) => out.extend(rows),
                Err(rid) => return Err(self.corrupt_case(rid, "unreadable report row (case_stat)".into())),
            }
        }
        Ok(out)
    }

    /// Up to `size` stored case documents after row `after`, in row order, as stored.
    fn raw_case_page(&self, after: i64, size: usize) -> Result<Vec<RawDoc>> {
        let mut stmt = self.conn.prepare_cached("SELECT rid, doc FROM case_doc WHERE rid > ?1 ORDER BY rid LIMIT ?2")?;
        let rows = stmt.query_map(rusqlite::params![after, size as i64], |r| {
            let (text, bytes) = match r.get_ref(1)? {
                ValueRef::Text(b) => (true, b.to_vec()),
                ValueRef::Blob(b) => (false, b.to_vec()),
                _ => (false, Vec::new()),
            };
            Ok(RawDoc { rid: r.get(0)?, text, bytes })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn corrupt_case(&self, rid: i64, message: String) -> StoreError {
        let id = self
            .conn
            .query_row("SELECT id FROM case_record WHERE rid = ?1", [rid], |r| r.get::<_, String>(0))
            .unwrap_or_else(|_| format!("(row {rid})"));
        StoreError::Corrupt { what: "case", id, message }
    }
}

/// Packed report rows copied out of their pages, for a worker to unpack.
#[derive(Default)]
struct PackedChunk {
    rids: Vec<i64>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl PackedChunk {
    /// The rows, or the row id of the first that does not unpack.
    fn unpack(self) -> std::result::Result<Vec<ReportRow>, i64> {
        let mut start = 0;
        let mut out = Vec::with_capacity(self.rids.len());
        for (rid, end) in self.rids.iter().zip(&self.ends) {
            out.push(ReportRow::unpack(&self.bytes[start..*end]).ok_or(*rid)?);
            start = *end;
        }
        Ok(out)
    }
}

/// A case document as stored, copied out of its database page.
struct RawDoc {
    rid: i64,
    text: bool,
    bytes: Vec<u8>,
}

type Decoded = (i64, std::result::Result<Case, String>);

fn decode_chunk(docs: Vec<RawDoc>) -> Vec<Decoded> {
    let mut buf = Vec::new();
    docs.into_iter()
        .map(|d| {
            let value = if d.text { ValueRef::Text(&d.bytes) } else { ValueRef::Blob(&d.bytes) };
            let case = codec::unpack(value, &mut buf).and_then(codec::from_json);
            (d.rid, case)
        })
        .collect()
}

/// Streams every case in stored order: reads a page of rows at a time (no
/// read transaction is held between pages) and has it decoded by worker
/// threads, one chunk each, while the previous page is consumed.
pub struct CaseIter<'d> {
    desk: &'d Desk,
    /// The last row id read.
    after: i64,
    workers: usize,
    /// Chunks being decoded, in order.
    in_flight: VecDeque<Chunk>,
    current: std::vec::IntoIter<Decoded>,
    finished: bool,
}

/// A chunk of a page: being decoded by a worker thread, or already decoded.
enum Chunk {
    Decoding(std::thread::JoinHandle<Vec<Decoded>>),
    Decoded(Vec<Decoded>),
}

/// Rows read at a time.
const PAGE: usize = 2048;
/// Decoding threads per page at most.
const MAX_WORKERS: usize = 4;

impl CaseIter<'_> {
    /// Reads the next page and hands it to the workers; false at the end.
    fn read_page(&mut self) -> Result<bool> {
        if self.finished {
            return Ok(false);
        }
        let mut rows = self.desk.raw_case_page(self.after, PAGE)?;
        self.finished = rows.len() < PAGE;
        let Some(last) = rows.last() else { return Ok(false) };
        self.after = last.rid;
        let chunk = rows.len().div_ceil(self.workers);
        while !rows.is_empty() {
            let rest = rows.split_off(chunk.min(rows.len()));
            let docs = std::mem::replace(&mut rows, rest);
            // The chunk goes over a channel so that it is still ours if no thread can be had.
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let worker = std::thread::Builder::new().name("todoke-case-decode".into()).spawn(move || {
                let docs = rx.recv().unwrap_or_default();
                decode_chunk(docs)
            });
            self.in_flight.push_back(match worker {
                Ok(handle) => {
                    tx.send(docs).expect("the worker waits for its chunk");
                    Chunk::Decoding(handle)
                }
                // No thread to be had (resource limits): decode here instead.
                Err(_) => Chunk::Decoded(decode_chunk(docs)),
            });
        }
        Ok(true)
    }
}

impl Iterator for CaseIter<'_> {
    type Item = Result<Case>;

    fn next(&mut self) -> Option<Result<Case>> {
        loop {
            if let Some((rid, case)) = self.current.next() {
                return Some(case.map_err(|message| self.desk.corrupt_case(rid, message)));
            }
            // Keep a page being decoded ahead of the one handed out.
            while self.in_flight.len() < 2 * self.workers {
                match self.read_page() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        self.finished = true;
                        self.in_flight.clear();
                        return Some(Err(e));
                    }
                }
            }
            let chunk = match self.in_flight.pop_front()? {
                Chunk::Decoding(handle) => handle.join(),
                Chunk::Decoded(decoded) => Ok(decoded),
            };
            match chunk {
                Ok(decoded) => self.current = decoded.into_iter(),
                Err(_) => {
                    self.finished = true;
                    self.in_flight.clear();
                    return Some(Err(StoreError::Corrupt {
                        what: "case",
                        id: format!("(after row {})", self.after),
                        message: "decoding failed".into(),
                    }));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::overlaps;
    use crate::{Desk, MemoryKeys};
    use todoke_domain::{Actor, Case, Observation};

    /// Rows written before documents were packed (plain JSON TEXT) read as before.
    #[test]
    fn plain_text_documents_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = Desk::init(dir.path(), &MemoryKeys::new()).unwrap();
        let actor = Actor { login: "t".into(), org_code: "HC131121".into() };
        let mut case = Case { id: uuid::Uuid::now_v7(), ..Default::default() };
        case.basic.name = "平文 太郎".into();
        case.basic.name_kana = "ヘイブン タロウ".into();
        let saved = desk.create_case(&case, &actor).unwrap().case;
        let obs = Observation { id: uuid::Uuid::now_v7(), case_id: case.id, temperature: Some(37.5), ..Default::default() };
        desk.add_observation(&obs, &actor).unwrap();
        // packed as stored
        let kind: String = desk.conn.query_row("SELECT typeof(doc) FROM case_doc", [], |r| r.get(0)).unwrap();
        assert_eq!(kind, "blob");
        let before = desk.open_case(case.id).unwrap().unwrap();
        // rewritten the old way
        desk.conn.execute("UPDATE case_doc SET doc = ?1", [serde_json::to_string(&saved).unwrap()]).unwrap();
        desk.conn.execute("UPDATE observation SET doc = ?1", [serde_json::to_string(&obs).unwrap()]).unwrap();
        desk.conn
            .execute(
                "UPDATE outbox SET payload = ?1 WHERE kind = 'observation.add'",
                [format!("{{\"observation\":{}}}", serde_json::to_string(&obs).unwrap())],
            )
            .unwrap();
        let kind: String = desk.conn.query_row("SELECT typeof(doc) FROM case_doc", [], |r| r.get(0)).unwrap();
        assert_eq!(kind, "text");
        assert_eq!(desk.open_case(case.id).unwrap().unwrap(), before);
        assert_eq!(desk.iter_cases().unwrap().map(|c| c.unwrap()).collect::<Vec<_>>(), vec![saved.clone()]);
        // and an edit of an old row writes it packed
        let mut edited = saved.clone();
        edited.basic.phone = "090-0000-1111".into();
        desk.update_case(&edited, &actor).unwrap();
        let kind: String = desk.conn.query_row("SELECT typeof(doc) FROM case_doc", [], |r| r.get(0)).unwrap();
        assert_eq!(kind, "blob");
        assert_eq!(desk.get_case(case.id).unwrap().unwrap().basic.phone, "090-0000-1111");
    }

    /// A damaged document is reported as such, with the case's id, and does not stop the stream.
    #[test]
    fn a_damaged_document_is_a_corrupt_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = Desk::init(dir.path(), &MemoryKeys::new()).unwrap();
        let actor = Actor { login: "t".into(), org_code: "HC131121".into() };
        let ids: Vec<uuid::Uuid> = (0..3)
            .map(|_| {
                let case = Case { id: uuid::Uuid::now_v7(), ..Default::default() };
                desk.create_case(&case, &actor).unwrap();
                case.id
            })
            .collect();
        desk.conn.execute("UPDATE case_doc SET doc = x'01deadbeef' WHERE rid = 2", []).unwrap();
        let results: Vec<_> = desk.iter_cases().unwrap().collect();
        assert_eq!(results.len(), 3);
        assert!(results[0].is_ok() && results[2].is_ok());
        match &results[1] {
            Err(crate::StoreError::Corrupt { id, .. }) => assert_eq!(id, &ids[1].to_string()),
            other => panic!("{other:?}"),
        }
        assert!(matches!(desk.get_case(ids[1]), Err(crate::StoreError::Corrupt { .. })));
    }

    #[test]
    fn path_overlap() {
        assert!(overlaps("basic.name", "basic.name"));
        assert!(overlaps("basic", "basic.name"));
        assert!(overlaps("tests[a].result", "tests[a]"));
        assert!(!overlaps("basic.name", "basic.name_kana"));
        assert!(!overlaps("tests[a].result", "tests[b].result"));
    }
}

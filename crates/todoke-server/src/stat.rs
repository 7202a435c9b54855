//! The statistics' projection of the record: `case_stat`, one packed
//! report row per live case (`todoke_reports::ReportRow::pack`, ~60 bytes),
//! so a report reads ~60 bytes per case instead of parsing its document.
//!
//! **How it stays consistent.** The push path does not write `case_stat`
//! (it stays as fast as it is, and knows nothing of statistics). A projector
//! follows the server's change sequence instead: every case record carries
//! the `server_seq` of its last change (`record.last_seq`, indexed for
//! cases), and `case_stat_cursor` holds the last seq projected. A catch-up
//! reads the cases changed after the cursor in seq order, in batches of
//! [`BATCH`], re-packs them (a soft-deleted case loses its row), and moves
//! the cursor in the same transaction as the rows it wrote — a crash leaves
//! the cursor and the table consistent, and projecting a case twice writes
//! the same row.
//!
//! **Freshness.** A report request first catches up to the end of the
//! sequence and only then reads `case_stat` ([`catch_up`] in
//! `reports.rs`): every change committed before the request started is in
//! the report. This relies on `server_seq` following commit order (a push
//! is the only writer while it runs; README "Invariants"): a change not yet
//! visible to the catch-up has a seq above everything it projected, so no
//! change is ever skipped. Changes committed while the report is read may
//! or may not be in it. `todoke-server serve` also catches up in the
//! background ([`spawn_background`], every [`BACKGROUND_EVERY`]), so a
//! request rarely has more than a few seconds of changes to project.
//!
//! **Scope.** Who sees which rows is still decided by `scope.rs` alone:
//! a prefecture's or a health centre's report joins `case_access` (kept by
//! the push path in the same transaction as the record) with `case_stat`;
//! the nation reads the whole table.

use std::time::Duration;

use todoke_domain::Case;
use todoke_reports::ReportRow;

use crate::db::{insert_rows, Db, DbError, Tx, Val};
use crate::scope::ReportScope;

/// Cases re-packed per transaction.
pub const BATCH: i64 = 2_000;

/// How often `serve` catches up on its own.
pub const BACKGROUND_EVERY: Duration = Duration::from_secs(2);

/// Projects every case changed after the cursor; returns how many case
/// records were read. Safe to run from several threads or servers at once:
/// each batch locks the cursor row first, so batches take turns.
pub fn catch_up(db: &Db) -> Result<u64, DbError> {
    let mut total = 0;
    loop {
        let n = db.tx(|tx| project_batch(tx, BATCH))?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
}

/// One batch: the next cases after the cursor. Returns how many were read (0: caught up).
pub fn project_batch(tx: &mut dyn Tx, limit: i64) -> Result<u64, DbError> {
    // An UPDATE, not a SELECT: the cursor row stays locked to commit
    // (PostgreSQL), so a concurrent catch-up waits and then reads the new cursor.
    let cursor = tx.query("UPDATE case_stat_cursor SET seq = seq WHERE id = 1 RETURNING seq", &[])?;
    let cursor = cursor.first().ok_or_else(|| DbError::Type("case_stat_cursor row missing".into()))?[0].int()?;
    let mut docs = tx.query(
        "SELECT entity_id, doc, last_seq FROM record WHERE entity = 'case' AND last_seq > $1 ORDER BY last_seq LIMIT $2",
        &[cursor.into(), limit.into()],
    )?;
    if docs.is_empty() {
        return Ok(0);
    }
    let mut last = docs[docs.len() - 1][2].int()?;
    if docs.len() as i64 == limit {
        // Cases sharing the last seq may continue past the limit: take all of them now.
        docs.retain(|d| d[2].int().is_ok_and(|s| s < last));
        let rest = tx.query("SELECT entity_id, doc, last_seq FROM record WHERE entity = 'case' AND last_seq = $1", &[last.into()])?;
        docs.extend(rest);
    }
    let mut ids = Vec::with_capacity(docs.len());
    let mut rows = Vec::with_capacity(docs.len());
    for d in &docs {
        let id = d[0].text()?;
        let seq = d[2].int()?;
        last = last.max(seq);
        let case: Case = serde_json::from_str(&d[1].text()?).map_err(|e| DbError::Type(format!("case {id}: unreadable document ({e})")))?;
        if let Some(row) = ReportRow::from_case(&case) {
            rows.push(vec![Val::from(id.as_str()), Val::Bytes(row.pack()), Val::Int(seq)]);
        }
        ids.push(Val::Text(id));
    }
    for chunk in ids.chunks(1_000) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        tx.exec(&format!("DELETE FROM case_stat WHERE case_id IN ({})", list.join(", ")), chunk)?;
    }
    insert_rows(tx, "case_stat", &["case_id", "row", "seq"], &rows)?;
    tx.exec("UPDATE case_stat_cursor SET seq = $1 WHERE id = 1", &[last.into()])?;
    Ok(docs.len() as u64)
}

/// Catches up every `every` on a thread of its own, for as long as the
/// process runs. A failed catch-up is retried at the next tick (and a report
/// request catches up itself anyway); the error goes to stderr without data.
pub fn spawn_background(db: Db, every: Duration) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("case-stat".into())
        .spawn(move || loop {
            if let Err(e) = catch_up(&db) {
                eprintln!("case_stat projector: {e}");
            }
            std::thread::sleep(every);
        })
        .expect("a thread for the case_stat projector")
}

/// Packed rows per unpacking job.
const CHUNK: usize = 16_384;

/// The report row of every live case in `scope`, read from `case_stat` in
/// one streamed scan. This thread copies the packed rows into chunks while
/// another unpacks them (unpacking costs about as much as reading).
/// The cluster records (集団感染) of a report's scope, for indicator 11: a
/// cluster is seen by its managing health centre and the organisations over
/// it (`case_access`, keyed by the cluster's id).
pub fn report_clusters(tx: &mut dyn Tx, scope: &ReportScope) -> Result<Vec<todoke_domain::Cluster>, DbError> {
    let rows = match scope {
        ReportScope::Everything => tx.query("SELECT doc FROM record WHERE entity = 'cluster' ORDER BY entity_id", &[])?,
        ReportScope::Org(org) => tx.query(
            "SELECT r.doc FROM case_access a JOIN record r ON r.entity = 'cluster' AND r.entity_id = a.case_id
             WHERE a.org = $1 ORDER BY r.entity_id",
            &[org.as_str().into()],
        )?,
    };
    rows.iter().map(|r| serde_json::from_str(&r[0].text()?).map_err(|e| DbError::Type(format!("cluster record: {e}")))).collect()
}

pub fn report_rows(tx: &mut dyn Tx, scope: &ReportScope) -> Result<Vec<ReportRow>, DbError> {
    let (sql, params): (&str, Vec<Val>) = match scope {
        ReportScope::Everything => ("SELECT row FROM case_stat", vec![]),
        ReportScope::Org(org) => {
            ("SELECT s.row FROM case_access a JOIN case_stat s ON s.case_id = a.case_id WHERE a.org = $1", vec![org.as_str().into()])
        }
    };
    std::thread::scope(|threads| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Packed>(4);
        let worker = threads.spawn(move || {
            let mut out: Vec<ReportRow> = Vec::new();
            for chunk in receive {
                out.reserve(chunk.ends.len());
                let mut start = 0;
                for &end in &chunk.ends {
                    out.push(ReportRow::unpack(&chunk.bytes[start..end]).ok_or(())?);
                    start = end;
                }
            }
            Ok::<_, ()>(out)
        });
        let mut chunk = Packed::default();
        let mut send_err = false;
        let read = tx.for_each_bytes(sql, &params, &mut |bytes| {
            chunk.bytes.extend_from_slice(bytes);
            chunk.ends.push(chunk.bytes.len());
            if chunk.ends.len() == CHUNK && !send_err {
                // The worker is gone only after an unreadable row: it reports that below.
                send_err = send.send(std::mem::take(&mut chunk)).is_err();
            }
        });
        if !chunk.ends.is_empty() && !send_err {
            let _ = send.send(chunk);
        }
        drop(send);
        let rows = worker.join().expect("unpacking a report row does not panic");
        read?;
        rows.map_err(|()| DbError::Type("unreadable report row in case_stat".into()))
    })
}

#[derive(Default)]
struct Packed {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

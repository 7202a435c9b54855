//! Published counts for the input rate (入力率, DOMAIN.md §5): the counts a
//! municipality published per day and area, imported from its CSV file and
//! kept in the desk so they survive restarts; each import is recorded (file,
//! time, rows). A later import of the same day and area replaces the count
//! (municipalities correct their figures); other days stay as they were.
//! Desk-local: counts are public figures and never synced.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use todoke_reports::PublishedCount;

use crate::desk::Desk;
use crate::error::Result;

/// One import of a published-counts file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PublishedImport {
    pub id: i64,
    /// The file's name ("130001_published.csv").
    pub file_name: String,
    /// Where it was read from.
    pub path: String,
    /// When (RFC 3339, UTC).
    pub imported_at: String,
    /// Rows with data read (the header and blank lines not counted).
    pub rows_read: u64,
    pub accepted: u64,
    pub refused: u64,
    /// The first and last day of the accepted counts.
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    /// How many of its counts are still in force (not replaced by a later import).
    pub in_force: u64,
}

impl Desk {
    /// Stores the counts of one file in one transaction: the import's record
    /// and every count (counts of the same day and area in the file are
    /// added up; a count already stored for that day and area is replaced).
    /// `counts` carry canonical area codes.
    pub fn save_published(
        &mut self,
        file_name: &str,
        path: &str,
        imported_at: &str,
        rows_read: u64,
        refused: u64,
        counts: &[PublishedCount],
    ) -> Result<PublishedImport> {
        let mut summed: BTreeMap<(NaiveDate, &str), i64> = BTreeMap::new();
        for c in counts {
            *summed.entry((c.date, c.area.as_str())).or_default() += c.count;
        }
        let first = counts.iter().map(|c| c.date).min();
        let last = counts.iter().map(|c| c.date).max();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO published_import (file_name, path, imported_at, rows_read, accepted, refused, first_date, last_date)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                file_name,
                path,
                imported_at,
                rows_read as i64,
                counts.len() as i64,
                refused as i64,
                first.map(|d| d.to_string()),
                last.map(|d| d.to_string())
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut put = tx.prepare(
                "INSERT INTO published_count (date, area, count, import_id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (date, area) DO UPDATE SET count = excluded.count, import_id = excluded.import_id",
            )?;
            for ((date, area), count) in &summed {
                put.execute(params![date.to_string(), area, count, id])?;
            }
        }
        tx.commit()?;
        let import = self.published_imports()?.into_iter().find(|i| i.id == id);
        Ok(import.expect("the import was just written"))
    }

    /// Every stored count, by day and area.
    pub fn published_counts(&self) -> Result<Vec<PublishedCount>> {
        let mut stmt = self.conn.prepare("SELECT date, area, count FROM published_count ORDER BY date, area")?;
        let rows =
            stmt.query_map([], |r| Ok(PublishedCount { date: date_at(r, 0)?.unwrap_or_default(), area: r.get(1)?, count: r.get(2)? }))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Every import, newest first.
    pub fn published_imports(&self) -> Result<Vec<PublishedImport>> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id, i.file_name, i.path, i.imported_at, i.rows_read, i.accepted, i.refused, i.first_date, i.last_date,
                    (SELECT COUNT(*) FROM published_count c WHERE c.import_id = i.id)
             FROM published_import i ORDER BY i.id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(PublishedImport {
                id: r.get(0)?,
                file_name: r.get(1)?,
                path: r.get(2)?,
                imported_at: r.get(3)?,
                rows_read: r.get::<_, i64>(4)? as u64,
                accepted: r.get::<_, i64>(5)? as u64,
                refused: r.get::<_, i64>(6)? as u64,
                first_date: date_at(r, 7)?,
                last_date: date_at(r, 8)?,
                in_force: r.get::<_, i64>(9)? as u64,
            })
        })?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

/// An ISO date column (TEXT), `None` when NULL.
fn date_at(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Option<NaiveDate>> {
    let Some(text) = r.get::<_, Option<String>>(i)? else { return Ok(None) };
    text.parse().map(Some).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

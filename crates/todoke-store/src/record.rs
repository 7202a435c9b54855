//! The stored form of a case: the searchable columns of `case_record`
//! (derived from the case, never edited on their own), its JSON in
//! `case_doc`, and its name grams.

use std::sync::OnceLock;

use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use serde_json::Value;
use todoke_domain::Case;
use todoke_reports::ReportRow;
use uuid::Uuid;

use crate::codec;
use crate::error::{Result, StoreError};
use crate::search_key::{name_grams, phone_key, search_key};

/// The columns lists, filters and sorts need, derived from a case.
pub(crate) struct CaseRow {
    pub id: String,
    pub deleted: bool,
    pub name: String,
    pub name_kana: String,
    pub name_key: String,
    pub name_kanji_key: String,
    pub phone: String,
    pub phone_key: String,
    pub birth_date: Option<String>,
    pub sex: Option<&'static str>,
    pub diagnosis_class: Option<&'static str>,
    pub current_status: Option<&'static str>,
    pub report_date: Option<String>,
    pub diagnosis_date: Option<String>,
    pub status_updated_on: Option<String>,
    pub responsible_hc: String,
    pub confirmed: bool,
    pub updated_at: Option<String>,
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

impl CaseRow {
    pub fn of(case: &Case) -> CaseRow {
        let b = &case.basic;
        let n = &case.notification;
        // A case entered with only a written name is still found by its reading.
        let reading = if b.name_kana.trim().is_empty() { &b.name } else { &b.name_kana };
        CaseRow {
            id: case.id.to_string(),
            deleted: case.deleted.is_some(),
            name: b.name.clone(),
            name_kana: b.name_kana.clone(),
            name_key: search_key(reading),
            name_kanji_key: search_key(&b.name),
            phone: b.phone.clone(),
            phone_key: phone_key(&b.phone),
            birth_date: date(b.birth_date),
            sex: b.sex.map(|s| s.code()),
            diagnosis_class: n.diagnosis_class.map(|c| c.code()),
            current_status: case.measures.current_status.map(|s| s.code()),
            report_date: date(n.report_date),
            diagnosis_date: date(n.diagnosis_date),
            status_updated_on: date(case.measures.status_updated_on),
            responsible_hc: case.jurisdiction.responsible_health_centre.clone(),
            confirmed: n.health_centre_confirmation.is_some(),
            updated_at: case.updated_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        }
    }

    /// The derived columns in `COLUMNS` order (after id, rev, changed_seq).
    fn values(&self) -> [&dyn ToSql; 17] {
        [
            &self.deleted,
            &self.name,
            &self.name_kana,
            &self.name_key,
            &self.name_kanji_key,
            &self.phone,
            &self.phone_key,
            &self.birth_date,
            &self.sex,
            &self.diagnosis_class,
            &self.current_status,
            &self.report_date,
            &self.diagnosis_date,
            &self.status_updated_on,
            &self.responsible_hc,
            &self.confirmed,
            &self.updated_at,
        ]
    }
}

/// Writes a new case; returns its row id. A duplicate id is `AlreadyExists`.
pub(crate) fn insert_case(conn: &Connection, case: &Case, row: &CaseRow, doc: &str, rev: i64, seq: i64) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO case_record (id, rev, changed_seq, deleted, name, name_kana, name_key, name_kanji_key,
             phone, phone_key, birth_date, sex, diagnosis_class, current_status, report_date, diagnosis_date,
             status_updated_on, responsible_hc, confirmed, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?;
    let mut values: Vec<&dyn ToSql> = vec![&row.id, &rev, &seq];
    values.extend(row.values());
    stmt.execute(values.as_slice()).map_err(|e| duplicate_as_exists(e, &row.id))?;
    let rid = conn.last_insert_rowid();
    conn.prepare_cached("INSERT INTO case_doc (rid, doc) VALUES (?1, ?2)")?.execute(params![rid, codec::pack(doc)])?;
    insert_grams(conn, rid, &row.name_kanji_key)?;
    write_stat(conn, rid, case)?;
    Ok(rid)
}

fn duplicate_as_exists(e: rusqlite::Error, id: &str) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => {
            StoreError::AlreadyExists { what: "case", id: id.to_string() }
        }
        _ => e.into(),
    }
}

/// Rewrites a stored case in place.
pub(crate) fn update_case_row(
    conn: &Connection,
    current: &Stored,
    case: &Case,
    row: &CaseRow,
    doc: &str,
    rev: i64,
    seq: i64,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE case_record SET rev = ?2, changed_seq = ?3, deleted = ?4, name = ?5, name_kana = ?6, name_key = ?7,
             name_kanji_key = ?8, phone = ?9, phone_key = ?10, birth_date = ?11, sex = ?12, diagnosis_class = ?13,
             current_status = ?14, report_date = ?15, diagnosis_date = ?16, status_updated_on = ?17,
             responsible_hc = ?18, confirmed = ?19, updated_at = ?20
         WHERE rid = ?1",
    )?;
    let mut values: Vec<&dyn ToSql> = vec![&current.rid, &rev, &seq];
    values.extend(row.values());
    stmt.execute(values.as_slice())?;
    conn.prepare_cached("UPDATE case_doc SET doc = ?2 WHERE rid = ?1")?.execute(params![current.rid, codec::pack(doc)])?;
    let old_key = search_key(&current.case.basic.name);
    if old_key != row.name_kanji_key {
        delete_grams(conn, current.rid, &old_key)?;
        insert_grams(conn, current.rid, &row.name_kanji_key)?;
    }
    write_stat(conn, current.rid, case)
}

/// The case's packed report row in `case_stat`; none for a soft-deleted case.
fn write_stat(conn: &Connection, rid: i64, case: &Case) -> Result<()> {
    match ReportRow::from_case(case) {
        Some(row) => {
            conn.prepare_cached("INSERT OR REPLACE INTO case_stat (rid, row) VALUES (?1, ?2)")?.execute(params![rid, row.pack()])?
        }
        None => conn.prepare_cached("DELETE FROM case_stat WHERE rid = ?1")?.execute([rid])?,
    };
    Ok(())
}

fn insert_grams(conn: &Connection, rid: i64, key: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached("INSERT OR IGNORE INTO name_gram (gram, rid) VALUES (?1, ?2)")?;
    for gram in name_grams(key) {
        stmt.execute(params![gram, rid])?;
    }
    Ok(())
}

fn delete_grams(conn: &Connection, rid: i64, key: &str) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM name_gram WHERE gram = ?1 AND rid = ?2")?;
    for gram in name_grams(key) {
        stmt.execute(params![gram, rid])?;
    }
    Ok(())
}

/// A case as stored, with its row id and local revision.
pub(crate) struct Stored {
    pub rid: i64,
    pub rev: i64,
    pub case: Case,
}

pub(crate) fn load_case(conn: &Connection, id: Uuid) -> Result<Option<Stored>> {
    let mut stmt = conn.prepare_cached("SELECT r.rid, r.rev, d.doc FROM case_record r JOIN case_doc d ON d.rid = r.rid WHERE r.id = ?1")?;
    let row = stmt
        .query_row([id.to_string()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, codec::parse::<Case>(r.get_ref(2)?))))
        .optional()?;
    row.map(|(rid, rev, case)| {
        let case = case.map_err(|message| StoreError::Corrupt { what: "case", id: id.to_string(), message })?;
        Ok(Stored { rid, rev, case })
    })
    .transpose()
}

#[cfg(test)]
pub(crate) fn parse_case(doc: &str, id: &str) -> Result<Case> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt { what: "case", id: id.to_string(), message: e.to_string() })
}

/// The case as stored and sent: JSON without the fields that equal their
/// default (a generated case shrinks from ~2.6 kB to well under 1 kB, so
/// several fit in a page instead of one per page). Reading it back with
/// serde gives the same case, because every omitted field's struct fills
/// missing fields from its `Default` — checked once per process by
/// [`omitting_defaults_is_safe`]; if a future type breaks that, the full
/// JSON is written instead.
pub(crate) fn case_json(case: &Case) -> String {
    match default_case_json() {
        Some(default) => {
            let value = serde_json::to_value(case).expect("a Case always serialises to JSON");
            without_defaults(value, default).to_string()
        }
        None => serde_json::to_string(case).expect("a Case always serialises to JSON"),
    }
}

/// [`case_json`] of the case a document reads as, made from the document
/// itself (a pulled record: not serialised a second time). Reading it back
/// gives that case, for the same reason.
pub(crate) fn doc_json(doc: Value) -> String {
    match default_case_json() {
        Some(default) => without_defaults(doc, default).to_string(),
        None => doc.to_string(),
    }
}

fn default_case_json() -> Option<&'static Value> {
    static DEFAULT: OnceLock<Option<Value>> = OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            let default = serde_json::to_value(Case::default()).expect("serialises");
            omitting_defaults_is_safe(&default).then_some(default)
        })
        .as_ref()
}

/// Keeps only what differs from `default`, recursing into objects present in both.
fn without_defaults(value: Value, default: &Value) -> Value {
    match (value, default) {
        (Value::Object(map), Value::Object(def)) => Value::Object(
            map.into_iter()
                .filter(|(k, v)| def.get(k) != Some(v))
                .map(|(k, v)| match def.get(&k) {
                    Some(d) => (k, without_defaults(v, d)),
                    None => (k, v),
                })
                .collect(),
        ),
        (value, _) => value,
    }
}

/// Whether dropping any single field of the default case (at any depth)
/// still reads back as the default case.
fn omitting_defaults_is_safe(default: &Value) -> bool {
    fn paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if let Value::Object(map) = v {
            for (k, child) in map {
                prefix.push(k.clone());
                out.push(prefix.clone());
                paths(child, prefix, out);
                prefix.pop();
            }
        }
    }
    fn remove(v: &mut Value, path: &[String]) {
        match path {
            [last] => {
                v.as_object_mut().map(|m| m.remove(last));
            }
            [first, rest @ ..] => {
                if let Some(child) = v.get_mut(first) {
                    remove(child, rest);
                }
            }
            [] => {}
        }
    }
    let mut all = Vec::new();
    paths(default, &mut Vec::new(), &mut all);
    let expected = Case::default();
    all.iter().all(|path| {
        let mut v = default.clone();
        remove(&mut v, path);
        serde_json::from_value::<Case>(v).is_ok_and(|c| c == expected)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_json_omits_defaults_and_reads_back_the_same() {
        assert!(default_case_json().is_some(), "every domain struct fills missing fields from Default");
        let mut c = Case { id: uuid::Uuid::from_u128(5), ..Default::default() };
        c.basic.name = "山田".into();
        c.basic.welfare_coordination_needed = Some(false);
        c.notification.health_centre_confirmation =
            Some(todoke_domain::notification::Confirmation { on: NaiveDate::from_ymd_opt(2022, 1, 2).unwrap(), by: String::new() });
        c.tests.push(Default::default());
        let json = case_json(&c);
        assert!(json.len() < 600, "{json}");
        assert!(!json.contains("name_kana"));
        assert_eq!(parse_case(&json, "x").unwrap(), c);
        assert_eq!(case_json(&Case::default()), "{}");
    }
}

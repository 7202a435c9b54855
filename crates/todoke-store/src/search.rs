//! 検索 — the case list: text search (kana prefix, kanji substring, phone,
//! case id), filters, sort and paging, on indexes only.
//!
//! A text query is read every way it can mean (a phone number being typed
//! may also be an id prefix; kana may start a reading or sit inside a
//! written name) and the readings are OR-ed. SQLite's planner cannot tell
//! how many cases a prefix matches, so the store counts (up to a cap, on
//! index entries only) and picks one of two plans:
//!
//! - **few matches**: each reading's index yields its candidates, with the
//!   filters, order and page depth applied inside; when the index holds
//!   those columns (the reading index holds birth date, report date, status
//!   and written name) no table row is read until the page is chosen;
//! - **many matches** (one kana, a common family name): walk the cases in
//!   list order and test the text on each; the report-date and status
//!   indexes hold the name keys, so this too reads index entries only.
//!
//! Written names are found through `name_gram` (bigrams plus last
//! character), intersecting a query's rarest bigrams.
//!
//! Measured on 1,000,000 synthetic cases (2-core VM, release build, see
//! `examples/store_measure.rs`): see the crate docs.

use chrono::NaiveDate;
use rusqlite::types::Value as Sql;
use rusqlite::Row;
use serde::{Deserialize, Serialize};
use todoke_domain::{CurrentStatus, DiagnosisClass, Sex};
use uuid::Uuid;

use crate::desk::Desk;
use crate::error::Result;
use crate::search_key::{has_non_kana, id_prefix, looks_like_phone, phone_key, search_key};

/// What to search for. Every field is optional; the default lists every
/// live case, newest report first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct CaseQuery {
    /// Kana (prefix of the reading; hiragana, katakana, full or half width
    /// alike), a written name (matched anywhere), a phone number (prefix,
    /// hyphens or not) or a case id (prefix).
    pub text: Option<String>,
    /// 現在のステータス.
    pub status: Option<CurrentStatus>,
    /// 類型.
    pub diagnosis_class: Option<DiagnosisClass>,
    /// Only notifications not yet confirmed by the health centre (保健所確認済 not set).
    pub unconfirmed_only: bool,
    /// 報告日 range, inclusive.
    pub report_from: Option<NaiveDate>,
    pub report_to: Option<NaiveDate>,
    /// 診断日 range, inclusive.
    pub diagnosis_from: Option<NaiveDate>,
    pub diagnosis_to: Option<NaiveDate>,
    /// 担当保健所 (organisation code).
    pub responsible_health_centre: Option<String>,
    /// Soft-deleted cases instead of live ones.
    pub deleted_only: bool,
    pub sort: SortKey,
    /// Default descending (newest first). Cases without the sort value come
    /// last when descending, first when ascending.
    pub ascending: bool,
    /// `None` = every match.
    pub limit: Option<usize>,
    pub offset: usize,
}

/// What the list is sorted by; ties are broken by the reading, then entry order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// 報告日.
    #[default]
    ReportDate,
    /// 診断日.
    DiagnosisDate,
    /// The day the status was last set.
    StatusUpdatedOn,
    /// The reading (kana), then birth date.
    Name,
    /// 現在のステータス, then report date.
    Status,
    /// 生年月日 (not indexed: slower on a full desk without a narrowing filter).
    BirthDate,
    /// The last change on this desk.
    LastChange,
}

impl SortKey {
    pub const ALL: &'static [SortKey] = &[
        SortKey::ReportDate,
        SortKey::DiagnosisDate,
        SortKey::StatusUpdatedOn,
        SortKey::Name,
        SortKey::Status,
        SortKey::BirthDate,
        SortKey::LastChange,
    ];

    /// The stable code (as in JSON).
    pub fn code(&self) -> &'static str {
        match self {
            SortKey::ReportDate => "report_date",
            SortKey::DiagnosisDate => "diagnosis_date",
            SortKey::StatusUpdatedOn => "status_updated_on",
            SortKey::Name => "name",
            SortKey::Status => "status",
            SortKey::BirthDate => "birth_date",
            SortKey::LastChange => "last_change",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.iter().copied().find(|k| k.code() == s.trim())
    }

    fn columns(&self) -> &'static [&'static str] {
        match self {
            // Ties follow the rest of the index's columns, so the index order is the list order.
            SortKey::ReportDate => &["report_date", "name_key", "name_kanji_key"],
            SortKey::DiagnosisDate => &["diagnosis_date"],
            SortKey::StatusUpdatedOn => &["status_updated_on"],
            SortKey::Name => &["name_key", "birth_date", "report_date", "current_status"],
            SortKey::Status => &["current_status", "report_date", "name_key", "name_kanji_key"],
            SortKey::BirthDate => &["birth_date"],
            SortKey::LastChange => &["changed_seq"],
        }
    }
}

/// One row of the case list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CaseSummary {
    pub id: Uuid,
    pub name: String,
    pub name_kana: String,
    pub phone: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
    pub diagnosis_class: Option<DiagnosisClass>,
    pub current_status: Option<CurrentStatus>,
    pub report_date: Option<NaiveDate>,
    pub diagnosis_date: Option<NaiveDate>,
    pub status_updated_on: Option<NaiveDate>,
    pub responsible_health_centre: String,
    /// 保健所確認済.
    pub confirmed: bool,
    pub deleted: bool,
    /// Local revision.
    pub rev: i64,
    /// Changes to this case not yet acknowledged by the server.
    pub pending_ops: u32,
}

const SUMMARY_COLUMNS: &str = "c.id, c.name, c.name_kana, c.phone, c.birth_date, c.sex, c.diagnosis_class,
    c.current_status, c.report_date, c.diagnosis_date, c.status_updated_on, c.responsible_hc, c.confirmed,
    c.deleted, c.rev";

/// Above this many text-index matches, walking the sort index is cheaper
/// than reading a table row per match (~20 µs cold: read and decrypt).
const DRIVE_BY_TEXT_BELOW: i64 = 2_000;

/// The same when the name index alone answers the query (no table reads
/// until the page is chosen): sorting this many index entries stays well
/// under the B1 budget.
const DRIVE_BY_COVERING_INDEX_BELOW: i64 = 20_000;

/// Grams are counted this far to find the rarest (index entries only: cheap).
const GRAM_COUNT_CAP: i64 = 20_000;

/// Whether `case_name_key` (reading, birth date, report date, status,
/// written name) holds every column the query filters and sorts on.
fn covered_by_name_index(r: &Reading, q: &CaseQuery) -> bool {
    matches!(r, Reading::NamePrefix(_))
        && matches!(q.sort, SortKey::ReportDate | SortKey::Name)
        && q.diagnosis_class.is_none()
        && !q.unconfirmed_only
        && q.diagnosis_from.is_none()
        && q.diagnosis_to.is_none()
        && q.responsible_health_centre.as_deref().is_none_or(str::is_empty)
}

/// One reading of the search text.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    /// Prefix of the folded reading (`name_key`).
    NamePrefix(String),
    /// Substring of the folded written name (`name_kanji_key`), looked up
    /// by its grams: once planned (`Desk::plan`), up to three of its
    /// bigrams, rarest first, whose entries are intersected.
    NameSubstring { key: String, grams: Vec<String> },
    /// Prefix of the phone digits.
    PhonePrefix(String),
    /// Prefix of the case id (canonical form).
    IdPrefix(String),
}

/// Past every character a key can continue with.
const TOP: char = '\u{10FFFF}';

fn readings(text: &str) -> Vec<Reading> {
    let text = text.trim();
    let mut out = Vec::new();
    if text.is_empty() {
        return out;
    }
    let phone = looks_like_phone(text);
    if phone {
        out.push(Reading::PhonePrefix(phone_key(text)));
    }
    if let Some(p) = id_prefix(text) {
        out.push(Reading::IdPrefix(p));
    }
    let key = search_key(text);
    if !phone && !key.is_empty() {
        if has_non_kana(&key) {
            out.push(substring(key));
        } else {
            // Kana or Latin letters: the start of the reading, or part of a
            // written name that has kana or Latin letters in it ("佐藤 さくら", "SMITH").
            out.push(Reading::NamePrefix(key.clone()));
            out.push(substring(key));
        }
    }
    out
}

fn substring(key: String) -> Reading {
    let grams = vec![key.chars().take(2).collect()];
    Reading::NameSubstring { key, grams }
}

/// Every distinct bigram of a key (a one-character key is its own gram).
fn bigrams(key: &str) -> Vec<String> {
    let chars: Vec<char> = key.chars().collect();
    let mut grams: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    if grams.is_empty() {
        grams.push(key.to_string());
    }
    grams.sort();
    grams.dedup();
    grams
}

/// SQL text with its parameters.
#[derive(Default)]
struct Clause {
    sql: Vec<String>,
    params: Vec<Sql>,
}

impl Clause {
    fn push(&mut self, sql: impl Into<String>, params: impl IntoIterator<Item = Sql>) {
        self.sql.push(sql.into());
        self.params.extend(params);
    }
}

fn text(s: &str) -> Sql {
    Sql::Text(s.to_string())
}

fn upper(s: &str) -> Sql {
    Sql::Text(format!("{s}{TOP}"))
}

impl Reading {
    /// The ids of the rows this reading matches, served by its index (named:
    /// with ORDER BY and LIMIT inside, SQLite would otherwise often walk the
    /// sort index instead and read a table row per step), with
    /// the query's filters, order and page depth applied inside: when the
    /// index covers those columns (the name index holds birth date, report
    /// date and status) the candidates never touch the table.
    fn indexed(&self, q: &CaseQuery, depth: Option<usize>) -> (String, Vec<Sql>) {
        let (from, mut params) = match self {
            Reading::NamePrefix(k) => (
                "FROM case_record x INDEXED BY case_name_key WHERE x.name_key >= ? AND x.name_key < ?".to_string(),
                vec![text(k), upper(k)],
            ),
            Reading::PhonePrefix(d) => (
                "FROM case_record x INDEXED BY case_phone_key WHERE x.phone_key >= ? AND x.phone_key < ?".to_string(),
                vec![text(d), upper(d)],
            ),
            Reading::IdPrefix(p) => {
                ("FROM case_record x INDEXED BY case_id WHERE x.id >= ? AND x.id < ?".to_string(), vec![text(p), upper(p)])
            }
            Reading::NameSubstring { key, grams } => {
                let (g, mut p) = grams_from(grams);
                p.push(text(key));
                // CROSS JOIN: SQLite keeps this order, driving from the grams.
                (format!("{g} CROSS JOIN case_record x ON x.rid = g0.rid WHERE instr(x.name_kanji_key, ?) > 0"), p)
            }
        };
        let filters = filters(q, "x");
        params.extend(filters.params);
        let limit = depth.map(|d| format!(" LIMIT {d}")).unwrap_or_default();
        let sql =
            format!("SELECT rid FROM (SELECT x.rid AS rid {from} AND {} ORDER BY {}{limit})", filters.sql.join(" AND "), order_by(q, "x"));
        (sql, params)
    }

    /// The same condition, tested row by row (unary `+` keeps it off indexes).
    fn per_row(&self, t: &str) -> (String, Vec<Sql>) {
        match self {
            Reading::NamePrefix(k) => (format!("(+{t}.name_key >= ? AND +{t}.name_key < ?)"), vec![text(k), upper(k)]),
            Reading::PhonePrefix(d) => (format!("(+{t}.phone_key >= ? AND +{t}.phone_key < ?)"), vec![text(d), upper(d)]),
            Reading::IdPrefix(p) => (format!("(+{t}.id >= ? AND +{t}.id < ?)"), vec![text(p), upper(p)]),
            Reading::NameSubstring { key, .. } => (format!("instr({t}.name_kanji_key, ?) > 0"), vec![text(key)]),
        }
    }

    fn is_name(&self) -> bool {
        matches!(self, Reading::NamePrefix(_) | Reading::NameSubstring { .. })
    }
}

/// The index that lists cases in the query's order and holds the name keys
/// and every filtered column, when there is one: a name test on its entries
/// needs no table reads.
fn ordered_name_index(q: &CaseQuery) -> Option<&'static str> {
    let only_status_and_report = q.diagnosis_class.is_none()
        && !q.unconfirmed_only
        && q.diagnosis_from.is_none()
        && q.diagnosis_to.is_none()
        && q.responsible_health_centre.as_deref().is_none_or(str::is_empty);
    match (q.sort, only_status_and_report, q.status) {
        (SortKey::ReportDate, true, None) => Some("case_report"),
        (SortKey::ReportDate, true, Some(_)) => Some("case_status"),
        _ => None,
    }
}

/// How many index entries match, counting no further than `cap`.
fn count_up_to(desk: &Desk, from: &str, mut params: Vec<Sql>, cap: i64) -> Result<i64> {
    params.push(Sql::Integer(cap));
    let sql = format!("SELECT count(*) FROM (SELECT 1 {from} LIMIT ?)");
    let mut stmt = desk.conn.prepare_cached(&sql)?;
    Ok(stmt.query_row(rusqlite::params_from_iter(params), |r| r.get(0))?)
}

/// Name grams equal to a bigram, or starting with a single character.
fn gram_condition(alias: &str, gram: &str) -> (String, Vec<Sql>) {
    if gram.chars().count() == 1 {
        (format!("{alias}.gram >= ? AND {alias}.gram < ?"), vec![text(gram), upper(gram)])
    } else {
        (format!("{alias}.gram = ?"), vec![text(gram)])
    }
}

/// `FROM` the entries of the first gram (alias `g0`), joined to those of
/// the others on the same row: the rows holding every gram, read in the
/// given order (CROSS JOIN keeps it).
fn grams_from(grams: &[String]) -> (String, Vec<Sql>) {
    let (first, mut params) = gram_condition("n", &grams[0]);
    let mut sql = format!("FROM (SELECT n.rid AS rid FROM name_gram n WHERE {first}) g0");
    for (i, gram) in grams.iter().enumerate().skip(1) {
        let (cond, p) = gram_condition(&format!("g{i}"), gram);
        sql.push_str(&format!(" CROSS JOIN name_gram g{i} ON {cond} AND g{i}.rid = g0.rid"));
        params.extend(p);
    }
    (sql, params)
}

fn date(d: NaiveDate) -> Sql {
    Sql::Text(d.format("%Y-%m-%d").to_string())
}

/// The filter conditions on table alias `t` (all indexed or cheap per row).
fn filters(q: &CaseQuery, t: &str) -> Clause {
    let mut c = Clause::default();
    // Literal 0/1: SQLite uses a partial index only when the query states its condition.
    c.push(format!("{t}.deleted = {}", u8::from(q.deleted_only)), []);
    if let Some(s) = q.status {
        c.push(format!("{t}.current_status = ?"), [text(s.code())]);
    }
    if let Some(d) = q.diagnosis_class {
        c.push(format!("{t}.diagnosis_class = ?"), [text(d.code())]);
    }
    if q.unconfirmed_only {
        c.push(format!("{t}.confirmed = 0"), []);
    }
    let ranges = [
        ("report_date >=", q.report_from),
        ("report_date <=", q.report_to),
        ("diagnosis_date >=", q.diagnosis_from),
        ("diagnosis_date <=", q.diagnosis_to),
    ];
    for (cond, d) in ranges {
        if let Some(d) = d {
            c.push(format!("{t}.{cond} ?"), [date(d)]);
        }
    }
    if let Some(hc) = q.responsible_health_centre.as_deref().filter(|h| !h.is_empty()) {
        c.push(format!("{t}.responsible_hc = ?"), [text(hc)]);
    }
    c
}

/// ORDER BY terms on table alias `t`; ties broken by entry order.
fn order_by(q: &CaseQuery, t: &str) -> String {
    let dir = if q.ascending { "ASC" } else { "DESC" };
    q.sort.columns().iter().chain(&["rid"]).map(|col| format!("{t}.{col} {dir}")).collect::<Vec<_>>().join(", ")
}

impl Desk {
    /// Fixes each reading's lookup and counts its index matches (up to the
    /// cap): a substring is looked up by intersecting its rarest bigrams, so
    /// "佐藤太郎" reads the "藤太" entries and keeps those that also have
    /// "太郎", rather than reading every "佐藤".
    fn plan(&self, reading: Reading, cap: i64) -> Result<(Reading, i64)> {
        match reading {
            Reading::NameSubstring { key, .. } => {
                let mut counted = Vec::new();
                for gram in bigrams(&key) {
                    let (from, params) = grams_from(std::slice::from_ref(&gram));
                    counted.push((count_up_to(self, &from, params, GRAM_COUNT_CAP)?, gram));
                }
                counted.sort();
                let grams: Vec<String> = counted.into_iter().take(3).map(|(_, g)| g).collect();
                let (from, params) = grams_from(&grams);
                let n = count_up_to(self, &from, params, cap)?;
                Ok((Reading::NameSubstring { key, grams }, n))
            }
            other => {
                let (from, params) = match &other {
                    Reading::NamePrefix(k) => {
                        ("FROM case_record WHERE deleted = 0 AND name_key >= ? AND name_key < ?", vec![text(k), upper(k)])
                    }
                    Reading::PhonePrefix(d) => {
                        ("FROM case_record WHERE deleted = 0 AND phone_key >= ? AND phone_key < ?", vec![text(d), upper(d)])
                    }
                    Reading::IdPrefix(p) => ("FROM case_record WHERE id >= ? AND id < ?", vec![text(p), upper(p)]),
                    Reading::NameSubstring { .. } => unreachable!("handled above"),
                };
                let n = count_up_to(self, from, params, cap)?;
                Ok((other, n))
            }
        }
    }

    /// The text condition for this query, choosing the plan (module docs).
    fn text_condition(&self, q: &CaseQuery) -> Result<Option<(String, Vec<Sql>)>> {
        let readings = readings(q.text.as_deref().unwrap_or(""));
        if readings.is_empty() {
            return Ok(None);
        }
        let mut planned = Vec::with_capacity(readings.len());
        let mut fits = true;
        for r in readings {
            let cap = if covered_by_name_index(&r, q) { DRIVE_BY_COVERING_INDEX_BELOW } else { DRIVE_BY_TEXT_BELOW };
            let (r, n) = self.plan(r, cap)?;
            fits &= n < cap;
            planned.push(r);
        }
        // Soft-deleted cases are few and outside the partial indexes: test them row by row.
        let by_text = !q.deleted_only && (q.limit.is_none() || fits);
        let depth = q.limit.map(|l| l + q.offset);
        if !by_text {
            return Ok(Some(self.by_order(q, &planned, depth)));
        }
        let parts: Vec<_> = planned.iter().map(|r| r.indexed(q, depth)).collect();
        let sql = format!("c.rid IN ({})", parts.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(" UNION ALL "));
        Ok(Some((sql, parts.into_iter().flat_map(|(_, p)| p).collect())))
    }

    /// Many matches: walk the cases in list order and test the text on
    /// each; on an index that holds the names (and the filters) this reads
    /// index entries only, up to the page's depth.
    fn by_order(&self, q: &CaseQuery, planned: &[Reading], depth: Option<usize>) -> (String, Vec<Sql>) {
        let index = ordered_name_index(q).filter(|_| planned.iter().all(Reading::is_name) && !q.deleted_only);
        let Some((index, depth)) = index.zip(depth) else {
            let parts: Vec<_> = planned.iter().map(|r| r.per_row("c")).collect();
            let sql = format!("({})", parts.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(" OR "));
            return (sql, parts.into_iter().flat_map(|(_, p)| p).collect());
        };
        let parts: Vec<_> = planned.iter().map(|r| r.per_row("x")).collect();
        let text = parts.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(" OR ");
        let filters = filters(q, "x");
        let sql = format!(
            "c.rid IN (SELECT x.rid FROM case_record x INDEXED BY {index} WHERE {} AND ({text}) ORDER BY {} LIMIT {depth})",
            filters.sql.join(" AND "),
            order_by(q, "x")
        );
        (sql, filters.params.into_iter().chain(parts.into_iter().flat_map(|(_, p)| p)).collect())
    }

    fn where_clause(&self, q: &CaseQuery) -> Result<Clause> {
        match self.text_condition(q)? {
            // The row-id list already applies the filters; alone in the
            // WHERE, it makes SQLite read just those rows.
            Some((sql, params)) if sql.starts_with("c.rid IN") => Ok(Clause { sql: vec![sql], params }),
            Some((sql, params)) => {
                let mut clause = filters(q, "c");
                clause.push(sql, params);
                Ok(clause)
            }
            None => Ok(filters(q, "c")),
        }
    }

    fn search_sql(&self, q: &CaseQuery) -> Result<(String, Vec<Sql>)> {
        let mut clause = self.where_clause(q)?;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM case_record c WHERE {} ORDER BY {} LIMIT ? OFFSET ?",
            clause.sql.join(" AND "),
            order_by(q, "c")
        );
        clause.params.push(Sql::Integer(q.limit.map_or(-1, |l| l as i64)));
        clause.params.push(Sql::Integer(q.offset as i64));
        Ok((sql, clause.params))
    }

    /// A page of the case list.
    pub fn search(&self, q: &CaseQuery) -> Result<Vec<CaseSummary>> {
        let (sql, params) = self.search_sql(q)?;
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), summary_from_row)?;
        let mut rows: Vec<CaseSummary> = rows.collect::<rusqlite::Result<_>>()?;
        self.fill_pending(&mut rows)?;
        Ok(rows)
    }

    /// Pending-op counts, looked up for the rows shown only (not for every
    /// candidate the sort had to consider).
    fn fill_pending(&self, rows: &mut [CaseSummary]) -> Result<()> {
        let mut stmt = self.conn.prepare_cached("SELECT count(*) FROM outbox WHERE case_id = ?1 AND status IN ('pending', 'sent')")?;
        for row in rows {
            row.pending_ops = stmt.query_row([row.id.to_string()], |r| r.get(0))?;
        }
        Ok(())
    }

    /// SQLite's plan for a search, one line per step (to diagnose a slow query).
    pub fn explain_search(&self, q: &CaseQuery) -> Result<Vec<String>> {
        let (sql, params) = self.search_sql(q)?;
        let mut stmt = self.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| r.get::<_, String>(3))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many cases match (limit and offset ignored).
    pub fn count(&self, q: &CaseQuery) -> Result<u64> {
        let unpaged = CaseQuery { limit: None, offset: 0, ..q.clone() };
        let clause = self.where_clause(&unpaged)?;
        let sql = format!("SELECT count(*) FROM case_record c WHERE {}", clause.sql.join(" AND "));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let n: i64 = stmt.query_row(rusqlite::params_from_iter(clause.params), |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Live cases that may be the same person: same reading (folded), same
    /// birth date, and the same sex or none recorded.
    pub fn find_duplicates(&self, name_kana: &str, birth_date: NaiveDate, sex: Sex) -> Result<Vec<CaseSummary>> {
        let key = search_key(name_kana);
        if key.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM case_record c
             WHERE c.deleted = 0 AND c.name_key = ?1 AND c.birth_date = ?2 AND (c.sex = ?3 OR c.sex IS NULL)
             ORDER BY c.rid"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params![key, birth_date.format("%Y-%m-%d").to_string(), sex.code()], summary_from_row)?;
        let mut rows: Vec<CaseSummary> = rows.collect::<rusqlite::Result<_>>()?;
        self.fill_pending(&mut rows)?;
        Ok(rows)
    }
}

fn summary_from_row(r: &Row<'_>) -> rusqlite::Result<CaseSummary> {
    let bad = |i: usize, e: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into());
    let date = |i: usize| -> rusqlite::Result<Option<NaiveDate>> {
        r.get::<_, Option<String>>(i)?.map(|s| s.parse().map_err(|_| bad(i, format!("bad date {s}")))).transpose()
    };
    let code = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
    let id: String = r.get(0)?;
    Ok(CaseSummary {
        id: Uuid::parse_str(&id).map_err(|e| bad(0, e.to_string()))?,
        name: r.get(1)?,
        name_kana: r.get(2)?,
        phone: r.get(3)?,
        birth_date: date(4)?,
        sex: code(5)?.and_then(|s| Sex::parse(&s)),
        diagnosis_class: code(6)?.and_then(|s| DiagnosisClass::parse(&s)),
        current_status: code(7)?.and_then(|s| CurrentStatus::parse(&s)),
        report_date: date(8)?,
        diagnosis_date: date(9)?,
        status_updated_on: date(10)?,
        responsible_health_centre: r.get(11)?,
        confirmed: r.get(12)?,
        deleted: r.get(13)?,
        rev: r.get(14)?,
        pending_ops: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_read_every_way_it_can_mean() {
        use Reading::*;
        assert_eq!(readings("ﾔﾏﾀﾞ"), [NamePrefix("ヤマダ".into()), substring("ヤマダ".into())]);
        assert_eq!(readings("山田"), [substring("山田".into())]);
        assert_eq!(readings("090-1234"), [PhonePrefix("0901234".into())]);
        assert_eq!(readings("0190a6e4"), [IdPrefix("0190a6e4".into()), NamePrefix("0190a6e4".into()), substring("0190a6e4".into())]);
        assert_eq!(readings("01901234"), [PhonePrefix("01901234".into()), IdPrefix("01901234".into())]);
        assert!(readings("  ").is_empty());
        assert_eq!(bigrams("佐藤太郎"), ["佐藤", "太郎", "藤太"]);
        assert_eq!(bigrams("林"), ["林"]);
    }
}

//! 入力率 — new cases published by municipalities (or prefectures) against
//! cases entered in the system, per day and per week (DOMAIN.md §5). The
//! ministry published the difference to push entry.
//!
//! Entered cases are new positives counted as in the indicators (positive
//! class, confirmed or not, on the diagnosis date, else the report date) and
//! placed by residence. The rate is entered ÷ published as a whole
//! percentage, rounded half up; no rate when nothing was published.

use std::collections::BTreeMap;

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::ReportError;
use crate::period::{Granularity, Timeline};
use crate::row::{Area, ReportRow};
use crate::table::{Cell, Column, Table};

/// One published count: `date,area,count`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedCount {
    pub date: NaiveDate,
    /// As written in the file (prefecture number or name, 6-digit code, health centre code).
    pub area: String,
    pub count: i64,
}

/// A row of a published-counts file that could not be read: its line, the
/// column at fault (`None`: the row as a whole), the value as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedRowError {
    /// Physical line in the file (the header is line 1).
    pub line: u64,
    /// "date", "area" or "count"; `None` when the row as a whole is wrong.
    pub column: Option<String>,
    pub value: String,
    pub message_ja: String,
    pub message_en: String,
}

/// Reads published counts: CSV with the header `date,area,count` (optional;
/// a UTF-8 BOM is ignored), ISO dates (`2021-08-01` or `2021/8/1`), counts ≥ 0.
/// Stops at the first bad row (the CLI's strict reading); see [`read_published`].
pub fn parse_published(text: &str) -> Result<Vec<PublishedCount>, ReportError> {
    let (counts, errors) = read_published(text);
    match errors.into_iter().next() {
        Some(e) => Err(ReportError::PublishedLine { line: e.line, message_ja: e.message_ja, message_en: e.message_en }),
        None => Ok(counts),
    }
}

/// Reads every row of a published-counts file: the good rows, and each bad
/// row with its line and reason (nothing is dropped silently). Areas are
/// kept as written; see [`Area::code`] for the canonical form.
pub fn read_published(text: &str) -> (Vec<PublishedCount>, Vec<PublishedRowError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    // Physical lines (the reader's own count is off with CRLF and blank lines): newlines before the record's first byte.
    let (mut counted_to, mut newlines) = (0usize, 0u64);
    let mut line_at = |byte: u64| {
        // The reader's position may sit before the previous record's line end.
        let mut byte = (byte as usize).min(text.len());
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        newlines += text.as_bytes()[counted_to.min(byte)..byte].iter().filter(|b| **b == b'\n').count() as u64;
        counted_to = counted_to.max(byte);
        newlines + 1
    };
    loop {
        let before = reader.position().byte();
        let read = reader.read_record(&mut record);
        let line = line_at(record.position().map_or(before, |p| p.byte()));
        let bad = |column: Option<&str>, value: &str, ja: String, en: String| PublishedRowError {
            line,
            column: column.map(str::to_string),
            value: value.chars().take(100).collect(),
            message_ja: ja,
            message_en: en,
        };
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = line_at(e.position().map_or(before, |p| p.byte()));
                errors.push(PublishedRowError {
                    line,
                    ..bad(None, "", format!("CSVとして読めません: {e}"), format!("not readable as CSV: {e}"))
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let is_first = std::mem::replace(&mut first, false);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if is_first && record.get(0).is_some_and(|c| c.eq_ignore_ascii_case("date") || c == "日付") {
            continue;
        }
        if record.len() != 3 {
            let joined = record.iter().collect::<Vec<_>>().join(",");
            errors.push(bad(
                None,
                &joined,
                format!("列が{}個あります。日付,地域,人数 の3列にしてください。", record.len()),
                format!("{} columns; expected 3: date,area,count.", record.len()),
            ));
            continue;
        }
        let date_text = &record[0];
        let Ok(date) = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(date_text, "%Y/%m/%d"))
        else {
            errors.push(bad(
                Some("date"),
                date_text,
                format!("日付「{date_text}」が読めません（YYYY-MM-DD）。"),
                format!("cannot read the date \"{date_text}\" (YYYY-MM-DD)."),
            ));
            continue;
        };
        let area = &record[1];
        if area.is_empty() {
            errors.push(bad(
                Some("area"),
                area,
                "地域が空です。都道府県・市区町村コードまたは保健所コードを書いてください。".into(),
                "the area is empty; write a prefecture, municipality or health-centre code.".into(),
            ));
            continue;
        }
        let count_text = &record[2];
        let Some(count) = count_text.parse::<i64>().ok().filter(|n| *n >= 0) else {
            errors.push(bad(
                Some("count"),
                count_text,
                format!("人数「{count_text}」は0以上の整数ではありません。"),
                format!("the count \"{count_text}\" is not a whole number ≥ 0."),
            ));
            continue;
        };
        out.push(PublishedCount { date, area: area.to_string(), count });
    }
    (out, errors)
}

/// Entered ÷ published as a whole percentage, rounded half up.
pub fn rate_percent(entered: i64, published: i64) -> Option<i64> {
    (published > 0).then(|| (entered * 200 + published) / (2 * published))
}

/// The input-rate table: per area and per day (or week), published,
/// entered, difference and rate. Each area is matched against the cases by
/// [`Area::parse`]; the range is that of the published counts.
pub fn input_rate(rows: &[ReportRow], published: &[PublishedCount], by: Granularity, week_start: Weekday) -> Table {
    let mut columns = match by {
        Granularity::Day => vec![Column::new("date", "日付", "Date")],
        Granularity::Week => vec![Column::new("week_start", "週の初日", "Week start"), Column::new("week_end", "週の末日", "Week end")],
    };
    columns.extend([
        Column::new("area", "地域", "Area"),
        Column::new("published", "公表数", "Published"),
        Column::new("entered", "入力数", "Entered"),
        Column::new("difference", "差", "Difference"),
        Column::new("rate", "入力率（%）", "Input rate (%)"),
    ]);
    let mut table = Table::new("入力率", "Input rate", columns);
    table.notes.push(
        "入力数: 陽性の類型の届出を診断日（なければ報告日）・居住地で計上。入力率 = 入力数 ÷ 公表数（整数%、四捨五入）。 / Entered: notifications of a positive class by diagnosis date (else report date) and residence. Rate = entered ÷ published, whole percent, rounded half up."
            .to_string(),
    );
    let (Some(from), Some(to)) = (published.iter().map(|p| p.date).min(), published.iter().map(|p| p.date).max()) else {
        return table;
    };
    let tl = Timeline::new(from, to, by, week_start);
    let mut areas: BTreeMap<&str, (Vec<i64>, Vec<i64>)> = BTreeMap::new();
    for p in published {
        let (pubd, _) = areas.entry(p.area.as_str()).or_insert_with(|| (vec![0; tl.days()], vec![0; tl.days()]));
        if let Some(i) = tl.index(p.date) {
            pubd[i] += p.count;
        }
    }
    for (area, (_, entered)) in areas.iter_mut() {
        let filter = Area::parse(area);
        for r in rows.iter().filter(|r| r.positive && filter.contains(r)) {
            if let Some(i) = r.positive_on.and_then(|d| tl.index(d)) {
                entered[i] += 1;
            }
        }
    }
    for p in tl.periods() {
        for (area, (pubd, entered)) in &areas {
            let pub_n: i64 = pubd[p.first_day..=p.last_day].iter().sum();
            let ent_n: i64 = entered[p.first_day..=p.last_day].iter().sum();
            let mut row = match by {
                Granularity::Day => vec![Cell::Date(p.start)],
                Granularity::Week => vec![Cell::Date(p.start), Cell::Date(p.end)],
            };
            row.extend([
                Cell::text(*area),
                Cell::Count(pub_n),
                Cell::Count(ent_n),
                Cell::Count(ent_n - pub_n),
                rate_percent(ent_n, pub_n).map_or(Cell::Empty, Cell::Percent),
            ]);
            table.rows.push(row);
        }
    }
    table
}

/// What the app's input-rate screen asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputRateOptions {
    pub by: Granularity,
    /// First day of a week (the ministry's weekly files ran Wednesday–Tuesday).
    pub week_start: Weekday,
    /// `None`: the first published day.
    pub from: Option<NaiveDate>,
    /// `None`: the last published day.
    pub to: Option<NaiveDate>,
}

/// The input rate as the app shows it: one row per area over the whole range
/// (which areas lag), and one row per area and day or week, both with the
/// lagging areas first.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRateReport {
    /// The range in use (whole weeks when weekly).
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Area (canonical code), name, published, entered, difference, rate.
    pub areas: Table,
    /// Area, name, date (or week start and end), published, entered, difference, rate.
    pub periods: Table,
}

/// An area with its published and entered counts per day.
type AreaCounts = (Area, Vec<i64>, Vec<i64>);

/// Published and entered per area and day, over a timeline.
struct Counts {
    /// Canonical area code → (area, published per day, entered per day).
    areas: BTreeMap<String, AreaCounts>,
}

impl Counts {
    fn new(rows: &[ReportRow], published: &[PublishedCount], tl: Timeline) -> Counts {
        let mut areas: BTreeMap<String, AreaCounts> = BTreeMap::new();
        for p in published {
            let Some(i) = tl.index(p.date) else { continue };
            let area = Area::parse(&p.area);
            let (_, pubd, _) = areas.entry(area.code()).or_insert_with(|| (area, vec![0; tl.days()], vec![0; tl.days()]));
            pubd[i] += p.count;
        }
        // Only days with a published count are compared: a file that covers part of a
        // week (or leaves a day out) compares the days it has, not the whole week's entries.
        let mut published_on: BTreeMap<String, Vec<bool>> = BTreeMap::new();
        for p in published {
            if let Some(i) = tl.index(p.date) {
                published_on.entry(Area::parse(&p.area).code()).or_insert_with(|| vec![false; tl.days()])[i] = true;
            }
        }
        for (code, (area, _, entered)) in areas.iter_mut() {
            let on = &published_on[code];
            for r in rows.iter().filter(|r| r.positive && area.contains(r)) {
                if let Some(i) = r.positive_on.and_then(|d| tl.index(d)).filter(|i| on[*i]) {
                    entered[i] += 1;
                }
            }
        }
        Counts { areas }
    }
}

fn rate_columns() -> [Column; 4] {
    [
        Column::new("published", "公表数", "Published"),
        Column::new("entered", "入力数", "Entered"),
        Column::new("difference", "差", "Difference"),
        Column::new("rate", "入力率（%）", "Input rate (%)"),
    ]
}

fn rate_cells(published: i64, entered: i64) -> [Cell; 4] {
    [
        Cell::Count(published),
        Cell::Count(entered),
        Cell::Count(entered - published),
        rate_percent(entered, published).map_or(Cell::Empty, Cell::Percent),
    ]
}

/// Lagging first: the lowest rate, then the largest shortfall; areas with
/// nothing published last; then by code.
fn lag_key(code: &str, published: i64, entered: i64) -> (bool, i64, i64, String) {
    (published == 0, rate_percent(entered, published).unwrap_or(i64::MAX), entered - published, code.to_string())
}

/// The input rate for the app (see [`InputRateReport`]); `None` when no
/// published count falls in the range.
pub fn input_rate_report(rows: &[ReportRow], published: &[PublishedCount], opts: InputRateOptions) -> Option<InputRateReport> {
    let in_range = |d: NaiveDate| opts.from.is_none_or(|f| d >= f) && opts.to.is_none_or(|t| d <= t);
    let dates = published.iter().map(|p| p.date).filter(|d| in_range(*d));
    let first = dates.clone().min()?;
    let last = dates.max()?;
    let tl = Timeline::new(opts.from.unwrap_or(first), opts.to.unwrap_or(last), opts.by, opts.week_start);
    let counts = Counts::new(rows, published, tl);
    let note = "入力数: 陽性の類型の届出を診断日（なければ報告日）・居住地（保健所コードの地域は担当保健所）で計上。入力率 = 入力数 ÷ 公表数（整数%、四捨五入）。公表数のある日だけを比較。入力率の低い地域から。 / Entered: notifications of a positive class by diagnosis date (else report date) and residence (health-centre areas: the responsible health centre). Rate = entered ÷ published, whole percent, rounded half up. Only days with a published count are compared. Lowest rate first.";

    let area_columns = [Column::new("area", "地域コード", "Area code"), Column::new("area_name", "地域", "Area")];
    let mut areas = Table::new("入力率（地域別・期間計）", "Input rate by area (whole range)", area_columns.to_vec());
    areas.columns.extend(rate_columns());
    areas.notes.push(note.to_string());
    let mut order: Vec<(&String, &AreaCounts, i64, i64)> =
        counts.areas.iter().map(|(code, v)| (code, v, v.1.iter().sum(), v.2.iter().sum())).collect();
    order.sort_by_key(|(code, _, p, e)| lag_key(code, *p, *e));
    let name = |a: &Area| Cell::Name { ja: a.label_ja(), en: a.label_en() };
    for (code, (area, _, _), p, e) in &order {
        let mut row = vec![Cell::text(code.as_str()), name(area)];
        row.extend(rate_cells(*p, *e));
        areas.rows.push(row);
    }

    let mut columns = area_columns.to_vec();
    match opts.by {
        Granularity::Day => columns.push(Column::new("date", "日付", "Date")),
        Granularity::Week => {
            columns.extend([Column::new("week_start", "週の初日", "Week start"), Column::new("week_end", "週の末日", "Week end")])
        }
    }
    columns.extend(rate_columns());
    let (title_ja, title_en) = match opts.by {
        Granularity::Day => ("入力率（日別）", "Input rate per day"),
        Granularity::Week => ("入力率（週別）", "Input rate per week"),
    };
    let mut periods = Table::new(title_ja, title_en, columns);
    periods.notes.push(note.to_string());
    for (code, (area, pubd, entered), _, _) in &order {
        for p in tl.periods() {
            let mut row = vec![Cell::text(code.as_str()), name(area), Cell::Date(p.start)];
            if opts.by == Granularity::Week {
                row.push(Cell::Date(p.end));
            }
            row.extend(rate_cells(pubd[p.first_day..=p.last_day].iter().sum(), entered[p.first_day..=p.last_day].iter().sum()));
            periods.rows.push(row);
        }
    }
    Some(InputRateReport { from: tl.from, to: tl.to, areas, periods })
}

/// Why the entered count of an area may fall behind what was published, for
/// one case, beyond the data-quality lists (unconfirmed, missing items, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LagReason {
    /// Reported (entered) more than [`LATE_ENTRY_DAYS`] after the diagnosis
    /// or the health centre's receipt: it was missing when the day was published.
    LateEntry,
    /// Positive but never reported: a draft nobody pressed 報告 on.
    NotReported,
    /// No residence (nor registered address): counted in no area.
    NoResidence,
}

impl LagReason {
    pub fn code(&self) -> &'static str {
        match self {
            LagReason::LateEntry => "late_entry",
            LagReason::NotReported => "not_reported",
            LagReason::NoResidence => "no_residence",
        }
    }

    pub fn ja(&self) -> &'static str {
        match self {
            LagReason::LateEntry => "入力の遅れ",
            LagReason::NotReported => "未報告",
            LagReason::NoResidence => "居住地なし",
        }
    }

    pub fn en(&self) -> &'static str {
        match self {
            LagReason::LateEntry => "Entered late",
            LagReason::NotReported => "Not reported",
            LagReason::NoResidence => "No residence",
        }
    }
}

/// A notification is due at once (直ちに); entry more than this many days
/// after the diagnosis (or the receipt, when earlier) is late.
pub const LATE_ENTRY_DAYS: i64 = 1;

/// One case's reason, with what a person needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LagIssue {
    pub reason: LagReason,
    pub case_id: uuid::Uuid,
    pub reason_ja: String,
    pub reason_en: String,
}

/// The lag reasons of one case (none for a soft-deleted or non-positive one).
pub fn lag_reasons(case: &todoke_domain::Case) -> Vec<LagIssue> {
    let n = &case.notification;
    if case.deleted.is_some() || !n.diagnosis_class.is_some_and(|c| c.is_positive()) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut push = |reason, reason_ja: String, reason_en: String| out.push(LagIssue { reason, case_id: case.id, reason_ja, reason_en });
    match n.report_date {
        None => push(
            LagReason::NotReported,
            "陽性の類型ですが報告されていません（報告ボタン未押下）".into(),
            "a positive class, but never reported (報告 not pressed)".into(),
        ),
        Some(reported) => {
            let start = [n.diagnosis_date, n.received_on].into_iter().flatten().min();
            if let Some(start) = start.filter(|s| (reported - *s).num_days() > LATE_ENTRY_DAYS) {
                let days = (reported - start).num_days();
                let diag = n.diagnosis_date.map_or("—".to_string(), |d| d.to_string());
                let recv = n.received_on.map_or("—".to_string(), |d| d.to_string());
                push(
                    LagReason::LateEntry,
                    format!("報告日 {reported}（診断日 {diag}・受理日 {recv}）: {days}日遅れて入力"),
                    format!("reported {reported} (diagnosed {diag}, received {recv}): entered {days} days late"),
                );
            }
        }
    }
    if case.basic.residence.is_empty() && case.basic.registered_address.is_empty() {
        push(
            LagReason::NoResidence,
            "居住地・住所が未入力のため、どの地域にも計上されません".into(),
            "no residence or address: counted in no area".into(),
        );
    }
    out
}

/// The reasons behind an area's entered count as one table, in the layout of
/// the data-quality table (list, case id, reason): the lag reasons first,
/// then the data-quality lists' entries of the same cases.
pub fn lag_table(lag: &[LagIssue], quality: &[crate::QualityIssue]) -> Table {
    let mut t = crate::quality_table(quality);
    t.title_ja = "入力率の遅れの理由".into();
    t.title_en = "Why entry lags".into();
    let mut lag: Vec<&LagIssue> = lag.iter().collect();
    lag.sort_by_key(|i| (i.reason, i.case_id));
    let rows = lag.iter().map(|i| {
        vec![
            Cell::label(i.reason.code(), i.reason.ja(), i.reason.en()),
            Cell::text(i.case_id.to_string()),
            Cell::text(i.reason_ja.clone()),
            Cell::text(i.reason_en.clone()),
        ]
    });
    t.rows.splice(0..0, rows);
    t
}

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

/// Reads published counts: CSV with the header `date,area,count` (optional;
/// a UTF-8 BOM is ignored), ISO dates (`2021-08-01` or `2021/8/1`), counts ≥ 0.
pub fn parse_published(text: &str) -> Result<Vec<PublishedCount>, ReportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 1;
        let bad = |ja: String, en: String| ReportError::PublishedLine { line, message_ja: ja, message_en: en };
        let record = record.map_err(|e| bad(format!("CSVとして読めません: {e}"), format!("not readable as CSV: {e}")))?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        if line == 1 && record.get(0).is_some_and(|c| c.eq_ignore_ascii_case("date") || c == "日付") {
            continue;
        }
        if record.len() != 3 {
            return Err(bad(
                format!("列が{}個あります。日付,地域,人数 の3列にしてください。", record.len()),
                format!("{} columns; expected 3: date,area,count.", record.len()),
            ));
        }
        let date_text = &record[0];
        let date = NaiveDate::parse_from_str(date_text, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(date_text, "%Y/%m/%d")).map_err(
            |_| {
                bad(
                    format!("日付「{date_text}」が読めません（YYYY-MM-DD）。"),
                    format!("cannot read the date \"{date_text}\" (YYYY-MM-DD)."),
                )
            },
        )?;
        let count_text = &record[2];
        let count: i64 = count_text.parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| {
            bad(
                format!("人数「{count_text}」は0以上の整数ではありません。"),
                format!("the count \"{count_text}\" is not a whole number ≥ 0."),
            )
        })?;
        out.push(PublishedCount { date, area: record[1].to_string(), count });
    }
    Ok(out)
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

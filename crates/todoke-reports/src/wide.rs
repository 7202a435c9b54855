//! The ministry's open-data files in their wide layout: one row per day,
//! `Date,ALL,Hokkaido,…,Okinawa` (MHLW オープンデータ, e.g.
//! `newly_confirmed_cases_daily.csv`), for the indicators the ministry
//! published that way. Dates are ISO (`2022-08-19`); the header is the
//! ministry's English one in every UI language.

use serde::{Deserialize, Serialize};

use crate::indicators::{daily_series, Trend};
use crate::period::Granularity;
use crate::row::ReportRow;
use crate::table::{Cell, Column, Table};
use crate::{Breakdown, ReportError, ReportOptions};

/// One of the ministry's wide daily files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenDataFile {
    /// `newly_confirmed_cases_daily.csv` (indicator 1).
    NewlyConfirmedCases,
    /// `confirmed_cases_cumulative_daily.csv` (indicator 5).
    ConfirmedCasesCumulative,
    /// `severe_cases_daily.csv` (indicator 6).
    SevereCases,
    /// `deaths_cumulative_daily.csv` (indicator 8).
    DeathsCumulative,
    /// `number_of_deaths_daily.csv` (indicator 8, new deaths per day).
    NumberOfDeaths,
}

impl OpenDataFile {
    pub const ALL: [OpenDataFile; 5] = [
        OpenDataFile::NewlyConfirmedCases,
        OpenDataFile::ConfirmedCasesCumulative,
        OpenDataFile::SevereCases,
        OpenDataFile::DeathsCumulative,
        OpenDataFile::NumberOfDeaths,
    ];

    /// The ministry's file name.
    pub fn file_name(&self) -> &'static str {
        match self {
            OpenDataFile::NewlyConfirmedCases => "newly_confirmed_cases_daily.csv",
            OpenDataFile::ConfirmedCasesCumulative => "confirmed_cases_cumulative_daily.csv",
            OpenDataFile::SevereCases => "severe_cases_daily.csv",
            OpenDataFile::DeathsCumulative => "deaths_cumulative_daily.csv",
            OpenDataFile::NumberOfDeaths => "number_of_deaths_daily.csv",
        }
    }

    fn title(&self) -> (&'static str, &'static str) {
        match self {
            OpenDataFile::NewlyConfirmedCases => ("新規陽性者数の推移（日別）", "Newly confirmed cases (daily)"),
            OpenDataFile::ConfirmedCasesCumulative => ("陽性者数（累積）", "Confirmed cases, cumulative (daily)"),
            OpenDataFile::SevereCases => ("重症者数の推移", "Severe cases (daily)"),
            OpenDataFile::DeathsCumulative => ("死亡者数（累積）", "Deaths, cumulative (daily)"),
            OpenDataFile::NumberOfDeaths => ("死亡者数（日別）", "Number of deaths (daily)"),
        }
    }

    /// By file name (with or without `.csv`) or by the indicator's name:
    /// `new-positives` / `1`, `positives-cumulative` / `5`,
    /// `severe-trend` / `6`, `deaths-cumulative` / `8`.
    pub fn parse(s: &str) -> Result<OpenDataFile, ReportError> {
        let s = s.trim();
        let stem = s.strip_suffix(".csv").unwrap_or(s);
        if let Some(f) = OpenDataFile::ALL.into_iter().find(|f| f.file_name().strip_suffix(".csv") == Some(stem)) {
            return Ok(f);
        }
        match crate::Indicator::parse(s)? {
            crate::Indicator::NewPositives => Ok(OpenDataFile::NewlyConfirmedCases),
            crate::Indicator::PositivesCumulative => Ok(OpenDataFile::ConfirmedCasesCumulative),
            crate::Indicator::SevereTrend => Ok(OpenDataFile::SevereCases),
            crate::Indicator::DeathsCumulative => Ok(OpenDataFile::DeathsCumulative),
            _ => Err(ReportError::NoWideLayout(s.to_string())),
        }
    }
}

/// The wide table of `file`: a row per day from `opts.from` (else the first
/// positive) to `opts.to` (else the last), `ALL` = every case in
/// `opts.area` (those with an unknown prefecture too), then the 47
/// prefectures. `opts.by` and `opts.breakdown` are ignored: the layout is daily.
pub fn open_data_wide(file: OpenDataFile, rows: &[ReportRow], opts: &ReportOptions) -> Table {
    let mut columns = vec![Column::new("date", "Date", "Date"), Column::new("all", "ALL", "ALL")];
    columns.extend(todoke_refdata::prefectures().iter().map(|p| Column::new(p.english, p.english, p.english)));
    let (ja, en) = file.title();
    let mut table = Table::new(ja, en, columns);
    let opts = ReportOptions { by: Some(Granularity::Day), breakdown: Breakdown::None, ..opts.clone() };
    let Some(tl) = crate::indicators::timeline(rows, &opts, Granularity::Day) else { return table };
    let trend = match file {
        OpenDataFile::NewlyConfirmedCases => Trend::NewPositives,
        OpenDataFile::ConfirmedCasesCumulative => Trend::CumulativePositives,
        OpenDataFile::SevereCases => Trend::Severe,
        OpenDataFile::DeathsCumulative | OpenDataFile::NumberOfDeaths => Trend::Deaths,
    };
    let all = daily_series(rows, &opts, &tl, trend, Breakdown::None);
    let by_prefecture = daily_series(rows, &opts, &tl, trend, Breakdown::Prefecture);
    let mut series: Vec<(&[i64], i64)> = vec![all.get("").map_or((&[][..], 0), |(v, b)| (v.as_slice(), *b))];
    for p in todoke_refdata::prefectures() {
        series.push(by_prefecture.get(&format!("{:02}", p.number)).map_or((&[][..], 0), |(v, b)| (v.as_slice(), *b)));
    }
    for day in 0..tl.days() {
        let date = tl.day(day);
        let mut row = vec![Cell::Date(date)];
        for (v, before) in &series {
            let value = |i: usize| v.get(i).copied().unwrap_or(0);
            row.push(Cell::Count(match file {
                OpenDataFile::NumberOfDeaths if day == 0 => value(0) - before,
                OpenDataFile::NumberOfDeaths => value(day) - value(day - 1),
                _ => value(day),
            }));
        }
        table.rows.push(row);
    }
    table
}

//! The eleven standard indicators (DOMAIN.md §5), each a [`Table`].
//!
//! Definitions (also written into each table's `notes`):
//! - **new positive**: a case whose diagnosis class counts as positive
//!   (`DiagnosisClass::is_positive`), confirmed by the health centre or not,
//!   on its diagnosis date (else report date; see [`ReportRow::from_case`]).
//! - **severe on a day** (重症): the record keeps whether ICU, ventilator or
//!   ECMO was ever used, not when, and no status history. A positive case
//!   with any of them counts as severe on every day of its hospital stay:
//!   from the admission date (else the positive date) until the day before
//!   discharge, death or the end of recovery (療養解除); when none of those
//!   dates is set, up to the end of the range while the current status is a
//!   care status, else until the day before the status was last set (no
//!   date at all: not counted). This over-counts (the severe phase is usually shorter than the
//!   stay) but never misses a severe case.
//! - **requiring inpatient care etc. on a day** (入院治療等を要する者): a
//!   positive case from its positive date while its current status requires
//!   care (`CurrentStatus::requires_care`); once the status no longer does,
//!   until the day before the end of recovery, death, discharge or (failing
//!   those) the day the status was last set.
//! - **death**: a positive case that died, on the death date (else the day
//!   the status 死亡 was set, else the positive date).
//! - sex × age tables count sex not entered with その他・不明 and an unknown
//!   age with 不明; cells are suppressed by [`crate::suppression`].

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use todoke_domain::{AgeBand, Cluster, Labelled, Sex};
use uuid::Uuid;

use crate::error::ReportError;
use crate::period::{Granularity, Period, Timeline};
use crate::row::{Area, ReportRow};
use crate::suppression::suppress_table;
use crate::table::{Cell, Column, Table};

/// The standard indicators, in the ministry's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// 1 新規陽性者数の推移.
    NewPositives,
    /// 2 人口10万人当たりの新規陽性者数.
    NewPositivesPer100k,
    /// 3 性別・年代別新規陽性者数（週別）.
    NewPositivesBySexAge,
    /// 4 性別・年代別陽性者数（累積）.
    PositivesBySexAgeCumulative,
    /// 5 陽性者数（累積）.
    PositivesCumulative,
    /// 6 重症者数の推移.
    SevereTrend,
    /// 7 性別・年代別重症者数.
    SevereBySexAge,
    /// 8 死亡者数（累積）.
    DeathsCumulative,
    /// 9 性別・年代別死亡者数（累積）.
    DeathsBySexAgeCumulative,
    /// 10 入院治療等を要する者等推移.
    RequiringCareTrend,
    /// 11 集団感染等発生状況.
    Clusters,
}

impl Indicator {
    pub const ALL: [Indicator; 11] = [
        Indicator::NewPositives,
        Indicator::NewPositivesPer100k,
        Indicator::NewPositivesBySexAge,
        Indicator::PositivesBySexAgeCumulative,
        Indicator::PositivesCumulative,
        Indicator::SevereTrend,
        Indicator::SevereBySexAge,
        Indicator::DeathsCumulative,
        Indicator::DeathsBySexAgeCumulative,
        Indicator::RequiringCareTrend,
        Indicator::Clusters,
    ];

    /// 1..=11 as in DOMAIN.md §5.
    pub fn number(&self) -> u8 {
        Indicator::ALL.iter().position(|i| i == self).map_or(0, |p| p as u8 + 1)
    }

    /// The name used on the command line and in file names.
    pub fn slug(&self) -> &'static str {
        match self {
            Indicator::NewPositives => "new-positives",
            Indicator::NewPositivesPer100k => "new-positives-per-100k",
            Indicator::NewPositivesBySexAge => "new-positives-by-sex-age",
            Indicator::PositivesBySexAgeCumulative => "positives-by-sex-age-cumulative",
            Indicator::PositivesCumulative => "positives-cumulative",
            Indicator::SevereTrend => "severe-trend",
            Indicator::SevereBySexAge => "severe-by-sex-age",
            Indicator::DeathsCumulative => "deaths-cumulative",
            Indicator::DeathsBySexAgeCumulative => "deaths-by-sex-age-cumulative",
            Indicator::RequiringCareTrend => "requiring-care-trend",
            Indicator::Clusters => "clusters",
        }
    }

    pub fn title_ja(&self) -> &'static str {
        match self {
            Indicator::NewPositives => "新規陽性者数の推移",
            Indicator::NewPositivesPer100k => "人口10万人当たりの新規陽性者数",
            Indicator::NewPositivesBySexAge => "性別・年代別新規陽性者数",
            Indicator::PositivesBySexAgeCumulative => "性別・年代別陽性者数（累積）",
            Indicator::PositivesCumulative => "陽性者数（累積）",
            Indicator::SevereTrend => "重症者数の推移",
            Indicator::SevereBySexAge => "性別・年代別重症者数",
            Indicator::DeathsCumulative => "死亡者数（累積）",
            Indicator::DeathsBySexAgeCumulative => "性別・年代別死亡者数（累積）",
            Indicator::RequiringCareTrend => "入院治療等を要する者等推移",
            Indicator::Clusters => "集団感染等発生状況",
        }
    }

    pub fn title_en(&self) -> &'static str {
        match self {
            Indicator::NewPositives => "New positives",
            Indicator::NewPositivesPer100k => "New positives per 100,000 population",
            Indicator::NewPositivesBySexAge => "New positives by sex and age group",
            Indicator::PositivesBySexAgeCumulative => "Positives by sex and age group, cumulative",
            Indicator::PositivesCumulative => "Positives, cumulative",
            Indicator::SevereTrend => "Severe cases",
            Indicator::SevereBySexAge => "Severe cases by sex and age group",
            Indicator::DeathsCumulative => "Deaths, cumulative",
            Indicator::DeathsBySexAgeCumulative => "Deaths by sex and age group, cumulative",
            Indicator::RequiringCareTrend => "Persons requiring inpatient care etc.",
            Indicator::Clusters => "Clusters",
        }
    }

    /// How often the ministry updated it: the default granularity.
    pub fn natural_granularity(&self) -> Granularity {
        match self {
            Indicator::NewPositivesBySexAge
            | Indicator::PositivesBySexAgeCumulative
            | Indicator::SevereBySexAge
            | Indicator::DeathsBySexAgeCumulative
            | Indicator::Clusters => Granularity::Week,
            _ => Granularity::Day,
        }
    }

    /// By slug, by number ("3") or by Japanese title.
    pub fn parse(s: &str) -> Result<Indicator, ReportError> {
        let s = s.trim();
        Indicator::ALL
            .into_iter()
            .find(|i| i.slug() == s || i.slug().replace('-', "_") == s || i.number().to_string() == s || i.title_ja() == s)
            .ok_or_else(|| ReportError::UnknownIndicator(s.to_string()))
    }
}

/// A breakdown of the trend tables by place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    /// One series for the whole area.
    #[default]
    None,
    Prefecture,
    HealthCentre,
}

/// What a report covers and how it is cut.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportOptions {
    /// First day; `None`: the earliest positive date of the cases.
    pub from: Option<NaiveDate>,
    /// Last day; `None`: the latest positive date of the cases.
    pub to: Option<NaiveDate>,
    /// `None`: the indicator's own (daily, or weekly for sex × age tables and clusters).
    pub by: Option<Granularity>,
    /// First day of a week (the ministry's weekly files: Wednesday).
    pub week_start: Weekday,
    pub area: Area,
    /// Rows per prefecture or health centre (trend tables; the per-100,000
    /// table is always per prefecture).
    pub breakdown: Breakdown,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { from: None, to: None, by: None, week_start: Weekday::Wed, area: Area::All, breakdown: Breakdown::None }
    }
}

/// Computes one indicator. `clusters` matters only to [`Indicator::Clusters`].
pub fn compute(indicator: Indicator, rows: &[ReportRow], clusters: &[Cluster], opts: &ReportOptions) -> Table {
    // No date to start from (no positives and no range given): the table's
    // columns over a one-day range, without rows.
    let (tl, empty) = match timeline(rows, opts, indicator.natural_granularity()) {
        Some(tl) => (tl, false),
        None => {
            let day = NaiveDate::default();
            (Timeline::new(day, day, opts.by.unwrap_or(indicator.natural_granularity()), opts.week_start), true)
        }
    };
    let tl = &tl;
    let mut t = match indicator {
        Indicator::NewPositives => trend(rows, opts, tl, Trend::NewPositives),
        Indicator::NewPositivesPer100k => per_100k(rows, opts, tl),
        Indicator::NewPositivesBySexAge => sex_age(rows, opts, tl, SexAge::NewPositives),
        Indicator::PositivesBySexAgeCumulative => sex_age(rows, opts, tl, SexAge::CumulativePositives),
        Indicator::PositivesCumulative => trend(rows, opts, tl, Trend::CumulativePositives),
        Indicator::SevereTrend => trend(rows, opts, tl, Trend::Severe),
        Indicator::SevereBySexAge => sex_age(rows, opts, tl, SexAge::Severe),
        Indicator::DeathsCumulative => trend(rows, opts, tl, Trend::Deaths),
        Indicator::DeathsBySexAgeCumulative => sex_age(rows, opts, tl, SexAge::CumulativeDeaths),
        Indicator::RequiringCareTrend => trend(rows, opts, tl, Trend::RequiringCare),
        Indicator::Clusters => cluster_table(rows, clusters, opts, tl),
    };
    t.title_ja = indicator.title_ja().to_string();
    t.title_en = indicator.title_en().to_string();
    if empty {
        t.rows.clear();
    }
    t
}

/// Every indicator, in order.
pub fn compute_all(rows: &[ReportRow], clusters: &[Cluster], opts: &ReportOptions) -> Vec<Table> {
    // Resolve an open range once rather than once per indicator.
    let mut opts = opts.clone();
    if let Some(tl) = timeline(rows, &opts, Granularity::Day) {
        opts.from = Some(tl.from);
        opts.to = Some(tl.to);
    }
    // Two threads share the eleven (the indicators are independent).
    let (first, second) = Indicator::ALL.split_at(Indicator::ALL.len() / 2);
    let opts = &opts;
    std::thread::scope(|s| {
        let other = s.spawn(move || second.iter().map(|&i| compute(i, rows, clusters, opts)).collect::<Vec<_>>());
        let mut tables: Vec<Table> = first.iter().map(|&i| compute(i, rows, clusters, opts)).collect();
        tables.extend(other.join().expect("computing an indicator does not panic"));
        tables
    })
}

pub(crate) fn timeline(rows: &[ReportRow], opts: &ReportOptions, natural: Granularity) -> Option<Timeline> {
    let by = opts.by.unwrap_or(natural);
    let (from, to) = match (opts.from, opts.to) {
        (Some(f), Some(t)) => (f, t),
        (f, t) => {
            let dates = rows.iter().filter(|r| r.positive && opts.area.contains(r)).filter_map(|r| r.positive_on);
            let (min, max) = dates.fold((None::<NaiveDate>, None::<NaiveDate>), |(lo, hi), d| {
                (Some(lo.map_or(d, |l| l.min(d))), Some(hi.map_or(d, |h| h.max(d))))
            });
            (f.or(min)?, t.or(max).or(f)?)
        }
    };
    Some(Timeline::new(from, to, by, opts.week_start))
}

fn period_columns(tl: &Timeline) -> Vec<Column> {
    match tl.by {
        Granularity::Day => vec![Column::new("date", "日付", "Date")],
        Granularity::Week => vec![Column::new("week_start", "週の初日", "Week start"), Column::new("week_end", "週の末日", "Week end")],
    }
}

fn period_cells(tl: &Timeline, p: &Period) -> Vec<Cell> {
    match tl.by {
        Granularity::Day => vec![Cell::Date(p.start)],
        Granularity::Week => vec![Cell::Date(p.start), Cell::Date(p.end)],
    }
}

// ---------------------------------------------------------------- intervals

/// `[start, end)`: the days a case counts in a stock; `end` `None` = still counting.
fn severe_interval(r: &ReportRow) -> Option<(NaiveDate, Option<NaiveDate>)> {
    if !(r.positive && r.severe) {
        return None;
    }
    let start = r.admission_date.or(r.positive_on)?;
    let end = [r.discharge_date, r.death_on(), r.recovery_ended_on].into_iter().flatten().min();
    let end = end.or_else(|| if r.status.is_some_and(|s| s.requires_care()) { None } else { r.status_updated_on.or(Some(start)) });
    Some((start, end))
}

fn care_interval(r: &ReportRow) -> Option<(NaiveDate, Option<NaiveDate>)> {
    if !r.positive {
        return None;
    }
    let start = r.positive_on?;
    if r.status.is_some_and(|s| s.requires_care()) {
        return Some((start, None));
    }
    let end = r.recovery_ended_on.or(r.death_on()).or(r.discharge_date).or(r.status_updated_on).unwrap_or(start);
    Some((start, Some(end)))
}

/// Adds an interval to a difference array of `tl.days() + 1` entries.
fn add_interval(diff: &mut [i64], tl: &Timeline, (start, end): (NaiveDate, Option<NaiveDate>), stride: usize, cell: usize) {
    if end.is_some_and(|e| e <= start || e <= tl.from) {
        return;
    }
    let Some(s) = tl.index_clamped(start) else { return };
    let e = match end.and_then(|e| tl.index(e)) {
        Some(e) => e,
        None => tl.days(),
    };
    diff[s * stride + cell] += 1;
    diff[e * stride + cell] -= 1;
}

// ---------------------------------------------------------------- trends

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trend {
    NewPositives,
    CumulativePositives,
    Severe,
    Deaths,
    RequiringCare,
}

/// Group key (sortable): "13" for a prefecture, the health centre's code.
fn group_of(r: &ReportRow, b: Breakdown) -> String {
    match b {
        Breakdown::None => String::new(),
        Breakdown::Prefecture => format!("{:02}", r.prefecture),
        Breakdown::HealthCentre => r.health_centre.clone(),
    }
}

/// Daily series per group: `values[day]` (flows: per day; stocks: on the day).
struct Series {
    groups: BTreeMap<String, Vec<i64>>,
    /// Deaths dated before the range, per group (folded into day 0 of `groups`).
    deaths_before: BTreeMap<String, i64>,
}

impl Series {
    fn build(rows: &[ReportRow], opts: &ReportOptions, tl: &Timeline, what: Trend, breakdown: Breakdown) -> Series {
        let n = tl.days();
        // Groups are addressed by slot: no string is built or compared per row
        // (but the health-centre code when breaking down by health centre).
        let mut slots: Vec<String> = Vec::new();
        let mut values: Vec<Vec<i64>> = Vec::new();
        let mut before: Vec<i64> = Vec::new();
        let mut by_prefecture = [usize::MAX; 256];
        let mut by_centre: HashMap<&str, usize> = HashMap::new();
        if breakdown == Breakdown::None {
            slots.push(String::new());
        }
        for r in rows.iter().filter(|r| opts.area.contains(r)) {
            // Every place with a case in the area gets its rows, zeros included.
            let slot = match breakdown {
                Breakdown::None => 0,
                Breakdown::Prefecture => {
                    let k = r.prefecture as usize;
                    if by_prefecture[k] == usize::MAX {
                        by_prefecture[k] = slots.len();
                        slots.push(group_of(r, breakdown));
                    }
                    by_prefecture[k]
                }
                Breakdown::HealthCentre => *by_centre.entry(r.health_centre.as_str()).or_insert_with(|| {
                    slots.push(group_of(r, breakdown));
                    slots.len() - 1
                }),
            };
            if slot >= values.len() {
                values.resize_with(slot + 1, || vec![0; n + 1]);
                before.resize(slot + 1, 0);
            }
            let v = &mut values[slot];
            match what {
                Trend::NewPositives => {
                    if let Some(i) = r.positive_on.filter(|_| r.positive).and_then(|d| tl.index(d)) {
                        v[i] += 1;
                    }
                }
                Trend::CumulativePositives => {
                    if let Some(i) = r.positive_on.filter(|_| r.positive).and_then(|d| tl.index_clamped(d)) {
                        v[i] += 1;
                    }
                }
                Trend::Deaths => {
                    if let Some(d) = r.death_on().filter(|_| r.positive) {
                        if let Some(i) = tl.index_clamped(d) {
                            v[i] += 1;
                            if d < tl.from {
                                before[slot] += 1;
                            }
                        }
                    }
                }
                Trend::Severe => {
                    if let Some(iv) = severe_interval(r) {
                        add_interval(v, tl, iv, 1, 0);
                    }
                }
                Trend::RequiringCare => {
                    if let Some(iv) = care_interval(r) {
                        add_interval(v, tl, iv, 1, 0);
                    }
                }
            }
        }
        values.resize_with(slots.len(), || vec![0; n + 1]);
        before.resize(slots.len(), 0);
        if what != Trend::NewPositives {
            // Cumulative counts and difference arrays both become running sums.
            for v in values.iter_mut() {
                let mut acc = 0;
                for x in v.iter_mut() {
                    acc += *x;
                    *x = acc;
                }
            }
        }
        let deaths_before = slots.iter().zip(&before).map(|(k, b)| (k.clone(), *b)).collect();
        Series { groups: slots.into_iter().zip(values).collect(), deaths_before }
    }
}

/// Per group (`""` without a breakdown, `"13"` per prefecture): the value
/// on each day of `tl` (new counts for new positives, else running totals
/// or stocks) and, for deaths, how many died before the first day.
pub(crate) fn daily_series(
    rows: &[ReportRow],
    opts: &ReportOptions,
    tl: &Timeline,
    what: Trend,
    breakdown: Breakdown,
) -> BTreeMap<String, (Vec<i64>, i64)> {
    let mut series = Series::build(rows, opts, tl, what, breakdown);
    series
        .groups
        .into_iter()
        .map(|(k, v)| {
            let before = series.deaths_before.remove(&k).unwrap_or(0);
            (k, (v, before))
        })
        .collect()
}

fn fold_flow(v: &[i64], p: &Period) -> i64 {
    v[p.first_day..=p.last_day].iter().sum()
}

fn trend(rows: &[ReportRow], opts: &ReportOptions, tl: &Timeline, what: Trend) -> Table {
    let mut columns = period_columns(tl);
    let breakdown = opts.breakdown;
    match breakdown {
        Breakdown::None => {}
        Breakdown::Prefecture => {
            columns.push(Column::new("prefecture_code", "都道府県コード", "Prefecture code"));
            columns.push(Column::new("prefecture", "都道府県", "Prefecture"));
        }
        Breakdown::HealthCentre => columns.push(Column::new("health_centre", "保健所", "Health centre")),
    }
    let (values, note): (Vec<Column>, &str) = match what {
        Trend::NewPositives => (
            vec![Column::new("new_positives", "新規陽性者数", "New positives")],
            "新規陽性者: 陽性の類型の届出（保健所確認の有無を問わない）を診断日（なければ報告日）で計上。 / New positives: notifications of a positive class, confirmed or not, on the diagnosis date (else report date).",
        ),
        Trend::CumulativePositives => (
            vec![Column::new("cumulative_positives", "陽性者数（累積）", "Cumulative positives")],
            "累積は期間初日より前の陽性者を含む。週別は週末日の値。 / Cumulative counts include positives before the first day; weekly rows show the week's last day.",
        ),
        Trend::Severe => (
            vec![Column::new("severe", "重症者数", "Severe cases")],
            "重症: ICU・人工呼吸器・ECMOの記録がある陽性者を入院日から退院・死亡・療養解除の前日まで重症として計上（状態の履歴がないための近似で、過大になりうる）。週別は週末日の値。 / Severe: positives with ICU, ventilator or ECMO recorded, counted from admission to the day before discharge, death or end of recovery (an over-estimating approximation: no status history is kept). Weekly rows show the week's last day.",
        ),
        Trend::Deaths => (
            vec![Column::new("deaths", "死亡者数", "Deaths"), Column::new("cumulative_deaths", "死亡者数（累積）", "Cumulative deaths")],
            "死亡日（なければ死亡に変更した日、なければ陽性日）で計上。 / Counted on the date of death (else the day the status became 死亡, else the positive date).",
        ),
        Trend::RequiringCare => (
            vec![Column::new("requiring_care", "入院治療等を要する者", "Requiring inpatient care etc.")],
            "陽性日から、現在のステータスが療養中・入院中等の間、または療養解除・死亡・退院（なければステータス更新日）の前日まで計上。週別は週末日の値。 / Counted from the positive date while the status requires care, else until the day before end of recovery, death, discharge (else the last status change). Weekly rows show the week's last day.",
        ),
    };
    columns.extend(values);
    let mut table = Table::new("", "", columns);
    table.notes.push(note.to_string());
    let series = Series::build(rows, opts, tl, what, breakdown);
    for p in tl.periods() {
        for (code, v) in &series.groups {
            let mut row = period_cells(tl, &p);
            match breakdown {
                Breakdown::None => {}
                Breakdown::Prefecture => {
                    row.push(Cell::text(code.clone()));
                    row.push(prefecture_label(code));
                }
                Breakdown::HealthCentre => row.push(Cell::text(code.clone())),
            }
            match what {
                Trend::NewPositives => row.push(Cell::Count(fold_flow(v, &p))),
                Trend::Deaths => {
                    // Day 0 also holds the deaths before the range: new deaths exclude them.
                    let before = if p.first_day == 0 { series.deaths_before.get(code).copied().unwrap_or(0) } else { v[p.first_day - 1] };
                    row.push(Cell::Count(v[p.last_day] - before));
                    row.push(Cell::Count(v[p.last_day]));
                }
                _ => row.push(Cell::Count(v[p.last_day])),
            }
            table.rows.push(row);
        }
    }
    table
}

/// A prefecture's name as a label (code: its English name).
fn prefecture_label(code2: &str) -> Cell {
    match code2.parse().ok().and_then(todoke_refdata::prefecture) {
        Some(p) => Cell::label(p.english, p.name, p.english),
        None => Cell::label("unknown", "不明", "Unknown"),
    }
}

fn per_100k(rows: &[ReportRow], opts: &ReportOptions, tl: &Timeline) -> Table {
    let mut columns = period_columns(tl);
    columns.extend([
        Column::new("prefecture_code", "都道府県コード", "Prefecture code"),
        Column::new("prefecture", "都道府県", "Prefecture"),
        Column::new("population", "人口（令和2年国勢調査）", "Population (2020 census)"),
        Column::new("new_positives", "新規陽性者数", "New positives"),
        Column::new("per_100k", "人口10万人当たり", "Per 100,000"),
    ]);
    let mut table = Table::new("", "", columns);
    table.notes.push(
        "人口は令和2年国勢調査（総務省統計局）。居住地の都道府県が不明な陽性者は含まない。 / Population: 2020 census (Statistics Bureau of Japan). Positives whose prefecture is unknown are left out."
            .to_string(),
    );
    let series = Series::build(rows, opts, tl, Trend::NewPositives, Breakdown::Prefecture);
    for p in tl.periods() {
        for (code, v) in &series.groups {
            let pref: u8 = code.parse().unwrap_or(0);
            if pref == 0 {
                continue;
            }
            let population = todoke_refdata::population_2020(pref) as i64;
            let n = fold_flow(v, &p);
            let mut row = period_cells(tl, &p);
            row.extend([Cell::text(code.clone()), prefecture_label(code), Cell::Count(population), Cell::Count(n)]);
            row.push(if population > 0 { Cell::Decimal(n as f64 * 100_000.0 / population as f64) } else { Cell::Empty });
            table.rows.push(row);
        }
    }
    table
}

// ---------------------------------------------------------------- sex × age

#[derive(Clone, Copy, PartialEq, Eq)]
enum SexAge {
    NewPositives,
    CumulativePositives,
    Severe,
    CumulativeDeaths,
}

const SEXES: [Sex; 3] = [Sex::Male, Sex::Female, Sex::OtherOrUnknown];
const BANDS: usize = 11;
const CELLS: usize = SEXES.len() * BANDS;

fn sex_index(s: Option<Sex>) -> usize {
    match s {
        Some(Sex::Male) => 0,
        Some(Sex::Female) => 1,
        _ => 2,
    }
}

fn band_index(b: AgeBand) -> usize {
    AgeBand::ALL.iter().position(|x| *x == b).unwrap_or(BANDS - 1)
}

fn sex_age(rows: &[ReportRow], opts: &ReportOptions, tl: &Timeline, what: SexAge) -> Table {
    let mut columns = period_columns(tl);
    columns.push(Column::new("sex", "性別", "Sex"));
    for b in AgeBand::ALL {
        columns.push(Column::new(b.code(), b.ja(), b.en()));
    }
    columns.push(Column::new("total", "計", "Total"));
    let mut table = Table::new("", "", columns);
    table.notes.push(
        match what {
            SexAge::NewPositives => {
                "期間中の新規陽性者（診断日、なければ報告日）。 / New positives in the period (diagnosis date, else report date)."
            }
            SexAge::CumulativePositives => "各期間末日までの陽性者の累積。 / Positives up to the period's last day.",
            SexAge::Severe => {
                "各期間末日時点の重症者（重症者数の推移と同じ定義）。 / Severe cases on the period's last day (as in the severe trend)."
            }
            SexAge::CumulativeDeaths => "各期間末日までの死亡者の累積。 / Deaths up to the period's last day.",
        }
        .to_string(),
    );
    table.notes.push(
        "1〜4人のセルは非公表（*）。公表した数と合計から逆算できないよう、必要な他のセルも非公表（二次秘匿）。男女別・年代別の合計は、逆算を防ぐのに必要なときだけ非公表。総数は常に公表。 / Cells of 1–4 persons are not published (*); further cells are hidden so that none can be derived from what is published, and a sex or age-group total only when that is needed too. The overall total is always published."
            .to_string(),
    );

    let n = tl.days();
    // Per day × cell; flows per day, the rest as difference arrays / clamped counts then running sums.
    let mut v = vec![0i64; (n + 1) * CELLS];
    for r in rows.iter().filter(|r| r.positive && opts.area.contains(r)) {
        let cell = sex_index(r.sex) * BANDS + band_index(r.age_band);
        match what {
            SexAge::NewPositives => {
                if let Some(i) = r.positive_on.and_then(|d| tl.index(d)) {
                    v[i * CELLS + cell] += 1;
                }
            }
            SexAge::CumulativePositives => {
                if let Some(i) = r.positive_on.and_then(|d| tl.index_clamped(d)) {
                    v[i * CELLS + cell] += 1;
                }
            }
            SexAge::CumulativeDeaths => {
                if let Some(i) = r.death_on().and_then(|d| tl.index_clamped(d)) {
                    v[i * CELLS + cell] += 1;
                }
            }
            SexAge::Severe => {
                if let Some(iv) = severe_interval(r) {
                    add_interval(&mut v, tl, iv, CELLS, cell);
                }
            }
        }
    }
    if what != SexAge::NewPositives {
        for d in 1..=n {
            for c in 0..CELLS {
                v[d * CELLS + c] += v[(d - 1) * CELLS + c];
            }
        }
    }
    for p in tl.periods() {
        let matrix: Vec<Vec<i64>> = (0..SEXES.len())
            .map(|s| {
                (0..BANDS)
                    .map(|b| {
                        let c = s * BANDS + b;
                        match what {
                            SexAge::NewPositives => (p.first_day..=p.last_day).map(|d| v[d * CELLS + c]).sum(),
                            _ => v[p.last_day * CELLS + c],
                        }
                    })
                    .collect()
            })
            .collect();
        push_suppressed(&mut table, period_cells(tl, &p), &matrix);
    }
    table
}

/// Appends one sex × age matrix with its totals, suppressed
/// ([`suppress_table`]: a sex or age total is hidden only when a cell could
/// be derived from it; the area total always shows).
fn push_suppressed(table: &mut Table, period: Vec<Cell>, matrix: &[Vec<i64>]) {
    let vis = suppress_table(matrix);
    let shown = |hidden: bool, n: i64| if hidden { Cell::Suppressed } else { Cell::Count(n) };
    for (s, sex) in SEXES.iter().enumerate() {
        let mut row = period.clone();
        row.push(Cell::label(sex.code(), sex.ja(), sex.en()));
        for b in 0..BANDS {
            row.push(shown(vis.cells[s][b].is_hidden(), matrix[s][b]));
        }
        row.push(shown(vis.row_totals[s].is_hidden(), matrix[s].iter().sum()));
        table.rows.push(row);
    }
    let mut row = period;
    row.push(Cell::total());
    for b in 0..BANDS {
        row.push(shown(vis.column_totals[b].is_hidden(), matrix.iter().map(|r| r[b]).sum()));
    }
    row.push(Cell::Count(matrix.iter().flatten().sum()));
    table.rows.push(row);
}

// ---------------------------------------------------------------- clusters

fn cluster_table(rows: &[ReportRow], clusters: &[Cluster], opts: &ReportOptions, tl: &Timeline) -> Table {
    let mut columns = period_columns(tl);
    columns.extend([
        Column::new("setting", "施設等の種別", "Setting"),
        Column::new("new_clusters", "新規発生件数", "New clusters"),
        Column::new("cumulative_clusters", "累積件数", "Cumulative clusters"),
        Column::new("cases", "関連陽性者数（期間中）", "Linked positives in the period"),
    ]);
    let mut table = Table::new("", "", columns);
    table.notes.push(
        "発生日は最初の発病日、なければ関連陽性者の最初の陽性日。地域で絞るときは関連陽性者がその地域にいる集団（保健所指定時は管理保健所が一致する集団も）を含む。 / A cluster occurs on its first onset, else its first linked positive. With an area, clusters with a linked positive in it (or, for a health centre, managed by it) are counted."
            .to_string(),
    );
    // Members per cluster: first positive date, in-area flag, and per-day counts.
    let index: BTreeMap<Uuid, usize> = clusters.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let n = tl.days();
    let mut first: Vec<Option<NaiveDate>> = vec![None; clusters.len()];
    let mut in_area: Vec<bool> = clusters
        .iter()
        .map(|c| match &opts.area {
            Area::All => true,
            Area::HealthCentre(hc) => c.health_centre == *hc,
            _ => false,
        })
        .collect();
    let mut member_days: Vec<Vec<u32>> = vec![Vec::new(); clusters.len()];
    for r in rows.iter().filter(|r| r.positive && !r.clusters.is_empty()) {
        let here = opts.area.contains(r);
        for id in &r.clusters {
            let Some(&k) = index.get(id) else { continue };
            if here {
                in_area[k] = true;
            }
            if let Some(d) = r.positive_on {
                first[k] = Some(first[k].map_or(d, |f| f.min(d)));
                if let (true, Some(i)) = (here, tl.index(d)) {
                    member_days[k].push(i as u32);
                }
            }
        }
    }
    let mut settings: Vec<&str> = clusters.iter().enumerate().filter(|(k, _)| in_area[*k]).map(|(_, c)| c.setting.as_str()).collect();
    settings.sort_unstable();
    settings.dedup();
    // Per setting: new clusters per day (clamped: those before the range land on day 0 for the cumulative count).
    let mut new_per_day: BTreeMap<&str, Vec<i64>> = settings.iter().map(|s| (*s, vec![0; n])).collect();
    let mut before: BTreeMap<&str, i64> = settings.iter().map(|s| (*s, 0)).collect();
    let mut cases_per_day: BTreeMap<&str, Vec<i64>> = settings.iter().map(|s| (*s, vec![0; n])).collect();
    for (k, c) in clusters.iter().enumerate() {
        if !in_area[k] {
            continue;
        }
        let setting = c.setting.as_str();
        if let Some(d) = c.first_onset.or(first[k]) {
            if d < tl.from {
                *before.get_mut(setting).expect("listed") += 1;
            } else if let Some(i) = tl.index(d) {
                new_per_day.get_mut(setting).expect("listed")[i] += 1;
            }
        }
        let cases = cases_per_day.get_mut(setting).expect("listed");
        for &i in &member_days[k] {
            cases[i as usize] += 1;
        }
    }
    let mut cumulative: BTreeMap<&str, i64> = before.clone();
    for p in tl.periods() {
        let (mut t_new, mut t_cum, mut t_cases) = (0, 0, 0);
        for s in &settings {
            let new = fold_flow(&new_per_day[s], &p);
            let cum = cumulative.get_mut(s).expect("listed");
            *cum += new;
            let cases = fold_flow(&cases_per_day[s], &p);
            let mut row = period_cells(tl, &p);
            let setting = if s.is_empty() { Cell::label("unknown", "不明", "Unknown") } else { Cell::text(*s) };
            row.extend([setting, Cell::Count(new), Cell::Count(*cum), Cell::Count(cases)]);
            table.rows.push(row);
            t_new += new;
            t_cum += *cum;
            t_cases += cases;
        }
        let mut row = period_cells(tl, &p);
        row.extend([Cell::total(), Cell::Count(t_new), Cell::Count(t_cum), Cell::Count(t_cases)]);
        table.rows.push(row);
    }
    table
}

//! Days and weeks: the time axis of every table.
//!
//! Series are computed per day over the report's range and then folded into
//! periods: a **flow** (new positives, new deaths) is summed over the days of
//! a period; a **stock** (severe cases, persons requiring care, cumulative
//! counts) is taken on the period's last day. Weekly reports widen the range
//! to whole weeks (back to the week start, forward to the week end), so no
//! week is partial. The ministry's weekly files ran Wednesday to Tuesday,
//! hence the default week start.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// Rows per day or per week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    Day,
    Week,
}

impl Granularity {
    pub fn parse(s: &str) -> Option<Granularity> {
        match s.trim() {
            "day" | "daily" | "日" | "日別" => Some(Granularity::Day),
            "week" | "weekly" | "週" | "週別" => Some(Granularity::Week),
            _ => None,
        }
    }
}

/// The days a report covers, and how they fold into periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeline {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub by: Granularity,
    pub week_start: Weekday,
}

/// One period of a table: its first and last day, and the indices of its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub first_day: usize,
    pub last_day: usize,
}

impl Timeline {
    /// A timeline `from..=to` (swapped if given the wrong way round), widened
    /// to whole weeks when weekly.
    pub fn new(from: NaiveDate, to: NaiveDate, by: Granularity, week_start: Weekday) -> Timeline {
        let (mut from, mut to) = if from <= to { (from, to) } else { (to, from) };
        if by == Granularity::Week {
            from = week_start_of(from, week_start);
            to = week_start_of(to, week_start) + Days::new(6);
        }
        Timeline { from, to, by, week_start }
    }

    /// Number of days.
    pub fn days(&self) -> usize {
        (self.to - self.from).num_days() as usize + 1
    }

    pub fn day(&self, index: usize) -> NaiveDate {
        self.from + Days::new(index as u64)
    }

    /// The index of a day inside the range.
    pub fn index(&self, d: NaiveDate) -> Option<usize> {
        (d >= self.from && d <= self.to).then(|| (d - self.from).num_days() as usize)
    }

    /// The index for cumulative and stock counts: days before the range fold
    /// into its first day; days after it are `None`.
    pub fn index_clamped(&self, d: NaiveDate) -> Option<usize> {
        if d > self.to {
            None
        } else {
            Some(if d < self.from { 0 } else { (d - self.from).num_days() as usize })
        }
    }

    /// The periods, in order.
    pub fn periods(&self) -> Vec<Period> {
        let n = self.days();
        match self.by {
            Granularity::Day => (0..n).map(|i| Period { start: self.day(i), end: self.day(i), first_day: i, last_day: i }).collect(),
            Granularity::Week => (0..n / 7)
                .map(|w| Period { start: self.day(w * 7), end: self.day(w * 7 + 6), first_day: w * 7, last_day: w * 7 + 6 })
                .collect(),
        }
    }
}

/// The first day of the week (starting on `week_start`) that holds `d`.
pub fn week_start_of(d: NaiveDate, week_start: Weekday) -> NaiveDate {
    let back = (7 + d.weekday().num_days_from_monday() - week_start.num_days_from_monday()) % 7;
    d - Days::new(back as u64)
}

/// Reads a weekday: "wed", "wednesday", "水", "水曜日".
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    let s = s.trim();
    if let Ok(w) = s.parse::<Weekday>() {
        return Some(w);
    }
    let ja = ["月", "火", "水", "木", "金", "土", "日"];
    let first = s.chars().next()?.to_string();
    ja.iter().position(|j| *j == first).and_then(|i| Weekday::try_from(i as u8).ok())
}

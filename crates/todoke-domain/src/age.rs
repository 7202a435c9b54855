//! 年齢 — age as the notification asks it (診断時の年齢, months below one
//! year) and the published age bands (年代).
//!
//! Ages are reckoned as Japanese law does (年齢計算ニ関スル法律, 民法第143条):
//! a person is a year older from their birthday, and someone born on
//! 29 February is a year older from 1 March in common years. Months work the
//! same way (born 31 January: one month old from 1 March in a common year).

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::case::Case;
use crate::codes::AgeBand;

/// An age in completed years, and completed months since the last birthday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Age {
    pub years: u32,
    /// 0–11. The form asks for it below one year (「0歳3か月」).
    pub months: u32,
}

impl Age {
    /// 「45歳」, or 「0歳3か月」 below one year.
    pub fn display_ja(&self) -> String {
        if self.years == 0 {
            format!("0歳{}か月", self.months)
        } else {
            format!("{}歳", self.years)
        }
    }

    /// "45 years", or "3 months" below one year.
    pub fn display_en(&self) -> String {
        match (self.years, self.months) {
            (0, 1) => "1 month".to_string(),
            (0, m) => format!("{m} months"),
            (1, _) => "1 year".to_string(),
            (y, _) => format!("{y} years"),
        }
    }

    /// The published age band (年代).
    pub fn band(&self) -> AgeBand {
        AgeBand::of_age(self.years)
    }
}

/// Age on `on` of someone born on `birth`; `None` when `on` is before the birth.
pub fn age_at(birth: NaiveDate, on: NaiveDate) -> Option<Age> {
    if on < birth {
        return None;
    }
    let months_total = (on.year() - birth.year()) * 12 + on.month() as i32 - birth.month() as i32 - i32::from(on.day() < birth.day());
    // `on >= birth` makes months_total non-negative.
    let months_total = months_total.max(0) as u32;
    Some(Age { years: months_total / 12, months: months_total % 12 })
}

/// 診断時の年齢: age at the diagnosis date, else at the report date.
pub fn age_at_diagnosis(case: &Case) -> Option<Age> {
    let birth = case.basic.birth_date?;
    let on = case.notification.diagnosis_date.or(case.notification.report_date)?;
    age_at(birth, on)
}

/// The age band of a case for the statistics: from the birth date at the
/// diagnosis date (else the report date); else the band an open-data import
/// carried; else `Unknown`.
pub fn age_band_at(case: &Case) -> AgeBand {
    if let Some(age) = age_at_diagnosis(case) {
        return age.band();
    }
    case.basic.reported_age_band.unwrap_or(AgeBand::Unknown)
}

/// 成年年齢 on a date: 20, and 18 from 2022-04-01 (民法改正).
/// Decides whether the guardian items (保護者, minors only) apply.
pub fn age_of_majority_on(date: NaiveDate) -> u32 {
    if date >= NaiveDate::from_ymd_opt(2022, 4, 1).expect("valid date") {
        18
    } else {
        20
    }
}

/// A minor (未成年) on `on`. `None` when the birth date is unknown or after `on`.
pub fn is_minor(birth: NaiveDate, on: NaiveDate) -> Option<bool> {
    age_at(birth, on).map(|age| age.years < age_of_majority_on(on))
}

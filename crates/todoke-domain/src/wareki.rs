//! 和暦 — Japanese era dates, as staff read and write them on paper forms
//! ("R2.4.1", 「令和2年4月1日」).
//!
//! Only dates from 1873-01-01 (明治6年, when Japan adopted the Gregorian
//! calendar) are expressed in eras; earlier dates were lunisolar and a
//! proleptic era date would be wrong, so they are shown in 西暦.

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

/// 元号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    Meiji,
    Taisho,
    Showa,
    Heisei,
    Reiwa,
}

impl Era {
    /// Oldest first.
    pub const ALL: &'static [Era] = &[Era::Meiji, Era::Taisho, Era::Showa, Era::Heisei, Era::Reiwa];

    /// 「令和」.
    pub fn name_ja(self) -> &'static str {
        match self {
            Era::Meiji => "明治",
            Era::Taisho => "大正",
            Era::Showa => "昭和",
            Era::Heisei => "平成",
            Era::Reiwa => "令和",
        }
    }

    /// "Reiwa".
    pub fn name_en(self) -> &'static str {
        match self {
            Era::Meiji => "Meiji",
            Era::Taisho => "Taishō",
            Era::Showa => "Shōwa",
            Era::Heisei => "Heisei",
            Era::Reiwa => "Reiwa",
        }
    }

    /// The one-letter abbreviation used on forms ("R").
    pub fn letter(self) -> char {
        match self {
            Era::Meiji => 'M',
            Era::Taisho => 'T',
            Era::Showa => 'S',
            Era::Heisei => 'H',
            Era::Reiwa => 'R',
        }
    }

    /// First day of the era (元年). For Meiji, the first day this module
    /// expresses in it: the day the Gregorian calendar took effect.
    pub fn first_day(self) -> NaiveDate {
        let (y, m, d) = match self {
            Era::Meiji => (1873, 1, 1),
            Era::Taisho => (1912, 7, 30),
            Era::Showa => (1926, 12, 25),
            Era::Heisei => (1989, 1, 8),
            Era::Reiwa => (2019, 5, 1),
        };
        NaiveDate::from_ymd_opt(y, m, d).expect("valid era start")
    }

    /// The Gregorian year of 元年.
    fn first_year(self) -> i32 {
        match self {
            Era::Meiji => 1868,
            other => other.first_day().year(),
        }
    }

    /// Last day of the era, if it has ended.
    pub fn last_day(self) -> Option<NaiveDate> {
        let next = Era::ALL.iter().copied().find(|e| *e > self)?;
        next.first_day().pred_opt()
    }

    fn from_abbreviation(s: &str) -> Option<Era> {
        let mut chars = s.chars();
        let (first, second) = (chars.next()?, chars.next());
        Era::ALL
            .iter()
            .copied()
            .find(|e| s == e.name_ja() || second.is_none() && (e.name_ja().starts_with(first) || first.eq_ignore_ascii_case(&e.letter())))
    }
}

/// A date as era and era year (1 = 元年).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wareki {
    pub era: Era,
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

/// The era date of `date`, or `None` before 1873-01-01.
pub fn to_wareki(date: NaiveDate) -> Option<Wareki> {
    let era = Era::ALL.iter().rev().copied().find(|e| date >= e.first_day())?;
    Some(Wareki { era, year: (date.year() - era.first_year() + 1) as u32, month: date.month(), day: date.day() })
}

/// 「令和元年5月1日」: the era date, with 元年 for the first year. Dates
/// before 1873 fall back to 「1872年12月31日」.
pub fn format_wareki(date: NaiveDate) -> String {
    match to_wareki(date) {
        Some(w) => {
            let year = if w.year == 1 { "元".to_string() } else { w.year.to_string() };
            format!("{}{}年{}月{}日", w.era.name_ja(), year, w.month, w.day)
        }
        None => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    }
}

/// "R1.5.1": the short form used in tables. Dates before 1873 fall back to
/// "1872.12.31".
pub fn format_wareki_short(date: NaiveDate) -> String {
    match to_wareki(date) {
        Some(w) => format!("{}{}.{}.{}", w.era.letter(), w.year, w.month, w.day),
        None => format!("{}.{}.{}", date.year(), date.month(), date.day()),
    }
}

/// Why an era date could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WarekiError {
    #[error("和暦の形式ではありません / not an era date: {0:?}")]
    Format(String),
    #[error("元号が分かりません / unknown era: {0:?}")]
    UnknownEra(String),
    #[error("存在しない日付です / no such date: {0:?}")]
    NoSuchDate(String),
    #[error("{era}{year}年{month}月{day}日はその元号の期間外です / outside the era")]
    OutsideEra { era: &'static str, year: u32, month: u32, day: u32 },
}

/// Reads an era date: 「令和2年4月1日」, 「令和元年5月1日」, "R2.4.1",
/// "r02/04/01", "H31-4-30", 「令2.4.1」, full-width digits too. A date
/// outside its era (「平成31年5月1日」, 「昭和64年1月8日」) is refused rather
/// than silently moved, since it usually means a typo in the era.
pub fn parse_wareki(input: &str) -> Result<NaiveDate, WarekiError> {
    let folded: String = input
        .trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            'Ａ'..='Ｚ' | 'ａ'..='ｚ' | '．' | '／' | '－' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect();
    let format_err = || WarekiError::Format(input.to_string());

    // Era: the leading non-digit run (up to the year).
    let era_end = folded.find(|c: char| c.is_ascii_digit() || c == '元').ok_or_else(format_err)?;
    let (era_text, rest) = folded.split_at(era_end);
    if era_text.is_empty() {
        return Err(format_err());
    }
    let era = Era::from_abbreviation(era_text).ok_or_else(|| WarekiError::UnknownEra(era_text.to_string()))?;

    // Then year, month, day separated by 年月日 or . / -
    let mut numbers = Vec::with_capacity(3);
    let mut current = String::new();
    for c in rest.chars() {
        match c {
            '0'..='9' => current.push(c),
            '元' if numbers.is_empty() && current.is_empty() => current.push('1'),
            '年' | '月' | '日' | '.' | '/' | '-' => {
                if current.is_empty() {
                    return Err(format_err());
                }
                numbers.push(current.parse::<u32>().map_err(|_| format_err())?);
                current.clear();
            }
            _ => return Err(format_err()),
        }
    }
    if !current.is_empty() {
        numbers.push(current.parse::<u32>().map_err(|_| format_err())?);
    }
    let [year, month, day] = numbers[..] else {
        return Err(format_err());
    };
    if year == 0 {
        return Err(WarekiError::NoSuchDate(input.to_string()));
    }
    let gregorian_year = era.first_year() + year as i32 - 1;
    let date = NaiveDate::from_ymd_opt(gregorian_year, month, day).ok_or_else(|| WarekiError::NoSuchDate(input.to_string()))?;
    let inside = date >= era.first_day() && era.last_day().is_none_or(|last| date <= last);
    if !inside {
        return Err(WarekiError::OutsideEra { era: era.name_ja(), year, month, day });
    }
    Ok(date)
}

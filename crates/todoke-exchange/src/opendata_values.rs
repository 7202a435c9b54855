//! Values of the open-data patient list: what is accepted on import and
//! what is written on export.
//!
//! Import accepts the spellings seen in published files; export writes one
//! spelling per value when it derives a cell from a structured value. An
//! imported case also keeps the published spelling of the lossy cells
//! (年代, 性別, 曜日, dates: `Publication::age_text` and the like) and export
//! writes that spelling back while it still reads as the case's value
//! ([`published_or`]), so a file re-exports byte for byte whatever accepted
//! spelling it used.
//!
//! The spellings are listed in the crate documentation (lib.rs).

use chrono::{Datelike, NaiveDate};
use todoke_domain::{AgeBand, Sex};

/// "Not published / not known" written as a dash in many files.
pub(crate) fn is_dash(s: &str) -> bool {
    matches!(s, "-" | "'-" | "－" | "―" | "ー" | "−" | "‐" | "—" | "'―" | "'ー")
}

/// Full-width digits and separators to ASCII; trimmed.
fn ascii_digits(s: &str) -> String {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '／' => '/',
            '－' => '-',
            '：' => ':',
            _ => c,
        })
        .collect()
}

/// A date as published; `Ok(None)` for an empty cell.
pub(crate) fn parse_date(raw: &str) -> Result<Option<NaiveDate>, ()> {
    let s = ascii_digits(raw);
    if s.is_empty() {
        return Ok(None);
    }
    // "2020-01-24T00:00:00", "2020/1/24 0:00": keep the date part.
    let date_part = match s.find(['T', ' ']) {
        Some(i) if s[i + 1..].chars().all(|c| c.is_ascii_digit() || matches!(c, ':' | '.' | 'Z' | '+' | '-')) => &s[..i],
        _ => s.as_str(),
    };
    let parts: Vec<&str> = if let Some(rest) = date_part.strip_suffix('日') {
        rest.split(['年', '月']).collect()
    } else if date_part.contains('-') {
        date_part.split('-').collect()
    } else {
        date_part.split('/').collect()
    };
    let [y, m, d] = parts[..] else { return Err(()) };
    let ok = |p: &str, max_len: usize| !p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit());
    if y.len() != 4 || !ok(y, 4) || !ok(m, 2) || !ok(d, 2) {
        return Err(());
    }
    let (y, m, d) = (y.parse().map_err(|_| ())?, m.parse().map_err(|_| ())?, d.parse().map_err(|_| ())?);
    NaiveDate::from_ymd_opt(y, m, d).map(Some).ok_or(())
}

/// 発症_年月日: a date, or one of the words files use for "no date".
pub(crate) fn parse_onset(raw: &str) -> Result<Option<NaiveDate>, ()> {
    let t = raw.trim();
    if is_dash(t) || matches!(t, "不明" | "調査中" | "非公表" | "無症状" | "症状なし" | "なし") {
        return Ok(None);
    }
    parse_date(raw)
}

pub(crate) fn format_date(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// 曜日 as published, without "曜日"/"曜" and spaces: "金曜日" → "金".
pub(crate) fn weekday_of(raw: &str) -> &str {
    raw.trim().trim_end_matches("曜日").trim_end_matches('曜').trim()
}

/// The cell export writes for an imported value: the text as published
/// when there is one and it still reads (`parse`) as the case's current
/// `value`; otherwise `derive()`, the value in the standard spelling. So a
/// value edited since the import is written as edited, and a case without
/// the published text (entered by staff, or imported before the text was
/// kept) is written in the standard spelling.
pub(crate) fn published_or<T: PartialEq>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, ()>,
    value: T,
    derive: impl FnOnce() -> String,
) -> String {
    if !text.is_empty() && parse(text) == Ok(value) {
        text.to_string()
    } else {
        derive()
    }
}

/// 曜日 of a date, one kanji ("金").
pub(crate) fn weekday_ja(d: NaiveDate) -> &'static str {
    ["月", "火", "水", "木", "金", "土", "日"][d.weekday().num_days_from_monday() as usize]
}

/// 患者_年代. `Ok(None)` for an empty cell.
pub(crate) fn parse_age_band(raw: &str) -> Result<Option<AgeBand>, ()> {
    use AgeBand::*;
    let s = ascii_digits(raw);
    if s.is_empty() {
        return Ok(None);
    }
    if is_dash(&s) || matches!(s.as_str(), "不明" | "非公表" | "調査中") {
        return Ok(Some(Unknown));
    }
    if matches!(s.as_str(), "10歳未満" | "10才未満" | "0歳代" | "0代" | "乳幼児" | "未就学児") {
        return Ok(Some(Under10));
    }
    if matches!(s.as_str(), "90歳以上" | "90才以上" | "90代以上" | "100歳以上" | "100才以上" | "100代" | "100歳代") {
        return Ok(Some(NinetyPlus));
    }
    let decade = s.strip_suffix("歳代").or_else(|| s.strip_suffix("才代")).or_else(|| s.strip_suffix('代')).ok_or(())?;
    Ok(Some(match decade {
        "10" => Teens,
        "20" => Twenties,
        "30" => Thirties,
        "40" => Forties,
        "50" => Fifties,
        "60" => Sixties,
        "70" => Seventies,
        "80" => Eighties,
        "90" => NinetyPlus,
        _ => return Err(()),
    }))
}

/// The 年代 written for a band.
pub(crate) fn format_age_band(band: Option<AgeBand>) -> &'static str {
    use AgeBand::*;
    match band {
        None => "",
        Some(Under10) => "10歳未満",
        Some(Teens) => "10代",
        Some(Twenties) => "20代",
        Some(Thirties) => "30代",
        Some(Forties) => "40代",
        Some(Fifties) => "50代",
        Some(Sixties) => "60代",
        Some(Seventies) => "70代",
        Some(Eighties) => "80代",
        Some(NinetyPlus) => "90歳以上",
        Some(Unknown) => "不明",
    }
}

/// 患者_性別. `Ok(None)` for an empty cell.
pub(crate) fn parse_sex(raw: &str) -> Result<Option<Sex>, ()> {
    let s = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
    match s {
        "" => Ok(None),
        "男性" | "男" => Ok(Some(Sex::Male)),
        "女性" | "女" => Ok(Some(Sex::Female)),
        "不明" | "その他" | "非公表" | "調査中" => Ok(Some(Sex::OtherOrUnknown)),
        _ if is_dash(s) => Ok(Some(Sex::OtherOrUnknown)),
        _ => Err(()),
    }
}

pub(crate) fn format_sex(sex: Option<Sex>) -> &'static str {
    match sex {
        None => "",
        Some(Sex::Male) => "男性",
        Some(Sex::Female) => "女性",
        Some(Sex::OtherOrUnknown) => "不明",
    }
}

/// 退院済フラグ: true when discharged / recovery ended.
pub(crate) fn parse_discharged(raw: &str) -> Result<bool, ()> {
    match raw.trim() {
        "1" | "１" | "○" | "〇" | "済" => Ok(true),
        "" | "0" | "０" | "×" => Ok(false),
        _ => Err(()),
    }
}

/// 全国地方公共団体コード: 6 digits, or 5 when a spreadsheet dropped the
/// leading zero ("10006" for Hokkaido). Returns the 6-digit form.
pub(crate) fn parse_lgcode(raw: &str) -> Result<Option<String>, ()> {
    let s = ascii_digits(raw);
    if s.is_empty() {
        return Ok(None);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    match s.len() {
        6 => Ok(Some(s)),
        5 => Ok(Some(format!("0{s}"))),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2020-01-24"), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date("2020/1/24"), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date(" 2020/01/24 "), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date("２０２０／１／２４"), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date("2020年1月24日"), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date("2020-01-24T08:00:00.000Z"), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date("2020/1/24 0:00"), Ok(d(2020, 1, 24)));
        assert_eq!(parse_date(""), Ok(None));
        for bad in ["2020-02-30", "2020/13/1", "20-1-24", "2020-1", "1/24/2020", "令和2年1月24日", "x", "2020-01-24x", "-", "2020--1-24"]
        {
            assert_eq!(parse_date(bad), Err(()), "{bad}");
        }
        assert_eq!(format_date(d(2020, 1, 4)), "2020-01-04");
        assert_eq!(weekday_ja(d(2020, 1, 24).unwrap()), "金");
    }

    #[test]
    fn age_bands() {
        use AgeBand::*;
        for (raw, band) in [
            ("10歳未満", Under10),
            ("10代", Teens),
            ("３０代", Thirties),
            ("30歳代", Thirties),
            ("80代", Eighties),
            ("90代", NinetyPlus),
            ("100歳以上", NinetyPlus),
            ("不明", Unknown),
            ("'-", Unknown),
            ("―", Unknown),
        ] {
            assert_eq!(parse_age_band(raw), Ok(Some(band)), "{raw}");
        }
        assert_eq!(parse_age_band(""), Ok(None));
        for bad in ["15", "5代", "110代", "高齢者", "20-29"] {
            assert_eq!(parse_age_band(bad), Err(()), "{bad}");
        }
        // Every written value reads back as itself.
        for band in AgeBand::ALL {
            assert_eq!(parse_age_band(format_age_band(Some(*band))), Ok(Some(*band)));
        }
    }

    #[test]
    fn sexes_flags_codes() {
        assert_eq!(parse_sex("男性"), Ok(Some(Sex::Male)));
        assert_eq!(parse_sex("女"), Ok(Some(Sex::Female)));
        assert_eq!(parse_sex("―"), Ok(Some(Sex::OtherOrUnknown)));
        assert_eq!(parse_sex(""), Ok(None));
        assert_eq!(parse_sex("male"), Err(()));
        for sex in Sex::ALL {
            assert_eq!(parse_sex(format_sex(Some(*sex))), Ok(Some(*sex)));
        }
        assert_eq!(parse_discharged("1"), Ok(true));
        assert_eq!(parse_discharged(""), Ok(false));
        assert_eq!(parse_discharged("2"), Err(()));
        assert_eq!(parse_lgcode("130001"), Ok(Some("130001".into())));
        assert_eq!(parse_lgcode("10006"), Ok(Some("010006".into())));
        assert_eq!(parse_lgcode(""), Ok(None));
        assert_eq!(parse_lgcode("13000"), Ok(Some("013000".into())));
        assert_eq!(parse_lgcode("1300011"), Err(()));
        assert_eq!(parse_lgcode("東京"), Err(()));
        assert_eq!(parse_onset("調査中"), Ok(None));
    }

    #[test]
    fn published_spelling_while_it_still_reads_as_the_value() {
        use AgeBand::*;
        let band = |text: &str, value| published_or(text, parse_age_band, value, || format_age_band(value).to_string());
        assert_eq!(band("100歳以上", Some(NinetyPlus)), "100歳以上");
        assert_eq!(band("90代", Some(NinetyPlus)), "90代");
        assert_eq!(band("'-", Some(Unknown)), "'-");
        // Edited since, or nothing kept: the standard spelling.
        assert_eq!(band("100歳以上", Some(Eighties)), "80代");
        assert_eq!(band("'-", None), "");
        assert_eq!(band("", Some(NinetyPlus)), "90歳以上");
        let onset = |text: &str, value| published_or(text, parse_onset, value, || format_date(value));
        assert_eq!(onset("2020/1/21", d(2020, 1, 21)), "2020/1/21");
        assert_eq!(onset("不明", None), "不明");
        assert_eq!(onset("不明", d(2020, 1, 21)), "2020-01-21");
        assert_eq!(onset("2020/1/21", d(2020, 1, 20)), "2020-01-20");
        assert_eq!(weekday_of(" 金曜日"), "金");
        assert_eq!(weekday_of("金曜"), "金");
        assert_eq!(weekday_of("金"), "金");
    }
}

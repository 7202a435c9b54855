//! 和暦: display and reading of Japanese era dates.

use chrono::NaiveDate;
use todoke_domain::wareki::{format_wareki, format_wareki_short, parse_wareki, to_wareki, Era, WarekiError};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

#[test]
fn era_boundaries_are_shown_on_the_right_side() {
    assert_eq!(format_wareki(d(2019, 5, 1)), "令和元年5月1日");
    assert_eq!(format_wareki(d(2019, 4, 30)), "平成31年4月30日");
    assert_eq!(format_wareki(d(1989, 1, 8)), "平成元年1月8日");
    assert_eq!(format_wareki(d(1989, 1, 7)), "昭和64年1月7日");
    assert_eq!(format_wareki(d(1926, 12, 25)), "昭和元年12月25日");
    assert_eq!(format_wareki(d(1926, 12, 24)), "大正15年12月24日");
    assert_eq!(format_wareki(d(1912, 7, 30)), "大正元年7月30日");
    assert_eq!(format_wareki(d(1912, 7, 29)), "明治45年7月29日");
    assert_eq!(format_wareki(d(1873, 1, 1)), "明治6年1月1日");
}

#[test]
fn dates_of_the_pandemic_read_as_staff_write_them() {
    assert_eq!(format_wareki(d(2020, 4, 1)), "令和2年4月1日");
    assert_eq!(format_wareki(d(2022, 9, 26)), "令和4年9月26日");
    assert_eq!(format_wareki_short(d(2020, 4, 1)), "R2.4.1");
    assert_eq!(format_wareki_short(d(1976, 3, 14)), "S51.3.14");
}

#[test]
fn before_the_gregorian_calendar_dates_stay_western() {
    assert_eq!(to_wareki(d(1872, 12, 31)), None);
    assert_eq!(format_wareki(d(1872, 12, 31)), "1872年12月31日");
}

#[test]
fn era_dates_are_read_in_every_usual_form() {
    let april_first = d(2020, 4, 1);
    for text in [
        "R2.4.1",
        "r2.4.1",
        "R02.04.01",
        "R2/4/1",
        "R2-4-1",
        "令和2年4月1日",
        "令2.4.1",
        "令和２年４月１日",
        " 令和 2年 4月 1日 ",
        "Ｒ２．４．１",
    ] {
        assert_eq!(parse_wareki(text), Ok(april_first), "{text}");
    }
    assert_eq!(parse_wareki("令和元年5月1日"), Ok(d(2019, 5, 1)));
    assert_eq!(parse_wareki("H31.4.30"), Ok(d(2019, 4, 30)));
    assert_eq!(parse_wareki("S51.3.14"), Ok(d(1976, 3, 14)));
    assert_eq!(parse_wareki("T15.12.24"), Ok(d(1926, 12, 24)));
    assert_eq!(parse_wareki("明治45年7月29日"), Ok(d(1912, 7, 29)));
}

#[test]
fn a_date_outside_its_era_is_refused_not_moved() {
    assert!(matches!(parse_wareki("平成31年5月1日"), Err(WarekiError::OutsideEra { era: "平成", year: 31, .. })));
    assert!(matches!(parse_wareki("S64.1.8"), Err(WarekiError::OutsideEra { .. })));
    assert!(matches!(parse_wareki("R1.4.30"), Err(WarekiError::OutsideEra { .. })));
}

#[test]
fn nonsense_is_refused_with_the_reason() {
    assert!(matches!(parse_wareki("X2.4.1"), Err(WarekiError::UnknownEra(_))));
    assert!(matches!(parse_wareki("R2.2.30"), Err(WarekiError::NoSuchDate(_))));
    assert!(matches!(parse_wareki("R0.4.1"), Err(WarekiError::NoSuchDate(_))));
    assert!(matches!(parse_wareki("2020-04-01"), Err(WarekiError::Format(_))));
    assert!(matches!(parse_wareki("R2.4"), Err(WarekiError::Format(_))));
    assert!(matches!(parse_wareki(""), Err(WarekiError::Format(_))));
}

#[test]
fn every_date_round_trips_through_the_short_form() {
    let mut day = d(1873, 1, 1);
    while day < d(2030, 1, 1) {
        assert_eq!(parse_wareki(&format_wareki_short(day)), Ok(day), "{day}");
        assert_eq!(parse_wareki(&format_wareki(day)), Ok(day), "{day}");
        day += chrono::Duration::days(1);
    }
}

#[test]
fn eras_know_their_last_days() {
    assert_eq!(Era::Heisei.last_day(), Some(d(2019, 4, 30)));
    assert_eq!(Era::Showa.last_day(), Some(d(1989, 1, 7)));
    assert_eq!(Era::Reiwa.last_day(), None);
}

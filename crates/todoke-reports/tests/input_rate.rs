//! 入力率 with DOMAIN.md §5's example week.

use chrono::{Days, NaiveDate, Weekday};
use todoke_domain::{AgeBand, Sex};
use todoke_reports::input_rate::rate_percent;
use todoke_reports::{input_rate, parse_published, Granularity, HeaderLang, ReportError, ReportRow};
use uuid::Uuid;

fn row(n: u128, on: NaiveDate, prefecture: u8) -> ReportRow {
    ReportRow {
        id: Uuid::from_u128(n),
        positive: true,
        positive_on: Some(on),
        prefecture,
        municipality: 0,
        health_centre: String::new(),
        sex: Some(Sex::Female),
        age_band: AgeBand::Thirties,
        status: None,
        status_updated_on: None,
        severe: false,
        admission_date: None,
        discharge_date: None,
        recovery_ended_on: None,
        death_date: None,
        died: false,
        clusters: Vec::new(),
    }
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn the_domain_example_week() {
    // Wednesday 2021-08-04 to Tuesday 2021-08-10: the ministry's week.
    let start = d("2021-08-04");
    let published = [45, 30, 31, 25, 22, 32, 34];
    let entered = [44, 30, 31, 25, 22, 31, 31];
    let mut csv = String::from("\u{feff}date,area,count\n");
    let mut rows = Vec::new();
    let mut n = 0;
    for (i, (p, e)) in published.iter().zip(entered).enumerate() {
        let day = start + Days::new(i as u64);
        csv.push_str(&format!("{day},13,{p}\n"));
        for _ in 0..e {
            n += 1;
            rows.push(row(n, day, 13));
        }
    }
    // Someone else's prefecture and a non-positive never count.
    rows.push(row(9_001, start, 14));
    rows.push(ReportRow { positive: false, ..row(9_002, start, 13) });

    let counts = parse_published(&csv).unwrap();
    assert_eq!(counts.len(), 7);

    let daily = input_rate(&rows, &counts, Granularity::Day, Weekday::Wed);
    insta::assert_snapshot!(daily.to_csv(HeaderLang::Key), @r"
    date,area,published,entered,difference,rate
    2021-08-04,13,45,44,-1,98
    2021-08-05,13,30,30,0,100
    2021-08-06,13,31,31,0,100
    2021-08-07,13,25,25,0,100
    2021-08-08,13,22,22,0,100
    2021-08-09,13,32,31,-1,97
    2021-08-10,13,34,31,-3,91
    ");

    let weekly = input_rate(&rows, &counts, Granularity::Week, Weekday::Wed);
    insta::assert_snapshot!(weekly.to_csv(HeaderLang::Key), @r"
    week_start,week_end,area,published,entered,difference,rate
    2021-08-04,2021-08-10,13,219,214,-5,98
    ");
}

#[test]
fn rates_are_whole_percentages_rounded_half_up() {
    assert_eq!(rate_percent(44, 45), Some(98)); // 97.78
    assert_eq!(rate_percent(31, 32), Some(97)); // 96.875
    assert_eq!(rate_percent(1, 8), Some(13)); // 12.5 → 13
    assert_eq!(rate_percent(3, 0), None);
    assert_eq!(rate_percent(0, 5), Some(0));
}

#[test]
fn published_counts_that_do_not_read_name_the_line() {
    let err = parse_published("date,area,count\n2021-08-04,13,45\n2021-08-05,13,many\n").unwrap_err();
    assert!(matches!(err, ReportError::PublishedLine { line: 3, .. }), "{err:?}");
    let err = parse_published("2021-13-01,13,4\n").unwrap_err();
    assert!(matches!(err, ReportError::PublishedLine { line: 1, .. }), "{err:?}");
    let err = parse_published("2021-08-01,13\n").unwrap_err();
    assert!(matches!(err, ReportError::PublishedLine { line: 1, .. }), "{err:?}");
    // Slashes and a header in Japanese are fine.
    let ok = parse_published("日付,地域,人数\n2021/8/4,東京都,3\n").unwrap();
    assert_eq!(ok[0].date, d("2021-08-04"));
    assert_eq!(ok[0].area, "東京都");
}

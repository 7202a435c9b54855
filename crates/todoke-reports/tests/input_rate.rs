//! 入力率 with DOMAIN.md §5's example week.

use chrono::{Days, NaiveDate, Weekday};
use todoke_domain::{AgeBand, Sex};
use todoke_reports::input_rate::rate_percent;
use todoke_reports::{
    input_rate, input_rate_report, lag_reasons, parse_published, read_published, Granularity, HeaderLang, InputRateOptions, LagReason,
    ReportError, ReportRow,
};
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

#[test]
fn every_bad_row_is_listed_with_its_line_and_the_good_rows_are_kept() {
    let text = "\u{feff}date,area,count\r\n2021-08-04,13,45\r\n2021-08-05,13,many\r\n\r\n2021-02-30,14,3\r\n2021-08-05,,3\r\n2021-08-06,13\r\n2021/8/6,東京都新宿区,7\r\n";
    let (counts, errors) = read_published(text);
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[1].area, "東京都新宿区");
    let got: Vec<(u64, Option<&str>, &str)> = errors.iter().map(|e| (e.line, e.column.as_deref(), e.value.as_str())).collect();
    assert_eq!(got, vec![(3, Some("count"), "many"), (5, Some("date"), "2021-02-30"), (6, Some("area"), ""), (7, None, "2021-08-06,13")]);
    assert!(errors.iter().all(|e| !e.message_ja.is_empty() && !e.message_en.is_empty()));
}

#[test]
fn the_app_report_puts_lagging_areas_first_per_day_and_per_ministry_week() {
    // Two prefectures over 2021-08-04 (Wed) .. 2021-08-11 (Wed): Kanagawa (14) lags.
    let mut csv = String::from("date,area,count\n");
    let mut rows = Vec::new();
    let mut n = 0;
    for i in 0..8u64 {
        let day = d("2021-08-04") + Days::new(i);
        csv.push_str(&format!("{day},東京都,10\n{day},14,10\n"));
        for (pref, entered) in [(13, 10), (14, if i < 4 { 10 } else { 5 })] {
            for _ in 0..entered {
                n += 1;
                rows.push(row(n, day, pref));
            }
        }
    }
    let (counts, errors) = read_published(&csv);
    assert!(errors.is_empty());
    let opts = InputRateOptions { by: Granularity::Day, week_start: Weekday::Wed, from: None, to: None };
    let report = input_rate_report(&rows, &counts, opts).unwrap();
    assert_eq!((report.from, report.to), (d("2021-08-04"), d("2021-08-11")));
    insta::assert_snapshot!(report.areas.to_csv(HeaderLang::Ja), @r"
    地域コード,地域,公表数,入力数,差,入力率（%）
    14,神奈川県,80,60,-20,75
    13,東京都,80,80,0,100
    ");
    assert_eq!(report.periods.rows.len(), 16);
    assert_eq!(report.periods.rows[0][0].csv(HeaderLang::Key), "14", "the lagging area first");
    assert_eq!(
        report.periods.rows[7].iter().map(|c| c.csv(HeaderLang::En)).collect::<Vec<_>>(),
        ["14", "Kanagawa", "2021-08-11", "10", "5", "-5", "50"]
    );

    // Weekly: Wednesday to Tuesday, the range widened to whole weeks.
    let weekly = input_rate_report(&rows, &counts, InputRateOptions { by: Granularity::Week, ..opts }).unwrap();
    assert_eq!((weekly.from, weekly.to), (d("2021-08-04"), d("2021-08-17")));
    insta::assert_snapshot!(weekly.periods.to_csv(HeaderLang::Key), @r"
    area,area_name,week_start,week_end,published,entered,difference,rate
    14,神奈川県,2021-08-04,2021-08-10,70,55,-15,79
    14,神奈川県,2021-08-11,2021-08-17,10,5,-5,50
    13,東京都,2021-08-04,2021-08-10,70,70,0,100
    13,東京都,2021-08-11,2021-08-17,10,10,0,100
    ");

    // Only days with a published count are compared: a file of Thursday to Saturday compares
    // those days of the week, not the cases of the whole week.
    let partial: Vec<_> = counts.iter().filter(|c| (d("2021-08-05")..=d("2021-08-07")).contains(&c.date)).cloned().collect();
    let week = input_rate_report(&rows, &partial, InputRateOptions { by: Granularity::Week, ..opts }).unwrap();
    assert_eq!((week.from, week.to), (d("2021-08-04"), d("2021-08-10")));
    assert_eq!(week.areas.rows[0].iter().map(|c| c.csv(HeaderLang::Key)).collect::<Vec<_>>(), ["13", "東京都", "30", "30", "0", "100"]);

    // A range given: only its days.
    let one =
        input_rate_report(&rows, &counts, InputRateOptions { from: Some(d("2021-08-10")), to: Some(d("2021-08-10")), ..opts }).unwrap();
    assert_eq!(one.areas.rows[0].iter().map(|c| c.csv(HeaderLang::Key)).collect::<Vec<_>>(), ["14", "神奈川県", "10", "5", "-5", "50"]);
    // Nothing published in the range: no report.
    assert!(input_rate_report(&rows, &counts, InputRateOptions { from: Some(d("2022-01-01")), ..opts }).is_none());
}

#[test]
fn lag_reasons_name_late_entry_drafts_and_missing_residence() {
    let mut late = todoke_synth::sample_case(1);
    let diagnosed = late.notification.diagnosis_date.unwrap();
    late.notification.report_date = Some(diagnosed + Days::new(4));
    late.notification.received_on = Some(diagnosed + Days::new(4));
    let got = lag_reasons(&late);
    assert_eq!(got.iter().map(|i| i.reason).collect::<Vec<_>>(), [LagReason::LateEntry]);
    assert!(got[0].reason_ja.contains("4日遅れ"), "{}", got[0].reason_ja);

    let mut on_time = late.clone();
    on_time.notification.report_date = Some(diagnosed + Days::new(1));
    assert!(lag_reasons(&on_time).is_empty());

    let mut draft = late.clone();
    draft.notification.report_date = None;
    draft.basic.residence = Default::default();
    draft.basic.registered_address = Default::default();
    let got: Vec<LagReason> = lag_reasons(&draft).iter().map(|i| i.reason).collect();
    assert_eq!(got, [LagReason::NotReported, LagReason::NoResidence]);
}

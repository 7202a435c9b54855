//! 入力率 on a real encrypted desk: published counts imported from a file
//! (Shift_JIS, bad rows listed by line, good rows kept), kept across a
//! restart with the file and time of each import, the rate per day and per
//! week with lagging areas first, the reasons per case, and CSV export.

mod common;

use chrono::{Days, NaiveDate, TimeZone, Utc};
use todoke_desk::{DeskService, ExportEncoding, FixedClock, ReportRequest, ReportView};
use todoke_domain::Case;
use todoke_store::MemoryKeys;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A positive case diagnosed on `day`, living in `prefecture` ("" = no residence), reported `late` days later.
fn case(n: u64, on: NaiveDate, prefecture: &str, late: u64) -> Case {
    let mut c = todoke_synth::sample_case(1_000 + n);
    c.notification.diagnosis_date = Some(on);
    c.notification.first_visit_date = Some(on);
    c.notification.onset_date = None;
    c.notification.report_date = Some(on + Days::new(late));
    c.notification.submitted_on = Some(on + Days::new(late));
    c.notification.received_on = Some(on + Days::new(late));
    c.basic.residence.prefecture_code = prefecture.into();
    c.basic.residence.municipality_code = String::new();
    if prefecture.is_empty() {
        c.basic.residence = Default::default();
        c.basic.registered_address = Default::default();
    }
    c
}

fn cells(view: &ReportView, row: usize) -> Vec<String> {
    view.rows[row].iter().map(|c| c.ja.clone()).collect()
}

fn column(view: &ReportView, key: &str) -> usize {
    view.columns.iter().position(|c| c.key == key).unwrap()
}

#[test]
fn published_counts_imported_kept_and_compared_with_the_entered_cases() {
    let (tmp, mut d) = common::desk();
    let actor = d.actor().clone();
    // Tokyo: 3 cases a day on 2022-08-03 .. 2022-08-05, on time. Kanagawa: 2 on 08-03, one
    // of them entered 4 days late and unconfirmed; none on 08-04.
    let mut n = 0;
    let mut entered = std::collections::BTreeMap::new();
    for on in ["2022-08-03", "2022-08-04", "2022-08-05"] {
        for _ in 0..3 {
            n += 1;
            d.store_mut().create_case(&case(n, self::day(on), "13", 0), &actor).unwrap();
            *entered.entry(("13", on)).or_insert(0) += 1;
        }
    }
    d.store_mut().create_case(&case(100, day("2022-08-03"), "14", 0), &actor).unwrap();
    let mut late = case(101, day("2022-08-03"), "14", 4);
    late.notification.health_centre_confirmation = None;
    let late_id = late.id;
    d.store_mut().create_case(&late, &actor).unwrap();
    let nowhere = case(102, day("2022-08-04"), "", 0);
    let nowhere_id = nowhere.id;
    d.store_mut().create_case(&nowhere, &actor).unwrap();

    // The municipalities' file in Shift_JIS, with three bad rows.
    let csv = "日付,地域,人数\r\n2022-08-03,東京都,3\r\n2022-08-04,東京都,4\r\n2022-08-05,13,3\r\n2022-08-03,神奈川県,4\r\n2022-08-04,14,2\r\n2022-08-04,神奈川県,たくさん\r\n2022-08-32,13,1\r\n2022-08-05,14\r\n";
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(csv);
    assert!(!unmappable);
    let file = tmp.path().join("14_13_公表数.csv");
    std::fs::write(&file, &sjis).unwrap();
    let summary = d.import_published(&file).unwrap();
    assert_eq!((summary.rows_read, summary.accepted), (8, 5));
    let lines: Vec<(u64, Option<&str>, &str)> = summary.errors.iter().map(|e| (e.line, e.column.as_deref(), e.value.as_str())).collect();
    assert_eq!(lines, [(7, Some("count"), "たくさん"), (8, Some("date"), "2022-08-32"), (9, None, "2022-08-05,14")]);
    assert!(summary.errors.iter().all(|e| e.message_ja.contains('「') || e.message_ja.contains("列")), "{:?}", summary.errors);
    let import = summary.import.unwrap();
    assert_eq!(import.file_name, "14_13_公表数.csv");
    assert_eq!(import.imported_at, "2022-08-10T01:00:00Z");
    assert_eq!((import.accepted, import.refused, import.in_force), (5, 3, 5));
    assert_eq!((import.first_date, import.last_date), (Some(day("2022-08-03")), Some(day("2022-08-05"))));

    // A file with no good row stores nothing and says why.
    let empty = tmp.path().join("bad.csv");
    std::fs::write(&empty, "date,area,count\n2022-08-03,13,-1\n").unwrap();
    let refused = d.import_published(&empty).unwrap();
    assert!(refused.import.is_none() && refused.errors.len() == 1 && refused.accepted == 0);

    // Kept across a restart.
    let dir = d.dir().to_path_buf();
    drop(d);
    let mut d = DeskService::open(&dir, &MemoryKeys::fixed([7; 32]), actor.clone()).unwrap();
    d.set_clock(Box::new(FixedClock(Utc.with_ymd_and_hms(2022, 8, 12, 2, 0, 0).unwrap())));

    let view = d.input_rate_view(&ReportRequest::default()).unwrap();
    assert_eq!((view.from, view.to), (Some(day("2022-08-03")), Some(day("2022-08-05"))));
    assert_eq!(view.imports.len(), 1);
    let areas = view.areas.unwrap();
    // Kanagawa: published 4 + 2 = 6, entered 2 → 33 %, first; Tokyo 10 vs 9 → 90 %.
    assert_eq!(cells(&areas, 0), ["14", "神奈川県", "6", "2", "-4", "33"]);
    let tokyo_entered: i64 = entered.values().sum();
    assert_eq!(cells(&areas, 1), ["13", "東京都", "10", &tokyo_entered.to_string(), "-1", "90"]);
    assert_eq!(areas.rows[1][1].en, "Tokyo");
    let periods = view.periods.unwrap();
    assert_eq!(periods.rows.len(), 6);
    assert_eq!(cells(&periods, 0), ["14", "神奈川県", "2022-08-03", "4", "2", "-2", "50"]);
    assert_eq!(cells(&periods, 4), ["13", "東京都", "2022-08-04", "4", "3", "-1", "75"]);
    assert_eq!(periods.rows[0][column(&periods, "rate")].value, Some(50.0));

    // Per week: the ministry's week, Wednesday 2022-08-03 to Tuesday 2022-08-09.
    let weekly = d.input_rate_view(&ReportRequest { by: Some("week".into()), ..Default::default() }).unwrap();
    assert_eq!((weekly.from, weekly.to), (Some(day("2022-08-03")), Some(day("2022-08-09"))));
    assert_eq!(cells(weekly.periods.as_ref().unwrap(), 0), ["14", "神奈川県", "2022-08-03", "2022-08-09", "6", "2", "-4", "33"]);

    // A later file corrects one day: that count is replaced, the others stay.
    let fix = tmp.path().join("fix.csv");
    std::fs::write(&fix, "\u{feff}2022-08-04,神奈川県,1\n").unwrap();
    d.import_published(&fix).unwrap();
    let imports = d.published_imports().unwrap();
    assert_eq!(imports.iter().map(|i| (i.file_name.as_str(), i.in_force)).collect::<Vec<_>>(), [("fix.csv", 1), ("14_13_公表数.csv", 4)]);
    let areas = d.input_rate_view(&ReportRequest::default()).unwrap().areas.unwrap();
    assert_eq!(cells(&areas, 0), ["14", "神奈川県", "5", "2", "-3", "40"]);

    // Why Kanagawa lags: the case entered late (and unconfirmed), and the case with no residence.
    let why = d.input_rate_reasons("14", day("2022-08-03"), day("2022-08-05")).unwrap();
    let case_col = column(&why, "case_id");
    let list = column(&why, "list");
    let found: Vec<(String, String)> =
        why.rows.iter().map(|r| (r[list].code.clone().unwrap(), r[case_col].code.clone().unwrap())).collect();
    assert!(found.contains(&("late_entry".into(), late_id.to_string())), "{found:?}");
    assert!(found.contains(&("unconfirmed".into(), late_id.to_string())), "{found:?}");
    assert!(found.contains(&("no_residence".into(), nowhere_id.to_string())), "{found:?}");
    assert!(
        found.iter().all(|(_, id)| *id == late_id.to_string() || *id == nowhere_id.to_string()),
        "only the cases behind the lag: {found:?}"
    );
    let late_row = why.rows.iter().find(|r| r[list].code.as_deref() == Some("late_entry")).unwrap();
    assert!(late_row[column(&why, "reason_ja")].ja.contains("4日遅れ"));

    // CSV export of the per-day table, Shift_JIS, lagging area first.
    let out = tmp.path().join("input-rate.csv");
    let request = ReportRequest { indicator: Some("input-rate".into()), ..Default::default() };
    d.export_report(&out, &request, ExportEncoding::ShiftJis, false).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let (text, _, bad) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!bad);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("地域コード,地域,日付,公表数,入力数,差,入力率（%）"));
    assert_eq!(lines.next(), Some("14,神奈川県,2022-08-03,4,2,-2,50"));
    drop(tmp);
}

#[test]
fn without_published_counts_the_view_is_empty_and_export_says_what_to_do() {
    let (tmp, d) = common::desk();
    let view = d.input_rate_view(&ReportRequest::default()).unwrap();
    assert!(view.areas.is_none() && view.periods.is_none() && view.imports.is_empty() && view.from.is_none());
    let request = ReportRequest { indicator: Some("input-rate".into()), ..Default::default() };
    let err = d.export_report(&tmp.path().join("x.csv"), &request, ExportEncoding::Utf8Bom, false).unwrap_err();
    assert!(err.message_ja.contains("取り込んで"), "{}", err.message_ja);
    assert!(!tmp.path().join("x.csv").exists());
}

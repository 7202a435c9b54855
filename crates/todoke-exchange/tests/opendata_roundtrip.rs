//! Import of real-layout open-data files, and export back to the same bytes.

mod common;

use chrono::NaiveDate;
use common::*;
use todoke_domain::{AgeBand, CurrentStatus, DiagnosisClass, Origin, Sex};
use todoke_exchange::{write_opendata_layout, DetectedEncoding, Encoding, OpenDataLayout};

fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, day)
}

fn export(cases: Vec<todoke_domain::Case>, encoding: Encoding, layout: OpenDataLayout) -> Vec<u8> {
    let mut out = vec![];
    let report = write_opendata_layout(&mut out, encoding, layout, cases).unwrap();
    assert!(report.unmappable.is_empty());
    out
}

#[test]
fn tokyo_file_imports_every_row() {
    let (cases, report) = import(&fixture("tokyo_patients_30.csv"));
    assert_eq!(report.encoding, DetectedEncoding::Utf8Bom);
    assert_eq!((report.rows_read, report.imported, report.rejected), (30, 30, 0));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.layout, OpenDataLayout::Base16);
    assert!(report.standard_order);

    let first = &cases[0];
    assert_eq!(first.origin, Some(Origin::OpenDataImport));
    assert_eq!(first.id.get_version_num(), 7);
    assert!(first.basic.name.is_empty());
    assert_eq!(first.basic.sex, Some(Sex::Male));
    assert_eq!(first.basic.reported_age_band, Some(AgeBand::Forties));
    assert_eq!(first.notification.diagnosis_class, Some(DiagnosisClass::Confirmed));
    // No 確定_年月日 column: report and diagnosis dates are the publication date.
    assert_eq!(first.notification.report_date, d(2020, 1, 24));
    assert_eq!(first.notification.diagnosis_date, d(2020, 1, 24));
    assert_eq!(first.measures.current_status, Some(CurrentStatus::RecoveryEnded));
    assert_eq!(first.basic.residence.text, "湖北省武漢市");
    assert_eq!(first.basic.residence.prefecture_code, "");
    let p = first.publication.as_ref().unwrap();
    assert_eq!((p.number.as_str(), p.publisher_code.as_str(), p.prefecture_name.as_str()), ("1", "130001", "東京都"));
    assert_eq!(p.published_on, d(2020, 1, 24));
    assert_eq!(p.discharged_flag, "1");

    // Row 7: 世田谷区, onset before publication.
    let setagaya = &cases[6];
    assert_eq!(setagaya.basic.residence.prefecture_code, "13");
    assert_eq!(setagaya.basic.residence.municipality_code, "131121");
    assert_eq!(setagaya.notification.onset_date, d(2020, 2, 10));
    // 都内: the prefecture only.
    assert_eq!((cases[3].basic.residence.prefecture_code.as_str(), cases[3].basic.residence.municipality_code.as_str()), ("13", ""));
    // 神奈川県.
    assert_eq!(cases[19].basic.residence.prefecture_code, "14");
    // 不明 age and sex; 'ー' kept as published.
    assert_eq!(cases[10].basic.reported_age_band, Some(AgeBand::Unknown));
    assert_eq!(cases[10].basic.sex, Some(Sex::OtherOrUnknown));
    assert_eq!(cases[10].publication.as_ref().unwrap().attribute, "ー");
    // 患者_状態 死亡 wins over the discharged flag.
    assert_eq!(cases[20].measures.current_status, Some(CurrentStatus::Died));
    // Not discharged: no status.
    assert_eq!(cases[22].measures.current_status, None);
    // Quoted values with a comma and with quotes.
    assert_eq!(cases[12].publication.as_ref().unwrap().remarks, "\"濃厚接触者\"として調査中");
    assert_eq!(cases[14].publication.as_ref().unwrap().remarks, "院内感染の可能性, 調査中");
}

#[test]
fn tokyo_file_round_trips_byte_for_byte() {
    let original = fixture("tokyo_patients_30.csv");
    let (cases, report) = import(&original);
    let exported = export(cases, Encoding::Utf8Bom, report.layout);
    assert_eq!(String::from_utf8_lossy(&exported), String::from_utf8_lossy(&original));
    assert_eq!(exported, original);
}

#[test]
fn shift_jis_file_imports_the_same_cases_and_round_trips() {
    let sjis = fixture("tokyo_patients_30_sjis.csv");
    let (from_sjis, report) = import(&sjis);
    assert_eq!(report.encoding, DetectedEncoding::ShiftJis);
    assert_eq!((report.imported, report.rejected), (30, 0));
    let (from_utf8, _) = import(&fixture("tokyo_patients_30.csv"));
    assert_eq!(without_ids(&from_sjis), without_ids(&from_utf8));
    assert_eq!(export(from_sjis, Encoding::ShiftJis, report.layout), sjis);
}

#[test]
fn utf8_without_bom_is_detected() {
    let with_bom = fixture("tokyo_patients_30.csv");
    let (cases, report) = import(&with_bom[3..]);
    assert_eq!(report.encoding, DetectedEncoding::Utf8);
    let (expected, _) = import(&with_bom);
    assert_eq!(without_ids(&cases), without_ids(&expected));
}

#[test]
fn nineteen_column_file_round_trips() {
    let original = fixture("tokyo_patients_19col.csv");
    let (cases, report) = import(&original);
    assert_eq!((report.imported, report.rejected), (5, 0), "{:?}", report.errors);
    assert_eq!(report.layout, OpenDataLayout::Extended19);
    assert!(report.standard_order);
    // 確定_年月日 gives the report and diagnosis dates; 公表 stays in the publication.
    let c = &cases[0];
    assert_eq!(c.notification.report_date, d(2021, 1, 3));
    assert_eq!(c.notification.diagnosis_date, d(2021, 1, 3));
    assert_eq!(c.publication.as_ref().unwrap().published_on, d(2021, 1, 4));
    assert_eq!(c.publication.as_ref().unwrap().occupation, "会社員");
    assert_eq!(c.publication.as_ref().unwrap().contact_flag, "1");
    assert_eq!(export(cases.clone(), Encoding::Utf8Bom, report.layout), original);
    // The 16-column layout drops the three later columns.
    let base = String::from_utf8(export(cases, Encoding::Utf8Bom, OpenDataLayout::Base16)).unwrap();
    assert!(base.lines().all(|l| l.split(',').count() == 16), "{base}");
}

#[test]
fn variant_spellings_order_and_extra_columns() {
    let (cases, report) = import(&fixture("variants.csv"));
    assert_eq!(report.encoding, DetectedEncoding::Utf8);
    assert_eq!((report.imported, report.rejected), (5, 0), "{:?}", report.errors);
    assert!(!report.standard_order);
    // One warning for the unknown column, one for the wrong weekday.
    let unknown: Vec<_> = report.warnings.iter().filter(|w| w.message_en.contains("Unknown column")).collect();
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].message_ja.contains("患者_再陽性フラグ"));
    let weekday: Vec<_> = report.warnings.iter().filter(|w| w.column.as_deref() == Some("曜日")).collect();
    assert_eq!(weekday.len(), 1);
    assert_eq!(weekday[0].line, Some(5));
    assert_eq!(report.warnings_total, 2);

    assert_eq!(cases[0].basic.reported_age_band, None);
    assert_eq!(cases[0].notification.report_date, d(2020, 3, 28));
    // A ward of the publishing city.
    assert_eq!(cases[0].basic.residence.municipality_code, "221368");
    assert_eq!(cases[1].basic.reported_age_band, Some(AgeBand::Thirties));
    assert_eq!(cases[1].notification.onset_date, d(2020, 3, 24));
    assert_eq!(cases[1].basic.residence.municipality_code, "221317");
    assert_eq!(cases[2].basic.reported_age_band, Some(AgeBand::NinetyPlus));
    assert_eq!(cases[2].basic.sex, Some(Sex::Female));
    assert_eq!(cases[2].notification.onset_date, None);
    assert_eq!(cases[2].basic.residence.municipality_code, "221309");
    assert_eq!(cases[2].measures.current_status, Some(CurrentStatus::RecoveryEnded));
    assert_eq!(cases[3].basic.reported_age_band, Some(AgeBand::NinetyPlus));
    assert_eq!(cases[3].basic.sex, Some(Sex::OtherOrUnknown));
    assert_eq!(cases[4].notification.report_date, d(2020, 4, 5));
    assert_eq!(cases[4].basic.reported_age_band, Some(AgeBand::Unknown));
    assert_eq!(cases[4].measures.current_status, Some(CurrentStatus::Died));

    // Exported in the standard order and spellings.
    let mut out = vec![];
    write_opendata_layout(&mut out, Encoding::Utf8Bom, report.layout, cases).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    // 患者_職業 makes it the 19-column layout.
    assert_eq!(report.layout, OpenDataLayout::Extended19);
    assert_eq!(lines[0].trim_start_matches('\u{feff}'), OpenDataLayout::Extended19.header().join(","));
    assert_eq!(lines[1], "1,221309,静岡県,浜松市,2020-03-28,土,,浜北区,,男性,,軽症,,0,,1,,自営業,");
    assert_eq!(lines[3], "3,221309,静岡県,浜松市,2020-04-03,金,,市内,90歳以上,女性,,,,0,,○,,無職,");
    assert_eq!(lines[4], "4,221309,静岡県,浜松市,2020-04-04,土,,都外,90歳以上,不明,,,,0,,,,,");
    assert_eq!(lines[5], "5,221309,静岡県,浜松市,2020-04-05,日,,湖北省武漢市,不明,不明,,死亡,,1,,,,,");
}

#[test]
fn progress_is_reported() {
    let mut calls = vec![];
    let report = todoke_exchange::read_opendata(
        &fixture("tokyo_patients_30.csv")[..],
        today(),
        |_| Ok::<(), std::io::Error>(()),
        |p| calls.push(*p),
    )
    .unwrap();
    let last = calls.last().unwrap();
    assert_eq!((last.rows_read, last.imported), (30, 30));
    assert_eq!(last.bytes_read, fixture("tokyo_patients_30.csv").len() as u64);
    assert_eq!(report.imported, 30);
}

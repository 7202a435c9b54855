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

    // Exported in the standard order, in the spellings read: 2020/3/28,
    // 100歳以上, 90代, 女, ―, '-, 不明 (onset), full-width digits. The 曜日 that
    // did not match (月 for Saturday 2020-04-04) is written from the date.
    let mut out = vec![];
    write_opendata_layout(&mut out, Encoding::Utf8Bom, report.layout, cases).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    // 患者_職業 makes it the 19-column layout.
    assert_eq!(report.layout, OpenDataLayout::Extended19);
    assert_eq!(lines[0].trim_start_matches('\u{feff}'), OpenDataLayout::Extended19.header().join(","));
    assert_eq!(lines[1], "1,221309,静岡県,浜松市,2020/3/28,土,,浜北区,,男性,,軽症,,0,,1,,自営業,");
    assert_eq!(lines[2], "2,221309,静岡県,浜松市,2020/4/1,水,2020/3/24,中区,30歳代,男性,,軽症,,0,,1,,会社員,");
    assert_eq!(lines[3], "3,221309,静岡県,浜松市,2020/4/3,金,不明,市内,100歳以上,女,,,,0,,○,,無職,");
    assert_eq!(lines[4], "4,221309,静岡県,浜松市,2020/4/4,土,,都外,90代,―,,,,0,,,,,");
    assert_eq!(lines[5], "5,221309,静岡県,浜松市,２０２０／４／５,日,,湖北省武漢市,'-,'-,,死亡,,1,,,,,");
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

fn lines_of_export(cases: Vec<todoke_domain::Case>, layout: OpenDataLayout) -> Vec<String> {
    let text = String::from_utf8(export(cases, Encoding::Utf8Bom, layout)).unwrap();
    text.split("\r\n").map(str::to_string).collect()
}

/// Tokyo's own spellings: 90代 and 100歳以上 (both `NinetyPlus`), 不明 and
/// the Excel-protected dash '- (both unknown), ― for an unpublished sex.
#[test]
fn tokyo_spellings_round_trip_byte_for_byte() {
    let original = fixture("tokyo_spellings.csv");
    let (cases, report) = import(&original);
    assert_eq!(report.encoding, DetectedEncoding::Utf8Bom);
    assert_eq!((report.imported, report.rejected), (13, 0), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.layout, OpenDataLayout::Base16);
    assert!(report.standard_order);

    // The structured values cannot tell the spellings apart; the publication keeps them.
    let p = |i: usize| cases[i].publication.as_ref().unwrap();
    assert_eq!(cases[2].basic.reported_age_band, Some(AgeBand::NinetyPlus));
    assert_eq!(p(2).age_text, "90代");
    assert_eq!(cases[3].basic.reported_age_band, Some(AgeBand::NinetyPlus));
    assert_eq!(p(3).age_text, "100歳以上");
    assert_eq!((cases[5].basic.reported_age_band, cases[5].basic.sex), (Some(AgeBand::Unknown), Some(Sex::OtherOrUnknown)));
    assert_eq!((p(5).age_text.as_str(), p(5).sex_text.as_str()), ("'-", "'-"));
    assert_eq!((cases[6].basic.reported_age_band, cases[6].basic.sex), (Some(AgeBand::Unknown), Some(Sex::OtherOrUnknown)));
    assert_eq!((p(6).age_text.as_str(), p(6).sex_text.as_str()), ("不明", "不明"));
    assert_eq!(cases[7].basic.sex, Some(Sex::OtherOrUnknown));
    assert_eq!(p(7).sex_text, "―");
    assert_eq!((p(0).weekday.as_str(), p(0).age_text.as_str(), p(0).sex_text.as_str()), ("金", "40代", "男性"));
    // ISO dates need no kept spelling.
    assert_eq!(p(2).published_on, d(2020, 4, 1));
    assert_eq!((p(2).published_on_text.as_str(), p(2).onset_text.as_str()), ("", ""));
    assert_eq!(cases[2].notification.onset_date, d(2020, 3, 27));

    let exported = export(cases, Encoding::Utf8Bom, report.layout);
    assert_eq!(String::from_utf8_lossy(&exported), String::from_utf8_lossy(&original));
    assert_eq!(exported, original);
}

#[test]
fn tokyo_spellings_round_trip_in_shift_jis() {
    let sjis = fixture("tokyo_spellings_sjis.csv");
    let (from_sjis, report) = import(&sjis);
    assert_eq!(report.encoding, DetectedEncoding::ShiftJis);
    assert_eq!((report.imported, report.rejected), (13, 0), "{:?}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let (from_utf8, _) = import(&fixture("tokyo_spellings.csv"));
    assert_eq!(without_ids(&from_sjis), without_ids(&from_utf8));
    assert_eq!(from_sjis[7].publication.as_ref().unwrap().sex_text, "―");
    assert_eq!(export(from_sjis, Encoding::ShiftJis, report.layout), sjis);
}

/// A publisher whose spreadsheet wrote dates as 2020/1/24 and weekdays as
/// 金曜日, with words for an unknown onset (不明, 調査中, '-).
#[test]
fn slash_dates_round_trip_in_both_encodings() {
    let (from_utf8, _) = import(&fixture("slash_dates_19col.csv"));
    for (name, encoding, detected) in [
        ("slash_dates_19col.csv", Encoding::Utf8Bom, DetectedEncoding::Utf8Bom),
        ("slash_dates_19col_sjis.csv", Encoding::ShiftJis, DetectedEncoding::ShiftJis),
    ] {
        let original = fixture(name);
        let (cases, report) = import(&original);
        assert_eq!(report.encoding, detected, "{name}");
        assert_eq!((report.imported, report.rejected), (6, 0), "{name}: {:?}", report.errors);
        assert!(report.warnings.is_empty(), "{name}: {:?}", report.warnings);
        assert_eq!(report.layout, OpenDataLayout::Extended19);
        assert!(report.standard_order);
        assert_eq!(without_ids(&cases), without_ids(&from_utf8), "{name}");

        let (c, p) = (&cases[0], cases[0].publication.as_ref().unwrap());
        assert_eq!((p.published_on, p.published_on_text.as_str()), (d(2020, 2, 14), "2020/2/14"));
        assert_eq!((c.notification.onset_date, p.onset_text.as_str()), (d(2020, 2, 5), "2020/2/5"));
        assert_eq!((p.confirmed_on, p.confirmed_on_text.as_str()), (d(2020, 2, 13), "2020/2/13"));
        assert_eq!(c.notification.report_date, d(2020, 2, 13));
        assert_eq!(p.weekday, "金曜日");
        let onset_words: Vec<_> =
            cases[1..4].iter().map(|c| (c.notification.onset_date, c.publication.as_ref().unwrap().onset_text.as_str())).collect();
        assert_eq!(onset_words, [(None, "不明"), (None, "調査中"), (None, "'-")]);
        assert_eq!(cases[2].basic.sex, Some(Sex::Male));
        assert_eq!(cases[2].publication.as_ref().unwrap().sex_text, "男");
        // No 確定_年月日: nothing kept.
        assert_eq!(
            (cases[4].publication.as_ref().unwrap().confirmed_on, cases[4].publication.as_ref().unwrap().confirmed_on_text.as_str()),
            (None, "")
        );

        let exported = export(cases, encoding, report.layout);
        assert_eq!(exported, original, "{name}");
    }
}

/// The published spelling is written only while it still says what the case
/// says; an edited value is written in the standard spelling, and so is a
/// case that has no spelling kept (imported before it was kept).
#[test]
fn edited_values_are_written_in_the_standard_spelling() {
    let original = fixture("slash_dates_19col.csv");
    let original_lines: Vec<String> = String::from_utf8(original.clone()).unwrap().split("\r\n").map(str::to_string).collect();
    let (mut cases, report) = import(&original);
    // Row 2 (90代, onset 不明): the band corrected, an onset date found.
    cases[1].basic.reported_age_band = Some(AgeBand::Eighties);
    cases[1].notification.onset_date = d(2020, 3, 1);
    // Row 3 (100歳以上, 男): edited to the same values — still as published.
    cases[2].basic.reported_age_band = Some(AgeBand::NinetyPlus);
    cases[2].basic.sex = Some(Sex::Male);
    // Row 4 ('- sex): the sex became known; the band is no longer given.
    cases[3].basic.sex = Some(Sex::Female);
    cases[3].basic.reported_age_band = None;
    // Row 6: publication and confirmation dates corrected.
    let p = cases[5].publication.as_mut().unwrap();
    p.published_on = d(2021, 1, 5);
    p.confirmed_on = d(2021, 1, 4);
    // Row 1 as a record imported before spellings were kept.
    let p = cases[0].publication.as_mut().unwrap();
    for text in [&mut p.age_text, &mut p.sex_text, &mut p.weekday, &mut p.published_on_text, &mut p.onset_text, &mut p.confirmed_on_text] {
        text.clear();
    }

    let lines = lines_of_export(cases, report.layout);
    assert_eq!(lines[0], original_lines[0]);
    assert_eq!(lines[1], "1,140007,神奈川県,,2020-02-14,金,2020-02-05,横浜市,60代,男性,,,,0,,1,2020-02-13,会社員,1");
    assert_eq!(lines[2], "2,140007,神奈川県,,2020/3/6,金曜日,2020-03-01,川崎市,80代,女性,,,,0,,1,2020/3/5,,0");
    assert_eq!(lines[3], original_lines[3]);
    assert_eq!(lines[4], "4,140007,神奈川県,,2020/4/10,金曜日,'-,相模原市,,女性,,,,,,,2020/4/9,,");
    assert_eq!(lines[5], original_lines[5]);
    assert_eq!(lines[6], "6,140007,神奈川県,,2021-01-05,火,2021/1/1,横浜市,20代,女,,,,,,,2021-01-04,学生,1");
}

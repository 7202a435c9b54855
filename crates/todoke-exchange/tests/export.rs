//! Exports: Shift_JIS and UTF-8, entered cases, the staff list.

mod common;

use chrono::NaiveDate;
use common::*;
use todoke_domain::*;
use todoke_exchange::{guard_formula, write_cases_csv, write_opendata, write_opendata_layout, Encoding, STAFF_CSV_HEADER};
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, day)
}

fn entered(name: &str, birth: Option<NaiveDate>, sex: Sex) -> Case {
    let mut c = Case { id: Uuid::now_v7(), origin: Some(Origin::Entered), ..Case::default() };
    c.basic.name = name.into();
    c.basic.name_kana = "ヨシダ ハナコ".into();
    c.basic.birth_date = birth;
    c.basic.sex = Some(sex);
    c.basic.phone = "090-1234-5678".into();
    c.basic.residence = Address {
        prefecture_code: "13".into(),
        municipality_code: "131121".into(),
        text: "東京都世田谷区太子堂1-2-3".into(),
        ..Address::default()
    };
    c.notification.diagnosis_class = Some(DiagnosisClass::Confirmed);
    c.notification.diagnosis_date = d(2022, 8, 1);
    c.notification.report_date = d(2022, 8, 2);
    c.notification.onset_date = d(2022, 7, 30);
    c.measures.current_status = Some(CurrentStatus::HomeRecovery);
    c.jurisdiction.responsible_health_centre = "HC-131121".into();
    c
}

#[test]
fn shift_jis_export_decodes_as_cp932_with_crlf() {
    let (cases, report) = import(&fixture("tokyo_patients_30.csv"));
    let mut out = vec![];
    let export = write_opendata_layout(&mut out, Encoding::ShiftJis, report.layout, cases).unwrap();
    assert_eq!(export.cases, 30);
    assert!(!out.starts_with(b"\xef\xbb\xbf"));
    let (text, actual, had_errors) = encoding_rs::SHIFT_JIS.decode(&out);
    assert_eq!(actual, encoding_rs::SHIFT_JIS);
    assert!(!had_errors);
    assert!(text.starts_with("No,全国地方公共団体コード,都道府県名,市区町村名,公表_年月日,曜日,発症_年月日,患者_居住地,患者_年代,患者_性別,患者_属性,患者_状態,患者_症状,患者_渡航歴の有無フラグ,備考,退院済フラグ\r\n"));
    // Every line ends CRLF; bare LF only inside quoted cells (none here).
    assert_eq!(text.matches("\r\n").count(), 31);
    assert_eq!(text.matches('\n').count(), 31);
    assert!(std::str::from_utf8(&out).is_err(), "must not be UTF-8");
}

#[test]
fn characters_outside_cp932_become_geta_and_are_reported() {
    let mut a = entered("𠮷田 花子", d(1990, 4, 1), Sex::Female);
    a.basic.residence.text = "東京都世田谷区 😀".into();
    let b = entered("髙橋 ①郎", d(1990, 4, 1), Sex::Male); // 髙 and ① are in CP932
    let (ida, idb) = (a.id, b.id);
    let mut out = vec![];
    let report = write_cases_csv(&mut out, Encoding::ShiftJis, vec![a, b]).unwrap();
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&out);
    assert!(!had_errors);
    assert!(!text.contains("&#"), "no HTML numeric references");
    assert!(text.contains("〓田 花子"));
    assert!(text.contains("東京都世田谷区 〓"));
    assert!(text.contains("髙橋 ①郎"));
    assert_eq!(report.unmappable_total, 2);
    let cells: Vec<_> = report.unmappable.iter().map(|u| (u.row, u.column, u.case_id)).collect();
    assert_eq!(cells, vec![(1, "氏名", ida), (1, "居住地_住所", ida)]);
    assert_ne!(ida, idb);
    // UTF-8 keeps everything.
    let mut out = vec![];
    let report = write_cases_csv(&mut out, Encoding::Utf8Bom, vec![entered("𠮷田 花子", None, Sex::Female)]).unwrap();
    assert_eq!(report.unmappable_total, 0);
    assert!(String::from_utf8(out).unwrap().contains("𠮷田 花子"));
}

#[test]
fn entered_cases_export_as_open_data_from_their_record() {
    let mut a = entered("吉田 花子", d(1990, 8, 2), Sex::Female); // 31 at diagnosis (2022-08-01)
    a.notification.infection_link = Some(YesNoUnknown::Yes);
    let mut b = entered("山田 太郎", d(1925, 1, 1), Sex::Male);
    b.measures.current_status = Some(CurrentStatus::RecoveryEnded);
    b.basic.residence = Address::default();
    b.basic.registered_address = Address { prefecture_code: "27".into(), ..Address::default() };
    let mut deleted = entered("削除", None, Sex::Male);
    deleted.deleted = Some(Deletion { on: d(2022, 8, 3).unwrap(), by: "staff".into(), reason: "重複".into() });
    let mut suspected = entered("疑似", None, Sex::Male);
    suspected.notification.diagnosis_class = Some(DiagnosisClass::Suspected);
    let mut contact = entered("濃厚接触者", None, Sex::Male);
    contact.notification.diagnosis_class = None;
    contact.measures.current_status = Some(CurrentStatus::CloseContact);
    let mut out = vec![];
    let report = write_opendata(&mut out, Encoding::Utf8Bom, vec![a, deleted, suspected, b, contact]).unwrap();
    assert_eq!((report.cases, report.skipped_deleted, report.skipped_not_positive), (2, 1, 2));
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[1], "1,130001,東京都,,2022-08-02,火,2022-07-30,世田谷区,30代,女性,,,,,,,2022-08-01,,1");
    assert_eq!(lines[2], "2,270008,大阪府,,2022-08-02,火,2022-07-30,大阪府,90歳以上,男性,,,,,,1,2022-08-01,,");
    assert_eq!(lines[3], "");
    assert!(!text.contains("吉田") && !text.contains("太子堂"), "no personal data in open data");
}

#[test]
fn staff_list_has_japanese_header_labels_and_guards_formulas() {
    let mut a = entered("=HYPERLINK(\"http://example.invalid\",\"x\")", d(1990, 8, 2), Sex::Female);
    a.basic.phone = "+81 90-1234-5678".into();
    a.basic.id_management_note = "@保健所発生届・未入力".into();
    a.notification.health_centre_confirmation = Some(Confirmation { on: d(2022, 8, 3).unwrap(), by: "hc1".into() });
    let id = a.id;
    let mut out = vec![];
    write_cases_csv(&mut out, Encoding::Utf8Bom, vec![a]).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0].trim_start_matches('\u{feff}'), STAFF_CSV_HEADER.join(","));
    assert_eq!(
        lines[1],
        format!(
            "{id},入力,\"'=HYPERLINK(\"\"http://example.invalid\"\",\"\"x\"\")\",ヨシダ ハナコ,1990-08-02,31,女,30代,患者（確定例）,\
             2022-08-02,2022-08-01,2022-07-30,自宅療養中,,HC-131121,済,2022-08-03,'+81 90-1234-5678,東京都,世田谷区,\
             東京都世田谷区太子堂1-2-3,'@保健所発生届・未入力"
        )
    );
    assert_eq!(guard_formula("-1"), "'-1");
}

#[test]
fn imported_cases_follow_later_status_changes() {
    let (mut cases, report) = import(&fixture("tokyo_patients_30.csv"));
    // Row 23 was not discharged; mark it ended. Row 1 was; reopen it.
    cases[22].measures.current_status = Some(CurrentStatus::RecoveryEnded);
    cases[0].measures.current_status = Some(CurrentStatus::Hospitalised);
    let mut out = vec![];
    write_opendata_layout(&mut out, Encoding::Utf8Bom, report.layout, cases).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[1].ends_with(",男性,,,,,,"), "{}", lines[1]);
    assert!(lines[23].ends_with(",1"), "{}", lines[23]);
}

//! Desk actions on a real encrypted desk in a temporary folder.

use chrono::{NaiveDate, TimeZone, Utc};
use todoke_desk::{DeskService, ErrorCode, FixedClock};
use todoke_domain::{Actor, CurrentStatus};
use todoke_store::MemoryKeys;

mod common;
use common::{desk, sample};

#[test]
fn desk_remembers_its_organisation_for_later_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = MemoryKeys::fixed([9; 32]);
    let dir = tmp.path().join("desk");
    DeskService::init(&dir, &keys, Actor { login: "a".into(), org_code: "HC141003".into() }).unwrap();
    let again = DeskService::open(&dir, &keys, Actor { login: "b".into(), org_code: String::new() }).unwrap();
    assert_eq!(again.actor().org_code, "HC141003");
}

#[test]
fn bulk_status_change_is_all_or_nothing() {
    let (_tmp, mut d) = desk();
    let a = d.create_case(sample(1)).unwrap().case.id;
    let b = d.create_case(sample(2)).unwrap().case.id;
    // Died needs a date of death: refused for both, nothing saved.
    let err = d.set_status_many(&[a, b], CurrentStatus::Died).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(d.get(a).unwrap().measures.current_status != Some(CurrentStatus::Died));
    let before = d.pending_changes().unwrap();
    d.set_status_many(&[a, b], CurrentStatus::HotelRecovery).unwrap();
    assert_eq!(d.get(a).unwrap().measures.current_status, Some(CurrentStatus::HotelRecovery));
    assert_eq!(d.get(b).unwrap().measures.status_updated_on, NaiveDate::from_ymd_opt(2022, 8, 10));
    assert_eq!(d.pending_changes().unwrap(), before + 2, "one outbox entry per edited case");
}

/// The window's refresh signal: a commit by another connection to the same desk file
/// (the CLI while the app is open) changes the marker; reads do not; own commits do.
#[test]
fn change_marker_follows_commits_from_any_connection() {
    let (tmp, mut app) = desk();
    let id = app.create_case(sample(1)).unwrap().case.id;
    let keys = MemoryKeys::fixed([7; 32]);
    let mut cli = DeskService::open(&tmp.path().join("desk"), &keys, Actor { login: "cli".into(), org_code: String::new() }).unwrap();
    let m0 = app.change_marker().unwrap();
    app.search(&Default::default()).unwrap();
    app.open_case(id).unwrap();
    assert_eq!(app.change_marker().unwrap(), m0, "reading changes nothing");
    cli.set_status(id, CurrentStatus::HotelRecovery).unwrap();
    let m1 = app.change_marker().unwrap();
    assert_ne!(m1, m0, "another connection's commit is seen");
    assert_eq!(app.get(id).unwrap().measures.current_status, Some(CurrentStatus::HotelRecovery));
    app.set_status(id, CurrentStatus::HomeRecovery).unwrap();
    assert_ne!(app.change_marker().unwrap(), m1, "this connection's commit too");
}

#[test]
fn a_locked_desk_says_so_in_both_languages() {
    let e = todoke_desk::DeskError::locked();
    assert_eq!(e.code, ErrorCode::Locked);
    assert_eq!(serde_json::to_value(&e).unwrap()["code"], "locked");
    assert!(e.message_ja.contains("ロック") && e.message_en.contains("locked"));
}

#[test]
fn duplicate_person_is_flagged_on_entry() {
    let (_tmp, mut d) = desk();
    d.create_case(sample(1)).unwrap();
    let second = d.create_case(sample(1)).unwrap();
    assert_eq!(second.possible_duplicates.len(), 1, "same kana, birth date and sex");
}

#[test]
fn edit_of_unknown_case_is_not_found() {
    let (_tmp, mut d) = desk();
    let mut c = sample(3);
    c.id = uuid::Uuid::now_v7();
    assert_eq!(d.update_case(c).unwrap_err().code, ErrorCode::NotFound);
}

/// DOMAIN.md §4.3 end to end on a desk: a suspected patient reported at
/// specimen collection; days later the positive result turns the case
/// confirmed (saved, even though the old report date precedes the new
/// diagnosis date), and reporting again gives the confirmed report its own date.
#[test]
fn suspected_reported_then_positive_then_reported_again_as_confirmed() {
    use todoke_domain::{DiagnosisClass, TestResult};
    let (_tmp, mut d) = desk(); // today = 2022-08-10
    let mut c = sample(4);
    c.notification.diagnosis_class = Some(DiagnosisClass::Suspected);
    c.notification.report_date = None;
    c.notification.submitted_on = None;
    c.notification.received_on = None;
    c.notification.reported_class = None;
    c.notification.reports.clear();
    c.notification.health_centre_confirmation = None;
    c.notification.diagnosis_date = NaiveDate::from_ymd_opt(2022, 8, 5);
    c.notification.onset_date = NaiveDate::from_ymd_opt(2022, 8, 4);
    c.notification.estimated_infection_date = None;
    c.notification.first_visit_date = NaiveDate::from_ymd_opt(2022, 8, 5);
    c.tests.truncate(1);
    c.tests[0].collected_on = NaiveDate::from_ymd_opt(2022, 8, 5);
    c.tests[0].result = None;
    c.tests[0].result_on = None;
    let id = match d.create_case(c) {
        Ok(s) => s.case.id,
        Err(e) => panic!("{:#?}", e.problems),
    };
    let (first, _) = d.report(id).unwrap();
    assert_eq!(first.case.notification.report_date, NaiveDate::from_ymd_opt(2022, 8, 10));

    // Two days later the PCR is positive.
    d.set_clock(Box::new(FixedClock(Utc.with_ymd_and_hms(2022, 8, 12, 1, 0, 0).unwrap())));
    let mut test = d.get(id).unwrap().tests[0].clone();
    test.result = Some(TestResult::Positive);
    test.result_on = NaiveDate::from_ymd_opt(2022, 8, 12);
    let saved = d.save_tests(id, vec![test]).unwrap_or_else(|e| panic!("{:#?}", e.problems));
    let n = &saved.saved.case.notification;
    assert_eq!(n.diagnosis_class, Some(DiagnosisClass::Confirmed));
    assert_eq!(n.diagnosis_date, NaiveDate::from_ymd_opt(2022, 8, 12));
    assert_eq!(n.report_date, NaiveDate::from_ymd_opt(2022, 8, 10), "unchanged until the confirmed report");

    let (second, outcome) = d.report(id).unwrap();
    assert_eq!(outcome.kind, todoke_domain::lifecycle::ReportKind::NewReport);
    let n = &second.case.notification;
    assert_eq!(n.report_date, NaiveDate::from_ymd_opt(2022, 8, 12));
    assert_eq!(n.submitted_on, NaiveDate::from_ymd_opt(2022, 8, 12));
    assert_eq!(n.reports.len(), 2);
}

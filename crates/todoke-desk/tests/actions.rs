//! The desktop app's actions (actions.rs) on a real encrypted desk in a temporary folder.

use chrono::NaiveDate;
use todoke_desk::{code_lists, ErrorCode};
use todoke_domain::lifecycle::ReportKind;
use todoke_domain::validate::RuleCode;
use todoke_domain::{Contact, CurrentStatus, DiagnosisClass, TestResult};
use uuid::Uuid;

mod common;
use common::{desk, sample};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2022, 8, d).unwrap()
}

#[test]
fn a_new_case_draft_belongs_to_this_desk_and_names_its_test() {
    let (_tmp, d) = desk();
    let draft = d.new_case_draft();
    assert_eq!(draft.jurisdiction.responsible_health_centre, "HC131121");
    assert_eq!(draft.tests.len(), 1);
    assert!(!draft.tests[0].id.is_nil(), "problems of the test must be able to name it");
    let check = d.check_form(&draft).unwrap();
    assert!(check.required.iter().any(|r| r == "basic.name"));
    assert!(check.required.iter().any(|r| r == "tests[].method"));
    let path = format!("tests[{}].method", draft.tests[0].id);
    assert!(check.problems.iter().any(|p| p.path == path && p.rule == RuleCode::Required), "{:?}", check.problems);
    assert_eq!(check.next_report, ReportKind::NewReport);
}

#[test]
fn the_form_check_warns_of_the_same_person_but_not_of_the_case_itself() {
    let (_tmp, mut d) = desk();
    let saved = d.create_case(sample(1)).unwrap().case;
    assert!(d.check_form(&saved).unwrap().possible_duplicates.is_empty());
    let again = sample(1);
    let dups = d.check_form(&again).unwrap().possible_duplicates;
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].id, saved.id);
}

#[test]
fn transfer_keeps_the_previous_health_centre_related() {
    let (_tmp, mut d) = desk();
    let id = d.create_case(sample(2)).unwrap().case.id;
    let before = d.get(id).unwrap().jurisdiction.responsible_health_centre;
    let after = d.transfer_responsible(id, " HC141003 ").unwrap().case;
    assert_eq!(after.jurisdiction.responsible_health_centre, "HC141003");
    assert!(after.jurisdiction.related_health_centres.contains(&before));
    assert_eq!(d.transfer_responsible(id, "HC141003").unwrap_err().code, ErrorCode::BadInput);
    assert_eq!(d.transfer_responsible(id, "  ").unwrap_err().code, ErrorCode::Invalid);
    let related = d.add_related_health_centre(id, "HC132021").unwrap().case;
    assert!(related.jurisdiction.related_health_centres.iter().any(|h| h == "HC132021"));
    assert_eq!(d.add_related_health_centre(id, "HC132021").unwrap_err().code, ErrorCode::BadInput);
}

#[test]
fn a_positive_result_in_the_tests_tab_confirms_a_suspected_notification() {
    let (_tmp, mut d) = desk();
    let mut c = sample(3);
    c.notification.diagnosis_class = Some(DiagnosisClass::Suspected);
    // Not reported yet. (Reported before the result, the stored report date would precede
    // the new diagnosis date and the save is refused: reported to the domain's owner.)
    c.notification.report_date = None;
    c.notification.submitted_on = None;
    c.notification.received_on = None;
    c.notification.reported_class = None;
    c.notification.reports.clear();
    c.notification.health_centre_confirmation = None;
    for t in &mut c.tests {
        t.result = None;
        t.result_on = None;
    }
    let saved = d.create_case(c).unwrap().case;
    let mut tests = saved.tests.clone();
    tests[0].result = Some(TestResult::Positive);
    tests[0].result_on = Some(day(9));
    let mut added = d.new_test_draft();
    added.method = tests[0].method;
    added.specimen = tests[0].specimen;
    added.collected_on = Some(day(9));
    tests.push(added);
    let out = d.save_tests(saved.id, tests).unwrap();
    let case = out.saved.case;
    assert_eq!(case.notification.diagnosis_class, Some(DiagnosisClass::Confirmed));
    assert_eq!(case.notification.diagnosis_date, Some(day(9)));
    assert_eq!(case.tests.len(), saved.tests.len() + 1);
    assert!(out.outcomes.iter().any(|o| o.class_after == Some(DiagnosisClass::Confirmed)));
}

#[test]
fn a_test_result_before_its_collection_is_refused_and_nothing_saved() {
    let (_tmp, mut d) = desk();
    let saved = d.create_case(sample(4)).unwrap().case;
    let mut tests = saved.tests.clone();
    tests[0].collected_on = Some(day(8));
    tests[0].result = Some(TestResult::Negative);
    tests[0].result_on = Some(day(1));
    let err = d.save_tests(saved.id, tests).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(err.problems.iter().any(|p| p.rule == RuleCode::ResultBeforeCollection), "{:?}", err.problems);
    assert_eq!(d.get(saved.id).unwrap().tests, saved.tests);
}

#[test]
fn a_contact_becomes_a_case_with_the_link_kept_both_ways() {
    let (_tmp, mut d) = desk();
    let mut c = sample(5);
    c.investigation.contacts.push(Contact { name: "接触 次郎".into(), name_kana: "セッショク ジロウ".into(), ..Contact::default() });
    let source = d.create_case(c).unwrap().case;
    let contact = source.investigation.contacts.last().unwrap().id;
    assert!(!contact.is_nil());

    let draft = d.contact_case_draft(source.id, contact).unwrap();
    assert_eq!(draft.basic.name, "接触 次郎");
    assert_eq!(draft.measures.current_status, Some(CurrentStatus::CloseContact));
    assert_eq!(draft.investigation.infected_by_case, Some(source.id));

    // The draft is completed at the desk, saved, then linked.
    let mut entered = sample(6);
    entered.basic.name = draft.basic.name.clone();
    entered.investigation.infected_by_case = None;
    let new_case = d.create_case(entered).unwrap().case.id;
    d.link_contact(source.id, contact, new_case).unwrap();
    let linked = d.get(source.id).unwrap();
    assert_eq!(linked.investigation.contacts.last().unwrap().linked_case, Some(new_case));
    assert_eq!(d.get(new_case).unwrap().investigation.infected_by_case, Some(source.id));
    assert_eq!(d.contact_case_draft(source.id, Uuid::now_v7()).unwrap_err().code, ErrorCode::Invalid);
}

#[test]
fn the_status_bar_sees_the_outbox_and_no_server() {
    let (_tmp, mut d) = desk();
    let before = d.status().unwrap();
    assert_eq!((before.online, before.server.clone()), (false, None));
    d.create_case(sample(7)).unwrap();
    let after = d.status().unwrap();
    assert_eq!(after.case_count, before.case_count + 1);
    assert_eq!(after.pending_changes, before.pending_changes + 1);
    assert_eq!(after.org_code, "HC131121");
}

#[test]
fn every_code_list_has_both_labels() {
    let lists = code_lists();
    assert_eq!(lists.prefecture.len(), 47);
    assert!(lists.current_status.iter().any(|c| c.code == "hospitalised" && c.ja == "入院中"));
    assert!(lists.items.iter().any(|c| c.code == "tests[].method"));
    let all = [&lists.sex, &lists.diagnosis_class, &lists.test_method, &lists.specimen, &lists.current_status, &lists.items];
    assert!(all.iter().all(|l| !l.is_empty() && l.iter().all(|c| !c.ja.is_empty() && !c.en.is_empty())));
}

//! DOMAIN.md §4.3–4.4: reporting, the suspected → negative / confirmed
//! flows, health-centre confirmation, status, jurisdiction, edit vs new case.

mod fixture;

use fixture::*;
use todoke_domain::lifecycle::*;
use todoke_domain::policy::Policy;
use todoke_domain::validate::RuleCode;
use todoke_domain::*;

// Reporting ---------------------------------------------------------------

#[test]
fn first_report_sets_report_submission_and_receipt_dates_to_today() {
    let policy = policy();
    let mut case = hanako();
    let outcome = report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    assert_eq!(outcome.kind, ReportKind::NewReport);
    assert_eq!(outcome.class, DiagnosisClass::Confirmed);
    assert_eq!((outcome.report_date, outcome.submitted_on, outcome.received_on), (d(2021, 8, 10), d(2021, 8, 10), d(2021, 8, 10)));
    let n = &case.notification;
    assert_eq!((n.report_date, n.submitted_on, n.received_on), (Some(d(2021, 8, 10)), Some(d(2021, 8, 10)), Some(d(2021, 8, 10))));
    assert_eq!(n.reported_class, Some(DiagnosisClass::Confirmed));
    assert_eq!(n.reports, vec![ReportEvent { class: DiagnosisClass::Confirmed, reported_on: d(2021, 8, 10), by: "sato.kenichi".into() }]);
}

#[test]
fn reporting_the_same_class_again_is_an_edit_that_keeps_the_dates() {
    let policy = policy();
    let mut case = hanako();
    report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    // Two days later the doctor adds the SpO2 and presses report again.
    case.notification.spo2_room_air = Some(95);
    let outcome = report(&mut case, &doctor_sato(), d(2021, 8, 12), &ctx(d(2021, 8, 12), &policy)).expect("edited");
    assert_eq!(outcome.kind, ReportKind::Edit);
    assert_eq!(outcome.report_date, d(2021, 8, 10));
    assert_eq!(case.notification.report_date, Some(d(2021, 8, 10)));
    assert_eq!(case.notification.received_on, Some(d(2021, 8, 10)));
    assert_eq!(case.notification.reports.len(), 2);
    assert_eq!(case.notification.reports[1].reported_on, d(2021, 8, 12));
}

#[test]
fn an_edit_moving_the_diagnosis_after_the_report_date_is_refused() {
    let policy = policy();
    let mut case = hanako();
    report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    case.notification.diagnosis_date = Some(d(2021, 8, 11)); // a later day typed by mistake
    let before = case.clone();
    let problems = report(&mut case, &doctor_sato(), d(2021, 8, 12), &ctx(d(2021, 8, 12), &policy)).expect_err("refused");
    assert_eq!(errors(&problems), vec![(RuleCode::ReportBeforeDiagnosis, "notification.report_date".to_string())]);
    assert_eq!(case, before, "a refused report changes nothing");
}

#[test]
fn a_report_with_a_diagnosis_date_after_today_is_refused() {
    let policy = policy();
    let mut case = hanako();
    case.notification.diagnosis_date = Some(d(2021, 8, 13));
    let problems = report(&mut case, &doctor_sato(), d(2021, 8, 12), &ctx(d(2021, 8, 12), &policy)).expect_err("refused");
    assert_eq!(
        errors(&problems),
        vec![
            (RuleCode::FutureDate, "notification.diagnosis_date".to_string()),
            (RuleCode::ReportBeforeDiagnosis, "notification.report_date".to_string()),
        ]
    );
    assert_eq!(case.notification.report_date, None);
    assert!(case.notification.reports.is_empty());
}

#[test]
fn a_report_missing_a_surge_minimum_item_is_refused_with_every_problem() {
    let policy = policy();
    let mut case = hanako();
    case.basic.birth_date = None;
    case.basic.occupation.clear();
    let problems = report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect_err("refused");
    // The error that blocks, and the warning that would not have.
    assert_eq!(
        rules(&problems),
        vec![(RuleCode::Required, "basic.birth_date".to_string()), (RuleCode::RequiredOnceKnown, "basic.occupation".to_string()),]
    );
}

#[test]
fn warnings_do_not_block_a_report_and_come_back_with_it() {
    let policy = policy();
    let mut case = hanako();
    case.basic.occupation.clear();
    let outcome = report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    assert_eq!(rules(&outcome.warnings), vec![(RuleCode::RequiredOnceKnown, "basic.occupation".to_string())]);
}

// Suspected → negative / confirmed -------------------------------------------

#[test]
fn suspected_then_negative_keeps_the_report_date() {
    let policy = policy();
    let mut case = suspected_taro();
    let first = report(&mut case, &doctor_sato(), d(2022, 10, 3), &ctx(d(2022, 10, 3), &policy)).expect("reported");
    assert_eq!((first.kind, first.class), (ReportKind::NewReport, DiagnosisClass::Suspected));

    let result =
        record_test_result(&mut case, id(21), TestResult::Negative, d(2022, 10, 4), &ctx(d(2022, 10, 4), &policy)).expect("result entered");
    assert_eq!(result.class_after, Some(DiagnosisClass::Suspected));
    assert_eq!(result.diagnosis_date_set, None);
    assert_eq!(result.next_report, ReportKind::Edit);

    let edit = report(&mut case, &doctor_sato(), d(2022, 10, 4), &ctx(d(2022, 10, 4), &policy)).expect("edited");
    assert_eq!(edit.kind, ReportKind::Edit);
    assert_eq!(edit.report_date, d(2022, 10, 3));
    assert_eq!(case.notification.report_date, Some(d(2022, 10, 3)));
    assert_eq!(case.notification.diagnosis_date, Some(d(2022, 10, 3)));
    assert_eq!(case.tests[0].result, Some(TestResult::Negative));
}

#[test]
fn suspected_then_positive_becomes_confirmed_with_new_diagnosis_and_report_dates() {
    let policy = policy();
    let mut case = suspected_taro();
    report(&mut case, &doctor_sato(), d(2022, 10, 3), &ctx(d(2022, 10, 3), &policy)).expect("reported");
    assert_eq!(case.notification.report_date, Some(d(2022, 10, 3)));

    // The PCR comes back positive on the 5th.
    let result =
        record_test_result(&mut case, id(21), TestResult::Positive, d(2022, 10, 5), &ctx(d(2022, 10, 5), &policy)).expect("result entered");
    assert_eq!(result.class_before, Some(DiagnosisClass::Suspected));
    assert_eq!(result.class_after, Some(DiagnosisClass::Confirmed));
    assert_eq!(result.diagnosis_date_set, Some(d(2022, 10, 5)));
    assert_eq!(result.next_report, ReportKind::NewReport);
    assert_eq!(case.notification.diagnosis_date, Some(d(2022, 10, 5)));
    // Not yet reported as confirmed: the suspected report's dates still stand.
    assert_eq!(case.notification.report_date, Some(d(2022, 10, 3)));

    // The confirmed notification is submitted on the 6th.
    let confirmed = report(&mut case, &doctor_sato(), d(2022, 10, 6), &ctx(d(2022, 10, 6), &policy)).expect("reported");
    assert_eq!(confirmed.kind, ReportKind::NewReport);
    assert_eq!(confirmed.class, DiagnosisClass::Confirmed);
    assert_eq!((confirmed.report_date, confirmed.submitted_on, confirmed.received_on), (d(2022, 10, 6), d(2022, 10, 6), d(2022, 10, 6)));
    assert_eq!(case.notification.reported_class, Some(DiagnosisClass::Confirmed));
    let history: Vec<(DiagnosisClass, chrono::NaiveDate)> = case.notification.reports.iter().map(|r| (r.class, r.reported_on)).collect();
    assert_eq!(history, vec![(DiagnosisClass::Suspected, d(2022, 10, 3)), (DiagnosisClass::Confirmed, d(2022, 10, 6))]);
}

#[test]
fn a_new_confirmed_report_clears_the_confirmation_of_the_suspected_one() {
    let policy = policy();
    let mut case = suspected_taro();
    report(&mut case, &doctor_sato(), d(2022, 10, 3), &ctx(d(2022, 10, 3), &policy)).expect("reported");
    confirm_by_health_centre(&mut case, &ota_staff(), d(2022, 10, 3), &ctx(d(2022, 10, 3), &policy)).expect("confirmed");
    record_test_result(&mut case, id(21), TestResult::Positive, d(2022, 10, 4), &ctx(d(2022, 10, 4), &policy)).expect("entered");
    assert!(case.notification.health_centre_confirmation.is_some(), "entering a result does not touch it");
    report(&mut case, &doctor_sato(), d(2022, 10, 4), &ctx(d(2022, 10, 4), &policy)).expect("reported");
    assert_eq!(case.notification.health_centre_confirmation, None);
}

#[test]
fn a_positive_added_as_a_new_test_also_confirms_a_suspected_patient() {
    let policy = policy();
    let mut case = suspected_taro();
    report(&mut case, &doctor_sato(), d(2022, 10, 3), &ctx(d(2022, 10, 3), &policy)).expect("reported");
    let mut antigen = pcr(22, d(2022, 10, 4), Some((TestResult::Positive, d(2022, 10, 4))));
    antigen.method = Some(TestMethod::AntigenQuantitative);
    antigen.specimen = Some(Specimen::Saliva);
    antigen.institution = KAMATA_CLINIC.into();
    let outcome = add_test(&mut case, antigen, &ctx(d(2022, 10, 4), &policy)).expect("added");
    assert_eq!(outcome.class_after, Some(DiagnosisClass::Confirmed));
    assert_eq!(case.notification.diagnosis_date, Some(d(2022, 10, 4)));
    assert_eq!(case.tests.len(), 2);
}

#[test]
fn a_test_with_a_specimen_the_method_does_not_allow_is_not_added() {
    let policy = policy();
    let mut case = suspected_taro();
    let mut antigen = pcr(22, d(2022, 10, 3), None);
    antigen.method = Some(TestMethod::AntigenQualitative);
    antigen.specimen = Some(Specimen::Sputum);
    let problems = add_test(&mut case, antigen, &ctx(d(2022, 10, 3), &policy)).expect_err("refused");
    assert_eq!(errors(&problems), vec![(RuleCode::SpecimenNotAllowedForMethod, test_path(22, "specimen"))]);
    assert_eq!(case.tests.len(), 1);
}

#[test]
fn a_result_dated_before_its_collection_is_refused_and_changes_nothing() {
    let policy = policy();
    let mut case = suspected_taro();
    let before = case.clone();
    let problems =
        record_test_result(&mut case, id(21), TestResult::Positive, d(2022, 10, 2), &ctx(d(2022, 10, 4), &policy)).expect_err("refused");
    assert_eq!(errors(&problems), vec![(RuleCode::ResultBeforeCollection, test_path(21, "result_on"))]);
    assert_eq!(case, before);
}

#[test]
fn a_result_for_an_unknown_test_is_refused() {
    let policy = policy();
    let mut case = suspected_taro();
    let problems =
        record_test_result(&mut case, id(99), TestResult::Negative, d(2022, 10, 4), &ctx(d(2022, 10, 4), &policy)).expect_err("refused");
    assert_eq!(rules(&problems), vec![(RuleCode::ItemNotFound, format!("tests[{}]", id(99)))]);
}

// 保健所確認済 ---------------------------------------------------------------

#[test]
fn the_responsible_health_centre_confirms_a_reported_notification() {
    let policy = policy();
    let mut case = hanako();
    report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    confirm_by_health_centre(&mut case, &setagaya_nurse(), d(2021, 8, 11), &ctx(d(2021, 8, 11), &policy)).expect("confirmed");
    assert_eq!(case.notification.health_centre_confirmation, Some(Confirmation { on: d(2021, 8, 11), by: "takahashi.yumi".into() }));
}

#[test]
fn confirmation_is_refused_before_the_report() {
    let policy = policy();
    let mut case = hanako();
    let problems =
        confirm_by_health_centre(&mut case, &setagaya_nurse(), d(2021, 8, 11), &ctx(d(2021, 8, 11), &policy)).expect_err("refused");
    assert_eq!(rules(&problems), vec![(RuleCode::NotReported, "notification.report_date".to_string())]);
    assert_eq!(case.notification.health_centre_confirmation, None);
}

#[test]
fn confirmation_is_refused_to_another_health_centre() {
    let policy = policy();
    let mut case = hanako();
    report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    let problems = confirm_by_health_centre(&mut case, &ota_staff(), d(2021, 8, 11), &ctx(d(2021, 8, 11), &policy)).expect_err("refused");
    assert_eq!(rules(&problems), vec![(RuleCode::NotResponsibleHealthCentre, "jurisdiction.responsible_health_centre".to_string())]);
}

#[test]
fn confirmation_is_refused_while_the_case_has_errors() {
    let policy = policy();
    let mut case = hanako();
    report(&mut case, &doctor_sato(), d(2021, 8, 10), &ctx(d(2021, 8, 10), &policy)).expect("reported");
    case.measures.admission_date = Some(d(2021, 8, 11));
    case.measures.discharge_date = Some(d(2021, 8, 1));
    let problems =
        confirm_by_health_centre(&mut case, &setagaya_nurse(), d(2021, 8, 12), &ctx(d(2021, 8, 12), &policy)).expect_err("refused");
    assert_eq!(rules(&problems), vec![(RuleCode::DischargeBeforeAdmission, "measures.discharge_date".to_string())]);
}

// Status ------------------------------------------------------------------

#[test]
fn setting_a_status_records_the_day() {
    let mut case = hanako();
    set_status(&mut case, CurrentStatus::HotelRecovery, d(2021, 8, 13)).expect("set");
    assert_eq!(case.measures.current_status, Some(CurrentStatus::HotelRecovery));
    assert_eq!(case.measures.status_updated_on, Some(d(2021, 8, 13)));
}

#[test]
fn died_needs_the_date_of_death() {
    let mut case = hanako();
    let problems = set_status(&mut case, CurrentStatus::Died, d(2021, 8, 20)).expect_err("refused");
    assert_eq!(rules(&problems), vec![(RuleCode::Required, "notification.death_date".to_string())]);
    assert_eq!(case.measures.current_status, Some(CurrentStatus::HomeRecovery));

    record_death(&mut case, d(2021, 8, 18), d(2021, 8, 20)).expect("recorded");
    assert_eq!(case.notification.death_date, Some(d(2021, 8, 18)));
    assert_eq!(case.measures.current_status, Some(CurrentStatus::Died));
    assert_eq!(case.measures.status_updated_on, Some(d(2021, 8, 20)));
    assert_eq!(case.notification.diagnosis_class, Some(DiagnosisClass::Confirmed), "the class stays as notified");
    assert_eq!(rules(&todoke_domain::validate::validate_case(&case, &ctx(d(2021, 8, 20), &policy()))), vec![]);
}

#[test]
fn a_death_date_after_today_is_refused() {
    let mut case = hanako();
    let problems = record_death(&mut case, d(2021, 8, 21), d(2021, 8, 20)).expect_err("refused");
    assert_eq!(rules(&problems), vec![(RuleCode::FutureDate, "notification.death_date".to_string())]);
    assert_eq!(case.notification.death_date, None);
}

// Jurisdiction ------------------------------------------------------------

#[test]
fn transferring_keeps_the_old_health_centre_as_related() {
    let mut case = hanako();
    // 花子 moves in with her parents in Ōta for her recovery.
    assert_eq!(transfer_responsible(&mut case, OTA_HC), Some(SETAGAYA_HC.to_string()));
    assert_eq!(case.jurisdiction.responsible_health_centre, OTA_HC);
    assert_eq!(case.jurisdiction.related_health_centres, vec![SETAGAYA_HC.to_string()]);
    // Back again: Ōta becomes related, Setagaya responsible, nobody twice.
    assert_eq!(transfer_responsible(&mut case, SETAGAYA_HC), Some(OTA_HC.to_string()));
    assert_eq!(case.jurisdiction.responsible_health_centre, SETAGAYA_HC);
    assert_eq!(case.jurisdiction.related_health_centres, vec![OTA_HC.to_string()]);
    assert_eq!(transfer_responsible(&mut case, SETAGAYA_HC), None);
}

#[test]
fn related_health_centres_are_added_once() {
    let mut case = hanako();
    assert!(add_related(&mut case, OTA_HC));
    assert!(!add_related(&mut case, OTA_HC));
    assert!(!add_related(&mut case, SETAGAYA_HC), "the responsible one is not also related");
    assert_eq!(case.jurisdiction.related_health_centres, vec![OTA_HC.to_string()]);
}

// Edit vs new case --------------------------------------------------------

#[test]
fn a_retest_at_the_same_clinic_days_later_edits_the_existing_case() {
    let policy = policy();
    let existing = hanako(); // last test collected 8/9, result 8/10
    let retest = pcr(12, d(2021, 8, 16), Some((TestResult::Positive, d(2021, 8, 17))));
    assert_eq!(classify_new_positive(&existing, &retest, SANCHA_CLINIC, &ctx(d(2021, 8, 17), &policy)), CourseDecision::EditExisting);
}

#[test]
fn a_positive_at_another_institution_is_a_new_case() {
    let policy = policy();
    let existing = hanako();
    let mut elsewhere = pcr(12, d(2021, 8, 12), Some((TestResult::Positive, d(2021, 8, 13))));
    elsewhere.institution = HIROO_HOSPITAL.into();
    assert_eq!(classify_new_positive(&existing, &elsewhere, HIROO_HOSPITAL, &ctx(d(2021, 8, 13), &policy)), CourseDecision::NewCase);
}

#[test]
fn a_positive_weeks_later_at_the_same_clinic_is_a_new_case() {
    let policy = policy();
    let existing = hanako();
    let reinfection = pcr(12, d(2021, 10, 1), Some((TestResult::Positive, d(2021, 10, 2))));
    assert_eq!(classify_new_positive(&existing, &reinfection, SANCHA_CLINIC, &ctx(d(2021, 10, 2), &policy)), CourseDecision::NewCase);
}

#[test]
fn the_course_window_is_the_policys_number_of_days_inclusive() {
    let policy = policy();
    let existing = hanako(); // latest date in the case: result 2021-08-10
    let on_day = |day: u32| pcr(12, d(2021, 8, day), None);
    let decide = |t| classify_new_positive(&existing, &t, SANCHA_CLINIC, &ctx(d(2021, 8, 31), &policy));
    assert_eq!(decide(on_day(24)), CourseDecision::EditExisting); // 14 days
    assert_eq!(decide(on_day(25)), CourseDecision::NewCase); // 15 days

    // A policy with a 7-day course turns the 10-day retest into a new case.
    let json = policy_json_with_course_days(7);
    let short = Policy::from_json(&json).expect("valid policy");
    assert_eq!(classify_new_positive(&existing, &on_day(20), SANCHA_CLINIC, &ctx(d(2021, 8, 31), &short)), CourseDecision::NewCase);
    assert_eq!(classify_new_positive(&existing, &on_day(17), SANCHA_CLINIC, &ctx(d(2021, 8, 31), &short)), CourseDecision::EditExisting);
}

fn policy_json_with_course_days(days: u32) -> String {
    format!(
        r#"{{"periods": [{{"from": "2020-02-01", "name_ja": "試験", "name_en": "Test",
            "required_items": ["notification.diagnosis_class"], "same_course_days": {days}}}]}}"#
    )
}

//! What users read: every message names the field and what to do, in
//! Japanese and English. A snapshot of a badly entered notification shows
//! them all; changes to the wording show up in review.

mod fixture;

use fixture::*;
use todoke_domain::validate::{validate_case, Problem, RuleCode};
use todoke_domain::*;

/// 花子's notification typed in a hurry at the end of a long day.
fn hurried() -> Case {
    let mut case = hanako();
    case.basic.sex = None;
    case.basic.name_kana = "Yamada".into();
    case.basic.birth_date = Some(d(1876, 3, 14));
    case.basic.guardian = Some(Guardian { name: "山田 一郎".into(), ..Default::default() });
    case.notification.onset_date = Some(d(2021, 8, 11));
    case.notification.estimated_infection_date = Some(d(2021, 8, 12));
    case.notification.symptoms.push(Symptom::None);
    case.notification.spo2_room_air = Some(197);
    case.notification.severity = Some(Severity::Severe);
    case.notification.infection_route.other = Some(Certainty::Presumed);
    case.notification.vaccinations.push(VaccineDose { dose: 2, date: Some(d(2021, 7, 1)), ..Default::default() });
    case.notification.death_date = Some(d(2021, 8, 11));
    case.tests.push(TestRecord {
        id: id(12),
        collected_on: Some(d(2021, 8, 11)),
        result_on: Some(d(2021, 8, 10)),
        method: Some(TestMethod::AntigenQualitative),
        specimen: Some(Specimen::Saliva),
        result: Some(TestResult::Positive),
        institution: SANCHA_CLINIC.into(),
        ..Default::default()
    });
    case.tests.push(TestRecord { id: id(13), result_on: Some(d(2021, 8, 12)), ..Default::default() });
    case.measures.current_status = Some(CurrentStatus::HospitalisedSevere);
    case.measures.admission_date = Some(d(2021, 8, 12));
    case.measures.discharge_date = Some(d(2021, 8, 11));
    case.measures.recovery_ended_on = Some(d(2021, 8, 20));
    reported_on(&mut case, d(2021, 8, 9));
    case
}

fn render(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("{:?} {} {}\n  {}\n  {}\n", p.severity, p.rule, p.path, p.message_ja, p.message_en)).collect()
}

#[test]
fn a_hurried_notification_gets_every_message_at_once() {
    let policy = policy();
    let problems = validate_case(&hurried(), &ctx(d(2021, 8, 12), &policy));
    insta::assert_snapshot!(render(&problems));
}

#[test]
fn every_message_is_a_finished_sentence_in_both_languages() {
    let policy = policy();
    let mut problems = validate_case(&hurried(), &ctx(d(2021, 8, 12), &policy));
    let mut bare = hanako();
    bare.basic = BasicInfo::default();
    bare.notification = Notification::default();
    bare.tests.clear();
    problems.extend(validate_case(&bare, &ctx(d(2021, 8, 12), &policy)));
    for p in &problems {
        assert!(p.message_ja.ends_with('。'), "{}: {}", p.rule, p.message_ja);
        assert!(p.message_en.ends_with('.'), "{}: {}", p.rule, p.message_en);
        assert!(p.message_en.chars().next().is_some_and(|c| c.is_uppercase()), "{}: {}", p.rule, p.message_en);
        assert!(!p.path.is_empty());
    }
}

#[test]
fn the_hurried_notification_breaks_most_rules() {
    let policy = policy();
    let problems = validate_case(&hurried(), &ctx(d(2021, 8, 12), &policy));
    let broken: std::collections::BTreeSet<RuleCode> = problems.iter().map(|p| p.rule).collect();
    for rule in [
        RuleCode::Required,
        RuleCode::ReportBeforeDiagnosis,
        RuleCode::OnsetAfterDiagnosis,
        RuleCode::InfectionAfterOnset,
        RuleCode::InfectionAfterDiagnosis,
        RuleCode::ResultBeforeCollection,
        RuleCode::DischargeBeforeAdmission,
        RuleCode::EventAfterDeath,
        RuleCode::StatusNotDied,
        RuleCode::FutureDate,
        RuleCode::AgeOutOfRange,
        RuleCode::SevereWithoutIcu,
        RuleCode::Spo2OutOfRange,
        RuleCode::SpecimenNotAllowedForMethod,
        RuleCode::OtherDetailMissing,
        RuleCode::SymptomsNoneWithOthers,
        RuleCode::DoseDateOrder,
        RuleCode::GuardianForAdult,
        RuleCode::NotKana,
    ] {
        assert!(broken.contains(&rule), "{rule} not found in {broken:?}");
    }
}

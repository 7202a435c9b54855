//! DOMAIN.md §4.1–4.2 and the form's value constraints, one rule at a time,
//! each on a realistic case changed only where the rule is about.

mod fixture;

use fixture::*;
use todoke_domain::validate::{required_items, required_once_known_items, validate_case, validate_observation, ProblemSeverity, RuleCode};
use todoke_domain::*;

fn check(case: &Case, today: chrono::NaiveDate) -> Vec<todoke_domain::validate::Problem> {
    let policy = policy();
    validate_case(case, &ctx(today, &policy))
}

#[test]
fn complete_confirmed_case_has_no_problem() {
    assert_eq!(rules(&check(&hanako(), d(2021, 8, 12))), vec![]);
}

#[test]
fn complete_suspected_case_has_no_problem() {
    assert_eq!(rules(&check(&suspected_taro(), d(2022, 10, 3))), vec![]);
}

// §4.2 report date ≥ diagnosis date ----------------------------------------

#[test]
fn report_date_before_diagnosis_date_is_an_error() {
    let mut case = hanako();
    reported_on(&mut case, d(2021, 8, 9)); // the day before the diagnosis
    let problems = check(&case, d(2021, 8, 12));
    let p = only(&problems, RuleCode::ReportBeforeDiagnosis);
    assert_eq!(p.path, "notification.report_date");
    assert_eq!(p.severity, ProblemSeverity::Error);
    assert_eq!(
        p.message_ja,
        "報告日（2021年8月9日）が診断日（2021年8月10日）より前になっています。診断日以降の日付にしてください（診断日の誤りであれば診断日を修正してください）。"
    );
    assert!(p.message_en.contains("report date (2021-08-09) is before the diagnosis date (2021-08-10)"), "{}", p.message_en);
}

#[test]
fn report_on_the_diagnosis_day_is_fine() {
    let mut case = hanako();
    reported_on(&mut case, d(2021, 8, 10));
    assert_eq!(rules(&check(&case, d(2021, 8, 12))), vec![]);
}

// §4.2 onset ≤ diagnosis, infection ≤ onset ---------------------------------

#[test]
fn onset_after_diagnosis_is_an_error() {
    let mut case = hanako();
    case.notification.onset_date = Some(d(2021, 8, 11));
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::OnsetAfterDiagnosis, "notification.onset_date".to_string())]);
}

#[test]
fn onset_on_the_diagnosis_day_is_fine() {
    let mut case = hanako();
    case.notification.onset_date = Some(d(2021, 8, 10));
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
}

#[test]
fn infection_after_onset_is_an_error() {
    let mut case = hanako();
    case.notification.estimated_infection_date = Some(d(2021, 8, 8)); // onset 8/7
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::InfectionAfterOnset, "notification.estimated_infection_date".to_string())]);
}

// §4.2 collection ≤ result --------------------------------------------------

#[test]
fn result_before_collection_is_an_error_on_that_test() {
    let mut case = hanako();
    // A second test whose dates were swapped when typed in.
    case.tests.push(pcr(12, d(2021, 8, 11), Some((TestResult::Positive, d(2021, 8, 10)))));
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::ResultBeforeCollection, test_path(12, "result_on"))]);
    assert!(only(&problems, RuleCode::ResultBeforeCollection).message_ja.contains("検査記録（2021年8月11日採取）"));
}

// §4.2 admission ≤ discharge ------------------------------------------------

#[test]
fn discharge_before_admission_is_an_error() {
    let mut case = hanako();
    case.measures.current_status = Some(CurrentStatus::RecoveryEnded);
    case.measures.admission_date = Some(d(2021, 8, 11));
    case.measures.discharge_date = Some(d(2021, 8, 1));
    let problems = check(&case, d(2021, 8, 20));
    assert_eq!(errors(&problems), vec![(RuleCode::DischargeBeforeAdmission, "measures.discharge_date".to_string())]);
}

// §4.2 nothing after death except death-related entries ---------------------

#[test]
fn clinical_entries_after_death_are_errors_but_reporting_and_post_mortem_tests_are_not() {
    let mut case = hanako();
    case.notification.death_date = Some(d(2021, 8, 14));
    case.measures.current_status = Some(CurrentStatus::Died);
    case.measures.status_updated_on = Some(d(2021, 8, 16));
    case.measures.admission_date = Some(d(2021, 8, 12));
    case.measures.discharge_date = Some(d(2021, 8, 14)); // 死亡退院, same day: fine
    case.measures.recovery_ended_on = Some(d(2021, 8, 17)); // after death: wrong
    case.investigation.behaviour.push(BehaviourEntry {
        id: id(41),
        date: Some(d(2021, 8, 15)),
        place: "三軒茶屋駅".into(),
        note: String::new(),
    });
    // A post-mortem swab and its result, and the report, after death: fine.
    case.tests.push(pcr(12, d(2021, 8, 15), Some((TestResult::Positive, d(2021, 8, 16)))));
    reported_on(&mut case, d(2021, 8, 16));
    let problems = check(&case, d(2021, 8, 18));
    assert_eq!(
        errors(&problems),
        vec![
            (RuleCode::EventAfterDeath, "measures.recovery_ended_on".to_string()),
            (RuleCode::EventAfterDeath, format!("investigation.behaviour[{}].date", id(41))),
        ]
    );
}

#[test]
fn dead_at_first_visit_needs_a_deceased_class() {
    let mut case = hanako();
    case.notification.death_date = Some(d(2021, 8, 8));
    case.measures.current_status = Some(CurrentStatus::Died);
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::DeceasedClassRequired, "notification.diagnosis_class".to_string())]);

    case.notification.diagnosis_class = Some(DiagnosisClass::Deceased);
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
}

#[test]
fn death_date_without_died_status_is_a_warning() {
    let mut case = hanako();
    case.notification.death_date = Some(d(2021, 8, 11));
    let problems = check(&case, d(2021, 8, 12));
    let p = only(&problems, RuleCode::StatusNotDied);
    assert_eq!((p.path.as_str(), p.severity), ("measures.current_status", ProblemSeverity::Warning));
    assert_eq!(errors(&problems), vec![]);
}

// §4.2 no date in the future ----------------------------------------------

#[test]
fn dates_after_today_are_errors_wherever_they_are() {
    let mut case = hanako();
    case.tests[0].result_on = Some(d(2021, 8, 13));
    case.measures.recovery_ended_on = Some(d(2021, 8, 24)); // planned, not happened
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        errors(&problems),
        vec![(RuleCode::FutureDate, test_path(11, "result_on")), (RuleCode::FutureDate, "measures.recovery_ended_on".to_string()),]
    );
    assert!(problems[0].message_ja.contains("今日（2021年8月12日）以前"), "{}", problems[0].message_ja);
}

// §4.2 birth not after any event, age in range ---------------------------------

#[test]
fn birth_after_an_event_is_one_error_naming_the_earliest_event() {
    let mut case = hanako();
    case.basic.birth_date = Some(d(2021, 8, 5)); // the onset year typed as the birth year
    let problems = check(&case, d(2021, 8, 12));
    let p = only(&problems, RuleCode::BirthAfterEvent);
    assert_eq!(p.path, "basic.birth_date");
    // The vaccination on 2021-07-20 is the earliest event before that birth date.
    assert!(p.message_ja.contains("ワクチン1回目の接種日（2021年7月20日）"), "{}", p.message_ja);
}

#[test]
fn a_newborn_diagnosed_on_the_day_of_birth_is_fine() {
    let mut case = hanako();
    case.basic.birth_date = Some(d(2021, 8, 10));
    case.notification.estimated_infection_date = Some(d(2021, 8, 10));
    case.notification.onset_date = Some(d(2021, 8, 10));
    case.notification.first_visit_date = Some(d(2021, 8, 10));
    case.tests[0].collected_on = Some(d(2021, 8, 10));
    case.notification.vaccinations.clear();
    case.basic.guardian = Some(Guardian { name: "山田 一郎".into(), ..Default::default() });
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
}

#[test]
fn an_age_over_130_is_rejected() {
    let mut case = hanako();
    // 昭和51年 mistaken for 明治9年: 1876 instead of 1976.
    case.basic.birth_date = Some(d(1876, 3, 14));
    let problems = check(&case, d(2021, 8, 12));
    let p = only(&problems, RuleCode::AgeOutOfRange);
    assert_eq!(p.path, "basic.birth_date");
    assert!(p.message_ja.contains("145歳"), "{}", p.message_ja);
}

#[test]
fn an_age_of_115_is_accepted() {
    let mut case = hanako();
    case.basic.birth_date = Some(d(1906, 1, 2));
    case.notification.vaccinations[0].age_at_dose = Some(115);
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
}

#[test]
fn an_impossible_age_at_vaccination_is_rejected() {
    let mut case = hanako();
    case.notification.vaccinations[0].age_at_dose = Some(450); // "45" typed with a stray 0
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::AgeOutOfRange, "notification.vaccinations[1].age_at_dose".to_string())]);
}

// §4.2 severe needs ICU, ventilator or ECMO (warning) -----------------------

#[test]
fn severe_status_without_icu_ventilator_or_ecmo_is_a_warning() {
    let mut case = hanako();
    case.measures.current_status = Some(CurrentStatus::HospitalisedSevere);
    case.measures.admission_date = Some(d(2021, 8, 11));
    case.measures.hospital = "東京都立広尾病院".into();
    let problems = check(&case, d(2021, 8, 12));
    let p = only(&problems, RuleCode::SevereWithoutIcu);
    assert_eq!((p.path.as_str(), p.severity), ("measures.current_status", ProblemSeverity::Warning));
    assert_eq!(errors(&problems), vec![]);

    case.measures.ventilator = true;
    assert!(check(&case, d(2021, 8, 12)).iter().all(|p| p.rule != RuleCode::SevereWithoutIcu));
}

#[test]
fn severe_at_notification_without_icu_is_a_warning_on_the_severity() {
    let mut case = hanako();
    case.notification.severity = Some(Severity::Severe);
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(only(&problems, RuleCode::SevereWithoutIcu).path, "notification.severity");
}

#[test]
fn severe_means_exactly_icu_ventilator_or_ecmo() {
    let none = Measures::default();
    assert!(!none.is_severe());
    assert!(Measures { icu: true, ..Default::default() }.is_severe());
    assert!(Measures { ventilator: true, ..Default::default() }.is_severe());
    assert!(Measures { ecmo: true, ..Default::default() }.is_severe());
    // A severe-sounding status alone is not severity.
    assert!(!Measures { current_status: Some(CurrentStatus::HospitalisedSevere), ..Default::default() }.is_severe());
}

// Form values --------------------------------------------------------------

#[test]
fn spo2_over_100_on_the_notification_is_rejected() {
    let mut case = hanako();
    case.notification.spo2_room_air = Some(101);
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::Spo2OutOfRange, "notification.spo2_room_air".to_string())]);
    case.notification.spo2_room_air = Some(100);
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
}

#[test]
fn specimen_must_be_allowed_for_the_method() {
    let mut case = hanako();
    // Qualitative antigen tests take nasal or nasopharyngeal swabs only.
    let mut antigen = pcr(12, d(2021, 8, 9), Some((TestResult::Positive, d(2021, 8, 9))));
    antigen.method = Some(TestMethod::AntigenQualitative);
    antigen.specimen = Some(Specimen::Saliva);
    case.tests.push(antigen);
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::SpecimenNotAllowedForMethod, test_path(12, "specimen"))]);
    let p = only(&problems, RuleCode::SpecimenNotAllowedForMethod);
    assert_eq!(p.message_ja, "抗原定性検査では検体「唾液」は使えません。鼻腔拭い液・鼻咽頭拭い液のいずれかを選んでください。");

    // The same saliva is fine for a quantitative antigen test, and stool for PCR.
    case.tests[1].method = Some(TestMethod::AntigenQuantitative);
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
    case.tests[1].method = Some(TestMethod::NucleicAcid);
    case.tests[1].specimen = Some(Specimen::Stool);
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
}

#[test]
fn other_without_detail_is_a_warning() {
    let mut case = hanako();
    case.tests[0].specimen = Some(Specimen::Other);
    case.notification.symptoms.push(Symptom::Other);
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        rules(&problems),
        vec![
            (RuleCode::OtherDetailMissing, test_path(11, "specimen_other")),
            (RuleCode::OtherDetailMissing, "notification.symptoms_other".to_string()),
        ]
    );
    assert!(problems.iter().all(|p| p.severity == ProblemSeverity::Warning));
}

#[test]
fn symptom_none_together_with_symptoms_is_an_error() {
    let mut case = hanako();
    case.notification.symptoms.push(Symptom::None);
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![(RuleCode::SymptomsNoneWithOthers, "notification.symptoms".to_string())]);
}

#[test]
fn asymptomatic_carrier_with_symptoms_and_onset_is_warned_twice() {
    let mut case = hanako();
    case.notification.diagnosis_class = Some(DiagnosisClass::AsymptomaticCarrier);
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        rules(&problems),
        vec![
            (RuleCode::AsymptomaticWithSymptoms, "notification.symptoms".to_string()),
            (RuleCode::AsymptomaticWithSymptoms, "notification.onset_date".to_string()),
        ]
    );
}

#[test]
fn confirmed_class_with_only_negative_tests_is_warned() {
    let mut case = hanako();
    case.tests[0].result = Some(TestResult::Negative);
    let problems = check(&case, d(2021, 8, 12));
    let p = only(&problems, RuleCode::PositiveTestMissing);
    assert_eq!((p.path.as_str(), p.severity), ("tests", ProblemSeverity::Warning));
}

#[test]
fn vaccine_doses_are_numbered_once_each_and_dated_in_order() {
    let mut case = hanako();
    let dose = |n: u8, date| VaccineDose { dose: n, status: Some(YesNoUnknown::Yes), date: Some(date), ..Default::default() };
    case.notification.vaccinations = vec![
        dose(1, d(2021, 7, 20)),
        dose(2, d(2021, 7, 1)), // before dose 1
        dose(2, d(2021, 8, 10)),
        dose(0, d(2021, 6, 1)),
    ];
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        errors(&problems),
        vec![
            (RuleCode::DoseNumberDuplicate, "notification.vaccinations[2].dose".to_string()),
            (RuleCode::DoseNumberInvalid, "notification.vaccinations[0].dose".to_string()),
            (RuleCode::DoseDateOrder, "notification.vaccinations[2].date".to_string()),
        ]
    );
}

#[test]
fn departure_after_entry_is_an_error() {
    let mut case = hanako();
    case.notification.infection_region.abroad = Some(AbroadRegion {
        country: "フィリピン".into(),
        detail: "マニラ".into(),
        departure_date: Some(d(2021, 8, 2)),
        entry_date: Some(d(2021, 7, 28)), // swapped
    });
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::DepartureAfterEntry, "notification.infection_region.abroad.entry_date".to_string())]);
}

#[test]
fn name_reading_in_romaji_is_warned() {
    let mut case = hanako();
    case.basic.name_kana = "Yamada Hanako".into();
    assert_eq!(rules(&check(&case, d(2021, 8, 12))), vec![(RuleCode::NotKana, "basic.name_kana".to_string())]);
    case.basic.name_kana = "やまだ　はなこ".into();
    assert_eq!(rules(&check(&case, d(2021, 8, 12))), vec![]);
}

// Guardian: minors only, and the age of majority changed on 2022-04-01 ------

#[test]
fn guardian_for_an_adult_is_warned() {
    let mut case = hanako();
    case.basic.guardian = Some(Guardian { name: "山田 一郎".into(), ..Default::default() });
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(rules(&problems), vec![(RuleCode::GuardianForAdult, "basic.guardian".to_string())]);
}

#[test]
fn a_19_year_old_needed_a_guardian_in_2021_but_not_after_april_2022() {
    let mut case = hanako();
    case.basic.birth_date = Some(d(2002, 5, 1));
    case.notification.vaccinations.clear();
    let policy = policy();
    let once_known = required_once_known_items(&case, &ctx(d(2021, 8, 12), &policy));
    assert!(once_known.contains(&"basic.guardian"), "{once_known:?}");
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(only(&problems, RuleCode::RequiredOnceKnown).path, "basic.guardian");

    // The same 20-year-old diagnosed in 2022-07 is an adult (majority is 18 from 2022-04-01).
    let mut later = hanako();
    later.basic.birth_date = Some(d(2003, 5, 1));
    later.notification.vaccinations.clear();
    later.notification.diagnosis_date = Some(d(2022, 7, 10));
    let once_known = required_once_known_items(&later, &ctx(d(2022, 7, 12), &policy));
    assert!(!once_known.contains(&"basic.guardian"), "{once_known:?}");
}

// §4.1 required items come from the policy ----------------------------------

#[test]
fn surge_minimum_items_missing_are_errors_each_on_its_field() {
    let mut case = hanako();
    case.basic.name.clear();
    case.basic.sex = None;
    case.basic.birth_date = None;
    case.notification.diagnosis_class = None;
    case.tests.clear();
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        errors(&problems),
        vec![
            (RuleCode::Required, "notification.diagnosis_class".to_string()),
            (RuleCode::Required, "basic.name".to_string()),
            (RuleCode::Required, "basic.sex".to_string()),
            (RuleCode::Required, "basic.birth_date".to_string()),
            (RuleCode::Required, "tests".to_string()),
        ]
    );
    let birth = problems.iter().find(|p| p.path == "basic.birth_date").expect("birth problem");
    assert_eq!(birth.message_ja, "生年月日が入力されていません。生年月日を入力してください。");
    assert_eq!(birth.message_en, "The date of birth is missing. Enter the date of birth.");
}

#[test]
fn each_test_needs_method_specimen_and_collection_date() {
    let mut case = hanako();
    case.tests.push(TestRecord { id: id(12), institution: SANCHA_CLINIC.into(), ..Default::default() });
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        errors(&problems),
        vec![
            (RuleCode::Required, test_path(12, "method")),
            (RuleCode::Required, test_path(12, "specimen")),
            (RuleCode::Required, test_path(12, "collected_on")),
        ]
    );
}

#[test]
fn the_result_is_required_once_known() {
    let mut case = suspected_taro();
    // Pending: no result date, no result: fine.
    assert_eq!(errors(&check(&case, d(2022, 10, 3))), vec![]);
    // A result date says the result is known: it must be entered.
    case.tests[0].result_on = Some(d(2022, 10, 4));
    assert_eq!(errors(&check(&case, d(2022, 10, 4))), vec![(RuleCode::Required, test_path(21, "result"))]);
}

#[test]
fn location_falls_back_to_the_registered_address() {
    let mut case = hanako();
    case.basic.residence = Address::default();
    assert_eq!(errors(&check(&case, d(2021, 8, 12))), vec![]);
    case.basic.registered_address = Address::default();
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(errors(&problems), vec![(RuleCode::Required, "basic.residence".to_string())]);
}

#[test]
fn items_required_by_law_once_known_are_warnings_not_errors() {
    let mut case = hanako();
    case.basic.occupation.clear();
    case.notification.infection_link = None;
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        rules(&problems),
        vec![
            (RuleCode::RequiredOnceKnown, "basic.occupation".to_string()),
            (RuleCode::RequiredOnceKnown, "notification.infection_link".to_string()),
        ]
    );
    assert!(problems.iter().all(|p| p.severity == ProblemSeverity::Warning));
}

#[test]
fn the_simplified_notification_of_august_2022_asks_fewer_items() {
    // 花子's course a year later, in the simplified period.
    let mut case = hanako();
    case.notification.estimated_infection_date = Some(d(2022, 8, 9));
    case.notification.onset_date = Some(d(2022, 8, 12));
    case.notification.first_visit_date = Some(d(2022, 8, 14));
    case.notification.diagnosis_date = Some(d(2022, 8, 15));
    case.tests[0] = pcr(11, d(2022, 8, 14), Some((TestResult::Positive, d(2022, 8, 15))));
    case.measures.status_updated_on = Some(d(2022, 8, 15));
    // Items the full form asks, which the simplified one does not.
    case.basic.occupation.clear();
    case.notification.infection_route = InfectionRoute::default();
    assert_eq!(rules(&check(&case, d(2022, 8, 16))), vec![]);
}

#[test]
fn required_items_for_the_screen_follow_the_case() {
    let policy = policy();
    let hanako = hanako();
    let items = required_items(&hanako, &ctx(d(2021, 8, 12), &policy));
    assert_eq!(
        items,
        vec![
            "notification.diagnosis_class",
            "basic.name",
            "basic.sex",
            "basic.birth_date",
            "basic.residence",
            "tests",
            "tests[].method",
            "tests[].specimen",
            "tests[].collected_on",
            "tests[].result",
        ]
    );
    // Onset and symptoms are not asked of an asymptomatic carrier.
    let mut carrier = hanako.clone();
    carrier.notification.diagnosis_class = Some(DiagnosisClass::AsymptomaticCarrier);
    let once_known = required_once_known_items(&carrier, &ctx(d(2021, 8, 12), &policy));
    assert!(!once_known.contains(&"notification.onset_date"));
    assert!(!once_known.contains(&"notification.symptoms"));
    assert!(required_once_known_items(&hanako, &ctx(d(2021, 8, 12), &policy)).contains(&"notification.onset_date"));
    // Nothing is marked on an open-data row.
    assert!(required_items(&open_data_row(), &ctx(d(2021, 8, 12), &policy)).is_empty());
}

// Open-data rows ------------------------------------------------------------

#[test]
fn open_data_rows_skip_required_items_but_keep_consistency_checks() {
    let row = open_data_row();
    assert_eq!(rules(&check(&row, d(2021, 1, 1))), vec![]);

    let mut future = open_data_row();
    if let Some(p) = future.publication.as_mut() {
        p.published_on = Some(d(2027, 7, 15)); // 2020 mistyped
    }
    let problems = check(&future, d(2021, 1, 1));
    assert_eq!(rules(&problems), vec![(RuleCode::FutureDate, "publication.published_on".to_string())]);
}

// Notifiable scope (2022-09-26) -------------------------------------------

#[test]
fn a_healthy_30_year_old_in_october_2022_is_outside_the_notifiable_scope() {
    let mut case = suspected_taro();
    case.basic.birth_date = Some(d(1992, 4, 10));
    case.notification.risk_factors.clear();
    let problems = check(&case, d(2022, 10, 3));
    let p = only(&problems, RuleCode::OutsideNotifiableScope);
    assert_eq!((p.path.as_str(), p.severity), ("notification", ProblemSeverity::Warning));
    assert!(p.message_ja.contains("65歳以上、入院を要する者"), "{}", p.message_ja);

    // Pregnant: notifiable.
    case.basic.sex = Some(Sex::Female);
    case.notification.pregnancy = Some(true);
    assert!(check(&case, d(2022, 10, 3)).iter().all(|p| p.rule != RuleCode::OutsideNotifiableScope));
}

#[test]
fn after_the_move_to_category_5_no_case_is_notified_individually() {
    let mut case = suspected_taro();
    case.notification.diagnosis_date = Some(d(2023, 6, 1));
    case.notification.first_visit_date = Some(d(2023, 6, 1));
    case.notification.onset_date = Some(d(2023, 5, 31));
    case.tests[0].collected_on = Some(d(2023, 6, 1));
    case.measures.status_updated_on = Some(d(2023, 6, 1));
    let problems = check(&case, d(2023, 6, 1));
    assert_eq!(rules(&problems), vec![(RuleCode::OutsideNotifiableScope, "notification".to_string())]);
    assert_eq!(problems[0].message_ja, "「5類感染症（定点把握）」（2023年5月8日～）の期間では、個別の発生届は行いません。");
}

// Several problems at once ------------------------------------------------

#[test]
fn every_problem_is_returned_at_once() {
    let mut case = hanako();
    case.basic.sex = None;
    case.notification.onset_date = Some(d(2021, 8, 11));
    case.notification.spo2_room_air = Some(150);
    case.measures.admission_date = Some(d(2021, 8, 11));
    case.measures.discharge_date = Some(d(2021, 8, 10));
    reported_on(&mut case, d(2021, 8, 9));
    let problems = check(&case, d(2021, 8, 12));
    assert_eq!(
        errors(&problems),
        vec![
            (RuleCode::Required, "basic.sex".to_string()),
            (RuleCode::ReportBeforeDiagnosis, "notification.report_date".to_string()),
            (RuleCode::OnsetAfterDiagnosis, "notification.onset_date".to_string()),
            (RuleCode::DischargeBeforeAdmission, "measures.discharge_date".to_string()),
            (RuleCode::Spo2OutOfRange, "notification.spo2_room_air".to_string()),
        ]
    );
}

#[test]
fn problems_serialise_with_stable_codes() {
    let mut case = hanako();
    reported_on(&mut case, d(2021, 8, 9));
    let problems = check(&case, d(2021, 8, 12));
    let json = serde_json::to_value(&problems[0]).expect("serialises");
    assert_eq!(json["rule"], "report_before_diagnosis");
    assert_eq!(json["severity"], "error");
    assert_eq!(json["path"], "notification.report_date");
    let back: todoke_domain::validate::Problem = serde_json::from_value(json).expect("deserialises");
    assert_eq!(back, problems[0]);
}

#[test]
fn rule_codes_are_unique_and_parse_back() {
    let mut seen = std::collections::HashSet::new();
    for rule in RuleCode::ALL {
        assert!(seen.insert(rule.code()), "duplicate code {}", rule.code());
        assert_eq!(RuleCode::parse(rule.code()), Some(*rule));
        assert_eq!(serde_json::to_value(rule).expect("serialises"), rule.code());
    }
    assert_eq!(RuleCode::parse("no_such_rule"), None);
}

// Health observations -----------------------------------------------------

fn observation(at: &str, temperature: Option<f32>, spo2: Option<u8>) -> Observation {
    Observation {
        id: id(90),
        case_id: id(1),
        observed_at: Some(chrono::DateTime::parse_from_rfc3339(at).expect("valid time")),
        temperature,
        spo2,
        source: Some(ObservationSource::Patient),
        entered_by: "patient".into(),
        ..Default::default()
    }
}

fn check_observation(o: &Observation, today: chrono::NaiveDate) -> Vec<(RuleCode, String)> {
    let policy = policy();
    rules(&validate_observation(o, &ctx(today, &policy)))
}

#[test]
fn a_normal_morning_observation_is_fine() {
    let o = observation("2021-08-12T08:30:00+09:00", Some(37.4), Some(96));
    assert_eq!(check_observation(&o, d(2021, 8, 12)), vec![]);
}

#[test]
fn impossible_temperatures_are_rejected() {
    for t in [29.9, 45.1, 365.0, f32::NAN] {
        let o = observation("2021-08-12T08:30:00+09:00", Some(t), None);
        assert_eq!(check_observation(&o, d(2021, 8, 12)), vec![(RuleCode::TemperatureOutOfRange, "temperature".to_string())], "{t}");
    }
    for t in [30.0, 35.2, 41.5, 45.0] {
        let o = observation("2021-08-12T08:30:00+09:00", Some(t), None);
        assert_eq!(check_observation(&o, d(2021, 8, 12)), vec![], "{t}");
    }
}

#[test]
fn impossible_spo2_is_rejected() {
    for s in [0, 9, 49, 101] {
        let o = observation("2021-08-12T08:30:00+09:00", None, Some(s));
        assert_eq!(check_observation(&o, d(2021, 8, 12)), vec![(RuleCode::Spo2OutOfRange, "spo2".to_string())], "{s}");
    }
    let low_but_real = observation("2021-08-12T08:30:00+09:00", None, Some(88));
    assert_eq!(check_observation(&low_but_real, d(2021, 8, 12)), vec![]);
}

#[test]
fn an_observation_needs_a_time_not_in_the_future() {
    let mut o = observation("2021-08-13T07:00:00+09:00", Some(36.8), Some(97));
    assert_eq!(check_observation(&o, d(2021, 8, 12)), vec![(RuleCode::FutureDate, "observed_at".to_string())]);
    o.observed_at = None;
    assert_eq!(check_observation(&o, d(2021, 8, 12)), vec![(RuleCode::Required, "observed_at".to_string())]);
}

//! Data-quality lists on hand-made cases.

use chrono::{DateTime, FixedOffset, NaiveDate};
use todoke_domain::policy::Policy;
use todoke_domain::validate::Context;
use todoke_domain::{Case, Confirmation, CurrentStatus, Observation, Sex};
use todoke_reports::{quality_table, QualityChecker, QualityList, QualityOptions};
use uuid::Uuid;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn at(s: &str) -> Option<DateTime<FixedOffset>> {
    Some(DateTime::parse_from_rfc3339(s).unwrap())
}

/// The sample case: complete and consistent, confirmed, recovery ended.
fn good(n: u128) -> Case {
    let mut c = todoke_synth::sample_case(n as u64);
    c.id = Uuid::from_u128(n);
    c.notification.health_centre_confirmation = Some(Confirmation { on: d("2022-01-24"), by: "hc".into() });
    c.basic.name_kana = format!("テスト{n}");
    c
}

fn obs(case: Uuid, n: u128, when: &str) -> Observation {
    Observation { id: Uuid::from_u128(10_000 + n), case_id: case, observed_at: at(when), temperature: Some(36.5), ..Observation::default() }
}

#[test]
fn every_list_names_its_cases_with_a_reason() {
    let today = d("2022-02-10");
    let policy = Policy::default_rules();
    let mut checker = QualityChecker::new(Context::new(today, &policy), QualityOptions { unconfirmed_days: 3, stale_status_days: 10 });

    let clean = good(1);
    assert!(
        todoke_domain::validate::validate_case(&clean, &Context::new(today, &policy)).iter().all(|p| !p.is_error()),
        "the base case must be clean for this test to mean anything"
    );
    checker.add(&clean, &[]);

    let mut missing = good(2);
    missing.basic.birth_date = None;
    missing.basic.sex = None;
    checker.add(&missing, &[]);

    let mut dates = good(3);
    dates.measures.discharge_date = Some(d("2022-01-20")); // before admission 2022-01-23
    checker.add(&dates, &[]);

    let mut unconfirmed = good(4);
    unconfirmed.notification.health_centre_confirmation = None; // reported 2022-01-23
    checker.add(&unconfirmed, &[]);

    let mut stale = good(5);
    stale.measures.current_status = Some(CurrentStatus::HomeRecovery);
    stale.measures.discharge_date = None;
    stale.measures.status_updated_on = Some(d("2022-01-25"));
    checker.add(&stale, &[]);

    // Same person twice: hiragana / half-width katakana, same birth date and sex.
    let mut dup_a = good(6);
    dup_a.basic.name_kana = "やまだ はなこ".into();
    dup_a.basic.birth_date = Some(d("1990-04-01"));
    dup_a.basic.sex = Some(Sex::Female);
    let mut dup_b = dup_a.clone();
    dup_b.id = Uuid::from_u128(7);
    dup_b.basic.name_kana = "ﾔﾏﾀﾞﾊﾅｺ".into();
    checker.add(&dup_a, &[]);
    checker.add(&dup_b, &[]);
    // Same kana and birth date, other sex: not a duplicate.
    let mut other_sex = dup_a.clone();
    other_sex.id = Uuid::from_u128(8);
    other_sex.basic.sex = Some(Sex::Male);
    checker.add(&other_sex, &[]);

    // Self-report on the 6th, 7th, 9th and (superseded) 8th; today is the 10th and
    // recovery goes on: the 8th and the 10th are missing.
    let mut gaps = good(9);
    gaps.follow_up.self_report_enabled = true;
    gaps.measures.current_status = Some(CurrentStatus::HomeRecovery);
    gaps.measures.discharge_date = None;
    gaps.measures.status_updated_on = Some(d("2022-02-06"));
    let id = gaps.id;
    let wrong = obs(id, 3, "2022-02-08T09:00:00+09:00");
    let fix = Observation { supersedes: Some(wrong.id), ..obs(id, 4, "2022-02-09T08:00:00+09:00") };
    let list = [obs(id, 1, "2022-02-06T09:00:00+09:00"), obs(id, 2, "2022-02-07T23:30:00+09:00"), wrong, fix];
    checker.add(&gaps, &list);

    // Soft-deleted cases are never listed.
    let mut deleted = missing.clone();
    deleted.id = Uuid::from_u128(99);
    deleted.deleted = Some(todoke_domain::Deletion { on: today, by: "x".into(), reason: "t".into() });
    checker.add(&deleted, &[]);

    let issues = checker.finish();
    let listed: Vec<(QualityList, u128)> = issues.iter().map(|i| (i.list, i.case_id.as_u128())).collect();
    assert_eq!(
        listed,
        vec![
            (QualityList::MissingRequired, 2),
            (QualityList::InconsistentDates, 3),
            (QualityList::Unconfirmed, 4),
            (QualityList::StaleStatus, 5),
            (QualityList::ProbableDuplicate, 6),
            (QualityList::ProbableDuplicate, 7),
            (QualityList::ObservationGap, 9),
        ]
    );
    let reason = |n: u128| &issues.iter().find(|i| i.case_id.as_u128() == n).unwrap().reason_en;
    assert!(reason(2).contains("basic.birth_date") && reason(2).contains("basic.sex"), "{}", reason(2));
    assert!(reason(3).contains("discharge_before_admission"), "{}", reason(3));
    assert!(reason(4).contains("18 days"), "{}", reason(4));
    assert!(reason(5).contains("16 days"), "{}", reason(5));
    assert!(reason(6).contains(&Uuid::from_u128(7).to_string()), "{}", reason(6));
    assert_eq!(reason(9), "2 day(s) without a report: 2022-02-08, 2022-02-10");

    let table = quality_table(&issues);
    assert_eq!(table.rows.len(), issues.len());
}

//! DOMAIN.md §4.5 (who reported, who did not, whose values concern) and
//! §4.6 (processing numbers).

use chrono::{FixedOffset, NaiveDate, TimeZone};
use todoke_domain::followup::{assess, enable_self_report, issue_processing_number};
use todoke_domain::validate::RuleCode;
use todoke_domain::*;
use uuid::Uuid;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// 40-year-old 佐藤 健一 recovering at home in 大田区, self-report enabled.
fn home_case() -> Case {
    let mut c = Case { id: Uuid::now_v7(), ..Default::default() };
    c.basic.name = "佐藤 健一".into();
    c.basic.name_kana = "サトウ ケンイチ".into();
    c.basic.birth_date = Some(d(1982, 6, 3));
    c.basic.sex = Some(Sex::Male);
    c.measures.current_status = Some(CurrentStatus::HomeRecovery);
    c.notification.diagnosis_date = Some(d(2022, 8, 1));
    enable_self_report(&mut c);
    c
}

fn obs(case: &Case, y: i32, m: u32, day: u32, hour: u32, temp: f32, spo2: u8) -> Observation {
    let jst = FixedOffset::east_opt(9 * 3600).unwrap();
    Observation {
        id: Uuid::now_v7(),
        case_id: case.id,
        observed_at: Some(jst.with_ymd_and_hms(y, m, day, hour, 0, 0).unwrap()),
        temperature: Some(temp),
        spo2: Some(spo2),
        breathlessness: Some(false),
        source: Some(ObservationSource::Patient),
        ..Default::default()
    }
}

#[test]
fn reported_today_with_normal_values_needs_no_call() {
    let c = home_case();
    let a = assess(&c, &[obs(&c, 2022, 8, 2, 8, 37.9, 97), obs(&c, 2022, 8, 3, 8, 36.8, 98)], d(2022, 8, 3));
    assert!(!a.needs_call, "{a:?}");
    assert!(a.concerns.is_empty());
    assert_eq!(a.last_reported_on, Some(d(2022, 8, 3)));
}

#[test]
fn no_report_today_is_a_concern() {
    let c = home_case();
    let a = assess(&c, &[obs(&c, 2022, 8, 2, 8, 36.9, 98)], d(2022, 8, 3));
    assert_eq!(a.concerns, vec![Concern::NoReport]);
    assert!(a.needs_call);
}

#[test]
fn report_late_at_night_utc_counts_for_the_jst_day() {
    let c = home_case();
    // 08:00 JST on 3 Aug is 23:00 UTC on 2 Aug: still today's report in Japan.
    let a = assess(&c, &[obs(&c, 2022, 8, 3, 8, 36.9, 98)], d(2022, 8, 3));
    assert!(!a.concerns.contains(&Concern::NoReport));
}

#[test]
fn fever_low_spo2_and_breathlessness_are_concerns() {
    let c = home_case();
    let mut o = obs(&c, 2022, 8, 3, 9, 38.6, 92);
    o.breathlessness = Some(true);
    let a = assess(&c, &[o], d(2022, 8, 3));
    assert_eq!(a.concerns, vec![Concern::Fever, Concern::LowSpo2, Concern::Breathlessness]);
}

#[test]
fn a_superseded_observation_no_longer_counts() {
    let c = home_case();
    let wrong = obs(&c, 2022, 8, 3, 9, 39.5, 97); // typed 39.5 instead of 36.5
    let mut fix = obs(&c, 2022, 8, 3, 9, 36.5, 97);
    fix.supersedes = Some(wrong.id);
    let a = assess(&c, &[fix, wrong], d(2022, 8, 3));
    assert!(a.concerns.is_empty(), "{a:?}");
}

#[test]
fn elderly_person_is_flagged_at_risk_but_not_called_for_that_alone() {
    let mut c = home_case();
    c.basic.birth_date = Some(d(1950, 1, 1));
    let a = assess(&c, &[obs(&c, 2022, 8, 3, 9, 36.5, 97)], d(2022, 8, 3));
    assert_eq!(a.concerns, vec![Concern::HighRisk]);
    assert!(!a.needs_call);
}

#[test]
fn recovered_person_without_self_report_is_not_chased() {
    let mut c = home_case();
    c.follow_up.self_report_enabled = false;
    c.measures.current_status = Some(CurrentStatus::RecoveryEnded);
    assert!(assess(&c, &[], d(2022, 8, 20)).concerns.is_empty());
}

#[test]
fn processing_number_is_issued_once_and_dated() {
    let mut c = home_case();
    issue_processing_number(&mut c, "48213907", d(2022, 8, 2)).unwrap();
    assert_eq!(c.follow_up.processing_number.as_deref(), Some("48213907"));
    assert_eq!(c.follow_up.processing_number_issued_on, Some(d(2022, 8, 2)));
    let again = issue_processing_number(&mut c, "11112222", d(2022, 8, 3)).unwrap_err();
    assert_eq!(again[0].rule, RuleCode::ProcessingNumberIssued);
    assert_eq!(c.follow_up.processing_number.as_deref(), Some("48213907"));
}

#[test]
fn processing_number_must_be_eight_digits() {
    let mut c = home_case();
    let e = issue_processing_number(&mut c, "12-34", d(2022, 8, 2)).unwrap_err();
    assert_eq!(e[0].rule, RuleCode::ProcessingNumberInvalid);
    assert!(c.follow_up.processing_number.is_none());
}

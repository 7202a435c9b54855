//! Rule periods are data: the built-in ones, the notifiable scope from
//! 2022-09-26, and custom policies loaded from JSON.

mod fixture;

use fixture::*;
use todoke_domain::policy::{NotifiableCriterion, NotifiableScope, Policy, PolicyError, DEFAULT_JSON};
use todoke_domain::validate::{required_items, validate_case, RuleCode};
use todoke_domain::*;

#[test]
fn the_built_in_periods_load_in_order_and_without_gaps() {
    let policy = Policy::from_json(DEFAULT_JSON).expect("default.json is valid");
    let spans: Vec<(chrono::NaiveDate, Option<chrono::NaiveDate>)> = policy.periods().iter().map(|p| (p.from, p.to)).collect();
    assert_eq!(
        spans,
        vec![
            (d(2020, 2, 1), Some(d(2022, 7, 31))),
            (d(2022, 8, 1), Some(d(2022, 9, 25))),
            (d(2022, 9, 26), Some(d(2023, 5, 7))),
            (d(2023, 5, 8), None),
        ]
    );
    assert_eq!(policy, Policy::default_rules());
}

#[test]
fn the_period_in_force_changes_on_its_first_day() {
    let policy = policy();
    let name = |date| policy.period_on(date).name_en.as_str();
    assert_eq!(name(d(2020, 1, 15)), "Notification of every case", "before the first period, the first applies");
    assert_eq!(name(d(2022, 7, 31)), "Notification of every case");
    assert_eq!(name(d(2022, 8, 1)), "Notification of every case (simplified notification)");
    assert_eq!(name(d(2022, 9, 25)), "Notification of every case (simplified notification)");
    assert_eq!(name(d(2022, 9, 26)), "Notification limited to those at risk");
    assert_eq!(name(d(2023, 5, 8)), "Category 5 (sentinel surveillance)");
}

#[test]
fn from_2022_09_26_only_those_at_risk_are_notified() {
    let policy = policy();
    let on = d(2022, 10, 3);
    let mut case = suspected_taro(); // 72, hypertension, no admission needed
    assert!(policy.is_notifiable(&case, on), "aged 65 or over");

    case.basic.birth_date = Some(d(1957, 10, 4)); // 64 on 2022-10-03, 65 the next day
    assert!(!policy.is_notifiable(&case, on), "64 with a risk factor but no treatment needed");
    assert!(policy.is_notifiable(&case, d(2022, 10, 4)), "65 from the birthday");

    case.notification.treatment_or_oxygen_needed = Some(true);
    assert!(policy.is_notifiable(&case, on), "risk factor and treatment needed");

    case.notification.treatment_or_oxygen_needed = Some(false);
    case.notification.spo2_room_air = Some(92);
    assert!(policy.is_notifiable(&case, on), "SpO2 92 % means oxygen (moderate II)");

    case.notification.spo2_room_air = Some(96);
    case.notification.admission_needed = Some(true);
    assert!(policy.is_notifiable(&case, on), "needs admission");

    case.notification.admission_needed = Some(false);
    case.notification.risk_factors.clear();
    case.notification.severity = Some(Severity::ModerateII);
    assert!(!policy.is_notifiable(&case, on), "moderate II without a risk factor and without admission");
}

#[test]
fn before_the_change_everyone_is_notified_and_after_category_5_no_one() {
    let policy = policy();
    let mut young = hanako();
    young.basic.birth_date = Some(d(1995, 1, 1));
    assert!(policy.is_notifiable(&young, d(2022, 9, 25)));
    assert!(!policy.is_notifiable(&young, d(2022, 9, 26)));
    let elderly = suspected_taro();
    assert!(!policy.is_notifiable(&elderly, d(2023, 5, 8)));
}

#[test]
fn an_age_band_from_open_data_counts_when_there_is_no_birth_date() {
    let policy = policy();
    let mut row = open_data_row();
    row.basic.reported_age_band = Some(AgeBand::Seventies);
    assert!(policy.is_notifiable(&row, d(2022, 10, 1)));
    row.basic.reported_age_band = Some(AgeBand::Sixties); // 60–69: cannot tell ≥ 65
    assert!(!policy.is_notifiable(&row, d(2022, 10, 1)));
}

#[test]
fn a_custom_policy_changes_the_required_items() {
    // A prefecture that wants occupation and the kana reading before a report.
    let json = r#"{
        "periods": [{
            "from": "2020-02-01",
            "name_ja": "県独自（職業・フリガナ必須）",
            "name_en": "Prefectural rules",
            "required_items": ["notification.diagnosis_class", "basic.name", "basic.name_kana", "basic.occupation"],
            "notifiable_scope": {"kind": "all"}
        }]
    }"#;
    let custom = Policy::from_json(json).expect("valid");
    let mut case = hanako();
    case.basic.occupation.clear();
    case.basic.birth_date = None; // required by default, not by this policy
    let problems = validate_case(&case, &ctx(d(2021, 8, 12), &custom));
    assert_eq!(errors(&problems), vec![(RuleCode::Required, "basic.occupation".to_string())]);
    assert_eq!(
        required_items(&case, &ctx(d(2021, 8, 12), &custom)),
        vec!["notification.diagnosis_class", "basic.name", "basic.name_kana", "basic.occupation"]
    );

    let default = policy();
    assert_eq!(errors(&validate_case(&case, &ctx(d(2021, 8, 12), &default))), vec![(RuleCode::Required, "basic.birth_date".to_string())]);
    assert_eq!(custom.periods()[0].same_course_days, 14, "defaulted");
}

#[test]
fn the_period_of_the_diagnosis_date_decides_not_today() {
    // A period change between diagnosis and the check: the diagnosis date's rules hold.
    let json = r#"{"periods": [
        {"from": "2020-02-01", "to": "2021-08-31", "name_ja": "旧", "name_en": "Old",
         "required_items": ["basic.name"]},
        {"from": "2021-09-01", "name_ja": "新", "name_en": "New",
         "required_items": ["basic.name", "basic.occupation"]}
    ]}"#;
    let custom = Policy::from_json(json).expect("valid");
    let mut case = hanako(); // diagnosed 2021-08-10
    case.basic.occupation.clear();
    assert_eq!(errors(&validate_case(&case, &ctx(d(2021, 9, 15), &custom))), vec![]);
    case.notification.diagnosis_date = None; // then the report date, else today
    assert_eq!(errors(&validate_case(&case, &ctx(d(2021, 9, 15), &custom))), vec![(RuleCode::Required, "basic.occupation".to_string())]);
}

#[test]
fn a_limited_scope_is_read_from_json() {
    let json = r#"{"periods": [{"from": "2020-02-01", "name_ja": "限定", "name_en": "Limited",
        "required_items": [],
        "notifiable_scope": {"kind": "limited", "any_of": [{"age_at_least": 60}, "pregnant"]}}]}"#;
    let policy = Policy::from_json(json).expect("valid");
    assert_eq!(
        policy.periods()[0].notifiable_scope,
        NotifiableScope::Limited { any_of: vec![NotifiableCriterion::AgeAtLeast(60), NotifiableCriterion::Pregnant] }
    );
    let mut case = hanako(); // 45 in 2021
    assert!(!policy.is_notifiable(&case, d(2021, 8, 10)));
    case.notification.pregnancy = Some(true);
    assert!(policy.is_notifiable(&case, d(2021, 8, 10)));
}

#[test]
fn a_policy_naming_an_unknown_item_is_refused() {
    let json = r#"{"periods": [{"from": "2020-02-01", "name_ja": "誤記", "name_en": "Typo",
        "required_items": ["basic.birthdate"]}]}"#;
    match Policy::from_json(json) {
        Err(PolicyError::UnknownItem { index: 0, item, .. }) => assert_eq!(item, "basic.birthdate"),
        other => panic!("expected a refusal naming the item, got {other:?}"),
    }
    // Deserialising a policy inside something else checks it too.
    let err = serde_json::from_str::<Policy>(json).expect_err("refused");
    assert!(err.to_string().contains("basic.birthdate"), "{err}");
    let periods = vec![todoke_domain::policy::RulePeriod {
        from: d(2020, 2, 1),
        to: None,
        name_ja: "誤記".into(),
        name_en: "Typo".into(),
        note: String::new(),
        required_items: vec!["basic.birthdate".into()],
        required_once_known: vec![],
        notifiable_scope: NotifiableScope::All,
        same_course_days: 14,
    }];
    assert!(matches!(Policy::new(periods), Err(PolicyError::UnknownItem { item, .. }) if item == "basic.birthdate"));
}

#[test]
fn periods_with_gaps_overlaps_or_an_open_end_in_the_middle_are_refused() {
    let period = |from: &str, to: Option<&str>| {
        let to = to.map(|t| format!("\"{t}\"")).unwrap_or("null".into());
        format!(r#"{{"from": "{from}", "to": {to}, "name_ja": "期間", "name_en": "P", "required_items": []}}"#)
    };
    let policy = |periods: Vec<String>| Policy::new(serde_json::from_str(&format!("[{}]", periods.join(","))).expect("periods"));
    assert!(matches!(
        policy(vec![period("2020-02-01", Some("2021-01-31")), period("2021-02-02", None)]),
        Err(PolicyError::NotContiguous { index: 1, .. })
    ));
    assert!(matches!(
        policy(vec![period("2020-02-01", Some("2021-01-31")), period("2021-01-15", None)]),
        Err(PolicyError::NotContiguous { index: 1, .. })
    ));
    assert!(matches!(
        policy(vec![period("2020-02-01", None), period("2021-02-01", None)]),
        Err(PolicyError::OpenEndedNotLast { index: 0, .. })
    ));
    assert!(matches!(policy(vec![period("2021-02-01", Some("2021-01-01"))]), Err(PolicyError::EndsBeforeStart { .. })));
    assert!(matches!(policy(vec![]), Err(PolicyError::Empty)));
    assert!(policy(vec![period("2020-02-01", Some("2021-01-31")), period("2021-02-01", None)]).is_ok());
}

#[test]
fn a_policy_survives_a_json_round_trip() {
    let policy = policy();
    let json = serde_json::to_string(&policy).expect("serialises");
    assert_eq!(Policy::from_json(&json).expect("reads back"), policy);
}

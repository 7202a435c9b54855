//! The rules in force at a time: which notification items are required and
//! who must be notified individually (NOTIFICATION_FORM.md, "Rule changes").
//!
//! Periods are data, not code: the built-in periods are `policy/default.json`,
//! and a deployment may load its own. What a policy may name is the item
//! catalogue below ([`ITEMS`]); a policy naming anything else is refused when
//! loaded, so a typo cannot silently drop a required item.

use std::sync::OnceLock;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::age::{age_at, is_minor};
use crate::case::{Case, TestRecord};
use crate::codes::{AgeBand, CurrentStatus, DiagnosisClass, Severity, Sex};

/// The rule periods, oldest first, contiguous, the last possibly open-ended.
///
/// Built only through [`Policy::new`], [`Policy::from_json`] or
/// deserialisation, all of which check the periods, so every date has exactly
/// one period in force.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PolicyData", into = "PolicyData")]
pub struct Policy {
    periods: Vec<RulePeriod>,
}

#[derive(Serialize, Deserialize)]
struct PolicyData {
    periods: Vec<RulePeriod>,
}

impl TryFrom<PolicyData> for Policy {
    type Error = PolicyError;
    fn try_from(data: PolicyData) -> Result<Self, Self::Error> {
        Policy::new(data.periods)
    }
}

impl From<Policy> for PolicyData {
    fn from(policy: Policy) -> Self {
        PolicyData { periods: policy.periods }
    }
}

/// One period of rules (e.g. 「全数届出の見直し」 from 2022-09-26).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulePeriod {
    /// First day in force.
    pub from: NaiveDate,
    /// Last day in force (inclusive); `None` for the period still in force.
    #[serde(default)]
    pub to: Option<NaiveDate>,
    pub name_ja: String,
    pub name_en: String,
    /// Where the rule comes from, and anything an operator should check.
    #[serde(default)]
    pub note: String,
    /// Items a notification cannot be reported without (errors). Paths from [`ITEMS`].
    pub required_items: Vec<String>,
    /// Items required by law once known (施行規則第4条): flagged as warnings
    /// until entered, never blocking a report.
    #[serde(default)]
    pub required_once_known: Vec<String>,
    /// Who is notified individually (発生届); the rest are counted as totals.
    #[serde(default)]
    pub notifiable_scope: NotifiableScope,
    /// A new positive at the same institution within this many days of the
    /// existing case belongs to the same course of care (an edit, not a new case).
    #[serde(default = "default_same_course_days")]
    pub same_course_days: u32,
}

fn default_same_course_days() -> u32 {
    14
}

/// 発生届の対象 — who is notified individually.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NotifiableScope {
    /// 全数届出: every case.
    #[default]
    All,
    /// Only cases meeting any of the criteria; others are reported as daily
    /// totals by age group (総数報告).
    Limited { any_of: Vec<NotifiableCriterion> },
    /// No individual notification at all (e.g. after the move to category 5,
    /// when surveillance became sentinel-based).
    #[serde(rename = "none")]
    NotNotifiable,
}

/// One criterion of a limited notifiable scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifiableCriterion {
    /// Aged at least this many years at diagnosis (65歳以上).
    AgeAtLeast(u32),
    /// 入院を要する者.
    AdmissionNeeded,
    /// 重症化リスクがあり、新型コロナ治療薬の投与又は新たに酸素投与が必要な者.
    SevereRiskNeedingTreatment,
    /// 妊婦.
    Pregnant,
}

/// Why a policy could not be loaded.
#[derive(Debug, Error)]
pub enum PolicyError {
    #[error("policy JSON is malformed: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a policy needs at least one period")]
    Empty,
    #[error("period {index} ({name}) ends before it starts")]
    EndsBeforeStart { index: usize, name: String },
    #[error("period {index} ({name}) is open-ended but is not the last period")]
    OpenEndedNotLast { index: usize, name: String },
    #[error("period {index} ({name}) does not start the day after the previous period ends")]
    NotContiguous { index: usize, name: String },
    #[error("period {index} ({name}) names an unknown item {item:?}")]
    UnknownItem { index: usize, name: String, item: String },
    #[error("period {index} ({name}) limits the notifiable scope to no criterion at all")]
    EmptyScope { index: usize, name: String },
    #[error("period {index} ({name}) has same_course_days 0")]
    ZeroCourseDays { index: usize, name: String },
}

impl Policy {
    /// Checks and orders the periods.
    pub fn new(mut periods: Vec<RulePeriod>) -> Result<Policy, PolicyError> {
        if periods.is_empty() {
            return Err(PolicyError::Empty);
        }
        periods.sort_by_key(|p| p.from);
        let last = periods.len() - 1;
        for (index, p) in periods.iter().enumerate() {
            let name = p.name_en.clone();
            if p.to.is_some_and(|to| to < p.from) {
                return Err(PolicyError::EndsBeforeStart { index, name });
            }
            if p.to.is_none() && index != last {
                return Err(PolicyError::OpenEndedNotLast { index, name });
            }
            if index > 0 && periods[index - 1].to.and_then(|to| to.succ_opt()) != Some(p.from) {
                return Err(PolicyError::NotContiguous { index, name });
            }
            if let Some(item) = p.required_items.iter().chain(&p.required_once_known).find(|i| item(i).is_none()) {
                return Err(PolicyError::UnknownItem { index, name, item: item.clone() });
            }
            if matches!(&p.notifiable_scope, NotifiableScope::Limited { any_of } if any_of.is_empty()) {
                return Err(PolicyError::EmptyScope { index, name });
            }
            if p.same_course_days == 0 {
                return Err(PolicyError::ZeroCourseDays { index, name });
            }
        }
        Ok(Policy { periods })
    }

    /// Reads and checks a policy file's contents.
    pub fn from_json(json: &str) -> Result<Policy, PolicyError> {
        let data: PolicyData = serde_json::from_str(json)?;
        Policy::new(data.periods)
    }

    /// The built-in rules (`policy/default.json`).
    pub fn default_rules() -> Policy {
        static DEFAULT: OnceLock<Policy> = OnceLock::new();
        DEFAULT.get_or_init(|| Policy::from_json(DEFAULT_JSON).expect("policy/default.json is valid (tested)")).clone()
    }

    /// The periods, oldest first.
    pub fn periods(&self) -> &[RulePeriod] {
        &self.periods
    }

    /// The period in force on `date`. Before the first period the first one
    /// applies, after a closed last period the last one does.
    pub fn period_on(&self, date: NaiveDate) -> &RulePeriod {
        self.periods.iter().rev().find(|p| p.from <= date).unwrap_or(&self.periods[0])
    }

    /// Whether the case is notified individually under the rules in force on
    /// `date` (normally its diagnosis date).
    pub fn is_notifiable(&self, case: &Case, date: NaiveDate) -> bool {
        self.period_on(date).is_notifiable(case, date)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::default_rules()
    }
}

/// `policy/default.json`.
pub const DEFAULT_JSON: &str = include_str!("../policy/default.json");

impl RulePeriod {
    /// Whether `date` falls in this period.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }

    /// Whether the case is notified individually in this period (ages on `on`).
    pub fn is_notifiable(&self, case: &Case, on: NaiveDate) -> bool {
        match &self.notifiable_scope {
            NotifiableScope::All => true,
            NotifiableScope::Limited { any_of } => any_of.iter().any(|c| c.met_by(case, on)),
            NotifiableScope::NotNotifiable => false,
        }
    }
}

impl NotifiableCriterion {
    /// 「65歳以上」.
    pub fn label_ja(&self) -> String {
        match self {
            NotifiableCriterion::AgeAtLeast(years) => format!("{years}歳以上"),
            NotifiableCriterion::AdmissionNeeded => "入院を要する者".to_string(),
            NotifiableCriterion::SevereRiskNeedingTreatment => "重症化リスクがあり治療薬投与又は酸素投与が必要な者".to_string(),
            NotifiableCriterion::Pregnant => "妊婦".to_string(),
        }
    }

    /// "aged 65 or over".
    pub fn label_en(&self) -> String {
        match self {
            NotifiableCriterion::AgeAtLeast(years) => format!("aged {years} or over"),
            NotifiableCriterion::AdmissionNeeded => "needing admission".to_string(),
            NotifiableCriterion::SevereRiskNeedingTreatment => "at risk of severe disease and needing treatment or oxygen".to_string(),
            NotifiableCriterion::Pregnant => "pregnant".to_string(),
        }
    }

    /// Whether the case meets the criterion, ages reckoned on `on`. Unknown
    /// means not met: the doctor can always add what makes a case notifiable.
    pub fn met_by(&self, case: &Case, on: NaiveDate) -> bool {
        let n = &case.notification;
        match *self {
            NotifiableCriterion::AgeAtLeast(years) => match case.basic.birth_date {
                Some(birth) => age_at(birth, on).is_some_and(|a| a.years >= years),
                None => case.basic.reported_age_band.and_then(band_lower_bound).is_some_and(|low| low >= years),
            },
            NotifiableCriterion::AdmissionNeeded => {
                n.admission_needed == Some(true)
                    || n.admitted_at_notification == Some(true)
                    || case.measures.admission_date.is_some()
                    || matches!(
                        case.measures.current_status,
                        Some(CurrentStatus::AwaitingAdmission | CurrentStatus::Hospitalised | CurrentStatus::HospitalisedSevere)
                    )
            }
            NotifiableCriterion::SevereRiskNeedingTreatment => {
                let at_risk = !n.risk_factors.is_empty() || n.immunosuppression == Some(true);
                // 中等症Ⅱ and worse need oxygen by definition (SpO2 ≤ 93 %).
                let needs_treatment = n.treatment_or_oxygen_needed == Some(true)
                    || matches!(n.severity, Some(Severity::ModerateII | Severity::Severe))
                    || n.spo2_room_air.is_some_and(|s| s <= 93);
                at_risk && needs_treatment
            }
            NotifiableCriterion::Pregnant => n.pregnancy == Some(true),
        }
    }
}

/// The youngest age in a published band (`None` for unknown).
fn band_lower_bound(band: AgeBand) -> Option<u32> {
    use AgeBand::*;
    Some(match band {
        Under10 => 0,
        Teens => 10,
        Twenties => 20,
        Thirties => 30,
        Forties => 40,
        Fifties => 50,
        Sixties => 60,
        Seventies => 70,
        Eighties => 80,
        NinetyPlus => 90,
        Unknown => return None,
    })
}

// ---------------------------------------------------------------------------
// The item catalogue: every item a policy may require, with its screen label,
// when it applies and how to tell it is there.

/// An item a policy may name.
#[derive(Debug)]
pub struct ItemDef {
    /// The path as policies name it and problems report it ("basic.birth_date";
    /// list items as "tests[].method", reported as "tests[<id>].method").
    pub path: &'static str,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    pub(crate) check: ItemCheck,
}

/// How an item is checked.
#[derive(Debug)]
pub(crate) enum ItemCheck {
    /// A case-level item: whether it applies to the case (on the date whose
    /// rules are in force) and whether it is there.
    Case { applies: fn(&Case, NaiveDate) -> bool, present: fn(&Case) -> bool },
    /// An item of each test record.
    Test { applies: fn(&TestRecord) -> bool, present: fn(&TestRecord) -> bool },
}

impl ItemDef {
    /// Whether the item is asked of this case at all (e.g. 保護者 only for minors).
    pub fn applies_to(&self, case: &Case, on: NaiveDate) -> bool {
        match self.check {
            ItemCheck::Case { applies, .. } => applies(case, on),
            ItemCheck::Test { .. } => true,
        }
    }
}

/// The catalogue entry for a path.
pub fn item(path: &str) -> Option<&'static ItemDef> {
    ITEMS.iter().find(|i| i.path == path)
}

fn always(_: &Case, _: NaiveDate) -> bool {
    true
}
/// Patients (not asymptomatic carriers): onset and symptoms are asked.
fn has_symptoms_asked(c: &Case, _: NaiveDate) -> bool {
    c.notification.diagnosis_class != Some(DiagnosisClass::AsymptomaticCarrier)
}
fn deceased(c: &Case, _: NaiveDate) -> bool {
    c.notification.diagnosis_class.is_some_and(|d| d.is_deceased()) || c.measures.current_status == Some(CurrentStatus::Died)
}
fn minor(c: &Case, on: NaiveDate) -> bool {
    c.basic.birth_date.and_then(|b| is_minor(b, on)) == Some(true)
}
fn female(c: &Case, _: NaiveDate) -> bool {
    c.basic.sex == Some(Sex::Female)
}
fn every_test(_: &TestRecord) -> bool {
    true
}
fn filled(s: &str) -> bool {
    !s.trim().is_empty()
}

macro_rules! case_item {
    ($path:literal, $ja:literal, $en:literal, $applies:expr, $present:expr) => {
        ItemDef { path: $path, label_ja: $ja, label_en: $en, check: ItemCheck::Case { applies: $applies, present: $present } }
    };
}
macro_rules! test_item {
    ($path:literal, $ja:literal, $en:literal, $applies:expr, $present:expr) => {
        ItemDef { path: $path, label_ja: $ja, label_en: $en, check: ItemCheck::Test { applies: $applies, present: $present } }
    };
}

/// Every item a policy may require.
pub static ITEMS: &[ItemDef] = &[
    case_item!("notification.diagnosis_class", "類型", "diagnosis class", always, |c| c.notification.diagnosis_class.is_some()),
    case_item!("basic.name", "氏名", "name", always, |c| filled(&c.basic.name)),
    case_item!("basic.name_kana", "フリガナ", "name reading (kana)", always, |c| filled(&c.basic.name_kana)),
    case_item!("basic.sex", "性別", "sex", always, |c| c.basic.sex.is_some()),
    case_item!("basic.birth_date", "生年月日", "date of birth", always, |c| c.basic.birth_date.is_some()),
    // 所在地: the residence, falling back to the registered address.
    case_item!(
        "basic.residence",
        "所在地（居所、不明の場合は住所）",
        "location (residence, else registered address)",
        always,
        |c| { !c.basic.residence.is_empty() || !c.basic.registered_address.is_empty() }
    ),
    case_item!("basic.registered_address", "住所", "registered address", always, |c| !c.basic.registered_address.is_empty()),
    case_item!("basic.phone", "電話番号", "phone number", always, |c| {
        filled(&c.basic.phone) || filled(&c.basic.residence.phone) || filled(&c.basic.registered_address.phone)
    }),
    case_item!("basic.occupation", "職業", "occupation", always, |c| filled(&c.basic.occupation)),
    case_item!("basic.guardian", "保護者", "guardian", minor, |c| c.basic.guardian.as_ref().is_some_and(|g| filled(&g.name))),
    case_item!("notification.diagnosis_date", "診断日", "diagnosis date", always, |c| c.notification.diagnosis_date.is_some()),
    case_item!("notification.onset_date", "発病日", "onset date", has_symptoms_asked, |c| c.notification.onset_date.is_some()),
    case_item!("notification.first_visit_date", "初診日", "first visit date", always, |c| c.notification.first_visit_date.is_some()),
    case_item!("notification.estimated_infection_date", "推定感染日", "estimated infection date", always, |c| {
        c.notification.estimated_infection_date.is_some()
    }),
    case_item!("notification.death_date", "死亡日", "date of death", deceased, |c| c.notification.death_date.is_some()),
    case_item!("notification.symptoms", "症状", "symptoms", has_symptoms_asked, |c| !c.notification.symptoms.is_empty()),
    case_item!("notification.pregnancy", "妊娠の有無", "pregnancy", female, |c| c.notification.pregnancy.is_some()),
    case_item!("notification.immunosuppression", "免疫機能低下の有無", "immunosuppression", always, |c| {
        c.notification.immunosuppression.is_some()
    }),
    case_item!("notification.infection_route", "感染経路", "infection route", always, |c| {
        let r = &c.notification.infection_route;
        r.droplet.is_some() || r.contact.is_some() || r.other.is_some()
    }),
    case_item!("notification.infection_region", "感染地域", "infection region", always, |c| {
        let r = &c.notification.infection_region;
        r.certainty.is_some() || r.domestic.is_some() || r.abroad.is_some()
    }),
    case_item!("notification.infection_link", "感染リンクの有無", "infection link", always, |c| c
        .notification
        .infection_link
        .is_some()),
    case_item!("notification.severity", "重症度", "severity", always, |c| c.notification.severity.is_some()),
    case_item!("notification.admission_needed", "入院の必要性", "admission needed", always, |c| c
        .notification
        .admission_needed
        .is_some()),
    case_item!(
        "notification.treatment_or_oxygen_needed",
        "治療薬投与・酸素投与の必要性",
        "treatment or oxygen needed",
        always,
        |c| { c.notification.treatment_or_oxygen_needed.is_some() }
    ),
    case_item!("notification.vaccinations", "ワクチン接種歴", "vaccination history", always, |c| !c
        .notification
        .vaccinations
        .is_empty()),
    case_item!("notification.doctor.name", "医師氏名", "reporting doctor", always, |c| filled(&c.notification.doctor.name)),
    case_item!("notification.doctor.institution_name", "医療機関の名称", "reporting institution", always, |c| {
        filled(&c.notification.doctor.institution_name) || filled(&c.notification.doctor.institution_code)
    }),
    case_item!("measures.current_status", "現在のステータス", "current status", always, |c| c.measures.current_status.is_some()),
    case_item!("jurisdiction.responsible_health_centre", "担当保健所", "responsible health centre", always, |c| {
        filled(&c.jurisdiction.responsible_health_centre)
    }),
    // 診断方法: at least one test, and these items of each.
    case_item!("tests", "診断方法（検査）", "diagnosis method (test)", always, |c| !c.tests.is_empty()),
    test_item!("tests[].method", "検査方法", "test method", every_test, |t| t.method.is_some()),
    test_item!("tests[].specimen", "検体", "specimen", every_test, |t| t.specimen.is_some()),
    test_item!("tests[].collected_on", "検体採取日", "specimen collection date", every_test, |t| t.collected_on.is_some()),
    // The result once known: a result date says it is.
    test_item!("tests[].result", "検査結果", "test result", |t| t.result_on.is_some(), |t| t.result.is_some()),
    test_item!("tests[].result_on", "結果判明日", "result date", |t| t.result.is_some(), |t| t.result_on.is_some()),
];

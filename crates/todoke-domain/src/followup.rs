//! Follow-up of people recovering at home or in a hotel: self-report
//! (DOMAIN.md §4.5) and the exposure-notification processing number (§4.6).
//!
//! Staff see who reported, who did not, and whose values are concerning, so
//! nurses call only those who need it.

use chrono::{FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::age::age_at;
use crate::case::Case;
use crate::codes::{Concern, CurrentStatus};
use crate::observation::Observation;
use crate::validate::{Problem, RuleCode};

/// Fever threshold for a call (°C).
pub const FEVER_C: f32 = 38.0;
/// SpO2 at or below which a call is needed (the 中等症Ⅱ threshold).
pub const LOW_SPO2: u8 = 93;
/// Age from which a person is at risk of severe disease.
pub const RISK_AGE: u32 = 65;

/// What staff see for one person under follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FollowUpAssessment {
    pub concerns: Vec<Concern>,
    /// A nurse should call: no report, or a concerning value.
    pub needs_call: bool,
    /// The date of the latest (not superseded) observation, in JST.
    pub last_reported_on: Option<NaiveDate>,
}

/// The health centre enables self-report (本人入力) for a case. Returns
/// whether anything changed.
pub fn enable_self_report(case: &mut Case) -> bool {
    let changed = !case.follow_up.self_report_enabled;
    case.follow_up.self_report_enabled = true;
    changed
}

/// Records a processing number (処理番号) issued at the patient's request.
/// The number comes from the caller (who draws it at random); the edit that
/// saves it is the issuance's log entry.
pub fn issue_processing_number(case: &mut Case, number: &str, today: NaiveDate) -> Result<(), Vec<Problem>> {
    if case.follow_up.processing_number.is_some() {
        return Err(vec![Problem::new(
            "follow_up.processing_number",
            RuleCode::ProcessingNumberIssued,
            "この症例には処理番号を発行済みです。同じ番号を患者に伝えてください。",
            "A processing number was already issued for this case. Give the patient that number.",
        )]);
    }
    if number.len() != 8 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(vec![Problem::new(
            "follow_up.processing_number",
            RuleCode::ProcessingNumberInvalid,
            "処理番号は8桁の数字です。",
            "A processing number is 8 digits.",
        )]);
    }
    case.follow_up.processing_number = Some(number.to_string());
    case.follow_up.processing_number_issued_on = Some(today);
    Ok(())
}

/// Whether the case is followed by daily health observation.
pub fn under_follow_up(case: &Case) -> bool {
    use CurrentStatus::*;
    case.follow_up.self_report_enabled
        || matches!(case.measures.current_status, Some(HomeRecovery | HotelRecovery | AwaitingAdmission | AwaitingHotel))
}

/// Assesses a person's follow-up on `today` from their observations (in any
/// order; superseded ones are ignored).
pub fn assess(case: &Case, observations: &[Observation], today: NaiveDate) -> FollowUpAssessment {
    let jst = FixedOffset::east_opt(9 * 3600).expect("JST");
    let superseded: Vec<_> = observations.iter().filter_map(|o| o.supersedes).collect();
    let latest = observations
        .iter()
        .filter(|o| !superseded.contains(&o.id))
        .filter_map(|o| o.observed_at.map(|at| (at, o)))
        .max_by_key(|(at, _)| *at);
    let last_reported_on = latest.map(|(at, _)| at.with_timezone(&jst).date_naive());
    let mut concerns = Vec::new();
    if under_follow_up(case) && last_reported_on != Some(today) {
        concerns.push(Concern::NoReport);
    }
    if let Some((_, o)) = latest {
        if o.temperature.is_some_and(|t| t >= FEVER_C) {
            concerns.push(Concern::Fever);
        }
        if o.spo2.is_some_and(|s| s <= LOW_SPO2) {
            concerns.push(Concern::LowSpo2);
        }
        if o.breathlessness == Some(true) {
            concerns.push(Concern::Breathlessness);
        }
    }
    let needs_call = !concerns.is_empty();
    if at_risk(case, today) {
        concerns.push(Concern::HighRisk);
    }
    FollowUpAssessment { concerns, needs_call, last_reported_on }
}

fn at_risk(case: &Case, today: NaiveDate) -> bool {
    let n = &case.notification;
    let old = case.basic.birth_date.and_then(|b| age_at(b, today)).is_some_and(|a| a.years >= RISK_AGE);
    old || !n.risk_factors.is_empty()
        || n.pregnancy == Some(true)
        || n.immunosuppression == Some(true)
        || !case.underlying_diseases.trim().is_empty()
}

//! 発生届 — the doctor's notification under art. 12, every item of the form
//! (別記様式6-1 as revised to 2022). See spec/NOTIFICATION_FORM.md.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes::*;

/// 発生届. The tests it cites (診断方法) live on the case (`Case::tests`): the
/// newest test entered in the tests tab is what the notification shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Notification {
    /// 1. 類型 ★
    pub diagnosis_class: Option<DiagnosisClass>,
    /// 報告年月日 — set by the system when "report" is pressed (DOMAIN.md §4.3).
    pub report_date: Option<NaiveDate>,
    /// 提出日 — the day the notification was first reported for `reported_class`.
    pub submitted_on: Option<NaiveDate>,
    /// 受理日 — the day the responsible health centre received it.
    pub received_on: Option<NaiveDate>,
    /// The diagnosis class the current report dates belong to.
    pub reported_class: Option<DiagnosisClass>,
    /// Every report made, oldest first (for the history tab).
    pub reports: Vec<ReportEvent>,
    /// 保健所確認済.
    pub health_centre_confirmation: Option<Confirmation>,

    /// Header: the reporting doctor and institution.
    pub doctor: Doctor,

    /// 3. 症状 (law).
    pub symptoms: Vec<Symptom>,
    /// 3. その他の症状 (free text).
    pub symptoms_other: String,
    /// 4. 重症化リスク因子.
    pub risk_factors: Vec<RiskFactor>,
    pub risk_factors_other: String,
    /// 4. 妊娠 有/無.
    pub pregnancy: Option<bool>,
    /// 4. 免疫機能低下 有/無.
    pub immunosuppression: Option<bool>,
    /// 4. SpO2 (室内気), 0–100.
    pub spo2_room_air: Option<u8>,
    /// 5. ワクチン接種歴, doses 1..n.
    pub vaccinations: Vec<VaccineDose>,

    /// 7. 初診年月日.
    pub first_visit_date: Option<NaiveDate>,
    /// 7. 診断（検案）年月日 — the day the notification criteria were met.
    pub diagnosis_date: Option<NaiveDate>,
    /// 7. 感染したと推定される年月日.
    pub estimated_infection_date: Option<NaiveDate>,
    /// 7. 発病年月日 (patients).
    pub onset_date: Option<NaiveDate>,
    /// 7. 死亡年月日.
    pub death_date: Option<NaiveDate>,

    /// 8. 感染原因・感染経路.
    pub infection_route: InfectionRoute,
    /// 8. 感染地域.
    pub infection_region: InfectionRegion,
    /// 8. 感染リンクの有無.
    pub infection_link: Option<YesNoUnknown>,

    /// 9. 重症度.
    pub severity: Option<Severity>,
    /// 9. 入院の必要性.
    pub admission_needed: Option<bool>,
    /// 新型コロナ治療薬の投与又は酸素投与の必要性 — with a risk factor, puts
    /// the case in the notifiable scope from 2022-09-26 (see `policy`).
    pub treatment_or_oxygen_needed: Option<bool>,
    /// 9. 届出時点の入院.
    pub admitted_at_notification: Option<bool>,
    pub admission_date_at_notification: Option<NaiveDate>,
    /// 9. 特例の診療.
    pub special_case_care: Option<bool>,
    /// 9. 備考 / その他医師が必要と認める事項 (e.g. "妊婦支援事業").
    pub remarks: String,
}

/// One press of "report" (報告).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportEvent {
    pub class: DiagnosisClass,
    pub reported_on: NaiveDate,
    /// Staff login of who pressed it.
    pub by: String,
}

/// 保健所確認済 — the responsible health centre found nothing missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Confirmation {
    pub on: NaiveDate,
    pub by: String,
}

/// 医師氏名, 従事する病院・診療所.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Doctor {
    pub name: String,
    /// Organisation code of the clinic, when it is a known organisation.
    pub institution_code: String,
    pub institution_name: String,
    pub institution_address: String,
    pub institution_phone: String,
    /// 時間外連絡先.
    pub out_of_hours_phone: String,
}

/// 5. One vaccine dose.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct VaccineDose {
    /// 1, 2, 3, ...
    pub dose: u8,
    pub status: Option<YesNoUnknown>,
    pub age_at_dose: Option<u16>,
    pub manufacturer: String,
    pub vaccine_type: String,
    pub date: Option<NaiveDate>,
}

/// 8. 感染経路: each route marked confirmed / presumed / unknown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct InfectionRoute {
    /// 飛沫・飛沫核感染.
    pub droplet: Option<Certainty>,
    /// 接触感染.
    pub contact: Option<Certainty>,
    /// その他.
    pub other: Option<Certainty>,
    pub other_detail: String,
}

/// 8. 感染地域.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct InfectionRegion {
    pub certainty: Option<Certainty>,
    /// 国内: prefecture and municipality (6-digit local-government codes).
    pub domestic: Option<DomesticRegion>,
    /// 国外.
    pub abroad: Option<AbroadRegion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct DomesticRegion {
    pub prefecture_code: String,
    pub municipality_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct AbroadRegion {
    pub country: String,
    pub detail: String,
    /// 入国日.
    pub entry_date: Option<NaiveDate>,
    /// 出国日.
    pub departure_date: Option<NaiveDate>,
}

//! 患者等 — the record of one person followed by a health centre.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::*;
use crate::notification::Notification;

/// A case (患者等): a confirmed or suspected patient, an asymptomatic carrier,
/// a deceased patient or a close contact.
///
/// Collections are lists of items with their own ids, so that two desks can
/// add to or edit different items of the same case and both edits merge.
/// Health observations are not here: they are append-only facts of their own
/// (`Observation`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Case {
    /// UUIDv7, generated where the case is first entered.
    pub id: Uuid,
    pub origin: Option<Origin>,
    /// 基本情報.
    pub basic: BasicInfo,
    /// 担当保健所 / 関係保健所 / 届出医療機関.
    pub jurisdiction: Jurisdiction,
    /// 発生届.
    pub notification: Notification,
    /// 検査記録 (the notification's 診断方法 cites these).
    pub tests: Vec<TestRecord>,
    /// 基礎疾患 (free text list, besides the notification's risk factors).
    pub underlying_diseases: String,
    /// 措置・現在のステータス.
    pub measures: Measures,
    /// 積極的疫学調査.
    pub investigation: Investigation,
    /// 健康観察 (self-report) settings and the exposure-notification number.
    pub follow_up: FollowUp,
    /// Publication data kept from an open-data import (公表).
    pub publication: Option<Publication>,
    /// Soft delete: set with a reason, never removed.
    pub deleted: Option<Deletion>,
    /// Last change on this desk (display only; clocks never decide merges).
    pub updated_at: Option<DateTime<Utc>>,
}

/// 基本情報.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct BasicInfo {
    /// 氏名 ★
    pub name: String,
    /// フリガナ / 読み仮名.
    pub name_kana: String,
    /// 生年月日 ★
    pub birth_date: Option<NaiveDate>,
    /// 性別 ★
    pub sex: Option<Sex>,
    /// 年代 as published, for records that carry no birth date (open data).
    pub reported_age_band: Option<AgeBand>,
    /// 住所登録している住所 (law).
    pub registered_address: Address,
    /// 居所の住所 — the notification's 所在地 ★ (falls back to the registered address).
    pub residence: Address,
    /// 電話番号.
    pub phone: String,
    pub email: String,
    /// 職業 (law).
    pub occupation: String,
    /// 保護者 — minors only (law).
    pub guardian: Option<Guardian>,
    /// 福祉部門との連携要否.
    pub welfare_coordination_needed: Option<bool>,
    /// 高齢者等である同居家族の有無.
    pub lives_with_high_risk: Option<bool>,
    /// ID管理情報 自由記述, e.g. "●●保健所発生届・未入力".
    pub id_management_note: String,
}

/// An address with the local-government codes that place it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Address {
    /// 2-digit prefecture number as in the 6-digit code's first two digits ("13").
    pub prefecture_code: String,
    /// 6-digit 全国地方公共団体コード of the municipality ("131016").
    pub municipality_code: String,
    /// Postal code, as entered.
    pub postal_code: String,
    /// The address as written.
    pub text: String,
    pub phone: String,
}

impl Address {
    pub fn is_empty(&self) -> bool {
        self.prefecture_code.is_empty() && self.municipality_code.is_empty() && self.text.trim().is_empty()
    }
}

/// 保護者.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Guardian {
    pub name: String,
    pub address: String,
    pub phone: String,
}

/// 担当保健所, 関係保健所, and who reported the case.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Jurisdiction {
    /// 担当保健所 — organisation code.
    pub responsible_health_centre: String,
    /// 関係保健所 — organisation codes.
    pub related_health_centres: Vec<String>,
    /// 届出医療機関 — organisation code of the reporting clinic.
    pub reporting_clinic: String,
    /// 宿泊療養施設 — facility whose nurses follow the case.
    pub facility: String,
}

/// 検査記録 — one test. Up to four are entered at once on one screen.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct TestRecord {
    pub id: Uuid,
    /// 検体採取日 ★
    pub collected_on: Option<NaiveDate>,
    /// 結果判明日.
    pub result_on: Option<NaiveDate>,
    /// 検査方法 ★
    pub method: Option<TestMethod>,
    /// 検体 ★
    pub specimen: Option<Specimen>,
    pub specimen_other: String,
    /// 結果 ★ once known.
    pub result: Option<TestResult>,
    pub programme: Option<TestProgramme>,
    /// Institution that collected the specimen.
    pub institution: String,
    /// When entered (orders "the newest test").
    pub entered_at: Option<DateTime<Utc>>,
}

/// 措置等 and 現在のステータス.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Measures {
    /// 現在のステータス.
    pub current_status: Option<CurrentStatus>,
    /// The day the status was last set.
    pub status_updated_on: Option<NaiveDate>,
    /// 入院日.
    pub admission_date: Option<NaiveDate>,
    /// 退院日.
    pub discharge_date: Option<NaiveDate>,
    /// 入院先医療機関.
    pub hospital: String,
    /// 胸部X線所見.
    pub chest_xray: String,
    /// CT所見.
    pub ct: String,
    /// ICU入室.
    pub icu: bool,
    /// 人工呼吸器.
    pub ventilator: bool,
    /// ECMO.
    pub ecmo: bool,
    /// 療養解除日.
    pub recovery_ended_on: Option<NaiveDate>,
    /// 緊急搬送先医療機関.
    pub emergency_hospital: String,
    /// かかりつけ医療機関.
    pub family_doctor: String,
}

impl Measures {
    /// 重症: managed in an ICU, on a ventilator or on ECMO — exactly that.
    pub fn is_severe(&self) -> bool {
        self.icu || self.ventilator || self.ecmo
    }
}

/// 積極的疫学調査.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Investigation {
    /// 行動歴.
    pub behaviour: Vec<BehaviourEntry>,
    /// 接触者.
    pub contacts: Vec<Contact>,
    /// 集団感染 this case belongs to.
    pub clusters: Vec<ClusterLink>,
    /// The case this one was infected by, when known.
    pub infected_by_case: Option<Uuid>,
    pub notes: String,
}

/// 行動歴 — a place and a day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct BehaviourEntry {
    pub id: Uuid,
    pub date: Option<NaiveDate>,
    pub place: String,
    pub note: String,
}

/// 接触者 — a person in contact with the case; may become a case of its own.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Contact {
    pub id: Uuid,
    pub name: String,
    pub name_kana: String,
    pub kind: Option<ContactKind>,
    pub last_contact_date: Option<NaiveDate>,
    pub phone: String,
    /// The case this contact became (link kept both ways).
    pub linked_case: Option<Uuid>,
    pub note: String,
}

/// Membership of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct ClusterLink {
    pub id: Uuid,
    pub cluster_id: Uuid,
}

/// Follow-up settings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct FollowUp {
    /// The health centre enabled self-report (本人入力) for this case.
    pub self_report_enabled: bool,
    /// 処理番号 issued for the exposure-notification app (issuance is logged).
    pub processing_number: Option<String>,
    pub processing_number_issued_on: Option<NaiveDate>,
}

/// What an open-data import carried that has no structured home (kept for a
/// faithful export).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Publication {
    /// No.
    pub number: String,
    /// 公表_年月日.
    pub published_on: Option<NaiveDate>,
    /// 全国地方公共団体コード of the publisher.
    pub publisher_code: String,
    /// 都道府県名.
    pub prefecture_name: String,
    /// 市区町村名.
    pub municipality_name: String,
    /// 患者_居住地 as published.
    pub residence: String,
    /// 患者_属性.
    pub attribute: String,
    /// 患者_状態.
    pub condition: String,
    /// 患者_症状.
    pub symptoms: String,
    /// 患者_渡航歴の有無フラグ (raw: "0", "1" or "").
    pub travel_flag: String,
    /// 患者_接触歴の有無フラグ.
    pub contact_flag: String,
    /// 退院済フラグ.
    pub discharged_flag: String,
    /// 確定_年月日.
    pub confirmed_on: Option<NaiveDate>,
    /// 患者_職業.
    pub occupation: String,
    /// 備考.
    pub remarks: String,
    /// 患者_年代 exactly as published ("90代", "100歳以上", "'-" …), which
    /// `BasicInfo::reported_age_band` cannot tell apart. Empty when the cell
    /// was empty or the case was not imported (or imported before this
    /// field existed).
    ///
    /// Export writes this text while it still reads as the case's age band;
    /// once the band has been edited to something else (or when this is
    /// empty) the band is written in the standard spelling. The same rule
    /// holds for every `*_text` field and `weekday` below.
    pub age_text: String,
    /// 患者_性別 exactly as published ("男性", "男", "'-", "―" …), which
    /// `BasicInfo::sex` cannot tell apart. Empty when the cell was empty or
    /// the case was not imported. Written back while it still reads as
    /// `BasicInfo::sex`.
    pub sex_text: String,
    /// 曜日 exactly as published ("金", "金曜日" …). Empty when the cell was
    /// empty or the case was not imported. Written back while it is the
    /// weekday of `published_on`; otherwise that date's weekday is written.
    pub weekday: String,
    /// 公表_年月日 as published when that was not the ISO form
    /// (`2020-01-24`) of `published_on`, e.g. "2020/1/24"; empty when it was
    /// ISO. Written back while it still reads as `published_on`.
    pub published_on_text: String,
    /// 発症_年月日 as published when that was not the ISO form of
    /// `Notification::onset_date` (which holds the date): "2020/1/21", or a
    /// word for "no date" such as "不明", "調査中", "'-". Empty when it was
    /// ISO or empty. Written back while it still reads as the onset date.
    pub onset_text: String,
    /// 確定_年月日 as published when that was not the ISO form of
    /// `confirmed_on`, e.g. "2021/1/3"; empty when it was ISO or empty.
    /// Written back while it still reads as `confirmed_on`.
    pub confirmed_on_text: String,
}

/// A soft delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deletion {
    pub on: NaiveDate,
    pub by: String,
    pub reason: String,
}

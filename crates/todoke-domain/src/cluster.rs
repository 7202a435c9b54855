//! 集団感染 — a named event or place grouping linked cases.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Cluster {
    pub id: Uuid,
    pub name: String,
    /// 施設種別 / setting (e.g. 医療機関, 高齢者施設, 飲食店, 学校).
    pub setting: String,
    pub place: String,
    pub first_onset: Option<NaiveDate>,
    /// Health centre that manages it (organisation code).
    pub health_centre: String,
    pub note: String,
}

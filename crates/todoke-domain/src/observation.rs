//! 健康観察 — health observations. Append-only: never edited away; a
//! correction is a new observation that supersedes the old one.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::ObservationSource;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct Observation {
    pub id: Uuid,
    pub case_id: Uuid,
    /// When observed, with the offset it was entered in (JST in practice).
    pub observed_at: Option<DateTime<FixedOffset>>,
    /// 体温 (°C).
    pub temperature: Option<f32>,
    /// SpO2 (%).
    pub spo2: Option<u8>,
    /// 咳・鼻汁.
    pub cough_or_runny_nose: Option<bool>,
    /// 息苦しさ.
    pub breathlessness: Option<bool>,
    /// 全身倦怠感.
    pub fatigue: Option<bool>,
    pub note: String,
    pub source: Option<ObservationSource>,
    /// The observation this one corrects.
    pub supersedes: Option<Uuid>,
    /// Staff login, or "patient".
    pub entered_by: String,
}

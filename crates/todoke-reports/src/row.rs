//! The compact row every indicator is computed from: what a report needs of a
//! case and nothing else, all `Copy`-sized fields except the health centre
//! code and the cluster links (empty for most cases, so no allocation).
//!
//! A desk builds rows with [`ReportRow::from_case`]; a server may fill the
//! same struct straight from indexed columns without decoding whole records.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use todoke_domain::{age::age_band_at, AgeBand, Case, CurrentStatus, Sex};
use uuid::Uuid;

/// One case as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    pub id: Uuid,
    /// Counted as a new positive (陽性者): `DiagnosisClass::is_positive()`,
    /// whether or not the health centre has confirmed the notification.
    pub positive: bool,
    /// The day the case counts as a new positive: the diagnosis date (診断年月日),
    /// else the report date (報告年月日). See [`ReportRow::from_case`].
    pub positive_on: Option<NaiveDate>,
    /// Prefecture number 1..=47 of the residence (else registered address); 0 unknown.
    pub prefecture: u8,
    /// 6-digit local-government code of the municipality as a number; 0 unknown.
    pub municipality: u32,
    /// 担当保健所 (organisation code); empty when none.
    pub health_centre: String,
    /// `None`: not entered (tables put it with その他・不明).
    pub sex: Option<Sex>,
    /// Age band at diagnosis (`todoke_domain::age::age_band_at`).
    pub age_band: AgeBand,
    pub status: Option<CurrentStatus>,
    pub status_updated_on: Option<NaiveDate>,
    /// ICU, ventilator or ECMO recorded (`Measures::is_severe`).
    pub severe: bool,
    pub admission_date: Option<NaiveDate>,
    pub discharge_date: Option<NaiveDate>,
    pub recovery_ended_on: Option<NaiveDate>,
    /// 死亡年月日.
    pub death_date: Option<NaiveDate>,
    /// Dead: a death date, the status 死亡 or a deceased diagnosis class.
    pub died: bool,
    /// 集団感染 the case is linked to.
    pub clusters: Vec<Uuid>,
}

impl ReportRow {
    /// The row of a case; `None` for a soft-deleted case (never counted).
    ///
    /// The date of a new positive is the **diagnosis date**: it is the date
    /// the notification criteria were met, is on every notification
    /// (required item) and does not move when a report is edited; the report
    /// date changes when a suspected patient is confirmed (DOMAIN.md §4.3)
    /// and would move counts between days after publication. Records without
    /// a diagnosis date (open-data imports) fall back to the report date.
    pub fn from_case(case: &Case) -> Option<ReportRow> {
        if case.deleted.is_some() {
            return None;
        }
        let n = &case.notification;
        let m = &case.measures;
        let place = if case.basic.residence.is_empty() { &case.basic.registered_address } else { &case.basic.residence };
        let municipality: u32 = place.municipality_code.trim().parse().unwrap_or(0);
        let prefecture: u8 = match place.prefecture_code.trim().parse::<u8>() {
            Ok(p) if (1..=47).contains(&p) => p,
            _ if municipality > 0 => (municipality / 10_000) as u8,
            _ => 0,
        };
        let died = n.death_date.is_some()
            || m.current_status == Some(CurrentStatus::Died)
            || n.diagnosis_class.is_some_and(|c| c.is_deceased() && c.is_positive());
        Some(ReportRow {
            id: case.id,
            positive: n.diagnosis_class.is_some_and(|c| c.is_positive()),
            positive_on: n.diagnosis_date.or(n.report_date),
            prefecture,
            municipality,
            health_centre: case.jurisdiction.responsible_health_centre.clone(),
            sex: case.basic.sex,
            age_band: age_band_at(case),
            status: m.current_status,
            status_updated_on: m.status_updated_on,
            severe: m.is_severe(),
            admission_date: m.admission_date.or(n.admission_date_at_notification),
            discharge_date: m.discharge_date,
            recovery_ended_on: m.recovery_ended_on,
            death_date: n.death_date,
            died,
            clusters: case.investigation.clusters.iter().map(|l| l.cluster_id).collect(),
        })
    }

    /// The day the person died, for the death counts: the death date, else
    /// (status 死亡 without a date) the day the status was set, else the
    /// positive date.
    pub fn death_on(&self) -> Option<NaiveDate> {
        if !self.died {
            return None;
        }
        self.death_date.or(self.status_updated_on).or(self.positive_on)
    }
}

/// Which cases a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "code")]
pub enum Area {
    /// Every case given.
    #[default]
    All,
    /// One prefecture by number (13 = 東京都).
    Prefecture(u8),
    /// One responsible health centre by organisation code.
    HealthCentre(String),
    /// One municipality by its 6-digit code.
    Municipality(u32),
}

impl Area {
    pub fn contains(&self, row: &ReportRow) -> bool {
        match self {
            Area::All => true,
            Area::Prefecture(p) => row.prefecture == *p,
            Area::HealthCentre(hc) => row.health_centre == *hc,
            Area::Municipality(m) => row.municipality == *m,
        }
    }

    /// Reads what a user types: "13", "東京都", "東京", "Tokyo", "130001"
    /// (prefecture); "131016" (municipality); anything else is a health
    /// centre code ("HC131016").
    pub fn parse(s: &str) -> Area {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("all") || s == "全国" {
            return Area::All;
        }
        if let Ok(n) = s.parse::<u8>() {
            if (1..=47).contains(&n) && s.len() <= 2 {
                return Area::Prefecture(n);
            }
        }
        if let Some(p) = todoke_refdata::prefecture_by_name(s) {
            return Area::Prefecture(p.number);
        }
        if let Some(p) = todoke_refdata::prefectures().iter().find(|p| p.short == s || p.english.eq_ignore_ascii_case(s)) {
            return Area::Prefecture(p.number);
        }
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(p) = todoke_refdata::prefecture_by_lgcode(s) {
                if p.lgcode == s {
                    return Area::Prefecture(p.number);
                }
            }
            return Area::Municipality(s.parse().unwrap_or(0));
        }
        Area::HealthCentre(s.to_string())
    }
}

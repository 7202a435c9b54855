//! The compact row every indicator is computed from: what a report needs of a
//! case and nothing else, all `Copy`-sized fields except the health centre
//! code and the cluster links (empty for most cases, so no allocation).
//!
//! A desk builds rows with [`ReportRow::from_case`]; a server may fill the
//! same struct straight from indexed columns without decoding whole records.

use chrono::{Datelike, NaiveDate};
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
        if let Some(m) = todoke_refdata::prefecture_prefix(s).and_then(|(p, rest)| todoke_refdata::municipality_by_name(p.number, rest)) {
            return Area::Municipality(m.lgcode.parse().unwrap_or(0));
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

impl Area {
    /// The canonical code: "13" (prefecture), "131016" (municipality), the
    /// health-centre code as written, "all". `Area::parse(&a.code()) == a`.
    pub fn code(&self) -> String {
        match self {
            Area::All => "all".into(),
            Area::Prefecture(p) => format!("{p:02}"),
            Area::Municipality(m) => format!("{m:06}"),
            Area::HealthCentre(hc) => hc.clone(),
        }
    }

    /// A name for people: "東京都", "東京都新宿区", the health-centre code.
    pub fn label_ja(&self) -> String {
        match self {
            Area::All => "全体".into(),
            Area::Prefecture(p) => todoke_refdata::prefecture(*p).map_or_else(|| self.code(), |p| p.name.to_string()),
            Area::Municipality(_) => self.municipality_name().unwrap_or_else(|| self.code()),
            Area::HealthCentre(hc) => format!("保健所 {hc}"),
        }
    }

    /// A name for people in English ("Tokyo", "Tokyo 新宿区", "health centre HC131016").
    pub fn label_en(&self) -> String {
        match self {
            Area::All => "All".into(),
            Area::Prefecture(p) => todoke_refdata::prefecture(*p).map_or_else(|| self.code(), |p| p.english.to_string()),
            Area::Municipality(m) => {
                match (todoke_refdata::prefecture((*m / 10_000) as u8), todoke_refdata::municipality_by_lgcode(&self.code())) {
                    (Some(p), Some(muni)) => format!("{} {}", p.english, muni.name),
                    _ => self.code(),
                }
            }
            Area::HealthCentre(hc) => format!("health centre {hc}"),
        }
    }

    fn municipality_name(&self) -> Option<String> {
        let Area::Municipality(m) = self else { return None };
        let p = todoke_refdata::prefecture((*m / 10_000) as u8)?;
        let muni = todoke_refdata::municipality_by_lgcode(&self.code())?;
        Some(format!("{}{}", p.name, muni.name))
    }
}

/// The packed form of a [`ReportRow`] a store keeps beside each case, so
/// reports read ~60 bytes per case instead of parsing its whole document.
/// A leading format byte; a later layout gets a new byte, never a changed one.
///
/// Layout of format 1 (little-endian): id (16) · flags (1: positive, severe,
/// died) · sex (1: 0 none, else 1 + index in `Sex::ALL`) · age band (1: index
/// in `AgeBand::ALL`) · status (1: 0 none, else 1 + index) · prefecture (1) ·
/// municipality (4) · six dates as days from 0001-01-01 (4 each, `i32::MIN`
/// none: positive, status updated, admission, discharge, recovery ended,
/// death) · health centre (2 + UTF-8) · clusters (2 + 16 each).
const PACKED_V1: u8 = 1;
const NO_DATE: i32 = i32::MIN;

fn index_of<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter().position(|x| x == v).map_or(0, |i| i as u8)
}

impl ReportRow {
    /// The packed bytes (see the layout above).
    pub fn pack(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.health_centre.len() + 16 * self.clusters.len());
        out.push(PACKED_V1);
        out.extend_from_slice(self.id.as_bytes());
        out.push(u8::from(self.positive) | u8::from(self.severe) << 1 | u8::from(self.died) << 2);
        out.push(self.sex.map_or(0, |s| 1 + index_of(Sex::ALL, &s)));
        out.push(index_of(AgeBand::ALL, &self.age_band));
        out.push(self.status.map_or(0, |s| 1 + index_of(CurrentStatus::ALL, &s)));
        out.push(self.prefecture);
        out.extend_from_slice(&self.municipality.to_le_bytes());
        for d in
            [self.positive_on, self.status_updated_on, self.admission_date, self.discharge_date, self.recovery_ended_on, self.death_date]
        {
            out.extend_from_slice(&d.map_or(NO_DATE, |d| d.num_days_from_ce()).to_le_bytes());
        }
        let hc = self.health_centre.as_bytes();
        let hc = &hc[..hc.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(hc.len() as u16).to_le_bytes());
        out.extend_from_slice(hc);
        let n = self.clusters.len().min(u16::MAX as usize);
        out.extend_from_slice(&(n as u16).to_le_bytes());
        for c in &self.clusters[..n] {
            out.extend_from_slice(c.as_bytes());
        }
        out
    }

    /// Reads [`ReportRow::pack`]'s bytes; `None` for an unknown format or
    /// truncated bytes.
    pub fn unpack(bytes: &[u8]) -> Option<ReportRow> {
        let mut r = Reader(bytes);
        if r.take(1)?[0] != PACKED_V1 {
            return None;
        }
        let id = Uuid::from_bytes(r.take(16)?.try_into().ok()?);
        let [flags, sex, age, status, prefecture] = r.take(5)?.try_into().ok()?;
        let municipality = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
        let mut dates = [None; 6];
        for d in &mut dates {
            let days = i32::from_le_bytes(r.take(4)?.try_into().ok()?);
            *d = if days == NO_DATE { None } else { Some(NaiveDate::from_num_days_from_ce_opt(days)?) };
        }
        let hc_len = u16::from_le_bytes(r.take(2)?.try_into().ok()?) as usize;
        let health_centre = std::str::from_utf8(r.take(hc_len)?).ok()?.to_string();
        let n = u16::from_le_bytes(r.take(2)?.try_into().ok()?) as usize;
        let mut clusters = Vec::with_capacity(n);
        for _ in 0..n {
            clusters.push(Uuid::from_bytes(r.take(16)?.try_into().ok()?));
        }
        let coded = |i: u8| if i == 0 { Some(None) } else { Some(Some(i as usize - 1)) };
        Some(ReportRow {
            id,
            positive: flags & 1 != 0,
            positive_on: dates[0],
            prefecture,
            municipality,
            health_centre,
            sex: coded(sex)?.map(|i| Sex::ALL.get(i).copied()).map_or(Some(None), |s| s.map(Some))?,
            age_band: *AgeBand::ALL.get(age as usize)?,
            status: coded(status)?.map(|i| CurrentStatus::ALL.get(i).copied()).map_or(Some(None), |s| s.map(Some))?,
            status_updated_on: dates[1],
            severe: flags & 2 != 0,
            admission_date: dates[2],
            discharge_date: dates[3],
            recovery_ended_on: dates[4],
            death_date: dates[5],
            died: flags & 4 != 0,
            clusters,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_rows_read_back_the_same() {
        let mut g = todoke_synth::Generator::new(todoke_synth::GeneratorConfig { seed: 11, cases: 3_000, ..Default::default() });
        let mut n = 0;
        for generated in &mut g {
            let Some(row) = ReportRow::from_case(&generated.case) else { continue };
            let packed = row.pack();
            assert_eq!(ReportRow::unpack(&packed).as_ref(), Some(&row));
            assert!(ReportRow::unpack(&packed[..packed.len() - 1]).is_none(), "truncated bytes are refused");
            n += 1;
        }
        assert!(n > 2_000);
        let odd = ReportRow {
            id: Uuid::from_u128(9),
            positive: false,
            positive_on: None,
            prefecture: 0,
            municipality: 0,
            health_centre: "保健所".into(),
            sex: Some(Sex::OtherOrUnknown),
            age_band: AgeBand::Unknown,
            status: Some(CurrentStatus::Other),
            status_updated_on: NaiveDate::from_ymd_opt(1, 1, 1),
            severe: true,
            admission_date: None,
            discharge_date: NaiveDate::from_ymd_opt(2099, 12, 31),
            recovery_ended_on: None,
            death_date: None,
            died: true,
            clusters: vec![Uuid::from_u128(1), Uuid::from_u128(2)],
        };
        assert_eq!(ReportRow::unpack(&odd.pack()), Some(odd));
        assert_eq!(ReportRow::unpack(&[2, 0, 0]), None, "an unknown format is refused");
    }
}

//! The clinical side of a case: diagnosis class, course and status, tests,
//! symptoms, risk factors and vaccinations — all driven by age, so older
//! cases are fewer but sicker, as they were.

use chrono::{DateTime, Days, NaiveDate, Utc};
use rand::Rng;
use uuid::Uuid;

use todoke_domain::{
    CurrentStatus, DiagnosisClass, RiskFactor, Severity, Specimen, Symptom, TestMethod, TestProgramme, TestRecord, TestResult, VaccineDose,
    YesNoUnknown,
};

use crate::ids;
use crate::person::years_between;

/// A date known at compile time.
pub(crate) const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(date) => date,
        None => panic!("invalid date"),
    }
}

/// Published age group index: 0 = under 10, ..., 9 = 90 and over.
fn band(age: u32) -> usize {
    (age / 10).min(9) as usize
}

/// Chance of hospital admission, by age group.
const P_HOSPITAL: [f64; 10] = [0.02, 0.01, 0.012, 0.018, 0.03, 0.05, 0.10, 0.20, 0.30, 0.35];
/// Chance that an admission becomes severe (ICU, ventilator or ECMO).
const P_SEVERE: [f64; 10] = [0.04, 0.03, 0.04, 0.05, 0.08, 0.12, 0.18, 0.20, 0.15, 0.10];
/// Case fatality, by age group.
const P_DEATH: [f64; 10] = [0.00002, 0.00002, 0.00003, 0.00005, 0.0003, 0.001, 0.004, 0.015, 0.045, 0.09];

pub(crate) fn diagnosis_class<R: Rng>(rng: &mut R, age: u32) -> DiagnosisClass {
    let dead_on_arrival = match age {
        0..=59 => 0.00003,
        60..=79 => 0.0008,
        _ => 0.003,
    };
    let asymptomatic = if age < 20 { 0.12 } else { 0.07 };
    let x: f64 = rng.gen();
    if x < dead_on_arrival {
        DiagnosisClass::Deceased
    } else if x < dead_on_arrival + asymptomatic {
        DiagnosisClass::AsymptomaticCarrier
    } else if x < dead_on_arrival + asymptomatic + 0.02 {
        DiagnosisClass::Suspected
    } else {
        DiagnosisClass::Confirmed
    }
}

/// Where the case recovers (or is treated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Setting {
    Home,
    Hotel,
    /// An elderly-care facility (社会福祉施設等療養).
    Facility,
    Hospital,
    /// Dead at the first visit (the deceased diagnosis classes).
    DeadOnArrival,
}

/// The course of a case as far as it has happened by `end`.
#[derive(Debug, Clone)]
pub(crate) struct Course {
    pub setting: Setting,
    pub severe: bool,
    pub status: CurrentStatus,
    pub status_on: NaiveDate,
    pub admission: Option<NaiveDate>,
    pub discharge: Option<NaiveDate>,
    pub recovery_ended: Option<NaiveDate>,
    pub death: Option<NaiveDate>,
    pub icu: bool,
    pub ventilator: bool,
    pub ecmo: bool,
    pub severity: Option<Severity>,
    pub admission_needed: bool,
    /// Days (inclusive) the case is followed outside hospital and reports
    /// its health.
    pub followed: Option<(NaiveDate, NaiveDate)>,
}

pub(crate) struct CourseInput {
    pub age: u32,
    pub class: DiagnosisClass,
    pub diagnosis: NaiveDate,
    pub report: NaiveDate,
    pub onset: Option<NaiveDate>,
    pub collected: NaiveDate,
    pub end: NaiveDate,
    pub facility_resident: bool,
}

fn days(n: u64) -> Days {
    Days::new(n)
}

pub(crate) fn course<R: Rng>(rng: &mut R, input: &CourseInput) -> Course {
    let CourseInput { age, class, diagnosis, report, onset, collected, end, facility_resident } = *input;
    let mut c = Course {
        setting: Setting::Home,
        severe: false,
        status: CurrentStatus::HomeRecovery,
        status_on: report,
        admission: None,
        discharge: None,
        recovery_ended: None,
        death: None,
        icu: false,
        ventilator: false,
        ecmo: false,
        severity: Some(Severity::Mild),
        admission_needed: false,
        followed: None,
    };
    if class.is_deceased() {
        c.setting = Setting::DeadOnArrival;
        c.status = CurrentStatus::Died;
        c.status_on = diagnosis;
        c.death = Some(diagnosis);
        c.severity = None;
        return c;
    }
    let b = band(age);
    let (mut p_hosp, mut p_death) = (P_HOSPITAL[b], P_DEATH[b]);
    if class != DiagnosisClass::Confirmed {
        p_hosp *= 0.3;
        p_death = 0.0;
    }
    let dies = rng.gen_bool(p_death);
    let hospital = (dies && rng.gen_bool(0.75)) || rng.gen_bool(p_hosp);
    c.severe = hospital && ((dies && rng.gen_bool(0.6)) || rng.gen_bool(P_SEVERE[b]));
    c.setting = if hospital {
        Setting::Hospital
    } else if facility_resident {
        Setting::Facility
    } else if (18..65).contains(&age) && rng.gen_bool(0.15) {
        Setting::Hotel
    } else {
        Setting::Home
    };
    let symptomatic_until = match onset {
        Some(o) => o + days(10),
        None => collected + days(7),
    };
    let recovery_end = symptomatic_until.max(report + days(1));

    if c.setting == Setting::Hospital {
        c.admission_needed = true;
        c.severity = Some(if c.severe {
            if rng.gen_bool(0.4) {
                Severity::Severe
            } else {
                Severity::ModerateII
            }
        } else if rng.gen_bool(0.55) {
            Severity::ModerateI
        } else {
            Severity::ModerateII
        });
        let admission = diagnosis + days([0, 0, 0, 1, 1, 2][rng.gen_range(0..6)]);
        if admission > end {
            // Not in an ICU yet: 重症 needs one recorded.
            c.severe = false;
            if c.severity == Some(Severity::Severe) {
                c.severity = Some(Severity::ModerateII);
            }
            c.status = CurrentStatus::AwaitingAdmission;
            c.status_on = report;
            c.followed = Some((report, end));
            return c;
        }
        c.admission = Some(admission);
        if admission > report {
            c.followed = Some((report, admission - days(1)));
        }
        let los = if c.severe { rng.gen_range(14..=40) } else { rng.gen_range(6..=14) };
        let discharge = admission + days(los);
        c.icu = c.severe;
        c.ventilator = c.severe && rng.gen_bool(0.6);
        c.ecmo = c.ventilator && rng.gen_bool(0.12);
        let in_hospital = if c.severe { CurrentStatus::HospitalisedSevere } else { CurrentStatus::Hospitalised };
        if dies {
            let death = admission + days(rng.gen_range(2..=los));
            if death <= end {
                c.status = CurrentStatus::Died;
                c.status_on = death;
                c.death = Some(death);
            } else {
                c.status = in_hospital;
                c.status_on = admission;
            }
        } else if discharge <= end {
            c.status = CurrentStatus::RecoveryEnded;
            c.status_on = discharge;
            c.discharge = Some(discharge);
            c.recovery_ended = Some(discharge);
        } else {
            c.status = in_hospital;
            c.status_on = admission;
        }
        return c;
    }

    if rng.gen_bool(0.08) {
        c.severity = Some(Severity::ModerateI);
    }
    let in_recovery = match c.setting {
        Setting::Hotel => CurrentStatus::HotelRecovery,
        Setting::Facility => CurrentStatus::SocialWelfareFacility,
        _ => CurrentStatus::HomeRecovery,
    };
    if dies {
        let death = diagnosis + days(rng.gen_range(2..=12));
        if death <= end {
            c.status = CurrentStatus::Died;
            c.status_on = death;
            c.death = Some(death);
            c.followed = Some((report, death));
            return c;
        }
    }
    if c.setting == Setting::Hotel && report == end && rng.gen_bool(0.5) {
        c.status = CurrentStatus::AwaitingHotel;
        c.status_on = report;
        c.followed = Some((report, end));
        return c;
    }
    if recovery_end <= end {
        c.status = CurrentStatus::RecoveryEnded;
        c.status_on = recovery_end;
        c.recovery_ended = Some(recovery_end);
        c.followed = Some((report, recovery_end - days(1)));
    } else {
        c.status = in_recovery;
        c.status_on = report;
        c.followed = Some((report, end));
    }
    c
}

/// The three test kinds of everyday practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestKind {
    PcrNasopharyngeal,
    PcrSaliva,
    AntigenQuantitativeSaliva,
    AntigenQualitativeNasal,
}

impl TestKind {
    pub(crate) fn pick<R: Rng>(rng: &mut R) -> TestKind {
        match rng.gen_range(0..100) {
            0..=39 => TestKind::PcrNasopharyngeal,
            40..=49 => TestKind::PcrSaliva,
            50..=67 => TestKind::AntigenQuantitativeSaliva,
            _ => TestKind::AntigenQualitativeNasal,
        }
    }

    pub(crate) fn method_specimen(self) -> (TestMethod, Specimen) {
        match self {
            TestKind::PcrNasopharyngeal => (TestMethod::NucleicAcid, Specimen::NasopharyngealSwab),
            TestKind::PcrSaliva => (TestMethod::NucleicAcid, Specimen::Saliva),
            TestKind::AntigenQuantitativeSaliva => (TestMethod::AntigenQuantitative, Specimen::Saliva),
            TestKind::AntigenQualitativeNasal => (TestMethod::AntigenQualitative, Specimen::NasalSwab),
        }
    }
}

/// Office hours of `date` (JST), as UTC.
pub(crate) fn office_time<R: Rng>(rng: &mut R, date: NaiveDate) -> (u64, DateTime<Utc>) {
    let ms = ids::jst_millis(date, 32_400_000 + rng.gen_range(0..32_400_000));
    (ms, DateTime::from_timestamp_millis(ms as i64).unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn test_record<R: Rng>(
    rng: &mut R,
    kind: TestKind,
    collected: NaiveDate,
    result_on: Option<NaiveDate>,
    result: Option<TestResult>,
    programme: TestProgramme,
    institution: &str,
) -> TestRecord {
    let (method, specimen) = kind.method_specimen();
    let (ms, entered_at) = office_time(rng, result_on.unwrap_or(collected));
    let id: Uuid = ids::v7_at(rng, ms);
    TestRecord {
        id,
        collected_on: Some(collected),
        result_on,
        method: Some(method),
        specimen: Some(specimen),
        specimen_other: String::new(),
        result,
        programme: Some(programme),
        institution: institution.to_string(),
        entered_at: Some(entered_at),
    }
}

/// Prevalence of each risk factor by age group.
const RISK_TABLE: &[(RiskFactor, [f64; 10])] = &[
    (RiskFactor::Hypertension, [0.0, 0.0, 0.005, 0.03, 0.08, 0.18, 0.30, 0.40, 0.45, 0.45]),
    (RiskFactor::Diabetes, [0.0, 0.002, 0.004, 0.01, 0.03, 0.08, 0.13, 0.16, 0.15, 0.12]),
    (RiskFactor::Dyslipidaemia, [0.0, 0.0, 0.01, 0.02, 0.05, 0.10, 0.15, 0.15, 0.12, 0.08]),
    (RiskFactor::Obesity, [0.005, 0.01, 0.03, 0.04, 0.05, 0.05, 0.04, 0.03, 0.01, 0.005]),
    (RiskFactor::Smoking, [0.0, 0.0, 0.10, 0.14, 0.16, 0.16, 0.14, 0.12, 0.08, 0.05]),
    (RiskFactor::Copd, [0.0, 0.0, 0.0, 0.0, 0.002, 0.01, 0.03, 0.05, 0.06, 0.05]),
    (RiskFactor::ChronicKidneyDisease, [0.0, 0.001, 0.002, 0.004, 0.01, 0.02, 0.04, 0.07, 0.10, 0.12]),
    (RiskFactor::Malignancy, [0.001, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.06, 0.06, 0.05]),
    (RiskFactor::Other, [0.02, 0.02, 0.02, 0.02, 0.03, 0.04, 0.05, 0.07, 0.09, 0.10]),
];

const OTHER_CONDITIONS: &[&str] = &["気管支喘息", "心疾患（心不全）", "脳血管疾患", "関節リウマチ", "認知症", "肝疾患"];

pub(crate) fn risk_factors<R: Rng>(rng: &mut R, age: u32) -> (Vec<RiskFactor>, String) {
    let b = band(age);
    let mut out = Vec::new();
    let mut other = String::new();
    for (factor, p) in RISK_TABLE {
        if p[b] > 0.0 && rng.gen_bool(p[b]) {
            out.push(*factor);
            if *factor == RiskFactor::Other {
                other.push_str(OTHER_CONDITIONS[rng.gen_range(0..OTHER_CONDITIONS.len())]);
            }
        }
    }
    (out, other)
}

/// 基礎疾患 as a clinician would jot it down.
pub(crate) fn underlying_diseases(factors: &[RiskFactor], other: &str) -> String {
    use todoke_domain::Labelled;
    let mut s = String::new();
    for f in factors {
        let text = match f {
            RiskFactor::Smoking | RiskFactor::Obesity => continue,
            RiskFactor::Other => other,
            RiskFactor::Hypertension => "高血圧（内服治療中）",
            RiskFactor::Diabetes => "2型糖尿病",
            _ => f.ja(),
        };
        if !s.is_empty() {
            s.push('、');
        }
        s.push_str(text);
    }
    s
}

const OTHER_SYMPTOMS: &[&str] = &["鼻汁・鼻閉", "関節痛", "筋肉痛", "悪寒", "咽頭痛"];

pub(crate) fn symptoms<R: Rng>(
    rng: &mut R,
    class: DiagnosisClass,
    course: &Course,
    has_onset: bool,
    before_omicron: bool,
) -> (Vec<Symptom>, String) {
    use Symptom::*;
    if class == DiagnosisClass::AsymptomaticCarrier {
        return (vec![None], String::new());
    }
    if course.setting == Setting::DeadOnArrival && !has_onset {
        return (vec![Other], "死亡後に判明（生前の症状は調査中）".to_string());
    }
    let smell = if before_omicron { 0.25 } else { 0.04 };
    let table: [(Symptom, f64); 10] = [
        (Fever, 0.78),
        (Cough, 0.5),
        (OtherAcuteRespiratory, 0.45),
        (GeneralFatigue, 0.4),
        (Headache, 0.3),
        (NauseaVomiting, 0.05),
        (Diarrhoea, 0.06),
        (Conjunctivitis, 0.01),
        (SmellTasteLoss, smell),
        (Other, 0.05),
    ];
    let mut out = Vec::with_capacity(6);
    let mut other = String::new();
    for (s, p) in table {
        if rng.gen_bool(p) {
            out.push(s);
            if s == Other {
                other.push_str(OTHER_SYMPTOMS[rng.gen_range(0..OTHER_SYMPTOMS.len())]);
            }
        }
    }
    if course.setting == Setting::Hospital && rng.gen_bool(0.8) {
        out.push(PneumoniaImaging);
    }
    if course.severe {
        out.push(SeverePneumonia);
        if rng.gen_bool(0.3) {
            out.push(Ards);
        }
        if course.death.is_some() && rng.gen_bool(0.2) {
            out.push(MultiOrganFailure);
        }
    }
    if out.is_empty() {
        out.push(Fever);
    }
    out.sort();
    (out, other)
}

/// Doses received before `before`, after Japan's roll-out (health workers
/// from 2021-02, 65+ from 2021-04/05, everyone 12+ from 2021-06, boosters
/// six to eight months later, children 5–11 from 2022-03). Unvaccinated
/// cases record dose 1 as 無 (or 不明).
pub(crate) fn vaccinations<R: Rng>(rng: &mut R, birth: NaiveDate, before: NaiveDate, health_worker: bool) -> Vec<VaccineDose> {
    let age_2021 = years_between(birth, date(2021, 6, 1));
    let age_2022 = years_between(birth, date(2022, 3, 1));
    let (first, uptake) = if health_worker {
        (date(2021, 2, 17) + days(rng.gen_range(0..75)), 0.95)
    } else if age_2021 >= 65 {
        (date(2021, 4, 12) + days(rng.gen_range(30..110)), 0.92)
    } else if age_2021 >= 12 {
        (date(2021, 6, 21) + days(rng.gen_range(0..130)), 0.8)
    } else if age_2022 >= 5 {
        (date(2022, 3, 1) + days(rng.gen_range(0..150)), 0.2)
    } else {
        (date(2099, 1, 1), 0.0)
    };
    let vaccinated = rng.gen_bool(uptake);
    let moderna = rng.gen_bool(0.25);
    let (maker, kind) = if moderna {
        ("武田/モデルナ社", "mRNAワクチン（スパイクバックス）")
    } else {
        ("ファイザー社", "mRNAワクチン（コミナティ）")
    };
    let mut out = Vec::new();
    if vaccinated && first < before {
        let mut dates = vec![first];
        let second = first + days(if moderna { 28 } else { 21 } + rng.gen_range(0..8));
        dates.push(second);
        if rng.gen_bool(if age_2021 >= 65 { 0.9 } else { 0.65 }) {
            let third = (second + days(rng.gen_range(180..250))).max(date(2021, 12, 1));
            dates.push(third);
            if age_2022 >= 60 && rng.gen_bool(0.6) {
                dates.push((third + days(rng.gen_range(150..200))).max(date(2022, 5, 25)));
            }
        }
        for (i, date) in dates.into_iter().enumerate() {
            if date >= before {
                break;
            }
            out.push(VaccineDose {
                dose: i as u8 + 1,
                status: Some(YesNoUnknown::Yes),
                age_at_dose: Some(years_between(birth, date) as u16),
                manufacturer: maker.to_string(),
                vaccine_type: kind.to_string(),
                date: Some(date),
            });
        }
    }
    if out.is_empty() {
        out.push(VaccineDose {
            dose: 1,
            status: Some(if rng.gen_bool(0.9) { YesNoUnknown::No } else { YesNoUnknown::Unknown }),
            ..VaccineDose::default()
        });
    }
    out
}

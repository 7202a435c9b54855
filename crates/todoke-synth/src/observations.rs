//! 健康観察: one morning report a day while a case recovers outside
//! hospital, up to fourteen; fever early in the course, SpO2 96–99 unless
//! the case is heading for a hospital bed.

use chrono::{DateTime, Days, FixedOffset, NaiveDate};
use rand::Rng;
use uuid::Uuid;

use todoke_domain::{Observation, ObservationSource};

use crate::ids;

pub(crate) struct ObservationInput<'a> {
    pub case_id: Uuid,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub onset: Option<NaiveDate>,
    pub fever: bool,
    pub cough: bool,
    pub fatigue: bool,
    /// Deteriorating towards admission: lower SpO2, some breathlessness.
    pub deteriorating: bool,
    pub source: ObservationSource,
    /// Login of the nurse or health-centre staff who enters them.
    pub staff_login: &'a str,
}

const MAX_OBSERVATIONS: usize = 14;

pub(crate) fn observations<R: Rng>(rng: &mut R, input: &ObservationInput<'_>) -> Vec<Observation> {
    let span = (input.to - input.from).num_days();
    if span < 0 {
        return Vec::new();
    }
    let days = (span as usize + 1).min(MAX_OBSERVATIONS);
    let jst = FixedOffset::east_opt(9 * 3600).expect("JST");
    let reference = input.onset.unwrap_or(input.from);
    let mut out = Vec::with_capacity(days);
    for k in 0..days {
        // Some mornings nobody reports.
        if rng.gen_bool(0.1) {
            continue;
        }
        let date = input.from + Days::new(k as u64);
        let day_of_illness = (date - reference).num_days().max(0) as f32;
        let ms_of_day = 25_200_000 + rng.gen_range(0..14_400_000); // 07:00–11:00
        let millis = ids::jst_millis(date, ms_of_day);
        let observed_at = DateTime::from_timestamp_millis(millis as i64).map(|t| t.with_timezone(&jst));
        let noise = rng.gen_range(-0.3f32..0.3);
        let temperature = if input.fever { 36.6 + 1.9 * (-day_of_illness / 2.2).exp() + noise } else { 36.5 + noise };
        let spo2 = if input.deteriorating && k + 2 >= days { rng.gen_range(92..=95) } else { rng.gen_range(96..=99) };
        let early = day_of_illness < 4.0;
        let (source, entered_by) = match input.source {
            ObservationSource::Patient => (ObservationSource::Patient, "patient".to_string()),
            s => (s, input.staff_login.to_string()),
        };
        out.push(Observation {
            id: ids::v7_at(rng, millis),
            case_id: input.case_id,
            observed_at,
            temperature: Some((temperature * 10.0).round() / 10.0),
            spo2: Some(spo2),
            cough_or_runny_nose: Some(input.cough && (early || rng.gen_bool(0.3))),
            breathlessness: Some(input.deteriorating && rng.gen_bool(0.5)),
            fatigue: Some(input.fatigue && (early || rng.gen_bool(0.2))),
            note: String::new(),
            source: Some(source),
            supersedes: None,
            entered_by,
        });
    }
    out
}

//! The epidemic curve: how many cases are diagnosed on each day.
//!
//! A sum of Gaussian waves, each larger than the last (as Japan's waves were),
//! over a low baseline, times a weekday effect (fewer diagnoses on Sunday and
//! after holidays, most early in the week), with a little day-to-day noise.
//! The counts are fixed before the first case is made, so the generator can
//! stream cases in diagnosis-date order and know where any case index falls.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;

/// Diagnoses per day between `start` and `end` (inclusive).
pub(crate) struct Schedule {
    start: NaiveDate,
    counts: Vec<u32>,
    /// `first[d]` = index of the first case diagnosed on day `d`; one extra
    /// entry at the end holds the total.
    first: Vec<u64>,
}

/// Relative report volume by weekday, Monday first.
const WEEKDAY: [f64; 7] = [1.05, 1.18, 1.12, 1.06, 1.0, 0.88, 0.52];

impl Schedule {
    pub(crate) fn new<R: Rng>(rng: &mut R, start: NaiveDate, end: NaiveDate, cases: usize, surge_at_end: bool) -> Schedule {
        let days = (end - start).num_days().max(0) as usize + 1;
        let weights = wave_weights(rng, start, days, surge_at_end);
        let counts = allocate(cases as u64, &weights);
        let mut first = Vec::with_capacity(days + 1);
        let mut acc = 0u64;
        for &c in &counts {
            first.push(acc);
            acc += c as u64;
        }
        first.push(acc);
        Schedule { start, counts, first }
    }

    pub(crate) fn days(&self) -> usize {
        self.counts.len()
    }

    pub(crate) fn date(&self, day: usize) -> NaiveDate {
        self.start + Days::new(day as u64)
    }

    pub(crate) fn count(&self, day: usize) -> u32 {
        self.counts[day]
    }

    pub(crate) fn first_index(&self, day: usize) -> u64 {
        self.first[day]
    }

    /// The day on which case `index` is diagnosed.
    pub(crate) fn day_of(&self, index: u64) -> usize {
        self.first.partition_point(|&f| f <= index) - 1
    }

    /// A day drawn in proportion to its count: clusters happen in waves.
    pub(crate) fn weighted_day<R: Rng>(&self, rng: &mut R) -> usize {
        let total = *self.first.last().unwrap_or(&0);
        if total == 0 {
            return rng.gen_range(0..self.days());
        }
        self.day_of(rng.gen_range(0..total))
    }
}

fn wave_weights<R: Rng>(rng: &mut R, start: NaiveDate, days: usize, surge_at_end: bool) -> Vec<f64> {
    let span = days as f64;
    let waves = (days / 110).clamp(1, 8);
    let slot = span / waves as f64;
    let mut params = Vec::with_capacity(waves);
    let mut amplitude = 1.0;
    for k in 0..waves {
        let mut centre = (k as f64 + 0.5 + rng.gen_range(-0.2..0.2)) * slot;
        if surge_at_end && k + 1 == waves {
            centre = span - 1.0;
        }
        let sd = slot * rng.gen_range(0.10..0.17);
        params.push((centre, sd, amplitude));
        amplitude *= rng.gen_range(1.15..1.8);
    }
    let peak = amplitude;
    let baseline = 0.015 * peak;
    (0..days)
        .map(|d| {
            let x = d as f64;
            let mut w = baseline;
            for &(c, sd, a) in &params {
                let z = (x - c) / sd;
                w += a * (-0.5 * z * z).exp();
            }
            let date = start + Days::new(d as u64);
            let mut wd = WEEKDAY[date.weekday().num_days_from_monday() as usize];
            if is_new_year_holiday(date) {
                wd *= 0.6;
            }
            // Day-to-day noise, roughly log-normal (sd ≈ 0.08).
            let z: f64 = (0..3).map(|_| rng.gen_range(-1.0..1.0)).sum::<f64>();
            w * wd * (0.08 * z).exp()
        })
        .collect()
}

fn is_new_year_holiday(date: NaiveDate) -> bool {
    (date.month() == 12 && date.day() >= 30) || (date.month() == 1 && date.day() <= 3)
}

/// Splits `total` over the weights by largest remainder, so the counts sum
/// exactly to `total`.
fn allocate(total: u64, weights: &[f64]) -> Vec<u32> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let mut counts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    let mut assigned = 0u64;
    for (d, w) in weights.iter().enumerate() {
        let exact = total as f64 * w / sum;
        let floor = exact.floor();
        counts.push(floor as u32);
        assigned += floor as u64;
        remainders.push((exact - floor, d));
    }
    remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = total.saturating_sub(assigned);
    let mut i = 0;
    while left > 0 {
        counts[remainders[i % remainders.len()].1] += 1;
        left -= 1;
        i += 1;
    }
    counts
}

//! Reproducible UUIDv7 ids: the timestamp is the (JST) moment the thing was
//! entered, the random bits come from the seeded generator, so a seed always
//! yields the same ids and the ids still sort by entry time like real ones.

use chrono::{Datelike, NaiveDate};
use rand::RngCore;
use rand_chacha::ChaCha8Rng;
use uuid::{Builder, Uuid};

const JST_OFFSET_MS: i64 = 9 * 3600 * 1000;
const DAY_MS: i64 = 24 * 3600 * 1000;

/// Unix milliseconds of `ms_of_day` after midnight JST on `date`.
pub(crate) fn jst_millis(date: NaiveDate, ms_of_day: u32) -> u64 {
    // 1970-01-01 is day 719,163 of the common era.
    let days = date.num_days_from_ce() as i64 - 719_163;
    (days * DAY_MS + ms_of_day as i64 - JST_OFFSET_MS).max(0) as u64
}

/// A UUIDv7 stamped during office hours (08:30–19:30 JST) of `date`.
pub(crate) fn v7_on<R: RngCore>(rng: &mut R, date: NaiveDate) -> Uuid {
    let r = rng.next_u64();
    let ms_of_day = 30_600_000 + (r % 39_600_000) as u32;
    v7_at(rng, jst_millis(date, ms_of_day))
}

/// A UUIDv7 with the given Unix-millisecond timestamp.
pub(crate) fn v7_at<R: RngCore>(rng: &mut R, millis: u64) -> Uuid {
    let mut bytes = [0u8; 10];
    rng.fill_bytes(&mut bytes);
    Builder::from_unix_timestamp_millis(millis, &bytes).into_uuid()
}

/// Case ids by position in the stream: random access into a keystream of
/// their own, so a case can name a later case (a contact who became a case)
/// before that case is generated.
///
/// Each case takes four 32-bit words of the keystream (10 random bytes and a
/// time of day). Seeking a ChaCha keystream recomputes a block, so words are
/// read sixteen cases at a time and kept.
pub(crate) struct CaseIds {
    keystream: ChaCha8Rng,
    cached_from: u64,
    cache: [u64; 2 * CASES_PER_FILL as usize],
}

const CASES_PER_FILL: u64 = 16;

impl CaseIds {
    pub(crate) fn new(keystream: ChaCha8Rng) -> CaseIds {
        CaseIds { keystream, cached_from: u64::MAX, cache: [0; 2 * CASES_PER_FILL as usize] }
    }

    /// The id of case number `index`, diagnosed on `date`.
    pub(crate) fn id(&mut self, index: u64, date: NaiveDate) -> Uuid {
        let from = index - index % CASES_PER_FILL;
        if from != self.cached_from {
            self.keystream.set_word_pos(from as u128 * 4);
            for word in self.cache.iter_mut() {
                *word = self.keystream.next_u64();
            }
            self.cached_from = from;
        }
        let k = (index - from) as usize * 2;
        let (a, b) = (self.cache[k], self.cache[k + 1]);
        let mut bytes = [0u8; 10];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes()[..2]);
        let ms_of_day = 30_600_000 + ((b >> 16) % 39_600_000) as u32;
        Builder::from_unix_timestamp_millis(jst_millis(date, ms_of_day), &bytes).into_uuid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jst_midnight_is_fifteen_hours_utc_the_day_before() {
        let d = NaiveDate::from_ymd_opt(2022, 1, 23).unwrap();
        let utc = chrono::DateTime::from_timestamp_millis(jst_millis(d, 0) as i64).unwrap();
        assert_eq!(utc.to_rfc3339(), "2022-01-22T15:00:00+00:00");
        assert_eq!(jst_millis(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(), 9 * 3_600_000), 0);
    }
}

//! Who a case is: age, sex, birth date, occupation, phone numbers.

use chrono::{Datelike, Days, NaiveDate};
use rand::Rng;

use todoke_domain::Sex;

/// Share of cases by published age group (under 10, 10s, ..., 80s, 90+),
/// in percent: roughly Japan's cumulative case mix of 2020–2022, with most
/// cases in their 20s to 50s.
const AGE_BAND_WEIGHTS: [u32; 10] = [120, 130, 170, 160, 150, 110, 60, 45, 35, 20];

pub(crate) fn age<R: Rng>(rng: &mut R) -> u32 {
    let total: u32 = AGE_BAND_WEIGHTS.iter().sum();
    let mut x = rng.gen_range(0..total);
    for (band, w) in AGE_BAND_WEIGHTS.iter().enumerate() {
        if x < *w {
            let lo = band as u32 * 10;
            return if band == 9 { rng.gen_range(90..=104) } else { rng.gen_range(lo..lo + 10) };
        }
        x -= w;
    }
    unreachable!("weights sum")
}

pub(crate) fn sex<R: Rng>(rng: &mut R) -> Sex {
    let x = rng.gen_range(0..1000);
    if x < 503 {
        Sex::Male
    } else if x < 998 {
        Sex::Female
    } else {
        Sex::OtherOrUnknown
    }
}

/// A birth date that makes the person `age` years old on `on` (at least a
/// few weeks old for babies).
pub(crate) fn birth_date<R: Rng>(rng: &mut R, age: u32, on: NaiveDate) -> NaiveDate {
    let birthday_this_year = on.with_year(on.year() - age as i32).unwrap_or_else(|| on - Days::new(365 * age as u64));
    let back = if age == 0 { rng.gen_range(21..365) } else { rng.gen_range(0..365) };
    birthday_this_year - Days::new(back)
}

/// Whole years between `birth` and `on`.
pub(crate) fn years_between(birth: NaiveDate, on: NaiveDate) -> u32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years.max(0) as u32
}

const WORKING: &[(&str, u32)] = &[
    ("会社員", 400),
    ("公務員", 50),
    ("自営業", 60),
    ("医療従事者", 55),
    ("介護職員", 40),
    ("飲食店従業員", 45),
    ("教員", 20),
    ("保育士", 15),
    ("パート・アルバイト", 100),
    ("主婦・主夫", 70),
    ("無職", 40),
    ("運転手", 20),
    ("建設業", 30),
    ("販売員", 30),
    ("ITエンジニア", 25),
];

const RETIRED: &[(&str, u32)] =
    &[("無職", 620), ("主婦・主夫", 150), ("自営業", 80), ("会社員", 60), ("パート・アルバイト", 70), ("農業", 20)];

fn weighted<R: Rng>(rng: &mut R, list: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = list.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (s, w) in list {
        if x < *w {
            return s;
        }
        x -= w;
    }
    list[0].0
}

pub(crate) fn occupation<R: Rng>(rng: &mut R, age: u32) -> &'static str {
    match age {
        0..=2 => "未就学児",
        3..=5 => {
            if rng.gen_bool(0.8) {
                "保育園児・幼稚園児"
            } else {
                "未就学児"
            }
        }
        6..=11 => "小学生",
        12..=14 => "中学生",
        15..=17 => "高校生",
        18..=22 => match rng.gen_range(0..10) {
            0..=5 => "大学生",
            6..=7 => "会社員",
            _ => "パート・アルバイト",
        },
        23..=64 => weighted(rng, WORKING),
        _ => weighted(rng, RETIRED),
    }
}

/// A mobile number, unique per `n` below 100 million: a four-round Feistel
/// permutation of `n` over 10⁸ (two halves of four digits) gives the eight
/// digits, so numbers look random, never repeat within one data set and are
/// computable from `n` alone (a contact's number is the number of the case
/// the contact becomes).
pub(crate) fn unique_mobile(n: u64, key: u64) -> String {
    const HALF: u64 = 10_000;
    let (mut left, mut right) = ((n / HALF) % HALF, n % HALF);
    for round in 0..4u64 {
        let f = mix(right ^ key.rotate_left(16 * round as u32) ^ (round << 56)) % HALF;
        (left, right) = (right, (left + f) % HALF);
    }
    let x = left * HALF + right;
    let prefix = match mix(x ^ key) % 20 {
        0..=9 => "090",
        10..=16 => "080",
        _ => "070",
    };
    format!("{}-{:04}-{:04}", prefix, left, right)
}

/// SplitMix64's finaliser: a cheap, well-spread 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A mobile number that may repeat (relatives, doctors' out-of-hours lines).
pub(crate) fn mobile<R: Rng>(rng: &mut R) -> String {
    let prefix = ["090", "080", "070"][rng.gen_range(0..3)];
    format!("{}-{:04}-{:04}", prefix, rng.gen_range(1000..10_000), rng.gen_range(0..10_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for n in 0..200_000 {
            let m = unique_mobile(n, 12345);
            assert_eq!(m.len(), 13);
            assert!(seen.insert(m[4..].to_string()), "{m}");
        }
        // Consecutive cases do not share visible patterns.
        let tails: std::collections::HashSet<_> = (0..100).map(|n| unique_mobile(n * 100, 7)[11..].to_string()).collect();
        assert!(tails.len() > 50);
    }
}

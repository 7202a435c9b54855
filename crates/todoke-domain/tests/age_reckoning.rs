//! 年齢: ages at diagnosis, months below one year, age bands.

mod fixture;

use fixture::*;
use todoke_domain::age::{age_at, age_band_at, age_of_majority_on, is_minor, Age};
use todoke_domain::*;

#[test]
fn a_year_older_from_the_birthday() {
    assert_eq!(age_at(d(1976, 3, 14), d(2021, 3, 13)), Some(Age { years: 44, months: 11 }));
    assert_eq!(age_at(d(1976, 3, 14), d(2021, 3, 14)), Some(Age { years: 45, months: 0 }));
    assert_eq!(age_at(d(1976, 3, 14), d(2021, 8, 10)), Some(Age { years: 45, months: 4 }));
}

#[test]
fn born_on_29_february_ages_on_1_march_in_common_years() {
    assert_eq!(age_at(d(2000, 2, 29), d(2021, 2, 28)).map(|a| a.years), Some(20));
    assert_eq!(age_at(d(2000, 2, 29), d(2021, 3, 1)).map(|a| a.years), Some(21));
    assert_eq!(age_at(d(2000, 2, 29), d(2024, 2, 29)).map(|a| a.years), Some(24));
}

#[test]
fn infants_are_counted_in_months() {
    let age = age_at(d(2021, 5, 20), d(2021, 8, 10)).expect("after birth");
    assert_eq!(age, Age { years: 0, months: 2 });
    assert_eq!(age.display_ja(), "0歳2か月");
    assert_eq!(age.display_en(), "2 months");
    // Born 31 January: one month old from 1 March (no 31 February).
    assert_eq!(age_at(d(2021, 1, 31), d(2021, 2, 28)), Some(Age { years: 0, months: 0 }));
    assert_eq!(age_at(d(2021, 1, 31), d(2021, 3, 1)), Some(Age { years: 0, months: 1 }));
    assert_eq!(age_at(d(2021, 8, 10), d(2021, 8, 10)), Some(Age { years: 0, months: 0 }));
    assert_eq!(Age { years: 45, months: 4 }.display_ja(), "45歳");
}

#[test]
fn no_age_before_birth() {
    assert_eq!(age_at(d(2021, 8, 10), d(2021, 8, 9)), None);
}

#[test]
fn age_band_uses_birth_and_diagnosis_dates() {
    assert_eq!(age_band_at(&hanako()), AgeBand::Forties);
    let mut case = hanako();
    case.basic.birth_date = Some(d(1971, 8, 11)); // 49 on the diagnosis day, 50 the next
    assert_eq!(age_band_at(&case), AgeBand::Forties);
    case.notification.diagnosis_date = Some(d(2021, 8, 11));
    assert_eq!(age_band_at(&case), AgeBand::Fifties);
}

#[test]
fn age_band_falls_back_to_report_date_then_published_band_then_unknown() {
    let mut case = hanako();
    case.notification.diagnosis_date = None;
    case.notification.report_date = Some(d(2026, 4, 1));
    assert_eq!(age_band_at(&case), AgeBand::Fifties);
    assert_eq!(age_band_at(&open_data_row()), AgeBand::Thirties);
    let mut unknown = open_data_row();
    unknown.basic.reported_age_band = None;
    assert_eq!(age_band_at(&unknown), AgeBand::Unknown);
}

#[test]
fn majority_moved_from_20_to_18_on_2022_04_01() {
    assert_eq!(age_of_majority_on(d(2022, 3, 31)), 20);
    assert_eq!(age_of_majority_on(d(2022, 4, 1)), 18);
    assert_eq!(is_minor(d(2003, 5, 1), d(2022, 3, 31)), Some(true));
    assert_eq!(is_minor(d(2003, 5, 1), d(2022, 4, 1)), Some(false));
    assert_eq!(is_minor(d(2030, 1, 1), d(2022, 4, 1)), None);
}

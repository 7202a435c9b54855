//! A fresh encrypted desk of 世田谷区保健所 on 2022-08-10 (JST), and sample cases.

use chrono::{TimeZone, Utc};
use todoke_desk::{DeskService, FixedClock};
use todoke_domain::Actor;
use todoke_store::MemoryKeys;

pub fn desk() -> (tempfile::TempDir, DeskService) {
    let tmp = tempfile::tempdir().unwrap();
    let keys = MemoryKeys::fixed([7; 32]);
    let actor = Actor { login: "hc-staff-01".into(), org_code: "HC131121".into() };
    let mut d = DeskService::init(&tmp.path().join("desk"), &keys, actor).unwrap();
    d.set_clock(Box::new(FixedClock(Utc.with_ymd_and_hms(2022, 8, 10, 1, 0, 0).unwrap())));
    (tmp, d)
}

/// A complete example case without an id (the desk gives it one).
#[allow(dead_code)] // not every test file uses it
pub fn sample(n: u64) -> todoke_domain::Case {
    let mut c = todoke_synth::sample_case(n);
    c.id = uuid::Uuid::nil();
    c
}

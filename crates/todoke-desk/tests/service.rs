//! Desk actions on a real encrypted desk in a temporary folder.

use chrono::{NaiveDate, TimeZone, Utc};
use todoke_desk::{DeskService, ErrorCode, FixedClock};
use todoke_domain::{Actor, CurrentStatus};
use todoke_store::MemoryKeys;

fn desk() -> (tempfile::TempDir, DeskService) {
    let tmp = tempfile::tempdir().unwrap();
    let keys = MemoryKeys::fixed([9; 32]);
    let actor = Actor { login: "hc-staff-02".into(), org_code: "HC131121".into() };
    let mut d = DeskService::init(&tmp.path().join("desk"), &keys, actor).unwrap();
    d.set_clock(Box::new(FixedClock(Utc.with_ymd_and_hms(2022, 8, 10, 1, 0, 0).unwrap())));
    (tmp, d)
}

fn sample(n: u64) -> todoke_domain::Case {
    let mut c = todoke_synth::sample_case(n);
    c.id = uuid::Uuid::nil();
    c
}

#[test]
fn desk_remembers_its_organisation_for_later_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = MemoryKeys::fixed([9; 32]);
    let dir = tmp.path().join("desk");
    DeskService::init(&dir, &keys, Actor { login: "a".into(), org_code: "HC141003".into() }).unwrap();
    let again = DeskService::open(&dir, &keys, Actor { login: "b".into(), org_code: String::new() }).unwrap();
    assert_eq!(again.actor().org_code, "HC141003");
}

#[test]
fn bulk_status_change_is_all_or_nothing() {
    let (_tmp, mut d) = desk();
    let a = d.create_case(sample(1)).unwrap().case.id;
    let b = d.create_case(sample(2)).unwrap().case.id;
    // Died needs a date of death: refused for both, nothing saved.
    let err = d.set_status_many(&[a, b], CurrentStatus::Died).unwrap_err();
    assert_eq!(err.code, ErrorCode::Invalid);
    assert!(d.get(a).unwrap().measures.current_status != Some(CurrentStatus::Died));
    let before = d.pending_changes().unwrap();
    d.set_status_many(&[a, b], CurrentStatus::HotelRecovery).unwrap();
    assert_eq!(d.get(a).unwrap().measures.current_status, Some(CurrentStatus::HotelRecovery));
    assert_eq!(d.get(b).unwrap().measures.status_updated_on, NaiveDate::from_ymd_opt(2022, 8, 10));
    assert_eq!(d.pending_changes().unwrap(), before + 2, "one outbox entry per edited case");
}

#[test]
fn duplicate_person_is_flagged_on_entry() {
    let (_tmp, mut d) = desk();
    d.create_case(sample(1)).unwrap();
    let second = d.create_case(sample(1)).unwrap();
    assert_eq!(second.possible_duplicates.len(), 1, "same kana, birth date and sex");
}

#[test]
fn edit_of_unknown_case_is_not_found() {
    let (_tmp, mut d) = desk();
    let mut c = sample(3);
    c.id = uuid::Uuid::now_v7();
    assert_eq!(d.update_case(c).unwrap_err().code, ErrorCode::NotFound);
}

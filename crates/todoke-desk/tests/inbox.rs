//! What the app shows of sync (inbox.rs) on a real encrypted desk, without a server:
//! the overview, per-change state, sign-out keeping unsent changes, erasing refused
//! while anything is unsent. (With a server: crates/todoke-cli/tests/sync.rs and
//! tests/e2e/sync-conflict.test.mjs.)

use todoke_desk::ErrorCode;
use todoke_store::{MemoryKeys, OpStatus};

mod common;
use common::{desk, sample};

#[test]
fn overview_counts_what_waits_and_history_marks_each_change_pending() {
    let (_tmp, mut d) = desk();
    let keys = MemoryKeys::fixed([7; 32]);
    let o = d.sync_overview(&keys).unwrap();
    assert!(o.account.is_none(), "not signed in");
    assert_eq!((o.unsent, o.open_conflicts, o.rejected), (0, 0, 0));
    assert!(o.last_sync.is_none());

    let saved = d.create_case(sample(1)).unwrap().case;
    let mut edited = saved.clone();
    edited.basic.phone = "090-0000-1111".into();
    d.update_case(edited).unwrap();
    assert_eq!(d.sync_overview(&keys).unwrap().unsent, 2);
    let states = d.change_states(saved.id).unwrap();
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(states.iter().all(|s| s.status == OpStatus::Pending), "{states:?}");
    assert!(d.conflict_inbox().unwrap().is_empty());
    assert!(d.rejected_inbox().unwrap().is_empty());
}

#[test]
fn sign_out_keeps_unsent_changes_and_erasing_is_refused_until_they_are_sent() {
    let (tmp, mut d) = desk();
    let keys = MemoryKeys::fixed([7; 32]);
    d.create_case(sample(2)).unwrap();
    assert_eq!(d.sign_out(&keys).unwrap(), 1, "the change stays queued");
    let e = d.check_wipe(&keys).unwrap_err();
    assert_eq!(e.code, ErrorCode::BadInput);
    assert!(e.message_en.contains("1 changes were never sent"), "{}", e.message_en);
    assert!(tmp.path().join("desk/desk.db").exists());
    assert_eq!(d.sync_overview(&keys).unwrap().unsent, 1);
}

#[test]
fn erasing_a_desk_with_nothing_unsent_removes_its_files() {
    let (tmp, mut d) = desk();
    let keys = MemoryKeys::fixed([7; 32]);
    assert_eq!(d.sign_out(&keys).unwrap(), 0);
    d.wipe(&keys).unwrap();
    assert!(!tmp.path().join("desk/desk.db").exists());
    assert!(!tmp.path().join("desk/desk.json").exists());
}

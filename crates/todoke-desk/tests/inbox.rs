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

/// The inbox shows when each value reached the server (server time), as pulled.
#[test]
fn the_inbox_shows_when_each_value_reached_the_server() {
    use todoke_protocol::{Change, ConflictRecord, PullResponse};
    let (_tmp, mut d) = desk();
    let saved = d.create_case(sample(3)).unwrap().case;
    let record = ConflictRecord {
        conflict_id: uuid::Uuid::now_v7(),
        entity: "case".into(),
        entity_id: saved.id.to_string(),
        case_id: saved.id,
        field: "basic.phone".into(),
        base_seq: 1,
        server_value: "03-1111-2222".into(),
        client_value: "090-3333-4444".into(),
        server_author: "chuo@HC9901/desk-a".into(),
        client_author: "ken@P99/desk-b".into(),
        status: "open".into(),
        server_at: Some("2022-08-09T23:05:00Z".into()),
        client_at: Some("2022-08-10T00:30:00Z".into()),
    };
    let page =
        PullResponse { changes: vec![Change::Conflict { server_seq: 9, conflict: record }], next_cursor: "c.9".into(), has_more: false };
    d.store_mut().apply_pull_page("HC131121", &page).unwrap();
    let inbox = d.conflict_inbox().unwrap();
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].case_id, Some(saved.id));
    let c = &inbox[0].conflict;
    assert_eq!((c.server_at.as_deref(), c.client_at.as_deref()), (Some("2022-08-09T23:05:00Z"), Some("2022-08-10T00:30:00Z")));
}

/// A conflict answered to a desk the case has left (a transfer) carries no
/// other value: the desk keeps no record of it, shows the value it last knew
/// until the case goes, and the change counts as answered (SYNC.md property 6).
#[test]
fn a_withheld_conflict_leaves_nothing_to_show_and_the_case_can_go() {
    use todoke_protocol::{Change, FieldConflict, OpResult, OpStatus as Wire, PullResponse};
    let (_tmp, mut d) = desk();
    let saved = d.create_case(sample(4)).unwrap().case;
    let before = saved.basic.phone.clone();
    let mut edited = saved.clone();
    edited.basic.phone = "090-0000-1111".into();
    d.update_case(edited).unwrap();
    let ops = d.store().outbox_all().unwrap();
    let answers = vec![
        OpResult { op_id: ops[0].op_id, status: Wire::Applied { server_seq: 1 } },
        OpResult {
            op_id: ops[1].op_id,
            status: Wire::Conflict {
                server_seq: 5,
                conflicts: vec![FieldConflict {
                    field: "basic.phone".into(),
                    server_value: serde_json::Value::Null,
                    client_value: "090-0000-1111".into(),
                    conflict_id: uuid::Uuid::now_v7(),
                    withheld: true,
                    server_at: None,
                    client_at: Some("2022-08-10T00:30:00Z".into()),
                }],
            },
        },
    ];
    let sum = d.store_mut().record_op_results(&answers).unwrap();
    assert_eq!((sum.applied, sum.conflicts), (1, 1));
    assert!(d.conflict_inbox().unwrap().is_empty(), "nothing to choose between");
    assert_eq!(d.store().get_case(saved.id).unwrap().unwrap().basic.phone, before, "the value it last knew");
    assert_eq!(d.sync_overview(&MemoryKeys::fixed([7; 32])).unwrap().unsent, 0);
    let page =
        PullResponse { changes: vec![Change::ScopeLeft { server_seq: 6, case_id: saved.id }], next_cursor: "c.6".into(), has_more: false };
    d.store_mut().apply_pull_page("HC131121", &page).unwrap();
    assert!(d.store().get_case(saved.id).unwrap().is_none(), "the case left the desk");
}

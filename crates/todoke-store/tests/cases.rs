//! Saving, editing and opening cases: one outbox op and one history entry per
//! change, written together; no-op edits write nothing.

mod common;

use common::*;
use serde_json::json;
use todoke_domain::*;
use todoke_store::{op_kind, CaseQuery, Desk, OpStatus, StoreError};
use uuid::Uuid;

fn outbox_rows(desk: &Desk) -> u64 {
    desk.outbox_pending_count().unwrap()
}

#[test]
fn create_writes_record_op_and_history() {
    let mut t = new_desk();
    let c = case("山田 花子", "ヤマダ ハナコ", "090-1234-5678", date(2022, 8, 1));
    let saved = t.desk.create_case(&c, &actor()).unwrap();
    assert_eq!(saved.rev, 1);
    assert!(saved.case.updated_at.is_some(), "stamped");
    let detail = t.desk.open_case(c.id).unwrap().expect("stored");
    assert_eq!(detail.case, saved.case);
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.history[0].kind, op_kind::CASE_CREATE);
    assert_eq!(detail.history[0].actor, actor());
    assert_eq!(detail.pending_ops.len(), 1);
    let op = &detail.pending_ops[0];
    assert_eq!((op.kind.as_str(), op.status), (op_kind::CASE_CREATE, OpStatus::Pending));
    assert_eq!(op.payload["case"]["basic"]["name"], "山田 花子");
    assert_eq!(Some(op.op_id), saved.op_id);
}

#[test]
fn create_twice_is_already_exists_and_nil_id_is_refused() {
    let mut t = new_desk();
    let c = case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1));
    t.desk.create_case(&c, &actor()).unwrap();
    let err = t.desk.create_case(&c, &actor()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { what: "case", .. }), "{err:?}");
    assert_eq!(outbox_rows(&t.desk), 1, "the failed create left no op behind");
    let nil = Case { id: Uuid::nil(), ..c };
    assert!(matches!(t.desk.create_case(&nil, &actor()), Err(StoreError::Validation(_))));
}

#[test]
fn update_writes_exactly_one_op_with_the_field_changes() {
    let mut t = new_desk();
    let c = case("山田 花子", "ヤマダ ハナコ", "090-1234-5678", date(2022, 8, 1));
    let saved = t.desk.create_case(&c, &actor()).unwrap();
    let mut edited = saved.case.clone();
    edited.measures.current_status = Some(CurrentStatus::RecoveryEnded);
    edited.tests[0].institution = "○○クリニック".into();
    let before = outbox_rows(&t.desk);
    let saved2 = t.desk.update_case(&edited, &actor()).unwrap();
    assert_eq!(outbox_rows(&t.desk), before + 1);
    assert_eq!(saved2.rev, 2);

    let detail = t.desk.open_case(c.id).unwrap().unwrap();
    let op = detail.pending_ops.last().unwrap();
    assert_eq!(op.kind, op_kind::CASE_UPDATE);
    let test_path = format!("tests[{}].institution", c.tests[0].id);
    assert_eq!(
        op.payload,
        json!({ "changes": [
            { "path": "measures.current_status", "old": "home_recovery", "new": "recovery_ended" },
            { "path": test_path, "old": "", "new": "○○クリニック" },
        ]})
    );
    assert_eq!(op.base_versions, json!({ "measures.current_status": 0, test_path.clone(): 0 }));
    assert_eq!(detail.history.len(), 2);
    assert_eq!(detail.history[1].changes.len(), 2);
    assert_eq!(detail.history[1].op_id, Some(op.op_id));
    assert_eq!(detail.case.measures.current_status, Some(CurrentStatus::RecoveryEnded));
    assert!(detail.case.updated_at > saved.case.updated_at, "stamped anew");
}

#[test]
fn a_no_op_edit_writes_nothing() {
    let mut t = new_desk();
    let saved = t.desk.create_case(&case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1)), &actor()).unwrap();
    let mut same = saved.case.clone();
    same.updated_at = Some(chrono::Utc::now()); // only the display stamp differs
    let again = t.desk.update_case(&same, &actor()).unwrap();
    assert_eq!((again.rev, again.op_id, again.changes.len()), (1, None, 0));
    assert_eq!(outbox_rows(&t.desk), 1);
    let detail = t.desk.open_case(saved.case.id).unwrap().unwrap();
    assert_eq!(detail.history.len(), 1);
    assert_eq!(detail.case, saved.case);
}

#[test]
fn update_of_a_missing_case_is_not_found() {
    let mut t = new_desk();
    let c = case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1));
    let err = t.desk.update_case(&c, &actor()).unwrap_err();
    assert!(matches!(err, StoreError::NotFound { what: "case", .. }));
    assert_eq!(err.code(), "not_found");
    assert!(t.desk.open_case(c.id).unwrap().is_none());
}

#[test]
fn open_case_returns_tests_observations_history_and_clusters() {
    let mut t = new_desk();
    let cluster = Cluster { id: Uuid::now_v7(), name: "○○病院".into(), setting: "医療機関".into(), ..Default::default() };
    t.desk.upsert_cluster(&cluster, &actor()).unwrap();
    let mut c = case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1));
    for _ in 0..3 {
        let mut extra = c.tests[0].clone();
        extra.id = Uuid::now_v7();
        c.tests.push(extra);
    }
    c.investigation.clusters.push(ClusterLink { id: Uuid::now_v7(), cluster_id: cluster.id });
    c.investigation.contacts.push(Contact { id: Uuid::now_v7(), name: "山田 一郎".into(), ..Default::default() });
    t.desk.create_case(&c, &actor()).unwrap();
    let jst = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    for day in (1..=14).rev() {
        let at = date(2022, 8, day).and_hms_opt(9, 0, 0).unwrap().and_local_timezone(jst).unwrap();
        let obs = Observation {
            id: Uuid::now_v7(),
            case_id: c.id,
            observed_at: Some(at),
            temperature: Some(36.8),
            spo2: Some(97),
            source: Some(ObservationSource::Patient),
            entered_by: "patient".into(),
            ..Default::default()
        };
        t.desk.add_observation(&obs, &actor()).unwrap();
    }
    let detail = t.desk.open_case(c.id).unwrap().unwrap();
    assert_eq!(detail.case.tests.len(), 4);
    assert_eq!(detail.observations.len(), 14);
    let days: Vec<_> = detail.observations.iter().map(|o| o.observed_at.unwrap()).collect();
    assert!(days.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert_eq!(detail.clusters, vec![cluster]);
    assert_eq!(detail.case.investigation.contacts.len(), 1);
    assert_eq!(detail.history.len(), 1, "observations are their own list, not edits");
    assert_eq!(detail.pending_ops.len(), 15, "the create and 14 observation ops");
    assert!(detail.pending_ops.windows(2).all(|w| w[0].seq < w[1].seq));
}

#[test]
fn observations_are_append_only_and_need_their_case() {
    let mut t = new_desk();
    let c = case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1));
    t.desk.create_case(&c, &actor()).unwrap();
    let obs = Observation { id: Uuid::now_v7(), case_id: c.id, temperature: Some(37.2), ..Default::default() };
    t.desk.add_observation(&obs, &actor()).unwrap();
    let again = t.desk.add_observation(&obs, &actor()).unwrap_err();
    assert!(matches!(again, StoreError::AlreadyExists { what: "observation", .. }));
    let orphan = Observation { id: Uuid::now_v7(), case_id: Uuid::now_v7(), ..Default::default() };
    assert!(matches!(t.desk.add_observation(&orphan, &actor()), Err(StoreError::NotFound { what: "case", .. })));
    assert_eq!(t.desk.outbox_pending_count().unwrap(), 2);
}

#[test]
fn clusters_are_created_then_edited_by_field() {
    let mut t = new_desk();
    let mut cl = Cluster { id: Uuid::now_v7(), name: "○○高校".into(), ..Default::default() };
    assert_eq!(t.desk.upsert_cluster(&cl, &actor()).unwrap(), 1);
    assert_eq!(t.desk.upsert_cluster(&cl, &actor()).unwrap(), 1, "unchanged: nothing written");
    cl.place = "世田谷区".into();
    assert_eq!(t.desk.upsert_cluster(&cl, &actor()).unwrap(), 2);
    let ops = t.desk.outbox_pending(10).unwrap();
    assert_eq!(ops.iter().map(|o| o.kind.as_str()).collect::<Vec<_>>(), [op_kind::CLUSTER_CREATE, op_kind::CLUSTER_UPDATE]);
    assert_eq!(ops[1].payload["changes"][0]["path"], "place");
    assert_eq!(t.desk.clusters().unwrap(), vec![cl]);
}

#[test]
fn edit_from_an_older_version_merges_or_refuses() {
    let mut t = new_desk();
    let base = t.desk.create_case(&case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1)), &actor()).unwrap().case;
    // Another window saves a phone number meanwhile.
    let mut other = base.clone();
    other.basic.phone = "03-1111-2222".into();
    t.desk.update_case(&other, &actor()).unwrap();
    // This form, opened before, changes the status: merged, the phone is kept.
    let mut mine = base.clone();
    mine.measures.current_status = Some(CurrentStatus::Hospitalised);
    let saved = t.desk.update_case_from(&base, &mine, &actor()).unwrap();
    assert_eq!(saved.case.basic.phone, "03-1111-2222");
    assert_eq!(saved.case.measures.current_status, Some(CurrentStatus::Hospitalised));
    assert_eq!(saved.changes.len(), 1);
    // Changing the phone from the stale version is a conflict; nothing is written.
    let mut clash = base.clone();
    clash.basic.phone = "080-0000-0000".into();
    let err = t.desk.update_case_from(&base, &clash, &actor()).unwrap_err();
    assert!(matches!(&err, StoreError::EditConflict { fields, .. } if fields == &["basic.phone"]), "{err:?}");
    assert_eq!(t.desk.open_case(base.id).unwrap().unwrap().rev, 3);
}

#[test]
fn bulk_create_writes_an_op_per_case_in_batches() {
    let mut t = new_desk();
    let cases: Vec<Case> = (0..250).map(|i| case(&format!("試験 {i}"), "シケン", "", date(2022, 8, 1))).collect();
    let mut progress = Vec::new();
    let n = t.desk.bulk_create(cases.clone(), &actor(), 100, &mut |done| progress.push(done)).unwrap();
    assert_eq!(n, 250);
    assert_eq!(progress, [100, 200, 250]);
    assert_eq!(t.desk.case_count().unwrap(), 250);
    assert_eq!(t.desk.outbox_pending_count().unwrap(), 250);
    // a duplicate in a later batch: that batch is rolled back whole
    let mut again = vec![case("新規", "シンキ", "", date(2022, 8, 2))];
    again.push(cases[0].clone());
    let err = t.desk.bulk_create(again, &actor(), 10, &mut |_| {}).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }));
    assert_eq!(t.desk.case_count().unwrap(), 250);
    assert_eq!(t.desk.outbox_pending_count().unwrap(), 250);
}

#[test]
fn every_case_streams_once_in_stored_order() {
    let mut t = new_desk();
    // more than one page (2,048 rows) and a last page that is not full
    let cases: Vec<Case> = (0..4500).map(|i| case(&format!("試験 {i}"), "シケン", "", date(2022, 8, 1))).collect();
    t.desk.bulk_create(cases.clone(), &actor(), 500, &mut |_| {}).unwrap();
    let mut streamed = Vec::new();
    let n = t.desk.for_each_case(|c| -> Result<(), StoreError> {
        streamed.push(c);
        Ok(())
    });
    assert_eq!(n.unwrap(), 4500);
    // creation order, each case whole and once
    assert_eq!(streamed.iter().map(|c| c.id).collect::<Vec<_>>(), cases.iter().map(|c| c.id).collect::<Vec<_>>());
    assert_eq!(streamed[4321], t.desk.get_case(cases[4321].id).unwrap().unwrap());
    assert_eq!(streamed[4321].basic.name, "試験 4321");
    assert_eq!(t.desk.iter_cases().unwrap().count(), 4500);
    // stopping early
    let mut seen = 0;
    let stopped = t.desk.for_each_case(|_| {
        seen += 1;
        if seen == 3 {
            Err(StoreError::Validation("stop".into()))
        } else {
            Ok(())
        }
    });
    assert!(stopped.is_err() && seen == 3);
}

#[test]
fn many_edits_in_one_transaction() {
    let mut t = new_desk();
    let cases: Vec<Case> = (0..20).map(|i| case(&format!("試験 {i}"), "シケン", "", date(2022, 8, 1))).collect();
    t.desk.bulk_create(cases.clone(), &actor(), 100, &mut |_| {}).unwrap();
    let edited: Vec<Case> = cases
        .iter()
        .map(|c| {
            let mut c = t.desk.get_case(c.id).unwrap().unwrap();
            c.measures.current_status = Some(CurrentStatus::RecoveryEnded);
            c
        })
        .collect();
    let saved = t.desk.update_cases(&edited, &actor()).unwrap();
    assert!(saved.iter().all(|s| s.rev == 2 && s.op_id.is_some()));
    assert_eq!(t.desk.outbox_pending_count().unwrap(), 40);
    let q = CaseQuery { status: Some(CurrentStatus::RecoveryEnded), ..Default::default() };
    assert_eq!(t.desk.count(&q).unwrap(), 20);
}

#[test]
fn op_status_moves_and_leaves_the_pending_count() {
    let mut t = new_desk();
    let saved = t.desk.create_case(&case("山田 花子", "ヤマダ ハナコ", "", date(2022, 8, 1)), &actor()).unwrap();
    let op = saved.op_id.unwrap();
    t.desk.set_op_status(op, OpStatus::Sent, None).unwrap();
    assert_eq!(t.desk.outbox_pending_count().unwrap(), 1, "sent is not yet acknowledged");
    assert_eq!(t.desk.outbox_op(op).unwrap().unwrap().attempts, 1);
    t.desk.set_op_status(op, OpStatus::Applied, None).unwrap();
    assert_eq!(t.desk.outbox_pending_count().unwrap(), 0);
    assert!(matches!(t.desk.set_op_status(Uuid::now_v7(), OpStatus::Sent, None), Err(StoreError::NotFound { .. })));
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let keys = todoke_store::MemoryKeys::fixed([7; 32]);
    let desk = Desk::init(dir.path(), &keys).unwrap();
    assert_eq!(desk.integrity_check().unwrap(), ["ok"]);
    drop(desk);
    // What a later Todoke would leave behind: a higher schema version.
    let raw = rusqlite::Connection::open(dir.path().join("desk.db")).unwrap();
    raw.execute_batch(&format!("PRAGMA key = \"x'{}'\"; PRAGMA user_version = 99;", "07".repeat(32))).unwrap();
    drop(raw);
    let err = Desk::open(dir.path(), &keys).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err:?}");
}

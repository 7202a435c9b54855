//! The API, through the router (no socket), on SQLite and on PostgreSQL.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

both_backends!(
    sign_in_refresh_and_logout,
    wrong_otp_locks_after_five_failures,
    tokens_expire_and_refresh_is_device_bound,
    an_otp_is_accepted_once,
    disabled_users_and_devices_are_signed_out,
    authorisation_matrix,
    push_is_idempotent_and_merges_fields,
    stale_edit_of_the_same_field_is_a_conflict,
    bad_ops_are_rejected_with_reasons,
    pull_snapshot_newest_first_then_changes,
    transfer_moves_the_case_between_scopes,
    audit_log_records_reads_and_detects_tampering,
    overload_answers_429_with_retry_after,
    openapi_describes_every_route,
    commit_order_under_concurrent_pushes,
    a_restart_between_commit_and_answer_loses_nothing,
    a_real_desk_outbox_is_accepted_as_written,
    no_input_makes_a_server_error,
    reused_refresh_token_revokes_the_family,
    a_newer_schema_is_refused,
    admin_changes_are_audited,
    conflicts_are_listed_within_jurisdiction,
    a_stale_resolution_becomes_a_new_conflict,
    clusters_sync_within_the_managing_centres_scope,
    pushes_queued_behind_the_writer_are_bounded,
    a_facility_sees_its_residents_until_they_leave,
    lab_corrections_need_the_grant,
    an_older_database_gains_the_national_and_facility_scopes,
    grouped_pushes_each_get_their_own_results,
    a_failing_push_does_not_fail_its_group,
    edits_pushed_after_a_transfer_are_taken_without_leaking,
    a_lost_refresh_answer_is_regranted_within_the_grace,
    conflicts_carry_when_each_value_reached_the_server,
    older_transfers_are_known_after_the_upgrade,
    an_added_list_item_comes_with_the_lists_order,
);

async fn sign_in_refresh_and_logout(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, v) = app.try_login("ken", "desk-1").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["expires_in"], 900);
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::OK);

    // Refresh rotates both tokens.
    let (s, v, _) = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh, "device_id": "desk-1"}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let access2 = v["access_token"].as_str().unwrap().to_string();
    let refresh2 = v["refresh_token"].as_str().unwrap().to_string();
    // (The rotated-away token presented again ends the whole session:
    // reused_refresh_token_revokes_the_family.)
    assert_eq!(
        app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0,
        StatusCode::UNAUTHORIZED,
        "old access token replaced"
    );

    // Logout revokes the session: access and refresh tokens both stop working.
    assert_eq!(app.call(Method::POST, "/api/auth/logout", Some(&access2), None).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access2), None).await.0, StatusCode::UNAUTHORIZED);
    let (s, ..) = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh2, "device_id": "desk-1"}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // No token, a garbage token.
    assert_eq!(app.call(Method::GET, "/api/stats/cases", None, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some("nonsense"), None).await.0, StatusCode::UNAUTHORIZED);
}

async fn wrong_otp_locks_after_five_failures(b: Backend) {
    let app = TestApp::new(b).await;
    let password = app.passwords["chuo"].0.clone();
    let attempt = |otp: String, password: String| {
        let body = json!({"login": "chuo", "password": password, "otp": otp, "device_id": "d"});
        app.call(Method::POST, "/api/auth/login", None, Some(body))
    };
    // Right password, wrong OTP; and right OTP, wrong password: both failures.
    for i in 0..4 {
        let (s, v, _) = if i % 2 == 0 {
            attempt("000000".into(), password.clone()).await
        } else {
            attempt(app.otp("chuo"), "wrong password!".into()).await
        };
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {i}: {v}");
        assert_eq!(v["code"], "bad_credentials");
        assert!(v["message_ja"].as_str().unwrap().contains("ワンタイムパスワード"));
    }
    let (s, v, _) = attempt("000000".into(), password.clone()).await;
    assert_eq!((s, v["code"].as_str().unwrap()), (StatusCode::FORBIDDEN, "account_locked"));
    // Locked: even the right password and code are refused.
    let (s, v, _) = attempt(app.otp("chuo"), password.clone()).await;
    assert_eq!((s, v["code"].as_str().unwrap()), (StatusCode::FORBIDDEN, "account_locked"));
    // An administrator's password reset unlocks.
    let url = app.url.clone();
    app.with_db(move |db| {
        let _ = url;
        todoke_server::accounts::reset_password(db, "chuo", "a brand new password").unwrap()
    })
    .await;
    let (s, v, _) = attempt(app.otp("chuo"), "a brand new password".into()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Unknown login: the same answer as a wrong password.
    let (s, v, _) = app
        .call(Method::POST, "/api/auth/login", None, Some(json!({"login": "nobody", "password": "x", "otp": "1", "device_id": "d"})))
        .await;
    assert_eq!((s, v["code"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "bad_credentials"));
}

async fn tokens_expire_and_refresh_is_device_bound(b: Backend) {
    let app = TestApp::new(b).await;
    let (_, v) = app.try_login("ken", "desk-a").await;
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    app.advance(14 * 60);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::OK);
    app.advance(2 * 60);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::UNAUTHORIZED, "expired after 15 min");
    // The refresh token works only from its own device.
    let (s, ..) = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh, "device_id": "desk-b"}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v, _) = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh, "device_id": "desk-a"}))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    // Refresh tokens expire too (30 days).
    app.advance(31 * 24 * 3600);
    let (s, ..) = app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": refresh, "device_id": "desk-a"}))).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

async fn an_otp_is_accepted_once(b: Backend) {
    let app = TestApp::new(b).await;
    let otp = app.otp("kita");
    let body = json!({"login": "kita", "password": app.passwords["kita"].0, "otp": otp, "device_id": "d"});
    assert_eq!(app.call(Method::POST, "/api/auth/login", None, Some(body.clone())).await.0, StatusCode::OK);
    let (s, v, _) = app.call(Method::POST, "/api/auth/login", None, Some(body)).await;
    assert_eq!((s, v["code"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "bad_credentials"), "a replayed code is refused");
}

async fn disabled_users_and_devices_are_signed_out(b: Backend) {
    let app = TestApp::new(b).await;
    let (_, v) = app.try_login("kita", "lost-laptop").await;
    let on_lost = v["access_token"].as_str().unwrap().to_string();
    let (_, v) = app.try_login("kita", "office-pc").await;
    let on_office = v["access_token"].as_str().unwrap().to_string();
    app.with_db(|db| todoke_server::accounts::disable_device(db, "lost-laptop").unwrap()).await;
    assert_eq!(app.call(Method::GET, "/api/sync/pull", Some(&on_lost), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::GET, "/api/sync/pull", Some(&on_office), None).await.0, StatusCode::OK);
    let (s, v) = app.try_login("kita", "lost-laptop").await;
    assert_eq!((s, v["code"].as_str().unwrap()), (StatusCode::FORBIDDEN, "forbidden"), "a disabled device cannot sign in again");

    app.with_db(|db| todoke_server::accounts::disable_user(db, "kita").unwrap()).await;
    assert_eq!(app.call(Method::GET, "/api/sync/pull", Some(&on_office), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.try_login("kita", "office-pc").await.0, StatusCode::UNAUTHORIZED);
}

/// A case with personal data in every part the views treat differently.
fn personal_case(id: Uuid, responsible: &str, related: &[&str], clinic: &str, facility: &str, name: &str) -> Value {
    json!({
        "id": id,
        "basic": {"name": name, "sex": "female", "birth_date": "1980-04-01", "phone": "03-1234-5678",
                  "residence": {"municipality_code": "992011", "text": "デモ市中央1-2-3"}},
        "jurisdiction": {"responsible_health_centre": responsible, "related_health_centres": related,
                         "reporting_clinic": clinic, "facility": facility},
        "notification": {"onset_date": "2026-11-01", "remarks": "自由記述"},
        "investigation": {"notes": "聞き取りメモ"}
    })
}

/// S1: every role × every case endpoint × in/out of scope, each a real request:
/// pull, GET case (and what of it the caller's view shows), case.create,
/// observation.add, case.update, the conflicts list, stats and reports.
async fn authorisation_matrix(b: Backend) {
    let app = TestApp::new(b).await;
    // A: responsible 中央 (HC9901), related 北 (HC9902), reported by CL990001.
    // B: the neighbouring prefecture's centre and clinic.
    // C: 中央 only, no clinic.
    // D: 北, placed in the recovery hotel FAC9901.
    let (a, bb, c, d) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let chuo = app.login("chuo").await;
    let kita = app.login("kita").await;
    let ken = app.login("ken").await;
    let hc98 = app.login("hc98").await;
    let jurisdictions: [(&str, &[&str], &str, &str); 4] =
        [("HC9901", &["HC9902"], "CL990001", ""), ("HC9801", &[], "CL980001", ""), ("HC9901", &[], "", ""), ("HC9902", &[], "", "FAC9901")];
    let names = ["山田 太郎", "鈴木 一郎", "佐藤 花子", "高橋 二郎"];
    let doc = |i: usize, id: Uuid, name: &str| {
        let (r, rel, cl, f) = jurisdictions[i];
        personal_case(id, r, rel, cl, f, name)
    };
    let (_, v) = app.push(&chuo, vec![create_op(&doc(0, a, names[0])), create_op(&doc(2, c, names[2]))]).await;
    assert!(v["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{v}");
    let (_, v) = app.push(&hc98, vec![create_op(&doc(1, bb, names[1]))]).await;
    assert_eq!(v["results"][0]["status"], "applied", "{v}");
    let (_, v) = app.push(&kita, vec![create_op(&doc(3, d, "高橋 次郎"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    // Two conflicts on D: its name (hidden from labs) and its hospital (hidden from the facility).
    let first = update_op(
        d,
        json!([{"path": "basic.name", "old": "高橋 次郎", "new": "高橋 二郎"}, {"path": "measures.hospital", "old": "", "new": "北病院"}]),
        json!({"basic.name": seq, "measures.hospital": seq}),
    );
    assert_eq!(app.push(&kita, vec![first]).await.1["results"][0]["status"], "applied");
    let stale = update_op(
        d,
        json!([{"path": "basic.name", "old": "高橋 次郎", "new": "高橋 治郎"}, {"path": "measures.hospital", "old": "", "new": "南病院"}]),
        json!({"basic.name": seq, "measures.hospital": seq}),
    );
    assert_eq!(app.push(&ken, vec![stale]).await.1["results"][0]["status"], "conflict");

    const Y: bool = true;
    const N: bool = false;
    // login, [read A B C D], [create like A B C D], [observe], [edit], view, stats, reports
    #[rustfmt::skip]
    let matrix: &[(&str, [bool; 4], [bool; 4], [bool; 4], [bool; 4], char, bool, bool)] = &[
        ("chuo",        [Y, N, Y, N], [Y, N, Y, N], [Y, N, Y, N], [Y, N, Y, N], 'F', N, Y), // responsible centre
        ("chuo-viewer", [Y, N, Y, N], [N, N, N, N], [N, N, N, N], [N, N, N, N], 'F', N, Y), // same centre, read-only role
        ("kita",        [Y, N, N, Y], [Y, N, N, Y], [Y, N, N, Y], [Y, N, N, Y], 'F', N, Y), // related of A, responsible of D
        ("clinic",      [Y, N, N, N], [Y, N, N, N], [Y, N, N, N], [Y, N, N, N], 'F', N, N), // the reporting clinic of A
        ("ken",         [Y, N, Y, Y], [Y, N, Y, Y], [Y, N, Y, Y], [Y, N, Y, Y], 'F', Y, Y), // the prefecture over 中央 and 北
        ("lab",         [Y, N, Y, Y], [N, N, N, N], [N, N, N, N], [N, N, N, N], 'P', N, Y), // the prefecture's lab: quality checks
        ("lab-fix",     [Y, N, Y, Y], [N, N, N, N], [N, N, N, N], [Y, N, Y, Y], 'P', N, Y), // ... granted corrections
        ("niid",        [Y, Y, Y, Y], [N, N, N, N], [N, N, N, N], [N, N, N, N], 'P', N, Y), // the national lab: every case
        ("hotel",       [N, N, N, Y], [N, N, N, N], [N, N, N, Y], [N, N, N, N], 'R', N, N), // the facility: its resident
        ("kuni",        [N, N, N, N], [N, N, N, N], [N, N, N, N], [N, N, N, N], '-', Y, Y), // the nation: aggregates only
        ("hc98",        [N, Y, N, N], [N, Y, N, N], [N, Y, N, N], [N, Y, N, N], 'F', N, Y),
        ("clinic98",    [N, Y, N, N], [N, Y, N, N], [N, Y, N, N], [N, Y, N, N], 'F', N, N),
        ("ken98",       [N, Y, N, N], [N, Y, N, N], [N, Y, N, N], [N, Y, N, N], 'F', Y, Y),
    ];
    let cases = [a, bb, c, d];
    let names = [names[0], names[1], names[2], "高橋 二郎"];
    // What a view shows of the personal case: [name, phone, residence text, notes, remarks, onset, sex, municipality].
    let shows = |view: char| -> [bool; 8] {
        match view {
            'F' => [Y; 8],
            'P' => [N, N, N, N, N, Y, Y, Y],
            'R' => [Y, Y, N, N, N, Y, Y, N],
            _ => unreachable!(),
        }
    };
    let check_view = |who: &str, what: &str, doc: &Value, view: char, name: &str| {
        let seen = [
            doc["basic"]["name"] == json!(name),
            doc["basic"]["phone"] == json!("03-1234-5678"),
            doc["basic"]["residence"]["text"] == json!("デモ市中央1-2-3"),
            doc["investigation"]["notes"] == json!("聞き取りメモ"),
            doc["notification"]["remarks"] == json!("自由記述"),
            doc["notification"]["onset_date"] == json!("2026-11-01"),
            doc["basic"]["sex"] == json!("female"),
            doc["basic"]["residence"]["municipality_code"] == json!("992011"),
        ];
        assert_eq!(seen, shows(view), "{who} {what}: what the view shows of {doc}");
    };
    for (login, read, create, observe, edit, view, stats, reports) in matrix {
        let token = app.login(login).await;
        // Pull: the whole scope of the caller, in its view.
        let (s, pulled, _) = app.call(Method::GET, "/api/sync/pull?limit=200", Some(&token), None).await;
        let pulled: Vec<Value> = if *login == "kuni" {
            assert_eq!(s, StatusCode::FORBIDDEN, "{login} pull");
            Vec::new()
        } else {
            assert_eq!(s, StatusCode::OK, "{login} pull: {pulled}");
            assert_eq!(pulled["has_more"], false);
            pulled["changes"].as_array().unwrap().clone()
        };
        for (i, id) in cases.iter().enumerate() {
            let put = pulled.iter().find(|ch| ch["entity_id"] == json!(id));
            assert_eq!(put.is_some(), read[i], "{login} pull case {i}");
            if let Some(put) = put {
                check_view(*login, &format!("pulled case {i}"), &put["doc"], *view, names[i]);
            }
            let (s, v, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&token), None).await;
            let expected = if read[i] { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(s, expected, "{login} GET case {i}: {v}");
            if read[i] {
                assert_eq!(v["id"], json!(id));
                check_view(*login, &format!("GET case {i}"), &v, *view, names[i]);
            } else {
                assert_eq!(v["code"], "not_found", "no hint the case exists");
            }

            // Entering a new case with the same jurisdiction; adding an observation to this one; correcting it.
            let obs = Uuid::now_v7();
            let ops = vec![
                create_op(&doc(i, Uuid::now_v7(), "新規")),
                json!({"op_id": Uuid::now_v7(), "seq": 3, "entity": "observation", "entity_id": obs, "kind": "observation.add",
                       "payload": {"observation": {"id": obs, "case_id": id, "temperature": 36.8}}}),
                update_op(
                    *id,
                    json!([{"path": "notification.symptoms_other", "old": null, "new": format!("by {login}")}]),
                    json!({"notification.symptoms_other": i64::MAX / 2}),
                ),
            ];
            let (s, v) = app.push(&token, ops).await;
            assert_eq!(s, StatusCode::OK, "{login} push {i}: {v}");
            let allowed = [create[i], observe[i], edit[i]];
            for ((what, r), allowed) in
                ["case.create", "observation.add", "case.update"].iter().zip(v["results"].as_array().unwrap()).zip(allowed)
            {
                if allowed {
                    assert_eq!(r["status"], "applied", "{login} {what} case {i}: {v}");
                } else {
                    assert_eq!(
                        (r["status"].as_str(), r["code"].as_str()),
                        (Some("rejected"), Some("out_of_scope")),
                        "{login} {what} case {i}"
                    );
                }
            }
        }
        // Conflicts: those on D, on the fields the caller's view shows.
        let (s, v, _) = app.call(Method::GET, "/api/conflicts", Some(&token), None).await;
        let fields: BTreeSet<String> = if *login == "kuni" {
            assert_eq!(s, StatusCode::FORBIDDEN, "{login} conflicts");
            BTreeSet::new()
        } else {
            assert_eq!(s, StatusCode::OK, "{login} conflicts: {v}");
            v["conflicts"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap().to_string()).collect()
        };
        let expected: BTreeSet<String> = match (read[3], *view) {
            (false, _) => BTreeSet::new(),
            (true, 'P') => ["measures.hospital".to_string()].into(),
            (true, 'R') => ["basic.name".to_string()].into(),
            (true, _) => ["basic.name".to_string(), "measures.hospital".to_string()].into(),
        };
        assert_eq!(fields, expected, "{login} conflicts");
        let s = app.call(Method::GET, "/api/stats/cases", Some(&token), None).await.0;
        assert_eq!(s, if *stats { StatusCode::OK } else { StatusCode::FORBIDDEN }, "{login} stats");
        let s = app.call(Method::GET, "/api/reports/new-positives", Some(&token), None).await.0;
        assert_eq!(s, if *reports { StatusCode::OK } else { StatusCode::FORBIDDEN }, "{login} reports");
    }
    // A lab corrects only what it sees and what a quality check is about: not the
    // name, not the jurisdiction, not a whole part holding fields it cannot see.
    let lab_fix = app.login("lab-fix").await;
    for (path, new) in [("basic.name", json!("x")), ("jurisdiction.facility", json!("")), ("notification", json!({}))] {
        let op = update_op(a, json!([{"path": path, "old": null, "new": new}]), json!({path: i64::MAX / 2}));
        let (_, v) = app.push(&lab_fix, vec![op]).await;
        assert_eq!(
            (v["results"][0]["status"].as_str(), v["results"][0]["code"].as_str()),
            (Some("rejected"), Some("not_permitted")),
            "{path}: {v}"
        );
    }
    // Every read of the new actors is in the audit log.
    let ids: Vec<String> = cases.iter().map(|id| id.to_string()).collect();
    let audited = app
        .with_db(move |db| {
            db.tx(|tx| {
                let mut out = Vec::new();
                for login in ["lab", "lab-fix", "niid", "hotel"] {
                    for id in &ids {
                        let n = tx.query(
                            // A pull page's entry names every record of the page, space-separated.
                            "SELECT COUNT(*) FROM audit WHERE staff = $1 AND action = 'read' AND entity = 'case'
                               AND (' ' || entity_id || ' ') LIKE ('% ' || $2 || ' %')",
                            &[login.into(), id.as_str().into()],
                        )?[0][0]
                            .int()?;
                        out.push(n);
                    }
                }
                Ok::<_, todoke_server::db::DbError>(out)
            })
            .unwrap()
        })
        .await;
    let reads: Vec<bool> =
        ["lab", "lab-fix", "niid", "hotel"].iter().flat_map(|l| matrix.iter().find(|row| row.0 == *l).unwrap().1).collect();
    for (n, read) in audited.iter().zip(reads) {
        // A readable case: read by the pull and by GET; else never.
        assert_eq!(*n, if read { 2 } else { 0 }, "audit {audited:?}");
    }
    // Aggregates are area-bound: the prefecture counts its own.
    // P99 has A, C and D plus the cases its users entered like them; P98 has B and its copies.
    let writers_of = |i: usize| matrix.iter().filter(|row| row.2[i]).count() as i64;
    let p99 = 3 + writers_of(0) + writers_of(2) + writers_of(3);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&ken), None).await.1["total"], p99);
    let ken98 = app.login("ken98").await;
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&ken98), None).await.1["total"], 1 + writers_of(1));
    let kuni = app.login("kuni").await;
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&kuni), None).await.1["total"], p99 + 1 + writers_of(1));
}

async fn push_is_idempotent_and_merges_fields(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let kita = app.login("kita").await;
    let id = Uuid::now_v7();
    let create = create_op(&case_doc(id, "HC9901", &["HC9902"], "", "山田 太郎"));
    let (_, first) = app.push(&chuo, vec![create.clone()]).await;
    let seq = first["results"][0]["server_seq"].as_i64().unwrap();
    // Re-sent after a lost response: the same answer, nothing applied twice.
    let (_, again) = app.push(&chuo, vec![create.clone()]).await;
    assert_eq!(again, first);

    // Two desks edit different fields, each from the version it saw: both kept.
    let e1 = update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 太朗"}]), json!({"basic.name": seq}));
    let e2 = update_op(id, json!([{"path": "underlying_diseases", "old": "", "new": "糖尿病"}]), json!({"underlying_diseases": seq}));
    let (_, r1) = app.push(&chuo, vec![e1.clone()]).await;
    let (_, r2) = app.push(&kita, vec![e2]).await;
    assert_eq!(r1["results"][0]["status"], "applied", "{r1}");
    assert_eq!(r2["results"][0]["status"], "applied", "{r2}");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "山田 太朗");
    assert_eq!(doc["underlying_diseases"], "糖尿病");
    // Re-sending the first edit in a new batch with more ops: the stored result, once.
    let (_, r1b) = app.push(&chuo, vec![e1]).await;
    assert_eq!(r1b["results"][0], r1["results"][0]);
    // A desk's second edit before it learnt the first one's server version: its own write, no conflict.
    let e3 = update_op(id, json!([{"path": "basic.name", "old": "山田 太朗", "new": "山田 太郎"}]), json!({"basic.name": seq}));
    let (_, r3) = app.push(&chuo, vec![e3]).await;
    assert_eq!(r3["results"][0]["status"], "applied", "{r3}");
}

async fn stale_edit_of_the_same_field_is_a_conflict(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let kita = app.login("kita").await;
    let id = Uuid::now_v7();
    let (_, v) = app.push(&chuo, vec![create_op(&case_doc(id, "HC9901", &["HC9902"], "", "山田 太郎"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    let mine = update_op(
        id,
        json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 太朗"}, {"path": "basic.phone", "old": "", "new": "03-0000-0000"}]),
        json!({"basic.name": seq, "basic.phone": seq}),
    );
    assert_eq!(app.push(&chuo, vec![mine]).await.1["results"][0]["status"], "applied");
    // 北 had not seen 中央's edit: same field, different value → conflict; its other field merges.
    let theirs = update_op(
        id,
        json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 多郎"}, {"path": "underlying_diseases", "old": "", "new": "喘息"}]),
        json!({"basic.name": seq, "underlying_diseases": seq}),
    );
    let (_, v) = app.push(&kita, vec![theirs]).await;
    let r = &v["results"][0];
    assert_eq!(r["status"], "conflict", "{v}");
    assert_eq!(r["conflicts"][0]["field"], "basic.name");
    assert_eq!(r["conflicts"][0]["server_value"], "山田 太朗");
    assert_eq!(r["conflicts"][0]["client_value"], "山田 多郎");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "山田 太朗", "the server's value is kept");
    assert_eq!(doc["underlying_diseases"], "喘息", "the other field merged");
    // The same value from a stale base is no conflict.
    let same = update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 太朗"}]), json!({"basic.name": seq}));
    assert_eq!(app.push(&kita, vec![same]).await.1["results"][0]["status"], "applied");
    // Both values and both authors are on record.
    let cid = r["conflicts"][0]["conflict_id"].as_str().unwrap().to_string();
    let row = app
        .with_db(move |db| {
            db.tx(|tx| tx.query_opt("SELECT server_author, client_author, status FROM conflict WHERE id = $1", &[cid.as_str().into()]))
                .unwrap()
                .unwrap()
        })
        .await;
    assert!(row[0].text().unwrap().starts_with("chuo@HC9901/"));
    assert!(row[1].text().unwrap().starts_with("kita@HC9902/"));
    assert_eq!(row[2].text().unwrap(), "open");

    // Both desks learn of it by pulling; a person resolves it with an ordinary op.
    let (pulled, _, _) = pull_all(&app, &chuo, Some("c.0".into()), 100).await;
    let seen: Vec<&Value> = pulled.iter().filter(|c| c["kind"] == "conflict").collect();
    assert_eq!(seen.len(), 1, "{pulled:?}");
    assert_eq!(seen[0]["conflict"]["status"], "open");
    assert_eq!(seen[0]["conflict"]["client_value"], "山田 多郎");
    let resolve = |value: &str| {
        json!({"op_id": Uuid::now_v7(), "seq": 5, "entity": "conflict", "entity_id": r["conflicts"][0]["conflict_id"],
               "kind": "conflict.resolve", "payload": {"value": value}})
    };
    let (_, v) = app.push(&kita, vec![resolve("山田 多郎")]).await;
    assert_eq!(v["results"][0]["status"], "applied", "{v}");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "山田 多郎", "the chosen value is written");
    let (_, v) = app.push(&chuo, vec![resolve("山田 太朗")]).await;
    assert_eq!(v["results"][0]["code"], "conflict_resolved", "resolved once");
    let (pulled, _, _) = pull_all(&app, &chuo, Some("c.0".into()), 100).await;
    let last = pulled.iter().rev().find(|c| c["kind"] == "conflict").unwrap();
    assert_eq!(last["conflict"]["status"], "resolved");
    // Out of scope: a desk that cannot see the case cannot resolve its conflicts.
    let hc98 = app.login("hc98").await;
    assert_eq!(app.push(&hc98, vec![resolve("x")]).await.1["results"][0]["code"], "out_of_scope");
}

async fn bad_ops_are_rejected_with_reasons(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let id = Uuid::now_v7();
    let ops = vec![
        json!({"op_id": Uuid::now_v7(), "seq": 1, "entity": "case", "entity_id": id, "kind": "case.create", "payload": {"case": {"id": id, "basic": {"birth_date": "not a date"}}}}),
        json!({"op_id": Uuid::now_v7(), "seq": 2, "entity": "case", "entity_id": id, "kind": "case.frobnicate", "payload": {}}),
        update_op(Uuid::now_v7(), json!([]), json!({})),
        json!({"op_id": Uuid::now_v7(), "seq": 4, "entity": "case", "entity_id": id, "kind": "case.update", "payload": {"changes": "nope"}}),
    ];
    let (s, v) = app.push(&chuo, ops).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let codes: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["invalid_payload", "unknown_kind", "unknown_case", "invalid_payload"]);
    // Changes that would break the record: a wrong type, another id, the whole record, a path that is not there.
    let real = Uuid::now_v7();
    let other = app.login("ken").await;
    app.push(&chuo, vec![create_op(&case_doc(real, "HC9901", &[], "", "正しい 記録"))]).await;
    for change in [
        json!({"path": "basic.birth_date", "old": null, "new": 12}),
        json!({"path": "id", "old": real, "new": Uuid::now_v7()}),
        json!({"path": "", "old": null, "new": {}}),
        json!({"path": "tests[0190a6e4-0000-7000-8000-000000000000].result", "old": null, "new": "positive"}),
    ] {
        // From another desk with a stale base too: refused, not parked as a conflict.
        for token in [&chuo, &other] {
            let (_, v) = app.push(token, vec![update_op(real, json!([change]), json!({}))]).await;
            assert_eq!(v["results"][0]["status"], "rejected", "{change} → {v}");
        }
    }
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{real}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "正しい 記録");
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["status"], "rejected");
        assert!(!r["message_ja"].as_str().unwrap().is_empty() && !r["message_en"].as_str().unwrap().is_empty());
    }
    // Malformed requests: 4xx, never 5xx.
    for body in [
        json!({"ops": 3}),
        json!([]),
        json!({"desk_id": "d", "ops": [{"op_id": "not-a-uuid"}]}),
        json!({"desk_id": "d", "version": 99, "ops": []}),
    ] {
        let (s, v, _) = app.call(Method::POST, "/api/sync/push", Some(&chuo), Some(body.clone())).await;
        assert!(s.is_client_error(), "{body} → {s} {v}");
        assert_bilingual(&v);
    }
    for q in ["limit=0", "limit=999999", "cursor=zzz", "cursor=c.x", "limit=abc"] {
        let (s, v, _) = app.call(Method::GET, &format!("/api/sync/pull?{q}"), Some(&chuo), None).await;
        assert!(s.is_client_error(), "{q} → {s} {v}");
        assert_bilingual(&v);
    }
    let (s, v, _) = app.call(Method::GET, "/api/cases/not-a-uuid", Some(&chuo), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_bilingual(&v);
    // Not JSON, no content type, a wrong type in a named field.
    let raw = |body: &'static str, ct: Option<&'static str>| {
        let mut req = axum::http::Request::builder().method(Method::POST).uri("/api/auth/login");
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        tower::ServiceExt::oneshot(app.router.clone(), req.body(axum::body::Body::from(body)).unwrap())
    };
    for (body, ct) in [("{not json", Some("application/json")), ("{}", None), (r#"{"login": 5}"#, Some("application/json"))] {
        let res = raw(body, ct).await.unwrap();
        assert!(res.status().is_client_error(), "{body}");
        let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
        assert_bilingual(&serde_json::from_slice(&bytes).unwrap());
    }
}

fn assert_bilingual(v: &Value) {
    assert!(v["code"].is_string() && v["message_ja"].is_string() && v["message_en"].is_string(), "not a bilingual refusal: {v}");
}

async fn pull_all(app: &TestApp, token: &str, mut cursor: Option<String>, limit: u32) -> (Vec<Value>, String, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/sync/pull?cursor={c}&limit={limit}"),
            None => format!("/api/sync/pull?limit={limit}"),
        };
        let (s, v, _) = app.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        pages += 1;
        all.extend(v["changes"].as_array().unwrap().iter().cloned());
        cursor = Some(v["next_cursor"].as_str().unwrap().to_string());
        if !v["has_more"].as_bool().unwrap() {
            return (all, cursor.unwrap(), pages);
        }
        assert!(pages < 1000);
    }
}

async fn pull_snapshot_newest_first_then_changes(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let ids: Vec<Uuid> = (0..7).map(|_| Uuid::now_v7()).collect();
    for (i, id) in ids.iter().enumerate() {
        app.push(&chuo, vec![create_op(&case_doc(*id, "HC9901", &[], "", &format!("患者 {i}")))]).await;
    }
    let kita = app.login("kita").await;
    app.push(&kita, vec![create_op(&case_doc(Uuid::now_v7(), "HC9902", &[], "", "北の患者"))]).await;

    let (changes, cursor, pages) = pull_all(&app, &chuo, None, 3).await;
    let got: Vec<String> = changes.iter().map(|c| c["entity_id"].as_str().unwrap().to_string()).collect();
    let newest_first: Vec<String> = ids.iter().rev().map(|i| i.to_string()).collect();
    assert_eq!(got, newest_first, "snapshot: only my scope, newest first");
    assert!(pages >= 3, "paged");
    assert!(changes.iter().all(|c| c["kind"] == "put" && c["field_versions"]["basic"].is_i64()));

    // Nothing new: an empty page at the same checkpoint.
    let (none, same, _) = pull_all(&app, &chuo, Some(cursor.clone()), 3).await;
    assert!(none.is_empty());
    assert_eq!(same, cursor);

    // An edit arrives as a patch after the checkpoint.
    let seq = changes[0]["server_seq"].as_i64().unwrap();
    let e = update_op(ids[6], json!([{"path": "basic.name", "old": "患者 6", "new": "患者 六"}]), json!({"basic.name": seq}));
    app.push(&chuo, vec![e]).await;
    let (delta, _, _) = pull_all(&app, &chuo, Some(cursor), 3).await;
    assert_eq!(delta.len(), 1);
    assert_eq!(delta[0]["kind"], "patch");
    assert_eq!(delta[0]["changes"][0]["new"], "患者 六");

    // An observation of a case in scope.
    let obs = Uuid::now_v7();
    let op = json!({"op_id": Uuid::now_v7(), "seq": 9, "entity": "observation", "entity_id": obs, "kind": "observation.add",
                    "payload": {"observation": {"id": obs, "case_id": ids[0], "temperature": 37.5}}});
    assert_eq!(app.push(&chuo, vec![op]).await.1["results"][0]["status"], "applied");
    let (all, _, _) = pull_all(&app, &chuo, None, 100).await;
    assert!(all.iter().any(|c| c["entity"] == "observation" && c["entity_id"] == json!(obs)));
}

async fn transfer_moves_the_case_between_scopes(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let kita = app.login("kita").await;
    let ken = app.login("ken").await;
    let id = Uuid::now_v7();
    let (_, v) = app.push(&chuo, vec![create_op(&case_doc(id, "HC9901", &[], "", "転居 する"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    let obs = Uuid::now_v7();
    let op = json!({"op_id": Uuid::now_v7(), "seq": 2, "entity": "observation", "entity_id": obs, "kind": "observation.add",
                    "payload": {"observation": {"id": obs, "case_id": id, "temperature": 38.0}}});
    app.push(&chuo, vec![op]).await;
    let (_, chuo_cursor, _) = pull_all(&app, &chuo, None, 100).await;
    let (_, kita_cursor, _) = pull_all(&app, &kita, None, 100).await;
    let (_, ken_cursor, _) = pull_all(&app, &ken, None, 100).await;
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&kita), None).await.0, StatusCode::NOT_FOUND);

    // 中央 hands the case to 北.
    let t = update_op(
        id,
        json!([{"path": "jurisdiction.responsible_health_centre", "old": "HC9901", "new": "HC9902"}]),
        json!({"jurisdiction.responsible_health_centre": seq}),
    );
    assert_eq!(app.push(&chuo, vec![t]).await.1["results"][0]["status"], "applied");

    let (c, _, _) = pull_all(&app, &chuo, Some(chuo_cursor), 100).await;
    assert_eq!(c.len(), 1);
    assert_eq!((c[0]["kind"].as_str().unwrap(), c[0]["case_id"].clone()), ("scope_left", json!(id)));
    let (k, _, _) = pull_all(&app, &kita, Some(kita_cursor), 100).await;
    let kinds: Vec<(&str, &str)> = k.iter().map(|c| (c["kind"].as_str().unwrap(), c["entity"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("put", "case"), ("put", "observation")], "the case arrives whole, with its observations");
    assert_eq!(k[0]["doc"]["jurisdiction"]["responsible_health_centre"], "HC9902");
    let (p, _, _) = pull_all(&app, &ken, Some(ken_cursor), 100).await;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["kind"], "patch", "the prefecture over both keeps seeing it");

    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&kita), None).await.0, StatusCode::OK);
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await.0, StatusCode::NOT_FOUND);
    // 中央's pending edit after the transfer, made against what it saw: taken (SYNC.md property 6).
    let late = update_op(id, json!([{"path": "underlying_diseases", "old": "", "new": "x"}]), json!({"underlying_diseases": seq}));
    assert_eq!(app.push(&chuo, vec![late]).await.1["results"][0]["status"], "applied");
}

/// SYNC.md property 6: edits a desk made while it saw a case, pushed after the
/// case was transferred away, are applied or recorded as conflicts — never
/// refused for lack of access — and the desk learns nothing of the case's
/// current values. Edits claiming a later base, from organisations that
/// never saw the case, or from read-only staff are still refused.
async fn edits_pushed_after_a_transfer_are_taken_without_leaking(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, v) = app.try_login("chuo", "desk-a").await;
    assert_eq!(s, StatusCode::OK);
    let desk_a = v["access_token"].as_str().unwrap().to_string();
    let (_, v) = app.try_login("chuo", "desk-b").await;
    let desk_b = v["access_token"].as_str().unwrap().to_string();
    let kita = app.login("kita").await;
    let id = Uuid::now_v7();
    let (_, v) = app.push(&desk_a, vec![create_op(&case_doc(id, "HC9901", &[], "", "移管 太郎"))]).await;
    let s0 = v["results"][0]["server_seq"].as_i64().unwrap();
    let (_, chuo_cursor, _) = pull_all(&app, &desk_a, None, 100).await;
    // desk-b hands the case to 北; 北 then changes the name.
    let t = update_op(
        id,
        json!([{"path": "jurisdiction.responsible_health_centre", "old": "HC9901", "new": "HC9902"}]),
        json!({"jurisdiction.responsible_health_centre": s0}),
    );
    let s1 = app.push(&desk_b, vec![t]).await.1["results"][0]["server_seq"].as_i64().unwrap();
    let (_, kita_cursor, _) = pull_all(&app, &kita, None, 100).await;
    let theirs = update_op(id, json!([{"path": "basic.name", "old": "移管 太郎", "new": "北側 次郎"}]), json!({"basic.name": s0}));
    assert_eq!(app.push(&kita, vec![theirs]).await.1["results"][0]["status"], "applied");

    // desk-a comes back with three edits made against s0, before it heard of the transfer.
    let phone = update_op(id, json!([{"path": "basic.phone", "old": "", "new": "090-1111-2222"}]), json!({"basic.phone": s0}));
    let name = update_op(id, json!([{"path": "basic.name", "old": "移管 太郎", "new": "移管 太朗"}]), json!({"basic.name": s0}));
    let obs = Uuid::now_v7();
    let observation = json!({"op_id": Uuid::now_v7(), "seq": 3, "entity": "observation", "entity_id": obs, "kind": "observation.add",
                             "payload": {"observation": {"id": obs, "case_id": id, "temperature": 37.9}}});
    let (s, v) = app.push(&desk_a, vec![phone, name.clone(), observation]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let r = &v["results"];
    assert_eq!(r[0]["status"], "applied", "a field nobody changed since: written {v}");
    assert_eq!(r[1]["status"], "conflict", "a field changed since: a conflict for those who see the case {v}");
    assert_eq!(r[2]["status"], "applied", "an observation is a new fact {v}");
    let c = &r[1]["conflicts"][0];
    assert_eq!((c["field"].as_str(), c["withheld"].as_bool()), (Some("basic.name"), Some(true)));
    assert_eq!(c["client_value"], "移管 太朗");
    assert!(c["server_value"].is_null());
    assert!(!v.to_string().contains("北側"), "the value desk-a may no longer see is not told: {v}");
    // A re-send gets the same answer, still withholding.
    assert_eq!(app.push(&desk_a, vec![name]).await.1["results"][0], r[1]);

    // 北 (who sees the case now) gets the edit, the observation and the whole conflict.
    let (k, _, _) = pull_all(&app, &kita, Some(kita_cursor), 100).await;
    let patch = k.iter().find(|c| c["kind"] == "patch" && c["changes"][0]["path"] == "basic.phone").expect("the phone edit reaches 北");
    assert_eq!(patch["changes"][0]["new"], "090-1111-2222");
    assert!(k.iter().any(|c| c["kind"] == "put" && c["entity_id"] == json!(obs)));
    let conflict = k.iter().find(|c| c["kind"] == "conflict").expect("the conflict reaches 北");
    assert_eq!(conflict["conflict"]["server_value"], "北側 次郎");
    assert_eq!(conflict["conflict"]["client_value"], "移管 太朗");
    assert!(conflict["conflict"]["client_author"].as_str().unwrap().starts_with("chuo@HC9901/desk-a"));
    let (_, listed, _) = app.call(Method::GET, "/api/conflicts", Some(&kita), None).await;
    assert_eq!(listed["conflicts"].as_array().unwrap().len(), 1);
    let (_, listed, _) = app.call(Method::GET, "/api/conflicts", Some(&desk_a), None).await;
    assert_eq!(listed["conflicts"].as_array().unwrap().len(), 0, "not listed to a desk that no longer sees the case");
    // 中央's stream says scope_left once, then nothing of the case.
    let (c, _, _) = pull_all(&app, &desk_a, Some(chuo_cursor), 100).await;
    let kinds: Vec<&str> = c.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["scope_left"], "{c:?}");
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&desk_a), None).await.0, StatusCode::NOT_FOUND);

    // Still refused: a base 中央 never saw, an organisation that never saw the case, read-only staff.
    let later = update_op(id, json!([{"path": "basic.occupation", "old": "", "new": "x"}]), json!({"basic.occupation": s1 + 1}));
    assert_eq!(app.push(&desk_a, vec![later]).await.1["results"][0]["code"], "out_of_scope");
    let stranger = update_op(id, json!([{"path": "basic.occupation", "old": "", "new": "x"}]), json!({"basic.occupation": s0}));
    assert_eq!(app.push(&app.login("hc98").await, vec![stranger.clone()]).await.1["results"][0]["code"], "out_of_scope");
    let mut viewer_op = stranger;
    viewer_op["op_id"] = json!(Uuid::now_v7());
    assert_eq!(app.push(&app.login("chuo-viewer").await, vec![viewer_op]).await.1["results"][0]["code"], "out_of_scope");
    let obs2 = Uuid::now_v7();
    let stray = json!({"op_id": Uuid::now_v7(), "seq": 4, "entity": "observation", "entity_id": obs2, "kind": "observation.add",
                       "payload": {"observation": {"id": obs2, "case_id": id, "temperature": 36.9}}});
    assert_eq!(app.push(&app.login("hc98").await, vec![stray]).await.1["results"][0]["code"], "out_of_scope");
    // Audited as writes after the case left the writer's scope.
    let actions =
        app.with_db(|db| db.tx(|tx| tx.query("SELECT action FROM audit WHERE action LIKE '%left_scope' ORDER BY seq", &[])).unwrap()).await;
    let actions: Vec<String> = actions.iter().map(|r| r[0].text().unwrap()).collect();
    assert_eq!(actions, ["update_left_scope", "update_left_scope", "create_left_scope"]);
}

/// A refresh answer lost on the line: the desk presents the token it still
/// holds again. Within the grace, from its own device, it gets a fresh pair
/// (the pair it never received stops working); after the grace, or from
/// another device, the whole family is revoked as before.
async fn a_lost_refresh_answer_is_regranted_within_the_grace(b: Backend) {
    let app = TestApp::new(b).await;
    let refresh = |token: String, device: &'static str| {
        let app = &app;
        async move {
            let (s, v, _) =
                app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": token, "device_id": device}))).await;
            (s, v)
        }
    };
    let tokens = |v: &Value| (v["access_token"].as_str().unwrap().to_string(), v["refresh_token"].as_str().unwrap().to_string());
    let (_, v) = app.try_login("ken", "desk-1").await;
    let (_, r0) = tokens(&v);
    let (s, v) = refresh(r0.clone(), "desk-1").await;
    assert_eq!(s, StatusCode::OK);
    let (lost_access, lost_refresh) = tokens(&v); // this answer never reaches the desk
    app.advance(todoke_server::auth::REFRESH_GRACE_SECS - 10);
    let (s, v) = refresh(r0.clone(), "desk-1").await;
    assert_eq!(s, StatusCode::OK, "re-presented within the grace: {v}");
    let (access, _r2) = tokens(&v);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::OK);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&lost_access), None).await.0, StatusCode::UNAUTHORIZED);
    // The grace runs from the rotation whose answer was lost; that answer lost again inside it is regranted too.
    let (s, v) = refresh(r0.clone(), "desk-1").await;
    assert_eq!(s, StatusCode::OK);
    let (access, r3) = tokens(&v);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::OK);
    // The pairs given up are rotated away: presented, they are a replay and end the family.
    assert_eq!(refresh(lost_refresh, "desk-1").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(r3, "desk-1").await.0, StatusCode::UNAUTHORIZED);

    // After the grace: a replay, the family revoked.
    let (_, v) = app.try_login("ken", "desk-2").await;
    let (_, r0) = tokens(&v);
    let (_, v) = refresh(r0.clone(), "desk-2").await;
    let (access, r1) = tokens(&v);
    app.advance(todoke_server::auth::REFRESH_GRACE_SECS + 1);
    assert_eq!(refresh(r0, "desk-2").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(r1, "desk-2").await.0, StatusCode::UNAUTHORIZED);

    // Within the grace but from another device: a replay, the family revoked.
    let (_, v) = app.try_login("ken", "desk-3").await;
    let (_, r0) = tokens(&v);
    let (_, v) = refresh(r0.clone(), "desk-3").await;
    let (access, r1) = tokens(&v);
    assert_eq!(refresh(r0, "desk-x").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access), None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(r1, "desk-3").await.0, StatusCode::UNAUTHORIZED);
    let revoked = app
        .with_db(|db| db.tx(|tx| tx.query("SELECT device FROM audit WHERE action = 'refresh_reuse_revoked' ORDER BY seq", &[])).unwrap())
        .await;
    let devices: Vec<String> = revoked.iter().map(|r| r[0].text().unwrap()).collect();
    assert_eq!(devices, ["desk-1", "desk-2", "desk-3"]);
}

/// A conflict says when each value reached the server (server time, display only).
async fn conflicts_carry_when_each_value_reached_the_server(b: Backend) {
    let app = TestApp::new(b).await;
    let (chuo, kita) = (app.login("chuo").await, app.login("kita").await);
    let at = |app: &TestApp| chrono::DateTime::from_timestamp(app.now(), 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = Uuid::now_v7();
    let (_, v) = app.push(&chuo, vec![create_op(&case_doc(id, "HC9901", &["HC9902"], "", "山田 太郎"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    app.advance(120);
    let mine = update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 太朗"}]), json!({"basic.name": seq}));
    app.push(&chuo, vec![mine]).await;
    let server_at = at(&app);
    app.advance(300);
    let theirs = update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 多郎"}]), json!({"basic.name": seq}));
    let (_, v) = app.push(&kita, vec![theirs]).await;
    let client_at = at(&app);
    assert_ne!(server_at, client_at);
    let c = &v["results"][0]["conflicts"][0];
    assert_eq!((c["server_at"].as_str(), c["client_at"].as_str()), (Some(server_at.as_str()), Some(client_at.as_str())), "{v}");
    let (_, listed, _) = app.call(Method::GET, "/api/conflicts", Some(&chuo), None).await;
    let l = &listed["conflicts"][0];
    assert_eq!((l["server_at"].as_str(), l["client_at"].as_str()), (Some(server_at.as_str()), Some(client_at.as_str())), "{listed}");
    let (changes, _, _) = pull_all(&app, &kita, Some("c.0".into()), 100).await;
    let p = changes.iter().find(|c| c["kind"] == "conflict").expect("pulled");
    assert_eq!(p["conflict"]["server_at"].as_str(), Some(server_at.as_str()));
    assert_eq!(p["conflict"]["client_at"].as_str(), Some(client_at.as_str()));
}

/// A database written before the server kept who a case left: its transfers
/// are read back from the change log on upgrade, so edits pushed after them are taken.
async fn older_transfers_are_known_after_the_upgrade(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let id = Uuid::now_v7();
    let (_, v) = app.push(&chuo, vec![create_op(&case_doc(id, "HC9901", &[], "", "移管 太郎"))]).await;
    let s0 = v["results"][0]["server_seq"].as_i64().unwrap();
    let t = update_op(
        id,
        json!([{"path": "jurisdiction.responsible_health_centre", "old": "HC9901", "new": "HC9902"}]),
        json!({"jurisdiction.responsible_health_centre": s0}),
    );
    let s1 = app.push(&chuo, vec![t]).await.1["results"][0]["server_seq"].as_i64().unwrap();
    // As a version-2 database had it: no record of who the case left.
    let url = app.url.clone();
    let left = app
        .with_db(move |db| {
            db.tx(|tx| {
                tx.exec("DELETE FROM case_access_left", &[])?;
                tx.exec("UPDATE schema_version SET version = 2 WHERE id = 1", &[])
            })
            .unwrap();
            todoke_server::Db::open(&url).unwrap();
            db.tx(|tx| tx.query("SELECT org, until_seq FROM case_access_left", &[])).unwrap()
        })
        .await;
    assert_eq!(left.len(), 1);
    assert_eq!((left[0][0].text().unwrap(), left[0][1].int().unwrap()), ("HC9901".to_string(), s1));
}

async fn audit_log_records_reads_and_detects_tampering(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let id = Uuid::now_v7();
    app.push(&chuo, vec![create_op(&case_doc(id, "HC9901", &[], "", "監査 対象"))]).await;
    app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    pull_all(&app, &chuo, None, 10).await;
    let sid = id.to_string();
    let (entries, ok) = app
        .with_db(move |db| {
            db.tx(|tx| {
                let rows = tx.query("SELECT staff, device, action, entity_id FROM audit ORDER BY seq", &[])?;
                let ok = todoke_server::audit::verify(tx)?;
                Ok::<_, todoke_server::db::DbError>((rows, ok))
            })
            .unwrap()
        })
        .await;
    assert_eq!(ok, Ok(entries.len() as u64));
    let actions: Vec<(String, String)> =
        entries.iter().filter(|r| r[3].text().unwrap() == sid).map(|r| (r[2].text().unwrap(), r[1].text().unwrap())).collect();
    assert_eq!(
        actions,
        [("create".to_string(), "desk-chuo".to_string()), ("read".into(), "desk-chuo".into()), ("read".into(), "desk-chuo".into())]
    );

    // Edit an entry, delete an entry, delete the last entry: each is detected.
    for (tamper, expect) in [
        ("UPDATE audit SET entity_id = 'someone-else' WHERE seq = 2", "altered"),
        ("DELETE FROM audit WHERE seq = 2", "missing"),
        ("DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)", "removed"),
    ] {
        let problem = app
            .with_db(move |db| {
                // Tamper inside a transaction that is then rolled back (by returning Err):
                // each case starts from the intact log.
                let outcome: Result<(), todoke_server::ApiError> = db.tx(|tx| {
                    tx.exec(tamper, &[])?;
                    let verdict = todoke_server::audit::verify(tx)?;
                    Err(todoke_server::ApiError::Internal(verdict.err().unwrap_or_default()))
                });
                match outcome {
                    Err(todoke_server::ApiError::Internal(problem)) => problem,
                    other => panic!("unexpected {other:?}"),
                }
            })
            .await;
        assert!(problem.contains(expect), "{tamper}: {problem}");
    }
    let intact = app.with_db(|db| db.tx(|tx| todoke_server::audit::verify(tx)).unwrap()).await;
    assert!(intact.is_ok());
}

async fn overload_answers_429_with_retry_after(b: Backend) {
    let mut app = TestApp::new(b).await;
    let token = app.login("chuo").await;
    app.state.limiter = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    app.router = todoke_server::app(app.state.clone());
    let (s, v, headers) = app.call(Method::GET, "/api/sync/pull", Some(&token), None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(v["code"], "busy");
    assert_eq!(app.call(Method::GET, "/healthz", None, None).await.0, StatusCode::OK, "health checks are never refused");
}

async fn openapi_describes_every_route(b: Backend) {
    let app = TestApp::new(b).await;
    let (s, spec, _) = app.call(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let mut described = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            described.insert((method.clone(), path.clone()));
        }
    }
    let routes: BTreeSet<(String, String)> = todoke_server::ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(described, routes, "openapi.json and ROUTES differ");
    // And each listed route exists in the router (an unknown route is an empty 404 or a 405).
    for (method, path) in &routes {
        let path = path.replace("{id}", &Uuid::nil().to_string());
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let (s, v, _) = app.call(m, &path, None, None).await;
        assert!(s != StatusCode::METHOD_NOT_ALLOWED && !(s == StatusCode::NOT_FOUND && v.is_null()), "{method} {path}: {s}");
    }
}

/// `server_seq` follows commit order: a reader polling `seq > cursor` while
/// many desks push at once never skips a change committed late.
async fn commit_order_under_concurrent_pushes(b: Backend) {
    let app = std::sync::Arc::new(TestApp::new(b).await);
    let token = app.login("chuo").await;
    let writers = 8;
    let per_writer = 15;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (app, token, done) = (app.clone(), token.clone(), done.clone());
        tokio::spawn(async move {
            let mut cursor = "c.0".to_string();
            let mut seen = Vec::new();
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                let (changes, next, _) = pull_all(&app, &token, Some(cursor.clone()), 7).await;
                seen.extend(changes.iter().map(|c| c["entity_id"].as_str().unwrap().to_string()));
                cursor = next;
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut tasks = Vec::new();
    for w in 0..writers {
        // Each writer is a server process of its own on the same database: only the
        // database's writer lock orders them.
        let (server, token) = (app.second_server().await, token.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..per_writer {
                let id = Uuid::now_v7();
                let body = json!({"desk_id": "d", "ops": [create_op(&case_doc(id, "HC9901", &[], "", &format!("w{w} {i}")))]});
                let (s, v, _) = call_router(&server, Method::POST, "/api/sync/push", Some(&token), Some(body)).await;
                assert_eq!(s, StatusCode::OK, "{v}");
                assert_eq!(v["results"][0]["status"], "applied");
                ids.push(id.to_string());
            }
            ids
        }));
    }
    let mut expected = BTreeSet::new();
    for t in tasks {
        expected.extend(t.await.unwrap());
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let seen_set: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), seen_set.len(), "no change delivered twice");
    let missed: Vec<&String> = expected.difference(&seen_set).collect();
    assert!(
        missed.is_empty(),
        "{} of {} committed changes never reached the reader (skipped: committed late)",
        missed.len(),
        expected.len()
    );
    assert_eq!(seen_set, expected);
    // The audit chain stayed one unbroken chain under the same concurrency.
    let verdict = app.with_db(|db| db.tx(|tx| todoke_server::audit::verify(tx)).unwrap()).await;
    assert!(verdict.as_ref().is_ok_and(|n| *n as usize > expected.len()), "{verdict:?}");
    // Every record the reader received is named by a read entry (one per pulled page, listing its records).
    let reads = app.with_db(|db| db.tx(|tx| tx.query("SELECT entity_id FROM audit WHERE action = 'read'", &[])).unwrap()).await;
    let read_ids: BTreeSet<String> =
        reads.iter().flat_map(|r| r[0].text().unwrap().split(' ').map(str::to_string).collect::<Vec<_>>()).collect();
    assert!(expected.is_subset(&read_ids), "reads not audited: {:?}", expected.difference(&read_ids).collect::<Vec<_>>());
}

/// R5 (in part): the server restarts after committing a batch but before the
/// desk got the answer; the desk re-sends it to the new process unchanged.
async fn a_restart_between_commit_and_answer_loses_nothing(b: Backend) {
    let mut app = TestApp::new(b).await;
    let token = app.login("chuo").await;
    let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    let batch: Vec<Value> = ids.iter().map(|id| create_op(&case_doc(*id, "HC9901", &[], "", "再送"))).collect();
    let (_, first) = app.push(&token, batch.clone()).await;

    let url = app.url.clone();
    let db = tokio::task::spawn_blocking(move || todoke_server::Db::open(&url).unwrap()).await.unwrap();
    let mut state = todoke_server::AppState::new(db);
    state.clock = app.state.clock.clone();
    app.state = state;
    app.router = todoke_server::app(app.state.clone());

    let (s, again) = app.push(&token, batch).await;
    assert_eq!(s, StatusCode::OK, "the session survives the restart");
    assert_eq!(again, first, "the same answers; nothing applied twice");
    let (changes, _, _) = pull_all(&app, &token, Some("c.0".into()), 100).await;
    let got: Vec<String> = changes.iter().map(|c| c["entity_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ids.iter().map(|i| i.to_string()).collect::<Vec<_>>());
}

/// The desk's own outbox (todoke-store), pushed as it stands: creation, an
/// edit of a field and of a list item, an observation — all applied, and the
/// server holds what the desk holds.
async fn a_real_desk_outbox_is_accepted_as_written(b: Backend) {
    use todoke_domain::{Actor, Case, Observation, TestRecord, TestResult};
    let app = TestApp::new(b).await;
    let token = app.login("chuo").await;
    let dir = tempfile::tempdir().unwrap();
    let keys = todoke_store::MemoryKeys::new();
    let (ops, expected, case_id) = {
        let mut desk = todoke_store::Desk::init(dir.path(), &keys).unwrap();
        let actor = Actor { login: "chuo".into(), org_code: "HC9901".into() };
        let mut case = Case { id: Uuid::now_v7(), ..Default::default() };
        case.basic.name = "デスク 太郎".into();
        case.jurisdiction.responsible_health_centre = "HC9901".into();
        case.tests = vec![TestRecord { id: Uuid::now_v7(), result: Some(TestResult::Positive), ..Default::default() }];
        desk.create_case(&case, &actor).unwrap();
        let mut edited = case.clone();
        edited.basic.phone = "03-1234-5678".into();
        edited.tests[0].result = Some(TestResult::Negative);
        desk.update_case(&edited, &actor).unwrap();
        let obs = Observation { id: Uuid::now_v7(), case_id: case.id, temperature: Some(37.2), ..Default::default() };
        desk.add_observation(&obs, &actor).unwrap();
        let ops: Vec<Value> = desk.outbox_pending(100).unwrap().iter().map(|op| serde_json::to_value(op).unwrap()).collect();
        (ops, serde_json::to_value(desk.get_case(case.id).unwrap().unwrap()).unwrap(), case.id)
    };
    assert_eq!(ops.len(), 3);
    let (s, v) = app.push(&token, ops).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["status"], "applied", "{v}");
    }
    let (_, mut server, _) = app.call(Method::GET, &format!("/api/cases/{case_id}"), Some(&token), None).await;
    let mut expected = expected;
    server.as_object_mut().unwrap().remove("updated_at");
    expected.as_object_mut().unwrap().remove("updated_at");
    assert_eq!(server, expected, "the server holds what the desk holds");
}

/// R3: junk on every route of the API description — no 5xx, no panic, and
/// every refusal says what and why in both languages.
async fn no_input_makes_a_server_error(b: Backend) {
    let app = TestApp::new(b).await;
    let token = app.login("chuo").await;
    let long = "長".repeat(50_000);
    let bodies = [
        json!(null),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!({"ops": null, "desk_id": 5}),
        json!({"login": long, "password": long, "otp": long, "device_id": long}),
        json!({"desk_id": "d", "ops": [{"op_id": Uuid::now_v7(), "seq": -1, "entity": "", "entity_id": "", "kind": "", "payload": null}]}),
        json!({"desk_id": "d", "ops": [{"op_id": Uuid::now_v7(), "seq": 1, "entity": "case", "entity_id": long, "kind": "case.update",
               "payload": {"changes": [{"path": "a[b]c..d[", "old": 1, "new": {"deep": [[[[[[1]]]]]]}}]}, "base_versions": {"x": -5}}]}),
        json!({"refresh_token": long, "device_id": ""}),
    ];
    let queries = ["", "?cursor=", "?cursor=s.1.2.3", "?cursor=s.-1", "?limit=-1", "?cursor=c.99999999999999999999", "?limit=1&limit=2"];
    for (method, path) in todoke_server::ROUTES {
        for auth in [None, Some(token.as_str())] {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let paths: Vec<String> = if path.contains("{id}") {
                ["x", "00000000-0000-0000-0000-000000000000", "%00", &long[..300]].iter().map(|id| path.replace("{id}", id)).collect()
            } else {
                queries.iter().map(|q| format!("{path}{q}")).collect()
            };
            for p in &paths {
                let candidates: Vec<Option<Value>> =
                    if m == Method::POST { bodies.iter().cloned().map(Some).collect() } else { vec![None] };
                for body in candidates {
                    let (s, v, _) = app.call(m.clone(), p, auth, body.clone()).await;
                    assert!(s.as_u16() < 500, "{method} {p} {body:?} → {s} {v}");
                    if s.is_client_error() {
                        assert_bilingual(&v);
                    }
                }
            }
        }
    }
}

async fn reused_refresh_token_revokes_the_family(b: Backend) {
    let app = TestApp::new(b).await;
    let (_, v) = app.try_login("ken", "desk-1").await;
    let refresh1 = v["refresh_token"].as_str().unwrap().to_string();
    let other = app.login("chuo").await; // another session, untouched
    let refresh =
        |token: String| app.call(Method::POST, "/api/auth/refresh", None, Some(json!({"refresh_token": token, "device_id": "desk-1"})));
    let (s, v, _) = refresh(refresh1.clone()).await;
    assert_eq!(s, StatusCode::OK);
    let (access2, refresh2) = (v["access_token"].as_str().unwrap().to_string(), v["refresh_token"].as_str().unwrap().to_string());
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access2), None).await.0, StatusCode::OK);
    // The rotated-away token comes back after the grace for a lost answer (a copy of it was
    // stolen): the whole family ends. (Within it: a_lost_refresh_answer_is_regranted_within_the_grace.)
    app.advance(todoke_server::auth::REFRESH_GRACE_SECS + 1);
    let (s, v, _) = refresh(refresh1).await;
    assert_eq!((s, v["code"].as_str().unwrap()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    assert_eq!(app.call(Method::GET, "/api/stats/cases", Some(&access2), None).await.0, StatusCode::UNAUTHORIZED, "access revoked");
    assert_eq!(refresh(refresh2).await.0, StatusCode::UNAUTHORIZED, "the newest refresh token too");
    assert_eq!(app.call(Method::GET, "/api/sync/pull", Some(&other), None).await.0, StatusCode::OK, "other sessions live on");
    let actions = app
        .with_db(|db| db.tx(|tx| tx.query("SELECT staff, action FROM audit WHERE action = 'refresh_reuse_revoked'", &[])).unwrap())
        .await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0][0].text().unwrap(), "ken");
    // An unknown token is just refused (nothing to revoke).
    assert_eq!(refresh("never-issued".into()).await.0, StatusCode::UNAUTHORIZED);
}

async fn a_newer_schema_is_refused(b: Backend) {
    let app = TestApp::new(b).await;
    let url = app.url.clone();
    let (recorded, reopened) = app
        .with_db(move |db| {
            let v = db.tx(|tx| tx.query("SELECT version FROM schema_version", &[])).unwrap();
            db.tx(|tx| tx.exec("UPDATE schema_version SET version = 999 WHERE id = 1", &[])).unwrap();
            (v, todoke_server::Db::open(&url).map(|_| ()))
        })
        .await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0][0].int().unwrap(), todoke_server::schema::SCHEMA_VERSION);
    match reopened {
        Err(e @ todoke_server::db::DbError::NewerSchema { found: 999, .. }) => {
            let text = e.to_string();
            assert!(text.contains("新しい版") && text.contains("newer todoke-server"), "{text}");
        }
        other => panic!("a newer schema must be refused, got {:?}", other.err()),
    }
    // The same version (or an older one) opens.
    let url = app.url.clone();
    let again = app
        .with_db(move |db| {
            db.tx(|tx| tx.exec("UPDATE schema_version SET version = 1 WHERE id = 1", &[])).unwrap();
            todoke_server::Db::open(&url).map(|_| ()).map_err(|e| e.to_string())
        })
        .await;
    assert_eq!(again, Ok(()));
}

async fn admin_changes_are_audited(b: Backend) {
    let app = TestApp::new(b).await;
    let rows = app
        .with_db(|db| {
            todoke_server::accounts::reset_otp(db, "kita").unwrap();
            todoke_server::accounts::disable_device(db, "lost-laptop").unwrap();
            assert!(todoke_server::accounts::disable_user(db, "nobody").is_err());
            db.tx(|tx| {
                let rows =
                    tx.query("SELECT staff, org, action, entity, entity_id FROM audit WHERE action LIKE 'admin.%' ORDER BY seq", &[])?;
                assert_eq!(todoke_server::audit::verify(tx)?, Ok(tx.query("SELECT seq FROM audit", &[])?.len() as u64));
                Ok::<_, todoke_server::db::DbError>(rows)
            })
            .unwrap()
        })
        .await;
    let seen: Vec<(String, String, String)> =
        rows.iter().map(|r| (r[2].text().unwrap(), r[3].text().unwrap(), r[4].text().unwrap())).collect();
    for expected in [
        ("admin.create-org", "org", "HC9901"),
        ("admin.create-user", "staff", "chuo"),
        ("admin.reset-otp", "staff", "kita"),
        ("admin.disable-device", "device", "lost-laptop"),
    ] {
        assert!(seen.iter().any(|(a, e, i)| (a.as_str(), e.as_str(), i.as_str()) == expected), "{expected:?} in {seen:?}");
    }
    assert!(!seen.iter().any(|(_, _, i)| i == "nobody"), "a refused change leaves no entry");
    assert!(rows.iter().all(|r| r[0].text().unwrap().starts_with("admin:")), "who: the operator");
}

/// A case of 中央 (related: 北) with an open conflict on basic.name; returns (case id, conflict id).
async fn make_conflict(app: &TestApp, chuo: &str, kita: &str, n: u32) -> (Uuid, String) {
    let id = Uuid::now_v7();
    let (_, v) = app.push(chuo, vec![create_op(&case_doc(id, "HC9901", &["HC9902"], "", "山田 太郎"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    let mine =
        update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": format!("山田 太朗{n}")}]), json!({"basic.name": seq}));
    assert_eq!(app.push(chuo, vec![mine]).await.1["results"][0]["status"], "applied");
    let theirs =
        update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": format!("山田 多郎{n}")}]), json!({"basic.name": seq}));
    let (_, v) = app.push(kita, vec![theirs]).await;
    assert_eq!(v["results"][0]["status"], "conflict", "{v}");
    (id, v["results"][0]["conflicts"][0]["conflict_id"].as_str().unwrap().to_string())
}

fn resolve_op(conflict_id: &str, value: &str) -> Value {
    json!({"op_id": Uuid::now_v7(), "seq": 9, "entity": "conflict", "entity_id": conflict_id, "kind": "conflict.resolve", "payload": {"value": value}})
}

async fn conflicts_are_listed_within_jurisdiction(b: Backend) {
    let app = TestApp::new(b).await;
    let (chuo, kita) = (app.login("chuo").await, app.login("kita").await);
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(make_conflict(&app, &chuo, &kita, n).await.1);
    }
    let list = |token: String, query: &'static str| {
        let app = &app;
        async move { app.call(Method::GET, &format!("/api/conflicts{query}"), Some(&token), None).await }
    };
    // Both values and both authors, for each desk that sees the case.
    let (s, v, _) = list(kita.clone(), "").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let listed = v["conflicts"].as_array().unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0]["conflict_id"], ids[0].as_str());
    assert_eq!(listed[0]["server_value"], "山田 太朗0");
    assert_eq!(listed[0]["client_value"], "山田 多郎0");
    assert!(listed[0]["server_author"].as_str().unwrap().starts_with("chuo@HC9901/"));
    assert!(listed[0]["client_author"].as_str().unwrap().starts_with("kita@HC9902/"));
    assert_eq!(listed[0]["status"], "open");
    // Pages.
    let (_, v, _) = list(chuo.clone(), "?limit=2").await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 2);
    let cursor = v["next_cursor"].as_str().unwrap().to_string();
    let (_, v, _) = app.call(Method::GET, &format!("/api/conflicts?limit=2&cursor={cursor}"), Some(&chuo), None).await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(v["conflicts"][0]["conflict_id"], ids[2].as_str());
    assert!(v["next_cursor"].is_null());
    // Prefecture and read-only staff see them; another prefecture's centre and the nation do not.
    assert_eq!(list(app.login("ken").await, "").await.1["conflicts"].as_array().unwrap().len(), 3);
    assert_eq!(list(app.login("chuo-viewer").await, "").await.1["conflicts"].as_array().unwrap().len(), 3);
    assert_eq!(list(app.login("hc98").await, "").await.1["conflicts"].as_array().unwrap().len(), 0);
    assert_eq!(list(app.login("kuni").await, "").await.0, StatusCode::FORBIDDEN);
    // Resolved ones are listed as such.
    assert_eq!(app.push(&kita, vec![resolve_op(&ids[1], "山田 多郎1")]).await.1["results"][0]["status"], "applied");
    let (_, v, _) = list(chuo.clone(), "?status=resolved").await;
    assert_eq!(v["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(v["conflicts"][0]["conflict_id"], ids[1].as_str());
    assert_eq!(list(chuo.clone(), "").await.1["conflicts"].as_array().unwrap().len(), 2);
    // Refusals name the field.
    for bad in ["?status=maybe", "?limit=0", "?limit=501", "?cursor=nope"] {
        let (s, v, _) = list(chuo.clone(), bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {v}");
        assert!(v["message_ja"].is_string() && v["message_en"].is_string());
    }
    assert_eq!(app.call(Method::GET, "/api/conflicts", None, None).await.0, StatusCode::UNAUTHORIZED);
    // Every listed conflict is an audited read, by whom it was listed.
    let first = ids[0].clone();
    let reads = app
        .with_db(move |db| {
            db.tx(|tx| {
                tx.query("SELECT staff FROM audit WHERE action = 'read' AND entity = 'conflict' AND entity_id = $1", &[first.into()])
            })
            .unwrap()
        })
        .await;
    let who: BTreeSet<String> = reads.iter().map(|r| r[0].text().unwrap()).collect();
    assert_eq!(who, ["chuo", "chuo-viewer", "ken", "kita"].map(String::from).into());
}

async fn a_stale_resolution_becomes_a_new_conflict(b: Backend) {
    let app = TestApp::new(b).await;
    let (chuo, kita) = (app.login("chuo").await, app.login("kita").await);
    let (id, cid) = make_conflict(&app, &chuo, &kita, 0).await;
    // 中央 edits the name again, knowing the current version.
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "山田 太朗0");
    let later =
        update_op(id, json!([{"path": "basic.name", "old": "山田 太朗0", "new": "山田 太一"}]), json!({"basic.name": i64::MAX / 2}));
    assert_eq!(app.push(&chuo, vec![later]).await.1["results"][0]["status"], "applied");
    // 北 resolves having seen only "山田 太朗0": not written over "山田 太一"; a new conflict instead.
    let (_, v) = app.push(&kita, vec![resolve_op(&cid, "山田 多郎0")]).await;
    let r = &v["results"][0];
    assert_eq!(r["status"], "conflict", "{v}");
    assert_eq!(r["conflicts"][0]["server_value"], "山田 太一");
    assert_eq!(r["conflicts"][0]["client_value"], "山田 多郎0");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "山田 太一", "nothing overwritten");
    let (_, v, _) = app.call(Method::GET, "/api/conflicts?status=superseded", Some(&chuo), None).await;
    assert_eq!(v["conflicts"][0]["conflict_id"], cid.as_str());
    let (_, v, _) = app.call(Method::GET, "/api/conflicts", Some(&chuo), None).await;
    let open = v["conflicts"].as_array().unwrap();
    assert_eq!(open.len(), 1);
    let new_id = open[0]["conflict_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, cid);
    // Resolving the new one, against the value it shows, writes.
    assert_eq!(app.push(&kita, vec![resolve_op(&new_id, "山田 多郎0")]).await.1["results"][0]["status"], "applied");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["basic"]["name"], "山田 多郎0");
    // A resolution that names a base version older than the field's is stale too, even with the value unchanged.
    let (_, cid2) = make_conflict(&app, &chuo, &kita, 1).await;
    let mut op = resolve_op(&cid2, "山田 多郎1");
    op["base_versions"] = json!({"basic.name": 1});
    assert_eq!(app.push(&kita, vec![op]).await.1["results"][0]["status"], "conflict");
}

async fn clusters_sync_within_the_managing_centres_scope(b: Backend) {
    let app = TestApp::new(b).await;
    let (chuo, kita) = (app.login("chuo").await, app.login("kita").await);
    let id = Uuid::now_v7();
    let cluster = json!({"id": id, "name": "デモ高齢者施設", "setting": "高齢者施設", "place": "デモ市", "first_onset": "2026-11-01",
                         "health_centre": "HC9901", "note": ""});
    let create = json!({"op_id": Uuid::now_v7(), "seq": 1, "entity": "cluster", "entity_id": id, "kind": "cluster.create",
                        "payload": {"cluster": cluster}, "base_versions": {}});
    // Another centre may not create a cluster managed by 中央.
    let mut foreign = create.clone();
    foreign["op_id"] = json!(Uuid::now_v7());
    assert_eq!(app.push(&kita, vec![foreign]).await.1["results"][0]["code"], "out_of_scope");
    let (_, v) = app.push(&chuo, vec![create.clone()]).await;
    assert_eq!(v["results"][0]["status"], "applied", "{v}");
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    assert_eq!(app.push(&chuo, vec![create]).await.1["results"][0]["server_seq"], seq, "a re-send changes nothing");
    // An edit, as the desk's outbox writes it; then a stale edit of the same field is a conflict.
    let edit = |note: &str, base: i64| {
        json!({"op_id": Uuid::now_v7(), "seq": 2, "entity": "cluster", "entity_id": id, "kind": "cluster.update",
               "payload": {"changes": [{"path": "note", "old": "", "new": note}]}, "base_versions": {"note": base}})
    };
    assert_eq!(app.push(&chuo, vec![edit("5名", seq)]).await.1["results"][0]["status"], "applied");
    let ken = app.login("ken").await;
    let (_, v) = app.push(&ken, vec![edit("6名", seq)]).await;
    assert_eq!(v["results"][0]["status"], "conflict", "{v}");
    // A change that would break the record is refused.
    let bad = json!({"op_id": Uuid::now_v7(), "seq": 3, "entity": "cluster", "entity_id": id, "kind": "cluster.update",
                     "payload": {"changes": [{"path": "first_onset", "old": null, "new": "not a date"}]}, "base_versions": {}});
    assert_eq!(app.push(&chuo, vec![bad]).await.1["results"][0]["code"], "invalid_payload");
    // 中央 and the prefecture receive it; the other prefecture's centre does not.
    for (token, sees) in [(chuo.clone(), true), (ken.clone(), true), (app.login("hc98").await, false)] {
        let (changes, _, _) = pull_all(&app, &token, None, 100).await;
        let got = changes.iter().find(|c| c["entity"] == "cluster" && c["entity_id"] == id.to_string());
        assert_eq!(got.is_some(), sees, "{changes:?}");
        if let Some(put) = got {
            assert_eq!(put["doc"]["note"], "5名");
            assert_eq!(put["doc"]["name"], "デモ高齢者施設");
        }
    }
    // The conflict is listed for the managing centre.
    let (_, v, _) = app.call(Method::GET, "/api/conflicts", Some(&chuo), None).await;
    assert_eq!(v["conflicts"][0]["entity"], "cluster");
    assert_eq!(v["conflicts"][0]["client_value"], "6名");
}

async fn pushes_queued_behind_the_writer_are_bounded(b: Backend) {
    let app = std::sync::Arc::new(TestApp::new(b).await);
    let token = app.login("chuo").await;
    // The writer is busy (its turn held): pushes queue up to the bound, the rest hear 429 at once.
    let turn = app.state.writer_turn.clone().lock_owned().await;
    let mut tasks = Vec::new();
    for i in 0..todoke_server::MAX_QUEUED_PUSHES + 8 {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            app.push(&token, vec![create_op(&case_doc(Uuid::now_v7(), "HC9901", &[], "", &format!("待ち {i}")))]).await
        }));
    }
    let waited = std::time::Instant::now();
    while tasks.iter().filter(|t| t.is_finished()).count() < 8 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(30), "pushes beyond the bound were held, not refused");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(turn);
    let (mut applied, mut refused) = (0, 0);
    for t in tasks {
        let (s, v) = t.await.unwrap();
        match s {
            StatusCode::OK => {
                assert_eq!(v["results"][0]["status"], "applied");
                applied += 1;
            }
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(v["code"], "busy");
                assert_bilingual(&v);
                refused += 1;
            }
            other => panic!("{other}: {v}"),
        }
    }
    assert_eq!((applied, refused), (todoke_server::MAX_QUEUED_PUSHES, 8));
}

/// A health centre places a case in a recovery hotel (`jurisdiction.facility`,
/// a per-field edit like any other): the hotel's nurses see the resident in
/// their view, add observations, cannot edit the case; when the placement
/// changes, the case leaves the hotel's scope (scope_left) and its access.
async fn a_facility_sees_its_residents_until_they_leave(b: Backend) {
    let app = TestApp::new(b).await;
    let kita = app.login("kita").await;
    let hotel = app.login("hotel").await;
    let id = Uuid::now_v7();
    let (_, v) = app.push(&kita, vec![create_op(&personal_case(id, "HC9902", &[], "", "", "入所 予定"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    let (before, cursor, _) = pull_all(&app, &hotel, None, 100).await;
    assert!(before.is_empty(), "not placed yet: {before:?}");
    let obs_op = |obs: Uuid| {
        json!({"op_id": Uuid::now_v7(), "seq": 3, "entity": "observation", "entity_id": obs, "kind": "observation.add",
               "payload": {"observation": {"id": obs, "case_id": id, "temperature": 37.9, "note": "夜間に発熱"}}})
    };
    assert_eq!(app.push(&hotel, vec![obs_op(Uuid::now_v7())]).await.1["results"][0]["code"], "out_of_scope");
    // A code that is not a facility opens nothing.
    let wrong =
        update_op(id, json!([{"path": "jurisdiction.facility", "old": "", "new": "HC9901"}]), json!({"jurisdiction.facility": seq}));
    assert_eq!(app.push(&kita, vec![wrong]).await.1["results"][0]["status"], "applied");
    let chuo = app.login("chuo").await;
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await.0, StatusCode::NOT_FOUND);

    let place = update_op(
        id,
        json!([{"path": "jurisdiction.facility", "old": "HC9901", "new": "FAC9901"}]),
        json!({"jurisdiction.facility": i64::MAX / 2}),
    );
    assert_eq!(app.push(&kita, vec![place]).await.1["results"][0]["status"], "applied");
    let obs = Uuid::now_v7();
    let (_, v) = app.push(&kita, vec![obs_op(obs)]).await;
    assert_eq!(v["results"][0]["status"], "applied");
    let (got, cursor, _) = pull_all(&app, &hotel, Some(cursor), 100).await;
    let kinds: Vec<(&str, &str)> = got.iter().map(|c| (c["kind"].as_str().unwrap(), c["entity"].as_str().unwrap())).collect();
    assert_eq!(kinds, [("put", "case"), ("put", "observation")], "{got:?}");
    let doc = &got[0]["doc"];
    assert_eq!((doc["basic"]["name"].as_str(), doc["basic"]["phone"].as_str()), (Some("入所 予定"), Some("03-1234-5678")));
    assert!(
        doc["basic"].get("residence").is_none() && doc.get("investigation").is_none() && doc["notification"].get("remarks").is_none(),
        "{doc}"
    );
    assert_eq!(got[1]["doc"]["note"], "夜間に発熱", "the nurses see observations whole");
    // The hotel's own observation is accepted; an edit of the case is not.
    let (_, v) = app.push(&hotel, vec![obs_op(Uuid::now_v7())]).await;
    assert_eq!(v["results"][0]["status"], "applied", "{v}");
    let edit = update_op(
        id,
        json!([{"path": "measures.current_status", "old": null, "new": "home_recovery"}]),
        json!({"measures.current_status": i64::MAX / 2}),
    );
    assert_eq!(app.push(&hotel, vec![edit]).await.1["results"][0]["code"], "out_of_scope");
    // The centre edits: the hotel gets the field it sees, not the one it does not.
    let (_, doc_now, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&kita), None).await;
    let edits = update_op(
        id,
        json!([{"path": "measures.current_status", "old": null, "new": "hotel_recovery"}, {"path": "basic.email", "old": "", "new": "a@example.jp"}]),
        json!({"measures.current_status": i64::MAX / 2, "basic.email": i64::MAX / 2}),
    );
    assert_eq!(doc_now["basic"]["email"], "");
    assert_eq!(app.push(&kita, vec![edits]).await.1["results"][0]["status"], "applied");
    let (got, cursor, _) = pull_all(&app, &hotel, Some(cursor), 100).await;
    let patches: Vec<&Value> = got.iter().filter(|c| c["kind"] == "patch" && c["entity"] == "case").collect();
    assert_eq!(patches.len(), 1, "{got:?}");
    let paths: Vec<&str> = patches[0]["changes"].as_array().unwrap().iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["measures.current_status"]);

    // Discharged from the hotel to home recovery: the case leaves the hotel's scope.
    let leave = update_op(
        id,
        json!([{"path": "jurisdiction.facility", "old": "FAC9901", "new": ""}]),
        json!({"jurisdiction.facility": i64::MAX / 2}),
    );
    assert_eq!(app.push(&kita, vec![leave]).await.1["results"][0]["status"], "applied");
    let (got, _, _) = pull_all(&app, &hotel, Some(cursor), 100).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0]["kind"].as_str(), &got[0]["case_id"]), (Some("scope_left"), &json!(id)));
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&hotel), None).await.0, StatusCode::NOT_FOUND);
    // An observation the hotel's desk still had queued is taken (SYNC.md property 6:
    // nothing is dropped for lack of access); the case stays out of its scope.
    assert_eq!(app.push(&hotel, vec![obs_op(Uuid::now_v7())]).await.1["results"][0]["status"], "applied");
    let (fresh, _, _) = pull_all(&app, &hotel, None, 100).await;
    assert!(fresh.is_empty(), "a fresh download no longer holds the former resident: {fresh:?}");
    // The responsible centre still has it, with the hotel's observation.
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{id}"), Some(&kita), None).await.0, StatusCode::OK);
}

/// Corrections "where granted" (DOMAIN.md §2): a lab user reads; an
/// administrator's `set-role corrector` (audited, ends the user's sessions)
/// lets it correct what it sees; `set-role viewer` takes it back.
async fn lab_corrections_need_the_grant(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let id = Uuid::now_v7();
    app.push(&chuo, vec![create_op(&personal_case(id, "HC9901", &[], "", "", "品質 確認"))]).await;
    let fix = |date: &str| {
        update_op(
            id,
            json!([{"path": "notification.onset_date", "old": null, "new": date}]),
            json!({"notification.onset_date": i64::MAX / 2}),
        )
    };
    // The lab's download: the case and its observations, pseudonymised (an observation's free text too).
    let obs = Uuid::now_v7();
    let op = json!({"op_id": Uuid::now_v7(), "seq": 2, "entity": "observation", "entity_id": obs, "kind": "observation.add",
                    "payload": {"observation": {"id": obs, "case_id": id, "temperature": 38.2, "spo2": 95, "note": "品質様に電話で確認"}}});
    assert_eq!(app.push(&chuo, vec![op]).await.1["results"][0]["status"], "applied");
    let lab = app.login("lab").await;
    let (got, _, _) = pull_all(&app, &lab, None, 100).await;
    let kinds: Vec<&str> = got.iter().map(|c| c["entity"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["observation", "case"], "newest first");
    assert_eq!((got[0]["doc"]["spo2"].as_i64(), got[0]["doc"].get("note")), (Some(95), None), "{}", got[0]);
    assert_eq!((got[1]["doc"]["basic"].get("name"), got[1]["doc"]["notification"]["onset_date"].as_str()), (None, Some("2026-11-01")));
    assert_eq!(app.push(&lab, vec![fix("2026-10-30")]).await.1["results"][0]["code"], "out_of_scope");

    app.with_db(|db| todoke_server::accounts::set_role(db, "lab", "corrector").unwrap()).await;
    assert_eq!(app.call(Method::GET, "/api/sync/pull", Some(&lab), None).await.0, StatusCode::UNAUTHORIZED, "sessions end");
    let lab = app.login("lab").await;
    assert_eq!(app.push(&lab, vec![fix("2026-10-30")]).await.1["results"][0]["status"], "applied");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(doc["notification"]["onset_date"], "2026-10-30");
    assert_eq!(doc["basic"]["name"], "品質 確認", "nothing hidden from the lab was touched");
    assert_eq!(doc["notification"]["remarks"], "自由記述");
    // The health centre's desk gets the correction.
    let (changes, _, _) = pull_all(&app, &chuo, None, 100).await;
    let case = changes.iter().find(|c| c["entity"] == "case").unwrap();
    assert_eq!(case["doc"]["notification"]["onset_date"], "2026-10-30");

    // Only labs can be granted; unknown roles are refused; the grant is audited.
    let err = app.with_db(|db| todoke_server::accounts::set_role(db, "chuo", "corrector").unwrap_err().to_string()).await;
    assert!(err.contains("labs only"), "{err}");
    let err = app.with_db(|db| todoke_server::accounts::set_role(db, "lab", "boss").unwrap_err().to_string()).await;
    assert!(err.contains("unknown role"), "{err}");
    app.with_db(|db| todoke_server::accounts::set_role(db, "lab", "viewer").unwrap()).await;
    let lab = app.login("lab").await;
    assert_eq!(app.push(&lab, vec![fix("2026-10-29")]).await.1["results"][0]["code"], "out_of_scope");
    let grants = app
        .with_db(|db| {
            db.tx(|tx| {
                let rows = tx.query("SELECT entity_id FROM audit WHERE action = 'admin.set-role' ORDER BY seq", &[])?;
                rows.iter().map(|r| r[0].text()).collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
        })
        .await;
    assert_eq!(grants, ["lab", "lab"], "each grant and withdrawal is audited (the refused ones changed nothing)");
}

/// Schema 3: a database written before labs read through the nation and
/// facilities had residents gets those `case_access` rows when opened.
async fn an_older_database_gains_the_national_and_facility_scopes(b: Backend) {
    let app = TestApp::new(b).await;
    let kita = app.login("kita").await;
    let (resident, other) = (Uuid::now_v7(), Uuid::now_v7());
    let ops = vec![
        create_op(&personal_case(resident, "HC9902", &[], "", "FAC9901", "旧 版")),
        create_op(&personal_case(other, "HC9902", &[], "", "", "旧 版二")),
    ];
    assert!(app.push(&kita, ops).await.1["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"));
    let url = app.url.clone();
    let rows = app
        .with_db(move |db| {
            // As version 2 left it: no row for the nation or the facility.
            db.tx(|tx| {
                tx.exec("DELETE FROM case_access WHERE org IN ('JP', 'FAC9901')", &[])?;
                tx.exec("UPDATE schema_version SET version = 2 WHERE id = 1", &[])
            })
            .unwrap();
            let reopened = todoke_server::Db::open(&url).unwrap();
            reopened
                .tx(|tx| tx.query("SELECT case_id, org FROM case_access WHERE org IN ('JP', 'FAC9901') ORDER BY org, case_id", &[]))
                .unwrap()
                .iter()
                .map(|r| (r[0].text().unwrap(), r[1].text().unwrap()))
                .collect::<Vec<_>>()
        })
        .await;
    let mut expected = vec![
        (resident.to_string(), "FAC9901".to_string()),
        (resident.to_string(), "JP".to_string()),
        (other.to_string(), "JP".to_string()),
    ];
    expected.sort_by(|x, y| (&x.1, &x.0).cmp(&(&y.1, &y.0)));
    assert_eq!(rows, expected);
    let hotel = app.login("hotel").await;
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{resident}"), Some(&hotel), None).await.0, StatusCode::OK);
    let niid = app.login("niid").await;
    assert_eq!(app.call(Method::GET, &format!("/api/cases/{other}"), Some(&niid), None).await.0, StatusCode::OK);
}

/// Holds the writer's turn, queues pushes one after another (each waits until
/// the one before is queued, so the group keeps their order), then lets the
/// writer take them all in one group. Returns each push's answer.
async fn pushes_in_one_group(app: &std::sync::Arc<TestApp>, pushes: Vec<(String, Vec<Value>)>) -> Vec<(StatusCode, Value)> {
    let turn = app.state.writer_turn.clone().lock_owned().await;
    let mut tasks = Vec::new();
    for (i, (token, ops)) in pushes.into_iter().enumerate() {
        let app2 = app.clone();
        tasks.push(tokio::spawn(async move { app2.push(&token, ops).await }));
        let waited = std::time::Instant::now();
        while app.state.pending.len() < i + 1 {
            assert!(waited.elapsed() < std::time::Duration::from_secs(30), "push {i} was not queued");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    drop(turn);
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert_eq!(app.state.pending.len(), 0);
    answers
}

async fn grouped_pushes_each_get_their_own_results(b: Backend) {
    let app = std::sync::Arc::new(TestApp::new(b).await);
    let (chuo, kita, hc98) = (app.login("chuo").await, app.login("kita").await, app.login("hc98").await);
    let id = Uuid::now_v7();
    let create = create_op(&case_doc(id, "HC9901", &["HC9902"], "", "山田 太郎"));
    let rename = update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 次郎"}]), json!({}));
    // kita never saw the case's name: a conflict, decided inside the group.
    let stale = update_op(id, json!([{"path": "basic.name", "old": "山田 太郎", "new": "山田 三郎"}]), json!({}));
    let elsewhere = create_op(&case_doc(Uuid::now_v7(), "HC9901", &[], "", "管轄外"));
    let answers = pushes_in_one_group(
        &app,
        vec![
            (chuo.clone(), vec![create.clone(), rename.clone()]),
            (kita.clone(), vec![stale]),
            (chuo.clone(), vec![create.clone()]), // re-sent in the same group: the same answer
            (hc98.clone(), vec![elsewhere]),
        ],
    )
    .await;
    for (s, v) in &answers {
        assert_eq!(*s, StatusCode::OK, "{v}");
    }
    let result = |p: usize, k: usize| answers[p].1["results"][k].clone();
    assert_eq!(result(0, 0)["status"], "applied", "{:?}", answers[0]);
    assert_eq!(result(0, 1)["status"], "applied", "{:?}", answers[0]);
    let (created, renamed) = (result(0, 0)["server_seq"].as_i64().unwrap(), result(0, 1)["server_seq"].as_i64().unwrap());
    assert!(created < renamed);
    assert_eq!(result(1, 0)["status"], "conflict", "{:?}", answers[1]);
    assert!(result(1, 0)["server_seq"].as_i64().unwrap() >= renamed);
    assert_eq!(result(2, 0), result(0, 0));
    assert_eq!(result(3, 0)["code"], "out_of_scope", "{:?}", answers[3]);
    assert_eq!(answers.iter().map(|a| a.1["results"].as_array().unwrap().len()).collect::<Vec<_>>(), vec![2, 1, 1, 1]);

    // What was stored is what the answers say: the rename kept, the stale edit a conflict, in commit order.
    let (changes, _, _) = pull_all(&app, &kita, Some("c.0".into()), 100).await;
    let seqs: Vec<i64> = changes.iter().map(|c| c["server_seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let kinds: Vec<&str> = changes.iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["put", "patch", "conflict"], "{changes:?}");
    assert_eq!(changes[2]["conflict"]["client_value"], "山田 三郎");
    let (s, v, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&chuo), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.to_string().matches("山田 次郎").count(), 1, "{v}");
    // Each write audited once, by its author.
    let writes: Vec<(String, String)> = app
        .with_db(move |db| {
            db.tx(|tx| tx.query("SELECT staff, action FROM audit WHERE entity = 'case' AND action <> 'read' ORDER BY seq", &[]))
                .unwrap()
                .iter()
                .map(|r| (r[0].text().unwrap(), r[1].text().unwrap()))
                .collect()
        })
        .await;
    assert_eq!(
        writes,
        vec![("chuo".to_string(), "create".to_string()), ("chuo".into(), "update".into()), ("kita".into(), "update".into())]
    );
}

async fn a_failing_push_does_not_fail_its_group(b: Backend) {
    let app = std::sync::Arc::new(TestApp::new(b).await);
    let (chuo, kita) = (app.login("chuo").await, app.login("kita").await);
    let broken = Uuid::now_v7();
    assert_eq!(app.push(&chuo, vec![create_op(&case_doc(broken, "HC9901", &[], "", "壊れる"))]).await.1["results"][0]["status"], "applied");
    // The stored record is damaged (as by a bad restore): a push that edits it cannot be applied.
    app.with_db(move |db| {
        db.tx(|tx| tx.exec("UPDATE record SET doc = 'not json' WHERE entity_id = $1", &[broken.to_string().into()])).unwrap()
    })
    .await;
    let fine = Uuid::now_v7();
    let edit = update_op(broken, json!([{"path": "basic.name", "old": "壊れる", "new": "直す"}]), json!({}));
    let answers = pushes_in_one_group(
        &app,
        vec![(chuo.clone(), vec![edit.clone()]), (kita.clone(), vec![create_op(&case_doc(fine, "HC9902", &[], "", "無事"))])],
    )
    .await;
    assert_eq!(answers[0].0, StatusCode::INTERNAL_SERVER_ERROR, "{:?}", answers[0]);
    assert_bilingual(&answers[0].1);
    assert_eq!(answers[1].0, StatusCode::OK, "{:?}", answers[1]);
    assert_eq!(answers[1].1["results"][0]["status"], "applied");
    let (s, v, _) = app.call(Method::GET, &format!("/api/cases/{fine}"), Some(&kita), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // The failed push left nothing: its op is not marked applied, so the desk sends it again.
    let edit_id = edit["op_id"].as_str().unwrap().to_string();
    let marked = app
        .with_db(move |db| db.tx(|tx| tx.query("SELECT op_id FROM applied_op WHERE op_id = $1", &[edit_id.into()])).unwrap().len())
        .await;
    assert_eq!(marked, 0);
}

/// Two desks add a test each, concurrently: both are kept, and each patch that
/// adds one carries the list's order on the server, so a desk that learns of
/// the additions in another order (its own answered first) ends in the same order.
async fn an_added_list_item_comes_with_the_lists_order(b: Backend) {
    let app = TestApp::new(b).await;
    let (chuo, ken) = (app.login("chuo").await, app.login("ken").await);
    let id = Uuid::now_v7();
    let (_, v) = app.push(&chuo, vec![create_op(&case_doc(id, "HC9901", &[], "", "山田 太郎"))]).await;
    let seq = v["results"][0]["server_seq"].as_i64().unwrap();
    let (a, b2) = (Uuid::now_v7(), Uuid::now_v7());
    let add = |item: Uuid| {
        update_op(
            id,
            json!([{"path": format!("tests[{item}]"), "old": null, "new": {"id": item, "result": "positive"}}]),
            json!({format!("tests[{item}]"): seq}),
        )
    };
    assert_eq!(app.push(&chuo, vec![add(a)]).await.1["results"][0]["status"], "applied");
    assert_eq!(app.push(&ken, vec![add(b2)]).await.1["results"][0]["status"], "applied");
    let (changes, _, _) = pull_all(&app, &ken, Some(format!("c.{seq}")), 100).await;
    let orders: Vec<&Value> = changes
        .iter()
        .flat_map(|c| c["changes"].as_array().unwrap().iter())
        .filter(|c| c["path"] == "tests[]")
        .map(|c| &c["new"])
        .collect();
    assert_eq!(orders, [&json!([a]), &json!([a, b2])], "{changes:?}");
    let (_, doc, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&ken), None).await;
    let ids: Vec<&Value> = doc["tests"].as_array().unwrap_or_else(|| panic!("{doc}")).iter().map(|t| &t["id"]).collect();
    assert_eq!(ids, [&json!(a), &json!(b2)]);
}

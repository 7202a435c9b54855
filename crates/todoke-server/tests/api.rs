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

/// S1: every role × every case endpoint × in/out of scope, each a real request.
async fn authorisation_matrix(b: Backend) {
    let app = TestApp::new(b).await;
    // A: responsible 中央 (HC9901), related 北 (HC9902), reported by CL990001.
    // B: the neighbouring prefecture's centre and clinic.
    // C: 中央 only, no clinic.
    let (a, bb, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let chuo = app.login("chuo").await;
    let hc98 = app.login("hc98").await;
    let (s, v) = app
        .push(
            &chuo,
            vec![
                create_op(&case_doc(a, "HC9901", &["HC9902"], "CL990001", "山田 太郎")),
                create_op(&case_doc(c, "HC9901", &[], "", "佐藤 花子")),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{v}");
    let (_, v) = app.push(&hc98, vec![create_op(&case_doc(bb, "HC9801", &[], "CL980001", "鈴木 一郎"))]).await;
    assert_eq!(v["results"][0]["status"], "applied", "{v}");

    const Y: bool = true;
    const N: bool = false;
    // login, [read A, B, C], [write A, B, C], stats allowed
    #[rustfmt::skip]
    let matrix: &[(&str, [bool; 3], [bool; 3], bool)] = &[
        ("chuo",        [Y, N, Y], [Y, N, Y], N), // responsible centre
        ("chuo-viewer", [Y, N, Y], [N, N, N], N), // same centre, read-only role
        ("kita",        [Y, N, N], [Y, N, N], N), // related centre of A only
        ("clinic",      [Y, N, N], [Y, N, N], N), // the reporting clinic of A
        ("ken",         [Y, N, Y], [Y, N, Y], Y), // the prefecture over 中央 and 北
        ("lab",         [Y, N, Y], [N, N, N], N), // the prefecture's lab: reads for quality checks
        ("kuni",        [N, N, N], [N, N, N], Y), // the nation: aggregates only
        ("hc98",        [N, Y, N], [N, Y, N], N),
        ("clinic98",    [N, Y, N], [N, Y, N], N),
        ("ken98",       [N, Y, N], [N, Y, N], Y),
    ];
    let cases = [a, bb, c];
    let jurisdictions: [(&str, &[&str], &str); 3] = [("HC9901", &["HC9902"], "CL990001"), ("HC9801", &[], "CL980001"), ("HC9901", &[], "")];
    for (login, read, write, stats) in matrix {
        let token = app.login(login).await;
        // Pull: the whole scope of the caller.
        let (s, pulled, _) = app.call(Method::GET, "/api/sync/pull?limit=100", Some(&token), None).await;
        let pulled_ids: BTreeSet<String> = if *login == "kuni" {
            assert_eq!(s, StatusCode::FORBIDDEN, "{login} pull");
            BTreeSet::new()
        } else {
            assert_eq!(s, StatusCode::OK, "{login} pull: {pulled}");
            pulled["changes"].as_array().unwrap().iter().map(|c| c["entity_id"].as_str().unwrap().to_string()).collect()
        };
        for (i, id) in cases.iter().enumerate() {
            let (s, v, _) = app.call(Method::GET, &format!("/api/cases/{id}"), Some(&token), None).await;
            let expected = if read[i] { StatusCode::OK } else { StatusCode::NOT_FOUND };
            assert_eq!(s, expected, "{login} GET case {i}: {v}");
            if read[i] {
                assert_eq!(v["id"], json!(id));
            } else {
                assert_eq!(v["code"], "not_found", "no hint the case exists");
            }
            assert_eq!(pulled_ids.contains(&id.to_string()), read[i], "{login} pull case {i}");

            // Entering a new case with the same jurisdiction; adding an observation to this one.
            let (resp, rel, clinic) = jurisdictions[i];
            let obs = Uuid::now_v7();
            let more = vec![
                create_op(&case_doc(Uuid::now_v7(), resp, rel, clinic, "新規")),
                json!({"op_id": Uuid::now_v7(), "seq": 3, "entity": "observation", "entity_id": obs, "kind": "observation.add",
                       "payload": {"observation": {"id": obs, "case_id": id, "temperature": 36.8}}}),
            ];
            let (_, v) = app.push(&token, more).await;
            for (what, r) in ["case.create", "observation.add"].iter().zip(v["results"].as_array().unwrap()) {
                if write[i] {
                    assert_eq!(r["status"], "applied", "{login} {what} case {i}: {v}");
                } else {
                    assert_eq!(
                        (r["status"].as_str(), r["code"].as_str()),
                        (Some("rejected"), Some("out_of_scope")),
                        "{login} {what} case {i}"
                    );
                }
            }

            let op = update_op(
                *id,
                json!([{"path": "underlying_diseases", "old": null, "new": format!("by {login}")}]),
                json!({"underlying_diseases": i64::MAX / 2}),
            );
            let (s, v) = app.push(&token, vec![op]).await;
            assert_eq!(s, StatusCode::OK, "{login} push {i}: {v}");
            let status = v["results"][0]["status"].as_str().unwrap();
            if write[i] {
                assert_eq!(status, "applied", "{login} push case {i}: {v}");
            } else {
                assert_eq!((status, v["results"][0]["code"].as_str().unwrap()), ("rejected", "out_of_scope"), "{login} push case {i}");
            }
        }
        let s = app.call(Method::GET, "/api/stats/cases", Some(&token), None).await.0;
        assert_eq!(s, if *stats { StatusCode::OK } else { StatusCode::FORBIDDEN }, "{login} stats");
    }
    // Aggregates are area-bound: the prefecture counts its own.
    // P99 has A and C plus the cases its users entered like them; P98 has B and its copies.
    let writers_of = |i: usize| matrix.iter().filter(|row| row.2[i]).count() as i64;
    let ken = app.login("ken").await;
    let p99 = 2 + writers_of(0) + writers_of(2);
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
    // 中央's pending edit after the transfer: refused with a reason, not dropped silently.
    let late = update_op(id, json!([{"path": "underlying_diseases", "old": "", "new": "x"}]), json!({"underlying_diseases": seq}));
    assert_eq!(app.push(&chuo, vec![late]).await.1["results"][0]["code"], "out_of_scope");
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
    // The rotated-away token comes back (a copy of it was stolen): the whole family ends.
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

//! GET /api/reports/{name} through the router, on SQLite and on PostgreSQL:
//! each organisation gets the indicators of its own area, suppressed (a lab
//! its parent's); clinics and facilities are refused; every request is audited.

#[macro_use]
mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use todoke_domain::Case;
use todoke_reports::{compute_all, ReportOptions, ReportRow};
use todoke_server::scope::ReportScope;
use uuid::Uuid;

both_backends!(
    reports_follow_jurisdiction_suppress_and_are_audited,
    report_parameters_are_checked,
    case_stat_gives_what_the_documents_give
);

/// A positive case diagnosed on `day` (August 2022).
fn positive(responsible: &str, sex: &str, age_band: &str, day: u32) -> Value {
    let mut c = case_doc(Uuid::now_v7(), responsible, &[], "", "統計 太郎");
    c["basic"]["sex"] = json!(sex);
    c["basic"]["reported_age_band"] = json!(age_band);
    c["notification"] = json!({"diagnosis_class": "confirmed", "diagnosis_date": format!("2022-08-{day:02}")});
    c
}

fn total_new_positives(table: &Value) -> i64 {
    let k = table["columns"].as_array().unwrap().iter().position(|c| c["key"] == "new_positives").unwrap();
    table["rows"].as_array().unwrap().iter().map(|r| r[k].as_i64().unwrap()).sum()
}

async fn reports_follow_jurisdiction_suppress_and_are_audited(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let kita = app.login("kita").await;
    let hc98 = app.login("hc98").await;
    // 中央: six men in their 30s and one woman in her 40s; 北: two; the neighbouring prefecture: three.
    let mut ops: Vec<Value> = (0..6).map(|i| create_op(&positive("HC9901", "male", "30s", 1 + i))).collect();
    ops.push(create_op(&positive("HC9901", "female", "40s", 3)));
    assert!(app.push(&chuo, ops).await.1["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"));
    app.push(&kita, (0..2).map(|i| create_op(&positive("HC9902", "male", "20s", 2 + i))).collect()).await;
    app.push(&hc98, (0..3).map(|i| create_op(&positive("HC9801", "female", "50s", 5 + i))).collect()).await;

    // A lab reports over its parent's area: the prefecture's lab as the prefecture, the NIID as the nation.
    for (login, expected) in
        [("chuo", 7), ("kita", 2), ("ken", 9), ("hc98", 3), ("ken98", 3), ("kuni", 12), ("lab", 9), ("lab-fix", 9), ("niid", 12)]
    {
        let token = app.login(login).await;
        let (s, table, _) = app.call(Method::GET, "/api/reports/new-positives", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK, "{login}: {table}");
        assert_eq!(total_new_positives(&table), expected, "{login}");
    }
    // Indicator 11 counts the cluster records of the caller's area.
    let cluster_id = Uuid::now_v7();
    let cluster = json!({"id": cluster_id, "name": "デモ高齢者施設", "setting": "高齢者施設", "place": "デモ市",
                         "first_onset": "2026-11-01", "health_centre": "HC9901", "note": ""});
    let create = json!({"op_id": Uuid::now_v7(), "seq": 1, "entity": "cluster", "entity_id": cluster_id, "kind": "cluster.create",
                        "payload": {"cluster": cluster}, "base_versions": {}});
    assert_eq!(app.push(&chuo, vec![create]).await.1["results"][0]["status"], "applied");
    for (login, listed) in [("chuo", true), ("ken", true), ("kuni", true), ("kita", false), ("ken98", false)] {
        let token = app.login(login).await;
        let (s, table, _) = app.call(Method::GET, "/api/reports/clusters?from=2026-10-28&to=2026-11-10", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK, "{login}: {table}");
        let new_clusters: i64 =
            table["rows"].as_array().unwrap().iter().filter(|r| r[2] == "高齢者施設").map(|r| r[3].as_i64().unwrap_or(0)).sum();
        assert_eq!(new_clusters, if listed { 1 } else { 0 }, "{login}: {table}");
    }
    for login in ["clinic", "hotel", "clinic98"] {
        let token = app.login(login).await;
        let (s, v, _) = app.call(Method::GET, "/api/reports/new-positives", Some(&token), None).await;
        assert_eq!((s, v["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{login}");
    }
    assert_eq!(app.call(Method::GET, "/api/reports/all", None, None).await.0, StatusCode::UNAUTHORIZED);

    // The sex × age table of the prefecture: the woman in her 40s is not
    // published (1–4 persons), no published cell is 1–4, totals are published.
    let ken = app.login("ken").await;
    let (s, pyramid, _) = app.call(Method::GET, "/api/reports/positives-by-sex-age-cumulative", Some(&ken), None).await;
    assert_eq!(s, StatusCode::OK, "{pyramid}");
    let col = |key: &str| pyramid["columns"].as_array().unwrap().iter().position(|c| c["key"] == key).unwrap();
    let sex = col("sex");
    let last_week = |sex_code: &str| pyramid["rows"].as_array().unwrap().iter().rev().find(|r| r[sex] == sex_code).cloned().unwrap();
    assert!(last_week("female")[col("40s")].is_null(), "a cell of one person is suppressed: {pyramid}");
    assert_eq!(last_week("male")[col("total")], 8, "{pyramid}");
    for row in pyramid["rows"].as_array().unwrap().iter().filter(|r| r[sex] != "total") {
        for cell in &row.as_array().unwrap()[col("under_10")..col("total")] {
            assert!(!cell.as_i64().is_some_and(|n| (1..=4).contains(&n)), "a small cell is published: {row}");
        }
    }

    // All eleven at once.
    let (s, all, _) = app.call(Method::GET, "/api/reports/all?from=2022-08-01&to=2022-08-14", Some(&ken), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 11);

    // Every report request is in the (intact) audit log, by whom.
    let (reports, ok) = app
        .with_db(|db| {
            db.tx(|tx| {
                let rows = tx.query("SELECT staff, entity_id FROM audit WHERE action = 'report' ORDER BY seq", &[])?;
                Ok::<_, todoke_server::db::DbError>((rows, todoke_server::audit::verify(tx)?))
            })
            .unwrap()
        })
        .await;
    assert!(ok.is_ok());
    let names: Vec<String> = reports.iter().map(|r| r[1].text().unwrap()).collect();
    assert_eq!(names.iter().filter(|n| *n == "new-positives").count(), 9, "the 9 answered, not the refused: {names:?}");
    assert!(names.contains(&"all".to_string()) && names.contains(&"positives-by-sex-age-cumulative".to_string()));
}

async fn report_parameters_are_checked(b: Backend) {
    let app = TestApp::new(b).await;
    let ken = app.login("ken").await;
    for (path, field) in [
        ("/api/reports/no-such-report", "name"),
        ("/api/reports/1?from=2022-13-01", "from"),
        ("/api/reports/1?by=month", "by"),
        ("/api/reports/1?breakdown=street", "breakdown"),
        ("/api/reports/1?colour=red", "query"),
    ] {
        let (s, v, _) = app.call(Method::GET, path, Some(&ken), None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {v}");
        assert_eq!(v["code"], "invalid", "{path}: {v}");
        assert!(v["message_en"].as_str().unwrap().starts_with(&format!("{field}:")), "{path}: {v}");
        assert!(v["message_ja"].as_str().is_some_and(|m| !m.is_empty()) && v["message_en"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // An empty area is an empty table, not an error.
    let (s, v, _) = app.call(Method::GET, "/api/reports/new-positives", Some(&ken), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(total_new_positives(&v), 0);
}

/// The eleven indicators computed the slow way, from the case documents in
/// `scope` as stored (what the server did before `case_stat`).
async fn from_documents(app: &TestApp, scope: ReportScope, opts: ReportOptions) -> Value {
    let docs = app
        .with_db(move |db| {
            db.tx(|tx| match &scope {
                ReportScope::Everything => tx.query("SELECT doc FROM record WHERE entity = 'case'", &[]),
                ReportScope::Org(org) => tx.query(
                    "SELECT r.doc FROM case_access a JOIN record r ON r.entity = 'case' AND r.entity_id = a.case_id WHERE a.org = $1",
                    &[org.as_str().into()],
                ),
            })
            .unwrap()
        })
        .await;
    let rows: Vec<ReportRow> =
        docs.iter().filter_map(|d| ReportRow::from_case(&serde_json::from_str::<Case>(&d[0].text().unwrap()).unwrap())).collect();
    serde_json::to_value(compute_all(&rows, &[], &opts)).unwrap()
}

/// Every organisation's eleven indicators from the server equal those computed from the documents.
async fn assert_same_as_documents(app: &TestApp, stage: &str) {
    let opts = ReportOptions::default();
    for (login, scope) in [
        ("kuni", ReportScope::Everything),
        ("ken", ReportScope::Org("P99".into())),
        ("chuo", ReportScope::Org("HC9901".into())),
        ("kita", ReportScope::Org("HC9902".into())),
    ] {
        let token = app.login(login).await;
        let (s, served, _) = app.call(Method::GET, "/api/reports/all", Some(&token), None).await;
        assert_eq!(s, StatusCode::OK, "{stage} {login}: {served}");
        let expected = from_documents(app, scope, opts.clone()).await;
        assert!(served == expected, "{stage}, {login}: case_stat and the documents disagree");
        // Not an empty agreement: new positives are counted.
        assert!(total_new_positives(&served[0]) > 0, "{stage}, {login}");
    }
    // Broken down by health centre, per week, as the nation.
    let kuni = app.login("kuni").await;
    let (_, served, _) = app.call(Method::GET, "/api/reports/all?breakdown=health-centre&by=week", Some(&kuni), None).await;
    let opts = ReportOptions { breakdown: todoke_reports::Breakdown::HealthCentre, by: Some(todoke_reports::Granularity::Week), ..opts };
    assert!(served == from_documents(app, ReportScope::Everything, opts).await, "{stage}: by health centre");
}

async fn case_stat_gives_what_the_documents_give(b: Backend) {
    let app = TestApp::new(b).await;
    let chuo = app.login("chuo").await;
    let kita = app.login("kita").await;
    // Realistic cases (synthetic), half for each of the prefecture's health centres.
    let config = todoke_synth::GeneratorConfig { seed: 7, cases: 400, ..Default::default() };
    let mut cases: Vec<Case> = todoke_synth::Generator::new(config).map(|g| g.case).collect();
    for (i, c) in cases.iter_mut().enumerate() {
        c.jurisdiction.responsible_health_centre = if i % 2 == 0 { "HC9901" } else { "HC9902" }.into();
        c.jurisdiction.related_health_centres.clear();
        c.jurisdiction.reporting_clinic.clear();
        c.deleted = None;
    }
    let mut seqs = std::collections::HashMap::new();
    for (token, parity) in [(&chuo, 0), (&kita, 1)] {
        let ops: Vec<Value> =
            cases.iter().enumerate().filter(|(i, _)| i % 2 == parity).map(|(_, c)| create_op(&serde_json::to_value(c).unwrap())).collect();
        let (s, v) = app.push(token, ops).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        for (r, c) in v["results"].as_array().unwrap().iter().zip(cases.iter().enumerate().filter(|(i, _)| i % 2 == parity)) {
            assert_eq!(r["status"], "applied", "{r}");
            seqs.insert(c.1.id, r["server_seq"].as_i64().unwrap());
        }
    }
    assert_same_as_documents(&app, "after creation").await;
    // The report caught the projection up: one row per live case, cursor at the last change.
    let (stat_rows, cursor, change) = app
        .with_db(|db| {
            db.tx(|tx| {
                let n = tx.query("SELECT COUNT(*) FROM case_stat", &[])?[0][0].int()?;
                let c = tx.query("SELECT seq FROM case_stat_cursor", &[])?[0][0].int()?;
                let v = tx.query("SELECT value FROM counter WHERE name = 'change'", &[])?[0][0].int()?;
                Ok::<_, todoke_server::db::DbError>((n, c, v))
            })
            .unwrap()
        })
        .await;
    assert_eq!((stat_rows, cursor), (cases.len() as i64, change));

    // Updates: deaths, recoveries, severe care, a soft deletion; and a transfer from 中央 to 北.
    let mut by_centre: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
    for (i, old) in cases.iter().enumerate().filter(|(i, _)| i % 7 == 0) {
        let mut new = old.clone();
        match (i / 7) % 5 {
            0 => {
                new.notification.death_date = new.notification.diagnosis_date.map(|d| d + chrono::Days::new(9));
                new.measures.current_status = Some(todoke_domain::CurrentStatus::Died);
            }
            1 => {
                new.measures.icu = true;
                new.measures.admission_date = new.notification.diagnosis_date;
                new.measures.current_status = Some(todoke_domain::CurrentStatus::Hospitalised);
            }
            2 => new.basic.sex = Some(todoke_domain::Sex::Female),
            3 => {
                new.deleted = Some(todoke_domain::case::Deletion {
                    on: chrono::NaiveDate::from_ymd_opt(2022, 9, 1).unwrap(),
                    by: "staff".into(),
                    reason: "重複".into(),
                })
            }
            _ => new.jurisdiction.responsible_health_centre = if i % 2 == 0 { "HC9902" } else { "HC9901" }.into(),
        }
        let changes = todoke_domain::diff::changes(old, &new);
        if changes.is_empty() {
            continue;
        }
        let base: serde_json::Map<String, Value> = changes.iter().map(|c| (c.path.clone(), json!(seqs[&old.id]))).collect();
        by_centre[i % 2].push(update_op(old.id, serde_json::to_value(&changes).unwrap(), Value::Object(base)));
    }
    let transfers = cases.iter().enumerate().filter(|(i, _)| i % 7 == 0 && (i / 7) % 5 == 4).count();
    assert!(transfers >= 5 && by_centre[0].len() + by_centre[1].len() >= 50);
    for (token, ops) in [(&chuo, &by_centre[0]), (&kita, &by_centre[1])] {
        let (s, v) = app.push(token, ops.clone()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["results"].as_array().unwrap().iter().all(|r| r["status"] == "applied"), "{v}");
    }
    assert_same_as_documents(&app, "after updates and transfers").await;
}

//! GET /api/reports/{name} through the router, on SQLite and on PostgreSQL:
//! each organisation gets the indicators of its own area, suppressed (a lab
//! its parent's); clinics and facilities are refused; every request is audited.

#[macro_use]
mod common;

use axum::http::{Method, StatusCode};
use common::*;
use serde_json::{json, Value};
use uuid::Uuid;

both_backends!(reports_follow_jurisdiction_suppress_and_are_audited, report_parameters_are_checked);

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

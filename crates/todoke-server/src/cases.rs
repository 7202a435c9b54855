//! GET /api/cases/{id} (one case in the caller's view, audited) and GET /api/stats/cases (counts only).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use crate::scope::{case_access, may_see_aggregates, shown_doc, Access, OrgKind, Principal};
use crate::{audit, ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/cases/{id}", get(get_case)).route("/api/stats/cases", get(stats))
}

async fn get_case(State(state): State<AppState>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::invalid("id", "uuid", "IDの形式が正しくありません。", "The id is not a valid UUID."))?
        .to_string();
    let now = state.now();
    let doc = state
        .run(move |db| {
            db.tx(|tx| {
                let orgs = tx
                    .query("SELECT org FROM case_access WHERE case_id = $1", &[id.as_str().into()])?
                    .iter()
                    .map(|r| r[0].text())
                    .collect::<Result<_, _>>()?;
                // Out of scope looks exactly like absent: no hint that the case exists.
                if case_access(&who, &orgs) == Access::None {
                    return Err(ApiError::NotFound);
                }
                let row = tx
                    .query_opt("SELECT doc FROM record WHERE entity = 'case' AND entity_id = $1", &[id.as_str().into()])?
                    .ok_or(ApiError::NotFound)?;
                audit::append(tx, now, &who, "read", "case", &id)?;
                // As the caller's view shows it (a lab: pseudonymised; a facility: what care needs).
                let doc = serde_json::from_str(&row[0].text()?).map_err(ApiError::internal)?;
                shown_doc(&who, "case", doc).ok_or(ApiError::NotFound)
            })
        })
        .await?;
    Ok(Json(doc))
}

#[derive(Serialize)]
struct CaseCounts {
    /// Cases (not deleted or deleted alike) in the caller's area.
    total: i64,
}

async fn stats(State(state): State<AppState>, who: Principal) -> Result<Json<CaseCounts>, ApiError> {
    if !may_see_aggregates(&who) {
        return Err(ApiError::Forbidden);
    }
    let total = state
        .run(move |db| {
            db.tx(|tx| {
                let rows = if who.org_kind == OrgKind::Nation {
                    tx.query("SELECT COUNT(*) FROM record WHERE entity = 'case'", &[])?
                } else {
                    tx.query("SELECT COUNT(*) FROM case_access WHERE org = $1", &[who.org.as_str().into()])?
                };
                Ok::<_, ApiError>(rows[0][0].int()?)
            })
        })
        .await?;
    Ok(Json(CaseCounts { total }))
}

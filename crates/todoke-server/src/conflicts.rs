//! 競合一覧 — GET /api/conflicts: the conflicts on cases in the caller's
//! scope, open or resolved, a page at a time (keyset on the conflict id), each
//! with both values and both authors. Every conflict listed is an audited read.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use todoke_protocol::ConflictRecord;
use uuid::Uuid;

use crate::db::Tx;
use crate::extract::Params;
use crate::scope::{case_access, pull_scope, shown_conflict, Access, Principal};
use crate::sync::conflict_record;
use crate::{audit, ApiError, AppState};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/conflicts", get(list))
}

#[derive(Debug, Deserialize)]
pub struct ConflictQuery {
    /// "open" (default), "resolved" or "superseded".
    pub status: Option<String>,
    pub limit: Option<u32>,
    /// The last conflict id of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ConflictPage {
    pub conflicts: Vec<ConflictRecord>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

pub const STATUSES: [&str; 3] = ["open", "resolved", "superseded"];

async fn list(State(state): State<AppState>, who: Principal, Params(q): Params<ConflictQuery>) -> Result<Json<ConflictPage>, ApiError> {
    let Some(scope) = pull_scope(&who) else { return Err(ApiError::Forbidden) };
    let status = q.status.unwrap_or_else(|| "open".into());
    if !STATUSES.contains(&status.as_str()) {
        return Err(ApiError::invalid(
            "status",
            "open|resolved|superseded",
            "status は open、resolved、superseded のいずれかです。",
            "status must be open, resolved or superseded.",
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::invalid("limit", "1..=500", "limit は1〜500です。", "limit must be 1–500."));
    }
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => String::new(),
        Some(c) => Uuid::parse_str(c)
            .map_err(|_| {
                ApiError::invalid(
                    "cursor",
                    "uuid",
                    "カーソルが正しくありません。最初から取得し直してください。",
                    "The cursor is not valid; start again.",
                )
            })?
            .to_string(),
    };
    let now = state.now();
    let page = state.run(move |db| db.tx(|tx| list_page(tx, &who, &scope, &status, &after, limit as i64, now))).await?;
    Ok(Json(page))
}

fn list_page(
    tx: &mut dyn Tx,
    who: &Principal,
    scope: &str,
    status: &str,
    after: &str,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<ConflictPage, ApiError> {
    let rows = tx.query(
        "SELECT c.id, r.case_id FROM conflict c JOIN record r ON r.entity = c.entity AND r.entity_id = c.entity_id
         JOIN case_access a ON a.case_id = r.case_id AND a.org = $1
         WHERE c.status = $2 AND c.id > $3 ORDER BY c.id LIMIT $4",
        &[scope.into(), status.into(), after.into(), (limit + 1).into()],
    )?;
    let more = rows.len() as i64 > limit;
    let mut conflicts = Vec::new();
    let mut entries = audit::Entries::default();
    for r in rows.iter().take(limit as usize) {
        let (id, case_id) = (r[0].text()?, r[1].text()?);
        // The scope's rows are the caller's to read; asked again here, the one place that decides.
        let orgs = tx.query("SELECT org FROM case_access WHERE case_id = $1", &[case_id.as_str().into()])?;
        let orgs = orgs.iter().map(|o| o[0].text()).collect::<Result<_, _>>()?;
        if case_access(who, &orgs) < Access::Read {
            continue;
        }
        // Only conflicts on fields the caller's view shows, their values as it shows them.
        if let Some(record) = conflict_record(tx, &id)?.and_then(|r| shown_conflict(who, r)) {
            entries.add(now, who, "read", "conflict", &id);
            conflicts.push(record);
        }
    }
    entries.write(tx)?;
    let next_cursor = if more { rows.get(limit as usize - 1).map(|r| r[0].text()).transpose()? } else { None };
    Ok(ConflictPage { conflicts, next_cursor })
}

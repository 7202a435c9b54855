//! GET /api/reports/{name}: the standard indicators (DOMAIN.md §5) over the
//! caller's area, computed by `todoke_reports` (suppression always applied).
//! `name` is an indicator (slug or number 1–11) or `all`.
//!
//! Who sees which cases is decided in [`crate::scope::report_scope`]: the
//! nation every case, a prefecture or a health centre the cases in its scope,
//! a lab its parent's (its prefecture; the nation for the NIID); clinics and
//! facilities are refused. Every request is audited (entity `report`).
//!
//! The rows come from `case_stat` (see `stat.rs`), brought up to date with
//! everything committed before the request first: no case document is
//! parsed here.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use todoke_reports::period::parse_weekday;
use todoke_reports::{compute, compute_all, Area, Breakdown, Granularity, Indicator, ReportOptions};

use crate::extract::Params;
use crate::scope::{report_scope, Principal};
use crate::{audit, stat, ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/reports/{name}", get(report))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Query {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    week_start: Option<String>,
    /// A narrower area inside the caller's scope (prefecture, municipality or health-centre code).
    area: Option<String>,
    breakdown: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    who: Principal,
    Path(name): Path<String>,
    Params(q): Params<Query>,
) -> Result<Json<Value>, ApiError> {
    let scope = report_scope(&who).ok_or(ApiError::Forbidden)?;
    let indicator = if name == "all" {
        None
    } else {
        Some(Indicator::parse(&name).map_err(|_| {
            ApiError::invalid(
                "name",
                "indicator",
                format!("集計「{name}」はありません。1〜11、指標名、または all を指定してください。"),
                format!("There is no report \"{name}\". Use 1–11, an indicator name or all."),
            )
        })?)
    };
    let opts = options(&q)?;
    let now = state.now();
    let tables = state
        .run(move |db| {
            // Everything committed before this request goes into case_stat first (stat.rs, "Freshness").
            stat::catch_up(db)?;
            let (rows, clusters) = db.tx(|tx| {
                let rows = stat::report_rows(tx, &scope)?;
                let clusters = stat::report_clusters(tx, &scope)?;
                // Aggregates only, but who asked for which is still recorded.
                audit::append(tx, now, &who, "report", "report", &name)?;
                Ok::<_, ApiError>((rows, clusters))
            })?;
            Ok(match indicator {
                Some(i) => vec![compute(i, &rows, &clusters, &opts)],
                None => compute_all(&rows, &clusters, &opts),
            })
        })
        .await?;
    let body = if tables.len() == 1 { serde_json::to_value(&tables[0]) } else { serde_json::to_value(&tables) };
    Ok(Json(body.map_err(ApiError::internal)?))
}

fn options(q: &Query) -> Result<ReportOptions, ApiError> {
    let date = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|s| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                    ApiError::invalid(
                        field,
                        "date",
                        format!("{field} は YYYY-MM-DD で指定してください（「{s}」）。"),
                        format!("{field} must be YYYY-MM-DD (got \"{s}\")."),
                    )
                })
            })
            .transpose()
    };
    let by =
        q.by.as_deref()
            .map(|s| {
                Granularity::parse(s).ok_or_else(|| {
                    ApiError::invalid("by", "day_or_week", "by は day か week です。", format!("by is day or week (got \"{s}\")."))
                })
            })
            .transpose()?;
    let week_start = match q.week_start.as_deref() {
        None => chrono::Weekday::Wed,
        Some(s) => parse_weekday(s).ok_or_else(|| {
            ApiError::invalid("week_start", "weekday", "week_start は曜日です（例: wed）。", "week_start is a weekday (e.g. wed).")
        })?,
    };
    let breakdown = match q.breakdown.as_deref() {
        None | Some("none") => Breakdown::None,
        Some("prefecture") => Breakdown::Prefecture,
        Some("health-centre") | Some("health_centre") => Breakdown::HealthCentre,
        Some(_) => {
            return Err(ApiError::invalid(
                "breakdown",
                "enum",
                "breakdown は none, prefecture, health-centre のいずれかです。",
                "breakdown is none, prefecture or health-centre.",
            ))
        }
    };
    Ok(ReportOptions {
        from: date("from", &q.from)?,
        to: date("to", &q.to)?,
        by,
        week_start,
        area: q.area.as_deref().map(Area::parse).unwrap_or_default(),
        breakdown,
    })
}

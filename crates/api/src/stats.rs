//! `/api/v1/stats/…`: weekly statistics (the original's contract; FAILED meals now excluded,
//! consistent with the diary) and a range summary against the active goal.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use store::diary::{self, RangeSummaryError};

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::meals::{MSG_BAD_DATE, bad_request, check_range, query_date, query_map};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/stats/weekly/", get(weekly))
        .route("/api/v1/stats/range/", get(range))
}

/// `GET /api/v1/stats/weekly/?start_date=YYYY-MM-DD` → `{start_date, end_date, daily_data×7,
/// averages}`; averages divide by 7.
async fn weekly(
    State(state): State<AppState>,
    user: CurrentUser,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query_map(q)?;
    let start = query_date(
        &q,
        "start_date",
        "start_date parameter is required",
        "Invalid date format. Use YYYY-MM-DD",
    )?;
    let stats = diary::weekly(state.db(), user.user_id(), start)
        .await?
        .ok_or_else(|| bad_request("start_date", "Invalid date format. Use YYYY-MM-DD"))?;
    Ok(axum::Json(stats).into_response())
}

/// `GET /api/v1/stats/range/?from=&to=` (≤ 366 days) → per-day totals and progress, the goal,
/// days logged, days on goal, adherence, totals and the average per logged day.
async fn range(
    State(state): State<AppState>,
    user: CurrentUser,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query_map(q)?;
    let missing = "Параметры from и to обязательны";
    let from = query_date(&q, "from", missing, MSG_BAD_DATE)?;
    let to = query_date(&q, "to", missing, MSG_BAD_DATE)?;
    check_range(from, to)?;
    let summary = diary::range(state.db(), user.user_id(), from, to)
        .await
        .map_err(|e| match e {
            RangeSummaryError::Range(r) => bad_request("to", &r.to_string()),
            RangeSummaryError::Store(s) => s.into(),
        })?;
    Ok(axum::Json(summary).into_response())
}

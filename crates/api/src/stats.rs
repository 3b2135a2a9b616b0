//! `/api/v1/stats/…`: weekly statistics (the original's contract; FAILED meals now excluded,
//! consistent with the diary) and a range summary against the active goal.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use store::diary::{self, RangeSummaryError};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::meals::{MSG_BAD_DATE, bad_request, check_range, query_date, query_map};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(weekly))
        .routes(routes!(range))
}

/// `GET /api/v1/stats/weekly/?start_date=YYYY-MM-DD` → `{start_date, end_date, daily_data×7,
/// averages}`; averages divide by 7.
#[utoipa::path(
    get,
    path = "/api/v1/stats/weekly/",
    tag = "stats",
    security(("telegram_init_data" = [])),
    params(
        ("start_date" = String, Query, description = "First day of the week, `YYYY-MM-DD`"),
    ),
    responses(
        (status = 200, description = "`{start_date, end_date, daily_data (7 days), averages}`", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/stats/range/",
    tag = "stats",
    security(("telegram_init_data" = [])),
    params(
        ("from" = String, Query, description = "First day, `YYYY-MM-DD`"),
        ("to" = String, Query, description = "Last day, `YYYY-MM-DD` (at most 366 days)"),
    ),
    responses(
        (status = 200, description = "Per-day totals and progress, the goal, days logged, days on goal, adherence, totals, average per logged day", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
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

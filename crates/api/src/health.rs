//! `/livez` (the process answers), `/readyz` (it can do its job), and the original's aliases.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::{AppState, CheckState};

/// The probes and the original's aliases. `/livez` and `/readyz` are also served on the
/// internal port by [`crate::internal_router`].
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(live_alias))
        .routes(routes!(ready_alias))
        .routes(routes!(health))
        .routes(routes!(api_health))
}

/// `GET /livez`: the process answers.
#[utoipa::path(
    get,
    path = "/livez",
    tag = "health",
    responses((status = 200, description = "`{\"status\":\"alive\"}`", body = Value))
)]
pub async fn livez() -> Response {
    (StatusCode::OK, Json(json!({ "status": "alive" }))).into_response()
}

/// Runs every check; returns (overall ready, check states).
pub async fn evaluate(state: &AppState) -> (bool, BTreeMap<&'static str, CheckState>) {
    let mut checks = BTreeMap::new();
    let db = match tokio::time::timeout(Duration::from_secs(2), state.db().ping()).await {
        Ok(Ok(())) => CheckState::Ok,
        Ok(Err(_)) => CheckState::Failing("error"),
        Err(_) => CheckState::Failing("timeout"),
    };
    checks.insert("database", db);

    let jobs = if db == CheckState::Ok {
        match jobs::worker::heartbeat_ages(state.db(), state.now()).await {
            Ok(mut ages) => {
                // Without a bot token nothing can send Telegram messages and workers leave the
                // notify queue alone (deliveries wait); that is "not configured", reported by
                // the telegram check, not a missing worker.
                if state.settings().bot_token.is_none() {
                    ages.remove(&jobs::Queue::Notify);
                }
                let max = state.settings().heartbeat_max_age.as_secs() as i64;
                if ages.values().any(|a| a.is_none()) {
                    CheckState::Failing("no_worker")
                } else if ages.values().any(|a| a.is_some_and(|a| a > max)) {
                    CheckState::Failing("stale")
                } else {
                    CheckState::Ok
                }
            }
            Err(_) => CheckState::Failing("error"),
        }
    } else {
        CheckState::Failing("unknown")
    };
    checks.insert("jobs", jobs);

    for check in &state.0.checks {
        let s = match tokio::time::timeout(Duration::from_secs(3), check.check()).await {
            Ok(s) => s,
            Err(_) => CheckState::Failing("timeout"),
        };
        checks.insert(check.name(), s);
    }
    let ready = checks
        .values()
        .all(|s| !matches!(s, CheckState::Failing(_)));
    (ready, checks)
}

/// `GET /readyz`: every dependency the service needs answers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "`{status: ready|degraded, checks: {name: state}}`", body = Value),
        (status = 503, description = "`{status: not_ready, checks}`: a check is failing", body = Value),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let (ready, checks) = evaluate(&state).await;
    let degraded = checks.values().any(|s| *s == CheckState::NotConfigured);
    let status = match (ready, degraded) {
        (false, _) => "not_ready",
        (true, true) => "degraded",
        (true, false) => "ready",
    };
    let body = json!({
        "status": status,
        "checks": checks.iter().map(|(k, v)| (k.to_string(), v.as_str())).collect::<BTreeMap<_, _>>(),
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

/// `GET /live/`: the original's alias of `/livez`.
#[utoipa::path(
    get,
    path = "/live/",
    tag = "health",
    responses((status = 200, description = "`{\"status\":\"alive\"}`", body = Value))
)]
async fn live_alias() -> Response {
    livez().await
}

/// `GET /ready/`: the original's alias of `/readyz`.
#[utoipa::path(
    get,
    path = "/ready/",
    tag = "health",
    responses(
        (status = 200, description = "Ready (or degraded)", body = Value),
        (status = 503, description = "Not ready", body = Value),
    )
)]
async fn ready_alias(state: State<AppState>) -> Response {
    readyz(state).await
}

/// `GET /api/v1/health/`: the same as `/health/` under the API prefix.
#[utoipa::path(
    get,
    path = "/api/v1/health/",
    tag = "health",
    responses(
        (status = 200, description = "`{status: ok, version, app_env, timestamp, checks}`", body = Value),
        (status = 503, description = "`{status: error, …}`: a check is failing", body = Value),
    )
)]
async fn api_health(state: State<AppState>) -> Response {
    health(state).await
}

/// The original's `/health/`: version, env and named checks (no exception text).
#[utoipa::path(
    get,
    path = "/health/",
    tag = "health",
    responses(
        (status = 200, description = "`{status: ok, version, app_env, timestamp, checks}`", body = Value),
        (status = 503, description = "`{status: error, …}`: a check is failing", body = Value),
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let (ready, checks) = evaluate(&state).await;
    let body = json!({
        "status": if ready { "ok" } else { "error" },
        "version": state.settings().version,
        "app_env": state.settings().app_env,
        "timestamp": state.now().timestamp(),
        "checks": checks.iter().map(|(k, v)| (k.to_string(), v.as_str())).collect::<BTreeMap<_, _>>(),
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

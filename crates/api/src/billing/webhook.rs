//! `POST /api/v1/billing/webhooks/yookassa` (with and without the trailing slash): accept
//! fast, persist, process as a job (see `billing::webhooks`). No throttle (B17): authenticity
//! comes from re-fetching every object from the API, and a 429 would only delay YooKassa's
//! retries.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::envelope_raw;
use crate::openapi::ErrorEnvelope;
use crate::request_id::current_trace_id;
use crate::state::AppState;

/// The largest notification body accepted.
const MAX_WEBHOOK_BYTES: usize = 256 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(yookassa))
        .routes(routes!(yookassa_slash))
}

/// `POST /api/v1/billing/webhooks/yookassa`.
#[utoipa::path(
    post,
    path = "/api/v1/billing/webhooks/yookassa",
    tag = "billing",
    request_body(content = serde_json::Value, description = "A YooKassa notification `{type, event, object}`; only `event` and `object.id` are used — the object is re-fetched from the YooKassa API", content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}`: accepted (new or repeated delivery)", body = serde_json::Value),
        (status = 400, description = "`INVALID_JSON` (not a JSON object) or `INVALID_PAYLOAD` (no event or object.id)", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`: the sender is outside YOOKASSA_WEBHOOK_ALLOWED_CIDRS (recorded for audit)", body = ErrorEnvelope),
        (status = 503, description = "`BILLING_NOT_CONFIGURED`", body = ErrorEnvelope),
    )
)]
async fn yookassa(State(state): State<AppState>, req: Request) -> Response {
    handle(state, req).await
}

/// `POST /api/v1/billing/webhooks/yookassa/` (the URL the original's docs named).
#[utoipa::path(
    post,
    path = "/api/v1/billing/webhooks/yookassa/",
    tag = "billing",
    request_body(content = serde_json::Value, description = "Same as without the slash", content_type = "application/json"),
    responses(
        (status = 200, description = "`{\"status\":\"ok\"}`", body = serde_json::Value),
        (status = 400, description = "`INVALID_JSON` or `INVALID_PAYLOAD`", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`", body = ErrorEnvelope),
        (status = 503, description = "`BILLING_NOT_CONFIGURED`", body = ErrorEnvelope),
    )
)]
async fn yookassa_slash(State(state): State<AppState>, req: Request) -> Response {
    handle(state, req).await
}

async fn handle(state: AppState, req: Request) -> Response {
    let Some(b) = state.billing() else {
        return envelope_raw(
            503,
            "BILLING_NOT_CONFIGURED",
            "YooKassa is not configured".into(),
            json!({}),
        );
    };
    let peer: IpAddr = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let forwarded: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect();
    let body = match axum::body::to_bytes(req.into_body(), MAX_WEBHOOK_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return envelope_raw(
                400,
                "INVALID_PAYLOAD",
                "Body too large or unreadable".into(),
                json!({}),
            );
        }
    };
    let hops: Vec<&str> = forwarded.iter().map(String::as_str).collect();
    let trace_id = current_trace_id();
    match billing::webhooks::intake(b, peer, &hops, &body, &trace_id).await {
        Ok(_) => Json(json!({"status": "ok"})).into_response(),
        Err(e) => {
            if let billing::webhooks::IntakeError::Store(m) = &e {
                tracing::error!(error = %m, "webhook could not be stored; YooKassa will retry");
            }
            let message = match &e {
                billing::webhooks::IntakeError::InvalidJson => "Expected JSON object".to_string(),
                billing::webhooks::IntakeError::InvalidPayload => {
                    "Missing required fields".to_string()
                }
                billing::webhooks::IntakeError::Forbidden(_) => "Forbidden".to_string(),
                billing::webhooks::IntakeError::NotConfigured => {
                    "YooKassa is not configured".to_string()
                }
                billing::webhooks::IntakeError::Store(_) => "Internal error".to_string(),
            };
            envelope_raw(e.http_status(), e.code(), message, json!({}))
        }
    }
}

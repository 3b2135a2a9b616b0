//! HTTP layer of EatFit24: routing, extraction and the mapping of errors to responses. It calls
//! services that know nothing about HTTP.

#![forbid(unsafe_code)]

pub mod ai;
pub mod auth;
pub mod billing;
pub mod bot_api;
pub mod coach;
pub mod error;
pub mod goals;
pub mod health;
pub mod identity;
pub mod meals;
pub mod openapi;
mod openapi_viewer;
pub mod profile;
pub mod request_id;
pub mod state;
pub mod stats;
pub mod telegram;
pub mod views;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::error::ErrorCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use error::{ApiError, ApiResult};
pub use state::{ApiSettings, AppState, CheckState, NotConfigured, ReadinessCheck};

/// The largest request body accepted anywhere (photo uploads set their own, smaller caps).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Marks the answers of the router's own fallbacks (no such route, no such method), so that a
/// test can tell them from a handler's 404 or 405.
pub const ROUTE_FALLBACK_HEADER: &str = "x-route-fallback";

fn from_fallback(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        ROUTE_FALLBACK_HEADER,
        axum::http::HeaderValue::from_static("1"),
    );
    resp
}

async fn not_found() -> Response {
    from_fallback(ApiError::new(ErrorCode::NotFound).into_response())
}

async fn method_not_allowed() -> Response {
    from_fallback(ApiError::new(ErrorCode::MethodNotAllowed).into_response())
}

/// The safety net behind "one envelope for every error": framework rejections (a body over the
/// limit, malformed JSON, a wrong content type) answer in plain text; this turns any error
/// response that is not JSON into the general envelope, keeping its status and headers.
async fn ensure_envelope(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return resp;
    }
    let code = match status.as_u16() {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        409 => ErrorCode::Conflict,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::ValidationError,
        429 => ErrorCode::TooManyRequests,
        503 => ErrorCode::ServiceUnavailable,
        _ => ErrorCode::InternalError,
    };
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&text).trim().to_string();
    let message = if code == ErrorCode::InternalError || detail.is_empty() {
        code.default_message(domain::error::Locale::Ru).to_string()
    } else {
        detail
    };
    let envelope = error::envelope(code, message, serde_json::json!({}));
    let (_, new_body) = envelope.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, new_body)
}

/// Every documented route with its operation: the public router's routes and the OpenAPI
/// document are both split from this (see [`openapi`]). A feature adds its module here.
pub(crate) fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .merge(telegram::routes())
        .merge(profile::routes())
        .merge(goals::routes())
        .merge(meals::routes())
        .merge(stats::routes())
        .merge(coach::routes())
        .merge(bot_api::routes())
        .merge(ai::routes())
        .merge(billing::routes())
        .merge(openapi::routes())
}

/// The public router: health, API, the schema (and its viewer in dev).
pub fn router(state: AppState) -> Router {
    let (mut routes, _) = documented_routes().split_for_parts();
    if state.settings().app_env == "dev" {
        // Not an API operation, so not in the document. Prod answers 404: a basic-auth gate
        // would need credentials in the configuration, which it does not have yet.
        routes = routes.route(openapi_viewer::PATH, get(openapi_viewer::viewer));
    }
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(ensure_envelope))
        .layer(axum::middleware::from_fn(request_id::layer))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(serde_json::json!({
                "error": {"code": "INTERNAL_ERROR", "message": ErrorCode::InternalError.default_message(domain::error::Locale::Ru), "details": {}}
            })))
                .into_response()
        }))
        .with_state(state)
}

/// The internal router: Prometheus metrics plus liveness and readiness for every role.
pub fn internal_router(
    state: AppState,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move { m.render() }
            }),
        )
        .route("/livez", get(health::livez))
        .route("/readyz", get(health::readyz))
        .with_state(state)
}

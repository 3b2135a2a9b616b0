//! The OpenAPI 3.1 document of the public router, served at `GET /api/v1/schema/`.
//!
//! Why `utoipa` + `utoipa-axum`: every public route is registered as
//! `OpenApiRouter::routes(routes!(handler))`, which takes the path and the methods from the
//! handler's own `#[utoipa::path(...)]`. A handler without that attribute does not compile
//! there, so the router cannot serve an operation the document lacks, and the document cannot
//! name a path the router does not route (both are built from the same attribute). The one
//! remaining back door, a plain `.route(…)`, is counted by `tests/openapi.rs`, which also calls
//! every documented operation through the real router. A hand-written route table would have
//! repeated each path in two places; utoipa-axum 0.3 targets axum 0.8 and utoipa 6 emits 3.1.
//!
//! Bodies: the handlers build their JSON by hand (`json!`), so most request and response bodies
//! are documented as free-form JSON (`serde_json::Value`) with a description of the fields;
//! every error is the shared [`ErrorEnvelope`] schema.
//!
//! Keeping the committed copy in sync: `docs/openapi.json` must equal the served document;
//! regenerate it with `EATFIT_WRITE_OPENAPI=1 cargo test -p api --test openapi`.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The document's fixed parts: info, tags, the error schema and the security schemes. Paths
/// come from the routers of the feature modules (see [`crate::router`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "EatFit24 API",
        license(name = "UNLICENSED"),
        description = "Calorie tracker for Telegram. Wire-compatible with the original under \
            `/api/v1/…` (paths keep their trailing slashes). Every non-AI error is \
            `{\"error\":{\"code\",\"message\",\"details\"}}`. Mini App calls authenticate with \
            signed Telegram initData in `X-Telegram-Init-Data`; the bot with `X-Bot-Secret`."
    ),
    components(schemas(ErrorEnvelope, ErrorBody)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness, readiness and the original's health check"),
        (name = "auth", description = "Mini App login with Telegram initData"),
        (name = "profile", description = "The user's profile, avatar, account and media files"),
        (name = "goals", description = "Daily calorie and macro goals"),
        (name = "weights", description = "The weight log"),
        (name = "meals", description = "The diary: meals, food items, copying, export"),
        (name = "stats", description = "Weekly and range statistics in the user's time zone"),
        (name = "coach", description = "The coach panel (admins only)"),
        (name = "bot", description = "Endpoints the Telegram bot calls with X-Bot-Secret"),
        (name = "billing", description = "Plans, subscription, payments (YooKassa) and its webhook"),
        (name = "schema", description = "This document"),
    )
)]
pub struct ApiDoc;

/// The general error envelope every non-AI error answers with.
#[derive(ToSchema)]
#[schema(example = json!({"error": {"code": "NOT_FOUND", "message": "Не найдено.", "details": {}}}))]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

/// The inside of the error envelope.
#[derive(ToSchema)]
pub struct ErrorBody {
    /// A stable machine code: `BAD_REQUEST`, `VALIDATION_ERROR`, `UNAUTHORIZED`, `FORBIDDEN`,
    /// `NOT_FOUND`, `METHOD_NOT_ALLOWED`, `CONFLICT`, `PAYLOAD_TOO_LARGE`,
    /// `UNSUPPORTED_MEDIA_TYPE`, `TOO_MANY_REQUESTS`, `INTERNAL_ERROR`, `SERVICE_UNAVAILABLE`.
    pub code: String,
    /// A message for people (Russian first).
    pub message: String,
    /// Validation: field → list of messages; otherwise an object, often empty.
    pub details: Value,
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "telegram_init_data",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Telegram-Init-Data",
                "The Mini App's signed `Telegram.WebApp.initData`, verbatim (24 h window; \
                 30 minutes for the coach panel).",
            ))),
        );
        components.add_security_scheme(
            "bot_secret",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Bot-Secret",
                "The shared secret of the Telegram bot.",
            ))),
        );
    }
}

/// The schema endpoint itself (documented like any other route).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(schema))
}

/// `GET /api/v1/schema/`: this document.
#[utoipa::path(
    get,
    path = "/api/v1/schema/",
    tag = "schema",
    responses((status = 200, description = "The OpenAPI 3.1 document (JSON)", body = Value))
)]
async fn schema() -> Response {
    let mut resp = document_json().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// The finished document: the collected paths plus the fixed parts, with axum's wildcard
/// segments (`{*key}`) written as OpenAPI path parameters (`{key}`).
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = crate::documented_routes().split_for_parts();
    let paths = std::mem::take(&mut doc.paths.paths);
    for (path, item) in paths {
        doc.paths.paths.insert(path.replace("{*", "{"), item);
    }
    doc
}

/// The document as served and committed: pretty-printed JSON with sorted keys, built once.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // Through `Value` so that every object's keys come out sorted, whatever the order
        // the types serialise in.
        let value = serde_json::to_value(document()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "OpenAPI document does not serialise");
            Value::Null
        });
        let mut text = serde_json::to_string_pretty(&sort_keys(value)).unwrap_or_default();
        text.push('\n');
        text
    })
}

fn sort_keys(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

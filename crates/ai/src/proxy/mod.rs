//! The AI proxy HTTP service: `POST /api/v1/ai/recognize-food`, `GET /v1/auth-check`,
//! `GET /health`, `GET /livez`, `GET /readyz`.
//!
//! Differences from the original (reference/ai-pipeline.md §5), all deliberate:
//! * a missing `X-API-Key` is **401** (FastAPI said 422), with the original's body
//!   `{"detail":"Invalid or missing API key"}`; keys are a set with ids (`X-Key-Id` optional);
//! * the image type comes from magic bytes, not the part's content type; WEBP is accepted,
//!   HEIC/AVIF/GIF are `UNSUPPORTED_IMAGE_FORMAT`, non-images `INVALID_IMAGE`, undecodable
//!   images `IMAGE_DECODE_FAILED`; every photo is normalised (≤ 1024 px JPEG) before the
//!   provider sees it;
//! * a missing `image` field is `INVALID_IMAGE` 400 (not 422);
//! * upstream errors are classified from typed causes (timeouts are `UPSTREAM_TIMEOUT` for
//!   every stage; an upstream 401/403 is `AI_SERVICE_MISCONFIGURED` 503, non-retryable);
//! * the work honours `X-Request-Deadline` (unix ms; default 30 s, capped at 120 s);
//! * the trace id (`X-Request-ID`, or `X-Trace-Id`) is echoed in both headers.

mod keys;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::multipart::{Field, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use domain::error::{AiErrorCode, Locale};
use serde_json::json;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::Instrument;

pub use keys::{DEFAULT_KEY_ID, KeySet, KeySetError};

use crate::contract::{
    self, AUTH_CHECK_PATH, ErrorBody, FIELD_IMAGE, FIELD_LOCALE, FIELD_USER_COMMENT,
    RECOGNIZE_PATH, UNAUTHORIZED_DETAIL, headers as h,
};
use crate::deadline::Deadline;
use crate::pipeline::Engine;
use crate::provider::ProbeState;

/// Settings of the HTTP layer.
#[derive(Debug, Clone, Copy)]
pub struct ProxySettings {
    /// Budget when the caller sends no `X-Request-Deadline`.
    pub default_deadline: Duration,
    /// Longest budget a caller may ask for.
    pub max_deadline: Duration,
    /// How long a successful provider probe is trusted by `/readyz`.
    pub readiness_ttl: Duration,
    /// How long a failed provider probe is trusted by `/readyz`.
    pub readiness_failure_ttl: Duration,
    /// Timeout of one provider probe.
    pub probe_timeout: Duration,
}

impl Default for ProxySettings {
    fn default() -> Self {
        Self {
            default_deadline: Duration::from_secs(30),
            max_deadline: Duration::from_secs(120),
            readiness_ttl: Duration::from_secs(300),
            readiness_failure_ttl: Duration::from_secs(15),
            probe_timeout: Duration::from_secs(5),
        }
    }
}

/// Shared state of the proxy router.
#[derive(Clone, Debug)]
pub struct ProxyState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    engine: Arc<Engine>,
    keys: KeySet,
    settings: ProxySettings,
    readiness: Mutex<Option<(Instant, ProbeState)>>,
}

impl ProxyState {
    /// State for [`router`].
    #[must_use]
    pub fn new(engine: Arc<Engine>, keys: KeySet, settings: ProxySettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                engine,
                keys,
                settings,
                readiness: Mutex::new(None),
            }),
        }
    }

    /// The engine.
    #[must_use]
    pub fn engine(&self) -> &Arc<Engine> {
        &self.inner.engine
    }

    /// The provider probe, cached (success for `readiness_ttl`, failure for
    /// `readiness_failure_ttl`).
    pub async fn provider_state(&self) -> ProbeState {
        let s = &self.inner.settings;
        let mut cached = self.inner.readiness.lock().await;
        if let Some((at, state)) = *cached {
            let ttl = if state == ProbeState::Ok {
                s.readiness_ttl
            } else {
                s.readiness_failure_ttl
            };
            if at.elapsed() < ttl {
                return state;
            }
        }
        let state = self.inner.engine.provider().probe(s.probe_timeout).await;
        if state != ProbeState::Ok {
            tracing::error!(
                callee = "llm",
                outcome = state.as_str(),
                "provider readiness probe failed: check OPENROUTER_BASE_URL, OPENROUTER_API_KEY and OPENROUTER_MODEL"
            );
        }
        *cached = Some((Instant::now(), state));
        state
    }
}

/// The proxy's routes.
pub fn router(state: ProxyState) -> Router {
    let body_limit = state.inner.engine.config().max_image_bytes + 1024 * 1024;
    Router::new()
        .route(RECOGNIZE_PATH, post(recognize))
        .route(AUTH_CHECK_PATH, get(auth_check))
        .route("/health", get(health))
        .route("/livez", get(health))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn(trace_layer))
        .with_state(state)
}

/// The request's trace id.
#[derive(Debug, Clone)]
pub struct TraceId(pub String);

fn sane_trace(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn trace_layer(mut req: Request, next: Next) -> Response {
    let trace = req
        .headers()
        .get(h::REQUEST_ID)
        .or_else(|| req.headers().get(h::TRACE_ID))
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane_trace(v))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    req.extensions_mut().insert(TraceId(trace.clone()));
    let span = tracing::info_span!("aiproxy", trace_id = %trace, path = %req.uri().path());
    let mut resp = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&trace) {
        resp.headers_mut().insert(h::REQUEST_ID, v.clone());
        resp.headers_mut().insert(h::TRACE_ID, v);
    }
    resp
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<ProxyState>) -> Response {
    let provider = state.provider_state().await;
    let ready = provider == ProbeState::Ok;
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": {"config": "ok", "provider": provider.as_str()},
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

enum Auth {
    Ok(String),
    Missing,
    Invalid,
}

fn authenticate(state: &ProxyState, headers: &HeaderMap) -> Auth {
    let keys = &state.inner.keys;
    let claimed = headers.get(h::KEY_ID).and_then(|v| v.to_str().ok());
    let claimed_label = match claimed {
        None => "none",
        Some(id) if keys.knows(id) => id,
        Some(_) => "unknown",
    };
    let presented = headers
        .get(h::API_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let Some(presented) = presented else {
        metrics::counter!("aiproxy_auth_failures_total", "reason" => "missing", "key_id" => claimed_label.to_owned())
            .increment(1);
        tracing::warn!(
            reason = "missing",
            key_id = claimed_label,
            "request without X-API-Key rejected"
        );
        return Auth::Missing;
    };
    match keys.verify(presented) {
        Some(id) => {
            if claimed.is_some_and(|c| c != id) {
                tracing::warn!(
                    key_id = id,
                    claimed = claimed_label,
                    "X-Key-Id does not name the key that matched; check the sender's configuration"
                );
            }
            Auth::Ok(id.to_owned())
        }
        None => {
            metrics::counter!("aiproxy_auth_failures_total", "reason" => "invalid", "key_id" => claimed_label.to_owned())
                .increment(1);
            tracing::warn!(
                reason = "invalid",
                key_id = claimed_label,
                "request with a wrong X-API-Key rejected; compare key fingerprints of sender and proxy"
            );
            Auth::Invalid
        }
    }
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"detail": UNAUTHORIZED_DETAIL})),
    )
        .into_response()
}

async fn auth_check(State(state): State<ProxyState>, headers: HeaderMap) -> Response {
    match authenticate(&state, &headers) {
        Auth::Ok(id) => {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert(h::KEY_ID, v);
            }
            resp
        }
        Auth::Missing | Auth::Invalid => unauthorized(),
    }
}

fn error_response(
    code: AiErrorCode,
    locale: Locale,
    trace: &str,
    retry_after: Option<u32>,
) -> Response {
    let def = code.def();
    // Codes meant for the backend's poll results (HTTP 200) never leave the proxy as 200.
    let status = StatusCode::from_u16(def.http_status)
        .ok()
        .filter(|s| s.is_client_error() || s.is_server_error())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let body = ErrorBody::new(code, locale, trace, retry_after);
    let mut resp = (status, Json(body)).into_response();
    if let Some(secs) = retry_after.or(if code == AiErrorCode::RateLimit {
        def.retry_after_sec
    } else {
        None
    }) && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    resp
}

struct Upload {
    image: Option<Vec<u8>>,
    image_too_large: bool,
    comment: Option<String>,
    locale: Option<String>,
}

/// Reads one field in chunks, keeping at most `max` bytes; the rest is drained (bounded by the
/// body limit) so the client still gets our answer.
async fn read_capped(field: &mut Field<'_>, max: usize) -> Result<(Vec<u8>, bool), AiErrorCode> {
    let mut buf = Vec::new();
    let mut over = false;
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if !over && buf.len() + chunk.len() <= max {
                    buf.extend_from_slice(&chunk);
                } else {
                    over = true;
                    buf = Vec::new();
                }
            }
            Ok(None) => return Ok((buf, over)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AiErrorCode::ImageTooLarge);
            }
            Err(_) => return Err(AiErrorCode::InvalidImage),
        }
    }
}

async fn read_upload(mut mp: Multipart, max_image: usize) -> Result<Upload, AiErrorCode> {
    let mut up = Upload {
        image: None,
        image_too_large: false,
        comment: None,
        locale: None,
    };
    loop {
        let mut field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(up),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(AiErrorCode::ImageTooLarge);
            }
            Err(_) => return Err(AiErrorCode::InvalidImage),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            FIELD_IMAGE if up.image.is_none() && !up.image_too_large => {
                let (bytes, over) = read_capped(&mut field, max_image).await?;
                if over {
                    up.image_too_large = true;
                } else {
                    up.image = Some(bytes);
                }
            }
            FIELD_USER_COMMENT | FIELD_LOCALE => {
                // Text fields are small; cap what we keep anyway.
                let (bytes, _) = read_capped(&mut field, 16 * 1024).await?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                if name == FIELD_LOCALE {
                    up.locale = Some(text);
                } else {
                    up.comment = Some(text);
                }
            }
            _ => {
                read_capped(&mut field, 0).await?;
            }
        }
    }
}

fn deadline_from(headers: &HeaderMap, s: &ProxySettings) -> Deadline {
    headers
        .get(h::DEADLINE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or_else(
            || Deadline::after(s.default_deadline),
            |ms| Deadline::from_unix_ms(ms, s.max_deadline),
        )
}

fn finish(started: Instant, resp: Response, error_code: &str) -> Response {
    let status = resp.status().as_u16().to_string();
    metrics::counter!("aiproxy_requests_total", "status" => status, "error_code" => error_code.to_owned())
        .increment(1);
    metrics::histogram!("aiproxy_request_duration_seconds").record(started.elapsed().as_secs_f64());
    resp
}

async fn recognize(
    State(state): State<ProxyState>,
    Extension(TraceId(trace)): Extension<TraceId>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let started = Instant::now();
    let key_id = match authenticate(&state, &headers) {
        Auth::Ok(id) => id,
        Auth::Missing | Auth::Invalid => return finish(started, unauthorized(), ""),
    };
    let settings = &state.inner.settings;
    let deadline = deadline_from(&headers, settings);
    let engine = state.inner.engine.clone();
    let fail = |code: AiErrorCode, locale: Locale, retry_after: Option<u32>, detail: &str| {
        tracing::warn!(trace_id = %trace, key_id = %key_id, error_code = code.as_str(), detail, "recognition failed");
        finish(
            started,
            error_response(code, locale, &trace, retry_after),
            code.as_str(),
        )
    };
    let Ok(multipart) = multipart else {
        return fail(
            AiErrorCode::InvalidImage,
            Locale::Ru,
            None,
            "not a multipart body",
        );
    };
    let upload = match read_upload(multipart, engine.config().max_image_bytes).await {
        Ok(u) => u,
        Err(code) => return fail(code, Locale::Ru, None, "multipart body could not be read"),
    };
    let locale = contract::parse_locale(upload.locale.as_deref());
    if upload.image_too_large {
        return fail(
            AiErrorCode::ImageTooLarge,
            locale,
            None,
            "image over the size cap",
        );
    }
    let Some(image) = upload.image else {
        return fail(AiErrorCode::InvalidImage, locale, None, "no image field");
    };
    if deadline.expired() {
        return fail(
            AiErrorCode::UpstreamTimeout,
            locale,
            None,
            "deadline already passed",
        );
    }
    let comment = upload
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    tracing::info!(
        trace_id = %trace, key_id = %key_id, image_bytes = image.len(),
        has_comment = comment.is_some(), locale = locale.as_str(),
        budget_ms = deadline.remaining().as_millis() as u64, "recognition started"
    );
    // Backstop: the provider honours the deadline itself; this guards everything else.
    let work = engine.recognize_upload(image, comment, locale, deadline, &trace);
    let result = tokio::time::timeout(deadline.remaining() + Duration::from_secs(1), work).await;
    match result {
        Ok(Ok(rec)) => {
            let items = rec.items.len();
            let body = rec.into_body(trace.clone());
            tracing::info!(
                trace_id = %trace, items, kcal = body.result.total.kcal,
                duration_ms = started.elapsed().as_millis() as u64, "recognition succeeded"
            );
            finish(started, (StatusCode::OK, Json(body)).into_response(), "")
        }
        Ok(Err(f)) => fail(f.code, locale, f.retry_after, &f.detail),
        Err(_) => fail(
            AiErrorCode::UpstreamTimeout,
            locale,
            None,
            "deadline backstop fired",
        ),
    }
}

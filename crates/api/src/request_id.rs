//! One trace id per request: taken from `X-Request-ID` (or the legacy `X-Trace-Id`) when the
//! caller sent a sane one, generated otherwise, echoed in the response, carried by the span.

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;
use tracing::Instrument;

tokio::task_local! {
    static TRACE_ID: String;
}

/// The trace id of the request being served ("" outside a request).
pub fn current_trace_id() -> String {
    TRACE_ID.try_with(|t| t.clone()).unwrap_or_default()
}

fn sane(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Middleware: trace id, request span, access log and HTTP metrics.
pub async fn layer(req: Request, next: Next) -> Response {
    let incoming = req
        .headers()
        .get("x-request-id")
        .or_else(|| req.headers().get("x-trace-id"))
        .and_then(|v| v.to_str().ok())
        .filter(|v| sane(v))
        .map(str::to_string);
    let trace_id = incoming.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let span =
        tracing::info_span!("request", trace_id = %trace_id, method = %method, route = %route);
    let started = Instant::now();
    let tid = trace_id.clone();
    let mut resp = TRACE_ID
        .scope(trace_id.clone(), next.run(req).instrument(span.clone()))
        .await;
    let elapsed = started.elapsed();
    if let Ok(v) = HeaderValue::from_str(&tid) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status().as_u16();
    metrics::counter!("eatfit_http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!("eatfit_http_request_duration_seconds", "route" => route.clone())
        .record(elapsed.as_secs_f64());
    let _enter = span.enter();
    let quiet = matches!(
        route.as_str(),
        "/livez" | "/readyz" | "/live/" | "/ready/" | "/health/"
    );
    if quiet {
        tracing::debug!(
            status,
            duration_ms = elapsed.as_millis() as u64,
            "request served"
        );
    } else if status >= 500 {
        tracing::error!(
            status,
            duration_ms = elapsed.as_millis() as u64,
            "request failed"
        );
    } else {
        tracing::info!(
            status,
            duration_ms = elapsed.as_millis() as u64,
            "request served"
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::sane;

    #[test]
    fn only_sane_incoming_ids_are_kept() {
        assert!(sane("abc-123_DEF"));
        assert!(!sane(""));
        assert!(!sane("has space"));
        assert!(!sane(&"a".repeat(65)));
        assert!(!sane("new\nline"));
    }
}

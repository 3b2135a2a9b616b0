//! The backend's side: the [`Recognizer`] trait, its HTTP implementation ([`AiProxyClient`],
//! the proxy's client) and the in-process one ([`InProcess`], for `eatfit serve` with only an
//! LLM key).
//!
//! Reply classification (reference/ai-pipeline.md §3.4, fixed):
//! 1. a JSON object with `error_code` → that code (unknown codes → `UNKNOWN_ERROR`), whatever
//!    the HTTP status;
//! 2. 401/403 → `AI_SERVICE_MISCONFIGURED` (non-retryable; the original said UNKNOWN_ERROR);
//!    404/405 → `AI_SERVICE_MISCONFIGURED` too (wrong `AI_PROXY_URL`);
//! 3. transport timeout, 408, 504 → `AI_TIMEOUT`;
//! 4. 413 → `IMAGE_TOO_LARGE`; 429 → `RATE_LIMIT` (+`Retry-After`); other 4xx → `UNKNOWN_ERROR`;
//! 5. other 5xx, connection errors, a 2xx that is not a readable success → `AI_SERVER_ERROR`;
//! 6. a 2xx success → items read with the original backend adapter's aliases (§3.5), each
//!    re-checked by [`crate::grounding::recheck`]; no usable item → `EMPTY_RESULT`.
//!
//! The client never retries: retries happen in the proxy's provider layer only.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use domain::error::{AiErrorCode, Locale};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use url::Url;

use crate::contract::{
    AUTH_CHECK_PATH, FIELD_IMAGE, FIELD_LOCALE, FIELD_USER_COMMENT, Item, ItemSource,
    MAX_COMMENT_CHARS, RECOGNIZE_PATH, Total, headers as h, number_from_value,
};
use crate::deadline::Deadline;
use crate::grounding::{self, Checks};
use crate::pipeline::Engine;

/// A successful recognition, as the backend stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recognition {
    /// Checked items (never empty).
    pub items: Vec<Item>,
    /// Sums over `items`.
    pub totals: Total,
    /// The gate's verdict (always true for a success).
    pub is_food: bool,
    /// Gate confidence.
    pub confidence: Option<f64>,
    /// Gate reason.
    pub gate_reason: Option<String>,
    /// Model notes.
    pub notes: Option<String>,
    /// Trace id.
    pub trace_id: String,
}

/// How a recognition failed, for the backend's metrics
/// (`eatfit_ai_proxy_requests_total{outcome}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The proxy answered with a catalogue code (not food, low confidence, …).
    Business,
    /// No answer in time.
    Timeout,
    /// Our key was rejected (401/403).
    Auth,
    /// Wrong URL, or the proxy reports its own misconfiguration.
    Config,
    /// 5xx or an unreadable answer.
    Server,
    /// Could not connect.
    Network,
    /// The recognizer does not offer this operation (text on the proxy client).
    Unsupported,
}

impl FailureKind {
    /// Metric label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Business => "business_error",
            FailureKind::Timeout => "timeout",
            FailureKind::Auth => "auth_error",
            FailureKind::Config => "config_error",
            FailureKind::Server => "server_error",
            FailureKind::Network => "network_error",
            FailureKind::Unsupported => "unsupported",
        }
    }
}

/// A failed recognition: a catalogue code, and details for logs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{} ({}): {detail}", code.as_str(), kind.as_str())]
pub struct RecognizeError {
    /// The catalogue code to store on the photo and show.
    pub code: AiErrorCode,
    /// What kind of failure.
    pub kind: FailureKind,
    /// Seconds to wait before retrying, when known.
    pub retry_after: Option<u32>,
    /// The HTTP status, when there was an answer.
    pub http_status: Option<u16>,
    /// The code string as received, when it was not in our catalogue.
    pub raw_code: Option<String>,
    /// For logs only.
    pub detail: String,
}

impl RecognizeError {
    fn new(code: AiErrorCode, kind: FailureKind, detail: impl Into<String>) -> Self {
        Self {
            code,
            kind,
            retry_after: None,
            http_status: None,
            raw_code: None,
            detail: detail.into(),
        }
    }

    /// Whether the user may retry (the catalogue's `allow_retry`).
    #[must_use]
    pub fn allow_retry(&self) -> bool {
        self.code.def().allow_retry
    }
}

/// Recognises a food photo. Implemented by the proxy client and the in-process engine.
#[async_trait]
pub trait Recognizer: Send + Sync {
    /// Recognises `image` (raw upload bytes) before `deadline`.
    async fn recognize(
        &self,
        image: Vec<u8>,
        comment: Option<String>,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognition, RecognizeError>;

    /// Whether [`Recognizer::recognize_text`] is implemented (the backend parses text offline
    /// otherwise, without calling it).
    fn supports_text(&self) -> bool {
        false
    }

    /// Items from a free-text meal description before `deadline`. The default answers
    /// `AI_NOT_CONFIGURED` / [`FailureKind::Unsupported`]: the proxy has no text endpoint, so a
    /// backend behind a remote proxy ([`AiProxyClient`]) parses text offline; [`InProcess`]
    /// implements it.
    async fn recognize_text(
        &self,
        text: String,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognition, RecognizeError> {
        let _ = (text, locale, deadline, trace_id);
        Err(RecognizeError::new(
            AiErrorCode::AiNotConfigured,
            FailureKind::Unsupported,
            "this recognizer has no text path",
        ))
    }
}

/// Could not build the client.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the AI proxy client: {0}")]
pub struct ClientInitError(String);

/// Extra time the client waits past the deadline for the proxy's own timeout answer.
const DEADLINE_GRACE: Duration = Duration::from_secs(2);

/// The backend's client of the AI proxy.
#[derive(Debug, Clone)]
pub struct AiProxyClient {
    http: reqwest::Client,
    recognize_url: Url,
    auth_check_url: Url,
    secret: SecretString,
    key_id: Option<String>,
    http_timeout: Duration,
}

impl AiProxyClient {
    /// A client for the proxy at `base_url`, sending `secret` (and `key_id`). `http_timeout`
    /// caps one request; the deadline usually ends it earlier.
    pub fn new(
        base_url: Url,
        secret: SecretString,
        key_id: Option<String>,
        http_timeout: Duration,
    ) -> Result<Self, ClientInitError> {
        Self::with_root_certificates(base_url, secret, key_id, http_timeout, &[])
    }

    /// As [`AiProxyClient::new`], also trusting `roots` (e.g. the private CA that signed the
    /// proxy's certificate) on top of the built-in web roots.
    pub fn with_root_certificates(
        base_url: Url,
        secret: SecretString,
        key_id: Option<String>,
        http_timeout: Duration,
        roots: &[reqwest::Certificate],
    ) -> Result<Self, ClientInitError> {
        let join = |p: &str| base_url.join(p).map_err(|e| ClientInitError(e.to_string()));
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("eatfit24-backend/", env!("CARGO_PKG_VERSION")));
        for root in roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let http = builder
            .build()
            .map_err(|e| ClientInitError(e.to_string()))?;
        Ok(Self {
            http,
            recognize_url: join(RECOGNIZE_PATH)?,
            auth_check_url: join(AUTH_CHECK_PATH)?,
            secret,
            key_id: key_id.filter(|k| !k.trim().is_empty()),
            http_timeout,
        })
    }

    fn auth(&self, rb: reqwest::RequestBuilder, trace_id: &str) -> reqwest::RequestBuilder {
        let mut rb = rb
            .header(h::API_KEY, self.secret.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(id) = &self.key_id {
            rb = rb.header(h::KEY_ID, id);
        }
        if !trace_id.is_empty() {
            rb = rb
                .header(h::REQUEST_ID, trace_id)
                .header(h::TRACE_ID, trace_id);
        }
        rb
    }

    /// `GET /v1/auth-check`: the id of our key when the proxy accepts it.
    pub async fn auth_check(&self, timeout: Duration) -> Result<String, RecognizeError> {
        let trace = uuid::Uuid::new_v4().simple().to_string();
        let rb = self.auth(self.http.get(self.auth_check_url.clone()), &trace);
        let resp = rb
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        let status = resp.status().as_u16();
        match status {
            200..=299 => Ok(resp
                .headers()
                .get(h::KEY_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()),
            _ => {
                let bytes = resp.bytes().await.unwrap_or_default();
                Err(classify_error(status, None, &bytes))
            }
        }
    }
}

fn transport_error(e: &reqwest::Error) -> RecognizeError {
    if e.is_timeout() {
        RecognizeError::new(
            AiErrorCode::AiTimeout,
            FailureKind::Timeout,
            "AI proxy timed out",
        )
    } else {
        RecognizeError::new(
            AiErrorCode::AiServerError,
            FailureKind::Network,
            format!(
                "AI proxy unreachable ({})",
                if e.is_connect() {
                    "connect"
                } else {
                    "transport"
                }
            ),
        )
    }
}

#[async_trait]
impl Recognizer for AiProxyClient {
    async fn recognize(
        &self,
        image: Vec<u8>,
        comment: Option<String>,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognition, RecognizeError> {
        if deadline.expired() {
            return Err(RecognizeError::new(
                AiErrorCode::AiTimeout,
                FailureKind::Timeout,
                "deadline passed before the AI proxy was called",
            ));
        }
        let timeout = self.http_timeout.min(deadline.remaining() + DEADLINE_GRACE);
        let mime = imaging::sniff(&image).map_or("application/octet-stream", |f| f.mime());
        let file_name = format!(
            "image.{}",
            imaging::sniff(&image).map_or("bin", |f| f.extension())
        );
        let part = reqwest::multipart::Part::bytes(image)
            .file_name(file_name)
            .mime_str(mime)
            .map_err(|e| {
                RecognizeError::new(
                    AiErrorCode::UnknownError,
                    FailureKind::Config,
                    e.to_string(),
                )
            })?;
        let mut form = reqwest::multipart::Form::new()
            .part(FIELD_IMAGE, part)
            .text(FIELD_LOCALE, locale.as_str());
        if let Some(c) = comment.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            let capped: String = c.chars().take(MAX_COMMENT_CHARS).collect();
            form = form.text(FIELD_USER_COMMENT, capped);
        }
        let rb = self
            .auth(self.http.post(self.recognize_url.clone()), trace_id)
            .header(h::DEADLINE, deadline.to_unix_ms().to_string())
            .timeout(timeout)
            .multipart(form);
        let started = tokio::time::Instant::now();
        let resp = rb.send().await.map_err(|e| transport_error(&e));
        let result = match resp {
            Err(e) => Err(e),
            Ok(resp) => {
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match resp.bytes().await {
                    Ok(body) => classify_reply(status, retry_after, &body, trace_id),
                    Err(e) => Err(transport_error(&e)),
                }
            }
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(r) => tracing::info!(
                callee = "ai_proxy",
                attempt = 1,
                duration_ms,
                outcome = "ok",
                trace_id,
                items = r.items.len(),
                "AI proxy call finished"
            ),
            Err(e) => tracing::warn!(
                callee = "ai_proxy", attempt = 1, duration_ms, outcome = e.kind.as_str(),
                error_code = e.code.as_str(), http_status = e.http_status, trace_id,
                detail = %e.detail, "AI proxy call failed"
            ),
        }
        result
    }
}

/// Classifies a proxy reply (status, `Retry-After`, body) — the rules in the module docs.
pub fn classify_reply(
    status: u16,
    retry_after: Option<u32>,
    body: &[u8],
    trace_id: &str,
) -> Result<Recognition, RecognizeError> {
    let json = serde_json::from_slice::<Value>(body).ok();
    let obj = json.as_ref().and_then(Value::as_object);
    if obj.is_some_and(|o| error_code_of(o).is_some()) || !(200..300).contains(&status) {
        return Err(classify_error(status, retry_after, body));
    }
    let Some(obj) = obj else {
        return Err(with_status(
            RecognizeError::new(
                AiErrorCode::AiServerError,
                FailureKind::Server,
                "2xx reply is not a JSON object",
            ),
            status,
        ));
    };
    if obj.get("status").and_then(Value::as_str) == Some("error") {
        return Err(with_status(
            RecognizeError::new(
                AiErrorCode::UnknownError,
                FailureKind::Business,
                "error reply without error_code",
            ),
            status,
        ));
    }
    adapt_success(obj, trace_id).map_err(|e| with_status(e, status))
}

fn with_status(mut e: RecognizeError, status: u16) -> RecognizeError {
    e.http_status = Some(status);
    e
}

fn error_code_of(o: &Map<String, Value>) -> Option<&str> {
    o.get("error_code")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|c| !c.is_empty())
}

/// A non-success reply.
fn classify_error(status: u16, retry_after: Option<u32>, body: &[u8]) -> RecognizeError {
    let json = serde_json::from_slice::<Value>(body).ok();
    if let Some(o) = json.as_ref().and_then(Value::as_object)
        && let Some(raw) = error_code_of(o)
    {
        let parsed = AiErrorCode::parse(raw);
        let code = parsed.unwrap_or(AiErrorCode::UnknownError);
        let kind = if code == AiErrorCode::AiServiceMisconfigured {
            FailureKind::Config
        } else {
            FailureKind::Business
        };
        let ra = o
            .get("retry_after_sec")
            .and_then(number_from_value)
            .and_then(|v| (v >= 0.0 && v < f64::from(u32::MAX)).then_some(v as u32))
            .or(retry_after);
        return RecognizeError {
            code,
            kind,
            retry_after: ra,
            http_status: Some(status),
            raw_code: parsed.is_none().then(|| raw.to_owned()),
            detail: format!("AI proxy answered {raw} (HTTP {status})"),
        };
    }
    let (code, kind) = match status {
        401 | 403 => (AiErrorCode::AiServiceMisconfigured, FailureKind::Auth),
        404 | 405 => (AiErrorCode::AiServiceMisconfigured, FailureKind::Config),
        408 | 504 => (AiErrorCode::AiTimeout, FailureKind::Timeout),
        413 => (AiErrorCode::ImageTooLarge, FailureKind::Business),
        429 => (AiErrorCode::RateLimit, FailureKind::Business),
        400..=499 => (AiErrorCode::UnknownError, FailureKind::Business),
        _ => (AiErrorCode::AiServerError, FailureKind::Server),
    };
    RecognizeError {
        code,
        kind,
        retry_after: if status == 429 { retry_after } else { None },
        http_status: Some(status),
        raw_code: None,
        detail: format!("AI proxy answered HTTP {status} without an error code"),
    }
}

fn first<'a>(m: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| m.get(*k)).find(|v| !v.is_null())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn num(m: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    keys.iter()
        .filter_map(|k| m.get(*k))
        .find_map(number_from_value)
}

/// The original backend adapter's rules (§3.5): unwrap `result` when it is an object, else
/// read the root (legacy flat shape); first present alias wins.
fn adapt_success(root: &Map<String, Value>, trace_id: &str) -> Result<Recognition, RecognizeError> {
    let inner = root
        .get("result")
        .and_then(Value::as_object)
        .unwrap_or(root);
    let checks = Checks::default();
    let mut items = Vec::new();
    let mut dropped = 0usize;
    if let Some(list) = inner.get("items").and_then(Value::as_array) {
        for m in list.iter().filter_map(Value::as_object) {
            let item = Item {
                name: text(first(
                    m,
                    &["food_name_ru", "name", "name_ru", "title", "food_name_en"],
                ))
                .unwrap_or_default(),
                name_en: text(first(m, &["name_en", "food_name_en"])),
                grams: num(
                    m,
                    &["grams", "amount_grams", "portion_weight_g", "weight_g"],
                )
                .unwrap_or(f64::NAN),
                kcal: num(m, &["kcal", "calories"]).unwrap_or(0.0),
                protein: num(m, &["protein", "protein_g"]).unwrap_or(0.0),
                fat: num(m, &["fat", "fat_g"]).unwrap_or(0.0),
                carbohydrates: num(m, &["carbohydrates", "carbs", "carbs_g"]).unwrap_or(0.0),
                confidence: num(m, &["confidence"]),
                grounded: m.get("grounded").and_then(Value::as_bool).unwrap_or(false),
                source: match m.get("source").and_then(Value::as_str) {
                    Some("table") => ItemSource::Table,
                    _ => ItemSource::Model,
                },
                adjustments: m
                    .get("adjustments")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            match grounding::recheck(item, &checks) {
                Ok(i) => items.push(i),
                Err(_) => dropped += 1,
            }
        }
    }
    let is_food = root.get("is_food").and_then(Value::as_bool).unwrap_or(true);
    if items.is_empty() {
        let code = if is_food {
            AiErrorCode::EmptyResult
        } else {
            AiErrorCode::UnsupportedContent
        };
        return Err(RecognizeError::new(
            code,
            FailureKind::Business,
            format!("success reply without usable items ({dropped} dropped)"),
        ));
    }
    let totals = Total::of(&items);
    Ok(Recognition {
        items,
        totals,
        is_food,
        confidence: num(root, &["confidence", "gate_confidence"]),
        gate_reason: text(root.get("gate_reason")),
        notes: text(inner.get("model_notes")).or_else(|| text(root.get("model_notes"))),
        trace_id: text(root.get("trace_id")).unwrap_or_else(|| trace_id.to_owned()),
    })
}

/// The in-process recognizer: the same pipeline as the proxy, no HTTP hop.
#[derive(Debug, Clone)]
pub struct InProcess {
    engine: Arc<Engine>,
}

impl InProcess {
    /// Wraps an engine.
    #[must_use]
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }
}

#[async_trait]
impl Recognizer for InProcess {
    async fn recognize(
        &self,
        image: Vec<u8>,
        comment: Option<String>,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognition, RecognizeError> {
        let comment = comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
        self.engine
            .recognize_upload(image, comment, locale, deadline, trace_id)
            .await
            .map(|r| r.into_recognition(trace_id))
            .map_err(RecognizeError::from)
    }

    fn supports_text(&self) -> bool {
        true
    }

    async fn recognize_text(
        &self,
        text: String,
        locale: Locale,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Recognition, RecognizeError> {
        self.engine
            .recognize_text(&text, locale, deadline, trace_id)
            .await
            .map(|r| r.into_recognition(trace_id))
            .map_err(RecognizeError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn error_code_wins_over_status() {
        for status in [200, 400, 413, 429, 502, 504] {
            let e = classify_reply(
                status,
                None,
                &body(json!({"error_code": "LOW_CONFIDENCE"})),
                "t",
            )
            .unwrap_err();
            assert_eq!(e.code, AiErrorCode::LowConfidence, "{status}");
            assert_eq!(e.kind, FailureKind::Business);
        }
    }

    #[test]
    fn statuses_without_code() {
        let c = |s| classify_reply(s, Some(9), b"", "t").unwrap_err();
        assert_eq!(c(401).code, AiErrorCode::AiServiceMisconfigured);
        assert_eq!(c(401).kind, FailureKind::Auth);
        assert!(!c(403).allow_retry());
        assert_eq!(c(404).code, AiErrorCode::AiServiceMisconfigured);
        assert_eq!(c(422).code, AiErrorCode::UnknownError);
        assert_eq!(c(429).code, AiErrorCode::RateLimit);
        assert_eq!(c(429).retry_after, Some(9));
        assert_eq!(c(500).code, AiErrorCode::AiServerError);
        assert_eq!(c(502).code, AiErrorCode::AiServerError);
        assert_eq!(c(504).code, AiErrorCode::AiTimeout);
        assert_eq!(c(413).code, AiErrorCode::ImageTooLarge);
    }

    #[test]
    fn unknown_codes_fall_back_and_keep_the_raw_code() {
        let e = classify_reply(400, None, &body(json!({"error_code": "BLURRY"})), "t").unwrap_err();
        assert_eq!(e.code, AiErrorCode::UnknownError);
        assert_eq!(e.raw_code.as_deref(), Some("BLURRY"));
    }

    #[test]
    fn odd_success_bodies() {
        assert_eq!(
            classify_reply(200, None, b"[]", "t").unwrap_err().code,
            AiErrorCode::AiServerError
        );
        assert_eq!(
            classify_reply(200, None, b"nope", "t").unwrap_err().code,
            AiErrorCode::AiServerError
        );
        let empty = classify_reply(
            200,
            None,
            &body(json!({"status": "success", "result": {"items": []}})),
            "t",
        );
        assert_eq!(empty.unwrap_err().code, AiErrorCode::EmptyResult);
    }
}

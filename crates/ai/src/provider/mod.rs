//! A client for any OpenAI-compatible chat-completions endpoint (OpenRouter by default; OpenAI,
//! Ollama, vLLM and llama.cpp servers work the same), with plain `reqwest` and our own tolerant
//! request/response structs.
//!
//! * One request per photo by default ([`Mode::Single`]): a strict `json_schema` reply with
//!   `is_food`, `confidence`, `reason`, `items`, `notes`. [`Mode::Gated`] runs the original's
//!   two calls (a gate model first, then recognition) — see [`crate::pipeline`].
//! * A text path ([`text`]): items from a free-text meal description, one call, no image.
//! * Errors are classified from typed causes ([`ProviderError`]): reqwest's timeout/connect
//!   flags, the HTTP status, our parser's result — never by looking for words in messages.
//! * **Retries happen here and nowhere else**: up to [`RetryPolicy::attempts`] (3), backoff
//!   1 s → 2 s (or the server's `Retry-After` when longer), only on timeout, connect, 429 and
//!   5xx. Each attempt's timeout is the stage timeout cut to what is left of the caller's
//!   [`Deadline`]; no attempt starts when less than [`RetryPolicy::min_attempt`] is left.
//! * Every attempt logs callee, stage, model, attempt, `duration_ms`, outcome and trace id, and
//!   updates the `aiproxy_upstream_*` metrics. Never the API key, never the image.

pub mod parse;
pub mod prompt;
pub mod text;
mod wire;

use std::time::Duration;

use base64::Engine as _;
use domain::error::{AiErrorCode, Locale};
use reqwest::header::{HeaderMap, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use tokio::time::Instant;
use url::Url;

pub use parse::{Analysis, GateReply, ParseError};
pub use text::{MAX_TEXT_CHARS, TextRequest};
pub use wire::FinishReason;
use wire::{ChatRequest, ChatResponse, Content, ImageUrl, Message, Part, Usage};

use crate::deadline::Deadline;

/// Which call of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The food gate (gated mode).
    Gate,
    /// Recognition (single-call mode, or the second call).
    Recognize,
    /// Items from a free-text meal description (no image).
    Text,
}

impl Stage {
    /// Metric label.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Gate => "gate",
            Stage::Recognize => "recognize",
            Stage::Text => "text",
        }
    }
}

/// One call per photo, or the gate first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// One structured call returns the gate fields and the items (default).
    #[default]
    Single,
    /// A (cheap) gate model decides "could this be food?" first; recognition runs only when it
    /// says yes.
    Gated,
}

/// How the reply format is requested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResponseFormat {
    /// `{"type":"json_schema","json_schema":{"strict":true,…}}` (default).
    #[default]
    JsonSchema,
    /// `{"type":"json_object"}` for servers without schema support.
    JsonObject,
    /// Nothing; the prompt alone asks for JSON.
    None,
}

/// The `detail` of the image part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageDetail {
    /// 512 px tiles, cheapest (the original's setting).
    #[default]
    Low,
    /// Full detail.
    High,
    /// Provider's choice.
    Auto,
    /// Not sent (servers that reject the field).
    Omit,
}

impl ImageDetail {
    fn as_param(self) -> Option<&'static str> {
        match self {
            ImageDetail::Low => Some("low"),
            ImageDetail::High => Some("high"),
            ImageDetail::Auto => Some("auto"),
            ImageDetail::Omit => None,
        }
    }
}

/// Retry schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub attempts: u32,
    /// Wait before the second attempt; doubles each time.
    pub initial_backoff: Duration,
    /// Longest wait between attempts (also caps a server's `Retry-After`).
    pub max_backoff: Duration,
    /// No attempt starts with less time than this left before the deadline.
    pub min_attempt: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
            min_attempt: Duration::from_secs(1),
        }
    }
}

impl RetryPolicy {
    /// The wait after failed attempt number `attempt` (1-based): 1 s, 2 s, 4 s, … capped.
    #[must_use]
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(16);
        self.initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff)
    }
}

/// Configuration of the provider client.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Base URL, e.g. `https://openrouter.ai/api/v1` (`/chat/completions` and `/models` are
    /// appended).
    pub base_url: Url,
    /// Bearer token.
    pub api_key: SecretString,
    /// Recognition model (must accept images).
    pub model: String,
    /// Gate model for [`Mode::Gated`] (falls back to `model`).
    pub gate_model: Option<String>,
    /// Single call or gate first.
    pub mode: Mode,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Per-attempt timeout of a gate call.
    pub gate_timeout: Duration,
    /// Per-attempt timeout of a recognition call.
    pub recognize_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// `max_tokens` of a recognition call.
    pub max_tokens: u32,
    /// `max_tokens` of a gate call.
    pub gate_max_tokens: u32,
    /// `temperature` (`None`: provider default).
    pub temperature: Option<f32>,
    /// How the JSON reply is requested.
    pub response_format: ResponseFormat,
    /// The image part's `detail`.
    pub image_detail: ImageDetail,
    /// `HTTP-Referer` (OpenRouter attribution), if any.
    pub referer: Option<String>,
    /// `X-Title` (OpenRouter attribution), if any.
    pub title: Option<String>,
    /// A path under the base URL that validates the key (OpenRouter: `key`), probed by
    /// readiness besides `models` (OpenRouter's model list is public, so it proves nothing
    /// about the key).
    pub key_check_path: Option<String>,
}

impl ProviderConfig {
    /// Defaults for everything but the endpoint, key and model.
    #[must_use]
    pub fn new(base_url: Url, api_key: SecretString, model: impl Into<String>) -> Self {
        let openrouter = base_url
            .host_str()
            .is_some_and(|h| h == "openrouter.ai" || h.ends_with(".openrouter.ai"));
        Self {
            base_url,
            api_key,
            model: model.into(),
            gate_model: None,
            mode: Mode::Single,
            connect_timeout: Duration::from_secs(5),
            gate_timeout: Duration::from_secs(10),
            recognize_timeout: Duration::from_secs(25),
            retry: RetryPolicy::default(),
            max_tokens: 2000,
            gate_max_tokens: 200,
            temperature: Some(0.2),
            response_format: ResponseFormat::JsonSchema,
            image_detail: ImageDetail::Low,
            referer: openrouter.then(|| "https://eatfit24.com".to_owned()),
            title: openrouter.then(|| "EatFit24".to_owned()),
            key_check_path: openrouter.then(|| "key".to_owned()),
        }
    }

    /// The model of the gate call.
    #[must_use]
    pub fn gate_model(&self) -> &str {
        self.gate_model
            .as_deref()
            .filter(|m| !m.trim().is_empty())
            .unwrap_or(&self.model)
    }
}

/// A classified provider failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The attempt's timeout (stage timeout or what was left of the deadline) elapsed.
    #[error("provider request timed out")]
    Timeout,
    /// Connecting failed, or the connection broke.
    #[error("cannot reach the provider")]
    Connect,
    /// Too little time was left before the deadline to start a request.
    #[error("deadline reached before a request could start")]
    DeadlineExceeded,
    /// A non-2xx answer.
    #[error("provider answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// `Retry-After` (seconds form), if sent.
        retry_after: Option<Duration>,
    },
    /// The reply (envelope or content) could not be read.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The model declined (refusal field or content filter).
    #[error("the model refused to answer")]
    Refusal,
    /// A 2xx answer with no content.
    #[error("the provider returned an empty reply")]
    Empty,
    /// The request could not be built (bad URL). A configuration problem.
    #[error("invalid provider request: {0}")]
    Invalid(String),
}

impl ProviderError {
    /// Whether another attempt may help: timeout, connect, 429, 5xx.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            ProviderError::Timeout | ProviderError::Connect => true,
            ProviderError::Status { status, .. } => *status == 429 || (500..=599).contains(status),
            _ => false,
        }
    }

    /// Short outcome label for logs and metrics.
    #[must_use]
    pub fn outcome(&self) -> &'static str {
        match self {
            ProviderError::Timeout => "timeout",
            ProviderError::Connect => "connect_error",
            ProviderError::DeadlineExceeded => "deadline_exceeded",
            ProviderError::Status {
                status: 401 | 403, ..
            } => "auth_error",
            ProviderError::Status { status: 429, .. } => "rate_limited",
            ProviderError::Status { .. } => "http_error",
            ProviderError::Parse(ParseError::Truncated) => "truncated",
            ProviderError::Parse(_) => "parse_error",
            ProviderError::Refusal => "refusal",
            ProviderError::Empty => "empty",
            ProviderError::Invalid(_) => "invalid_request",
        }
    }

    /// The catalogue code when this error ends the request (a parse error of the *gate* call
    /// is `GATE_ERROR`; [`crate::pipeline`] handles that).
    #[must_use]
    pub fn code(&self) -> AiErrorCode {
        match self {
            ProviderError::Timeout | ProviderError::DeadlineExceeded => {
                AiErrorCode::UpstreamTimeout
            }
            ProviderError::Status {
                status: 401 | 403 | 404,
                ..
            }
            | ProviderError::Invalid(_) => AiErrorCode::AiServiceMisconfigured,
            ProviderError::Status { status: 429, .. } => AiErrorCode::RateLimit,
            ProviderError::Refusal => AiErrorCode::UnsupportedContent,
            ProviderError::Connect
            | ProviderError::Status { .. }
            | ProviderError::Parse(_)
            | ProviderError::Empty => AiErrorCode::UpstreamError,
        }
    }

    /// `Retry-After` in whole seconds, for 429s.
    #[must_use]
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            ProviderError::Status {
                retry_after: Some(d),
                ..
            } => Some(u32::try_from(d.as_secs().max(1)).unwrap_or(u32::MAX)),
            _ => None,
        }
    }

    fn status_label(&self) -> String {
        match self {
            ProviderError::Status { status, .. } => status.to_string(),
            ProviderError::Timeout => "timeout".to_owned(),
            ProviderError::Connect => "connect_error".to_owned(),
            ProviderError::DeadlineExceeded => "deadline_exceeded".to_owned(),
            // A 2xx whose content we could not use.
            _ => "200".to_owned(),
        }
    }
}

/// Could not build the HTTP client.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the provider client: {0}")]
pub struct ProviderInitError(String);

/// What the readiness probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeState {
    /// Reachable, key accepted, model listed (or the list says nothing).
    Ok,
    /// 401/403.
    AuthRejected,
    /// The model is not in the provider's list.
    ModelNotFound,
    /// The model is listed without image input.
    ModelWithoutVision,
    /// Timed out.
    Timeout,
    /// Could not connect.
    Unreachable,
    /// Another answer.
    Error,
}

impl ProbeState {
    /// Label for readiness bodies and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeState::Ok => "ok",
            ProbeState::AuthRejected => "auth_rejected",
            ProbeState::ModelNotFound => "model_not_found",
            ProbeState::ModelWithoutVision => "model_without_vision",
            ProbeState::Timeout => "timeout",
            ProbeState::Unreachable => "unreachable",
            ProbeState::Error => "error",
        }
    }
}

/// The photo and context of one call.
#[derive(Debug, Clone, Copy)]
pub struct ImageRequest<'a> {
    /// The normalised JPEG.
    pub jpeg: &'a [u8],
    /// The user's comment (cleaned and capped here).
    pub comment: Option<&'a str>,
    /// Prompt language.
    pub locale: Locale,
    /// The end-to-end deadline.
    pub deadline: Deadline,
    /// Trace id for logs and the `X-Request-ID` header sent upstream.
    pub trace_id: &'a str,
}

struct Completion {
    content: String,
    finish: FinishReason,
    usage: Option<Usage>,
}

/// The provider client. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Provider {
    config: ProviderConfig,
    http: reqwest::Client,
    chat_url: Url,
    models_url: Url,
}

fn with_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url
}

fn classify(e: &reqwest::Error) -> ProviderError {
    if e.is_timeout() {
        ProviderError::Timeout
    } else if e.is_builder() {
        ProviderError::Invalid("request could not be built".to_owned())
    } else {
        // Connect failures, resets, broken bodies: all transport.
        ProviderError::Connect
    }
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let secs = v
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)?;
    Some(Duration::from_secs_f64(secs.min(3600.0)))
}

impl Provider {
    /// Builds the client (no network).
    pub fn new(config: ProviderConfig) -> Result<Self, ProviderInitError> {
        let base = with_slash(config.base_url.clone());
        let chat_url = base
            .join("chat/completions")
            .map_err(|e| ProviderInitError(e.to_string()))?;
        let models_url = base
            .join("models")
            .map_err(|e| ProviderInitError(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("eatfit24-ai/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderInitError(e.to_string()))?;
        Ok(Self {
            config,
            http,
            chat_url,
            models_url,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &ProviderConfig {
        &self.config
    }

    fn response_format(&self, name: &str, schema: Value) -> Option<Value> {
        match self.config.response_format {
            ResponseFormat::JsonSchema => Some(json!({
                "type": "json_schema",
                "json_schema": {"name": name, "strict": true, "schema": schema}
            })),
            ResponseFormat::JsonObject => Some(json!({"type": "json_object"})),
            ResponseFormat::None => None,
        }
    }

    fn image_part(&self, jpeg: &[u8]) -> Part {
        let b64 = base64::engine::general_purpose::STANDARD.encode(jpeg);
        Part::ImageUrl {
            image_url: ImageUrl {
                url: format!("data:image/jpeg;base64,{b64}"),
                detail: self.config.image_detail.as_param(),
            },
        }
    }

    /// One recognition call: gate fields and items (the only call in [`Mode::Single`]).
    pub async fn analyze(&self, req: &ImageRequest<'_>) -> Result<Analysis, ProviderError> {
        let body = ChatRequest {
            model: &self.config.model,
            messages: vec![
                Message {
                    role: "system",
                    content: Content::Text(prompt::recognition_system(req.locale).to_owned()),
                },
                Message {
                    role: "user",
                    content: Content::Parts(vec![
                        Part::Text {
                            text: prompt::task_text(req.locale, false).to_owned(),
                        },
                        Part::Text {
                            text: prompt::comment_text(req.locale, req.comment),
                        },
                        self.image_part(req.jpeg),
                    ]),
                },
            ],
            max_tokens: self.config.max_tokens,
            temperature: self.config.temperature,
            response_format: self.response_format("food_recognition", prompt::recognition_schema()),
        };
        let model = self.config.model.clone();
        let c = self
            .call(
                Stage::Recognize,
                &model,
                &body,
                self.config.recognize_timeout,
                req.deadline,
                req.trace_id,
            )
            .await?;
        parse::analysis(&c.content).map_err(|e| truncation(e, c.finish).into())
    }

    /// The gate call ([`Mode::Gated`]).
    pub async fn gate(&self, req: &ImageRequest<'_>) -> Result<GateReply, ProviderError> {
        let model = self.config.gate_model().to_owned();
        let body = ChatRequest {
            model: &model,
            messages: vec![
                Message {
                    role: "system",
                    content: Content::Text(prompt::gate_system(req.locale).to_owned()),
                },
                Message {
                    role: "user",
                    content: Content::Parts(vec![
                        Part::Text {
                            text: prompt::task_text(req.locale, true).to_owned(),
                        },
                        self.image_part(req.jpeg),
                    ]),
                },
            ],
            max_tokens: self.config.gate_max_tokens,
            temperature: self.config.temperature,
            response_format: self.response_format("food_gate", prompt::gate_schema()),
        };
        let c = self
            .call(
                Stage::Gate,
                &model,
                &body,
                self.config.gate_timeout,
                req.deadline,
                req.trace_id,
            )
            .await?;
        parse::gate_reply(&c.content).map_err(|e| truncation(e, c.finish).into())
    }

    /// Sends `body` with retries inside the deadline.
    async fn call(
        &self,
        stage: Stage,
        model: &str,
        body: &ChatRequest<'_>,
        stage_timeout: Duration,
        deadline: Deadline,
        trace_id: &str,
    ) -> Result<Completion, ProviderError> {
        let payload =
            serde_json::to_vec(body).map_err(|e| ProviderError::Invalid(e.to_string()))?;
        let policy = self.config.retry;
        let attempts = policy.attempts.max(1);
        let mut attempt = 1;
        loop {
            let remaining = deadline.remaining();
            if remaining < policy.min_attempt {
                tracing::warn!(
                    callee = "llm",
                    stage = stage.as_str(),
                    model,
                    attempt,
                    trace_id,
                    remaining_ms = remaining.as_millis() as u64,
                    "no time left before the deadline; not calling the provider"
                );
                return Err(ProviderError::DeadlineExceeded);
            }
            let timeout = stage_timeout.min(remaining);
            let started = Instant::now();
            let result = self.attempt(payload.clone(), timeout, trace_id).await;
            let elapsed = started.elapsed();
            let status = match &result {
                Ok(_) => "200".to_owned(),
                Err(e) => e.status_label(),
            };
            metrics::counter!("aiproxy_upstream_requests_total",
                "stage" => stage.as_str(), "model" => model.to_owned(), "status" => status)
            .increment(1);
            metrics::histogram!("aiproxy_upstream_duration_seconds",
                "stage" => stage.as_str(), "model" => model.to_owned())
            .record(elapsed.as_secs_f64());
            let duration_ms = elapsed.as_millis() as u64;
            match result {
                Ok(c) => {
                    if let Some(u) = c.usage {
                        for (kind, n) in [
                            ("prompt", u.prompt_tokens),
                            ("completion", u.completion_tokens),
                        ] {
                            if let Some(n) = n {
                                metrics::counter!("aiproxy_tokens_total", "model" => model.to_owned(), "kind" => kind)
                                    .increment(n);
                            }
                        }
                    }
                    tracing::info!(
                        callee = "llm",
                        stage = stage.as_str(),
                        model,
                        attempt,
                        duration_ms,
                        outcome = "ok",
                        trace_id,
                        prompt_tokens = c.usage.and_then(|u| u.prompt_tokens),
                        completion_tokens = c.usage.and_then(|u| u.completion_tokens),
                        "provider call finished"
                    );
                    return Ok(c);
                }
                Err(e) => {
                    let retry = e.is_retryable() && attempt < attempts;
                    let wait = match &e {
                        ProviderError::Status {
                            retry_after: Some(ra),
                            ..
                        } => policy.backoff(attempt).max(*ra).min(policy.max_backoff),
                        _ => policy.backoff(attempt),
                    };
                    let fits = deadline.remaining() > wait + policy.min_attempt;
                    tracing::warn!(
                        callee = "llm",
                        stage = stage.as_str(),
                        model,
                        attempt,
                        duration_ms,
                        outcome = e.outcome(),
                        trace_id,
                        will_retry = retry && fits,
                        "provider call failed"
                    );
                    if !(retry && fits) {
                        return Err(e);
                    }
                    metrics::counter!("aiproxy_upstream_retries_total", "stage" => stage.as_str())
                        .increment(1);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        payload: Vec<u8>,
        timeout: Duration,
        trace_id: &str,
    ) -> Result<Completion, ProviderError> {
        let mut rb = self
            .http
            .post(self.chat_url.clone())
            .bearer_auth(self.config.api_key.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout)
            .body(payload);
        if !trace_id.is_empty() {
            rb = rb.header("X-Request-ID", trace_id);
        }
        if let Some(r) = &self.config.referer {
            rb = rb.header("HTTP-Referer", r);
        }
        if let Some(t) = &self.config.title {
            rb = rb.header("X-Title", t);
        }
        let exchange = async {
            let resp = rb.send().await.map_err(|e| classify(&e))?;
            let status = resp.status();
            let retry_after = retry_after(resp.headers());
            let bytes = resp.bytes().await.map_err(|e| classify(&e))?;
            if !status.is_success() {
                return Err(ProviderError::Status {
                    status: status.as_u16(),
                    retry_after,
                });
            }
            completion(&bytes)
        };
        // reqwest's own timeout covers the exchange; this one guards the body read too.
        match tokio::time::timeout(timeout + Duration::from_millis(50), exchange).await {
            Ok(r) => r,
            Err(_) => Err(ProviderError::Timeout),
        }
    }

    /// Readiness: the provider is reachable, accepts the key, and lists the model (with image
    /// input, when the list says). One `GET {base}/models` (+ the key-check path if set).
    pub async fn probe(&self, timeout: Duration) -> ProbeState {
        if let Some(path) = &self.config.key_check_path {
            let url = match with_slash(self.config.base_url.clone()).join(path) {
                Ok(u) => u,
                Err(_) => return ProbeState::Error,
            };
            match self.get(url, timeout).await {
                Ok((s, _)) if s == 401 || s == 403 => return ProbeState::AuthRejected,
                Ok((s, _)) if (200..300).contains(&s) => {}
                Ok(_) => return ProbeState::Error,
                Err(state) => return state,
            }
        }
        let (status, body) = match self.get(self.models_url.clone(), timeout).await {
            Ok(r) => r,
            Err(state) => return state,
        };
        match status {
            401 | 403 => return ProbeState::AuthRejected,
            200..=299 => {}
            _ => return ProbeState::Error,
        }
        let Ok(list) = serde_json::from_slice::<Value>(&body) else {
            return ProbeState::Ok;
        };
        let Some(models) = list.get("data").and_then(Value::as_array) else {
            return ProbeState::Ok;
        };
        if models.is_empty() {
            return ProbeState::Ok;
        }
        for wanted in [self.config.model.as_str(), self.config.gate_model()] {
            let Some(entry) = models
                .iter()
                .find(|m| m.get("id").and_then(Value::as_str) == Some(wanted))
            else {
                return ProbeState::ModelNotFound;
            };
            if let Some(inputs) = entry
                .pointer("/architecture/input_modalities")
                .and_then(Value::as_array)
                && !inputs.iter().any(|m| m.as_str() == Some("image"))
            {
                return ProbeState::ModelWithoutVision;
            }
        }
        ProbeState::Ok
    }

    async fn get(&self, url: Url, timeout: Duration) -> Result<(u16, Vec<u8>), ProbeState> {
        let fut = async {
            let resp = self
                .http
                .get(url)
                .bearer_auth(self.config.api_key.expose_secret())
                .timeout(timeout)
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>((status, body.to_vec()))
        };
        match tokio::time::timeout(timeout + Duration::from_millis(50), fut).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) if e.is_timeout() => Err(ProbeState::Timeout),
            Ok(Err(_)) => Err(ProbeState::Unreachable),
            Err(_) => Err(ProbeState::Timeout),
        }
    }
}

fn truncation(e: ParseError, finish: FinishReason) -> ParseError {
    match (e, finish) {
        (ParseError::Malformed(_) | ParseError::NoJson, FinishReason::Length) => {
            ParseError::Truncated
        }
        (e, _) => e,
    }
}

fn completion(bytes: &[u8]) -> Result<Completion, ProviderError> {
    let resp: ChatResponse =
        serde_json::from_slice(bytes).map_err(|e| ParseError::Envelope(e.to_string()))?;
    let Some(choice) = resp.choices.first() else {
        // OpenRouter may answer 200 with {"error":{"code":429,…}}.
        if let Some(code) = resp
            .error
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .filter(|c| (400..600).contains(c))
        {
            return Err(ProviderError::Status {
                status: code,
                retry_after: None,
            });
        }
        return Err(ProviderError::Empty);
    };
    let finish = FinishReason::parse(choice.finish_reason.as_deref());
    let message = choice.message.as_ref();
    if message
        .and_then(|m| m.refusal.as_deref())
        .is_some_and(|r| !r.trim().is_empty())
    {
        return Err(ProviderError::Refusal);
    }
    let content = message.map(wire::ResponseMessage::text).unwrap_or_default();
    if finish == FinishReason::Filtered {
        return Err(ProviderError::Refusal);
    }
    if content.trim().is_empty() {
        return Err(match finish {
            FinishReason::Length => ProviderError::Parse(ParseError::Truncated),
            _ => ProviderError::Empty,
        });
    }
    Ok(Completion {
        content,
        finish,
        usage: resp.usage,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_schedule_is_one_then_two_seconds() {
        let p = RetryPolicy::default();
        assert_eq!(p.attempts, 3);
        assert_eq!(p.backoff(1), Duration::from_secs(1));
        assert_eq!(p.backoff(2), Duration::from_secs(2));
        assert_eq!(p.backoff(3), Duration::from_secs(4));
        assert_eq!(p.backoff(40), Duration::from_secs(10));
    }

    #[test]
    fn retryable_set_is_exactly_timeout_connect_429_5xx() {
        let s = |status| ProviderError::Status {
            status,
            retry_after: None,
        };
        assert!(ProviderError::Timeout.is_retryable());
        assert!(ProviderError::Connect.is_retryable());
        assert!(s(429).is_retryable());
        assert!(s(500).is_retryable());
        assert!(s(503).is_retryable());
        for status in [400, 401, 403, 404, 413, 422] {
            assert!(!s(status).is_retryable(), "{status}");
        }
        assert!(!ProviderError::Parse(ParseError::Truncated).is_retryable());
        assert!(!ProviderError::Refusal.is_retryable());
        assert!(!ProviderError::Empty.is_retryable());
        assert!(!ProviderError::DeadlineExceeded.is_retryable());
    }

    #[test]
    fn codes_come_from_typed_causes() {
        use AiErrorCode as C;
        let s = |status| ProviderError::Status {
            status,
            retry_after: None,
        };
        assert_eq!(ProviderError::Timeout.code(), C::UpstreamTimeout);
        assert_eq!(ProviderError::DeadlineExceeded.code(), C::UpstreamTimeout);
        assert_eq!(ProviderError::Connect.code(), C::UpstreamError);
        assert_eq!(s(401).code(), C::AiServiceMisconfigured);
        assert_eq!(s(403).code(), C::AiServiceMisconfigured);
        assert_eq!(s(429).code(), C::RateLimit);
        assert_eq!(s(502).code(), C::UpstreamError);
        assert_eq!(
            ProviderError::Parse(ParseError::NoJson).code(),
            C::UpstreamError
        );
        assert_eq!(ProviderError::Refusal.code(), C::UnsupportedContent);
        let ra = ProviderError::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(7)),
        };
        assert_eq!(ra.retry_after_secs(), Some(7));
    }

    #[test]
    fn completion_envelopes() {
        let ok = br#"{"choices":[{"message":{"content":"{}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#;
        assert!(completion(ok).is_ok());
        let refusal = br#"{"choices":[{"message":{"content":null,"refusal":"I can't"}}]}"#;
        assert_eq!(completion(refusal).err(), Some(ProviderError::Refusal));
        let filtered =
            br#"{"choices":[{"message":{"content":""},"finish_reason":"content_filter"}]}"#;
        assert_eq!(completion(filtered).err(), Some(ProviderError::Refusal));
        let cut = br#"{"choices":[{"message":{"content":""},"finish_reason":"length"}]}"#;
        assert_eq!(
            completion(cut).err(),
            Some(ProviderError::Parse(ParseError::Truncated))
        );
        let empty = br#"{"choices":[]}"#;
        assert_eq!(completion(empty).err(), Some(ProviderError::Empty));
        let err = br#"{"error":{"code":429,"message":"slow down"}}"#;
        assert!(matches!(
            completion(err),
            Err(ProviderError::Status { status: 429, .. })
        ));
        assert!(matches!(
            completion(b"<html>"),
            Err(ProviderError::Parse(ParseError::Envelope(_)))
        ));
    }

    #[test]
    fn base_url_gets_a_trailing_slash() {
        let p = Provider::new(ProviderConfig::new(
            Url::parse("https://openrouter.ai/api/v1").unwrap(),
            SecretString::from("k"),
            "m",
        ))
        .unwrap();
        assert_eq!(
            p.chat_url.as_str(),
            "https://openrouter.ai/api/v1/chat/completions"
        );
        assert_eq!(p.models_url.as_str(), "https://openrouter.ai/api/v1/models");
        assert_eq!(p.config().key_check_path.as_deref(), Some("key"));
        let local = ProviderConfig::new(
            Url::parse("http://127.0.0.1:11434/v1/").unwrap(),
            SecretString::from("k"),
            "m",
        );
        assert!(local.key_check_path.is_none() && local.referer.is_none());
    }
}

//! A fake OpenAI-compatible LLM server on 127.0.0.1:0: `POST /v1/chat/completions` (and
//! `/chat/completions`), `GET /models` (and `/v1/models`, `/key`, `/v1/key`). Each test scripts
//! a queue of [`Behavior`]s, one per chat request (the default answers when the queue is
//! empty), and reads back the [`RecordedRequest`]s it got.
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::fake_llm::{Behavior, FakeLlm};
//! let llm = FakeLlm::start().await;
//! llm.push(Behavior::RateLimited { retry_after_secs: 0 });
//! llm.push(Behavior::Success(FakeLlm::items(&[("Гречка", 150.0, 165.0, 6.0, 1.5, 30.0)])));
//! let base_url = llm.base_url(); // http://127.0.0.1:PORT/v1
//! # let _ = base_url;
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

/// What the fake answers to one chat request.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// `is_food: true, confidence: 0.9` with these items (a JSON array; see [`FakeLlm::items`]).
    Success(Value),
    /// A full reply object of our schema.
    Reply {
        /// `is_food`.
        is_food: bool,
        /// `confidence`.
        confidence: f64,
        /// `items` (JSON array).
        items: Value,
    },
    /// `is_food: false, confidence: 0.05`, no items.
    NotFood,
    /// `is_food: true, confidence: 0.3` with these items (use `json!([])` for none).
    LowConfidence(Value),
    /// `is_food: true, confidence: 0.9`, no items.
    EmptyItems,
    /// Balanced but invalid JSON.
    Malformed,
    /// Half a JSON object, `finish_reason: "length"`.
    Truncated,
    /// The success reply inside a ```` ```json ```` fence with prose around it.
    Fenced(Value),
    /// A gate reply `{is_food, confidence, reason}`.
    Gate {
        /// `is_food`.
        is_food: bool,
        /// `confidence`.
        confidence: f64,
    },
    /// This exact content string, `finish_reason: "stop"`.
    Content(String),
    /// A refusal (`message.refusal`).
    Refusal,
    /// Sleep on the server side, then behave as the inner behaviour.
    Delay(Duration, Box<Behavior>),
    /// HTTP 429 with `Retry-After`.
    RateLimited {
        /// The header's value, seconds.
        retry_after_secs: u64,
    },
    /// HTTP 500.
    ServerError,
    /// HTTP 401.
    Unauthorized,
}

/// One chat request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Request path.
    pub path: String,
    /// Request headers (lower-case names).
    pub headers: HashMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

impl RecordedRequest {
    /// `model`.
    pub fn model(&self) -> Option<&str> {
        self.body.get("model").and_then(Value::as_str)
    }

    /// `response_format`.
    pub fn response_format(&self) -> Option<&Value> {
        self.body.get("response_format")
    }

    /// The system prompt.
    pub fn system_prompt(&self) -> Option<&str> {
        self.messages()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("system"))
            .and_then(|m| m.get("content"))
            .and_then(Value::as_str)
    }

    fn messages(&self) -> impl Iterator<Item = &Value> {
        self.body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }

    fn user_parts(&self) -> impl Iterator<Item = &Value> {
        self.messages()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
            .filter_map(|m| m.get("content").and_then(Value::as_array))
            .flatten()
    }

    /// The text parts of the user messages, in order.
    pub fn user_texts(&self) -> Vec<String> {
        self.user_parts()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_owned))
            .collect()
    }

    /// The image part's URL (a data URL).
    pub fn image_url(&self) -> Option<&str> {
        self.user_parts()
            .find(|p| p.get("type").and_then(Value::as_str) == Some("image_url"))
            .and_then(|p| p.pointer("/image_url/url"))
            .and_then(Value::as_str)
    }

    /// The image part's media type and decoded bytes.
    pub fn image(&self) -> Option<(String, Vec<u8>)> {
        let url = self.image_url()?;
        let rest = url.strip_prefix("data:")?;
        let (mime, data) = rest.split_once(";base64,")?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .ok()?;
        Some((mime.to_owned(), bytes))
    }

    /// The bearer token sent.
    pub fn bearer(&self) -> Option<&str> {
        self.headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
    }
}

#[derive(Debug)]
struct Inner {
    queue: VecDeque<Behavior>,
    default: Behavior,
    requests: Vec<RecordedRequest>,
    models: Vec<String>,
    expected_key: Option<String>,
    probe_hits: usize,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

/// A running fake LLM. Stops when dropped.
pub struct FakeLlm {
    /// Listening address.
    pub addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

fn reply(is_food: bool, confidence: f64, items: &Value) -> String {
    json!({
        "is_food": is_food,
        "confidence": confidence,
        "reason": if is_food { "еда на тарелке" } else { "не еда" },
        "items": items,
        "notes": null,
    })
    .to_string()
}

fn completion(content: &str, finish: &str, model: &str) -> Response {
    axum::Json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content},
            "finish_reason": finish,
        }],
        "usage": {"prompt_tokens": 120, "completion_tokens": 40, "total_tokens": 160},
    }))
    .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"message": message, "code": status.as_u16()}})),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let expected = shared.with(|i| i.expected_key.clone());
    match expected {
        None => true,
        Some(k) => {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                == Some(k.as_str())
        }
    }
}

async fn respond(behavior: Behavior, model: String) -> Response {
    let mut behavior = behavior;
    loop {
        match behavior {
            Behavior::Delay(d, inner) => {
                tokio::time::sleep(d).await;
                behavior = *inner;
            }
            Behavior::Success(items) => {
                return completion(&reply(true, 0.9, &items), "stop", &model);
            }
            Behavior::Reply {
                is_food,
                confidence,
                items,
            } => return completion(&reply(is_food, confidence, &items), "stop", &model),
            Behavior::NotFood => {
                return completion(&reply(false, 0.05, &json!([])), "stop", &model);
            }
            Behavior::LowConfidence(items) => {
                return completion(&reply(true, 0.3, &items), "stop", &model);
            }
            Behavior::EmptyItems => {
                return completion(&reply(true, 0.9, &json!([])), "stop", &model);
            }
            Behavior::Malformed => {
                return completion(
                    r#"{"is_food": tru, "confidence": 0.9, "items": [}"#,
                    "stop",
                    &model,
                );
            }
            Behavior::Truncated => {
                let full = reply(
                    true,
                    0.9,
                    &FakeLlm::items(&[("Гречка", 150.0, 165.0, 6.0, 1.5, 30.0)]),
                );
                let half: String = full.chars().take(full.chars().count() / 2).collect();
                return completion(&half, "length", &model);
            }
            Behavior::Fenced(items) => {
                let content = format!(
                    "Вот результат анализа:\n```json\n{}\n```\nПриятного аппетита!",
                    reply(true, 0.9, &items)
                );
                return completion(&content, "stop", &model);
            }
            Behavior::Gate {
                is_food,
                confidence,
            } => {
                let content =
                    json!({"is_food": is_food, "confidence": confidence, "reason": "gate"})
                        .to_string();
                return completion(&content, "stop", &model);
            }
            Behavior::Content(c) => return completion(&c, "stop", &model),
            Behavior::Refusal => {
                return axum::Json(json!({
                    "choices": [{"message": {"role": "assistant", "content": null,
                                 "refusal": "I can't help with that."},
                                 "finish_reason": "stop"}]
                }))
                .into_response();
            }
            Behavior::RateLimited { retry_after_secs } => {
                let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
                if let Ok(v) = retry_after_secs.to_string().parse() {
                    r.headers_mut().insert("retry-after", v);
                }
                return r;
            }
            Behavior::ServerError => {
                return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
            }
            Behavior::Unauthorized => {
                return error(StatusCode::UNAUTHORIZED, "No auth credentials found");
            }
        }
    }
}

async fn chat(
    State(shared): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = parsed
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_owned();
    let recorded = RecordedRequest {
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
        body: parsed,
    };
    let ok = authorized(&shared, &headers);
    let behavior = shared.with(|i| {
        i.requests.push(recorded);
        i.queue.pop_front().unwrap_or_else(|| i.default.clone())
    });
    if !ok {
        return error(StatusCode::UNAUTHORIZED, "No auth credentials found");
    }
    respond(behavior, model).await
}

async fn models(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    shared.with(|i| i.probe_hits += 1);
    if !authorized(&shared, &headers) {
        return error(StatusCode::UNAUTHORIZED, "No auth credentials found");
    }
    let list: Vec<Value> = shared.with(|i| {
        i.models
            .iter()
            .map(|id| {
                json!({"id": id, "object": "model",
                       "architecture": {"input_modalities": ["text", "image"]}})
            })
            .collect()
    });
    axum::Json(json!({"object": "list", "data": list})).into_response()
}

async fn key(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    shared.with(|i| i.probe_hits += 1);
    if !authorized(&shared, &headers) {
        return error(StatusCode::UNAUTHORIZED, "No auth credentials found");
    }
    axum::Json(json!({"data": {"label": "fake", "usage": 0}})).into_response()
}

impl FakeLlm {
    /// Starts the fake; by default every chat request gets a one-item success.
    pub async fn start() -> FakeLlm {
        let shared = Shared(Arc::new(Mutex::new(Inner {
            queue: VecDeque::new(),
            default: Behavior::Success(Self::items(&[("Гречка", 150.0, 165.0, 6.0, 1.5, 30.0)])),
            requests: Vec::new(),
            models: Vec::new(),
            expected_key: None,
            probe_hits: 0,
        })));
        let router = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .route("/v1/models", get(models))
            .route("/models", get(models))
            .route("/v1/key", get(key))
            .route("/key", get(key))
            .layer(DefaultBodyLimit::max(32 * 1024 * 1024))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        FakeLlm {
            addr,
            shared,
            server,
        }
    }

    /// The OpenAI-style base URL: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a behaviour for the next chat request.
    pub fn push(&self, behavior: Behavior) {
        self.shared.with(|i| i.queue.push_back(behavior));
    }

    /// The behaviour when the queue is empty.
    pub fn set_default(&self, behavior: Behavior) {
        self.shared.with(|i| i.default = behavior);
    }

    /// Accept only this bearer key (every route answers 401 otherwise); `None` accepts any.
    pub fn require_key(&self, key: Option<&str>) {
        self.shared
            .with(|i| i.expected_key = key.map(str::to_owned));
    }

    /// The model ids `GET /models` lists (empty list by default).
    pub fn set_models(&self, ids: &[&str]) {
        self.shared
            .with(|i| i.models = ids.iter().map(|s| (*s).to_owned()).collect());
    }

    /// The chat requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.with(|i| i.requests.clone())
    }

    /// How many chat requests were received.
    pub fn request_count(&self) -> usize {
        self.shared.with(|i| i.requests.len())
    }

    /// How many `/models` and `/key` probes were received.
    pub fn probe_count(&self) -> usize {
        self.shared.with(|i| i.probe_hits)
    }

    /// A reply of the text schema (`{"items": …, "notes": null}`, no gate fields) with these
    /// items (see [`FakeLlm::items`]).
    pub fn text_reply(items: Value) -> Behavior {
        Behavior::Content(json!({"items": items, "notes": null}).to_string())
    }

    /// Items JSON from `(name, grams, kcal, protein, fat, carbohydrates)` tuples.
    pub fn items(items: &[(&str, f64, f64, f64, f64, f64)]) -> Value {
        Value::Array(
            items
                .iter()
                .map(|(name, g, k, p, f, c)| {
                    json!({"name_ru": name, "name_en": "", "grams": g, "kcal": k, "protein": p,
                           "fat": f, "carbohydrates": c, "confidence": 0.8})
                })
                .collect(),
        )
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

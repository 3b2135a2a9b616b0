//! A fake Telegram Bot API server on 127.0.0.1:0, speaking the real wire format under
//! `/bot<token>/<method>` (JSON or form bodies) and `/file/bot<token>/<path>`: `getUpdates`,
//! `sendMessage`, `editMessageText`, `sendPhoto`, `answerCallbackQuery`, `deleteMessage`,
//! `getFile`, `setMyCommands`, `setChatMenuButton`, `getMe`, `deleteWebhook`, `setWebhook`.
//! Tests inject updates ([`FakeTelegram::inject_message`], [`FakeTelegram::inject_callback`],
//! [`FakeTelegram::inject_photo`]), read what the bot did ([`FakeTelegram::sent`]) and script
//! failures ([`FakeTelegram::fail_next`] with 429 `retry_after` or 403 "blocked").
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::fake_telegram::FakeTelegram;
//! let tg = FakeTelegram::start().await;
//! tg.inject_message(42, "/start");
//! let api_url = tg.api_url(); // http://127.0.0.1:PORT/
//! # let _ = api_url;
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Map, Value, json};

/// The bot's own Telegram user id in the fake.
pub const BOT_USER_ID: i64 = 7_000_000_001;
/// A fixed `date` for every message the fake creates (tests never depend on wall time).
const DATE: i64 = 1_773_000_000;

/// One Bot API call the fake received (every method except `getUpdates`).
#[derive(Debug, Clone)]
pub struct Call {
    /// The method name, e.g. `sendMessage`.
    pub method: String,
    /// The parameters (JSON body or form fields).
    pub params: Value,
    /// The message id the fake assigned (send methods) or edited.
    pub message_id: Option<i64>,
}

impl Call {
    /// `chat_id` as a number.
    pub fn chat_id(&self) -> Option<i64> {
        match self.params.get("chat_id") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
    }

    /// `text` (or a photo's `caption`).
    pub fn text(&self) -> String {
        self.params
            .get("text")
            .or_else(|| self.params.get("caption"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    /// The reply markup as JSON (form bodies carry it as a JSON string).
    pub fn reply_markup(&self) -> Option<Value> {
        match self.params.get("reply_markup") {
            Some(Value::String(s)) => serde_json::from_str(s).ok(),
            Some(v @ Value::Object(_)) => Some(v.clone()),
            _ => None,
        }
    }

    /// Every `callback_data` of the inline keyboard, in order.
    pub fn callback_data(&self) -> Vec<String> {
        self.buttons()
            .into_iter()
            .filter_map(|b| {
                b.get("callback_data")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Every inline button object, row by row.
    pub fn buttons(&self) -> Vec<Value> {
        self.reply_markup()
            .and_then(|m| m.get("inline_keyboard").cloned())
            .and_then(|k| k.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .collect()
    }
}

/// A scripted failure for the next matching call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429 with `parameters.retry_after`.
    TooManyRequests { retry_after: u32 },
    /// HTTP 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// HTTP 400 with this description.
    BadRequest(String),
}

#[derive(Debug, Default)]
struct Inner {
    token: String,
    updates: Vec<Value>,
    next_update_id: i64,
    next_message_id: i64,
    next_callback_id: i64,
    calls: Vec<Call>,
    failures: VecDeque<(String, Failure)>,
    files: HashMap<String, Vec<u8>>,
    get_updates_calls: usize,
}

#[derive(Clone, Debug)]
struct Shared(Arc<Mutex<Inner>>);

impl Shared {
    fn with<R>(&self, f: impl FnOnce(&mut Inner) -> R) -> R {
        let mut g = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut g)
    }
}

/// The fake server.
#[derive(Debug)]
pub struct FakeTelegram {
    /// Listening address.
    pub addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn api_error(status: StatusCode, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    (status, axum::Json(body)).into_response()
}

fn parse_params(headers: &HeaderMap, body: &Bytes) -> Value {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let mut m = Map::new();
        for (k, v) in url::form_urlencoded::parse(body) {
            m.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        return Value::Object(m);
    }
    if ct.starts_with("multipart/form-data") {
        // Only the text fields matter to tests (sendPhoto uploads are not inspected).
        let text = String::from_utf8_lossy(body);
        let mut m = Map::new();
        for part in text
            .split("Content-Disposition: form-data; name=\"")
            .skip(1)
        {
            if let Some((name, rest)) = part.split_once('"')
                && let Some((_, value)) = rest.split_once("\r\n\r\n")
            {
                let value = value.split("\r\n--").next().unwrap_or_default();
                m.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        return Value::Object(m);
    }
    serde_json::from_slice(body).unwrap_or_else(|_| json!({}))
}

fn bot_user() -> Value {
    json!({"id": BOT_USER_ID, "is_bot": true, "first_name": "EatFit24", "username": "eatfit24_test_bot"})
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Тест", "last_name": "Пользователь",
           "username": format!("user{id}"), "language_code": "ru"})
}

fn chat(id: i64) -> Value {
    json!({"id": id, "type": "private", "first_name": "Тест", "username": format!("user{id}")})
}

fn param_i64(params: &Value, key: &str) -> Option<i64> {
    match params.get(key) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
}

fn bot_message(message_id: i64, chat_id: i64, params: &Value) -> Value {
    let mut m = json!({
        "message_id": message_id,
        "date": DATE,
        "chat": chat(chat_id),
        "from": bot_user(),
    });
    if let Some(t) = params.get("text").and_then(Value::as_str) {
        m["text"] = json!(t);
    }
    if let Some(markup) = (Call {
        method: String::new(),
        params: params.clone(),
        message_id: None,
    })
    .reply_markup()
    {
        m["reply_markup"] = markup;
    }
    m
}

async fn method(
    State(shared): State<Shared>,
    Path((bot, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let token_ok = shared.with(|i| bot.strip_prefix("bot") == Some(i.token.as_str()));
    if !token_ok {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    let params = parse_params(&headers, &body);
    // Method names are case-insensitive in the Bot API; record them in the documented form.
    let mut chars = name.chars();
    let name: String = match chars.next() {
        Some(c) => c.to_ascii_lowercase().to_string() + chars.as_str(),
        None => name,
    };
    if name == "getUpdates" {
        let offset = param_i64(&params, "offset");
        // Long polling: hold an empty answer up to min(timeout, 1 s).
        let timeout = param_i64(&params, "timeout").unwrap_or(0).clamp(0, 1);
        let until =
            tokio::time::Instant::now() + std::time::Duration::from_secs(timeout.unsigned_abs());
        while tokio::time::Instant::now() < until
            && shared.with(|i| {
                !i.updates.iter().any(|u| {
                    offset.is_none_or(|off| {
                        u.get("update_id").and_then(Value::as_i64).unwrap_or(0) >= off
                    })
                })
            })
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let updates = shared.with(|i| {
            i.get_updates_calls += 1;
            if let Some(off) = offset {
                i.updates
                    .retain(|u| u.get("update_id").and_then(Value::as_i64).unwrap_or(0) >= off);
            }
            i.updates.clone()
        });
        return ok(Value::Array(updates));
    }
    let failure = shared.with(|i| {
        let pos = i
            .failures
            .iter()
            .position(|(m, _)| m == &name || m == "*")?;
        i.failures.remove(pos).map(|(_, f)| f)
    });
    if let Some(f) = failure {
        shared.with(|i| {
            i.calls.push(Call {
                method: format!("{name}!failed"),
                params: params.clone(),
                message_id: None,
            });
        });
        return match f {
            Failure::TooManyRequests { retry_after } => api_error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too Many Requests: retry after {retry_after}"),
                Some(json!({"retry_after": retry_after})),
            ),
            Failure::Blocked => api_error(
                StatusCode::FORBIDDEN,
                "Forbidden: bot was blocked by the user",
                None,
            ),
            Failure::BadRequest(d) => api_error(StatusCode::BAD_REQUEST, &d, None),
        };
    }
    let chat_id = param_i64(&params, "chat_id").unwrap_or(0);
    match name.as_str() {
        "sendMessage" | "sendPhoto" => {
            let text = params
                .get("text")
                .or_else(|| params.get("caption"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if name == "sendMessage" && text.trim().is_empty() {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: message text is empty",
                    None,
                );
            }
            if text.chars().count() > 4096 {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: message is too long",
                    None,
                );
            }
            let id = shared.with(|i| {
                i.next_message_id += 1;
                let id = 1000 + i.next_message_id;
                i.calls.push(Call {
                    method: name.clone(),
                    params: params.clone(),
                    message_id: Some(id),
                });
                id
            });
            ok(bot_message(id, chat_id, &params))
        }
        "editMessageText" | "editMessageReplyMarkup" => {
            let id = param_i64(&params, "message_id").unwrap_or(0);
            shared.with(|i| {
                i.calls.push(Call {
                    method: name.clone(),
                    params: params.clone(),
                    message_id: Some(id),
                });
            });
            ok(bot_message(id, chat_id, &params))
        }
        "getFile" => {
            let file_id = params
                .get("file_id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let size = shared.with(|i| {
                i.calls.push(Call {
                    method: name.clone(),
                    params: params.clone(),
                    message_id: None,
                });
                i.files.get(&file_id).map(Vec::len)
            });
            match size {
                Some(n) => ok(
                    json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
                                     "file_size": n, "file_path": format!("photos/{file_id}.jpg")}),
                ),
                None => api_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: invalid file_id",
                    None,
                ),
            }
        }
        "getMe" => ok(
            json!({"id": BOT_USER_ID, "is_bot": true, "first_name": "EatFit24",
                            "username": "eatfit24_test_bot", "can_join_groups": false,
                            "can_read_all_group_messages": false, "supports_inline_queries": false,
                            "can_connect_to_business": false, "has_main_web_app": false}),
        ),
        _ => {
            shared.with(|i| {
                i.calls.push(Call {
                    method: name.clone(),
                    params: params.clone(),
                    message_id: None,
                });
            });
            ok(json!(true))
        }
    }
}

async fn file(State(shared): State<Shared>, Path((bot, path)): Path<(String, String)>) -> Response {
    let token_ok = shared.with(|i| bot.strip_prefix("bot") == Some(i.token.as_str()));
    let id = path
        .strip_prefix("photos/")
        .and_then(|p| p.strip_suffix(".jpg"))
        .unwrap_or_default()
        .to_owned();
    match shared.with(|i| i.files.get(&id).cloned()) {
        Some(bytes) if token_ok => (StatusCode::OK, bytes).into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

impl FakeTelegram {
    /// Starts the fake for the bot token `token`.
    pub async fn start_with_token(token: &str) -> FakeTelegram {
        let shared = Shared(Arc::new(Mutex::new(Inner {
            token: token.to_owned(),
            next_update_id: 100,
            ..Inner::default()
        })));
        let router = Router::new()
            .route("/{bot}/{method}", any(method))
            .route("/file/{bot}/{*path}", get(file))
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
        FakeTelegram {
            addr,
            shared,
            server,
        }
    }

    /// Starts the fake for [`crate::BOT_TOKEN`].
    pub async fn start() -> FakeTelegram {
        Self::start_with_token(crate::BOT_TOKEN).await
    }

    /// The Bot API base URL (`TELEGRAM_API_URL`): `http://127.0.0.1:PORT/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Queues a raw update object (its `update_id` is assigned); returns the id.
    pub fn inject_update(&self, mut update: Value) -> i64 {
        self.shared.with(|i| {
            i.next_update_id += 1;
            let id = i.next_update_id;
            update["update_id"] = json!(id);
            i.updates.push(update);
            id
        })
    }

    fn next_user_message_id(&self) -> i64 {
        self.shared.with(|i| {
            i.next_message_id += 1;
            1000 + i.next_message_id
        })
    }

    /// A text message from the user `from` in their private chat (commands are detected as
    /// Telegram does: a leading `/word` gets a `bot_command` entity).
    pub fn inject_message(&self, from: i64, text: &str) -> i64 {
        let mut msg = json!({
            "message_id": self.next_user_message_id(),
            "date": DATE,
            "chat": chat(from),
            "from": user(from),
            "text": text,
        });
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .unwrap_or(text)
                .encode_utf16()
                .count();
            msg["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        self.inject_update(json!({"message": msg}))
    }

    /// A button press by `from` on the bot's message `message_id` with `data`.
    pub fn inject_callback(&self, from: i64, message_id: i64, data: &str) -> i64 {
        let id = self.shared.with(|i| {
            i.next_callback_id += 1;
            format!("cb-{}", i.next_callback_id)
        });
        self.inject_update(json!({"callback_query": {
            "id": id,
            "from": user(from),
            "chat_instance": format!("ci-{from}"),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": DATE,
                "chat": chat(from),
                "from": bot_user(),
                "text": "…",
            },
        }}))
    }

    /// A photo from `from` (bytes downloadable through `getFile`), with an optional caption.
    pub fn inject_photo(&self, from: i64, bytes: Vec<u8>, caption: Option<&str>) -> i64 {
        let file_id = self.shared.with(|i| {
            let id = format!("photo{}", i.files.len() + 1);
            i.files.insert(id.clone(), bytes.clone());
            id
        });
        let mut msg = json!({
            "message_id": self.next_user_message_id(),
            "date": DATE,
            "chat": chat(from),
            "from": user(from),
            "photo": [
                {"file_id": format!("{file_id}-small"), "file_unique_id": "s", "width": 90, "height": 60, "file_size": 100},
                {"file_id": file_id, "file_unique_id": "l", "width": 640, "height": 480, "file_size": bytes.len()},
            ],
        });
        if let Some(c) = caption {
            msg["caption"] = json!(c);
        }
        self.inject_update(json!({"message": msg}))
    }

    /// A sticker from `from`.
    pub fn inject_sticker(&self, from: i64) -> i64 {
        self.inject_update(json!({"message": {
            "message_id": self.next_user_message_id(),
            "date": DATE,
            "chat": chat(from),
            "from": user(from),
            "sticker": {"file_id": "stk", "file_unique_id": "stk-u", "type": "regular",
                        "width": 512, "height": 512, "is_animated": false, "is_video": false},
        }}))
    }

    /// Makes the next call of `method` (`"*"`: of any method) fail with `f`.
    pub fn fail_next(&self, method: &str, f: Failure) {
        self.shared
            .with(|i| i.failures.push_back((method.to_owned(), f)));
    }

    /// Every call the bot made (except `getUpdates`), in order. Failed ones are recorded as
    /// `<method>!failed`.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.with(|i| i.calls.clone())
    }

    /// The successful `sendMessage`/`sendPhoto` calls, in order.
    pub fn sent(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == "sendMessage" || c.method == "sendPhoto")
            .collect()
    }

    /// The successful `sendMessage` calls to `chat_id`.
    pub fn sent_to(&self, chat_id: i64) -> Vec<Call> {
        self.sent()
            .into_iter()
            .filter(|c| c.chat_id() == Some(chat_id))
            .collect()
    }

    /// What the bot showed last in `chat_id`: the newest `sendMessage` or `editMessageText`.
    pub fn last_shown(&self, chat_id: i64) -> Option<Call> {
        self.calls().into_iter().rev().find(|c| {
            (c.method == "sendMessage" || c.method == "editMessageText")
                && c.chat_id() == Some(chat_id)
        })
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.shared.with(|i| i.calls.clear());
    }

    /// How many `getUpdates` requests arrived.
    pub fn get_updates_count(&self) -> usize {
        self.shared.with(|i| i.get_updates_calls)
    }

    /// Updates not yet confirmed by an `offset`.
    pub fn pending_updates(&self) -> usize {
        self.shared.with(|i| i.updates.len())
    }
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

//! A fake YooKassa API v3 on 127.0.0.1:0: `POST /v3/payments` (redirect confirmation or a
//! saved-method charge), `GET /v3/payments/{id}`, `GET /v3/refunds/{id}`, with Basic auth,
//! `Idempotence-Key` semantics (the same key returns the same payment; it is required), the
//! v3 statuses `pending`, `waiting_for_capture`, `succeeded`, `canceled` (with
//! `cancellation_details`), and test knobs: move a payment to a status, decline saved-method
//! charges with a reason, make a refund, tamper with an object, and deliver a notification to
//! our webhook.
//!
//! ```no_run
//! # async fn demo() {
//! use testkit::fake_yookassa::FakeYooKassa;
//! let yk = FakeYooKassa::start().await;
//! // … our code creates a payment through yk.base_url() …
//! # let payment_id = "x";
//! yk.succeed(payment_id);
//! yk.notify("http://127.0.0.1:8000/api/v1/billing/webhooks/yookassa", "payment.succeeded", payment_id).await;
//! # }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};

/// The shop id the fake accepts.
pub const SHOP_ID: &str = "123456";
/// The secret key the fake accepts.
pub const SECRET_KEY: &str = "test_fake-yookassa-secret-key-0123456789";
/// An address inside YooKassa's published ranges, sent as `X-Forwarded-For` by [`FakeYooKassa::notify`].
pub const YOOKASSA_IP: &str = "185.71.76.10";

/// One recorded `POST /payments`.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub idempotence_key: String,
    pub body: Value,
    /// The payment id answered.
    pub payment_id: String,
    /// Whether it created a new payment (false: an idempotent replay).
    pub created: bool,
}

#[derive(Default)]
struct Inner {
    payments: HashMap<String, Value>,
    refunds: HashMap<String, Value>,
    keys: HashMap<String, String>,
    requests: Vec<Recorded>,
    decline_reason: Option<String>,
    charges_pending: bool,
    test: bool,
    seq: u64,
    unauthorized: u64,
    fail_gets: u32,
}

/// The fake server.
#[derive(Clone)]
pub struct FakeYooKassa {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    client: reqwest::Client,
}

impl std::fmt::Debug for FakeYooKassa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeYooKassa")
            .field("addr", &self.addr)
            .finish()
    }
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"type": "error", "code": code, "description": description})),
    )
        .into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{SHOP_ID}:{SECRET_KEY}"))
    );
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

fn saved_method(id: &str, saved: bool) -> Value {
    json!({
        "type": "bank_card",
        "id": format!("pm-{id}"),
        "saved": saved,
        "title": "Bank card *4444",
        "card": {
            "first6": "555555",
            "last4": "4444",
            "expiry_month": "12",
            "expiry_year": "2030",
            "card_type": "MasterCard",
            "issuer_country": "RU"
        }
    })
}

async fn create(State(s): State<Arc<Mutex<Inner>>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&headers) {
        lock(&s).unauthorized += 1;
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic auth failed",
        );
    }
    let Some(key) = headers
        .get("idempotence-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Idempotence-Key header is required",
        );
    };
    if key.len() > 64 {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Idempotence-Key is longer than 64 characters",
        );
    }
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "body is not JSON",
        );
    };
    let mut g = lock(&s);
    if let Some(id) = g.keys.get(&key).cloned() {
        let p = g.payments.get(&id).cloned().unwrap_or(Value::Null);
        g.requests.push(Recorded {
            idempotence_key: key,
            body: req,
            payment_id: id,
            created: false,
        });
        return (StatusCode::OK, axum::Json(p)).into_response();
    }
    let Some(amount) = req.get("amount").cloned() else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "amount is required",
        );
    };
    g.seq += 1;
    let id = format!("2f{:06x}-000f-5000-9000-{:012x}", g.seq, g.seq);
    let test = g.test;
    let mut p = json!({
        "id": id,
        "status": "pending",
        "paid": false,
        "amount": amount,
        "created_at": "2026-03-10T09:00:00.000Z",
        "description": req.get("description").cloned().unwrap_or(Value::Null),
        "metadata": req.get("metadata").cloned().unwrap_or(json!({})),
        "recipient": {"account_id": SHOP_ID, "gateway_id": "100500"},
        "refundable": false,
        "test": test,
    });
    let save = req
        .get("save_payment_method")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    p["_save"] = json!(save);
    if let Some(pm) = req.get("payment_method_id").and_then(Value::as_str) {
        // A saved-method charge: immediate result.
        let mut method = saved_method(&id, true);
        method["id"] = json!(pm);
        p["payment_method"] = method;
        if let Some(reason) = g.decline_reason.clone() {
            p["status"] = json!("canceled");
            p["cancellation_details"] = json!({"party": "payment_network", "reason": reason});
        } else if !g.charges_pending {
            p["status"] = json!("succeeded");
            p["paid"] = json!(true);
        }
    } else if let Some(conf) = req.get("confirmation") {
        p["confirmation"] = json!({
            "type": "redirect",
            "return_url": conf.get("return_url").cloned().unwrap_or(Value::Null),
            "confirmation_url": format!("https://yoomoney.ru/checkout/payments/v2/contract?orderId={id}"),
        });
    }
    g.payments.insert(id.clone(), p.clone());
    g.keys.insert(key.clone(), id.clone());
    g.requests.push(Recorded {
        idempotence_key: key,
        body: req,
        payment_id: id,
        created: true,
    });
    (StatusCode::OK, axum::Json(public(&p))).into_response()
}

fn public(p: &Value) -> Value {
    let mut v = p.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("_save");
    }
    v
}

async fn get_payment(
    State(s): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic auth failed",
        );
    }
    {
        let mut g = lock(&s);
        if g.fail_gets > 0 {
            g.fail_gets -= 1;
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_server_error",
                "try later",
            );
        }
    }
    match lock(&s).payments.get(&id) {
        Some(p) => (StatusCode::OK, axum::Json(public(p))).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Payment not found"),
    }
}

async fn get_refund(
    State(s): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if !authorized(&headers) {
        return error(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Basic auth failed",
        );
    }
    match lock(&s).refunds.get(&id) {
        Some(r) => (StatusCode::OK, axum::Json(r.clone())).into_response(),
        None => error(StatusCode::NOT_FOUND, "not_found", "Refund not found"),
    }
}

impl FakeYooKassa {
    /// Starts the fake (objects carry `test: true`, as a test shop's do).
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            test: true,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/v3/payments", post(create))
            .route("/v3/payments/{id}", get(get_payment))
            .route("/v3/refunds/{id}", get(get_refund))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind fake yookassa: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("fake yookassa addr: {e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            inner,
            client: reqwest::Client::new(),
        }
    }

    /// `http://127.0.0.1:PORT/v3`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v3", self.addr)
    }

    /// Objects report `test: <flag>` (a live shop answers `false`).
    pub fn set_test_flag(&self, test: bool) {
        lock(&self.inner).test = test;
    }

    /// Saved-method charges are declined with `reason` (e.g. `card_expired`,
    /// `insufficient_funds`) until called with `None`.
    pub fn decline_charges(&self, reason: Option<&str>) {
        lock(&self.inner).decline_reason = reason.map(str::to_string);
    }

    /// The next `n` `GET /payments/{id}` answer HTTP 500.
    pub fn fail_gets(&self, n: u32) {
        lock(&self.inner).fail_gets = n;
    }

    /// Saved-method charges stay `pending` instead of succeeding at once.
    pub fn charges_pending(&self, pending: bool) {
        lock(&self.inner).charges_pending = pending;
    }

    /// Marks payment `id` succeeded (paid; the card saved when the creation asked to save it).
    pub fn succeed(&self, id: &str) {
        let mut g = lock(&self.inner);
        if let Some(p) = g.payments.get_mut(id) {
            let save = p.get("_save").and_then(Value::as_bool).unwrap_or(false);
            p["status"] = json!("succeeded");
            p["paid"] = json!(true);
            if p.get("payment_method").is_none() {
                p["payment_method"] = saved_method(id, save);
            }
        }
    }

    /// Cancels payment `id` with `reason`.
    pub fn cancel(&self, id: &str, reason: &str) {
        let mut g = lock(&self.inner);
        if let Some(p) = g.payments.get_mut(id) {
            p["status"] = json!("canceled");
            p["paid"] = json!(false);
            p["cancellation_details"] = json!({"party": "yoo_money", "reason": reason});
        }
    }

    /// Sets any status (`pending`, `waiting_for_capture`, `succeeded`, `canceled`).
    pub fn set_status(&self, id: &str, status: &str) {
        match status {
            "succeeded" => self.succeed(id),
            "canceled" => self.cancel(id, "expired_on_confirmation"),
            other => {
                if let Some(p) = lock(&self.inner).payments.get_mut(id) {
                    p["status"] = json!(other);
                }
            }
        }
    }

    /// Changes a stored payment object (e.g. its amount) with `f`.
    pub fn tamper(&self, id: &str, f: impl FnOnce(&mut Value)) {
        if let Some(p) = lock(&self.inner).payments.get_mut(id) {
            f(p);
        }
    }

    /// The payment object as the API would answer it.
    pub fn payment(&self, id: &str) -> Option<Value> {
        lock(&self.inner).payments.get(id).map(public)
    }

    /// Creates a succeeded refund of `amount` (e.g. `"299.00"`) for payment `payment_id`.
    pub fn refund(&self, payment_id: &str, amount: &str) -> String {
        let mut g = lock(&self.inner);
        g.seq += 1;
        let id = format!("rf{:06x}-0015-5000-8000-{:012x}", g.seq, g.seq);
        let r = json!({
            "id": id,
            "payment_id": payment_id,
            "status": "succeeded",
            "amount": {"value": amount, "currency": "RUB"},
            "created_at": "2026-03-10T09:00:00.000Z",
        });
        g.refunds.insert(id.clone(), r);
        id
    }

    /// Every `POST /payments` received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner).requests.clone()
    }

    /// How many payments were created (idempotent replays not counted).
    pub fn created_count(&self) -> usize {
        lock(&self.inner)
            .requests
            .iter()
            .filter(|r| r.created)
            .count()
    }

    /// How many saved-method charges were created.
    pub fn charge_count(&self) -> usize {
        lock(&self.inner)
            .requests
            .iter()
            .filter(|r| r.created && r.body.get("payment_method_id").is_some())
            .count()
    }

    /// Requests refused for bad credentials.
    pub fn unauthorized_count(&self) -> u64 {
        lock(&self.inner).unauthorized
    }

    /// Delivers a notification for object `object_id` (a payment, or a refund for `refund.*`)
    /// to `webhook_url`, from a YooKassa address (`X-Forwarded-For`), as YooKassa would.
    pub async fn notify(&self, webhook_url: &str, event: &str, object_id: &str) -> (u16, Value) {
        let object = {
            let g = lock(&self.inner);
            if event.starts_with("refund.") {
                g.refunds.get(object_id).cloned()
            } else {
                g.payments.get(object_id).map(public)
            }
        }
        .unwrap_or_else(
            || json!({"id": object_id, "status": event.rsplit('.').next().unwrap_or("")}),
        );
        self.notify_raw(
            webhook_url,
            &json!({"type": "notification", "event": event, "object": object}),
            Some(YOOKASSA_IP),
        )
        .await
    }

    /// Posts `body` to `webhook_url`, with `X-Forwarded-For: forwarded_for` when given.
    pub async fn notify_raw(
        &self,
        webhook_url: &str,
        body: &Value,
        forwarded_for: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self.client.post(webhook_url).json(body);
        if let Some(ip) = forwarded_for {
            req = req.header("X-Forwarded-For", ip);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("webhook delivery: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

//! The YooKassa API v3 client: create a payment (redirect confirmation or a saved method), get
//! a payment, get a refund. HTTPS with Basic auth (shop id, secret key), an `Idempotence-Key` on
//! every POST, a timeout on every call, errors classified (timeout, connect, auth, bad request,
//! not found, status, decode), a metric and a log line with the duration per call. Retries
//! happen in one layer above (the job queue), never here.

use std::time::{Duration, Instant};

use domain::money::Kopecks;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// The default API base.
pub const DEFAULT_API_URL: &str = "https://api.yookassa.ru/v3";

/// How to reach YooKassa.
#[derive(Debug, Clone)]
pub struct YooKassaConfig {
    pub api_url: url::Url,
    pub shop_id: String,
    pub secret_key: SecretString,
    pub timeout: Duration,
}

/// A classified failure of one call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YooKassaError {
    #[error("YooKassa did not answer within the timeout")]
    Timeout,
    #[error("cannot reach YooKassa: {0}")]
    Connect(String),
    #[error("YooKassa refused the shop credentials (401)")]
    Unauthorized,
    #[error("YooKassa forbade the operation (403): {0}")]
    Forbidden(String),
    #[error("YooKassa rejected the request (400): {0}")]
    BadRequest(String),
    #[error("YooKassa does not know this object (404)")]
    NotFound,
    #[error("YooKassa answered HTTP {0}: {1}")]
    Status(u16, String),
    #[error("YooKassa's answer could not be read: {0}")]
    Decode(String),
}

impl YooKassaError {
    /// Worth retrying later (the same idempotence key makes a retry safe).
    pub fn is_transient(&self) -> bool {
        match self {
            YooKassaError::Timeout | YooKassaError::Connect(_) | YooKassaError::Decode(_) => true,
            YooKassaError::Status(code, _) => *code == 429 || *code >= 500,
            _ => false,
        }
    }

    fn outcome(&self) -> &'static str {
        match self {
            YooKassaError::Timeout => "timeout",
            YooKassaError::Connect(_) => "network_error",
            YooKassaError::Unauthorized | YooKassaError::Forbidden(_) => "auth_error",
            YooKassaError::BadRequest(_) => "bad_request",
            YooKassaError::NotFound => "not_found",
            YooKassaError::Status(..) => "server_error",
            YooKassaError::Decode(_) => "decode_error",
        }
    }
}

/// 54-FZ receipt settings (optional, by configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptSettings {
    /// YooKassa `vat_code` (1 = no VAT … 6).
    pub vat_code: u8,
    /// Used when the user has no e-mail of their own.
    pub fallback_email: Option<String>,
}

/// A receipt customer: an e-mail or a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptCustomer {
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A payment to create.
#[derive(Debug, Clone)]
pub struct NewPayment {
    pub amount: Kopecks,
    pub description: String,
    /// Redirect confirmation back to this URL (`None` for a saved-method charge).
    pub return_url: Option<String>,
    /// Charge this saved method (renewals).
    pub payment_method_id: Option<String>,
    pub save_payment_method: bool,
    pub metadata: Value,
    /// 54-FZ receipt (settings, customer).
    pub receipt: Option<(ReceiptSettings, ReceiptCustomer)>,
    /// Written to our database before the call.
    pub idempotence_key: String,
}

impl NewPayment {
    /// The JSON body of `POST /payments`.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "amount": { "value": self.amount.to_decimal(), "currency": "RUB" },
            "capture": true,
            "description": truncate(&self.description, 128),
            "metadata": self.metadata,
        });
        if let Some(url) = &self.return_url {
            body["confirmation"] = json!({ "type": "redirect", "return_url": url });
        }
        if let Some(pm) = &self.payment_method_id {
            body["payment_method_id"] = json!(pm);
        }
        if self.save_payment_method {
            body["save_payment_method"] = json!(true);
        }
        if let Some((settings, customer)) = &self.receipt {
            let mut c = serde_json::Map::new();
            if let Some(e) = &customer.email {
                c.insert("email".into(), json!(e));
            }
            if let Some(p) = &customer.phone {
                c.insert("phone".into(), json!(p));
            }
            body["receipt"] = json!({
                "customer": c,
                "items": [{
                    "description": truncate(&self.description, 128),
                    "quantity": "1.00",
                    "amount": { "value": self.amount.to_decimal(), "currency": "RUB" },
                    "vat_code": settings.vat_code,
                    "payment_mode": "full_payment",
                    "payment_subject": "service",
                }],
            });
        }
        body
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The saved-method part of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PaymentMethod {
    pub id: String,
    pub saved: bool,
    pub last4: Option<String>,
    pub card_type: Option<String>,
    /// `MM/YYYY`.
    pub expiry: Option<String>,
}

/// A payment as YooKassa reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderPayment {
    pub id: String,
    pub status: String,
    pub amount: Kopecks,
    pub currency: String,
    pub paid: bool,
    pub test: bool,
    pub metadata: Value,
    pub confirmation_url: Option<String>,
    pub payment_method: Option<PaymentMethod>,
    pub cancellation_reason: Option<String>,
}

impl ProviderPayment {
    /// Reads the v3 payment object.
    pub fn from_json(v: &Value) -> Result<Self, YooKassaError> {
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let id = s("id").ok_or_else(|| YooKassaError::Decode("payment without id".into()))?;
        let status =
            s("status").ok_or_else(|| YooKassaError::Decode("payment without status".into()))?;
        let (amount, currency) = amount_of(v)?;
        let pm = v.get("payment_method").filter(|p| p.is_object()).map(|p| {
            let card = p.get("card");
            let cs = |k: &str| {
                card.and_then(|c| c.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            PaymentMethod {
                id: p
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                saved: p.get("saved").and_then(Value::as_bool).unwrap_or(false),
                last4: cs("last4"),
                card_type: cs("card_type"),
                expiry: match (cs("expiry_month"), cs("expiry_year")) {
                    (Some(m), Some(y)) => Some(format!("{m}/{y}")),
                    _ => None,
                },
            }
        });
        Ok(Self {
            id,
            status,
            amount,
            currency,
            paid: v.get("paid").and_then(Value::as_bool).unwrap_or(false),
            test: v.get("test").and_then(Value::as_bool).unwrap_or(false),
            metadata: v.get("metadata").cloned().unwrap_or(Value::Null),
            confirmation_url: v
                .get("confirmation")
                .and_then(|c| c.get("confirmation_url"))
                .and_then(Value::as_str)
                .map(str::to_string),
            payment_method: pm,
            cancellation_reason: v
                .get("cancellation_details")
                .and_then(|c| c.get("reason"))
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// `metadata.payment_id`: our payment id.
    pub fn local_payment_id(&self) -> Option<&str> {
        self.metadata.get("payment_id").and_then(Value::as_str)
    }
}

fn amount_of(v: &Value) -> Result<(Kopecks, String), YooKassaError> {
    let a = v
        .get("amount")
        .ok_or_else(|| YooKassaError::Decode("object without amount".into()))?;
    let value = a
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| YooKassaError::Decode("amount.value is not a string".into()))?;
    let k = Kopecks::parse_decimal(value).map_err(|e| YooKassaError::Decode(e.to_string()))?;
    let cur = a
        .get("currency")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok((k, cur))
}

/// A refund as YooKassa reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderRefund {
    pub id: String,
    pub payment_id: String,
    pub status: String,
    pub amount: Kopecks,
    pub currency: String,
}

impl ProviderRefund {
    pub fn from_json(v: &Value) -> Result<Self, YooKassaError> {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| YooKassaError::Decode(format!("refund without {k}")))
        };
        let (amount, currency) = amount_of(v)?;
        Ok(Self {
            id: s("id")?,
            payment_id: s("payment_id")?,
            status: s("status")?,
            amount,
            currency,
        })
    }
}

/// The client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct YooKassa {
    http: reqwest::Client,
    config: YooKassaConfig,
}

impl YooKassa {
    pub fn new(config: YooKassaConfig) -> Result<Self, YooKassaError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("eatfit/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| YooKassaError::Connect(e.to_string()))?;
        Ok(Self { http, config })
    }

    pub fn shop_id(&self) -> &str {
        &self.config.shop_id
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.config.api_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    /// `POST /payments` with `Idempotence-Key`.
    pub async fn create_payment(&self, p: &NewPayment) -> Result<ProviderPayment, YooKassaError> {
        let op = if p.payment_method_id.is_some() {
            "charge_saved_method"
        } else {
            "create_payment"
        };
        let req = self
            .http
            .post(self.url("payments"))
            .header("Idempotence-Key", &p.idempotence_key)
            .json(&p.body());
        let v = self.call(op, req).await?;
        ProviderPayment::from_json(&v)
    }

    /// `GET /payments/{id}`.
    pub async fn get_payment(&self, id: &str) -> Result<ProviderPayment, YooKassaError> {
        let req = self
            .http
            .get(self.url(&format!("payments/{}", path_segment(id))));
        let v = self.call("get_payment", req).await?;
        ProviderPayment::from_json(&v)
    }

    /// `GET /refunds/{id}`.
    pub async fn get_refund(&self, id: &str) -> Result<ProviderRefund, YooKassaError> {
        let req = self
            .http
            .get(self.url(&format!("refunds/{}", path_segment(id))));
        let v = self.call("get_refund", req).await?;
        ProviderRefund::from_json(&v)
    }

    async fn call(
        &self,
        op: &'static str,
        req: reqwest::RequestBuilder,
    ) -> Result<Value, YooKassaError> {
        let started = Instant::now();
        let result = self.send(req).await;
        let elapsed = started.elapsed();
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.outcome(),
        };
        metrics::counter!("eatfit_yookassa_requests_total", "op" => op, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("eatfit_yookassa_request_duration_seconds", "op" => op)
            .record(elapsed.as_secs_f64());
        let duration_ms = elapsed.as_millis() as u64;
        match &result {
            Ok(_) => tracing::info!(
                callee = "yookassa",
                op,
                duration_ms,
                outcome,
                "YooKassa call"
            ),
            Err(e) => {
                tracing::warn!(callee = "yookassa", op, duration_ms, outcome, error = %e, "YooKassa call failed")
            }
        }
        result
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, YooKassaError> {
        let resp = req
            .basic_auth(
                &self.config.shop_id,
                Some(self.config.secret_key.expose_secret()),
            )
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    YooKassaError::Timeout
                } else {
                    YooKassaError::Connect(without_url(&e))
                }
            })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                YooKassaError::Timeout
            } else {
                YooKassaError::Decode(without_url(&e))
            }
        })?;
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let description = body
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect::<String>();
        match status {
            200..=299 => {
                if body.is_object() {
                    Ok(body)
                } else {
                    Err(YooKassaError::Decode(
                        "the body is not a JSON object".into(),
                    ))
                }
            }
            400 => Err(YooKassaError::BadRequest(description)),
            401 => Err(YooKassaError::Unauthorized),
            403 => Err(YooKassaError::Forbidden(description)),
            404 => Err(YooKassaError::NotFound),
            other => Err(YooKassaError::Status(other, description)),
        }
    }
}

/// Provider ids are opaque; keep them to a safe path segment.
fn path_segment(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<yookassa>");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_carries_amount_as_a_decimal_string_and_optional_parts() {
        let p = NewPayment {
            amount: Kopecks(299_000),
            description: "Подписка PRO год".into(),
            return_url: Some("https://eatfit24.ru/app".into()),
            payment_method_id: None,
            save_payment_method: false,
            metadata: json!({"payment_id": "x"}),
            receipt: Some((
                ReceiptSettings {
                    vat_code: 1,
                    fallback_email: None,
                },
                ReceiptCustomer {
                    email: Some("a@b.ru".into()),
                    phone: None,
                },
            )),
            idempotence_key: "purchase:x".into(),
        };
        let b = p.body();
        assert_eq!(b["amount"]["value"], "2990.00");
        assert_eq!(b["confirmation"]["type"], "redirect");
        assert!(b.get("save_payment_method").is_none());
        assert_eq!(b["receipt"]["customer"]["email"], "a@b.ru");
        assert_eq!(b["receipt"]["items"][0]["vat_code"], 1);
    }

    #[test]
    fn a_payment_object_is_read_with_card_and_reason() {
        let v = json!({
            "id": "2c1", "status": "canceled", "paid": false, "test": true,
            "amount": {"value": "299.00", "currency": "RUB"},
            "metadata": {"payment_id": "p1"},
            "payment_method": {"id": "pm1", "saved": true, "card": {"last4": "4242", "card_type": "Visa", "expiry_month": "12", "expiry_year": "2030"}},
            "cancellation_details": {"party": "payment_network", "reason": "card_expired"}
        });
        let p = ProviderPayment::from_json(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.amount, Kopecks(29_900));
        assert_eq!(p.local_payment_id(), Some("p1"));
        assert_eq!(p.cancellation_reason.as_deref(), Some("card_expired"));
        let pm = p.payment_method.unwrap_or_default();
        assert_eq!(pm.card_type.as_deref(), Some("Visa"));
        assert_eq!(pm.expiry.as_deref(), Some("12/2030"));
        assert!(ProviderPayment::from_json(&json!({"id": "x"})).is_err());
    }
}

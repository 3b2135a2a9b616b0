//! Billing endpoints under `/api/v1/billing/` (reference/billing.md §3), over the `billing`
//! service. Deliberate differences from the original:
//! * every error is the general envelope (`{"error":{code,message,details}}`); codes keep the
//!   original's names, upper-case (`PAYMENT_METHOD_REQUIRED`, B15); a disabled recurring switch
//!   answers 409 `RECURRING_DISABLED` in the same envelope;
//! * without YooKassa configured (dev) the payment endpoints and the webhook answer 503
//!   `BILLING_NOT_CONFIGURED`; reads (`plans/`, `me/`, `subscription/`, …) keep working;
//! * `create-payment/` is idempotent (`Idempotency-Key` header, or the open pending payment for
//!   the same plan within 10 minutes: 200 with the same payment instead of 201), sells only
//!   active, public, non-test plans (B2), and saves the card only with `auto_renew: true` in
//!   the body while recurring is enabled (explicit consent, B14);
//! * `bind-card/start/` needs recurring enabled (409 otherwise) and only saves the card (B1);
//! * throttles are counted in the database: `me/` + `subscription/` 120 a minute (429 with the
//!   `RATE_LIMIT` contract), payment creations 20 an hour (429 `TOO_MANY_REQUESTS`); the webhook
//!   has none;
//! * money is never a float: `price` and `amount` are decimal strings (`"299.00"`);
//! * `subscription/` dates are Moscow dates like every other date (B15); `autorenew_available`
//!   respects the recurring switch.

mod webhook;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use billing::payments::{Created, PurchaseRequest};
use billing::plans::SubscriptionView;
use billing::{Billing, BillingError, Customer, Kopecks};
use domain::error::Locale;
use serde_json::{Value, json};
use store::entities::{billing_payment as payment, plan};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, envelope_raw};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use crate::views;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(plans))
        .routes(routes!(me))
        .routes(routes!(subscription))
        .routes(routes!(autorenew))
        .routes(routes!(payment_method))
        .routes(routes!(payments))
        .routes(routes!(create_payment))
        .routes(routes!(bind_card))
        .routes(routes!(test_live))
        .merge(webhook::routes())
}

/// A billing error as a response.
pub(crate) struct Failure(pub BillingError, pub Locale);

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Failure(e, locale) = self;
        if let BillingError::Store(inner) = &e {
            tracing::error!(error = %inner, "billing storage error");
        }
        if let BillingError::Provider(p) = &e {
            tracing::warn!(error = %p, "billing provider error");
        }
        let mut resp = envelope_raw(
            e.http_status(),
            e.code(),
            billing::texts::error_message(&e, locale),
            json!({}),
        );
        if let BillingError::TooManyRequests { retry_after_secs } = e
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

type BResult<T> = Result<T, Failure>;

fn service(state: &AppState, locale: Locale) -> BResult<&Billing> {
    state
        .billing()
        .ok_or(Failure(BillingError::NotConfigured, locale))
}

/// `/me/` and `/subscription/` share one polling bucket per user (the original's
/// `billing_polling` scope), counted in the database so it holds across instances.
pub const POLLS_PER_MINUTE: u32 = 120;

async fn polling_throttle(state: &AppState, user: &CurrentUser) -> Result<(), Response> {
    let limit = store::rate_limits::Limit {
        max: POLLS_PER_MINUTE,
        window_secs: 60,
    };
    let key = format!("billing_polling:{}", user.user_id().0);
    match store::rate_limits::hit(state.db(), &key, limit, state.now()).await {
        Ok(store::rate_limits::Verdict::Allowed) => Ok(()),
        Ok(store::rate_limits::Verdict::Limited { retry_after_secs }) => Err(ApiError::Ai(
            domain::error::AiErrorCode::RateLimit,
            Some(retry_after_secs),
        )
        .into_response()),
        Err(e) => Err(Failure(BillingError::Store(e), user.locale).into_response()),
    }
}

fn customer(user: &CurrentUser) -> Customer {
    Customer {
        user_id: user.user_id().0,
        telegram_id: user.telegram_id.get(),
        is_admin: user.is_admin,
    }
}

fn plan_json(p: &plan::Model) -> Value {
    json!({
        "code": p.code,
        "display_name": p.display_name,
        "price": Kopecks(p.price_kopecks).to_decimal(),
        "old_price": p.old_price_kopecks.map(|k| Kopecks(k).whole_rub()),
        "is_popular": false,
        "duration_days": p.duration_days,
        "features": [],
        "daily_photo_limit": p.daily_photo_limit,
        "history_days": p.history_days,
        "ai_recognition": p.ai_recognition,
        "advanced_stats": p.advanced_stats,
        "priority_support": p.priority_support,
    })
}

/// `GET /api/v1/billing/plans/`.
#[utoipa::path(
    get,
    path = "/api/v1/billing/plans/",
    tag = "billing",
    responses(
        (status = 200, description = "Active public plans by price: `[{code, display_name, price: \"299.00\", old_price (roubles|null), is_popular, duration_days, features, daily_photo_limit, history_days, ai_recognition, advanced_stats, priority_support}]`", body = Value),
    )
)]
async fn plans(State(state): State<AppState>) -> BResult<Json<Value>> {
    let list = billing::plans::public_plans(state.db().conn())
        .await
        .map_err(|e| Failure(e, Locale::Ru))?;
    Ok(Json(Value::Array(list.iter().map(plan_json).collect())))
}

/// `GET /api/v1/billing/me/`.
#[utoipa::path(
    get,
    path = "/api/v1/billing/me/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "`{plan_code, plan_name, expires_at, is_active, daily_photo_limit, used_today, remaining_today, test_live_payment_available}` — the effective plan now (expired PRO reads FREE)", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMIT` contract (+ `Retry-After`): 120 polls a minute shared with `subscription/`", body = Value),
    )
)]
async fn me(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, Response> {
    polling_throttle(&state, &user).await?;
    let b = service(&state, user.locale).map_err(IntoResponse::into_response)?;
    let m = billing::plans::me(b, user.user_id().0, user.is_admin)
        .await
        .map_err(|e| Failure(e, user.locale).into_response())?;
    Ok(Json(json!({
        "plan_code": m.plan.code,
        "plan_name": m.plan.display_name,
        "expires_at": m.expires_at.map(views::datetime),
        "is_active": m.is_active,
        "daily_photo_limit": m.daily_photo_limit(),
        "used_today": m.used_today,
        "remaining_today": m.remaining_today(),
        "test_live_payment_available": m.test_live_payment_available,
    })))
}

fn subscription_json(v: &SubscriptionView) -> Value {
    json!({
        "plan": if v.paid { "pro" } else { "free" },
        "plan_display": if v.paid { "PRO" } else { "Free" },
        "expires_at": v.expires_at.map(|d| d.with_timezone(&chrono_tz::Europe::Moscow).format("%Y-%m-%d").to_string()),
        "is_active": v.is_active,
        "autorenew_available": v.autorenew_available,
        "autorenew_enabled": v.autorenew_enabled,
        "card_bound": v.card_bound(),
        "payment_method": method_json(v),
    })
}

fn method_json(v: &SubscriptionView) -> Value {
    json!({
        "is_attached": v.card_bound(),
        "card_mask": v.card_mask,
        "card_brand": v.card_brand,
    })
}

/// `GET /api/v1/billing/subscription/`.
#[utoipa::path(
    get,
    path = "/api/v1/billing/subscription/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "`{plan: free|pro, plan_display, expires_at (YYYY-MM-DD, Moscow), is_active, autorenew_available, autorenew_enabled, card_bound, payment_method{is_attached, card_mask, card_brand}}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMIT` contract (+ `Retry-After`): shared with `me/`", body = Value),
    )
)]
async fn subscription(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Value>, Response> {
    polling_throttle(&state, &user).await?;
    let b = service(&state, user.locale).map_err(IntoResponse::into_response)?;
    let v = billing::plans::subscription_view(b, user.user_id().0)
        .await
        .map_err(|e| Failure(e, user.locale).into_response())?;
    Ok(Json(subscription_json(&v)))
}

/// `POST /api/v1/billing/subscription/autorenew/`.
#[utoipa::path(
    post,
    path = "/api/v1/billing/subscription/autorenew/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{enabled: bool}`; enabling records the user's consent to recurring charges", content_type = "application/json"),
    responses(
        (status = 200, description = "The `subscription/` body", body = Value),
        (status = 400, description = "`VALIDATION_ERROR`, `NOT_AVAILABLE_FOR_FREE`, `PAYMENT_METHOD_REQUIRED`", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "`NO_SUBSCRIPTION`", body = ErrorEnvelope),
        (status = 409, description = "`RECURRING_DISABLED`: BILLING_RECURRING_ENABLED is off", body = ErrorEnvelope),
    )
)]
async fn autorenew(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> BResult<Json<Value>> {
    let b = service(&state, user.locale)?;
    if !b.settings().recurring_enabled {
        return Err(Failure(BillingError::RecurringDisabled, user.locale));
    }
    let enabled = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("enabled").and_then(Value::as_bool))
        .ok_or_else(|| {
            Failure(
                BillingError::Validation("enabled: Обязательное поле.".into()),
                user.locale,
            )
        })?;
    let v = billing::plans::set_autorenew(b, user.user_id().0, enabled)
        .await
        .map_err(|e| Failure(e, user.locale))?;
    Ok(Json(subscription_json(&v)))
}

/// `GET /api/v1/billing/payment-method/`.
#[utoipa::path(
    get,
    path = "/api/v1/billing/payment-method/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "`{is_attached, card_mask, card_brand}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn payment_method(State(state): State<AppState>, user: CurrentUser) -> BResult<Json<Value>> {
    let b = service(&state, user.locale)?;
    let v = billing::plans::subscription_view(b, user.user_id().0)
        .await
        .map_err(|e| Failure(e, user.locale))?;
    Ok(Json(method_json(&v)))
}

fn payment_json(p: &payment::Model) -> Value {
    let status = billing::PaymentStatus::parse(&p.status).map_or("pending", |s| s.public());
    json!({
        "id": p.id,
        "amount": Kopecks(p.amount_kopecks).to_decimal(),
        "currency": p.currency,
        "status": status,
        "purpose": p.purpose,
        "paid_at": p.paid_at.map(views::datetime),
        "description": p.description,
    })
}

/// `GET /api/v1/billing/payments/?limit=N`.
#[utoipa::path(
    get,
    path = "/api/v1/billing/payments/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    params(("limit" = Option<String>, Query, description = "1..100, default 10")),
    responses(
        (status = 200, description = "`{results: [{id, amount: \"299.00\", currency, status (pending|succeeded|canceled|failed|refunded), purpose, paid_at, description}]}` newest first", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn payments(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> BResult<Json<Value>> {
    let b = service(&state, user.locale)?;
    let limit = q
        .get("limit")
        .and_then(|l| l.trim().parse::<u64>().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let rows = billing::payments::history(b, user.user_id().0, limit)
        .await
        .map_err(|e| Failure(e, user.locale))?;
    Ok(Json(
        json!({ "results": rows.iter().map(payment_json).collect::<Vec<_>>() }),
    ))
}

fn created_response(c: Created, extra: Option<Value>) -> Response {
    let mut body = json!({
        "payment_id": c.payment.id,
        "yookassa_payment_id": c.payment.provider_payment_id,
        "confirmation_url": c.confirmation_url,
    });
    if let (Some(obj), Some(Value::Object(more))) = (body.as_object_mut(), extra) {
        obj.extend(more);
    }
    let status = if c.reused {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    (status, Json(body)).into_response()
}

/// `POST /api/v1/billing/create-payment/`.
#[utoipa::path(
    post,
    path = "/api/v1/billing/create-payment/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "The same key returns the same payment")),
    request_body(content = Value, description = "`{plan_code, return_url?, auto_renew?}` (`MONTHLY`/`YEARLY` accepted)", content_type = "application/json"),
    responses(
        (status = 201, description = "`{payment_id, yookassa_payment_id, confirmation_url}`", body = Value),
        (status = 200, description = "The same payment again (same Idempotency-Key, or an open one for this plan within 10 minutes)", body = Value),
        (status = 400, description = "`MISSING_PLAN_CODE`, `INVALID_PLAN`, `INVALID_PAYMENT_REQUEST`", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 409, description = "`IDEMPOTENCY_KEY_REUSED` for another plan", body = ErrorEnvelope),
        (status = 429, description = "`TOO_MANY_REQUESTS`: 20 payment creations per hour", body = ErrorEnvelope),
        (status = 502, description = "`YOOKASSA_API_ERROR`", body = ErrorEnvelope),
        (status = 503, description = "`BILLING_NOT_CONFIGURED`", body = ErrorEnvelope),
    )
)]
async fn create_payment(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> BResult<Response> {
    let b = service(&state, user.locale)?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let req = PurchaseRequest {
        plan_code: v
            .get("plan_code")
            .and_then(Value::as_str)
            .map(str::to_string),
        return_url: v
            .get("return_url")
            .and_then(Value::as_str)
            .map(str::to_string),
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|h| h.to_str().ok())
            .map(str::to_string),
        auto_renew: v
            .get("auto_renew")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    };
    let c = billing::payments::create_purchase(b, &customer(&user), req)
        .await
        .map_err(|e| Failure(e, user.locale))?;
    Ok(created_response(c, None))
}

/// `POST /api/v1/billing/bind-card/start/`.
#[utoipa::path(
    post,
    path = "/api/v1/billing/bind-card/start/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{return_url?}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{payment_id, confirmation_url}`: a 1 ₽ payment that only saves the card", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 409, description = "`RECURRING_DISABLED`", body = ErrorEnvelope),
        (status = 429, description = "`TOO_MANY_REQUESTS`", body = ErrorEnvelope),
        (status = 503, description = "`BILLING_NOT_CONFIGURED`", body = ErrorEnvelope),
    )
)]
async fn bind_card(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> BResult<Response> {
    let b = service(&state, user.locale)?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let c = billing::payments::start_card_binding(
        b,
        &customer(&user),
        v.get("return_url").and_then(Value::as_str),
    )
    .await
    .map_err(|e| Failure(e, user.locale))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"payment_id": c.payment.id, "confirmation_url": c.confirmation_url})),
    )
        .into_response())
}

/// `POST /api/v1/billing/create-test-live-payment/`.
#[utoipa::path(
    post,
    path = "/api/v1/billing/create-test-live-payment/",
    tag = "billing",
    security(("telegram_init_data" = [])),
    responses(
        (status = 201, description = "`{payment_id, yookassa_payment_id, confirmation_url, test_mode: true, amount: \"1.00\", yookassa_mode}`; success never changes the admin's subscription", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 403, description = "`FORBIDDEN`: not an admin, or YOOKASSA_MODE is not prod", body = ErrorEnvelope),
        (status = 404, description = "`TEST_PLAN_NOT_FOUND`", body = ErrorEnvelope),
        (status = 503, description = "`BILLING_NOT_CONFIGURED`", body = ErrorEnvelope),
    )
)]
async fn test_live(State(state): State<AppState>, user: CurrentUser) -> BResult<Response> {
    let b = service(&state, user.locale)?;
    let c = billing::payments::create_test_live(b, &customer(&user))
        .await
        .map_err(|e| Failure(e, user.locale))?;
    let amount = Kopecks(c.payment.amount_kopecks).to_decimal();
    Ok(created_response(
        c,
        Some(
            json!({"test_mode": true, "amount": amount, "yookassa_mode": if b.settings().prod_mode { "prod" } else { "test" }}),
        ),
    ))
}

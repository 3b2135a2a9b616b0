//! Shared helpers of the billing API tests.
#![allow(dead_code)]

use reqwest::Method;
use serde_json::{Value, json};
use testkit::TestApp;
use testkit::app::{BillingSetup, Options};
use testkit::fake_yookassa::FakeYooKassa;

pub const WEBHOOK: &str = "/api/v1/billing/webhooks/yookassa";

/// One app per backend, billing against `yk` (recurring on).
pub async fn apps(yk: &FakeYooKassa) -> Vec<TestApp> {
    apps_with(BillingSetup::with_fake(yk)).await
}

pub async fn apps_with(setup: BillingSetup) -> Vec<TestApp> {
    TestApp::all_with(Options {
        billing: Some(setup),
        ..Options::default()
    })
    .await
}

pub async fn buy(app: &TestApp, tg: i64, plan: &str) -> (u16, Value) {
    let (s, v) = app
        .send_json(
            Method::POST,
            tg,
            "/api/v1/billing/create-payment/",
            Some(json!({"plan_code": plan})),
        )
        .await;
    (s.as_u16(), v)
}

pub async fn buy_with_consent(app: &TestApp, tg: i64, plan: &str) -> (u16, Value) {
    let (s, v) = app
        .send_json(
            Method::POST,
            tg,
            "/api/v1/billing/create-payment/",
            Some(json!({"plan_code": plan, "auto_renew": true})),
        )
        .await;
    (s.as_u16(), v)
}

pub async fn get(app: &TestApp, tg: i64, path: &str) -> Value {
    let (s, v) = app.send_json(Method::GET, tg, path, None).await;
    assert_eq!(s, 200, "{path}: {v}");
    v
}

pub async fn me(app: &TestApp, tg: i64) -> Value {
    get(app, tg, "/api/v1/billing/me/").await
}

/// The provider id of a create-payment answer.
pub fn provider_id(v: &Value) -> String {
    v["yookassa_payment_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no yookassa_payment_id in {v}"))
        .to_string()
}

/// Delivers `event` for `id` from a YooKassa address and processes the queued jobs.
pub async fn deliver(app: &TestApp, yk: &FakeYooKassa, event: &str, id: &str) -> u16 {
    let (s, _) = yk.notify(&app.url(WEBHOOK), event, id).await;
    app.run_billing_jobs().await;
    s
}

/// Buys `plan` for `tg`, pays at the fake and delivers the webhook; returns the provider id.
pub async fn buy_and_pay(
    app: &TestApp,
    yk: &FakeYooKassa,
    tg: i64,
    plan: &str,
    consent: bool,
) -> String {
    let (s, v) = if consent {
        buy_with_consent(app, tg, plan).await
    } else {
        buy(app, tg, plan).await
    };
    assert_eq!(s, 201, "{v}");
    let id = provider_id(&v);
    yk.succeed(&id);
    assert_eq!(deliver(app, yk, "payment.succeeded", &id).await, 200);
    id
}

/// Outbox rows of `kind`.
pub async fn outbox(app: &TestApp, kind: &str) -> Vec<store::entities::notification::Model> {
    jobs::outbox::list(app.db(), Some(kind))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The user id of Telegram user `tg` (after their first request).
pub async fn user_id(app: &TestApp, tg: i64) -> i64 {
    use store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    store::entities::telegram_user::Entity::find()
        .filter(store::entities::telegram_user::Column::TelegramId.eq(tg))
        .one(app.db().conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no telegram user {tg}"))
        .user_id
}

pub async fn subscription(app: &TestApp, tg: i64) -> Option<store::entities::subscription::Model> {
    use store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let uid = user_id(app, tg).await;
    store::entities::subscription::Entity::find()
        .filter(store::entities::subscription::Column::UserId.eq(uid))
        .one(app.db().conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

pub async fn webhook_events(app: &TestApp) -> Vec<store::entities::webhook_event::Model> {
    billing::webhooks::all(&app.billing, 1000)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

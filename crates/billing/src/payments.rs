//! Creating payments: a plan purchase, a card binding, the admin's live test; and the history.
//!
//! The local row — with its purpose, a snapshot of price and duration, and a deterministic
//! idempotency key — is committed **before** YooKassa is called (B18, §10.2), so a webhook can
//! never race the insert and a retry reuses the same key: YooKassa answers a repeated key with
//! the payment it already made. `create-payment` is idempotent for the client too (B9): the
//! same `Idempotency-Key` header, or an open pending payment for the same plan younger than
//! [`REUSE_WINDOW_MINUTES`], returns the existing payment.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use store::entities::{billing_payment as payment, plan, user};

use crate::repo::{exec, stmt};
use crate::texts;
use crate::types::{PaymentPurpose, PaymentStatus, PlanCode};
use crate::yookassa::{NewPayment, ProviderPayment, ReceiptCustomer};
use crate::{Billing, BillingError, Customer, Kopecks};

/// An open pending purchase of the same plan is reused within this window.
pub const REUSE_WINDOW_MINUTES: i64 = 10;
/// Payment creations (purchases, card bindings, live tests) per user per hour.
pub const CREATIONS_PER_HOUR: u64 = 20;
/// The card-binding charge.
pub const CARD_BINDING_AMOUNT: Kopecks = Kopecks(100);

/// A purchase request.
#[derive(Debug, Clone, Default)]
pub struct PurchaseRequest {
    pub plan_code: Option<String>,
    pub return_url: Option<String>,
    /// The client's `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// Explicit consent to recurring charges (B14); only honoured with recurring enabled.
    pub auto_renew: bool,
}

/// A created (or reused) payment.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub payment: payment::Model,
    pub confirmation_url: Option<String>,
    /// True when an existing payment was returned.
    pub reused: bool,
}

fn sanitize_key(k: &str) -> Option<String> {
    let s: String = k
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(32)
        .collect();
    (!s.is_empty()).then_some(s)
}

/// Keeps a client `return_url` only when its host is (a subdomain of) an allowed domain.
pub fn return_url(billing: &Billing, requested: Option<&str>) -> String {
    let allowed = &billing.settings().allowed_return_domains;
    requested
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .filter(|u| {
            u.host_str().is_some_and(|h| {
                allowed
                    .iter()
                    .any(|d| h == d || h.ends_with(&format!(".{d}")))
            })
        })
        .map(|u| u.to_string())
        .unwrap_or_else(|| billing.settings().return_url.clone())
}

/// `POST /create-payment/`.
pub async fn create_purchase(
    billing: &Billing,
    who: &Customer,
    req: PurchaseRequest,
) -> Result<Created, BillingError> {
    let code = req
        .plan_code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or(BillingError::MissingPlanCode)?;
    billing.client()?;
    let db = billing.db();
    let now = billing.now();
    let plan = crate::plans::purchasable(db.conn(), code).await?;
    let client_key = req.idempotency_key.as_deref().and_then(sanitize_key);
    if let Some(key) = &client_key
        && let Some(existing) = by_client_key(db.conn(), who.user_id, key).await?
    {
        if existing.plan_id != Some(plan.id) {
            return Err(BillingError::IdempotencyKeyReused);
        }
        return finish(billing, existing, true).await;
    }
    if client_key.is_none()
        && let Some(open) = open_purchase(db.conn(), who.user_id, plan.id, now).await?
    {
        return finish(billing, open, true).await;
    }
    throttle(billing, who.user_id, now).await?;
    let recurring = billing.settings().recurring_enabled;
    let consent = recurring && req.auto_renew;
    let id = uuid::Uuid::new_v4().to_string();
    let key = format!("purchase:{id}");
    let row = NewRow {
        id: id.clone(),
        user_id: who.user_id,
        plan: Some(&plan),
        purpose: PaymentPurpose::Purchase,
        amount: Kopecks(plan.price_kopecks),
        duration_days: plan.duration_days,
        idempotency_key: key.clone(),
        client_key: client_key.clone(),
        save_payment_method: consent,
        consent_at: consent.then_some(now),
        description: texts::payment_description(PaymentPurpose::Purchase, &plan.display_name),
        return_url: Some(return_url(billing, req.return_url.as_deref())),
        payment_method_id: None,
        billing_period_end: None,
        attempt: 0,
        subscription_id: None,
    };
    match insert(db.conn(), &row, now).await {
        Ok(()) => {}
        Err(e) if e.is_conflict() => {
            // The same client key raced us: answer with the winner.
            if let Some(k) = &client_key
                && let Some(existing) = by_client_key(db.conn(), who.user_id, k).await?
            {
                return finish(billing, existing, true).await;
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(payment_id = %id, user_id = who.user_id, plan = %plan.code, "PAYMENT_CREATED");
    let p = crate::repo::payment(db.conn(), &id)
        .await?
        .ok_or(BillingError::Store(store::StoreError::NotFound))?;
    finish(billing, p, false).await
}

/// `POST /bind-card/start/`: a 1 ₽ payment whose only effect is saving the card (B1).
pub async fn start_card_binding(
    billing: &Billing,
    who: &Customer,
    requested_return_url: Option<&str>,
) -> Result<Created, BillingError> {
    if !billing.settings().recurring_enabled {
        return Err(BillingError::RecurringDisabled);
    }
    billing.client()?;
    let now = billing.now();
    throttle(billing, who.user_id, now).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let row = NewRow {
        id: id.clone(),
        user_id: who.user_id,
        plan: None,
        purpose: PaymentPurpose::CardBinding,
        amount: CARD_BINDING_AMOUNT,
        duration_days: 0,
        idempotency_key: format!("card_binding:{id}"),
        client_key: None,
        save_payment_method: true,
        consent_at: None,
        description: texts::payment_description(PaymentPurpose::CardBinding, ""),
        return_url: Some(return_url(billing, requested_return_url)),
        payment_method_id: None,
        billing_period_end: None,
        attempt: 0,
        subscription_id: None,
    };
    insert(billing.db().conn(), &row, now).await?;
    let p = crate::repo::payment(billing.db().conn(), &id)
        .await?
        .ok_or(BillingError::Store(store::StoreError::NotFound))?;
    finish(billing, p, false).await
}

/// `POST /create-test-live-payment/`: admins only, live shop only; never touches the admin's
/// subscription (B3).
pub async fn create_test_live(billing: &Billing, who: &Customer) -> Result<Created, BillingError> {
    if !who.is_admin {
        return Err(BillingError::Forbidden("not_admin"));
    }
    if !billing.settings().prod_mode {
        return Err(BillingError::Forbidden("not_prod_mode"));
    }
    billing.client()?;
    let db = billing.db();
    let now = billing.now();
    let plan = store::billing::plan_by_code(db.conn(), PlanCode::TestLive.as_str())
        .await?
        .filter(|p| p.is_test && p.is_active)
        .ok_or(BillingError::TestPlanNotFound)?;
    throttle(billing, who.user_id, now).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let row = NewRow {
        id: id.clone(),
        user_id: who.user_id,
        plan: Some(&plan),
        purpose: PaymentPurpose::AdminTest,
        amount: Kopecks(plan.price_kopecks),
        duration_days: 0,
        idempotency_key: format!("admin_test:{id}"),
        client_key: None,
        save_payment_method: false,
        consent_at: None,
        description: texts::payment_description(PaymentPurpose::AdminTest, &plan.display_name),
        return_url: Some(return_url(billing, None)),
        payment_method_id: None,
        billing_period_end: None,
        attempt: 0,
        subscription_id: None,
    };
    insert(db.conn(), &row, now).await?;
    let p = crate::repo::payment(db.conn(), &id)
        .await?
        .ok_or(BillingError::Store(store::StoreError::NotFound))?;
    finish(billing, p, false).await
}

/// The user's payments, newest first (`GET /payments/`).
pub async fn history(
    billing: &Billing,
    user_id: i64,
    limit: u64,
) -> Result<Vec<payment::Model>, BillingError> {
    Ok(payment::Entity::find()
        .filter(payment::Column::UserId.eq(user_id))
        .order_by_desc(payment::Column::CreatedAt)
        .order_by_desc(payment::Column::Id)
        .limit(limit.clamp(1, 100))
        .all(billing.db().conn())
        .await?)
}

async fn throttle(billing: &Billing, user_id: i64, now: DateTime<Utc>) -> Result<(), BillingError> {
    let n = payment::Entity::find()
        .filter(payment::Column::UserId.eq(user_id))
        .filter(payment::Column::Purpose.ne(PaymentPurpose::Renewal.as_str()))
        .filter(payment::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(billing.db().conn())
        .await?;
    if n >= CREATIONS_PER_HOUR {
        return Err(BillingError::TooManyRequests {
            retry_after_secs: 3600,
        });
    }
    Ok(())
}

async fn by_client_key<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    key: &str,
) -> Result<Option<payment::Model>, BillingError> {
    Ok(payment::Entity::find()
        .filter(payment::Column::UserId.eq(user_id))
        .filter(payment::Column::ClientKey.eq(key))
        .one(conn)
        .await?)
}

async fn open_purchase<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    plan_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<payment::Model>, BillingError> {
    Ok(payment::Entity::find()
        .filter(payment::Column::UserId.eq(user_id))
        .filter(payment::Column::PlanId.eq(plan_id))
        .filter(payment::Column::Purpose.eq(PaymentPurpose::Purchase.as_str()))
        .filter(payment::Column::Status.eq(PaymentStatus::Pending.as_str()))
        .filter(payment::Column::CreatedAt.gt(now - Duration::minutes(REUSE_WINDOW_MINUTES)))
        .order_by_desc(payment::Column::CreatedAt)
        .one(conn)
        .await?)
}

/// A payment row to insert.
pub(crate) struct NewRow<'a> {
    pub id: String,
    pub user_id: i64,
    pub plan: Option<&'a plan::Model>,
    pub purpose: PaymentPurpose,
    pub amount: Kopecks,
    pub duration_days: i32,
    pub idempotency_key: String,
    pub client_key: Option<String>,
    pub save_payment_method: bool,
    pub consent_at: Option<DateTime<Utc>>,
    pub description: String,
    pub return_url: Option<String>,
    pub payment_method_id: Option<String>,
    pub billing_period_end: Option<DateTime<Utc>>,
    pub attempt: i32,
    pub subscription_id: Option<i64>,
}

impl NewRow<'_> {
    /// `{provider: <metadata sent to YooKassa>, return_url}`.
    fn metadata(&self, recurring: bool) -> Value {
        json!({
            "provider": {
                "payment_id": self.id,
                "user_id": self.user_id.to_string(),
                "purpose": self.purpose.as_str(),
                "plan_code": self.plan.map(|p| p.code.clone()),
                "billing_mode": if recurring { "RECURRING" } else { "ONE_TIME" },
            },
            "return_url": self.return_url,
        })
    }
}

/// Inserts the row. With `ON CONFLICT DO NOTHING` semantics reported as a conflict error.
pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    r: &NewRow<'_>,
    now: DateTime<Utc>,
) -> Result<(), store::StoreError> {
    let recurring = r.save_payment_method || r.payment_method_id.is_some();
    let inserted = conn
        .query_one_raw(stmt(
            conn,
            "INSERT INTO payments (id, user_id, subscription_id, plan_id, purpose, amount_kopecks, \
             currency, duration_days, status, idempotency_key, payment_method_id, \
             save_payment_method, consent_at, description, billing_period_end, attempt, metadata, \
             created_at, updated_at, client_key) \
             VALUES ($1, $2, $3, $4, $5, $6, 'RUB', $7, 'pending', $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $16, $17) ON CONFLICT DO NOTHING RETURNING id",
            vec![
                r.id.clone().into(),
                r.user_id.into(),
                r.subscription_id.into(),
                r.plan.map(|p| p.id).into(),
                r.purpose.as_str().into(),
                r.amount.0.into(),
                r.duration_days.into(),
                r.idempotency_key.clone().into(),
                r.payment_method_id.clone().into(),
                r.save_payment_method.into(),
                r.consent_at.into(),
                r.description.clone().into(),
                r.billing_period_end.into(),
                r.attempt.into(),
                r.metadata(recurring).into(),
                now.into(),
                r.client_key.clone().into(),
            ],
        ))
        .await?;
    if inserted.is_none() {
        return Err(store::StoreError::Conflict(
            "payment idempotency key or billing period already used".into(),
        ));
    }
    metrics::counter!("eatfit_payments_total", "status" => "created", "purpose" => r.purpose.as_str())
        .increment(1);
    Ok(())
}

/// Returns the payment's confirmation, calling YooKassa when it has not answered yet.
async fn finish(
    billing: &Billing,
    p: payment::Model,
    reused: bool,
) -> Result<Created, BillingError> {
    if p.provider_payment_id.is_some() {
        let url = p.confirmation_url.clone();
        return Ok(Created {
            payment: p,
            confirmation_url: url,
            reused,
        });
    }
    let pp = submit(billing, &p).await?;
    let fresh = crate::repo::payment(billing.db().conn(), &p.id)
        .await?
        .unwrap_or(p);
    Ok(Created {
        payment: fresh,
        confirmation_url: pp.confirmation_url,
        reused,
    })
}

/// Sends the stored payment to YooKassa with its stored idempotency key and records the
/// provider id. A definite refusal marks the row failed; a transient error leaves it pending
/// for a retry with the same key.
pub(crate) async fn submit(
    billing: &Billing,
    p: &payment::Model,
) -> Result<ProviderPayment, BillingError> {
    let client = billing.client()?;
    let db = billing.db();
    let meta = p.metadata.clone().unwrap_or(Value::Null);
    let receipt = match &billing.settings().receipts {
        Some(settings) => {
            let email = user::Entity::find_by_id(p.user_id)
                .one(db.conn())
                .await?
                .map(|u| u.email)
                .filter(|e| e.contains('@') && !e.ends_with("@telegram.user"))
                .or_else(|| settings.fallback_email.clone());
            Some((settings.clone(), ReceiptCustomer { email, phone: None }))
        }
        None => None,
    };
    let req = NewPayment {
        amount: Kopecks(p.amount_kopecks),
        description: p.description.clone(),
        return_url: if p.payment_method_id.is_some() {
            None
        } else {
            meta.get("return_url")
                .and_then(Value::as_str)
                .map(str::to_string)
        },
        payment_method_id: p.payment_method_id.clone(),
        save_payment_method: p.save_payment_method && billing.settings().recurring_enabled,
        metadata: meta.get("provider").cloned().unwrap_or(json!({})),
        receipt,
        idempotence_key: p.idempotency_key.clone(),
    };
    let now = billing.now();
    match client.create_payment(&req).await {
        Ok(pp) => {
            exec(
                db.conn(),
                "UPDATE payments SET provider_payment_id = $1, provider_status = $2, \
                 confirmation_url = $3, updated_at = $4 WHERE id = $5 AND provider_payment_id IS NULL",
                vec![
                    pp.id.clone().into(),
                    pp.status.clone().into(),
                    pp.confirmation_url.clone().into(),
                    now.into(),
                    p.id.clone().into(),
                ],
            )
            .await?;
            Ok(pp)
        }
        Err(e) => {
            if !e.is_transient() {
                exec(
                    db.conn(),
                    "UPDATE payments SET status = 'failed', error_message = $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'pending' AND provider_payment_id IS NULL",
                    vec![e.to_string().into(), now.into(), p.id.clone().into()],
                )
                .await?;
                metrics::counter!("eatfit_payments_total", "status" => "failed", "purpose" => p.purpose.clone())
                    .increment(1);
            }
            tracing::warn!(payment_id = %p.id, error = %e, transient = e.is_transient(), "YooKassa refused or failed to create the payment");
            Err(e.into())
        }
    }
}

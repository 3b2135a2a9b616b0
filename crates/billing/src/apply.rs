//! Applying the provider's verified answer to our rows: one short transaction per payment,
//! compare-and-set on the old status, no HTTP call inside (B18, §5.5). Notifications are
//! pushed to the outbox in the same transaction.

use chrono::{DateTime, Utc};
use jobs::outbox::{self, Notification};
use sea_orm::{ConnectionTrait, DatabaseTransaction, TransactionTrait};
use store::entities::{billing_payment as payment, subscription};

use crate::repo::{self, exec};
use crate::texts::{self, UserMessage};
use crate::types::{self, PaymentPurpose, PaymentStatus, ProviderStatus, Transition};
use crate::yookassa::ProviderPayment;
use crate::{Billing, BillingError, Kopecks, dates};

/// What applying a provider answer did (stored as the webhook verdict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Activated,
    CardSaved,
    AdminTestSucceeded,
    /// Succeeded after we had cancelled or failed it locally: activated and alerted (B7).
    ActivatedAfterLocalCancel,
    Canceled,
    WaitingForCapture,
    /// Nothing to change (duplicate, or still pending).
    NoChange,
    /// The provider's object does not match ours: nothing changed.
    Mismatch(&'static str),
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Activated => "activated",
            Outcome::CardSaved => "card_saved",
            Outcome::AdminTestSucceeded => "admin_test_succeeded",
            Outcome::ActivatedAfterLocalCancel => "activated_after_local_cancel",
            Outcome::Canceled => "canceled",
            Outcome::WaitingForCapture => "waiting_for_capture",
            Outcome::NoChange => "no_change",
            Outcome::Mismatch(why) => why,
        }
    }
}

/// Checks that YooKassa's object is the payment we made: our id in the metadata, the same
/// amount and currency, the test flag of our shop mode.
pub fn verify(
    billing: &Billing,
    p: &payment::Model,
    pp: &ProviderPayment,
) -> Result<(), &'static str> {
    if pp.local_payment_id() != Some(p.id.as_str()) {
        return Err("metadata_mismatch");
    }
    if p.provider_payment_id
        .as_deref()
        .is_some_and(|id| id != pp.id)
    {
        return Err("provider_id_mismatch");
    }
    if pp.amount != Kopecks(p.amount_kopecks) {
        return Err("amount_mismatch");
    }
    if pp.currency != p.currency {
        return Err("currency_mismatch");
    }
    if pp.test == billing.settings().prod_mode {
        return Err("test_flag_mismatch");
    }
    Ok(())
}

/// Verifies and applies the provider's answer for payment `p`.
pub async fn apply(
    billing: &Billing,
    p: &payment::Model,
    pp: &ProviderPayment,
) -> Result<Outcome, BillingError> {
    if let Err(why) = verify(billing, p, pp) {
        tracing::error!(payment_id = %p.id, provider_payment_id = %pp.id, reason = why, "YooKassa object does not match our payment; nothing changed");
        return Ok(Outcome::Mismatch(why));
    }
    let Some(provider) = ProviderStatus::parse(&pp.status) else {
        return Ok(Outcome::Mismatch("unknown_provider_status"));
    };
    let Some(local) = PaymentStatus::parse(&p.status) else {
        return Ok(Outcome::Mismatch("unknown_local_status"));
    };
    match types::transition(local, provider) {
        Transition::Stay => Ok(Outcome::NoChange),
        Transition::Move {
            to: PaymentStatus::Succeeded,
            alert,
        } => succeed(billing, p, pp, local, alert).await,
        Transition::Move {
            to: PaymentStatus::Canceled,
            ..
        } => cancel(billing, p, pp, local).await,
        Transition::Move { to, .. } => {
            let n = exec(
                billing.db().conn(),
                "UPDATE payments SET status = $1, provider_status = $2, updated_at = $3 \
                 WHERE id = $4 AND status = $5",
                vec![
                    to.as_str().into(),
                    pp.status.clone().into(),
                    billing.now().into(),
                    p.id.clone().into(),
                    local.as_str().into(),
                ],
            )
            .await?;
            Ok(if n == 1 {
                Outcome::WaitingForCapture
            } else {
                Outcome::NoChange
            })
        }
    }
}

async fn succeed(
    billing: &Billing,
    p: &payment::Model,
    pp: &ProviderPayment,
    from: PaymentStatus,
    alert: bool,
) -> Result<Outcome, BillingError> {
    let now = billing.now();
    let purpose = PaymentPurpose::parse(&p.purpose).unwrap_or(PaymentPurpose::Purchase);
    let saved_method = pp
        .payment_method
        .as_ref()
        .filter(|m| m.saved && !m.id.is_empty() && p.save_payment_method);
    let txn = billing.db().conn().begin().await?;
    let n = exec(
        &txn,
        "UPDATE payments SET status = 'succeeded', provider_status = $1, paid_at = $2, \
         updated_at = $2, payment_method_id = COALESCE($3, payment_method_id), \
         provider_payment_id = COALESCE(provider_payment_id, $4) WHERE id = $5 AND status = $6",
        vec![
            pp.status.clone().into(),
            now.into(),
            saved_method.map(|m| m.id.clone()).into(),
            pp.id.clone().into(),
            p.id.clone().into(),
            from.as_str().into(),
        ],
    )
    .await?;
    if n == 0 {
        txn.rollback().await?;
        return Ok(Outcome::NoChange);
    }
    let outcome = match purpose {
        PaymentPurpose::Purchase | PaymentPurpose::Renewal => {
            extend(billing, &txn, p, pp, purpose, now).await?;
            Outcome::Activated
        }
        PaymentPurpose::CardBinding => {
            if let Some(m) = saved_method {
                save_card_only(&txn, p.user_id, m, now).await?;
            }
            Outcome::CardSaved
        }
        PaymentPurpose::AdminTest => {
            let text = format!(
                "✅ <b>TEST_LIVE</b>: тестовый платёж {} ₽ прошёл (payment {}). Подписка не изменялась.",
                Kopecks(p.amount_kopecks).whole_rub(),
                texts::html(&p.id)
            );
            outbox::push_to_admins(
                &txn,
                &billing.settings().admins,
                &Notification::new(
                    format!("billing.admin_test:{}", p.id),
                    "billing.admin_test",
                    0,
                    text,
                ),
                now,
            )
            .await?;
            Outcome::AdminTestSucceeded
        }
    };
    if alert {
        let text = format!(
            "🚨 <b>BILLING</b>: платёж {} был отменён у нас, но YooKassa сообщает об успешной оплате. Подписка активирована; проверьте историю платежа.",
            texts::html(&p.id)
        );
        outbox::push_to_admins(
            &txn,
            &billing.settings().admins,
            &Notification::new(
                format!("billing.paid_after_cancel:{}", p.id),
                "billing.paid_after_cancel",
                0,
                text,
            ),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    metrics::counter!("eatfit_payments_total", "status" => "succeeded", "purpose" => purpose.as_str())
        .increment(1);
    tracing::info!(payment_id = %p.id, user_id = p.user_id, purpose = purpose.as_str(), "payment succeeded");
    if alert {
        store::alerts::raise(
            billing.db(),
            "billing_paid_after_cancel",
            &p.id,
            "a payment cancelled locally succeeded at YooKassa",
            now,
        )
        .await?;
        return Ok(Outcome::ActivatedAfterLocalCancel);
    }
    Ok(outcome)
}

/// Activation or extension (§6.4) with the payment's snapshot; the bought plan becomes the
/// subscription's plan and its price/duration the renewal terms (B10).
async fn extend(
    billing: &Billing,
    txn: &DatabaseTransaction,
    p: &payment::Model,
    pp: &ProviderPayment,
    purpose: PaymentPurpose,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let Some(plan_id) = p.plan_id else {
        return Err(BillingError::Validation(format!(
            "payment {} has no plan",
            p.id
        )));
    };
    let plan = repo::plan(txn, plan_id)
        .await?
        .ok_or(BillingError::Store(store::StoreError::NotFound))?;
    let sub = repo::lock_subscription(txn, p.user_id).await?;
    let current = match &sub {
        Some(s) => {
            let own = repo::plan(txn, s.plan_id).await?;
            own.filter(|o| o.code != store::billing::FREE && s.status == "active")
                .map(|_| (s.start_date, s.end_date))
        }
        None => None,
    };
    let (start, end) = dates::extend(current, now, p.duration_days);
    let saved = pp
        .payment_method
        .as_ref()
        .filter(|m| m.saved && !m.id.is_empty() && p.save_payment_method);
    let recurring = billing.settings().recurring_enabled;
    match &sub {
        Some(s) => {
            let (method, mask, brand, expiry) = match saved {
                Some(m) => (
                    Some(m.id.clone()),
                    m.last4.as_ref().map(|l| format!("•••• {l}")),
                    m.card_type.clone(),
                    m.expiry.clone(),
                ),
                None => (
                    s.payment_method_id.clone(),
                    s.card_mask.clone(),
                    s.card_brand.clone(),
                    s.card_expiry.clone(),
                ),
            };
            let (auto_renew, consent) = if saved.is_some() {
                (true, p.consent_at.or(Some(now)))
            } else {
                (s.auto_renew, s.auto_renew_consent_at)
            };
            let next = (recurring && auto_renew && method.is_some())
                .then(|| dates::first_renewal_at(end).max(now));
            exec(
                txn,
                "UPDATE subscriptions SET plan_id = $1, status = 'active', start_date = $2, \
                 end_date = $3, auto_renew = $4, auto_renew_consent_at = $5, payment_method_id = $6, \
                 card_mask = $7, card_brand = $8, card_expiry = $9, renewal_plan_id = $1, \
                 renewal_price_kopecks = $10, renewal_duration_days = $11, renewal_attempts = 0, \
                 next_renewal_at = $12, updated_at = $13 WHERE id = $14",
                vec![
                    plan.id.into(),
                    start.into(),
                    end.into(),
                    auto_renew.into(),
                    consent.into(),
                    method.into(),
                    mask.into(),
                    brand.into(),
                    expiry.into(),
                    p.amount_kopecks.into(),
                    p.duration_days.into(),
                    next.into(),
                    now.into(),
                    s.id.into(),
                ],
            )
            .await?;
        }
        None => {
            let auto_renew = saved.is_some();
            let next = (recurring && auto_renew).then(|| dates::first_renewal_at(end).max(now));
            exec(
                txn,
                "INSERT INTO subscriptions (user_id, plan_id, status, start_date, end_date, \
                 auto_renew, auto_renew_consent_at, payment_method_id, card_mask, card_brand, \
                 card_expiry, renewal_plan_id, renewal_price_kopecks, renewal_duration_days, \
                 renewal_attempts, next_renewal_at, created_at, updated_at) \
                 VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10, $2, $11, $12, 0, $13, $14, $14)",
                vec![
                    p.user_id.into(),
                    plan.id.into(),
                    start.into(),
                    end.into(),
                    auto_renew.into(),
                    saved.and(p.consent_at.or(Some(now))).into(),
                    saved.map(|m| m.id.clone()).into(),
                    saved
                        .and_then(|m| m.last4.as_ref())
                        .map(|l| format!("•••• {l}"))
                        .into(),
                    saved.and_then(|m| m.card_type.clone()).into(),
                    saved.and_then(|m| m.expiry.clone()).into(),
                    p.amount_kopecks.into(),
                    p.duration_days.into(),
                    next.into(),
                    now.into(),
                ],
            )
            .await?;
        }
    }
    exec(
        txn,
        "UPDATE payments SET subscription_id = (SELECT id FROM subscriptions WHERE user_id = $1) \
         WHERE id = $2",
        vec![p.user_id.into(), p.id.clone().into()],
    )
    .await?;
    if let Some(c) = repo::contact(txn, p.user_id).await? {
        outbox::push(
            txn,
            Notification::new(
                format!("billing.payment_succeeded:{}", p.id),
                "billing.payment_succeeded",
                c.telegram_id,
                texts::user_message(
                    UserMessage::PaymentSucceeded {
                        plan: &plan.display_name,
                        until: end,
                    },
                    c.locale,
                ),
            )
            .user(p.user_id),
            now,
        )
        .await?;
        let card = texts::admin_new_pro(
            &c.name,
            c.telegram_id,
            c.username.as_deref(),
            &plan.display_name,
            Kopecks(p.amount_kopecks),
            end,
            purpose == PaymentPurpose::Renewal,
        );
        outbox::push_to_admins(
            txn,
            &billing.settings().admins,
            &Notification::new(
                format!("billing.new_pro:{}", p.id),
                "billing.new_pro",
                0,
                card,
            )
            .reply_markup(serde_json::json!({
                "inline_keyboard": [[{"text": "👤 Открыть профиль в Telegram", "url": format!("tg://user?id={}", c.telegram_id)}]]
            })),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Card binding: save the card, never touch the plan or the dates (B1).
async fn save_card_only(
    txn: &DatabaseTransaction,
    user_id: i64,
    m: &crate::yookassa::PaymentMethod,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let mask = m.last4.as_ref().map(|l| format!("•••• {l}"));
    let sub = repo::lock_subscription(txn, user_id).await?;
    if sub.is_some() {
        exec(
            txn,
            "UPDATE subscriptions SET payment_method_id = $1, card_mask = $2, card_brand = $3, \
             card_expiry = $4, updated_at = $5 WHERE user_id = $6",
            vec![
                m.id.clone().into(),
                mask.into(),
                m.card_type.clone().into(),
                m.expiry.clone().into(),
                now.into(),
                user_id.into(),
            ],
        )
        .await?;
    } else {
        let free = store::billing::free_plan(txn).await?;
        exec(
            txn,
            "INSERT INTO subscriptions (user_id, plan_id, status, start_date, end_date, auto_renew, \
             payment_method_id, card_mask, card_brand, card_expiry, renewal_attempts, created_at, \
             updated_at) VALUES ($1, $2, 'active', $3, $3, FALSE, $4, $5, $6, $7, 0, $3, $3)",
            vec![
                user_id.into(),
                free.id.into(),
                now.into(),
                m.id.clone().into(),
                mask.into(),
                m.card_type.clone().into(),
                m.expiry.clone().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn cancel(
    billing: &Billing,
    p: &payment::Model,
    pp: &ProviderPayment,
    from: PaymentStatus,
) -> Result<Outcome, BillingError> {
    let now = billing.now();
    let reason = pp.cancellation_reason.clone();
    let txn = billing.db().conn().begin().await?;
    let n = exec(
        &txn,
        "UPDATE payments SET status = 'canceled', provider_status = $1, cancellation_reason = $2, \
         error_message = $3, updated_at = $4 WHERE id = $5 AND status = $6",
        vec![
            pp.status.clone().into(),
            reason.clone().into(),
            reason
                .as_ref()
                .map(|r| format!("Cancellation reason: {r}"))
                .into(),
            now.into(),
            p.id.clone().into(),
            from.as_str().into(),
        ],
    )
    .await?;
    if n == 0 {
        txn.rollback().await?;
        return Ok(Outcome::NoChange);
    }
    if p.purpose == PaymentPurpose::Renewal.as_str() {
        dunning(&txn, p, reason.as_deref(), now).await?;
    }
    txn.commit().await?;
    metrics::counter!("eatfit_payments_total", "status" => "canceled", "purpose" => p.purpose.clone())
        .increment(1);
    Ok(Outcome::Canceled)
}

/// A failed renewal attempt: schedule the next one (T−24 h, +1 d, +3 d), or give up — turn
/// auto-renew off and tell the user. A permanent decline clears the card at once.
async fn dunning(
    txn: &DatabaseTransaction,
    p: &payment::Model,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let Some(sub) = repo::lock_subscription(txn, p.user_id).await? else {
        return Ok(());
    };
    let Some(period_end) = p.billing_period_end else {
        return Ok(());
    };
    if sub.end_date != period_end {
        // The period moved on (paid otherwise): this attempt no longer matters.
        return Ok(());
    }
    let permanent = reason.is_some_and(types::is_permanent_decline);
    let failed = u32::try_from(p.attempt.max(1)).unwrap_or(1);
    let next = if permanent {
        None
    } else {
        dates::next_dunning_attempt(period_end, failed, now)
    };
    if permanent {
        exec(
            txn,
            "UPDATE subscriptions SET auto_renew = FALSE, next_renewal_at = NULL, \
             payment_method_id = NULL, card_mask = NULL, card_brand = NULL, card_expiry = NULL, \
             renewal_attempts = $1, updated_at = $2 WHERE id = $3",
            vec![(failed as i32).into(), now.into(), sub.id.into()],
        )
        .await?;
    } else {
        exec(
            txn,
            "UPDATE subscriptions SET auto_renew = $1, next_renewal_at = $2, renewal_attempts = $3, \
             updated_at = $4 WHERE id = $5",
            vec![
                next.is_some().into(),
                next.into(),
                (failed as i32).into(),
                now.into(),
                sub.id.into(),
            ],
        )
        .await?;
    }
    notify_renewal_failed(txn, &sub, p, next, permanent, now).await
}

async fn notify_renewal_failed(
    txn: &DatabaseTransaction,
    sub: &subscription::Model,
    p: &payment::Model,
    next: Option<DateTime<Utc>>,
    card_removed: bool,
    now: DateTime<Utc>,
) -> Result<(), BillingError> {
    let Some(c) = repo::contact(txn, p.user_id).await? else {
        return Ok(());
    };
    let plan_name = match repo::plan(txn, sub.plan_id).await? {
        Some(pl) => pl.display_name,
        None => "PRO".to_string(),
    };
    outbox::push(
        txn,
        Notification::new(
            format!("billing.renewal_failed:{}", p.id),
            "billing.renewal_failed",
            c.telegram_id,
            texts::user_message(
                UserMessage::RenewalFailed {
                    plan: &plan_name,
                    next_attempt: next,
                    card_removed,
                },
                c.locale,
            ),
        )
        .user(p.user_id),
        now,
    )
    .await?;
    Ok(())
}

/// Used by tests and the CLI: whether a connection is PostgreSQL.
#[allow(dead_code)]
pub(crate) fn is_pg(conn: &impl ConnectionTrait) -> bool {
    repo::backend_of(conn) == store::Backend::Postgres
}

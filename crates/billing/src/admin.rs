//! Operator actions (`eatfit admin billing …`): grant PRO, downgrade to FREE, list a user's
//! payments. A grant extends an active PRO period or starts one now, never creates a payment,
//! and tells the user; both take effect at once (no cached plan, B11).

use jobs::outbox::{self, Notification};
use sea_orm::TransactionTrait;
use store::entities::billing_payment as payment;

use crate::repo::{self, exec};
use crate::texts::{self, UserMessage};
use crate::types::PlanCode;
use crate::{Billing, BillingError, dates};

/// The result of a grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub user_id: i64,
    pub plan: String,
    pub end_date: chrono::DateTime<chrono::Utc>,
}

/// Grants `plan` (PRO_MONTHLY or PRO_YEARLY) to the user with `telegram_id`.
pub async fn grant_pro(
    billing: &Billing,
    telegram_id: i64,
    plan: PlanCode,
) -> Result<Granted, BillingError> {
    if !matches!(plan, PlanCode::ProMonthly | PlanCode::ProYearly) {
        return Err(BillingError::InvalidPlan(plan.as_str().into()));
    }
    let db = billing.db();
    let now = billing.now();
    let user_id = repo::user_of_telegram(db.conn(), telegram_id)
        .await?
        .ok_or(BillingError::UnknownUser)?;
    let p = store::billing::plan_by_code(db.conn(), plan.as_str())
        .await?
        .ok_or_else(|| BillingError::InvalidPlan(plan.as_str().into()))?;
    let txn = db.conn().begin().await?;
    let sub = repo::lock_subscription(&txn, user_id).await?;
    let current = match &sub {
        Some(s) => repo::plan(&txn, s.plan_id)
            .await?
            .filter(|o| o.code != store::billing::FREE && s.status == "active")
            .map(|_| (s.start_date, s.end_date)),
        None => None,
    };
    let (start, end) = dates::extend(current, now, p.duration_days);
    match &sub {
        Some(s) => {
            let next = (s.auto_renew && s.payment_method_id.is_some())
                .then(|| dates::first_renewal_at(end).max(now));
            exec(
                &txn,
                "UPDATE subscriptions SET plan_id = $1, status = 'active', start_date = $2, \
                 end_date = $3, renewal_attempts = 0, next_renewal_at = $4, updated_at = $5 WHERE id = $6",
                vec![p.id.into(), start.into(), end.into(), next.into(), now.into(), s.id.into()],
            )
            .await?;
        }
        None => {
            exec(
                &txn,
                "INSERT INTO subscriptions (user_id, plan_id, status, start_date, end_date, auto_renew, \
                 renewal_attempts, created_at, updated_at) VALUES ($1, $2, 'active', $3, $4, FALSE, 0, $5, $5)",
                vec![user_id.into(), p.id.into(), start.into(), end.into(), now.into()],
            )
            .await?;
        }
    }
    if let Some(c) = repo::contact(&txn, user_id).await? {
        outbox::push(
            &txn,
            Notification::new(
                format!("billing.pro_gifted:{user_id}:{}", end.timestamp()),
                "billing.pro_gifted",
                c.telegram_id,
                texts::user_message(
                    UserMessage::ProGifted {
                        plan: &p.display_name,
                        until: end,
                    },
                    c.locale,
                ),
            )
            .user(user_id),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    tracing::info!(user_id, plan = %p.code, end = %end, "PRO granted by an operator");
    Ok(Granted {
        user_id,
        plan: p.code,
        end_date: end,
    })
}

/// Downgrades the user with `telegram_id` to FREE now (auto-renew off; the card is kept).
pub async fn downgrade(billing: &Billing, telegram_id: i64) -> Result<bool, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let user_id = repo::user_of_telegram(db.conn(), telegram_id)
        .await?
        .ok_or(BillingError::UnknownUser)?;
    let free = store::billing::free_plan(db.conn()).await?;
    let n = exec(
        db.conn(),
        "UPDATE subscriptions SET plan_id = $1, status = 'active', start_date = $2, end_date = $2, \
         auto_renew = FALSE, next_renewal_at = NULL, renewal_attempts = 0, updated_at = $2 \
         WHERE user_id = $3",
        vec![free.id.into(), now.into(), user_id.into()],
    )
    .await?;
    tracing::info!(user_id, "downgraded to FREE by an operator");
    Ok(n == 1)
}

/// The payments of the user with `telegram_id`, newest first.
pub async fn payments_of(
    billing: &Billing,
    telegram_id: i64,
    limit: u64,
) -> Result<Vec<payment::Model>, BillingError> {
    let user_id = repo::user_of_telegram(billing.db().conn(), telegram_id)
        .await?
        .ok_or(BillingError::UnknownUser)?;
    crate::payments::history(billing, user_id, limit).await
}

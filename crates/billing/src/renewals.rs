//! Periodic sweeps: renewals with dunning, expiry (downgrade to FREE and the "ends in 3 days"
//! notice), and reconciliation of stale payments with the API (never a blind cancel, B7).
//!
//! Renewal claims are exactly-once: due subscriptions are selected `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL, their `next_renewal_at` is pushed forward by compare-and-set, and the renewal
//! payment is inserted under the unique (subscription, billing period) index with a fresh key
//! per attempt — all in one transaction, committed before YooKassa is called (B8, B13).

use chrono::{DateTime, Duration, Utc};
use jobs::outbox::{self, Notification};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use store::entities::{billing_payment as payment, subscription};

use crate::apply;
use crate::payments::{self, NewRow};
use crate::repo::{self, exec};
use crate::texts::{self, UserMessage};
use crate::types::PaymentPurpose;
use crate::{Billing, BillingError, Kopecks};

/// How long a claimed renewal is invisible to other workers.
pub const CLAIM_LEASE_MINUTES: i64 = 60;
/// Subscriptions claimed per sweep.
pub const BATCH: u64 = 20;
/// "PRO ends in N days" notice.
pub const EXPIRY_NOTICE_DAYS: i64 = 3;

/// What a renewal sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewalRun {
    pub disabled: bool,
    pub claimed: usize,
    pub charged: usize,
    pub errors: usize,
}

/// Claims due renewals and charges their saved cards.
pub async fn run_renewals(billing: &Billing) -> Result<RenewalRun, BillingError> {
    if !billing.settings().recurring_enabled || !billing.is_configured() {
        return Ok(RenewalRun {
            disabled: true,
            ..RenewalRun::default()
        });
    }
    let claimed = claim(billing).await?;
    let mut run = RenewalRun {
        claimed: claimed.len(),
        ..RenewalRun::default()
    };
    for p in claimed {
        match payments::submit(billing, &p).await {
            Ok(pp) => {
                run.charged += 1;
                let fresh = repo::payment(billing.db().conn(), &p.id)
                    .await?
                    .unwrap_or(p);
                // The API's own answer: apply it now rather than waiting for the webhook.
                apply::apply(billing, &fresh, &pp).await?;
            }
            Err(e) => {
                run.errors += 1;
                tracing::warn!(payment_id = %p.id, error = %e, "renewal charge failed; the reconciler retries with the same key");
            }
        }
    }
    Ok(run)
}

async fn claim(billing: &Billing) -> Result<Vec<payment::Model>, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let txn = db.conn().begin().await?;
    // One statement claims the batch: on PostgreSQL the inner SELECT skips rows another worker
    // holds; on SQLite the UPDATE takes the write lock first, so two workers serialise.
    let lock = match repo::backend_of(&txn) {
        store::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        store::Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE subscriptions SET next_renewal_at = $1, updated_at = $2 WHERE id IN (\
         SELECT id FROM subscriptions WHERE status = 'active' AND auto_renew = TRUE \
         AND payment_method_id IS NOT NULL AND next_renewal_at IS NOT NULL AND next_renewal_at <= $2 \
         ORDER BY next_renewal_at LIMIT {BATCH}{lock}) \
         AND next_renewal_at IS NOT NULL AND next_renewal_at <= $2 RETURNING id"
    );
    let rows = txn
        .query_all_raw(repo::stmt(
            &txn,
            &sql,
            vec![
                (now + Duration::minutes(CLAIM_LEASE_MINUTES)).into(),
                now.into(),
            ],
        ))
        .await?;
    let mut ids: Vec<i64> = Vec::with_capacity(rows.len());
    for r in rows {
        ids.push(r.try_get("", "id")?);
    }
    ids.sort_unstable();
    let mut out = Vec::new();
    for id in ids {
        let Some(sub) = subscription::Entity::find_by_id(id).one(&txn).await? else {
            continue;
        };
        let plan_id = sub.renewal_plan_id.unwrap_or(sub.plan_id);
        let Some(plan) = repo::plan(&txn, plan_id).await? else {
            continue;
        };
        let price = Kopecks(sub.renewal_price_kopecks.unwrap_or(plan.price_kopecks));
        let days = sub.renewal_duration_days.unwrap_or(plan.duration_days);
        if !price.is_positive() || days <= 0 || plan.code == store::billing::FREE {
            continue;
        }
        let attempt = sub.renewal_attempts + 1;
        let id = uuid::Uuid::new_v4().to_string();
        let row = NewRow {
            id: id.clone(),
            user_id: sub.user_id,
            plan: Some(&plan),
            purpose: PaymentPurpose::Renewal,
            amount: price,
            duration_days: days,
            // A fresh key per attempt (one row per attempt), stored before the call.
            idempotency_key: format!("renewal:{id}"),
            client_key: None,
            save_payment_method: false,
            consent_at: sub.auto_renew_consent_at,
            description: texts::payment_description(PaymentPurpose::Renewal, &plan.display_name),
            return_url: None,
            payment_method_id: sub.payment_method_id.clone(),
            billing_period_end: Some(sub.end_date),
            attempt,
            subscription_id: Some(sub.id),
        };
        match payments::insert(&txn, &row, now).await {
            Ok(()) => {
                if let Some(p) = repo::payment(&txn, &id).await? {
                    out.push(p);
                }
            }
            Err(e) if e.is_conflict() => {
                tracing::info!(
                    subscription_id = sub.id,
                    "a live renewal for this period exists; not charging again"
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    txn.commit().await?;
    Ok(out)
}

/// What an expiry sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpiryRun {
    pub noticed: usize,
    pub downgraded: usize,
}

/// Sends "PRO ends in 3 days" (or, with auto-renew, the pre-charge notice) and downgrades
/// ended PRO subscriptions with no renewal pending to FREE.
pub async fn run_expiry(billing: &Billing) -> Result<ExpiryRun, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let free = store::billing::free_plan(db.conn()).await?;
    let mut run = ExpiryRun::default();
    let soon = subscription::Entity::find()
        .filter(subscription::Column::Status.eq("active"))
        .filter(subscription::Column::PlanId.ne(free.id))
        .filter(subscription::Column::EndDate.gt(now))
        .filter(subscription::Column::EndDate.lte(now + Duration::days(EXPIRY_NOTICE_DAYS)))
        .order_by_asc(subscription::Column::Id)
        .limit(500)
        .all(db.conn())
        .await?;
    for s in soon {
        let Some(c) = repo::contact(db.conn(), s.user_id).await? else {
            continue;
        };
        let plan_name = repo::plan(db.conn(), s.plan_id)
            .await?
            .map_or_else(|| "PRO".to_string(), |p| p.display_name);
        let renews =
            s.auto_renew && s.payment_method_id.is_some() && billing.settings().recurring_enabled;
        let pushed = outbox::push(
            db.conn(),
            Notification::new(
                format!("billing.pro_ends_soon:{}:{}", s.id, s.end_date.timestamp()),
                "billing.pro_ends_soon",
                c.telegram_id,
                texts::user_message(
                    UserMessage::ProEndsSoon {
                        plan: &plan_name,
                        until: s.end_date,
                        renews,
                    },
                    c.locale,
                ),
            )
            .user(s.user_id),
            now,
        )
        .await?;
        run.noticed += usize::from(pushed.is_some());
    }
    let ended = subscription::Entity::find()
        .filter(subscription::Column::Status.eq("active"))
        .filter(subscription::Column::PlanId.ne(free.id))
        .filter(subscription::Column::EndDate.lte(now))
        .filter(subscription::Column::NextRenewalAt.is_null())
        .order_by_asc(subscription::Column::Id)
        .limit(500)
        .all(db.conn())
        .await?;
    for s in ended {
        let txn = db.conn().begin().await?;
        let n = exec(
            &txn,
            "UPDATE subscriptions SET plan_id = $1, auto_renew = FALSE, next_renewal_at = NULL, \
             renewal_attempts = 0, updated_at = $2 \
             WHERE id = $3 AND plan_id = $4 AND end_date = $5 AND next_renewal_at IS NULL",
            vec![
                free.id.into(),
                now.into(),
                s.id.into(),
                s.plan_id.into(),
                s.end_date.into(),
            ],
        )
        .await?;
        if n == 1 {
            let plan_name = repo::plan(&txn, s.plan_id)
                .await?
                .map_or_else(|| "PRO".to_string(), |p| p.display_name);
            if let Some(c) = repo::contact(&txn, s.user_id).await? {
                outbox::push(
                    &txn,
                    Notification::new(
                        format!("billing.pro_ended:{}:{}", s.id, s.end_date.timestamp()),
                        "billing.pro_ended",
                        c.telegram_id,
                        texts::user_message(UserMessage::ProEnded { plan: &plan_name }, c.locale),
                    )
                    .user(s.user_id),
                    now,
                )
                .await?;
            }
            run.downgraded += 1;
            tracing::info!(
                subscription_id = s.id,
                user_id = s.user_id,
                "expired PRO downgraded to FREE"
            );
        }
        txn.commit().await?;
    }
    Ok(run)
}

/// What a reconciliation sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileRun {
    pub checked: usize,
    pub changed: usize,
    pub failed_unsent: usize,
    pub stale: usize,
}

/// Payments pending longer than this are asked about.
pub const RECONCILE_AFTER_MINUTES: i64 = 15;
/// Payments pending longer than this raise the stale-payment alert.
pub const STALE_AFTER_HOURS: i64 = 24;

/// Asks YooKassa about payments still pending after [`RECONCILE_AFTER_MINUTES`] and applies
/// its answer. Renewals that never reached YooKassa are sent again with their key; other rows
/// that never reached it are failed after a day. Still pending after a day → one admin alert.
pub async fn run_reconcile(billing: &Billing) -> Result<ReconcileRun, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let mut run = ReconcileRun::default();
    if !billing.is_configured() {
        return Ok(run);
    }
    let rows = payment::Entity::find()
        .filter(payment::Column::Status.is_in(["pending", "waiting_for_capture"]))
        .filter(payment::Column::CreatedAt.lte(now - Duration::minutes(RECONCILE_AFTER_MINUTES)))
        .order_by_asc(payment::Column::CreatedAt)
        .limit(100)
        .all(db.conn())
        .await?;
    let mut stale = Vec::new();
    for p in rows {
        run.checked += 1;
        let old = p.created_at <= now - Duration::hours(STALE_AFTER_HOURS);
        let answer = match &p.provider_payment_id {
            Some(pid) => billing.client()?.get_payment(pid).await,
            None if p.purpose == PaymentPurpose::Renewal.as_str() && !old => {
                match payments::submit(billing, &p).await {
                    Ok(pp) => Ok(pp),
                    Err(BillingError::Provider(e)) => Err(e),
                    Err(e) => return Err(e),
                }
            }
            None => {
                if old {
                    run.failed_unsent += exec(
                        db.conn(),
                        "UPDATE payments SET status = 'failed', error_message = $1, updated_at = $2 \
                         WHERE id = $3 AND status = 'pending' AND provider_payment_id IS NULL",
                        vec![
                            "never reached YooKassa".into(),
                            now.into(),
                            p.id.clone().into(),
                        ],
                    )
                    .await? as usize;
                }
                continue;
            }
        };
        match answer {
            Ok(pp) => {
                let fresh = repo::payment(db.conn(), &p.id)
                    .await?
                    .unwrap_or_else(|| p.clone());
                let outcome = apply::apply(billing, &fresh, &pp).await?;
                if !matches!(
                    outcome,
                    apply::Outcome::NoChange | apply::Outcome::Mismatch(_)
                ) {
                    run.changed += 1;
                } else if old {
                    stale.push(p.id.clone());
                }
            }
            Err(e) => {
                tracing::warn!(payment_id = %p.id, error = %e, "reconciliation could not ask YooKassa");
                if old {
                    stale.push(p.id.clone());
                }
            }
        }
    }
    run.stale = stale.len();
    crate::ops::stale_payments_alert(billing, &stale, now).await?;
    Ok(run)
}

/// Used by tests: when the renewal job may next charge `user_id`.
pub async fn next_renewal_of(
    billing: &Billing,
    user_id: i64,
) -> Result<Option<DateTime<Utc>>, BillingError> {
    Ok(repo::subscription_of(billing.db().conn(), user_id)
        .await?
        .and_then(|s| s.next_renewal_at))
}

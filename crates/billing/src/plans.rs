//! Plans: the public list, the purchasable lookup (B2: only active, public, non-test plans
//! with a price), and the status views `/me/` and `/subscription/` are built from.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use store::entities::{plan, subscription};

use crate::repo::{exec, stmt};
use crate::types::PlanCode;
use crate::{Billing, BillingError, Kopecks};

pub mod edit;

/// Active, public, non-test plans by price (`GET /plans/`).
pub async fn public_plans<C: ConnectionTrait>(conn: &C) -> Result<Vec<plan::Model>, BillingError> {
    Ok(plan::Entity::find()
        .filter(plan::Column::IsActive.eq(true))
        .filter(plan::Column::IsTest.eq(false))
        .filter(plan::Column::IsPublic.eq(true))
        .order_by_asc(plan::Column::PriceKopecks)
        .order_by_asc(plan::Column::Id)
        .all(conn)
        .await?)
}

/// A plan the public may buy: active, public, not a test plan, price > 0. Legacy names map to
/// the PRO codes.
pub async fn purchasable<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<plan::Model, BillingError> {
    let invalid = || BillingError::InvalidPlan(code.chars().take(50).collect());
    let parsed = PlanCode::parse(code).ok_or_else(invalid)?;
    let p = store::billing::plan_by_code(conn, parsed.as_str())
        .await?
        .ok_or_else(invalid)?;
    if !p.is_active || p.is_test || !p.is_public || p.price_kopecks <= 0 || p.duration_days <= 0 {
        return Err(invalid());
    }
    Ok(p)
}

/// Operator edit of a plan's price (kopecks) and old price (`None` removes it): a thin alias of
/// [`edit::update`], validated the same way (a refusal is [`BillingError::Validation`]).
/// `false` when the plan does not exist.
pub async fn set_price(
    billing: &Billing,
    code: PlanCode,
    price: Kopecks,
    old_price: Option<Kopecks>,
) -> Result<bool, BillingError> {
    let change = edit::PlanChange {
        price: Some(price),
        old_price: Some(old_price),
        ..edit::PlanChange::default()
    };
    match edit::update(billing, code, &change).await {
        Ok(_) => Ok(true),
        Err(edit::PlanUpdateError::NotFound(_)) => Ok(false),
        Err(edit::PlanUpdateError::Refused(e)) => Err(BillingError::Validation(e.to_string())),
        Err(edit::PlanUpdateError::Billing(e)) => Err(e),
    }
}

/// What `/me/` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct MeStatus {
    pub plan: plan::Model,
    pub expires_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub used_today: u32,
    pub test_live_payment_available: bool,
}

impl MeStatus {
    pub fn daily_photo_limit(&self) -> Option<u32> {
        self.plan
            .daily_photo_limit
            .map(|n| u32::try_from(n).unwrap_or(0))
    }

    pub fn remaining_today(&self) -> Option<u32> {
        self.daily_photo_limit()
            .map(|l| l.saturating_sub(self.used_today))
    }
}

/// The user's status now (fresh: no cache).
pub async fn me(billing: &Billing, user_id: i64, is_admin: bool) -> Result<MeStatus, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let eff = store::billing::effective(db.conn(), user_id, now).await?;
    let today = store::diary::user_today(db.conn(), UserId(user_id), now).await?;
    let used_today = used_photos(db.conn(), user_id, today).await?;
    let expires_at = if eff.is_paid() {
        eff.subscription.as_ref().map(|s| s.end_date)
    } else {
        None
    };
    Ok(MeStatus {
        plan: eff.plan,
        expires_at,
        is_active: true,
        used_today,
        test_live_payment_available: is_admin && billing.settings().prod_mode,
    })
}

async fn used_photos<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    day: NaiveDate,
) -> Result<u32, BillingError> {
    let row = conn
        .query_one_raw(stmt(
            conn,
            "SELECT used FROM photo_quota WHERE user_id = $1 AND day = $2",
            vec![user_id.into(), day.into()],
        ))
        .await?;
    let used: i32 = match row {
        Some(r) => r.try_get("", "used")?,
        None => 0,
    };
    Ok(u32::try_from(used).unwrap_or(0))
}

/// What `/subscription/` and `/payment-method/` show.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionView {
    pub paid: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub autorenew_available: bool,
    pub autorenew_enabled: bool,
    pub card_mask: Option<String>,
    pub card_brand: Option<String>,
}

impl SubscriptionView {
    pub fn card_bound(&self) -> bool {
        self.card_mask.is_some()
    }
}

/// The settings card: `autorenew_available` respects the recurring switch (B15).
pub async fn subscription_view(
    billing: &Billing,
    user_id: i64,
) -> Result<SubscriptionView, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let eff = store::billing::effective(db.conn(), user_id, now).await?;
    let sub: Option<&subscription::Model> = eff.subscription.as_ref();
    let card = sub.and_then(|s| s.payment_method_id.as_ref()).is_some();
    let paid = eff.is_paid();
    Ok(SubscriptionView {
        paid,
        expires_at: if paid { sub.map(|s| s.end_date) } else { None },
        is_active: true,
        autorenew_available: paid && card && billing.settings().recurring_enabled,
        autorenew_enabled: paid && sub.is_some_and(|s| s.auto_renew),
        card_mask: sub.and_then(|s| s.card_mask.clone()),
        card_brand: sub.and_then(|s| s.card_brand.clone()),
    })
}

/// `POST /subscription/autorenew/`: turning it on records the user's consent (B14) and
/// schedules the first renewal attempt; turning it off keeps the card.
pub async fn set_autorenew(
    billing: &Billing,
    user_id: i64,
    enabled: bool,
) -> Result<SubscriptionView, BillingError> {
    if !billing.settings().recurring_enabled {
        return Err(BillingError::RecurringDisabled);
    }
    let db = billing.db();
    let now = billing.now();
    let eff = store::billing::effective(db.conn(), user_id, now).await?;
    let Some(sub) = eff.subscription.clone() else {
        return Err(BillingError::NoSubscription);
    };
    if !eff.is_paid() {
        return Err(BillingError::NotAvailableForFree);
    }
    if enabled {
        if sub.payment_method_id.is_none() {
            return Err(BillingError::PaymentMethodRequired);
        }
        exec(
            db.conn(),
            "UPDATE subscriptions SET auto_renew = TRUE, auto_renew_consent_at = $1, \
             next_renewal_at = $2, renewal_attempts = 0, updated_at = $1 WHERE id = $3",
            vec![
                now.into(),
                crate::dates::first_renewal_at(sub.end_date).max(now).into(),
                sub.id.into(),
            ],
        )
        .await?;
    } else {
        exec(
            db.conn(),
            "UPDATE subscriptions SET auto_renew = FALSE, next_renewal_at = NULL, updated_at = $1 \
             WHERE id = $2",
            vec![now.into(), sub.id.into()],
        )
        .await?;
    }
    subscription_view(billing, user_id).await
}

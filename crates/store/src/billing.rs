//! The billing reads other features share (recognition's quota, the coach panel): the
//! "effective plan" of a user, computed from the subscription row on every call — no cache, so
//! a grant, a downgrade or an expiry is visible at once (reference/billing.md B11).
//! Everything else about billing lives in the `billing` crate.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::StoreError;
use crate::entities::{plan, subscription};

/// Code of the free plan.
pub const FREE: &str = "FREE";

/// A user's subscription together with its plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Effective {
    /// The plan that applies now: the subscription's while it is active and not past its end,
    /// else FREE.
    pub plan: plan::Model,
    /// The row, if the user ever had one.
    pub subscription: Option<subscription::Model>,
    /// The subscription's own plan (may differ from `plan` when expired).
    pub subscription_plan: Option<plan::Model>,
}

impl Effective {
    /// Whether a paid plan applies now.
    pub fn is_paid(&self) -> bool {
        self.plan.code != FREE
    }
}

/// Whether `sub` on `plan` grants that plan at `now` (`end_date == now` is expired).
pub fn grants(sub: &subscription::Model, plan: &plan::Model, now: DateTime<Utc>) -> bool {
    plan.code == FREE || (sub.status == "active" && now < sub.end_date)
}

/// A plan by its code.
pub async fn plan_by_code<C: ConnectionTrait>(
    conn: &C,
    code: &str,
) -> Result<Option<plan::Model>, StoreError> {
    Ok(plan::Entity::find()
        .filter(plan::Column::Code.eq(code))
        .one(conn)
        .await?)
}

/// The FREE plan (seeded by the billing migration).
pub async fn free_plan<C: ConnectionTrait>(conn: &C) -> Result<plan::Model, StoreError> {
    plan_by_code(conn, FREE).await?.ok_or(StoreError::NotFound)
}

/// The effective plan of `user_id` at `now` (two statements at most: the subscription, then
/// the one plan needed).
pub async fn effective<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Effective, StoreError> {
    let sub = subscription::Entity::find()
        .filter(subscription::Column::UserId.eq(user_id))
        .one(conn)
        .await?;
    let Some(sub) = sub else {
        return Ok(Effective {
            plan: free_plan(conn).await?,
            subscription: None,
            subscription_plan: None,
        });
    };
    let own = plan::Entity::find_by_id(sub.plan_id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let plan = if grants(&sub, &own, now) {
        own.clone()
    } else {
        free_plan(conn).await?
    };
    Ok(Effective {
        plan,
        subscription: Some(sub),
        subscription_plan: Some(own),
    })
}

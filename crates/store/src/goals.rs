//! Daily goals. At most one active goal per user: the partial unique index
//! `daily_goals_one_active_per_user` holds the invariant, and every write that activates a goal
//! deactivates the others first, in the same transaction, under the per-user lock
//! ([`crate::profiles`]'s `lock_user`), so concurrent writers queue instead of colliding.

use chrono::{DateTime, Utc};
use domain::ids::UserId;
use domain::nutrition::{GoalSource, GoalTargets, MacroGrams};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::entities::daily_goal;
use crate::profiles::lock_user;
use crate::{Db, StoreError};

/// How often a goal write is retried after a unique-index conflict (a safety net: the per-user
/// lock already serialises writers).
const CONFLICT_ATTEMPTS: usize = 3;

/// The user's active goal, if any.
///
/// # Errors
/// Database errors.
pub async fn active(db: &Db, user: UserId) -> Result<Option<daily_goal::Model>, StoreError> {
    Ok(daily_goal::Entity::find()
        .filter(daily_goal::Column::UserId.eq(user.0))
        .filter(daily_goal::Column::IsActive.eq(true))
        .order_by_desc(daily_goal::Column::CreatedAt)
        .one(db.conn())
        .await?)
}

/// Validated values of a `PUT/PATCH /goals/` body; `None` = not sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GoalValues {
    pub calories: Option<u32>,
    pub protein: Option<MacroGrams>,
    pub fat: Option<MacroGrams>,
    pub carbohydrates: Option<MacroGrams>,
    pub source: Option<GoalSource>,
    pub is_active: Option<bool>,
}

impl GoalValues {
    /// The required values that are missing (wire names, in body order).
    #[must_use]
    pub fn missing(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.calories.is_none() {
            out.push("calories");
        }
        if self.protein.is_none() {
            out.push("protein");
        }
        if self.fat.is_none() {
            out.push("fat");
        }
        if self.carbohydrates.is_none() {
            out.push("carbohydrates");
        }
        out
    }

    fn sets_values(&self) -> bool {
        self.calories.is_some()
            || self.protein.is_some()
            || self.fat.is_some()
            || self.carbohydrates.is_some()
    }
}

/// What an upsert did.
#[derive(Debug, Clone)]
pub enum Upserted {
    /// No active goal existed; this one was created.
    Created(daily_goal::Model),
    /// The active goal was updated in place.
    Updated(daily_goal::Model),
}

/// Why an upsert was refused.
#[derive(Debug, thiserror::Error)]
pub enum GoalWriteError {
    /// Required values are missing (creating a goal, or a full update).
    #[error("missing fields: {0:?}")]
    Missing(Vec<&'static str>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn money(v: MacroGrams) -> f64 {
    v.to_f64()
}

/// `PUT/PATCH /goals/`: updates the active goal, or creates one when there is none.
///
/// * With an active goal: a full update (`partial = false`, all four values required) or a
///   partial one; `is_active: false` deactivates it.
/// * Without: all four values are required whatever the method; the new goal is active unless
///   `is_active: false` is sent.
/// * Source: a goal entered or edited by hand records `MANUAL` unless the client sends a source
///   (fix: the original defaulted new manual goals to `AUTO`). Changing only `is_active` keeps
///   the source.
///
/// # Errors
/// [`GoalWriteError::Missing`] or database errors.
pub async fn upsert_active(
    db: &Db,
    user: UserId,
    values: GoalValues,
    partial: bool,
    now: DateTime<Utc>,
) -> Result<Upserted, GoalWriteError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let txn = db.conn().begin().await.map_err(StoreError::from)?;
        match upsert_in(&txn, user, values, partial, now).await {
            Ok(done) => {
                txn.commit().await.map_err(StoreError::from)?;
                return Ok(done);
            }
            Err(GoalWriteError::Store(e)) if e.is_conflict() && attempt < CONFLICT_ATTEMPTS => {
                let _ = txn.rollback().await;
            }
            Err(e) => {
                let _ = txn.rollback().await;
                return Err(e);
            }
        }
    }
}

async fn upsert_in(
    txn: &DatabaseTransaction,
    user: UserId,
    values: GoalValues,
    partial: bool,
    now: DateTime<Utc>,
) -> Result<Upserted, GoalWriteError> {
    lock_user(txn, user).await?;
    let current = daily_goal::Entity::find()
        .filter(daily_goal::Column::UserId.eq(user.0))
        .filter(daily_goal::Column::IsActive.eq(true))
        .one(txn)
        .await
        .map_err(StoreError::from)?;
    let source = values
        .source
        .or(values.sets_values().then_some(GoalSource::Manual));
    if let Some(goal) = current {
        if !partial {
            let missing = values.missing();
            if !missing.is_empty() {
                return Err(GoalWriteError::Missing(missing));
            }
        }
        let mut row: daily_goal::ActiveModel = goal.into();
        if let Some(v) = values.calories {
            row.calories = Set(i32::try_from(v).unwrap_or(i32::MAX));
        }
        if let Some(v) = values.protein {
            row.protein = Set(money(v));
        }
        if let Some(v) = values.fat {
            row.fat = Set(money(v));
        }
        if let Some(v) = values.carbohydrates {
            row.carbohydrates = Set(money(v));
        }
        if let Some(s) = source {
            row.source = Set(s.as_str().to_owned());
        }
        if let Some(a) = values.is_active {
            row.is_active = Set(a);
        }
        row.updated_at = Set(now);
        return Ok(Upserted::Updated(
            row.update(txn).await.map_err(StoreError::from)?,
        ));
    }
    let (Some(calories), Some(protein), Some(fat), Some(carbohydrates)) = (
        values.calories,
        values.protein,
        values.fat,
        values.carbohydrates,
    ) else {
        return Err(GoalWriteError::Missing(values.missing()));
    };
    let created = daily_goal::ActiveModel {
        user_id: Set(user.0),
        calories: Set(i32::try_from(calories).unwrap_or(i32::MAX)),
        protein: Set(money(protein)),
        fat: Set(money(fat)),
        carbohydrates: Set(money(carbohydrates)),
        source: Set(source.unwrap_or(GoalSource::Manual).as_str().to_owned()),
        is_active: Set(values.is_active.unwrap_or(true)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(StoreError::from)?;
    Ok(Upserted::Created(created))
}

/// `POST /goals/set-auto/`: stores a calculated goal (`source = AUTO`, active) and deactivates
/// the user's other goals, in one transaction. Concurrent calls queue on the per-user lock, so
/// exactly one goal is active afterwards.
///
/// # Errors
/// Database errors.
pub async fn set_auto(
    db: &Db,
    user: UserId,
    targets: GoalTargets,
    now: DateTime<Utc>,
) -> Result<daily_goal::Model, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match set_auto_once(db, user, targets, now).await {
            Err(e) if e.is_conflict() && attempt < CONFLICT_ATTEMPTS => {}
            other => return other,
        }
    }
}

async fn set_auto_once(
    db: &Db,
    user: UserId,
    targets: GoalTargets,
    now: DateTime<Utc>,
) -> Result<daily_goal::Model, StoreError> {
    let txn = db.conn().begin().await?;
    lock_user(&txn, user).await?;
    daily_goal::Entity::update_many()
        .col_expr(daily_goal::Column::IsActive, Expr::value(false))
        .col_expr(daily_goal::Column::UpdatedAt, Expr::value(now))
        .filter(daily_goal::Column::UserId.eq(user.0))
        .filter(daily_goal::Column::IsActive.eq(true))
        .exec(&txn)
        .await?;
    let goal = daily_goal::ActiveModel {
        user_id: Set(user.0),
        calories: Set(i32::try_from(targets.calories).unwrap_or(i32::MAX)),
        protein: Set(money(targets.protein)),
        fat: Set(money(targets.fat)),
        carbohydrates: Set(money(targets.carbohydrates)),
        source: Set(GoalSource::Auto.as_str().to_owned()),
        is_active: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(goal)
}

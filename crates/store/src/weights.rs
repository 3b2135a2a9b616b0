//! The weight log: one entry per user and calendar day, with the Hacker's Diet trend
//! ([`domain::nutrition::weight_trend`]).

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use domain::nutrition::{WeightKg, weight_trend};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::entities::weight_entry;
use crate::profiles::lock_user;
use crate::{Db, StoreError};

/// One log entry with the trend at its date.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    pub entry: weight_entry::Model,
    /// Smoothed weight at this date, kg, two decimals.
    pub trend: f64,
}

/// The user's entries between `from` and `to` (inclusive, either open), ascending by date, each
/// with its trend. The trend is computed over the whole history up to `to`, so a window starting
/// mid-log shows the same trend values as the full log.
///
/// # Errors
/// Database errors.
pub async fn log(
    db: &Db,
    user: UserId,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<TrendPoint>, StoreError> {
    let mut q = weight_entry::Entity::find().filter(weight_entry::Column::UserId.eq(user.0));
    if let Some(to) = to {
        q = q.filter(weight_entry::Column::Date.lte(to));
    }
    let rows = q
        .order_by_asc(weight_entry::Column::Date)
        .all(db.conn())
        .await?;
    let series: Vec<(NaiveDate, f64)> = rows.iter().map(|r| (r.date, r.kg)).collect();
    let trend = weight_trend(&series);
    Ok(rows
        .into_iter()
        .zip(trend)
        .filter(|(r, _)| from.is_none_or(|f| r.date >= f))
        .map(|(entry, trend)| TrendPoint { entry, trend })
        .collect())
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    Created(weight_entry::Model),
    Updated(weight_entry::Model),
}

/// Records the weight of a day: creates the day's entry, or replaces its weight when the day
/// already has one (one entry per day; the unique index `(user_id, date)` holds it).
///
/// # Errors
/// Database errors.
pub async fn record(
    db: &Db,
    user: UserId,
    date: NaiveDate,
    kg: WeightKg,
    now: DateTime<Utc>,
) -> Result<Recorded, StoreError> {
    let txn = db.conn().begin().await?;
    lock_user(&txn, user).await?;
    let existing = weight_entry::Entity::find()
        .filter(weight_entry::Column::UserId.eq(user.0))
        .filter(weight_entry::Column::Date.eq(date))
        .one(&txn)
        .await?;
    let done = match existing {
        Some(row) => {
            let mut row: weight_entry::ActiveModel = row.into();
            row.kg = Set(kg.to_f64());
            row.updated_at = Set(now);
            Recorded::Updated(row.update(&txn).await?)
        }
        None => Recorded::Created(
            weight_entry::ActiveModel {
                user_id: Set(user.0),
                date: Set(date),
                kg: Set(kg.to_f64()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        ),
    };
    txn.commit().await?;
    Ok(done)
}

/// Deletes one of the user's entries. `false` when the id does not exist or is someone else's.
///
/// # Errors
/// Database errors.
pub async fn delete(db: &Db, user: UserId, id: i64) -> Result<bool, StoreError> {
    let res = weight_entry::Entity::delete_many()
        .filter(weight_entry::Column::Id.eq(id))
        .filter(weight_entry::Column::UserId.eq(user.0))
        .exec(db.conn())
        .await?;
    Ok(res.rows_affected > 0)
}

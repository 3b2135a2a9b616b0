//! Profiles: reading and updating the user-editable fields, the avatar, and deleting an account
//! with everything it owns (rows by cascade; the stored files are returned to the caller, who
//! deletes them from media storage after the commit).

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use domain::nutrition::{
    ActivityLevel, DEFAULT_TIMEZONE, Gender, GoalType, MifflinInput, ProfileUpdate,
    effective_timezone, user_today,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};

use crate::entities::{meal, meal_photo, profile, user};
use crate::{Db, StoreError};

/// Takes the per-user write lock for the rest of the transaction: a no-op `UPDATE` of the user's
/// row. On PostgreSQL it is a row lock (`FOR NO KEY UPDATE`, so it does not block inserts that
/// reference the user); on SQLite it makes the transaction a writer before it reads anything, so
/// a later write can never fail with a stale read snapshot.
///
/// # Errors
/// [`StoreError::NotFound`] when the user does not exist.
pub(crate) async fn lock_user<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
) -> Result<(), StoreError> {
    let res = user::Entity::update_many()
        .col_expr(user::Column::LastLogin, Expr::col(user::Column::LastLogin))
        .filter(user::Column::Id.eq(user.0))
        .exec(conn)
        .await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The user's calendar day at `now`, in the profile's time zone (default Europe/Moscow).
#[must_use]
pub fn today(p: &profile::Model, now: DateTime<Utc>) -> NaiveDate {
    user_today(now, effective_timezone(Some(p.timezone.as_str())))
}

/// What the Mifflin-St Jeor calculation reads from a stored profile. Unknown stored codes fall
/// back as the original did: activity ×1.2 (sedentary), goal ×1 (maintenance); an unknown
/// gender counts as missing.
#[must_use]
pub fn mifflin_input(p: &profile::Model) -> MifflinInput {
    MifflinInput {
        gender: p.gender.as_deref().and_then(|g| g.parse::<Gender>().ok()),
        birth_date: p.birth_date,
        height_cm: p.height,
        weight_kg: p.weight,
        activity_level: p.activity_level.parse().unwrap_or(ActivityLevel::Sedentary),
        goal_type: p.goal_type.parse().unwrap_or(GoalType::Maintenance),
    }
}

async fn find<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
) -> Result<Option<profile::Model>, StoreError> {
    Ok(profile::Entity::find()
        .filter(profile::Column::UserId.eq(user.0))
        .one(conn)
        .await?)
}

fn blank(user: UserId, now: DateTime<Utc>) -> profile::ActiveModel {
    profile::ActiveModel {
        user_id: Set(user.0),
        full_name: Set(String::new()),
        activity_level: Set(ActivityLevel::Sedentary.as_str().into()),
        goal_type: Set(GoalType::Maintenance.as_str().into()),
        timezone: Set(DEFAULT_TIMEZONE.name().into()),
        avatar_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// The user's profile. Provisioning always creates one; should it be missing anyway, an empty
/// one is created (concurrent callers converge on the same row).
///
/// # Errors
/// Database errors.
pub async fn get(db: &Db, user: UserId, now: DateTime<Utc>) -> Result<profile::Model, StoreError> {
    if let Some(p) = find(db.conn(), user).await? {
        return Ok(p);
    }
    match blank(user, now).insert(db.conn()).await {
        Ok(p) => Ok(p),
        Err(e) => {
            let e = StoreError::from(e);
            if e.is_conflict() {
                find(db.conn(), user).await?.ok_or(StoreError::NotFound)
            } else {
                Err(e)
            }
        }
    }
}

/// Writes the fields present in a validated update onto `current` (the row just read); absent
/// fields keep their values. Only the changed columns are written, so concurrent updates of
/// different fields do not undo each other. A `null` time zone stores the default zone.
///
/// # Errors
/// Database errors.
pub async fn update(
    db: &Db,
    current: profile::Model,
    update: ProfileUpdate,
    now: DateTime<Utc>,
) -> Result<profile::Model, StoreError> {
    let mut row: profile::ActiveModel = current.into();
    if let Some(v) = update.full_name {
        row.full_name = Set(v.as_str().to_owned());
    }
    if let Some(v) = update.gender {
        row.gender = Set(v.map(|g| g.as_str().to_owned()));
    }
    if let Some(v) = update.birth_date {
        row.birth_date = Set(v);
    }
    if let Some(v) = update.height {
        row.height = Set(v.map(|h| i32::from(h.get())));
    }
    if let Some(v) = update.weight {
        row.weight = Set(v.map(|w| w.to_f64()));
    }
    if let Some(v) = update.activity_level {
        row.activity_level = Set(v.as_str().to_owned());
    }
    if let Some(v) = update.goal_type {
        row.goal_type = Set(v.as_str().to_owned());
    }
    if let Some(v) = update.target_weight {
        row.target_weight = Set(v.map(|w| w.to_f64()));
    }
    if let Some(v) = update.timezone {
        row.timezone = Set(v.unwrap_or(DEFAULT_TIMEZONE).name().to_owned());
    }
    row.updated_at = Set(now);
    Ok(row.update(db.conn()).await?)
}

/// The result of replacing an avatar.
#[derive(Debug, Clone)]
pub struct AvatarChange {
    /// The profile with the new avatar and version.
    pub profile: profile::Model,
    /// The previous avatar's storage key, to delete after the commit.
    pub previous: Option<String>,
}

/// Points the profile at a newly stored avatar and bumps `avatar_version` (the URL's cache
/// buster), in one transaction. Concurrent uploads are serialised on the profile row, so every
/// replaced key is reported to exactly one caller.
///
/// # Errors
/// [`StoreError::NotFound`] without a profile row; database errors.
pub async fn set_avatar(
    db: &Db,
    user: UserId,
    key: &str,
    now: DateTime<Utc>,
) -> Result<AvatarChange, StoreError> {
    let txn = db.conn().begin().await?;
    // Writing first takes the row lock before the old key is read.
    let bumped = profile::Entity::update_many()
        .col_expr(
            profile::Column::AvatarVersion,
            Expr::col(profile::Column::AvatarVersion).add(1),
        )
        .col_expr(profile::Column::UpdatedAt, Expr::value(now))
        .filter(profile::Column::UserId.eq(user.0))
        .exec(&txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    let current = find(&txn, user).await?.ok_or(StoreError::NotFound)?;
    let previous = current.avatar.clone();
    let mut row: profile::ActiveModel = current.into();
    row.avatar = Set(Some(key.to_owned()));
    let profile = row.update(&txn).await?;
    txn.commit().await?;
    Ok(AvatarChange {
        profile,
        previous: previous.filter(|k| k != key),
    })
}

/// Deletes a user and everything they own (profile, Telegram identity, meals with items and
/// photos, goals, weights, surveys, plans … by `ON DELETE CASCADE`), in one transaction.
/// Returns the media keys the deleted rows owned (avatar and every meal photo), which the caller
/// deletes from storage after this returns: files go with the rows, and a failed transaction
/// leaves both in place.
///
/// # Errors
/// [`StoreError::NotFound`] when the user does not exist; database errors.
pub async fn delete_account(db: &Db, user: UserId) -> Result<Vec<String>, StoreError> {
    let txn = db.conn().begin().await?;
    lock_user(&txn, user).await?;
    let mut keys: Vec<String> = profile::Entity::find()
        .select_only()
        .column(profile::Column::Avatar)
        .filter(profile::Column::UserId.eq(user.0))
        .into_tuple::<Option<String>>()
        .all(&txn)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let photos: Vec<String> = meal_photo::Entity::find()
        .select_only()
        .column(meal_photo::Column::Image)
        .filter(
            meal_photo::Column::MealId.in_subquery(
                Query::select()
                    .column(meal::Column::Id)
                    .from(meal::Entity)
                    .and_where(meal::Column::UserId.eq(user.0))
                    .to_owned(),
            ),
        )
        .into_tuple::<String>()
        .all(&txn)
        .await?;
    keys.extend(photos.into_iter().filter(|k| !k.is_empty()));
    user::Entity::delete_by_id(user.0).exec(&txn).await?;
    txn.commit().await?;
    keys.sort();
    keys.dedup();
    Ok(keys)
}

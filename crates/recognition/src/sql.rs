//! The state transitions, each a compare-and-set statement, run inside the caller's
//! transaction.

use chrono::{DateTime, NaiveDate, Utc};
use domain::error::{AiErrorCode, Locale};
use domain::ids::UserId;
use domain::nutrition::{MealStatus, MealType, PhotoStatus, finalize_meal};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, Statement, Value,
};
use store::StoreError;
use store::entities::{ai_task, meal, meal_photo};

use crate::DRAFT_WINDOW_MINUTES;

fn st<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(c.get_database_backend(), sql, values)
}

pub(crate) async fn exec<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64, StoreError> {
    Ok(c.execute_raw(st(c, sql, values)).await?.rows_affected())
}

/// Reserves one photo slot of `day` under `limit`; false when the day is full.
pub(crate) async fn reserve_slot<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    day: NaiveDate,
    limit: Option<u32>,
) -> Result<bool, StoreError> {
    exec(
        c,
        "INSERT INTO photo_quota (user_id, day, used) VALUES ($1, $2, 0) \
         ON CONFLICT (user_id, day) DO NOTHING",
        vec![user.0.into(), day.into()],
    )
    .await?;
    let cap = limit.map_or(i32::MAX, |l| i32::try_from(l).unwrap_or(i32::MAX));
    let n = exec(
        c,
        "UPDATE photo_quota SET used = used + 1 WHERE user_id = $1 AND day = $2 AND used < $3",
        vec![user.0.into(), day.into(), cap.into()],
    )
    .await?;
    Ok(n == 1)
}

/// Slots used on `day`.
pub(crate) async fn quota_used<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    day: NaiveDate,
) -> Result<i32, StoreError> {
    use store::entities::photo_quota;
    Ok(photo_quota::Entity::find()
        .filter(photo_quota::Column::UserId.eq(user.0))
        .filter(photo_quota::Column::Day.eq(day))
        .one(c)
        .await?
        .map_or(0, |q| q.used))
}

/// Which processing tasks to fail.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Tasks {
    /// Every processing task of this photo.
    OfPhoto(i64),
    /// This task (by row id).
    Id(i64),
}

/// Fails the processing tasks selected by `which` with `code` and gives back the quota slots
/// they held (`quota_day` is cleared by the same statement, so a slot is released once).
/// Returns how many tasks changed.
pub(crate) async fn fail_tasks<C: ConnectionTrait>(
    c: &C,
    which: Tasks,
    code: AiErrorCode,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let filter = match which {
        Tasks::OfPhoto(id) => ai_task::Column::MealPhotoId.eq(id),
        Tasks::Id(id) => ai_task::Column::Id.eq(id),
    };
    let open: Vec<(i64, i64, Option<NaiveDate>)> = ai_task::Entity::find()
        .select_only()
        .column(ai_task::Column::Id)
        .column(ai_task::Column::UserId)
        .column(ai_task::Column::QuotaDay)
        .filter(filter)
        .filter(ai_task::Column::Status.eq(crate::status::PROCESSING))
        .into_tuple()
        .all(c)
        .await?;
    let mut n = 0;
    for (id, user, day) in open {
        // The status CAS makes the release happen once, whoever gets here first.
        let changed = exec(
            c,
            "UPDATE ai_tasks SET status = 'failed', error_code = $1, quota_day = NULL, \
             updated_at = $2 WHERE id = $3 AND status = 'processing'",
            vec![code.as_str().into(), now.into(), id.into()],
        )
        .await?;
        if changed == 1 {
            n += 1;
            if let Some(day) = day {
                release_slot(c, user, day).await?;
            }
        }
    }
    if n > 0 {
        metrics::counter!("eatfit_ai_tasks_total", "status" => "failed", "error_code" => code.as_str())
            .increment(n);
    }
    Ok(n)
}

async fn release_slot<C: ConnectionTrait>(
    c: &C,
    user: i64,
    day: NaiveDate,
) -> Result<(), StoreError> {
    exec(
        c,
        "UPDATE photo_quota SET used = used - 1 WHERE user_id = $1 AND day = $2 AND used > 0",
        vec![user.into(), day.into()],
    )
    .await?;
    Ok(())
}

/// Moves a non-terminal photo to FAILED (or CANCELLED for `CANCELLED`) with the catalogue code
/// and message; false when it was already terminal.
pub(crate) async fn terminate_photo<C: ConnectionTrait>(
    c: &C,
    photo_id: i64,
    code: AiErrorCode,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (status, message) = if code == AiErrorCode::Cancelled {
        (PhotoStatus::Cancelled, crate::CANCELLED_MESSAGE.to_owned())
    } else {
        (
            PhotoStatus::Failed,
            code.def().body(Locale::Ru, trace_id, None).user_message,
        )
    };
    let contract =
        serde_json::to_value(code.def().body(Locale::Ru, trace_id, None)).unwrap_or_default();
    let n = exec(
        c,
        "UPDATE meal_photos SET status = $1, error_code = $2, error_message = $3, \
         recognized_data = $4, updated_at = $5 \
         WHERE id = $6 AND status IN ('PENDING', 'PROCESSING')",
        vec![
            status.as_str().into(),
            code.as_str().into(),
            message.into(),
            contract.into(),
            now.into(),
            photo_id.into(),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// Sets the meal's status from its photos (`finalize_meal`); a meal without photos is left
/// alone (manual and text meals have none).
pub(crate) async fn finalize<C: ConnectionTrait>(
    c: &C,
    meal_id: i64,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let statuses: Vec<String> = meal_photo::Entity::find()
        .select_only()
        .column(meal_photo::Column::Status)
        .filter(meal_photo::Column::MealId.eq(meal_id))
        .into_tuple()
        .all(c)
        .await?;
    let outcome = finalize_meal(statuses.iter().map(|s| s.parse().unwrap_or_default()));
    if let Some(status) = outcome.status() {
        set_meal_status(c, meal_id, status, now).await?;
    }
    Ok(())
}

pub(crate) async fn set_meal_status<C: ConnectionTrait>(
    c: &C,
    meal_id: i64,
    status: MealStatus,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    exec(
        c,
        "UPDATE meals SET status = $1, updated_at = $2 WHERE id = $3 AND status <> $1",
        vec![status.as_str().into(), now.into(), meal_id.into()],
    )
    .await?;
    Ok(())
}

/// The user's meal `meal_id`, if owned.
pub(crate) async fn owned_meal<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    meal_id: i64,
) -> Result<Option<meal::Model>, StoreError> {
    Ok(meal::Entity::find_by_id(meal_id)
        .filter(meal::Column::UserId.eq(user.0))
        .one(c)
        .await?)
}

/// §2.1: the owned `meal_id`; else the newest DRAFT/PROCESSING meal of this type and date
/// created within [`DRAFT_WINDOW_MINUTES`]; else a new DRAFT meal.
pub(crate) async fn draft_meal<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    meal_type: MealType,
    date: NaiveDate,
    meal_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    if let Some(id) = meal_id {
        if let Some(m) = owned_meal(c, user, id).await? {
            return Ok(m.id);
        }
        tracing::warn!(
            meal_id = id,
            "meal_id not owned or missing; grouping instead"
        );
    }
    let since = now - chrono::Duration::minutes(DRAFT_WINDOW_MINUTES);
    if let Some(m) = meal::Entity::find()
        .filter(meal::Column::UserId.eq(user.0))
        .filter(meal::Column::MealType.eq(meal_type.as_str()))
        .filter(meal::Column::Date.eq(date))
        .filter(
            meal::Column::Status
                .is_in([MealStatus::Draft.as_str(), MealStatus::Processing.as_str()]),
        )
        .filter(meal::Column::CreatedAt.gte(since))
        .order_by_desc(meal::Column::CreatedAt)
        .order_by_desc(meal::Column::Id)
        .one(c)
        .await?
    {
        return Ok(m.id);
    }
    let m = meal::ActiveModel {
        user_id: Set(user.0),
        meal_type: Set(meal_type.as_str().to_owned()),
        date: Set(date),
        status: Set(MealStatus::Draft.as_str().to_owned()),
        name: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(m.id)
}

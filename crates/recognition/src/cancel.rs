//! Cancellation: cooperative, by compare-and-set, ownership checked for every id, the slot
//! released and the meal always finalised (reference/ai-pipeline.md §1.4–§1.5, §2.5 fixed).

use domain::error::AiErrorCode;
use domain::ids::UserId;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::json;
use store::StoreError;
use store::entities::{ai_task, cancel_event, meal, meal_photo};

use crate::Service;
use crate::sql::{self, Tasks, fail_tasks, finalize, terminate_photo};

/// `POST /api/v1/ai/cancel/` input.
#[derive(Debug, Clone, Default)]
pub struct CancelRequest {
    pub client_cancel_id: String,
    pub run_id: Option<i64>,
    pub meal_id: Option<i64>,
    pub meal_photo_ids: Vec<i64>,
    pub task_ids: Vec<String>,
    pub reason: String,
}

/// What a batch cancel did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelOutcome {
    pub cancelled_tasks: i32,
    pub updated_photos: i32,
    pub noop: bool,
    /// True when `client_cancel_id` had been processed before (stored counters returned).
    pub repeated: bool,
}

/// Cancels the photo (CAS), fails its tasks, releases the slot, finalises the meal.
async fn cancel_photo(
    txn: &DatabaseTransaction,
    photo: &meal_photo::Model,
    trace_id: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, StoreError> {
    let changed = terminate_photo(txn, photo.id, AiErrorCode::Cancelled, trace_id, now).await?;
    fail_tasks(txn, Tasks::OfPhoto(photo.id), AiErrorCode::Cancelled, now).await?;
    finalize(txn, photo.meal_id, now).await?;
    Ok(changed)
}

/// Cancels one owned, processing task. Returns whether anything changed.
async fn cancel_one(
    txn: &DatabaseTransaction,
    task: &ai_task::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool, StoreError> {
    if task.status != crate::status::PROCESSING {
        return Ok(false);
    }
    let photo = match task.meal_photo_id {
        Some(id) => meal_photo::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    match photo {
        Some(p) => {
            let changed = cancel_photo(txn, &p, &task.trace_id, now).await?;
            let settled = fail_tasks(txn, Tasks::Id(task.id), AiErrorCode::Cancelled, now).await?;
            Ok(changed || settled > 0)
        }
        None => Ok(fail_tasks(txn, Tasks::Id(task.id), AiErrorCode::Cancelled, now).await? > 0),
    }
}

pub(crate) async fn cancel_task(
    svc: &Service,
    user: UserId,
    task_id: &str,
) -> Result<bool, StoreError> {
    let now = svc.clock.now();
    let txn = svc.db.conn().begin().await?;
    // A write first (SQLite takes the lock up front): touch the task row only if it is ours.
    sql::exec(
        &txn,
        "UPDATE ai_tasks SET updated_at = updated_at WHERE task_id = $1 AND user_id = $2",
        vec![task_id.into(), user.0.into()],
    )
    .await?;
    let task = ai_task::Entity::find()
        .filter(ai_task::Column::TaskId.eq(task_id))
        .filter(ai_task::Column::UserId.eq(user.0))
        .one(&txn)
        .await?;
    let changed = match task {
        Some(t) => cancel_one(&txn, &t, now).await?,
        None => {
            tracing::info!(task_id, "cancel of an unknown or foreign task ignored");
            false
        }
    };
    txn.commit().await?;
    Ok(changed)
}

async fn stored_outcome<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    client_cancel_id: &str,
) -> Result<CancelOutcome, StoreError> {
    let ev = cancel_event::Entity::find()
        .filter(cancel_event::Column::ClientCancelId.eq(client_cancel_id))
        .one(c)
        .await?;
    Ok(match ev {
        Some(e) if e.user_id == user.0 => CancelOutcome {
            cancelled_tasks: e.cancelled_tasks,
            updated_photos: e.updated_photos,
            noop: e.noop,
            repeated: true,
        },
        _ => CancelOutcome {
            cancelled_tasks: 0,
            updated_photos: 0,
            noop: true,
            repeated: true,
        },
    })
}

pub(crate) async fn cancel_batch(
    svc: &Service,
    user: UserId,
    req: CancelRequest,
) -> Result<CancelOutcome, StoreError> {
    let now = svc.clock.now();
    let txn = svc.db.conn().begin().await?;
    let meal_ref = match req.meal_id {
        Some(id) => meal::Entity::find_by_id(id)
            .filter(meal::Column::UserId.eq(user.0))
            .one(&txn)
            .await?
            .map(|m| m.id),
        None => None,
    };
    if req.meal_id.is_some() && meal_ref.is_none() {
        tracing::warn!(meal_id = ?req.meal_id, "MEAL_MISSING: cancel for a missing or foreign meal");
    }
    let payload = json!({
        "run_id": req.run_id,
        "meal_id": req.meal_id,
        "meal_photo_ids": req.meal_photo_ids,
        "task_ids": req.task_ids,
        "reason": req.reason,
    });
    let row = txn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO cancel_events (user_id, client_cancel_id, run_id, meal_id, payload, \
             cancelled_tasks, updated_photos, noop, created_at) \
             VALUES ($1, $2, $3, $4, $5, 0, 0, true, $6) \
             ON CONFLICT (client_cancel_id) DO NOTHING RETURNING id",
            vec![
                user.0.into(),
                req.client_cancel_id.clone().into(),
                req.run_id.into(),
                meal_ref.into(),
                payload.into(),
                now.into(),
            ],
        ))
        .await?;
    let Some(row) = row else {
        drop(txn);
        return stored_outcome(svc.db.conn(), user, &req.client_cancel_id).await;
    };
    let event_id: i64 = row.try_get("", "id")?;

    let mut cancelled_tasks = 0;
    let mut updated_photos = 0;
    let mut seen_photos = std::collections::HashSet::new();
    if !req.task_ids.is_empty() {
        let tasks = ai_task::Entity::find()
            .filter(ai_task::Column::TaskId.is_in(req.task_ids.iter().cloned()))
            .filter(ai_task::Column::UserId.eq(user.0))
            .all(&txn)
            .await?;
        for t in tasks {
            let photo_before = match t.meal_photo_id {
                Some(id) => meal_photo::Entity::find_by_id(id).one(&txn).await?,
                None => None,
            };
            if cancel_one(&txn, &t, now).await? {
                cancelled_tasks += 1;
                if let Some(p) = photo_before
                    && matches!(p.status.as_str(), "PENDING" | "PROCESSING")
                    && seen_photos.insert(p.id)
                {
                    updated_photos += 1;
                }
            }
        }
    }
    if !req.meal_photo_ids.is_empty() {
        let mut q = meal_photo::Entity::find()
            .filter(meal_photo::Column::Id.is_in(req.meal_photo_ids.iter().copied()))
            .filter(
                meal_photo::Column::MealId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(meal::Column::Id)
                        .from(meal::Entity)
                        .and_where(meal::Column::UserId.eq(user.0))
                        .to_owned(),
                ),
            );
        if let Some(mid) = req.meal_id {
            q = q.filter(meal_photo::Column::MealId.eq(mid));
        }
        for p in q.all(&txn).await? {
            let trace = format!("cancel-{}", req.client_cancel_id);
            if cancel_photo(&txn, &p, &trace, now).await? && seen_photos.insert(p.id) {
                updated_photos += 1;
            }
        }
    }
    let noop = cancelled_tasks == 0 && updated_photos == 0;
    sql::exec(
        &txn,
        "UPDATE cancel_events SET cancelled_tasks = $1, updated_photos = $2, noop = $3 \
         WHERE id = $4",
        vec![
            cancelled_tasks.into(),
            updated_photos.into(),
            noop.into(),
            event_id.into(),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(CancelOutcome {
        cancelled_tasks,
        updated_photos,
        noop,
        repeated: false,
    })
}

//! Submissions: one transaction per accepted photo or text.

use chrono::{DateTime, NaiveDate, Utc};
use domain::error::AiErrorCode;
use domain::ids::UserId;
use domain::nutrition::{MealStatus, PhotoStatus, check_meal_date};
use imaging::ImageFormat;
use jobs::{NewJob, Queue};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde_json::json;
use store::entities::{ai_task, meal, meal_photo};

use crate::sql::{self, draft_meal, reserve_slot, set_meal_status};
use crate::{
    KIND_RECOGNIZE, KIND_RECOGNIZE_TEXT, MAX_COMMENT_CHARS, MAX_IMAGE_BYTES, MAX_TEXT_CHARS,
    PhotoSubmission, Service, SubmitError, Submitted, TASK_BUDGET, TextSubmission,
    daily_photo_limit, new_task_id,
};

/// The format of an upload from its magic bytes; never the declared type.
pub(crate) fn check_image(bytes: &[u8]) -> Result<ImageFormat, AiErrorCode> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(AiErrorCode::ImageTooLarge);
    }
    match imaging::sniff(bytes) {
        None => return Err(AiErrorCode::InvalidImage),
        Some(f) if !f.is_supported() => return Err(AiErrorCode::UnsupportedImageFormat),
        Some(_) => {}
    }
    imaging::probe(bytes, MAX_IMAGE_BYTES)
        .map(|info| info.format)
        .map_err(|e| ai::pipeline::image_error_code(&e))
}

async fn resolve_date(
    svc: &Service,
    user: UserId,
    date: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(NaiveDate, NaiveDate), SubmitError> {
    let today = store::diary::user_today(svc.db.conn(), user, now).await?;
    let date = date.unwrap_or(today);
    check_meal_date(date, today).map_err(|_| SubmitError::FutureDate)?;
    Ok((date, today))
}

fn deadline(now: DateTime<Utc>) -> DateTime<Utc> {
    now + chrono::Duration::from_std(TASK_BUDGET).unwrap_or(chrono::Duration::seconds(90))
}

fn clean_comment(c: Option<String>) -> Option<String> {
    c.map(|c| c.trim().chars().take(MAX_COMMENT_CHARS).collect::<String>())
        .filter(|c| !c.is_empty())
}

pub(crate) async fn submit_photo(
    svc: &Service,
    mut req: PhotoSubmission,
) -> Result<Submitted, SubmitError> {
    if !svc.ai_configured {
        return Err(SubmitError::Ai(AiErrorCode::AiNotConfigured, None));
    }
    let format = check_image(&req.image).map_err(|c| SubmitError::Ai(c, None))?;
    let now = svc.clock.now();
    let (date, today) = resolve_date(svc, req.user, req.date, now).await?;
    let limit = daily_photo_limit(&svc.db, req.user, now).await?;
    let key = svc
        .media
        .put_new(
            &format!("meals/{}", req.user.0),
            format.extension(),
            std::mem::take(&mut req.image),
        )
        .await
        .map_err(|e| SubmitError::Media(e.to_string()))?;
    let comment = clean_comment(req.user_comment.take());
    let result = submit_photo_txn(svc, &req, date, today, limit, &key, comment, now).await;
    match result {
        Ok((submitted, old_key)) => {
            if let Some(old) = old_key {
                svc.media.delete_all([old]).await;
            }
            metrics::counter!("eatfit_ai_submissions_total", "kind" => "photo").increment(1);
            Ok(submitted)
        }
        Err(e) => {
            svc.media.delete_all([key]).await;
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn submit_photo_txn(
    svc: &Service,
    req: &PhotoSubmission,
    date: NaiveDate,
    today: NaiveDate,
    limit: Option<u32>,
    key: &str,
    comment: Option<String>,
    now: DateTime<Utc>,
) -> Result<(Submitted, Option<String>), SubmitError> {
    let txn = svc.db.conn().begin().await?;
    let (meal_id, photo_id, old_key) = if let Some(photo_id) = req.meal_photo_id {
        // Retry mode: an owned FAILED/CANCELLED photo goes back to PENDING (CAS).
        let photo = meal_photo::Entity::find_by_id(photo_id).one(&txn).await?;
        let owned = match &photo {
            Some(p) => meal::Entity::find_by_id(p.meal_id)
                .filter(meal::Column::UserId.eq(req.user.0))
                .one(&txn)
                .await?
                .is_some(),
            None => false,
        };
        let Some(photo) = photo.filter(|_| owned) else {
            return Err(SubmitError::Ai(AiErrorCode::PhotoNotFound, None));
        };
        let n = sql::exec(
            &txn,
            "UPDATE meal_photos SET status = 'PENDING', error_code = NULL, error_message = NULL, \
             recognized_data = NULL, image = $1, user_comment = $2, updated_at = $3 \
             WHERE id = $4 AND status IN ('FAILED', 'CANCELLED')",
            vec![
                key.into(),
                comment.clone().into(),
                now.into(),
                photo.id.into(),
            ],
        )
        .await?;
        if n != 1 {
            return Err(SubmitError::Ai(AiErrorCode::InvalidStatus, None));
        }
        if !reserve_slot(&txn, req.user, today, limit).await? {
            return Err(SubmitError::Ai(AiErrorCode::DailyPhotoLimitExceeded, None));
        }
        (photo.meal_id, photo.id, Some(photo.image))
    } else {
        // Reserve first: on SQLite the first statement takes the write lock, so concurrent
        // submissions queue instead of failing to upgrade a read transaction.
        if !reserve_slot(&txn, req.user, today, limit).await? {
            return Err(SubmitError::Ai(AiErrorCode::DailyPhotoLimitExceeded, None));
        }
        let meal_id = draft_meal(&txn, req.user, req.meal_type, date, req.meal_id, now).await?;
        let photo = meal_photo::ActiveModel {
            meal_id: Set(meal_id),
            image: Set(key.to_owned()),
            recognized_data: Set(None),
            status: Set(PhotoStatus::Pending.as_str().to_owned()),
            error_message: Set(None),
            error_code: Set(None),
            user_comment: Set(comment.clone()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        (meal_id, photo.id, None)
    };
    set_meal_status(&txn, meal_id, MealStatus::Processing, now).await?;
    let task_id = new_task_id();
    insert_task(
        &txn,
        NewTask {
            task_id: &task_id,
            user: req.user,
            meal_id,
            photo_id: Some(photo_id),
            kind: "photo",
            input_text: None,
            comment,
            quota_day: Some(today),
            trace_id: &req.trace_id,
        },
        now,
    )
    .await?;
    enqueue(&txn, KIND_RECOGNIZE, &task_id, &req.trace_id, now).await?;
    txn.commit().await?;
    Ok((
        Submitted {
            task_id,
            meal_id,
            meal_photo_id: Some(photo_id),
        },
        old_key.filter(|k| !k.is_empty()),
    ))
}

struct NewTask<'a> {
    task_id: &'a str,
    user: UserId,
    meal_id: i64,
    photo_id: Option<i64>,
    kind: &'static str,
    input_text: Option<String>,
    comment: Option<String>,
    quota_day: Option<NaiveDate>,
    trace_id: &'a str,
}

async fn insert_task<C: sea_orm::ConnectionTrait>(
    c: &C,
    t: NewTask<'_>,
    now: DateTime<Utc>,
) -> Result<(), SubmitError> {
    ai_task::ActiveModel {
        task_id: Set(t.task_id.to_owned()),
        user_id: Set(t.user.0),
        meal_id: Set(Some(t.meal_id)),
        meal_photo_id: Set(t.photo_id),
        kind: Set(t.kind.to_owned()),
        input_text: Set(t.input_text),
        user_comment: Set(t.comment),
        status: Set(crate::status::PROCESSING.to_owned()),
        error_code: Set(None),
        result: Set(None),
        quota_day: Set(t.quota_day),
        deadline_at: Set(deadline(now)),
        trace_id: Set(t.trace_id.chars().take(64).collect()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(c)
    .await?;
    Ok(())
}

async fn enqueue<C: sea_orm::ConnectionTrait>(
    c: &C,
    kind: &str,
    task_id: &str,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<(), SubmitError> {
    let job = NewJob::new(kind, Queue::Ai, json!({ "task_id": task_id }))
        .unique_key(format!("ai-task:{task_id}"))
        .trace_id(trace_id)
        .max_attempts(3);
    jobs::enqueue(c, job, now).await?;
    Ok(())
}

pub(crate) async fn submit_text(
    svc: &Service,
    req: TextSubmission,
) -> Result<Submitted, SubmitError> {
    let text = req.text.trim().to_owned();
    if text.is_empty() {
        return Err(SubmitError::InvalidInput(
            "text",
            "Это поле не может быть пустым.",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(SubmitError::InvalidInput(
            "text",
            "Убедитесь, что это значение содержит не более 2000 символов.",
        ));
    }
    let now = svc.clock.now();
    let (date, _) = resolve_date(svc, req.user, req.date, now).await?;
    let txn = svc.db.conn().begin().await?;
    let meal_id = draft_meal(&txn, req.user, req.meal_type, date, req.meal_id, now).await?;
    let task_id = new_task_id();
    insert_task(
        &txn,
        NewTask {
            task_id: &task_id,
            user: req.user,
            meal_id,
            photo_id: None,
            kind: "text",
            input_text: Some(text),
            comment: None,
            quota_day: None,
            trace_id: &req.trace_id,
        },
        now,
    )
    .await?;
    enqueue(&txn, KIND_RECOGNIZE_TEXT, &task_id, &req.trace_id, now).await?;
    txn.commit().await?;
    metrics::counter!("eatfit_ai_submissions_total", "kind" => "text").increment(1);
    Ok(Submitted {
        task_id,
        meal_id,
        meal_photo_id: None,
    })
}

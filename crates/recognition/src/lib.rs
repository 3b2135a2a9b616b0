//! Food recognition as a service (DESIGN.md §5–§6, reference/ai-pipeline.md §1–§2, §7.3):
//! no HTTP here — the API, the jobs and the bot call these functions.
//!
//! * [`Service::submit_photo`]: magic bytes decide the format, the bytes go to media storage,
//!   then ONE transaction groups the photo into a draft meal, creates the photo (PENDING) and
//!   the `ai_tasks` row, reserves a daily quota slot atomically and enqueues `ai.recognize`.
//!   Retry mode (`meal_photo_id`) re-runs a FAILED/CANCELLED photo and reserves a slot too (the
//!   original's retries were free).
//! * [`register_jobs`]: `ai.recognize` (compare-and-set photo transitions, cancellation checked
//!   between stages, the final write loses to an earlier cancel, every error ends FAILED with a
//!   catalogue code and releases the slot), `ai.recognize_text` (the LLM when the recognizer has
//!   a text path; else, or when it fails, offline parsing with the food table) and the reaper
//!   `ai.reap` ([`periodic`]).
//! * [`Service::cancel_task`] / [`Service::cancel_batch`]: ownership checked for every id,
//!   cancel is a CAS, the slot is released and the meal is ALWAYS finalised.
//! * The quota slot is owned by the task while `ai_tasks.quota_day` is set; releasing clears it
//!   in the same statement that selects it, so a slot is given back at most once.

#![forbid(unsafe_code)]

mod cancel;
mod sql;
mod submit;
mod work;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use domain::clock::SharedClock;
use domain::error::{AiErrorCode, Locale};
use domain::ids::UserId;
use domain::nutrition::MealType;
use jobs::Queue;
use jobs::scheduler::Periodic;
use serde_json::{Value, json};
use store::entities::ai_task;
use store::{Db, StoreError};

pub use cancel::{CancelOutcome, CancelRequest};
pub use work::{MISCONFIGURED_ALERT, RecognitionDeps, register_jobs};

/// Job kind: recognise one photo task (`{task_id}`).
pub const KIND_RECOGNIZE: &str = "ai.recognize";
/// Job kind: parse one text task, with the LLM or offline (`{task_id}`).
pub const KIND_RECOGNIZE_TEXT: &str = "ai.recognize_text";
/// Job kind: fail tasks past their deadline.
pub const KIND_REAP: &str = "ai.reap";
/// Largest accepted upload (raw bytes).
pub const MAX_IMAGE_BYTES: usize = 15 * 1024 * 1024;
/// Photos per user-local day on the FREE plan.
pub const FREE_DAILY_PHOTO_LIMIT: u32 = 3;
/// End-to-end budget of one recognition, from submit.
pub const TASK_BUDGET: Duration = Duration::from_secs(90);
/// How long past its deadline a task may still finish before the reaper fails it.
pub const REAP_GRACE: Duration = Duration::from_secs(15);
/// A new photo joins the newest DRAFT/PROCESSING meal of the same type and date created within
/// this many minutes (§2.1).
pub const DRAFT_WINDOW_MINUTES: i64 = 10;
/// Longest user comment, characters.
pub const MAX_COMMENT_CHARS: usize = 500;
/// Submissions (photo and text) per user per minute.
pub const SUBMITS_PER_MINUTE: usize = 10;
/// Submissions per user per day (rolling 24 h).
pub const SUBMITS_PER_DAY: usize = 100;
/// Longest text to log, characters.
pub const MAX_TEXT_CHARS: usize = 2000;

/// Message stored on a photo cancelled by the user.
pub const CANCELLED_MESSAGE: &str = "Отменено пользователем";

/// The daily photo limit of `user`'s plan at `now` (`None` = unlimited): the effective plan
/// (an active, unexpired subscription's plan, else FREE) read fresh from the database, so a
/// purchase, grant, downgrade or expiry applies to the next photo. The general throttles
/// ([`SUBMITS_PER_DAY`], [`SUBMITS_PER_MINUTE`]) apply to every plan.
pub async fn daily_photo_limit(
    db: &Db,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Option<u32>, StoreError> {
    let eff = store::billing::effective(db.conn(), user.0, now).await?;
    Ok(eff
        .plan
        .daily_photo_limit
        .map(|n| u32::try_from(n).unwrap_or(FREE_DAILY_PHOTO_LIMIT)))
}

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// A contract error (image checks, quota, not found, invalid status, not configured,
    /// throttled), with a `Retry-After` when known.
    #[error("{}", .0.as_str())]
    Ai(AiErrorCode, Option<u32>),
    /// The date is after the user's today.
    #[error("Дата не может быть в будущем")]
    FutureDate,
    /// The text is empty or too long (field, message).
    #[error("{0}: {1}")]
    InvalidInput(&'static str, &'static str),
    /// Media storage failed.
    #[error("media: {0}")]
    Media(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for SubmitError {
    fn from(e: sea_orm::DbErr) -> Self {
        SubmitError::Store(e.into())
    }
}

/// A photo to recognise.
#[derive(Debug, Clone)]
pub struct PhotoSubmission {
    pub user: UserId,
    /// The uploaded bytes (the declared content type is never trusted).
    pub image: Vec<u8>,
    pub meal_type: MealType,
    /// `None`: the user's today.
    pub date: Option<NaiveDate>,
    pub user_comment: Option<String>,
    /// Attach to this meal (if owned).
    pub meal_id: Option<i64>,
    /// Retry mode: re-run this FAILED/CANCELLED photo.
    pub meal_photo_id: Option<i64>,
    /// The request's trace id (propagated to the proxy).
    pub trace_id: String,
}

/// A meal description to log (parsed by the LLM when configured, offline otherwise).
#[derive(Debug, Clone)]
pub struct TextSubmission {
    pub user: UserId,
    pub text: String,
    pub meal_type: MealType,
    pub date: Option<NaiveDate>,
    pub meal_id: Option<i64>,
    pub trace_id: String,
}

/// An accepted submission (202).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub task_id: String,
    pub meal_id: i64,
    pub meal_photo_id: Option<i64>,
}

/// The recognition service of one process (cheap to clone).
#[derive(Debug, Clone)]
pub struct Service {
    pub db: Db,
    pub media: media::MediaStore,
    pub clock: SharedClock,
    /// Whether a recognizer is configured (photo submissions are refused otherwise).
    pub ai_configured: bool,
}

/// Task status as stored.
pub mod status {
    pub const PROCESSING: &str = "processing";
    pub const SUCCESS: &str = "success";
    pub const FAILED: &str = "failed";
}

impl Service {
    pub fn new(db: Db, media: media::MediaStore, clock: SharedClock, ai_configured: bool) -> Self {
        Self {
            db,
            media,
            clock,
            ai_configured,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Refuses a submission over 10 per minute or 100 per 24 h (counted from `ai_tasks`, so
    /// durable and shared by every instance): `RATE_LIMIT` with the seconds to wait.
    pub async fn throttle(&self, user: UserId) -> Result<(), SubmitError> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let now = self.now();
        for (window, limit) in [
            (chrono::Duration::minutes(1), SUBMITS_PER_MINUTE),
            (chrono::Duration::days(1), SUBMITS_PER_DAY),
        ] {
            let since = now - window;
            let recent: Vec<DateTime<Utc>> = ai_task::Entity::find()
                .select_only()
                .column(ai_task::Column::CreatedAt)
                .filter(ai_task::Column::UserId.eq(user.0))
                .filter(ai_task::Column::CreatedAt.gt(since))
                .order_by_desc(ai_task::Column::CreatedAt)
                .limit(limit as u64)
                .into_tuple()
                .all(self.db.conn())
                .await
                .map_err(StoreError::from)?;
            if recent.len() >= limit {
                let oldest = recent.last().copied().unwrap_or(now);
                let wait = (oldest + window - now).num_seconds().max(1);
                let wait = u32::try_from(wait).unwrap_or(u32::MAX);
                return Err(SubmitError::Ai(AiErrorCode::RateLimit, Some(wait)));
            }
        }
        Ok(())
    }

    /// Submits a photo (see the crate docs).
    pub async fn submit_photo(&self, req: PhotoSubmission) -> Result<Submitted, SubmitError> {
        submit::submit_photo(self, req).await
    }

    /// Submits a text to log (the LLM when configured, offline otherwise).
    pub async fn submit_text(&self, req: TextSubmission) -> Result<Submitted, SubmitError> {
        submit::submit_text(self, req).await
    }

    /// The user's task (`None` for unknown or someone else's).
    pub async fn task(
        &self,
        user: UserId,
        task_id: &str,
    ) -> Result<Option<ai_task::Model>, StoreError> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        Ok(ai_task::Entity::find()
            .filter(ai_task::Column::TaskId.eq(task_id))
            .filter(ai_task::Column::UserId.eq(user.0))
            .one(self.db.conn())
            .await?)
    }

    /// Cancels one task of the user; unknown or foreign ids are ignored. Returns whether
    /// something changed.
    pub async fn cancel_task(&self, user: UserId, task_id: &str) -> Result<bool, StoreError> {
        cancel::cancel_task(self, user, task_id).await
    }

    /// The batch cancel of §1.5, idempotent by `client_cancel_id`.
    pub async fn cancel_batch(
        &self,
        user: UserId,
        req: CancelRequest,
    ) -> Result<CancelOutcome, StoreError> {
        cancel::cancel_batch(self, user, req).await
    }

    /// Fails every task (and its photo) past its deadline with `AI_TIMEOUT`. Returns how many.
    pub async fn reap(&self) -> Result<u64, StoreError> {
        work::reap(&self.db, self.now()).await
    }

    /// Photo slots used on the user-local `day`.
    pub async fn quota_used(&self, user: UserId, day: NaiveDate) -> Result<i32, StoreError> {
        sql::quota_used(self.db.conn(), user, day).await
    }
}

/// The poll body of `GET /api/v1/ai/task/{id}/`: `status` is `failed` iff an error code is
/// present; failures carry the catalogue contract (with the legacy `error` key) at the top
/// and in `result`.
pub fn poll_body(task: &ai_task::Model) -> Value {
    let code = task
        .error_code
        .as_deref()
        .map(|c| AiErrorCode::parse(c).unwrap_or(AiErrorCode::UnknownError));
    match (code, task.status.as_str()) {
        (Some(code), _) => {
            let contract = code.def().body(Locale::Ru, &task.trace_id, None);
            let mut result = serde_json::to_value(&contract).unwrap_or_else(|_| json!({}));
            if let Value::Object(m) = &mut result {
                m.insert("items".into(), json!([]));
                m.insert("totals".into(), json!({}));
                m.insert("meal_id".into(), json!(task.meal_id));
                m.insert("meal_photo_id".into(), json!(task.meal_photo_id));
            }
            json!({
                "task_id": task.task_id,
                "status": "failed",
                "state": "FAILURE",
                "error": code.as_str(),
                "error_code": code.as_str(),
                "result": result,
            })
        }
        (None, status::SUCCESS) => json!({
            "task_id": task.task_id,
            "status": "success",
            "state": "SUCCESS",
            "result": task.result.clone().unwrap_or_else(|| json!({"items": [], "totals": {}})),
        }),
        _ => json!({
            "task_id": task.task_id,
            "status": "processing",
            "state": "STARTED",
        }),
    }
}

/// The periodic jobs of recognition: the stuck-task reaper, every minute.
pub fn periodic() -> Vec<Periodic> {
    Periodic::new(KIND_REAP, "0 * * * * *", KIND_REAP, Queue::Default)
        .map(|p| vec![p])
        .unwrap_or_default()
}

pub(crate) fn new_task_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) type DynRecognizer = Arc<dyn ai::Recognizer>;

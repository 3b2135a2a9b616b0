//! Job handlers: `ai.recognize`, `ai.recognize_text`, and the reaper `ai.reap`.
//!
//! Text logging (DESIGN.md §6) uses the LLM when the recognizer has a text path
//! ([`ai::Recognizer::supports_text`]: the in-process engine; a remote proxy has no text endpoint)
//! and the built-in parser and table otherwise. Any LLM failure (timeout, 5xx, unreadable reply,
//! no usable items, misconfiguration) falls back to the offline parser, so text logging never
//! depends on the provider being up. Which path produced the items is stored in
//! `result.meta.path` and counted in `eatfit_text_logging_total{path}`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::clock::SharedClock;
use domain::error::{AiErrorCode, Locale};
use domain::nutrition::PhotoStatus;
use jobs::worker::{JobContext, JobError, Registry};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Deserialize;
use serde_json::{Value, json};
use store::entities::{ai_task, food_item, meal, meal_photo};
use store::{Db, StoreError};

use crate::sql::{self, Tasks, fail_tasks, finalize, terminate_photo};
use crate::{DynRecognizer, KIND_REAP, KIND_RECOGNIZE, KIND_RECOGNIZE_TEXT, REAP_GRACE};

/// What the recognition jobs need.
#[derive(Clone)]
pub struct RecognitionDeps {
    /// The recognizer (`None`: photo tasks fail with `AI_NOT_CONFIGURED`; text is parsed
    /// offline).
    pub recognizer: Option<DynRecognizer>,
    pub media: media::MediaStore,
    pub db: Db,
    pub clock: SharedClock,
}

impl std::fmt::Debug for RecognitionDeps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecognitionDeps")
            .field("recognizer", &self.recognizer.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TaskPayload {
    task_id: String,
}

/// The alert rule raised when the recognizer rejects our credentials (ops.md §8.4).
pub const MISCONFIGURED_ALERT: &str = "AIConfigOrAuthError";

/// Registers `ai.recognize`, `ai.recognize_text` and `ai.reap`.
pub fn register_jobs(registry: &mut Registry, deps: RecognitionDeps) {
    let d = deps.clone();
    registry.register(KIND_RECOGNIZE, move |ctx: JobContext| {
        let d = d.clone();
        async move {
            let p: TaskPayload = ctx.payload()?;
            run_photo(&d, &p.task_id).await
        }
    });
    let d = deps.clone();
    registry.register(KIND_RECOGNIZE_TEXT, move |ctx: JobContext| {
        let d = d.clone();
        async move {
            let p: TaskPayload = ctx.payload()?;
            run_text(&d, &p.task_id).await
        }
    });
    let d = deps;
    registry.register(KIND_REAP, move |_ctx: JobContext| {
        let d = d.clone();
        async move {
            reap(&d.db, d.clock.now()).await?;
            Ok(())
        }
    });
}

async fn load_task(db: &Db, task_id: &str) -> Result<Option<ai_task::Model>, StoreError> {
    Ok(ai_task::Entity::find()
        .filter(ai_task::Column::TaskId.eq(task_id))
        .one(db.conn())
        .await?)
}

async fn photo_status(db: &Db, photo_id: i64) -> Result<Option<PhotoStatus>, StoreError> {
    Ok(meal_photo::Entity::find_by_id(photo_id)
        .one(db.conn())
        .await?
        .map(|p| p.status.parse().unwrap_or_default()))
}

/// Ends a photo task with `code`: photo FAILED (or CANCELLED), tasks failed, slot released,
/// meal finalised — one transaction. Returns whether the photo changed.
pub(crate) async fn fail_photo(
    db: &Db,
    photo_id: i64,
    meal_id: Option<i64>,
    code: AiErrorCode,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let txn = db.conn().begin().await?;
    let changed = terminate_photo(&txn, photo_id, code, trace_id, now).await?;
    fail_tasks(&txn, Tasks::OfPhoto(photo_id), code, now).await?;
    if let Some(meal_id) = meal_id {
        finalize(&txn, meal_id, now).await?;
    }
    txn.commit().await?;
    Ok(changed)
}

async fn run_photo(d: &RecognitionDeps, task_id: &str) -> Result<(), JobError> {
    let started = Instant::now();
    let Some(task) = load_task(&d.db, task_id).await? else {
        return Ok(());
    };
    if task.status != crate::status::PROCESSING {
        return Ok(());
    }
    let now = d.clock.now();
    let Some(photo_id) = task.meal_photo_id else {
        fail_tasks(
            d.db.conn(),
            Tasks::Id(task.id),
            AiErrorCode::PhotoNotFound,
            now,
        )
        .await?;
        return Ok(());
    };
    let Some(photo) = meal_photo::Entity::find_by_id(photo_id)
        .one(d.db.conn())
        .await
        .map_err(StoreError::from)?
    else {
        fail_tasks(
            d.db.conn(),
            Tasks::Id(task.id),
            AiErrorCode::PhotoNotFound,
            now,
        )
        .await?;
        return Ok(());
    };
    let meal_id = Some(photo.meal_id);
    // PENDING → PROCESSING by compare-and-set (a re-run after a crash finds PROCESSING).
    let started_cas = sql::exec(
        d.db.conn(),
        "UPDATE meal_photos SET status = 'PROCESSING', updated_at = $1 \
         WHERE id = $2 AND status IN ('PENDING', 'PROCESSING')",
        vec![now.into(), photo_id.into()],
    )
    .await?;
    if started_cas == 0 {
        // Already terminal (cancelled, reaped): settle the task if someone left it open.
        let code = photo
            .error_code
            .as_deref()
            .and_then(AiErrorCode::parse)
            .unwrap_or(AiErrorCode::Cancelled);
        fail_tasks(d.db.conn(), Tasks::Id(task.id), code, now).await?;
        return Ok(());
    }
    let finish_err = |code: AiErrorCode| {
        let trace = task.trace_id.clone();
        async move {
            let now = d.clock.now();
            fail_photo(&d.db, photo_id, meal_id, code, &trace, now).await?;
            Ok::<(), JobError>(())
        }
    };
    if now >= task.deadline_at {
        finish_err(AiErrorCode::AiTimeout).await?;
        return Ok(());
    }
    let Some(recognizer) = d.recognizer.clone() else {
        finish_err(AiErrorCode::AiNotConfigured).await?;
        return Ok(());
    };
    let bytes = match d.media.get(&photo.image).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(photo_id, error = %e, "photo bytes missing from media storage");
            finish_err(AiErrorCode::InternalError).await?;
            return Ok(());
        }
    };
    if photo_status(&d.db, photo_id).await? != Some(PhotoStatus::Processing) {
        return Ok(()); // cancelled or reaped meanwhile
    }
    let budget = (task.deadline_at - now).to_std().unwrap_or_default();
    let outcome = recognizer
        .recognize(
            bytes,
            task.user_comment.clone(),
            Locale::Ru,
            ai::Deadline::after(budget),
            &task.trace_id,
        )
        .await;
    metrics::histogram!("eatfit_ai_task_duration_seconds").record(started.elapsed().as_secs_f64());
    if photo_status(&d.db, photo_id).await? != Some(PhotoStatus::Processing) {
        return Ok(()); // a cancel won while the recognizer ran: discard
    }
    match outcome {
        Ok(rec) => {
            save_success(d, &task, photo_id, photo.meal_id, rec).await?;
            // A success proves the credentials work again: the next rejection pages anew.
            store::alerts::resolve(&d.db, MISCONFIGURED_ALERT, "ai", d.clock.now()).await?;
        }
        Err(e) => {
            if matches!(
                e.kind,
                ai::client::FailureKind::Auth | ai::client::FailureKind::Config
            ) {
                metrics::counter!("eatfit_ai_proxy_requests_total", "outcome" => "auth_error")
                    .increment(1);
                // Raised once, however many photos fail the same way (de-duplicated in the DB).
                store::alerts::raise(
                    &d.db,
                    MISCONFIGURED_ALERT,
                    "ai",
                    "The recognizer rejected our credentials or URL (AI_SERVICE_MISCONFIGURED): \
                     every photo fails until AI_PROXY_SECRET / AI_PROXY_URL / OPENROUTER_API_KEY \
                     are fixed. Compare `eatfit config fingerprint` on both sides.",
                    d.clock.now(),
                )
                .await?;
                tracing::error!(
                    alert = true,
                    code = e.code.as_str(),
                    kind = e.kind.as_str(),
                    detail = %e.detail,
                    "AI service misconfigured: the recognizer rejected our credentials or URL; \
                     every photo will fail until the configuration is fixed"
                );
                finish_err(AiErrorCode::AiServiceMisconfigured).await?;
            } else {
                tracing::info!(
                    task_id,
                    code = e.code.as_str(),
                    kind = e.kind.as_str(),
                    "recognition failed"
                );
                finish_err(e.code).await?;
            }
        }
    }
    Ok(())
}

fn round2(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 {
        (v * 100.0).round() / 100.0
    } else {
        0.0
    }
}

fn grams_i32(g: f64) -> i32 {
    if g.is_finite() {
        g.round().clamp(1.0, 5000.0) as i32
    } else {
        1
    }
}

async fn insert_items<C: sea_orm::ConnectionTrait>(
    c: &C,
    meal_id: i64,
    items: &[ai::contract::Item],
    source: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for i in items {
        let name: String = i.name.trim().chars().take(255).collect();
        food_item::ActiveModel {
            meal_id: Set(meal_id),
            name: Set(if name.is_empty() {
                "Без названия".into()
            } else {
                name
            }),
            grams: Set(grams_i32(i.grams)),
            calories: Set(round2(i.kcal)),
            protein: Set(round2(i.protein)),
            fat: Set(round2(i.fat)),
            carbohydrates: Set(round2(i.carbohydrates)),
            source: Set(source.to_owned()),
            food_ref: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(c)
        .await?;
    }
    Ok(())
}

fn success_payload(
    meal_id: i64,
    photo_id: Option<i64>,
    items: &[ai::contract::Item],
    totals: ai::contract::Total,
    meta: Value,
) -> Value {
    json!({
        "meal_id": meal_id,
        "meal_photo_id": photo_id,
        "items": items,
        "total_calories": totals.kcal,
        "totals": {
            "calories": totals.kcal,
            "kcal": totals.kcal,
            "protein": totals.protein,
            "fat": totals.fat,
            "carbohydrates": totals.carbohydrates,
            "carbs": totals.carbohydrates,
        },
        "meta": meta,
    })
}

async fn save_success(
    d: &RecognitionDeps,
    task: &ai_task::Model,
    photo_id: i64,
    meal_id: i64,
    rec: ai::Recognition,
) -> Result<(), JobError> {
    let now = d.clock.now();
    let meta = json!({
        "is_food": rec.is_food,
        "confidence": rec.confidence,
        "gate_reason": rec.gate_reason,
        "notes": rec.notes,
        "trace_id": task.trace_id,
    });
    let payload = success_payload(meal_id, Some(photo_id), &rec.items, rec.totals, meta);
    let recognized = json!({
        "items": payload["items"],
        "totals": payload["totals"],
        "meta": payload["meta"],
    });
    let txn = d.db.conn().begin().await.map_err(StoreError::from)?;
    let won = sql::exec(
        &txn,
        "UPDATE meal_photos SET status = 'SUCCESS', recognized_data = $1, error_code = NULL, \
         error_message = NULL, updated_at = $2 WHERE id = $3 AND status = 'PROCESSING'",
        vec![recognized.into(), now.into(), photo_id.into()],
    )
    .await?;
    if won == 0 {
        // An earlier cancel (or the reaper) won: discard the results.
        return Ok(());
    }
    insert_items(&txn, meal_id, &rec.items, "ai", now).await?;
    sql::exec(
        &txn,
        "UPDATE ai_tasks SET status = 'success', result = $1, error_code = NULL, updated_at = $2 \
         WHERE id = $3 AND status = 'processing'",
        vec![payload.into(), now.into(), task.id.into()],
    )
    .await?;
    finalize(&txn, meal_id, now).await?;
    txn.commit().await.map_err(StoreError::from)?;
    metrics::counter!("eatfit_ai_tasks_total", "status" => "success", "error_code" => "")
        .increment(1);
    Ok(())
}

/// The offline parse of `text` as items (table values for grounded matches; items without any
/// food match are dropped).
pub(crate) fn parse_text(text: &str) -> Vec<ai::contract::Item> {
    let table = foods::FoodTable::builtin();
    foods::log_text(table, text)
        .into_iter()
        .filter_map(|r| {
            let food = r.food?;
            let n = r.nutrients?;
            let name = if food.curated {
                food.name.clone()
            } else {
                r.item.name.clone()
            };
            Some(ai::contract::Item {
                name,
                name_en: food.description_en.clone(),
                grams: r.grams,
                kcal: n.kcal,
                protein: n.protein,
                fat: n.fat,
                carbohydrates: n.carbs,
                confidence: None,
                grounded: r.grounded,
                source: if r.grounded {
                    ai::contract::ItemSource::Table
                } else {
                    ai::contract::ItemSource::Model
                },
                adjustments: Vec::new(),
            })
        })
        .filter(|i| i.grams >= 1.0)
        .collect()
}

/// Which path produced a text task's items (`result.meta.path`, the metric's `path` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextPath {
    /// The LLM's items.
    Llm,
    /// The offline parser; no LLM was tried.
    Offline,
    /// The offline parser after the LLM failed.
    LlmFallback,
}

impl TextPath {
    fn as_str(self) -> &'static str {
        match self {
            TextPath::Llm => "llm",
            TextPath::Offline => "offline",
            TextPath::LlmFallback => "llm_fallback",
        }
    }
}

/// Longest wait for the LLM on a text task (the task's own deadline may cut it further).
const TEXT_LLM_BUDGET: Duration = Duration::from_secs(30);

/// The items of a text task: the LLM's when the recognizer has a text path, else (or on any
/// LLM failure) the offline parser's. Never fails.
async fn text_items(
    d: &RecognitionDeps,
    task: &ai_task::Model,
    text: &str,
) -> (Vec<ai::contract::Item>, TextPath, Option<String>) {
    let trace_id = task.trace_id.as_str();
    let Some(recognizer) = d.recognizer.as_ref().filter(|r| r.supports_text()) else {
        return (parse_text(text), TextPath::Offline, None);
    };
    let chars = text.chars().count();
    if chars > ai::provider::MAX_TEXT_CHARS {
        tracing::info!(
            trace_id,
            task_id = %task.task_id,
            chars,
            max = ai::provider::MAX_TEXT_CHARS,
            "text longer than the LLM accepts; parsed offline"
        );
        return (parse_text(text), TextPath::Offline, None);
    }
    let budget = (task.deadline_at - d.clock.now())
        .to_std()
        .unwrap_or_default()
        .min(TEXT_LLM_BUDGET);
    let started = Instant::now();
    let outcome = recognizer
        .recognize_text(
            text.to_owned(),
            Locale::Ru,
            ai::Deadline::after(budget),
            trace_id,
        )
        .await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match outcome {
        Ok(rec) => (rec.items, TextPath::Llm, rec.notes),
        Err(e) => {
            if matches!(
                e.kind,
                ai::client::FailureKind::Auth | ai::client::FailureKind::Config
            ) {
                tracing::error!(
                    alert = true,
                    trace_id,
                    task_id = %task.task_id,
                    code = e.code.as_str(),
                    kind = e.kind.as_str(),
                    detail = %e.detail,
                    duration_ms,
                    "text LLM misconfigured (credentials, URL or model rejected); every text is \
                     parsed offline until the AI configuration is fixed"
                );
            } else {
                tracing::warn!(
                    trace_id,
                    task_id = %task.task_id,
                    code = e.code.as_str(),
                    kind = e.kind.as_str(),
                    detail = %e.detail,
                    duration_ms,
                    "text LLM failed; parsed offline instead"
                );
            }
            (parse_text(text), TextPath::LlmFallback, None)
        }
    }
}

async fn run_text(d: &RecognitionDeps, task_id: &str) -> Result<(), JobError> {
    let Some(task) = load_task(&d.db, task_id).await? else {
        return Ok(());
    };
    if task.status != crate::status::PROCESSING {
        return Ok(());
    }
    let text = task.input_text.clone().unwrap_or_default();
    // No transaction is open while the LLM runs; a cancel meanwhile wins the final CAS.
    let (items, path, notes) = text_items(d, &task, &text).await;
    metrics::counter!("eatfit_text_logging_total", "path" => path.as_str()).increment(1);
    let now = d.clock.now();
    let txn = d.db.conn().begin().await.map_err(StoreError::from)?;
    let meal = match task.meal_id {
        Some(id) => meal::Entity::find_by_id(id)
            .one(&txn)
            .await
            .map_err(StoreError::from)?,
        None => None,
    };
    let Some(meal) = meal.filter(|_| !items.is_empty()) else {
        let code = if items.is_empty() {
            AiErrorCode::EmptyResult
        } else {
            AiErrorCode::UnknownError
        };
        fail_tasks(&txn, Tasks::Id(task.id), code, now).await?;
        if let Some(id) = task.meal_id {
            delete_if_empty(&txn, id).await?;
        }
        txn.commit().await.map_err(StoreError::from)?;
        return Ok(());
    };
    let totals = ai::contract::Total::of(&items);
    let payload = success_payload(
        meal.id,
        None,
        &items,
        totals,
        json!({
            "source": "text",
            "path": path.as_str(),
            "notes": notes,
            "trace_id": task.trace_id,
        }),
    );
    let won = sql::exec(
        &txn,
        "UPDATE ai_tasks SET status = 'success', result = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'processing'",
        vec![payload.into(), now.into(), task.id.into()],
    )
    .await?;
    if won == 0 {
        return Ok(());
    }
    insert_items(&txn, meal.id, &items, "text", now).await?;
    txn.commit().await.map_err(StoreError::from)?;
    metrics::counter!("eatfit_ai_tasks_total", "status" => "success", "error_code" => "")
        .increment(1);
    Ok(())
}

/// Deletes a meal left with neither items nor photos (a text task's meal that got nothing).
async fn delete_if_empty<C: sea_orm::ConnectionTrait>(
    c: &C,
    meal_id: i64,
) -> Result<(), StoreError> {
    sql::exec(
        c,
        "DELETE FROM meals WHERE id = $1 \
         AND NOT EXISTS (SELECT 1 FROM food_items WHERE meal_id = $1) \
         AND NOT EXISTS (SELECT 1 FROM meal_photos WHERE meal_id = $1)",
        vec![meal_id.into()],
    )
    .await?;
    Ok(())
}

/// Fails every processing task past its deadline (plus [`REAP_GRACE`]) with `AI_TIMEOUT`:
/// photo FAILED, slot released, meal finalised.
pub(crate) async fn reap(db: &Db, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let cutoff = now - chrono::Duration::from_std(REAP_GRACE).unwrap_or_default();
    let stuck = ai_task::Entity::find()
        .filter(ai_task::Column::Status.eq(crate::status::PROCESSING))
        .filter(ai_task::Column::DeadlineAt.lt(cutoff))
        .all(db.conn())
        .await?;
    let mut n = 0;
    for task in stuck {
        match task.meal_photo_id {
            Some(photo_id) => {
                let meal_id = meal_photo::Entity::find_by_id(photo_id)
                    .one(db.conn())
                    .await?
                    .map(|p| p.meal_id);
                if fail_photo(
                    db,
                    photo_id,
                    meal_id,
                    AiErrorCode::AiTimeout,
                    &task.trace_id,
                    now,
                )
                .await?
                {
                    metrics::counter!("eatfit_ai_photos_stuck_total").increment(1);
                    tracing::warn!(task_id = %task.task_id, photo_id, "stuck photo failed with AI_TIMEOUT");
                }
                // A task whose photo was already terminal is settled too.
                fail_tasks(db.conn(), Tasks::Id(task.id), AiErrorCode::AiTimeout, now).await?;
            }
            None => {
                let txn = db.conn().begin().await?;
                fail_tasks(&txn, Tasks::Id(task.id), AiErrorCode::AiTimeout, now).await?;
                if let Some(id) = task.meal_id {
                    delete_if_empty(&txn, id).await?;
                }
                txn.commit().await?;
            }
        }
        n += 1;
    }
    Ok(n)
}

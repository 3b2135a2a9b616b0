//! Endpoints the bot calls with `X-Bot-Secret` (reference/backend-core.md §1.7, §3.3, §3.10,
//! §3.11). Rules and parsing live in `store::bot`; this module maps them to HTTP.
//!
//! Deliberate differences from the original:
//! * Every error is the general envelope (the original had four shapes: `{"error":"…"}`, raw
//!   DRF field maps, `{"status":"error","error":{…,"request_id"}}` and a plain 500). Validation
//!   lists every bad field in `details`. The request id is in the `X-Request-ID` header of every
//!   answer.
//! * Telegram ids must be positive (get-or-create accepted 0 and negatives); the survey checks
//!   `utc_offset_minutes` (−840..840), the IANA zone and the body-type ids per sex.
//! * The daily plan limit (3) counts the **user's** calendar day and answers **429 in the
//!   general envelope**, code `TOO_MANY_REQUESTS`, with `details.reason = "DAILY_LIMIT_REACHED"`,
//!   `details.limit`, `details.count`, `details.retry_after_sec` and a `Retry-After` header
//!   (seconds to the user's next midnight). The RATE_LIMIT contract is for AI/quota errors of
//!   the Mini App; this caller is the bot, which reads the envelope.
//! * `count-today` answers `{count, limit, can_create, remaining}` (the original's three keys
//!   plus `remaining`).
//! * `get-or-create` also takes `first_name`/`last_name`/`language_code` (the original bot
//!   sends `full_name`, still accepted and split on the first space).
//! * `save-test` stores the answers and makes the person a lead; it does not rewrite the
//!   profile or recalculate goals from the legacy answers (nothing calls it; the original's
//!   version left users without a goal on failure, §7.20).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::error::ErrorCode;
use domain::ids::TelegramId;
use serde_json::{Value, json};
use store::bot::{self, BotUser, DailyCount, FieldErrors, PlanOutcome};
use store::entities::{personal_plan as plan, personal_plan_survey as survey};
use store::users;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::BotCaller;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use crate::views;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_or_create))
        .routes(routes!(create_survey))
        .routes(routes!(create_plan))
        .routes(routes!(count_today))
        .routes(routes!(save_test))
}

/// Field errors → 400 in the envelope, every field in `details`.
fn validation(errors: FieldErrors) -> ApiError {
    let message = errors
        .first()
        .map(|(f, m)| format!("{f}: {m}"))
        .unwrap_or_else(|| {
            ErrorCode::ValidationError
                .default_message(Default::default())
                .into()
        });
    let mut details = serde_json::Map::new();
    for (field, msg) in errors {
        let entry = details
            .entry(field.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(Value::String(msg));
        }
    }
    ApiError::Validation {
        message,
        details: Value::Object(details),
    }
}

fn json_body(body: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|_| {
        ApiError::with_message(
            ErrorCode::BadRequest,
            "Тело запроса должно быть объектом JSON.",
        )
    })
}

fn user_not_found() -> ApiError {
    ApiError::with_message(ErrorCode::NotFound, "User not found")
}

/// `telegram_id` from the query: required, a positive integer.
fn query_telegram_id(params: &HashMap<String, String>) -> ApiResult<TelegramId> {
    let raw = params
        .get("telegram_id")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::field("telegram_id", "telegram_id is required"))?;
    raw.parse::<TelegramId>()
        .map_err(|_| ApiError::field("telegram_id", "Invalid telegram_id"))
}

fn opt_param(params: &HashMap<String, String>, name: &str, max: usize) -> Option<String> {
    params
        .get(name)
        .map(|s| s.trim().chars().take(max).collect::<String>())
        .filter(|s| !s.is_empty())
}

/// `GET /api/v1/telegram/users/get-or-create/?telegram_id=&username=&first_name=&last_name=
/// &language_code=` (or `full_name=`) → 200 `{id, user_id, telegram_id, username, first_name,
/// last_name, created}`.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/users/get-or-create/",
    tag = "bot",
    security(("bot_secret" = [])),
    params(
        ("telegram_id" = i64, Query, description = "Telegram user id (positive)"),
        ("username" = Option<String>, Query, description = "Telegram username"),
        ("first_name" = Option<String>, Query, description = "First name"),
        ("last_name" = Option<String>, Query, description = "Last name"),
        ("language_code" = Option<String>, Query, description = "IETF language code"),
        ("full_name" = Option<String>, Query, description = "Legacy: split on the first space into first and last name"),
    ),
    responses(
        (status = 200, description = "`{id, user_id, telegram_id, username, first_name, last_name, created}`", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 403, description = "`X-Bot-Secret` missing or wrong", body = ErrorEnvelope),
    )
)]
async fn get_or_create(
    _bot: BotCaller,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let telegram_id = query_telegram_id(&params)?;
    let (mut first_name, mut last_name) = (
        opt_param(&params, "first_name", 255),
        opt_param(&params, "last_name", 255),
    );
    if first_name.is_none()
        && last_name.is_none()
        && let Some(full) = opt_param(&params, "full_name", 511)
    {
        let mut parts = full.splitn(2, ' ');
        first_name = parts.next().map(str::to_string);
        last_name = parts.next().map(|s| s.trim().to_string());
    }
    let input = BotUser {
        telegram_id,
        username: opt_param(&params, "username", 255)
            .map(|u| u.trim_start_matches('@').to_string()),
        first_name: first_name.unwrap_or_default(),
        last_name: last_name.unwrap_or_default(),
        language_code: opt_param(&params, "language_code", 10),
    };
    let p = bot::get_or_create_user(state.db(), &input, state.now()).await?;
    if p.created {
        tracing::info!(user_id = p.account.user.id, "bot user created");
        metrics::counter!("eatfit_users_created_total").increment(1);
    }
    let tg = &p.account.telegram;
    Ok(Json(json!({
        "id": tg.id,
        "user_id": p.account.user.id,
        "telegram_id": tg.telegram_id,
        "username": tg.username,
        "first_name": tg.first_name,
        "last_name": tg.last_name,
        "created": p.created,
    }))
    .into_response())
}

fn survey_json(s: &survey::Model) -> Value {
    json!({
        "id": s.id,
        "user": s.user_id,
        "gender": s.gender,
        "age": s.age,
        "height_cm": s.height_cm,
        "weight_kg": views::decimal(s.weight_kg),
        "target_weight_kg": s.target_weight_kg.map(views::decimal),
        "activity": s.activity,
        "training_level": s.training_level,
        "body_goals": s.body_goals.clone().unwrap_or_else(|| json!([])),
        "health_limitations": s.health_limitations.clone().unwrap_or_else(|| json!([])),
        "body_now_id": s.body_now_id,
        "body_now_label": s.body_now_label,
        "body_now_file": s.body_now_file,
        "body_ideal_id": s.body_ideal_id,
        "body_ideal_label": s.body_ideal_label,
        "body_ideal_file": s.body_ideal_file,
        "timezone": s.timezone,
        "utc_offset_minutes": s.utc_offset_minutes,
        "completed_at": s.completed_at.map(views::datetime),
        "created_at": views::datetime(s.created_at),
        "updated_at": views::datetime(s.updated_at),
    })
}

/// `POST /api/v1/telegram/personal-plan/survey/` → 201 with the survey; the person becomes a
/// lead (they appear in the coach's applications).
#[utoipa::path(
    post,
    path = "/api/v1/telegram/personal-plan/survey/",
    tag = "bot",
    security(("bot_secret" = [])),
    request_body(content = Value, description = "The survey answers with `telegram_id` (sex, age, height, weight, goals, `utc_offset_minutes`, IANA `timezone`, body types, …)", content_type = "application/json"),
    responses(
        (status = 201, description = "The stored survey; the person becomes a lead", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 403, description = "`X-Bot-Secret` missing or wrong", body = ErrorEnvelope),
        (status = 404, description = "Unknown Telegram user", body = ErrorEnvelope),
    )
)]
async fn create_survey(
    _bot: BotCaller,
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<Response> {
    let input = bot::parse_survey(&json_body(&body)?).map_err(validation)?;
    let account = users::find_by_telegram_id(state.db(), input.telegram_id)
        .await?
        .ok_or_else(user_not_found)?;
    let row = bot::create_survey(state.db(), &account, &input, state.now()).await?;
    Ok((StatusCode::CREATED, Json(survey_json(&row))).into_response())
}

fn plan_json(p: &plan::Model) -> Value {
    json!({
        "id": p.id,
        "user": p.user_id,
        "survey": p.survey_id,
        "ai_text": p.ai_text,
        "ai_model": p.ai_model,
        "prompt_version": p.prompt_version,
        "created_at": views::datetime(p.created_at),
    })
}

fn limit_reached(c: &DailyCount, now: chrono::DateTime<chrono::Utc>) -> Response {
    let retry = (c.resets_at - now).num_seconds().max(1);
    let mut resp = ApiError::General {
        code: ErrorCode::TooManyRequests,
        message: Some(format!(
            "Лимит персональных планов на сегодня исчерпан ({} в день). Попробуйте завтра.",
            c.limit
        )),
        details: json!({
            "reason": "DAILY_LIMIT_REACHED",
            "limit": c.limit,
            "count": c.count,
            "retry_after_sec": retry,
        }),
    }
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&retry.to_string()) {
        resp.headers_mut().insert("retry-after", v);
    }
    resp
}

/// `POST /api/v1/telegram/personal-plan/plan/` → 201 new plan, 200 the existing plan of the
/// same survey, 404 unknown user or survey, 429 daily limit.
#[utoipa::path(
    post,
    path = "/api/v1/telegram/personal-plan/plan/",
    tag = "bot",
    security(("bot_secret" = [])),
    request_body(content = Value, description = "`{telegram_id, survey_id, ai_text, ai_model?, prompt_version?}`", content_type = "application/json"),
    responses(
        (status = 201, description = "A new plan `{id, user, survey, ai_text, ai_model, prompt_version, created_at}`", body = Value),
        (status = 200, description = "The existing plan of the same survey", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 403, description = "`X-Bot-Secret` missing or wrong", body = ErrorEnvelope),
        (status = 404, description = "Unknown user or survey", body = ErrorEnvelope),
        (status = 429, description = "Daily limit reached (`details.reason = DAILY_LIMIT_REACHED`, `limit`, `count`, `retry_after_sec`; `Retry-After` header)", body = ErrorEnvelope),
    )
)]
async fn create_plan(
    _bot: BotCaller,
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<Response> {
    let input = bot::parse_plan(&json_body(&body)?).map_err(validation)?;
    let account = users::find_by_telegram_id(state.db(), input.telegram_id)
        .await?
        .ok_or_else(user_not_found)?;
    let now = state.now();
    Ok(
        match bot::create_plan(state.db(), account.user.id, &input, now).await? {
            PlanOutcome::Created(p) => (StatusCode::CREATED, Json(plan_json(&p))).into_response(),
            PlanOutcome::Existing(p) => (StatusCode::OK, Json(plan_json(&p))).into_response(),
            PlanOutcome::SurveyNotFound => {
                return Err(ApiError::with_message(
                    ErrorCode::NotFound,
                    "Survey not found",
                ));
            }
            PlanOutcome::LimitReached(c) => {
                tracing::info!(
                    user_id = account.user.id,
                    "personal plan daily limit reached"
                );
                limit_reached(&c, now)
            }
        },
    )
}

/// `GET /api/v1/telegram/personal-plan/count-today/?telegram_id=` → `{count, limit,
/// can_create, remaining}`; an unknown user has 0 (as in the original).
#[utoipa::path(
    get,
    path = "/api/v1/telegram/personal-plan/count-today/",
    tag = "bot",
    security(("bot_secret" = [])),
    params(
        ("telegram_id" = i64, Query, description = "Telegram user id (positive)"),
    ),
    responses(
        (status = 200, description = "`{count, limit, can_create, remaining}` for the user's calendar day", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 403, description = "`X-Bot-Secret` missing or wrong", body = ErrorEnvelope),
    )
)]
async fn count_today(
    _bot: BotCaller,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let telegram_id = query_telegram_id(&params)?;
    let account = users::find_by_telegram_id(state.db(), telegram_id).await?;
    let c = bot::plans_today(state.db(), account.map(|a| a.user.id), state.now()).await?;
    Ok(Json(json!({
        "count": c.count,
        "limit": c.limit,
        "can_create": c.can_create(),
        "remaining": c.remaining(),
    }))
    .into_response())
}

/// `POST /api/v1/telegram/save-test/` → 200 `{status, user_id, message, created}`.
#[utoipa::path(
    post,
    path = "/api/v1/telegram/save-test/",
    tag = "bot",
    security(("bot_secret" = [])),
    request_body(content = Value, description = "The lead-magnet test answers with `telegram_id`", content_type = "application/json"),
    responses(
        (status = 200, description = "`{status, user_id, message, created}`", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 403, description = "`X-Bot-Secret` missing or wrong", body = ErrorEnvelope),
    )
)]
async fn save_test(
    _bot: BotCaller,
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<Response> {
    let input = bot::parse_save_test(&json_body(&body)?).map_err(validation)?;
    let p = bot::save_test(state.db(), &input, state.now()).await?;
    Ok(Json(json!({
        "status": "success",
        "user_id": p.account.user.id,
        "message": "Данные теста сохранены",
        "created": p.created,
    }))
    .into_response())
}

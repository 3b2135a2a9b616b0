//! Food recognition over HTTP (reference/ai-pipeline.md §1, DESIGN.md §6); the work is in the
//! `recognition` crate.
//!
//! * `POST /api/v1/ai/recognize/` — multipart `image` (or `data_url` in multipart or JSON),
//!   `meal_type` (default SNACK), `date` (default the user's today, never in the future),
//!   `user_comment` (≤ 500), `meal_id`, `meal_photo_id` (retry) → 202
//!   `{task_id, meal_id, meal_photo_id, status:"processing"}`.
//! * `GET /api/v1/ai/task/{task_id}/` → `{task_id, status, state, result?, error?}`; `failed`
//!   iff an error code is present; unknown or foreign → 404 `PHOTO_NOT_FOUND`.
//! * `POST /api/v1/ai/task/{task_id}/cancel/` → `{"ok": true}` always.
//! * `POST /api/v1/ai/cancel/` → the §1.5 body, idempotent by `client_cancel_id`.
//! * `POST /api/v1/ai/recognize-text/` `{text, meal_type?, date?, meal_id?}` → 202, parsed
//!   offline with the food table (works with no AI provider).
//!
//! Submissions (photo and text) are throttled per user at 10/min and 100/day, counted from the
//! stored tasks (durable, shared by all instances) → 429 `RATE_LIMIT` + `Retry-After`. Every
//! AI/quota error is the catalogue contract with the legacy `error` key.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::NaiveDate;
use domain::error::AiErrorCode;
use domain::nutrition::MealType;
use recognition::{CancelRequest, PhotoSubmission, SubmitError, Submitted, TextSubmission};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::request_id::current_trace_id;
use crate::state::AppState;

/// Room for a 15 MiB photo plus the multipart framing (the global limit may still be lower).
const UPLOAD_LIMIT: usize = 16 * 1024 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recognize))
        .routes(routes!(task_status))
        .routes(routes!(cancel_task))
        .routes(routes!(cancel_batch))
        .routes(routes!(recognize_text))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
}

fn service(state: &AppState) -> recognition::Service {
    recognition::Service::new(
        state.db().clone(),
        state.media().clone(),
        state.clock().clone(),
        state.ai_configured(),
    )
}

fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Ai(code, retry) => ApiError::Ai(code, retry),
        SubmitError::FutureDate => ApiError::field("date", "Дата не может быть в будущем"),
        SubmitError::InvalidInput(field, msg) => ApiError::field(field, msg),
        SubmitError::Media(m) => ApiError::internal(m),
        SubmitError::Store(e) => e.into(),
    }
}

fn accepted(s: &Submitted) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "task_id": s.task_id,
            "meal_id": s.meal_id,
            "meal_photo_id": s.meal_photo_id,
            "status": "processing",
        })),
    )
        .into_response()
}

/// The submission's fields, from multipart or JSON.
#[derive(Default)]
struct Fields {
    image: Option<Vec<u8>>,
    text: Map<String, Value>,
}

impl Fields {
    fn str(&self, name: &str) -> Option<String> {
        match self.text.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

async fn read_fields(state: &AppState, req: Request) -> ApiResult<Fields> {
    let ct = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut f = Fields::default();
    if ct.starts_with("multipart/form-data") {
        let mut mp = Multipart::from_request(req, state)
            .await
            .map_err(|_| ApiError::Ai(AiErrorCode::InvalidImage, None))?;
        while let Some(field) = mp
            .next_field()
            .await
            .map_err(|_| ApiError::Ai(AiErrorCode::InvalidImage, None))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "image" {
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| ApiError::Ai(AiErrorCode::ImageTooLarge, None))?;
                if bytes.is_empty() {
                    return Err(ApiError::field("image", "Пустой файл"));
                }
                f.image = Some(bytes.to_vec());
            } else if !name.is_empty() {
                let text = field
                    .text()
                    .await
                    .map_err(|_| ApiError::field(&name, "Некорректное значение."))?;
                f.text.insert(name, Value::String(text));
            }
        }
    } else {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::field("non_field_errors", "Некорректное тело запроса."))?;
        if !body.is_empty() {
            match serde_json::from_slice::<Value>(&body) {
                Ok(Value::Object(m)) => f.text = m,
                _ => {
                    return Err(ApiError::field(
                        "non_field_errors",
                        "Ожидается JSON-объект.",
                    ));
                }
            }
        }
    }
    Ok(f)
}

fn meal_type(f: &Fields) -> ApiResult<MealType> {
    match f.str("meal_type").filter(|s| !s.is_empty()) {
        None => Ok(MealType::Snack),
        Some(s) => s.parse().map_err(|_| {
            ApiError::field(
                "meal_type",
                format!("Значения «{s}» нет среди допустимых вариантов."),
            )
        }),
    }
}

fn date(f: &Fields) -> ApiResult<Option<NaiveDate>> {
    match f.str("date").filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                ApiError::field(
                    "date",
                    "Неправильный формат даты. Используйте формат YYYY-MM-DD.",
                )
            }),
    }
}

fn int(f: &Fields, name: &str) -> ApiResult<Option<i64>> {
    match f.str(name).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::field(name, "Введите правильное число.")),
    }
}

const ALLOWED_MIME: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/heic",
    "image/heif",
];

/// `data:<mime>;base64,<data>` → bytes (the magic bytes decide the format later).
fn decode_data_url(s: &str) -> ApiResult<Vec<u8>> {
    let bad = || ApiError::field("data_url", "Неверный формат data_url.");
    let rest = s.trim().strip_prefix("data:").ok_or_else(bad)?;
    let (mime, data) = rest.split_once(";base64,").ok_or_else(bad)?;
    let mime = mime.trim().to_ascii_lowercase();
    if !ALLOWED_MIME.contains(&mime.as_str()) {
        return Err(ApiError::field(
            "data_url",
            format!("Неподдерживаемый тип изображения: {mime}"),
        ));
    }
    if data.len() > recognition::MAX_IMAGE_BYTES / 10 * 14 {
        return Err(ApiError::Ai(AiErrorCode::ImageTooLarge, None));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| ApiError::field("data_url", "Некорректный base64 в data_url"))?;
    if bytes.is_empty() {
        return Err(ApiError::field("data_url", "Пустое изображение"));
    }
    Ok(bytes)
}

/// `POST /api/v1/ai/recognize/`.
#[utoipa::path(
    post,
    path = "/api/v1/ai/recognize/",
    tag = "ai",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "multipart: `image` (file) or `data_url`, `meal_type?` (default SNACK), `date?` (YYYY-MM-DD, default the user's today), `user_comment?` (≤ 500), `meal_id?`, `meal_photo_id?` (retry a FAILED/CANCELLED photo); JSON accepts the same fields with `data_url`", content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "`{task_id, meal_id, meal_photo_id, status: \"processing\"}`", body = Value),
        (status = 400, description = "Validation (`VALIDATION_ERROR` envelope) or an image contract error (`INVALID_IMAGE`, `UNSUPPORTED_IMAGE_FORMAT`, `INVALID_STATUS`)", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "`PHOTO_NOT_FOUND` contract (retry of an unknown or foreign photo)", body = Value),
        (status = 413, description = "`IMAGE_TOO_LARGE` contract", body = Value),
        (status = 429, description = "`DAILY_PHOTO_LIMIT_EXCEEDED` or `RATE_LIMIT` contract (+ `Retry-After`)", body = Value),
        (status = 503, description = "`AI_NOT_CONFIGURED` contract", body = Value),
    )
)]
async fn recognize(
    State(state): State<AppState>,
    user: CurrentUser,
    req: Request,
) -> ApiResult<Response> {
    let svc = service(&state);
    svc.throttle(user.user_id()).await.map_err(submit_error)?;
    let f = read_fields(&state, req).await?;
    let data_url = f.str("data_url").filter(|s| !s.trim().is_empty());
    let image = match (f.image.clone(), data_url) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "non_field_errors",
                "Нужно передать только одно: либо image, либо data_url",
            ));
        }
        (None, None) => {
            return Err(ApiError::field(
                "non_field_errors",
                "Нужно передать либо image, либо data_url",
            ));
        }
        (Some(bytes), None) => bytes,
        (None, Some(url)) => decode_data_url(&url)?,
    };
    let comment = f.str("user_comment");
    if comment
        .as_deref()
        .is_some_and(|c| c.trim().chars().count() > recognition::MAX_COMMENT_CHARS)
    {
        return Err(ApiError::field(
            "user_comment",
            "Убедитесь, что это значение содержит не более 500 символов.",
        ));
    }
    let submitted = svc
        .submit_photo(PhotoSubmission {
            user: user.user_id(),
            image,
            meal_type: meal_type(&f)?,
            date: date(&f)?,
            user_comment: comment,
            meal_id: int(&f, "meal_id")?,
            meal_photo_id: int(&f, "meal_photo_id")?,
            trace_id: current_trace_id(),
        })
        .await
        .map_err(submit_error)?;
    Ok(accepted(&submitted))
}

/// `POST /api/v1/ai/recognize-text/`.
#[utoipa::path(
    post,
    path = "/api/v1/ai/recognize-text/",
    tag = "ai",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{text, meal_type?, date?, meal_id?}`", content_type = "application/json"),
    responses(
        (status = 202, description = "`{task_id, meal_id, meal_photo_id: null, status: \"processing\"}`", body = Value),
        (status = 400, description = "Validation error", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 429, description = "`RATE_LIMIT` contract (+ `Retry-After`)", body = Value),
    )
)]
async fn recognize_text(
    State(state): State<AppState>,
    user: CurrentUser,
    req: Request,
) -> ApiResult<Response> {
    let svc = service(&state);
    svc.throttle(user.user_id()).await.map_err(submit_error)?;
    let f = read_fields(&state, req).await?;
    let text = f
        .str("text")
        .ok_or_else(|| ApiError::field("text", "Обязательное поле."))?;
    let submitted = svc
        .submit_text(TextSubmission {
            user: user.user_id(),
            text,
            meal_type: meal_type(&f)?,
            date: date(&f)?,
            meal_id: int(&f, "meal_id")?,
            trace_id: current_trace_id(),
        })
        .await
        .map_err(submit_error)?;
    Ok(accepted(&submitted))
}

/// `GET /api/v1/ai/task/{task_id}/`.
#[utoipa::path(
    get,
    path = "/api/v1/ai/task/{task_id}/",
    tag = "ai",
    security(("telegram_init_data" = [])),
    params(("task_id" = String, Path, description = "The id from the 202")),
    responses(
        (status = 200, description = "`{task_id, status: processing|success|failed, state, result?, error?}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "`PHOTO_NOT_FOUND` contract (unknown or foreign task)", body = Value),
    )
)]
async fn task_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
) -> ApiResult<Json<Value>> {
    match service(&state).task(user.user_id(), &task_id).await? {
        Some(t) => Ok(Json(recognition::poll_body(&t))),
        None => Err(ApiError::Ai(AiErrorCode::PhotoNotFound, None)),
    }
}

/// `POST /api/v1/ai/task/{task_id}/cancel/`.
#[utoipa::path(
    post,
    path = "/api/v1/ai/task/{task_id}/cancel/",
    tag = "ai",
    security(("telegram_init_data" = [])),
    params(("task_id" = String, Path, description = "The id from the 202")),
    responses(
        (status = 200, description = "`{\"ok\": true}` (also for unknown or foreign tasks)", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn cancel_task(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(task_id): Path<String>,
) -> ApiResult<Json<Value>> {
    service(&state)
        .cancel_task(user.user_id(), &task_id)
        .await?;
    Ok(Json(json!({"ok": true})))
}

fn parse_cancel(f: &Fields) -> ApiResult<CancelRequest> {
    let id = f
        .str("client_cancel_id")
        .ok_or_else(|| ApiError::field("client_cancel_id", "Обязательное поле."))?;
    let id = uuid::Uuid::parse_str(id.trim())
        .map_err(|_| ApiError::field("client_cancel_id", "Введите правильный UUID."))?;
    let ints = |name: &str| -> ApiResult<Vec<i64>> {
        match f.text.get(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_i64()
                        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                        .ok_or_else(|| ApiError::field(name, "Введите правильное число."))
                })
                .collect(),
            Some(_) => Err(ApiError::field(name, "Ожидается список.")),
        }
    };
    let task_ids = match f.text.get("task_ids") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) if s.chars().count() <= 255 => Ok(s.clone()),
                _ => Err(ApiError::field(
                    "task_ids",
                    "Некорректный идентификатор задачи.",
                )),
            })
            .collect::<ApiResult<Vec<_>>>()?,
        Some(_) => return Err(ApiError::field("task_ids", "Ожидается список.")),
    };
    let reason = f.str("reason").unwrap_or_else(|| "user_cancel".into());
    if reason.chars().count() > 100 {
        return Err(ApiError::field(
            "reason",
            "Убедитесь, что это значение содержит не более 100 символов.",
        ));
    }
    Ok(CancelRequest {
        client_cancel_id: id.to_string(),
        run_id: int(f, "run_id")?,
        meal_id: int(f, "meal_id")?,
        meal_photo_ids: ints("meal_photo_ids")?,
        task_ids,
        reason,
    })
}

/// `POST /api/v1/ai/cancel/`.
#[utoipa::path(
    post,
    path = "/api/v1/ai/cancel/",
    tag = "ai",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{client_cancel_id (UUID), run_id?, meal_id?, meal_photo_ids?, task_ids?, reason?}`", content_type = "application/json"),
    responses(
        (status = 200, description = "`{status, cancel_received, cancelled_tasks, updated_photos, noop, message}`", body = Value),
        (status = 400, description = "Missing or invalid `client_cancel_id`", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn cancel_batch(
    State(state): State<AppState>,
    user: CurrentUser,
    req: Request,
) -> ApiResult<Json<Value>> {
    let f = read_fields(&state, req).await?;
    let cancel = parse_cancel(&f)?;
    tracing::info!(client_cancel_id = %cancel.client_cancel_id, reason = %cancel.reason, "[AI][Cancel] RECEIVED");
    match service(&state).cancel_batch(user.user_id(), cancel).await {
        Ok(o) => {
            let message = if o.repeated {
                "Cancel already processed (idempotent)"
            } else if o.noop {
                "Cancel received (no active tasks)"
            } else {
                "Cancel processed successfully"
            };
            Ok(Json(json!({
                "status": "ok",
                "cancel_received": true,
                "cancelled_tasks": o.cancelled_tasks,
                "updated_photos": o.updated_photos,
                "noop": o.noop,
                "message": message,
            })))
        }
        Err(e) => {
            tracing::error!(error = %e, "[AI][Cancel] failed");
            Ok(Json(json!({
                "status": "error",
                "cancel_received": true,
                "cancelled_tasks": 0,
                "updated_photos": 0,
                "noop": true,
                "message": "Cancel failed: internal error",
            })))
        }
    }
}

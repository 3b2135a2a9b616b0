//! `/api/v1/users/profile/…` (reference/backend-core.md §1.3) and `GET /media/{key}`.
//!
//! * `GET/PUT/PATCH /users/profile/`: flat body, every invalid field reported in `details`
//!   (field → messages), the time zone must be an IANA name (default Europe/Moscow), `username`
//!   and the read-only keys are ignored.
//! * `POST /users/profile/avatar/` (multipart field `avatar`): the format is decided by magic
//!   bytes only (JPEG, PNG, WebP; never the client's content type or file name), decoded with
//!   size limits, EXIF orientation applied, centre square crop, 512 px, re-encoded as JPEG with
//!   no metadata, stored under a generated name; the old file is deleted and `avatar_version`
//!   bumped. Errors use the general envelope with the original's distinction kept in
//!   `details.code` (`avatar_missing`, `invalid_mime_type`, `file_too_large`, …). An upload over
//!   5 MiB answers **413** `PAYLOAD_TOO_LARGE` (the original said 400).
//! * `DELETE /users/profile/delete/`: deletes the account with every row (cascade) and every
//!   stored file it owned (avatar, meal photos). The next request with valid initData creates a
//!   new account.
//! * `GET /media/{key}`: serves stored files (avatars, meal photos) by their generated,
//!   unguessable keys, without authentication (an `<img>` cannot send initData), as the
//!   original's nginx did. Keys never change content, so responses are cacheable for a year.
//!
//! Profile updates and avatar uploads share one limit, as the original's throttle: 30 per hour
//! and user (counted in the database, so it holds across instances), answered with 429
//! `RATE_LIMIT` and `Retry-After`. Unlike the original it also applies in dev.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::error::ErrorCode;
use domain::nutrition::{ProfileFieldError, ProfileUpdate};
use serde_json::{Map, Value, json};
use store::entities::profile;
use store::users::Account;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use crate::telegram::MEDIA_PREFIX;
use crate::views;

/// Multipart overhead allowed on top of the 5 MiB avatar (boundaries, headers, other fields).
const AVATAR_BODY_LIMIT: usize = imaging::AVATAR_MAX_BYTES + 64 * 1024;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, put_profile, patch_profile))
        .routes(routes!(upload_avatar).layer(DefaultBodyLimit::max(AVATAR_BODY_LIMIT)))
        .routes(routes!(delete_account))
        .routes(routes!(media_file))
}

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by `goals`)
// ---------------------------------------------------------------------------------------------

/// Parses a JSON object body; an empty body is `{}`.
pub(crate) fn json_object(body: &Bytes) -> ApiResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Number(_) => "int",
                Value::Bool(_) => "bool",
                _ => "null",
            };
            Err(validation(vec![(
                "non_field_errors".to_owned(),
                format!("Недопустимые данные. Ожидался словарь, но был получен {kind}."),
            )]))
        }
        Err(_) => Err(ApiError::with_message(
            ErrorCode::BadRequest,
            "Некорректный JSON в теле запроса.",
        )),
    }
}

/// A validation error from `(field, message)` pairs, in order: `message` is the first problem,
/// `details` maps every field to its messages.
pub(crate) fn validation(errors: Vec<(String, String)>) -> ApiError {
    let message = errors
        .first()
        .map(|(f, m)| format!("{f}: {m}"))
        .unwrap_or_else(|| "Проверьте введённые данные.".to_owned());
    let mut details = Map::new();
    for (field, msg) in errors {
        match details
            .entry(field)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(list) => list.push(Value::String(msg)),
            other => *other = Value::Array(vec![Value::String(msg)]),
        }
    }
    ApiError::Validation {
        message,
        details: Value::Object(details),
    }
}

fn profile_errors(errors: Vec<ProfileFieldError>) -> ApiError {
    validation(
        errors
            .into_iter()
            .map(|e| (e.field.as_str().to_owned(), e.kind.to_string()))
            .collect(),
    )
}

/// The `UserSerializer` body: `{id, username, email, profile:{…}}`.
pub(crate) fn user_json(
    account: &Account,
    p: &profile::Model,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({
        "id": account.user.id,
        "username": account.user.username,
        "email": account.user.email,
        "profile": views::profile(p, now, MEDIA_PREFIX),
    })
}

// ---------------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------------

/// `GET /api/v1/users/profile/`.
#[utoipa::path(
    get,
    path = "/api/v1/users/profile/",
    tag = "profile",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "`{id, username, email, profile}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn get_profile(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    let now = state.now();
    let p = store::profiles::get(state.db(), user.user_id(), now).await?;
    Ok(Json(user_json(&user.account, &p, now)))
}

/// `PUT /api/v1/users/profile/`: partial, like PATCH (as the original).
#[utoipa::path(
    put,
    path = "/api/v1/users/profile/",
    tag = "profile",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "Any of `full_name, gender, birth_date, height, weight, activity_level, goal_type, target_weight, timezone`; none is required", content_type = "application/json"),
    responses(
        (status = 200, description = "`{id, username, email, profile}` after the update", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 413, description = "Body too large", body = ErrorEnvelope),
        (status = 429, description = "More than 30 profile updates and avatar uploads in the hour: `RATE_LIMIT` with `Retry-After`", body = Value),
    )
)]
async fn put_profile(
    state: State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    update_profile(state, user, body).await
}

/// `PATCH /api/v1/users/profile/`.
#[utoipa::path(
    patch,
    path = "/api/v1/users/profile/",
    tag = "profile",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "Any of `full_name, gender, birth_date, height, weight, activity_level, goal_type, target_weight, timezone`; none is required", content_type = "application/json"),
    responses(
        (status = 200, description = "`{id, username, email, profile}` after the update", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 413, description = "Body too large", body = ErrorEnvelope),
        (status = 429, description = "More than 30 profile updates and avatar uploads in the hour: `RATE_LIMIT` with `Retry-After`", body = Value),
    )
)]
async fn patch_profile(
    state: State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    update_profile(state, user, body).await
}

/// The original's `profile_update` throttle scope: PUT/PATCH of the profile and avatar uploads.
pub const PROFILE_UPDATES_PER_HOUR: u32 = 30;

async fn throttle(state: &AppState, user: &CurrentUser) -> ApiResult<()> {
    let limit = store::rate_limits::Limit {
        max: PROFILE_UPDATES_PER_HOUR,
        window_secs: 3600,
    };
    let key = format!("profile_update:{}", user.user_id().0);
    match store::rate_limits::hit(state.db(), &key, limit, state.now()).await? {
        store::rate_limits::Verdict::Allowed => Ok(()),
        store::rate_limits::Verdict::Limited { retry_after_secs } => {
            tracing::info!(user_id = user.user_id().0, "profile update throttled");
            Err(ApiError::Ai(
                domain::error::AiErrorCode::RateLimit,
                Some(retry_after_secs),
            ))
        }
    }
}

/// `PUT/PATCH /api/v1/users/profile/`: both partial (no field is required, as the original).
async fn update_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    throttle(&state, &user).await?;
    let body = json_object(&body)?;
    let now = state.now();
    let current = store::profiles::get(state.db(), user.user_id(), now).await?;
    let today = store::profiles::today(&current, now);
    let update = ProfileUpdate::from_json(&body, today).map_err(profile_errors)?;
    let fields: Vec<&str> = update.fields().iter().map(|f| f.as_str()).collect();
    // Field names only, never values.
    tracing::info!(user_id = user.account.user.id, fields = ?fields, "profile update");
    let p = store::profiles::update(state.db(), current, update, now).await?;
    Ok(Json(user_json(&user.account, &p, now)))
}

// ---------------------------------------------------------------------------------------------
// Avatar
// ---------------------------------------------------------------------------------------------

/// An avatar upload problem: the general envelope, with the original's code in
/// `details.code` and the message also under `details.avatar`.
fn avatar_error(code: ErrorCode, detail_code: &str, message: &str) -> ApiError {
    let details = if code == ErrorCode::ValidationError || code == ErrorCode::PayloadTooLarge {
        json!({ "code": detail_code, "avatar": [message] })
    } else {
        json!({ "code": detail_code })
    };
    ApiError::General {
        code,
        message: Some(message.to_owned()),
        details,
    }
}

fn avatar_missing() -> ApiError {
    avatar_error(
        ErrorCode::ValidationError,
        "avatar_missing",
        "Файл аватара не предоставлен. Используйте поле 'avatar'.",
    )
}

fn avatar_too_large() -> ApiError {
    avatar_error(
        ErrorCode::PayloadTooLarge,
        "file_too_large",
        "Размер файла превышает 5 МБ.",
    )
}

fn multipart_error(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        avatar_too_large()
    } else {
        avatar_error(
            ErrorCode::ValidationError,
            "invalid_multipart",
            "Не удалось прочитать загруженный файл. Попробуйте ещё раз.",
        )
    }
}

fn image_error(e: &imaging::Error) -> ApiError {
    use imaging::Error as E;
    match e {
        E::Empty => avatar_error(
            ErrorCode::ValidationError,
            "empty_file",
            "Файл аватара пустой.",
        ),
        E::TooLarge { .. } => avatar_too_large(),
        E::NotAnImage => avatar_error(
            ErrorCode::ValidationError,
            "invalid_mime_type",
            "Неверный формат файла. Разрешены: JPEG, PNG, WebP",
        ),
        E::UnsupportedFormat(format) => avatar_error(
            ErrorCode::ValidationError,
            "unsupported_format",
            &format!(
                "Формат {} не поддерживается. Загрузите фото в JPEG, PNG или WebP.",
                format.name()
            ),
        ),
        E::DimensionsTooLarge { .. } => avatar_error(
            ErrorCode::ValidationError,
            "image_too_large",
            &format!(
                "Изображение слишком большое: не более {} пикселей по стороне и {} мегапикселей.",
                imaging::MAX_SIDE,
                imaging::MAX_PIXELS / 1_000_000
            ),
        ),
        E::Corrupt(_) => avatar_error(
            ErrorCode::ValidationError,
            "invalid_image",
            "Файл повреждён или не является изображением.",
        ),
        E::Encode(_) => avatar_error(
            ErrorCode::InternalError,
            "avatar_upload_failed",
            "Не удалось загрузить аватар. Попробуйте позже.",
        ),
    }
}

/// Reads the `avatar` field, refusing more than 5 MiB without buffering past the cap.
async fn read_avatar_field(multipart: &mut Multipart) -> ApiResult<Vec<u8>> {
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        if field.name() != Some("avatar") {
            continue;
        }
        let mut buf = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
            if buf.len() + chunk.len() > imaging::AVATAR_MAX_BYTES {
                return Err(avatar_too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        return Ok(buf);
    }
    Err(avatar_missing())
}

/// `POST /api/v1/users/profile/avatar/`.
#[utoipa::path(
    post,
    path = "/api/v1/users/profile/avatar/",
    tag = "profile",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "Multipart form with the image in the field `avatar` (≤ 5 MiB)", content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "`{id, username, email, profile}` with the new `avatar_url`", body = Value),
        (status = 400, description = "No `avatar` field, or not a JPEG/PNG/WebP/HEIC image that decodes (`details.code`)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 413, description = "Avatar over 5 MiB", body = ErrorEnvelope),
        (status = 429, description = "More than 30 profile updates and avatar uploads in the hour: `RATE_LIMIT` with `Retry-After`", body = Value),
    )
)]
async fn upload_avatar(
    State(state): State<AppState>,
    user: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Json<Value>> {
    throttle(&state, &user).await?;
    let mut multipart = multipart.map_err(|_| avatar_missing())?;
    let upload = read_avatar_field(&mut multipart).await?;
    let uid = user.user_id();
    let size_in = upload.len();
    let sniffed = imaging::sniff(&upload);
    let jpeg = tokio::task::spawn_blocking(move || imaging::avatar(&upload))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| {
            if matches!(e, imaging::Error::Encode(_)) {
                tracing::error!(user_id = uid.0, bytes = size_in, reason = %e, "avatar encoding failed");
            } else {
                tracing::info!(user_id = uid.0, bytes = size_in, format = ?sniffed, reason = %e, "avatar refused");
            }
            image_error(&e)
        })?;
    let key = state
        .media()
        .put_new("avatars", "jpg", jpeg)
        .await
        .map_err(ApiError::internal)?;
    let change = match store::profiles::set_avatar(state.db(), uid, &key, state.now()).await {
        Ok(change) => change,
        Err(e) => {
            // The row was not updated: the new file must not stay behind.
            if let Err(del) = state.media().delete(&key).await {
                tracing::warn!(key = %key, error = %del, "could not delete an unused avatar");
            }
            return Err(e.into());
        }
    };
    if let Some(old) = change
        .previous
        .as_deref()
        .filter(|k| k.starts_with("avatars/"))
        && let Err(e) = state.media().delete(old).await
    {
        tracing::warn!(key = %old, error = %e, "could not delete the replaced avatar");
    }
    tracing::info!(
        user_id = uid.0,
        bytes = size_in,
        format = ?sniffed,
        version = change.profile.avatar_version,
        "avatar replaced"
    );
    Ok(Json(user_json(&user.account, &change.profile, state.now())))
}

// ---------------------------------------------------------------------------------------------
// Account deletion
// ---------------------------------------------------------------------------------------------

/// `DELETE /api/v1/users/profile/delete/` → 204.
#[utoipa::path(
    delete,
    path = "/api/v1/users/profile/delete/",
    tag = "profile",
    security(("telegram_init_data" = [])),
    responses(
        (status = 204, description = "The account, its data and its files are deleted"),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn delete_account(State(state): State<AppState>, user: CurrentUser) -> ApiResult<StatusCode> {
    let uid = user.user_id();
    tracing::info!(
        target: "audit",
        event = "ACCOUNT_DELETION",
        user_id = uid.0,
        telegram_id = %user.telegram_id,
        "account deletion requested"
    );
    let keys = store::profiles::delete_account(state.db(), uid).await?;
    state.identities().forget_user(uid);
    let failed = state.media().delete_all(&keys).await;
    if failed > 0 {
        tracing::warn!(
            user_id = uid.0,
            failed,
            total = keys.len(),
            "account deleted but some of its files could not be removed"
        );
    }
    tracing::info!(target: "audit", event = "ACCOUNT_DELETED", user_id = uid.0, files = keys.len(), "account deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Media
// ---------------------------------------------------------------------------------------------

fn content_type(key: &str) -> &'static str {
    let ext = key
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "heic" | "heif" => "image/heic",
        "gif" => "image/gif",
        _ => "application/octet-stream",
    }
}

/// `GET /media/{key}`: a stored file, or 404 in the envelope.
#[utoipa::path(
    get,
    path = "/media/{*key}",
    tag = "profile",
    params(
        ("key" = String, Path, description = "The storage key, e.g. `avatars/…jpg` (may contain slashes)"),
    ),
    responses(
        (status = 200, description = "The stored file (its content type from the extension, `nosniff`)", content_type = "application/octet-stream"),
        (status = 404, description = "No such file", body = ErrorEnvelope),
    )
)]
async fn media_file(
    State(state): State<AppState>,
    key: Result<Path<String>, PathRejection>,
) -> Response {
    let Ok(Path(key)) = key else {
        return ApiError::not_found().into_response();
    };
    match state.media().get(&key).await {
        Ok(bytes) => {
            let mut resp = Response::new(Body::from(bytes));
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&key)),
            );
            h.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; sandbox"),
            );
            resp
        }
        Err(media::MediaError::NotFound(_) | media::MediaError::InvalidKey(_)) => {
            ApiError::not_found().into_response()
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_by_extension() {
        assert_eq!(content_type("avatars/a.jpg"), "image/jpeg");
        assert_eq!(content_type("avatars/a.JPEG"), "image/jpeg");
        assert_eq!(content_type("meals/1/a.png"), "image/png");
        assert_eq!(content_type("x/a.webp"), "image/webp");
        assert_eq!(content_type("x/a.html"), "application/octet-stream");
        assert_eq!(content_type("x/noext"), "application/octet-stream");
    }

    #[test]
    fn validation_groups_messages_by_field() {
        let e = validation(vec![
            ("a".into(), "one".into()),
            ("b".into(), "two".into()),
            ("a".into(), "three".into()),
        ]);
        let ApiError::Validation { message, details } = e else {
            panic!("not a validation error");
        };
        assert_eq!(message, "a: one");
        assert_eq!(details, json!({"a": ["one", "three"], "b": ["two"]}));
    }

    #[test]
    fn json_object_accepts_empty_and_refuses_non_objects() {
        assert!(json_object(&Bytes::from_static(b"")).is_ok_and(|m| m.is_empty()));
        assert!(json_object(&Bytes::from_static(b"{\"a\":1}")).is_ok());
        assert!(matches!(
            json_object(&Bytes::from_static(b"[1]")),
            Err(ApiError::Validation { .. })
        ));
        assert!(matches!(
            json_object(&Bytes::from_static(b"{oops")),
            Err(ApiError::General {
                code: ErrorCode::BadRequest,
                ..
            })
        ));
    }
}

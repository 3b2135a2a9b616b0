//! `/api/v1/telegram/…` authentication endpoints (reference/backend-core.md §1.5).
//!
//! Deliberate difference: the login answers carry no `access`/`refresh` JWTs. The original
//! minted them but no endpoint ever accepted them; every request authenticates with initData.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Request;
use axum::response::{IntoResponse, Response};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use store::entities::{daily_goal, profile};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentUser, authenticate};
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use crate::views;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth))
        .routes(routes!(webapp_auth))
        .routes(routes!(profile_view))
}

/// Where avatars are served from (relative, as the original's webapp/auth did).
pub const MEDIA_PREFIX: &str = "/media";

fn body_init_data(body: &Bytes) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("initData")
        .or_else(|| v.get("init_data"))
        .and_then(|s| s.as_str())
        .map(str::to_string)
}

async fn login(state: &AppState, req: Request<axum::body::Body>) -> ApiResult<CurrentUser> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| ApiError::new(domain::error::ErrorCode::PayloadTooLarge))?;
    let fallback = body_init_data(&bytes);
    authenticate(state, &parts, fallback.as_deref()).await
}

/// `POST /api/v1/telegram/auth/`: the Mini App's login at start.
#[utoipa::path(
    post,
    path = "/api/v1/telegram/auth/",
    tag = "auth",
    security(("telegram_init_data" = [])),
    request_body(
        content = Value,
        description = "Optional `{\"initData\": \"…\"}` (or `init_data`), used when the header is absent",
        content_type = "application/json"
    ),
    responses(
        (status = 200, description = "`{user: {telegram_id, username, first_name, last_name, …}, is_admin}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 413, description = "Body over 64 KiB", body = ErrorEnvelope),
        (status = 503, description = "The bot token is not configured", body = ErrorEnvelope),
    )
)]
pub async fn auth(
    State(state): State<AppState>,
    req: Request<axum::body::Body>,
) -> ApiResult<Response> {
    let user = login(&state, req).await?;
    Ok(Json(json!({
        "user": views::telegram_user_public(&user.account.telegram),
        "is_admin": user.is_admin,
    }))
    .into_response())
}

/// `POST /api/v1/telegram/webapp/auth/`: login returning profile and active goal too.
#[utoipa::path(
    post,
    path = "/api/v1/telegram/webapp/auth/",
    tag = "auth",
    security(("telegram_init_data" = [])),
    request_body(
        content = Value,
        description = "Optional `{\"initData\": \"…\"}` (or `init_data`), used when the header is absent",
        content_type = "application/json"
    ),
    responses(
        (status = 200, description = "`{user, profile, goals (the active goal or null), is_admin}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 413, description = "Body over 64 KiB", body = ErrorEnvelope),
        (status = 503, description = "The bot token is not configured", body = ErrorEnvelope),
    )
)]
pub async fn webapp_auth(
    State(state): State<AppState>,
    req: Request<axum::body::Body>,
) -> ApiResult<Response> {
    let user = login(&state, req).await?;
    let uid = user.account.user.id;
    let profile = profile::Entity::find()
        .filter(profile::Column::UserId.eq(uid))
        .one(state.db().conn())
        .await
        .map_err(store::StoreError::from)?
        .ok_or_else(|| ApiError::internal(format!("user {uid} has no profile row")))?;
    let goal = daily_goal::Entity::find()
        .filter(daily_goal::Column::UserId.eq(uid))
        .filter(daily_goal::Column::IsActive.eq(true))
        .order_by_desc(daily_goal::Column::CreatedAt)
        .one(state.db().conn())
        .await
        .map_err(store::StoreError::from)?;
    Ok(Json(json!({
        "user": views::webapp_user(&user.account.user, &user.account.telegram),
        "profile": views::profile(&profile, state.now(), MEDIA_PREFIX),
        "goals": goal.as_ref().map(views::daily_goal),
        "is_admin": user.is_admin,
    }))
    .into_response())
}

/// `GET /api/v1/telegram/profile/`.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/profile/",
    tag = "auth",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "The caller's Telegram user", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
pub async fn profile_view(user: CurrentUser) -> ApiResult<Response> {
    Ok(Json(views::telegram_user_public(&user.account.telegram)).into_response())
}

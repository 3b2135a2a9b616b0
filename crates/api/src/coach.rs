//! The coach (trainer) panel: its login check and its data (reference/backend-core.md §1.5,
//! §1.6, §3.2, §3.8; DESIGN.md §3). Rules live in `store::coach`; this module extracts,
//! validates and shapes JSON.
//!
//! Deliberate differences from the original:
//! * Every error uses the general envelope (the login's 403 was `{"detail":"Нет доступа"}`,
//!   the clients POST 400s were `{"error":"…"}`).
//! * The three lists share one shape with real pagination and a total:
//!   `{"results":[…], "count", "page", "page_size"}` (`?page=` from 1, `?page_size=` 1..=100,
//!   default 20; `?search=` over names, username and the Telegram id; applications also take
//!   `?status=`). The subscribers answer adds the `stats` block. The original returned bare
//!   arrays sliced by `limit`/`offset` with no total.
//! * `telegram_id` is a JSON number everywhere (the original sent a string in applications and
//!   clients, a number in subscribers); datetimes use the API's one format (`views::datetime`).
//! * Leads come from the bot survey as well as the legacy lead-magnet test; the status is stored
//!   (`new`/`viewed`/`contacted`/`client`), not derived from `is_client`.
//! * The routes the old panel called but the original lacked exist: `PATCH
//!   /telegram/applications/{id}/status/`, `DELETE /telegram/applications/{id}/`,
//!   `POST /telegram/clients/{id}/add/`.
//! * `POST /telegram/clients/` accepts any Telegram user, not only test-completed ones (the
//!   subscribers list shows everyone, and survey leads never completed the legacy test).
//! * New: `GET /telegram/invite-link/me/` gives the calling coach their own link
//!   (`?start=coach_<telegram id>`), and application/client items carry the raw `source_tag`
//!   and `invited_by_coach` (the coach's Telegram id read from a `coach_<id>` tag, else null).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use domain::error::ErrorCode;
use domain::init_data;
use serde_json::{Value, json};
use store::coach::{
    self, AddClient, Lead, LeadStatus, MAX_PAGE_SIZE, Page, PageRequest, RemoveClient,
    SubscriberStats, SubscriptionInfo,
};
use store::entities::{personal_plan_survey as survey, telegram_user};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AdminUser, INIT_DATA_HEADER, verify_init_data};
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use crate::views;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(panel_auth))
        .routes(routes!(panel_auth_legacy))
        .routes(routes!(applications))
        .routes(routes!(application_status))
        .routes(routes!(delete_application))
        .routes(routes!(clients, add_client_body))
        .routes(routes!(remove_client))
        .routes(routes!(add_client_path))
        .routes(routes!(subscribers))
        .routes(routes!(invite_link))
        .routes(routes!(coach_invite_link))
}

// ---------------------------------------------------------------------------------------------
// Access.

/// The coach panel's gate: [`AdminUser`] (30-minute initData, id in `TELEGRAM_ADMINS`), with
/// one refinement from the reference (§1.6): initData that is valid but older than 30 minutes
/// is a 403 ("open the panel again"), not a 401 — the caller is known, the admin session is
/// stale. Anonymous or forged initData stays 401; a non-admin gets 403.
#[derive(Debug, Clone)]
pub struct Coach(pub AdminUser);

impl FromRequestParts<AppState> for Coach {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match AdminUser::from_request_parts(parts, state).await {
            Ok(admin) => Ok(Coach(admin)),
            Err(e) => {
                let raw = parts
                    .headers
                    .get(INIT_DATA_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|v| !v.is_empty());
                let stale = matches!(
                    &e,
                    ApiError::General {
                        code: ErrorCode::Unauthorized,
                        ..
                    }
                ) && raw.is_some_and(|raw| {
                    verify_init_data(state, raw, init_data::USER_MAX_AGE_SECS).is_ok()
                });
                if stale {
                    Err(ApiError::with_message(
                        ErrorCode::Forbidden,
                        "Нет доступа: сессия панели тренера устарела, откройте панель заново.",
                    ))
                } else {
                    Err(e)
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Login check.

fn body_init_data(body: &Bytes) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    ["init_data", "initData"]
        .iter()
        .filter_map(|k| v.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

/// `POST /api/v1/trainer-panel/auth/` (and the legacy `/telegram/trainer/admin-panel/`).
///
/// initData from body `init_data`, else body `initData`, else the header; 24 h window. An
/// admin gets `{"ok":true,"role":"admin"}`; everything else 403 in the envelope. With no
/// admins configured, dev answers `{"ok":true,"role":"admin","debug":true}` to any valid
/// initData (as the original did in DEBUG) and prod denies everyone.
#[utoipa::path(
    post,
    path = "/api/v1/trainer-panel/auth/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "Optional `{init_data}` or `{initData}`; else the `X-Telegram-Init-Data` header", content_type = "application/json"),
    responses(
        (status = 200, description = "`{ok: true, role: admin}` (dev with no admins configured adds `debug: true`)", body = Value),
        (status = 403, description = "No or invalid initData, or not an admin", body = ErrorEnvelope),
        (status = 503, description = "The bot token is not configured", body = ErrorEnvelope),
    )
)]
async fn panel_auth(
    State(state): State<AppState>,
    req: Request<axum::body::Body>,
) -> ApiResult<Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| ApiError::new(ErrorCode::Forbidden))?;
    let raw = body_init_data(&bytes).or_else(|| {
        parts
            .headers
            .get(INIT_DATA_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    });
    let Some(raw) = raw else {
        return Err(ApiError::new(ErrorCode::Forbidden));
    };
    let user = verify_init_data(&state, &raw, init_data::USER_MAX_AGE_SECS)
        .map_err(|_| ApiError::new(ErrorCode::Forbidden))?;
    let settings = state.settings();
    if settings.admins.is_empty() {
        if settings.is_prod() {
            tracing::error!("trainer panel login refused: TELEGRAM_ADMINS is empty");
            return Err(ApiError::new(ErrorCode::Forbidden));
        }
        tracing::warn!("trainer panel login allowed without TELEGRAM_ADMINS (dev only)");
        return Ok(Json(json!({"ok": true, "role": "admin", "debug": true})).into_response());
    }
    if settings.is_admin(user.id) {
        Ok(Json(json!({"ok": true, "role": "admin"})).into_response())
    } else {
        tracing::info!(telegram_id = %user.id, "trainer panel login refused: not an admin");
        Err(ApiError::new(ErrorCode::Forbidden))
    }
}

/// `POST /api/v1/telegram/trainer/admin-panel/`: the legacy path of the panel login.
#[utoipa::path(
    post,
    path = "/api/v1/telegram/trainer/admin-panel/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "Optional `{init_data}` or `{initData}`; else the `X-Telegram-Init-Data` header", content_type = "application/json"),
    responses(
        (status = 200, description = "`{ok: true, role: admin}` (dev with no admins configured adds `debug: true`)", body = Value),
        (status = 403, description = "No or invalid initData, or not an admin", body = ErrorEnvelope),
        (status = 503, description = "The bot token is not configured", body = ErrorEnvelope),
    )
)]
async fn panel_auth_legacy(
    state: State<AppState>,
    req: Request<axum::body::Body>,
) -> ApiResult<Response> {
    panel_auth(state, req).await
}

// ---------------------------------------------------------------------------------------------
// Lists.

fn positive(params: &HashMap<String, String>, name: &str) -> ApiResult<Option<u64>> {
    match params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<u64>() {
            Ok(v) if v >= 1 => Ok(Some(v)),
            _ => Err(ApiError::field(name, "Ожидается целое число не меньше 1.")),
        },
    }
}

/// `?page=&page_size=&search=`; a page size above the cap is clamped to it.
fn page_request(params: &HashMap<String, String>) -> ApiResult<PageRequest> {
    let mut req = PageRequest::default();
    if let Some(p) = positive(params, "page")? {
        req.page = p;
    }
    if let Some(s) = positive(params, "page_size")? {
        req.page_size = s.min(MAX_PAGE_SIZE);
    }
    req.search = params
        .get("search")
        .map(|s| s.trim().chars().take(100).collect::<String>())
        .filter(|s| !s.is_empty());
    Ok(req)
}

fn page_json<T>(page: &Page<T>, item: impl Fn(&T) -> Value) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "results".into(),
        Value::Array(page.items.iter().map(item).collect()),
    );
    m.insert("count".into(), json!(page.count));
    m.insert("page".into(), json!(page.page));
    m.insert("page_size".into(), json!(page.page_size));
    m
}

fn display_name(tg: &telegram_user::Model) -> String {
    let full = format!("{} {}", tg.first_name, tg.last_name)
        .trim()
        .to_string();
    if !full.is_empty() {
        full
    } else if let Some(u) = tg.username.as_deref().filter(|u| !u.is_empty()) {
        format!("@{u}")
    } else {
        format!("User {}", tg.telegram_id)
    }
}

fn subscription_json(s: &SubscriptionInfo) -> Value {
    json!({
        "plan_type": s.plan.as_str(),
        "is_paid": s.is_paid(),
        "status": s.state.as_str(),
        "paid_until": s.paid_until.map(views::datetime),
    })
}

/// The survey answers under the legacy AI-test key names the old panel renders, plus the
/// survey's own fields.
fn survey_details(s: &survey::Model) -> serde_json::Map<String, Value> {
    let v = json!({
        "survey_id": s.id,
        "gender": s.gender,
        "age": s.age,
        "height": s.height_cm,
        "weight": s.weight_kg,
        "target_weight": s.target_weight_kg,
        "activity_level": s.activity,
        "training_level": s.training_level,
        "goals": s.body_goals.clone().unwrap_or_else(|| json!([])),
        "health_restrictions": s.health_limitations.clone().unwrap_or_else(|| json!([])),
        "current_body_type": s.body_now_id,
        "ideal_body_type": s.body_ideal_id,
        "body_now_label": s.body_now_label,
        "body_now_file": s.body_now_file,
        "body_ideal_label": s.body_ideal_label,
        "body_ideal_file": s.body_ideal_file,
        "timezone": s.timezone,
        "utc_offset_minutes": s.utc_offset_minutes,
        "completed_at": s.completed_at.map(views::datetime),
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// One application/client item (the old panel's fields).
fn lead_json(l: &Lead) -> Value {
    let tg = &l.telegram;
    let mut details = match &tg.ai_test_answers {
        Some(Value::Object(m)) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if let Some(s) = &l.survey {
        details.extend(survey_details(s));
    }
    let source = if l.survey.is_some() {
        "survey"
    } else if tg.ai_test_completed {
        "ai_test"
    } else {
        "manual"
    };
    json!({
        "id": tg.id,
        "telegram_id": tg.telegram_id,
        "first_name": tg.first_name,
        "last_name": tg.last_name,
        "username": tg.username.clone().unwrap_or_default(),
        "photo_url": "",
        "status": l.status.as_str(),
        "display_name": display_name(tg),
        "ai_test_completed": tg.ai_test_completed,
        "is_client": tg.is_client,
        "source": source,
        "source_tag": tg.source_tag,
        "invited_by_coach": coach::invited_by_coach(tg.source_tag.as_deref()),
        "details": details,
        "recommended_calories": tg.recommended_calories,
        "recommended_protein": tg.recommended_protein,
        "recommended_fat": tg.recommended_fat,
        "recommended_carbs": tg.recommended_carbs,
        "created_at": views::datetime(tg.created_at),
        "subscription": subscription_json(&l.subscription),
        "is_paid": l.subscription.is_paid(),
    })
}

/// `GET /api/v1/telegram/applications/`: leads (survey respondents and lead-magnet test
/// takers), newest first. `?status=` narrows to one status.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/applications/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("page" = Option<u64>, Query, description = "Page, from 1"),
        ("page_size" = Option<u64>, Query, description = "Page size (clamped to 100)"),
        ("search" = Option<String>, Query, description = "Name or username contains"),
        ("status" = Option<String>, Query, description = "`new`, `viewed`, `contacted`, `client` or `all`"),
    ),
    responses(
        (status = 200, description = "`{results, count, page, page_size}` of leads, newest first", body = Value),
        (status = 400, description = "A bad `page`, `page_size` or `status` (`VALIDATION_ERROR`)", body = ErrorEnvelope),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
    )
)]
async fn applications(
    _admin: Coach,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let req = page_request(&params)?;
    let status = match params
        .get("status")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None | Some("all") => None,
        Some(s) => Some(s.parse::<LeadStatus>().map_err(|_| {
            ApiError::field(
                "status",
                format!("Значения «{s}» нет среди допустимых вариантов."),
            )
        })?),
    };
    let page = coach::list_applications(state.db(), &req, status, state.now()).await?;
    Ok(Json(Value::Object(page_json(&page, lead_json))).into_response())
}

/// `GET /api/v1/telegram/clients/`.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/clients/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("page" = Option<u64>, Query, description = "Page, from 1"),
        ("page_size" = Option<u64>, Query, description = "Page size (clamped to 100)"),
        ("search" = Option<String>, Query, description = "Name or username contains"),
    ),
    responses(
        (status = 200, description = "`{results, count, page, page_size}` of clients", body = Value),
        (status = 400, description = "A bad `page`, `page_size` or `status` (`VALIDATION_ERROR`)", body = ErrorEnvelope),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
    )
)]
async fn clients(
    _admin: Coach,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let req = page_request(&params)?;
    let page = coach::list_clients(state.db(), &req, state.now()).await?;
    Ok(Json(Value::Object(page_json(&page, lead_json))).into_response())
}

fn stats_json(s: &SubscriberStats) -> Value {
    json!({
        "total": s.total,
        "free": s.free,
        "monthly": s.monthly,
        "yearly": s.yearly,
        "revenue": s.revenue_kopecks as f64 / 100.0,
    })
}

/// `GET /api/v1/telegram/subscribers/`: every Telegram user with their plan, and the counts.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/subscribers/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("page" = Option<u64>, Query, description = "Page, from 1"),
        ("page_size" = Option<u64>, Query, description = "Page size (clamped to 100)"),
        ("search" = Option<String>, Query, description = "Name or username contains"),
    ),
    responses(
        (status = 200, description = "`{results, count, page, page_size, stats}`: every Telegram user with their plan", body = Value),
        (status = 400, description = "A bad `page`, `page_size` or `status` (`VALIDATION_ERROR`)", body = ErrorEnvelope),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
    )
)]
async fn subscribers(
    _admin: Coach,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let req = page_request(&params)?;
    let now = state.now();
    let page = coach::list_subscribers(state.db(), &req, now).await?;
    let stats = coach::subscriber_stats(state.db(), now).await?;
    let mut body = page_json(&page, |s| {
        let tg = &s.telegram;
        json!({
            "id": tg.id,
            "telegram_id": tg.telegram_id,
            "first_name": tg.first_name,
            "last_name": tg.last_name,
            "username": tg.username.clone().unwrap_or_default(),
            "display_name": display_name(tg),
            "plan_type": s.subscription.plan.as_str(),
            "subscribed_at": views::datetime(tg.created_at),
            "expires_at": s.subscription.paid_until.map(views::datetime),
            "is_active": s.subscription.state == coach::SubscriptionState::Active,
            "is_paid": s.subscription.is_paid(),
        })
    });
    body.insert("stats".into(), stats_json(&stats));
    Ok(Json(Value::Object(body)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Lead and client changes.

fn path_id(raw: &str) -> ApiResult<i64> {
    match raw.trim().parse::<i64>() {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(ApiError::not_found()),
    }
}

/// `PATCH /api/v1/telegram/applications/{id}/status/` `{status}` → the updated application.
#[utoipa::path(
    patch,
    path = "/api/v1/telegram/applications/{id}/status/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("id" = String, Path, description = "Telegram user id of the lead or client"),
    ),
    request_body(content = Value, description = "`{status: new|viewed|contacted|client}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated application", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
        (status = 404, description = "No such lead", body = ErrorEnvelope),
    )
)]
async fn application_status(
    _admin: Coach,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let id = path_id(&id)?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::field("status", "Обязательное поле."))?;
    let status = match v.get("status") {
        None | Some(Value::Null) => return Err(ApiError::field("status", "Обязательное поле.")),
        Some(Value::String(s)) => s.trim().parse::<LeadStatus>().map_err(|_| {
            ApiError::field(
                "status",
                format!(
                    "Значения «{s}» нет среди допустимых вариантов (new, viewed, contacted, client)."
                ),
            )
        })?,
        Some(_) => return Err(ApiError::field("status", "Ожидалась строка.")),
    };
    let lead = coach::set_lead_status(state.db(), id, status, state.now()).await?;
    Ok(Json(lead_json(&lead)).into_response())
}

/// `DELETE /api/v1/telegram/applications/{id}/`: removes the lead from the list — their
/// survey rows, the lead-magnet flag and answers; never the account (see `store::coach`).
#[utoipa::path(
    delete,
    path = "/api/v1/telegram/applications/{id}/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("id" = String, Path, description = "Telegram user id of the lead or client"),
    ),
    responses(
        (status = 200, description = "The lead is removed from the list (never the account)", body = Value),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
        (status = 404, description = "No such lead", body = ErrorEnvelope),
    )
)]
async fn delete_application(
    _admin: Coach,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&id)?;
    coach::delete_lead(state.db(), id, state.now()).await?;
    Ok(Json(json!({"status": "success", "message": "Заявка удалена"})).into_response())
}

async fn add_client(state: &AppState, id: i64) -> ApiResult<Response> {
    let message = match coach::add_client(state.db(), id, state.now()).await? {
        AddClient::Added => "Client added successfully",
        AddClient::AlreadyClient => "Client already added",
    };
    Ok(Json(json!({"status": "success", "message": message, "id": id})).into_response())
}

/// `POST /api/v1/telegram/clients/` `{"id": <Telegram-user id>}` (an int or a numeric string).
#[utoipa::path(
    post,
    path = "/api/v1/telegram/clients/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{id}`: a Telegram user id (an integer or a numeric string)", content_type = "application/json"),
    responses(
        (status = 200, description = "The person is now a client", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
        (status = 404, description = "No such Telegram user", body = ErrorEnvelope),
    )
)]
async fn add_client_body(
    _admin: Coach,
    State(state): State<AppState>,
    body: Bytes,
) -> ApiResult<Response> {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let id = match v.get("id") {
        None | Some(Value::Null) => return Err(ApiError::field("id", "ID is required")),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(_) => None,
    }
    .filter(|v| *v > 0)
    .ok_or_else(|| ApiError::field("id", "ID must be a positive integer"))?;
    add_client(&state, id).await
}

/// `POST /api/v1/telegram/clients/{id}/add/`: the path the old panel's "Сделать клиентом" calls.
#[utoipa::path(
    post,
    path = "/api/v1/telegram/clients/{id}/add/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("id" = String, Path, description = "Telegram user id of the lead or client"),
    ),
    responses(
        (status = 200, description = "The person is now a client", body = Value),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
        (status = 404, description = "No such Telegram user", body = ErrorEnvelope),
    )
)]
async fn add_client_path(
    _admin: Coach,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&id)?;
    add_client(&state, id).await
}

/// `DELETE /api/v1/telegram/clients/{id}/`: the person goes back to a `contacted` lead.
#[utoipa::path(
    delete,
    path = "/api/v1/telegram/clients/{id}/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    params(
        ("id" = String, Path, description = "Telegram user id of the lead or client"),
    ),
    responses(
        (status = 200, description = "The person is back to a `contacted` lead", body = Value),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
        (status = 404, description = "No such client", body = ErrorEnvelope),
    )
)]
async fn remove_client(
    _admin: Coach,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&id)?;
    let message = match coach::remove_client(state.db(), id, state.now()).await? {
        RemoveClient::Removed => "Client removed successfully",
        RemoveClient::AlreadyRemoved => "Client already removed",
    };
    Ok(Json(json!({"status": "success", "message": message})).into_response())
}

// ---------------------------------------------------------------------------------------------
// Invite link.

/// The link to the bot with the `invite` start payload, when the bot's username is known.
pub fn invite_link_for(bot_username: Option<&str>) -> Option<String> {
    let name = bot_username?.trim().trim_start_matches('@');
    if name.is_empty() {
        return None;
    }
    Some(format!("https://t.me/{name}?start=invite"))
}

/// `GET /api/v1/telegram/invite-link/` (public): the bot link with the `invite` start payload
/// (the bot records it as the lead's source). Without `TELEGRAM_BOT_USERNAME` it answers 503 in
/// the envelope instead of the original's permanent 500.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/invite-link/",
    tag = "coach",
    responses(
        (status = 200, description = "`{link}`: `https://t.me/<bot>?start=invite`", body = Value),
        (status = 503, description = "The bot username is not configured yet", body = ErrorEnvelope),
    )
)]
async fn invite_link(State(state): State<AppState>) -> ApiResult<Response> {
    match invite_link_for(state.settings().bot_username.as_deref()) {
        Some(link) => Ok(Json(json!({ "link": link })).into_response()),
        None => Err(ApiError::with_message(
            ErrorCode::ServiceUnavailable,
            "Ссылка-приглашение недоступна: имя бота (TELEGRAM_BOT_USERNAME) не настроено на сервере.",
        )),
    }
}

/// A coach's own link: `https://t.me/<bot>?start=coach_<coach telegram id>`; a user who starts
/// the bot through it gets `source_tag = coach_<id>` and is attributed to that coach.
pub fn coach_invite_link_for(bot_username: Option<&str>, coach_telegram_id: i64) -> Option<String> {
    let name = bot_username?.trim().trim_start_matches('@');
    if name.is_empty() {
        return None;
    }
    Some(format!(
        "https://t.me/{name}?start={}",
        coach::coach_invite_code(coach_telegram_id)
    ))
}

/// `GET /api/v1/telegram/invite-link/me/` (admins): the calling coach's own invite link and its
/// start code, `{link, code}`; leads who join through it carry `source_tag = code`. 503 in the
/// envelope without `TELEGRAM_BOT_USERNAME`.
#[utoipa::path(
    get,
    path = "/api/v1/telegram/invite-link/me/",
    tag = "coach",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "`{link, code}`: `https://t.me/<bot>?start=coach_<telegram id>` and `coach_<telegram id>`", body = Value),
        (status = 401, description = "initData missing or forged", body = ErrorEnvelope),
        (status = 403, description = "Not an admin, or the panel session (30 min) is stale", body = ErrorEnvelope),
        (status = 503, description = "The bot username is not configured yet", body = ErrorEnvelope),
    )
)]
async fn coach_invite_link(
    Coach(admin): Coach,
    State(state): State<AppState>,
) -> ApiResult<Response> {
    let id = admin.0.get();
    match coach_invite_link_for(state.settings().bot_username.as_deref(), id) {
        Some(link) => {
            Ok(Json(json!({ "link": link, "code": coach::coach_invite_code(id) })).into_response())
        }
        None => Err(ApiError::with_message(
            ErrorCode::ServiceUnavailable,
            "Ссылка-приглашение недоступна: имя бота (TELEGRAM_BOT_USERNAME) не настроено на сервере.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_link_needs_a_name() {
        assert_eq!(invite_link_for(None), None);
        assert_eq!(invite_link_for(Some(" ")), None);
        assert_eq!(
            invite_link_for(Some("@EatFit24_bot")).as_deref(),
            Some("https://t.me/EatFit24_bot?start=invite")
        );
    }

    #[test]
    fn coach_link_carries_the_coach_id() {
        assert_eq!(coach_invite_link_for(None, 7), None);
        assert_eq!(
            coach_invite_link_for(Some("EatFit24_bot"), 7).as_deref(),
            Some("https://t.me/EatFit24_bot?start=coach_7")
        );
    }

    #[test]
    fn page_params_are_validated_and_clamped() {
        let p = |pairs: &[(&str, &str)]| {
            page_request(
                &pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let r = p(&[("page", "2"), ("page_size", "500")]).unwrap_or_default();
        assert_eq!((r.page, r.page_size), (2, MAX_PAGE_SIZE));
        assert!(p(&[("page", "0")]).is_err());
        assert!(p(&[("page_size", "x")]).is_err());
    }
}

//! `/api/v1/meals/…`: the diary and the meal list, meals and food items (create, edit with
//! rescaling, delete with the photo files), quick add, copying a meal or a day, recent and
//! frequent foods, and the CSV export (reference/backend-core.md §1.4, §3.6, §3.7, §3.12).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Duration;
use domain::error::ErrorCode;
use domain::nutrition::{Grams, Nutrients, progress};
use serde_json::{Value, json};
use store::diary::{self, item_nutrients};
use store::meals::{self as svc, ItemPatch, ItemSource, MealError, MealPatch, NewItem};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentUser, Reader};
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::state::AppState;
use crate::views;

/// Meals per page of the list (the original's `PAGE_SIZE`).
pub const PAGE_SIZE: u64 = 20;
/// How far back recent and frequent foods look.
pub const RECENT_DAYS: i64 = 90;
/// Default and largest `limit` of recent foods.
pub const RECENT_DEFAULT_LIMIT: usize = 20;
pub const RECENT_MAX_LIMIT: usize = 50;

mod input;
mod shape;

pub use input::MSG_BAD_DATE;
pub(crate) use input::query_map;
use input::{
    Form, MSG_BAD_PAGE, p_date, p_grams, p_kcal, p_macro, p_meal_type, p_name, parse_iso_date,
    path_id,
};
pub(crate) use input::{bad_request, check_range, query_date};
pub use shape::{MealOut, item_json, meal_json, media_url};
use shape::{csv_field, food_json};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_or_diary, create_meal))
        .routes(routes!(quick_add))
        .routes(routes!(copy_day))
        .routes(routes!(recent_foods))
        .routes(routes!(export_csv))
        .routes(routes!(get_meal, put_meal, patch_meal, delete_meal))
        .routes(routes!(copy_meal))
        .routes(routes!(add_item))
        .routes(routes!(get_item, put_item, patch_item, delete_item))
}

fn meal_error(e: MealError, date_field: &str) -> ApiError {
    match e {
        MealError::NotFound => ApiError::not_found(),
        MealError::FutureDate(e) => ApiError::field(date_field, e.to_string()),
        MealError::ItemLimit { field, error } => ApiError::field(field.as_str(), error.to_string()),
        MealError::Store(e) => e.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Meals
// ---------------------------------------------------------------------------------------------

/// The diary of one day.
#[derive(serde::Serialize)]
struct DiaryOut<'a> {
    date: String,
    daily_goal: Option<Value>,
    total_consumed: Nutrients,
    progress: domain::nutrition::Progress,
    meals: Vec<MealOut<'a>>,
}

/// `GET /api/v1/meals/?date=` (the diary) or `GET /api/v1/meals/?page=` (the list).
#[utoipa::path(
    get,
    path = "/api/v1/meals/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("date" = Option<String>, Query, description = "The diary of this day, `YYYY-MM-DD`"),
        ("page" = Option<u64>, Query, description = "The list page, from 1"),
    ),
    responses(
        (status = 200, description = "With `date`: the diary `{date, daily_goal, total_consumed, progress, meals}`; otherwise a page `{count, next, previous, results}` of 20 meals", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "`page` out of range", body = ErrorEnvelope),
    )
)]
async fn list_or_diary(
    State(state): State<AppState>,
    user: Reader,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query_map(q)?;
    if let Some(raw) = q.get("date").filter(|d| !d.trim().is_empty()) {
        let date = parse_iso_date(raw).ok_or_else(|| bad_request("date", MSG_BAD_DATE))?;
        let day = diary::day(state.db(), user.user_id(), date).await?;
        let total = day.total();
        let goal = day.goal.as_ref().map(diary::goal_targets);
        // Typed, not `json!`: the diary is the hottest response, and a tree of maps per meal
        // and item was a visible share of its cost.
        let body = DiaryOut {
            date: date.format("%Y-%m-%d").to_string(),
            daily_goal: day.goal.as_ref().map(views::daily_goal),
            total_consumed: total,
            progress: progress(&total, goal.as_ref()),
            meals: day.meals.iter().map(MealOut::of).collect(),
        };
        return Ok(axum::Json(body).into_response());
    }
    let page = match q.get("page") {
        None => 1,
        Some(p) => p
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|p| *p >= 1)
            .ok_or_else(|| ApiError::with_message(ErrorCode::NotFound, MSG_BAD_PAGE))?,
    };
    let (count, meals) = diary::page(state.db(), user.user_id(), page, PAGE_SIZE).await?;
    let pages = count.div_ceil(PAGE_SIZE).max(1);
    if page > pages {
        return Err(ApiError::with_message(ErrorCode::NotFound, MSG_BAD_PAGE));
    }
    let base = list_url(&headers);
    let next = (page < pages).then(|| format!("{base}?page={}", page + 1));
    let previous = match page {
        1 => None,
        2 => Some(base.clone()),
        p => Some(format!("{base}?page={}", p - 1)),
    };
    Ok(axum::Json(json!({
        "count": count,
        "next": next,
        "previous": previous,
        "results": meals.iter().map(meal_json).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// The absolute URL of the list, from the request's Host (as the original's paginator).
fn list_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    match host {
        Some(h) => format!("{proto}://{h}/api/v1/meals/"),
        None => "/api/v1/meals/".to_string(),
    }
}

/// `POST /api/v1/meals/` `{meal_type, date, name?}` → 201 `{id, meal_type, date, created_at}`.
#[utoipa::path(
    post,
    path = "/api/v1/meals/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{meal_type: BREAKFAST|LUNCH|DINNER|SNACK, date: YYYY-MM-DD (not in the user's future), name?}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{id, meal_type, date, created_at}`", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn create_meal(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Response> {
    let mut f = Form::new(&body, false)?;
    let meal_type = f.required("meal_type", p_meal_type);
    let date = f.required("date", p_date);
    let name = f.nullable("name", p_name).flatten();
    f.finish()?;
    let (Some(meal_type), Some(date)) = (meal_type, date) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let m = svc::create_meal(
        state.db(),
        user.user_id(),
        meal_type,
        date,
        name,
        state.now(),
    )
    .await
    .map_err(|e| meal_error(e, "date"))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "id": m.id,
            "meal_type": m.meal_type,
            "date": m.date.format("%Y-%m-%d").to_string(),
            "created_at": views::datetime(m.created_at),
        })),
    )
        .into_response())
}

/// `GET /api/v1/meals/{id}/` (FAILED meals included).
#[utoipa::path(
    get,
    path = "/api/v1/meals/{meal_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
    ),
    responses(
        (status = 200, description = "The meal with its items and photos (FAILED meals included)", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal of the caller", body = ErrorEnvelope),
    )
)]
async fn get_meal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(meal_id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&meal_id)?;
    let v = diary::meal_view(state.db(), user.user_id(), id).await?;
    Ok(axum::Json(MealOut::of(&v)).into_response())
}

async fn update_meal(
    state: AppState,
    user: CurrentUser,
    meal_id: String,
    body: Bytes,
    partial: bool,
) -> ApiResult<Response> {
    let id = path_id(&meal_id)?;
    let mut f = Form::new(&body, partial)?;
    let patch = MealPatch {
        meal_type: f.required("meal_type", p_meal_type),
        date: f.required("date", p_date),
        name: f.nullable("name", p_name),
    };
    f.finish()?;
    svc::update_meal(state.db(), user.user_id(), id, patch, state.now())
        .await
        .map_err(|e| meal_error(e, "date"))?;
    let v = diary::meal_view(state.db(), user.user_id(), id).await?;
    Ok(axum::Json(MealOut::of(&v)).into_response())
}

/// `PUT /api/v1/meals/{id}/`: `meal_type` and `date` required, `name` optional.
#[utoipa::path(
    put,
    path = "/api/v1/meals/{meal_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
    ),
    request_body(content = Value, description = "`{meal_type: BREAKFAST|LUNCH|DINNER|SNACK, date: YYYY-MM-DD (not in the user's future), name?}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated meal", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal of the caller", body = ErrorEnvelope),
    )
)]
async fn put_meal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(meal_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    update_meal(state, user, meal_id, body, false).await
}

/// `PATCH /api/v1/meals/{id}/`: any of `meal_type`, `date`, `name`.
#[utoipa::path(
    patch,
    path = "/api/v1/meals/{meal_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
    ),
    request_body(content = Value, description = "Any of `meal_type, date, name`", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated meal", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal of the caller", body = ErrorEnvelope),
    )
)]
async fn patch_meal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(meal_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    update_meal(state, user, meal_id, body, true).await
}

/// `DELETE /api/v1/meals/{id}/` → 204; the photo files go with the rows.
#[utoipa::path(
    delete,
    path = "/api/v1/meals/{meal_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
    ),
    responses(
        (status = 204, description = "Deleted with its items and photo files"),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal of the caller", body = ErrorEnvelope),
    )
)]
async fn delete_meal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(meal_id): Path<String>,
) -> ApiResult<Response> {
    let id = path_id(&meal_id)?;
    let keys = svc::delete_meal(state.db(), user.user_id(), id)
        .await
        .map_err(|e| meal_error(e, "date"))?;
    if !keys.is_empty() {
        let total = keys.len();
        let deleted = state.media().delete_all(keys).await;
        if deleted < total {
            tracing::warn!(
                meal_id = id,
                total,
                deleted,
                "some photo files of a deleted meal could not be removed; check media storage"
            );
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------

/// `POST /api/v1/meals/{meal_id}/items/` → 201 FoodItem.
#[utoipa::path(
    post,
    path = "/api/v1/meals/{meal_id}/items/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
    ),
    request_body(content = Value, description = "`{name, grams, calories, protein, fat, carbohydrates}`", content_type = "application/json"),
    responses(
        (status = 201, description = "The new food item", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal of the caller", body = ErrorEnvelope),
    )
)]
async fn add_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(meal_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let meal_id = path_id(&meal_id)?;
    let mut f = Form::new(&body, false)?;
    let name = f.required("name", p_name);
    let grams = f.required("grams", p_grams);
    let calories = f.required("calories", p_kcal);
    let protein = f.required("protein", p_macro);
    let fat = f.required("fat", p_macro);
    let carbohydrates = f.required("carbohydrates", p_macro);
    f.finish()?;
    let (Some(name), Some(grams), Some(calories), Some(protein), Some(fat), Some(carbohydrates)) =
        (name, grams, calories, protein, fat, carbohydrates)
    else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let item = NewItem {
        name,
        grams,
        nutrients: Nutrients {
            calories,
            protein,
            fat,
            carbohydrates,
        },
        source: ItemSource::Manual,
    };
    let row = svc::add_item(state.db(), user.user_id(), meal_id, &item, state.now())
        .await
        .map_err(|e| meal_error(e, "date"))?;
    Ok((StatusCode::CREATED, axum::Json(item_json(&row))).into_response())
}

/// `GET /api/v1/meals/{meal_id}/items/{id}/`.
#[utoipa::path(
    get,
    path = "/api/v1/meals/{meal_id}/items/{item_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
        ("item_id" = String, Path, description = "Food item id"),
    ),
    responses(
        (status = 200, description = "The food item", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal or item of the caller", body = ErrorEnvelope),
    )
)]
async fn get_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((meal_id, item_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (meal_id, item_id) = (path_id(&meal_id)?, path_id(&item_id)?);
    let row = svc::get_item(state.db(), user.user_id(), meal_id, item_id)
        .await
        .map_err(|e| meal_error(e, "date"))?;
    Ok(axum::Json(item_json(&row)).into_response())
}

async fn update_item(
    state: AppState,
    user: CurrentUser,
    ids: (String, String),
    body: Bytes,
    partial: bool,
) -> ApiResult<Response> {
    let (meal_id, item_id) = (path_id(&ids.0)?, path_id(&ids.1)?);
    let mut f = Form::new(&body, partial)?;
    let patch = ItemPatch {
        name: f.required("name", p_name),
        grams: f.required("grams", p_grams),
        calories: f.required("calories", p_kcal),
        protein: f.required("protein", p_macro),
        fat: f.required("fat", p_macro),
        carbohydrates: f.required("carbohydrates", p_macro),
    };
    f.finish()?;
    let row = svc::update_item(
        state.db(),
        user.user_id(),
        meal_id,
        item_id,
        patch,
        state.now(),
    )
    .await
    .map_err(|e| meal_error(e, "date"))?;
    Ok(axum::Json(item_json(&row)).into_response())
}

/// `PUT …/items/{id}/`: every field required.
#[utoipa::path(
    put,
    path = "/api/v1/meals/{meal_id}/items/{item_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
        ("item_id" = String, Path, description = "Food item id"),
    ),
    request_body(content = Value, description = "`{name, grams, calories, protein, fat, carbohydrates}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated food item", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal or item of the caller", body = ErrorEnvelope),
    )
)]
async fn put_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ids): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    update_item(state, user, ids, body, false).await
}

/// `PATCH …/items/{id}/`: a new `grams` alone rescales kcal and macros; values sent win.
#[utoipa::path(
    patch,
    path = "/api/v1/meals/{meal_id}/items/{item_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
        ("item_id" = String, Path, description = "Food item id"),
    ),
    request_body(content = Value, description = "Any of `name, grams, calories, protein, fat, carbohydrates`; `grams` alone rescales kcal and macros", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated food item", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal or item of the caller", body = ErrorEnvelope),
    )
)]
async fn patch_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(ids): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    update_item(state, user, ids, body, true).await
}

/// `DELETE …/items/{id}/` → 204.
#[utoipa::path(
    delete,
    path = "/api/v1/meals/{meal_id}/items/{item_id}/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
        ("item_id" = String, Path, description = "Food item id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal or item of the caller", body = ErrorEnvelope),
    )
)]
async fn delete_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((meal_id, item_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (meal_id, item_id) = (path_id(&meal_id)?, path_id(&item_id)?);
    svc::delete_item(state.db(), user.user_id(), meal_id, item_id)
        .await
        .map_err(|e| meal_error(e, "date"))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ---------------------------------------------------------------------------------------------
// Quick add, copies, recent foods, export
// ---------------------------------------------------------------------------------------------

/// `POST /api/v1/meals/quick-add/` `{date, meal_type, calories, protein?, fat?,
/// carbohydrates?, name?, grams?}` → 201 `{meal_created, meal, item}`: the item goes into the
/// newest non-FAILED meal of that type on that day, created if missing. Name defaults to
/// "Быстрое добавление", grams to 1 (nominal: editing grams never rescales a quick item).
#[utoipa::path(
    post,
    path = "/api/v1/meals/quick-add/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{date, meal_type, calories, protein?, fat?, carbohydrates?, name?, grams?}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{meal_created, meal, item}`", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn quick_add(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Response> {
    let mut f = Form::new(&body, false)?;
    let date = f.required("date", p_date);
    let meal_type = f.required("meal_type", p_meal_type);
    let calories = f.required("calories", p_kcal);
    let protein = f.optional("protein", p_macro);
    let fat = f.optional("fat", p_macro);
    let carbohydrates = f.optional("carbohydrates", p_macro);
    let name = f.nullable("name", p_name).flatten();
    let grams = f.nullable("grams", p_grams).flatten();
    f.finish()?;
    let (Some(date), Some(meal_type), Some(calories)) = (date, meal_type, calories) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let item = NewItem {
        name: name.unwrap_or_else(|| svc::QUICK_ADD_NAME.to_string()),
        grams: match grams {
            Some(g) => g,
            None => Grams::parse(1).map_err(ApiError::internal)?,
        },
        nutrients: Nutrients {
            calories,
            protein: protein.unwrap_or_default(),
            fat: fat.unwrap_or_default(),
            carbohydrates: carbohydrates.unwrap_or_default(),
        },
        source: ItemSource::Quick,
    };
    let added = svc::quick_add(
        state.db(),
        user.user_id(),
        date,
        meal_type,
        &item,
        state.now(),
    )
    .await
    .map_err(|e| meal_error(e, "date"))?;
    let view = diary::meal_view(state.db(), user.user_id(), added.meal.id).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "meal_created": added.meal_created,
            "meal": meal_json(&view),
            "item": item_json(&added.item),
        })),
    )
        .into_response())
}

/// `POST /api/v1/meals/{id}/copy/` `{date, meal_type?}` → 201 the new Meal (items copied,
/// photos not).
#[utoipa::path(
    post,
    path = "/api/v1/meals/{meal_id}/copy/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("meal_id" = String, Path, description = "Meal id (a positive integer; anything else is 404)"),
    ),
    request_body(content = Value, description = "`{date, meal_type?}`", content_type = "application/json"),
    responses(
        (status = 201, description = "The new meal (items copied, photos not)", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such meal of the caller", body = ErrorEnvelope),
    )
)]
async fn copy_meal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(meal_id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let id = path_id(&meal_id)?;
    let mut f = Form::new(&body, false)?;
    let date = f.required("date", p_date);
    let meal_type = f.optional("meal_type", p_meal_type);
    f.finish()?;
    let Some(date) = date else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let view = svc::copy_meal(state.db(), user.user_id(), id, date, meal_type, state.now())
        .await
        .map_err(|e| meal_error(e, "date"))?;
    Ok((StatusCode::CREATED, axum::Json(MealOut::of(&view))).into_response())
}

/// `POST /api/v1/meals/copy-day/` `{from_date, to_date}` → 201 `{count, meals:[Meal…]}`.
#[utoipa::path(
    post,
    path = "/api/v1/meals/copy-day/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{from_date, to_date}`", content_type = "application/json"),
    responses(
        (status = 201, description = "`{count, meals}`", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn copy_day(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Response> {
    let mut f = Form::new(&body, false)?;
    let from = f.required("from_date", p_date);
    let to = f.required("to_date", p_date);
    f.finish()?;
    let (Some(from), Some(to)) = (from, to) else {
        return Err(ApiError::internal("validated fields missing"));
    };
    let views = svc::copy_day(state.db(), user.user_id(), from, to, state.now())
        .await
        .map_err(|e| meal_error(e, "to_date"))?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({
            "count": views.len(),
            "meals": views.iter().map(meal_json).collect::<Vec<_>>(),
        })),
    )
        .into_response())
}

/// `GET /api/v1/meals/recent-foods/?limit=20` → `{recent, frequent}` from the last 90 days.
#[utoipa::path(
    get,
    path = "/api/v1/meals/recent-foods/",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("limit" = Option<u32>, Query, description = "How many of each, 1..=50 (default 20)"),
    ),
    responses(
        (status = 200, description = "`{recent, frequent}` from the last 90 days", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn recent_foods(
    State(state): State<AppState>,
    user: CurrentUser,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query_map(q)?;
    let limit = match q.get("limit").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => RECENT_DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=RECENT_MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::field(
                    "limit",
                    format!("Укажите целое число от 1 до {RECENT_MAX_LIMIT}."),
                )
            })?,
    };
    let since = state.now() - Duration::days(RECENT_DAYS);
    let foods = svc::recent_foods(state.db(), user.user_id(), since, limit).await?;
    Ok(axum::Json(json!({
        "recent": foods.recent.iter().map(|f| food_json(f, false)).collect::<Vec<_>>(),
        "frequent": foods.frequent.iter().map(|f| food_json(f, true)).collect::<Vec<_>>(),
    }))
    .into_response())
}

/// `GET /api/v1/meals/export.csv?from=&to=` → the food log as CSV, one row per item.
#[utoipa::path(
    get,
    path = "/api/v1/meals/export.csv",
    tag = "meals",
    security(("telegram_init_data" = [])),
    params(
        ("from" = String, Query, description = "First day, `YYYY-MM-DD`"),
        ("to" = String, Query, description = "Last day, `YYYY-MM-DD`"),
    ),
    responses(
        (status = 200, description = "One row per food item: `date,meal_type,meal_name,item_name,grams,calories,protein,fat,carbohydrates,source`", body = String, content_type = "text/csv"),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn export_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query_map(q)?;
    let missing = "Параметры from и to обязательны";
    let from = query_date(&q, "from", missing, MSG_BAD_DATE)?;
    let to = query_date(&q, "to", missing, MSG_BAD_DATE)?;
    check_range(from, to)?;
    let rows = svc::export_rows(state.db(), user.user_id(), from, to).await?;
    let mut out = String::from(
        "date,meal_type,meal_name,item_name,grams,calories,protein,fat,carbohydrates,source\r\n",
    );
    for r in &rows {
        let n = item_nutrients(&r.item);
        let fields = [
            r.date.format("%Y-%m-%d").to_string(),
            r.meal_type.clone(),
            r.meal_name.clone().unwrap_or_default(),
            r.item.name.clone(),
            r.item.grams.to_string(),
            n.calories.to_string(),
            n.protein.to_string(),
            n.fat.to_string(),
            n.carbohydrates.to_string(),
            r.item.source.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    let disposition = format!("attachment; filename=\"eatfit24-{from}-{to}.csv\"");
    let mut resp = out.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

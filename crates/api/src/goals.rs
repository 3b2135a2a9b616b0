//! Daily goals (reference/backend-core.md §1.4, §3.5) and the weight log.
//!
//! Goals:
//! * `GET /api/v1/goals/` → `{goal, is_set}` (never 404).
//! * `PUT/PATCH /api/v1/goals/`: upsert on the active goal — 201 with the bare goal when created,
//!   200 when updated; calories 500–10000, macros ≥ 0 with two decimals. A goal entered by hand
//!   records `source = MANUAL` unless the client sends a source (fix: the original stored AUTO).
//! * `POST /api/v1/goals/calculate/`: Mifflin-St Jeor from the profile, numbers.
//! * `POST /api/v1/goals/set-auto/`: calculate and store (`AUTO`, active; the others
//!   deactivated in the same transaction) → 201.
//! * calculate/set-auto refusals: the general envelope, `VALIDATION_ERROR`, the original's Russian
//!   message, `details.code` (`profile_incomplete`, `age_out_of_range`, …) and
//!   `details.missing_fields` (the profile fields to fill, `[]` for range problems).
//!
//! Weight log (new):
//! * `GET /api/v1/weights/?from=YYYY-MM-DD&to=YYYY-MM-DD` → `[{id, date, kg, trend}]` ascending
//!   by date. `trend` is the Hacker's Diet exponentially smoothed weight (α = 0.1 per day, missing
//!   days interpolated; see `domain::nutrition::weight_trend`), computed over the whole history up
//!   to `to`. `kg` and `trend` are JSON numbers.
//! * `POST /api/v1/weights/` `{date?, kg}`: one entry per day — 201 when the day's entry is new,
//!   200 when it replaced the day's weight. `date` defaults to the user's today and may not be
//!   after it; `kg` 20–500 with at most two decimals.
//! * `DELETE /api/v1/weights/{id}/` → 204; someone else's or a missing id → 404.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use domain::error::ErrorCode;
use domain::nutrition::{
    GoalCalcError, GoalSource, GoalTargets, MacroGrams, WeightKg, calculate_daily_goal,
    check_goal_macro, check_meal_date, parse_goal_calories,
};
use serde_json::{Map, Value, json};
use store::entities::weight_entry;
use store::goals::{GoalValues, GoalWriteError, Upserted};
use store::weights::Recorded;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::openapi::ErrorEnvelope;
use crate::profile::{json_object, validation};
use crate::state::AppState;
use crate::views;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_goal, put_goal, patch_goal))
        .routes(routes!(calculate))
        .routes(routes!(set_auto))
        .routes(routes!(list_weights, record_weight))
        .routes(routes!(delete_weight))
}

const REQUIRED: &str = "Обязательное поле.";
const NOT_NULL: &str = "Это поле не может быть пустым.";
const NOT_AN_INTEGER: &str = "Введите правильное число.";
const NOT_A_BOOL: &str = "Требуется логическое значение.";
const BAD_DATE: &str = "Неправильный формат даты. Используйте формат YYYY-MM-DD.";

// ---------------------------------------------------------------------------------------------
// Goals
// ---------------------------------------------------------------------------------------------

/// `GET /api/v1/goals/`.
#[utoipa::path(
    get,
    path = "/api/v1/goals/",
    tag = "goals",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "`{goal (or null), is_set}`", body = Value),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn get_goal(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Value>> {
    let goal = store::goals::active(state.db(), user.user_id()).await?;
    Ok(Json(json!({
        "goal": goal.as_ref().map(views::daily_goal),
        "is_set": goal.is_some(),
    })))
}

/// `PUT /api/v1/goals/`: sets the active goal.
#[utoipa::path(
    put,
    path = "/api/v1/goals/",
    tag = "goals",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{calories, protein, fat, carbohydrates, source?, is_active?}`; PUT needs the four numbers when no goal exists, PATCH only changes what it sends", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated active goal", body = Value),
        (status = 201, description = "A new active goal was created", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn put_goal(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Response> {
    upsert(&state, &user, &body, false).await
}

/// `PATCH /api/v1/goals/`: changes the active goal (partial).
#[utoipa::path(
    patch,
    path = "/api/v1/goals/",
    tag = "goals",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{calories, protein, fat, carbohydrates, source?, is_active?}`; PUT needs the four numbers when no goal exists, PATCH only changes what it sends", content_type = "application/json"),
    responses(
        (status = 200, description = "The updated active goal", body = Value),
        (status = 201, description = "A new active goal was created", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn patch_goal(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Response> {
    upsert(&state, &user, &body, true).await
}

/// `PUT/PATCH /api/v1/goals/`.
async fn upsert(
    state: &AppState,
    user: &CurrentUser,
    body: &Bytes,
    partial: bool,
) -> ApiResult<Response> {
    let values = parse_goal_values(&json_object(body)?)?;
    match store::goals::upsert_active(state.db(), user.user_id(), values, partial, state.now())
        .await
    {
        Ok(Upserted::Created(g)) => {
            Ok((StatusCode::CREATED, Json(views::daily_goal(&g))).into_response())
        }
        Ok(Upserted::Updated(g)) => Ok(Json(views::daily_goal(&g)).into_response()),
        Err(GoalWriteError::Missing(fields)) => Err(validation(
            fields
                .into_iter()
                .map(|f| (f.to_owned(), REQUIRED.to_owned()))
                .collect(),
        )),
        Err(GoalWriteError::Store(e)) => Err(e.into()),
    }
}

fn parse_calories(v: &Value) -> Result<u32, String> {
    let n = match v {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e12 => {
                #[allow(clippy::cast_possible_truncation)] // integral and bounded
                let i = f as i64;
                i
            }
            _ => return Err(NOT_AN_INTEGER.to_owned()),
        },
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| NOT_AN_INTEGER.to_owned())?,
        _ => return Err(NOT_AN_INTEGER.to_owned()),
    };
    parse_goal_calories(n).map_err(|e| e.to_string())
}

fn parse_macro(v: &Value) -> Result<MacroGrams, String> {
    let parsed = match v {
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u32::try_from(u).map(MacroGrams::from_whole).map_err(|_| {
                domain::nutrition::UnitError::TooLarge {
                    max: MacroGrams::ITEM_MAX.to_string(),
                }
            }),
            (None, Some(_), _) => Err(domain::nutrition::UnitError::Negative),
            (None, None, Some(f)) => MacroGrams::parse_f64(f),
            _ => Err(domain::nutrition::UnitError::NotANumber),
        },
        Value::String(s) => s.trim().parse::<MacroGrams>(),
        _ => Err(domain::nutrition::UnitError::NotANumber),
    };
    let value = parsed.map_err(|e| e.to_string())?;
    check_goal_macro(value).map_err(|e| e.to_string())
}

fn parse_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_u64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(NOT_A_BOOL.to_owned()),
        },
        _ => Err(NOT_A_BOOL.to_owned()),
    }
}

/// Validates a goal body: every present field, every problem reported. Requiredness depends on
/// whether an active goal exists and is checked by the store, in its transaction.
fn parse_goal_values(body: &Map<String, Value>) -> ApiResult<GoalValues> {
    let mut values = GoalValues::default();
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut check = |field: &str, result: Result<(), String>| {
        if let Err(m) = result {
            errors.push((field.to_owned(), m));
        }
    };
    for field in [
        "calories",
        "protein",
        "fat",
        "carbohydrates",
        "source",
        "is_active",
    ] {
        let Some(v) = body.get(field) else { continue };
        if v.is_null() {
            check(field, Err(NOT_NULL.to_owned()));
            continue;
        }
        let result = match field {
            "calories" => parse_calories(v).map(|c| values.calories = Some(c)),
            "protein" => parse_macro(v).map(|m| values.protein = Some(m)),
            "fat" => parse_macro(v).map(|m| values.fat = Some(m)),
            "carbohydrates" => parse_macro(v).map(|m| values.carbohydrates = Some(m)),
            "source" => match v.as_str().map(str::parse::<GoalSource>) {
                Some(Ok(s)) => {
                    values.source = Some(s);
                    Ok(())
                }
                _ => Err(format!(
                    "Значения «{}» нет среди допустимых вариантов.",
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                )),
            },
            _ => parse_bool(v).map(|b| values.is_active = Some(b)),
        };
        check(field, result);
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(validation(errors))
    }
}

fn calc_error(e: &GoalCalcError) -> ApiError {
    let missing: Vec<&str> = match e {
        GoalCalcError::IncompleteProfile { missing } => {
            missing.iter().map(|f| f.as_str()).collect()
        }
        _ => Vec::new(),
    };
    ApiError::General {
        code: ErrorCode::ValidationError,
        message: Some(e.to_string()),
        details: json!({ "code": e.code(), "missing_fields": missing }),
    }
}

async fn targets_for(state: &AppState, user: &CurrentUser) -> ApiResult<GoalTargets> {
    let now = state.now();
    let p = store::profiles::get(state.db(), user.user_id(), now).await?;
    let today = store::profiles::today(&p, now);
    calculate_daily_goal(&store::profiles::mifflin_input(&p), today).map_err(|e| calc_error(&e))
}

/// `POST /api/v1/goals/calculate/`: pure calculation, nothing stored.
#[utoipa::path(
    post,
    path = "/api/v1/goals/calculate/",
    tag = "goals",
    security(("telegram_init_data" = [])),
    responses(
        (status = 200, description = "The Mifflin–St Jeor targets `{calories, protein, fat, carbohydrates, …}` for the profile", body = Value),
        (status = 400, description = "The profile lacks fields the formula needs (`details.missing_fields`)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn calculate(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<GoalTargets>> {
    Ok(Json(targets_for(&state, &user).await?))
}

/// `POST /api/v1/goals/set-auto/` → 201 with the stored goal.
#[utoipa::path(
    post,
    path = "/api/v1/goals/set-auto/",
    tag = "goals",
    security(("telegram_init_data" = [])),
    responses(
        (status = 201, description = "The calculated goal, stored as the active one", body = Value),
        (status = 400, description = "The profile lacks fields the formula needs (`details.missing_fields`)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn set_auto(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    let targets = targets_for(&state, &user).await?;
    let goal = store::goals::set_auto(state.db(), user.user_id(), targets, state.now()).await?;
    Ok((StatusCode::CREATED, Json(views::daily_goal(&goal))).into_response())
}

// ---------------------------------------------------------------------------------------------
// Weight log
// ---------------------------------------------------------------------------------------------

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

fn weight_json(e: &weight_entry::Model) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(e.id));
    m.insert("date".into(), json!(e.date.format("%Y-%m-%d").to_string()));
    m.insert("kg".into(), json!(e.kg));
    m
}

/// `GET /api/v1/weights/?from=&to=`.
#[utoipa::path(
    get,
    path = "/api/v1/weights/",
    tag = "weights",
    security(("telegram_init_data" = [])),
    params(
        ("from" = Option<String>, Query, description = "First day, `YYYY-MM-DD`"),
        ("to" = Option<String>, Query, description = "Last day, `YYYY-MM-DD`"),
    ),
    responses(
        (status = 200, description = "The entries in the range with their trend", body = Value),
        (status = 400, description = "A missing or invalid query parameter", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn list_weights(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::with_message(
            ErrorCode::BadRequest,
            "Некорректные параметры запроса.",
        ));
    };
    let mut errors = Vec::new();
    let mut bound = |name: &str| -> Option<NaiveDate> {
        let raw = query
            .get(name)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())?;
        let parsed = parse_date(raw);
        if parsed.is_none() {
            errors.push((name.to_owned(), BAD_DATE.to_owned()));
        }
        parsed
    };
    let from = bound("from");
    let to = bound("to");
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        errors.push((
            "from".to_owned(),
            "Начальная дата не может быть позже конечной.".to_owned(),
        ));
    }
    if !errors.is_empty() {
        return Err(validation(errors));
    }
    let points = store::weights::log(state.db(), user.user_id(), from, to).await?;
    let list: Vec<Value> = points
        .iter()
        .map(|p| {
            let mut m = weight_json(&p.entry);
            m.insert("trend".into(), json!(p.trend));
            Value::Object(m)
        })
        .collect();
    Ok(Json(Value::Array(list)))
}

fn parse_kg(v: &Value) -> Result<WeightKg, String> {
    let parsed = match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or(domain::nutrition::ProfileErrorKind::NotANumber)
            .and_then(WeightKg::parse_f64),
        Value::String(s) => s.trim().parse::<WeightKg>(),
        _ => Err(domain::nutrition::ProfileErrorKind::NotANumber),
    };
    parsed.map_err(|e| e.to_string())
}

/// `POST /api/v1/weights/` `{date?, kg}` → 201 new day, 200 replaced.
#[utoipa::path(
    post,
    path = "/api/v1/weights/",
    tag = "weights",
    security(("telegram_init_data" = [])),
    request_body(content = Value, description = "`{date?: YYYY-MM-DD (default: the user's today, not in the future), kg}`", content_type = "application/json"),
    responses(
        (status = 200, description = "The day already had an entry: replaced `{id, date, kg}`", body = Value),
        (status = 201, description = "A new entry `{id, date, kg}`", body = Value),
        (status = 400, description = "Malformed body or invalid fields (`VALIDATION_ERROR`: `details` maps each field to its messages)", body = ErrorEnvelope),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
    )
)]
async fn record_weight(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Response> {
    let body = json_object(&body)?;
    let now = state.now();
    let profile = store::profiles::get(state.db(), user.user_id(), now).await?;
    let today = store::profiles::today(&profile, now);
    let mut errors = Vec::new();
    let date = match body.get("date") {
        None | Some(Value::Null) => Some(today),
        Some(Value::String(s)) if s.trim().is_empty() => Some(today),
        Some(Value::String(s)) => match parse_date(s) {
            Some(d) => match check_meal_date(d, today) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.push(("date".to_owned(), e.to_string()));
                    None
                }
            },
            None => {
                errors.push(("date".to_owned(), BAD_DATE.to_owned()));
                None
            }
        },
        Some(_) => {
            errors.push(("date".to_owned(), BAD_DATE.to_owned()));
            None
        }
    };
    let kg = match body.get("kg") {
        None => {
            errors.push(("kg".to_owned(), REQUIRED.to_owned()));
            None
        }
        Some(Value::Null) => {
            errors.push(("kg".to_owned(), NOT_NULL.to_owned()));
            None
        }
        Some(v) => match parse_kg(v) {
            Ok(kg) => Some(kg),
            Err(m) => {
                errors.push(("kg".to_owned(), m));
                None
            }
        },
    };
    let (Some(date), Some(kg)) = (date, kg) else {
        return Err(validation(errors));
    };
    match store::weights::record(state.db(), user.user_id(), date, kg, now).await? {
        Recorded::Created(e) => {
            Ok((StatusCode::CREATED, Json(Value::Object(weight_json(&e)))).into_response())
        }
        Recorded::Updated(e) => Ok(Json(Value::Object(weight_json(&e))).into_response()),
    }
}

/// `DELETE /api/v1/weights/{id}/` → 204, or 404 for a missing or foreign id.
#[utoipa::path(
    delete,
    path = "/api/v1/weights/{id}/",
    tag = "weights",
    security(("telegram_init_data" = [])),
    params(
        ("id" = String, Path, description = "Entry id"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "initData missing, forged or expired", body = ErrorEnvelope),
        (status = 404, description = "No such entry of the caller", body = ErrorEnvelope),
    )
)]
async fn delete_weight(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<StatusCode> {
    let Ok(Path(id)) = id else {
        return Err(ApiError::not_found());
    };
    if store::weights::delete(state.db(), user.user_id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn goal_values_parse_and_report_every_field() {
        let v = parse_goal_values(&body(json!({
            "calories": 2000, "protein": "150.00", "fat": 70.5, "carbohydrates": 250,
            "source": "MANUAL", "is_active": true, "id": 9
        })));
        let Ok(v) = v else {
            panic!("valid body refused")
        };
        assert_eq!(v.calories, Some(2000));
        assert_eq!(v.protein.map(MacroGrams::hundredths), Some(15_000));
        assert_eq!(v.fat.map(MacroGrams::hundredths), Some(7_050));
        assert_eq!(v.source, Some(GoalSource::Manual));
        assert_eq!(v.is_active, Some(true));

        let Err(ApiError::Validation { details, .. }) = parse_goal_values(&body(json!({
            "calories": 400, "protein": -10, "fat": 1.234, "carbohydrates": "x", "source": "BOT",
            "is_active": "maybe"
        }))) else {
            panic!("invalid body accepted")
        };
        assert_eq!(details["calories"][0], "Минимальная цель калорий: 500 ккал");
        assert_eq!(
            details["protein"][0],
            "Убедитесь, что это значение больше либо равно 0."
        );
        assert!(
            details["fat"][0]
                .as_str()
                .is_some_and(|m| m.contains("2 знаков"))
        );
        assert!(details["carbohydrates"].is_array());
        assert!(details["source"].is_array());
        assert!(details["is_active"].is_array());
        let Err(ApiError::Validation { details, .. }) =
            parse_goal_values(&body(json!({"calories": 10001})))
        else {
            panic!("accepted")
        };
        assert_eq!(
            details["calories"][0],
            "Максимальная цель калорий: 10000 ккал"
        );
    }

    #[test]
    fn kg_parsing() {
        assert_eq!(parse_kg(&json!(80.5)).map(|k| k.hundredths()), Ok(8050));
        assert_eq!(parse_kg(&json!("80.50")).map(|k| k.hundredths()), Ok(8050));
        assert_eq!(
            parse_kg(&json!(19.99)),
            Err("Вес должен быть от 20 до 500 кг".to_owned())
        );
        assert!(parse_kg(&json!(true)).is_err());
    }
}

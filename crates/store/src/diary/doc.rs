//! The diary of one day in **one statement**: meals, their items and photos and the active
//! goal, aggregated into a single JSON document by the database (`json_object`/
//! `json_group_array` on SQLite, `json_build_object`/`json_agg` on PostgreSQL) and turned back
//! into the entities here. The diary is the hottest screen; on SQLite every statement and every
//! row is a round trip to the connection's thread, so one row instead of four result sets is
//! most of its cost. Order is restored in Rust (aggregate order is not guaranteed).

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::StoreError;
use crate::entities::{daily_goal, food_item, meal, meal_photo};

const MEAL_COLS_SQLITE: &str = "json_object('id', m.id, 'user_id', m.user_id, 'meal_type', m.meal_type, \
    'date', m.date, 'status', m.status, 'name', m.name, 'created_at', m.created_at, 'updated_at', m.updated_at)";
const ITEM_COLS_SQLITE: &str = "json_object('id', i.id, 'meal_id', i.meal_id, 'name', i.name, 'grams', i.grams, \
    'calories', i.calories, 'protein', i.protein, 'fat', i.fat, 'carbohydrates', i.carbohydrates, \
    'source', i.source, 'food_ref', i.food_ref, 'created_at', i.created_at, 'updated_at', i.updated_at)";
const PHOTO_COLS_SQLITE: &str = "json_object('id', p.id, 'meal_id', p.meal_id, 'image', p.image, \
    'recognized_data', json(p.recognized_data), 'status', p.status, 'error_message', p.error_message, \
    'error_code', p.error_code, 'user_comment', p.user_comment, 'created_at', p.created_at, \
    'updated_at', p.updated_at)";
const GOAL_COLS_SQLITE: &str = "json_object('id', g.id, 'user_id', g.user_id, 'calories', g.calories, \
    'protein', g.protein, 'fat', g.fat, 'carbohydrates', g.carbohydrates, 'source', g.source, \
    'is_active', g.is_active, 'created_at', g.created_at, 'updated_at', g.updated_at)";

/// The meals of the day that the diary lists (FAILED hidden), as a reusable filter.
const VISIBLE: &str = "user_id = $1 AND date = $2 AND status <> 'FAILED'";

fn sqlite_sql() -> String {
    // A subquery's value is text to SQLite; `json()` marks it as JSON so it nests, not quotes.
    format!(
        "SELECT json_object(\
           'meals', json((SELECT json_group_array({MEAL_COLS_SQLITE}) FROM meals m WHERE m.{VISIBLE})), \
           'items', json((SELECT json_group_array({ITEM_COLS_SQLITE}) FROM food_items i \
                     WHERE i.meal_id IN (SELECT id FROM meals WHERE {VISIBLE}))), \
           'photos', json((SELECT json_group_array({PHOTO_COLS_SQLITE}) FROM meal_photos p \
                     WHERE p.meal_id IN (SELECT id FROM meals WHERE {VISIBLE}))), \
           'goal', json((SELECT {GOAL_COLS_SQLITE} FROM daily_goals g WHERE g.user_id = $1 AND g.is_active \
                    ORDER BY g.created_at DESC LIMIT 1))\
         ) AS doc"
    )
}

fn postgres_sql() -> String {
    // `row_to_json` keeps every column under its own name with native JSON types.
    format!(
        "SELECT json_build_object(\
           'meals', COALESCE((SELECT json_agg(row_to_json(m)) FROM meals m WHERE m.{VISIBLE}), '[]'::json), \
           'items', COALESCE((SELECT json_agg(row_to_json(i)) FROM food_items i \
                     WHERE i.meal_id IN (SELECT id FROM meals WHERE {VISIBLE})), '[]'::json), \
           'photos', COALESCE((SELECT json_agg(row_to_json(p)) FROM meal_photos p \
                     WHERE p.meal_id IN (SELECT id FROM meals WHERE {VISIBLE})), '[]'::json), \
           'goal', (SELECT row_to_json(g) FROM daily_goals g WHERE g.user_id = $1 AND g.is_active \
                    ORDER BY g.created_at DESC LIMIT 1)\
         )::text AS doc"
    )
}

/// Everything the diary of one day needs, in the order the screen shows it: meals newest
/// first, items and photos oldest first.
pub(super) struct DayRows {
    pub meals: Vec<meal::Model>,
    pub items: Vec<food_item::Model>,
    pub photos: Vec<meal_photo::Model>,
    pub goal: Option<daily_goal::Model>,
}

pub(super) async fn load<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    date: NaiveDate,
) -> Result<DayRows, StoreError> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => postgres_sql(),
        _ => sqlite_sql(),
    };
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            &sql,
            vec![user.0.into(), date.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let text: String = row.try_get("", "doc")?;
    let doc: Doc = serde_json::from_str(&text)
        .map_err(|e| StoreError::Db(sea_orm::DbErr::Type(format!("diary document: {e}"))))?;
    let mut meals: Vec<meal::Model> = doc.meals.into_iter().map(Into::into).collect();
    meals.sort_by_key(|m| std::cmp::Reverse((m.created_at, m.id)));
    let mut items: Vec<food_item::Model> = doc.items.into_iter().map(Into::into).collect();
    items.sort_by_key(|i| (i.created_at, i.id));
    let mut photos: Vec<meal_photo::Model> = doc.photos.into_iter().map(Into::into).collect();
    photos.sort_by_key(|p| (p.created_at, p.id));
    Ok(DayRows {
        meals,
        items,
        photos,
        goal: doc.goal.map(Into::into),
    })
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    meals: Vec<MealRow>,
    #[serde(default)]
    items: Vec<ItemRow>,
    #[serde(default)]
    photos: Vec<PhotoRow>,
    goal: Option<GoalRow>,
}

/// A timestamp as either database renders it: SQLite keeps the text sqlx wrote
/// (`2026-03-10 09:00:00.123+00:00`), PostgreSQL's JSON uses ISO 8601 with `T`.
#[derive(Clone, Copy)]
struct Ts(DateTime<Utc>);

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        parse_ts(&s)
            .map(Ts)
            .ok_or_else(|| de::Error::custom(format!("bad timestamp `{s}`")))
    }
}

fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let t = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&t) {
        return Some(t.with_timezone(&Utc));
    }
    // PostgreSQL abbreviates a whole-hour offset (`+03`); SQLite may hold no offset at all (UTC).
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = DateTime::parse_from_str(&t, fmt) {
            return Some(t.with_timezone(&Utc));
        }
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&t, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

/// SQLite has no boolean: `is_active` arrives as 0/1.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Int(i64),
    }
    Ok(match B::deserialize(d)? {
        B::Bool(b) => b,
        B::Int(i) => i != 0,
    })
}

#[derive(Deserialize)]
struct MealRow {
    id: i64,
    user_id: i64,
    meal_type: String,
    date: NaiveDate,
    status: String,
    name: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

impl From<MealRow> for meal::Model {
    fn from(r: MealRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            meal_type: r.meal_type,
            date: r.date,
            status: r.status,
            name: r.name,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

#[derive(Deserialize)]
struct ItemRow {
    id: i64,
    meal_id: i64,
    name: String,
    grams: i32,
    calories: f64,
    protein: f64,
    fat: f64,
    carbohydrates: f64,
    source: String,
    food_ref: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

impl From<ItemRow> for food_item::Model {
    fn from(r: ItemRow) -> Self {
        Self {
            id: r.id,
            meal_id: r.meal_id,
            name: r.name,
            grams: r.grams,
            calories: r.calories,
            protein: r.protein,
            fat: r.fat,
            carbohydrates: r.carbohydrates,
            source: r.source,
            food_ref: r.food_ref,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

#[derive(Deserialize)]
struct PhotoRow {
    id: i64,
    meal_id: i64,
    image: String,
    recognized_data: Option<serde_json::Value>,
    status: String,
    error_message: Option<String>,
    error_code: Option<String>,
    user_comment: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

impl From<PhotoRow> for meal_photo::Model {
    fn from(r: PhotoRow) -> Self {
        Self {
            id: r.id,
            meal_id: r.meal_id,
            image: r.image,
            recognized_data: r.recognized_data,
            status: r.status,
            error_message: r.error_message,
            error_code: r.error_code,
            user_comment: r.user_comment,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

#[derive(Deserialize)]
struct GoalRow {
    id: i64,
    user_id: i64,
    calories: i32,
    protein: f64,
    fat: f64,
    carbohydrates: f64,
    source: String,
    #[serde(deserialize_with = "lenient_bool")]
    is_active: bool,
    created_at: Ts,
    updated_at: Ts,
}

impl From<GoalRow> for daily_goal::Model {
    fn from(r: GoalRow) -> Self {
        Self {
            id: r.id,
            user_id: r.user_id,
            calories: r.calories,
            protein: r.protein,
            fat: r.fat,
            carbohydrates: r.carbohydrates,
            source: r.source,
            is_active: r.is_active,
            created_at: r.created_at.0,
            updated_at: r.updated_at.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ts;
    use chrono::{TimeZone, Utc};

    #[test]
    fn timestamps_as_either_database_renders_them() {
        let want = Utc
            .with_ymd_and_hms(2026, 3, 10, 9, 0, 0)
            .single()
            .unwrap_or_default();
        for s in [
            "2026-03-10 09:00:00+00:00",
            "2026-03-10T09:00:00+00:00",
            "2026-03-10T12:00:00+03:00",
            "2026-03-10T12:00:00+03",
            "2026-03-10 09:00:00",
            "2026-03-10T09:00:00Z",
        ] {
            assert_eq!(parse_ts(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_ts("2026-03-10 09:00:00.250+00:00"),
            Some(want + chrono::Duration::milliseconds(250))
        );
        assert_eq!(parse_ts("yesterday"), None);
    }
}

//! Writing the food log: meals (create, edit, delete), food items (add, edit with rescaling,
//! delete), quick add, copying a meal or a whole day, recent and frequent foods, and the rows
//! of the CSV export. Every rule about dates is the user's day (profile time zone).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use domain::nutrition::{
    FutureDateError, Grams, Kcal, MacroGrams, MealStatus, MealType, NutrientField, Nutrients,
    UnitError, check_meal_date, rescale,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};

use crate::diary::{self, item_nutrients};
use crate::entities::{food_item, meal, meal_photo};
use crate::{Db, StoreError};

/// Name of an item logged by calories only.
pub const QUICK_ADD_NAME: &str = "Быстрое добавление";

/// How many of the user's recent items the recent/frequent lists look at, at most.
const RECENT_SCAN_LIMIT: u64 = 5000;

/// Where a food item came from (`food_items.source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemSource {
    /// Typed in by the user.
    Manual,
    /// Calories only ("quick add"); its grams are nominal.
    Quick,
    /// Copied from another meal.
    Copy,
}

impl ItemSource {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Quick => "quick",
            Self::Copy => "copy",
        }
    }
}

/// A food item to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewItem {
    pub name: String,
    pub grams: Grams,
    pub nutrients: Nutrients,
    pub source: ItemSource,
}

/// Changes to a food item; `None` leaves a value alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemPatch {
    pub name: Option<String>,
    pub grams: Option<Grams>,
    pub calories: Option<Kcal>,
    pub protein: Option<MacroGrams>,
    pub fat: Option<MacroGrams>,
    pub carbohydrates: Option<MacroGrams>,
}

/// Changes to a meal; `None` leaves a value alone (`name: Some(None)` clears the name).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MealPatch {
    pub meal_type: Option<MealType>,
    pub date: Option<NaiveDate>,
    pub name: Option<Option<String>>,
}

/// Why a write to the food log was refused.
#[derive(Debug, thiserror::Error)]
pub enum MealError {
    /// No such meal or item for this user.
    #[error("not found")]
    NotFound,
    /// The date is after the user's today.
    #[error(transparent)]
    FutureDate(#[from] FutureDateError),
    /// A value (after rescaling) is over the per-item limit.
    #[error("{}: {error}", field.as_str())]
    ItemLimit {
        field: NutrientField,
        error: UnitError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for MealError {
    fn from(e: sea_orm::DbErr) -> Self {
        MealError::Store(e.into())
    }
}

fn check_limits(n: &Nutrients) -> Result<(), MealError> {
    n.check_item_limits()
        .map_err(|(field, error)| MealError::ItemLimit { field, error })
}

async fn check_date<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), MealError> {
    let today = diary::user_today(conn, user, now).await?;
    check_meal_date(date, today)?;
    Ok(())
}

async fn owned_meal<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    meal_id: i64,
) -> Result<meal::Model, MealError> {
    meal::Entity::find_by_id(meal_id)
        .filter(meal::Column::UserId.eq(user.0))
        .one(conn)
        .await?
        .ok_or(MealError::NotFound)
}

async fn insert_meal<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    meal_type: MealType,
    date: NaiveDate,
    name: Option<String>,
    now: DateTime<Utc>,
) -> Result<meal::Model, MealError> {
    Ok(meal::ActiveModel {
        user_id: Set(user.0),
        meal_type: Set(meal_type.as_str().to_string()),
        date: Set(date),
        status: Set(MealStatus::Draft.as_str().to_string()),
        name: Set(name),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

async fn insert_item<C: ConnectionTrait>(
    conn: &C,
    meal_id: i64,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<food_item::Model, MealError> {
    let grams = i32::try_from(item.grams.get()).unwrap_or(i32::MAX);
    insert_row(
        conn,
        meal_id,
        &item.name,
        grams,
        &item.nutrients,
        item.source,
        now,
    )
    .await
}

async fn insert_row<C: ConnectionTrait>(
    conn: &C,
    meal_id: i64,
    name: &str,
    grams: i32,
    nutrients: &Nutrients,
    source: ItemSource,
    now: DateTime<Utc>,
) -> Result<food_item::Model, MealError> {
    check_limits(nutrients)?;
    Ok(food_item::ActiveModel {
        meal_id: Set(meal_id),
        name: Set(name.to_string()),
        grams: Set(grams),
        calories: Set(nutrients.calories.to_f64()),
        protein: Set(nutrients.protein.to_f64()),
        fat: Set(nutrients.fat.to_f64()),
        carbohydrates: Set(nutrients.carbohydrates.to_f64()),
        source: Set(source.as_str().to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Creates a manual (DRAFT) meal; the date must not be after the user's today.
pub async fn create_meal(
    db: &Db,
    user: UserId,
    meal_type: MealType,
    date: NaiveDate,
    name: Option<String>,
    now: DateTime<Utc>,
) -> Result<meal::Model, MealError> {
    check_date(db.conn(), user, date, now).await?;
    insert_meal(db.conn(), user, meal_type, date, name, now).await
}

/// Changes a meal's type, date or name (a new date must not be in the user's future).
pub async fn update_meal(
    db: &Db,
    user: UserId,
    meal_id: i64,
    patch: MealPatch,
    now: DateTime<Utc>,
) -> Result<meal::Model, MealError> {
    let txn = db.conn().begin().await?;
    let current = owned_meal(&txn, user, meal_id).await?;
    if let Some(date) = patch.date {
        check_date(&txn, user, date, now).await?;
    }
    let mut active: meal::ActiveModel = current.into();
    if let Some(t) = patch.meal_type {
        active.meal_type = Set(t.as_str().to_string());
    }
    if let Some(d) = patch.date {
        active.date = Set(d);
    }
    if let Some(n) = patch.name {
        active.name = Set(n);
    }
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes a meal with its items and photos; returns the photo file keys, which the caller
/// deletes from media storage after this commit.
pub async fn delete_meal(db: &Db, user: UserId, meal_id: i64) -> Result<Vec<String>, MealError> {
    let txn = db.conn().begin().await?;
    let m = owned_meal(&txn, user, meal_id).await?;
    let keys: Vec<String> = meal_photo::Entity::find()
        .select_only()
        .column(meal_photo::Column::Image)
        .filter(meal_photo::Column::MealId.eq(m.id))
        .into_tuple()
        .all(&txn)
        .await?;
    meal_photo::Entity::delete_many()
        .filter(meal_photo::Column::MealId.eq(m.id))
        .exec(&txn)
        .await?;
    food_item::Entity::delete_many()
        .filter(food_item::Column::MealId.eq(m.id))
        .exec(&txn)
        .await?;
    meal::Entity::delete_by_id(m.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(keys.into_iter().filter(|k| !k.is_empty()).collect())
}

/// Adds an item to one of the user's meals.
pub async fn add_item(
    db: &Db,
    user: UserId,
    meal_id: i64,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<food_item::Model, MealError> {
    check_limits(&item.nutrients)?;
    let m = owned_meal(db.conn(), user, meal_id).await?;
    insert_item(db.conn(), m.id, item, now).await
}

async fn owned_item<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    meal_id: i64,
    item_id: i64,
) -> Result<food_item::Model, MealError> {
    owned_meal(conn, user, meal_id).await?;
    food_item::Entity::find_by_id(item_id)
        .filter(food_item::Column::MealId.eq(meal_id))
        .one(conn)
        .await?
        .ok_or(MealError::NotFound)
}

/// One item of one of the user's meals.
pub async fn get_item(
    db: &Db,
    user: UserId,
    meal_id: i64,
    item_id: i64,
) -> Result<food_item::Model, MealError> {
    owned_item(db.conn(), user, meal_id, item_id).await
}

/// The nutrients an item gets from a patch: a new weight rescales the stored values
/// proportionally (DESIGN.md §3), and every value the client sent wins over the rescaled one.
/// Quick-add items have nominal grams, so their values are never rescaled.
pub fn patched_nutrients(item: &food_item::Model, patch: &ItemPatch) -> Nutrients {
    let old = item_nutrients(item);
    let base = match (patch.grams, Grams::parse(i64::from(item.grams))) {
        (Some(new), Ok(old_grams)) if item.source != ItemSource::Quick.as_str() => {
            rescale(old, old_grams, new)
        }
        _ => old,
    };
    Nutrients {
        calories: patch.calories.unwrap_or(base.calories),
        protein: patch.protein.unwrap_or(base.protein),
        fat: patch.fat.unwrap_or(base.fat),
        carbohydrates: patch.carbohydrates.unwrap_or(base.carbohydrates),
    }
}

/// Edits an item (see [`patched_nutrients`] for how grams and values interact).
pub async fn update_item(
    db: &Db,
    user: UserId,
    meal_id: i64,
    item_id: i64,
    patch: ItemPatch,
    now: DateTime<Utc>,
) -> Result<food_item::Model, MealError> {
    let txn = db.conn().begin().await?;
    let item = owned_item(&txn, user, meal_id, item_id).await?;
    let n = patched_nutrients(&item, &patch);
    check_limits(&n)?;
    let mut active: food_item::ActiveModel = item.into();
    if let Some(name) = patch.name {
        active.name = Set(name);
    }
    if let Some(g) = patch.grams {
        active.grams = Set(i32::try_from(g.get()).unwrap_or(i32::MAX));
    }
    active.calories = Set(n.calories.to_f64());
    active.protein = Set(n.protein.to_f64());
    active.fat = Set(n.fat.to_f64());
    active.carbohydrates = Set(n.carbohydrates.to_f64());
    active.updated_at = Set(now);
    let updated = active.update(&txn).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deletes an item of one of the user's meals.
pub async fn delete_item(
    db: &Db,
    user: UserId,
    meal_id: i64,
    item_id: i64,
) -> Result<(), MealError> {
    let txn = db.conn().begin().await?;
    let item = owned_item(&txn, user, meal_id, item_id).await?;
    food_item::Entity::delete_by_id(item.id).exec(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// The result of a quick add.
#[derive(Debug, Clone)]
pub struct QuickAdded {
    pub meal: meal::Model,
    /// True when no suitable meal existed and one was created.
    pub meal_created: bool,
    pub item: food_item::Model,
}

/// Logs calories (and optional macros) into the newest non-FAILED meal of that type on that
/// day, creating the meal if there is none. One transaction.
pub async fn quick_add(
    db: &Db,
    user: UserId,
    date: NaiveDate,
    meal_type: MealType,
    item: &NewItem,
    now: DateTime<Utc>,
) -> Result<QuickAdded, MealError> {
    check_limits(&item.nutrients)?;
    let txn = db.conn().begin().await?;
    check_date(&txn, user, date, now).await?;
    let existing = meal::Entity::find()
        .filter(meal::Column::UserId.eq(user.0))
        .filter(meal::Column::Date.eq(date))
        .filter(meal::Column::MealType.eq(meal_type.as_str()))
        .filter(meal::Column::Status.ne(MealStatus::Failed.as_str()))
        .order_by_desc(meal::Column::CreatedAt)
        .order_by_desc(meal::Column::Id)
        .one(&txn)
        .await?;
    let (m, meal_created) = match existing {
        Some(m) => (m, false),
        None => (
            insert_meal(&txn, user, meal_type, date, None, now).await?,
            true,
        ),
    };
    let item = insert_item(&txn, m.id, item, now).await?;
    txn.commit().await?;
    Ok(QuickAdded {
        meal: m,
        meal_created,
        item,
    })
}

async fn copy_into<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    source: &meal::Model,
    items: &[food_item::Model],
    date: NaiveDate,
    meal_type: MealType,
    now: DateTime<Utc>,
) -> Result<diary::MealView, MealError> {
    let m = insert_meal(conn, user, meal_type, date, source.name.clone(), now).await?;
    let mut copied = Vec::with_capacity(items.len());
    for i in items {
        // The stored weight is kept exactly, even outside today's input range.
        let row = insert_row(
            conn,
            m.id,
            &i.name,
            i.grams,
            &item_nutrients(i),
            ItemSource::Copy,
            now,
        )
        .await?;
        copied.push(row);
    }
    Ok(diary::MealView {
        meal: m,
        items: copied,
        photos: Vec::new(),
    })
}

/// Copies one of the user's meals (its items, not its photos) to `date`, optionally as another
/// meal type. One transaction; the target date must not be in the user's future.
pub async fn copy_meal(
    db: &Db,
    user: UserId,
    meal_id: i64,
    date: NaiveDate,
    meal_type: Option<MealType>,
    now: DateTime<Utc>,
) -> Result<diary::MealView, MealError> {
    let txn = db.conn().begin().await?;
    check_date(&txn, user, date, now).await?;
    let source = owned_meal(&txn, user, meal_id).await?;
    let items = food_item::Entity::find()
        .filter(food_item::Column::MealId.eq(source.id))
        .order_by_asc(food_item::Column::CreatedAt)
        .order_by_asc(food_item::Column::Id)
        .all(&txn)
        .await?;
    let meal_type =
        meal_type.unwrap_or_else(|| source.meal_type.parse().unwrap_or(MealType::Snack));
    let view = copy_into(&txn, user, &source, &items, date, meal_type, now).await?;
    txn.commit().await?;
    Ok(view)
}

/// Copies every non-FAILED meal of `from` to `to` (items, not photos), oldest first. One
/// transaction; `to` must not be in the user's future.
pub async fn copy_day(
    db: &Db,
    user: UserId,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<diary::MealView>, MealError> {
    let txn = db.conn().begin().await?;
    check_date(&txn, user, to, now).await?;
    let meals = meal::Entity::find()
        .filter(meal::Column::UserId.eq(user.0))
        .filter(meal::Column::Date.eq(from))
        .filter(meal::Column::Status.ne(MealStatus::Failed.as_str()))
        .order_by_asc(meal::Column::CreatedAt)
        .order_by_asc(meal::Column::Id)
        .all(&txn)
        .await?;
    let sources = diary::attach(&txn, meals).await?;
    let mut out = Vec::with_capacity(sources.len());
    for s in &sources {
        let meal_type = s.meal.meal_type.parse().unwrap_or(MealType::Snack);
        out.push(copy_into(&txn, user, &s.meal, &s.items, to, meal_type, now).await?);
    }
    txn.commit().await?;
    Ok(out)
}

/// A food as last logged.
#[derive(Debug, Clone, PartialEq)]
pub struct FoodUse {
    /// The name as last written (trimmed).
    pub name: String,
    pub grams: i32,
    pub nutrients: Nutrients,
    pub last_used: DateTime<Utc>,
    /// How many times it was logged in the window.
    pub count: u32,
}

/// Recent and frequent foods.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecentFoods {
    /// Distinct foods, most recently logged first.
    pub recent: Vec<FoodUse>,
    /// Distinct foods, most often logged first (ties: most recent first).
    pub frequent: Vec<FoodUse>,
}

/// The grouping key of a food name: trimmed, lower-case.
pub fn normalise_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// The user's recent and frequent foods from items logged since `since` (quick adds are not
/// foods and are left out), grouped by normalised name: one statement.
pub async fn recent_foods(
    db: &Db,
    user: UserId,
    since: DateTime<Utc>,
    limit: usize,
) -> Result<RecentFoods, StoreError> {
    let items = food_item::Entity::find()
        .filter(
            food_item::Column::MealId.in_subquery(
                Query::select()
                    .column(meal::Column::Id)
                    .from(meal::Entity)
                    .and_where(meal::Column::UserId.eq(user.0))
                    .and_where(meal::Column::Status.ne(MealStatus::Failed.as_str()))
                    .to_owned(),
            ),
        )
        .filter(food_item::Column::CreatedAt.gte(since))
        .filter(food_item::Column::Source.ne(ItemSource::Quick.as_str()))
        .order_by_desc(food_item::Column::CreatedAt)
        .order_by_desc(food_item::Column::Id)
        .limit(RECENT_SCAN_LIMIT)
        .all(db.conn())
        .await?;
    // Newest first: the first row of a group is its latest use.
    let mut order: Vec<FoodUse> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for i in &items {
        let key = normalise_name(&i.name);
        if key.is_empty() {
            continue;
        }
        match index.get(&key) {
            Some(&at) => {
                if let Some(f) = order.get_mut(at) {
                    f.count = f.count.saturating_add(1);
                }
            }
            None => {
                index.insert(key, order.len());
                order.push(FoodUse {
                    name: i.name.trim().to_string(),
                    grams: i.grams,
                    nutrients: item_nutrients(i),
                    last_used: i.created_at,
                    count: 1,
                });
            }
        }
    }
    let recent: Vec<FoodUse> = order.iter().take(limit).cloned().collect();
    let mut frequent = order;
    // Stable sort keeps recency order among equal counts.
    frequent.sort_by_key(|f| std::cmp::Reverse(f.count));
    frequent.truncate(limit);
    Ok(RecentFoods { recent, frequent })
}

/// One row of the CSV export.
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub date: NaiveDate,
    pub meal_type: String,
    pub meal_name: Option<String>,
    pub item: food_item::Model,
}

/// Every item of the user's non-FAILED meals in `from ..= to`, in day order (meals oldest
/// first, items oldest first): two statements.
pub async fn export_rows(
    db: &Db,
    user: UserId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ExportRow>, StoreError> {
    let conn = db.conn();
    let meals = meal::Entity::find()
        .filter(meal::Column::UserId.eq(user.0))
        .filter(meal::Column::Date.between(from, to))
        .filter(meal::Column::Status.ne(MealStatus::Failed.as_str()))
        .order_by_asc(meal::Column::Date)
        .order_by_asc(meal::Column::CreatedAt)
        .order_by_asc(meal::Column::Id)
        .all(conn)
        .await?;
    let items = food_item::Entity::find()
        .filter(
            food_item::Column::MealId.in_subquery(
                Query::select()
                    .column(meal::Column::Id)
                    .from(meal::Entity)
                    .and_where(meal::Column::UserId.eq(user.0))
                    .and_where(meal::Column::Date.between(from, to))
                    .and_where(meal::Column::Status.ne(MealStatus::Failed.as_str()))
                    .to_owned(),
            ),
        )
        .order_by_asc(food_item::Column::CreatedAt)
        .order_by_asc(food_item::Column::Id)
        .all(conn)
        .await?;
    let mut by_meal: HashMap<i64, Vec<food_item::Model>> = HashMap::new();
    for i in items {
        by_meal.entry(i.meal_id).or_default().push(i);
    }
    let mut rows = Vec::new();
    for m in meals {
        for item in by_meal.remove(&m.id).unwrap_or_default() {
            rows.push(ExportRow {
                date: m.date,
                meal_type: m.meal_type.clone(),
                meal_name: m.name.clone(),
                item,
            });
        }
    }
    Ok(rows)
}

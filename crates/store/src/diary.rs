//! Reading a user's food log: the day (diary), the paginated meal list, one meal with its items
//! and photos, meal totals for the statistics, and the user's calendar day. Every screen runs a
//! fixed number of statements whatever the number of meals: meals, then items and photos with
//! `meal_id IN (…)`, then the goal.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use domain::nutrition::{
    self, GoalTargets, Kcal, MacroGrams, MealStatus, MealTotals, Nutrients, RangeError,
    RangeSummary, WeeklyStats,
};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::entities::{daily_goal, food_item, meal, meal_photo, profile};
use crate::{Db, StoreError};

mod doc;

/// One meal with its items (oldest first) and all its photos (oldest first, every status).
#[derive(Debug, Clone)]
pub struct MealView {
    pub meal: meal::Model,
    pub items: Vec<food_item::Model>,
    pub photos: Vec<meal_photo::Model>,
}

impl MealView {
    /// The meal's status (an unknown stored value reads as DRAFT).
    pub fn status(&self) -> MealStatus {
        meal_status(&self.meal)
    }

    /// Sum over all its items.
    pub fn total(&self) -> Nutrients {
        self.items.iter().map(item_nutrients).sum()
    }
}

/// The diary of one day.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    /// Non-FAILED meals, newest first.
    pub meals: Vec<MealView>,
    /// The active goal, if any.
    pub goal: Option<daily_goal::Model>,
}

impl Day {
    /// Totals over the items of the listed (non-FAILED) meals.
    pub fn total(&self) -> Nutrients {
        self.meals.iter().map(MealView::total).sum()
    }
}

/// A meal's status; an unknown stored value reads as DRAFT.
pub fn meal_status(m: &meal::Model) -> MealStatus {
    m.status.parse().unwrap_or_default()
}

/// An item's КБЖУ from its stored columns (rounded to hundredths; garbage reads as zero).
pub fn item_nutrients(i: &food_item::Model) -> Nutrients {
    Nutrients {
        calories: Kcal::from_f64_rounded(i.calories).unwrap_or(Kcal::ZERO),
        protein: MacroGrams::from_f64_rounded(i.protein).unwrap_or(MacroGrams::ZERO),
        fat: MacroGrams::from_f64_rounded(i.fat).unwrap_or(MacroGrams::ZERO),
        carbohydrates: MacroGrams::from_f64_rounded(i.carbohydrates).unwrap_or(MacroGrams::ZERO),
    }
}

/// The goal targets of a goal row.
pub fn goal_targets(g: &daily_goal::Model) -> GoalTargets {
    GoalTargets {
        calories: u32::try_from(g.calories).unwrap_or(0),
        protein: MacroGrams::from_f64_rounded(g.protein).unwrap_or(MacroGrams::ZERO),
        fat: MacroGrams::from_f64_rounded(g.fat).unwrap_or(MacroGrams::ZERO),
        carbohydrates: MacroGrams::from_f64_rounded(g.carbohydrates).unwrap_or(MacroGrams::ZERO),
    }
}

/// The user's calendar day at `now`, in their profile time zone (default Europe/Moscow).
pub async fn user_today<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<NaiveDate, StoreError> {
    let tz = profile::Entity::find()
        .filter(profile::Column::UserId.eq(user.0))
        .one(conn)
        .await?
        .map(|p| p.timezone);
    Ok(nutrition::user_today(
        now,
        nutrition::effective_timezone(tz.as_deref()),
    ))
}

/// The user's active goal (the partial unique index allows at most one).
pub async fn active_goal<C: ConnectionTrait>(
    conn: &C,
    user: UserId,
) -> Result<Option<daily_goal::Model>, StoreError> {
    Ok(daily_goal::Entity::find()
        .filter(daily_goal::Column::UserId.eq(user.0))
        .filter(daily_goal::Column::IsActive.eq(true))
        .order_by_desc(daily_goal::Column::CreatedAt)
        .one(conn)
        .await?)
}

/// Attaches items and photos to meals: two statements (none for no meals).
pub async fn attach<C: ConnectionTrait>(
    conn: &C,
    meals: Vec<meal::Model>,
) -> Result<Vec<MealView>, StoreError> {
    if meals.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = meals.iter().map(|m| m.id).collect();
    let items = food_item::Entity::find()
        .filter(food_item::Column::MealId.is_in(ids.clone()))
        .order_by_asc(food_item::Column::CreatedAt)
        .order_by_asc(food_item::Column::Id)
        .all(conn)
        .await?;
    let photos = meal_photo::Entity::find()
        .filter(meal_photo::Column::MealId.is_in(ids))
        .order_by_asc(meal_photo::Column::CreatedAt)
        .order_by_asc(meal_photo::Column::Id)
        .all(conn)
        .await?;
    Ok(group(meals, items, photos))
}

/// Hands each meal its items and photos (kept in their given order).
fn group(
    meals: Vec<meal::Model>,
    items: Vec<food_item::Model>,
    photos: Vec<meal_photo::Model>,
) -> Vec<MealView> {
    let mut items_by: HashMap<i64, Vec<food_item::Model>> = HashMap::new();
    for i in items {
        items_by.entry(i.meal_id).or_default().push(i);
    }
    let mut photos_by: HashMap<i64, Vec<meal_photo::Model>> = HashMap::new();
    for p in photos {
        photos_by.entry(p.meal_id).or_default().push(p);
    }
    meals
        .into_iter()
        .map(|meal| MealView {
            items: items_by.remove(&meal.id).unwrap_or_default(),
            photos: photos_by.remove(&meal.id).unwrap_or_default(),
            meal,
        })
        .collect()
}

/// The non-FAILED meals of `user`, newest first (date desc, created desc, id desc).
fn visible_meals(user: UserId) -> sea_orm::Select<meal::Entity> {
    meal::Entity::find()
        .filter(meal::Column::UserId.eq(user.0))
        .filter(meal::Column::Status.ne(MealStatus::Failed.as_str()))
        .order_by_desc(meal::Column::Date)
        .order_by_desc(meal::Column::CreatedAt)
        .order_by_desc(meal::Column::Id)
}

/// The diary of `date` in one statement whatever the number of meals (see [`doc`]). FAILED
/// meals are hidden.
pub async fn day(db: &Db, user: UserId, date: NaiveDate) -> Result<Day, StoreError> {
    let rows = doc::load(db.conn(), user, date).await?;
    Ok(Day {
        date,
        meals: group(rows.meals, rows.items, rows.photos),
        goal: rows.goal,
    })
}

/// One page of the non-FAILED meals (1-based), and the total count.
pub async fn page(
    db: &Db,
    user: UserId,
    page: u64,
    page_size: u64,
) -> Result<(u64, Vec<MealView>), StoreError> {
    let conn = db.conn();
    let count = visible_meals(user).count(conn).await?;
    let meals = visible_meals(user)
        .offset(page.saturating_sub(1).saturating_mul(page_size))
        .limit(page_size)
        .all(conn)
        .await?;
    Ok((count, attach(conn, meals).await?))
}

/// One of the user's meals (any status) with items and photos.
pub async fn meal_view(db: &Db, user: UserId, meal_id: i64) -> Result<MealView, StoreError> {
    let conn = db.conn();
    let meal = meal::Entity::find_by_id(meal_id)
        .filter(meal::Column::UserId.eq(user.0))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    attach(conn, vec![meal])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Per-meal totals of the user's meals in `from ..= to` (FAILED ones included; the domain
/// skips them): two statements.
pub async fn meal_totals(
    db: &Db,
    user: UserId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<MealTotals>, StoreError> {
    let conn = db.conn();
    let meals = meal::Entity::find()
        .filter(meal::Column::UserId.eq(user.0))
        .filter(meal::Column::Date.between(from, to))
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
                    .to_owned(),
            ),
        )
        .all(conn)
        .await?;
    let mut by_meal: HashMap<i64, (u32, Nutrients)> = HashMap::new();
    for i in &items {
        let e = by_meal.entry(i.meal_id).or_default();
        e.0 = e.0.saturating_add(1);
        e.1 += item_nutrients(i);
    }
    Ok(meals
        .iter()
        .map(|m| {
            let (item_count, total) = by_meal.get(&m.id).copied().unwrap_or_default();
            MealTotals {
                date: m.date,
                status: meal_status(m),
                item_count,
                total,
            }
        })
        .collect())
}

/// Weekly statistics from `start` (seven days; FAILED meals excluded). `None` only at the end
/// of the calendar.
pub async fn weekly(
    db: &Db,
    user: UserId,
    start: NaiveDate,
) -> Result<Option<WeeklyStats>, StoreError> {
    let Some(end) = start.checked_add_days(chrono::Days::new(6)) else {
        return Ok(None);
    };
    let meals = meal_totals(db, user, start, end).await?;
    Ok(nutrition::weekly_stats(start, &meals))
}

/// Why a range summary failed.
#[derive(Debug, thiserror::Error)]
pub enum RangeSummaryError {
    #[error(transparent)]
    Range(#[from] RangeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Summary of `from ..= to` (≤ 366 days) against the active goal: three statements.
pub async fn range(
    db: &Db,
    user: UserId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RangeSummary, RangeSummaryError> {
    // Validate before touching the database.
    nutrition::range_summary(from, to, &[], None)?;
    let meals = meal_totals(db, user, from, to).await?;
    let goal = active_goal(db.conn(), user)
        .await?
        .map(|g| goal_targets(&g));
    Ok(nutrition::range_summary(from, to, &meals, goal.as_ref())?)
}

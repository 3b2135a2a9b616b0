//! JSON shapes of the meals endpoints: `Meal`, `FoodItem`, photos, recent foods.

use std::borrow::Cow;

use domain::nutrition::{MealType, Nutrients, PhotoStatus};
use serde::Serialize;
use serde_json::{Value, json};
use store::diary::{MealView, item_nutrients};
use store::entities::{food_item, meal_photo};
use store::meals::FoodUse;

use crate::views;

/// The URL a stored media key is served under.
pub fn media_url(key: &str) -> String {
    format!("/media/{}", key.trim_start_matches('/'))
}

/// The `FoodItem` object (decimals as strings, `photo` always null: items carry no file).
#[derive(Serialize)]
pub struct ItemOut<'a> {
    id: i64,
    name: &'a str,
    photo: Option<()>,
    grams: i32,
    calories: String,
    protein: String,
    fat: String,
    carbohydrates: String,
    source: &'a str,
    created_at: views::DateTimeOut,
    updated_at: views::DateTimeOut,
}

impl<'a> ItemOut<'a> {
    pub fn of(i: &'a food_item::Model) -> Self {
        let n = item_nutrients(i);
        Self {
            id: i.id,
            name: &i.name,
            photo: None,
            grams: i.grams,
            calories: n.calories.to_string(),
            protein: n.protein.to_string(),
            fat: n.fat.to_string(),
            carbohydrates: n.carbohydrates.to_string(),
            source: &i.source,
            created_at: views::DateTimeOut(i.created_at),
            updated_at: views::DateTimeOut(i.updated_at),
        }
    }
}

/// [`ItemOut`] as a JSON value.
pub fn item_json(i: &food_item::Model) -> Value {
    to_value(&ItemOut::of(i))
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Serializing these shapes cannot fail: string keys, no maps with other keys, finite numbers
    // (non-finite floats would become null).
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn photo_status(p: &meal_photo::Model) -> PhotoStatus {
    p.status.parse().unwrap_or_default()
}

#[derive(Serialize)]
struct PhotoOut<'a> {
    id: i64,
    image_url: String,
    status: &'static str,
    status_display: &'static str,
    error_message: Option<&'a str>,
    error_code: Option<&'a str>,
    created_at: views::DateTimeOut,
}

impl<'a> PhotoOut<'a> {
    fn of(p: &'a meal_photo::Model) -> Self {
        let status = photo_status(p);
        Self {
            id: p.id,
            image_url: media_url(&p.image),
            status: status.as_str(),
            status_display: status.label_ru(),
            error_message: p.error_message.as_deref(),
            error_code: p.error_code.as_deref(),
            created_at: views::DateTimeOut(p.created_at),
        }
    }
}

/// The `Meal` object: only SUCCESS photos are listed; the counters look at every photo.
#[derive(Serialize)]
pub struct MealOut<'a> {
    id: i64,
    meal_type: &'a str,
    meal_type_display: Cow<'a, str>,
    name: Option<&'a str>,
    date: String,
    status: &'static str,
    status_display: &'static str,
    created_at: views::DateTimeOut,
    items: Vec<ItemOut<'a>>,
    photos: Vec<PhotoOut<'a>>,
    total: Nutrients,
    photo_url: Option<String>,
    photo_count: usize,
    has_success: bool,
    is_processing: bool,
    latest_photo_status: Option<&'static str>,
    photos_count: usize,
    latest_failed_photo_id: Option<i64>,
}

impl<'a> MealOut<'a> {
    pub fn of(v: &'a MealView) -> Self {
        let status = v.status();
        let meal_type = v.meal.meal_type.parse::<MealType>().ok();
        let photos: Vec<PhotoOut<'a>> = v
            .photos
            .iter()
            .filter(|p| photo_status(p) == PhotoStatus::Success)
            .map(PhotoOut::of)
            .collect();
        let latest_failed = v
            .photos
            .iter()
            .rev()
            .find(|p| photo_status(p) == PhotoStatus::Failed);
        Self {
            id: v.meal.id,
            meal_type: &v.meal.meal_type,
            meal_type_display: meal_type.map_or(Cow::Borrowed(v.meal.meal_type.as_str()), |t| {
                Cow::Borrowed(t.label_ru())
            }),
            name: v.meal.name.as_deref(),
            date: v.meal.date.format("%Y-%m-%d").to_string(),
            status: status.as_str(),
            status_display: status.label_ru(),
            created_at: views::DateTimeOut(v.meal.created_at),
            items: v.items.iter().map(ItemOut::of).collect(),
            photo_url: photos.first().map(|p| p.image_url.clone()),
            photo_count: photos.len(),
            has_success: !photos.is_empty(),
            photos,
            total: v.total(),
            is_processing: v.photos.iter().any(|p| {
                matches!(
                    photo_status(p),
                    PhotoStatus::Pending | PhotoStatus::Processing
                )
            }),
            latest_photo_status: v.photos.last().map(|p| photo_status(p).as_str()),
            photos_count: v.photos.len(),
            latest_failed_photo_id: latest_failed.map(|p| p.id),
        }
    }
}

/// [`MealOut`] as a JSON value.
pub fn meal_json(v: &MealView) -> Value {
    to_value(&MealOut::of(v))
}

pub(crate) fn food_json(f: &FoodUse, with_count: bool) -> Value {
    let mut v = json!({
        "name": f.name,
        "grams": f.grams,
        "calories": f.nutrients.calories,
        "protein": f.nutrients.protein,
        "fat": f.nutrients.fat,
        "carbohydrates": f.nutrients.carbohydrates,
        "last_used": views::datetime(f.last_used),
    });
    if with_count && let Value::Object(m) = &mut v {
        m.insert("count".into(), json!(f.count));
    }
    v
}

/// One CSV field, quoted when it holds a separator, a quote or a line break (RFC 4180).
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("плов"), "плов");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}

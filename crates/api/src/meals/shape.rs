//! JSON shapes of the meals endpoints: `Meal`, `FoodItem`, photos, recent foods.

use domain::nutrition::{MealType, PhotoStatus};
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
pub fn item_json(i: &food_item::Model) -> Value {
    let n = item_nutrients(i);
    json!({
        "id": i.id,
        "name": i.name,
        "photo": Value::Null,
        "grams": i.grams,
        "calories": n.calories.to_string(),
        "protein": n.protein.to_string(),
        "fat": n.fat.to_string(),
        "carbohydrates": n.carbohydrates.to_string(),
        "source": i.source,
        "created_at": views::datetime(i.created_at),
        "updated_at": views::datetime(i.updated_at),
    })
}

fn photo_status(p: &meal_photo::Model) -> PhotoStatus {
    p.status.parse().unwrap_or_default()
}

fn photo_json(p: &meal_photo::Model) -> Value {
    let status = photo_status(p);
    json!({
        "id": p.id,
        "image_url": media_url(&p.image),
        "status": status.as_str(),
        "status_display": status.label_ru(),
        "error_message": p.error_message,
        "error_code": p.error_code,
        "created_at": views::datetime(p.created_at),
    })
}

/// The `Meal` object: only SUCCESS photos are listed; the counters look at every photo.
pub fn meal_json(v: &MealView) -> Value {
    let status = v.status();
    let meal_type = v.meal.meal_type.parse::<MealType>().ok();
    let success: Vec<&meal_photo::Model> = v
        .photos
        .iter()
        .filter(|p| photo_status(p) == PhotoStatus::Success)
        .collect();
    let latest = v.photos.last();
    let latest_failed = v
        .photos
        .iter()
        .rev()
        .find(|p| photo_status(p) == PhotoStatus::Failed);
    json!({
        "id": v.meal.id,
        "meal_type": v.meal.meal_type,
        "meal_type_display": meal_type.map_or_else(|| v.meal.meal_type.clone(), |t| t.label_ru().to_string()),
        "name": v.meal.name,
        "date": v.meal.date.format("%Y-%m-%d").to_string(),
        "status": status.as_str(),
        "status_display": status.label_ru(),
        "created_at": views::datetime(v.meal.created_at),
        "items": v.items.iter().map(item_json).collect::<Vec<_>>(),
        "photos": success.iter().map(|p| photo_json(p)).collect::<Vec<_>>(),
        "total": v.total(),
        "photo_url": success.first().map(|p| media_url(&p.image)),
        "photo_count": success.len(),
        "has_success": !success.is_empty(),
        "is_processing": v.photos.iter().any(|p| matches!(photo_status(p), PhotoStatus::Pending | PhotoStatus::Processing)),
        "latest_photo_status": latest.map(|p| photo_status(p).as_str()),
        "photos_count": v.photos.len(),
        "latest_failed_photo_id": latest_failed.map(|p| p.id),
    })
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

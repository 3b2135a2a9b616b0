//! JSON shapes the original clients depend on (reference/backend-core.md §1), built from rows.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};
use store::entities::{daily_goal, profile, telegram_user, user};

/// The original's datetime format: `%Y-%m-%dT%H:%M:%S%z` in Europe/Moscow.
pub fn datetime(dt: DateTime<Utc>) -> String {
    MoscowTime(dt).to_string()
}

/// A timestamp that serializes as [`datetime`] renders it, without an intermediate `String`
/// (the diary writes dozens per response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTimeOut(pub DateTime<Utc>);

impl serde::Serialize for DateTimeOut {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&MoscowTime(self.0))
    }
}

/// `%Y-%m-%dT%H:%M:%S%z` in Europe/Moscow, written field by field: chrono's `format` parses
/// its pattern on every call, which showed in the diary's profile.
struct MoscowTime(DateTime<Utc>);

impl std::fmt::Display for MoscowTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use chrono::{Datelike, Offset, Timelike};
        let t = self.0.with_timezone(&chrono_tz::Europe::Moscow);
        if !(0..=9999).contains(&t.year()) {
            return write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%z"));
        }
        let off = t.offset().fix().local_minus_utc();
        let (sign, off) = if off < 0 { ('-', -off) } else { ('+', off) };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}{:02}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            off / 3600,
            off % 3600 / 60,
        )
    }
}

/// Decimal fields of model serializers are strings with two decimals.
pub fn decimal(v: f64) -> String {
    format!("{v:.2}")
}

/// A profile's time zone, falling back to Moscow for anything unparseable.
pub fn profile_tz(p: &profile::Model) -> Tz {
    p.timezone.parse().unwrap_or(chrono_tz::Europe::Moscow)
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// `TelegramUserPublic`.
pub fn telegram_user_public(tg: &telegram_user::Model) -> Value {
    let full = format!("{} {}", tg.first_name, tg.last_name)
        .trim()
        .to_string();
    let display_name = if !full.is_empty() {
        full
    } else if let Some(u) = tg.username.as_deref().filter(|u| !u.is_empty()) {
        format!("@{u}")
    } else {
        format!("User {}", tg.telegram_id)
    };
    json!({
        "telegram_id": tg.telegram_id,
        "username": tg.username,
        "first_name": tg.first_name,
        "last_name": tg.last_name,
        "display_name": display_name,
        "language_code": tg.language_code,
        "is_premium": tg.is_premium,
        "ai_test_completed": tg.ai_test_completed,
        "recommended_calories": tg.recommended_calories,
        "recommended_protein": tg.recommended_protein,
        "recommended_fat": tg.recommended_fat,
        "recommended_carbs": tg.recommended_carbs,
        "created_at": datetime(tg.created_at),
    })
}

/// The nested profile object. `avatar_base` turns a stored key into a URL.
pub fn profile(p: &profile::Model, now: DateTime<Utc>, avatar_base: &str) -> Value {
    let today = now.with_timezone(&profile_tz(p)).date_naive();
    let age = p.birth_date.map(|b| age_on(b, today));
    let bmi = match (p.weight, p.height) {
        (Some(w), Some(h)) if h > 0 => Some(w / ((h as f64 / 100.0) * (h as f64 / 100.0))),
        _ => None,
    };
    let is_complete = p.gender.is_some()
        && p.birth_date.is_some()
        && p.height.is_some_and(|h| h > 0)
        && p.weight.is_some_and(|w| w > 0.0)
        && !p.goal_type.is_empty();
    let avatar_url = p.avatar.as_ref().map(|key| {
        let base = format!("{}/{}", avatar_base.trim_end_matches('/'), key);
        if p.avatar_version > 0 {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}v={}", p.avatar_version)
        } else {
            base
        }
    });
    json!({
        "full_name": p.full_name,
        "gender": p.gender,
        "birth_date": p.birth_date.map(|d| d.format("%Y-%m-%d").to_string()),
        "height": p.height,
        "weight": p.weight.map(decimal),
        "activity_level": p.activity_level,
        "goal_type": p.goal_type,
        "target_weight": p.target_weight.map(decimal),
        "timezone": p.timezone,
        "avatar_url": avatar_url,
        "age": age,
        "bmi": bmi,
        "is_complete": is_complete,
        "created_at": datetime(p.created_at),
        "updated_at": datetime(p.updated_at),
    })
}

/// The `DailyGoal` object.
pub fn daily_goal(g: &daily_goal::Model) -> Value {
    json!({
        "id": g.id,
        "calories": g.calories,
        "protein": decimal(g.protein),
        "fat": decimal(g.fat),
        "carbohydrates": decimal(g.carbohydrates),
        "source": g.source,
        "is_active": g.is_active,
        "created_at": datetime(g.created_at),
        "updated_at": datetime(g.updated_at),
    })
}

/// The short user object of `/telegram/webapp/auth/`.
pub fn webapp_user(u: &user::Model, tg: &telegram_user::Model) -> Value {
    json!({
        "id": u.id,
        "telegram_id": tg.telegram_id,
        "username": tg.username,
        "first_name": tg.first_name,
        "last_name": tg.last_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn datetime_uses_moscow_and_offset_without_colon() {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 12, 10, 30, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(datetime(t), "2026-01-12T13:30:00+0300");
    }

    #[test]
    fn the_fast_datetime_writer_agrees_with_chrono_format() {
        // Across Moscow's offset changes (+0300 summer 2010, +0400 in 2011–2014, +0300 since),
        // with sub-second parts (dropped) and a far year.
        for (y, mo, d, h, mi, s, ms) in [
            (2010, 7, 1, 12, 0, 0, 0),
            (2012, 1, 1, 0, 0, 0, 999),
            (2014, 10, 25, 22, 59, 59, 1),
            (2026, 3, 10, 9, 0, 0, 250),
            (1969, 12, 31, 23, 59, 59, 0),
            (9999, 12, 31, 20, 0, 0, 0),
        ] {
            let t = Utc
                .with_ymd_and_hms(y, mo, d, h, mi, s)
                .single()
                .unwrap_or_default()
                + chrono::Duration::milliseconds(ms);
            let want = t
                .with_timezone(&chrono_tz::Europe::Moscow)
                .format("%Y-%m-%dT%H:%M:%S%z")
                .to_string();
            assert_eq!(datetime(t), want);
            assert_eq!(
                serde_json::to_value(DateTimeOut(t)).unwrap_or_default(),
                serde_json::Value::String(want)
            );
        }
    }

    #[test]
    fn age_counts_full_years() {
        let b = NaiveDate::from_ymd_opt(1990, 6, 15).unwrap_or_default();
        assert_eq!(
            age_on(b, NaiveDate::from_ymd_opt(2026, 6, 14).unwrap_or_default()),
            35
        );
        assert_eq!(
            age_on(b, NaiveDate::from_ymd_opt(2026, 6, 15).unwrap_or_default()),
            36
        );
    }

    #[test]
    fn decimals_have_two_places() {
        assert_eq!(decimal(80.5), "80.50");
        assert_eq!(decimal(163.2), "163.20");
    }
}

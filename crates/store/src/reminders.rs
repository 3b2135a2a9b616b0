//! Reminder settings of a user (the bot's `/settings` and the Mini App's settings screen share
//! them): opt-in meal reminders at three local times, an evening summary, and the inactivity
//! nudge. Times are the user's local wall-clock times (`HH:MM`, profile time zone); nothing is
//! ever sent in the quiet hours 22:00–08:00, so a time outside 08:00–21:59 is refused.

use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::{Db, StoreError};

/// Quiet hours start (inclusive), local time.
pub const QUIET_FROM: NaiveTime = match NaiveTime::from_hms_opt(22, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};
/// Quiet hours end (exclusive), local time.
pub const QUIET_UNTIL: NaiveTime = match NaiveTime::from_hms_opt(8, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// True when `t` (local) falls in the quiet hours 22:00–08:00.
#[must_use]
pub fn is_quiet(t: NaiveTime) -> bool {
    t >= QUIET_FROM || t < QUIET_UNTIL
}

/// A user's reminder settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReminderSettings {
    /// Meal reminders (opt-in).
    pub meal_reminders: bool,
    #[serde(with = "hhmm")]
    pub breakfast_at: NaiveTime,
    #[serde(with = "hhmm")]
    pub lunch_at: NaiveTime,
    #[serde(with = "hhmm")]
    pub dinner_at: NaiveTime,
    /// The evening summary of the day against the goal (opt-in).
    pub evening_summary: bool,
    #[serde(with = "hhmm")]
    pub summary_at: NaiveTime,
    /// One nudge after two days without logs.
    pub inactivity_nudge: bool,
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Default for ReminderSettings {
    fn default() -> Self {
        Self {
            meal_reminders: false,
            breakfast_at: t(9, 0),
            lunch_at: t(13, 0),
            dinner_at: t(19, 0),
            evening_summary: false,
            summary_at: t(21, 0),
            inactivity_nudge: true,
        }
    }
}

/// Why settings were refused: (field, message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidSettings {
    pub field: &'static str,
    pub message: &'static str,
}

impl ReminderSettings {
    /// Every time must be outside the quiet hours (08:00–21:59 local).
    pub fn validate(&self) -> Result<(), InvalidSettings> {
        for (field, at) in [
            ("breakfast_at", self.breakfast_at),
            ("lunch_at", self.lunch_at),
            ("dinner_at", self.dinner_at),
            ("summary_at", self.summary_at),
        ] {
            if is_quiet(at) {
                return Err(InvalidSettings {
                    field,
                    message: "Время должно быть между 08:00 и 21:59.",
                });
            }
        }
        Ok(())
    }

    /// The meal slots with their times: `breakfast`, `lunch`, `dinner`.
    #[must_use]
    pub fn meal_slots(&self) -> [(&'static str, NaiveTime); 3] {
        [
            ("breakfast", self.breakfast_at),
            ("lunch", self.lunch_at),
            ("dinner", self.dinner_at),
        ]
    }
}

/// Parses `HH:MM`.
#[must_use]
pub fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

/// Formats `HH:MM`.
#[must_use]
pub fn format_hhmm(t: NaiveTime) -> String {
    t.format("%H:%M").to_string()
}

mod hhmm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_hhmm(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let raw = String::deserialize(d)?;
        super::parse_hhmm(&raw).ok_or_else(|| serde::de::Error::custom("expected HH:MM"))
    }
}

fn from_row(row: &sea_orm::QueryResult) -> Result<ReminderSettings, StoreError> {
    let time = |col: &str, fallback: NaiveTime| -> Result<NaiveTime, StoreError> {
        let raw: String = row.try_get("", col)?;
        Ok(parse_hhmm(&raw).unwrap_or(fallback))
    };
    let d = ReminderSettings::default();
    Ok(ReminderSettings {
        meal_reminders: row.try_get("", "meal_reminders")?,
        breakfast_at: time("breakfast_at", d.breakfast_at)?,
        lunch_at: time("lunch_at", d.lunch_at)?,
        dinner_at: time("dinner_at", d.dinner_at)?,
        evening_summary: row.try_get("", "evening_summary")?,
        summary_at: time("summary_at", d.summary_at)?,
        inactivity_nudge: row.try_get("", "inactivity_nudge")?,
    })
}

const COLUMNS: &str = "user_id, meal_reminders, breakfast_at, lunch_at, dinner_at, \
                       evening_summary, summary_at, inactivity_nudge";

/// The user's settings (defaults when never saved).
pub async fn get(db: &Db, user_id: i64) -> Result<ReminderSettings, StoreError> {
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            db.db_backend(),
            format!("SELECT {COLUMNS} FROM reminder_settings WHERE user_id = $1"),
            vec![user_id.into()],
        ))
        .await?;
    match row {
        Some(r) => from_row(&r),
        None => Ok(ReminderSettings::default()),
    }
}

/// Saves the user's settings (validated first). Returns what is stored.
///
/// # Errors
/// [`StoreError::Conflict`] carrying the field message when a time is in the quiet hours.
pub async fn update(
    db: &Db,
    user_id: i64,
    s: &ReminderSettings,
) -> Result<ReminderSettings, StoreError> {
    update_at(db, user_id, s, Utc::now()).await
}

/// [`update`] with an explicit timestamp (tests, injected clocks).
pub async fn update_at(
    db: &Db,
    user_id: i64,
    s: &ReminderSettings,
    now: DateTime<Utc>,
) -> Result<ReminderSettings, StoreError> {
    s.validate()
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    db.conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            format!(
                "INSERT INTO reminder_settings ({COLUMNS}, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (user_id) DO UPDATE SET meal_reminders = excluded.meal_reminders, \
                 breakfast_at = excluded.breakfast_at, lunch_at = excluded.lunch_at, \
                 dinner_at = excluded.dinner_at, evening_summary = excluded.evening_summary, \
                 summary_at = excluded.summary_at, inactivity_nudge = excluded.inactivity_nudge, \
                 updated_at = excluded.updated_at"
            ),
            vec![
                user_id.into(),
                s.meal_reminders.into(),
                format_hhmm(s.breakfast_at).into(),
                format_hhmm(s.lunch_at).into(),
                format_hhmm(s.dinner_at).into(),
                s.evening_summary.into(),
                format_hhmm(s.summary_at).into(),
                s.inactivity_nudge.into(),
                now.into(),
            ],
        ))
        .await?;
    get(db, user_id).await
}

/// A user with reminders of some kind switched on, with their profile time zone and chat.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    pub user_id: i64,
    pub telegram_id: i64,
    pub timezone: String,
    pub language_code: String,
    pub settings: ReminderSettings,
}

/// Every user who may get a reminder: stored settings with meal reminders or the summary on,
/// plus everyone with the nudge on (the default), who has not blocked the bot.
pub async fn subscribers(db: &Db) -> Result<Vec<Subscriber>, StoreError> {
    let rows = db
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "SELECT t.user_id, t.telegram_id, t.language_code, COALESCE(p.timezone, '') AS tz, \
             r.user_id AS r_user, r.meal_reminders, r.breakfast_at, r.lunch_at, r.dinner_at, \
             r.evening_summary, r.summary_at, r.inactivity_nudge \
             FROM telegram_users t \
             LEFT JOIN profiles p ON p.user_id = t.user_id \
             LEFT JOIN reminder_settings r ON r.user_id = t.user_id \
             LEFT JOIN bot_chats c ON c.chat_id = t.telegram_id \
             WHERE c.blocked_at IS NULL ORDER BY t.user_id",
            vec![],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let stored: Option<i64> = r.try_get("", "r_user")?;
        let settings = match stored {
            Some(_) => from_row(&r)?,
            None => ReminderSettings::default(),
        };
        out.push(Subscriber {
            user_id: r.try_get("", "user_id")?,
            telegram_id: r.try_get("", "telegram_id")?,
            timezone: r.try_get("", "tz")?,
            language_code: r.try_get("", "language_code")?,
            settings,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_hours_are_22_to_08() {
        assert!(is_quiet(t(22, 0)));
        assert!(is_quiet(t(3, 30)));
        assert!(is_quiet(t(7, 59)));
        assert!(!is_quiet(t(8, 0)));
        assert!(!is_quiet(t(21, 59)));
    }

    #[test]
    fn times_in_quiet_hours_are_refused() {
        let mut s = ReminderSettings::default();
        assert!(s.validate().is_ok());
        s.summary_at = t(22, 30);
        assert_eq!(s.validate().map_err(|e| e.field), Err("summary_at"));
    }

    #[test]
    fn settings_round_trip_as_json() {
        let s = ReminderSettings {
            breakfast_at: t(8, 30),
            ..ReminderSettings::default()
        };
        let v = serde_json::to_value(s).unwrap_or_default();
        assert_eq!(v["breakfast_at"], "08:30");
        let back: ReminderSettings = serde_json::from_value(v).unwrap_or_default();
        assert_eq!(back, s);
    }
}

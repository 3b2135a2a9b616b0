//! Reminders (opt-in meal reminders, the evening summary, one inactivity nudge after two days
//! without logs), as outbox rows pushed by a periodic job. Each row's dedup key
//! names the user, their local day and the slot, so a re-run or a second scheduler pushes
//! nothing twice; nothing is pushed in the quiet hours 22:00–08:00 local time. `/settings`
//! switches them in the chat (the Mini App uses the same `store::reminders`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use domain::error::Locale;
use domain::ids::UserId;
use domain::nutrition::{MealType, effective_timezone};
use jobs::outbox::{self, Notification};
use sea_orm::{ConnectionTrait, Statement};
use store::reminders::{self as settings, ReminderSettings, format_hhmm, is_quiet};
use store::{Db, StoreError};

use crate::BotError;
use crate::app::BotApp;
use crate::handlers::Ctx;
use crate::texts::{T, fill, t};
use crate::ui::{Button, Screen};

/// How late a slot may still fire (a scheduler minute missed by a restart still delivers).
pub const SLOT_WINDOW_MINUTES: i64 = 15;
/// Days without logs before the nudge.
pub const NUDGE_AFTER_DAYS: i64 = 2;

fn due(at: NaiveTime, now: NaiveTime) -> bool {
    now >= at && now < at + TimeDelta::minutes(SLOT_WINDOW_MINUTES)
}

async fn last_logs(db: &Db) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(
            db.db_backend(),
            "SELECT user_id, MAX(created_at) AS last FROM meals GROUP BY user_id",
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.insert(r.try_get("", "user_id")?, r.try_get("", "last")?);
    }
    Ok(out)
}

async fn user_since(db: &Db) -> Result<HashMap<i64, DateTime<Utc>>, StoreError> {
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(
            db.db_backend(),
            "SELECT user_id, created_at FROM telegram_users",
        ))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        out.insert(r.try_get("", "user_id")?, r.try_get("", "created_at")?);
    }
    Ok(out)
}

fn meal_label(slot: &str, locale: Locale) -> &'static str {
    let ty = match slot {
        "breakfast" => MealType::Breakfast,
        "lunch" => MealType::Lunch,
        _ => MealType::Dinner,
    };
    match locale {
        Locale::En => match ty {
            MealType::Breakfast => "breakfast",
            MealType::Lunch => "lunch",
            _ => "dinner",
        },
        _ => ty.label_ru(),
    }
}

/// Pushes every reminder due at `now`; returns how many rows were new.
pub async fn run(db: &Db, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let subs = settings::subscribers(db).await?;
    let logs = last_logs(db).await?;
    let since = user_since(db).await?;
    let mut pushed = 0;
    for s in subs {
        let tz = effective_timezone(Some(s.timezone.as_str()));
        let local = now.with_timezone(&tz);
        let (time, date) = (local.time(), local.date_naive());
        if is_quiet(time) {
            continue;
        }
        let locale = Locale::from_tag(Some(s.language_code.as_str()));
        let mut rows = Vec::new();
        if s.settings.meal_reminders {
            for (slot, at) in s.settings.meal_slots() {
                if due(at, time) {
                    let text = fill(
                        t(locale, T::ReminderMeal),
                        &[("meal", meal_label(slot, locale))],
                    );
                    rows.push(Notification::new(
                        format!("reminder:{}:{date}:{slot}", s.user_id),
                        "reminder.meal",
                        s.telegram_id,
                        text,
                    ));
                }
            }
        }
        if s.settings.evening_summary && due(s.settings.summary_at, time) {
            let text = crate::food::day_text(
                db,
                now,
                UserId(s.user_id),
                locale,
                T::ReminderSummary,
                T::ReminderSummary,
            )
            .await?;
            rows.push(Notification::new(
                format!("reminder:{}:{date}:summary", s.user_id),
                "reminder.summary",
                s.telegram_id,
                text,
            ));
        }
        if s.settings.inactivity_nudge && (10..20).contains(&chrono::Timelike::hour(&time)) {
            let last = logs
                .get(&s.user_id)
                .or_else(|| since.get(&s.user_id))
                .copied();
            if let Some(last) = last
                && now - last >= TimeDelta::days(NUDGE_AFTER_DAYS)
            {
                // One nudge per quiet streak: the key names the last activity.
                let key = format!("nudge:{}:{}", s.user_id, last.timestamp());
                rows.push(Notification::new(
                    key,
                    "reminder.nudge",
                    s.telegram_id,
                    t(locale, T::ReminderNudge),
                ));
            }
        }
        for n in rows {
            if outbox::push(db.conn(), n.user(s.user_id), now)
                .await?
                .is_some()
            {
                pushed += 1;
            }
        }
    }
    if pushed > 0 {
        tracing::info!(pushed, "reminders queued");
    }
    Ok(pushed)
}

fn settings_screen(ctx: &Ctx, s: &ReminderSettings, tz: &str) -> Screen {
    let onoff = |b: bool| ctx.t(if b { T::On } else { T::Off });
    let times = [s.breakfast_at, s.lunch_at, s.dinner_at]
        .map(format_hhmm)
        .join(", ");
    let text = fill(
        ctx.t(T::Settings),
        &[
            ("meal", onoff(s.meal_reminders)),
            ("times", &times),
            ("summary", onoff(s.evening_summary)),
            ("summary_at", &format_hhmm(s.summary_at)),
            ("nudge", onoff(s.inactivity_nudge)),
            ("tz", &crate::texts::esc(tz)),
        ],
    );
    let b = |label: T, on: bool, data: &str| {
        Button::cb(format!("{} · {}", ctx.t(label), onoff(on)), data)
    };
    Screen::new(text).keyboard(vec![
        vec![b(T::BtnMealReminders, s.meal_reminders, "set:meal")],
        vec![b(T::BtnSummary, s.evening_summary, "set:sum")],
        vec![b(T::BtnNudge, s.inactivity_nudge, "set:nudge")],
    ])
}

async fn tz_name(app: &BotApp, ctx: &Ctx) -> Result<String, BotError> {
    let p = store::profiles::get(&app.deps().db, ctx.account.user_id(), app.now()).await?;
    Ok(effective_timezone(Some(p.timezone.as_str()))
        .name()
        .to_owned())
}

/// `/settings`.
pub(crate) async fn show_settings(
    app: &BotApp,
    ctx: &Ctx,
    message_id: Option<i64>,
) -> Result<(), BotError> {
    let s = settings::get(&app.deps().db, ctx.account.user.id).await?;
    let screen = settings_screen(ctx, &s, &tz_name(app, ctx).await?);
    app.tg.show(ctx.chat, message_id, &screen).await?;
    Ok(())
}

/// A settings button.
pub(crate) async fn toggle(
    app: &BotApp,
    ctx: &Ctx,
    data: &str,
    message_id: Option<i64>,
) -> Result<(), BotError> {
    let db = &app.deps().db;
    let mut s = settings::get(db, ctx.account.user.id).await?;
    match data {
        "set:meal" => s.meal_reminders = !s.meal_reminders,
        "set:sum" => s.evening_summary = !s.evening_summary,
        "set:nudge" => s.inactivity_nudge = !s.inactivity_nudge,
        _ => {}
    }
    settings::update_at(db, ctx.account.user.id, &s, app.now()).await?;
    show_settings(app, ctx, message_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
    }

    #[test]
    fn a_slot_is_due_for_its_window_only() {
        assert!(due(hm(8, 30), hm(8, 30)));
        assert!(due(hm(8, 30), hm(8, 44)));
        assert!(!due(hm(8, 30), hm(8, 45)));
        assert!(!due(hm(8, 30), hm(8, 29)));
    }
}

//! Reminders at the user's local time, never in the quiet hours, switchable; the webhook.

mod common;

use chrono::{NaiveTime, TimeZone, Utc};
use common::{Harness, WEBHOOK_SECRET};
use jobs::outbox;
use store::reminders::{self, ReminderSettings};

const ON: i64 = 810_001;
const OFF: i64 = 810_002;

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

async fn user_id(h: &Harness, tg: i64) -> i64 {
    let (_, p) = h
        .app
        .send_json(
            reqwest::Method::PATCH,
            tg,
            "/api/v1/users/profile/",
            Some(serde_json::json!({"timezone": "Asia/Yekaterinburg"})),
        )
        .await;
    p["id"].as_i64().unwrap_or_else(|| panic!("{p}"))
}

#[tokio::test]
async fn a_breakfast_reminder_at_0830_in_yekaterinburg_fires_at_0330_utc_and_not_when_off() {
    for h in Harness::all().await {
        let on = user_id(&h, ON).await;
        let off = user_id(&h, OFF).await;
        let settings = ReminderSettings {
            meal_reminders: true,
            breakfast_at: hm(8, 30),
            inactivity_nudge: false,
            ..ReminderSettings::default()
        };
        reminders::update(h.app.db(), on, &settings)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let switched_off = ReminderSettings {
            meal_reminders: false,
            ..settings
        };
        reminders::update(h.app.db(), off, &switched_off)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            reminders::get(h.app.db(), on)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            settings
        );

        let at = |h_: u32, m: u32| {
            Utc.with_ymd_and_hms(2026, 3, 11, h_, m, 0)
                .single()
                .unwrap_or_default()
        };
        // Through the job, as the scheduler runs it, with the injected clock.
        let run_job_at = |t: chrono::DateTime<Utc>| {
            h.app.clock.set(t);
            async {
                jobs::enqueue(
                    h.app.db().conn(),
                    jobs::NewJob::new(
                        bot::KIND_REMINDERS,
                        jobs::Queue::Notify,
                        serde_json::json!({}),
                    ),
                    h.app.clock_now(),
                )
                .await
                .unwrap_or_else(|e| panic!("{e}"));
                h.deliver().await
            }
        };
        assert_eq!(run_job_at(at(3, 29)).await, 1, "08:29 local: the job only");
        assert!(h.tg.sent_to(ON).is_empty());
        assert_eq!(
            run_job_at(at(3, 30)).await,
            2,
            "08:30 local: the job and one message"
        );
        assert_eq!(h.tg.sent_to(ON).len(), 1);
        assert_eq!(run_job_at(at(3, 31)).await, 1, "once per day and slot");
        assert_eq!(h.tg.sent_to(ON).len(), 1);
        let rows = outbox::list(h.app.db(), Some("reminder.meal"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].chat_id, ON);
        assert_eq!(
            rows[0].dedup_key,
            format!("reminder:{on}:2026-03-11:breakfast")
        );
        assert!(h.tg.sent_to(ON)[0].text().contains("Завтрак"));
        assert!(h.tg.sent_to(OFF).is_empty(), "switched off: nothing");
        // Next day, same slot: again.
        assert_eq!(
            bot::reminders::run(h.app.db(), at(3, 30) + chrono::Duration::days(1))
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            1
        );
        h.finish().await;
    }
}

#[tokio::test]
async fn quiet_hours_refuse_settings_and_settings_toggle_in_the_chat() {
    for h in Harness::all().await {
        let on = user_id(&h, ON).await;
        let night = ReminderSettings {
            meal_reminders: true,
            breakfast_at: hm(7, 30),
            ..ReminderSettings::default()
        };
        assert!(
            reminders::update(h.app.db(), on, &night).await.is_err(),
            "07:30 is in the quiet hours"
        );
        let s = h.say(ON, "/settings").await;
        assert!(s.text().contains("Напоминания"), "{}", s.text());
        h.press(ON, "set:meal").await;
        assert!(
            reminders::get(h.app.db(), on)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .meal_reminders
        );
        h.press(ON, "set:meal").await;
        assert!(
            !reminders::get(h.app.db(), on)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .meal_reminders
        );
        h.finish().await;
    }
}

#[tokio::test]
async fn the_inactivity_nudge_comes_once_after_two_days() {
    for h in Harness::all().await {
        let on = user_id(&h, ON).await;
        let _ = on;
        // The user exists since the app's now (2026-03-10 09:00 UTC) and never logged.
        let t = |d: i64| h.app.clock_now() + chrono::Duration::days(d) + chrono::Duration::hours(2);
        assert_eq!(
            bot::reminders::run(h.app.db(), t(1))
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            0
        );
        assert_eq!(
            bot::reminders::run(h.app.db(), t(2))
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            1
        );
        assert_eq!(
            bot::reminders::run(h.app.db(), t(3))
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            0,
            "once"
        );
        h.finish().await;
    }
}

#[tokio::test]
async fn the_webhook_checks_the_secret_and_handles_updates() {
    for h in Harness::all().await {
        let router = bot::webhook_router(h.bot.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let url = format!("http://{addr}{}", bot::WEBHOOK_PATH);
        let update = serde_json::json!({"update_id": 5, "message": {"message_id": 1, "date": 1_773_000_000,
            "chat": {"id": ON, "type": "private", "first_name": "Т"},
            "from": {"id": ON, "is_bot": false, "first_name": "Т"},
            "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}});
        let c = reqwest::Client::new();
        let r = c
            .post(&url)
            .json(&update)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 403, "no secret");
        let r = c
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", "wrong")
            .json(&update)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 403);
        assert!(h.tg.sent_to(ON).is_empty());
        let r = c
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", WEBHOOK_SECRET)
            .json(&update)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 200);
        assert!(h.tg.sent_to(ON)[0].text().contains("Что я умею"));
        server.abort();
        h.finish().await;
    }
}

//! The Mini App over HTTP on both backends: the shell and its headers, hashed assets with long
//! caching, fragments authenticated like the API, the diary rendered on the server in the
//! user's time zone.

use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::json;
use testkit::app::{ADMIN_TG_ID, BillingSetup, Options, TestApp};
use testkit::fake_yookassa::FakeYooKassa;

const TG: i64 = 710_001;

async fn get(
    app: &TestApp,
    path: &str,
    tg: Option<i64>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(tg) = tg {
        req = req.header("X-Telegram-Init-Data", app.init_data(tg));
    }
    let r = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap_or_default())
}

fn h<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn shell_is_public_and_framed_only_by_telegram() {
    for app in TestApp::all().await {
        for path in ["/app", "/app/", "/app/meal/5", "/app/diary?date=2026-03-01"] {
            let (status, headers, body) = get(&app, path, None).await;
            assert_eq!(status, 200, "{path}");
            assert!(body.contains("telegram-web-app.js"), "{path}");
            assert!(
                h(&headers, "content-security-policy")
                    .contains("frame-ancestors https://web.telegram.org")
            );
            assert!(!h(&headers, "content-security-policy").contains("unsafe-inline"));
            assert_eq!(h(&headers, "x-content-type-options"), "nosniff");
            assert_eq!(h(&headers, "cache-control"), "no-store");
            assert!(!h(&headers, "x-request-id").is_empty());
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn assets_have_hashed_names_and_immutable_caching() {
    let app = TestApp::sqlite().await;
    for a in web::assets::all() {
        let (status, headers, body) = get(&app, &web::assets::url(a.logical), None).await;
        assert_eq!(status, 200, "{}", a.name);
        assert_eq!(
            h(&headers, "cache-control"),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(body.len(), a.body.len());
    }
    let (status, headers, _) = get(&app, "/app/static/app.00000000.js", None).await;
    assert_eq!(status, 404);
    assert_eq!(h(&headers, "cache-control"), "no-store");
    assert!(web::assets::js_bytes() <= 50 * 1024);
    app.finish().await;
}

#[tokio::test]
async fn fragments_need_init_data_and_admin_screens_need_an_admin() {
    for app in TestApp::all().await {
        let (status, headers, body) = get(&app, "/app/f/diary", None).await;
        assert_eq!(status, 401, "{body}");
        assert!(h(&headers, "content-type").starts_with("application/json"));
        let (status, _, _) = get(&app, "/app/f/coach", Some(TG)).await;
        assert_eq!(status, 403);
        let (status, _, body) = get(&app, "/app/f/coach", Some(ADMIN_TG_ID)).await;
        assert_eq!(status, 200, "{body}");
        let (status, _, _) = get(&app, "/app/f/nothing-here", Some(TG)).await;
        assert_eq!(status, 404);
        let (status, _, _) = get(&app, "/app/f/meal/999999", Some(TG)).await;
        assert_eq!(status, 404);
        // The API router still answers everything else.
        let (status, _, _) = get(&app, "/api/v1/no-such-route/", Some(TG)).await;
        assert_eq!(status, 404);
        app.finish().await;
    }
}

#[tokio::test]
async fn diary_is_rendered_in_the_users_day_with_totals_and_escaped_names() {
    // 20:00 UTC on 10 March is already 11 March in Vladivostok.
    let opts = Options {
        now: Utc
            .with_ymd_and_hms(2026, 3, 10, 20, 0, 0)
            .single()
            .unwrap_or_default(),
        ..Options::default()
    };
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for app in TestApp::all_with(opts).await {
        let (s, v) = app
            .send_json(
                Method::PATCH,
                TG,
                "/api/v1/users/profile/",
                Some(json!({"timezone": "Asia/Vladivostok"})),
            )
            .await;
        assert!(s.is_success(), "{v}");
        let (s, v) = app
            .send_json(
                Method::POST,
                TG,
                "/api/v1/meals/quick-add/",
                Some(
                    json!({"date": "2026-03-11", "meal_type": "LUNCH", "name": "<script>x</script>",
                            "calories": 420, "protein": 30, "fat": 10, "carbohydrates": 50}),
                ),
            )
            .await;
        assert!(s.is_success(), "{v}");
        let (status, headers, body) = get(&app, "/app/f/diary", Some(TG)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(h(&headers, "cache-control"), "no-store");
        assert!(
            body.contains(r#"data-date="2026-03-11""#),
            "today at UTC+10"
        );
        assert!(body.contains(r#"data-kcal="420""#), "{body}");
        assert!(body.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!body.contains("<script>x"));
        assert!(body.contains("Цели не установлены"));
        // The week strip never links to the user's future.
        assert!(!body.contains(r#"href="/app/diary?date=2026-03-12""#));
        // The month picker links every past day of the month by its date.
        let (_, _, body) = get(&app, "/app/f/diary?date=2026-03-11&month=2026-03", Some(TG)).await;
        assert!(body.contains(r#"id="month-picker""#));
        assert!(body.contains(r#"href="/app/diary?date=2026-03-05""#));
        // English through the UI language header.
        let r = app
            .client
            .get(app.url("/app/f/diary"))
            .header("X-Telegram-Init-Data", app.init_data(TG))
            .header("X-UI-Lang", "en")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let body = r.text().await.unwrap_or_default();
        assert!(body.contains("Goals are not set"), "{body}");
        for path in [
            "/app/f/add",
            "/app/f/stats",
            "/app/f/stats?period=month",
            "/app/f/profile",
            "/app/f/settings",
            "/app/f/plan",
        ] {
            let (status, _, body) = get(&app, path, Some(TG)).await;
            assert_eq!(status, 200, "{path}: {body}");
            assert!(body.starts_with("<section class=\"screen\""), "{path}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn reminder_settings_are_saved_from_the_settings_screen() {
    for app in TestApp::all().await {
        let body = json!({"meal_reminders": true, "breakfast_at": "08:30", "lunch_at": "13:00",
            "dinner_at": "19:15", "evening_summary": false, "summary_at": "21:00", "inactivity_nudge": true});
        let (s, v) = app
            .send_json(
                Method::PUT,
                TG,
                "/app/f/settings/reminders",
                Some(body.clone()),
            )
            .await;
        assert_eq!(s.as_u16(), 200, "{v}");
        let (status, _, html) = get(&app, "/app/f/settings", Some(TG)).await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(r#"name="meal_reminders" checked"#), "{html}");
        assert!(html.contains(r#"value="19:15""#));
        let mut quiet = body;
        quiet["dinner_at"] = json!("23:00");
        let (s, v) = app
            .send_json(Method::PUT, TG, "/app/f/settings/reminders", Some(quiet))
            .await;
        assert_eq!(s.as_u16(), 400, "{v}");
        assert!(v["error"]["details"]["dinner_at"].is_array(), "{v}");
        app.finish().await;
    }
}

async fn set_source_tag(app: &TestApp, tg: i64, tag: &str) {
    use store::sea_orm::{ConnectionTrait, Statement};
    let conn = app.db().conn();
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "UPDATE telegram_users SET source_tag = $1 WHERE telegram_id = $2",
        vec![tag.into(), tg.into()],
    ))
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

async fn telegram_row_id(app: &TestApp, tg: i64) -> i64 {
    let tid = domain::ids::TelegramId::new(tg).unwrap_or_else(|e| panic!("{e}"));
    store::users::find_by_telegram_id(app.db(), tid)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no account {tg}"))
        .telegram
        .id
}

#[tokio::test]
async fn coach_home_shows_the_coachs_own_invite_link() {
    let opts = Options {
        bot_username: Some("EatFit24_bot".into()),
        ..Options::default()
    };
    for app in TestApp::all_with(opts).await {
        let (status, _, body) = get(&app, "/app/f/coach", Some(ADMIN_TG_ID)).await;
        assert_eq!(status, 200, "{body}");
        let link = format!("https://t.me/EatFit24_bot?start=coach_{ADMIN_TG_ID}");
        assert!(
            body.contains(&format!(r#"<code id="invite-link">{link}</code>"#)),
            "{body}"
        );
        assert!(body.contains(&format!(r#"data-copy="{link}""#)), "{body}");
        app.finish().await;
    }
    // Without the bot username the card says why there is no link.
    let app = TestApp::sqlite().await;
    let (status, _, body) = get(&app, "/app/f/coach", Some(ADMIN_TG_ID)).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("invite-link"), "{body}");
    assert!(body.contains("TELEGRAM_BOT_USERNAME"), "{body}");
    app.finish().await;
}

#[tokio::test]
async fn coach_sees_a_leads_source_and_a_clients_meals_of_a_day() {
    // 20:00 UTC on 10 March is already 11 March in Vladivostok (the client's today).
    let opts = Options {
        now: Utc
            .with_ymd_and_hms(2026, 3, 10, 20, 0, 0)
            .single()
            .unwrap_or_default(),
        ..Options::default()
    };
    for app in TestApp::all_with(opts).await {
        // The coach opens the panel once, so their name is known.
        let (status, _, _) = get(&app, "/app/f/coach", Some(ADMIN_TG_ID)).await;
        assert_eq!(status, 200);
        let (s, v) = app
            .send_json(
                Method::PATCH,
                TG,
                "/api/v1/users/profile/",
                Some(json!({"timezone": "Asia/Vladivostok"})),
            )
            .await;
        assert!(s.is_success(), "{v}");
        for (date, name, kcal) in [
            ("2026-03-11", "Гречка <b>", 420),
            ("2026-03-10", "Вчерашний суп", 250),
        ] {
            let (s, v) = app
                .send_json(
                    Method::POST,
                    TG,
                    "/api/v1/meals/quick-add/",
                    Some(json!({"date": date, "meal_type": "LUNCH", "name": name,
                        "calories": kcal, "protein": 30, "fat": 10, "carbohydrates": 50})),
                )
                .await;
            assert!(s.is_success(), "{v}");
        }
        // The bot's survey makes them a lead; the coach then makes them a client.
        let r = app
            .client
            .post(app.url("/api/v1/telegram/personal-plan/survey/"))
            .header("X-Bot-Secret", testkit::BOT_SECRET)
            .json(&json!({
                "telegram_id": TG, "gender": "female", "age": 30, "height_cm": 170,
                "weight_kg": "70", "target_weight_kg": 62, "activity": "light",
                "training_level": "beginner", "body_goals": [], "health_limitations": [],
                "body_now_id": 2, "body_now_file": "f_now_2.jpg", "body_ideal_id": 1,
                "body_ideal_file": "f_ideal_1.jpg", "timezone": "Asia/Vladivostok",
                "utc_offset_minutes": 600
            }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            r.status().as_u16(),
            201,
            "{}",
            r.text().await.unwrap_or_default()
        );
        let id = telegram_row_id(&app, TG).await;
        set_source_tag(&app, TG, &format!("coach_{ADMIN_TG_ID}")).await;
        let (s, v) = app
            .send_json(
                Method::POST,
                ADMIN_TG_ID,
                &format!("/api/v1/telegram/clients/{id}/add/"),
                None,
            )
            .await;
        assert!(s.is_success(), "{v}");

        // The client's today (11 March at UTC+10), read-only, with a link back a day only.
        let (status, _, body) = get(
            &app,
            &format!("/app/f/coach/client/{id}"),
            Some(ADMIN_TG_ID),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains(r#"id="client-diary" data-date="2026-03-11""#),
            "{body}"
        );
        assert!(body.contains("Гречка &lt;b&gt;"), "{body}");
        assert!(!body.contains("Вчерашний суп"), "{body}");
        assert!(body.contains(r#"data-kcal="420""#), "{body}");
        assert!(body.contains(&format!(r#"href="/app/coach/client/{id}?date=2026-03-10""#)));
        assert!(
            !body.contains("client-next-day"),
            "no link to the client's future"
        );
        assert!(
            !body.contains("/app/meal/"),
            "read-only: no links into the meal screens"
        );
        assert!(body.contains("Пришёл по приглашению"), "{body}");
        // The previous day, chosen through the link.
        let (status, _, body) = get(
            &app,
            &format!("/app/f/coach/client/{id}?date=2026-03-10"),
            Some(ADMIN_TG_ID),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("Вчерашний суп"), "{body}");
        assert!(!body.contains("Гречка"), "{body}");
        assert!(body.contains(&format!(r#"href="/app/coach/client/{id}?date=2026-03-11""#)));

        // A lead with a campaign tag shows it; one invited by the coach names the coach.
        let (s, v) = app
            .send_json(
                Method::DELETE,
                ADMIN_TG_ID,
                &format!("/api/v1/telegram/clients/{id}/"),
                None,
            )
            .await;
        assert!(s.is_success(), "{v}");
        let (status, _, body) =
            get(&app, &format!("/app/f/coach/lead/{id}"), Some(ADMIN_TG_ID)).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains(&format!(r#"data-source="coach_{ADMIN_TG_ID}""#)),
            "{body}"
        );
        assert!(body.contains("Пришёл по приглашению Тест"), "{body}");
        set_source_tag(&app, TG, "promo_spring").await;
        let (_, _, body) = get(&app, &format!("/app/f/coach/lead/{id}"), Some(ADMIN_TG_ID)).await;
        assert!(body.contains("Источник: promo_spring"), "{body}");
        app.finish().await;
    }
}

#[tokio::test]
async fn add_screen_lists_recent_and_frequent_foods_and_yesterdays_meals_to_copy() {
    let opts = Options {
        now: Utc
            .with_ymd_and_hms(2026, 3, 11, 9, 0, 0)
            .single()
            .unwrap_or_default(),
        ..Options::default()
    };
    for app in TestApp::all_with(opts).await {
        // Yesterday: oatmeal twice (frequent), then soup (most recent), each its own meal.
        let mut lunch_id = 0;
        for (meal_type, name) in [
            ("BREAKFAST", "Овсянка"),
            ("SNACK", "Овсянка"),
            ("LUNCH", "Суп"),
        ] {
            let (s, v) = app
                .send_json(
                    Method::POST,
                    TG,
                    "/api/v1/meals/",
                    Some(json!({"date": "2026-03-10", "meal_type": meal_type})),
                )
                .await;
            assert!(s.is_success(), "{v}");
            let id = v["id"].as_i64().unwrap_or_default();
            let (s, v) = app
                .send_json(
                    Method::POST,
                    TG,
                    &format!("/api/v1/meals/{id}/items/"),
                    Some(
                        json!({"name": name, "grams": 200, "calories": 150, "protein": 5,
                        "fat": 3, "carbohydrates": 25}),
                    ),
                )
                .await;
            assert!(s.is_success(), "{v}");
            lunch_id = id;
        }
        assert!(lunch_id > 0);
        let (status, _, body) = get(&app, "/app/f/add", Some(TG)).await;
        assert_eq!(status, 200, "{body}");
        // Both sections, each with one-tap re-log buttons.
        let recent = body
            .split_once(r#"id="recent-foods""#)
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("no recent section: {body}"));
        assert!(body.contains("<h3>Недавние</h3>"), "{body}");
        assert!(body.contains("<h3>Частые</h3>"), "{body}");
        let frequent = recent
            .split_once(r#"id="frequent-foods""#)
            .map(|(_, rest)| rest)
            .unwrap_or_else(|| panic!("no frequent section: {body}"));
        let recent = &recent[..recent.len() - frequent.len()];
        assert!(
            recent.contains("Суп") && recent.contains("Овсянка"),
            "{recent}"
        );
        assert!(recent.contains(r#"data-api="POST /api/v1/meals/quick-add/""#));
        let frequent_list = frequent.split("</ul>").next().unwrap_or_default();
        assert!(frequent_list.contains("Овсянка"), "{frequent_list}");
        assert!(
            frequent_list.find("Овсянка") < frequent_list.find("Суп").or(Some(usize::MAX)),
            "most often first: {frequent_list}"
        );
        // Yesterday's meals, each with a copy button carrying its id; the whole-day copy stays.
        assert!(body.contains(r#"id="yesterday-meals""#), "{body}");
        assert_eq!(body.matches(r#"/copy/" data-body="#).count(), 3, "{body}");
        assert!(body.contains(&format!(
            r#"data-api="POST /api/v1/meals/{lunch_id}/copy/" data-body="{{&quot;date&quot;:&quot;2026-03-11&quot;}}""#
        )), "{body}");
        assert!(body.contains(r#"data-api="POST /api/v1/meals/copy-day/""#));
        assert!(body.contains(">Скопировать<"));
        // The button's request copies that meal to today.
        let (s, v) = app
            .send_json(
                Method::POST,
                TG,
                &format!("/api/v1/meals/{lunch_id}/copy/"),
                Some(json!({"date": "2026-03-11"})),
            )
            .await;
        assert_eq!(s.as_u16(), 201, "{v}");
        let (_, _, body) = get(&app, "/app/f/diary?date=2026-03-11", Some(TG)).await;
        assert!(body.contains("Суп"), "{body}");
        app.finish().await;
    }
}

#[tokio::test]
async fn subscription_screen_offers_to_link_a_card_only_when_billing_is_configured() {
    // Billing attached without YooKassa: no button.
    for app in TestApp::all().await {
        let (status, _, body) = get(&app, "/app/f/plan", Some(TG)).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains("data-bind-card"), "{body}");
        app.finish().await;
    }
    let yk = FakeYooKassa::start().await;
    let opts = Options {
        billing: Some(BillingSetup::with_fake(&yk)),
        ..Options::default()
    };
    for app in TestApp::all_with(opts).await {
        let (status, _, body) = get(&app, "/app/f/plan", Some(TG)).await;
        assert_eq!(status, 200, "{body}");
        assert!(
            body.contains(r#"id="bind-card" data-bind-card>Привязать карту</button>"#),
            "{body}"
        );
        // What the button posts answers with the link the script opens.
        let (s, v) = app
            .send_json(
                Method::POST,
                TG,
                "/api/v1/billing/bind-card/start/",
                Some(json!({})),
            )
            .await;
        assert_eq!(s.as_u16(), 201, "{v}");
        assert!(
            v["confirmation_url"]
                .as_str()
                .is_some_and(|u| !u.is_empty()),
            "{v}"
        );
        app.finish().await;
    }
}

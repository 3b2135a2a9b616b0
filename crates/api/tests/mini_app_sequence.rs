//! The original Mini App's call sequence for the core endpoints (reference/clients.md §B.18),
//! checking every response shape against reference/backend-core.md §1: auth → profile →
//! goals calculate/set-auto → create meal → add items → diary → edit grams → weekly stats →
//! delete. Runs on every backend.

use std::collections::BTreeSet;

use chrono::TimeZone;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use store::testing::TestDb;
use testkit::TestApp;
use testkit::app::Options;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, v) = app.send_json(method, 4242, path, body).await;
    // Non-JSON bodies (e.g. a 204) read as Null here, as before.
    (status, if v.is_string() { Value::Null } else { v })
}

#[tokio::test]
async fn the_original_mini_app_sequence_works_end_to_end() {
    for db in TestDb::all().await.expect("test db") {
        // 2026-01-12 09:00 Moscow: a 36-year-old born 1989-06-15.
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 1, 12, 6, 0, 0)
            .single()
            .expect("time");
        let app = TestApp::spawn_with(
            db,
            Options {
                now,
                ..Options::default()
            },
        )
        .await;
        let backend = app.backend();

        // 1. Login.
        let r = app
            .client
            .post(app.url("/api/v1/telegram/auth/"))
            .header("X-Telegram-Init-Data", app.init_data(4242))
            .json(&json!({ "initData": app.init_data(4242) }))
            .send()
            .await
            .expect("auth");
        assert_eq!(r.status(), StatusCode::OK);
        let auth: Value = r.json().await.expect("json");
        assert_eq!(
            keys(&auth["user"]),
            set(&[
                "telegram_id",
                "username",
                "first_name",
                "last_name",
                "display_name",
                "language_code",
                "is_premium",
                "ai_test_completed",
                "recommended_calories",
                "recommended_protein",
                "recommended_fat",
                "recommended_carbs",
                "created_at"
            ])
        );

        // 2. Profile: read, then fill it in (flat body).
        let (s, profile) = call(&app, Method::GET, "/api/v1/users/profile/", None).await;
        assert_eq!(s, StatusCode::OK, "{backend:?}: {profile}");
        assert_eq!(keys(&profile), set(&["id", "username", "email", "profile"]));
        assert_eq!(profile["username"], "tg_4242");
        let (s, profile) = call(
            &app,
            Method::PATCH,
            "/api/v1/users/profile/",
            Some(json!({
                "gender": "M", "birth_date": "1989-06-15", "height": 180, "weight": 80.5,
                "activity_level": "moderately_active", "goal_type": "weight_loss",
                "timezone": "Europe/Moscow"
            })),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{profile}");
        let p = &profile["profile"];
        for k in [
            "full_name",
            "gender",
            "birth_date",
            "height",
            "weight",
            "activity_level",
            "goal_type",
            "target_weight",
            "timezone",
            "avatar_url",
            "age",
            "bmi",
            "is_complete",
            "created_at",
            "updated_at",
        ] {
            assert!(p.get(k).is_some(), "profile lacks {k}: {p}");
        }
        assert_eq!(p["weight"], "80.50");
        assert_eq!(p["age"], 36);
        assert_eq!(p["is_complete"], true);

        // 3. Goals: calculate (numbers) and set-auto (decimal strings), then GET.
        let (s, calc) = call(&app, Method::POST, "/api/v1/goals/calculate/", None).await;
        assert_eq!(s, StatusCode::OK, "{calc}");
        assert_eq!(
            calc,
            json!({"calories": 2176, "protein": 163.2, "fat": 60.44, "carbohydrates": 244.8})
        );
        let (s, goal) = call(&app, Method::POST, "/api/v1/goals/set-auto/", None).await;
        assert_eq!(s, StatusCode::CREATED, "{goal}");
        assert_eq!(
            keys(&goal),
            set(&[
                "id",
                "calories",
                "protein",
                "fat",
                "carbohydrates",
                "source",
                "is_active",
                "created_at",
                "updated_at"
            ])
        );
        assert_eq!(goal["protein"], "163.20");
        assert_eq!(goal["source"], "AUTO");
        let (_, g) = call(&app, Method::GET, "/api/v1/goals/", None).await;
        assert_eq!(g["is_set"], true);
        assert_eq!(g["goal"]["calories"], 2176);

        // 4. Create a meal and add two items.
        let (s, meal) = call(
            &app,
            Method::POST,
            "/api/v1/meals/",
            Some(json!({"meal_type": "BREAKFAST", "date": "2026-01-12"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{meal}");
        assert_eq!(keys(&meal), set(&["id", "meal_type", "date", "created_at"]));
        let meal_id = meal["id"].as_i64().expect("meal id");
        let (s, item) = call(
            &app,
            Method::POST,
            &format!("/api/v1/meals/{meal_id}/items/"),
            Some(json!({"name": "Гречка", "grams": 150, "calories": "165.00", "protein": "6.00", "fat": "1.50", "carbohydrates": "32.00"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{item}");
        for k in [
            "id",
            "name",
            "photo",
            "grams",
            "calories",
            "protein",
            "fat",
            "carbohydrates",
            "created_at",
            "updated_at",
        ] {
            assert!(item.get(k).is_some(), "item lacks {k}: {item}");
        }
        assert_eq!(item["calories"], "165.00");
        let item_id = item["id"].as_i64().expect("item id");
        let (s, _) = call(
            &app,
            Method::POST,
            &format!("/api/v1/meals/{meal_id}/items/"),
            Some(json!({"name": "Кофе", "grams": 200, "calories": "30.50", "protein": "1.00", "fat": "1.00", "carbohydrates": "4.00"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);

        // 5. The diary.
        let (s, diary) = call(&app, Method::GET, "/api/v1/meals/?date=2026-01-12", None).await;
        assert_eq!(s, StatusCode::OK, "{diary}");
        assert_eq!(
            keys(&diary),
            set(&["date", "daily_goal", "total_consumed", "progress", "meals"])
        );
        assert_eq!(diary["total_consumed"]["calories"], 195.5);
        assert_eq!(diary["progress"]["calories"], 9.0, "195.5 of 2176 kcal");
        let m = &diary["meals"][0];
        for k in [
            "id",
            "date",
            "created_at",
            "meal_type",
            "meal_type_display",
            "status",
            "status_display",
            "items",
            "photos",
            "total",
            "photo_url",
            "photo_count",
            "has_success",
            "is_processing",
            "latest_photo_status",
            "photos_count",
            "latest_failed_photo_id",
        ] {
            assert!(m.get(k).is_some(), "meal lacks {k}: {m}");
        }
        assert_eq!(m["meal_type_display"], "Завтрак");
        assert_eq!(m["items"].as_array().map(Vec::len), Some(2));

        // 6. Edit grams: kcal and macros rescale.
        let (s, edited) = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/meals/{meal_id}/items/{item_id}/"),
            Some(json!({"grams": 300})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{edited}");
        assert_eq!(edited["calories"], "330.00");
        assert_eq!(edited["protein"], "12.00");

        // 7. Weekly stats: averages over 7 days.
        let (s, week) = call(
            &app,
            Method::GET,
            "/api/v1/stats/weekly/?start_date=2026-01-12",
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{week}");
        assert_eq!(
            keys(&week),
            set(&["start_date", "end_date", "daily_data", "averages"])
        );
        assert_eq!(week["end_date"], "2026-01-18");
        assert_eq!(week["daily_data"].as_array().map(Vec::len), Some(7));
        assert_eq!(week["daily_data"][0]["calories"], 360.5);
        assert_eq!(week["averages"]["calories"], 51.5, "360.5 / 7");

        // 8. Delete the meal: gone from the diary.
        let (s, _) = call(
            &app,
            Method::DELETE,
            &format!("/api/v1/meals/{meal_id}/"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, diary) = call(&app, Method::GET, "/api/v1/meals/?date=2026-01-12", None).await;
        assert_eq!(diary["meals"].as_array().map(Vec::len), Some(0));
        assert_eq!(diary["total_consumed"]["calories"], 0.0);
        app.finish().await;
    }
}

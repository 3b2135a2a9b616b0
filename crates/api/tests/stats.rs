//! Weekly statistics and the range summary, driven over HTTP on every available backend.

use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};
use store::entities::{daily_goal, meal};
use testkit::TestApp;

const TG: i64 = 222_000_001;
const OTHER: i64 = 222_000_002;

async fn send(
    app: &TestApp,
    method: Method,
    tg: i64,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.send_json(method, tg, path, body).await
}

async fn get(app: &TestApp, tg: i64, path: &str) -> (StatusCode, Value) {
    send(app, Method::GET, tg, path, None).await
}

/// Creates a meal on `day` with one item of `kcal` (protein/fat/carbs = kcal/10, /20, /5).
async fn log(app: &TestApp, tg: i64, day: &str, kcal: f64) -> i64 {
    let (s, m) = send(
        app,
        Method::POST,
        tg,
        "/api/v1/meals/",
        Some(json!({"meal_type": "LUNCH", "date": day})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_i64().unwrap();
    let body = json!({
        "name": "Еда", "grams": 100, "calories": kcal,
        "protein": kcal / 10.0, "fat": kcal / 20.0, "carbohydrates": kcal / 5.0,
    });
    let (s, v) = send(
        app,
        Method::POST,
        tg,
        &format!("/api/v1/meals/{id}/items/"),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    id
}

async fn fail_meal(app: &TestApp, id: i64) {
    let m = meal::Entity::find_by_id(id)
        .one(app.db().conn())
        .await
        .unwrap()
        .unwrap();
    let mut a: meal::ActiveModel = m.into();
    a.status = Set("FAILED".into());
    a.update(app.db().conn()).await.unwrap();
}

async fn user_id(app: &TestApp, tg: i64) -> i64 {
    let (s, _) = get(app, tg, "/api/v1/meals/").await;
    assert_eq!(s, StatusCode::OK);
    store::users::find_by_telegram_id(app.db(), domain::ids::TelegramId::new(tg).unwrap())
        .await
        .unwrap()
        .unwrap()
        .user
        .id
}

fn assert_envelope(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["details"].is_object(), "{v}");
}

#[tokio::test]
async fn weekly_averages_divide_by_seven_and_skip_failed_meals() {
    for app in TestApp::all().await {
        log(&app, TG, "2026-03-02", 1000.0).await;
        log(&app, TG, "2026-03-04", 500.0).await;
        log(&app, TG, "2026-03-04", 100.0).await;
        let failed = log(&app, TG, "2026-03-04", 700.0).await;
        fail_meal(&app, failed).await;
        log(&app, TG, "2026-03-01", 999.0).await; // before the week
        log(&app, TG, "2026-03-09", 999.0).await; // day 8: after the week
        log(&app, OTHER, "2026-03-05", 999.0).await; // someone else

        let (s, w) = get(&app, TG, "/api/v1/stats/weekly/?start_date=2026-03-02").await;
        assert_eq!(s, StatusCode::OK, "{w}");
        assert_eq!(w["start_date"], "2026-03-02");
        assert_eq!(w["end_date"], "2026-03-08");
        let days = w["daily_data"].as_array().unwrap();
        assert_eq!(days.len(), 7);
        assert_eq!(
            days[0],
            json!({"date": "2026-03-02", "calories": 1000.0, "protein": 100.0, "fat": 50.0, "carbs": 200.0})
        );
        assert_eq!(days[1]["calories"], 0.0);
        assert_eq!(days[2]["date"], "2026-03-04");
        assert_eq!(days[2]["calories"], 600.0, "FAILED meal excluded");
        assert_eq!(days[6]["date"], "2026-03-08");
        assert_eq!(days[6]["calories"], 0.0);
        // (1000 + 600) / 7 = 228.571… → 228.6 (divisor 7, not the 2 logged days).
        assert_eq!(
            w["averages"],
            json!({"calories": 228.6, "protein": 22.9, "fat": 11.4, "carbs": 45.7})
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn weekly_parameter_errors_use_the_general_envelope() {
    for app in TestApp::all().await {
        let (s, v) = get(&app, TG, "/api/v1/stats/weekly/").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        assert_eq!(v["error"]["message"], "start_date parameter is required");
        let (s, v) = get(&app, TG, "/api/v1/stats/weekly/?start_date=04.03.2026").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        assert_eq!(v["error"]["message"], "Invalid date format. Use YYYY-MM-DD");
        let resp = app
            .client
            .get(app.url("/api/v1/stats/weekly/?start_date=2026-03-04"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

#[tokio::test]
async fn range_summary_reports_goal_adherence_and_logged_days() {
    for app in TestApp::all().await {
        let uid = user_id(&app, TG).await;
        let now = app.state.now();
        daily_goal::ActiveModel {
            user_id: Set(uid),
            calories: Set(2000),
            protein: Set(100.0),
            fat: Set(70.0),
            carbohydrates: Set(250.0),
            source: Set("MANUAL".into()),
            is_active: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(app.db().conn())
        .await
        .unwrap();
        log(&app, TG, "2026-03-01", 1900.0).await; // on goal (±10 %)
        log(&app, TG, "2026-03-02", 2500.0).await; // over
        let failed = log(&app, TG, "2026-03-03", 2000.0).await;
        fail_meal(&app, failed).await;

        let (s, r) = get(
            &app,
            TG,
            "/api/v1/stats/range/?from=2026-03-01&to=2026-03-07",
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{r}");
        assert_eq!(r["from"], "2026-03-01");
        assert_eq!(r["to"], "2026-03-07");
        assert_eq!(r["days"].as_array().unwrap().len(), 7);
        assert_eq!(
            r["goal"],
            json!({"calories": 2000, "protein": 100.0, "fat": 70.0, "carbohydrates": 250.0})
        );
        assert_eq!(r["days_logged"], 2);
        assert_eq!(r["days_on_goal"], 1);
        assert_eq!(r["adherence_percent"], 50.0);
        assert_eq!(r["total"]["calories"], 4400.0);
        assert_eq!(r["average_per_logged_day"]["calories"], 2200.0);
        let d0 = &r["days"][0];
        assert_eq!(d0["date"], "2026-03-01");
        assert_eq!(d0["totals"]["calories"], 1900.0);
        assert_eq!(d0["progress"]["calories"], 95.0);
        assert_eq!(d0["on_goal"], true);
        assert_eq!(d0["logged"], true);
        assert_eq!(r["days"][2]["logged"], false, "FAILED meal not counted");
        assert_eq!(r["days"][2]["on_goal"], Value::Null);

        // Without a goal there is no adherence.
        let (_, o) = get(
            &app,
            OTHER,
            "/api/v1/stats/range/?from=2026-03-01&to=2026-03-01",
        )
        .await;
        assert_eq!(o["goal"], Value::Null);
        assert_eq!(o["adherence_percent"], Value::Null);
        assert_eq!(o["days_logged"], 0);

        for (q, msg) in [
            ("from=2026-03-01", "Параметры from и to обязательны"),
            (
                "from=2026-03-01&to=01.03.2026",
                "Невалидный формат даты. Используйте YYYY-MM-DD",
            ),
            (
                "from=2026-03-07&to=2026-03-01",
                "Дата окончания раньше даты начала",
            ),
            (
                "from=2025-03-01&to=2026-03-07",
                "Период не может быть длиннее 366 дней",
            ),
        ] {
            let (s, v) = get(&app, TG, &format!("/api/v1/stats/range/?{q}")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
            assert_envelope(&v, "BAD_REQUEST");
            assert_eq!(v["error"]["message"], msg, "{q}");
        }
        // 366 days is allowed.
        let (s, r) = get(
            &app,
            TG,
            "/api/v1/stats/range/?from=2025-03-08&to=2026-03-08",
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(r["days"].as_array().unwrap().len(), 366);
        app.finish().await;
    }
}

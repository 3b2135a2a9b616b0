//! Meals, food items, the diary, quick add, copies, recent foods and the CSV export, driven over
//! HTTP on every available backend.

use chrono::{TimeZone, Utc};
use domain::clock::Clock;
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use store::entities::{daily_goal, food_item, meal, meal_photo, profile};
use testkit::TestApp;

const TG: i64 = 111_000_001;
const OTHER: i64 = 111_000_002;
/// The default test clock is 2026-03-10 09:00 UTC (12:00 in Moscow).
const TODAY: &str = "2026-03-10";

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

async fn post(app: &TestApp, tg: i64, path: &str, body: Value) -> (StatusCode, Value) {
    send(app, Method::POST, tg, path, Some(body)).await
}

async fn patch(app: &TestApp, tg: i64, path: &str, body: Value) -> (StatusCode, Value) {
    send(app, Method::PATCH, tg, path, Some(body)).await
}

/// Provisions the user (one authenticated request) and returns their user id.
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

async fn create_meal(app: &TestApp, tg: i64, meal_type: &str, day: &str) -> i64 {
    let (s, v) = post(
        app,
        tg,
        "/api/v1/meals/",
        json!({"meal_type": meal_type, "date": day}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn add_item(app: &TestApp, tg: i64, meal_id: i64, body: Value) -> Value {
    let (s, v) = post(app, tg, &format!("/api/v1/meals/{meal_id}/items/"), body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

fn chicken() -> Value {
    json!({"name": "Куриная грудка", "grams": 150, "calories": "195.50", "protein": 31.5, "fat": "4.20", "carbohydrates": 0})
}

async fn insert_goal(app: &TestApp, uid: i64, calories: i32) {
    let now = app.clock.now();
    daily_goal::ActiveModel {
        user_id: Set(uid),
        calories: Set(calories),
        protein: Set(150.0),
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
}

async fn insert_photo(app: &TestApp, meal_id: i64, status: &str, image: &str) -> i64 {
    let now = app.clock.now();
    meal_photo::ActiveModel {
        meal_id: Set(meal_id),
        image: Set(image.to_string()),
        status: Set(status.to_string()),
        error_code: Set((status == "FAILED").then(|| "UPSTREAM_TIMEOUT".to_string())),
        error_message: Set((status == "FAILED").then(|| "Сервис не ответил".to_string())),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(app.db().conn())
    .await
    .unwrap()
    .id
}

async fn set_meal_status(app: &TestApp, meal_id: i64, status: &str) {
    let m = meal::Entity::find_by_id(meal_id)
        .one(app.db().conn())
        .await
        .unwrap()
        .unwrap();
    let mut a: meal::ActiveModel = m.into();
    a.status = Set(status.to_string());
    a.update(app.db().conn()).await.unwrap();
}

async fn set_timezone(app: &TestApp, uid: i64, tz: &str) {
    let p = profile::Entity::find()
        .filter(profile::Column::UserId.eq(uid))
        .one(app.db().conn())
        .await
        .unwrap()
        .unwrap();
    let mut a: profile::ActiveModel = p.into();
    a.timezone = Set(tz.to_string());
    a.update(app.db().conn()).await.unwrap();
}

fn assert_envelope(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["details"].is_object(), "{v}");
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn diary_shows_progress_against_the_goal() {
    for app in TestApp::all().await {
        let uid = user_id(&app, TG).await;
        insert_goal(&app, uid, 2100).await;
        let meal_id = create_meal(&app, TG, "BREAKFAST", TODAY).await;
        let item = add_item(&app, TG, meal_id, chicken()).await;
        assert_eq!(item["calories"], "195.50");
        assert_eq!(item["protein"], "31.50");
        assert_eq!(item["carbohydrates"], "0.00");
        assert_eq!(item["grams"], 150);
        assert_eq!(item["photo"], Value::Null);

        let (s, d) = get(&app, TG, &format!("/api/v1/meals/?date={TODAY}")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(d["date"], TODAY);
        assert_eq!(d["daily_goal"]["calories"], 2100);
        assert_eq!(d["daily_goal"]["protein"], "150.00");
        assert_eq!(
            d["total_consumed"],
            json!({"calories": 195.5, "protein": 31.5, "fat": 4.2, "carbohydrates": 0.0})
        );
        assert_eq!(d["progress"]["calories"], 9.3);
        assert_eq!(d["progress"]["protein"], 21.0);
        assert_eq!(d["progress"]["fat"], 6.0);
        let m = &d["meals"][0];
        assert_eq!(m["id"], meal_id);
        assert_eq!(m["meal_type"], "BREAKFAST");
        assert_eq!(m["meal_type_display"], "Завтрак");
        assert_eq!(m["status"], "DRAFT");
        assert_eq!(m["status_display"], "Черновик");
        assert_eq!(m["total"]["calories"], 195.5);
        assert_eq!(m["items"][0]["name"], "Куриная грудка");
        assert_eq!(m["photos"], json!([]));
        assert_eq!(m["photo_url"], Value::Null);
        assert_eq!(m["photo_count"], 0);
        assert_eq!(m["has_success"], false);
        assert_eq!(m["is_processing"], false);
        assert_eq!(m["latest_photo_status"], Value::Null);
        assert_eq!(m["photos_count"], 0);
        assert_eq!(m["latest_failed_photo_id"], Value::Null);

        // Without a goal: goal null, progress all zero.
        let (_, d) = get(&app, OTHER, &format!("/api/v1/meals/?date={TODAY}")).await;
        assert_eq!(d["daily_goal"], Value::Null);
        assert_eq!(
            d["progress"],
            json!({"calories": 0.0, "protein": 0.0, "fat": 0.0, "carbohydrates": 0.0})
        );
        assert_eq!(d["meals"], json!([]));
        app.finish().await;
    }
}

/// A diary GET with this exact initData: status, body and the statements it ran.
async fn diary_with(app: &TestApp, init: &str, day: &str) -> (StatusCode, Value, u64) {
    let before = app.db().statement_count();
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/meals/?date={day}")))
        .header("X-Telegram-Init-Data", init)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    (status, body, app.db().statement_count() - before)
}

#[tokio::test]
async fn the_diary_reuses_a_verified_identity_for_a_few_seconds_and_no_longer() {
    let ttl = api::identity::TTL_SECS;
    for app in TestApp::all().await {
        let m = create_meal(&app, TG, "LUNCH", TODAY).await;
        add_item(&app, TG, m, chicken()).await;
        let mine = app.init_data(TG);
        let (s, first, n) = diary_with(&app, &mine, TODAY).await;
        assert_eq!(s, StatusCode::OK, "{first}");
        assert_eq!(first["meals"].as_array().unwrap().len(), 1);
        assert_eq!(n, 2, "first sight: account lookup + document");
        let (_, again, n) = diary_with(&app, &mine, TODAY).await;
        assert_eq!((again.clone(), n), (first.clone(), 1), "reused identity");

        // Another user's initData is never answered with mine.
        let theirs = app.init_data(OTHER);
        let (s, other, n) = diary_with(&app, &theirs, TODAY).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(other["meals"], json!([]));
        assert!(
            n > 2,
            "a new user is looked up and provisioned ({n} statements)"
        );
        let (_, other_again, n) = diary_with(&app, &theirs, TODAY).await;
        assert_eq!((other_again, n), (other, 1));
        let (_, mine_again, _) = diary_with(&app, &mine, TODAY).await;
        assert_eq!(mine_again, first);

        // Past the TTL the same initData is looked up again.
        app.clock.advance(chrono::Duration::seconds(ttl));
        let (_, late, n) = diary_with(&app, &mine, TODAY).await;
        assert_eq!((late, n), (first.clone(), 2));

        // The cache never outlives the initData: signed 24 h minus 2 s ago, it is accepted now
        // and refused 3 s later, although the TTL has not run out.
        let now = app.clock.now();
        let old = app.init_data_at(
            TG,
            now - chrono::Duration::seconds(domain::init_data::USER_MAX_AGE_SECS - 2),
        );
        let (s, _, _) = diary_with(&app, &old, TODAY).await;
        assert_eq!(s, StatusCode::OK);
        app.clock.advance(chrono::Duration::seconds(3));
        let (s, v, _) = diary_with(&app, &old, TODAY).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

        // Deleting the account forgets its identity at once: the next diary with the same
        // initData looks the account up again (and provisions a new, empty one).
        let mine = app.init_data(TG);
        diary_with(&app, &mine, TODAY).await;
        let (_, _, n) = diary_with(&app, &mine, TODAY).await;
        assert_eq!(n, 1);
        let resp = app
            .client
            .delete(app.url("/api/v1/users/profile/delete/"))
            .header("X-Telegram-Init-Data", &mine)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        let (s, after, n) = diary_with(&app, &mine, TODAY).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(after["meals"], json!([]));
        assert!(
            n >= 2,
            "looked up again after the deletion ({n} statements)"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn diary_runs_a_constant_number_of_statements() {
    for app in TestApp::all().await {
        let uid = user_id(&app, TG).await;
        insert_goal(&app, uid, 2000).await;
        let one = create_meal(&app, TG, "LUNCH", "2026-03-01").await;
        add_item(&app, TG, one, chicken()).await;
        insert_photo(&app, one, "SUCCESS", "meals/a.jpg").await;
        for i in 0..8 {
            let id = create_meal(&app, TG, "SNACK", "2026-03-02").await;
            add_item(&app, TG, id, chicken()).await;
            add_item(&app, TG, id, json!({"name": format!("x{i}"), "grams": 10, "calories": 1, "protein": 0, "fat": 0, "carbohydrates": 0})).await;
            insert_photo(&app, id, "SUCCESS", "meals/b.jpg").await;
            insert_photo(&app, id, "FAILED", "meals/c.jpg").await;
        }
        let measure = |path: String| {
            let app = &app;
            async move {
                let before = app.db().statement_count();
                let (s, v) = get(app, TG, &path).await;
                assert_eq!(s, StatusCode::OK);
                (app.db().statement_count() - before, v)
            }
        };
        // Each measured with fresh initData (the clock moves past the identity cache's TTL), so
        // both include the account lookup.
        let ttl = chrono::Duration::seconds(api::identity::TTL_SECS + 1);
        app.clock.advance(ttl);
        let (d1, v1) = measure("/api/v1/meals/?date=2026-03-01".into()).await;
        app.clock.advance(ttl);
        let (d8, v8) = measure("/api/v1/meals/?date=2026-03-02".into()).await;
        assert_eq!(v1["meals"].as_array().unwrap().len(), 1);
        assert_eq!(v8["meals"].as_array().unwrap().len(), 8);
        assert_eq!(d1, d8, "the diary must not run a statement per meal");
        assert_eq!(
            d1, 2,
            "the diary is the account lookup plus one document statement"
        );
        // The same initData again within the TTL: the document statement alone.
        let (again, v8_again) = measure("/api/v1/meals/?date=2026-03-02".into()).await;
        assert_eq!(again, 1, "the verified identity is reused");
        assert_eq!(v8_again, v8);
        // The list too.
        let (l1, _) = measure("/api/v1/meals/".into()).await;
        for _ in 0..3 {
            let id = create_meal(&app, TG, "SNACK", "2026-03-03").await;
            add_item(&app, TG, id, chicken()).await;
        }
        let (l2, _) = measure("/api/v1/meals/".into()).await;
        assert_eq!(l1, l2);
        app.finish().await;
    }
}

#[tokio::test]
async fn failed_meals_are_hidden_and_only_success_photos_are_listed() {
    for app in TestApp::all().await {
        user_id(&app, TG).await;
        let ok = create_meal(&app, TG, "LUNCH", TODAY).await;
        add_item(&app, TG, ok, chicken()).await;
        let s1 = insert_photo(&app, ok, "SUCCESS", "meals/s1.jpg").await;
        let _c = insert_photo(&app, ok, "CANCELLED", "meals/c.jpg").await;
        let f = insert_photo(&app, ok, "FAILED", "meals/f.jpg").await;
        let _p = insert_photo(&app, ok, "PENDING", "meals/p.jpg").await;
        set_meal_status(&app, ok, "PROCESSING").await;
        let failed = create_meal(&app, TG, "DINNER", TODAY).await;
        add_item(&app, TG, failed, chicken()).await;
        insert_photo(&app, failed, "CANCELLED", "meals/x.jpg").await;
        set_meal_status(&app, failed, "FAILED").await;

        let (_, d) = get(&app, TG, &format!("/api/v1/meals/?date={TODAY}")).await;
        let meals = d["meals"].as_array().unwrap();
        assert_eq!(meals.len(), 1, "FAILED meal hidden");
        assert_eq!(
            d["total_consumed"]["calories"], 195.5,
            "FAILED meal not counted"
        );
        let m = &meals[0];
        assert_eq!(m["status"], "PROCESSING");
        assert_eq!(m["status_display"], "Обработка");
        let photos = m["photos"].as_array().unwrap();
        assert_eq!(photos.len(), 1);
        assert_eq!(photos[0]["id"], s1);
        assert_eq!(photos[0]["image_url"], "/media/meals/s1.jpg");
        assert_eq!(photos[0]["status"], "SUCCESS");
        assert_eq!(photos[0]["status_display"], "Успешно");
        assert_eq!(photos[0]["error_code"], Value::Null);
        assert!(photos[0]["created_at"].as_str().unwrap().ends_with("+0300"));
        assert_eq!(m["photo_url"], "/media/meals/s1.jpg");
        assert_eq!(m["photo_count"], 1);
        assert_eq!(m["has_success"], true);
        assert_eq!(m["is_processing"], true);
        assert_eq!(m["latest_photo_status"], "PENDING");
        assert_eq!(m["photos_count"], 4);
        assert_eq!(m["latest_failed_photo_id"], f);

        // The list hides it too; the detail shows it.
        let (_, l) = get(&app, TG, "/api/v1/meals/").await;
        assert_eq!(l["count"], 1);
        let (s, m) = get(&app, TG, &format!("/api/v1/meals/{failed}/")).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(m["status"], "FAILED");
        assert_eq!(m["photos"], json!([]));
        assert_eq!(m["photos_count"], 1);
        assert_eq!(m["latest_photo_status"], "CANCELLED");
        app.finish().await;
    }
}

#[tokio::test]
async fn bad_dates_and_pages_use_the_general_envelope() {
    for app in TestApp::all().await {
        let (s, v) = get(&app, TG, "/api/v1/meals/?date=12.03.2026").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        assert_eq!(
            v["error"]["message"],
            "Невалидный формат даты. Используйте YYYY-MM-DD"
        );
        let (s, v) = get(&app, TG, "/api/v1/meals/?date=2026-02-30").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        let (s, v) = get(&app, TG, "/api/v1/meals/?page=abc").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_envelope(&v, "NOT_FOUND");
        assert_eq!(v["error"]["message"], "Неправильная страница");
        let (s, _) = get(&app, TG, "/api/v1/meals/?page=2").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Unauthenticated.
        let resp = app
            .client
            .get(app.url("/api/v1/meals/?date=2026-03-10"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

#[tokio::test]
async fn the_list_is_paginated_by_twenty_newest_first() {
    for app in TestApp::all().await {
        user_id(&app, TG).await;
        let mut ids = Vec::new();
        for d in 1..=21 {
            ids.push(create_meal(&app, TG, "SNACK", &format!("2026-02-{d:02}")).await);
        }
        let (s, p1) = get(&app, TG, "/api/v1/meals/").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(p1["count"], 21);
        assert_eq!(p1["results"].as_array().unwrap().len(), 20);
        assert_eq!(p1["results"][0]["date"], "2026-02-21");
        assert_eq!(p1["previous"], Value::Null);
        assert!(
            p1["next"]
                .as_str()
                .unwrap()
                .ends_with("/api/v1/meals/?page=2"),
            "{}",
            p1["next"]
        );
        let (_, p2) = get(&app, TG, "/api/v1/meals/?page=2").await;
        assert_eq!(p2["results"].as_array().unwrap().len(), 1);
        assert_eq!(p2["results"][0]["id"], ids[0]);
        assert_eq!(p2["next"], Value::Null);
        assert!(p2["previous"].as_str().unwrap().ends_with("/api/v1/meals/"));
        let (s, _) = get(&app, TG, "/api/v1/meals/?page=3").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // Another user sees nothing.
        let (_, o) = get(&app, OTHER, "/api/v1/meals/").await;
        assert_eq!(
            o,
            json!({"count": 0, "next": null, "previous": null, "results": []})
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn creating_a_meal_validates_type_and_date() {
    for app in TestApp::all().await {
        let (s, v) = post(&app, TG, "/api/v1/meals/", json!({})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "VALIDATION_ERROR");
        assert_eq!(v["error"]["details"]["meal_type"][0], "Обязательное поле.");
        assert_eq!(v["error"]["details"]["date"][0], "Обязательное поле.");
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/",
            json!({"meal_type": "BRUNCH", "date": TODAY}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["message"],
            "meal_type: Значения BRUNCH нет среди допустимых вариантов."
        );
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/",
            json!({"meal_type": "LUNCH", "date": "2026-03-11"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["date"][0],
            "Дата не может быть в будущем"
        );
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/",
            json!({"meal_type": "LUNCH", "date": TODAY}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "{v}");
        assert_eq!(v["meal_type"], "LUNCH");
        assert_eq!(v["date"], TODAY);
        assert_eq!(v["created_at"], "2026-03-10T12:00:00+0300");
        app.finish().await;
    }
}

#[tokio::test]
async fn vladivostok_user_logs_their_own_today_after_local_midnight() {
    for app in TestApp::all().await {
        let uid = user_id(&app, TG).await;
        set_timezone(&app, uid, "Asia/Vladivostok").await;
        user_id(&app, OTHER).await; // a Moscow user
        // 00:30 on 2026-03-10 in Vladivostok = 14:30 UTC on 2026-03-09 (17:30 in Moscow).
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 9, 14, 30, 0).unwrap());
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/",
            json!({"meal_type": "BREAKFAST", "date": "2026-03-10"}),
        )
        .await;
        assert_eq!(
            s,
            StatusCode::CREATED,
            "the user's local today is not the future: {v}"
        );
        let id = v["id"].as_i64().unwrap();
        let (_, d) = get(&app, TG, "/api/v1/meals/?date=2026-03-10").await;
        assert_eq!(d["meals"][0]["id"], id);
        // Tomorrow in Vladivostok is still the future.
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/",
            json!({"meal_type": "LUNCH", "date": "2026-03-11"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["date"][0],
            "Дата не может быть в будущем"
        );
        // For a Moscow user at the same instant, 2026-03-10 is the future.
        let (s, _) = post(
            &app,
            OTHER,
            "/api/v1/meals/",
            json!({"meal_type": "LUNCH", "date": "2026-03-10"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        app.finish().await;
    }
}

#[tokio::test]
async fn meals_are_owner_scoped_and_editable() {
    for app in TestApp::all().await {
        user_id(&app, OTHER).await;
        let id = create_meal(&app, TG, "LUNCH", TODAY).await;
        let item = add_item(&app, TG, id, chicken()).await;
        let item_id = item["id"].as_i64().unwrap();
        for (m, path) in [
            (Method::GET, format!("/api/v1/meals/{id}/")),
            (Method::PATCH, format!("/api/v1/meals/{id}/")),
            (Method::DELETE, format!("/api/v1/meals/{id}/")),
            (Method::GET, format!("/api/v1/meals/{id}/items/{item_id}/")),
            (
                Method::DELETE,
                format!("/api/v1/meals/{id}/items/{item_id}/"),
            ),
            (Method::POST, format!("/api/v1/meals/{id}/items/")),
            (Method::POST, format!("/api/v1/meals/{id}/copy/")),
            (Method::GET, "/api/v1/meals/999999/".to_string()),
            (Method::GET, "/api/v1/meals/abc/".to_string()),
        ] {
            let body = if m == Method::GET || m == Method::DELETE {
                None
            } else if path.ends_with("/items/") {
                Some(chicken())
            } else {
                Some(json!({"date": TODAY}))
            };
            let (s, v) = send(&app, m.clone(), OTHER, &path, body).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{m} {path}: {v}");
            assert_envelope(&v, "NOT_FOUND");
        }
        // PATCH: rename and change type; status is ignored.
        let (s, v) = patch(
            &app,
            TG,
            &format!("/api/v1/meals/{id}/"),
            json!({"name": "  Обед в кафе ", "meal_type": "DINNER", "status": "COMPLETE"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["name"], "Обед в кафе");
        assert_eq!(v["meal_type"], "DINNER");
        assert_eq!(v["meal_type_display"], "Ужин");
        assert_eq!(v["status"], "DRAFT");
        assert_eq!(v["items"][0]["id"], item_id);
        // PATCH into the future is refused; PUT needs both fields.
        let (s, v) = patch(
            &app,
            TG,
            &format!("/api/v1/meals/{id}/"),
            json!({"date": "2026-03-11"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["message"], "date: Дата не может быть в будущем");
        let (s, v) = send(
            &app,
            Method::PUT,
            TG,
            &format!("/api/v1/meals/{id}/"),
            Some(json!({"meal_type": "SNACK"})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["details"]["date"][0], "Обязательное поле.");
        let (s, v) = send(
            &app,
            Method::PUT,
            TG,
            &format!("/api/v1/meals/{id}/"),
            Some(json!({"meal_type": "SNACK", "date": "2026-03-09"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (
                v["meal_type"].as_str(),
                v["date"].as_str(),
                v["name"].as_str()
            ),
            (Some("SNACK"), Some("2026-03-09"), Some("Обед в кафе"))
        );
        let (s, v) = patch(
            &app,
            TG,
            &format!("/api/v1/meals/{id}/"),
            json!({"name": null}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["name"], Value::Null);
        app.finish().await;
    }
}

#[tokio::test]
async fn deleting_a_meal_deletes_its_photo_files() {
    for app in TestApp::all().await {
        let id = create_meal(&app, TG, "LUNCH", TODAY).await;
        add_item(&app, TG, id, chicken()).await;
        let k1 = app
            .media()
            .put_new("meals", "jpg", vec![0xFF, 0xD8, 0xFF, 1, 2, 3])
            .await
            .unwrap();
        let k2 = app
            .media()
            .put_new("meals", "jpg", vec![0xFF, 0xD8, 0xFF, 4, 5, 6])
            .await
            .unwrap();
        insert_photo(&app, id, "SUCCESS", &k1).await;
        insert_photo(&app, id, "FAILED", &k2).await;
        let keep = app
            .media()
            .put_new("meals", "jpg", vec![0xFF, 0xD8, 0xFF, 7])
            .await
            .unwrap();
        let other = create_meal(&app, TG, "DINNER", TODAY).await;
        insert_photo(&app, other, "SUCCESS", &keep).await;
        assert!(app.media().exists(&k1).await.unwrap());

        let (s, v) = send(
            &app,
            Method::DELETE,
            TG,
            &format!("/api/v1/meals/{id}/"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(v, Value::Null);
        assert!(!app.media().exists(&k1).await.unwrap());
        assert!(!app.media().exists(&k2).await.unwrap());
        assert!(
            app.media().exists(&keep).await.unwrap(),
            "another meal's file stays"
        );
        let conn = app.db().conn();
        assert_eq!(
            meal_photo::Entity::find()
                .filter(meal_photo::Column::MealId.eq(id))
                .count(conn)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            food_item::Entity::find()
                .filter(food_item::Column::MealId.eq(id))
                .count(conn)
                .await
                .unwrap(),
            0
        );
        let (s, _) = get(&app, TG, &format!("/api/v1/meals/{id}/")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = send(
            &app,
            Method::DELETE,
            TG,
            &format!("/api/v1/meals/{id}/"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.finish().await;
    }
}

#[tokio::test]
async fn item_validation() {
    for app in TestApp::all().await {
        let id = create_meal(&app, TG, "LUNCH", TODAY).await;
        let path = format!("/api/v1/meals/{id}/items/");
        let cases = [
            (
                json!({"grams": 100, "calories": 1, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "name",
                "Обязательное поле.",
            ),
            (
                json!({"name": "   ", "grams": 100, "calories": 1, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "name",
                "Это поле не может быть пустым.",
            ),
            (
                json!({"name": "x".repeat(256), "grams": 100, "calories": 1, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "name",
                "Убедитесь, что это значение содержит не более 255 символов.",
            ),
            (
                json!({"name": "a", "grams": 0, "calories": 1, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "grams",
                "Вес порции должен быть от 1 до 10000 г",
            ),
            (
                json!({"name": "a", "grams": 1.5, "calories": 1, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "grams",
                "Введите правильное число.",
            ),
            (
                json!({"name": "a", "grams": 10, "calories": 1.234, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "calories",
                "Убедитесь, что в числе не больше 2 знаков в дробной части.",
            ),
            (
                json!({"name": "a", "grams": 10, "calories": 1, "protein": -1, "fat": 1, "carbohydrates": 1}),
                "protein",
                "Убедитесь, что это значение больше либо равно 0.",
            ),
            (
                json!({"name": "a", "grams": 10, "calories": 100000, "protein": 1, "fat": 1, "carbohydrates": 1}),
                "calories",
                "Убедитесь, что это значение меньше либо равно 99999.99.",
            ),
            (
                json!({"name": "a", "grams": 10, "calories": 1, "protein": 1, "fat": null, "carbohydrates": 1}),
                "fat",
                "Это поле не может быть null.",
            ),
            (
                json!({"name": "a", "grams": 10, "calories": "abc", "protein": 1, "fat": 1, "carbohydrates": 1}),
                "calories",
                "Требуется численное значение.",
            ),
        ];
        for (body, field, msg) in cases {
            let (s, v) = post(&app, TG, &path, body.clone()).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
            assert_envelope(&v, "VALIDATION_ERROR");
            assert_eq!(v["error"]["details"][field][0], msg, "{body}: {v}");
        }
        let resp = app
            .request_as(Method::POST, TG, &path)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_envelope(&resp.json().await.unwrap(), "BAD_REQUEST");
        app.finish().await;
    }
}

#[tokio::test]
async fn editing_grams_rescales_unless_values_are_sent() {
    for app in TestApp::all().await {
        let id = create_meal(&app, TG, "LUNCH", TODAY).await;
        let item = add_item(&app, TG, id, chicken()).await;
        let path = format!("/api/v1/meals/{id}/items/{}/", item["id"]);
        let (s, v) = patch(&app, TG, &path, json!({"grams": 300})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["grams"], 300);
        assert_eq!(v["calories"], "391.00");
        assert_eq!(v["protein"], "63.00");
        assert_eq!(v["fat"], "8.40");
        assert_eq!(v["carbohydrates"], "0.00");
        // Sent values win over the rescaled ones.
        let (_, v) = patch(&app, TG, &path, json!({"grams": 100, "calories": 150})).await;
        assert_eq!(v["grams"], 100);
        assert_eq!(v["calories"], "150.00");
        assert_eq!(v["protein"], "21.00");
        // Renaming alone changes nothing else.
        let (_, v) = patch(&app, TG, &path, json!({"name": "Грудка"})).await;
        assert_eq!(
            (
                v["name"].as_str(),
                v["grams"].as_i64(),
                v["calories"].as_str()
            ),
            (Some("Грудка"), Some(100), Some("150.00"))
        );
        let (s, v) = get(&app, TG, &path).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["name"], "Грудка");
        // PUT needs every field.
        let (s, v) = send(
            &app,
            Method::PUT,
            TG,
            &path,
            Some(json!({"name": "a", "grams": 10})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["details"]["calories"][0], "Обязательное поле.");
        let (s, v) = send(&app, Method::PUT, TG, &path, Some(json!({"name": "Рис", "grams": 200, "calories": 260, "protein": 5.4, "fat": 0.6, "carbohydrates": 56}))).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["calories"], "260.00");
        // The diary follows.
        let (_, d) = get(&app, TG, &format!("/api/v1/meals/?date={TODAY}")).await;
        assert_eq!(d["total_consumed"]["calories"], 260.0);
        // The item is scoped to its meal.
        let other = create_meal(&app, TG, "DINNER", TODAY).await;
        let (s, _) = get(
            &app,
            TG,
            &format!("/api/v1/meals/{other}/items/{}/", item["id"]),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = send(&app, Method::DELETE, TG, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = get(&app, TG, &path).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.finish().await;
    }
}

#[tokio::test]
async fn quick_add_finds_or_creates_the_meal() {
    for app in TestApp::all().await {
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/quick-add/",
            json!({"date": TODAY, "meal_type": "SNACK", "calories": 250}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["meal_created"], true);
        assert_eq!(v["item"]["name"], "Быстрое добавление");
        assert_eq!(v["item"]["grams"], 1);
        assert_eq!(v["item"]["calories"], "250.00");
        assert_eq!(v["item"]["protein"], "0.00");
        assert_eq!(v["item"]["source"], "quick");
        assert_eq!(v["meal"]["meal_type"], "SNACK");
        let meal_id = v["meal"]["id"].as_i64().unwrap();
        let (s, v) = post(&app, TG, "/api/v1/meals/quick-add/", json!({"date": TODAY, "meal_type": "SNACK", "calories": "100.5", "protein": 3, "name": "Батончик"})).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(v["meal_created"], false);
        assert_eq!(v["meal"]["id"], meal_id);
        assert_eq!(v["meal"]["items"].as_array().unwrap().len(), 2);
        assert_eq!(v["meal"]["total"]["calories"], 350.5);
        // A quick item's grams are nominal: editing them does not rescale.
        let (_, e) = patch(
            &app,
            TG,
            &format!("/api/v1/meals/{meal_id}/items/{}/", v["item"]["id"]),
            json!({"grams": 50}),
        )
        .await;
        assert_eq!(
            (e["grams"].as_i64(), e["calories"].as_str()),
            (Some(50), Some("100.50"))
        );
        // Validation and the future-date rule.
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/quick-add/",
            json!({"date": TODAY, "meal_type": "SNACK"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["details"]["calories"][0], "Обязательное поле.");
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/quick-add/",
            json!({"date": "2026-03-11", "meal_type": "SNACK", "calories": 1}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["date"][0],
            "Дата не может быть в будущем"
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn copying_a_meal_and_a_day() {
    for app in TestApp::all().await {
        let src = create_meal(&app, TG, "BREAKFAST", "2026-03-09").await;
        add_item(&app, TG, src, chicken()).await;
        add_item(&app, TG, src, json!({"name": "Рис, варёный", "grams": 200, "calories": 260, "protein": 5.4, "fat": 0.6, "carbohydrates": 56})).await;
        insert_photo(&app, src, "SUCCESS", "meals/src.jpg").await;
        let (s, v) = post(
            &app,
            TG,
            &format!("/api/v1/meals/{src}/copy/"),
            json!({"date": TODAY}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_ne!(v["id"], src);
        assert_eq!(v["date"], TODAY);
        assert_eq!(v["meal_type"], "BREAKFAST");
        assert_eq!(v["status"], "DRAFT");
        assert_eq!(v["photos"], json!([]));
        assert_eq!(v["photos_count"], 0);
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["name"], "Куриная грудка");
        assert_eq!(items[1]["source"], "copy");
        assert_eq!(v["total"]["calories"], 455.5);
        let (s, v) = post(
            &app,
            TG,
            &format!("/api/v1/meals/{src}/copy/"),
            json!({"date": TODAY, "meal_type": "DINNER"}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(v["meal_type"], "DINNER");
        let (s, v) = post(
            &app,
            TG,
            &format!("/api/v1/meals/{src}/copy/"),
            json!({"date": "2026-03-11"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["date"][0],
            "Дата не может быть в будущем"
        );

        // Copy a day: FAILED meals stay behind.
        let failed = create_meal(&app, TG, "LUNCH", "2026-03-09").await;
        add_item(&app, TG, failed, chicken()).await;
        set_meal_status(&app, failed, "FAILED").await;
        let snack = create_meal(&app, TG, "SNACK", "2026-03-09").await;
        add_item(&app, TG, snack, json!({"name": "Яблоко", "grams": 180, "calories": 94, "protein": 0.5, "fat": 0.4, "carbohydrates": 25})).await;
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/copy-day/",
            json!({"from_date": "2026-03-09", "to_date": "2026-03-08"}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["count"], 2);
        let types: Vec<&str> = v["meals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["meal_type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["BREAKFAST", "SNACK"]);
        let (_, d) = get(&app, TG, "/api/v1/meals/?date=2026-03-08").await;
        assert_eq!(d["meals"].as_array().unwrap().len(), 2);
        assert_eq!(d["total_consumed"]["calories"], 549.5);
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/meals/copy-day/",
            json!({"from_date": "2026-03-09", "to_date": "2026-03-12"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["to_date"][0],
            "Дата не может быть в будущем"
        );
        let (_, d) = get(&app, TG, "/api/v1/meals/?date=2026-03-12").await;
        assert_eq!(d["meals"], json!([]));
        // Another user's meal cannot be copied.
        let (s, _) = post(
            &app,
            OTHER,
            &format!("/api/v1/meals/{src}/copy/"),
            json!({"date": TODAY}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        app.finish().await;
    }
}

#[tokio::test]
async fn recent_and_frequent_foods() {
    for app in TestApp::all().await {
        let m = create_meal(&app, TG, "LUNCH", "2026-03-01").await;
        let item = |name: &str, grams: i64, kcal: f64| json!({"name": name, "grams": grams, "calories": kcal, "protein": 1, "fat": 1, "carbohydrates": 1});
        // Logged 100 days ago: outside the window.
        app.clock
            .set(Utc.with_ymd_and_hms(2025, 11, 30, 9, 0, 0).unwrap());
        let old = create_meal(&app, TG, "LUNCH", "2025-11-30").await;
        add_item(&app, TG, old, item("Борщ", 300, 150.0)).await;
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 10, 8, 0, 0).unwrap());
        add_item(&app, TG, m, item("Гречка", 150, 165.0)).await;
        app.clock.advance(chrono::Duration::minutes(1));
        add_item(&app, TG, m, item("Кофе", 200, 4.0)).await;
        app.clock.advance(chrono::Duration::minutes(1));
        add_item(&app, TG, m, item("  гречка ", 200, 220.0)).await;
        app.clock.advance(chrono::Duration::minutes(1));
        add_item(&app, TG, m, item("Яблоко", 180, 94.0)).await;
        app.clock.advance(chrono::Duration::minutes(1));
        add_item(&app, TG, m, item("ГРЕЧКА", 250, 275.0)).await;
        post(
            &app,
            TG,
            "/api/v1/meals/quick-add/",
            json!({"date": "2026-03-01", "meal_type": "LUNCH", "calories": 500}),
        )
        .await;
        let before = app.db().statement_count();
        let (s, v) = get(&app, TG, "/api/v1/meals/recent-foods/").await;
        let small = app.db().statement_count() - before;
        assert_eq!(s, StatusCode::OK, "{v}");
        let names = |k: &str| {
            v[k].as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(names("recent"), ["ГРЕЧКА", "Яблоко", "Кофе"]);
        assert_eq!(names("frequent"), ["ГРЕЧКА", "Яблоко", "Кофе"]);
        assert_eq!(v["frequent"][0]["count"], 3);
        assert_eq!(v["frequent"][0]["grams"], 250);
        assert_eq!(v["frequent"][0]["calories"], 275.0);
        assert_eq!(v["recent"][0]["last_used"], "2026-03-10T11:04:00+0300");
        assert!(v["recent"][0].get("count").is_none());
        let (_, v) = get(&app, TG, "/api/v1/meals/recent-foods/?limit=1").await;
        assert_eq!(v["recent"].as_array().unwrap().len(), 1);
        assert_eq!(v["frequent"].as_array().unwrap().len(), 1);
        let (s, v) = get(&app, TG, "/api/v1/meals/recent-foods/?limit=0").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "VALIDATION_ERROR");
        // Constant statements: more meals and items change nothing.
        for i in 0..6 {
            let id = create_meal(&app, TG, "SNACK", "2026-03-02").await;
            add_item(&app, TG, id, item(&format!("Еда {i}"), 100, 100.0)).await;
        }
        let before = app.db().statement_count();
        get(&app, TG, "/api/v1/meals/recent-foods/").await;
        assert_eq!(app.db().statement_count() - before, small);
        // Another user's foods are not mine.
        let (_, v) = get(&app, OTHER, "/api/v1/meals/recent-foods/").await;
        assert_eq!(v, json!({"recent": [], "frequent": []}));
        app.finish().await;
    }
}

#[tokio::test]
async fn csv_export_quotes_fields_and_names_the_file() {
    for app in TestApp::all().await {
        let m = create_meal(&app, TG, "LUNCH", "2026-03-09").await;
        patch(
            &app,
            TG,
            &format!("/api/v1/meals/{m}/"),
            json!({"name": "Обед"}),
        )
        .await;
        add_item(&app, TG, m, json!({"name": "Суп \"Домашний\", с курицей", "grams": 300, "calories": 150.5, "protein": 9, "fat": 4.25, "carbohydrates": 18})).await;
        let b = create_meal(&app, TG, "BREAKFAST", "2026-03-01").await;
        add_item(&app, TG, b, json!({"name": "Овсянка", "grams": 250, "calories": 88, "protein": 3, "fat": 1.7, "carbohydrates": 15})).await;
        let failed = create_meal(&app, TG, "DINNER", "2026-03-05").await;
        add_item(&app, TG, failed, chicken()).await;
        set_meal_status(&app, failed, "FAILED").await;
        let outside = create_meal(&app, TG, "DINNER", "2026-02-28").await;
        add_item(&app, TG, outside, chicken()).await;

        let resp = app
            .get_as(TG, "/api/v1/meals/export.csv?from=2026-03-01&to=2026-03-10")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            resp.headers()["content-disposition"],
            "attachment; filename=\"eatfit24-2026-03-01-2026-03-10.csv\""
        );
        let body = resp.text().await.unwrap();
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "date,meal_type,meal_name,item_name,grams,calories,protein,fat,carbohydrates,source",
                "2026-03-01,BREAKFAST,,Овсянка,250,88.00,3.00,1.70,15.00,manual",
                "2026-03-09,LUNCH,Обед,\"Суп \"\"Домашний\"\", с курицей\",300,150.50,9.00,4.25,18.00,manual",
                "",
            ]
        );
        let (s, v) = get(
            &app,
            TG,
            "/api/v1/meals/export.csv?from=2025-01-01&to=2026-03-10",
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        assert_eq!(
            v["error"]["message"],
            "Период не может быть длиннее 366 дней"
        );
        let (s, v) = get(&app, TG, "/api/v1/meals/export.csv?from=2026-03-10").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        let (s, _) = get(
            &app,
            TG,
            "/api/v1/meals/export.csv?from=2026-03-10&to=2026-03-01",
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        app.finish().await;
    }
}

/// A JSON snapshot with ids and timestamps redacted.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".**.id" => "[id]",
            ".**.created_at" => "[timestamp]",
            ".**.updated_at" => "[timestamp]",
        })
    };
}

/// The original Mini App's sequence for these endpoints, with the response shapes pinned.
#[tokio::test]
async fn mini_app_call_sequence_shapes() {
    for app in TestApp::all().await {
        // auth
        let resp = app
            .client
            .post(app.url("/api/v1/telegram/auth/"))
            .header("X-Telegram-Init-Data", app.init_data(TG))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let uid = user_id(&app, TG).await;
        insert_goal(&app, uid, 2100).await;
        // create meal
        let (s, created) = post(
            &app,
            TG,
            "/api/v1/meals/",
            json!({"meal_type": "LUNCH", "date": TODAY}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        snap!("create_meal", created);
        let meal_id = created["id"].as_i64().unwrap();
        // add items
        let item = add_item(&app, TG, meal_id, chicken()).await;
        snap!("add_item", item);
        add_item(&app, TG, meal_id, json!({"name": "Гречка", "grams": 200, "calories": 220, "protein": 8.4, "fat": 2.2, "carbohydrates": 42.6})).await;
        // diary
        let (_, diary) = get(&app, TG, &format!("/api/v1/meals/?date={TODAY}")).await;
        snap!("diary", diary);
        // edit grams (the Mini App sends {name, grams})
        let (_, edited) = patch(
            &app,
            TG,
            &format!("/api/v1/meals/{meal_id}/items/{}/", item["id"]),
            json!({"name": "Куриная грудка", "grams": 300}),
        )
        .await;
        snap!("edit_item_grams", edited);
        // meal details
        let (_, details) = get(&app, TG, &format!("/api/v1/meals/{meal_id}/")).await;
        snap!("meal_details", details);
        // weekly stats
        let (s, weekly) = get(&app, TG, "/api/v1/stats/weekly/?start_date=2026-03-04").await;
        assert_eq!(s, StatusCode::OK);
        snap!("weekly_stats", weekly);
        // delete
        let (s, _) = send(
            &app,
            Method::DELETE,
            TG,
            &format!("/api/v1/meals/{meal_id}/"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, after) = get(&app, TG, &format!("/api/v1/meals/?date={TODAY}")).await;
        assert_eq!(after["meals"], json!([]));
        assert_eq!(after["total_consumed"]["calories"], 0.0);
        app.finish().await;
    }
}

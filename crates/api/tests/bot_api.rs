//! The bot's endpoints through HTTP, on every backend: the secret, users, the survey with its
//! validation, plans (idempotency and the user-local daily limit), count-today and save-test.

use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::app::ADMIN_TG_ID;
use testkit::{BOT_SECRET, TestApp};

const GET_OR_CREATE: &str = "/api/v1/telegram/users/get-or-create/";
const SURVEY: &str = "/api/v1/telegram/personal-plan/survey/";
const PLAN: &str = "/api/v1/telegram/personal-plan/plan/";
const COUNT: &str = "/api/v1/telegram/personal-plan/count-today/";
const SAVE_TEST: &str = "/api/v1/telegram/save-test/";

async fn body(resp: reqwest::Response) -> (StatusCode, Value) {
    let status = resp.status();
    let v = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

fn assert_envelope(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    assert!(v["error"]["details"].is_object(), "{v}");
}

fn bot(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, app.url(path))
        .header("X-Bot-Secret", BOT_SECRET)
}

async fn get_or_create(app: &TestApp, params: &[(&str, &str)]) -> (StatusCode, Value) {
    body(
        bot(app, Method::GET, GET_OR_CREATE)
            .query(params)
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn user(app: &TestApp, tg: i64) {
    let (status, _) = get_or_create(app, &[("telegram_id", &tg.to_string())]).await;
    assert_eq!(status, StatusCode::OK);
}

fn survey_body(tg: i64, timezone: &str) -> Value {
    json!({
        "telegram_id": tg, "gender": "female", "age": 29, "height_cm": 168,
        "weight_kg": 64.5, "activity": "moderate", "training_level": "intermediate",
        "body_goals": ["tone"], "health_limitations": ["back"],
        "body_now_id": 5, "body_now_label": "Сейчас", "body_now_file": "f_now_5.jpg",
        "body_ideal_id": 3, "body_ideal_file": "f_ideal_3.jpg",
        "timezone": timezone, "utc_offset_minutes": 600
    })
}

async fn survey(app: &TestApp, tg: i64, timezone: &str) -> i64 {
    let (status, v) = body(
        bot(app, Method::POST, SURVEY)
            .json(&survey_body(tg, timezone))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn plan(
    app: &TestApp,
    tg: i64,
    survey_id: Option<i64>,
) -> (StatusCode, Value, Option<String>) {
    let resp = bot(app, Method::POST, PLAN)
        .json(&json!({
            "telegram_id": tg, "survey_id": survey_id, "ai_text": "Отлично! Вот что я могу сказать тебе: …",
            "ai_model": "test/model", "prompt_version": "v2"
        }))
        .send()
        .await
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (s, v) = body(resp).await;
    (s, v, retry)
}

async fn count_today(app: &TestApp, tg: i64) -> Value {
    let (status, v) = body(
        bot(app, Method::GET, COUNT)
            .query(&[("telegram_id", tg.to_string())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn bot_endpoints_refuse_a_missing_or_wrong_secret() {
    for app in TestApp::all().await {
        let calls: Vec<(Method, String, Value)> = vec![
            (
                Method::GET,
                format!("{GET_OR_CREATE}?telegram_id=5"),
                Value::Null,
            ),
            (Method::POST, SURVEY.into(), survey_body(5, "Europe/Moscow")),
            (
                Method::POST,
                PLAN.into(),
                json!({"telegram_id": 5, "ai_text": "x"}),
            ),
            (Method::GET, format!("{COUNT}?telegram_id=5"), Value::Null),
            (Method::POST, SAVE_TEST.into(), json!({"telegram_id": 5})),
        ];
        for (method, path, payload) in &calls {
            for secret in [None, Some("wrong-secret"), Some("")] {
                let mut req = app.client.request(method.clone(), app.url(path));
                if let Some(s) = secret {
                    req = req.header("X-Bot-Secret", s);
                }
                if !payload.is_null() {
                    req = req.json(payload);
                }
                let (status, v) = body(req.send().await.unwrap()).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} {secret:?}");
                assert_envelope(&v, "FORBIDDEN");
            }
        }
        // Nothing was created by the refused calls.
        assert_eq!(store::users::count(app.db()).await.unwrap(), 0);
        // The right secret works.
        let (status, v) = get_or_create(&app, &[("telegram_id", "5")]).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        app.finish().await;
    }
}

#[tokio::test]
async fn get_or_create_creates_once_then_finds() {
    for app in TestApp::all().await {
        let (status, v) = get_or_create(
            &app,
            &[
                ("telegram_id", "777001"),
                ("username", "olga"),
                ("full_name", "Ольга Петрова Иванова"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["created"], true);
        assert_eq!(v["telegram_id"], 777001);
        assert_eq!(v["username"], "olga");
        assert_eq!(v["first_name"], "Ольга");
        assert_eq!(v["last_name"], "Петрова Иванова");
        assert!(v["id"].as_i64().is_some() && v["user_id"].as_i64().is_some());
        let id = v["id"].clone();
        // Found again: new username taken, names kept.
        let (status, v) = get_or_create(
            &app,
            &[
                ("telegram_id", "777001"),
                ("username", "olga_new"),
                ("first_name", "Другое"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["created"], false);
        assert_eq!(v["id"], id);
        assert_eq!(v["username"], "olga_new");
        assert_eq!(v["first_name"], "Ольга");
        // first_name/last_name/language_code form.
        let (_, v) = get_or_create(
            &app,
            &[
                ("telegram_id", "777002"),
                ("first_name", "Пётр"),
                ("last_name", "Ким"),
                ("language_code", "en"),
            ],
        )
        .await;
        assert_eq!(
            (v["first_name"].as_str(), v["last_name"].as_str()),
            (Some("Пётр"), Some("Ким"))
        );
        assert_eq!(v["username"], Value::Null);
        // Bad ids (the original accepted 0 and negatives).
        for (params, msg) in [
            (vec![], "telegram_id is required"),
            (vec![("telegram_id", "abc")], "Invalid telegram_id"),
            (vec![("telegram_id", "0")], "Invalid telegram_id"),
            (vec![("telegram_id", "-5")], "Invalid telegram_id"),
        ] {
            let (status, v) = get_or_create(&app, &params).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}");
            assert_envelope(&v, "VALIDATION_ERROR");
            assert_eq!(v["error"]["details"]["telegram_id"][0], msg);
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn survey_is_stored_and_every_range_is_validated() {
    for app in TestApp::all().await {
        user(&app, 888001).await;
        let resp = bot(&app, Method::POST, SURVEY)
            .header("X-Request-ID", "survey-req-1")
            .json(&survey_body(888001, "Asia/Vladivostok"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            resp.headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok()),
            Some("survey-req-1")
        );
        let (status, v) = body(resp).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(v["gender"], "female");
        assert_eq!(v["age"], 29);
        assert_eq!(v["weight_kg"], "64.50");
        assert_eq!(v["target_weight_kg"], Value::Null);
        assert_eq!(v["timezone"], "Asia/Vladivostok");
        assert_eq!(v["utc_offset_minutes"], 600);
        assert_eq!(v["body_goals"], json!(["tone"]));
        assert_eq!(v["completed_at"], "2026-03-10T12:00:00+0300");
        assert!(v["user"].as_i64().is_some());

        let cases: Vec<(&str, Value)> = vec![
            ("telegram_id", json!(0)),
            ("gender", json!("invalid")),
            ("age", json!(13)),
            ("age", json!(81)),
            ("age", json!("old")),
            ("height_cm", json!(119)),
            ("height_cm", json!(251)),
            ("weight_kg", json!(29.5)),
            ("weight_kg", json!(300.5)),
            ("weight_kg", json!("heavy")),
            ("target_weight_kg", json!(301)),
            ("activity", json!("couch")),
            ("training_level", json!("x".repeat(33))),
            ("body_goals", json!(["ok", ""])),
            ("body_goals", json!("tone")),
            ("health_limitations", json!(vec!["x"; 21])),
            ("body_now_id", json!(6)),
            ("body_now_id", json!(0)),
            ("body_ideal_id", json!(4)),
            ("body_now_file", json!("  ")),
            ("timezone", json!("Mars/Olympus_Mons")),
            ("utc_offset_minutes", json!(841)),
            ("utc_offset_minutes", json!(-841)),
            ("utc_offset_minutes", json!(99999)),
        ];
        for (field, bad) in cases {
            let mut payload = survey_body(888001, "Europe/Moscow");
            payload[field] = bad.clone();
            let (status, v) = body(
                bot(&app, Method::POST, SURVEY)
                    .json(&payload)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{field}={bad}: {v}");
            assert_envelope(&v, "VALIDATION_ERROR");
            assert!(
                v["error"]["details"][field].is_array(),
                "{field}={bad}: {v}"
            );
            assert_eq!(v["error"]["details"].as_object().unwrap().len(), 1, "{v}");
        }
        // Required fields missing are all reported at once.
        let (status, v) = body(
            bot(&app, Method::POST, SURVEY)
                .json(&json!({"telegram_id": 888001}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        for f in [
            "gender",
            "age",
            "height_cm",
            "weight_kg",
            "activity",
            "body_now_id",
            "body_now_file",
            "body_ideal_id",
            "body_ideal_file",
            "utc_offset_minutes",
        ] {
            assert!(v["error"]["details"][f].is_array(), "{f}: {v}");
        }
        // A man's "now" body type stops at 4.
        let mut male = survey_body(888001, "Europe/Moscow");
        male["gender"] = json!("male");
        let (status, v) = body(
            bot(&app, Method::POST, SURVEY)
                .json(&male)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(v["error"]["details"]["body_now_id"].is_array());
        // Not JSON.
        let (status, v) = body(
            bot(&app, Method::POST, SURVEY)
                .body("{oops")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "BAD_REQUEST");
        // Unknown user.
        let (status, v) = body(
            bot(&app, Method::POST, SURVEY)
                .json(&survey_body(888999, "Europe/Moscow"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_envelope(&v, "NOT_FOUND");
        app.finish().await;
    }
}

#[tokio::test]
async fn a_second_plan_for_the_same_survey_returns_the_first() {
    for app in TestApp::all().await {
        user(&app, 990001).await;
        user(&app, 990002).await;
        let s = survey(&app, 990001, "Europe/Moscow").await;
        let (status, first, _) = plan(&app, 990001, Some(s)).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        assert_eq!(first["survey"], s);
        assert_eq!(first["ai_model"], "test/model");
        assert_eq!(first["prompt_version"], "v2");
        assert!(first["ai_text"].as_str().unwrap().starts_with("Отлично!"));
        let (status, again, _) = plan(&app, 990001, Some(s)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again, first);
        assert_eq!(count_today(&app, 990001).await["count"], 1);
        // Someone else's survey, an unknown survey, an unknown user.
        let (status, v, _) = plan(&app, 990002, Some(s)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_envelope(&v, "NOT_FOUND");
        let (status, _, _) = plan(&app, 990001, Some(s + 1000)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, v, _) = plan(&app, 990777, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_envelope(&v, "NOT_FOUND");
        // Validation.
        for bad in [
            json!({"telegram_id": 990001}),
            json!({"telegram_id": 990001, "ai_text": "  "}),
            json!({"telegram_id": 990001, "ai_text": "x", "ai_model": "m".repeat(101)}),
        ] {
            let (status, v) = body(
                bot(&app, Method::POST, PLAN)
                    .json(&bad)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_envelope(&v, "VALIDATION_ERROR");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn the_fourth_plan_of_a_user_local_day_is_refused_until_local_midnight() {
    for app in TestApp::all().await {
        // 2026-03-10 09:00 UTC = 19:00 in Vladivostok (UTC+10), 12:00 in Moscow.
        let tg = 991001;
        user(&app, tg).await;
        let mut surveys = Vec::new();
        for _ in 0..4 {
            surveys.push(survey(&app, tg, "Asia/Vladivostok").await);
        }
        assert_eq!(
            count_today(&app, tg).await,
            json!({"count": 0, "limit": 3, "can_create": true, "remaining": 3})
        );
        for s in &surveys[..3] {
            let (status, v, _) = plan(&app, tg, Some(*s)).await;
            assert_eq!(status, StatusCode::CREATED, "{v}");
        }
        assert_eq!(
            count_today(&app, tg).await,
            json!({"count": 3, "limit": 3, "can_create": false, "remaining": 0})
        );
        // A repeat for an already planned survey is still answered (idempotency first).
        let (status, _, _) = plan(&app, tg, Some(surveys[0])).await;
        assert_eq!(status, StatusCode::OK);
        let (status, v, retry) = plan(&app, tg, Some(surveys[3])).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
        assert_envelope(&v, "TOO_MANY_REQUESTS");
        assert_eq!(v["error"]["details"]["reason"], "DAILY_LIMIT_REACHED");
        assert_eq!(v["error"]["details"]["limit"], 3);
        assert_eq!(v["error"]["details"]["count"], 3);
        // Local midnight in Vladivostok is 14:00 UTC: five hours away.
        assert_eq!(v["error"]["details"]["retry_after_sec"], 5 * 3600);
        assert_eq!(retry.as_deref(), Some("18000"));
        let (status, _, _) = plan(&app, tg, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

        // One second before local midnight: still refused.
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 10, 13, 59, 59).unwrap());
        let (status, _, _) = plan(&app, tg, Some(surveys[3])).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        // Local midnight passed (Moscow is still on 2026-03-10 17:00): allowed again.
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 10, 14, 0, 1).unwrap());
        let (status, v, _) = plan(&app, tg, Some(surveys[3])).await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
        assert_eq!(
            count_today(&app, tg).await,
            json!({"count": 1, "limit": 3, "can_create": true, "remaining": 2})
        );

        // A Moscow user's day is Moscow's: at 20:59:59 UTC it is still the same day…
        let msk = 991002;
        user(&app, msk).await;
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 10, 18, 0, 0).unwrap());
        for _ in 0..3 {
            let (status, _, _) = plan(&app, msk, None).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 10, 20, 59, 59).unwrap());
        let (status, _, retry) = plan(&app, msk, None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry.as_deref(), Some("1"));
        // …and a new one at 21:00 UTC (midnight in Moscow).
        app.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 10, 21, 0, 0).unwrap());
        let (status, _, _) = plan(&app, msk, None).await;
        assert_eq!(status, StatusCode::CREATED);
        app.finish().await;
    }
}

#[tokio::test]
async fn count_today_validates_and_knows_unknown_users() {
    for app in TestApp::all().await {
        assert_eq!(
            count_today(&app, 424242).await,
            json!({"count": 0, "limit": 3, "can_create": true, "remaining": 3})
        );
        for (q, msg) in [
            ("", "telegram_id is required"),
            ("?telegram_id=x", "Invalid telegram_id"),
        ] {
            let (status, v) = body(
                bot(&app, Method::GET, &format!("{COUNT}{q}"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_envelope(&v, "VALIDATION_ERROR");
            assert_eq!(v["error"]["details"]["telegram_id"][0], msg);
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn save_test_makes_a_lead_that_the_coach_sees() {
    for app in TestApp::all().await {
        let answers = json!({"gender": "female", "age": 31, "weight": 70, "activity_level": "medium", "goal": "fat_loss"});
        let (status, v) = body(
            bot(&app, Method::POST, SAVE_TEST)
                .json(&json!({"telegram_id": 993001, "first_name": "Юлия", "username": "yulia", "answers": answers}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "success");
        assert_eq!(v["message"], "Данные теста сохранены");
        assert_eq!(v["created"], true);
        assert!(v["user_id"].as_i64().is_some());

        let (status, list) = body(
            app.get_as(ADMIN_TG_ID, "/api/v1/telegram/applications/")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["count"], 1);
        let item = &list["results"][0];
        assert_eq!(item["telegram_id"], 993001);
        assert_eq!(item["first_name"], "Юлия");
        assert_eq!(item["status"], "new");
        assert_eq!(item["source"], "ai_test");
        assert_eq!(item["ai_test_completed"], true);
        assert_eq!(item["details"], answers);

        // Saving again updates the answers of the same user.
        let (_, v) = body(
            bot(&app, Method::POST, SAVE_TEST)
                .json(&json!({"telegram_id": 993001, "answers": {"age": 32}}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(v["created"], false);
        let (_, list) = body(
            app.get_as(ADMIN_TG_ID, "/api/v1/telegram/applications/")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["results"][0]["details"], json!({"age": 32}));

        for (bad, field) in [
            (json!({"telegram_id": 993001, "answers": [1, 2]}), "answers"),
            (json!({"telegram_id": 993001, "answers": "yes"}), "answers"),
            (json!({"answers": {}}), "telegram_id"),
            (json!({"telegram_id": -1}), "telegram_id"),
            (
                json!({"telegram_id": 993001, "first_name": "x".repeat(256)}),
                "first_name",
            ),
        ] {
            let (status, v) = body(
                bot(&app, Method::POST, SAVE_TEST)
                    .json(&bad)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_envelope(&v, "VALIDATION_ERROR");
            assert!(v["error"]["details"][field].is_array(), "{v}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn concurrent_plan_requests_cannot_overshoot_the_daily_limit() {
    for app in TestApp::all().await {
        let tg = 994001;
        user(&app, tg).await;
        let mut surveys = Vec::new();
        for _ in 0..6 {
            surveys.push(survey(&app, tg, "Europe/Moscow").await);
        }
        // Six different surveys at once, plus a duplicate of the first.
        let mut ids = surveys.clone();
        ids.push(surveys[0]);
        let results = futures_join(&app, tg, &ids).await;
        let created = results
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let refused = results
            .iter()
            .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert!(
            results.iter().all(|s| [
                StatusCode::CREATED,
                StatusCode::OK,
                StatusCode::TOO_MANY_REQUESTS
            ]
            .contains(s)),
            "{results:?}"
        );
        assert_eq!(created, 3, "{results:?}");
        assert!(refused >= 3, "{results:?}");
        assert_eq!(count_today(&app, tg).await["count"], 3);
        app.finish().await;
    }
}

async fn futures_join(app: &TestApp, tg: i64, surveys: &[i64]) -> Vec<StatusCode> {
    let mut handles = Vec::new();
    for s in surveys {
        let req = bot(app, Method::POST, PLAN).json(&json!({
            "telegram_id": tg, "survey_id": s, "ai_text": "план"
        }));
        handles.push(tokio::spawn(
            async move { req.send().await.map(|r| r.status()) },
        ));
    }
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap());
    }
    out
}

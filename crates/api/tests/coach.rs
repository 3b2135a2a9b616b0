//! The coach panel through HTTP, on every backend: login check, access rules, the lead status
//! workflow, clients, subscribers, pagination, search and constant query counts.

use std::sync::Arc;
use std::time::Duration;

use api::{ApiSettings, AppState};
use chrono::{DateTime, TimeZone, Utc};
use domain::clock::FixedClock;
use domain::ids::TelegramId;
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use store::testing::TestDb;
use testkit::app::{ADMIN_TG_ID, signed_init_data};
use testkit::{BOT_SECRET, BOT_TOKEN, TestApp};

const APPS: &str = "/api/v1/telegram/applications/";
const CLIENTS: &str = "/api/v1/telegram/clients/";
const SUBSCRIBERS: &str = "/api/v1/telegram/subscribers/";

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

async fn admin(app: &TestApp, method: Method, path: &str) -> reqwest::RequestBuilder {
    app.request_as(method, ADMIN_TG_ID, path)
}

async fn admin_get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    body(app.get_as(ADMIN_TG_ID, path).send().await.unwrap()).await
}

/// A bot user (created through the bot API) with an optional survey; returns the
/// Telegram-user row id seen by the coach.
async fn bot_user(app: &TestApp, tg: i64, first: &str, last: &str, username: &str) -> i64 {
    let (status, v) = body(
        app.client
            .get(app.url("/api/v1/telegram/users/get-or-create/"))
            .header("X-Bot-Secret", BOT_SECRET)
            .query(&[
                ("telegram_id", tg.to_string()),
                ("first_name", first.to_string()),
                ("last_name", last.to_string()),
                ("username", username.to_string()),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["id"].as_i64().unwrap()
}

async fn survey(app: &TestApp, tg: i64) -> i64 {
    let (status, v) = body(
        app.client
            .post(app.url("/api/v1/telegram/personal-plan/survey/"))
            .header("X-Bot-Secret", BOT_SECRET)
            .json(&json!({
                "telegram_id": tg, "gender": "male", "age": 34, "height_cm": 180,
                "weight_kg": "92.40", "target_weight_kg": 82, "activity": "light",
                "training_level": "beginner", "body_goals": ["lose_belly"],
                "health_limitations": [], "body_now_id": 3, "body_now_file": "m_now_3.jpg",
                "body_ideal_id": 1, "body_ideal_file": "m_ideal_1.jpg",
                "timezone": "Europe/Samara", "utc_offset_minutes": 240
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    v["id"].as_i64().unwrap()
}

async fn lead(app: &TestApp, tg: i64, first: &str) -> i64 {
    let id = bot_user(app, tg, first, "Лидов", &format!("lead{tg}")).await;
    survey(app, tg).await;
    id
}

/// An app with custom admin settings on `db` (the TestApp settings are fixed).
async fn spawn_custom(db: TestDb, app_env: &'static str, admins: Vec<i64>) -> (String, TestDb) {
    spawn_with_settings(db, settings(app_env, admins)).await
}

fn settings(app_env: &'static str, admins: Vec<i64>) -> ApiSettings {
    ApiSettings {
        app_env,
        version: "test",
        bot_token: Some(SecretString::from(BOT_TOKEN.to_string())),
        admins: admins
            .into_iter()
            .map(|a| TelegramId::new(a).unwrap())
            .collect(),
        bot_api_secrets: vec![SecretString::from(BOT_SECRET.to_string())],
        debug_identity: false,
        heartbeat_max_age: Duration::from_secs(60),
        bot_username: None,
    }
}

async fn spawn_with_settings(db: TestDb, settings: ApiSettings) -> (String, TestDb) {
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
    let dir = std::env::temp_dir().join(format!("coach-media-{}", uuid::Uuid::new_v4()));
    let media = media::MediaStore::local(&dir).unwrap();
    let state = AppState::new(
        db.db.clone(),
        media,
        Arc::new(FixedClock::new(now)),
        settings,
        Vec::new(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = api::router(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), db)
}

fn at(app: &TestApp, secs_ago: i64) -> DateTime<Utc> {
    use domain::clock::Clock;
    app.clock.now() - chrono::Duration::seconds(secs_ago)
}

#[tokio::test]
async fn trainer_panel_auth_accepts_admins_and_refuses_everyone_else() {
    for app in TestApp::all().await {
        for path in [
            "/api/v1/trainer-panel/auth/",
            "/api/v1/telegram/trainer/admin-panel/",
        ] {
            // Body `init_data` (what the old panel sends), body `initData`, header only.
            for req in [
                app.client
                    .post(app.url(path))
                    .json(&json!({"init_data": app.init_data(ADMIN_TG_ID)})),
                app.client
                    .post(app.url(path))
                    .json(&json!({"initData": app.init_data(ADMIN_TG_ID)})),
                app.client
                    .post(app.url(path))
                    .header("X-Telegram-Init-Data", app.init_data(ADMIN_TG_ID)),
            ] {
                let (status, v) = body(req.send().await.unwrap()).await;
                assert_eq!(status, StatusCode::OK, "{path}: {v}");
                assert_eq!(v, json!({"ok": true, "role": "admin"}));
            }
            // 23 h old initData is still fine for the login check (24 h window)…
            let old = app.init_data_at(ADMIN_TG_ID, at(&app, 23 * 3600));
            let (status, _) = body(
                app.client
                    .post(app.url(path))
                    .json(&json!({"init_data": old}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            // …25 h is not.
            let expired = app.init_data_at(ADMIN_TG_ID, at(&app, 25 * 3600));
            let non_admin = app.init_data(7_000_001);
            let mut forged = app.init_data(ADMIN_TG_ID);
            forged.push('0');
            for bad in [
                json!({"init_data": expired}),
                json!({"init_data": non_admin}),
                json!({"init_data": forged}),
                json!({}),
            ] {
                let (status, v) = body(
                    app.client
                        .post(app.url(path))
                        .json(&bad)
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{bad}: {v}");
                assert_envelope(&v, "FORBIDDEN");
            }
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn empty_admin_list_denies_everyone_in_prod_and_is_flagged_in_dev() {
    for db in TestDb::all().await.unwrap() {
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let init = signed_init_data(ADMIN_TG_ID, "Тренер", now);
        let (base, db) = spawn_custom(db, "prod", vec![]).await;
        let client = reqwest::Client::new();
        let (status, v) = body(
            client
                .post(format!("{base}/api/v1/trainer-panel/auth/"))
                .json(&json!({"init_data": init}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
        assert_envelope(&v, "FORBIDDEN");
        // The data routes deny too.
        let (status, _) = body(
            client
                .get(format!("{base}{APPS}"))
                .header("X-Telegram-Init-Data", &init)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (base, db) = spawn_custom(db, "dev", vec![]).await;
        let (status, v) = body(
            client
                .post(format!("{base}/api/v1/trainer-panel/auth/"))
                .json(&json!({"init_data": init}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v, json!({"ok": true, "role": "admin", "debug": true}));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn coach_routes_need_fresh_admin_init_data() {
    for app in TestApp::all().await {
        let id = lead(&app, 9_100_001, "Анна").await;
        let routes: Vec<(Method, String)> = vec![
            (Method::GET, APPS.to_string()),
            (Method::PATCH, format!("{APPS}{id}/status/")),
            (Method::DELETE, format!("{APPS}{id}/")),
            (Method::GET, CLIENTS.to_string()),
            (Method::POST, CLIENTS.to_string()),
            (Method::DELETE, format!("{CLIENTS}{id}/")),
            (Method::POST, format!("{CLIENTS}{id}/add/")),
            (Method::GET, SUBSCRIBERS.to_string()),
        ];
        let stale = app.init_data_at(ADMIN_TG_ID, at(&app, 31 * 60));
        for (method, path) in &routes {
            // Anonymous: 401.
            let (status, v) = body(
                app.client
                    .request(method.clone(), app.url(path))
                    .json(&json!({"status": "viewed", "id": id}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {v}");
            assert_envelope(&v, "UNAUTHORIZED");
            // A signed-in non-admin: 403.
            let (status, v) = body(
                app.request_as(method.clone(), 9_100_002, path)
                    .json(&json!({"status": "viewed", "id": id}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {v}");
            assert_envelope(&v, "FORBIDDEN");
            // The admin with initData older than 30 minutes: 403.
            let (status, v) = body(
                app.client
                    .request(method.clone(), app.url(path))
                    .header("X-Telegram-Init-Data", &stale)
                    .json(&json!({"status": "viewed", "id": id}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {v}");
            assert_envelope(&v, "FORBIDDEN");
        }
        // Nothing changed: the lead is still new, nobody is a client.
        let (status, v) = admin_get(&app, APPS).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["results"][0]["status"], "new");
        // A 29-minute-old admin initData works.
        let fresh = app.init_data_at(ADMIN_TG_ID, at(&app, 29 * 60));
        let resp = app
            .client
            .get(app.url(APPS))
            .header("X-Telegram-Init-Data", fresh)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        app.finish().await;
    }
}

#[tokio::test]
async fn survey_respondent_is_a_lead_and_moves_through_the_status_workflow() {
    for app in TestApp::all().await {
        let id = lead(&app, 9_200_001, "Борис").await;
        // A bot user without a survey is not a lead.
        let bystander = bot_user(&app, 9_200_002, "Вера", "", "vera").await;

        let (status, v) = admin_get(&app, APPS).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["count"], 1);
        assert_eq!(
            (v["page"].as_u64(), v["page_size"].as_u64()),
            (Some(1), Some(20))
        );
        let item = &v["results"][0];
        assert_eq!(item["id"], id);
        assert_eq!(item["telegram_id"], 9_200_001);
        assert_eq!(item["first_name"], "Борис");
        assert_eq!(item["username"], "lead9200001");
        assert_eq!(item["display_name"], "Борис Лидов");
        assert_eq!(item["photo_url"], "");
        assert_eq!(item["status"], "new");
        assert_eq!(item["source"], "survey");
        assert_eq!(item["is_client"], false);
        assert_eq!(item["details"]["age"], 34);
        assert_eq!(item["details"]["gender"], "male");
        assert_eq!(item["details"]["height"], 180);
        assert_eq!(item["details"]["weight"], 92.4);
        assert_eq!(item["details"]["target_weight"], 82.0);
        assert_eq!(item["details"]["activity_level"], "light");
        assert_eq!(item["details"]["goals"], json!(["lose_belly"]));
        assert_eq!(item["details"]["timezone"], "Europe/Samara");
        assert_eq!(
            item["subscription"],
            json!({"plan_type": "free", "is_paid": false, "status": "active", "paid_until": null})
        );
        assert_eq!(item["is_paid"], false);
        assert!(item["created_at"].as_str().unwrap().ends_with("+0300"));

        for next in ["viewed", "contacted", "client"] {
            let (status, v) = body(
                admin(&app, Method::PATCH, &format!("{APPS}{id}/status/"))
                    .await
                    .json(&json!({"status": next}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{v}");
            assert_eq!(v["status"], next);
            assert_eq!(v["id"], id);
            // Stored server-side: a fresh read sees it.
            let (_, list) = admin_get(&app, APPS).await;
            assert_eq!(list["results"][0]["status"], next);
            let (_, filtered) = admin_get(&app, &format!("{APPS}?status={next}")).await;
            assert_eq!(filtered["count"], 1, "{next}");
            let (_, other) = admin_get(&app, &format!("{APPS}?status=new")).await;
            assert_eq!(other["count"], 0);
        }
        // `client` made them a client.
        let (_, clients) = admin_get(&app, CLIENTS).await;
        assert_eq!(clients["count"], 1);
        assert_eq!(clients["results"][0]["id"], id);
        assert_eq!(clients["results"][0]["status"], "client");
        assert_eq!(clients["results"][0]["is_client"], true);

        // Validation and unknown ids.
        for bad in [
            json!({"status": "archived"}),
            json!({}),
            json!({"status": 3}),
        ] {
            let (status, v) = body(
                admin(&app, Method::PATCH, &format!("{APPS}{id}/status/"))
                    .await
                    .json(&bad)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_envelope(&v, "VALIDATION_ERROR");
            assert!(v["error"]["details"]["status"].is_array(), "{v}");
        }
        let (_, v) = admin_get(&app, &format!("{APPS}?status=archived")).await;
        assert_envelope(&v, "VALIDATION_ERROR");
        for missing in [
            format!("{APPS}999999/status/"),
            format!("{APPS}{bystander}/status/"),
        ] {
            let (status, v) = body(
                admin(&app, Method::PATCH, &missing)
                    .await
                    .json(&json!({"status": "viewed"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
            assert_envelope(&v, "NOT_FOUND");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn deleting_an_application_removes_the_lead_but_not_the_account() {
    for app in TestApp::all().await {
        let tg = 9_300_001;
        let id = lead(&app, tg, "Галина").await;
        let other = lead(&app, 9_300_002, "Денис").await;
        let (status, v) = body(
            admin(&app, Method::DELETE, &format!("{APPS}{id}/"))
                .await
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "success");
        let (_, list) = admin_get(&app, APPS).await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["results"][0]["id"], other);
        // Gone for good: a second delete is 404.
        let (status, v) = body(
            admin(&app, Method::DELETE, &format!("{APPS}{id}/"))
                .await
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_envelope(&v, "NOT_FOUND");
        // The account is still there (same row, not created again) and still a subscriber.
        let again = bot_user(&app, tg, "Галина", "Лидова", "lead9300001").await;
        assert_eq!(again, id);
        let (_, subs) = admin_get(&app, SUBSCRIBERS).await;
        assert_eq!(subs["count"], 2);
        // Answering the survey again makes a new lead.
        survey(&app, tg).await;
        let (_, list) = admin_get(&app, APPS).await;
        assert_eq!(list["count"], 2);
        let back = list["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap();
        assert_eq!(back["status"], "new");
        assert_eq!(back["source"], "survey");
        app.finish().await;
    }
}

#[tokio::test]
async fn clients_are_added_and_removed_with_the_old_panel_requests() {
    for app in TestApp::all().await {
        let a = lead(&app, 9_400_001, "Елена").await;
        let b = lead(&app, 9_400_002, "Жанна").await;
        // POST /clients/ {"id"} (int or numeric string).
        let (status, v) = body(
            admin(&app, Method::POST, CLIENTS)
                .await
                .json(&json!({"id": a}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(
            v,
            json!({"status": "success", "message": "Client added successfully", "id": a})
        );
        let (_, v) = body(
            admin(&app, Method::POST, CLIENTS)
                .await
                .json(&json!({"id": a.to_string()}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(v["message"], "Client already added");
        // POST /clients/{id}/add/ (the path the old panel calls).
        let (status, v) = body(
            admin(&app, Method::POST, &format!("{CLIENTS}{b}/add/"))
                .await
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["message"], "Client added successfully");
        let (_, list) = admin_get(&app, CLIENTS).await;
        assert_eq!(list["count"], 2);
        assert!(
            list["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["status"] == "client")
        );

        // Bad bodies and unknown ids.
        for (bad, msg) in [
            (json!({}), "ID is required"),
            (json!({"id": "abc"}), "ID must be a positive integer"),
            (json!({"id": -3}), "ID must be a positive integer"),
        ] {
            let (status, v) = body(
                admin(&app, Method::POST, CLIENTS)
                    .await
                    .json(&bad)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_envelope(&v, "VALIDATION_ERROR");
            assert_eq!(v["error"]["details"]["id"][0], msg);
        }
        for req in [
            admin(&app, Method::POST, CLIENTS)
                .await
                .json(&json!({"id": 987654})),
            admin(&app, Method::POST, &format!("{CLIENTS}987654/add/")).await,
            admin(&app, Method::DELETE, &format!("{CLIENTS}987654/")).await,
        ] {
            let (status, v) = body(req.send().await.unwrap()).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            assert_envelope(&v, "NOT_FOUND");
        }

        // Removing: the person goes back to a contacted lead.
        let (status, v) = body(
            admin(&app, Method::DELETE, &format!("{CLIENTS}{a}/"))
                .await
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            v,
            json!({"status": "success", "message": "Client removed successfully"})
        );
        let (_, v) = body(
            admin(&app, Method::DELETE, &format!("{CLIENTS}{a}/"))
                .await
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(v["message"], "Client already removed");
        let (_, list) = admin_get(&app, CLIENTS).await;
        assert_eq!(list["count"], 1);
        assert_eq!(list["results"][0]["id"], b);
        let (_, apps) = admin_get(&app, &format!("{APPS}?status=contacted")).await;
        assert_eq!(apps["count"], 1);
        assert_eq!(apps["results"][0]["id"], a);
        assert_eq!(apps["results"][0]["is_client"], false);
        app.finish().await;
    }
}

#[tokio::test]
async fn lists_paginate_and_search() {
    for app in TestApp::all().await {
        let mut ids = Vec::new();
        for i in 0..25_i64 {
            // Distinct creation times so the order is defined: newest first.
            app.clock.advance(chrono::Duration::seconds(1));
            ids.push(lead(&app, 9_500_000 + i, &format!("Имя{i}")).await);
        }
        let named = lead(&app, 9_600_001, "Ирина").await;
        let (_, v) = admin_get(&app, &format!("{APPS}?page=1&page_size=10")).await;
        assert_eq!(v["count"], 26);
        assert_eq!(v["results"].as_array().unwrap().len(), 10);
        assert_eq!(v["results"][0]["id"], named);
        assert_eq!(v["results"][1]["id"], ids[24]);
        let (_, v) = admin_get(&app, &format!("{APPS}?page=3&page_size=10")).await;
        assert_eq!(
            (v["page"].as_u64(), v["page_size"].as_u64()),
            (Some(3), Some(10))
        );
        assert_eq!(v["results"].as_array().unwrap().len(), 6);
        assert_eq!(v["results"][5]["id"], ids[0]);
        let (_, v) = admin_get(&app, &format!("{APPS}?page=9&page_size=10")).await;
        assert_eq!(v["count"], 26);
        assert_eq!(v["results"], json!([]));
        // The page size is capped at 100.
        let (_, v) = admin_get(&app, &format!("{APPS}?page_size=1000")).await;
        assert_eq!(v["page_size"], 100);
        assert_eq!(v["results"].as_array().unwrap().len(), 26);
        for bad in ["page=0", "page=x", "page_size=0", "page_size=-1"] {
            let (status, v) = admin_get(&app, &format!("{APPS}?{bad}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert_envelope(&v, "VALIDATION_ERROR");
        }

        // Search: first name in any case (Cyrillic), username, Telegram id, two words.
        for (q, expected) in [
            ("ирина", vec![named]),
            ("ИРИНА", vec![named]),
            ("Ирина Лидов", vec![named]),
            ("lead9600001", vec![named]),
            ("@LEAD9600001", vec![named]),
            ("9500003", vec![ids[3]]),
            (
                "Имя2",
                vec![ids[24], ids[23], ids[22], ids[21], ids[20], ids[2]],
            ),
            ("%", vec![]),
            ("_", vec![]),
        ] {
            let (status, v) = body(
                app.get_as(ADMIN_TG_ID, APPS)
                    .query(&[("search", q)])
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            let got: Vec<i64> = v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            assert_eq!(got, expected, "search {q:?}");
            assert_eq!(v["count"].as_u64(), Some(expected.len() as u64));
        }
        // Clients and subscribers take the same parameters.
        let (_, v) = body(
            app.get_as(ADMIN_TG_ID, SUBSCRIBERS)
                .query(&[("search", "ирина"), ("page_size", "5")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(v["count"], 1);
        assert_eq!(v["page_size"], 5);
        let (status, _) = admin_get(&app, &format!("{CLIENTS}?page=0")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_list_page_costs_the_same_number_of_queries_for_2_and_10_leads() {
    for app in TestApp::all().await {
        let mut deltas = Vec::new();
        let mut made = 0;
        for want in [2, 10] {
            while made < want {
                let id = lead(&app, 9_700_000 + made, &format!("Клиент{made}")).await;
                if made % 2 == 0 {
                    admin(&app, Method::POST, &format!("{CLIENTS}{id}/add/"))
                        .await
                        .send()
                        .await
                        .unwrap();
                }
                made += 1;
            }
            let mut per_list = Vec::new();
            for path in [APPS, CLIENTS, SUBSCRIBERS] {
                let before = app.db().statement_count();
                let (status, v) = admin_get(&app, path).await;
                let after = app.db().statement_count();
                assert_eq!(status, StatusCode::OK);
                assert!(!v["results"].as_array().unwrap().is_empty());
                per_list.push(after - before);
            }
            deltas.push(per_list);
        }
        assert_eq!(deltas[0], deltas[1], "queries per list page: {deltas:?}");
        assert!(deltas[0].iter().all(|d| *d <= 4), "{deltas:?}");
        app.finish().await;
    }
}

#[tokio::test]
async fn subscribers_lists_every_user_as_free_until_billing_exists() {
    for app in TestApp::all().await {
        let a = lead(&app, 9_800_001, "Зоя").await;
        app.clock.advance(chrono::Duration::seconds(5));
        let b = bot_user(&app, 9_800_002, "", "", "").await;
        let (status, v) = admin_get(&app, SUBSCRIBERS).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["count"], 2);
        assert_eq!(
            v["stats"],
            json!({"total": 2, "free": 2, "monthly": 0, "yearly": 0, "revenue": 0.0})
        );
        let first = &v["results"][0];
        assert_eq!(first["id"], b);
        assert_eq!(first["telegram_id"], 9_800_002);
        assert_eq!(first["display_name"], "User 9800002");
        assert_eq!(first["username"], "");
        assert_eq!(first["plan_type"], "free");
        assert_eq!(first["is_active"], true);
        assert_eq!(first["is_paid"], false);
        assert_eq!(first["expires_at"], Value::Null);
        assert_eq!(first["subscribed_at"], "2026-03-10T12:00:05+0300");
        assert_eq!(v["results"][1]["id"], a);
        app.finish().await;
    }
}

#[tokio::test]
async fn invite_link_is_503_until_the_bot_username_is_configured() {
    for app in TestApp::all().await {
        let (status, v) = body(
            app.client
                .get(app.url("/api/v1/telegram/invite-link/"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_envelope(&v, "SERVICE_UNAVAILABLE");
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .contains("TELEGRAM_BOT_USERNAME")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn invite_link_points_at_the_configured_bot() {
    for db in TestDb::all().await.unwrap() {
        let mut s = settings("dev", vec![]);
        s.bot_username = Some("@EatFit24_bot".into());
        let (base, db) = spawn_with_settings(db, s).await;
        let resp = reqwest::get(format!("{base}/api/v1/telegram/invite-link/"))
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["link"], "https://t.me/EatFit24_bot?start=invite");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn coach_invite_link_carries_the_calling_admins_id() {
    for db in TestDb::all().await.unwrap() {
        let mut s = settings("dev", vec![ADMIN_TG_ID]);
        s.bot_username = Some("@EatFit24_bot".into());
        let (base, db) = spawn_with_settings(db, s).await;
        let now = Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap();
        let client = reqwest::Client::new();
        let url = format!("{base}/api/v1/telegram/invite-link/me/");
        let (status, v) = body(
            client
                .get(&url)
                .header(
                    "X-Telegram-Init-Data",
                    signed_init_data(ADMIN_TG_ID, "Тренер", now),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(
            v["link"],
            format!("https://t.me/EatFit24_bot?start=coach_{ADMIN_TG_ID}")
        );
        assert_eq!(v["code"], format!("coach_{ADMIN_TG_ID}"));
        // A non-admin is refused; so is nobody.
        let (status, v) = body(
            client
                .get(&url)
                .header(
                    "X-Telegram-Init-Data",
                    signed_init_data(710_777, "Гость", now),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
        assert_envelope(&v, "FORBIDDEN");
        let (status, _) = body(client.get(&url).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        // The generic link is unchanged.
        let (status, v) = body(
            client
                .get(format!("{base}/api/v1/telegram/invite-link/"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["link"], "https://t.me/EatFit24_bot?start=invite");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn coach_invite_link_is_503_without_the_bot_username() {
    for app in TestApp::all().await {
        let (status, v) = admin_get(&app, "/api/v1/telegram/invite-link/me/").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{v}");
        assert_envelope(&v, "SERVICE_UNAVAILABLE");
        app.finish().await;
    }
}

#[tokio::test]
async fn leads_carry_their_source_tag_and_inviting_coach() {
    for app in TestApp::all().await {
        let invited = lead(&app, 720_101, "Приглашённый").await;
        let plain = lead(&app, 720_102, "Обычный").await;
        for (tg, tag) in [
            (720_101_i64, format!("coach_{ADMIN_TG_ID}")),
            (720_102, "promo".into()),
        ] {
            sea_orm::ConnectionTrait::execute_raw(
                app.db().conn(),
                sea_orm::Statement::from_sql_and_values(
                    app.db().conn().get_database_backend(),
                    "UPDATE telegram_users SET source_tag = $1 WHERE telegram_id = $2",
                    vec![tag.into(), tg.into()],
                ),
            )
            .await
            .unwrap();
        }
        let (status, v) = admin_get(&app, APPS).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        let find = |id: i64| {
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == id)
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(find(invited)["source_tag"], format!("coach_{ADMIN_TG_ID}"));
        assert_eq!(find(invited)["invited_by_coach"], ADMIN_TG_ID);
        assert_eq!(find(plain)["source_tag"], "promo");
        assert_eq!(find(plain)["invited_by_coach"], Value::Null);
        app.finish().await;
    }
}

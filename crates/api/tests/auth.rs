//! Mini App authentication by signed initData (reference/backend-core.md §3.1), on every
//! backend.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::TestApp;
use testkit::app::{ADMIN_TG_ID, signed_init_data};

async fn post_auth(app: &TestApp, init_data: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/v1/telegram/auth/"))
        .header("X-Telegram-Init-Data", init_data)
        .json(&serde_json::json!({ "initData": init_data }))
        .send()
        .await
        .expect("request");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn assert_envelope_401(body: &Value) {
    assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{body}");
    assert!(body["error"]["message"].is_string());
    assert!(body["error"]["details"].is_object());
}

#[tokio::test]
async fn signed_init_data_logs_in_and_creates_the_user_once() {
    for app in TestApp::all().await {
        let init = app.init_data(42);
        let (status, body) = post_auth(&app, &init).await;
        assert_eq!(status, StatusCode::OK, "{:?}: {body}", app.backend());
        assert_eq!(body["user"]["telegram_id"], 42);
        assert_eq!(body["user"]["first_name"], "Тест");
        assert_eq!(body["user"]["display_name"], "Тест Пользователь");
        assert_eq!(body["user"]["username"], "user42");
        assert_eq!(body["is_admin"], false);
        assert!(body.get("access").is_none(), "no decorative JWTs");
        assert!(body["user"].get("ai_test_answers").is_none());

        let (status, _) = post_auth(&app, &init).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            store::users::count(app.db()).await.expect("count"),
            1,
            "second login must not duplicate"
        );

        let (_, admin) = post_auth(&app, &app.init_data(ADMIN_TG_ID)).await;
        assert_eq!(admin["is_admin"], true);
        app.finish().await;
    }
}

#[tokio::test]
async fn concurrent_first_logins_create_one_user() {
    for app in TestApp::all().await {
        let init = app.init_data(77);
        let mut handles = Vec::new();
        for _ in 0..8 {
            let client = app.client.clone();
            let url = app.url("/api/v1/telegram/auth/");
            let init = init.clone();
            handles.push(tokio::spawn(async move {
                client
                    .post(url)
                    .header("X-Telegram-Init-Data", init)
                    .send()
                    .await
                    .map(|r| r.status())
            }));
        }
        for h in handles {
            assert_eq!(
                h.await.expect("join").expect("send"),
                StatusCode::OK,
                "{:?}",
                app.backend()
            );
        }
        assert_eq!(store::users::count(app.db()).await.expect("count"), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn tampered_expired_future_and_duplicate_key_init_data_get_401() {
    for app in TestApp::all().await {
        let good = app.init_data(42);
        let now = app.clock_now();
        let cases = [
            ("tampered", good.replace("user42", "user43")),
            (
                "expired",
                signed_init_data(42, "Тест", now - Duration::hours(25)),
            ),
            (
                "future",
                signed_init_data(42, "Тест", now + Duration::minutes(5)),
            ),
            (
                "duplicate key",
                format!("{good}&auth_date={}", now.timestamp()),
            ),
            ("garbage", "not-init-data".to_string()),
            ("too long", "a=".to_string() + &"b".repeat(10_001)),
        ];
        for (name, init) in cases {
            let (status, body) = post_auth(&app, &init).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{name} on {:?}",
                app.backend()
            );
            assert_envelope_401(&body);
        }
        assert_eq!(store::users::count(app.db()).await.expect("count"), 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn missing_credentials_and_unknown_routes_use_the_envelope() {
    let app = TestApp::sqlite().await;
    let r = app
        .client
        .get(app.url("/api/v1/telegram/profile/"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_envelope_401(&r.json().await.expect("json"));

    let r = app
        .client
        .get(app.url("/api/v1/nope/"))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "NOT_FOUND");

    let r = app
        .client
        .delete(app.url("/api/v1/telegram/auth/"))
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "METHOD_NOT_ALLOWED");

    let r = app
        .client
        .get(app.url("/livez"))
        .header("X-Trace-Id", "abc-123")
        .send()
        .await
        .expect("livez");
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    app.finish().await;
}

#[tokio::test]
async fn profile_and_webapp_auth_return_the_original_shapes() {
    for app in TestApp::all().await {
        let r = app
            .get_as(42, "/api/v1/telegram/profile/")
            .send()
            .await
            .expect("profile");
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["telegram_id"], 42);
        assert_eq!(body["language_code"], "ru");

        let r = app
            .client
            .post(app.url("/api/v1/telegram/webapp/auth/"))
            .json(&serde_json::json!({ "init_data": app.init_data(42) }))
            .send()
            .await
            .expect("webapp auth");
        assert_eq!(r.status(), StatusCode::OK);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["user"]["telegram_id"], 42);
        assert_eq!(body["profile"]["timezone"], "Europe/Moscow");
        assert_eq!(body["profile"]["is_complete"], false);
        assert!(body["goals"].is_null());
        assert_eq!(body["is_admin"], false);
        app.finish().await;
    }
}

#[tokio::test]
async fn debug_identity_is_refused_unless_enabled_in_dev() {
    let app = TestApp::sqlite().await;
    let r = app
        .client
        .get(app.url("/api/v1/telegram/profile/"))
        .header("X-Debug-Mode", "true")
        .header("X-Debug-User-Id", "5")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["message"], "Debug mode is disabled");
    app.finish().await;

    let db = store::testing::TestDb::sqlite().await.expect("db");
    let app = TestApp::spawn_with(
        db,
        testkit::app::Options {
            debug_identity: true,
            ..Default::default()
        },
    )
    .await;
    let r = app
        .client
        .get(app.url("/api/v1/telegram/profile/"))
        .header("X-Debug-Mode", "true")
        .header("X-Debug-User-Id", "5")
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["telegram_id"], 5);
    app.finish().await;
}

#[tokio::test]
async fn framework_rejections_also_answer_in_the_envelope() {
    let app = TestApp::sqlite().await;
    // Malformed JSON on a JSON endpoint.
    let r = app
        .request_as(reqwest::Method::PUT, 42, "/api/v1/users/profile/")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.expect("envelope json");
    assert_eq!(body["error"]["code"], "BAD_REQUEST", "{body}");
    // A body over the global limit.
    let r = app
        .client
        .post(app.url("/api/v1/telegram/auth/"))
        .body(vec![b'a'; api::MAX_BODY_BYTES + 10])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.expect("envelope json");
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE", "{body}");
    app.finish().await;
}

//! Recognition over HTTP on both backends: submit → 202 → jobs → poll, quota and throttle
//! contracts, cancel endpoints, offline text logging, AI not configured.

use reqwest::Method;
use serde_json::{Value, json};
use testkit::app::{Options, TestApp, fake_recognizer};
use testkit::fake_llm::{Behavior, FakeLlm};

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

fn form(bytes: Vec<u8>, meal_type: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("photo.png")
                .mime_str("image/png") // a lie: the magic bytes decide
                .expect("mime"),
        )
        .text("meal_type", meal_type.to_owned())
}

async fn submit(app: &TestApp, tg: i64) -> reqwest::Response {
    app.request_as(Method::POST, tg, "/api/v1/ai/recognize/")
        .multipart(form(jpeg(), "LUNCH"))
        .send()
        .await
        .expect("submit")
}

async fn json_of(r: reqwest::Response) -> Value {
    r.json().await.expect("json")
}

async fn poll(app: &TestApp, tg: i64, task_id: &str) -> (u16, Value) {
    let r = app
        .get_as(tg, &format!("/api/v1/ai/task/{task_id}/"))
        .send()
        .await
        .expect("poll");
    (r.status().as_u16(), json_of(r).await)
}

fn items() -> Value {
    FakeLlm::items(&[
        ("гречка", 150.0, 138.0, 5.1, 0.9, 29.9),
        ("куриная грудка", 100.0, 165.0, 31.0, 3.6, 0.0),
    ])
}

#[tokio::test]
async fn photo_flow_quota_and_failures() {
    let llm = FakeLlm::start().await;
    let opts = Options {
        recognizer: Some(fake_recognizer(&llm)),
        ..Options::default()
    };
    for app in TestApp::all_with(opts).await {
        let tg = 7001;
        llm.set_default(Behavior::Success(items()));
        let r = submit(&app, tg).await;
        assert_eq!(r.status(), 202);
        assert!(r.headers().contains_key("x-request-id"));
        let accepted = json_of(r).await;
        assert_eq!(accepted["status"], "processing");
        let task_id = accepted["task_id"].as_str().expect("task id").to_owned();
        let (code, body) = poll(&app, tg, &task_id).await;
        assert_eq!((code, body["status"].as_str()), (200, Some("processing")));
        app.run_jobs().await;
        let (code, body) = poll(&app, tg, &task_id).await;
        assert_eq!(code, 200);
        assert_eq!(body["status"], "success", "{body}");
        assert_eq!(body["state"], "SUCCESS");
        assert_eq!(body["result"]["items"].as_array().map(Vec::len), Some(2));
        assert_eq!(body["result"]["items"][0]["amount_grams"], 150.0);
        assert!(body["result"]["totals"]["calories"].as_f64().unwrap_or(0.0) > 250.0);
        // Visible in the diary with its items.
        let day = app
            .get_as(tg, "/api/v1/meals/?date=2026-03-10")
            .send()
            .await
            .expect("diary");
        assert_eq!(day.status(), 200);
        let day = json_of(day).await.to_string();
        assert!(
            day.contains("куриная грудка") || day.contains("Куриная грудка"),
            "{day}"
        );
        // Someone else cannot poll it.
        let (code, body) = poll(&app, 7999, &task_id).await;
        assert_eq!(
            (code, body["error_code"].as_str()),
            (404, Some("PHOTO_NOT_FOUND"))
        );
        assert_eq!(body["error"], "PHOTO_NOT_FOUND");

        // A failure: NOT food → failed with its code; the slot is given back.
        llm.set_default(Behavior::NotFood);
        let failed = json_of(submit(&app, tg).await).await;
        app.run_jobs().await;
        let (_, body) = poll(&app, tg, failed["task_id"].as_str().expect("id")).await;
        assert_eq!(body["status"], "failed");
        assert_eq!(body["error"], "UNSUPPORTED_CONTENT");
        assert_eq!(body["result"]["error_code"], "UNSUPPORTED_CONTENT");

        // FREE: two more succeed (3 used), the 4th is refused with the legacy key.
        llm.set_default(Behavior::Success(items()));
        for _ in 0..2 {
            assert_eq!(submit(&app, tg).await.status(), 202);
        }
        let r = submit(&app, tg).await;
        assert_eq!(r.status(), 429);
        let body = json_of(r).await;
        assert_eq!(body["error"], "DAILY_PHOTO_LIMIT_EXCEEDED");
        assert_eq!(body["error_code"], "DAILY_PHOTO_LIMIT_EXCEEDED");
        assert!(
            body["user_actions"]
                .as_array()
                .is_some_and(|a| a.contains(&json!("upgrade")))
        );
        app.run_jobs().await;

        // Cancel endpoints: single (always ok) and batch (idempotent).
        let r = app
            .request_as(Method::POST, tg, "/api/v1/ai/task/unknown/cancel/")
            .send()
            .await
            .expect("cancel");
        assert_eq!(
            (r.status().as_u16(), json_of(r).await),
            (200, json!({"ok": true}))
        );
        let bad = app
            .request_as(Method::POST, tg, "/api/v1/ai/cancel/")
            .json(&json!({"client_cancel_id": "nope"}))
            .send()
            .await
            .expect("cancel");
        assert_eq!(bad.status(), 400);
        let body = json!({"client_cancel_id": "0d7f9f5e-1111-4222-8333-444455556666",
                          "task_ids": [task_id], "meal_photo_ids": [accepted["meal_photo_id"]]});
        let r = app
            .request_as(Method::POST, tg, "/api/v1/ai/cancel/")
            .json(&body)
            .send()
            .await
            .expect("cancel");
        let v = json_of(r).await;
        assert_eq!(v["status"], "ok");
        assert_eq!(v["noop"], true, "a finished task is not cancelled: {v}");
        app.finish().await;
    }
}

#[tokio::test]
async fn cancel_while_pending_over_http_and_throttle() {
    let llm = FakeLlm::start().await;
    let opts = Options {
        recognizer: Some(fake_recognizer(&llm)),
        ..Options::default()
    };
    for app in TestApp::all_with(opts).await {
        let tg = 7002;
        let accepted = json_of(submit(&app, tg).await).await;
        let task_id = accepted["task_id"].as_str().expect("id").to_owned();
        let r = app
            .request_as(
                Method::POST,
                tg,
                &format!("/api/v1/ai/task/{task_id}/cancel/"),
            )
            .send()
            .await
            .expect("cancel");
        assert_eq!(r.status(), 200);
        let (_, body) = poll(&app, tg, &task_id).await;
        assert_eq!(body["status"], "failed");
        assert_eq!(body["error"], "CANCELLED");
        let meal = app
            .get_as(tg, &format!("/api/v1/meals/{}/", accepted["meal_id"]))
            .send()
            .await
            .expect("meal");
        // The cancelled meal is finalised (FAILED, hidden from the diary), not left PROCESSING.
        let meal = json_of(meal).await;
        assert_eq!(meal["status"], "FAILED", "{meal}");

        // Throttle: 10 submissions a minute (text counts too), then RATE_LIMIT + Retry-After.
        for i in 0..9 {
            let r = app
                .request_as(Method::POST, tg, "/api/v1/ai/recognize-text/")
                .json(&json!({"text": format!("{} г гречки", 100 + i)}))
                .send()
                .await
                .expect("text");
            assert_eq!(r.status(), 202);
        }
        let r = app
            .request_as(Method::POST, tg, "/api/v1/ai/recognize-text/")
            .json(&json!({"text": "100 г гречки"}))
            .send()
            .await
            .expect("text");
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
        assert_eq!(json_of(r).await["error"], "RATE_LIMIT");
        app.clock.advance(chrono::Duration::seconds(61));
        let r = app
            .request_as(Method::POST, tg, "/api/v1/ai/recognize-text/")
            .json(&json!({"text": "100 г гречки"}))
            .send()
            .await
            .expect("text");
        assert_eq!(r.status(), 202);
        app.finish().await;
    }
}

#[tokio::test]
async fn without_ai_photos_are_refused_and_text_still_logs() {
    for app in TestApp::all().await {
        let tg = 7003;
        let r = submit(&app, tg).await;
        assert_eq!(r.status(), 503);
        assert_eq!(json_of(r).await["error"], "AI_NOT_CONFIGURED");
        let r = app
            .request_as(Method::POST, tg, "/api/v1/ai/recognize-text/")
            .json(&json!({"text": "150 г гречки и 100 г куриной грудки", "meal_type": "DINNER"}))
            .send()
            .await
            .expect("text");
        assert_eq!(r.status(), 202);
        let accepted = json_of(r).await;
        assert_eq!(accepted["meal_photo_id"], Value::Null);
        app.run_jobs().await;
        let (_, body) = poll(&app, tg, accepted["task_id"].as_str().expect("id")).await;
        assert_eq!(body["status"], "success", "{body}");
        let items = body["result"]["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        let kcal = items[0]["calories"].as_f64().unwrap_or(0.0);
        assert!(
            (kcal - 138.0).abs() <= 13.8,
            "buckwheat 150 g ≈ 138 kcal, got {kcal}"
        );
        // Validation: empty text, future date, bad meal type.
        for (body, field) in [
            (json!({"text": "  "}), "text"),
            (
                json!({"text": "100 г гречки", "date": "2026-03-11"}),
                "date",
            ),
            (
                json!({"text": "100 г гречки", "meal_type": "brunch"}),
                "meal_type",
            ),
        ] {
            let r = app
                .request_as(Method::POST, tg, "/api/v1/ai/recognize-text/")
                .json(&body)
                .send()
                .await
                .expect("text");
            assert_eq!(r.status(), 400, "{body}");
            let v = json_of(r).await;
            assert_eq!(v["error"]["code"], "VALIDATION_ERROR");
            assert!(v["error"]["details"].get(field).is_some(), "{v}");
        }
        app.finish().await;
    }
}

//! Contract tests in both directions:
//! * the original proxy's recorded success and error bodies (reference/ai-pipeline.md §4.3,
//!   §5.8), served over HTTP, parsed by OUR client;
//! * OUR proxy's replies parsed by a small parser written from the original backend's adapter
//!   and client rules (§3.4–§3.5), proving an old backend could talk to us.

mod common;

use std::time::Duration;

use ai::contract::SuccessBody;
use ai::{Deadline, Recognizer};
use axum::http::StatusCode;
use common::*;
use domain::error::{AiErrorCode, Locale};
use serde_json::{Map, Value, json};
use testkit::fake_llm::{Behavior, FakeLlm};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// A one-route server answering every recognition with `status` and `body`.
async fn serve_fixture(
    status: u16,
    body: Vec<u8>,
    retry_after: Option<&'static str>,
) -> (String, tokio::task::JoinHandle<()>) {
    let handler = move || {
        let body = body.clone();
        async move {
            let mut resp = axum::response::Response::new(axum::body::Body::from(body));
            *resp.status_mut() = StatusCode::from_u16(status).expect("status");
            resp.headers_mut()
                .insert("content-type", "application/json".parse().expect("ct"));
            if let Some(ra) = retry_after {
                resp.headers_mut()
                    .insert("retry-after", ra.parse().expect("ra"));
            }
            resp
        }
    };
    let router =
        axum::Router::new().route("/api/v1/ai/recognize-food", axum::routing::post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let h = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), h)
}

async fn recognize_against(
    status: u16,
    body: Vec<u8>,
    retry_after: Option<&'static str>,
) -> Result<ai::Recognition, ai::RecognizeError> {
    let (url, h) = serve_fixture(status, body, retry_after).await;
    let r = client(&url, KEY, None)
        .recognize(
            jpeg(32, 32),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(5)),
            "contract",
        )
        .await;
    h.abort();
    r
}

#[tokio::test]
async fn original_success_body_parses_through_our_client() {
    let rec = recognize_against(200, fixture("original_success.json"), None)
        .await
        .unwrap();
    assert_eq!(rec.items.len(), 2);
    assert_eq!(rec.items[0].name, "Гречка отварная");
    assert_eq!(rec.items[0].grams, 200.0);
    assert_eq!(rec.items[0].kcal, 220.0);
    assert_eq!(rec.items[1].protein, 34.5);
    assert_eq!(rec.totals.kcal, 385.0);
    assert_eq!(rec.confidence, Some(0.87));
    assert_eq!(rec.gate_reason.as_deref(), Some("тарелка с едой"));
    assert_eq!(
        rec.notes.as_deref(),
        Some("Вес гречки оценён по размеру тарелки")
    );
    assert_eq!(rec.trace_id, "3f2a9c0d7b6e4a1f9c8d7e6f5a4b3c2d");
    assert!(rec.items.iter().all(|i| !i.grounded));
}

#[tokio::test]
async fn legacy_flat_body_with_old_field_names_parses_too() {
    let rec = recognize_against(200, fixture("legacy_flat_success.json"), None)
        .await
        .unwrap();
    assert_eq!(rec.items.len(), 1);
    let i = &rec.items[0];
    assert_eq!(
        (
            i.name.as_str(),
            i.grams,
            i.kcal,
            i.protein,
            i.fat,
            i.carbohydrates
        ),
        ("Омлет", 180.0, 250.0, 17.0, 19.0, 3.0)
    );
    assert_eq!(rec.notes.as_deref(), Some("Омлет из двух яиц"));
}

#[tokio::test]
async fn original_error_bodies_map_to_catalogue_codes() {
    let cases: &[(&str, u16, AiErrorCode, bool)] = &[
        (
            "original_error_unsupported_content.json",
            400,
            AiErrorCode::UnsupportedContent,
            false,
        ),
        (
            "original_error_gate_error.json",
            502,
            AiErrorCode::GateError,
            true,
        ),
        (
            "original_error_rate_limit.json",
            429,
            AiErrorCode::RateLimit,
            true,
        ),
        (
            "original_error_upstream_timeout.json",
            504,
            AiErrorCode::UpstreamTimeout,
            true,
        ),
        (
            "original_error_image_too_large.json",
            413,
            AiErrorCode::ImageTooLarge,
            false,
        ),
        // AI_PROXY_ERROR_HTTP200_COMPAT: an error body with HTTP 200 is still an error.
        (
            "original_error_low_confidence_http200_compat.json",
            200,
            AiErrorCode::LowConfidence,
            false,
        ),
        (
            "original_error_blurry_unknown_code.json",
            400,
            AiErrorCode::UnknownError,
            true,
        ),
    ];
    for (file, status, code, retry) in cases {
        let err = recognize_against(*status, fixture(file), None)
            .await
            .unwrap_err();
        assert_eq!(err.code, *code, "{file}");
        assert_eq!(err.allow_retry(), *retry, "{file}");
        assert_eq!(err.http_status, Some(*status));
    }
    let rl = recognize_against(429, fixture("original_error_rate_limit.json"), None)
        .await
        .unwrap_err();
    assert_eq!(rl.retry_after, Some(60));
    let blurry = recognize_against(
        400,
        fixture("original_error_blurry_unknown_code.json"),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(blurry.raw_code.as_deref(), Some("BLURRY"));
}

#[tokio::test]
async fn original_auth_and_validation_answers_are_classified_not_unknown() {
    let e401 = recognize_against(401, fixture("original_401.json"), None)
        .await
        .unwrap_err();
    assert_eq!(e401.code, AiErrorCode::AiServiceMisconfigured);
    assert_eq!(e401.kind, ai::client::FailureKind::Auth);
    let e422 = recognize_against(422, fixture("fastapi_422_missing_key.json"), None)
        .await
        .unwrap_err();
    assert_eq!(e422.code, AiErrorCode::UnknownError);
    let e500 = recognize_against(500, b"Internal Server Error".to_vec(), None)
        .await
        .unwrap_err();
    assert_eq!(e500.code, AiErrorCode::AiServerError);
    let e429 = recognize_against(429, Vec::new(), Some("17"))
        .await
        .unwrap_err();
    assert_eq!(
        (e429.code, e429.retry_after),
        (AiErrorCode::RateLimit, Some(17))
    );
}

// ---- The original backend's rules (§3.4 client, §3.5 adapter), as an old backend reads us ----

enum OldClient {
    Ok(Value),
    Business(Value),
    Auth,
    Validation,
    Server,
}

/// `AIProxyClient` response classification (§3.4).
fn old_client(status: u16, body: &[u8]) -> OldClient {
    let v: Value = serde_json::from_slice(body).unwrap_or(json!({}));
    let obj = v.as_object().cloned().unwrap_or_default();
    if obj.contains_key("error_code") {
        return OldClient::Business(v);
    }
    match status {
        401 | 403 => OldClient::Auth,
        400 | 413 | 422 | 429 => OldClient::Validation,
        200..=299 if !obj.is_empty() => OldClient::Ok(v),
        _ => OldClient::Server,
    }
}

fn old_num(v: Option<&Value>) -> f64 {
    let x = match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    };
    if x < 0.0 { 0.0 } else { x }
}

fn old_first<'a>(m: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|k| m.get(*k).filter(|v| !v.is_null()))
}

/// `normalize_proxy_response` (§3.5): items, totals, meta.
fn old_adapter(v: &Value) -> (Vec<Value>, Value, Value) {
    let Some(root) = v.as_object() else {
        return (
            vec![],
            json!({"calories": 0.0}),
            json!({"warning": "non-object-json"}),
        );
    };
    let src = root
        .get("result")
        .and_then(Value::as_object)
        .unwrap_or(root);
    let mut items = Vec::new();
    for it in src
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(m) = it.as_object() else { continue };
        let name = old_first(m, &["food_name_ru", "name", "title", "food_name_en"])
            .and_then(Value::as_str)
            .unwrap_or("Unknown")
            .trim()
            .to_owned();
        let grams = old_num(old_first(m, &["portion_weight_g", "weight_g", "grams"]))
            .round()
            .max(1.0);
        items.push(json!({
            "name": name,
            "amount_grams": grams,
            "calories": old_num(old_first(m, &["calories", "kcal"])),
            "protein": old_num(old_first(m, &["protein_g", "protein"])),
            "fat": old_num(old_first(m, &["fat_g", "fat"])),
            "carbohydrates": old_num(old_first(m, &["carbs_g", "carbohydrates", "carbs"])),
        }));
    }
    let total = src
        .get("total")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let totals = json!({
        "calories": old_num(total.get("calories")),
        "protein": old_num(old_first(&total, &["protein_g", "protein"])),
        "fat": old_num(old_first(&total, &["fat_g", "fat"])),
        "carbohydrates": old_num(old_first(&total, &["carbs_g", "carbohydrates", "carbs"])),
    });
    let meta = json!({
        "model_notes": src.get("model_notes").or_else(|| root.get("model_notes")),
        "confidence": root.get("confidence").or_else(|| root.get("gate_confidence")),
        "is_food": root.get("is_food"),
        "trace_id": root.get("trace_id"),
    });
    (items, totals, meta)
}

#[tokio::test]
async fn our_success_reply_reads_correctly_with_the_old_backend_rules() {
    let llm = FakeLlm::start().await;
    let proxy = spawn_proxy(provider_config(&llm), &format!("k:{KEY}")).await;
    llm.push(Behavior::Success(FakeLlm::items(&[
        ("Сливочное масло", 50.0, 374.0, 0.3, 41.0, 0.4),
        ("Хлеб белый", 60.0, 160.0, 5.0, 2.0, 30.0),
    ])));
    let raw = post_raw(
        &proxy.url,
        Some(KEY),
        Some(jpeg(100, 100)),
        None,
        &[("X-Request-ID", "old-reader")],
    )
    .await;
    assert_eq!(raw.status, 200);
    let body = serde_json::to_vec(&raw.json).unwrap();
    let OldClient::Ok(v) = old_client(raw.status, &body) else {
        panic!("old client did not see a success");
    };
    let (items, totals, meta) = old_adapter(&v);
    assert_eq!(items.len(), 2);
    for i in &items {
        assert_ne!(i["name"], "Unknown");
        assert!(i["amount_grams"].as_f64().unwrap() >= 1.0);
        // The 2025-12-07 "0 kcal" bug: the old reader must find the energy.
        assert!(i["calories"].as_f64().unwrap() > 0.0, "{i}");
    }
    assert_eq!(items[0]["amount_grams"], 50.0);
    assert!(totals["calories"].as_f64().unwrap() > 0.0);
    assert_eq!(totals["calories"], raw.json["result"]["total"]["kcal"]);
    assert_eq!(meta["trace_id"], "old-reader");
    assert_eq!(meta["is_food"], true);
    // What the old Mini App reads from each item is present under its names.
    for k in [
        "name",
        "amount_grams",
        "calories",
        "protein",
        "fat",
        "carbohydrates",
        "confidence",
    ] {
        assert!(raw.json["result"]["items"][0].get(k).is_some(), "{k}");
    }
    // And our own contract type reads our own reply.
    let ours: SuccessBody = serde_json::from_value(raw.json.clone()).unwrap();
    assert_eq!(ours.result.items.len(), 2);
    assert_eq!(ours.trace_id, "old-reader");
}

#[tokio::test]
async fn our_error_replies_read_correctly_with_the_old_backend_rules() {
    let llm = FakeLlm::start().await;
    let proxy = spawn_proxy(provider_config(&llm), &format!("k:{KEY}")).await;
    llm.push(Behavior::NotFood);
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(100, 100)), None, &[]).await;
    let body = serde_json::to_vec(&raw.json).unwrap();
    let OldClient::Business(v) = old_client(raw.status, &body) else {
        panic!("old client did not see a business error");
    };
    assert_eq!(v["error_code"], "UNSUPPORTED_CONTENT");
    // The old poller decides "failed" by the legacy `error` key; the old UI shows `error_message`.
    assert_eq!(v["error"], "UNSUPPORTED_CONTENT");
    assert!(!v["error_message"].as_str().unwrap().is_empty());
    for k in [
        "user_title",
        "user_message",
        "user_actions",
        "allow_retry",
        "trace_id",
        "status",
    ] {
        assert!(v.get(k).is_some(), "{k}");
    }
    // 401 is still 401 for the old client (it used to get 422 for a missing key).
    let raw = post_raw(&proxy.url, None, Some(jpeg(10, 10)), None, &[]).await;
    assert!(matches!(
        old_client(raw.status, &serde_json::to_vec(&raw.json).unwrap()),
        OldClient::Auth
    ));
    // Its validation bucket (413 without a code) does not occur: every proxy error has a code.
    let mut big = jpeg(8, 8);
    big.resize(5 * 1024 * 1024 + 100_000, 0);
    let raw = post_raw(&proxy.url, Some(KEY), Some(big), None, &[]).await;
    assert!(matches!(
        old_client(raw.status, &serde_json::to_vec(&raw.json).unwrap()),
        OldClient::Business(_)
    ));
    // The remaining buckets exist in the old client only for other servers.
    assert!(matches!(old_client(422, b"{}"), OldClient::Validation));
    assert!(matches!(old_client(503, b""), OldClient::Server));
}

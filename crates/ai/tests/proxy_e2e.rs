//! The proxy end to end: real router on 127.0.0.1:0, real provider client, FakeLlm upstream.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ai::{Deadline, Recognizer};
use common::*;
use domain::error::{AiErrorCode, Locale};
use serde_json::json;
use testkit::fake_llm::{Behavior, FakeLlm};

const KEYS: &str = "primary:proxy-secret-0123456789abcdef0123456789";

async fn setup() -> (FakeLlm, Proxy) {
    let llm = FakeLlm::start().await;
    let proxy = spawn_proxy(provider_config(&llm), KEYS).await;
    (llm, proxy)
}

fn deadline_in(ms: u64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    (now + ms).to_string()
}

#[tokio::test]
async fn success_returns_items_with_aliases_and_records_a_proper_upstream_request() {
    let (llm, proxy) = setup().await;
    llm.push(Behavior::Success(FakeLlm::items(&[
        ("Гречка", 200.0, 400.0, 8.0, 2.0, 80.0),
        ("Загадочный соус шефа", 30.0, 60.0, 0.5, 5.0, 3.0),
    ])));
    let raw = post_raw(
        &proxy.url,
        Some(KEY),
        Some(jpeg(640, 480)),
        Some("гречка 200 г и соус"),
        &[("X-Request-ID", "trace-abc-123")],
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.json);
    let v = &raw.json;
    assert_eq!(v["status"], "success");
    assert_eq!(v["is_food"], true);
    assert_eq!(v["trace_id"], "trace-abc-123");
    assert_eq!(raw.headers["x-request-id"], "trace-abc-123");
    assert_eq!(raw.headers["x-trace-id"], "trace-abc-123");
    let items = v["result"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let buckwheat = &items[0];
    assert_eq!(buckwheat["grounded"], true, "{buckwheat}");
    assert_eq!(buckwheat["source"], "table");
    assert_eq!(buckwheat["amount_grams"], buckwheat["grams"]);
    assert_eq!(buckwheat["calories"], buckwheat["kcal"]);
    assert_eq!(buckwheat["carbs"], buckwheat["carbohydrates"]);
    assert_ne!(buckwheat["kcal"], 400.0, "table values replace the model's");
    assert_eq!(items[1]["grounded"], false);
    assert_eq!(items[1]["source"], "model");
    let total = &v["result"]["total"];
    let sum = buckwheat["kcal"].as_f64().unwrap() + items[1]["kcal"].as_f64().unwrap();
    assert!((total["kcal"].as_f64().unwrap() - sum).abs() < 0.11);
    assert_eq!(total["calories"], total["kcal"]);

    let reqs = llm.requests();
    assert_eq!(reqs.len(), 1, "one upstream request per photo by default");
    let r = &reqs[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.model(), Some(MODEL));
    assert_eq!(r.bearer(), Some("llm-key"));
    let rf = r.response_format().unwrap();
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["strict"], true);
    let required = rf["json_schema"]["schema"]["required"].as_array().unwrap();
    for k in ["is_food", "confidence", "reason", "items", "notes"] {
        assert!(required.contains(&json!(k)), "{k}");
    }
    let (mime, bytes) = r.image().unwrap();
    assert_eq!(mime, "image/jpeg");
    let info = imaging::probe(&bytes, 10 << 20).unwrap();
    assert_eq!(info.format, imaging::ImageFormat::Jpeg);
    assert!(info.width.max(info.height) <= 1024);
    // The comment travels as its own delimited part, never inside the system prompt.
    let texts = r.user_texts();
    let comment_part = texts.iter().find(|t| t.contains("гречка 200 г")).unwrap();
    assert!(comment_part.contains("<<<USER_COMMENT") && comment_part.contains("USER_COMMENT>>>"));
    assert!(comment_part.contains("точный вес"));
    assert!(!r.system_prompt().unwrap().contains("гречка 200 г"));
    // The trace id travels upstream; the proxy key does not.
    assert_eq!(
        r.headers.get("x-request-id").map(String::as_str),
        Some("trace-abc-123")
    );
    assert!(r.headers.values().all(|v| !v.contains(KEY)));
}

#[tokio::test]
async fn the_client_reads_a_success_into_a_typed_recognition() {
    let (llm, proxy) = setup().await;
    llm.push(Behavior::Fenced(FakeLlm::items(&[(
        "Яблоко",
        180.0,
        94.0,
        0.5,
        0.4,
        25.0,
    )])));
    let c = client(&proxy.url, KEY, Some("primary"));
    let rec = c
        .recognize(
            jpeg(320, 240),
            Some("яблоко".into()),
            Locale::Ru,
            Deadline::after(Duration::from_secs(20)),
            "t-fenced",
        )
        .await
        .unwrap();
    assert_eq!(rec.items.len(), 1);
    assert_eq!(rec.items[0].grams, 180.0);
    assert!(rec.is_food);
    assert_eq!(rec.trace_id, "t-fenced");
    assert!(rec.totals.kcal > 0.0);
    // The client sends the deadline and trace id.
    let r = &llm.requests()[0];
    assert_eq!(
        r.headers.get("x-request-id").map(String::as_str),
        Some("t-fenced")
    );
}

async fn expect_failure(
    behaviors: Vec<Behavior>,
    code: AiErrorCode,
    status: u16,
) -> (FakeLlm, common::Raw) {
    let (llm, proxy) = setup().await;
    for b in behaviors {
        llm.push(b);
    }
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(200, 150)), None, &[]).await;
    assert_eq!(raw.status, status, "{code:?}: {}", raw.json);
    assert_eq!(raw.json["status"], "error");
    assert_eq!(raw.json["error_code"], code.as_str());
    assert_eq!(raw.json["error"], code.as_str(), "legacy key");
    assert_eq!(raw.json["error_message"], raw.json["user_message"]);
    assert!(!raw.json["user_title"].as_str().unwrap().is_empty());
    assert_eq!(raw.json["allow_retry"], code.def().allow_retry);
    // Our client maps it to the same catalogue code.
    (llm, raw)
}

#[tokio::test]
async fn not_food_is_unsupported_content() {
    let (llm, _) = expect_failure(
        vec![Behavior::NotFood],
        AiErrorCode::UnsupportedContent,
        400,
    )
    .await;
    assert_eq!(llm.request_count(), 1);
}

#[tokio::test]
async fn low_confidence_without_items_is_low_confidence() {
    expect_failure(
        vec![Behavior::LowConfidence(json!([]))],
        AiErrorCode::LowConfidence,
        400,
    )
    .await;
}

#[tokio::test]
async fn low_confidence_with_items_succeeds() {
    let (llm, proxy) = setup().await;
    llm.push(Behavior::LowConfidence(FakeLlm::items(&[(
        "Что-то съедобное",
        100.0,
        120.0,
        4.0,
        4.0,
        17.0,
    )])));
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(200, 150)), None, &[]).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.json["confidence"], 0.3);
}

#[tokio::test]
async fn empty_items_is_empty_result() {
    expect_failure(vec![Behavior::EmptyItems], AiErrorCode::EmptyResult, 400).await;
}

#[tokio::test]
async fn malformed_json_is_upstream_error_without_retry() {
    let (llm, _) = expect_failure(vec![Behavior::Malformed], AiErrorCode::UpstreamError, 502).await;
    assert_eq!(llm.request_count(), 1, "parse errors are not retried");
}

#[tokio::test]
async fn truncated_json_is_upstream_error() {
    expect_failure(vec![Behavior::Truncated], AiErrorCode::UpstreamError, 502).await;
}

#[tokio::test]
async fn refusal_is_unsupported_content() {
    expect_failure(
        vec![Behavior::Refusal],
        AiErrorCode::UnsupportedContent,
        400,
    )
    .await;
}

#[tokio::test]
async fn persistent_rate_limit_is_rate_limit_with_retry_after() {
    let rl = || Behavior::RateLimited {
        retry_after_secs: 0,
    };
    let (llm, raw) = expect_failure(vec![rl(), rl(), rl()], AiErrorCode::RateLimit, 429).await;
    assert_eq!(llm.request_count(), 3);
    assert!(raw.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn persistent_server_errors_are_upstream_error_after_three_attempts() {
    let (llm, _) = expect_failure(
        vec![
            Behavior::ServerError,
            Behavior::ServerError,
            Behavior::ServerError,
        ],
        AiErrorCode::UpstreamError,
        502,
    )
    .await;
    assert_eq!(llm.request_count(), 3);
}

#[tokio::test]
async fn upstream_401_is_misconfiguration_with_one_request() {
    let (llm, raw) = expect_failure(
        vec![Behavior::Unauthorized],
        AiErrorCode::AiServiceMisconfigured,
        503,
    )
    .await;
    assert_eq!(llm.request_count(), 1);
    assert_eq!(raw.json["allow_retry"], false);
}

#[tokio::test]
async fn a_slow_provider_ends_at_the_callers_deadline() {
    let (llm, proxy) = setup().await;
    llm.push(Behavior::Delay(
        Duration::from_secs(10),
        Box::new(Behavior::EmptyItems),
    ));
    let started = std::time::Instant::now();
    let raw = post_raw(
        &proxy.url,
        Some(KEY),
        Some(jpeg(200, 150)),
        None,
        &[("X-Request-Deadline", &deadline_in(1500))],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(raw.status, 504, "{}", raw.json);
    assert_eq!(raw.json["error_code"], "UPSTREAM_TIMEOUT");
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert_eq!(llm.request_count(), 1, "no retry beyond the deadline");
}

#[tokio::test]
async fn the_client_maps_a_proxy_timeout_and_its_own_timeout() {
    let (llm, proxy) = setup().await;
    llm.set_default(Behavior::Delay(
        Duration::from_secs(10),
        Box::new(Behavior::EmptyItems),
    ));
    let c = client(&proxy.url, KEY, None);
    let err = c
        .recognize(
            jpeg(100, 100),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_millis(1200)),
            "t",
        )
        .await
        .unwrap_err();
    // The proxy answers UPSTREAM_TIMEOUT within the deadline; the client passes the code on.
    assert_eq!(err.code, AiErrorCode::UpstreamTimeout, "{err}");
    // A proxy that never answers: the client's own timeout → AI_TIMEOUT.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            conns.push(s);
        }
    });
    let c = client(&format!("http://{addr}"), KEY, None);
    let started = std::time::Instant::now();
    let err = c
        .recognize(
            jpeg(100, 100),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_millis(300)),
            "t",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, AiErrorCode::AiTimeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    hold.abort();
}

#[tokio::test]
async fn gated_mode_calls_the_gate_model_first() {
    let llm = FakeLlm::start().await;
    let proxy = spawn_proxy(gated(provider_config(&llm)), KEYS).await;
    // Not food: the gate alone decides, no recognition call.
    llm.push(Behavior::Gate {
        is_food: false,
        confidence: 0.9,
    });
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(200, 150)), None, &[]).await;
    assert_eq!(raw.json["error_code"], "UNSUPPORTED_CONTENT");
    assert_eq!(llm.request_count(), 1);
    assert_eq!(llm.requests()[0].model(), Some(GATE_MODEL));
    // Unreadable gate reply → GATE_ERROR 502.
    llm.push(Behavior::Content("I think it's food".into()));
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(200, 150)), None, &[]).await;
    assert_eq!(
        (raw.status, raw.json["error_code"].as_str()),
        (502, Some("GATE_ERROR"))
    );
    // Food: gate then recognition.
    llm.push(Behavior::Gate {
        is_food: true,
        confidence: 0.4,
    });
    llm.push(Behavior::Success(FakeLlm::items(&[(
        "Рис", 150.0, 195.0, 4.0, 0.5, 42.0,
    )])));
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(200, 150)), None, &[]).await;
    assert_eq!(raw.status, 200, "{}", raw.json);
    assert_eq!(
        raw.json["confidence"], 0.4,
        "the gate's confidence is reported"
    );
    let reqs = llm.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[2].model(), Some(GATE_MODEL));
    assert_eq!(reqs[3].model(), Some(MODEL));
    // Low band and an empty recognition → LOW_CONFIDENCE.
    llm.push(Behavior::Gate {
        is_food: true,
        confidence: 0.3,
    });
    llm.push(Behavior::EmptyItems);
    let raw = post_raw(&proxy.url, Some(KEY), Some(jpeg(200, 150)), None, &[]).await;
    assert_eq!(raw.json["error_code"], "LOW_CONFIDENCE");
}

#[tokio::test]
async fn missing_and_wrong_keys_are_401() {
    let (llm, proxy) = setup().await;
    let missing = post_raw(&proxy.url, None, Some(jpeg(10, 10)), None, &[]).await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json,
        json!({"detail": "Invalid or missing API key"})
    );
    let wrong = post_raw(&proxy.url, Some("nope"), Some(jpeg(10, 10)), None, &[]).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json["detail"], "Invalid or missing API key");
    assert_eq!(llm.request_count(), 0);
    // The backend client turns it into a non-retryable misconfiguration.
    let err = client(&proxy.url, "wrong-secret", None)
        .recognize(
            jpeg(10, 10),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(5)),
            "t",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, AiErrorCode::AiServiceMisconfigured);
    assert!(!err.allow_retry());
}

#[tokio::test]
async fn bad_images_get_their_codes_and_never_reach_the_model() {
    let (llm, proxy) = setup().await;
    let mut truncated = jpeg(256, 256);
    truncated.truncate(truncated.len() / 2);
    let cases: Vec<(Option<Vec<u8>>, u16, &str)> = vec![
        (Some(heic()), 400, "UNSUPPORTED_IMAGE_FORMAT"),
        (
            Some(b"just some text, not a photo".to_vec()),
            400,
            "INVALID_IMAGE",
        ),
        (Some(truncated), 400, "IMAGE_DECODE_FAILED"),
        (Some(Vec::new()), 400, "INVALID_IMAGE"),
        (None, 400, "INVALID_IMAGE"),
        (
            Some(b"GIF89a\x01\x00\x01\x00".to_vec()),
            400,
            "UNSUPPORTED_IMAGE_FORMAT",
        ),
    ];
    for (image, status, code) in cases {
        let raw = post_raw(&proxy.url, Some(KEY), image, None, &[]).await;
        assert_eq!(
            (raw.status, raw.json["error_code"].as_str()),
            (status, Some(code)),
            "{}",
            raw.json
        );
    }
    // 5 MiB + 1 byte of a "JPEG": 413 before anything is decoded.
    let mut big = jpeg(16, 16);
    big.resize(5 * 1024 * 1024 + 1, 0);
    let raw = post_raw(&proxy.url, Some(KEY), Some(big), None, &[]).await;
    assert_eq!(
        (raw.status, raw.json["error_code"].as_str()),
        (413, Some("IMAGE_TOO_LARGE"))
    );
    assert_eq!(llm.request_count(), 0);
    // Not multipart at all.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/ai/recognize-food", proxy.url))
        .header("X-API-Key", KEY)
        .json(&json!({"image": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
}

#[tokio::test]
async fn a_12_megapixel_photo_is_normalised_before_the_upstream_call() {
    let (llm, proxy) = setup().await;
    let photo = jpeg(4000, 3000);
    assert!(photo.len() < 5 * 1024 * 1024);
    let raw = post_raw(&proxy.url, Some(KEY), Some(photo.clone()), None, &[]).await;
    assert_eq!(raw.status, 200, "{}", raw.json);
    let (mime, bytes) = llm.requests()[0].image().unwrap();
    assert_eq!(mime, "image/jpeg");
    let info = imaging::probe(&bytes, 10 << 20).unwrap();
    assert_eq!((info.width, info.height), (1024, 768));
    assert!(bytes.len() < photo.len());
}

#[tokio::test]
async fn a_png_sent_as_jpeg_is_sniffed_and_normalised() {
    let (llm, proxy) = setup().await;
    // post_raw declares image/jpeg and photo.jpg; the bytes are a PNG.
    let raw = post_raw(&proxy.url, Some(KEY), Some(png(64, 48)), None, &[]).await;
    assert_eq!(raw.status, 200, "{}", raw.json);
    let (mime, bytes) = llm.requests()[0].image().unwrap();
    assert_eq!(mime, "image/jpeg");
    assert_eq!(imaging::sniff(&bytes), Some(imaging::ImageFormat::Jpeg));
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// A grey RGB PNG with stored (uncompressed) deflate blocks: no dev-dependency for one test.
fn png(w: u32, h: u32) -> Vec<u8> {
    let chunk = |out: &mut Vec<u8>, kind: &[u8], data: &[u8]| {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(data);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::new();
    for _ in 0..h {
        raw.push(0);
        raw.extend(std::iter::repeat_n(200u8, w as usize * 3));
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn trace_id_falls_back_to_x_trace_id_then_is_generated() {
    let (_llm, proxy) = setup().await;
    let raw = post_raw(
        &proxy.url,
        Some(KEY),
        Some(jpeg(50, 50)),
        None,
        &[("X-Trace-Id", "legacy-trace")],
    )
    .await;
    assert_eq!(raw.json["trace_id"], "legacy-trace");
    assert_eq!(raw.headers["x-request-id"], "legacy-trace");
    let raw = post_raw(
        &proxy.url,
        Some(KEY),
        Some(jpeg(50, 50)),
        None,
        &[("X-Request-ID", "bad id with spaces")],
    )
    .await;
    let generated = raw.json["trace_id"].as_str().unwrap();
    assert_eq!(generated.len(), 32);
    assert_eq!(raw.headers["x-trace-id"], generated);
}

#[tokio::test]
async fn auth_check_health_and_liveness() {
    let (_llm, proxy) = setup().await;
    let http = reqwest::Client::new();
    let ok = http
        .get(format!("{}/v1/auth-check", proxy.url))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 204);
    assert_eq!(ok.headers()["x-key-id"], "primary");
    let bad = http
        .get(format!("{}/v1/auth-check", proxy.url))
        .header("X-API-Key", "nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 401);
    for path in ["/health", "/livez"] {
        let r = http
            .get(format!("{}{path}", proxy.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    }
    assert_eq!(
        client(&proxy.url, KEY, Some("primary"))
            .auth_check(Duration::from_secs(2))
            .await
            .unwrap(),
        "primary"
    );
    let err = client(&proxy.url, "nope", None)
        .auth_check(Duration::from_secs(2))
        .await
        .unwrap_err();
    assert_eq!(err.code, AiErrorCode::AiServiceMisconfigured);
}

#[tokio::test]
async fn readiness_checks_the_provider_key_and_model_and_is_cached() {
    let llm = FakeLlm::start().await;
    llm.set_models(&["other/model", MODEL]);
    let proxy = spawn_proxy(provider_config(&llm), KEYS).await;
    let get = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        (
            r.status().as_u16(),
            r.json::<serde_json::Value>().await.unwrap(),
        )
    };
    let (status, body) = get(format!("{}/readyz", proxy.url)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["provider"], "ok");
    let hits = llm.probe_count();
    let _ = get(format!("{}/readyz", proxy.url)).await;
    assert_eq!(llm.probe_count(), hits, "a good probe is cached");

    // A revoked key and a missing model are readiness failures.
    let llm2 = FakeLlm::start().await;
    llm2.require_key(Some("another-key"));
    let proxy2 = spawn_proxy(provider_config(&llm2), KEYS).await;
    let (status, body) = get(format!("{}/readyz", proxy2.url)).await;
    assert_eq!(
        (status, body["checks"]["provider"].as_str()),
        (503, Some("auth_rejected"))
    );

    let llm3 = FakeLlm::start().await;
    llm3.set_models(&["someone/else"]);
    let proxy3 = spawn_proxy(provider_config(&llm3), KEYS).await;
    let (status, body) = get(format!("{}/readyz", proxy3.url)).await;
    assert_eq!(
        (status, body["checks"]["provider"].as_str()),
        (503, Some("model_not_found"))
    );
}

#[tokio::test]
async fn two_accepted_keys_let_a_client_switch_keys_with_zero_failures() {
    let llm = FakeLlm::start().await;
    let old = "old-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let new = "new-secret-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    let proxy = spawn_proxy(provider_config(&llm), &format!("old:{old},new:{new}")).await;
    let old_client = client(&proxy.url, old, Some("old"));
    let new_client = client(&proxy.url, new, Some("new"));
    let mut failures = 0;
    for i in 0..10 {
        // The sender switches keys halfway through the run.
        let c = if i < 5 { &old_client } else { &new_client };
        let r = c
            .recognize(
                jpeg(64, 64),
                None,
                Locale::Ru,
                Deadline::after(Duration::from_secs(10)),
                &format!("rot-{i}"),
            )
            .await;
        if r.is_err() {
            failures += 1;
        }
    }
    assert_eq!(failures, 0);
    assert_eq!(
        old_client.auth_check(Duration::from_secs(2)).await.unwrap(),
        "old"
    );
    assert_eq!(
        new_client.auth_check(Duration::from_secs(2)).await.unwrap(),
        "new"
    );
    // Step 5 of the rotation: the old key is removed; only the new one works.
    let proxy_after = spawn_proxy(provider_config(&llm), &format!("new:{new}")).await;
    let err = client(&proxy_after.url, old, Some("old"))
        .recognize(
            jpeg(64, 64),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(10)),
            "t",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, AiErrorCode::AiServiceMisconfigured);
    assert!(
        client(&proxy_after.url, new, Some("new"))
            .recognize(
                jpeg(64, 64),
                None,
                Locale::Ru,
                Deadline::after(Duration::from_secs(10)),
                "t"
            )
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn in_process_recognizer_runs_the_same_pipeline_without_http() {
    let llm = FakeLlm::start().await;
    let r = ai::InProcess::new(engine(provider_config(&llm)));
    // The backend holds either implementation behind the same trait object.
    let _as_trait_object: std::sync::Arc<dyn Recognizer> = std::sync::Arc::new(r.clone());
    let rec = r
        .recognize(
            jpeg(1600, 1200),
            Some("  ".into()),
            Locale::En,
            Deadline::after(Duration::from_secs(10)),
            "inproc",
        )
        .await
        .unwrap();
    assert_eq!(rec.items.len(), 1);
    assert_eq!(rec.trace_id, "inproc");
    let req = &llm.requests()[0];
    let info = imaging::probe(&req.image().unwrap().1, 10 << 20).unwrap();
    assert_eq!(info.width, 1024);
    assert!(req.system_prompt().unwrap().starts_with("You are"));
    llm.push(Behavior::NotFood);
    let err = r
        .recognize(
            jpeg(64, 64),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(10)),
            "x",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, AiErrorCode::UnsupportedContent);
    let err = r
        .recognize(
            heic(),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(10)),
            "x",
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, AiErrorCode::UnsupportedImageFormat);
}

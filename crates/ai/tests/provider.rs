//! The provider client against FakeLlm: retries happen here (and only here), inside the
//! deadline, classified from typed causes.

mod common;

use std::time::{Duration, Instant};

use ai::Deadline;
use ai::provider::{ImageRequest, ParseError, ProbeState, Provider, ProviderError, RetryPolicy};
use common::*;
use domain::error::{AiErrorCode, Locale};
use testkit::fake_llm::{Behavior, FakeLlm};

fn req<'a>(jpeg: &'a [u8], deadline: Deadline) -> ImageRequest<'a> {
    ImageRequest {
        jpeg,
        comment: Some("курица 150 г"),
        locale: Locale::Ru,
        deadline,
        trace_id: "prov-test",
    }
}

#[tokio::test]
async fn two_429s_then_success_is_three_requests_with_1s_and_2s_backoff() {
    let llm = FakeLlm::start().await;
    let mut cfg = provider_config(&llm);
    cfg.retry = RetryPolicy::default();
    let p = Provider::new(cfg).unwrap();
    llm.push(Behavior::RateLimited {
        retry_after_secs: 0,
    });
    llm.push(Behavior::RateLimited {
        retry_after_secs: 0,
    });
    let img = jpeg(64, 64);
    let started = Instant::now();
    let a = p
        .analyze(&req(&img, Deadline::after(Duration::from_secs(20))))
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(a.items.len(), 1);
    assert_eq!(llm.request_count(), 3);
    assert!(
        took >= Duration::from_secs(3),
        "1 s + 2 s of backoff, took {took:?}"
    );
    assert!(took < Duration::from_secs(6), "{took:?}");
}

#[tokio::test]
async fn upstream_401_is_one_request_and_a_misconfiguration() {
    let llm = FakeLlm::start().await;
    let p = Provider::new(provider_config(&llm)).unwrap();
    llm.push(Behavior::Unauthorized);
    let img = jpeg(64, 64);
    let e = p
        .analyze(&req(&img, Deadline::after(Duration::from_secs(10))))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        ProviderError::Status {
            status: 401,
            retry_after: None
        }
    );
    assert_eq!(e.code(), AiErrorCode::AiServiceMisconfigured);
    assert!(!e.code().def().allow_retry);
    assert_eq!(llm.request_count(), 1);
}

#[tokio::test]
async fn only_transient_failures_are_retried() {
    let llm = FakeLlm::start().await;
    let p = Provider::new(provider_config(&llm)).unwrap();
    let img = jpeg(64, 64);
    let d = || Deadline::after(Duration::from_secs(10));
    // 500, 500, success: recovered.
    llm.push(Behavior::ServerError);
    llm.push(Behavior::ServerError);
    assert!(p.analyze(&req(&img, d())).await.is_ok());
    assert_eq!(llm.request_count(), 3);
    // Three 500s: given up after 3 attempts.
    for _ in 0..3 {
        llm.push(Behavior::ServerError);
    }
    let e = p.analyze(&req(&img, d())).await.unwrap_err();
    assert_eq!(e.code(), AiErrorCode::UpstreamError);
    assert_eq!(llm.request_count(), 6);
    // Malformed and truncated replies: typed parse errors, never retried.
    llm.push(Behavior::Malformed);
    assert!(matches!(
        p.analyze(&req(&img, d())).await,
        Err(ProviderError::Parse(ParseError::Malformed(_)))
    ));
    llm.push(Behavior::Truncated);
    assert_eq!(
        p.analyze(&req(&img, d())).await.unwrap_err(),
        ProviderError::Parse(ParseError::Truncated)
    );
    assert_eq!(llm.request_count(), 8);
    // A slow answer past the stage timeout: a timeout, retried.
    let mut cfg = provider_config(&llm);
    cfg.recognize_timeout = Duration::from_millis(300);
    let p = Provider::new(cfg).unwrap();
    llm.push(Behavior::Delay(
        Duration::from_secs(2),
        Box::new(Behavior::EmptyItems),
    ));
    let a = p.analyze(&req(&img, d())).await.unwrap();
    assert_eq!(a.items.len(), 1);
    assert_eq!(llm.request_count(), 10);
}

#[tokio::test]
async fn no_request_starts_beyond_the_deadline() {
    let llm = FakeLlm::start().await;
    let p = Provider::new(provider_config(&llm)).unwrap();
    let img = jpeg(64, 64);
    let e = p
        .analyze(&req(&img, Deadline::after(Duration::from_millis(10))))
        .await
        .unwrap_err();
    assert_eq!(e, ProviderError::DeadlineExceeded);
    assert_eq!(e.code(), AiErrorCode::UpstreamTimeout);
    assert_eq!(llm.request_count(), 0);
    // A slow provider: the attempt is cut at the deadline and not retried after it.
    llm.set_default(Behavior::Delay(
        Duration::from_secs(5),
        Box::new(Behavior::EmptyItems),
    ));
    let started = Instant::now();
    let e = p
        .analyze(&req(&img, Deadline::after(Duration::from_millis(800))))
        .await
        .unwrap_err();
    assert_eq!(e, ProviderError::Timeout);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(llm.request_count(), 1);
}

#[tokio::test]
async fn a_long_retry_after_that_does_not_fit_ends_with_rate_limit() {
    let llm = FakeLlm::start().await;
    let mut cfg = provider_config(&llm);
    cfg.retry.max_backoff = Duration::from_secs(30);
    let p = Provider::new(cfg).unwrap();
    llm.push(Behavior::RateLimited {
        retry_after_secs: 20,
    });
    let img = jpeg(64, 64);
    let e = p
        .analyze(&req(&img, Deadline::after(Duration::from_secs(3))))
        .await
        .unwrap_err();
    assert_eq!(e.code(), AiErrorCode::RateLimit);
    assert_eq!(e.retry_after_secs(), Some(20));
    assert_eq!(llm.request_count(), 1);
}

#[tokio::test]
async fn gate_call_uses_the_gate_model_and_schema() {
    let llm = FakeLlm::start().await;
    let p = Provider::new(gated(provider_config(&llm))).unwrap();
    llm.push(Behavior::Gate {
        is_food: true,
        confidence: 0.7,
    });
    let img = jpeg(64, 64);
    let g = p
        .gate(&req(&img, Deadline::after(Duration::from_secs(5))))
        .await
        .unwrap();
    assert_eq!((g.is_food, g.confidence), (Some(true), Some(0.7)));
    let r = &llm.requests()[0];
    assert_eq!(r.model(), Some(GATE_MODEL));
    let schema = &r.response_format().unwrap()["json_schema"]["schema"];
    assert_eq!(
        schema["required"],
        serde_json::json!(["is_food", "confidence", "reason"])
    );
    assert!(
        r.user_texts().iter().all(|t| !t.contains("курица")),
        "the gate gets no comment"
    );
    assert_eq!(r.body["max_tokens"], 200);
}

#[tokio::test]
async fn probe_reports_key_and_model_problems() {
    let llm = FakeLlm::start().await;
    llm.set_models(&[MODEL]);
    let p = Provider::new(provider_config(&llm)).unwrap();
    assert_eq!(p.probe(Duration::from_secs(2)).await, ProbeState::Ok);
    llm.require_key(Some("other"));
    assert_eq!(
        p.probe(Duration::from_secs(2)).await,
        ProbeState::AuthRejected
    );
    let mut cfg = provider_config(&llm);
    cfg.key_check_path = Some("key".into());
    llm.require_key(Some("llm-key"));
    let p = Provider::new(cfg).unwrap();
    assert_eq!(p.probe(Duration::from_secs(2)).await, ProbeState::Ok);
    llm.require_key(Some("rotated"));
    assert_eq!(
        p.probe(Duration::from_secs(2)).await,
        ProbeState::AuthRejected
    );
    // Nothing listening.
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let cfg = ai::provider::ProviderConfig::new(
        url::Url::parse(&format!("http://{addr}/v1")).unwrap(),
        secrecy::SecretString::from("k".to_owned()),
        MODEL,
    );
    assert_eq!(
        Provider::new(cfg)
            .unwrap()
            .probe(Duration::from_secs(2))
            .await,
        ProbeState::Unreachable
    );
}

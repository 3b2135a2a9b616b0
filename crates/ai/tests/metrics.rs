//! Metrics, in their own test binary: a global Prometheus recorder sees only this file's
//! requests.

mod common;

use common::*;
use metrics_exporter_prometheus::PrometheusBuilder;
use testkit::fake_llm::{Behavior, FakeLlm};

fn value(rendered: &str, metric: &str, labels: &[(&str, &str)]) -> f64 {
    rendered
        .lines()
        .filter(|l| l.starts_with(metric) && !l.starts_with('#'))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn requests_auth_failures_upstream_calls_and_gate_decisions_are_counted() {
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .expect("recorder");
    let llm = FakeLlm::start().await;
    let proxy = spawn_proxy(provider_config(&llm), &format!("primary:{KEY}")).await;

    let wrong = post_raw(
        &proxy.url,
        Some("wrong"),
        Some(jpeg(10, 10)),
        None,
        &[("X-Key-Id", "primary")],
    )
    .await;
    assert_eq!(wrong.status, 401);
    let missing = post_raw(&proxy.url, None, Some(jpeg(10, 10)), None, &[]).await;
    assert_eq!(missing.status, 401);
    llm.push(Behavior::RateLimited {
        retry_after_secs: 0,
    });
    let ok = post_raw(&proxy.url, Some(KEY), Some(jpeg(64, 64)), None, &[]).await;
    assert_eq!(ok.status, 200);
    llm.push(Behavior::NotFood);
    let nf = post_raw(&proxy.url, Some(KEY), Some(jpeg(64, 64)), None, &[]).await;
    assert_eq!(nf.status, 400);

    let r = handle.render();
    assert_eq!(
        value(
            &r,
            "aiproxy_auth_failures_total",
            &[("reason", "invalid"), ("key_id", "primary")]
        ),
        1.0,
        "{r}"
    );
    assert_eq!(
        value(&r, "aiproxy_auth_failures_total", &[("reason", "missing")]),
        1.0
    );
    assert_eq!(
        value(&r, "aiproxy_requests_total", &[("status", "401")]),
        2.0
    );
    assert_eq!(
        value(
            &r,
            "aiproxy_requests_total",
            &[("status", "200"), ("error_code", "")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &r,
            "aiproxy_requests_total",
            &[("status", "400"), ("error_code", "UNSUPPORTED_CONTENT")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &r,
            "aiproxy_upstream_requests_total",
            &[("stage", "recognize"), ("model", MODEL), ("status", "429")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &r,
            "aiproxy_upstream_requests_total",
            &[("stage", "recognize"), ("status", "200")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &r,
            "aiproxy_upstream_retries_total",
            &[("stage", "recognize")]
        ),
        1.0
    );
    assert_eq!(
        value(&r, "aiproxy_tokens_total", &[("kind", "prompt")]),
        240.0
    );
    assert_eq!(
        value(&r, "aiproxy_gate_decisions_total", &[("decision", "food")]),
        1.0
    );
    assert_eq!(
        value(
            &r,
            "aiproxy_gate_decisions_total",
            &[("decision", "not_food")]
        ),
        1.0
    );
    assert!(r.contains("aiproxy_request_duration_seconds"));
    assert!(r.contains("aiproxy_upstream_duration_seconds"));
    // No secret ever reaches a label.
    assert!(!r.contains(KEY) && !r.contains("llm-key") && !r.contains("wrong"));
}

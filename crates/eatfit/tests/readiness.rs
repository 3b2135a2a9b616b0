//! `/readyz` with the AI proxy: an authenticated probe, so a wrong key is never "healthy".

use std::sync::Arc;
use std::time::Duration;

use eatfit::ai_probe::AiProxyProbe;
use eatfit::config::AiProxyConfig;
use secrecy::SecretString;
use store::testing::TestDb;
use testkit::app::{Options, TestApp};
use testkit::fake_ai_proxy::FakeAiProxy;

const KEY_1: &str = "proxy-key-one-0123456789abcdef0123456789";
const KEY_2: &str = "proxy-key-two-0123456789abcdef0123456789";

fn probe(url: &str, key: &str) -> Arc<AiProxyProbe> {
    AiProxyProbe::with_cache(
        AiProxyConfig {
            url: url::Url::parse(url).expect("url"),
            secret: SecretString::from(key.to_string()),
            key_id: None,
        },
        Duration::ZERO,
    )
    .expect("probe")
}

async fn readyz(app: &TestApp) -> (u16, serde_json::Value) {
    let r = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn accepted_key_is_ready_and_rejected_key_names_ai_proxy() {
    let proxy = FakeAiProxy::start(&[("k1", KEY_1)]).await;
    let db = TestDb::sqlite().await.expect("db");
    let app = TestApp::spawn_with(
        db,
        Options {
            checks: vec![probe(&proxy.url(), KEY_1)],
            ..Options::default()
        },
    )
    .await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["ai_proxy"], "ok");
    assert_eq!(body["status"], "ready");

    // The proxy rotates to a key we do not hold: readiness turns 503 and says why.
    proxy.set_keys(&[("k2", KEY_2)]);
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["ai_proxy"], "auth_rejected");
    app.finish().await;
}

#[tokio::test]
async fn unreachable_proxy_and_missing_worker_fail_readiness() {
    let db = TestDb::sqlite().await.expect("db");
    let app = TestApp::spawn_with(
        db,
        Options {
            checks: vec![probe("http://127.0.0.1:9", KEY_1)],
            worker_heartbeat: false,
            ..Options::default()
        },
    )
    .await;
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["ai_proxy"], "unreachable");
    assert_eq!(body["checks"]["jobs"], "no_worker");
    assert_eq!(body["checks"]["database"], "ok");
    let text = body.to_string();
    assert!(
        !text.contains("error:") && !text.contains("Connection"),
        "no exception text: {text}"
    );
    app.finish().await;
}

#[tokio::test]
async fn stale_worker_heartbeat_fails_readiness() {
    let db = TestDb::sqlite().await.expect("db");
    let app = TestApp::spawn_with(db, Options::default()).await;
    let (status, _) = readyz(&app).await;
    assert_eq!(status, 200);
    app.clock.advance(chrono::Duration::seconds(61));
    let (status, body) = readyz(&app).await;
    assert_eq!(status, 503);
    assert_eq!(body["checks"]["jobs"], "stale");
    app.finish().await;
}

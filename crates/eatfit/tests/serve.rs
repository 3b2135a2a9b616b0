//! `eatfit serve` as an operator runs it: the real binary, in an empty folder.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

struct Served {
    child: Child,
    base: String,
    metrics: String,
}

fn spawn(dir: &Path, extra: &HashMap<&str, String>) -> Served {
    let port = free_port();
    let mport = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", format!("127.0.0.1:{mport}"))
        .envs(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn eatfit serve");
    Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
        metrics: format!("http://127.0.0.1:{mport}"),
    }
}

async fn wait_live(client: &reqwest::Client, base: &str) -> bool {
    for _ in 0..400 {
        if let Ok(r) = client.get(format!("{base}/livez")).send().await
            && r.status() == 200
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// Sends SIGTERM and returns (exit code, stdout + stderr).
fn stop(mut s: Served) -> (Option<i32>, String) {
    let _ = Command::new("kill")
        .args(["-TERM", &s.child.id().to_string()])
        .status();
    let status = s.child.wait().ok().and_then(|st| st.code());
    let mut out = String::new();
    if let Some(mut o) = s.child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = s.child.stderr.take() {
        let _ = e.read_to_string(&mut out);
    }
    (status, out)
}

#[tokio::test]
async fn serve_in_an_empty_folder_is_live_ready_and_creates_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let served = spawn(dir.path(), &HashMap::new());
    let client = reqwest::Client::new();
    assert!(wait_live(&client, &served.base).await, "no /livez answer");

    let r = client
        .get(format!("{}/readyz", served.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["database"], "ok");
    assert_eq!(body["checks"]["jobs"], "ok");
    assert_eq!(body["checks"]["ai"], "not_configured");
    assert_eq!(body["checks"]["telegram"], "not_configured");

    for alias in ["/live/", "/ready/", "/health/"] {
        let r = client
            .get(format!("{}{alias}", served.base))
            .send()
            .await
            .expect("alias");
        assert_eq!(r.status(), 200, "{alias}");
    }
    let metrics = client
        .get(format!("{}/metrics", served.metrics))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("eatfit_http_requests_total"), "{metrics}");
    assert!(metrics.contains("eatfit_build_info"), "{metrics}");
    // Metrics are on the internal listener only.
    let r = client
        .get(format!("{}/metrics", served.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(r.status(), 404);

    assert!(
        dir.path().join("data/eatfit.db").exists(),
        "SQLite file under ./data"
    );
    let (code, out) = stop(served);
    assert_eq!(code, Some(0), "graceful shutdown: {out}");
    assert!(out.contains("eatfit stopped"), "{out}");
}

#[tokio::test]
async fn configured_secrets_never_reach_a_log_line() {
    let bot_token = "7000000001:AAsecret-bot-token-never-logged-xyz";
    let bot_secret = "botsecret-never-logged-0123456789abcdef";
    let ai_secret = "aisecret-never-logged-0123456789abcdef";
    let proxy = testkit::fake_ai_proxy::FakeAiProxy::start(&[(
        "k1",
        "some-other-key-000000000000000000000",
    )])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let env: HashMap<&str, String> = [
        ("TELEGRAM_BOT_TOKEN", bot_token.to_string()),
        ("TELEGRAM_BOT_API_SECRET", bot_secret.to_string()),
        ("AI_PROXY_URL", proxy.url()),
        ("AI_PROXY_SECRET", ai_secret.to_string()),
        ("RUST_LOG", "trace".to_string()),
        ("LOG_FORMAT", "json".to_string()),
    ]
    .into();
    let served = spawn(dir.path(), &env);
    let client = reqwest::Client::new();
    assert!(wait_live(&client, &served.base).await, "no /livez answer");

    // The proxy rejects our key: readiness fails and names the check.
    let r = client
        .get(format!("{}/readyz", served.base))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["checks"]["ai_proxy"], "auth_rejected");
    assert_eq!(body["status"], "not_ready");

    // Careless callers: a secret as the request id (which we log), in headers and bodies.
    let _ = client
        .post(format!("{}/api/v1/telegram/auth/", served.base))
        .header("X-Request-ID", bot_secret)
        .header("X-Bot-Secret", bot_secret)
        .header(
            "X-Telegram-Init-Data",
            format!("hash=00&auth_date=1&token={bot_token}"),
        )
        .body(format!("{{\"initData\":\"{ai_secret}\"}}"))
        .send()
        .await
        .expect("auth");
    let _ = client
        .get(format!("{}/api/v1/telegram/profile/", served.base))
        .header("X-Trace-Id", ai_secret)
        .send()
        .await
        .expect("profile");

    let (code, out) = stop(served);
    assert_eq!(code, Some(0));
    assert!(out.contains("eatfit starting"), "logs were captured: {out}");
    assert!(
        out.contains("[REDACTED]"),
        "the request id carrying a secret was redacted: {out}"
    );
    for s in [
        bot_token,
        bot_secret,
        ai_secret,
        "AAsecret-bot-token",
        "never-logged-0123",
    ] {
        assert!(!out.contains(s), "secret `{s}` leaked into the logs");
    }
}

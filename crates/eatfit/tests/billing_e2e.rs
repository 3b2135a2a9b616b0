//! The real binary taking a payment against the fake YooKassa: create-payment → the provider
//! marks it paid → the webhook (through a trusted proxy) → the worker re-fetches and activates →
//! `/me/` shows PRO. Without YooKassa credentials `/readyz` reports `yookassa: not_configured`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testkit::fake_yookassa::{FakeYooKassa, SECRET_KEY, SHOP_ID};

const TOKEN: &str = "7000000001:AAe2e-bot-token-0123456789abcdefghij";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn init_data() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    domain::init_data::sign(
        &[
            ("user", r#"{"id":31338,"first_name":"Pay"}"#),
            ("auth_date", &now.to_string()),
        ],
        TOKEN,
    )
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path, port: u16, yk: Option<&FakeYooKassa>) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_eatfit"));
    cmd.arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_API_URL", "http://127.0.0.1:9")
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(yk) = yk {
        cmd.env("YOOKASSA_SHOP_ID", SHOP_ID)
            .env("YOOKASSA_SECRET_KEY", SECRET_KEY)
            .env("YOOKASSA_API_URL", yk.base_url())
            .env("TRUSTED_PROXIES", "127.0.0.1");
    }
    Served(cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}")))
}

async fn wait_up(client: &reqwest::Client, base: &str) {
    for _ in 0..400 {
        if client.get(format!("{base}/livez")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("serve did not start");
}

async fn readyz(client: &reqwest::Client, base: &str) -> serde_json::Value {
    client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("readyz: {e}"))
        .json()
        .await
        .unwrap_or_default()
}

#[tokio::test]
async fn serve_takes_a_payment_through_the_verified_webhook() {
    let yk = FakeYooKassa::start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let _served = serve(dir.path(), port, Some(&yk));
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;
    let ready = readyz(&client, &base).await;
    assert!(ready["checks"].get("yookassa").is_none(), "{ready}");

    let r = client
        .post(format!("{base}/api/v1/billing/create-payment/"))
        .header("X-Telegram-Init-Data", init_data())
        .json(&serde_json::json!({"plan_code": "PRO_MONTHLY"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap_or_default();
    let id = v["yookassa_payment_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    yk.succeed(&id);
    let (s, _) = yk
        .notify(
            &format!("{base}/api/v1/billing/webhooks/yookassa"),
            "payment.succeeded",
            &id,
        )
        .await;
    assert_eq!(s, 200);
    let mut plan = serde_json::Value::Null;
    for _ in 0..200 {
        let me: serde_json::Value = client
            .get(format!("{base}/api/v1/billing/me/"))
            .header("X-Telegram-Init-Data", init_data())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .json()
            .await
            .unwrap_or_default();
        plan = me["plan_code"].clone();
        if plan == "PRO_MONTHLY" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(plan, "PRO_MONTHLY");
}

#[tokio::test]
async fn without_credentials_readiness_says_yookassa_is_not_configured() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let _served = serve(dir.path(), port, None);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_up(&client, &base).await;
    let ready = readyz(&client, &base).await;
    assert_eq!(ready["checks"]["yookassa"], "not_configured", "{ready}");
    let r = client
        .post(format!("{base}/api/v1/billing/create-payment/"))
        .header("X-Telegram-Init-Data", init_data())
        .json(&serde_json::json!({"plan_code": "PRO_MONTHLY"}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 503);
}

//! `eatfit ai-proxy` as a separate process in front of a fake OpenAI-compatible provider, and
//! the backend's client talking to it: key rotation without a failed request, and a rejected
//! key classified as AI_SERVICE_MISCONFIGURED.

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ai::{AiProxyClient, Deadline, Recognizer};
use domain::error::{AiErrorCode, Locale};
use secrecy::SecretString;
use testkit::fake_llm::FakeLlm;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const KEY_1: &str = "proxy-key-one-0123456789abcdef0123456789";
const KEY_2: &str = "proxy-key-two-0123456789abcdef0123456789";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    out.into_inner()
}

struct Proxy {
    child: Child,
    url: String,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn start_proxy(llm: &FakeLlm, secrets: &str) -> Proxy {
    let port = free_port();
    let mut child = Command::new(BIN)
        .arg("ai-proxy")
        .env_clear()
        .env("OPENROUTER_BASE_URL", llm.base_url())
        .env("OPENROUTER_API_KEY", "sk-test-llm-key-0123456789")
        .env("OPENROUTER_MODEL", "test/vision-model")
        .env("API_PROXY_SECRETS", secrets)
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ai-proxy");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if http.get(format!("{url}/livez")).send().await.is_ok() {
            return Proxy { child, url };
        }
        if let Ok(Some(_)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("ai-proxy exited: {err}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("ai-proxy did not start");
}

fn client(url: &str, key: &str, id: &str) -> AiProxyClient {
    AiProxyClient::new(
        url::Url::parse(url).expect("url"),
        SecretString::from(key.to_string()),
        Some(id.to_string()),
        Duration::from_secs(30),
    )
    .expect("client")
}

#[tokio::test]
async fn rotating_keys_fails_no_request_and_a_wrong_key_is_misconfiguration() {
    let llm = FakeLlm::start().await;
    let proxy = start_proxy(&llm, &format!("k1:{KEY_1},k2:{KEY_2}")).await;
    let image = jpeg();

    // The sender switches from key 1 to key 2 mid-run: every request succeeds.
    let mut failures = Vec::new();
    for i in 0..6 {
        let c = if i < 3 {
            client(&proxy.url, KEY_1, "k1")
        } else {
            client(&proxy.url, KEY_2, "k2")
        };
        let deadline = Deadline::after(Duration::from_secs(20));
        match c
            .recognize(image.clone(), None, Locale::Ru, deadline, &format!("t{i}"))
            .await
        {
            Ok(r) => assert!(!r.items.is_empty(), "request {i} returned no items"),
            Err(e) => failures.push((i, e.code)),
        }
    }
    assert!(
        failures.is_empty(),
        "rotation failed requests: {failures:?}"
    );

    // auth-check names the key the proxy accepted; a wrong key is misconfiguration.
    let accepted = client(&proxy.url, KEY_2, "k2")
        .auth_check(Duration::from_secs(5))
        .await
        .expect("auth-check");
    assert_eq!(accepted, "k2");
    let wrong = client(&proxy.url, "not-a-key-0123456789abcdef0123456789", "k9");
    let err = wrong
        .recognize(
            image,
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(20)),
            "t-wrong",
        )
        .await
        .expect_err("wrong key");
    assert_eq!(err.code, AiErrorCode::AiServiceMisconfigured);
    assert!(!err.allow_retry());
}

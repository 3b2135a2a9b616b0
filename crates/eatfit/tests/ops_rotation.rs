//! The zero-downtime rotation of docs/runbook.md run end to end with real processes: the API
//! (`eatfit serve`: api + worker) and `eatfit ai-proxy`, each behind a TCP switch that plays the
//! load balancer of a rolling restart. While requests keep flowing — readiness (an
//! authenticated call to the proxy), bot calls with `X-Bot-Secret`, and photo recognitions
//! through the proxy — both secrets are rotated: the AI proxy key (`API_PROXY_SECRETS` on the
//! verifier, `AI_PROXY_SECRET`/`AI_PROXY_KEY_ID` on the sender) and the bot API secret
//! (`TELEGRAM_BOT_API_SECRET` + `TELEGRAM_BOT_API_SECRETS_PREVIOUS` on the API, the new value on
//! the bot). No request may fail; afterwards the old keys are refused. (The Telegram webhook
//! secret set, `TELEGRAM_WEBHOOK_SECRET`, follows the same procedure but is not driven here: it
//! needs the bot in webhook mode against a fake Bot API.)

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use testkit::fake_llm::FakeLlm;
use tokio::net::{TcpListener, TcpStream};

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const TOKEN: &str = "7000000001:AArotation-bot-token-0123456789abcd";
const AI_KEY_1: &str = "rotation-ai-key-one-0123456789abcdef01234";
const AI_KEY_2: &str = "rotation-ai-key-two-0123456789abcdef01234";
const BOT_1: &str = "rotation-bot-secret-one-0123456789abcdef";
const BOT_2: &str = "rotation-bot-secret-two-0123456789abcdef";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A TCP switch: new connections go to the current backend; existing ones finish where they
/// started (what a load balancer does during a rolling restart).
#[derive(Clone)]
struct Switch {
    addr: SocketAddr,
    backend: Arc<Mutex<SocketAddr>>,
}

impl Switch {
    async fn start(backend: SocketAddr) -> Switch {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let backend = Arc::new(Mutex::new(backend));
        let b = backend.clone();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = *b.lock().unwrap_or_else(|e| e.into_inner());
                tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Switch { addr, backend }
    }

    fn point_to(&self, backend: SocketAddr) {
        *self.backend.lock().unwrap_or_else(|e| e.into_inner()) = backend;
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

struct Proc {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn wait_ready(url: &str, path: &str) {
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{url}{path}")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{url}{path} never became ready");
}

async fn proxy(llm: &FakeLlm, secrets: &str) -> Proc {
    let port = free_port();
    let child = Command::new(BIN)
        .arg("ai-proxy")
        .env_clear()
        .env("OPENROUTER_BASE_URL", llm.base_url())
        .env("OPENROUTER_API_KEY", "sk-rotation-llm-0123456789")
        .env("OPENROUTER_MODEL", "rotation/vision")
        .env("API_PROXY_SECRETS", secrets)
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn ai-proxy: {e}"));
    let p = Proc {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    wait_ready(&format!("http://{}", p.addr), "/livez").await;
    p
}

async fn api(
    dir: &std::path::Path,
    proxy_url: &str,
    ai: (&str, &str),
    bot: &str,
    bot_previous: &str,
) -> Proc {
    let port = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .env("TELEGRAM_BOT_TOKEN", TOKEN)
        .env("TELEGRAM_BOT_API_SECRET", bot)
        .env("TELEGRAM_BOT_API_SECRETS_PREVIOUS", bot_previous)
        .env("AI_PROXY_URL", proxy_url)
        .env("AI_PROXY_KEY_ID", ai.0)
        .env("AI_PROXY_SECRET", ai.1)
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn serve: {e}"));
    let p = Proc {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    };
    wait_ready(&format!("http://{}", p.addr), "/readyz").await;
    p
}

fn init_data(tg: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    domain::init_data::sign(
        &[
            ("user", &format!(r#"{{"id":{tg},"first_name":"R"}}"#)),
            ("auth_date", &now.to_string()),
        ],
        TOKEN,
    )
}

fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(96, 64, |x, y| {
        image::Rgb([(x * 2) as u8, (y * 3) as u8, 50])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("{e}"));
    out.into_inner()
}

/// Shared state of the load.
#[derive(Default)]
struct Load {
    stop: AtomicBool,
    ok: AtomicUsize,
    recognised: AtomicUsize,
    failures: Mutex<Vec<String>>,
    /// Which bot secret the "bot" sends: 1 or 2.
    bot_key: AtomicI64,
}

impl Load {
    fn fail(&self, what: String) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(what);
    }
}

/// No connection reuse: a rolling restart must not depend on a pooled connection's luck.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn readiness_and_bot_load(base: String, load: Arc<Load>) {
    let client = client();
    let mut tg = 700_000_000i64;
    while !load.stop.load(Ordering::Relaxed) {
        match client.get(format!("{base}/readyz")).send().await {
            Ok(r) if r.status() == 200 => {
                load.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => {
                let s = r.status();
                load.fail(format!(
                    "readyz {s}: {}",
                    r.text().await.unwrap_or_default()
                ))
            }
            Err(e) => load.fail(format!("readyz: {e}")),
        }
        tg += 1;
        let secret = if load.bot_key.load(Ordering::Relaxed) == 2 {
            BOT_2
        } else {
            BOT_1
        };
        match client
            .get(format!(
                "{base}/api/v1/telegram/users/get-or-create/?telegram_id={tg}&first_name=Bot"
            ))
            .header("X-Bot-Secret", secret)
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => {
                load.ok.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => load.fail(format!("bot call {}", r.status())),
            Err(e) => load.fail(format!("bot call: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn recognition_load(base: String, load: Arc<Load>) {
    let client = client();
    // A new user per photo: the FREE plan allows 3 a day each.
    let mut tg = 800_000_000i64;
    while !load.stop.load(Ordering::Relaxed) {
        tg += 1;
        let form = reqwest::multipart::Form::new()
            .part(
                "image",
                reqwest::multipart::Part::bytes(photo()).file_name("p.jpg"),
            )
            .text("meal_type", "LUNCH");
        let submitted = client
            .post(format!("{base}/api/v1/ai/recognize/"))
            .header("X-Telegram-Init-Data", init_data(tg))
            .multipart(form)
            .send()
            .await;
        let task = match submitted {
            Ok(r) if r.status() == 202 => r
                .json::<serde_json::Value>()
                .await
                .ok()
                .and_then(|v| v["task_id"].as_str().map(str::to_string)),
            Ok(r) => {
                load.fail(format!("submit {}", r.status()));
                None
            }
            Err(e) => {
                load.fail(format!("submit: {e}"));
                None
            }
        };
        let Some(task) = task else { continue };
        let mut outcome = None;
        for _ in 0..400 {
            match client
                .get(format!("{base}/api/v1/ai/task/{task}/"))
                .header("X-Telegram-Init-Data", init_data(tg))
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    if v["status"] != "processing" {
                        outcome = Some(v);
                        break;
                    }
                }
                Ok(r) => {
                    load.fail(format!("poll {}", r.status()));
                    break;
                }
                Err(e) => {
                    load.fail(format!("poll: {e}"));
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        match outcome {
            Some(v) if v["status"] == "success" => {
                load.recognised.fetch_add(1, Ordering::Relaxed);
            }
            Some(v) => load.fail(format!("recognition {v}")),
            None => {}
        }
    }
}

/// Lets the load run against the current configuration for a while.
async fn soak(load: &Load, at_least: usize) {
    let start = load.ok.load(Ordering::Relaxed);
    for _ in 0..400 {
        if load.ok.load(Ordering::Relaxed) >= start + at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A rolling restart: the new process is ready, the switch points at it, the old one drains
/// and stops.
async fn roll(switch: &Switch, old: Proc, new: &Proc) {
    switch.point_to(new.addr);
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(old);
}

#[tokio::test]
async fn rotating_the_proxy_key_and_the_bot_secret_under_load_fails_no_request() {
    let llm = FakeLlm::start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let k1 = format!("k1:{AI_KEY_1}");
    let k12 = format!("k1:{AI_KEY_1},k2:{AI_KEY_2}");
    let k2 = format!("k2:{AI_KEY_2}");

    let p1 = proxy(&llm, &k1).await;
    let proxy_switch = Switch::start(p1.addr).await;
    let a1 = api(dir.path(), &proxy_switch.url(), ("k1", AI_KEY_1), BOT_1, "").await;
    let api_switch = Switch::start(a1.addr).await;

    let load = Arc::new(Load::default());
    load.bot_key.store(1, Ordering::Relaxed);
    let base = api_switch.url();
    let l1 = tokio::spawn(readiness_and_bot_load(base.clone(), load.clone()));
    let l2 = tokio::spawn(recognition_load(base.clone(), load.clone()));
    soak(&load, 10).await;

    // 1–2. The verifiers learn the new keys: the proxy accepts k1 and k2, the API accepts
    //      both bot secrets (new one as current, old one as previous).
    let p2 = proxy(&llm, &k12).await;
    roll(&proxy_switch, p1, &p2).await;
    soak(&load, 10).await;
    // 3. The senders switch: the API sends k2 to the proxy, the bot sends the new secret.
    let a2 = api(
        dir.path(),
        &proxy_switch.url(),
        ("k2", AI_KEY_2),
        BOT_2,
        BOT_1,
    )
    .await;
    roll(&api_switch, a1, &a2).await;
    soak(&load, 10).await;
    load.bot_key.store(2, Ordering::Relaxed);
    soak(&load, 10).await;
    // 5. The old keys are removed.
    let p3 = proxy(&llm, &k2).await;
    roll(&proxy_switch, p2, &p3).await;
    soak(&load, 10).await;
    let a3 = api(dir.path(), &proxy_switch.url(), ("k2", AI_KEY_2), BOT_2, "").await;
    roll(&api_switch, a2, &a3).await;
    soak(&load, 10).await;

    load.stop.store(true, Ordering::Relaxed);
    let _ = l1.await;
    let _ = l2.await;
    let failures = load
        .failures
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    assert!(failures.is_empty(), "failed requests: {failures:?}");
    let ok = load.ok.load(Ordering::Relaxed);
    let recognised = load.recognised.load(Ordering::Relaxed);
    assert!(ok >= 60, "too little load to prove anything: {ok}");
    assert!(
        recognised >= 2,
        "recognitions went through the proxy: {recognised}"
    );

    // The old keys are refused now.
    let http = client();
    let old_ai = http
        .get(format!("{}/v1/auth-check", proxy_switch.url()))
        .header("X-API-Key", AI_KEY_1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(old_ai.status(), 401);
    let new_ai = http
        .get(format!("{}/v1/auth-check", proxy_switch.url()))
        .header("X-API-Key", AI_KEY_2)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(new_ai.status().is_success(), "{}", new_ai.status());
    let old_bot = http
        .get(format!(
            "{base}/api/v1/telegram/users/get-or-create/?telegram_id=42&first_name=Old"
        ))
        .header("X-Bot-Secret", BOT_1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(old_bot.status(), 403);
    drop(a3);
    drop(p3);
}

#[test]
fn config_fingerprint_shows_which_key_each_role_uses() {
    let fp = |role: &str, envs: &[(&str, &str)]| {
        let out = Command::new(BIN)
            .args(["config", "fingerprint", "--role", role])
            .env_clear()
            .envs(envs.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line = |text: &str, name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .map(|l| l.trim_start_matches(name).trim().to_string())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    };
    let worker_old = fp(
        "worker",
        &[
            ("AI_PROXY_URL", "http://ai-proxy:8001"),
            ("AI_PROXY_SECRET", AI_KEY_1),
        ],
    );
    let worker_new = fp(
        "worker",
        &[
            ("AI_PROXY_URL", "http://ai-proxy:8001"),
            ("AI_PROXY_SECRET", AI_KEY_2),
        ],
    );
    assert_ne!(
        line(&worker_old, "AI_PROXY_SECRET"),
        line(&worker_new, "AI_PROXY_SECRET")
    );
    for text in [&worker_old, &worker_new] {
        assert!(
            !text.contains(AI_KEY_1) && !text.contains(AI_KEY_2),
            "{text}"
        );
    }
}

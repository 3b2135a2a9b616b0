//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use ai::pipeline::EngineConfig;
use ai::provider::{Mode, Provider, ProviderConfig, RetryPolicy};
use ai::proxy::{KeySet, ProxySettings, ProxyState};
use ai::{AiProxyClient, Engine};
use secrecy::SecretString;
use testkit::fake_llm::FakeLlm;

pub const MODEL: &str = "test/vision-model";
pub const GATE_MODEL: &str = "test/gate-model";
pub const KEY: &str = "proxy-secret-0123456789abcdef0123456789";

/// A JPEG of `w`×`h` with a smooth gradient (small file, any size).
pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.push((u32::from(x) * 255 / u32::from(w.max(1))) as u8);
            rgb.push((u32::from(y) * 255 / u32::from(h.max(1))) as u8);
            rgb.push(128);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encode test jpeg");
    out
}

/// A minimal HEIC header (ISO-BMFF `ftyp` with the `heic` brand).
pub fn heic() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&24u32.to_be_bytes());
    v.extend_from_slice(b"ftypheic");
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(b"mif1heic");
    v.extend_from_slice(&[0u8; 64]);
    v
}

/// Fast retries so failure tests do not sleep for seconds.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        min_attempt: Duration::from_millis(50),
    }
}

pub fn provider_config(llm: &FakeLlm) -> ProviderConfig {
    let mut c = ProviderConfig::new(
        url::Url::parse(&llm.base_url()).expect("url"),
        SecretString::from("llm-key".to_owned()),
        MODEL,
    );
    c.retry = fast_retry();
    c
}

pub fn gated(mut c: ProviderConfig) -> ProviderConfig {
    c.mode = Mode::Gated;
    c.gate_model = Some(GATE_MODEL.to_owned());
    c
}

pub fn engine(config: ProviderConfig) -> Arc<Engine> {
    Engine::new(
        Provider::new(config).expect("provider"),
        EngineConfig::default(),
    )
}

pub struct Proxy {
    pub url: String,
    pub state: ProxyState,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The proxy router served on 127.0.0.1:0.
pub async fn spawn_proxy(config: ProviderConfig, keys: &str) -> Proxy {
    let keys = KeySet::parse(&SecretString::from(keys.to_owned())).expect("keys");
    let state = ProxyState::new(engine(config), keys, ProxySettings::default());
    spawn_state(state).await
}

pub async fn spawn_state(state: ProxyState) -> Proxy {
    let router = ai::proxy::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Proxy {
        url: format!("http://{addr}"),
        state,
        server,
    }
}

pub fn client(proxy_url: &str, secret: &str, key_id: Option<&str>) -> AiProxyClient {
    AiProxyClient::new(
        url::Url::parse(proxy_url).expect("url"),
        SecretString::from(secret.to_owned()),
        key_id.map(str::to_owned),
        Duration::from_secs(60),
    )
    .expect("client")
}

pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: serde_json::Value,
}

/// A raw multipart POST to the proxy.
pub async fn post_raw(
    proxy_url: &str,
    key: Option<&str>,
    image: Option<Vec<u8>>,
    comment: Option<&str>,
    extra: &[(&str, &str)],
) -> Raw {
    let mut form = reqwest::multipart::Form::new().text("locale", "ru");
    if let Some(img) = image {
        form = form.part(
            "image",
            reqwest::multipart::Part::bytes(img)
                .file_name("photo.jpg")
                .mime_str("image/jpeg")
                .expect("mime"),
        );
    }
    if let Some(c) = comment {
        form = form.text("user_comment", c.to_owned());
    }
    let mut rb = reqwest::Client::new()
        .post(format!("{proxy_url}/api/v1/ai/recognize-food"))
        .multipart(form);
    if let Some(k) = key {
        rb = rb.header("X-API-Key", k);
    }
    for (k, v) in extra {
        rb = rb.header(*k, *v);
    }
    let resp = rb.send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body");
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Raw {
        status,
        headers,
        json,
    }
}

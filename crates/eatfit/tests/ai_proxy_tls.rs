//! `eatfit ai-proxy` over HTTPS (ops §8.6 T1: backend ↔ proxy over TLS ≥ 1.2) with a private
//! CA generated here: the backend's client trusting that CA recognises a photo, a client that
//! does not trust it and a plain-HTTP request both fail, and half or unreadable TLS settings
//! stop the start with exit 78 naming the variable.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ai::client::FailureKind;
use ai::{AiProxyClient, Deadline, Recognizer};
use api::{CheckState, ReadinessCheck};
use domain::error::{AiErrorCode, Locale};
use eatfit::ai_probe::AiProxyProbe;
use eatfit::config::{AiProxyConfig, EX_CONFIG};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use secrecy::SecretString;
use testkit::fake_llm::FakeLlm;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const KEY: &str = "proxy-key-tls-0123456789abcdef0123456789";

/// A private CA and a server certificate it signed for `localhost` and 127.0.0.1, as PEM files.
struct Pki {
    _dir: tempfile::TempDir,
    ca_pem: String,
    cert_file: PathBuf,
    key_file: PathBuf,
}

fn pki() -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "EatFit24 test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("ca key")).expect("ca");

    let mut leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params");
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).expect("leaf");

    let dir = tempfile::tempdir().expect("tempdir");
    let cert_file = dir.path().join("proxy.crt");
    let key_file = dir.path().join("proxy.key");
    std::fs::write(&cert_file, leaf_cert.pem()).expect("write cert");
    std::fs::write(&key_file, leaf_key.serialize_pem()).expect("write key");
    Pki {
        ca_pem: ca.pem(),
        _dir: dir,
        cert_file,
        key_file,
    }
}

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

/// The ai-proxy command with a complete, valid configuration except TLS.
fn proxy_command(llm_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("ai-proxy")
        .env_clear()
        .env("OPENROUTER_BASE_URL", llm_url)
        .env("OPENROUTER_API_KEY", "sk-test-llm-key-0123456789")
        .env("OPENROUTER_MODEL", "test/vision-model")
        .env("API_PROXY_SECRETS", format!("k1:{KEY}"))
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .stdin(Stdio::null());
    cmd
}

struct Proxy {
    child: Child,
    port: u16,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn ca_cert(pki: &Pki) -> reqwest::Certificate {
    reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).expect("ca pem")
}

async fn start_tls_proxy(llm: &FakeLlm, pki: &Pki) -> Proxy {
    let port = free_port();
    let mut child = proxy_command(&llm.base_url(), port)
        .env("AI_PROXY_TLS_CERT_FILE", &pki.cert_file)
        .env("AI_PROXY_TLS_KEY_FILE", &pki.key_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ai-proxy");
    let http = reqwest::Client::builder()
        .add_root_certificate(ca_cert(pki))
        .build()
        .expect("client");
    for _ in 0..400 {
        if http
            .get(format!("https://127.0.0.1:{port}/livez"))
            .send()
            .await
            .is_ok()
        {
            return Proxy { child, port };
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
    panic!("ai-proxy did not start over https");
}

fn client(url: &str, roots: &[reqwest::Certificate]) -> AiProxyClient {
    AiProxyClient::with_root_certificates(
        url::Url::parse(url).expect("url"),
        SecretString::from(KEY.to_string()),
        Some("k1".to_string()),
        Duration::from_secs(30),
        roots,
    )
    .expect("client")
}

/// Full error chain, for asserting on the cause.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(" <- ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[tokio::test]
async fn proxy_over_tls_serves_clients_that_trust_its_ca_and_refuses_the_rest() {
    let pki = pki();
    let llm = FakeLlm::start().await;
    let proxy = start_tls_proxy(&llm, &pki).await;
    let https = format!("https://127.0.0.1:{}", proxy.port);
    let ca = [ca_cert(&pki)];

    // (1) The backend's client with AI_PROXY_CA_FILE's CA recognises a photo over https.
    let r = client(&https, &ca)
        .recognize(
            jpeg(),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(20)),
            "tls-ok",
        )
        .await
        .expect("recognition over https");
    assert!(!r.items.is_empty());
    // The readiness probe trusts the same CA.
    let probe = AiProxyProbe::with_root_certificates(
        AiProxyConfig {
            url: url::Url::parse(&https).expect("url"),
            secret: SecretString::from(KEY.to_string()),
            key_id: Some("k1".into()),
        },
        &ca,
    )
    .expect("probe");
    assert_eq!(probe.check().await, CheckState::Ok);

    // (2) Without the CA the certificate is not trusted: no request reaches the proxy.
    let err = client(&https, &[])
        .recognize(
            jpeg(),
            None,
            Locale::Ru,
            Deadline::after(Duration::from_secs(20)),
            "tls-untrusted",
        )
        .await
        .expect_err("untrusted certificate");
    assert_eq!(err.code, AiErrorCode::AiServerError);
    assert_eq!(err.kind, FailureKind::Network);
    let e = reqwest::Client::new()
        .get(format!("{https}/livez"))
        .send()
        .await
        .expect_err("untrusted certificate");
    let text = chain(&e);
    assert!(
        text.contains("UnknownIssuer") || text.to_lowercase().contains("certificate"),
        "not a certificate error: {text}"
    );

    // (3) Plain HTTP on the TLS port gets no HTTP answer.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let res = plain
        .get(format!("http://127.0.0.1:{}/livez", proxy.port))
        .send()
        .await;
    assert!(res.is_err(), "plain http answered: {res:?}");

    // The failed handshakes did not hurt the listener.
    let accepted = client(&https, &ca)
        .auth_check(Duration::from_secs(5))
        .await
        .expect("auth-check after failed handshakes");
    assert_eq!(accepted, "k1");
}

/// Runs the binary to completion (it must exit on its own within 20 s).
fn run_to_exit(mut cmd: Command) -> (Option<i32>, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return (status.code(), err);
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ai-proxy kept running although its TLS configuration is invalid");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_config_error(cmd: Command, var: &str) {
    let (code, stderr) = run_to_exit(cmd);
    assert_eq!(code, Some(EX_CONFIG), "{stderr}");
    assert!(
        stderr.contains(&format!("  - {var}:")),
        "stderr does not name {var}: {stderr}"
    );
}

#[test]
fn half_or_unreadable_tls_settings_exit_78_naming_the_variable() {
    let pki = pki();
    let llm_url = "http://127.0.0.1:9/v1";
    let cmd = |cert: Option<&Path>, key: Option<&Path>| {
        let mut c = proxy_command(llm_url, free_port());
        if let Some(p) = cert {
            c.env("AI_PROXY_TLS_CERT_FILE", p);
        }
        if let Some(p) = key {
            c.env("AI_PROXY_TLS_KEY_FILE", p);
        }
        c
    };

    // One without the other names the one that is missing.
    assert_config_error(cmd(Some(&pki.cert_file), None), "AI_PROXY_TLS_KEY_FILE");
    assert_config_error(cmd(None, Some(&pki.key_file)), "AI_PROXY_TLS_CERT_FILE");

    // A certificate file that cannot be read.
    let missing = pki.cert_file.with_file_name("missing.crt");
    assert_config_error(
        cmd(Some(&missing), Some(&pki.key_file)),
        "AI_PROXY_TLS_CERT_FILE",
    );
    // Files that are not what they claim: a key as the certificate, a certificate as the key.
    assert_config_error(
        cmd(Some(&pki.key_file), Some(&pki.key_file)),
        "AI_PROXY_TLS_CERT_FILE",
    );
    assert_config_error(
        cmd(Some(&pki.cert_file), Some(&pki.cert_file)),
        "AI_PROXY_TLS_KEY_FILE",
    );
    // A key that does not belong to the certificate.
    let other_key = pki.key_file.with_file_name("other.key");
    std::fs::write(
        &other_key,
        KeyPair::generate().expect("key").serialize_pem(),
    )
    .expect("write");
    assert_config_error(
        cmd(Some(&pki.cert_file), Some(&other_key)),
        "AI_PROXY_TLS_KEY_FILE",
    );
}

#[test]
fn ca_file_must_hold_a_certificate() {
    use std::collections::HashMap;

    use eatfit::config::{Config, Role};

    let pki = pki();
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).expect("write");
    let env = |path: &Path| -> HashMap<String, String> {
        [
            ("AI_PROXY_URL", "https://127.0.0.1:8001".to_string()),
            ("AI_PROXY_SECRET", KEY.to_string()),
            ("AI_PROXY_CA_FILE", path.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    };
    let config = Config::load(Role::Worker, &env(&ca_file)).expect("valid CA file");
    assert_eq!(config.ai_proxy_ca.len(), 1);

    for bad in [pki.key_file.clone(), dir.path().join("missing.pem")] {
        let err = Config::load(Role::Api, &env(&bad)).expect_err("bad CA file");
        assert!(
            err.problems.iter().any(|p| p.var == "AI_PROXY_CA_FILE"),
            "{err}"
        );
    }
}

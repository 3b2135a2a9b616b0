//! Readiness of the AI proxy: an **authenticated** `GET /v1/auth-check` (204 when our key is
//! accepted), cached for 30 s. A rejected key is the seed incident of this project, so it is a
//! readiness failure and an error log line, never a silent "healthy".

use std::sync::Arc;
use std::time::{Duration, Instant};

use api::{CheckState, ReadinessCheck};
use secrecy::ExposeSecret;
use tokio::sync::Mutex;

use crate::config::AiProxyConfig;

const CACHE_FOR: Duration = Duration::from_secs(30);

/// Probes the AI proxy with our key.
#[derive(Debug)]
pub struct AiProxyProbe {
    config: AiProxyConfig,
    http: reqwest::Client,
    cached: Mutex<Option<(Instant, CheckState)>>,
    cache_for: Duration,
}

impl AiProxyProbe {
    pub fn new(config: AiProxyConfig) -> Result<Arc<Self>, reqwest::Error> {
        Self::build(config, CACHE_FOR, &[])
    }

    /// The same probe with another cache lifetime (tests use zero).
    pub fn with_cache(
        config: AiProxyConfig,
        cache_for: Duration,
    ) -> Result<Arc<Self>, reqwest::Error> {
        Self::build(config, cache_for, &[])
    }

    /// The probe trusting `roots` (AI_PROXY_CA_FILE) on top of the built-in web roots.
    pub fn with_root_certificates(
        config: AiProxyConfig,
        roots: &[reqwest::Certificate],
    ) -> Result<Arc<Self>, reqwest::Error> {
        Self::build(config, CACHE_FOR, roots)
    }

    fn build(
        config: AiProxyConfig,
        cache_for: Duration,
        roots: &[reqwest::Certificate],
    ) -> Result<Arc<Self>, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(3));
        for root in roots {
            builder = builder.add_root_certificate(root.clone());
        }
        Ok(Arc::new(Self {
            config,
            http: builder.build()?,
            cached: Mutex::new(None),
            cache_for,
        }))
    }

    async fn probe(&self) -> CheckState {
        let url = match self.config.url.join("v1/auth-check") {
            Ok(u) => u,
            Err(_) => return CheckState::Failing("bad_url"),
        };
        let trace_id = uuid::Uuid::new_v4().simple().to_string();
        let mut req = self
            .http
            .get(url.clone())
            .header("X-API-Key", self.config.secret.expose_secret())
            .header("X-Request-ID", &trace_id);
        if let Some(id) = &self.config.key_id {
            req = req.header("X-Key-Id", id);
        }
        let started = Instant::now();
        let result = req.send().await;
        let ms = started.elapsed().as_millis() as u64;
        let (state, outcome) = match result {
            Ok(r) if r.status().is_success() => (CheckState::Ok, "ok"),
            Ok(r) if r.status() == 401 || r.status() == 403 => {
                (CheckState::Failing("auth_rejected"), "auth_error")
            }
            Ok(r) if r.status() == 404 => (CheckState::Failing("no_auth_check"), "server_error"),
            Ok(_) => (CheckState::Failing("server_error"), "server_error"),
            Err(e) if e.is_timeout() => (CheckState::Failing("timeout"), "timeout"),
            Err(_) => (CheckState::Failing("unreachable"), "network_error"),
        };
        metrics::counter!("eatfit_ai_proxy_requests_total", "outcome" => outcome, "error_code" => "", "call" => "auth_check")
            .increment(1);
        metrics::gauge!("eatfit_dependency_up", "dep" => "ai_proxy")
            .set(if state == CheckState::Ok { 1.0 } else { 0.0 });
        match state {
            CheckState::Ok => {
                tracing::debug!(callee = "ai_proxy", duration_ms = ms, trace_id = %trace_id, "auth-check ok")
            }
            CheckState::Failing("auth_rejected") => tracing::error!(
                callee = "ai_proxy", duration_ms = ms, trace_id = %trace_id, url = %url,
                "AI proxy REJECTED our key (AI_PROXY_SECRET / AI_PROXY_KEY_ID): every recognition will fail with AI_SERVICE_MISCONFIGURED; compare `eatfit config fingerprint` on both sides"
            ),
            other => {
                tracing::warn!(callee = "ai_proxy", duration_ms = ms, trace_id = %trace_id, url = %url, state = other.as_str(), "AI proxy auth-check failed")
            }
        }
        state
    }
}

#[async_trait::async_trait]
impl ReadinessCheck for AiProxyProbe {
    fn name(&self) -> &'static str {
        "ai_proxy"
    }

    async fn check(&self) -> CheckState {
        let mut cached = self.cached.lock().await;
        if let Some((at, state)) = *cached
            && at.elapsed() < self.cache_for
        {
            return state;
        }
        let state = self.probe().await;
        *cached = Some((Instant::now(), state));
        state
    }
}

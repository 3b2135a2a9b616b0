//! Role wiring: build config-derived state, spawn listeners, workers and the scheduler, and wait
//! for a shutdown signal. Each role's entry point fits on one screen.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::{ApiSettings, AppState, NotConfigured, ReadinessCheck};
use domain::clock::{SharedClock, SystemClock};
use domain::secret_fp::Fingerprint;
use jobs::scheduler::{Periodic, Scheduler};
use jobs::worker::{Registry, Worker, WorkerConfig};
use jobs::{JobStatus, Queue};
use store::{Backend, Db};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::ai_probe::AiProxyProbe;
use crate::config::{Config, Role};
use crate::telemetry;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Logs what this process runs with: values in clear, secrets as fingerprints only.
pub fn boot_summary(config: &Config) {
    let fps: Vec<String> = config
        .secrets()
        .iter()
        .filter(|(name, _)| *name != "DATABASE_URL")
        .map(|(name, v)| format!("{name}={}", Fingerprint::of(v)))
        .collect();
    tracing::info!(
        role = config.role.as_str(),
        version = VERSION,
        app_env = config.app_env.as_str(),
        database = %config.database.redacted(),
        listen = %config.listen,
        metrics = %config.metrics_addr,
        not_configured = ?config.not_configured(),
        fingerprints = ?fps,
        "eatfit starting"
    );
    metrics::gauge!("eatfit_build_info", "service" => config.role.as_str(), "version" => VERSION, "git_sha" => option_env!("EATFIT_GIT_SHA").unwrap_or("unknown"), "app_env" => config.app_env.as_str()).set(1.0);
    for (name, v) in config.secrets() {
        if name == "DATABASE_URL" {
            continue;
        }
        let fp = Fingerprint::of(&v);
        metrics::gauge!("eatfit_config_fingerprint_info", "service" => config.role.as_str(), "key" => name.to_ascii_lowercase(), "fp" => fp.sha256_prefix).set(1.0);
    }
}

/// Connects and brings the schema up to date where that is allowed: always on SQLite and in
/// dev; in prod on PostgreSQL a role refuses to start while migrations are pending.
pub async fn open_db(config: &Config, allow_migrate: bool) -> anyhow::Result<Db> {
    let db = Db::connect(&config.database)
        .await
        .with_context(|| format!("connecting to {}", config.database.redacted()))?;
    let may_migrate = allow_migrate && (db.backend() == Backend::Sqlite || !config.is_prod());
    if may_migrate {
        db.migrate().await.context("applying migrations")?;
    } else {
        let pending = db
            .pending_migrations()
            .await
            .context("reading migration state")?;
        if !pending.is_empty() {
            anyhow::bail!(
                "{} migration(s) pending ({}); run `eatfit migrate` first",
                pending.len(),
                pending.join(", ")
            );
        }
    }
    Ok(db)
}

/// Every job handler this binary runs: the foundation's and the features'.
pub fn registry(recognition: recognition::RecognitionDeps) -> Registry {
    let mut r = Registry::new();
    recognition::register_jobs(&mut r, recognition);
    r.register("jobs.queue_stats", |ctx| async move {
        let now = ctx.clock.now();
        jobs::admin::queue_stats(&ctx.db, now).await?;
        for (queue, age) in jobs::worker::heartbeat_ages(&ctx.db, now).await? {
            // No worker at all reads as "infinitely old" for the WorkerMissing alert.
            let age = age.map(|a| a as f64).unwrap_or(f64::INFINITY);
            metrics::gauge!("eatfit_worker_heartbeat_age_seconds", "queue" => queue.as_str())
                .set(age);
        }
        Ok(())
    });
    r.register("jobs.cleanup", |ctx| async move {
        let cutoff = ctx.clock.now() - chrono::Duration::days(14);
        let n = jobs::admin::delete_finished_before(&ctx.db, cutoff).await?;
        tracing::info!(deleted = n, "old finished jobs deleted");
        Ok(())
    });
    r
}

/// Periodic jobs of the foundation.
pub fn periodic() -> anyhow::Result<Vec<Periodic>> {
    Ok(vec![
        Periodic::new(
            "queue_stats",
            "*/15 * * * * *",
            "jobs.queue_stats",
            Queue::Default,
        )?,
        Periodic::new(
            "jobs_cleanup",
            "0 30 3 * * *",
            "jobs.cleanup",
            Queue::Default,
        )?,
        // Operations (crate::ops): alerts every minute, retention daily (a no-op unless
        // EATFIT_RETENTION_ENABLED).
        Periodic::new(
            "ops_alerts",
            "0 * * * * *",
            crate::ops::alerts::JOB_KIND,
            Queue::Default,
        )?,
        Periodic::new(
            "ops_retention",
            "0 15 4 * * *",
            crate::ops::retention::JOB_KIND,
            Queue::Default,
        )?,
    ])
}

fn api_settings(config: &Config) -> ApiSettings {
    let mut secrets: Vec<_> = config.telegram.bot_api_secret.iter().cloned().collect();
    secrets.extend(config.telegram.bot_api_secrets_previous.iter().cloned());
    ApiSettings {
        app_env: config.app_env.as_str(),
        version: VERSION,
        bot_token: config.telegram.bot_token.clone(),
        admins: config.telegram.admins.clone(),
        bot_api_secrets: secrets,
        debug_identity: config.telegram.debug_mode && !config.is_prod(),
        heartbeat_max_age: Duration::from_secs(60),
        bot_username: config.telegram.bot_username.clone(),
    }
}

/// How this role recognises photos: the AI proxy over HTTP when `AI_PROXY_URL` is set, else the
/// LLM provider in-process (no HTTP hop) when `OPENROUTER_API_KEY` is set, else not at all (dev
/// only; prod refuses to start). Built once at start, so a bad configuration fails the start.
pub fn recognizer(
    config: &Config,
    engine: Option<&Arc<ai::Engine>>,
) -> anyhow::Result<Option<Arc<dyn ai::Recognizer>>> {
    if let Some(p) = &config.ai_proxy {
        let client = ai::AiProxyClient::with_root_certificates(
            p.url.clone(),
            p.secret.clone(),
            p.key_id.clone(),
            Duration::from_secs(95),
            &config.ai_proxy_ca,
        )
        .context("building the AI proxy client")?;
        return Ok(Some(Arc::new(client)));
    }
    Ok(engine.map(|e| Arc::new(ai::InProcess::new(e.clone())) as Arc<dyn ai::Recognizer>))
}

/// The in-process LLM engine (one per process: the recognizer and its readiness probe share it).
fn engine(config: &Config) -> anyhow::Result<Option<Arc<ai::Engine>>> {
    match (&config.ai_proxy, &config.llm) {
        (None, Some(llm)) => Ok(Some(
            llm.engine().context("building the in-process recognizer")?,
        )),
        _ => Ok(None),
    }
}

/// Readiness of the in-process provider: the provider's own probe (key accepted, model known),
/// cached five minutes.
#[derive(Debug)]
struct LlmProbe {
    engine: Arc<ai::Engine>,
    cached: tokio::sync::Mutex<Option<(std::time::Instant, api::CheckState)>>,
}

#[async_trait::async_trait]
impl ReadinessCheck for LlmProbe {
    fn name(&self) -> &'static str {
        "ai"
    }

    async fn check(&self) -> api::CheckState {
        let mut cached = self.cached.lock().await;
        if let Some((at, state)) = *cached
            && at.elapsed() < Duration::from_secs(300)
        {
            return state;
        }
        let state = match self.engine.provider().probe(Duration::from_secs(5)).await {
            ai::provider::ProbeState::Ok => api::CheckState::Ok,
            other => api::CheckState::Failing(other.as_str()),
        };
        *cached = Some((std::time::Instant::now(), state));
        state
    }
}

fn checks(
    config: &Config,
    engine: Option<&Arc<ai::Engine>>,
) -> anyhow::Result<Vec<Arc<dyn ReadinessCheck>>> {
    let mut checks: Vec<Arc<dyn ReadinessCheck>> = Vec::new();
    match (&config.ai_proxy, engine) {
        (Some(ai), _) => checks.push(
            AiProxyProbe::with_root_certificates(ai.clone(), &config.ai_proxy_ca)
                .context("building the AI proxy client")?,
        ),
        (None, Some(engine)) => checks.push(Arc::new(LlmProbe {
            engine: engine.clone(),
            cached: tokio::sync::Mutex::new(None),
        })),
        (None, None) => checks.push(Arc::new(NotConfigured("ai"))),
    }
    if config.telegram.bot_token.is_none() {
        checks.push(Arc::new(NotConfigured("telegram")));
    }
    if !config.yookassa.is_configured() {
        checks.push(Arc::new(NotConfigured("yookassa")));
    }
    Ok(checks)
}

/// The billing service: the YooKassa client when the shop id and key are set (prod requires
/// them for serve/api/worker), else reads only (payments answer 503 BILLING_NOT_CONFIGURED).
pub fn billing_service(
    config: &Config,
    db: &Db,
    clock: SharedClock,
) -> anyhow::Result<billing::Billing> {
    let yk = &config.yookassa;
    let client = match (&yk.shop_id, &yk.secret_key) {
        (Some(shop_id), Some(secret_key)) => Some(
            billing::YooKassa::new(billing::YooKassaConfig {
                api_url: yk.api_url.clone(),
                shop_id: shop_id.clone(),
                secret_key: secret_key.clone(),
                timeout: Duration::from_secs(15),
            })
            .context("building the YooKassa client")?,
        ),
        _ => None,
    };
    let mut domains: Vec<String> = url::Url::parse(&yk.return_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .into_iter()
        .collect();
    if !config.is_prod() {
        domains.push("localhost".into());
    }
    let settings = billing::BillingSettings {
        recurring_enabled: yk.recurring_enabled,
        prod_mode: yk.prod_mode,
        return_url: yk.return_url.clone(),
        allowed_return_domains: domains,
        webhook_allowlist: yk.webhook_allowlist.clone(),
        trusted_proxies: yk.trusted_proxies.clone(),
        receipts: yk.receipts.clone(),
        admins: config.telegram.admins.iter().map(|a| a.get()).collect(),
    };
    Ok(billing::Billing::new(db.clone(), clock, client, settings))
}

/// The Telegram bot of this process (`None` without TELEGRAM_BOT_TOKEN or for roles that do
/// not talk to Telegram). Serve/worker deliver the outbox with it; serve/bot poll with it.
fn bot_app(
    config: &Config,
    db: &Db,
    clock: SharedClock,
    media: &media::MediaStore,
    ai_configured: bool,
) -> anyhow::Result<Option<Arc<bot::BotApp>>> {
    let Some(token) = &config.telegram.bot_token else {
        return Ok(None);
    };
    if !matches!(
        config.role,
        Role::Serve | Role::Api | Role::Worker | Role::Bot
    ) {
        return Ok(None);
    }
    let t = &config.telegram;
    let mut c = bot::BotConfig::new(token.clone(), t.api_url.clone());
    c.web_app_url = t.web_app_url.as_ref().map(|u| u.to_string());
    c.admins = t.admins.iter().map(|a| a.get()).collect();
    c.webhook_secrets = t.webhook_secrets.clone();
    let llm = config.llm.as_ref().map(|l| bot::plan::LlmConfig {
        base_url: l.base_url.clone(),
        api_key: l.api_key.clone(),
        model: l.model.clone(),
        timeout: Duration::from_secs(60),
    });
    // A separate `eatfit bot` accepts photos whenever the workers may recognise them; the
    // workers answer AI_NOT_CONFIGURED otherwise.
    let ai = ai_configured || config.role == Role::Bot;
    let deps = bot::BotDeps {
        db: db.clone(),
        clock: clock.clone(),
        recognition: recognition::Service::new(db.clone(), media.clone(), clock, ai),
        llm,
    };
    Ok(Some(
        bot::BotApp::new(c, deps).context("building the Telegram bot")?,
    ))
}

/// Starts the bot's update loop: long polling (serve and bot) or, in webhook mode, registers
/// the webhook (bot role; the api serves it).
fn spawn_bot(
    tasks: &mut tokio::task::JoinSet<()>,
    config: &Config,
    telegram_bot: Option<&Arc<bot::BotApp>>,
    shutdown: &CancellationToken,
) {
    let Some(b) = telegram_bot else {
        return;
    };
    if !matches!(config.role, Role::Serve | Role::Bot) {
        return;
    }
    let b = b.clone();
    let sd = shutdown.clone();
    match (
        &config.telegram.webhook_url,
        config.telegram.webhook_secrets.first(),
    ) {
        (Some(url), Some(secret)) if config.role == Role::Bot => {
            let (url, secret) = (url.clone(), secret.clone());
            tasks.spawn(async move {
                if let Err(e) = b.set_webhook(url, &secret).await {
                    tracing::error!(error = %e, "registering the Telegram webhook failed");
                }
                sd.cancelled().await;
            });
        }
        (Some(_), _) => {}
        (None, _) => {
            tasks.spawn(async move { b.run_polling(sd).await });
        }
    }
}

/// Everything a running role holds.
pub struct Running {
    /// The application state (`None` for the AI proxy, which has no database).
    pub state: Option<AppState>,
    pub public_addr: Option<std::net::SocketAddr>,
    pub internal_addr: std::net::SocketAddr,
    pub shutdown: CancellationToken,
    pub tasks: tokio::task::JoinSet<()>,
}

/// Starts `config.role` with the given clock: listeners bound, tasks spawned. Returns once
/// everything is up; [`Running::wait`] blocks until shutdown completes.
pub async fn start(config: &Config, clock: SharedClock) -> anyhow::Result<Running> {
    let role = config.role;
    if role == Role::AiProxy {
        return start_ai_proxy(config).await;
    }
    let db = open_db(config, role == Role::Serve).await?;
    let media = media::MediaStore::local(&config.media_dir)
        .with_context(|| format!("opening the media folder {}", config.media_dir.display()))?;
    let engine = engine(config)?;
    let recognizer = recognizer(config, engine.as_ref())?;
    let billing = billing_service(config, &db, clock.clone())?;
    let state = AppState::new(
        db.clone(),
        media.clone(),
        clock.clone(),
        api_settings(config),
        checks(config, engine.as_ref())?,
    )
    .with_ai_configured(recognizer.is_some())
    .with_billing(billing.clone());
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let telegram_bot = bot_app(config, &db, clock.clone(), &media, recognizer.is_some())?;

    let internal = TcpListener::bind(config.metrics_addr)
        .await
        .with_context(|| format!("binding the internal listener {}", config.metrics_addr))?;
    let internal_addr = internal.local_addr()?;
    let internal_router = api::internal_router(state.clone(), telemetry::metrics_handle());
    let sd = shutdown.clone();
    tasks.spawn(async move {
        let _ = axum::serve(internal, internal_router)
            .with_graceful_shutdown(async move { sd.cancelled().await })
            .await;
    });

    let mut public_addr = None;
    if role.serves_http() {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        public_addr = Some(listener.local_addr()?);
        let router = api::router(state.clone()).merge(web::router(state.clone()));
        let router = match (&telegram_bot, &config.telegram.webhook_url) {
            (Some(b), Some(_)) => router.merge(bot::webhook_router(b.clone())),
            _ => router,
        };
        let sd = shutdown.clone();
        tasks.spawn(async move {
            if let Err(e) = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .with_graceful_shutdown(async move { sd.cancelled().await })
            .await
            {
                tracing::error!(error = %e, "HTTP server stopped with an error");
            }
        });
        tracing::info!(addr = ?public_addr, internal = %internal_addr, "eatfit {} listening", role.as_str());
    }

    if matches!(role, Role::Serve | Role::Worker) {
        let id = format!("{}-{}-{}", role.as_str(), hostname(), std::process::id());
        let mut wc = WorkerConfig::new(id, role.as_str());
        wc.concurrency.insert(Queue::Ai, config.ai_concurrency);
        let deps = recognition::RecognitionDeps {
            recognizer: recognizer.clone(),
            media: media.clone(),
            db: db.clone(),
            clock: clock.clone(),
        };
        let mut jobs_registry = registry(deps);
        crate::ops::register_jobs(&mut jobs_registry, config, media.clone())?;
        billing::jobs::register_jobs(&mut jobs_registry, billing.clone());
        if let Some(b) = &telegram_bot {
            bot::register_jobs(&mut jobs_registry, b.clone());
        } else {
            // Only the bot can send Telegram messages: without it this worker leaves the notify
            // queue alone, so outbox deliveries wait for a worker that can send them instead of
            // dying here without a handler. (In prod the worker requires the token.)
            wc.concurrency.insert(Queue::Notify, 0);
        }
        let worker = Worker::new(db.clone(), clock.clone(), jobs_registry, wc);
        // The first heartbeat is written before we report started, so readiness is immediate.
        worker
            .beat(clock.now())
            .await
            .context("writing the worker heartbeat")?;
        let sd = shutdown.clone();
        tasks.spawn(async move { worker.run(sd).await });
    }
    if matches!(role, Role::Serve | Role::Scheduler) {
        let id = format!("{}-{}-{}", role.as_str(), hostname(), std::process::id());
        let mut schedule = periodic()?;
        schedule.extend(billing::jobs::periodic()?);
        if config.telegram.bot_token.is_some() {
            schedule.extend(bot::periodic());
        }
        let scheduler = Scheduler::new(db.clone(), clock.clone(), schedule, id);
        let sd = shutdown.clone();
        tasks.spawn(async move { scheduler.run(sd).await });
    }
    spawn_bot(&mut tasks, config, telegram_bot.as_ref(), &shutdown);
    // What this process reports for the alert evaluator (readiness, memory, key fingerprints).
    let instance = crate::ops::roles::Instance::new(role.as_str(), &hostname(), clock.now());
    let keys = crate::ops::roles::key_fingerprints(&config.secrets());
    crate::ops::roles::spawn_reporter(
        &mut tasks,
        state.clone(),
        instance,
        keys,
        clock.clone(),
        shutdown.clone(),
    )
    .await
    .context("writing the role heartbeat")?;
    Ok(Running {
        state: Some(state),
        public_addr,
        internal_addr,
        shutdown,
        tasks,
    })
}

/// `eatfit ai-proxy`: the AI proxy service alone (it holds the LLM key; no database).
async fn start_ai_proxy(config: &Config) -> anyhow::Result<Running> {
    let llm = config
        .llm
        .as_ref()
        .context("the ai-proxy role needs OPENROUTER_API_KEY and OPENROUTER_MODEL")?;
    let state = llm.proxy_state().context("building the AI proxy")?;
    let shutdown = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();

    let internal = TcpListener::bind(config.metrics_addr)
        .await
        .with_context(|| format!("binding the internal listener {}", config.metrics_addr))?;
    let internal_addr = internal.local_addr()?;
    let handle = telemetry::metrics_handle();
    let internal_router = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let h = handle.clone();
                async move { h.render() }
            }),
        )
        .route("/livez", axum::routing::get(|| async { "ok" }));
    let sd = shutdown.clone();
    tasks.spawn(async move {
        let _ = axum::serve(internal, internal_router)
            .with_graceful_shutdown(async move { sd.cancelled().await })
            .await;
    });

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let public_addr = listener.local_addr()?;
    let router = ai::proxy::router(state);
    let scheme = if config.ai_proxy_tls.is_some() {
        "https"
    } else {
        "http"
    };
    match &config.ai_proxy_tls {
        Some(tls) => {
            let listener = TlsListener::spawn(listener, tls.server.clone(), shutdown.clone());
            spawn_proxy_server(&mut tasks, listener, router, shutdown.clone());
            tracing::info!(
                addr = %public_addr, internal = %internal_addr, scheme,
                cert_file = %tls.cert_file.display(), key_file = %tls.key_file.display(),
                "eatfit ai-proxy listening over HTTPS (TLS 1.2/1.3)"
            );
        }
        None => {
            spawn_proxy_server(&mut tasks, listener, router, shutdown.clone());
            if config.is_prod() {
                tracing::warn!(
                    addr = %public_addr, internal = %internal_addr, scheme,
                    "eatfit ai-proxy listening over plain HTTP: keep it on a private network, or set AI_PROXY_TLS_CERT_FILE and AI_PROXY_TLS_KEY_FILE"
                );
            } else {
                tracing::info!(addr = %public_addr, internal = %internal_addr, scheme, "eatfit ai-proxy listening over plain HTTP");
            }
        }
    }
    Ok(Running {
        state: None,
        public_addr: Some(public_addr),
        internal_addr,
        shutdown,
        tasks,
    })
}

/// Serves the AI proxy router on `listener` (plain TCP or [`TlsListener`]) until `shutdown`.
fn spawn_proxy_server<L>(
    tasks: &mut tokio::task::JoinSet<()>,
    listener: L,
    router: axum::Router,
    shutdown: CancellationToken,
) where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
{
    tasks.spawn(async move {
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
        {
            tracing::error!(error = %e, "AI proxy server stopped with an error");
        }
    });
}

/// How long a client may take to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A listener that yields TLS streams to `axum::serve`. Handshakes run in their own tasks, so
/// a slow or hostile client never holds up the others; failed handshakes (plain HTTP on the
/// TLS port, an untrusted certificate) are logged at debug and dropped.
struct TlsListener {
    incoming: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        std::net::SocketAddr,
    )>,
    local_addr: std::net::SocketAddr,
}

impl TlsListener {
    fn spawn(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
        shutdown: CancellationToken,
    ) -> Self {
        let local_addr = tcp
            .local_addr()
            .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
        let (tx, incoming) = tokio::sync::mpsc::channel(64);
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    () = shutdown.cancelled() => break,
                    accepted = tcp.accept() => match accepted {
                        Ok(pair) => pair,
                        Err(e) => {
                            // Usually EMFILE: back off instead of spinning.
                            tracing::warn!(error = %e, "AI proxy: accepting a connection failed");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(peer = %peer, error = %e, "AI proxy: TLS handshake failed")
                        }
                        Err(_) => {
                            tracing::debug!(peer = %peer, "AI proxy: TLS handshake timed out")
                        }
                    }
                });
            }
        });
        Self {
            incoming,
            local_addr,
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(conn) => conn,
            // The accept loop stopped (shutdown): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

impl Running {
    /// Waits for SIGINT/SIGTERM (or an external cancel), then drains and stops.
    pub async fn wait(mut self) {
        let sd = self.shutdown.clone();
        tokio::select! {
            _ = shutdown_signal() => tracing::info!("shutdown signal received; draining"),
            _ = sd.cancelled() => {},
        }
        self.shutdown.cancel();
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(30), drain)
            .await
            .is_err()
        {
            tracing::warn!("shutdown timed out after 30 s; exiting anyway");
        }
        if let Some(state) = self.state {
            state.db().clone().close().await;
        }
        tracing::info!("eatfit stopped");
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// The system clock as a shared clock.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// `eatfit admin jobs list`.
pub async fn admin_jobs_list(config: &Config, status: JobStatus, limit: u64) -> anyhow::Result<()> {
    let db = open_db(config, false).await?;
    let rows = jobs::admin::list(&db, status, limit).await?;
    if rows.is_empty() {
        println!("no {} jobs", status.as_str());
    }
    for j in rows {
        println!(
            "{:>8}  {:<8} {:<28} attempts {}/{}  updated {}  {}",
            j.id,
            j.queue,
            j.kind,
            j.attempts,
            j.max_attempts,
            j.updated_at.to_rfc3339(),
            j.last_error
                .unwrap_or_default()
                .lines()
                .next()
                .unwrap_or_default()
        );
    }
    Ok(())
}

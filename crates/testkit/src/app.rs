//! `TestApp`: the real router on a real socket, with a fixed clock.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use api::{ApiSettings, AppState, ReadinessCheck};
use chrono::{DateTime, TimeZone, Utc};
use domain::clock::{Clock, FixedClock};
use domain::ids::TelegramId;
use secrecy::SecretString;
use store::testing::TestDb;
use store::{Backend, Db};

/// The bot token every test app verifies initData with.
pub const BOT_TOKEN: &str = "7000000001:AAtest-bot-token-for-the-test-suite-xyz";
/// The bot API secret every test app accepts.
pub const BOT_SECRET: &str = "test-bot-api-secret-0123456789abcdef0123";
/// The admin (coach) Telegram id of every test app.
pub const ADMIN_TG_ID: i64 = 500_000_001;

/// A running application for one test.
pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub clock: FixedClock,
    pub state: AppState,
    /// A worker over the app's database and clock with the recognition jobs registered.
    pub worker: jobs::worker::Worker,
    /// The billing service of the app (YooKassa configured when `Options::billing` was set).
    pub billing: billing::Billing,
    test_db: Option<TestDb>,
    _media_dir: tempfile::TempDir,
    server: tokio::task::JoinHandle<()>,
}

/// Options for [`TestApp::spawn_with`].
#[derive(Clone)]
pub struct Options {
    pub now: DateTime<Utc>,
    pub debug_identity: bool,
    pub checks: Vec<Arc<dyn ReadinessCheck>>,
    /// Write a worker heartbeat so `/readyz` sees a worker.
    pub worker_heartbeat: bool,
    /// The photo recognizer the jobs use; `Some` marks AI as configured.
    pub recognizer: Option<Arc<dyn ai::Recognizer>>,
    /// Billing: settings and the YooKassa base URL (a [`crate::fake_yookassa::FakeYooKassa`]);
    /// `None` = billing attached but YooKassa not configured.
    pub billing: Option<BillingSetup>,
    /// `TELEGRAM_BOT_USERNAME` (invite links); `None` = not configured.
    pub bot_username: Option<String>,
}

/// How a test app's billing is set up.
#[derive(Debug, Clone)]
pub struct BillingSetup {
    pub settings: billing::BillingSettings,
    /// `FakeYooKassa::base_url()`.
    pub yookassa_url: String,
}

impl BillingSetup {
    /// Against `fake`, accepting its notifications (sent from 127.0.0.1 with a YooKassa
    /// `X-Forwarded-For`, 127.0.0.1 being a trusted proxy), recurring on, admins = the test admin.
    pub fn with_fake(fake: &crate::fake_yookassa::FakeYooKassa) -> Self {
        Self {
            settings: billing::BillingSettings {
                recurring_enabled: true,
                trusted_proxies: billing::NetList::parse("127.0.0.1").unwrap_or_default(),
                admins: vec![ADMIN_TG_ID],
                ..billing::BillingSettings::default()
            },
            yookassa_url: fake.base_url(),
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("now", &self.now)
            .field("debug_identity", &self.debug_identity)
            .field("checks", &self.checks)
            .field("worker_heartbeat", &self.worker_heartbeat)
            .field("recognizer", &self.recognizer.is_some())
            .field("billing", &self.billing)
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            now: Utc
                .with_ymd_and_hms(2026, 3, 10, 9, 0, 0)
                .single()
                .unwrap_or_default(),
            debug_identity: false,
            checks: Vec::new(),
            worker_heartbeat: true,
            recognizer: None,
            billing: None,
            bot_username: None,
        }
    }
}

impl TestApp {
    /// One app per available backend (SQLite, and PostgreSQL when configured).
    pub async fn all() -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in TestDb::all()
            .await
            .unwrap_or_else(|e| panic!("test database: {e}"))
        {
            apps.push(Self::spawn_with(db, Options::default()).await);
        }
        apps
    }

    /// One app per available backend, each with `opts`.
    pub async fn all_with(opts: Options) -> Vec<TestApp> {
        let mut apps = Vec::new();
        for db in TestDb::all()
            .await
            .unwrap_or_else(|e| panic!("test database: {e}"))
        {
            apps.push(Self::spawn_with(db, opts.clone()).await);
        }
        apps
    }

    /// An app on a fresh SQLite database.
    pub async fn sqlite() -> TestApp {
        let db = TestDb::sqlite()
            .await
            .unwrap_or_else(|e| panic!("test database: {e}"));
        Self::spawn_with(db, Options::default()).await
    }

    pub async fn spawn_with(test_db: TestDb, opts: Options) -> TestApp {
        let clock = FixedClock::new(opts.now);
        let settings = ApiSettings {
            app_env: "dev",
            version: "test",
            bot_token: Some(SecretString::from(BOT_TOKEN.to_string())),
            admins: vec![TelegramId::new(ADMIN_TG_ID).unwrap_or_else(|e| panic!("{e}"))],
            bot_api_secrets: vec![SecretString::from(BOT_SECRET.to_string())],
            debug_identity: opts.debug_identity,
            heartbeat_max_age: Duration::from_secs(60),
            bot_username: opts.bot_username.clone(),
        };
        let db = test_db.db.clone();
        if opts.worker_heartbeat {
            write_heartbeat(&db, opts.now).await;
        }
        let media_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("media dir: {e}"));
        let media = media::MediaStore::local(media_dir.path())
            .unwrap_or_else(|e| panic!("media store: {e}"));
        let shared_clock: domain::clock::SharedClock = Arc::new(clock.clone());
        let state = AppState::new(
            db.clone(),
            media.clone(),
            shared_clock.clone(),
            settings,
            opts.checks,
        )
        .with_ai_configured(opts.recognizer.is_some());
        let billing_service = build_billing(&db, shared_clock.clone(), opts.billing.as_ref());
        let state = state.with_billing(billing_service.clone());
        let mut registry = jobs::worker::Registry::new();
        recognition::register_jobs(
            &mut registry,
            recognition::RecognitionDeps {
                recognizer: opts.recognizer.clone(),
                media,
                db: db.clone(),
                clock: shared_clock.clone(),
            },
        );
        billing::jobs::register_jobs(&mut registry, billing_service.clone());
        let worker = jobs::worker::Worker::new(
            db,
            shared_clock,
            registry,
            jobs::worker::WorkerConfig::new("test-worker", "worker"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let router = api::router(state.clone()).merge(web::router(state.clone()));
        let server = tokio::spawn(async move {
            let _ = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await;
        });
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            clock,
            state,
            worker,
            billing: billing_service,
            test_db: Some(test_db),
            _media_dir: media_dir,
            server,
        }
    }

    pub fn media(&self) -> &media::MediaStore {
        self.state.media()
    }

    /// Runs every due job of the `ai` queue (then `default`) synchronously; returns how many ran.
    pub async fn run_jobs(&self) -> usize {
        let mut n = 0;
        for q in [jobs::Queue::Ai, jobs::Queue::Default] {
            n += self
                .worker
                .drain_queue(q)
                .await
                .unwrap_or_else(|e| panic!("draining {q}: {e}"));
        }
        n
    }

    /// Runs every due job of the `billing` queue synchronously; returns how many ran.
    pub async fn run_billing_jobs(&self) -> usize {
        self.worker
            .drain_queue(jobs::Queue::Billing)
            .await
            .unwrap_or_else(|e| panic!("draining billing: {e}"))
    }

    /// The recognition service over this app's state.
    pub fn recognition(&self) -> recognition::Service {
        recognition::Service::new(
            self.db().clone(),
            self.media().clone(),
            self.state.clock().clone(),
            self.state.ai_configured(),
        )
    }

    pub fn db(&self) -> &Db {
        self.state.db()
    }

    pub fn backend(&self) -> Backend {
        self.db().backend()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The app's current (fixed) time.
    pub fn clock_now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// initData for `telegram_id`, signed now (by the app's clock) with [`BOT_TOKEN`].
    pub fn init_data(&self, telegram_id: i64) -> String {
        self.init_data_at(telegram_id, self.clock.now())
    }

    /// initData signed for a given `auth_date`.
    pub fn init_data_at(&self, telegram_id: i64, auth_date: DateTime<Utc>) -> String {
        signed_init_data(telegram_id, "Тест", auth_date)
    }

    /// A GET with the user's initData.
    pub fn get_as(&self, telegram_id: i64, path: &str) -> reqwest::RequestBuilder {
        self.client
            .get(self.url(path))
            .header("X-Telegram-Init-Data", self.init_data(telegram_id))
    }

    /// Sends a request as `telegram_id` (with an optional JSON body) and returns the status and
    /// the body as JSON (`Null` when empty, a JSON string when it is not JSON).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        telegram_id: i64,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut req = self.request_as(method, telegram_id, path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let v = if text.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
        };
        (status, v)
    }

    /// A request of any method with the user's initData.
    pub fn request_as(
        &self,
        method: reqwest::Method,
        telegram_id: i64,
        path: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("X-Telegram-Init-Data", self.init_data(telegram_id))
    }

    /// Stops the server and drops the database.
    pub async fn finish(mut self) {
        self.server.abort();
        if let Some(db) = self.test_db.take() {
            db.cleanup().await;
        }
    }
}

/// Signs initData as Telegram would for a user.
pub fn signed_init_data(telegram_id: i64, first_name: &str, auth_date: DateTime<Utc>) -> String {
    let user = serde_json::json!({
        "id": telegram_id,
        "first_name": first_name,
        "last_name": "Пользователь",
        "username": format!("user{telegram_id}"),
        "language_code": "ru",
    })
    .to_string();
    let ad = auth_date.timestamp().to_string();
    domain::init_data::sign(
        &[("query_id", "AAHtest"), ("user", &user), ("auth_date", &ad)],
        BOT_TOKEN,
    )
}

async fn write_heartbeat(db: &Db, now: DateTime<Utc>) {
    use store::sea_orm::{ConnectionTrait, Statement};
    let _ = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "INSERT INTO worker_heartbeats (worker_id, role, queues, started_at, last_seen) \
             VALUES ('test-worker', 'worker', 'ai,billing,default,notify', $1, $1)",
            vec![now.into()],
        ))
        .await;
}

/// An in-process recognizer (the real engine: normalisation, decision table, grounding) over
/// a [`crate::fake_llm::FakeLlm`], with fast provider retries.
pub fn fake_recognizer(llm: &crate::fake_llm::FakeLlm) -> Arc<dyn ai::Recognizer> {
    let mut config = ai::ProviderConfig::new(
        url::Url::parse(&llm.base_url()).unwrap_or_else(|e| panic!("fake llm url: {e}")),
        SecretString::from("llm-key".to_owned()),
        "test/vision-model",
    );
    config.retry = ai::provider::RetryPolicy {
        attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        min_attempt: Duration::from_millis(50),
    };
    let provider = ai::Provider::new(config).unwrap_or_else(|e| panic!("provider: {e}"));
    let engine = ai::Engine::new(provider, ai::pipeline::EngineConfig::default());
    Arc::new(ai::InProcess::new(engine))
}

/// The billing service of a test app: configured against the given YooKassa URL, or not.
fn build_billing(
    db: &Db,
    clock: domain::clock::SharedClock,
    setup: Option<&BillingSetup>,
) -> billing::Billing {
    let Some(setup) = setup else {
        return billing::Billing::new(db.clone(), clock, None, billing::BillingSettings::default());
    };
    let client = billing::YooKassa::new(billing::YooKassaConfig {
        api_url: url::Url::parse(&setup.yookassa_url)
            .unwrap_or_else(|e| panic!("yookassa url: {e}")),
        shop_id: crate::fake_yookassa::SHOP_ID.to_string(),
        secret_key: SecretString::from(crate::fake_yookassa::SECRET_KEY.to_string()),
        timeout: Duration::from_secs(5),
    })
    .unwrap_or_else(|e| panic!("yookassa client: {e}"));
    billing::Billing::new(db.clone(), clock, Some(client), setup.settings.clone())
}

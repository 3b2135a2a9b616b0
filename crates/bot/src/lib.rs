//! The Telegram bot (DESIGN.md §8, reference/clients.md part A): teloxide's Bot API client
//! pointed at `TELEGRAM_API_URL`, long polling with one active poller across instances (a
//! database lease) or webhook mode (an axum router with a constant-time secret check), dialogue
//! state in the database, the personal-plan survey, food logging in the chat through the same
//! recognition service and quota as the Mini App, reminders, and the single sender of Telegram
//! messages (the `notify.send` job draining the notification outbox).

#![forbid(unsafe_code)]

mod app;
mod food;
mod handlers;
pub mod plan;
mod plan_flow;
pub mod reminders;
mod runtime;
mod sender;
pub mod state;
pub mod survey;
pub mod texts;
mod tg;
pub mod tz;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use domain::clock::SharedClock;
use secrecy::SecretString;
use store::Db;

pub use app::BotApp;
pub use runtime::{WEBHOOK_PATH, webhook_router};

/// Job kind: deliver one outbox row (`jobs::outbox::SEND_KIND`).
pub use jobs::outbox::SEND_KIND;
/// Job kind: enqueue due reminders (every minute).
pub const KIND_REMINDERS: &str = "bot.reminders";

/// Bot settings from the configuration.
#[derive(Clone)]
pub struct BotConfig {
    pub token: SecretString,
    /// The Bot API base URL (`TELEGRAM_API_URL`).
    pub api_url: url::Url,
    /// The Mini App URL (`TELEGRAM_WEB_APP_URL`), for "open the tracker" buttons.
    pub web_app_url: Option<String>,
    /// The coach panel URL for admins.
    pub panel_url: Option<String>,
    /// A coach's Telegram username for "message the coach".
    pub admins: Vec<i64>,
    /// Webhook secret tokens accepted (`TELEGRAM_WEBHOOK_SECRET`, a key set for rotation).
    pub webhook_secrets: Vec<SecretString>,
    /// Long-poll timeout of `getUpdates`.
    pub poll_timeout: Duration,
    /// How often a photo's recognition is checked while the user waits.
    pub photo_poll_interval: Duration,
    /// The shortest gap between two sends of this process (Telegram allows ~30/s overall).
    pub send_interval: Duration,
    /// The longest `retry_after` the sender waits in place before handing the job back.
    pub max_inline_retry_after: Duration,
}

impl std::fmt::Debug for BotConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotConfig")
            .field("api_url", &self.api_url.as_str())
            .field("web_app_url", &self.web_app_url)
            .field("admins", &self.admins.len())
            .field("webhook_secrets", &self.webhook_secrets.len())
            .finish_non_exhaustive()
    }
}

impl BotConfig {
    /// Defaults for everything but the token and the API URL.
    pub fn new(token: SecretString, api_url: url::Url) -> Self {
        Self {
            token,
            api_url,
            web_app_url: None,
            panel_url: None,
            admins: Vec::new(),
            webhook_secrets: Vec::new(),
            poll_timeout: Duration::from_secs(25),
            photo_poll_interval: Duration::from_millis(1000),
            send_interval: Duration::from_millis(35),
            max_inline_retry_after: Duration::from_secs(20),
        }
    }
}

/// What the bot uses from the rest of the system.
#[derive(Clone, Debug)]
pub struct BotDeps {
    pub db: Db,
    pub clock: SharedClock,
    /// The recognition service (same pipeline and quota as the Mini App).
    pub recognition: recognition::Service,
    /// The plan generator (`None`: the survey is stored, the plan says "unavailable").
    pub llm: Option<plan::LlmConfig>,
}

/// Why the bot could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error("telegram: {0}")]
    Telegram(#[from] tg::TgError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("bot setup: {0}")]
    Setup(String),
}

/// Registers the bot's job handlers: the outbox sender and reminders. (Operational alerts reach
/// the admins through the ops alert job, which pushes outbox rows this sender delivers.)
pub fn register_jobs(registry: &mut jobs::worker::Registry, app: Arc<BotApp>) {
    let a = app.clone();
    registry.register(SEND_KIND, move |ctx| {
        let a = a.clone();
        async move { sender::run(&a, &ctx).await }
    });
    registry.register(KIND_REMINDERS, move |ctx| {
        let a = app.clone();
        async move {
            reminders::run(&a.deps().db, ctx.clock.now())
                .await
                .map(|_| ())
                .map_err(Into::into)
        }
    });
}

/// The bot's periodic jobs: reminders every minute.
pub fn periodic() -> Vec<jobs::scheduler::Periodic> {
    jobs::scheduler::Periodic::new(
        "bot_reminders",
        "0 * * * * *",
        KIND_REMINDERS,
        jobs::Queue::Notify,
    )
    .map(|p| vec![p])
    .unwrap_or_default()
}

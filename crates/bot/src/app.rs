//! The bot of one process: its Bot API client, configuration, dependencies and the background
//! tasks it started (plan generation, waiting for a photo's recognition).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::error::Locale;
use secrecy::ExposeSecret;
use teloxide::types::Update;

use crate::plan::PlanClient;
use crate::texts::{T, t};
use crate::tg::Tg;
use crate::{BotConfig, BotDeps, BotError};

/// The bot.
#[derive(Debug)]
pub struct BotApp {
    cfg: BotConfig,
    deps: BotDeps,
    pub(crate) tg: Tg,
    pub(crate) plan: Option<PlanClient>,
    /// This process's name for the poller lease.
    pub(crate) instance: String,
    pub(crate) tasks: Tasks,
}

impl BotApp {
    /// Builds the Bot API client (rustls, timeouts) and the plan client.
    pub fn new(cfg: BotConfig, deps: BotDeps) -> Result<Arc<Self>, BotError> {
        let client = reqwest::Client::builder()
            .timeout(cfg.poll_timeout + Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| BotError::Setup(format!("HTTP client: {e}")))?;
        let bot = teloxide::Bot::with_client(cfg.token.expose_secret(), client)
            .set_api_url(cfg.api_url.clone());
        let plan = match &deps.llm {
            Some(l) => {
                Some(PlanClient::new(l.clone()).map_err(|e| BotError::Setup(e.to_string()))?)
            }
            None => None,
        };
        let instance = format!(
            "bot-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        Ok(Arc::new(Self {
            tg: Tg::new(bot, cfg.send_interval),
            cfg,
            deps,
            plan,
            instance,
            tasks: Tasks::default(),
        }))
    }

    pub fn config(&self) -> &BotConfig {
        &self.cfg
    }

    pub fn deps(&self) -> &BotDeps {
        &self.deps
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    pub(crate) fn is_admin(&self, telegram_id: i64) -> bool {
        self.cfg.admins.contains(&telegram_id)
    }

    /// The Mini App URL with `path` appended, when configured.
    pub(crate) fn app_url(&self, path: &str) -> Option<String> {
        self.cfg
            .web_app_url
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://127.0.0.1"))
            .map(|base| format!("{}{path}", base.trim_end_matches('/')))
    }

    /// Sets the command list and the chat menu button (the Mini App when configured).
    pub async fn setup(&self) -> Result<(), BotError> {
        let l = Locale::Ru;
        let commands = [
            ("start", T::CmdHelp),
            ("app", T::CmdApp),
            ("today", T::CmdToday),
            ("personal_plan", T::CmdPlan),
            ("settings", T::CmdSettings),
            ("help", T::CmdHelp),
        ]
        .into_iter()
        .map(|(c, k)| (c.to_owned(), t(l, k).to_owned()))
        .collect();
        let menu = self
            .app_url("")
            .and_then(|u| url::Url::parse(&u).ok())
            .map(|u| (t(l, T::BtnOpenApp).to_owned(), u));
        self.tg.setup(commands, menu).await?;
        Ok(())
    }

    /// Handles one update; failures are logged (an update is never retried by Telegram once
    /// confirmed, so a failure must not stop the others).
    pub async fn handle_update(self: &Arc<Self>, update: Update) {
        use futures::FutureExt;
        let id = update.id.0;
        // A panic in one handler must not stop the poller (the update is confirmed anyway).
        let outcome = std::panic::AssertUnwindSafe(crate::handlers::handle(self, update))
            .catch_unwind()
            .await;
        let label = match outcome {
            Ok(Ok(())) => "ok",
            Ok(Err(e)) => {
                tracing::error!(update_id = id, error = %e, "bot update failed");
                "error"
            }
            Err(_) => {
                tracing::error!(update_id = id, "bot update handler panicked");
                "panic"
            }
        };
        metrics::counter!("eatfit_bot_updates_total", "outcome" => label).increment(1);
    }

    /// Runs `fut` in the background, tracked (graceful shutdown and tests wait for it).
    pub(crate) fn spawn<F>(&self, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let tasks = self.tasks.clone();
        tasks.running.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            fut.await;
            tasks.running.fetch_sub(1, Ordering::SeqCst);
        });
    }

    /// Waits until every background task finished (at most `limit`); true when idle.
    pub async fn settle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.tasks.running.load(Ordering::SeqCst) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }
}

/// Background tasks in flight.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tasks {
    running: Arc<AtomicUsize>,
}

//! The bot over a real database, the real recognition service and job queue, a fake Bot API
//! and fake LLMs (one for recognition, one for plans), all on 127.0.0.1.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use bot::plan::LlmConfig;
use bot::{BotApp, BotConfig, BotDeps};
use secrecy::SecretString;
use testkit::app::{ADMIN_TG_ID, Options, TestApp, fake_recognizer};
use testkit::fake_llm::{Behavior, FakeLlm};
use testkit::fake_telegram::{Call, FakeTelegram};

pub const WEB_APP: &str = "https://eatfit.example/app";
pub const WEBHOOK_SECRET: &str = "webhook-secret-0123456789";

pub struct Harness {
    pub app: TestApp,
    pub tg: FakeTelegram,
    pub vision: FakeLlm,
    pub planner: FakeLlm,
    pub bot: Arc<BotApp>,
    pub notify: jobs::worker::Worker,
}

pub fn config(tg: &FakeTelegram) -> BotConfig {
    let mut c = BotConfig::new(
        SecretString::from(testkit::BOT_TOKEN.to_owned()),
        url::Url::parse(&tg.api_url()).unwrap_or_else(|e| panic!("{e}")),
    );
    c.web_app_url = Some(WEB_APP.into());
    c.admins = vec![ADMIN_TG_ID];
    c.webhook_secrets = vec![SecretString::from(WEBHOOK_SECRET.to_owned())];
    c.poll_timeout = Duration::ZERO;
    c.photo_poll_interval = Duration::from_millis(20);
    c.send_interval = Duration::ZERO;
    c.max_inline_retry_after = Duration::from_secs(2);
    c
}

impl Harness {
    /// One harness per backend.
    pub async fn all() -> Vec<Harness> {
        let mut out = Vec::new();
        for db in store::testing::TestDb::all()
            .await
            .unwrap_or_else(|e| panic!("test database: {e}"))
        {
            // Each backend's app gets its own fake vision model (it lives as long as the app).
            let vision = FakeLlm::start().await;
            let opts = Options {
                recognizer: Some(fake_recognizer(&vision)),
                ..Options::default()
            };
            let app = TestApp::spawn_with(db, opts).await;
            out.push(Self::over(app, vision).await);
        }
        out
    }

    async fn over(app: TestApp, vision: FakeLlm) -> Harness {
        let tg = FakeTelegram::start().await;
        let planner = FakeLlm::start().await;
        let bot = Self::new_bot(&app, &tg, &planner);
        let mut registry = jobs::worker::Registry::new();
        bot::register_jobs(&mut registry, bot.clone());
        let notify = jobs::worker::Worker::new(
            app.db().clone(),
            app.state.clock().clone(),
            registry,
            jobs::worker::WorkerConfig::new("test-notify", "worker"),
        );
        Harness {
            app,
            tg,
            vision,
            planner,
            bot,
            notify,
        }
    }

    pub fn new_bot(app: &TestApp, tg: &FakeTelegram, planner: &FakeLlm) -> Arc<BotApp> {
        let deps = BotDeps {
            db: app.db().clone(),
            clock: app.state.clock().clone(),
            recognition: app.recognition(),
            llm: Some(LlmConfig {
                base_url: url::Url::parse(&planner.base_url()).unwrap_or_else(|e| panic!("{e}")),
                api_key: SecretString::from("plan-key".to_owned()),
                model: "test/plan-model".into(),
                timeout: Duration::from_secs(10),
            }),
        };
        BotApp::new(config(tg), deps).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A fresh bot instance over the same database (a restart or deploy).
    pub async fn restart(&mut self) {
        self.bot.release().await.unwrap_or_else(|e| panic!("{e}"));
        self.bot = Self::new_bot(&self.app, &self.tg, &self.planner);
    }

    /// One polling round without waiting for background work (a photo's watcher waits for
    /// the recognition job, which the test runs next).
    pub async fn poll_only(&self) {
        let r = self
            .bot
            .poll_once(Duration::ZERO)
            .await
            .unwrap_or_else(|e| panic!("poll: {e}"));
        assert!(r.is_some(), "the test bot must hold the poller lease");
    }

    /// One polling round, then waits for the bot's background work.
    pub async fn poll(&self) {
        self.poll_only().await;
        assert!(
            self.bot.settle(Duration::from_secs(20)).await,
            "background work did not finish"
        );
    }

    pub async fn say(&self, from: i64, text: &str) -> Call {
        self.tg.inject_message(from, text);
        self.poll().await;
        self.tg
            .last_shown(from)
            .unwrap_or_else(|| panic!("nothing shown after {text:?}"))
    }

    /// Presses `data` on the last message the bot showed in the chat.
    pub async fn press(&self, from: i64, data: &str) -> Call {
        let last = self
            .tg
            .last_shown(from)
            .unwrap_or_else(|| panic!("no message to press on"));
        let id = last.message_id.unwrap_or_else(|| panic!("message id"));
        self.tg.inject_callback(from, id, data);
        self.poll().await;
        self.tg
            .last_shown(from)
            .unwrap_or_else(|| panic!("nothing shown after {data}"))
    }

    /// The pop-up text of the last answered button press (None: a silent answer).
    pub fn last_callback_answer(&self) -> Option<String> {
        self.tg
            .calls()
            .into_iter()
            .rev()
            .find(|c| c.method == "answerCallbackQuery")
            .and_then(|c| {
                c.params
                    .get("text")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned)
            })
    }

    /// Runs every due notify job.
    pub async fn deliver(&self) -> usize {
        self.notify
            .drain_queue(jobs::Queue::Notify)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn finish(self) {
        self.app.finish().await;
    }
}

/// A valid structured plan whose points are `filler` repeated.
pub fn plan_reply(filler: &str, points: usize) -> Behavior {
    let sections: Vec<serde_json::Value> = [
        "Анализ текущего состояния",
        "Безопасные цели",
        "Целевые тренировки",
        "Что НЕ делать",
    ]
    .iter()
    .map(|t| serde_json::json!({"title": t, "points": vec![filler; points]}))
    .collect();
    Behavior::Content(
        serde_json::json!({
            "intro": "Отлично! Вот что я могу сказать тебе",
            "sections": sections,
            "kcal_min": 1800, "kcal_max": 2100,
            "protein_min_g": 110, "protein_max_g": 140,
            "timeline": "−2 кг (4 недели) → −4 кг (8 недель)",
        })
        .to_string(),
    )
}

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
        .unwrap_or_else(|e| panic!("{e}"));
    out
}

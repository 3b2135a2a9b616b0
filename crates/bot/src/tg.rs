//! The Bot API calls the bot makes, over teloxide: every call has a timeout (the HTTP client's),
//! a classified error, a metric and a log line with its duration. Sends are spaced by the
//! process-wide rate gate.

use std::time::{Duration, Instant};

use futures::StreamExt;
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::net::Download;
use teloxide::payloads::{
    AnswerCallbackQuerySetters, EditMessageTextSetters, GetUpdatesSetters, SendMessageSetters,
    SetChatMenuButtonSetters, SetWebhookSetters,
};
use teloxide::prelude::Requester;
use teloxide::types::{
    BotCommand, ChatId, FileId, LinkPreviewOptions, MenuButton, MessageId, ParseMode, Update,
    WebAppInfo,
};
use tokio::sync::Mutex;

use crate::ui::{Screen, markup};

/// A classified Bot API failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TgError {
    /// 429: wait this long.
    #[error("rate limited by Telegram, retry after {0:?}")]
    RetryAfter(Duration),
    /// 403: the user blocked the bot or is gone.
    #[error("forbidden: the user blocked the bot or is deactivated")]
    Blocked,
    /// 400 and other API refusals: repeating will not help.
    #[error("refused by Telegram: {0}")]
    Refused(String),
    /// Network or timeout: worth retrying.
    #[error("network: {0}")]
    Network(String),
    /// Anything else (unparseable answer, …).
    #[error("telegram: {0}")]
    Other(String),
}

impl TgError {
    fn outcome(&self) -> &'static str {
        match self {
            TgError::RetryAfter(_) => "rate_limited",
            TgError::Blocked => "blocked",
            TgError::Refused(_) => "refused",
            TgError::Network(_) => "network",
            TgError::Other(_) => "other",
        }
    }
}

impl From<RequestError> for TgError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::RetryAfter(s) => TgError::RetryAfter(s.duration()),
            RequestError::Api(
                ApiError::BotBlocked
                | ApiError::UserDeactivated
                | ApiError::BotKicked
                | ApiError::BotKickedFromSupergroup
                | ApiError::BotKickedFromChannel
                | ApiError::CantInitiateConversation
                | ApiError::CantTalkWithBots,
            ) => TgError::Blocked,
            RequestError::Api(ApiError::Unknown(s)) if s.starts_with("Forbidden") => {
                TgError::Blocked
            }
            RequestError::Api(other) => TgError::Refused(other.to_string()),
            RequestError::Network(n) => TgError::Network(n.without_url_ref()),
            RequestError::Io(io) => TgError::Network(io.to_string()),
            other => TgError::Other(other.to_string()),
        }
    }
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for std::sync::Arc<reqwest::Error> {
    /// The error text without the URL (which carries the bot token).
    fn without_url_ref(&self) -> String {
        let kind = if self.is_timeout() {
            "timeout"
        } else if self.is_connect() {
            "connect"
        } else {
            "request"
        };
        format!("{kind} error")
    }
}

/// The Bot API client of one process.
#[derive(Debug)]
pub struct Tg {
    pub bot: teloxide::Bot,
    gate: Mutex<Option<Instant>>,
    send_interval: Duration,
}

fn observe<T>(method: &'static str, started: Instant, r: &Result<T, TgError>) {
    let elapsed = started.elapsed();
    let outcome = match r {
        Ok(_) => "ok",
        Err(e) => e.outcome(),
    };
    metrics::counter!("eatfit_telegram_requests_total", "method" => method, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("eatfit_telegram_request_duration_seconds", "method" => method)
        .record(elapsed.as_secs_f64());
    match r {
        Ok(_) => tracing::debug!(
            method,
            duration_ms = elapsed.as_millis() as u64,
            "telegram call"
        ),
        Err(e) => {
            tracing::warn!(method, duration_ms = elapsed.as_millis() as u64, outcome, error = %e, "telegram call failed")
        }
    }
}

impl Tg {
    pub fn new(bot: teloxide::Bot, send_interval: Duration) -> Self {
        Self {
            bot,
            gate: Mutex::new(None),
            send_interval,
        }
    }

    /// Waits for this process's turn to send (spacing sends by `send_interval`).
    async fn wait_turn(&self) {
        let mut last = self.gate.lock().await;
        if let Some(at) = *last {
            let next = at + self.send_interval;
            let now = Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            }
        }
        *last = Some(Instant::now());
    }

    /// `sendMessage` with HTML and an optional raw `reply_markup` (outbox rows carry JSON).
    pub async fn send_raw(
        &self,
        chat: i64,
        html: &str,
        reply_markup: Option<&serde_json::Value>,
    ) -> Result<i64, TgError> {
        self.wait_turn().await;
        let started = Instant::now();
        let mut req = self
            .bot
            .send_message(ChatId(chat), html)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview());
        if let Some(m) = reply_markup {
            match serde_json::from_value::<teloxide::types::ReplyMarkup>(m.clone()) {
                Ok(markup) => req = req.reply_markup(markup),
                Err(e) => {
                    tracing::warn!(error = %e, "outbox reply_markup unreadable; sent without it")
                }
            }
        }
        let r = req.await.map(|m| i64::from(m.id.0)).map_err(TgError::from);
        observe("sendMessage", started, &r);
        r
    }

    /// Sends a screen; returns the message id.
    pub async fn send(&self, chat: i64, s: &Screen) -> Result<i64, TgError> {
        self.wait_turn().await;
        let started = Instant::now();
        let mut req = self
            .bot
            .send_message(ChatId(chat), &s.text)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview());
        if let Some(m) = markup(&s.keyboard) {
            req = req.reply_markup(m);
        }
        let r = req.await.map(|m| i64::from(m.id.0)).map_err(TgError::from);
        observe("sendMessage", started, &r);
        r
    }

    /// Replaces a message's text and keyboard ("not modified" counts as success).
    pub async fn edit(&self, chat: i64, message_id: i64, s: &Screen) -> Result<(), TgError> {
        let started = Instant::now();
        let id = MessageId(i32::try_from(message_id).unwrap_or_default());
        let mut req = self
            .bot
            .edit_message_text(ChatId(chat), id, &s.text)
            .parse_mode(ParseMode::Html)
            .link_preview_options(no_preview());
        if let Some(m) = markup(&s.keyboard) {
            req = req.reply_markup(m);
        }
        let r = match req.await {
            Ok(_) | Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(e) => Err(TgError::from(e)),
        };
        observe("editMessageText", started, &r);
        r
    }

    /// Shows `s` by editing `message_id` when given, else as a new message; an edit that fails
    /// (too old, deleted) falls back to a new message.
    pub async fn show(
        &self,
        chat: i64,
        message_id: Option<i64>,
        s: &Screen,
    ) -> Result<i64, TgError> {
        if let Some(id) = message_id {
            match self.edit(chat, id, s).await {
                Ok(()) => return Ok(id),
                Err(TgError::Refused(_)) => {}
                Err(e) => return Err(e),
            }
        }
        self.send(chat, s).await
    }

    /// Answers a button press (with a pop-up when `text` is given).
    pub async fn answer_callback(&self, id: &str, text: Option<&str>) -> Result<(), TgError> {
        let started = Instant::now();
        let mut req = self
            .bot
            .answer_callback_query(teloxide::types::CallbackQueryId(id.to_owned()));
        if let Some(t) = text {
            req = req.text(t).show_alert(true);
        }
        let r = req.await.map(|_| ()).map_err(TgError::from);
        observe("answerCallbackQuery", started, &r);
        r
    }

    /// `getUpdates` from `offset`, long-polling up to `timeout`.
    pub async fn get_updates(
        &self,
        offset: i32,
        timeout: Duration,
    ) -> Result<Vec<Update>, TgError> {
        let started = Instant::now();
        let r = self
            .bot
            .get_updates()
            .offset(offset)
            .timeout(u32::try_from(timeout.as_secs()).unwrap_or(25))
            .await
            .map_err(TgError::from);
        observe("getUpdates", started, &r);
        r
    }

    /// Downloads a file by id (at most `max_bytes`).
    pub async fn download(&self, file_id: &str, max_bytes: usize) -> Result<Vec<u8>, TgError> {
        let started = Instant::now();
        let r = async {
            let f = self.bot.get_file(FileId(file_id.to_owned())).await?;
            if usize::try_from(f.meta.size).unwrap_or(usize::MAX) > max_bytes {
                return Err(TgError::Refused("file too large".into()));
            }
            let mut stream = self.bot.download_file_stream(&f.path);
            let mut out = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    TgError::Network(if e.is_timeout() {
                        "timeout".into()
                    } else {
                        "download error".into()
                    })
                })?;
                out.extend_from_slice(&chunk);
                if out.len() > max_bytes {
                    return Err(TgError::Refused("file too large".into()));
                }
            }
            Ok(out)
        }
        .await;
        observe("getFile", started, &r);
        r
    }

    /// Registers the webhook with its secret token.
    pub async fn set_webhook(&self, url: url::Url, secret: &str) -> Result<(), TgError> {
        let started = Instant::now();
        let r = self
            .bot
            .set_webhook(url)
            .secret_token(secret.to_owned())
            .await
            .map(|_| ())
            .map_err(TgError::from);
        observe("setWebhook", started, &r);
        r
    }

    /// Removes a webhook so `getUpdates` works (pending updates are kept, unlike the original).
    pub async fn delete_webhook(&self) -> Result<(), TgError> {
        let started = Instant::now();
        let r = self
            .bot
            .delete_webhook()
            .await
            .map(|_| ())
            .map_err(TgError::from);
        observe("deleteWebhook", started, &r);
        r
    }

    /// The command list and the chat menu button (the Mini App when configured).
    pub async fn setup(
        &self,
        commands: Vec<(String, String)>,
        menu: Option<(String, url::Url)>,
    ) -> Result<(), TgError> {
        let started = Instant::now();
        let cmds: Vec<BotCommand> = commands
            .into_iter()
            .map(|(c, d)| BotCommand::new(c, d))
            .collect();
        let r = self
            .bot
            .set_my_commands(cmds)
            .await
            .map(|_| ())
            .map_err(TgError::from);
        observe("setMyCommands", started, &r);
        r?;
        if let Some((text, url)) = menu {
            let started = Instant::now();
            let r = self
                .bot
                .set_chat_menu_button()
                .menu_button(MenuButton::WebApp {
                    text,
                    web_app: WebAppInfo { url },
                })
                .await
                .map(|_| ())
                .map_err(TgError::from);
            observe("setChatMenuButton", started, &r);
            r?;
        }
        Ok(())
    }
}

fn no_preview() -> LinkPreviewOptions {
    LinkPreviewOptions {
        is_disabled: true,
        url: None,
        prefer_small_media: false,
        prefer_large_media: false,
        show_above_text: false,
    }
}

impl From<teloxide::DownloadError> for TgError {
    fn from(e: teloxide::DownloadError) -> Self {
        TgError::Network(format!(
            "download: {}",
            if matches!(e, teloxide::DownloadError::Io(_)) {
                "io"
            } else {
                "network"
            }
        ))
    }
}

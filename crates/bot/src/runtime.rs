//! Getting updates: long polling by the one instance holding the `poller` lease (the others
//! wait and take over when it lapses), the last processed update id kept with the lease so a
//! takeover neither drops nor repeats a batch; or webhook mode, where Telegram posts each update
//! to [`WEBHOOK_PATH`] with the secret token compared in constant time against the key set.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;
use teloxide::types::Update;
use tokio_util::sync::CancellationToken;

use crate::BotError;
use crate::app::BotApp;
use crate::state;

/// The webhook route the api router mounts.
pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// The lease name of the long poller.
pub const POLLER_LEASE: &str = "poller";
/// How long a lease lasts without renewal.
const LEASE_TTL_SECS: i64 = 60;

impl BotApp {
    /// One round of polling: renews (or takes) the lease, fetches updates after the last
    /// processed one (waiting up to `timeout`), handles them in order and records progress.
    /// Returns `None` when another instance holds the lease.
    pub async fn poll_once(self: &Arc<Self>, timeout: Duration) -> Result<Option<usize>, BotError> {
        let db = &self.deps().db;
        let now = self.now();
        if !state::acquire_lease(
            db,
            POLLER_LEASE,
            &self.instance,
            chrono::Duration::seconds(LEASE_TTL_SECS),
            now,
        )
        .await?
        {
            return Ok(None);
        }
        let last = state::last_update_id(db, POLLER_LEASE).await?;
        let offset = i32::try_from(last + 1).unwrap_or(0);
        let updates = self.tg.get_updates(offset, timeout).await?;
        let n = updates.len();
        for u in updates {
            let id = i64::from(u.id.0);
            if id <= last {
                continue;
            }
            self.handle_update(u).await;
            state::set_last_update_id(db, POLLER_LEASE, &self.instance, id).await?;
        }
        Ok(Some(n))
    }

    /// Webhook mode: registers `url` with the first secret token (the api serves the route).
    pub async fn set_webhook(
        &self,
        url: url::Url,
        secret: &secrecy::SecretString,
    ) -> Result<(), BotError> {
        self.setup().await?;
        self.tg.set_webhook(url, secret.expose_secret()).await?;
        tracing::info!("telegram webhook registered");
        Ok(())
    }

    /// Gives the poller lease up (graceful shutdown: another instance takes over at once).
    pub async fn release(&self) -> Result<(), BotError> {
        state::release_lease(&self.deps().db, POLLER_LEASE, &self.instance).await?;
        Ok(())
    }

    /// Polls until `shutdown`, then waits for background work and releases the lease.
    pub async fn run_polling(self: Arc<Self>, shutdown: CancellationToken) {
        if let Err(e) = self.setup().await {
            tracing::warn!(error = %e, "setting the bot commands and menu button failed; continuing");
        }
        if let Err(e) = self.tg.delete_webhook().await {
            tracing::warn!(error = %e, "removing a webhook before polling failed; continuing");
        }
        tracing::info!(instance = %self.instance, "telegram bot polling");
        let timeout = self.config().poll_timeout;
        loop {
            let round = tokio::select! {
                () = shutdown.cancelled() => break,
                r = self.poll_once(timeout) => r,
            };
            let pause = match round {
                Ok(Some(_)) => Duration::ZERO,
                // Another instance polls: check again before its lease could lapse.
                Ok(None) => Duration::from_secs(10),
                Err(e) => {
                    tracing::warn!(error = %e, "polling Telegram failed; retrying in 5 s");
                    Duration::from_secs(5)
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
        if !self.settle(Duration::from_secs(20)).await {
            tracing::warn!("bot background tasks still running at shutdown");
        }
        if let Err(e) = self.release().await {
            tracing::warn!(error = %e, "releasing the poller lease failed");
        }
        tracing::info!("telegram bot stopped");
    }
}

/// True when `given` equals one of `keys` (constant time per key; every key is compared).
#[must_use]
pub fn secret_matches(given: &[u8], keys: &[secrecy::SecretString]) -> bool {
    let mut ok = subtle::Choice::from(0u8);
    for k in keys {
        let k = k.expose_secret().as_bytes();
        if k.len() == given.len() {
            ok |= k.ct_eq(given);
        }
    }
    bool::from(ok) && !keys.is_empty()
}

async fn webhook(State(app): State<Arc<BotApp>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let given = headers
        .get("x-telegram-bot-api-secret-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !secret_matches(given, &app.config().webhook_secrets) {
        metrics::counter!("eatfit_bot_webhook_total", "outcome" => "forbidden").increment(1);
        return StatusCode::FORBIDDEN;
    }
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "webhook body is not an update");
            metrics::counter!("eatfit_bot_webhook_total", "outcome" => "bad_request").increment(1);
            // 200 anyway: Telegram would redeliver a malformed update forever.
            return StatusCode::OK;
        }
    };
    metrics::counter!("eatfit_bot_webhook_total", "outcome" => "ok").increment(1);
    app.handle_update(update).await;
    StatusCode::OK
}

/// The webhook router (mount it in the api router; it carries its own state).
pub fn webhook_router(app: Arc<BotApp>) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(webhook))
        .with_state(app)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    #[test]
    fn webhook_secret_matches_any_key_of_the_set() {
        let keys = vec![
            SecretString::from("old-secret".to_owned()),
            SecretString::from("new-secret".to_owned()),
        ];
        assert!(secret_matches(b"new-secret", &keys));
        assert!(secret_matches(b"old-secret", &keys));
        assert!(!secret_matches(b"new-secreT", &keys));
        assert!(!secret_matches(b"", &keys));
        assert!(!secret_matches(b"", &[]));
    }
}

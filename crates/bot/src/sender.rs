//! The `notify.send` job: delivers one outbox row. Only a `pending` row is sent and the row is
//! marked `sent` with the Telegram message id right after, so a re-run job sends nothing; a
//! 429 waits `retry_after` in place when short (else the job is retried later); a 403 marks the
//! row `blocked` and flags the chat, so nothing more is sent there until the user writes again.

use jobs::outbox::{self, SendPayload, status};
use jobs::worker::{JobContext, JobError};

use crate::app::BotApp;
use crate::state;
use crate::tg::TgError;

fn count(kind: &str, outcome: &'static str) {
    metrics::counter!("eatfit_notifications_sent_total", "kind" => kind.to_owned(), "outcome" => outcome).increment(1);
}

pub(crate) async fn run(app: &BotApp, ctx: &JobContext) -> Result<(), JobError> {
    let p: SendPayload = ctx.payload()?;
    let db = &ctx.db;
    let Some(row) = outbox::get(db, p.notification_id).await? else {
        return Err(JobError::Permanent(format!(
            "notification {} does not exist",
            p.notification_id
        )));
    };
    if row.status != status::PENDING {
        return Ok(());
    }
    let now = ctx.clock.now();
    if state::is_blocked(db, row.chat_id).await? {
        outbox::mark(
            db,
            row.id,
            status::BLOCKED,
            None,
            Some("the chat blocked the bot"),
            now,
        )
        .await?;
        count(&row.kind, "blocked");
        return Ok(());
    }
    let mut attempt = 0;
    loop {
        attempt += 1;
        match app
            .tg
            .send_raw(row.chat_id, &row.text, row.reply_markup.as_ref())
            .await
        {
            Ok(message_id) => {
                outbox::mark(
                    db,
                    row.id,
                    status::SENT,
                    Some(message_id),
                    None,
                    ctx.clock.now(),
                )
                .await?;
                count(&row.kind, "sent");
                tracing::info!(notification_id = row.id, kind = %row.kind, message_id, "notification sent");
                return Ok(());
            }
            Err(TgError::RetryAfter(wait))
                if attempt == 1 && wait <= app.config().max_inline_retry_after =>
            {
                tracing::info!(
                    notification_id = row.id,
                    wait_s = wait.as_secs(),
                    "Telegram asked to wait; waiting"
                );
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = ctx.cancel.cancelled() => return Err(JobError::Retryable("shutting down".into())),
                }
            }
            Err(TgError::RetryAfter(wait)) => {
                let e = format!("rate limited; retry after {} s", wait.as_secs());
                outbox::record_attempt(db, row.id, &e).await?;
                count(&row.kind, "rate_limited");
                return Err(JobError::Retryable(e));
            }
            Err(TgError::Blocked) => {
                outbox::mark(
                    db,
                    row.id,
                    status::BLOCKED,
                    None,
                    Some("forbidden: blocked by the user"),
                    now,
                )
                .await?;
                state::set_blocked(db, row.chat_id, row.user_id, now).await?;
                count(&row.kind, "blocked");
                tracing::info!(
                    notification_id = row.id,
                    chat_id = row.chat_id,
                    "recipient blocked the bot; chat flagged"
                );
                return Ok(());
            }
            Err(TgError::Refused(why)) => {
                outbox::mark(db, row.id, status::FAILED, None, Some(&why), now).await?;
                count(&row.kind, "failed");
                return Err(JobError::Permanent(format!(
                    "Telegram refused notification {}: {why}",
                    row.id
                )));
            }
            Err(e) => {
                let e = e.to_string();
                outbox::record_attempt(db, row.id, &e).await?;
                count(&row.kind, "retry");
                return Err(JobError::Retryable(e));
            }
        }
    }
}

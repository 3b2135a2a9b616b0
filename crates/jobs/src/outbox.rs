//! The notification outbox (DESIGN.md §8): producers (billing, recognition, coach, reminders)
//! [`push`] a rendered Telegram message inside the transaction of the change that causes it; the
//! row's unique `dedup_key` makes a retried transaction or a re-run job produce one message, and
//! a `notify.send` job carrying only the row id is enqueued with it. The bot registers the
//! handler for [`SEND_KIND`] and is the only sender of Telegram messages.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};
use serde::{Deserialize, Serialize};
use store::entities::notification;
use store::{Db, StoreError};

use crate::{NewJob, Queue, enqueue};

/// The job kind that delivers one outbox row; its payload is [`SendPayload`].
pub const SEND_KIND: &str = "notify.send";

/// The payload of a [`SEND_KIND`] job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendPayload {
    pub notification_id: i64,
}

/// Delivery states of an outbox row.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const SENT: &str = "sent";
    /// Gave up after the attempts (the job is dead; an operator may replay it).
    pub const FAILED: &str = "failed";
    /// The recipient blocked the bot (Telegram 403); never retried.
    pub const BLOCKED: &str = "blocked";
}

/// A message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Unique across all time: the same key never produces a second message
    /// (e.g. `billing.payment_succeeded:<payment id>:user`).
    pub dedup_key: String,
    /// What it is, for metrics and tests (e.g. `billing.payment_succeeded`).
    pub kind: String,
    /// The Telegram chat (a user's or an admin's Telegram id for private chats).
    pub chat_id: i64,
    /// Our user id when the recipient is a user.
    pub user_id: Option<i64>,
    /// Telegram HTML (`parse_mode=HTML`), already in the recipient's language and escaped.
    pub text: String,
    /// An optional Telegram `reply_markup` object (inline keyboard).
    pub reply_markup: Option<serde_json::Value>,
    /// Not before this instant (quiet hours); `None` = now.
    pub not_before: Option<DateTime<Utc>>,
}

impl Notification {
    pub fn new(
        dedup_key: impl Into<String>,
        kind: impl Into<String>,
        chat_id: i64,
        text: impl Into<String>,
    ) -> Self {
        Self {
            dedup_key: dedup_key.into(),
            kind: kind.into(),
            chat_id,
            user_id: None,
            text: text.into(),
            reply_markup: None,
            not_before: None,
        }
    }

    #[must_use]
    pub fn user(mut self, user_id: i64) -> Self {
        self.user_id = Some(user_id);
        self
    }

    #[must_use]
    pub fn reply_markup(mut self, markup: serde_json::Value) -> Self {
        self.reply_markup = Some(markup);
        self
    }

    #[must_use]
    pub fn not_before(mut self, at: DateTime<Utc>) -> Self {
        self.not_before = Some(at);
        self
    }
}

/// Writes `n` to the outbox and enqueues its delivery, on `conn` (pass the caller's
/// transaction). Returns the row id, or `None` when a message with the same `dedup_key` exists
/// already (nothing is enqueued then).
pub async fn push<C: ConnectionTrait>(
    conn: &C,
    n: Notification,
    now: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    let backend = conn.get_database_backend();
    let not_before = n.not_before.unwrap_or(now);
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO notifications (dedup_key, kind, chat_id, user_id, text, reply_markup, \
             status, attempts, created_at, not_before) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $8) \
             ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
            vec![
                n.dedup_key.clone().into(),
                n.kind.clone().into(),
                n.chat_id.into(),
                n.user_id.into(),
                n.text.into(),
                n.reply_markup.into(),
                now.into(),
                not_before.into(),
            ],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let id: i64 = row.try_get("", "id")?;
    let payload = serde_json::json!({ "notification_id": id });
    enqueue(
        conn,
        NewJob::new(SEND_KIND, Queue::Notify, payload)
            .max_attempts(8)
            .run_at(not_before)
            .unique_key(format!("notify:{id}")),
        now,
    )
    .await?;
    metrics::counter!("eatfit_notifications_queued_total", "kind" => n.kind).increment(1);
    Ok(Some(id))
}

/// Pushes the same message to every admin chat, one row each (`<dedup_key>:admin:<id>`).
pub async fn push_to_admins<C: ConnectionTrait>(
    conn: &C,
    admins: &[i64],
    n: &Notification,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut pushed = 0;
    for admin in admins {
        let mut one = n.clone();
        one.chat_id = *admin;
        one.user_id = None;
        one.dedup_key = format!("{}:admin:{admin}", n.dedup_key);
        if push(conn, one, now).await?.is_some() {
            pushed += 1;
        }
    }
    Ok(pushed)
}

/// One outbox row.
pub async fn get(db: &Db, id: i64) -> Result<Option<notification::Model>, StoreError> {
    Ok(notification::Entity::find_by_id(id).one(db.conn()).await?)
}

/// The outbox rows of `kind` (all kinds when `None`), oldest first: for tests, the admin CLI and
/// the bot's sender.
pub async fn list(db: &Db, kind: Option<&str>) -> Result<Vec<notification::Model>, StoreError> {
    let mut q = notification::Entity::find().order_by_asc(notification::Column::Id);
    if let Some(kind) = kind {
        q = q.filter(notification::Column::Kind.eq(kind));
    }
    Ok(q.all(db.conn()).await?)
}

/// Records a delivery outcome: `status` is one of [`status`]; a `sent` row keeps its Telegram
/// message id. Only a `pending` row changes, so a second delivery attempt of a sent row is a
/// no-op. Returns whether the row changed.
pub async fn mark(
    db: &Db,
    id: i64,
    new_status: &str,
    telegram_message_id: Option<i64>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sent_at: Option<DateTime<Utc>> = (new_status == status::SENT).then_some(now);
    let r = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "UPDATE notifications SET status = $1, telegram_message_id = $2, last_error = $3, \
             sent_at = $4, attempts = attempts + 1 WHERE id = $5 AND status = 'pending'",
            vec![
                new_status.into(),
                telegram_message_id.into(),
                error.map(str::to_string).into(),
                sent_at.into(),
                id.into(),
            ],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Counts a failed attempt that will be retried (the row stays `pending`).
pub async fn record_attempt(db: &Db, id: i64, error: &str) -> Result<(), StoreError> {
    db.conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "UPDATE notifications SET attempts = attempts + 1, last_error = $1 \
             WHERE id = $2 AND status = 'pending'",
            vec![error.into(), id.into()],
        ))
        .await?;
    Ok(())
}

//! What the bot keeps in the database: each chat's dialogue (versioned JSON, so a restart or a
//! deploy resumes every user where they were, and a format change falls back to a clean start
//! instead of stranding anyone), the poller lease with the last confirmed update id, and
//! per-chat facts (blocked the bot, deep-link payload, last nudge).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use store::{Db, StoreError};

use crate::survey::SurveyState;

/// The current dialogue format.
pub const DIALOGUE_VERSION: i32 = 1;

/// A chat's dialogue.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub enum Dialogue {
    #[default]
    Idle,
    Survey(SurveyState),
}

/// Reads a stored dialogue of any known version; anything unreadable is a clean start.
#[must_use]
pub fn decode(version: i32, raw: &str) -> Dialogue {
    match version {
        DIALOGUE_VERSION => serde_json::from_str(raw).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored dialogue unreadable; starting clean");
            Dialogue::Idle
        }),
        other => {
            tracing::warn!(
                version = other,
                "stored dialogue of an unknown version; starting clean"
            );
            Dialogue::Idle
        }
    }
}

/// The chat's dialogue (`Idle` when none).
pub async fn load(db: &Db, chat_id: i64) -> Result<Dialogue, StoreError> {
    let row = db
        .conn()
        .query_one_raw(db.statement(
            "SELECT version, state FROM bot_dialogues WHERE chat_id = $1",
            vec![chat_id.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => decode(
            r.try_get("", "version")?,
            &r.try_get::<String>("", "state")?,
        ),
        None => Dialogue::Idle,
    })
}

/// Stores the chat's dialogue (an `Idle` one deletes the row).
pub async fn save(
    db: &Db,
    chat_id: i64,
    d: &Dialogue,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if *d == Dialogue::Idle {
        db.conn()
            .execute_raw(db.statement(
                "DELETE FROM bot_dialogues WHERE chat_id = $1",
                vec![chat_id.into()],
            ))
            .await?;
        return Ok(());
    }
    let json = serde_json::to_string(d).map_err(|e| StoreError::Conflict(e.to_string()))?;
    db.conn()
        .execute_raw(db.statement("INSERT INTO bot_dialogues (chat_id, version, state, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (chat_id) DO UPDATE SET version = excluded.version, state = excluded.state, \
             updated_at = excluded.updated_at",
            vec![chat_id.into(), DIALOGUE_VERSION.into(), json.into(), now.into()],
        ))
        .await?;
    Ok(())
}

/// Takes or renews the lease `name` for `holder` until `now + ttl`; true when held.
pub async fn acquire_lease(
    db: &Db,
    name: &str,
    holder: &str,
    ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = db
        .conn()
        .execute_raw(db.statement("INSERT INTO bot_leases (name, holder, expires_at, last_update_id) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE bot_leases.holder = excluded.holder OR bot_leases.expires_at < $4",
            vec![name.into(), holder.into(), (now + ttl).into(), now.into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Gives the lease up (only when `holder` has it).
pub async fn release_lease(db: &Db, name: &str, holder: &str) -> Result<(), StoreError> {
    db.conn()
        .execute_raw(db.statement(
            "UPDATE bot_leases SET expires_at = $1 WHERE name = $2 AND holder = $3",
            vec![
                DateTime::<Utc>::UNIX_EPOCH.into(),
                name.into(),
                holder.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// The last update id confirmed under the lease.
pub async fn last_update_id(db: &Db, name: &str) -> Result<i64, StoreError> {
    let row = db
        .conn()
        .query_one_raw(db.statement(
            "SELECT last_update_id FROM bot_leases WHERE name = $1",
            vec![name.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get("", "last_update_id")?,
        None => 0,
    })
}

/// Records the last processed update id (by the lease holder).
pub async fn set_last_update_id(
    db: &Db,
    name: &str,
    holder: &str,
    id: i64,
) -> Result<(), StoreError> {
    db.conn()
        .execute_raw(db.statement("UPDATE bot_leases SET last_update_id = $1 WHERE name = $2 AND holder = $3 AND last_update_id < $1",
            vec![id.into(), name.into(), holder.into()],
        ))
        .await?;
    Ok(())
}

/// Records that the chat talks to the bot (clears a "blocked" flag: they are back).
pub async fn touch_chat(
    db: &Db,
    chat_id: i64,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    db.conn()
        .execute_raw(db.statement("INSERT INTO bot_chats (chat_id, user_id, blocked_at, created_at, updated_at) VALUES ($1, $2, NULL, $3, $3) \
             ON CONFLICT (chat_id) DO UPDATE SET user_id = COALESCE(excluded.user_id, bot_chats.user_id), \
             blocked_at = NULL, updated_at = excluded.updated_at",
            vec![chat_id.into(), user_id.into(), now.into()],
        ))
        .await?;
    Ok(())
}

/// Flags the chat as having blocked the bot.
pub async fn set_blocked(
    db: &Db,
    chat_id: i64,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    db.conn()
        .execute_raw(db.statement("INSERT INTO bot_chats (chat_id, user_id, blocked_at, created_at, updated_at) VALUES ($1, $2, $3, $3, $3) \
             ON CONFLICT (chat_id) DO UPDATE SET blocked_at = excluded.blocked_at, updated_at = excluded.updated_at",
            vec![chat_id.into(), user_id.into(), now.into()],
        ))
        .await?;
    Ok(())
}

/// True when the chat blocked the bot.
pub async fn is_blocked(db: &Db, chat_id: i64) -> Result<bool, StoreError> {
    let row = db
        .conn()
        .query_one_raw(db.statement(
            "SELECT 1 AS one FROM bot_chats WHERE chat_id = $1 AND blocked_at IS NOT NULL",
            vec![chat_id.into()],
        ))
        .await?;
    Ok(row.is_some())
}

/// Stores the first deep-link payload of a chat and, for a user without one, the lead source
/// tag (coach invite codes and campaign tags), so the coach panel attributes the lead.
pub async fn record_start_payload(
    db: &Db,
    chat_id: i64,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let payload: String = payload
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .take(64)
        .collect();
    if payload.is_empty() {
        return Ok(());
    }
    db.conn()
        .execute_raw(db.statement("UPDATE bot_chats SET start_payload = $1, updated_at = $2 WHERE chat_id = $3 AND start_payload IS NULL",
            vec![payload.clone().into(), now.into(), chat_id.into()],
        ))
        .await?;
    db.conn()
        .execute_raw(db.statement("UPDATE telegram_users SET source_tag = $1, updated_at = $2 WHERE telegram_id = $3 AND source_tag IS NULL",
            vec![payload.into(), now.into(), chat_id.into()],
        ))
        .await?;
    Ok(())
}

/// Marks a nudge as sent (returns false when one was sent at or after `since` already).
pub async fn mark_nudged(
    db: &Db,
    chat_id: i64,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = db
        .conn()
        .execute_raw(db.statement("UPDATE bot_chats SET nudged_at = $1 WHERE chat_id = $2 AND (nudged_at IS NULL OR nudged_at < $3)",
            vec![now.into(), chat_id.into(), since.into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::Step;

    #[test]
    fn dialogues_round_trip_and_unknown_versions_start_clean() {
        let d = Dialogue::Survey(SurveyState::start());
        let raw = serde_json::to_string(&d).unwrap_or_default();
        assert_eq!(decode(DIALOGUE_VERSION, &raw), d);
        assert_eq!(decode(99, &raw), Dialogue::Idle);
        assert_eq!(decode(DIALOGUE_VERSION, "{garbage"), Dialogue::Idle);
        let old = r#"{"flow":"survey","step":"height","answers":{"age":30,"removed_field":1}}"#;
        match decode(DIALOGUE_VERSION, old) {
            Dialogue::Survey(s) => assert_eq!((s.step, s.answers.age), (Step::Height, Some(30))),
            other => panic!("{other:?}"),
        }
    }
}

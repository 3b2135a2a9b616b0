//! Operator-facing alerts and the weekly digest (reference/billing.md §8), all through the
//! outbox to the admins, de-duplicated with `store::alerts` (one message per incident, not per
//! sweep; 2026-01-14 sent the same alert six times).

use chrono::{DateTime, Datelike, Duration, Utc};
use jobs::outbox::{self, Notification};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use store::alerts::{self, Raised};
use store::entities::{notification, webhook_event};

use crate::texts::html;
use crate::webhooks::status;
use crate::{Billing, BillingError};

pub const RULE_WEBHOOKS_FAILED: &str = "billing_webhooks_failed";
pub const RULE_STALE_PAYMENTS: &str = "billing_stale_payments";
pub const RULE_DIGEST_STALE: &str = "billing_digest_stale";
pub const KIND_DIGEST: &str = "billing.weekly_digest";

async fn to_admins(
    billing: &Billing,
    key: String,
    kind: &str,
    text: String,
    now: DateTime<Utc>,
) -> Result<usize, BillingError> {
    Ok(outbox::push_to_admins(
        billing.db().conn(),
        &billing.settings().admins,
        &Notification::new(key, kind, 0, text),
        now,
    )
    .await?)
}

/// Failed webhooks in the last hour → one alert until none fail any more.
pub async fn failed_webhooks_alert(billing: &Billing) -> Result<bool, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let recent = webhook_event::Entity::find()
        .filter(webhook_event::Column::Status.eq(status::FAILED))
        .filter(webhook_event::Column::UpdatedAt.gt(now - Duration::hours(1)))
        .order_by_desc(webhook_event::Column::Id)
        .all(db.conn())
        .await?;
    if recent.is_empty() {
        alerts::resolve(db, RULE_WEBHOOKS_FAILED, "", now).await?;
        return Ok(false);
    }
    let summary = format!("{} failed YooKassa webhooks in the last hour", recent.len());
    if alerts::raise(db, RULE_WEBHOOKS_FAILED, "", &summary, now).await? == Raised::Repeated {
        return Ok(false);
    }
    let mut by_type: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for e in &recent {
        let entry = by_type.entry(e.event_type.clone()).or_default();
        entry.0 += 1;
        if entry.1.is_empty() {
            entry.1 = e
                .error_message
                .clone()
                .unwrap_or_default()
                .chars()
                .take(100)
                .collect();
        }
    }
    let mut text = format!(
        "🚨 <b>BILLING ALERT</b>\n\n{} failed webhooks за последний час.\n",
        recent.len()
    );
    for (t, (n, sample)) in by_type.iter().take(5) {
        text.push_str(&format!("\n• {}: {n} — {}", html(t), html(sample)));
    }
    text.push_str("\n\nПроверьте логи воркера и `eatfit admin billing webhooks --failed`.");
    to_admins(
        billing,
        format!("billing.webhooks_failed:{}", now.timestamp()),
        "billing.webhooks_failed",
        text,
        now,
    )
    .await?;
    Ok(true)
}

/// Payments pending for more than a day after asking YooKassa → one alert until none are left.
pub async fn stale_payments_alert(
    billing: &Billing,
    stale: &[String],
    now: DateTime<Utc>,
) -> Result<bool, BillingError> {
    let db = billing.db();
    if stale.is_empty() {
        alerts::resolve(db, RULE_STALE_PAYMENTS, "", now).await?;
        return Ok(false);
    }
    let summary = format!("{} payments pending for more than 24 h", stale.len());
    if alerts::raise(db, RULE_STALE_PAYMENTS, "", &summary, now).await? == Raised::Repeated {
        return Ok(false);
    }
    let ids: Vec<String> = stale.iter().take(5).map(|s| html(s)).collect();
    let text = format!(
        "⚠️ <b>BILLING</b>: {} платежей висят в статусе pending больше суток (YooKassa тоже не даёт финального статуса). Возможно, webhooks не доходят!\n\n{}",
        stale.len(),
        ids.join("\n")
    );
    to_admins(
        billing,
        format!("billing.stale_payments:{}", now.timestamp()),
        "billing.stale_payments",
        text,
        now,
    )
    .await?;
    Ok(true)
}

/// The weekly digest text for events in `[from, to)`.
pub async fn digest_text(
    billing: &Billing,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<String, BillingError> {
    let db = billing.db();
    let events = webhook_event::Entity::find()
        .filter(webhook_event::Column::CreatedAt.gte(from))
        .filter(webhook_event::Column::CreatedAt.lte(to))
        .all(db.conn())
        .await?;
    let period = format!("{} → {}", from.format("%Y-%m-%d"), to.format("%Y-%m-%d"));
    let mut text = format!("📊 <b>WEEKLY BILLING DIGEST</b>\nПериод: {period}\n\n");
    if events.is_empty() {
        text.push_str("⚠️ Нет webhook событий за период");
        return Ok(text);
    }
    let failed: Vec<_> = events
        .iter()
        .filter(|e| e.status == status::FAILED)
        .collect();
    let rejected = events
        .iter()
        .filter(|e| e.status == status::REJECTED)
        .count();
    let ok = events
        .iter()
        .filter(|e| e.status == status::PROCESSED)
        .count();
    if failed.is_empty() {
        text.push_str(&format!(
            "✅ Все billing webhooks обработаны успешно\nВсего событий: {}\nОтклонено (не подтверждены API/не из allowlist): {rejected}\nОшибок нет",
            events.len()
        ));
        return Ok(text);
    }
    text.push_str(&format!(
        "Всего событий: {}\nУспешно: {ok}\nОтклонено: {rejected}\nОшибок: {} ⚠️\n\nОшибки по типам:",
        events.len(),
        failed.len()
    ));
    let mut by_type: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut by_sig: std::collections::BTreeMap<String, usize> = Default::default();
    for e in &failed {
        *by_type.entry(e.event_type.as_str()).or_default() += 1;
        let sig = e
            .error_message
            .as_deref()
            .and_then(|m| m.lines().next())
            .map(|l| l.chars().take(100).collect::<String>())
            .filter(|l| !l.trim().is_empty())
            .unwrap_or_else(|| "(no error message)".into());
        *by_sig.entry(sig).or_default() += 1;
    }
    let mut types: Vec<_> = by_type.into_iter().collect();
    types.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (t, n) in types {
        text.push_str(&format!("\n• {}: {n}", html(t)));
    }
    let mut sigs: Vec<_> = by_sig.into_iter().collect();
    sigs.sort_by_key(|s| std::cmp::Reverse(s.1));
    text.push_str("\n\nТоп ошибок:");
    for (s, n) in sigs.into_iter().take(3) {
        text.push_str(&format!("\n• {} ({n})", html(&s)));
    }
    Ok(text)
}

/// Pushes the weekly digest (one per ISO week).
pub async fn weekly_digest(billing: &Billing) -> Result<usize, BillingError> {
    let now = billing.now();
    let text = digest_text(billing, now - Duration::days(7), now).await?;
    let week = now.iso_week();
    to_admins(
        billing,
        format!("{KIND_DIGEST}:{}-W{:02}", week.year(), week.week()),
        KIND_DIGEST,
        text,
        now,
    )
    .await
}

/// Health of the digest: raises one alert when the newest digest is older than 8 days
/// (`None` when there is no baseline yet).
pub async fn digest_health(billing: &Billing) -> Result<Option<bool>, BillingError> {
    let db = billing.db();
    let now = billing.now();
    let last = notification::Entity::find()
        .filter(notification::Column::Kind.eq(KIND_DIGEST))
        .order_by_desc(notification::Column::CreatedAt)
        .one(db.conn())
        .await?;
    let Some(last) = last else {
        return Ok(None);
    };
    let days = (now - last.created_at).num_days();
    if days <= 8 {
        alerts::resolve(db, RULE_DIGEST_STALE, "", now).await?;
        return Ok(Some(true));
    }
    let summary = format!("the weekly billing digest has not been sent for {days} days");
    if alerts::raise(db, RULE_DIGEST_STALE, "", &summary, now).await? == Raised::New {
        let text = format!(
            "⚠️ <b>WEEKLY DIGEST DEGRADATION</b>\n\nДайджест не отправлялся {days} дн. (последний: {}).\nОжидается: каждый понедельник 10:00 МСК.\nПроверьте планировщик (`eatfit scheduler`) и очередь billing.",
            crate::texts::date(last.created_at)
        );
        to_admins(
            billing,
            format!("billing.digest_stale:{}", now.timestamp()),
            "billing.digest_stale",
            text,
            now,
        )
        .await?;
    }
    Ok(Some(false))
}

/// How many outbox rows of `kind` exist (tests, the CLI).
pub async fn count_notifications(billing: &Billing, kind: &str) -> Result<u64, BillingError> {
    Ok(notification::Entity::find()
        .filter(notification::Column::Kind.eq(kind))
        .count(billing.db().conn())
        .await?)
}

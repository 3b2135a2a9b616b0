//! Operational alerts, de-duplicated in the database: raising an active alert again only bumps
//! its counter, so a burst of identical failures (every photo failing on a rejected proxy key)
//! pages once. Delivery (Telegram to admins) is done by whoever drains [`pending`].

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::{Db, StoreError};

/// The outcome of [`raise`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    /// A new active alert: notify people.
    New,
    /// Already active: counted, nobody is notified again.
    Repeated,
}

/// Raises alert `rule` for `key` (e.g. a dependency name).
pub async fn raise(
    db: &Db,
    rule: &str,
    key: &str,
    summary: &str,
    now: DateTime<Utc>,
) -> Result<Raised, StoreError> {
    let backend = db.db_backend();
    let inserted = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO alerts (rule, key, summary, occurrences, raised_at, last_seen_at) \
             VALUES ($1, $2, $3, 1, $4, $4) ON CONFLICT DO NOTHING",
            vec![rule.into(), key.into(), summary.into(), now.into()],
        ))
        .await?
        .rows_affected();
    if inserted == 1 {
        metrics::counter!("eatfit_telegram_alerts_sent_total", "kind" => rule.to_string())
            .increment(1);
        tracing::error!(alert = rule, key, summary, "ALERT raised");
        return Ok(Raised::New);
    }
    db.conn()
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE alerts SET occurrences = occurrences + 1, last_seen_at = $1 \
             WHERE rule = $2 AND key = $3 AND resolved_at IS NULL",
            vec![now.into(), rule.into(), key.into()],
        ))
        .await?;
    metrics::counter!("eatfit_telegram_alerts_suppressed_total", "kind" => rule.to_string())
        .increment(1);
    Ok(Raised::Repeated)
}

/// Resolves the active alert; the next failure raises (and notifies) anew.
pub async fn resolve(
    db: &Db,
    rule: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "UPDATE alerts SET resolved_at = $1 WHERE rule = $2 AND key = $3 AND resolved_at IS NULL",
            vec![now.into(), rule.into(), key.into()],
        ))
        .await?;
    if r.rows_affected() == 1 {
        tracing::info!(alert = rule, key, "alert resolved");
    }
    Ok(r.rows_affected() == 1)
}

/// An active alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Active {
    pub rule: String,
    pub key: String,
    pub summary: String,
    pub occurrences: i32,
    pub raised_at: DateTime<Utc>,
}

/// Every active alert, oldest first.
pub async fn active(db: &Db) -> Result<Vec<Active>, StoreError> {
    let rows = db
        .conn()
        .query_all_raw(Statement::from_string(
            db.db_backend(),
            "SELECT rule, key, summary, occurrences, raised_at FROM alerts \
             WHERE resolved_at IS NULL ORDER BY raised_at, id",
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Active {
            rule: r.try_get("", "rule")?,
            key: r.try_get("", "key")?,
            summary: r.try_get("", "summary")?,
            occurrences: r.try_get("", "occurrences")?,
            raised_at: r.try_get("", "raised_at")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use chrono::TimeZone;

    #[tokio::test]
    async fn an_alert_is_raised_once_until_resolved() {
        for t in TestDb::all().await.expect("db") {
            let now = Utc
                .with_ymd_and_hms(2026, 2, 1, 10, 0, 0)
                .single()
                .expect("time");
            let rule = "AIConfigOrAuthError";
            assert_eq!(
                raise(&t.db, rule, "ai_proxy", "key rejected", now)
                    .await
                    .expect("raise"),
                Raised::New
            );
            for _ in 0..5 {
                assert_eq!(
                    raise(&t.db, rule, "ai_proxy", "key rejected", now)
                        .await
                        .expect("raise"),
                    Raised::Repeated
                );
            }
            let a = active(&t.db).await.expect("active");
            assert_eq!(a.len(), 1);
            assert_eq!(a[0].occurrences, 6);
            assert!(
                resolve(&t.db, rule, "ai_proxy", now)
                    .await
                    .expect("resolve")
            );
            assert!(active(&t.db).await.expect("active").is_empty());
            assert_eq!(
                raise(&t.db, rule, "ai_proxy", "again", now)
                    .await
                    .expect("raise"),
                Raised::New
            );
            t.cleanup().await;
        }
    }
}

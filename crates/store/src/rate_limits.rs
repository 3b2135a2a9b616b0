//! Fixed-window rate limits counted in the database, so a limit holds across instances and
//! restarts: one row per (key, window), incremented atomically by an upsert.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::{Db, StoreError};

/// A limit: at most `max` hits per `window_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_secs: i64,
}

/// The outcome of [`hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Over the limit: try again in this many seconds (the end of the window).
    Limited {
        retry_after_secs: u32,
    },
}

/// Counts one hit on `key` (e.g. `profile_update:42`) in the window containing `now` and says
/// whether it is within `limit`. Refused hits are counted too (a client hammering a limit does
/// not get a fresh window by it). Rows of past windows are deleted by [`purge_before`].
pub async fn hit(
    db: &Db,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<Verdict, StoreError> {
    let window = limit.window_secs.max(1);
    let start = now.timestamp().div_euclid(window) * window;
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "INSERT INTO rate_limits (key, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
             RETURNING hits",
            vec![key.into(), start.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let hits: i32 = row.try_get("", "hits")?;
    if u32::try_from(hits).unwrap_or(u32::MAX) <= limit.max {
        return Ok(Verdict::Allowed);
    }
    let left = (start + window - now.timestamp()).clamp(1, i64::from(u32::MAX));
    Ok(Verdict::Limited {
        retry_after_secs: u32::try_from(left).unwrap_or(u32::MAX),
    })
}

/// Deletes counters of windows that started before `cutoff`.
pub async fn purge_before(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
    let r = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "DELETE FROM rate_limits WHERE window_start < $1",
            vec![cutoff.timestamp().into()],
        ))
        .await?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestDb;
    use chrono::TimeZone;

    #[tokio::test]
    async fn thirty_an_hour_then_limited_until_the_window_ends() {
        for tdb in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
            let db = tdb.db.clone();
            let t = Utc
                .with_ymd_and_hms(2026, 3, 10, 9, 59, 0)
                .single()
                .unwrap_or_default();
            let limit = Limit {
                max: 30,
                window_secs: 3600,
            };
            for i in 0..30 {
                let v = hit(&db, "profile_update:1", limit, t).await;
                assert_eq!(v.ok(), Some(Verdict::Allowed), "hit {i}");
            }
            let v = hit(&db, "profile_update:1", limit, t).await.ok();
            assert_eq!(
                v,
                Some(Verdict::Limited {
                    retry_after_secs: 60
                })
            );
            // Another key is independent; the next window starts afresh.
            let other = hit(&db, "profile_update:2", limit, t).await.ok();
            assert_eq!(other, Some(Verdict::Allowed));
            let next = t + chrono::Duration::minutes(1);
            let v = hit(&db, "profile_update:1", limit, next).await.ok();
            assert_eq!(v, Some(Verdict::Allowed));
            assert_eq!(purge_before(&db, next).await.ok(), Some(2));
            tdb.cleanup().await;
        }
    }
}

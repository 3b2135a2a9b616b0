//! Operator views of the queue: list jobs by status, replay dead ones, and queue metrics.

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use store::entities::job;
use store::{Db, StoreError};

use crate::{JobStatus, Queue};

/// Lists up to `limit` jobs with `status`, newest first.
pub async fn list(db: &Db, status: JobStatus, limit: u64) -> Result<Vec<job::Model>, StoreError> {
    Ok(job::Entity::find()
        .filter(job::Column::Status.eq(status.as_str()))
        .order_by_desc(job::Column::UpdatedAt)
        .limit(limit)
        .all(db.conn())
        .await?)
}

/// Puts a dead job back in its queue with fresh attempts. Returns false if it was not dead.
pub async fn retry(db: &Db, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let r = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, updated_at = $1, \
             finished_at = NULL WHERE id = $2 AND status = 'dead'",
            vec![now.into(), id.into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Depth and oldest due age per queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    pub queue: Queue,
    pub depth: i64,
    pub oldest_age_secs: i64,
    pub dead: i64,
}

/// Reads queue statistics and publishes them as gauges.
pub async fn queue_stats(db: &Db, now: DateTime<Utc>) -> Result<Vec<QueueStats>, StoreError> {
    let mut out = Vec::new();
    for q in Queue::ALL {
        let row = db
            .conn()
            .query_one_raw(Statement::from_sql_and_values(
                db.db_backend(),
                "SELECT \
                   (SELECT COUNT(*) FROM jobs WHERE queue = $1 AND status IN ('queued','running')) AS depth, \
                   (SELECT MIN(run_at) FROM jobs WHERE queue = $1 AND status = 'queued' AND run_at <= $2) AS oldest, \
                   (SELECT COUNT(*) FROM jobs WHERE queue = $1 AND status = 'dead') AS dead",
                vec![q.as_str().into(), now.into()],
            ))
            .await?;
        let (depth, oldest, dead) = match row {
            Some(r) => (
                r.try_get::<i64>("", "depth")?,
                r.try_get::<Option<DateTime<Utc>>>("", "oldest")?,
                r.try_get::<i64>("", "dead")?,
            ),
            None => (0, None, 0),
        };
        let oldest_age_secs = oldest.map(|t| (now - t).num_seconds().max(0)).unwrap_or(0);
        metrics::gauge!("eatfit_queue_depth", "queue" => q.as_str()).set(depth as f64);
        metrics::gauge!("eatfit_queue_oldest_message_age_seconds", "queue" => q.as_str())
            .set(oldest_age_secs as f64);
        metrics::gauge!("eatfit_queue_dead_jobs", "queue" => q.as_str()).set(dead as f64);
        out.push(QueueStats {
            queue: q,
            depth,
            oldest_age_secs,
            dead,
        });
    }
    Ok(out)
}

/// Deletes finished (`done`) jobs older than `cutoff`; dead jobs stay for operators.
pub async fn delete_finished_before(db: &Db, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
    let r = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "DELETE FROM jobs WHERE status = 'done' AND finished_at < $1",
            vec![cutoff.into()],
        ))
        .await?;
    Ok(r.rows_affected())
}

//! The SQL of claiming, finishing and failing jobs.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult};
use store::entities::job;
use store::{Db, StoreError};

use crate::{Queue, backoff, stmt};

/// A claimed job.
pub type JobRow = job::Model;

/// Claims the next due job of `queue` for `worker`, leasing it until `now + lease`. Jobs whose
/// lease expired (their worker died) are claimed again while they have attempts left.
pub async fn claim(
    db: &Db,
    queue: Queue,
    worker: &str,
    now: DateTime<Utc>,
    lease: chrono::Duration,
) -> Result<Option<JobRow>, StoreError> {
    let backend = db.db_backend();
    let lock = match backend {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, \
         locked_until = $2, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs WHERE queue = $4 AND attempts < max_attempts AND \
           ((status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $3)) \
           ORDER BY run_at, id LIMIT 1 {lock}) \
         RETURNING *"
    );
    let row = db
        .conn()
        .query_one_raw(stmt(
            backend,
            &sql,
            vec![
                worker.into(),
                (now + lease).into(),
                now.into(),
                queue.as_str().into(),
            ],
        ))
        .await?;
    match row {
        Some(r) => Ok(Some(JobRow::from_query_result(&r, "")?)),
        None => Ok(None),
    }
}

/// Extends the lease of a job this worker still holds. Returns false if the lease was lost.
pub async fn extend_lease(
    db: &Db,
    id: i64,
    worker: &str,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = db
        .conn()
        .execute_raw(stmt(
            db.db_backend(),
            "UPDATE jobs SET locked_until = $1 WHERE id = $2 AND locked_by = $3 AND status = 'running'",
            vec![until.into(), id.into(), worker.into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks a job done (only if this worker still holds it).
pub async fn complete(
    db: &Db,
    id: i64,
    worker: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let r = db
        .conn()
        .execute_raw(stmt(
            db.db_backend(),
            "UPDATE jobs SET status = 'done', finished_at = $1, updated_at = $1, \
             locked_by = NULL, locked_until = NULL, last_error = NULL \
             WHERE id = $2 AND locked_by = $3 AND status = 'running'",
            vec![now.into(), id.into(), worker.into()],
        ))
        .await?;
    Ok(r.rows_affected() == 1)
}

/// Records a failure: the job is queued again after a backoff, or goes `dead` when it has no
/// attempts left or the failure is permanent. Returns the new status.
pub async fn fail(
    db: &Db,
    job: &JobRow,
    worker: &str,
    error: &str,
    permanent: bool,
    now: DateTime<Utc>,
) -> Result<&'static str, StoreError> {
    let dead = permanent || job.attempts >= job.max_attempts;
    let (status, run_at) = if dead {
        ("dead", job.run_at)
    } else {
        ("queued", now + backoff(job.attempts))
    };
    let error: String = error.chars().take(4000).collect();
    db.conn()
        .execute_raw(stmt(
            db.db_backend(),
            "UPDATE jobs SET status = $1, run_at = $2, last_error = $3, updated_at = $4, \
             finished_at = CASE WHEN $1 = 'dead' THEN $4 ELSE NULL END, \
             locked_by = NULL, locked_until = NULL \
             WHERE id = $5 AND locked_by = $6 AND status = 'running'",
            vec![
                status.into(),
                run_at.into(),
                error.into(),
                now.into(),
                job.id.into(),
                worker.into(),
            ],
        ))
        .await?;
    Ok(status)
}

/// Jobs whose worker died after their last attempt: the lease expired and no attempt is left.
/// They become `dead` so an operator sees them, instead of sitting in `running` forever.
pub async fn bury_abandoned(db: &Db, now: DateTime<Utc>) -> Result<u64, StoreError> {
    let r = db
        .conn()
        .execute_raw(stmt(
            db.db_backend(),
            "UPDATE jobs SET status = 'dead', finished_at = $1, updated_at = $1, \
             last_error = COALESCE(last_error, 'lease expired after the last attempt'), \
             locked_by = NULL, locked_until = NULL \
             WHERE status = 'running' AND locked_until < $1 AND attempts >= max_attempts",
            vec![now.into()],
        ))
        .await?;
    Ok(r.rows_affected())
}

/// Loads one job by id.
pub async fn get(db: &Db, id: i64) -> Result<Option<JobRow>, StoreError> {
    Ok(job::Entity::find_by_id(id).one(db.conn()).await?)
}

//! A durable job queue and scheduler in the application database (DESIGN.md §5).
//!
//! * [`enqueue`] runs inside the caller's transaction, so a job exists iff the state change
//!   that needs it committed.
//! * Workers claim with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a single atomic
//!   `UPDATE … RETURNING` on SQLite), extend it while running, and a crashed worker's job runs
//!   again once its lease expires. Handlers are therefore idempotent.
//! * Failures retry with exponential backoff up to a per-kind attempt limit, then the job is
//!   `dead` until an operator replays it.
//! * The scheduler records each (periodic job, time slot) once, so several schedulers never
//!   double-run a slot.

#![forbid(unsafe_code)]

pub mod admin;
pub mod outbox;
mod queue;
pub mod scheduler;
pub mod worker;

use chrono::{DateTime, Utc};
use domain::ids::JobId;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use queue::{JobRow, bury_abandoned, claim, complete, extend_lease, fail, get as get_job};
pub use store::StoreError;

/// The queues, each with its own concurrency, so a slow recognition never blocks a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Queue {
    Ai,
    Billing,
    Notify,
    Default,
}

impl Queue {
    pub const ALL: [Queue; 4] = [Queue::Ai, Queue::Billing, Queue::Notify, Queue::Default];

    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Ai => "ai",
            Queue::Billing => "billing",
            Queue::Notify => "notify",
            Queue::Default => "default",
        }
    }
}

impl fmt::Display for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Queue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Queue::ALL
            .into_iter()
            .find(|q| q.as_str() == s.trim())
            .ok_or_else(|| format!("unknown queue `{s}` (ai, billing, notify, default)"))
    }
}

/// Job states as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
}

impl FromStr for JobStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "dead" => Ok(JobStatus::Dead),
            other => Err(format!("unknown job status `{other}`")),
        }
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub queue: Queue,
    pub payload: serde_json::Value,
    pub max_attempts: i32,
    pub run_at: Option<DateTime<Utc>>,
    /// At most one live (queued or running) job carries a given key.
    pub unique_key: Option<String>,
    pub trace_id: Option<String>,
}

impl NewJob {
    pub fn new(kind: impl Into<String>, queue: Queue, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.into(),
            queue,
            payload,
            max_attempts: 5,
            run_at: None,
            unique_key: None,
            trace_id: None,
        }
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    pub fn unique_key(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }

    pub fn run_at(mut self, at: DateTime<Utc>) -> Self {
        self.run_at = Some(at);
        self
    }

    pub fn trace_id(mut self, id: impl Into<String>) -> Self {
        self.trace_id = Some(id.into());
        self
    }
}

pub(crate) fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

/// Enqueues `job` on `conn` — pass the caller's transaction so the job commits with the state
/// change that needs it. Returns `None` when a live job already holds the same unique key.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    job: NewJob,
    now: DateTime<Utc>,
) -> Result<Option<JobId>, StoreError> {
    let backend = conn.get_database_backend();
    let run_at = job.run_at.unwrap_or(now);
    let sql = "INSERT INTO jobs (queue, kind, payload, status, attempts, max_attempts, run_at, \
               unique_key, trace_id, created_at, updated_at) \
               VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $7, $8, $8) \
               ON CONFLICT DO NOTHING RETURNING id";
    let row = conn
        .query_one_raw(stmt(
            backend,
            sql,
            vec![
                job.queue.as_str().into(),
                job.kind.clone().into(),
                job.payload.into(),
                job.max_attempts.into(),
                run_at.into(),
                job.unique_key.into(),
                job.trace_id.into(),
                now.into(),
            ],
        ))
        .await?;
    let id = match row {
        Some(r) => Some(JobId(r.try_get::<i64>("", "id")?)),
        None => None,
    };
    if id.is_some() {
        metrics::counter!("eatfit_jobs_enqueued_total", "queue" => job.queue.as_str(), "kind" => job.kind)
            .increment(1);
    }
    Ok(id)
}

/// The delay before attempt `attempt + 1` after `attempt` failures: 5 s, 10 s, 20 s, … ≤ 1 h.
pub fn backoff(attempt: i32) -> chrono::Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let secs = 5_i64.saturating_mul(1_i64 << exp).min(3600);
    chrono::Duration::seconds(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1).num_seconds(), 5);
        assert_eq!(backoff(2).num_seconds(), 10);
        assert_eq!(backoff(3).num_seconds(), 20);
        assert_eq!(backoff(15).num_seconds(), 3600);
        assert_eq!(backoff(0).num_seconds(), 5);
    }

    #[test]
    fn queues_round_trip() {
        for q in Queue::ALL {
            assert_eq!(q.as_str().parse::<Queue>(), Ok(q));
        }
        assert!("nope".parse::<Queue>().is_err());
    }
}

//! Periodic jobs. Each (job name, time slot) is inserted once into `scheduler_slots`; only the
//! scheduler whose insert wins enqueues the job, in the same transaction. Several schedulers can
//! run side by side and a slot still runs once.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::clock::SharedClock;
use sea_orm::{ConnectionTrait, Statement, TransactionTrait};
use store::{Db, StoreError};
use tokio_util::sync::CancellationToken;

use crate::{NewJob, Queue, enqueue};

/// When a periodic job fires: a cron expression with seconds (`sec min hour day month weekday`),
/// evaluated in UTC.
#[derive(Debug, Clone)]
pub struct Periodic {
    pub name: String,
    pub schedule: cron::Schedule,
    pub kind: String,
    pub queue: Queue,
    pub payload: serde_json::Value,
}

/// Why a periodic job definition was refused.
#[derive(Debug, thiserror::Error)]
#[error("bad schedule `{expr}` for `{name}`: {reason}")]
pub struct ScheduleError {
    pub name: String,
    pub expr: String,
    pub reason: String,
}

impl Periodic {
    pub fn new(
        name: &str,
        cron_expr: &str,
        kind: &str,
        queue: Queue,
    ) -> Result<Self, ScheduleError> {
        let schedule = cron::Schedule::from_str(cron_expr).map_err(|e| ScheduleError {
            name: name.into(),
            expr: cron_expr.into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            name: name.into(),
            schedule,
            kind: kind.into(),
            queue,
            payload: serde_json::json!({}),
        })
    }

    /// Slots in `(after, until]`.
    pub fn slots(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        self.schedule
            .after(&after)
            .take_while(|t| *t <= until)
            .take(1000)
            .collect()
    }
}

/// The scheduler of one process.
#[derive(Debug, Clone)]
pub struct Scheduler {
    db: Db,
    clock: SharedClock,
    jobs: Arc<Vec<Periodic>>,
    instance: String,
    tick: Duration,
}

impl Scheduler {
    pub fn new(
        db: Db,
        clock: SharedClock,
        jobs: Vec<Periodic>,
        instance: impl Into<String>,
    ) -> Self {
        Self {
            db,
            clock,
            jobs: Arc::new(jobs),
            instance: instance.into(),
            tick: Duration::from_secs(1),
        }
    }

    pub fn with_tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// Records and enqueues every slot of every job in `(after, until]`. Returns how many slots
    /// this instance won.
    pub async fn run_slots(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut won = 0;
        for p in self.jobs.iter() {
            for slot in p.slots(after, until) {
                if self.claim_slot(p, slot).await? {
                    won += 1;
                }
            }
        }
        Ok(won)
    }

    async fn claim_slot(&self, p: &Periodic, slot: DateTime<Utc>) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let txn = self.db.conn().begin().await?;
        let inserted = txn
            .execute_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                "INSERT INTO scheduler_slots (job_name, slot, scheduled_by, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                vec![
                    p.name.clone().into(),
                    slot.into(),
                    self.instance.clone().into(),
                    now.into(),
                ],
            ))
            .await?
            .rows_affected()
            == 1;
        if inserted {
            let mut payload = p.payload.clone();
            if let Some(obj) = payload.as_object_mut() {
                obj.insert("slot".into(), serde_json::Value::String(slot.to_rfc3339()));
            }
            enqueue(
                &txn,
                NewJob::new(p.kind.clone(), p.queue, payload).unique_key(format!(
                    "periodic:{}:{}",
                    p.name,
                    slot.timestamp()
                )),
                now,
            )
            .await?;
            metrics::gauge!("eatfit_scheduler_job_last_slot_timestamp_seconds", "job" => p.name.clone())
                .set(slot.timestamp() as f64);
        }
        txn.commit().await?;
        Ok(inserted)
    }

    /// Ticks until `shutdown`. Slots older than the start are not back-filled.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut last = self.clock.now();
        tracing::info!(instance = %self.instance, jobs = self.jobs.len(), "scheduler started");
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.tick) => {},
            }
            let now = self.clock.now();
            match self.run_slots(last, now).await {
                Ok(_) => last = now,
                Err(e) => {
                    tracing::error!(error = %e, "scheduler tick failed; will retry the same window")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cron_slots_are_listed_in_the_window() {
        let p = Periodic::new("reaper", "0 */5 * * * *", "photos.reap", Queue::Default)
            .unwrap_or_else(|e| panic!("{e}"));
        let t0 = Utc
            .with_ymd_and_hms(2026, 1, 1, 10, 0, 0)
            .single()
            .unwrap_or_default();
        let slots = p.slots(t0, t0 + chrono::Duration::minutes(15));
        assert_eq!(slots.len(), 3);
        assert_eq!(slots[0], t0 + chrono::Duration::minutes(5));
    }

    #[test]
    fn bad_cron_is_refused_with_the_name() {
        let err = Periodic::new("x", "not cron", "k", Queue::Default).err();
        assert!(
            err.map(|e| e.to_string())
                .unwrap_or_default()
                .contains("`x`")
        );
    }
}

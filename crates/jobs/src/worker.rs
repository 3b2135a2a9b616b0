//! Workers: per-queue loops that claim jobs, run their handlers with a heartbeat on the lease,
//! and record the outcome. A handler that errors or panics records a failure; the worker lives.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use domain::clock::SharedClock;
use sea_orm::{ConnectionTrait, Statement};
use store::{Db, StoreError};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::queue::{self, JobRow};
use crate::{JobStatus, Queue};

/// How a handler failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt (after backoff).
    #[error("{0}")]
    Retryable(String),
    /// Will never succeed: the job goes straight to `dead`.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Retryable(e.to_string())
    }
}

impl From<serde_json::Error> for JobError {
    fn from(e: serde_json::Error) -> Self {
        JobError::Permanent(format!("bad payload: {e}"))
    }
}

/// What a handler gets.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub job: JobRow,
    pub db: Db,
    pub clock: SharedClock,
    pub cancel: CancellationToken,
}

impl JobContext {
    /// Deserialises the payload.
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, JobError> {
        Ok(serde_json::from_value(self.job.payload.clone())?)
    }
}

type HandlerFn = Arc<
    dyn Fn(JobContext) -> Pin<Box<dyn Future<Output = Result<(), JobError>> + Send>> + Send + Sync,
>;

/// The handlers this process can run, by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, HandlerFn>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.handlers.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the handler of `kind`.
    pub fn register<F, Fut>(&mut self, kind: &str, f: F) -> &mut Self
    where
        F: Fn(JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers
            .insert(kind.to_string(), Arc::new(move |ctx| Box::pin(f(ctx))));
        self
    }

    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<_> = self.handlers.keys().cloned().collect();
        k.sort();
        k
    }
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// A unique name of this worker process.
    pub worker_id: String,
    pub role: String,
    /// Concurrency per queue; a queue missing here is not served by this worker.
    pub concurrency: HashMap<Queue, usize>,
    pub lease: Duration,
    pub poll_interval: Duration,
    pub heartbeat_interval: Duration,
    /// How long shutdown waits for running jobs.
    pub drain_timeout: Duration,
}

impl WorkerConfig {
    pub fn new(worker_id: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            worker_id: worker_id.into(),
            role: role.into(),
            concurrency: HashMap::from([
                (Queue::Ai, 4),
                (Queue::Billing, 2),
                (Queue::Notify, 2),
                (Queue::Default, 2),
            ]),
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_millis(200),
            heartbeat_interval: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(25),
        }
    }
}

/// A running worker.
#[derive(Debug, Clone)]
pub struct Worker {
    db: Db,
    clock: SharedClock,
    registry: Arc<Registry>,
    config: Arc<WorkerConfig>,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(db: Db, clock: SharedClock, registry: Registry, config: WorkerConfig) -> Self {
        Self {
            db,
            clock,
            registry: Arc::new(registry),
            config: Arc::new(config),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes idle loops (after an in-process enqueue), so they do not wait for the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until `shutdown` fires, then stops claiming and waits for running jobs (up to the
    /// drain timeout).
    pub async fn run(self, shutdown: CancellationToken) {
        let mut tasks = tokio::task::JoinSet::new();
        let job_cancel = CancellationToken::new();
        let in_flight = Arc::new(tokio::sync::RwLock::new(()));
        for (queue, n) in self.config.concurrency.clone() {
            if n == 0 {
                continue;
            }
            let me = self.clone();
            let shutdown = shutdown.clone();
            let job_cancel = job_cancel.clone();
            let in_flight = in_flight.clone();
            tasks.spawn(async move {
                me.queue_loop(queue, n, shutdown, job_cancel, in_flight)
                    .await
            });
        }
        let me = self.clone();
        let hb_shutdown = shutdown.clone();
        tasks.spawn(async move { me.heartbeat_loop(hb_shutdown).await });

        shutdown.cancelled().await;
        tracing::info!(worker = %self.config.worker_id, "worker draining running jobs");
        // Each running job holds a read guard; the write lock is granted when all are done.
        let drained = tokio::time::timeout(self.config.drain_timeout, in_flight.write()).await;
        if drained.is_err() {
            tracing::warn!(
                worker = %self.config.worker_id,
                "drain timeout: cancelling running jobs; their leases will expire and they will run again"
            );
            job_cancel.cancel();
        }
        tasks.abort_all();
        let _ = self.remove_heartbeat().await;
    }

    async fn queue_loop(
        &self,
        queue: Queue,
        concurrency: usize,
        shutdown: CancellationToken,
        job_cancel: CancellationToken,
        in_flight: Arc<tokio::sync::RwLock<()>>,
    ) {
        let slots = Arc::new(Semaphore::new(concurrency));
        loop {
            let permit = tokio::select! {
                _ = shutdown.cancelled() => return,
                p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            if shutdown.is_cancelled() {
                return;
            }
            let lease = chrono::Duration::from_std(self.config.lease)
                .unwrap_or(chrono::Duration::seconds(60));
            let claimed = queue::claim(
                &self.db,
                queue,
                &self.config.worker_id,
                self.clock.now(),
                lease,
            )
            .await;
            match claimed {
                Ok(Some(job)) => {
                    let me = self.clone();
                    let guard = in_flight.clone().read_owned().await;
                    let cancel = job_cancel.child_token();
                    tokio::spawn(async move {
                        me.execute(job, cancel).await;
                        drop(guard);
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = self.wake.notified() => {},
                        _ = tokio::time::sleep(self.config.poll_interval) => {},
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::error!(queue = %queue, error = %e, "claiming a job failed; retrying in 1 s");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {},
                    }
                }
            }
        }
    }

    async fn execute(&self, job: JobRow, cancel: CancellationToken) {
        let kind = job.kind.clone();
        let queue = job.queue.clone();
        let span = tracing::info_span!(
            "job",
            job_id = job.id,
            kind = %kind,
            queue = %queue,
            attempt = job.attempts,
            trace_id = job.trace_id.as_deref().unwrap_or(""),
        );
        async {
            let started = Instant::now();
            let Some(handler) = self.registry.handlers.get(&kind).cloned() else {
                let msg = format!("no handler registered for job kind `{kind}`");
                tracing::error!("{msg}");
                self.record_failure(&job, &msg, true).await;
                return;
            };
            let ctx = JobContext {
                job: job.clone(),
                db: self.db.clone(),
                clock: self.clock.clone(),
                cancel: cancel.clone(),
            };
            let lease_keeper = self.keep_lease(job.id);
            let handle = tokio::spawn(handler(ctx));
            let abort = handle.abort_handle();
            let result = tokio::select! {
                r = handle => r,
                _ = cancel.cancelled() => { abort.abort(); lease_keeper.abort(); return; }
            };
            lease_keeper.abort();
            let elapsed = started.elapsed().as_secs_f64();
            let outcome = match result {
                Ok(Ok(())) => {
                    match queue::complete(&self.db, job.id, &self.config.worker_id, self.clock.now()).await {
                        Ok(true) => tracing::info!(duration_ms = (elapsed * 1000.0) as u64, "job done"),
                        Ok(false) => tracing::warn!("job finished but its lease was lost; it may run again"),
                        Err(e) => tracing::error!(error = %e, "recording job completion failed"),
                    }
                    "ok"
                }
                Ok(Err(JobError::Permanent(msg))) => {
                    tracing::error!(error = %msg, "job failed permanently");
                    self.record_failure(&job, &msg, true).await;
                    "dead"
                }
                Ok(Err(JobError::Retryable(msg))) => {
                    tracing::warn!(error = %msg, "job failed");
                    self.record_failure(&job, &msg, false).await;
                    "error"
                }
                Err(join_err) => {
                    let msg = if join_err.is_panic() {
                        "handler panicked".to_string()
                    } else {
                        "handler was cancelled".to_string()
                    };
                    tracing::error!(error = %msg, "job crashed");
                    self.record_failure(&job, &msg, false).await;
                    "panic"
                }
            };
            metrics::counter!("eatfit_jobs_total", "queue" => queue.clone(), "kind" => kind.clone(), "outcome" => outcome)
                .increment(1);
            metrics::histogram!("eatfit_job_duration_seconds", "queue" => queue.clone(), "kind" => kind.clone())
                .record(elapsed);
        }
        .instrument(span)
        .await
    }

    async fn record_failure(&self, job: &JobRow, msg: &str, permanent: bool) {
        match queue::fail(
            &self.db,
            job,
            &self.config.worker_id,
            msg,
            permanent,
            self.clock.now(),
        )
        .await
        {
            Ok(status) if status == JobStatus::Dead.as_str() => {
                tracing::error!(job_id = job.id, kind = %job.kind, "job is dead after {} attempt(s); replay with `eatfit admin jobs retry {}`", job.attempts, job.id);
            }
            Ok(_) => {}
            Err(e) => tracing::error!(job_id = job.id, error = %e, "recording job failure failed"),
        }
    }

    fn keep_lease(&self, id: i64) -> tokio::task::JoinHandle<()> {
        let db = self.db.clone();
        let clock = self.clock.clone();
        let worker = self.config.worker_id.clone();
        let lease = self.config.lease;
        tokio::spawn(async move {
            let every = lease / 3;
            loop {
                tokio::time::sleep(every).await;
                let until = clock.now()
                    + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
                match queue::extend_lease(&db, id, &worker, until).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job_id = id, "lease lost while running");
                        return;
                    }
                    Err(e) => tracing::warn!(job_id = id, error = %e, "extending lease failed"),
                }
            }
        })
    }

    async fn heartbeat_loop(&self, shutdown: CancellationToken) {
        let started = self.clock.now();
        loop {
            if let Err(e) = self.beat(started).await {
                tracing::warn!(error = %e, "worker heartbeat failed");
            }
            if let Err(e) = queue::bury_abandoned(&self.db, self.clock.now()).await {
                tracing::warn!(error = %e, "burying abandoned jobs failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.config.heartbeat_interval) => {},
            }
        }
    }

    /// Writes this worker's heartbeat row.
    pub async fn beat(&self, started: DateTime<Utc>) -> Result<(), StoreError> {
        let mut queues: Vec<&str> = self
            .config
            .concurrency
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(q, _)| q.as_str())
            .collect();
        queues.sort();
        let now = self.clock.now();
        self.db
            .conn()
            .execute_raw(Statement::from_sql_and_values(
                self.db.db_backend(),
                "INSERT INTO worker_heartbeats (worker_id, role, queues, started_at, last_seen) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (worker_id) DO UPDATE SET last_seen = excluded.last_seen, \
                 queues = excluded.queues",
                vec![
                    self.config.worker_id.clone().into(),
                    self.config.role.clone().into(),
                    queues.join(",").into(),
                    started.into(),
                    now.into(),
                ],
            ))
            .await?;
        Ok(())
    }

    async fn remove_heartbeat(&self) -> Result<(), StoreError> {
        self.db
            .conn()
            .execute_raw(Statement::from_sql_and_values(
                self.db.db_backend(),
                "DELETE FROM worker_heartbeats WHERE worker_id = $1",
                vec![self.config.worker_id.clone().into()],
            ))
            .await?;
        Ok(())
    }

    /// Runs due jobs of `queue` one by one until none is left (tests and `admin` use it).
    pub async fn drain_queue(&self, queue: Queue) -> Result<usize, StoreError> {
        let mut n = 0;
        let lease =
            chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::seconds(60));
        while let Some(job) = queue::claim(
            &self.db,
            queue,
            &self.config.worker_id,
            self.clock.now(),
            lease,
        )
        .await?
        {
            self.execute(job, CancellationToken::new()).await;
            n += 1;
        }
        Ok(n)
    }
}

/// Ages of the freshest heartbeat per queue, in seconds (None: no worker serves it).
pub async fn heartbeat_ages(
    db: &Db,
    now: DateTime<Utc>,
) -> Result<HashMap<Queue, Option<i64>>, StoreError> {
    use sea_orm::EntityTrait;
    let rows = store::entities::worker_heartbeat::Entity::find()
        .all(db.conn())
        .await?;
    let mut out: HashMap<Queue, Option<i64>> = Queue::ALL.iter().map(|q| (*q, None)).collect();
    for row in rows {
        let age = (now - row.last_seen).num_seconds().max(0);
        for q in row
            .queues
            .split(',')
            .filter_map(|q| q.parse::<Queue>().ok())
        {
            let entry = out.entry(q).or_insert(None);
            *entry = Some(entry.map_or(age, |a| a.min(age)));
        }
    }
    Ok(out)
}

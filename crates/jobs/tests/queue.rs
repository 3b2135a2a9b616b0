//! Behaviour of the job queue on every available backend (SQLite always, PostgreSQL when
//! `EATFIT_TEST_DATABASE_URL` is set).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use domain::clock::{FixedClock, SharedClock};
use jobs::scheduler::{Periodic, Scheduler};
use jobs::worker::{JobError, Registry, Worker, WorkerConfig};
use jobs::{JobStatus, NewJob, Queue, admin, claim, enqueue};
use sea_orm::TransactionTrait;
use store::testing::TestDb;
use tokio_util::sync::CancellationToken;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn config(id: &str, queue: Queue, n: usize) -> WorkerConfig {
    let mut c = WorkerConfig::new(id, "worker");
    c.concurrency = HashMap::from([(queue, n)]);
    c.poll_interval = Duration::from_millis(20);
    c.lease = Duration::from_secs(60);
    c
}

async fn wait_until<F, Fut>(mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1000 {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn job_enqueued_in_rolled_back_transaction_never_exists() {
    for t in TestDb::all().await.expect("test db") {
        let txn = t.db.conn().begin().await.expect("begin");
        let id = enqueue(
            &txn,
            NewJob::new("k", Queue::Default, serde_json::json!({})),
            t0(),
        )
        .await
        .expect("enqueue");
        assert!(id.is_some());
        txn.rollback().await.expect("rollback");
        let clock = FixedClock::new(t0());
        let got = claim(
            &t.db,
            Queue::Default,
            "w",
            clock.now_for_test(),
            chrono::Duration::seconds(30),
        )
        .await
        .expect("claim");
        assert!(
            got.is_none(),
            "{:?}: a rolled-back job was claimed",
            t.backend()
        );
        t.cleanup().await;
    }
}

trait NowForTest {
    fn now_for_test(&self) -> chrono::DateTime<Utc>;
}
impl NowForTest for FixedClock {
    fn now_for_test(&self) -> chrono::DateTime<Utc> {
        domain::clock::Clock::now(self)
    }
}

#[tokio::test]
async fn unique_key_allows_one_live_job_only() {
    for t in TestDb::all().await.expect("test db") {
        let job =
            || NewJob::new("digest", Queue::Default, serde_json::json!({})).unique_key("digest:1");
        let first = enqueue(t.db.conn(), job(), t0()).await.expect("enqueue");
        let second = enqueue(t.db.conn(), job(), t0()).await.expect("enqueue");
        assert!(first.is_some());
        assert!(
            second.is_none(),
            "{:?}: duplicate live job accepted",
            t.backend()
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn killed_worker_job_runs_again_after_lease_expires() {
    for t in TestDb::all().await.expect("test db") {
        let clock = FixedClock::new(t0());
        let shared: SharedClock = Arc::new(clock.clone());
        enqueue(
            t.db.conn(),
            NewJob::new("slow", Queue::Default, serde_json::json!({"n": 1})),
            t0(),
        )
        .await
        .expect("enqueue");

        // Worker A claims the job and hangs in it, then the process "dies" (task aborted).
        let started = Arc::new(tokio::sync::Notify::new());
        let mut reg_a = Registry::new();
        let s = started.clone();
        reg_a.register("slow", move |_ctx| {
            let s = s.clone();
            async move {
                s.notify_one();
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        let a = Worker::new(
            t.db.clone(),
            shared.clone(),
            reg_a,
            config("worker-a", Queue::Default, 1),
        );
        let a_task = tokio::spawn(a.run(CancellationToken::new()));
        tokio::time::timeout(Duration::from_secs(10), started.notified())
            .await
            .expect("worker A started the job");
        a_task.abort();

        // Worker B sees nothing while A's lease holds…
        let ran = Arc::new(Mutex::new(Vec::<i32>::new()));
        let mut reg_b = Registry::new();
        let r = ran.clone();
        reg_b.register("slow", move |ctx| {
            let r = r.clone();
            async move {
                r.lock().map(|mut v| v.push(ctx.job.attempts)).ok();
                Ok(())
            }
        });
        let b = Worker::new(
            t.db.clone(),
            shared.clone(),
            reg_b,
            config("worker-b", Queue::Default, 1),
        );
        assert_eq!(b.drain_queue(Queue::Default).await.expect("drain"), 0);
        // …and runs it once the lease has expired.
        clock.advance(chrono::Duration::seconds(61));
        assert_eq!(b.drain_queue(Queue::Default).await.expect("drain"), 1);
        assert_eq!(
            *ran.lock().expect("lock"),
            vec![2],
            "second attempt ran on worker B"
        );
        let done = admin::list(&t.db, JobStatus::Done, 10).await.expect("list");
        assert_eq!(done.len(), 1, "{:?}", t.backend());
        t.cleanup().await;
    }
}

#[tokio::test]
async fn two_workers_never_run_the_same_job() {
    for t in TestDb::all().await.expect("test db") {
        let shared: SharedClock = Arc::new(FixedClock::new(t0()));
        let total = 120;
        for i in 0..total {
            enqueue(
                t.db.conn(),
                NewJob::new("count", Queue::Billing, serde_json::json!({"i": i})),
                t0(),
            )
            .await
            .expect("enqueue");
        }
        let seen = Arc::new(Mutex::new(Vec::<i64>::new()));
        let shutdown = CancellationToken::new();
        let mut handles = Vec::new();
        for w in ["w1", "w2"] {
            let mut reg = Registry::new();
            let s = seen.clone();
            reg.register("count", move |ctx| {
                let s = s.clone();
                async move {
                    tokio::task::yield_now().await;
                    s.lock().map(|mut v| v.push(ctx.job.id)).ok();
                    Ok(())
                }
            });
            let worker = Worker::new(
                t.db.clone(),
                shared.clone(),
                reg,
                config(w, Queue::Billing, 4),
            );
            handles.push(tokio::spawn(worker.run(shutdown.clone())));
        }
        let all_done = wait_until(|| {
            let db = t.db.clone();
            async move {
                admin::list(&db, JobStatus::Done, 1000)
                    .await
                    .map(|v| v.len())
                    .unwrap_or(0)
                    == total
            }
        })
        .await;
        shutdown.cancel();
        for h in handles {
            let _ = h.await;
        }
        assert!(all_done, "{:?}: not every job finished", t.backend());
        let mut ids = seen.lock().expect("lock").clone();
        assert_eq!(ids.len(), total, "{:?}: some job ran twice", t.backend());
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), total);
        t.cleanup().await;
    }
}

#[tokio::test]
async fn panicking_handler_is_recorded_and_worker_lives_on() {
    for t in TestDb::all().await.expect("test db") {
        let clock = FixedClock::new(t0());
        let shared: SharedClock = Arc::new(clock.clone());
        enqueue(
            t.db.conn(),
            NewJob::new("boom", Queue::Default, serde_json::json!({})).max_attempts(2),
            t0(),
        )
        .await
        .expect("enqueue");
        enqueue(
            t.db.conn(),
            NewJob::new("fine", Queue::Default, serde_json::json!({})),
            t0(),
        )
        .await
        .expect("enqueue");
        let mut reg = Registry::new();
        reg.register("boom", |_ctx| async move {
            if true {
                panic!("handler bug");
            }
            Ok(())
        });
        reg.register("fine", |_ctx| async move { Ok(()) });
        let w = Worker::new(t.db.clone(), shared, reg, config("w", Queue::Default, 1));
        assert_eq!(w.drain_queue(Queue::Default).await.expect("drain"), 2);
        let queued = admin::list(&t.db, JobStatus::Queued, 10)
            .await
            .expect("list");
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].last_error.as_deref(), Some("handler panicked"));
        assert_eq!(
            queued[0].run_at,
            t0() + chrono::Duration::seconds(5),
            "backoff after attempt 1"
        );
        // Second failure exhausts max_attempts=2: dead, then an operator replays it.
        clock.advance(chrono::Duration::seconds(5));
        assert_eq!(w.drain_queue(Queue::Default).await.expect("drain"), 1);
        let dead = admin::list(&t.db, JobStatus::Dead, 10).await.expect("list");
        assert_eq!(dead.len(), 1);
        let stats = admin::queue_stats(&t.db, clock.now_for_test())
            .await
            .expect("stats");
        let default = stats
            .iter()
            .find(|s| s.queue == Queue::Default)
            .expect("default queue");
        assert_eq!(default.dead, 1);
        assert!(
            admin::retry(&t.db, dead[0].id, clock.now_for_test())
                .await
                .expect("retry")
        );
        assert!(
            !admin::retry(&t.db, dead[0].id, clock.now_for_test())
                .await
                .expect("retry"),
            "only dead jobs replay"
        );
        let queued = admin::list(&t.db, JobStatus::Queued, 10)
            .await
            .expect("list");
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].attempts, 0);
        t.cleanup().await;
    }
}

#[tokio::test]
async fn permanent_error_goes_dead_at_once() {
    for t in TestDb::all().await.expect("test db") {
        let shared: SharedClock = Arc::new(FixedClock::new(t0()));
        enqueue(
            t.db.conn(),
            NewJob::new("bad", Queue::Default, serde_json::json!({})),
            t0(),
        )
        .await
        .expect("enqueue");
        let mut reg = Registry::new();
        reg.register("bad", |_ctx| async move {
            Err(JobError::Permanent("no such photo".into()))
        });
        let w = Worker::new(t.db.clone(), shared, reg, config("w", Queue::Default, 1));
        w.drain_queue(Queue::Default).await.expect("drain");
        let dead = admin::list(&t.db, JobStatus::Dead, 10).await.expect("list");
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].attempts, 1);
        assert_eq!(dead[0].last_error.as_deref(), Some("no such photo"));
        t.cleanup().await;
    }
}

#[tokio::test]
async fn periodic_job_runs_once_per_slot_with_two_schedulers() {
    for t in TestDb::all().await.expect("test db") {
        let shared: SharedClock = Arc::new(FixedClock::new(t0()));
        let jobs = || {
            vec![
                Periodic::new("reaper", "0 * * * * *", "photos.reap", Queue::Default)
                    .expect("cron"),
            ]
        };
        let s1 = Scheduler::new(t.db.clone(), shared.clone(), jobs(), "sched-1");
        let s2 = Scheduler::new(t.db.clone(), shared.clone(), jobs(), "sched-2");
        let from = t0();
        let to = t0() + chrono::Duration::minutes(10);
        let (a, b) = tokio::join!(s1.run_slots(from, to), s2.run_slots(from, to));
        let (a, b) = (a.expect("s1"), b.expect("s2"));
        assert_eq!(
            a + b,
            10,
            "{:?}: every slot claimed exactly once",
            t.backend()
        );
        let queued = admin::list(&t.db, JobStatus::Queued, 100)
            .await
            .expect("list");
        assert_eq!(queued.len(), 10);
        // Running the same window again changes nothing.
        assert_eq!(s1.run_slots(from, to).await.expect("again"), 0);
        t.cleanup().await;
    }
}

#[tokio::test]
async fn shutdown_waits_for_running_jobs_to_finish() {
    for t in TestDb::all().await.expect("test db") {
        let shared: SharedClock = Arc::new(FixedClock::new(t0()));
        enqueue(
            t.db.conn(),
            NewJob::new("slowish", Queue::Default, serde_json::json!({})),
            t0(),
        )
        .await
        .expect("enqueue");
        let started = Arc::new(tokio::sync::Notify::new());
        let release = Arc::new(tokio::sync::Notify::new());
        let mut reg = Registry::new();
        let (s, r) = (started.clone(), release.clone());
        reg.register("slowish", move |_ctx| {
            let (s, r) = (s.clone(), r.clone());
            async move {
                s.notify_one();
                r.notified().await;
                Ok(())
            }
        });
        let w = Worker::new(t.db.clone(), shared, reg, config("w", Queue::Default, 1));
        let shutdown = CancellationToken::new();
        let run = tokio::spawn(w.run(shutdown.clone()));
        tokio::time::timeout(Duration::from_secs(10), started.notified())
            .await
            .expect("job started");
        shutdown.cancel();
        // The worker is draining: it has not returned while the job still runs.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !run.is_finished(),
            "worker returned before its job finished"
        );
        release.notify_one();
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("worker stopped")
            .expect("join");
        let done = admin::list(&t.db, JobStatus::Done, 10).await.expect("list");
        assert_eq!(
            done.len(),
            1,
            "{:?}: the in-flight job completed during the drain",
            t.backend()
        );
        t.cleanup().await;
    }
}

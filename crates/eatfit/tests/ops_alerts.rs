//! The in-process alert evaluator: conditions from the database raise an alert once, the admins
//! get one message per alert (however many evaluations see it), one "resolved" message when it
//! clears, and at most one "all quiet" heartbeat a day. On every available backend, with a
//! fixed clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use eatfit::ops::alerts::{self, AlertSettings, KIND_ALERT, KIND_HEARTBEAT, KIND_RESOLVED, rule};
use jobs::{NewJob, Queue};
use store::Db;
use store::sea_orm::{ConnectionTrait, Statement};
use store::testing::TestDb;

const ADMINS: [i64; 2] = [900_001, 900_002];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 10, 0, 0)
        .single()
        .unwrap_or_else(|| panic!("time"))
}

async fn exec(db: &Db, sql: &str, values: Vec<store::sea_orm::Value>) {
    db.conn()
        .execute_raw(Statement::from_sql_and_values(db.db_backend(), sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn heartbeat(db: &Db, at: DateTime<Utc>) {
    exec(
        db,
        "DELETE FROM worker_heartbeats WHERE worker_id = 'w1'",
        vec![],
    )
    .await;
    exec(
        db,
        "INSERT INTO worker_heartbeats (worker_id, role, queues, started_at, last_seen) \
         VALUES ('w1', 'worker', 'ai,billing,default,notify', $1, $1)",
        vec![at.into()],
    )
    .await;
}

async fn outbox(db: &Db, kind: &str) -> Vec<(i64, String)> {
    jobs::outbox::list(db, Some(kind))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|n| (n.chat_id, n.text))
        .collect()
}

fn settings() -> AlertSettings {
    let mut s = AlertSettings::new(ADMINS.to_vec());
    s.heartbeat = true;
    s
}

#[tokio::test]
async fn a_backlog_pages_once_and_its_resolution_is_announced_once() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        heartbeat(db, now).await;
        // An ai job due 10 minutes ago and never picked up.
        let job = jobs::enqueue(
            db.conn(),
            NewJob::new("ai.recognize", Queue::Ai, serde_json::json!({}))
                .run_at(now - Duration::minutes(10)),
            now - Duration::minutes(10),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("enqueued"));

        let s = settings();
        let first = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            first
                .firing
                .iter()
                .any(|f| f.rule == rule::QUEUE_BACKLOG && f.key == "ai"),
            "{first:?}"
        );
        assert_eq!(first.raised, 1, "{first:?}");
        let pages = outbox(db, KIND_ALERT).await;
        assert_eq!(
            pages.len(),
            ADMINS.len(),
            "one message per admin: {pages:?}"
        );
        assert!(pages.iter().all(|(_, t)| t.contains("QueueBacklog")));
        assert!(pages.iter().all(|(_, t)| t.contains("[ai]")), "{pages:?}");
        // No heartbeat while an alert is active.
        assert!(outbox(db, KIND_HEARTBEAT).await.is_empty());

        // Ten more evaluations while it persists: nobody is paged again.
        for i in 1..=10 {
            let at = now + Duration::minutes(i);
            heartbeat(db, at).await;
            let r = alerts::run(db, at, &s)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.raised, 0);
            assert_eq!(r.messages, 0, "re-alerted at minute {i}");
        }
        assert_eq!(outbox(db, KIND_ALERT).await.len(), ADMINS.len());

        // The job ran: resolved, announced once.
        exec(
            db,
            "UPDATE jobs SET status = 'done' WHERE id = $1",
            vec![job.0.into()],
        )
        .await;
        let later = now + Duration::minutes(12);
        heartbeat(db, later).await;
        let r = alerts::run(db, later, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.resolved, 1, "{r:?}");
        let resolved = outbox(db, KIND_RESOLVED).await;
        assert_eq!(resolved.len(), ADMINS.len());
        assert!(resolved[0].1.contains("QueueBacklog"), "{resolved:?}");
        let again = alerts::run(db, later + Duration::minutes(1), &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again.resolved, 0);
        assert_eq!(outbox(db, KIND_RESOLVED).await.len(), ADMINS.len());

        // All quiet now: one heartbeat per admin that day, however often it runs.
        assert_eq!(outbox(db, KIND_HEARTBEAT).await.len(), ADMINS.len());
        let _ = alerts::run(db, later + Duration::hours(3), &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outbox(db, KIND_HEARTBEAT).await.len(), ADMINS.len());
        t.cleanup().await;
    }
}

#[tokio::test]
async fn missing_workers_and_stale_backups_fire_and_other_alerts_are_delivered() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        let mut s = settings();
        s.backups_required = true;
        // No worker has ever beaten; no backup has ever run.
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let rules: Vec<_> = r.firing.iter().map(|f| (f.rule, f.key.as_str())).collect();
        assert!(rules.contains(&(rule::WORKER_MISSING, "ai")), "{rules:?}");
        assert!(rules.contains(&(rule::BACKUP_STALE, "")), "{rules:?}");

        // A backup 27 hours old is stale too; a fresh one resolves it.
        exec(
            db,
            "INSERT INTO backup_runs (started_at, finished_at, backend, location, rows_total, \
             media_files, media_bytes) VALUES ($1, $1, 'sqlite', '/b', 1, 0, 0)",
            vec![(now - Duration::hours(27)).into()],
        )
        .await;
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.firing.iter().any(|f| f.rule == rule::BACKUP_STALE));
        exec(
            db,
            "INSERT INTO backup_runs (started_at, finished_at, backend, location, rows_total, \
             media_files, media_bytes) VALUES ($1, $1, 'sqlite', '/b', 1, 0, 0)",
            vec![(now - Duration::hours(1)).into()],
        )
        .await;
        heartbeat(db, now).await;
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.firing.iter().any(|f| f.rule == rule::BACKUP_STALE));
        assert!(!r.firing.iter().any(|f| f.rule == rule::WORKER_MISSING));
        assert!(r.resolved >= 2, "{r:?}");

        // An alert raised elsewhere (recognition's rejected proxy key) reaches the admins once.
        store::alerts::raise(db, "AIConfigOrAuthError", "ai", "proxy said 401", now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let before = outbox(db, KIND_ALERT).await.len();
        for i in 0..3 {
            let _ = alerts::run(db, now + Duration::seconds(i), &s)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let pages = outbox(db, KIND_ALERT).await;
        assert_eq!(pages.len(), before + ADMINS.len(), "{pages:?}");
        assert!(
            pages
                .iter()
                .any(|(_, t)| t.contains("AIConfigOrAuthError") && t.contains("proxy said 401"))
        );
        // The evaluator does not resolve what it does not own.
        assert!(
            store::alerts::active(db)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .any(|a| a.rule == "AIConfigOrAuthError")
        );
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_periodic_job_that_stopped_is_missed_unless_it_is_no_longer_scheduled() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        heartbeat(db, now).await;
        for (job, minutes_ago) in [
            ("reaper", 10),
            ("reaper", 11),
            ("renamed_job", 10),
            ("renamed_job", 11),
        ] {
            exec(
                db,
                "INSERT INTO scheduler_slots (job_name, slot, scheduled_by, created_at) \
                 VALUES ($1, $2, 'test', $2)",
                vec![job.into(), (now - Duration::minutes(minutes_ago)).into()],
            )
            .await;
        }
        let mut s = settings();
        let missed = |r: &alerts::Report| -> Vec<String> {
            r.firing
                .iter()
                .filter(|f| f.rule == rule::SCHEDULER_MISSED)
                .map(|f| f.key.clone())
                .collect()
        };
        // A one-minute job silent for ten minutes: missed.
        s.scheduled = Some(vec!["reaper".into()]);
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(missed(&r), ["reaper"], "{r:?}");
        // Without the list, the job an upgrade removed would page forever.
        s.scheduled = None;
        let r = alerts::evaluate(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<_> = r
            .iter()
            .filter(|f| f.rule == rule::SCHEDULER_MISSED)
            .map(|f| f.key.as_str())
            .collect();
        assert!(keys.contains(&"renamed_job"), "{keys:?}");
        t.cleanup().await;
    }
}

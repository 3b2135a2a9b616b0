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

        // An alert raised elsewhere (a rule of another part of the binary) reaches the admins
        // once.
        store::alerts::raise(db, "ExternalCheck", "ai", "proxy said 401", now)
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
                .any(|(_, t)| t.contains("ExternalCheck") && t.contains("proxy said 401"))
        );
        // The evaluator does not resolve what it does not own.
        assert!(
            store::alerts::active(db)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .iter()
                .any(|a| a.rule == "ExternalCheck")
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

async fn user(db: &Db) -> i64 {
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "INSERT INTO users (username, created_at) VALUES ('alerts', $1) RETURNING id",
            vec![t0().into()],
        ))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no id"));
    row.try_get("", "id").unwrap_or_else(|e| panic!("{e}"))
}

/// A finished photo task: submitted at `created`, ended at `done` with `status`/`code`.
async fn task(
    db: &Db,
    user: i64,
    created: DateTime<Utc>,
    done: DateTime<Utc>,
    status: &str,
    code: Option<&str>,
) {
    exec(
        db,
        "INSERT INTO ai_tasks (task_id, user_id, kind, status, error_code, deadline_at, trace_id, \
         created_at, updated_at) VALUES ($1, $2, 'photo', $3, $4, $5, 't', $6, $5)",
        vec![
            uuid::Uuid::new_v4().to_string().into(),
            user.into(),
            status.into(),
            code.map(str::to_string).into(),
            done.into(),
            created.into(),
        ],
    )
    .await;
}

fn fired<'a>(r: &'a alerts::Report, rule: &str) -> Vec<&'a str> {
    r.firing
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.key.as_str())
        .collect()
}

#[tokio::test]
async fn a_misconfigured_ai_pages_once_and_resolves_after_a_success() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        heartbeat(db, now).await;
        let u = user(db).await;
        let s = settings();
        task(
            db,
            u,
            now - Duration::minutes(6),
            now - Duration::minutes(5),
            "success",
            None,
        )
        .await;
        // The proxy rejects our key: a photo fails with AI_SERVICE_MISCONFIGURED.
        task(
            db,
            u,
            now - Duration::seconds(20),
            now - Duration::seconds(10),
            "failed",
            Some("AI_SERVICE_MISCONFIGURED"),
        )
        .await;
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fired(&r, rule::AI_CONFIG_OR_AUTH_ERROR), ["ai"], "{r:?}");
        // More failing photos and evaluations (the recognition raising the same alert itself
        // meanwhile): one page per admin.
        for i in 1..=3 {
            let at = now + Duration::minutes(i);
            heartbeat(db, at).await;
            task(db, u, at, at, "failed", Some("AI_SERVICE_MISCONFIGURED")).await;
            store::alerts::raise(db, rule::AI_CONFIG_OR_AUTH_ERROR, "ai", "rejected", at)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            let r = alerts::run(db, at, &s)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(fired(&r, rule::AI_CONFIG_OR_AUTH_ERROR), ["ai"], "{r:?}");
        }
        let about = |v: Vec<(i64, String)>| {
            v.into_iter()
                .filter(|(_, t)| t.contains("AIConfigOrAuthError"))
                .count()
        };
        assert_eq!(about(outbox(db, KIND_ALERT).await), ADMINS.len());
        // A success after the failures: fixed, announced once.
        let later = now + Duration::minutes(4);
        heartbeat(db, later).await;
        task(db, u, later, later, "success", None).await;
        let r = alerts::run(db, later, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::AI_CONFIG_OR_AUTH_ERROR).is_empty(), "{r:?}");
        assert_eq!(about(outbox(db, KIND_RESOLVED).await), ADMINS.len());
        let _ = alerts::run(db, later + Duration::seconds(30), &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(about(outbox(db, KIND_ALERT).await), ADMINS.len());
        assert_eq!(about(outbox(db, KIND_RESOLVED).await), ADMINS.len());
        // Other error codes are not configuration errors.
        task(db, u, later, later, "failed", Some("AI_TIMEOUT")).await;
        let r = alerts::evaluate(db, later + Duration::seconds(5), &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.iter().any(|f| f.rule == rule::AI_CONFIG_OR_AUTH_ERROR));
        t.cleanup().await;
    }
}

#[tokio::test]
async fn slow_recognitions_raise_ai_latency_high_from_the_p95() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        heartbeat(db, now).await;
        let u = user(db).await;
        let s = settings();
        // Nineteen 5-second recognitions and one of 40 s: p95 is 5 s.
        for i in 0..19 {
            let done = now - Duration::minutes(1) - Duration::seconds(i);
            task(db, u, done - Duration::seconds(5), done, "success", None).await;
        }
        let done = now - Duration::minutes(2);
        task(db, u, done - Duration::seconds(40), done, "success", None).await;
        let r = alerts::evaluate(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.iter().any(|f| f.rule == rule::AI_LATENCY_HIGH), "{r:?}");
        // Two more slow ones (3 of 22 > 5 %): p95 is 40 s.
        for i in 0..2 {
            let done = now - Duration::seconds(30 + i);
            task(
                db,
                u,
                done - Duration::seconds(40),
                done,
                "failed",
                Some("AI_TIMEOUT"),
            )
            .await;
        }
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let f = r
            .firing
            .iter()
            .find(|f| f.rule == rule::AI_LATENCY_HIGH)
            .unwrap_or_else(|| panic!("no AILatencyHigh: {r:?}"));
        assert!(f.detail.contains("p95 40.0 s"), "{f:?}");
        // The threshold is a setting.
        let mut lenient = settings();
        lenient.ai_latency_p95_secs = 60.0;
        let r = alerts::evaluate(db, now, &lenient)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.iter().any(|f| f.rule == rule::AI_LATENCY_HIGH));
        // Ten minutes later those tasks are out of the window.
        let r = alerts::run(db, now + Duration::minutes(11), &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::AI_LATENCY_HIGH).is_empty(), "{r:?}");
        assert!(r.resolved >= 1, "{r:?}");
        t.cleanup().await;
    }
}

fn probe(url: &str, secret: &str) -> std::sync::Arc<dyn api::ReadinessCheck> {
    eatfit::ai_probe::AiProxyProbe::with_cache(
        eatfit::config::AiProxyConfig {
            url: url::Url::parse(url).unwrap_or_else(|e| panic!("{e}")),
            secret: secrecy::SecretString::from(secret.to_string()),
            key_id: None,
        },
        std::time::Duration::ZERO,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn an_unreachable_ai_proxy_pages_after_two_minutes_and_resolves_when_it_answers() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        l.local_addr().unwrap_or_else(|e| panic!("{e}"))
    };
    let key = "k".repeat(40);
    let proxy = testkit::fake_ai_proxy::FakeAiProxy::start(&[("k1", key.as_str())]).await;
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        let mut down = settings();
        down.ai_proxy = Some(probe(&format!("http://{closed}/"), &key));
        let mut s = down.clone();
        s.ai_proxy = Some(probe(&proxy.url(), &key));
        heartbeat(db, now).await;
        // Up: nothing.
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::AI_PROXY_DOWN).is_empty(), "{r:?}");
        // Down for 0, 1 minute: not yet; at 2 minutes: paged, once.
        for (m, expect) in [(1, false), (2, false), (3, true), (4, true)] {
            let at = now + Duration::minutes(m);
            heartbeat(db, at).await;
            let r = alerts::run(db, at, &down)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                !fired(&r, rule::AI_PROXY_DOWN).is_empty(),
                expect,
                "minute {m}: {r:?}"
            );
        }
        let pages = outbox(db, KIND_ALERT).await;
        assert_eq!(pages.len(), ADMINS.len(), "{pages:?}");
        assert!(pages[0].1.contains("AIProxyDown"), "{pages:?}");
        // It answers again: resolved. A rejected key is not "down" but a config error.
        let at = now + Duration::minutes(5);
        heartbeat(db, at).await;
        let r = alerts::run(db, at, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::AI_PROXY_DOWN).is_empty(), "{r:?}");
        assert_eq!(outbox(db, KIND_RESOLVED).await.len(), ADMINS.len());
        let mut wrong = s.clone();
        wrong.ai_proxy = Some(probe(&proxy.url(), &"x".repeat(40)));
        let r = alerts::run(db, at + Duration::minutes(3), &wrong)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::AI_PROXY_DOWN).is_empty(), "{r:?}");
        assert_eq!(fired(&r, rule::AI_CONFIG_OR_AUTH_ERROR), ["ai"], "{r:?}");
        t.cleanup().await;
    }
}

fn readiness(ready: bool, failing: &[&str]) -> eatfit::ops::roles::Readiness {
    eatfit::ops::roles::Readiness {
        ready,
        failing: failing.iter().map(|s| s.to_string()).collect(),
    }
}

#[tokio::test]
async fn roles_reports_raise_readiness_memory_restart_and_fingerprint_alerts() {
    use eatfit::ops::host::MemoryReading;
    use eatfit::ops::roles::{self, Instance, key_fingerprints};
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        heartbeat(db, now).await;
        let s = settings();
        let keys = |token: &str| key_fingerprints(&[("TELEGRAM_BOT_TOKEN", token.to_string())]);
        let ok_mem = Some(MemoryReading {
            used_bytes: 100,
            limit_bytes: 1000,
        });
        let api = Instance::new("api", "h1", now - Duration::hours(1));
        let worker = Instance::new("worker", "h2", now - Duration::hours(1));
        roles::register(db, &api, &keys("token-A"), ok_mem)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        roles::register(db, &worker, &keys("token-A"), ok_mem)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let beat = |inst: &Instance, ready: bool, mem: Option<MemoryReading>, at| {
            let (db, id) = (db.clone(), inst.id.clone());
            async move {
                let failing: &[&str] = if ready { &[] } else { &["ai_proxy=timeout"] };
                roles::beat(&db, &id, &readiness(ready, failing), mem, at)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        };
        beat(&api, true, ok_mem, now).await;
        beat(&worker, true, ok_mem, now).await;
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for rl in [
            rule::READINESS_FAILING,
            rule::MEMORY_NEAR_LIMIT,
            rule::CONFIG_FINGERPRINT_MISMATCH,
        ] {
            assert!(fired(&r, rl).is_empty(), "{rl}: {r:?}");
        }

        // The api turns unready and its memory high; the worker restarts with another bot
        // token (the 2026-01-16 desync).
        let high = Some(MemoryReading {
            used_bytes: 900,
            limit_bytes: 1000,
        });
        roles::stop(db, &worker.id, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let worker2 = Instance::new("worker", "h2", now);
        roles::register(db, &worker2, &keys("token-B"), ok_mem)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for m in 0..=10 {
            let at = now + Duration::minutes(m);
            heartbeat(db, at).await;
            beat(&api, false, high, at).await;
            beat(&worker2, true, ok_mem, at).await;
            let r = alerts::run(db, at, &s)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                fired(&r, rule::CONFIG_FINGERPRINT_MISMATCH),
                ["TELEGRAM_BOT_TOKEN"],
                "minute {m}: {r:?}"
            );
            let unready = fired(&r, rule::READINESS_FAILING);
            assert_eq!(unready.len(), usize::from(m >= 2), "minute {m}: {r:?}");
            let mem = fired(&r, rule::MEMORY_NEAR_LIMIT);
            assert_eq!(mem.len(), usize::from(m >= 10), "minute {m}: {r:?}");
        }
        let pages = outbox(db, KIND_ALERT).await;
        for rl in [
            "ReadinessFailing",
            "MemoryNearLimit",
            "ConfigFingerprintMismatch",
        ] {
            assert_eq!(
                pages.iter().filter(|(_, t)| t.contains(rl)).count(),
                ADMINS.len(),
                "{rl}: {pages:?}"
            );
        }
        assert!(
            pages.iter().any(|(_, t)| t.contains("ai_proxy=timeout")),
            "{pages:?}"
        );
        // No secret in any message, only fingerprints.
        assert!(
            !pages.iter().any(|(_, t)| t.contains("token-")),
            "{pages:?}"
        );

        // The api vanishes without a clean stop: after 2 minutes of silence it "does not
        // answer"; its memory no longer counts.
        let at = now + Duration::minutes(10) + Duration::seconds(s.worker_max_age_secs + 1);
        heartbeat(db, at).await;
        beat(&worker2, true, ok_mem, at).await;
        let r = alerts::run(db, at, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::MEMORY_NEAR_LIMIT).is_empty(), "{r:?}");
        assert!(
            fired(&r, rule::CONFIG_FINGERPRINT_MISMATCH).is_empty(),
            "{r:?}"
        );
        assert_eq!(
            fired(&r, rule::READINESS_FAILING),
            [api.id.as_str()],
            "{r:?}"
        );

        // A worker restarting in a loop: four starts in 15 minutes are three restarts.
        for i in 1..=4 {
            let again = Instance::new("worker", "h2", at + Duration::minutes(i));
            roles::register(db, &again, &keys("token-B"), ok_mem)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let r = alerts::evaluate(db, at + Duration::minutes(4), &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let restarts: Vec<_> = r
            .iter()
            .filter(|f| f.rule == rule::MEMORY_NEAR_LIMIT)
            .map(|f| f.key.as_str())
            .collect();
        assert_eq!(restarts, ["restarts:worker@h2"], "{r:?}");
        t.cleanup().await;
    }
}

#[tokio::test]
async fn certificates_and_disks_are_checked_against_their_thresholds() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let now = t0();
    let cert = |days: i64, name: &str| {
        let mut params = rcgen::CertificateParams::new(vec!["eatfit.test".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        let end = now + Duration::days(days);
        params.not_after = rcgen::date_time_ymd(
            chrono::Datelike::year(&end),
            chrono::Datelike::month(&end) as u8,
            chrono::Datelike::day(&end) as u8,
        );
        let key = rcgen::KeyPair::generate().unwrap_or_else(|e| panic!("{e}"));
        let c = params.self_signed(&key).unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join(name);
        std::fs::write(&path, c.pem()).unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let fresh = cert(60, "fresh.pem");
    let soon = cert(10, "soon.pem");
    let critical = cert(2, "critical.pem");
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        heartbeat(db, now).await;
        let mut s = settings();
        s.cert_files = vec![fresh.clone(), soon.clone(), critical.clone()];
        // Any real filesystem is fuller than 0 % and less than 100 % full.
        s.disk_paths = vec![dir.path().to_path_buf()];
        s.disk_warn_percent = 0.0;
        s.disk_page_percent = 100.0;
        let r = alerts::run(db, now, &s)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let key = |p: &std::path::PathBuf| p.display().to_string();
        let mut soon_keys = fired(&r, rule::CERT_EXPIRY_SOON);
        soon_keys.sort();
        let mut want = vec![key(&soon), key(&critical)];
        want.sort();
        assert_eq!(soon_keys, want, "{r:?}");
        assert_eq!(
            fired(&r, rule::CERT_EXPIRY_CRITICAL),
            [key(&critical)],
            "{r:?}"
        );
        assert_eq!(
            fired(&r, rule::DISK_FILLING),
            [key(&dir.path().to_path_buf())]
        );
        assert!(fired(&r, rule::DISK_FULL).is_empty(), "{r:?}");
        let pages = outbox(db, KIND_ALERT).await;
        assert!(
            pages
                .iter()
                .any(|(_, t)| t.contains("CertExpiryCritical") && t.contains("#certexpiry")),
            "{pages:?}"
        );
        // Off when nothing is configured.
        let r = alerts::run(db, now, &settings())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(fired(&r, rule::CERT_EXPIRY_SOON).is_empty());
        assert!(fired(&r, rule::DISK_FILLING).is_empty());
        t.cleanup().await;
    }
}

#[tokio::test]
async fn failed_webhooks_are_paged_by_billing_alone() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let now = t0();
        heartbeat(db, now).await;
        exec(
            db,
            "INSERT INTO webhook_events (event_key, event_type, status, error_message, created_at, \
             updated_at) VALUES ('e1', 'payment.succeeded', 'failed', 'boom', $1, $1)",
            vec![(now - Duration::minutes(5)).into()],
        )
        .await;
        let clock = domain::clock::FixedClock::new(now);
        let billing = billing::Billing::new(
            db.clone(),
            std::sync::Arc::new(clock),
            None,
            billing::BillingSettings {
                admins: ADMINS.to_vec(),
                ..Default::default()
            },
        );
        assert!(
            billing::ops::failed_webhooks_alert(&billing)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        for i in 0..3 {
            let r = alerts::run(db, now + Duration::minutes(i), &settings())
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.messages, 0, "{r:?}");
        }
        let billing_pages = outbox(db, "billing.webhooks_failed").await;
        assert_eq!(billing_pages.len(), ADMINS.len(), "{billing_pages:?}");
        assert!(outbox(db, KIND_ALERT).await.is_empty());
        t.cleanup().await;
    }
}

#[tokio::test]
async fn a_running_role_reports_its_key_fingerprints_and_its_clean_stop() {
    use eatfit::config::{Config, Role};
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let secret = "bot-api-secret-0123456789abcdef-xyz";
    let env: std::collections::HashMap<String, String> = [
        (
            "DATABASE_URL",
            format!("sqlite://{}/e.db?mode=rwc", dir.path().display()),
        ),
        (
            "EATFIT_MEDIA_DIR",
            dir.path().join("media").display().to_string(),
        ),
        ("EATFIT_LISTEN", "127.0.0.1:0".into()),
        ("EATFIT_METRICS_ADDR", "127.0.0.1:0".into()),
        ("TELEGRAM_BOT_API_SECRET", secret.into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let config = Config::load(Role::Serve, &env).unwrap_or_else(|e| panic!("{e}"));
    let running = eatfit::app::start(&config, eatfit::app::system_clock())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let db = running
        .state
        .as_ref()
        .map(|s| s.db().clone())
        .unwrap_or_else(|| panic!("no state"));
    let since = Utc::now() - Duration::minutes(5);
    let rows = eatfit::ops::roles::rows_since(&db, since)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].role, "serve");
    assert_eq!(rows[0].stopped_at, None);
    let fp = domain::secret_fp::Fingerprint::of(secret).sha256_prefix;
    assert_eq!(
        rows[0].keys["TELEGRAM_BOT_API_SECRET"].current.as_deref(),
        Some(fp.as_str())
    );
    assert!(!format!("{rows:?}").contains(secret));
    running.shutdown.cancel();
    running.wait().await;
    let db = Db::connect(&config.database)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let rows = eatfit::ops::roles::rows_since(&db, since)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(rows[0].stopped_at.is_some(), "{rows:?}");
}

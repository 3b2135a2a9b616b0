//! The alerts of reference/ops.md §8.4, evaluated in-process by a periodic job (`ops.alerts`,
//! every minute, scheduled by the scheduler and run by a worker), so that an installation
//! without Prometheus is still paged. Each firing condition is raised in `store::alerts` (one
//! active row per rule and key: a condition that stays bad pages once); every newly active
//! alert — ours, and those other parts raise such as the recognition's immediate
//! AIConfigOrAuthError — is pushed to the Telegram admins through the outbox exactly once (the
//! outbox `dedup_key` names the alert instance), and so is its "resolved" message. Optionally a
//! daily "all quiet" heartbeat proves the alert path itself works: when it stops arriving, the
//! alerting is down.
//!
//! What is evaluated here, and from what (names as in `deploy/prometheus/eatfit-rules.yml`):
//!
//! - from the database: WorkerMissing, QueueBacklog, DeadJobs, AIStuckPhotos,
//!   AIFailureRatioHigh, AINoSuccess, SchedulerMissed, BackupStale; AIConfigOrAuthError (a task
//!   failed with `AI_SERVICE_MISCONFIGURED` in 5 min and nothing succeeded since, or the probe
//!   below was rejected); AILatencyHigh (p95 of photo tasks' `created_at → updated_at` over
//!   10 min, at least [`platform::LATENCY_MIN_SAMPLES`], above the threshold);
//! - by probing: AIProxyDown (this process's authenticated auth-check of the proxy cannot
//!   reach it for 2 min; "down since" is kept in `ops_conditions`);
//! - from what every role reports in `role_heartbeats` ([`super::roles`]): ReadinessFailing
//!   (its `/readyz` checks failing for 2 min, or it vanished without a clean stop),
//!   MemoryNearLimit (above the threshold for 10 min, or more than 2 restarts of a role on a
//!   host in 15 min), ConfigFingerprintMismatch (a role's current key for a secret is not in
//!   another live role's accepted set; see [`super::roles::fingerprint_mismatches`]);
//! - from this host ([`super::host`]): CertExpirySoon/CertExpiryCritical for the configured
//!   PEM files (off when none), DiskFilling/DiskFull for the media folder and the SQLite
//!   database folder.
//!
//! WebhookFailures is billing's: `billing::ops::failed_webhooks_alert` (job
//! `billing.webhook_alerts`, every 15 min) raises `billing_webhooks_failed` and messages the
//! admins itself, once per incident (stricter than the original's per-id de-duplication: a
//! second failed webhook during the same incident does not page again), so this evaluator skips
//! the `billing_` rules instead of paging twice — though they still count as active for the
//! daily "all quiet" heartbeat.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Timelike, Utc};
use jobs::outbox::{self, Notification};
use sea_orm::ConnectionTrait;
use store::{Db, StoreError, sea_orm};

use domain::error::Locale;

use super::texts;

pub mod platform;

/// Rules evaluated here (names as in the Prometheus rules file).
pub mod rule {
    pub const WORKER_MISSING: &str = "WorkerMissing";
    pub const QUEUE_BACKLOG: &str = "QueueBacklog";
    pub const AI_STUCK_PHOTOS: &str = "AIStuckPhotos";
    pub const AI_FAILURE_RATIO_HIGH: &str = "AIFailureRatioHigh";
    pub const AI_NO_SUCCESS: &str = "AINoSuccess";
    pub const SCHEDULER_MISSED: &str = "SchedulerMissed";
    pub const BACKUP_STALE: &str = "BackupStale";
    pub const DEAD_JOBS: &str = "DeadJobs";
    pub const AI_CONFIG_OR_AUTH_ERROR: &str = "AIConfigOrAuthError";
    pub const AI_LATENCY_HIGH: &str = "AILatencyHigh";
    pub const AI_PROXY_DOWN: &str = "AIProxyDown";
    pub const READINESS_FAILING: &str = "ReadinessFailing";
    pub const CONFIG_FINGERPRINT_MISMATCH: &str = "ConfigFingerprintMismatch";
    pub const CERT_EXPIRY_SOON: &str = "CertExpirySoon";
    pub const CERT_EXPIRY_CRITICAL: &str = "CertExpiryCritical";
    pub const DISK_FILLING: &str = "DiskFilling";
    pub const DISK_FULL: &str = "DiskFull";
    pub const MEMORY_NEAR_LIMIT: &str = "MemoryNearLimit";

    /// Every rule this evaluator owns (it resolves only these).
    pub const OWNED: &[&str] = &[
        WORKER_MISSING,
        QUEUE_BACKLOG,
        AI_STUCK_PHOTOS,
        AI_FAILURE_RATIO_HIGH,
        AI_NO_SUCCESS,
        SCHEDULER_MISSED,
        BACKUP_STALE,
        DEAD_JOBS,
        AI_CONFIG_OR_AUTH_ERROR,
        AI_LATENCY_HIGH,
        AI_PROXY_DOWN,
        READINESS_FAILING,
        CONFIG_FINGERPRINT_MISMATCH,
        CERT_EXPIRY_SOON,
        CERT_EXPIRY_CRITICAL,
        DISK_FILLING,
        DISK_FULL,
        MEMORY_NEAR_LIMIT,
    ];
}

/// The job kind and the outbox kinds.
pub const JOB_KIND: &str = "ops.alerts";
pub const KIND_ALERT: &str = "ops.alert";
pub const KIND_RESOLVED: &str = "ops.alert_resolved";
pub const KIND_HEARTBEAT: &str = "ops.heartbeat";

/// Alerts whose owners message the admins themselves (billing's webhook and digest alerts).
const SELF_NOTIFYING_PREFIXES: &[&str] = &["billing_"];

/// Thresholds and switches.
#[derive(Debug, Clone)]
pub struct AlertSettings {
    /// Telegram ids of the admins.
    pub admins: Vec<i64>,
    /// Send a daily "all quiet" message at `heartbeat_hour_utc`.
    pub heartbeat: bool,
    pub heartbeat_hour_utc: u32,
    /// Backups must exist (prod): no backup at all is then an alert too.
    pub backups_required: bool,
    pub worker_max_age_secs: i64,
    pub backlog_max_age_secs: i64,
    pub backup_max_age: Duration,
    pub locale: Locale,
    /// The periodic jobs this binary schedules; SchedulerMissed ignores slots of others (a job
    /// renamed or removed in an upgrade). `None`: every job with slots.
    pub scheduled: Option<Vec<String>>,
    /// AILatencyHigh: p95 of submission → result above this many seconds.
    pub ai_latency_p95_secs: f64,
    /// AIProxyDown: the probe of the AI proxy this process talks to (`None`: rule off).
    pub ai_proxy: Option<Arc<dyn api::ReadinessCheck>>,
    /// CertExpiry: PEM files to watch (empty: rule off).
    pub cert_files: Vec<PathBuf>,
    /// Disk: folders whose filesystems are watched (empty: rule off), and the thresholds.
    pub disk_paths: Vec<PathBuf>,
    pub disk_warn_percent: f64,
    pub disk_page_percent: f64,
    /// MemoryNearLimit: percent of the limit.
    pub memory_percent: f64,
}

impl AlertSettings {
    pub fn new(admins: Vec<i64>) -> Self {
        Self {
            admins,
            heartbeat: false,
            heartbeat_hour_utc: 9,
            backups_required: false,
            worker_max_age_secs: 120,
            backlog_max_age_secs: 300,
            backup_max_age: Duration::hours(26),
            locale: Locale::Ru,
            scheduled: None,
            ai_latency_p95_secs: 30.0,
            ai_proxy: None,
            cert_files: Vec::new(),
            disk_paths: Vec::new(),
            disk_warn_percent: 70.0,
            disk_page_percent: 85.0,
            memory_percent: 85.0,
        }
    }
}

/// One condition's state in this evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub rule: &'static str,
    pub key: String,
    /// Facts for the message (numbers, names), never secrets.
    pub detail: String,
}

/// What one evaluation did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Report {
    pub firing: Vec<Finding>,
    pub raised: usize,
    pub resolved: usize,
    pub messages: usize,
}

async fn count(db: &Db, sql: &str, values: Vec<sea_orm::Value>) -> Result<i64, StoreError> {
    let row = db.conn().query_one_raw(db.statement(sql, values)).await?;
    Ok(match row {
        Some(r) => r.try_get("", "n")?,
        None => 0,
    })
}

/// Evaluates every condition; returns those firing now.
pub async fn evaluate(
    db: &Db,
    now: DateTime<Utc>,
    s: &AlertSettings,
) -> Result<Vec<Finding>, StoreError> {
    let mut firing = Vec::new();

    // WorkerMissing: a queue whose freshest worker heartbeat is too old, or that has none.
    for (queue, age) in jobs::worker::heartbeat_ages(db, now).await? {
        match age {
            Some(a) if a <= s.worker_max_age_secs => {}
            other => firing.push(Finding {
                rule: rule::WORKER_MISSING,
                key: queue.as_str().to_string(),
                detail: match other {
                    Some(a) => format!("heartbeat {a} s"),
                    None => "no worker".into(),
                },
            }),
        }
    }

    // QueueBacklog (ai, billing) and dead jobs (any queue).
    for q in jobs::admin::queue_stats(db, now).await? {
        let watched = matches!(q.queue.as_str(), "ai" | "billing");
        if watched && q.oldest_age_secs > s.backlog_max_age_secs {
            firing.push(Finding {
                rule: rule::QUEUE_BACKLOG,
                key: q.queue.as_str().to_string(),
                detail: format!("oldest {} s, depth {}", q.oldest_age_secs, q.depth),
            });
        }
        if q.dead > 0 {
            firing.push(Finding {
                rule: rule::DEAD_JOBS,
                key: q.queue.as_str().to_string(),
                detail: format!("{} dead", q.dead),
            });
        }
    }

    // AIStuckPhotos: a task still processing 5 minutes past its deadline (the reaper should
    // have failed it).
    let stuck = count(
        db,
        "SELECT COUNT(*) AS n FROM ai_tasks WHERE status = 'processing' AND deadline_at < $1",
        vec![(now - Duration::minutes(5)).into()],
    )
    .await?;
    if stuck > 0 {
        firing.push(Finding {
            rule: rule::AI_STUCK_PHOTOS,
            key: String::new(),
            detail: format!("{stuck}"),
        });
    }

    // AIFailureRatioHigh (10 min, ≥ 5 tasks, > 20 %) and AINoSuccess (30 min, ≥ 3 attempts).
    let window =
        |mins: i64| -> Vec<sea_orm::Value> { vec![(now - Duration::minutes(mins)).into()] };
    let done10 = count(
        db,
        "SELECT COUNT(*) AS n FROM ai_tasks WHERE status IN ('success','failed') AND updated_at >= $1",
        window(10),
    )
    .await?;
    let failed10 = count(
        db,
        "SELECT COUNT(*) AS n FROM ai_tasks WHERE status = 'failed' AND updated_at >= $1",
        window(10),
    )
    .await?;
    if done10 >= 5 && failed10 * 5 > done10 {
        firing.push(Finding {
            rule: rule::AI_FAILURE_RATIO_HIGH,
            key: String::new(),
            detail: format!("{failed10}/{done10}"),
        });
    }
    let tried30 = count(
        db,
        "SELECT COUNT(*) AS n FROM ai_tasks WHERE kind = 'photo' AND created_at >= $1",
        window(30),
    )
    .await?;
    let ok30 = count(
        db,
        "SELECT COUNT(*) AS n FROM ai_tasks WHERE kind = 'photo' AND status = 'success' AND updated_at >= $1",
        window(30),
    )
    .await?;
    if tried30 >= 3 && ok30 == 0 {
        firing.push(Finding {
            rule: rule::AI_NO_SUCCESS,
            key: String::new(),
            detail: format!("0/{tried30}"),
        });
    }

    // SchedulerMissed: a periodic job whose last slot is older than twice its own interval
    // (estimated from its two latest slots).
    let last_rows = db
        .conn()
        .query_all_raw(db.statement(
            "SELECT job_name, MAX(slot) AS slot FROM scheduler_slots GROUP BY job_name",
            vec![],
        ))
        .await?;
    let prev_rows = db
        .conn()
        .query_all_raw(db.statement("SELECT s.job_name, MAX(s.slot) AS slot FROM scheduler_slots s \
             WHERE s.slot < (SELECT MAX(t.slot) FROM scheduler_slots t WHERE t.job_name = s.job_name) \
             GROUP BY s.job_name",
            vec![],
        ))
        .await?;
    let mut prev: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    for r in prev_rows {
        prev.insert(r.try_get("", "job_name")?, r.try_get("", "slot")?);
    }
    for r in last_rows {
        let job: String = r.try_get("", "job_name")?;
        let last: DateTime<Utc> = r.try_get("", "slot")?;
        let Some(before) = prev.get(&job) else {
            continue;
        };
        if s.scheduled
            .as_ref()
            .is_some_and(|names| !names.contains(&job))
        {
            continue;
        }
        let interval = last - *before;
        if interval > Duration::zero() && now - last > interval * 2 + Duration::seconds(30) {
            firing.push(Finding {
                rule: rule::SCHEDULER_MISSED,
                key: job,
                detail: format!("last {}", last.format("%Y-%m-%d %H:%M:%S UTC")),
            });
        }
    }

    // BackupStale.
    let last = super::backup::last_success(db)
        .await
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    if let Some(at) = last {
        metrics::gauge!("eatfit_backup_last_success_timestamp_seconds").set(at.timestamp() as f64);
    }
    match last {
        Some(at) if now - at > s.backup_max_age => firing.push(Finding {
            rule: rule::BACKUP_STALE,
            key: String::new(),
            detail: format!("last {}", at.format("%Y-%m-%d %H:%M UTC")),
        }),
        None if s.backups_required => firing.push(Finding {
            rule: rule::BACKUP_STALE,
            key: String::new(),
            detail: "never".into(),
        }),
        _ => {}
    }

    firing.extend(platform::evaluate(db, now, s).await?);
    Ok(firing)
}

/// An alert row as the messenger needs it.
struct Row {
    rule: String,
    key: String,
    summary: String,
    raised_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

async fn recent_alerts(db: &Db, since: DateTime<Utc>) -> Result<Vec<Row>, StoreError> {
    let rows = db
        .conn()
        .query_all_raw(db.statement(
            "SELECT rule, key, summary, raised_at, resolved_at FROM alerts \
             WHERE resolved_at IS NULL OR resolved_at >= $1 ORDER BY id",
            vec![since.into()],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(Row {
            rule: r.try_get("", "rule")?,
            key: r.try_get("", "key")?,
            summary: r.try_get("", "summary")?,
            raised_at: r.try_get("", "raised_at")?,
            resolved_at: r.try_get("", "resolved_at")?,
        });
    }
    Ok(out)
}

/// One evaluation: raise what fires, resolve what no longer does, and message the admins about
/// every change once.
pub async fn run(db: &Db, now: DateTime<Utc>, s: &AlertSettings) -> Result<Report, StoreError> {
    let firing = evaluate(db, now, s).await?;
    let mut report = Report::default();
    for f in &firing {
        let summary = texts::alert_summary(s.locale, f.rule, &f.key, &f.detail);
        if store::alerts::raise(db, f.rule, &f.key, &summary, now).await?
            == store::alerts::Raised::New
        {
            report.raised += 1;
        }
    }
    for a in store::alerts::active(db).await? {
        let owned = rule::OWNED.contains(&a.rule.as_str());
        let still = firing.iter().any(|f| f.rule == a.rule && f.key == a.key);
        if owned && !still && store::alerts::resolve(db, &a.rule, &a.key, now).await? {
            report.resolved += 1;
        }
    }

    // Messages: one per alert instance (raised_at names it) and one per resolution, whoever
    // raised it; the outbox dedup_key makes re-runs send nothing twice.
    let mut active = 0;
    for a in recent_alerts(db, now - Duration::days(1)).await? {
        if SELF_NOTIFYING_PREFIXES
            .iter()
            .any(|p| a.rule.starts_with(p))
        {
            // Paged by its owner; still not "all quiet" while it is active.
            active += usize::from(a.resolved_at.is_none());
            continue;
        }
        let instance = format!("{}:{}:{}", a.rule, a.key, a.raised_at.timestamp());
        let raised = Notification::new(
            format!("ops.alert:{instance}"),
            KIND_ALERT,
            0,
            texts::alert_message(s.locale, &a.rule, &a.summary),
        );
        report.messages += outbox::push_to_admins(db.conn(), &s.admins, &raised, now).await?;
        match a.resolved_at {
            None => active += 1,
            Some(at) => {
                let resolved = Notification::new(
                    format!("ops.resolved:{instance}"),
                    KIND_RESOLVED,
                    0,
                    texts::resolved_message(s.locale, &a.rule, &a.key, at - a.raised_at),
                );
                report.messages +=
                    outbox::push_to_admins(db.conn(), &s.admins, &resolved, now).await?;
            }
        }
    }

    if s.heartbeat && active == 0 && now.hour() >= s.heartbeat_hour_utc {
        let day = now.format("%Y-%m-%d");
        let n = Notification::new(
            format!("ops.heartbeat:{day}"),
            KIND_HEARTBEAT,
            0,
            texts::heartbeat_message(s.locale, &day.to_string()),
        );
        report.messages += outbox::push_to_admins(db.conn(), &s.admins, &n, now).await?;
    }
    if report.raised + report.resolved > 0 {
        tracing::info!(
            firing = firing.len(),
            raised = report.raised,
            resolved = report.resolved,
            messages = report.messages,
            "alerts evaluated"
        );
    }
    report.firing = firing;
    Ok(report)
}

/// Registers the `ops.alerts` job.
pub fn register(registry: &mut jobs::worker::Registry, settings: AlertSettings) {
    let settings = std::sync::Arc::new(settings);
    registry.register(JOB_KIND, move |ctx| {
        let settings = settings.clone();
        async move {
            run(&ctx.db, ctx.clock.now(), &settings).await?;
            Ok(())
        }
    });
}

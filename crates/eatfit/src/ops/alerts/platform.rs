//! The rules of the evaluator beyond queues and tasks: AI configuration and latency, the AI
//! proxy's reachability, the roles' own reports (readiness, memory, restarts, key
//! fingerprints), certificates and disk. Conditions with a "for N minutes" keep the time they
//! turned bad in `ops_conditions`, so they survive restarts and whichever worker runs the job.

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use store::{Db, StoreError, sea_orm};

use super::{AlertSettings, Finding, rule};
use crate::ops::host::{self, DiskReading};
use crate::ops::roles::{self, InstanceKeys};

/// Records whether condition `name` is bad now; returns since when it has been bad (kept
/// across evaluations in `ops_conditions`), `None` when it is fine.
pub async fn bad_since(
    db: &Db,
    name: &str,
    bad: bool,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let sql = if bad {
        "INSERT INTO ops_conditions (name, bad_since, checked_at, detail) VALUES ($1, $2, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET \
         bad_since = COALESCE(ops_conditions.bad_since, excluded.bad_since), \
         checked_at = excluded.checked_at, detail = excluded.detail"
    } else {
        "INSERT INTO ops_conditions (name, bad_since, checked_at, detail) VALUES ($1, NULL, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET bad_since = NULL, checked_at = excluded.checked_at, \
         detail = excluded.detail"
    };
    db.conn()
        .execute_raw(db.statement(sql, vec![name.into(), now.into(), detail.into()]))
        .await?;
    let row = db
        .conn()
        .query_one_raw(db.statement(
            "SELECT bad_since FROM ops_conditions WHERE name = $1",
            vec![name.into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get("", "bad_since")?,
        None => None,
    })
}

async fn max_time(
    db: &Db,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let row = db.conn().query_one_raw(db.statement(sql, values)).await?;
    Ok(match row {
        Some(r) => r.try_get("", "t")?,
        None => None,
    })
}

/// p95 by nearest rank; `None` for no samples.
pub fn p95(samples: &mut [f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = ((samples.len() as f64) * 0.95).ceil() as usize;
    samples.get(rank.saturating_sub(1)).copied()
}

/// The fewest finished recognitions in 10 minutes for AILatencyHigh to judge (one slow photo
/// at night is not a trend).
pub const LATENCY_MIN_SAMPLES: usize = 5;

/// Disk: DiskFilling above `warn`, DiskFull above `page` (percent used).
pub fn disk_findings(readings: &[DiskReading], warn: f64, page: f64) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in readings {
        let detail = format!(
            "{:.0} % used, {} MiB free",
            r.used_percent,
            r.avail_bytes / (1024 * 1024)
        );
        if r.used_percent > warn {
            out.push(Finding {
                rule: rule::DISK_FILLING,
                key: r.path.clone(),
                detail: detail.clone(),
            });
        }
        if r.used_percent > page {
            out.push(Finding {
                rule: rule::DISK_FULL,
                key: r.path.clone(),
                detail,
            });
        }
    }
    out
}

/// CertExpiry: CertExpirySoon under 14 days, CertExpiryCritical under 3 (both fire then, as
/// in the Prometheus rules).
pub fn cert_findings(path: &str, not_after: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Finding> {
    let left = not_after - now;
    let detail = format!(
        "notAfter {}, {} d left",
        not_after.format("%Y-%m-%d %H:%M UTC"),
        left.num_days()
    );
    let mut out = Vec::new();
    if left < Duration::days(14) {
        out.push(Finding {
            rule: rule::CERT_EXPIRY_SOON,
            key: path.to_string(),
            detail: detail.clone(),
        });
    }
    if left < Duration::days(3) {
        out.push(Finding {
            rule: rule::CERT_EXPIRY_CRITICAL,
            key: path.to_string(),
            detail,
        });
    }
    out
}

/// How long the AI proxy must be down, and a role unready, before paging.
const DOWN_FOR: i64 = 2;
/// MemoryNearLimit: above the threshold for this long…
const MEMORY_FOR: i64 = 10;
/// …or more than this many restarts of one role on one host in 15 minutes.
const MAX_RESTARTS: usize = 2;

/// Evaluates the rules of this module.
pub async fn evaluate(
    db: &Db,
    now: DateTime<Utc>,
    s: &AlertSettings,
) -> Result<Vec<Finding>, StoreError> {
    let mut firing = Vec::new();

    // The AI proxy probe (when this process talks to one): reachable or not, and whether it
    // accepts our key.
    let probe = match &s.ai_proxy {
        Some(p) => Some(p.check().await),
        None => None,
    };

    // AIConfigOrAuthError: a recognition failed with AI_SERVICE_MISCONFIGURED (the proxy said
    // 401/403, or the URL/key is unusable) in the last 5 minutes and nothing succeeded since;
    // or the probe was rejected just now.
    let misconfigured = max_time(
        db,
        "SELECT MAX(updated_at) AS t FROM ai_tasks \
         WHERE error_code = 'AI_SERVICE_MISCONFIGURED' AND updated_at >= $1",
        vec![(now - Duration::minutes(5)).into()],
    )
    .await?;
    let last_success = max_time(
        db,
        "SELECT MAX(updated_at) AS t FROM ai_tasks WHERE status = 'success'",
        vec![],
    )
    .await?;
    let rejected = probe == Some(api::CheckState::Failing("auth_rejected"));
    if let Some(at) = misconfigured
        && last_success.is_none_or(|ok| ok < at)
    {
        firing.push(Finding {
            rule: rule::AI_CONFIG_OR_AUTH_ERROR,
            key: "ai".into(),
            detail: format!("AI_SERVICE_MISCONFIGURED at {}", at.format("%H:%M:%S UTC")),
        });
    } else if rejected {
        firing.push(Finding {
            rule: rule::AI_CONFIG_OR_AUTH_ERROR,
            key: "ai".into(),
            detail: "auth-check: key rejected".into(),
        });
    }

    // AIProxyDown: the probe cannot reach it (a rejection means it is up) for 2 minutes.
    if let Some(state) = probe {
        let down = matches!(
            state,
            api::CheckState::Failing(r) if !matches!(r, "auth_rejected" | "no_auth_check")
        );
        let since = bad_since(db, rule::AI_PROXY_DOWN, down, state.as_str(), now).await?;
        if let Some(since) = since
            && now - since >= Duration::minutes(DOWN_FOR)
        {
            firing.push(Finding {
                rule: rule::AI_PROXY_DOWN,
                key: String::new(),
                detail: format!("{} since {}", state.as_str(), since.format("%H:%M UTC")),
            });
        }
    }

    // AILatencyHigh: p95 of submission → terminal of photo recognitions finished in 10 min.
    let rows = db
        .conn()
        .query_all_raw(db.statement(
            "SELECT created_at, updated_at FROM ai_tasks WHERE kind = 'photo' \
             AND status IN ('success', 'failed') AND updated_at >= $1 \
             ORDER BY updated_at DESC LIMIT 5000",
            vec![(now - Duration::minutes(10)).into()],
        ))
        .await?;
    let mut secs = Vec::with_capacity(rows.len());
    for r in rows {
        let created: DateTime<Utc> = r.try_get("", "created_at")?;
        let done: DateTime<Utc> = r.try_get("", "updated_at")?;
        secs.push((done - created).num_milliseconds().max(0) as f64 / 1000.0);
    }
    let n = secs.len();
    if n >= LATENCY_MIN_SAMPLES
        && let Some(p) = p95(&mut secs)
        && p > s.ai_latency_p95_secs
    {
        firing.push(Finding {
            rule: rule::AI_LATENCY_HIGH,
            key: String::new(),
            detail: format!("p95 {p:.1} s over {n} recognitions"),
        });
    }

    firing.extend(role_findings(db, now, s).await?);

    // CertExpiry.
    for path in &s.cert_files {
        let name = path.display().to_string();
        match host::cert_expiry(path) {
            Ok(at) => {
                metrics::gauge!("eatfit_tls_cert_expiry_seconds", "domain" => name.clone())
                    .set((at - now).num_seconds() as f64);
                firing.extend(cert_findings(&name, at, now));
            }
            Err(e) => {
                tracing::warn!(error = %e, "certificate check failed");
                firing.push(Finding {
                    rule: rule::CERT_EXPIRY_SOON,
                    key: name,
                    detail: e.to_string(),
                });
            }
        }
    }

    // Disk (one reading per filesystem: the first configured path names it).
    let mut readings: Vec<DiskReading> = Vec::new();
    let mut seen = Vec::new();
    for path in &s.disk_paths {
        match host::disk_usage(path) {
            Ok(r) => {
                // Some filesystems report no id (0): never merge those.
                if r.fs_id == 0 || !seen.contains(&r.fs_id) {
                    seen.push(r.fs_id);
                    readings.push(r);
                }
            }
            Err(e) => tracing::warn!(path = %path.display(), error = %e, "disk reading failed"),
        }
    }
    firing.extend(disk_findings(
        &readings,
        s.disk_warn_percent,
        s.disk_page_percent,
    ));

    // Housekeeping: rows of processes and conditions nobody has seen for a day.
    let day_ago = now - Duration::days(1);
    roles::delete_older(db, day_ago).await?;
    db.conn()
        .execute_raw(db.statement(
            "DELETE FROM ops_conditions WHERE checked_at < $1",
            vec![day_ago.into()],
        ))
        .await?;
    Ok(firing)
}

/// ReadinessFailing, MemoryNearLimit and ConfigFingerprintMismatch from the roles' reports.
async fn role_findings(
    db: &Db,
    now: DateTime<Utc>,
    s: &AlertSettings,
) -> Result<Vec<Finding>, StoreError> {
    let mut firing = Vec::new();
    let rows = roles::rows_since(db, now - Duration::days(1)).await?;
    let fresh = |at: DateTime<Utc>| now - at <= Duration::seconds(s.worker_max_age_secs);
    let live: Vec<_> = rows
        .iter()
        .filter(|r| r.stopped_at.is_none() && fresh(r.last_seen))
        .collect();

    // ReadinessFailing: a live role reporting not ready for 2 minutes, or the newest instance
    // of a role on a host that vanished without a clean stop (it does not answer).
    let mut newest: Vec<&roles::RoleRow> = Vec::new();
    for r in &rows {
        if !newest.iter().any(|n| n.role == r.role && n.host == r.host) {
            newest.push(r); // rows are newest start first
        }
    }
    for r in rows.iter().filter(|r| r.stopped_at.is_none()) {
        let silent = !fresh(r.last_seen) && newest.iter().any(|n| n.instance_id == r.instance_id);
        if !silent && !fresh(r.last_seen) {
            continue; // replaced by a newer instance on the same host
        }
        let unready = !silent && r.ready == Some(false);
        let detail = if silent {
            format!(
                "{}: no report since {}",
                r.label(),
                r.last_seen.format("%H:%M UTC")
            )
        } else {
            format!("{}: {}", r.label(), r.failing_checks)
        };
        let name = format!("{}:{}", rule::READINESS_FAILING, r.instance_id);
        let since = bad_since(db, &name, silent || unready, &detail, now).await?;
        if let Some(since) = since
            && now - since >= Duration::minutes(DOWN_FOR)
        {
            firing.push(Finding {
                rule: rule::READINESS_FAILING,
                key: r.instance_id.clone(),
                detail,
            });
        }
    }

    // MemoryNearLimit: above the threshold for 10 minutes…
    for r in &live {
        let Some(m) = r.memory else { continue };
        let high = m.percent() > s.memory_percent;
        let detail = format!(
            "{}: {:.0} % of {} MiB",
            r.label(),
            m.percent(),
            m.limit_bytes / (1024 * 1024)
        );
        let name = format!("{}:{}", rule::MEMORY_NEAR_LIMIT, r.instance_id);
        if let Some(since) = bad_since(db, &name, high, &detail, now).await?
            && now - since >= Duration::minutes(MEMORY_FOR)
        {
            firing.push(Finding {
                rule: rule::MEMORY_NEAR_LIMIT,
                key: r.instance_id.clone(),
                detail,
            });
        }
    }
    // …or restarting: more than two restarts (three starts after the first) in 15 minutes.
    let mut starts: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for r in rows
        .iter()
        .filter(|r| now - r.started_at <= Duration::minutes(15))
    {
        *starts.entry((r.role.clone(), r.host.clone())).or_default() += 1;
    }
    for ((role, host), n) in starts {
        if n.saturating_sub(1) > MAX_RESTARTS {
            firing.push(Finding {
                rule: rule::MEMORY_NEAR_LIMIT,
                key: format!("restarts:{role}@{host}"),
                detail: format!("{} restarts in 15 min", n - 1),
            });
        }
    }

    // ConfigFingerprintMismatch across live instances.
    let keys: Vec<InstanceKeys> = live
        .iter()
        .map(|r| InstanceKeys {
            label: format!("{} ({})", r.label(), r.instance_id),
            keys: r.keys.clone(),
        })
        .collect();
    for (name, detail) in roles::fingerprint_mismatches(&keys) {
        firing.push(Finding {
            rule: rule::CONFIG_FINGERPRINT_MISMATCH,
            key: name,
            detail,
        });
    }
    Ok(firing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn reading(path: &str, pct: f64) -> DiskReading {
        DiskReading {
            path: path.into(),
            used_percent: pct,
            size_bytes: 100 << 30,
            avail_bytes: 10 << 30,
            fs_id: 1,
        }
    }

    #[test]
    fn disk_warns_above_70_and_pages_above_85() {
        let f = disk_findings(
            &[
                reading("/a", 50.0),
                reading("/b", 70.5),
                reading("/c", 90.0),
            ],
            70.0,
            85.0,
        );
        let got: Vec<_> = f.iter().map(|f| (f.rule, f.key.as_str())).collect();
        assert_eq!(
            got,
            [
                (rule::DISK_FILLING, "/b"),
                (rule::DISK_FILLING, "/c"),
                (rule::DISK_FULL, "/c")
            ]
        );
        // Thresholds are the settings, not constants.
        assert!(disk_findings(&[reading("/b", 70.5)], 80.0, 90.0).is_empty());
    }

    #[test]
    fn certificates_warn_at_14_days_and_page_at_3() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("time"));
        let rules = |days: i64| -> Vec<&str> {
            cert_findings("/c.pem", now + Duration::days(days), now)
                .iter()
                .map(|f| f.rule)
                .collect()
        };
        assert!(rules(30).is_empty());
        assert_eq!(rules(10), [rule::CERT_EXPIRY_SOON]);
        assert_eq!(
            rules(2),
            [rule::CERT_EXPIRY_SOON, rule::CERT_EXPIRY_CRITICAL]
        );
        assert_eq!(rules(-1).len(), 2, "expired is critical too");
    }

    #[test]
    fn p95_is_the_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(p95(&mut v), Some(95.0));
        let mut few = vec![40.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(p95(&mut few), Some(40.0));
        assert_eq!(p95(&mut []), None);
    }
}

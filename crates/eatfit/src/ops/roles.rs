//! What every running role reports about itself, in `role_heartbeats` (one row per process
//! start): its start time, its readiness (the same checks `/readyz` runs), its memory reading
//! and the **fingerprints** of the keys it holds — never the keys. The alert evaluator reads
//! these rows for ReadinessFailing, MemoryNearLimit (and restarts) and
//! ConfigFingerprintMismatch, so no role has to be reachable over HTTP from the evaluator.
//!
//! Rows stay after a process stops (marked `stopped_at`) so restarts can be counted; rows not
//! seen for a day are deleted by the evaluator.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::clock::SharedClock;
use domain::secret_fp::Fingerprint;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use store::{Db, StoreError, sea_orm};
use tokio_util::sync::CancellationToken;

use super::host::MemoryReading;

/// How often a role reports.
pub const BEAT_EVERY: Duration = Duration::from_secs(30);

/// The fingerprints a role holds for one secret name.
///
/// `current` is the key the role sends or signs with (or the only value of a secret both sides
/// share, like the bot token); `accepted` is the set it verifies with. A sender-only secret
/// has an empty `accepted` set, a verifier-only one no `current`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFps {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<String>,
    #[serde(default)]
    pub accepted: Vec<String>,
}

/// Fingerprints by secret name, from `Config::secrets()` (in its order: the current key of a
/// set first). Sender/verifier pairs are folded under the sender's name:
/// `TELEGRAM_BOT_API_SECRETS_PREVIOUS` widens the accepted set of `TELEGRAM_BOT_API_SECRET`,
/// the verifier set `API_PROXY_SECRETS` is the accepted set of `AI_PROXY_SECRET` (which the
/// workers only send). The first `TELEGRAM_WEBHOOK_SECRET` is the registered one.
pub fn key_fingerprints(secrets: &[(&str, String)]) -> BTreeMap<String, KeyFps> {
    let mut out: BTreeMap<String, KeyFps> = BTreeMap::new();
    for (name, value) in secrets {
        let fp = Fingerprint::of(value).sha256_prefix;
        let (key, sends, verifies) = match *name {
            "DATABASE_URL" => continue,
            "TELEGRAM_BOT_API_SECRETS_PREVIOUS" => ("TELEGRAM_BOT_API_SECRET", false, true),
            "API_PROXY_SECRETS" => ("AI_PROXY_SECRET", false, true),
            "AI_PROXY_SECRET" => ("AI_PROXY_SECRET", true, false),
            other => (other, true, true),
        };
        let e = out.entry(key.to_string()).or_default();
        if sends && e.current.is_none() {
            e.current = Some(fp.clone());
        }
        if verifies && !e.accepted.contains(&fp) {
            e.accepted.push(fp);
        }
    }
    out
}

/// One live instance as the mismatch rule sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceKeys {
    /// `role@host (instance id)`, for the message.
    pub label: String,
    pub keys: BTreeMap<String, KeyFps>,
}

/// ConfigFingerprintMismatch, the rule: for a secret name, instance A's current key is not in
/// instance B's accepted set (B would reject what A sends or signs). A rotation in progress —
/// verifiers accepting {new, old}, senders on either — is not a mismatch. Returns
/// (secret name, explanation) once per name.
pub fn fingerprint_mismatches(instances: &[InstanceKeys]) -> Vec<(String, String)> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for a in instances {
        for (name, ka) in &a.keys {
            let Some(cur) = &ka.current else { continue };
            for b in instances {
                if std::ptr::eq(a, b) || out.contains_key(name) {
                    continue;
                }
                if let Some(kb) = b.keys.get(name)
                    && !kb.accepted.is_empty()
                    && !kb.accepted.contains(cur)
                {
                    out.insert(
                        name.clone(),
                        format!(
                            "{} uses {cur}, {} accepts only {}",
                            a.label,
                            b.label,
                            kb.accepted.join(",")
                        ),
                    );
                }
            }
        }
    }
    out.into_iter().collect()
}

/// A process's identity in `role_heartbeats`.
#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub role: String,
    pub host: String,
    pub started_at: DateTime<Utc>,
}

impl Instance {
    /// A fresh identity: every process start is a new row (restarts are counted by rows).
    pub fn new(role: &str, host: &str, started_at: DateTime<Utc>) -> Self {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        Self {
            id: format!("{role}-{host}-{}-{}", std::process::id(), &nonce[..8]),
            role: role.to_string(),
            host: host.to_string(),
            started_at,
        }
    }
}

/// Writes the instance's row at start (readiness unknown until the first [`beat`]).
pub async fn register(
    db: &Db,
    inst: &Instance,
    keys: &BTreeMap<String, KeyFps>,
    mem: Option<MemoryReading>,
) -> Result<(), StoreError> {
    let fps = serde_json::to_string(keys).unwrap_or_default();
    db.conn()
        .execute_raw(db.statement("INSERT INTO role_heartbeats (instance_id, role, host, started_at, last_seen, \
             fingerprints, mem_used_bytes, mem_limit_bytes) VALUES ($1, $2, $3, $4, $4, $5, $6, $7) \
             ON CONFLICT (instance_id) DO UPDATE SET last_seen = excluded.last_seen, \
             fingerprints = excluded.fingerprints",
            vec![
                inst.id.clone().into(),
                inst.role.clone().into(),
                inst.host.clone().into(),
                inst.started_at.into(),
                fps.into(),
                mem.map(|m| m.used_bytes as i64).into(),
                mem.map(|m| m.limit_bytes as i64).into(),
            ],
        ))
        .await?;
    Ok(())
}

/// Readiness as `/readyz` computed it: ready, and the names of failing checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub ready: bool,
    pub failing: Vec<String>,
}

/// Refreshes the row: seen now, with this readiness and memory reading.
pub async fn beat(
    db: &Db,
    instance_id: &str,
    readiness: &Readiness,
    mem: Option<MemoryReading>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let failing: String = readiness.failing.join(",").chars().take(255).collect();
    db.conn()
        .execute_raw(db.statement(
            "UPDATE role_heartbeats SET last_seen = $1, ready = $2, failing_checks = $3, \
             mem_used_bytes = $4, mem_limit_bytes = $5, stopped_at = NULL WHERE instance_id = $6",
            vec![
                now.into(),
                readiness.ready.into(),
                failing.into(),
                mem.map(|m| m.used_bytes as i64).into(),
                mem.map(|m| m.limit_bytes as i64).into(),
                instance_id.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// Marks a clean stop (the row stays for restart counting).
pub async fn stop(db: &Db, instance_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    db.conn()
        .execute_raw(db.statement(
            "UPDATE role_heartbeats SET stopped_at = $1, last_seen = $1 WHERE instance_id = $2",
            vec![now.into(), instance_id.into()],
        ))
        .await?;
    Ok(())
}

/// A row of `role_heartbeats`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleRow {
    pub instance_id: String,
    pub role: String,
    pub host: String,
    pub started_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub keys: BTreeMap<String, KeyFps>,
    pub ready: Option<bool>,
    pub failing_checks: String,
    pub memory: Option<MemoryReading>,
}

impl RoleRow {
    pub fn label(&self) -> String {
        format!("{}@{}", self.role, self.host)
    }
}

/// Every row seen since `since`, newest start first.
pub async fn rows_since(db: &Db, since: DateTime<Utc>) -> Result<Vec<RoleRow>, StoreError> {
    let rows = db
        .conn()
        .query_all_raw(db.statement(
            "SELECT instance_id, role, host, started_at, last_seen, stopped_at, fingerprints, \
             ready, failing_checks, mem_used_bytes, mem_limit_bytes FROM role_heartbeats \
             WHERE last_seen >= $1 ORDER BY started_at DESC, instance_id",
            vec![since.into()],
        ))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let fps: String = r.try_get("", "fingerprints")?;
        let used: Option<i64> = r.try_get("", "mem_used_bytes")?;
        let limit: Option<i64> = r.try_get("", "mem_limit_bytes")?;
        out.push(RoleRow {
            instance_id: r.try_get("", "instance_id")?,
            role: r.try_get("", "role")?,
            host: r.try_get("", "host")?,
            started_at: r.try_get("", "started_at")?,
            last_seen: r.try_get("", "last_seen")?,
            stopped_at: r.try_get("", "stopped_at")?,
            keys: serde_json::from_str(&fps).unwrap_or_default(),
            ready: r.try_get("", "ready")?,
            failing_checks: r.try_get("", "failing_checks")?,
            memory: match (used, limit) {
                (Some(u), Some(l)) if u >= 0 && l > 0 => Some(MemoryReading {
                    used_bytes: u as u64,
                    limit_bytes: l as u64,
                }),
                _ => None,
            },
        });
    }
    Ok(out)
}

/// Deletes rows not seen since `before`.
pub async fn delete_older(db: &Db, before: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(db
        .conn()
        .execute_raw(db.statement(
            "DELETE FROM role_heartbeats WHERE last_seen < $1",
            vec![before.into()],
        ))
        .await?
        .rows_affected())
}

/// The readiness of this process, as `/readyz` computes it.
pub async fn readiness(state: &api::AppState) -> Readiness {
    let (ready, checks) = api::health::evaluate(state).await;
    Readiness {
        ready,
        failing: checks
            .iter()
            .filter(|(_, s)| matches!(s, api::CheckState::Failing(_)))
            .map(|(name, s)| format!("{name}={}", s.as_str()))
            .collect(),
    }
}

/// Registers this process and reports every [`BEAT_EVERY`] until `shutdown`, then marks the
/// stop. The first readiness is reported one interval after start (start-up is `/readyz`'s
/// business; this is about staying ready).
pub async fn spawn_reporter(
    tasks: &mut tokio::task::JoinSet<()>,
    state: api::AppState,
    inst: Instance,
    keys: BTreeMap<String, KeyFps>,
    clock: SharedClock,
    shutdown: CancellationToken,
) -> Result<(), StoreError> {
    register(state.db(), &inst, &keys, super::host::memory_reading()).await?;
    tasks.spawn(async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(BEAT_EVERY) => {}
            }
            let r = readiness(&state).await;
            let mem = super::host::memory_reading();
            if let Err(e) = beat(state.db(), &inst.id, &r, mem, clock.now()).await {
                tracing::warn!(error = %e, instance = %inst.id, "role heartbeat failed");
            }
        }
        if let Err(e) = stop(state.db(), &inst.id, clock.now()).await {
            tracing::warn!(error = %e, instance = %inst.id, "recording the role stop failed");
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(s: &str) -> String {
        Fingerprint::of(s).sha256_prefix
    }

    fn inst(label: &str, secrets: &[(&'static str, &str)]) -> InstanceKeys {
        let s: Vec<(&str, String)> = secrets.iter().map(|(n, v)| (*n, v.to_string())).collect();
        InstanceKeys {
            label: label.into(),
            keys: key_fingerprints(&s),
        }
    }

    #[test]
    fn sets_fold_under_the_sender_name_and_no_secret_is_stored() {
        let keys = key_fingerprints(&[
            ("TELEGRAM_BOT_API_SECRET", "new".into()),
            ("TELEGRAM_BOT_API_SECRETS_PREVIOUS", "old".into()),
            ("AI_PROXY_SECRET", "proxy-key".into()),
            ("DATABASE_URL", "pw".into()),
        ]);
        assert_eq!(
            keys["TELEGRAM_BOT_API_SECRET"],
            KeyFps {
                current: Some(fp("new")),
                accepted: vec![fp("new"), fp("old")]
            }
        );
        assert_eq!(keys["AI_PROXY_SECRET"].accepted, Vec::<String>::new());
        assert!(!keys.contains_key("DATABASE_URL"));
        let json = serde_json::to_string(&keys).unwrap_or_default();
        assert!(
            !json.contains("new\"") && !json.contains("proxy-key"),
            "{json}"
        );
    }

    #[test]
    fn a_rotation_in_progress_is_not_a_mismatch_but_a_desync_is() {
        // Both api instances accept the new and the old bot API secret; one already signs with
        // the new one: a rotation, fine.
        let a = inst(
            "api@a",
            &[
                ("TELEGRAM_BOT_API_SECRET", "new"),
                ("TELEGRAM_BOT_API_SECRETS_PREVIOUS", "old"),
            ],
        );
        let b = inst(
            "api@b",
            &[
                ("TELEGRAM_BOT_API_SECRET", "old"),
                ("TELEGRAM_BOT_API_SECRETS_PREVIOUS", "new"),
            ],
        );
        assert!(fingerprint_mismatches(&[a.clone(), b]).is_empty());
        // Workers sending different proxy keys (switching one by one) are fine too: the proxy
        // verifies, not they.
        let w1 = inst("worker@1", &[("AI_PROXY_SECRET", "k1")]);
        let w2 = inst("worker@2", &[("AI_PROXY_SECRET", "k2")]);
        assert!(fingerprint_mismatches(&[w1.clone(), w2]).is_empty());
        // …unless a role verifying that key (API_PROXY_SECRETS) does not accept it.
        let proxy = inst("serve@p", &[("API_PROXY_SECRETS", "k2")]);
        let m = fingerprint_mismatches(&[w1, proxy]);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, "AI_PROXY_SECRET");
        // An instance left on the old secret only rejects what the other signs with.
        let stale = inst("api@c", &[("TELEGRAM_BOT_API_SECRET", "old")]);
        let m = fingerprint_mismatches(&[a, stale]);
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].1.contains("api@a") && m[0].1.contains("api@c"),
            "{m:?}"
        );
        // The 2026-01-16 desync: worker and api with different bot tokens.
        let m = fingerprint_mismatches(&[
            inst("api@a", &[("TELEGRAM_BOT_TOKEN", "t1")]),
            inst("worker@a", &[("TELEGRAM_BOT_TOKEN", "t2")]),
        ]);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].0, "TELEGRAM_BOT_TOKEN");
    }
}

//! Job handlers and periodic jobs of billing (DESIGN.md §5), on the `billing` queue.

use jobs::Queue;
use jobs::scheduler::{Periodic, ScheduleError};
use jobs::worker::{JobError, Registry};

use crate::webhooks::{self, ProcessError, ProcessPayload};
use crate::{Billing, BillingError, ops, renewals};

pub const KIND_RENEWALS: &str = "billing.renewals";
pub const KIND_EXPIRY: &str = "billing.expiry";
pub const KIND_RECONCILE: &str = "billing.reconcile";
pub const KIND_WEBHOOK_ALERTS: &str = "billing.webhook_alerts";
pub const KIND_DIGEST: &str = "billing.weekly_digest";
pub const KIND_DIGEST_HEALTH: &str = "billing.digest_health";

fn job_err(e: BillingError) -> JobError {
    match &e {
        BillingError::Provider(p) if !p.is_transient() => JobError::Permanent(e.to_string()),
        _ => JobError::Retryable(e.to_string()),
    }
}

/// Registers every billing handler on `r`.
pub fn register_jobs(r: &mut Registry, billing: Billing) {
    let b = billing.clone();
    r.register(webhooks::KIND_PROCESS, move |ctx| {
        let b = b.clone();
        async move {
            let p: ProcessPayload = ctx.payload()?;
            match webhooks::process(&b, p.event_id).await {
                Ok(_) => Ok(()),
                Err(ProcessError::Transient(m)) => Err(JobError::Retryable(m)),
                Err(ProcessError::Permanent(m)) => Err(JobError::Permanent(m)),
            }
        }
    });
    let b = billing.clone();
    r.register(KIND_RENEWALS, move |_ctx| {
        let b = b.clone();
        async move {
            let run = renewals::run_renewals(&b).await.map_err(job_err)?;
            tracing::info!(?run, "renewal sweep");
            Ok(())
        }
    });
    let b = billing.clone();
    r.register(KIND_EXPIRY, move |_ctx| {
        let b = b.clone();
        async move {
            let run = renewals::run_expiry(&b).await.map_err(job_err)?;
            tracing::info!(?run, "expiry sweep");
            Ok(())
        }
    });
    let b = billing.clone();
    r.register(KIND_RECONCILE, move |_ctx| {
        let b = b.clone();
        async move {
            let run = renewals::run_reconcile(&b).await.map_err(job_err)?;
            tracing::info!(?run, "payment reconciliation");
            Ok(())
        }
    });
    let b = billing.clone();
    r.register(KIND_WEBHOOK_ALERTS, move |_ctx| {
        let b = b.clone();
        async move {
            ops::failed_webhooks_alert(&b).await.map_err(job_err)?;
            Ok(())
        }
    });
    let b = billing.clone();
    r.register(KIND_DIGEST, move |_ctx| {
        let b = b.clone();
        async move {
            ops::weekly_digest(&b).await.map_err(job_err)?;
            Ok(())
        }
    });
    let b = billing;
    r.register(KIND_DIGEST_HEALTH, move |_ctx| {
        let b = b.clone();
        async move {
            ops::digest_health(&b).await.map_err(job_err)?;
            Ok(())
        }
    });
}

/// The periodic billing jobs (cron with seconds, UTC).
pub fn periodic() -> Result<Vec<Periodic>, ScheduleError> {
    Ok(vec![
        Periodic::new(
            "billing_renewals",
            "0 5 * * * *",
            KIND_RENEWALS,
            Queue::Billing,
        )?,
        Periodic::new(
            "billing_expiry",
            "0 10 * * * *",
            KIND_EXPIRY,
            Queue::Billing,
        )?,
        Periodic::new(
            "billing_reconcile",
            "0 20 * * * *",
            KIND_RECONCILE,
            Queue::Billing,
        )?,
        Periodic::new(
            "billing_webhook_alerts",
            "0 */15 * * * *",
            KIND_WEBHOOK_ALERTS,
            Queue::Billing,
        )?,
        // Monday 10:00 MSK = 07:00 UTC; health daily 12:00 MSK = 09:00 UTC.
        Periodic::new(
            "billing_weekly_digest",
            "0 0 7 * * Mon",
            KIND_DIGEST,
            Queue::Billing,
        )?,
        Periodic::new(
            "billing_digest_health",
            "0 0 9 * * *",
            KIND_DIGEST_HEALTH,
            Queue::Billing,
        )?,
    ])
}

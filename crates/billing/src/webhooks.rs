//! YooKassa notifications.
//!
//! Intake ([`intake`], called by the HTTP handler) answers fast: it checks the sender against
//! the allowlist (second layer), parses the body, and in one transaction records the event
//! under its unique key and enqueues [`KIND_PROCESS`]. A repeated delivery only counts — unless
//! the event had failed or been rejected, in which case it is processed again (B5).
//!
//! Processing ([`process`], a job) trusts nothing in the payload but the object id: it fetches
//! the payment (or refund) from the YooKassa API and acts only on that answer — status, amount,
//! currency, `metadata.payment_id` and the test flag (B0). No transaction is open during the
//! HTTP call. Unknown objects are recorded, not crashes (B6).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use jobs::{NewJob, Queue};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::entities::webhook_event;

use crate::apply::{self, Outcome};
use crate::repo::{self, exec};
use crate::yookassa::YooKassaError;
use crate::{Billing, BillingError, Kopecks, net};

/// Job kind: process one stored webhook event (`{event_id}`).
pub const KIND_PROCESS: &str = "billing.webhook";

/// Event states.
pub mod status {
    pub const RECEIVED: &str = "received";
    pub const PROCESSING: &str = "processing";
    pub const PROCESSED: &str = "processed";
    pub const FAILED: &str = "failed";
    /// Refused: sender not allowed, or the provider's object did not confirm the event.
    pub const REJECTED: &str = "rejected";
}

/// The payload of a [`KIND_PROCESS`] job.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct ProcessPayload {
    pub event_id: i64,
}

/// Why a delivery was refused at the door.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    #[error("sender {0} is not in the webhook allowlist")]
    Forbidden(IpAddr),
    #[error("the body is not a JSON object")]
    InvalidJson,
    #[error("missing required fields (event, object.id)")]
    InvalidPayload,
    #[error("YooKassa is not configured")]
    NotConfigured,
    #[error("storage: {0}")]
    Store(String),
}

impl IntakeError {
    pub fn code(&self) -> &'static str {
        match self {
            IntakeError::Forbidden(_) => "FORBIDDEN",
            IntakeError::InvalidJson => "INVALID_JSON",
            IntakeError::InvalidPayload => "INVALID_PAYLOAD",
            IntakeError::NotConfigured => "BILLING_NOT_CONFIGURED",
            IntakeError::Store(_) => "INTERNAL_ERROR",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            IntakeError::Forbidden(_) => 403,
            IntakeError::InvalidJson | IntakeError::InvalidPayload => 400,
            IntakeError::NotConfigured => 503,
            IntakeError::Store(_) => 500,
        }
    }
}

/// What intake did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A new event, queued for processing.
    Queued(i64),
    /// Seen before; counted (and re-queued when it had failed).
    Duplicate { event_id: i64, requeued: bool },
}

/// The card data kept in the stored copy of a payload: last4, brand and expiry (B4); first six
/// digits and issuer data are dropped.
pub fn sanitize(payload: &Value) -> Value {
    let mut v = payload.clone();
    if let Some(pm) = v
        .get_mut("object")
        .and_then(|o| o.get_mut("payment_method"))
        && let Some(obj) = pm.as_object_mut()
    {
        let card = obj.get("card").map(|c| {
            json!({
                "last4": c.get("last4"),
                "card_type": c.get("card_type"),
                "expiry_month": c.get("expiry_month"),
                "expiry_year": c.get("expiry_year"),
                "redacted": true,
            })
        });
        let kept = json!({
            "id": obj.get("id"),
            "type": obj.get("type"),
            "saved": obj.get("saved"),
            "card": card,
        });
        *pm = kept;
    }
    v
}

/// Accepts one delivery from `peer` with `X-Forwarded-For` values `forwarded_for`.
pub async fn intake(
    billing: &Billing,
    peer: IpAddr,
    forwarded_for: &[&str],
    body: &[u8],
    trace_id: &str,
) -> Result<Accepted, IntakeError> {
    let s = billing.settings();
    let client = net::client_ip(peer, forwarded_for, &s.trusted_proxies);
    let now = billing.now();
    let store_err = |e: store::StoreError| IntakeError::Store(e.to_string());
    if !s.webhook_allowlist.contains(client) {
        metrics::counter!("eatfit_webhook_events_total", "event_type" => "unknown", "result" => "blocked").increment(1);
        tracing::warn!(client_ip = %client, peer = %peer, "webhook from a sender outside the allowlist refused");
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        audit_rejected(
            billing,
            parsed.as_ref(),
            &client.to_string(),
            "ip_not_allowed",
            trace_id,
            now,
        )
        .await
        .map_err(store_err)?;
        return Err(IntakeError::Forbidden(client));
    }
    if !billing.is_configured() {
        return Err(IntakeError::NotConfigured);
    }
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let payload: Value = serde_json::from_slice(text).map_err(|_| IntakeError::InvalidJson)?;
    if !payload.is_object() {
        return Err(IntakeError::InvalidJson);
    }
    let event = payload
        .get("event")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty())
        .ok_or(IntakeError::InvalidPayload)?
        .chars()
        .take(100)
        .collect::<String>();
    let object = payload.get("object").filter(|o| o.is_object());
    let object_id = object
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .ok_or(IntakeError::InvalidPayload)?
        .chars()
        .take(64)
        .collect::<String>();
    let obj_status = object
        .and_then(|o| o.get("status"))
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let key = format!("{event}:{object_id}:{obj_status}");
    let db = billing.db();
    let txn = db.conn().begin().await.map_err(|e| store_err(e.into()))?;
    let inserted = txn
        .query_one_raw(repo::stmt(
            &txn,
            "INSERT INTO webhook_events (event_key, event_type, object_id, status, deliveries, \
             process_attempts, client_ip, raw_payload, trace_id, created_at, updated_at) \
             VALUES ($1, $2, $3, 'received', 1, 0, $4, $5, $6, $7, $7) \
             ON CONFLICT DO NOTHING RETURNING id",
            vec![
                key.clone().into(),
                event.clone().into(),
                object_id.into(),
                client.to_string().into(),
                sanitize(&payload).into(),
                trace_id.to_string().into(),
                now.into(),
            ],
        ))
        .await
        .map_err(|e| store_err(e.into()))?;
    let outcome = match inserted {
        Some(row) => {
            let id: i64 = row.try_get("", "id").map_err(|e| store_err(e.into()))?;
            enqueue(&txn, id, trace_id, now).await.map_err(store_err)?;
            Accepted::Queued(id)
        }
        None => {
            let ev = webhook_event::Entity::find()
                .filter(webhook_event::Column::EventKey.eq(key.as_str()))
                .one(&txn)
                .await
                .map_err(|e| store_err(e.into()))?
                .ok_or_else(|| IntakeError::Store("event vanished".into()))?;
            exec(
                &txn,
                "UPDATE webhook_events SET deliveries = deliveries + 1, updated_at = $1 WHERE id = $2",
                vec![now.into(), ev.id.into()],
            )
            .await
            .map_err(store_err)?;
            let retry = ev.status == status::FAILED || ev.status == status::REJECTED;
            let requeued = if retry {
                enqueue(&txn, ev.id, trace_id, now)
                    .await
                    .map_err(store_err)?
            } else {
                false
            };
            Accepted::Duplicate {
                event_id: ev.id,
                requeued,
            }
        }
    };
    txn.commit().await.map_err(|e| store_err(e.into()))?;
    let result = match outcome {
        Accepted::Queued(_) => "queued",
        Accepted::Duplicate { .. } => "duplicate",
    };
    metrics::counter!("eatfit_webhook_events_total", "event_type" => event.clone(), "result" => result).increment(1);
    tracing::info!(event = %event, key = %key, result, client_ip = %client, "YooKassa notification accepted");
    Ok(outcome)
}

async fn enqueue<C: sea_orm::ConnectionTrait>(
    conn: &C,
    event_id: i64,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, store::StoreError> {
    Ok(jobs::enqueue(
        conn,
        NewJob::new(
            KIND_PROCESS,
            Queue::Billing,
            json!({ "event_id": event_id }),
        )
        .max_attempts(8)
        .unique_key(format!("billing.webhook:{event_id}"))
        .trace_id(trace_id),
        now,
    )
    .await?
    .is_some())
}

/// An audit row for a delivery refused at the door (its key never blocks a genuine event).
async fn audit_rejected(
    billing: &Billing,
    payload: Option<&Value>,
    client_ip: &str,
    verdict: &str,
    trace_id: &str,
    now: DateTime<Utc>,
) -> Result<(), store::StoreError> {
    let event = payload
        .and_then(|p| p.get("event"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .chars()
        .take(100)
        .collect::<String>();
    let object_id = payload
        .and_then(|p| p.get("object"))
        .and_then(|o| o.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .chars()
        .take(64)
        .collect::<String>();
    exec(
        billing.db().conn(),
        "INSERT INTO webhook_events (event_key, event_type, object_id, status, verdict, deliveries, \
         process_attempts, client_ip, raw_payload, trace_id, created_at, updated_at, processed_at) \
         VALUES ($1, $2, $3, 'rejected', $4, 1, 0, $5, $6, $7, $8, $8, $8)",
        vec![
            format!("rejected:{}", uuid::Uuid::new_v4()).into(),
            event.into(),
            object_id.into(),
            verdict.to_string().into(),
            client_ip.to_string().into(),
            payload.map(sanitize).into(),
            trace_id.to_string().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Why processing did not finish (the job retries transient ones).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("transient: {0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

impl From<BillingError> for ProcessError {
    fn from(e: BillingError) -> Self {
        match &e {
            BillingError::Provider(p) if p.is_transient() => ProcessError::Transient(e.to_string()),
            BillingError::Store(_) => ProcessError::Transient(e.to_string()),
            _ => ProcessError::Permanent(e.to_string()),
        }
    }
}

impl From<store::StoreError> for ProcessError {
    fn from(e: store::StoreError) -> Self {
        ProcessError::Transient(e.to_string())
    }
}

/// Processes stored event `event_id`; returns the verdict recorded on it.
pub async fn process(billing: &Billing, event_id: i64) -> Result<String, ProcessError> {
    let db = billing.db();
    let now = billing.now();
    let Some(ev) = webhook_event::Entity::find_by_id(event_id)
        .one(db.conn())
        .await
        .map_err(|e| ProcessError::Transient(e.to_string()))?
    else {
        return Err(ProcessError::Permanent(format!(
            "no webhook event {event_id}"
        )));
    };
    if ev.status == status::PROCESSED {
        return Ok(ev.verdict.unwrap_or_default());
    }
    exec(
        db.conn(),
        "UPDATE webhook_events SET status = 'processing', process_attempts = process_attempts + 1, \
         updated_at = $1 WHERE id = $2",
        vec![now.into(), event_id.into()],
    )
    .await?;
    let result = if ev.event_type.starts_with("refund.") {
        process_refund(billing, &ev.object_id).await
    } else {
        process_payment(billing, &ev.event_type, &ev.object_id).await
    };
    let (st, verdict, err) = match &result {
        Ok((rejected, v)) => (
            if *rejected {
                status::REJECTED
            } else {
                status::PROCESSED
            },
            Some(v.clone()),
            None,
        ),
        Err(e) => (status::FAILED, None, Some(e.to_string())),
    };
    exec(
        db.conn(),
        "UPDATE webhook_events SET status = $1, verdict = COALESCE($2, verdict), error_message = $3, \
         processed_at = $4, updated_at = $4 WHERE id = $5",
        vec![
            st.into(),
            verdict.clone().into(),
            err.map(|e| e.chars().take(500).collect::<String>()).into(),
            billing.now().into(),
            event_id.into(),
        ],
    )
    .await?;
    metrics::counter!("eatfit_webhook_events_total", "event_type" => ev.event_type.clone(), "result" => if st == status::FAILED { "failed" } else { "processed" }).increment(1);
    match result {
        Ok((rejected, v)) => {
            if rejected {
                tracing::warn!(event_id, event = %ev.event_type, object_id = %ev.object_id, verdict = %v, "webhook not confirmed by the YooKassa API; nothing changed");
            } else {
                tracing::info!(event_id, event = %ev.event_type, object_id = %ev.object_id, verdict = %v, "webhook processed");
            }
            Ok(v)
        }
        Err(e) => Err(e),
    }
}

/// Returns (rejected?, verdict).
async fn process_payment(
    billing: &Billing,
    event: &str,
    provider_id: &str,
) -> Result<(bool, String), ProcessError> {
    let client = billing.client().map_err(ProcessError::from)?;
    let pp = match client.get_payment(provider_id).await {
        Ok(pp) => pp,
        Err(YooKassaError::NotFound) => return Ok((true, "unknown_to_provider".into())),
        Err(e) => return Err(BillingError::from(e).into()),
    };
    let db = billing.db();
    let local = match repo::payment_by_provider_id(db.conn(), &pp.id).await? {
        Some(p) => Some(p),
        None => match pp.local_payment_id() {
            Some(id) => repo::payment(db.conn(), id).await?,
            None => None,
        },
    };
    let Some(local) = local else {
        return Ok((true, "unknown_payment".into()));
    };
    let outcome = apply::apply(billing, &local, &pp).await?;
    let claimed = event.strip_prefix("payment.").unwrap_or(event);
    let rejected = match outcome {
        Outcome::Mismatch(_) => true,
        // The event claims a state the API does not confirm (a forged "succeeded").
        Outcome::NoChange => claimed != pp.status && claimed == "succeeded",
        _ => false,
    };
    let verdict = if rejected && matches!(outcome, Outcome::NoChange) {
        format!("provider_says_{}", pp.status)
    } else {
        outcome.as_str().to_string()
    };
    Ok((rejected, verdict))
}

async fn process_refund(
    billing: &Billing,
    refund_id: &str,
) -> Result<(bool, String), ProcessError> {
    let client = billing.client().map_err(ProcessError::from)?;
    let r = match client.get_refund(refund_id).await {
        Ok(r) => r,
        Err(YooKassaError::NotFound) => return Ok((true, "unknown_to_provider".into())),
        Err(e) => return Err(BillingError::from(e).into()),
    };
    let db = billing.db();
    let now = billing.now();
    let local = repo::payment_by_provider_id(db.conn(), &r.payment_id).await?;
    let txn = db
        .conn()
        .begin()
        .await
        .map_err(|e| ProcessError::Transient(e.to_string()))?;
    exec(
        &txn,
        "INSERT INTO refunds (provider_refund_id, payment_id, provider_payment_id, amount_kopecks, \
         currency, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (provider_refund_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
        vec![
            r.id.clone().into(),
            local.as_ref().map(|p| p.id.clone()).into(),
            r.payment_id.clone().into(),
            r.amount.0.into(),
            r.currency.clone().into(),
            r.status.clone().into(),
            now.into(),
        ],
    )
    .await?;
    let verdict = match &local {
        None => "refund_for_unknown_payment".to_string(),
        Some(p) if r.status == "succeeded" && r.amount >= Kopecks(p.amount_kopecks) => {
            exec(
                &txn,
                "UPDATE payments SET status = 'refunded', updated_at = $1 WHERE id = $2 AND status = 'succeeded'",
                vec![now.into(), p.id.clone().into()],
            )
            .await?;
            "refunded".to_string()
        }
        Some(_) if r.status == "succeeded" => "partially_refunded".to_string(),
        Some(_) => format!("refund_{}", r.status),
    };
    txn.commit()
        .await
        .map_err(|e| ProcessError::Transient(e.to_string()))?;
    Ok((false, verdict))
}

/// Failed events (for `eatfit admin billing webhooks --failed`), newest first.
pub async fn failed(
    billing: &Billing,
    limit: u64,
) -> Result<Vec<webhook_event::Model>, BillingError> {
    Ok(webhook_event::Entity::find()
        .filter(webhook_event::Column::Status.eq(status::FAILED))
        .order_by_desc(webhook_event::Column::Id)
        .limit(limit)
        .all(billing.db().conn())
        .await?)
}

/// Every event, newest first (audit, tests).
pub async fn all(billing: &Billing, limit: u64) -> Result<Vec<webhook_event::Model>, BillingError> {
    Ok(webhook_event::Entity::find()
        .order_by_desc(webhook_event::Column::Id)
        .limit(limit)
        .all(billing.db().conn())
        .await?)
}

/// Queues event `id` for processing again (`eatfit admin billing webhooks replay <id>`).
pub async fn replay(billing: &Billing, id: i64) -> Result<bool, BillingError> {
    let db = billing.db();
    let now = billing.now();
    if webhook_event::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .is_none()
    {
        return Ok(false);
    }
    let txn = db.conn().begin().await?;
    exec(
        &txn,
        "UPDATE webhook_events SET status = 'received', updated_at = $1 WHERE id = $2",
        vec![now.into(), id.into()],
    )
    .await?;
    enqueue(&txn, id, "replay", now).await?;
    txn.commit().await?;
    Ok(true)
}

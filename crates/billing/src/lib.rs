//! Billing for EatFit24 (reference/billing.md, DESIGN.md §7): plans, the effective plan,
//! YooKassa payments with a purpose, a price/duration snapshot and a deterministic idempotency
//! key written before the call; webhooks accepted fast, persisted and processed as jobs that
//! re-fetch the object from the API and act only on its answer; renewals with a dunning
//! schedule; expiry; reconciliation of stale payments (never a blind cancel); notifications
//! through the outbox; operator commands. No HTTP types here: the `api` crate maps
//! [`BillingError`] to responses.

#![forbid(unsafe_code)]

pub mod admin;
mod apply;
pub mod dates;
pub mod jobs;
pub mod net;
pub mod ops;
pub mod payments;
pub mod plans;
pub mod renewals;
mod repo;
pub mod texts;
pub mod types;
pub mod webhooks;
pub mod yookassa;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::clock::SharedClock;
use store::{Db, StoreError};

pub use domain::money::Kopecks;
pub use net::NetList;
pub use types::{PaymentPurpose, PaymentStatus, PlanCode};
pub use yookassa::{ReceiptSettings, YooKassa, YooKassaConfig, YooKassaError};

/// Billing settings derived from the configuration.
#[derive(Debug, Clone)]
pub struct BillingSettings {
    /// `BILLING_RECURRING_ENABLED`: save cards, auto-renew, renewal job. Off = one-time only.
    pub recurring_enabled: bool,
    /// `YOOKASSA_MODE=prod` (a live shop: YooKassa answers `test: false`).
    pub prod_mode: bool,
    /// Where YooKassa sends the user after paying (`YOOKASSA_RETURN_URL`).
    pub return_url: String,
    /// Hosts (and their subdomains) a client-supplied `return_url` may point to.
    pub allowed_return_domains: Vec<String>,
    /// Webhook senders (`YOOKASSA_WEBHOOK_ALLOWED_CIDRS`, default YooKassa's ranges).
    pub webhook_allowlist: NetList,
    /// Proxies whose `X-Forwarded-For` is believed (`TRUSTED_PROXIES`).
    pub trusted_proxies: NetList,
    /// 54-FZ receipts, when configured.
    pub receipts: Option<ReceiptSettings>,
    /// Telegram ids of the admins (alerts, cards, the live test).
    pub admins: Vec<i64>,
}

impl Default for BillingSettings {
    fn default() -> Self {
        Self {
            recurring_enabled: false,
            prod_mode: false,
            return_url: "http://localhost:8000/app/".into(),
            allowed_return_domains: vec!["eatfit24.ru".into(), "localhost".into()],
            webhook_allowlist: NetList::yookassa(),
            trusted_proxies: NetList::default(),
            receipts: None,
            admins: Vec::new(),
        }
    }
}

struct Inner {
    db: Db,
    clock: SharedClock,
    client: Option<YooKassa>,
    settings: BillingSettings,
}

/// The billing service. Cheap to clone; the same value serves the API, the jobs and the CLI.
#[derive(Clone)]
pub struct Billing(Arc<Inner>);

impl std::fmt::Debug for Billing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Billing")
            .field("configured", &self.0.client.is_some())
            .field("settings", &self.0.settings)
            .finish()
    }
}

impl Billing {
    /// `client` is `None` when YooKassa is not configured (dev): reads work, payments answer
    /// [`BillingError::NotConfigured`].
    pub fn new(
        db: Db,
        clock: SharedClock,
        client: Option<YooKassa>,
        settings: BillingSettings,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            clock,
            client,
            settings,
        }))
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.0.clock.now()
    }

    pub fn settings(&self) -> &BillingSettings {
        &self.0.settings
    }

    pub fn is_configured(&self) -> bool {
        self.0.client.is_some()
    }

    pub(crate) fn client(&self) -> Result<&YooKassa, BillingError> {
        self.0.client.as_ref().ok_or(BillingError::NotConfigured)
    }
}

/// A caller of the billing service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub user_id: i64,
    pub telegram_id: i64,
    pub is_admin: bool,
}

/// Why a billing operation was refused. Each has a stable code, an HTTP status and ru/en text
/// ([`texts::error_message`]).
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("YooKassa is not configured")]
    NotConfigured,
    #[error("plan_code is missing")]
    MissingPlanCode,
    #[error("plan `{0}` cannot be bought")]
    InvalidPlan(String),
    #[error("the test plan does not exist or is inactive")]
    TestPlanNotFound,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("recurring billing is disabled")]
    RecurringDisabled,
    #[error("no subscription")]
    NoSubscription,
    #[error("auto-renew is not available on FREE")]
    NotAvailableForFree,
    #[error("a saved card is required")]
    PaymentMethodRequired,
    #[error("the idempotency key was used for another request")]
    IdempotencyKeyReused,
    #[error("too many payment attempts")]
    TooManyRequests { retry_after_secs: u32 },
    #[error("{0}")]
    Validation(String),
    #[error("user not found")]
    UnknownUser,
    #[error(transparent)]
    Provider(#[from] YooKassaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for BillingError {
    fn from(e: sea_orm::DbErr) -> Self {
        BillingError::Store(e.into())
    }
}

impl BillingError {
    /// The stable code of the error envelope.
    pub fn code(&self) -> &'static str {
        match self {
            BillingError::NotConfigured => "BILLING_NOT_CONFIGURED",
            BillingError::MissingPlanCode => "MISSING_PLAN_CODE",
            BillingError::InvalidPlan(_) => "INVALID_PLAN",
            BillingError::TestPlanNotFound => "TEST_PLAN_NOT_FOUND",
            BillingError::Forbidden(_) => "FORBIDDEN",
            BillingError::RecurringDisabled => "RECURRING_DISABLED",
            BillingError::NoSubscription => "NO_SUBSCRIPTION",
            BillingError::NotAvailableForFree => "NOT_AVAILABLE_FOR_FREE",
            BillingError::PaymentMethodRequired => "PAYMENT_METHOD_REQUIRED",
            BillingError::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            BillingError::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            BillingError::Validation(_) => "VALIDATION_ERROR",
            BillingError::UnknownUser => "NOT_FOUND",
            BillingError::Provider(e) => match e {
                YooKassaError::Forbidden(_) => "YOOKASSA_FORBIDDEN",
                YooKassaError::Unauthorized => "YOOKASSA_UNAUTHORIZED",
                YooKassaError::BadRequest(_) => "INVALID_PAYMENT_REQUEST",
                _ => "YOOKASSA_API_ERROR",
            },
            BillingError::Store(_) => "INTERNAL_ERROR",
        }
    }

    /// The HTTP status it is answered with.
    pub fn http_status(&self) -> u16 {
        match self {
            BillingError::NotConfigured => 503,
            BillingError::MissingPlanCode
            | BillingError::InvalidPlan(_)
            | BillingError::NotAvailableForFree
            | BillingError::PaymentMethodRequired
            | BillingError::Validation(_) => 400,
            BillingError::TestPlanNotFound
            | BillingError::NoSubscription
            | BillingError::UnknownUser => 404,
            BillingError::Forbidden(_) => 403,
            BillingError::RecurringDisabled | BillingError::IdempotencyKeyReused => 409,
            BillingError::TooManyRequests { .. } => 429,
            BillingError::Provider(e) => match e {
                YooKassaError::Forbidden(_) => 403,
                YooKassaError::Unauthorized => 500,
                YooKassaError::BadRequest(_) => 400,
                _ => 502,
            },
            BillingError::Store(_) => 500,
        }
    }
}

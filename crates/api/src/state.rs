//! Shared state of the HTTP layer, and readiness checks.

use std::sync::Arc;
use std::time::Duration;

use domain::clock::SharedClock;
use domain::ids::TelegramId;
use secrecy::SecretString;
use store::Db;

/// HTTP-facing settings, derived from the role's configuration by the binary.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub app_env: &'static str,
    pub version: &'static str,
    pub bot_token: Option<SecretString>,
    pub admins: Vec<TelegramId>,
    /// Accepted `X-Bot-Secret` values (current first, then rotation leftovers).
    pub bot_api_secrets: Vec<SecretString>,
    /// Dev-only debug identity headers.
    pub debug_identity: bool,
    /// How old a worker heartbeat may be before readiness fails.
    pub heartbeat_max_age: Duration,
    /// The bot's @username without the `@` (`TELEGRAM_BOT_USERNAME`), for invite links.
    pub bot_username: Option<String>,
}

impl ApiSettings {
    pub fn is_prod(&self) -> bool {
        self.app_env == "prod"
    }

    pub fn is_admin(&self, id: TelegramId) -> bool {
        self.admins.contains(&id)
    }
}

/// The state of one readiness check. Reasons are fixed words, never exception text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Ok,
    /// Not configured in dev: reported, not failing.
    NotConfigured,
    Failing(&'static str),
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Ok => "ok",
            CheckState::NotConfigured => "not_configured",
            CheckState::Failing(reason) => reason,
        }
    }
}

/// A dependency the service needs to be ready (the AI proxy, later YooKassa, …).
#[async_trait::async_trait]
pub trait ReadinessCheck: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;
    async fn check(&self) -> CheckState;
}

/// A check that always reports "not configured" for an integration left unset in dev.
#[derive(Debug, Clone, Copy)]
pub struct NotConfigured(pub &'static str);

#[async_trait::async_trait]
impl ReadinessCheck for NotConfigured {
    fn name(&self) -> &'static str {
        self.0
    }
    async fn check(&self) -> CheckState {
        CheckState::NotConfigured
    }
}

#[derive(Debug)]
pub struct Inner {
    pub db: Db,
    pub media: media::MediaStore,
    pub clock: SharedClock,
    pub settings: ApiSettings,
    pub checks: Vec<Arc<dyn ReadinessCheck>>,
    /// Whether a photo recognizer is configured (photo submissions answer `AI_NOT_CONFIGURED`
    /// otherwise; text logging works either way). Kept out of [`ApiSettings`] so existing
    /// struct literals of the settings keep compiling; set with [`AppState::with_ai_configured`].
    pub ai_configured: bool,
    /// The billing service (set with [`AppState::with_billing`]; `None` answers
    /// `BILLING_NOT_CONFIGURED`).
    pub billing: Option<billing::Billing>,
    /// Verified initData remembered for a few seconds (see [`crate::identity`]).
    pub identities: Arc<crate::identity::IdentityCache>,
}

/// Cheap-to-clone application state.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Inner>);

impl AppState {
    pub fn new(
        db: Db,
        media: media::MediaStore,
        clock: SharedClock,
        settings: ApiSettings,
        checks: Vec<Arc<dyn ReadinessCheck>>,
    ) -> Self {
        Self(Arc::new(Inner {
            db,
            media,
            clock,
            settings,
            checks,
            ai_configured: false,
            billing: None,
            identities: Arc::default(),
        }))
    }

    /// The same state with photo recognition marked as configured (or not). Call it right
    /// after [`AppState::new`], before the state is shared.
    #[must_use]
    pub fn with_ai_configured(self, configured: bool) -> Self {
        let inner = Arc::try_unwrap(self.0).unwrap_or_else(|shared| Inner {
            db: shared.db.clone(),
            media: shared.media.clone(),
            clock: shared.clock.clone(),
            settings: shared.settings.clone(),
            checks: shared.checks.clone(),
            ai_configured: shared.ai_configured,
            billing: shared.billing.clone(),
            identities: shared.identities.clone(),
        });
        Self(Arc::new(Inner {
            ai_configured: configured,
            ..inner
        }))
    }

    /// The same state with the billing service attached. Call it right after
    /// [`AppState::new`], before the state is shared.
    #[must_use]
    pub fn with_billing(self, billing: billing::Billing) -> Self {
        let inner = Arc::try_unwrap(self.0).unwrap_or_else(|shared| Inner {
            db: shared.db.clone(),
            media: shared.media.clone(),
            clock: shared.clock.clone(),
            settings: shared.settings.clone(),
            checks: shared.checks.clone(),
            ai_configured: shared.ai_configured,
            billing: shared.billing.clone(),
            identities: shared.identities.clone(),
        });
        Self(Arc::new(Inner {
            billing: Some(billing),
            ..inner
        }))
    }

    /// The billing service, when attached.
    pub fn billing(&self) -> Option<&billing::Billing> {
        self.0.billing.as_ref()
    }

    /// Whether photo recognition is configured.
    pub fn ai_configured(&self) -> bool {
        self.0.ai_configured
    }

    /// The injected clock.
    pub fn clock(&self) -> &SharedClock {
        &self.0.clock
    }

    pub fn db(&self) -> &Db {
        &self.0.db
    }

    pub fn media(&self) -> &media::MediaStore {
        &self.0.media
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.clock.now()
    }

    /// The identity cache of the read-only routes.
    pub fn identities(&self) -> &crate::identity::IdentityCache {
        &self.0.identities
    }

    pub fn settings(&self) -> &ApiSettings {
        &self.0.settings
    }
}

//! Who is calling: Mini App users by signed initData (`X-Telegram-Init-Data`), admins by the
//! same with a 30-minute window, the bot by `X-Bot-Secret`. initData is never logged, only its
//! length.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use domain::error::{ErrorCode, Locale};
use domain::ids::TelegramId;
use domain::init_data::{self, InitDataError, WebAppUser};
use secrecy::ExposeSecret;
use store::users::{self, Account};
use subtle::ConstantTimeEq;

use chrono::{DateTime, Duration, Utc};

use crate::error::ApiError;
use crate::identity::{Identity, InitDataKey};
use crate::state::AppState;

pub const INIT_DATA_HEADER: &str = "x-telegram-init-data";

/// An authenticated Mini App user (provisioned on first sight).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: Account,
    pub telegram_id: TelegramId,
    pub is_admin: bool,
    pub locale: Locale,
    /// True when this request created the account.
    pub created: bool,
}

impl CurrentUser {
    pub fn user_id(&self) -> domain::ids::UserId {
        self.account.user_id()
    }
}

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// Verifies raw initData with the configured bot token and window.
pub fn verify_init_data(
    state: &AppState,
    raw: &str,
    max_age_secs: i64,
) -> Result<WebAppUser, ApiError> {
    verify_init_data_full(state, raw, max_age_secs).map(|v| v.user)
}

/// [`verify_init_data`] with the signed auth date.
fn verify_init_data_full(
    state: &AppState,
    raw: &str,
    max_age_secs: i64,
) -> Result<init_data::VerifiedInitData, ApiError> {
    let Some(token) = state.settings().bot_token.as_ref() else {
        return Err(ApiError::with_message(
            ErrorCode::ServiceUnavailable,
            "Telegram bot token is not configured on this server",
        ));
    };
    match init_data::verify(raw, token.expose_secret(), state.now(), max_age_secs) {
        Ok(v) => Ok(v),
        Err(e) => {
            tracing::info!(reason = %e, init_data_len = raw.len(), "initData refused");
            Err(ApiError::unauthorized(match e {
                InitDataError::BadUser => "Invalid Telegram user data",
                _ => "Invalid Telegram initData signature",
            }))
        }
    }
}

/// The dev-only debug identity (`X-Debug-Mode: true`).
fn debug_identity(state: &AppState, parts: &Parts) -> Option<Result<WebAppUser, ApiError>> {
    let on = header(parts, "x-debug-mode").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !on {
        return None;
    }
    if !state.settings().debug_identity || state.settings().is_prod() {
        return Some(Err(ApiError::unauthorized("Debug mode is disabled")));
    }
    let id = match header(parts, "x-debug-user-id") {
        None => Ok(999_999_999),
        Some(v) => v.parse::<i64>().map_err(|_| ()),
    };
    let id = match id.ok().and_then(|i| TelegramId::new(i).ok()) {
        Some(id) => id,
        None => return Some(Err(ApiError::unauthorized("Invalid debug_user_id"))),
    };
    tracing::warn!(telegram_id = %id, "[SECURITY] debug identity used (dev only)");
    Some(Ok(WebAppUser {
        id,
        first_name: header(parts, "x-telegram-first-name")
            .unwrap_or("Debug")
            .to_string(),
        last_name: Some(
            header(parts, "x-telegram-last-name")
                .unwrap_or("User")
                .to_string(),
        ),
        username: Some(
            header(parts, "x-telegram-username")
                .unwrap_or("eatfit24_debug")
                .to_string(),
        ),
        language_code: Some(
            header(parts, "x-telegram-language-code")
                .unwrap_or("ru")
                .to_string(),
        ),
        is_premium: Some(false),
    }))
}

/// Authenticates a request: the debug identity in dev, else the initData header, else
/// `fallback` (the login endpoints also accept initData in the body).
pub async fn authenticate(
    state: &AppState,
    parts: &Parts,
    fallback: Option<&str>,
) -> Result<CurrentUser, ApiError> {
    authenticate_until(state, parts, fallback)
        .await
        .map(|(user, _)| user)
}

/// [`authenticate`], and until when the credentials stay valid (`None` for the debug identity).
async fn authenticate_until(
    state: &AppState,
    parts: &Parts,
    fallback: Option<&str>,
) -> Result<(CurrentUser, Option<DateTime<Utc>>), ApiError> {
    let (tg_user, expires) = match debug_identity(state, parts) {
        Some(r) => (r?, None),
        None => {
            let raw = header(parts, INIT_DATA_HEADER)
                .filter(|v| !v.is_empty())
                .or(fallback.map(str::trim).filter(|v| !v.is_empty()))
                .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
            let v = verify_init_data_full(state, raw, init_data::USER_MAX_AGE_SECS)?;
            let expires = v.auth_date + Duration::seconds(init_data::USER_MAX_AGE_SECS);
            (v.user, Some(expires))
        }
    };
    let provisioned = users::provision(state.db(), &tg_user, state.now()).await?;
    if provisioned.created {
        tracing::info!(
            user_id = provisioned.account.user.id,
            "new user provisioned"
        );
        metrics::counter!("eatfit_users_created_total").increment(1);
    }
    let locale = Locale::from_tag(Some(provisioned.account.telegram.language_code.as_str()));
    let user = CurrentUser {
        telegram_id: tg_user.id,
        is_admin: state.settings().is_admin(tg_user.id),
        locale,
        created: provisioned.created,
        account: provisioned.account,
    };
    Ok((user, expires))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(state, parts, None).await
    }
}

/// A Mini App caller of a read-only route (the diary): the same initData check as
/// [`CurrentUser`], with the account lookup remembered for a few seconds per exact initData
/// ([`crate::identity`]). Handlers that write, or show account fields, take [`CurrentUser`].
#[derive(Debug, Clone, Copy)]
pub struct Reader(pub Identity);

impl Reader {
    pub fn user_id(&self) -> domain::ids::UserId {
        self.0.user_id
    }
}

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let debug = header(parts, "x-debug-mode").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let key = header(parts, INIT_DATA_HEADER)
            .filter(|v| !v.is_empty() && !debug)
            .map(InitDataKey::of);
        let now = state.now();
        if let Some(key) = &key
            && let Some(identity) = state.identities().get(key, now)
        {
            metrics::counter!("eatfit_auth_identity_cache_total", "outcome" => "hit").increment(1);
            return Ok(Reader(identity));
        }
        let (user, expires) = authenticate_until(state, parts, None).await?;
        let identity = Identity {
            user_id: user.user_id(),
            telegram_id: user.telegram_id,
            locale: user.locale,
        };
        if let (Some(key), Some(expires)) = (key, expires) {
            metrics::counter!("eatfit_auth_identity_cache_total", "outcome" => "miss").increment(1);
            state.identities().put(key, identity, now, expires);
        }
        Ok(Reader(identity))
    }
}

/// A coach/operator: initData no older than 30 minutes and an id in `TELEGRAM_ADMINS`.
#[derive(Debug, Clone)]
pub struct AdminUser(pub TelegramId);

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(r) = debug_identity(state, parts) {
            let u = r?;
            return if state.settings().is_admin(u.id) {
                Ok(AdminUser(u.id))
            } else {
                Err(ApiError::new(ErrorCode::Forbidden))
            };
        }
        let raw = header(parts, INIT_DATA_HEADER)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))?;
        let user = verify_init_data(state, raw, init_data::ADMIN_MAX_AGE_SECS)?;
        if state.settings().is_admin(user.id) {
            Ok(AdminUser(user.id))
        } else {
            Err(ApiError::new(ErrorCode::Forbidden))
        }
    }
}

/// The bot, proven by `X-Bot-Secret` (constant-time compare against every accepted secret).
#[derive(Debug, Clone, Copy)]
pub struct BotCaller;

impl FromRequestParts<AppState> for BotCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let given = header(parts, "x-bot-secret").unwrap_or_default();
        let accepted = &state.settings().bot_api_secrets;
        if accepted.is_empty() {
            return Err(ApiError::with_message(
                ErrorCode::Forbidden,
                "Bot API secret is not configured on this server",
            ));
        }
        // Check every candidate so timing does not reveal which one matched.
        let mut ok = false;
        for s in accepted {
            ok |= bool::from(s.expose_secret().as_bytes().ct_eq(given.as_bytes()));
        }
        if ok {
            Ok(BotCaller)
        } else {
            Err(ApiError::new(ErrorCode::Forbidden))
        }
    }
}

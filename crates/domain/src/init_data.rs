//! Telegram Mini App `initData` verification (Telegram's spec; reference/backend-core.md §3.1).
//!
//! `secret = HMAC_SHA256(key = "WebAppData", msg = bot_token)`, then
//! `hash = hex(HMAC_SHA256(key = secret, msg = data_check_string))` where the check string is
//! every `key=value` pair except `hash`, sorted by key and joined by `\n`. Duplicate keys are
//! refused (a signed string never has them; a forged one might hide a second `user`).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::ids::TelegramId;

type HmacSha256 = Hmac<Sha256>;

/// The longest initData string we read at all.
pub const MAX_INIT_DATA_LEN: usize = 10_000;
/// How long a normal Mini App session's initData stays valid.
pub const USER_MAX_AGE_SECS: i64 = 86_400;
/// How long initData stays valid for admin (coach-panel) actions.
pub const ADMIN_MAX_AGE_SECS: i64 = 1_800;
/// Tolerated clock skew for an `auth_date` in the future.
pub const FUTURE_SKEW_SECS: i64 = 60;

/// Why initData was refused. The variants are for logs and tests; clients see one 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("initData is empty")]
    Empty,
    #[error("initData is longer than {MAX_INIT_DATA_LEN} characters")]
    TooLong,
    #[error("bot token is not configured")]
    NoBotToken,
    #[error("initData repeats the key `{0}`")]
    DuplicateKey(String),
    #[error("initData has no hash")]
    MissingHash,
    #[error("initData has no valid auth_date")]
    BadAuthDate,
    #[error("initData is expired")]
    Expired,
    #[error("initData auth_date is in the future")]
    FromTheFuture,
    #[error("initData signature does not match")]
    BadSignature,
    #[error("initData has no valid user")]
    BadUser,
}

/// The Telegram user as the Mini App reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebAppUser {
    pub id: TelegramId,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
    #[serde(default)]
    pub is_premium: Option<bool>,
}

/// initData whose signature and age were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedInitData {
    pub user: WebAppUser,
    pub auth_date: DateTime<Utc>,
    pub start_param: Option<String>,
}

/// Verifies `raw` against `bot_token` at time `now`, refusing anything older than `max_age_secs`.
pub fn verify(
    raw: &str,
    bot_token: &str,
    now: DateTime<Utc>,
    max_age_secs: i64,
) -> Result<VerifiedInitData, InitDataError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(InitDataError::Empty);
    }
    if raw.chars().count() > MAX_INIT_DATA_LEN {
        return Err(InitDataError::TooLong);
    }
    if bot_token.is_empty() {
        return Err(InitDataError::NoBotToken);
    }

    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        if pairs.iter().any(|(seen, _)| *seen == k) {
            return Err(InitDataError::DuplicateKey(k.into_owned()));
        }
        pairs.push((k.into_owned(), v.into_owned()));
    }

    let hash_pos = pairs
        .iter()
        .position(|(k, _)| k == "hash")
        .ok_or(InitDataError::MissingHash)?;
    let (_, received_hash) = pairs.remove(hash_pos);

    let auth_date_secs: i64 = pairs
        .iter()
        .find(|(k, _)| k == "auth_date")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or(InitDataError::BadAuthDate)?;
    let auth_date =
        DateTime::<Utc>::from_timestamp(auth_date_secs, 0).ok_or(InitDataError::BadAuthDate)?;
    let now_secs = now.timestamp();
    if max_age_secs > 0 {
        if auth_date_secs > now_secs + FUTURE_SKEW_SECS {
            return Err(InitDataError::FromTheFuture);
        }
        if now_secs - auth_date_secs > max_age_secs {
            return Err(InitDataError::Expired);
        }
    }

    let expected = signature_hex(&pairs, bot_token);
    if !bool::from(expected.as_bytes().ct_eq(received_hash.as_bytes())) {
        return Err(InitDataError::BadSignature);
    }

    let user_json = pairs
        .iter()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.as_str())
        .ok_or(InitDataError::BadUser)?;
    let user: WebAppUser = serde_json::from_str(user_json).map_err(|_| InitDataError::BadUser)?;
    let start_param = pairs
        .iter()
        .find(|(k, _)| k == "start_param")
        .map(|(_, v)| v.clone());

    Ok(VerifiedInitData {
        user,
        auth_date,
        start_param,
    })
}

/// The hex signature Telegram computes over `pairs` (which must not contain `hash`).
pub fn signature_hex(pairs: &[(String, String)], bot_token: &str) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let check_string = sorted
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n");

    let secret = hmac_sha256(b"WebAppData", bot_token.as_bytes());
    hex::encode(hmac_sha256(&secret, check_string.as_bytes()))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for HMAC.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return Vec::new(),
    };
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Builds a correctly signed initData query string, as Telegram would. Used by tests, the
/// browser-test fixture and the `eatfit admin` helpers; never by request handling.
pub fn sign(pairs: &[(&str, &str)], bot_token: &str) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    let hash = signature_hex(&owned, bot_token);
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.append_pair("hash", &hash);
    ser.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const TOKEN: &str = "123456:TEST-bot-token-for-unit-tests";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn signed(auth_date: i64) -> String {
        let ad = auth_date.to_string();
        sign(
            &[
                ("query_id", "AAF"),
                (
                    "user",
                    r#"{"id":42,"first_name":"Анна","username":"anna","language_code":"ru"}"#,
                ),
                ("auth_date", &ad),
            ],
            TOKEN,
        )
    }

    #[test]
    fn a_signed_string_verifies_and_yields_the_user() {
        let raw = signed(now().timestamp() - 10);
        let v = verify(&raw, TOKEN, now(), USER_MAX_AGE_SECS).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.user.id.get(), 42);
        assert_eq!(v.user.first_name, "Анна");
        assert_eq!(v.user.username.as_deref(), Some("anna"));
    }

    #[test]
    fn known_vector_matches_independent_computation() {
        // Computed independently with Python's hmac module:
        // secret = hmac.new(b"WebAppData", b"123:abc", sha256).digest()
        // hmac.new(secret, b"auth_date=1\nuser={\"id\":1}", sha256).hexdigest()
        let pairs = vec![
            ("auth_date".to_string(), "1".to_string()),
            ("user".to_string(), r#"{"id":1}"#.to_string()),
        ];
        let got = signature_hex(&pairs, "123:abc");
        assert_eq!(
            got,
            "37c9002db684a09cbbbb327b5661b6e677f668dafd4af00871a4ad39971aa0ba"
        );
        // order of pairs does not matter
        let reversed: Vec<_> = pairs.iter().rev().cloned().collect();
        assert_eq!(got, signature_hex(&reversed, "123:abc"));
    }

    #[test]
    fn tampering_breaks_the_signature() {
        let raw = signed(now().timestamp()).replace("anna", "mallory");
        assert_eq!(
            verify(&raw, TOKEN, now(), USER_MAX_AGE_SECS),
            Err(InitDataError::BadSignature)
        );
    }

    #[test]
    fn another_bot_token_is_refused() {
        let raw = signed(now().timestamp());
        assert_eq!(
            verify(&raw, "999:other", now(), USER_MAX_AGE_SECS),
            Err(InitDataError::BadSignature)
        );
    }

    #[test]
    fn expired_and_future_dates_are_refused() {
        let old = signed(now().timestamp() - USER_MAX_AGE_SECS - 1);
        assert_eq!(
            verify(&old, TOKEN, now(), USER_MAX_AGE_SECS),
            Err(InitDataError::Expired)
        );
        let future = signed(now().timestamp() + 61);
        assert_eq!(
            verify(&future, TOKEN, now(), USER_MAX_AGE_SECS),
            Err(InitDataError::FromTheFuture)
        );
        let slight_skew = signed(now().timestamp() + 30);
        assert!(verify(&slight_skew, TOKEN, now(), USER_MAX_AGE_SECS).is_ok());
        let admin_old = signed(now().timestamp() - ADMIN_MAX_AGE_SECS - 1);
        assert_eq!(
            verify(&admin_old, TOKEN, now(), ADMIN_MAX_AGE_SECS),
            Err(InitDataError::Expired)
        );
    }

    #[test]
    fn duplicate_keys_are_refused_even_if_signed() {
        let raw = format!("{}&user=%7B%22id%22%3A1%7D", signed(now().timestamp()));
        assert_eq!(
            verify(&raw, TOKEN, now(), USER_MAX_AGE_SECS),
            Err(InitDataError::DuplicateKey("user".into()))
        );
    }

    #[test]
    fn missing_pieces_are_refused() {
        assert_eq!(verify("  ", TOKEN, now(), 1), Err(InitDataError::Empty));
        assert_eq!(
            verify("a=b", TOKEN, now(), 1),
            Err(InitDataError::MissingHash)
        );
        assert_eq!(
            verify("a=b&hash=00", TOKEN, now(), 1),
            Err(InitDataError::BadAuthDate)
        );
        let long = "a".repeat(MAX_INIT_DATA_LEN + 1);
        assert_eq!(verify(&long, TOKEN, now(), 1), Err(InitDataError::TooLong));
        assert_eq!(verify("a=b", "", now(), 1), Err(InitDataError::NoBotToken));
        let no_user = sign(&[("auth_date", &now().timestamp().to_string())], TOKEN);
        assert_eq!(
            verify(&no_user, TOKEN, now(), USER_MAX_AGE_SECS),
            Err(InitDataError::BadUser)
        );
    }
}

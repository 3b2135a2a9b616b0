//! Identifier newtypes. A `UserId` is our row id; a `TelegramId` is Telegram's user id. Mixing
//! them up was easy in the original (both were plain ints); here the compiler refuses.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Primary key of a user row.
    UserId
);
id_type!(
    /// Primary key of a job row.
    JobId
);

/// A Telegram user id: always positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct TelegramId(i64);

/// Why a value is not a Telegram id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelegramIdError {
    #[error("telegram id must be a positive integer")]
    NotPositive,
    #[error("telegram id is not an integer")]
    NotAnInteger,
}

impl TelegramId {
    /// Parses a Telegram id; zero and negatives are refused.
    pub fn new(value: i64) -> Result<Self, TelegramIdError> {
        if value > 0 {
            Ok(Self(value))
        } else {
            Err(TelegramIdError::NotPositive)
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for TelegramId {
    type Error = TelegramIdError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<TelegramId> for i64 {
    fn from(value: TelegramId) -> Self {
        value.0
    }
}

impl FromStr for TelegramId {
    type Err = TelegramIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let v: i64 = s
            .trim()
            .parse()
            .map_err(|_| TelegramIdError::NotAnInteger)?;
        Self::new(v)
    }
}

impl fmt::Display for TelegramId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn telegram_id_rejects_zero_negative_and_garbage() {
        assert_eq!(TelegramId::new(0), Err(TelegramIdError::NotPositive));
        assert_eq!(TelegramId::new(-5), Err(TelegramIdError::NotPositive));
        assert_eq!(
            "abc".parse::<TelegramId>(),
            Err(TelegramIdError::NotAnInteger)
        );
        assert_eq!(" 42 ".parse::<TelegramId>().map(TelegramId::get), Ok(42));
    }

    #[test]
    fn telegram_id_serde_refuses_non_positive() {
        assert!(serde_json::from_str::<TelegramId>("0").is_err());
        let id: TelegramId = serde_json::from_str("7").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_string(&id).unwrap_or_default(), "7");
    }
}

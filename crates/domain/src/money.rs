//! Money as an integer number of kopecks. Never `f64`: amounts are parsed from and formatted
//! to YooKassa's decimal strings (`"299.00"`) digit by digit.

use std::fmt;

/// An amount in kopecks (1 ₽ = 100 kopecks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Kopecks(pub i64);

/// Why a decimal amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount `{0}`: expected digits with at most two decimals")]
pub struct AmountError(pub String);

impl Kopecks {
    pub const ZERO: Kopecks = Kopecks(0);

    /// Whole roubles.
    pub const fn rub(r: i64) -> Self {
        Kopecks(r * 100)
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// Whole roubles, rounded down (for "299 ₽" in messages).
    pub const fn whole_rub(self) -> i64 {
        self.0.div_euclid(100)
    }

    /// Parses `"299"`, `"299.0"`, `"299.00"` (YooKassa's `amount.value`). Negative amounts,
    /// more than two decimals, exponents and anything not a plain decimal are refused.
    pub fn parse_decimal(s: &str) -> Result<Self, AmountError> {
        let err = || AmountError(s.to_string());
        let t = s.trim();
        let (int, frac) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || (t.contains('.') && frac.is_empty())
        {
            return Err(err());
        }
        let whole: i64 = int.parse().map_err(|_| err())?;
        let mut cents: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| err())?
        };
        if frac.len() == 1 {
            cents *= 10;
        }
        whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(cents))
            .map(Kopecks)
            .ok_or_else(err)
    }

    /// `"299.00"`.
    pub fn to_decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Kopecks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_without_floats() {
        for (s, k) in [
            ("299.00", 29_900),
            ("299", 29_900),
            ("2990.5", 299_050),
            ("1.00", 100),
            ("0.01", 1),
            ("0", 0),
        ] {
            assert_eq!(Kopecks::parse_decimal(s), Ok(Kopecks(k)), "{s}");
        }
        assert_eq!(Kopecks(29_900).to_decimal(), "299.00");
        assert_eq!(Kopecks(299_050).to_decimal(), "2990.50");
        assert_eq!(Kopecks(1).to_decimal(), "0.01");
        assert_eq!(Kopecks(-150).to_decimal(), "-1.50");
    }

    #[test]
    fn odd_amounts_are_refused() {
        for s in [
            "",
            "-1.00",
            "1.000",
            "1e3",
            "1.",
            ".5",
            "abc",
            "1,00",
            "NaN",
            "99999999999999999999",
        ] {
            assert!(Kopecks::parse_decimal(s).is_err(), "{s}");
        }
    }
}

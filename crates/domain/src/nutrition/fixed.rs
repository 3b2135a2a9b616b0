//! Exact rounding helpers behind the fixed-point units and Python-compatible `round`.
//!
//! Everything here works on the exact binary value of an `f64` (sign, 53-bit mantissa, binary
//! exponent) with integer arithmetic, so no intermediate product is ever rounded twice.

use std::fmt;

/// Largest magnitude (in hundredths) a unit may hold: 10^15 − 1 (9 999 999 999 999.99).
/// Below it the `f64` spacing is under 0.002, so every value converts to the nearest `f64`
/// and back to the same hundredths.
pub(crate) const MAX_CENTI: u64 = 999_999_999_999_999;

/// Rounds the exact value of `|x| × scale` to an integer, ties to even.
///
/// Returns the sign of `x` and the rounded magnitude, or `None` if `x` is not finite or the
/// result does not fit in a `u128`.
pub(crate) fn round_scaled_half_even(x: f64, scale: u64) -> Option<(bool, u128)> {
    if !x.is_finite() {
        return None;
    }
    let negative = x.is_sign_negative();
    if x == 0.0 {
        return Some((negative, 0));
    }
    let bits = x.to_bits();
    let exp_bits = i32::try_from((bits >> 52) & 0x7ff).ok()?;
    let fraction = bits & ((1_u64 << 52) - 1);
    // |x| = mantissa × 2^exponent, exactly.
    let (mantissa, exponent) = if exp_bits == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1_u64 << 52), exp_bits - 1075)
    };
    // < 2^53 × 2^64 = 2^117: no overflow.
    let n = u128::from(mantissa) * u128::from(scale);
    if exponent >= 0 {
        let shift = exponent.unsigned_abs();
        if n.leading_zeros() <= shift {
            return None;
        }
        return Some((negative, n << shift));
    }
    let shift = exponent.unsigned_abs();
    if shift >= 128 {
        // n < 2^117, so n / 2^shift < 2^-11: below one half, rounds to zero.
        return Some((negative, 0));
    }
    let quotient = n >> shift;
    let remainder = n & ((1_u128 << shift) - 1);
    let half = 1_u128 << (shift - 1);
    let rounded = if remainder > half || (remainder == half && quotient & 1 == 1) {
        quotient + 1
    } else {
        quotient
    };
    Some((negative, rounded))
}

/// `numerator / denominator` rounded to the nearest integer, ties to even.
///
/// A zero denominator yields 0 (callers use it for "no goal" percentages).
pub(crate) fn div_round_half_even(numerator: u128, denominator: u128) -> u128 {
    if denominator == 0 {
        return 0;
    }
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    // Compare 2·remainder with the denominator without overflowing.
    let twice = remainder.saturating_mul(2);
    if twice > denominator || (twice == denominator && quotient & 1 == 1) {
        quotient + 1
    } else {
        quotient
    }
}

/// Clamps a `u128` into `0..=MAX_CENTI`.
pub(crate) fn clamp_centi(value: u128) -> u64 {
    u64::try_from(value).map_or(MAX_CENTI, |v| v.min(MAX_CENTI))
}

/// Converts hundredths to the nearest `f64` (exact division of two exact integers).
#[allow(clippy::cast_precision_loss)] // value < 2^53, exactly representable.
pub(crate) fn centi_to_f64(centi: u64) -> f64 {
    centi.min(MAX_CENTI) as f64 / 100.0
}

/// Python 3's `round(x, ndigits)` for floats.
///
/// `CPython` rounds the **exact binary value** of `x` to `ndigits` decimals, ties to even, and
/// returns the `f64` nearest to that decimal. So `round(2.675, 2) == 2.67` (2.675 is stored as
/// 2.67499999…), `round(0.125, 2) == 0.12` (an exact tie, to even) and `round(0.375, 2) == 0.38`.
/// Non-finite values are returned unchanged; signs (including −0.0) are preserved.
#[must_use]
pub fn py_round(x: f64, ndigits: u32) -> f64 {
    if !x.is_finite() || x == 0.0 || x.fract() == 0.0 {
        return x;
    }
    if ndigits <= 15 {
        let scale = 10_u64.pow(ndigits);
        if let Some((negative, q)) = round_scaled_half_even(x, scale)
            && q < (1_u128 << 53)
        {
            // Both operands are exact in f64, so the division is correctly rounded: the nearest
            // double to q / 10^ndigits, which is what CPython returns.
            #[allow(clippy::cast_precision_loss)]
            let magnitude = q as f64 / scale as f64;
            return if negative { -magnitude } else { magnitude };
        }
    }
    // Outside the exact-integer range: Rust's fixed-precision formatting is also exact with
    // ties to even, and parsing is correctly rounded.
    format!("{:.*}", ndigits as usize, x).parse().unwrap_or(x)
}

/// Why a decimal value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CentiError {
    /// NaN, infinity or not a number at all.
    NotANumber,
    /// Below zero.
    Negative,
    /// More than two digits after the decimal point.
    TooManyDecimals,
    /// Above the allowed maximum.
    TooLarge,
}

impl fmt::Display for CentiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotANumber => "not a number",
            Self::Negative => "negative",
            Self::TooManyDecimals => "too many decimals",
            Self::TooLarge => "too large",
        })
    }
}

/// Parses a JSON/`f64` number that must have at most two decimals.
///
/// A decimal literal with ≤ 2 decimals parses to the double nearest to `n/100`, and
/// `n as f64 / 100.0` is that same double, so the round trip is an exact check.
pub(crate) fn centi_from_f64_strict(x: f64, max: u64) -> Result<u64, CentiError> {
    let centi = centi_from_f64_rounded(x, max)?;
    #[allow(clippy::float_cmp)] // an exact round-trip test is the point
    if centi_to_f64(centi) == x {
        Ok(centi)
    } else {
        Err(CentiError::TooManyDecimals)
    }
}

/// Rounds a non-negative `f64` to hundredths (exact binary value, ties to even).
pub(crate) fn centi_from_f64_rounded(x: f64, max: u64) -> Result<u64, CentiError> {
    if !x.is_finite() {
        return Err(CentiError::NotANumber);
    }
    if x < 0.0 {
        return Err(CentiError::Negative);
    }
    let (_, q) = round_scaled_half_even(x, 100).ok_or(CentiError::TooLarge)?;
    match u64::try_from(q) {
        Ok(v) if v <= max => Ok(v),
        _ => Err(CentiError::TooLarge),
    }
}

/// Parses a decimal string (`"12"`, `"12.5"`, `"12.50"`, `".5"`, `"+3"`), surrounding
/// whitespace allowed. Trailing zeros beyond two decimals are accepted (`"1.500"`); other
/// digits there are refused. `"-0"` is zero; any other negative value is refused.
pub(crate) fn centi_from_str(s: &str, max: u64) -> Result<u64, CentiError> {
    let s = s.trim();
    let (negative, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(CentiError::NotANumber);
    }
    if frac.len() > 2 && frac[2..].bytes().any(|b| b != b'0') {
        return Err(CentiError::TooManyDecimals);
    }
    let whole = whole.trim_start_matches('0');
    if whole.len() > 16 {
        return Err(CentiError::TooLarge);
    }
    let mut value: u64 = 0;
    for b in whole.bytes() {
        value = value * 10 + u64::from(b - b'0');
    }
    let mut cents: u64 = 0;
    for i in 0..2 {
        let digit = frac.as_bytes().get(i).copied().unwrap_or(b'0');
        cents = cents * 10 + u64::from(digit - b'0');
    }
    let total = value
        .checked_mul(100)
        .and_then(|v| v.checked_add(cents))
        .ok_or(CentiError::TooLarge)?;
    if negative && total != 0 {
        return Err(CentiError::Negative);
    }
    if total > max {
        return Err(CentiError::TooLarge);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn py_round_matches_cpython_on_known_values() {
        // Values checked against CPython 3: round(x, n).
        let cases: &[(f64, u32, f64)] = &[
            (2.675, 2, 2.67),
            (0.125, 2, 0.12),
            (0.375, 2, 0.38),
            (1.005, 2, 1.0),
            (2.5, 0, 2.0),
            (0.5, 0, 0.0),
            (1.5, 0, 2.0),
            (0.25, 1, 0.2),
            (0.35, 1, 0.3),
            (0.45, 1, 0.5),
            (60.44444444444444, 2, 60.44),
            (163.35000000000002, 2, 163.35),
            (9.30952380952381, 1, 9.3),
            (-2.675, 2, -2.67),
            (1e300, 2, 1e300),
            (5e-324, 2, 0.0),
            (123_456_789.125, 2, 123_456_789.12),
        ];
        for &(x, n, want) in cases {
            let got = py_round(x, n);
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "round({x}, {n}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn py_round_keeps_negative_zero_and_non_finite() {
        assert!(py_round(-0.001, 2).is_sign_negative());
        assert_eq!(py_round(-0.001, 2), 0.0);
        assert!(py_round(f64::NAN, 2).is_nan());
        assert_eq!(py_round(f64::INFINITY, 2), f64::INFINITY);
    }

    #[test]
    fn div_round_half_even_ties() {
        assert_eq!(div_round_half_even(5, 10), 0);
        assert_eq!(div_round_half_even(15, 10), 2);
        assert_eq!(div_round_half_even(25, 10), 2);
        assert_eq!(div_round_half_even(26, 10), 3);
        assert_eq!(div_round_half_even(24, 10), 2);
        assert_eq!(div_round_half_even(7, 0), 0);
    }

    #[test]
    fn strict_parse_accepts_two_decimals_only() {
        assert_eq!(centi_from_f64_strict(80.5, u64::MAX), Ok(8050));
        assert_eq!(centi_from_f64_strict(0.07, u64::MAX), Ok(7));
        assert_eq!(centi_from_f64_strict(-0.0, u64::MAX), Ok(0));
        assert_eq!(
            centi_from_f64_strict(12.345, u64::MAX),
            Err(CentiError::TooManyDecimals)
        );
        assert_eq!(
            centi_from_f64_strict(-1.0, u64::MAX),
            Err(CentiError::Negative)
        );
        assert_eq!(
            centi_from_f64_strict(f64::NAN, u64::MAX),
            Err(CentiError::NotANumber)
        );
        assert_eq!(
            centi_from_f64_strict(100.0, 9_999),
            Err(CentiError::TooLarge)
        );
    }

    #[test]
    fn string_parse() {
        assert_eq!(centi_from_str("80.50", u64::MAX), Ok(8050));
        assert_eq!(centi_from_str(" 7 ", u64::MAX), Ok(700));
        assert_eq!(centi_from_str(".5", u64::MAX), Ok(50));
        assert_eq!(centi_from_str("5.", u64::MAX), Ok(500));
        assert_eq!(centi_from_str("+1.5", u64::MAX), Ok(150));
        assert_eq!(centi_from_str("1.500", u64::MAX), Ok(150));
        assert_eq!(centi_from_str("-0.00", u64::MAX), Ok(0));
        assert_eq!(
            centi_from_str("1.505", u64::MAX),
            Err(CentiError::TooManyDecimals)
        );
        assert_eq!(centi_from_str("-1", u64::MAX), Err(CentiError::Negative));
        for bad in ["", ".", "abc", "1e3", "1,5", "1.2.3", "--1", "NaN"] {
            assert_eq!(
                centi_from_str(bad, u64::MAX),
                Err(CentiError::NotANumber),
                "{bad:?}"
            );
        }
        assert_eq!(
            centi_from_str("99999999999999999999", u64::MAX),
            Err(CentiError::TooLarge)
        );
        assert_eq!(centi_from_str("100.01", 10_000), Err(CentiError::TooLarge));
    }

    proptest! {
        #[test]
        fn py_round_agrees_with_exact_decimal_formatting(x in -1e9_f64..1e9, n in 0_u32..6) {
            // Rust's `{:.n}` rounds the exact binary value with ties to even, like CPython.
            let reference: f64 = format!("{x:.*}", n as usize).parse().unwrap();
            prop_assert_eq!(py_round(x, n), reference);
        }

        #[test]
        fn py_round_on_any_finite_value(x in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL) {
            let reference: f64 = format!("{x:.2}").parse().unwrap();
            prop_assert_eq!(py_round(x, 2), reference);
        }

        #[test]
        fn strict_parse_round_trips_hundredths(c in 0_u64..10_000_000_000) {
            let x = centi_to_f64(c);
            prop_assert_eq!(centi_from_f64_strict(x, MAX_CENTI), Ok(c));
            prop_assert_eq!(centi_from_str(&format!("{}.{:02}", c / 100, c % 100), MAX_CENTI), Ok(c));
        }
    }
}

//! Unit newtypes: grams of food, kilocalories, grams of a macronutrient, and the
//! [`Nutrients`] value (КБЖУ) that sums them.
//!
//! **Representation.** [`Kcal`] and [`MacroGrams`] are fixed-point **hundredths** in a `u64`
//! (`12.34 g` is `1234`), matching the original's `numeric(_, 2)` columns. Sums are exact,
//! values are never NaN or negative, and every value round-trips through `f64` (the type holds
//! at most 10^15 − 1 hundredths; arithmetic saturates there). On the wire they are JSON
//! **numbers** (`80.5`); deserialisation also accepts decimal strings (`"80.50"`), which the
//! original emitted, and refuses more than two decimals like the original's `DecimalField`.

use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fixed::{self, CentiError, MAX_CENTI};

/// Why a quantity was refused. `Display` is the Russian text shown to users.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// Not a number (NaN, infinity, or text that is not a decimal).
    #[error("Требуется численное значение.")]
    NotANumber,
    /// A whole number was required.
    #[error("Введите правильное число.")]
    NotAnInteger,
    /// Below zero.
    #[error("Убедитесь, что это значение больше либо равно 0.")]
    Negative,
    /// More than two digits after the decimal point.
    #[error("Убедитесь, что в числе не больше 2 знаков в дробной части.")]
    TooManyDecimals,
    /// Above the column's maximum (given as a decimal string).
    #[error("Убедитесь, что это значение меньше либо равно {max}.")]
    TooLarge {
        /// The largest accepted value.
        max: String,
    },
    /// Portion weight outside `Grams::MIN..=Grams::MAX`.
    #[error("Вес порции должен быть от 1 до 10000 г")]
    GramsOutOfRange,
}

impl UnitError {
    /// Stable machine-readable code (for error `details` and the en catalogue).
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotANumber => "invalid_number",
            Self::NotAnInteger => "invalid_integer",
            Self::Negative => "negative",
            Self::TooManyDecimals => "too_many_decimals",
            Self::TooLarge { .. } => "too_large",
            Self::GramsOutOfRange => "grams_out_of_range",
        }
    }

    fn from_centi(err: CentiError, max: u64) -> Self {
        match err {
            CentiError::NotANumber => Self::NotANumber,
            CentiError::Negative => Self::Negative,
            CentiError::TooManyDecimals => Self::TooManyDecimals,
            CentiError::TooLarge => Self::TooLarge {
                max: format_centi(max),
            },
        }
    }
}

fn format_centi(centi: u64) -> String {
    format!("{}.{:02}", centi / 100, centi % 100)
}

// ---------------------------------------------------------------------------------------------
// Grams
// ---------------------------------------------------------------------------------------------

/// Weight of one food item in whole grams, `1..=5000`.
///
/// Serialises as a JSON integer. Deserialises from an integer, an integral float (`150.0`) or
/// a digit string (`"150"`), as the original's `IntegerField` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grams(u32);

impl Grams {
    /// Smallest portion.
    pub const MIN: u32 = 1;
    /// Largest portion of one item: the original Mini App's limit (its backend had none).
    pub const MAX: u32 = 10_000;

    /// Parses a portion weight.
    ///
    /// # Errors
    /// [`UnitError::GramsOutOfRange`] outside `1..=10000`.
    pub fn parse(grams: i64) -> Result<Self, UnitError> {
        match u32::try_from(grams) {
            Ok(g) if (Self::MIN..=Self::MAX).contains(&g) => Ok(Self(g)),
            _ => Err(UnitError::GramsOutOfRange),
        }
    }

    /// Parses a JSON-ish number that must be integral (`150` or `150.0`).
    ///
    /// # Errors
    /// [`UnitError::NotAnInteger`] for fractions and non-finite values, else as [`Self::parse`].
    pub fn parse_f64(grams: f64) -> Result<Self, UnitError> {
        if !grams.is_finite() || grams.fract() != 0.0 {
            return Err(UnitError::NotAnInteger);
        }
        if grams.abs() > 1e12 {
            return Err(UnitError::GramsOutOfRange);
        }
        #[allow(clippy::cast_possible_truncation)] // integral and bounded above
        Self::parse(grams as i64)
    }

    /// The weight in grams.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Grams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Grams {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let digits = s.strip_prefix('+').unwrap_or(s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UnitError::NotAnInteger);
        }
        digits
            .parse::<i64>()
            .map_or(Err(UnitError::GramsOutOfRange), Self::parse)
    }
}

impl Serialize for Grams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for Grams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct GramsVisitor;
        impl Visitor<'_> for GramsVisitor {
            type Value = Grams;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer number of grams from 1 to 10000")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Grams, E> {
                Grams::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Grams, E> {
                Grams::parse(i64::try_from(v).unwrap_or(i64::MAX)).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Grams, E> {
                Grams::parse_f64(v).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Grams, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(GramsVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// Fixed-point units
// ---------------------------------------------------------------------------------------------

macro_rules! centi_unit {
    ($(#[$meta:meta])* $name:ident, item_max = $item_max:expr, what = $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// Zero.
            pub const ZERO: Self = Self(0);
            /// Largest value one food item may carry (the original's column limit).
            pub const ITEM_MAX: Self = Self($item_max);
            /// Largest value the type holds (10^15 − 1 hundredths); arithmetic saturates here.
            pub const MAX: Self = Self(MAX_CENTI);

            /// From hundredths (`1234` is `12.34`); saturates at [`Self::MAX`].
            #[must_use]
            pub const fn from_hundredths(hundredths: u64) -> Self {
                Self(if hundredths > MAX_CENTI { MAX_CENTI } else { hundredths })
            }

            /// From a whole number.
            #[must_use]
            pub const fn from_whole(whole: u32) -> Self {
                Self(whole as u64 * 100)
            }

            /// The value in hundredths.
            #[must_use]
            pub const fn hundredths(self) -> u64 {
                self.0
            }

            /// The value as the nearest `f64` (exact to two decimals when printed).
            #[must_use]
            pub fn to_f64(self) -> f64 {
                fixed::centi_to_f64(self.0)
            }

            /// Parses user input: finite, ≥ 0, at most two decimals.
            ///
            /// # Errors
            /// [`UnitError::NotANumber`], [`UnitError::Negative`],
            /// [`UnitError::TooManyDecimals`] or [`UnitError::TooLarge`].
            pub fn parse_f64(value: f64) -> Result<Self, UnitError> {
                fixed::centi_from_f64_strict(value, MAX_CENTI)
                    .map(Self)
                    .map_err(|e| UnitError::from_centi(e, MAX_CENTI))
            }

            /// Converts a computed value (an AI estimate, a product), rounding the exact binary
            /// value to hundredths with ties to even.
            ///
            /// # Errors
            /// [`UnitError::NotANumber`], [`UnitError::Negative`] or [`UnitError::TooLarge`].
            pub fn from_f64_rounded(value: f64) -> Result<Self, UnitError> {
                fixed::centi_from_f64_rounded(value, MAX_CENTI)
                    .map(Self)
                    .map_err(|e| UnitError::from_centi(e, MAX_CENTI))
            }

            /// Checks the per-item column limit ([`Self::ITEM_MAX`]).
            ///
            /// # Errors
            /// [`UnitError::TooLarge`] above the limit.
            pub fn check_item_limit(self) -> Result<Self, UnitError> {
                if self <= Self::ITEM_MAX {
                    Ok(self)
                } else {
                    Err(UnitError::TooLarge { max: format_centi($item_max) })
                }
            }

            /// Sum, saturating at [`Self::MAX`].
            #[must_use]
            pub const fn saturating_add(self, other: Self) -> Self {
                Self::from_hundredths(self.0.saturating_add(other.0))
            }

            /// `|self − other|`.
            #[must_use]
            pub const fn abs_diff(self, other: Self) -> Self {
                Self(self.0.abs_diff(other.0))
            }
        }

        impl fmt::Display for $name {
            /// Two decimals, as the original's decimal strings (`"80.50"`).
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&format_centi(self.0))
            }
        }

        impl FromStr for $name {
            type Err = UnitError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                fixed::centi_from_str(s, MAX_CENTI)
                    .map(Self)
                    .map_err(|e| UnitError::from_centi(e, MAX_CENTI))
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, rhs: Self) -> Self {
                self.saturating_add(rhs)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, rhs: Self) {
                *self = self.saturating_add(rhs);
            }
        }

        impl Sum for $name {
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(Self::ZERO, Add::add)
            }
        }

        impl<'a> Sum<&'a $name> for $name {
            fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
                iter.copied().sum()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_f64(self.to_f64())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct UnitVisitor;
                impl Visitor<'_> for UnitVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$name, E> {
                        v.checked_mul(100)
                            .filter(|c| *c <= MAX_CENTI)
                            .map($name)
                            .ok_or_else(|| E::custom(UnitError::from_centi(CentiError::TooLarge, MAX_CENTI)))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$name, E> {
                        match u64::try_from(v) {
                            Ok(v) => self.visit_u64(v),
                            Err(_) => Err(E::custom(UnitError::Negative)),
                        }
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<$name, E> {
                        $name::parse_f64(v).map_err(E::custom)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(E::custom)
                    }
                }
                deserializer.deserialize_any(UnitVisitor)
            }
        }
    };
}

centi_unit!(
    /// Kilocalories, fixed-point hundredths (`numeric(7,2)` per item in the original).
    Kcal,
    item_max = 9_999_999,
    what = "a non-negative number of kcal with at most two decimals"
);

centi_unit!(
    /// Grams of one macronutrient (protein, fat or carbohydrates), fixed-point hundredths
    /// (`numeric(6,2)` per item and per goal in the original).
    MacroGrams,
    item_max = 999_999,
    what = "a non-negative number of grams with at most two decimals"
);

// ---------------------------------------------------------------------------------------------
// Nutrients
// ---------------------------------------------------------------------------------------------

/// Which of the four values of [`Nutrients`] (wire names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NutrientField {
    /// `calories`
    Calories,
    /// `protein`
    Protein,
    /// `fat`
    Fat,
    /// `carbohydrates`
    Carbohydrates,
}

impl NutrientField {
    /// The JSON key.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Calories => "calories",
            Self::Protein => "protein",
            Self::Fat => "fat",
            Self::Carbohydrates => "carbohydrates",
        }
    }
}

/// Energy and macros of an item, a meal or a day (КБЖУ). Adds up exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Nutrients {
    /// Energy, kcal.
    pub calories: Kcal,
    /// Protein, g.
    pub protein: MacroGrams,
    /// Fat, g.
    pub fat: MacroGrams,
    /// Carbohydrates, g.
    pub carbohydrates: MacroGrams,
}

impl Nutrients {
    /// All zero.
    pub const ZERO: Self = Self {
        calories: Kcal::ZERO,
        protein: MacroGrams::ZERO,
        fat: MacroGrams::ZERO,
        carbohydrates: MacroGrams::ZERO,
    };

    /// Checks the per-item column limits (kcal ≤ 99 999.99, each macro ≤ 9 999.99).
    ///
    /// # Errors
    /// The first field over its limit, with [`UnitError::TooLarge`].
    pub fn check_item_limits(&self) -> Result<(), (NutrientField, UnitError)> {
        self.calories
            .check_item_limit()
            .map_err(|e| (NutrientField::Calories, e))?;
        self.protein
            .check_item_limit()
            .map_err(|e| (NutrientField::Protein, e))?;
        self.fat
            .check_item_limit()
            .map_err(|e| (NutrientField::Fat, e))?;
        self.carbohydrates
            .check_item_limit()
            .map_err(|e| (NutrientField::Carbohydrates, e))?;
        Ok(())
    }
}

impl Add for Nutrients {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self {
            calories: self.calories + rhs.calories,
            protein: self.protein + rhs.protein,
            fat: self.fat + rhs.fat,
            carbohydrates: self.carbohydrates + rhs.carbohydrates,
        }
    }
}

impl AddAssign for Nutrients {
    fn add_assign(&mut self, rhs: Self) {
        *self = *self + rhs;
    }
}

impl Sum for Nutrients {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Nutrients> for Nutrients {
    fn sum<I: Iterator<Item = &'a Self>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn n(c: u64, p: u64, f: u64, carbs: u64) -> Nutrients {
        Nutrients {
            calories: Kcal::from_hundredths(c),
            protein: MacroGrams::from_hundredths(p),
            fat: MacroGrams::from_hundredths(f),
            carbohydrates: MacroGrams::from_hundredths(carbs),
        }
    }

    #[test]
    fn grams_range() {
        assert_eq!(Grams::parse(1).map(Grams::get), Ok(1));
        assert_eq!(Grams::parse(10_000).map(Grams::get), Ok(10_000));
        assert_eq!(Grams::parse(0), Err(UnitError::GramsOutOfRange));
        assert_eq!(Grams::parse(10_001), Err(UnitError::GramsOutOfRange));
        assert_eq!(Grams::parse(-3), Err(UnitError::GramsOutOfRange));
        assert_eq!(Grams::parse_f64(150.0).map(Grams::get), Ok(150));
        assert_eq!(Grams::parse_f64(150.5), Err(UnitError::NotAnInteger));
        assert_eq!(Grams::parse_f64(f64::NAN), Err(UnitError::NotAnInteger));
        assert_eq!("  200 ".parse::<Grams>().map(Grams::get), Ok(200));
        assert_eq!("2e2".parse::<Grams>(), Err(UnitError::NotAnInteger));
        assert_eq!(
            "99999999999999999999".parse::<Grams>(),
            Err(UnitError::GramsOutOfRange)
        );
    }

    #[test]
    fn grams_serde() {
        let g: Grams = serde_json::from_value(json!(150)).unwrap();
        assert_eq!(g.get(), 150);
        assert_eq!(serde_json::to_value(g).unwrap(), json!(150));
        assert!(serde_json::from_value::<Grams>(json!("150")).is_ok());
        assert!(serde_json::from_value::<Grams>(json!(150.0)).is_ok());
        assert!(serde_json::from_value::<Grams>(json!(0)).is_err());
        assert!(serde_json::from_value::<Grams>(json!(1.5)).is_err());
        assert!(serde_json::from_value::<Grams>(json!(null)).is_err());
        assert!(serde_json::from_value::<Grams>(json!(u64::MAX)).is_err());
    }

    #[test]
    fn kcal_parse_and_display() {
        assert_eq!(Kcal::parse_f64(195.5).map(Kcal::hundredths), Ok(19550));
        assert_eq!(Kcal::parse_f64(195.55).map(Kcal::hundredths), Ok(19555));
        assert_eq!(Kcal::parse_f64(195.555), Err(UnitError::TooManyDecimals));
        assert_eq!(Kcal::parse_f64(-1.0), Err(UnitError::Negative));
        assert_eq!(Kcal::parse_f64(f64::NAN), Err(UnitError::NotANumber));
        assert_eq!(Kcal::parse_f64(f64::INFINITY), Err(UnitError::NotANumber));
        assert_eq!(Kcal::from_f64_rounded(2.675).map(Kcal::hundredths), Ok(267));
        assert_eq!(Kcal::from_f64_rounded(0.125).map(Kcal::hundredths), Ok(12));
        assert_eq!(Kcal::from_hundredths(8050).to_string(), "80.50");
        assert_eq!(Kcal::from_whole(7).to_string(), "7.00");
        assert_eq!("80.5".parse::<Kcal>(), Ok(Kcal::from_hundredths(8050)));
        assert_eq!(Kcal::from_hundredths(u64::MAX), Kcal::MAX);
    }

    #[test]
    fn item_limits() {
        assert!(Kcal::from_hundredths(9_999_999).check_item_limit().is_ok());
        assert_eq!(
            Kcal::from_hundredths(10_000_000).check_item_limit(),
            Err(UnitError::TooLarge {
                max: "99999.99".into()
            })
        );
        assert!(
            MacroGrams::from_hundredths(999_999)
                .check_item_limit()
                .is_ok()
        );
        assert!(
            MacroGrams::from_hundredths(1_000_000)
                .check_item_limit()
                .is_err()
        );
        assert_eq!(n(1, 2, 3, 4).check_item_limits(), Ok(()));
        assert_eq!(
            n(1, 2, 1_000_000, 4)
                .check_item_limits()
                .map_err(|(f, _)| f.as_str()),
            Err("fat")
        );
    }

    #[test]
    fn units_serde_as_numbers_accept_strings() {
        assert_eq!(
            serde_json::to_value(Kcal::from_hundredths(16320)).unwrap(),
            json!(163.2)
        );
        assert_eq!(
            serde_json::to_value(MacroGrams::from_hundredths(6044)).unwrap(),
            json!(60.44)
        );
        assert_eq!(serde_json::to_string(&Kcal::from_whole(2)).unwrap(), "2.0");
        let parse = |v| serde_json::from_value::<MacroGrams>(v).map(MacroGrams::hundredths);
        assert_eq!(parse(json!(12)).unwrap(), 1200);
        assert_eq!(parse(json!(12.5)).unwrap(), 1250);
        assert_eq!(parse(json!("12.50")).unwrap(), 1250);
        assert!(parse(json!(12.345)).is_err());
        assert!(parse(json!(-1)).is_err());
        assert!(parse(json!(-0.5)).is_err());
        assert!(parse(json!("x")).is_err());
        assert!(parse(json!(null)).is_err());
        assert!(parse(json!(u64::MAX)).is_err());
    }

    #[test]
    fn nutrients_add_and_sum() {
        let items = [n(10050, 100, 200, 300), n(9500, 1, 2, 3), Nutrients::ZERO];
        let total: Nutrients = items.iter().sum();
        assert_eq!(total, n(19550, 101, 202, 303));
        assert_eq!(items.into_iter().sum::<Nutrients>(), total);
        let mut acc = Nutrients::ZERO;
        acc += total;
        assert_eq!(acc, total);
        assert_eq!(
            serde_json::to_value(total).unwrap(),
            json!({"calories": 195.5, "protein": 1.01, "fat": 2.02, "carbohydrates": 3.03})
        );
        let back: Nutrients = serde_json::from_value(
            json!({"calories": "195.50", "protein": 1.01, "fat": 2.02, "carbohydrates": 3.03}),
        )
        .unwrap();
        assert_eq!(back, total);
    }

    #[test]
    fn addition_saturates() {
        assert_eq!(Kcal::MAX + Kcal::from_whole(1), Kcal::MAX);
    }

    proptest! {
        #[test]
        fn serde_round_trip(c in 0_u64..=MAX_CENTI) {
            let k = Kcal::from_hundredths(c);
            let text = serde_json::to_string(&k).unwrap();
            prop_assert_eq!(serde_json::from_str::<Kcal>(&text).unwrap(), k);
            prop_assert_eq!(k.to_string().parse::<Kcal>().unwrap(), k);
        }

        #[test]
        fn sum_is_exact(values in proptest::collection::vec(0_u64..10_000_000, 0..50)) {
            let total: Kcal = values.iter().map(|&v| Kcal::from_hundredths(v)).sum();
            prop_assert_eq!(total.hundredths(), values.iter().sum::<u64>());
        }

        #[test]
        fn rounded_is_never_negative_or_nan(x in proptest::num::f64::ANY) {
            match MacroGrams::from_f64_rounded(x) {
                Ok(v) => prop_assert!(x >= 0.0 && v.to_f64().is_finite() && v.to_f64() >= 0.0),
                Err(_) => prop_assert!(x.is_nan() || x < 0.0 || !x.is_finite() || x > 9.99e12),
            }
        }
    }
}

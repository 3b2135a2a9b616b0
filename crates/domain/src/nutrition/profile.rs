//! Profile rules: field newtypes for `PUT/PATCH /users/profile/` (the body itself is parsed in
//! `profile_update`), and the derived values `age`, `bmi`, `is_complete`.
//!
//! Fixes over the original: the time zone must be a real IANA name; the birth date may not be
//! after the user's today; the target weight has the same 20–500 kg range as the weight.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::enums::{ActivityLevel, Gender, GoalType};
use super::fixed::{self, CentiError};
use super::goal::MifflinInput;

/// The time zone used when a profile has none (or an unusable one).
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Europe::Moscow;

/// Full years between `birth_date` and `today`; `None` if the birth date is after today.
///
/// A birthday on 29 February counts from 1 March in common years (as Python's tuple
/// comparison in the original).
#[must_use]
pub fn age(birth_date: NaiveDate, today: NaiveDate) -> Option<u32> {
    if birth_date > today {
        return None;
    }
    let before_birthday = (today.month(), today.day()) < (birth_date.month(), birth_date.day());
    let years = today.year() - birth_date.year() - i32::from(before_birthday);
    u32::try_from(years).ok()
}

/// Body mass index: `weight / (height/100)²`, unrounded, as the original.
#[must_use]
pub fn bmi(weight: WeightKg, height: HeightCm) -> f64 {
    let metres = f64::from(height.get()) / 100.0;
    weight.to_f64() / (metres * metres)
}

/// A profile field that `PUT/PATCH /users/profile/` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProfileField {
    /// `full_name`
    FullName,
    /// `gender`
    Gender,
    /// `birth_date`
    BirthDate,
    /// `height`
    Height,
    /// `weight`
    Weight,
    /// `activity_level`
    ActivityLevel,
    /// `goal_type`
    GoalType,
    /// `target_weight`
    TargetWeight,
    /// `timezone`
    Timezone,
}

impl ProfileField {
    /// Every writable field.
    pub const ALL: &'static [Self] = &[
        Self::FullName,
        Self::Gender,
        Self::BirthDate,
        Self::Height,
        Self::Weight,
        Self::ActivityLevel,
        Self::GoalType,
        Self::TargetWeight,
        Self::Timezone,
    ];

    /// The JSON key.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FullName => "full_name",
            Self::Gender => "gender",
            Self::BirthDate => "birth_date",
            Self::Height => "height",
            Self::Weight => "weight",
            Self::ActivityLevel => "activity_level",
            Self::GoalType => "goal_type",
            Self::TargetWeight => "target_weight",
            Self::Timezone => "timezone",
        }
    }
}

/// What is wrong with one profile value. `Display` is the Russian text (the original's where
/// it had one, DRF's Russian wording for generic type errors).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileErrorKind {
    /// `null` for a field that cannot be null.
    #[error("Это поле не может быть пустым.")]
    NotNull,
    /// A string was expected.
    #[error("Введите правильное значение.")]
    NotAString,
    /// Longer than allowed (in characters).
    #[error("Убедитесь, что это значение содержит не более {max} символов.")]
    TooLong {
        /// The maximum length.
        max: usize,
    },
    /// Not one of the choices.
    #[error("Значения «{value}» нет среди допустимых вариантов.")]
    InvalidChoice {
        /// The rejected value.
        value: String,
    },
    /// A whole number was expected.
    #[error("Введите правильное число.")]
    NotAnInteger,
    /// A number was expected.
    #[error("Требуется численное значение.")]
    NotANumber,
    /// More than two decimals.
    #[error("Убедитесь, что в числе не больше 2 знаков в дробной части.")]
    TooManyDecimals,
    /// Height outside 50–250 cm.
    #[error("Рост должен быть от 50 до 250 см")]
    HeightOutOfRange,
    /// Weight outside 20–500 kg.
    #[error("Вес должен быть от 20 до 500 кг")]
    WeightOutOfRange,
    /// Target weight outside 20–500 kg.
    #[error("Целевой вес должен быть от 20 до 500 кг")]
    TargetWeightOutOfRange,
    /// Not a `YYYY-MM-DD` date.
    #[error("Неправильный формат date. Используйте один из этих форматов: YYYY-MM-DD.")]
    InvalidDate,
    /// Birth date after the user's today.
    #[error("Дата рождения не может быть в будущем")]
    BirthDateInFuture,
    /// Not an IANA time zone name.
    #[error("Неизвестный часовой пояс")]
    UnknownTimezone,
}

impl ProfileErrorKind {
    /// Stable machine-readable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::NotNull => "null",
            Self::NotAString => "invalid",
            Self::TooLong { .. } => "max_length",
            Self::InvalidChoice { .. } => "invalid_choice",
            Self::NotAnInteger => "invalid_integer",
            Self::NotANumber => "invalid_number",
            Self::TooManyDecimals => "max_decimal_places",
            Self::HeightOutOfRange => "height_out_of_range",
            Self::WeightOutOfRange => "weight_out_of_range",
            Self::TargetWeightOutOfRange => "target_weight_out_of_range",
            Self::InvalidDate => "invalid_date",
            Self::BirthDateInFuture => "birth_date_in_future",
            Self::UnknownTimezone => "unknown_timezone",
        }
    }
}

/// One invalid field of a profile update.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {kind}", field.as_str())]
pub struct ProfileFieldError {
    /// Which field.
    pub field: ProfileField,
    /// What is wrong.
    pub kind: ProfileErrorKind,
}

// ---------------------------------------------------------------------------------------------
// Field newtypes
// ---------------------------------------------------------------------------------------------

/// Height in whole centimetres, 50–250.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct HeightCm(u16);

impl HeightCm {
    /// Parses a height.
    ///
    /// # Errors
    /// [`ProfileErrorKind::HeightOutOfRange`].
    pub fn parse(cm: i64) -> Result<Self, ProfileErrorKind> {
        match u16::try_from(cm) {
            Ok(v) if (50..=250).contains(&v) => Ok(Self(v)),
            _ => Err(ProfileErrorKind::HeightOutOfRange),
        }
    }

    /// The height in cm.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl<'de> Deserialize<'de> for HeightCm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        parse_height_value(&v).map_err(serde::de::Error::custom)
    }
}

/// Body weight in kg with two decimals (fixed-point hundredths), 20.00–500.00.
/// Serialises as a JSON number; `Display` gives the original's decimal string (`"80.50"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeightKg(u32);

impl WeightKg {
    const MIN: u64 = 2_000;
    const MAX: u64 = 50_000;

    /// From hundredths of a kg, range-checked.
    ///
    /// # Errors
    /// [`ProfileErrorKind::WeightOutOfRange`].
    pub fn from_hundredths(hundredths: u64) -> Result<Self, ProfileErrorKind> {
        if (Self::MIN..=Self::MAX).contains(&hundredths) {
            u32::try_from(hundredths)
                .map(Self)
                .map_err(|_| ProfileErrorKind::WeightOutOfRange)
        } else {
            Err(ProfileErrorKind::WeightOutOfRange)
        }
    }

    /// Parses a number with at most two decimals.
    ///
    /// # Errors
    /// [`ProfileErrorKind::NotANumber`], [`ProfileErrorKind::TooManyDecimals`] or
    /// [`ProfileErrorKind::WeightOutOfRange`].
    pub fn parse_f64(kg: f64) -> Result<Self, ProfileErrorKind> {
        if kg.is_finite() && kg < 0.0 {
            return Err(ProfileErrorKind::WeightOutOfRange);
        }
        let centi = fixed::centi_from_f64_strict(kg, fixed::MAX_CENTI).map_err(weight_err)?;
        Self::from_hundredths(centi)
    }

    /// Hundredths of a kg.
    #[must_use]
    pub const fn hundredths(self) -> u32 {
        self.0
    }

    /// The weight as the nearest `f64` (what the original's `float(weight)` gives).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        fixed::centi_to_f64(u64::from(self.0))
    }
}

fn weight_err(e: CentiError) -> ProfileErrorKind {
    match e {
        CentiError::NotANumber => ProfileErrorKind::NotANumber,
        CentiError::TooManyDecimals => ProfileErrorKind::TooManyDecimals,
        CentiError::Negative | CentiError::TooLarge => ProfileErrorKind::WeightOutOfRange,
    }
}

impl FromStr for WeightKg {
    type Err = ProfileErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let centi = fixed::centi_from_str(s, fixed::MAX_CENTI).map_err(weight_err)?;
        Self::from_hundredths(centi)
    }
}

impl fmt::Display for WeightKg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl Serialize for WeightKg {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.to_f64())
    }
}

impl<'de> Deserialize<'de> for WeightKg {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        parse_weight_value(&v).map_err(serde::de::Error::custom)
    }
}

/// Display name, trimmed, at most 255 characters, may be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct FullName(String);

impl FullName {
    /// Largest length in characters.
    pub const MAX_CHARS: usize = 255;

    /// Trims surrounding whitespace and checks the length.
    ///
    /// # Errors
    /// [`ProfileErrorKind::TooLong`].
    pub fn parse(name: &str) -> Result<Self, ProfileErrorKind> {
        let trimmed = name.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            Err(ProfileErrorKind::TooLong {
                max: Self::MAX_CHARS,
            })
        } else {
            Ok(Self(trimmed.to_owned()))
        }
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses an IANA time zone name (`Europe/Moscow`, `Asia/Vladivostok`, `UTC`).
///
/// # Errors
/// [`ProfileErrorKind::UnknownTimezone`], also for names over 50 characters (the column).
pub fn parse_timezone(name: &str) -> Result<Tz, ProfileErrorKind> {
    let name = name.trim();
    if name.chars().count() > 50 {
        return Err(ProfileErrorKind::UnknownTimezone);
    }
    name.parse::<Tz>()
        .map_err(|_| ProfileErrorKind::UnknownTimezone)
}

/// The zone to compute a user's day in: the stored name when it is valid, else
/// [`DEFAULT_TIMEZONE`] (stored values from the original were never validated).
#[must_use]
pub fn effective_timezone(stored: Option<&str>) -> Tz {
    stored
        .and_then(|s| parse_timezone(s).ok())
        .unwrap_or(DEFAULT_TIMEZONE)
}

/// Checks a birth date against the user's today.
///
/// # Errors
/// [`ProfileErrorKind::BirthDateInFuture`].
pub fn check_birth_date(
    birth_date: NaiveDate,
    today: NaiveDate,
) -> Result<NaiveDate, ProfileErrorKind> {
    if birth_date > today {
        Err(ProfileErrorKind::BirthDateInFuture)
    } else {
        Ok(birth_date)
    }
}

// ---------------------------------------------------------------------------------------------
// Profile and updates
// ---------------------------------------------------------------------------------------------

/// The user-editable part of a profile, parsed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    /// Display name (may be empty).
    pub full_name: FullName,
    /// Sex.
    pub gender: Option<Gender>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Height.
    pub height: Option<HeightCm>,
    /// Weight.
    pub weight: Option<WeightKg>,
    /// Activity level (default sedentary).
    pub activity_level: ActivityLevel,
    /// Goal (default maintenance).
    pub goal_type: GoalType,
    /// Target weight.
    pub target_weight: Option<WeightKg>,
    /// Time zone; `None` means [`DEFAULT_TIMEZONE`].
    pub timezone: Option<Tz>,
}

impl Profile {
    /// Age in full years on `today`, if the birth date is known and not in the future.
    #[must_use]
    pub fn age(&self, today: NaiveDate) -> Option<u32> {
        self.birth_date.and_then(|b| age(b, today))
    }

    /// BMI, if weight and height are known.
    #[must_use]
    pub fn bmi(&self) -> Option<f64> {
        Some(bmi(self.weight?, self.height?))
    }

    /// Whether gender, birth date, height, weight and goal are filled (the goal always is).
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.gender.is_some()
            && self.birth_date.is_some()
            && self.height.is_some()
            && self.weight.is_some()
    }

    /// The zone of the user's calendar day.
    #[must_use]
    pub fn timezone_or_default(&self) -> Tz {
        self.timezone.unwrap_or(DEFAULT_TIMEZONE)
    }

    /// Input for [`crate::nutrition::calculate_daily_goal`].
    #[must_use]
    pub fn mifflin_input(&self) -> MifflinInput {
        MifflinInput {
            gender: self.gender,
            birth_date: self.birth_date,
            height_cm: self.height.map(|h| i32::from(h.get())),
            weight_kg: self.weight.map(WeightKg::to_f64),
            activity_level: self.activity_level,
            goal_type: self.goal_type,
        }
    }
}

pub(super) fn parse_height_value(value: &Value) -> Result<HeightCm, ProfileErrorKind> {
    let cm = match value {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e9 => {
                #[allow(clippy::cast_possible_truncation)] // integral and bounded
                let i = f as i64;
                i
            }
            (None, Some(f)) if f.is_finite() && f.fract() == 0.0 => {
                return Err(ProfileErrorKind::HeightOutOfRange);
            }
            _ => return Err(ProfileErrorKind::NotAnInteger),
        },
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_suffix(".0").unwrap_or(t);
            if t.is_empty()
                || !t
                    .trim_start_matches(['-', '+'])
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            {
                return Err(ProfileErrorKind::NotAnInteger);
            }
            t.parse::<i64>()
                .map_err(|_| ProfileErrorKind::HeightOutOfRange)?
        }
        _ => return Err(ProfileErrorKind::NotAnInteger),
    };
    HeightCm::parse(cm)
}

pub(super) fn parse_weight_value(value: &Value) -> Result<WeightKg, ProfileErrorKind> {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) => WeightKg::parse_f64(f),
            None => Err(ProfileErrorKind::NotANumber),
        },
        Value::String(s) => s.parse(),
        _ => Err(ProfileErrorKind::NotANumber),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn age_counts_full_years() {
        assert_eq!(age(date(1990, 1, 12), date(2026, 1, 12)), Some(36));
        assert_eq!(age(date(1990, 1, 13), date(2026, 1, 12)), Some(35));
        assert_eq!(age(date(2026, 1, 12), date(2026, 1, 12)), Some(0));
        assert_eq!(age(date(2026, 1, 13), date(2026, 1, 12)), None);
        // 29 February: a year older on 1 March of a common year.
        assert_eq!(age(date(2000, 2, 29), date(2023, 2, 28)), Some(22));
        assert_eq!(age(date(2000, 2, 29), date(2023, 3, 1)), Some(23));
        assert_eq!(age(date(2000, 2, 29), date(2024, 2, 29)), Some(24));
    }

    #[test]
    fn bmi_and_completeness() {
        let mut p = Profile::default();
        assert!(!p.is_complete());
        assert_eq!(p.bmi(), None);
        p.weight = Some(WeightKg::parse_f64(80.5).unwrap());
        p.height = Some(HeightCm::parse(180).unwrap());
        let b = p.bmi().unwrap();
        assert!((b - 80.5 / (1.8 * 1.8)).abs() < 1e-12, "{b}");
        p.gender = Some(Gender::Male);
        assert!(!p.is_complete());
        p.birth_date = Some(date(1990, 1, 1));
        assert!(p.is_complete());
        assert_eq!(p.age(date(2026, 1, 12)), Some(36));
        assert_eq!(p.timezone_or_default(), DEFAULT_TIMEZONE);
        let input = p.mifflin_input();
        assert_eq!((input.height_cm, input.weight_kg), (Some(180), Some(80.5)));
    }

    #[test]
    fn height_and_weight_ranges_with_the_original_messages() {
        assert_eq!(HeightCm::parse(50).map(HeightCm::get), Ok(50));
        assert_eq!(HeightCm::parse(250).map(HeightCm::get), Ok(250));
        let e = HeightCm::parse(49).unwrap_err();
        assert_eq!(e.to_string(), "Рост должен быть от 50 до 250 см");
        assert!(HeightCm::parse(251).is_err());
        assert_eq!(
            WeightKg::parse_f64(20.0).map(WeightKg::hundredths),
            Ok(2000)
        );
        assert_eq!(
            WeightKg::parse_f64(500.0).map(WeightKg::hundredths),
            Ok(50000)
        );
        let e = WeightKg::parse_f64(19.99).unwrap_err();
        assert_eq!(e.to_string(), "Вес должен быть от 20 до 500 кг");
        assert_eq!(
            WeightKg::parse_f64(500.01),
            Err(ProfileErrorKind::WeightOutOfRange)
        );
        assert_eq!(
            WeightKg::parse_f64(-80.0),
            Err(ProfileErrorKind::WeightOutOfRange)
        );
        assert_eq!(
            WeightKg::parse_f64(80.555),
            Err(ProfileErrorKind::TooManyDecimals)
        );
        assert_eq!(
            WeightKg::parse_f64(f64::NAN),
            Err(ProfileErrorKind::NotANumber)
        );
        assert_eq!(
            "80.50".parse::<WeightKg>().map(|w| w.to_string()),
            Ok("80.50".to_owned())
        );
        assert_eq!(
            serde_json::to_value(WeightKg::parse_f64(80.5).unwrap()).unwrap(),
            json!(80.5)
        );
        assert!(serde_json::from_value::<WeightKg>(json!("80.5")).is_ok());
        assert!(serde_json::from_value::<HeightCm>(json!(180)).is_ok());
        assert!(serde_json::from_value::<HeightCm>(json!(18)).is_err());
    }

    #[test]
    fn full_name_is_trimmed_and_limited_in_characters() {
        assert_eq!(FullName::parse("  Иван  ").unwrap().as_str(), "Иван");
        assert!(FullName::parse(&"я".repeat(255)).is_ok());
        let e = FullName::parse(&"я".repeat(256)).unwrap_err();
        assert_eq!(e, ProfileErrorKind::TooLong { max: 255 });
        assert_eq!(FullName::parse("").unwrap().as_str(), "");
    }

    #[test]
    fn timezone_must_be_iana() {
        assert_eq!(
            parse_timezone("Asia/Vladivostok"),
            Ok(chrono_tz::Asia::Vladivostok)
        );
        assert_eq!(parse_timezone("UTC"), Ok(chrono_tz::UTC));
        assert_eq!(
            parse_timezone("Moscow"),
            Err(ProfileErrorKind::UnknownTimezone)
        );
        assert_eq!(
            parse_timezone("+03:00"),
            Err(ProfileErrorKind::UnknownTimezone)
        );
        assert_eq!(effective_timezone(None), chrono_tz::Europe::Moscow);
        assert_eq!(
            effective_timezone(Some("garbage")),
            chrono_tz::Europe::Moscow
        );
        assert_eq!(effective_timezone(Some("Asia/Omsk")), chrono_tz::Asia::Omsk);
    }

    #[test]
    fn birth_date_not_in_the_users_future() {
        assert!(check_birth_date(date(2026, 1, 12), date(2026, 1, 12)).is_ok());
        let e = check_birth_date(date(2026, 1, 13), date(2026, 1, 12)).unwrap_err();
        assert_eq!(e.to_string(), "Дата рождения не может быть в будущем");
    }

    proptest! {
        #[test]
        fn age_is_monotonic_and_exact_on_birthdays(
            y in 1900_i32..2020, m in 1_u32..=12, d in 1_u32..=28, years in 0_i32..100,
        ) {
            let birth = date(y, m, d);
            let birthday = date(y + years, m, d);
            prop_assert_eq!(age(birth, birthday), u32::try_from(years).ok());
            if let Some(day_before) = birthday.pred_opt() && day_before >= birth {
                prop_assert_eq!(age(birth, day_before), u32::try_from(years - 1).ok());
            }
        }

        #[test]
        fn weight_accepts_every_two_decimal_value_in_range(c in 2000_u64..=50000) {
            let w = WeightKg::from_hundredths(c).unwrap();
            prop_assert_eq!(WeightKg::parse_f64(w.to_f64()), Ok(w));
            prop_assert_eq!(w.to_string().parse::<WeightKg>(), Ok(w));
        }
    }
}

//! Closed sets of the nutrition domain, each with one `as_str`/`FromStr` pair matching the
//! original's wire format, and serde through that pair.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that is not one of an enum's wire strings.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Значения «{value}» нет среди допустимых вариантов.")]
pub struct ParseEnumError {
    /// Which enum was being parsed (its Rust name).
    pub kind: &'static str,
    /// The rejected input.
    pub value: String,
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire string.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseEnumError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($wire $(| $alias)* => Ok(Self::$variant),)+
                    _ => Err(ParseEnumError { kind: stringify!($name), value: s.to_owned() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

wire_enum! {
    /// Which meal of the day.
    pub enum MealType {
        /// Завтрак.
        Breakfast => "BREAKFAST",
        /// Обед.
        Lunch => "LUNCH",
        /// Ужин.
        Dinner => "DINNER",
        /// Перекус.
        Snack => "SNACK",
    }
}

impl MealType {
    /// Russian label (`meal_type_display`).
    #[must_use]
    pub const fn label_ru(self) -> &'static str {
        match self {
            Self::Breakfast => "Завтрак",
            Self::Lunch => "Обед",
            Self::Dinner => "Ужин",
            Self::Snack => "Перекус",
        }
    }
}

wire_enum! {
    /// State of a meal (see [`crate::nutrition::finalize_meal`]).
    #[derive(Default)]
    pub enum MealStatus {
        /// Accepting photos; also every manually created meal.
        #[default]
        Draft => "DRAFT",
        /// At least one photo is pending or processing.
        Processing => "PROCESSING",
        /// All photos terminal, at least one succeeded.
        Complete => "COMPLETE",
        /// All photos terminal, none succeeded. Hidden from the diary and the statistics.
        Failed => "FAILED",
    }
}

impl MealStatus {
    /// Russian label (`status_display`).
    #[must_use]
    pub const fn label_ru(self) -> &'static str {
        match self {
            Self::Draft => "Черновик",
            Self::Processing => "Обработка",
            Self::Complete => "Готово",
            Self::Failed => "Ошибка",
        }
    }

    /// Whether meals in this state count in the diary, lists and statistics (all but FAILED).
    #[must_use]
    pub const fn counts_in_diary(self) -> bool {
        !matches!(self, Self::Failed)
    }
}

wire_enum! {
    /// State of one meal photo's recognition (see [`crate::nutrition::photo_transition`]).
    #[derive(Default)]
    pub enum PhotoStatus {
        /// Stored, job enqueued, not started.
        #[default]
        Pending => "PENDING",
        /// A worker is recognising it.
        Processing => "PROCESSING",
        /// Recognised; its items were added to the meal.
        Success => "SUCCESS",
        /// Recognition failed (with an error code).
        Failed => "FAILED",
        /// Cancelled by the user.
        Cancelled => "CANCELLED",
    }
}

impl PhotoStatus {
    /// Russian label (`status_display`).
    #[must_use]
    pub const fn label_ru(self) -> &'static str {
        match self {
            Self::Pending => "Ожидание",
            Self::Processing => "Обработка",
            Self::Success => "Успешно",
            Self::Failed => "Ошибка",
            Self::Cancelled => "Отменено",
        }
    }

    /// SUCCESS, FAILED and CANCELLED are final.
    #[must_use]
    pub const fn is_terminal(self) -> bool {
        matches!(self, Self::Success | Self::Failed | Self::Cancelled)
    }
}

wire_enum! {
    /// Sex in the profile (`M`/`F`).
    pub enum Gender {
        /// Male.
        Male => "M",
        /// Female.
        Female => "F",
    }
}

wire_enum! {
    /// Sex as the bot survey spells it (`male`/`female`).
    pub enum SurveyGender {
        /// Male.
        Male => "male",
        /// Female.
        Female => "female",
    }
}

impl From<SurveyGender> for Gender {
    fn from(g: SurveyGender) -> Self {
        match g {
            SurveyGender::Male => Self::Male,
            SurveyGender::Female => Self::Female,
        }
    }
}

impl From<Gender> for SurveyGender {
    fn from(g: Gender) -> Self {
        match g {
            Gender::Male => Self::Male,
            Gender::Female => Self::Female,
        }
    }
}

wire_enum! {
    /// Physical activity in the profile vocabulary.
    #[derive(Default)]
    pub enum ActivityLevel {
        /// Little or no exercise (×1.2).
        #[default]
        Sedentary => "sedentary",
        /// Light exercise 1–3 days a week (×1.375).
        LightlyActive => "lightly_active",
        /// Moderate exercise 3–5 days a week (×1.55).
        ModeratelyActive => "moderately_active",
        /// Hard exercise 6–7 days a week (×1.725).
        VeryActive => "very_active",
        /// Physical job plus training (×1.9).
        ExtraActive => "extra_active",
    }
}

impl ActivityLevel {
    /// TDEE multiplier applied to the BMR (Mifflin-St Jeor).
    #[must_use]
    pub const fn multiplier(self) -> f64 {
        match self {
            Self::Sedentary => 1.2,
            Self::LightlyActive => 1.375,
            Self::ModeratelyActive => 1.55,
            Self::VeryActive => 1.725,
            Self::ExtraActive => 1.9,
        }
    }
}

wire_enum! {
    /// Physical activity in the bot survey's vocabulary.
    pub enum SurveyActivity {
        /// «Сидячий образ жизни».
        Sedentary => "sedentary",
        /// Light activity.
        Light => "light",
        /// Moderate activity.
        Moderate => "moderate",
        /// Active.
        Active => "active",
        /// Very active (defined by the survey model; the bot does not offer it).
        VeryActive => "very_active",
    }
}

impl SurveyActivity {
    /// The profile level with the same intent and multiplier rank.
    ///
    /// The original had no mapping (a survey never reached the profile). This one pairs the
    /// five levels in order, so the TDEE multipliers line up 1.2 / 1.375 / 1.55 / 1.725 / 1.9:
    /// `sedentary`→`sedentary`, `light`→`lightly_active`, `moderate`→`moderately_active`,
    /// `active`→`very_active`, `very_active`→`extra_active`.
    #[must_use]
    pub const fn to_profile(self) -> ActivityLevel {
        match self {
            Self::Sedentary => ActivityLevel::Sedentary,
            Self::Light => ActivityLevel::LightlyActive,
            Self::Moderate => ActivityLevel::ModeratelyActive,
            Self::Active => ActivityLevel::VeryActive,
            Self::VeryActive => ActivityLevel::ExtraActive,
        }
    }
}

impl From<SurveyActivity> for ActivityLevel {
    fn from(a: SurveyActivity) -> Self {
        a.to_profile()
    }
}

wire_enum! {
    /// What the user wants from their weight.
    #[derive(Default)]
    pub enum GoalType {
        /// Lose weight (−20 % of TDEE).
        WeightLoss => "weight_loss",
        /// Keep weight.
        #[default]
        Maintenance => "maintenance",
        /// Gain weight (+20 % of TDEE).
        WeightGain => "weight_gain",
    }
}

impl GoalType {
    /// Factor applied to the TDEE.
    #[must_use]
    pub const fn factor(self) -> f64 {
        match self {
            Self::WeightLoss => 0.8,
            Self::Maintenance => 1.0,
            Self::WeightGain => 1.2,
        }
    }
}

wire_enum! {
    /// Where a daily goal came from.
    #[derive(Default)]
    pub enum GoalSource {
        /// Calculated (Mifflin-St Jeor).
        #[default]
        Auto => "AUTO",
        /// Entered by the user.
        Manual => "MANUAL",
    }
}

wire_enum! {
    /// Training experience. The bot sends `home_irregular`, accepted as `home`.
    pub enum TrainingLevel {
        /// Does not train, or less than once a week.
        Beginner => "beginner",
        /// 2–3 workouts a week.
        Intermediate => "intermediate",
        /// 4+ workouts a week.
        Advanced => "advanced",
        /// Trains at home now and then.
        Home => "home" | "home_irregular",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T>(all: &[T])
    where
        T: Copy + fmt::Debug + PartialEq + FromStr<Err = ParseEnumError> + Serialize + fmt::Display,
        T: for<'de> Deserialize<'de>,
    {
        let mut seen = std::collections::HashSet::new();
        for &v in all {
            let s = v.to_string();
            assert!(seen.insert(s.clone()), "duplicate wire string {s}");
            assert_eq!(s.parse::<T>(), Ok(v));
            let json = serde_json::to_value(v).unwrap();
            assert_eq!(json, serde_json::Value::String(s.clone()));
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), v);
        }
    }

    #[test]
    fn all_enums_round_trip() {
        round_trip(MealType::ALL);
        round_trip(MealStatus::ALL);
        round_trip(PhotoStatus::ALL);
        round_trip(Gender::ALL);
        round_trip(SurveyGender::ALL);
        round_trip(ActivityLevel::ALL);
        round_trip(SurveyActivity::ALL);
        round_trip(GoalType::ALL);
        round_trip(GoalSource::ALL);
        round_trip(TrainingLevel::ALL);
    }

    #[test]
    fn wire_strings_match_the_original() {
        let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let of = |v: Vec<&'static str>| s(&v);
        assert_eq!(
            of(MealType::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["BREAKFAST", "LUNCH", "DINNER", "SNACK"])
        );
        assert_eq!(
            of(MealStatus::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["DRAFT", "PROCESSING", "COMPLETE", "FAILED"])
        );
        assert_eq!(
            of(PhotoStatus::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["PENDING", "PROCESSING", "SUCCESS", "FAILED", "CANCELLED"])
        );
        assert_eq!(
            of(Gender::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["M", "F"])
        );
        assert_eq!(
            of(ActivityLevel::ALL.iter().map(|v| v.as_str()).collect()),
            s(&[
                "sedentary",
                "lightly_active",
                "moderately_active",
                "very_active",
                "extra_active"
            ])
        );
        assert_eq!(
            of(SurveyActivity::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["sedentary", "light", "moderate", "active", "very_active"])
        );
        assert_eq!(
            of(GoalType::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["weight_loss", "maintenance", "weight_gain"])
        );
        assert_eq!(
            of(GoalSource::ALL.iter().map(|v| v.as_str()).collect()),
            s(&["AUTO", "MANUAL"])
        );
    }

    #[test]
    fn parsing_is_exact_and_errors_name_the_value() {
        assert!("breakfast".parse::<MealType>().is_err());
        assert!(" M".parse::<Gender>().is_err());
        let err = "X".parse::<Gender>().unwrap_err();
        assert_eq!(err.kind, "Gender");
        assert_eq!(
            err.to_string(),
            "Значения «X» нет среди допустимых вариантов."
        );
        assert!(serde_json::from_value::<MealType>(serde_json::json!(1)).is_err());
    }

    #[test]
    fn training_level_accepts_the_bot_alias() {
        assert_eq!("home_irregular".parse(), Ok(TrainingLevel::Home));
        assert_eq!(TrainingLevel::Home.as_str(), "home");
    }

    #[test]
    fn labels() {
        assert_eq!(MealType::Snack.label_ru(), "Перекус");
        assert_eq!(MealStatus::Complete.label_ru(), "Готово");
        assert_eq!(PhotoStatus::Cancelled.label_ru(), "Отменено");
    }

    #[test]
    fn multipliers_and_factors() {
        let m: Vec<f64> = ActivityLevel::ALL.iter().map(|a| a.multiplier()).collect();
        assert_eq!(m, [1.2, 1.375, 1.55, 1.725, 1.9]);
        assert_eq!(GoalType::WeightLoss.factor(), 0.8);
        assert_eq!(GoalType::Maintenance.factor(), 1.0);
        assert_eq!(GoalType::WeightGain.factor(), 1.2);
    }

    #[test]
    fn survey_mapping_preserves_multiplier_order() {
        let mapped: Vec<ActivityLevel> =
            SurveyActivity::ALL.iter().map(|a| a.to_profile()).collect();
        assert_eq!(mapped, ActivityLevel::ALL);
        assert_eq!(Gender::from(SurveyGender::Female), Gender::Female);
        assert_eq!(SurveyGender::from(Gender::Male), SurveyGender::Male);
    }

    #[test]
    fn defaults_match_the_original_columns() {
        assert_eq!(MealStatus::default(), MealStatus::Draft);
        assert_eq!(PhotoStatus::default(), PhotoStatus::Pending);
        assert_eq!(ActivityLevel::default(), ActivityLevel::Sedentary);
        assert_eq!(GoalType::default(), GoalType::Maintenance);
        assert_eq!(GoalSource::default(), GoalSource::Auto);
        assert!(!MealStatus::Failed.counts_in_diary());
        assert!(MealStatus::Draft.counts_in_diary());
        assert_eq!(
            PhotoStatus::ALL.iter().filter(|s| s.is_terminal()).count(),
            3
        );
    }
}

//! Daily goals: the Mifflin-St Jeor calculation (as the original computes it, float for float)
//! and the validation of manually entered goals.

use chrono::NaiveDate;
use serde::Serialize;

use super::enums::{ActivityLevel, Gender, GoalType};
use super::fixed::py_round;
use super::profile::age;
use super::units::{MacroGrams, UnitError};

/// A profile field the goal calculation needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequiredField {
    /// `gender`
    Gender,
    /// `birth_date`
    BirthDate,
    /// `height`
    Height,
    /// `weight`
    Weight,
}

impl RequiredField {
    /// The profile's JSON key.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gender => "gender",
            Self::BirthDate => "birth_date",
            Self::Height => "height",
            Self::Weight => "weight",
        }
    }

    /// Russian name, as in «Необходимо заполнить профиль: пол, дата рождения, рост, вес».
    #[must_use]
    pub const fn label_ru(self) -> &'static str {
        match self {
            Self::Gender => "пол",
            Self::BirthDate => "дата рождения",
            Self::Height => "рост",
            Self::Weight => "вес",
        }
    }
}

/// Why a goal cannot be calculated. `Display` is the original's Russian message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoalCalcError {
    /// Some of gender, birth date, height, weight are missing (listed, in that order).
    #[error("Необходимо заполнить профиль: пол, дата рождения, рост, вес")]
    IncompleteProfile {
        /// The missing fields, never empty.
        missing: Vec<RequiredField>,
    },
    /// The birth date is after today.
    #[error("Не удалось рассчитать возраст")]
    AgeUnknown,
    /// Age outside 10–120 years.
    #[error("Возраст должен быть от 10 до 120 лет")]
    AgeOutOfRange {
        /// The computed age.
        age: u32,
    },
    /// Weight outside 20–500 kg.
    #[error("Вес должен быть от 20 до 500 кг")]
    WeightOutOfRange,
    /// Height outside 50–250 cm.
    #[error("Рост должен быть от 50 до 250 см")]
    HeightOutOfRange,
    /// The formula gave no positive energy (only possible at the edges of the ranges). New:
    /// the original returned negative calories here.
    #[error("Не удалось рассчитать цель: проверьте данные профиля")]
    NonPositiveResult,
}

impl GoalCalcError {
    /// Stable machine-readable code.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::IncompleteProfile { .. } => "profile_incomplete",
            Self::AgeUnknown => "age_unknown",
            Self::AgeOutOfRange { .. } => "age_out_of_range",
            Self::WeightOutOfRange => "weight_out_of_range",
            Self::HeightOutOfRange => "height_out_of_range",
            Self::NonPositiveResult => "non_positive_result",
        }
    }
}

/// What the calculation reads from a profile. Height and weight are the raw stored values
/// (not range-checked newtypes) so that old out-of-range rows get the original's messages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MifflinInput {
    /// Sex.
    pub gender: Option<Gender>,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Height, cm.
    pub height_cm: Option<i32>,
    /// Weight, kg (a `numeric(5,2)` as its nearest `f64`).
    pub weight_kg: Option<f64>,
    /// Activity level.
    pub activity_level: ActivityLevel,
    /// Goal.
    pub goal_type: GoalType,
}

/// A daily target: whole kcal and macros rounded to two decimals. Serialises as the
/// `goals/calculate/` body `{calories:int, protein, fat, carbohydrates}` (numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct GoalTargets {
    /// Energy, whole kcal. A calculated goal may be below [`GOAL_CALORIES_MIN`].
    pub calories: u32,
    /// Protein, g.
    pub protein: MacroGrams,
    /// Fat, g.
    pub fat: MacroGrams,
    /// Carbohydrates, g.
    pub carbohydrates: MacroGrams,
}

/// Calculates the daily goal from a profile, exactly as the original (§3.5):
///
/// 1. preconditions, in the original's order: gender, birth date, height and weight present
///    (non-zero); age computable; age 10–120; weight 20–500; height 50–250;
/// 2. `BMR = 10·w + 6.25·h − 5·age`, then `+5` for men, `−161` for women;
/// 3. `× activity multiplier`, then `× 0.8` (loss) / `× 1.2` (gain);
/// 4. calories **truncated** toward zero;
/// 5. protein `cal·0.30/4`, fat `cal·0.25/9`, carbs `cal·0.45/4`, each Python `round(x, 2)`.
///
/// # Errors
/// The first failed precondition, see [`GoalCalcError`].
pub fn calculate_daily_goal(
    input: &MifflinInput,
    today: NaiveDate,
) -> Result<GoalTargets, GoalCalcError> {
    let gender = input.gender;
    let birth_date = input.birth_date;
    let height = input.height_cm.filter(|h| *h != 0);
    let weight = input.weight_kg.filter(|w| *w != 0.0);
    let mut missing = Vec::new();
    if gender.is_none() {
        missing.push(RequiredField::Gender);
    }
    if birth_date.is_none() {
        missing.push(RequiredField::BirthDate);
    }
    if height.is_none() {
        missing.push(RequiredField::Height);
    }
    if weight.is_none() {
        missing.push(RequiredField::Weight);
    }
    let (Some(gender), Some(birth_date), Some(height), Some(weight)) =
        (gender, birth_date, height, weight)
    else {
        return Err(GoalCalcError::IncompleteProfile { missing });
    };
    let age = age(birth_date, today).ok_or(GoalCalcError::AgeUnknown)?;
    daily_goal_for_age(
        gender,
        age,
        weight,
        height,
        input.activity_level,
        input.goal_type,
    )
}

/// The same calculation from an age in years (the bot survey asks for age, not a birth
/// date). Range checks: age, then weight, then height.
///
/// # Errors
/// [`GoalCalcError::AgeOutOfRange`], [`GoalCalcError::WeightOutOfRange`],
/// [`GoalCalcError::HeightOutOfRange`] or [`GoalCalcError::NonPositiveResult`].
pub fn daily_goal_for_age(
    gender: Gender,
    age_years: u32,
    weight_kg: f64,
    height_cm: i32,
    activity: ActivityLevel,
    goal: GoalType,
) -> Result<GoalTargets, GoalCalcError> {
    if !(10..=120).contains(&age_years) {
        return Err(GoalCalcError::AgeOutOfRange { age: age_years });
    }
    if !(20.0..=500.0).contains(&weight_kg) {
        return Err(GoalCalcError::WeightOutOfRange);
    }
    if !(50..=250).contains(&height_cm) {
        return Err(GoalCalcError::HeightOutOfRange);
    }
    // Same operations in the same order as the Python, so the f64 results are identical.
    let mut bmr = 10.0 * weight_kg + 6.25 * f64::from(height_cm) - 5.0 * f64::from(age_years);
    match gender {
        Gender::Male => bmr += 5.0,
        Gender::Female => bmr -= 161.0,
    }
    let mut tdee = bmr * activity.multiplier();
    match goal {
        GoalType::WeightLoss => tdee *= 0.8,
        GoalType::WeightGain => tdee *= 1.2,
        GoalType::Maintenance => {}
    }
    // Python int(): truncation toward zero. tdee is bounded (< 50 000) by the ranges above.
    let truncated = tdee.trunc();
    if truncated < 1.0 {
        return Err(GoalCalcError::NonPositiveResult);
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1 ≤ truncated < 50 000
    let calories = truncated as u32;
    let kcal = f64::from(calories);
    let macro_of = |x: f64| MacroGrams::from_f64_rounded(py_round(x, 2)).unwrap_or_default();
    Ok(GoalTargets {
        calories,
        protein: macro_of((kcal * 0.30) / 4.0),
        fat: macro_of((kcal * 0.25) / 9.0),
        carbohydrates: macro_of((kcal * 0.45) / 4.0),
    })
}

/// Smallest daily calorie goal a user may set.
pub const GOAL_CALORIES_MIN: u32 = 500;
/// Largest daily calorie goal a user may set.
pub const GOAL_CALORIES_MAX: u32 = 10_000;

/// Why a manually entered goal value was refused. `Display` is the original's Russian text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoalValueError {
    /// Calories below 500.
    #[error("Минимальная цель калорий: 500 ккал")]
    CaloriesTooLow,
    /// Calories above 10 000.
    #[error("Максимальная цель калорий: 10000 ккал")]
    CaloriesTooHigh,
    /// A macro is not a valid non-negative value with ≤ 2 decimals, or exceeds 9 999.99.
    #[error(transparent)]
    Macro(#[from] UnitError),
}

/// Validates a manual goal's calories (`500..=10000`).
///
/// # Errors
/// [`GoalValueError::CaloriesTooLow`] or [`GoalValueError::CaloriesTooHigh`].
pub fn parse_goal_calories(calories: i64) -> Result<u32, GoalValueError> {
    if calories < i64::from(GOAL_CALORIES_MIN) {
        Err(GoalValueError::CaloriesTooLow)
    } else if calories > i64::from(GOAL_CALORIES_MAX) {
        Err(GoalValueError::CaloriesTooHigh)
    } else {
        u32::try_from(calories).map_err(|_| GoalValueError::CaloriesTooHigh)
    }
}

/// Validates a manual goal's macro (`numeric(6,2)`, ≥ 0, ≤ 9 999.99).
///
/// # Errors
/// [`GoalValueError::Macro`].
pub fn check_goal_macro(value: MacroGrams) -> Result<MacroGrams, GoalValueError> {
    Ok(value.check_item_limit()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn input(
        gender: Gender,
        birth: NaiveDate,
        weight: f64,
        height: i32,
        activity: ActivityLevel,
        goal: GoalType,
    ) -> MifflinInput {
        MifflinInput {
            gender: Some(gender),
            birth_date: Some(birth),
            height_cm: Some(height),
            weight_kg: Some(weight),
            activity_level: activity,
            goal_type: goal,
        }
    }

    fn macros(t: &GoalTargets) -> (u32, f64, f64, f64) {
        (
            t.calories,
            t.protein.to_f64(),
            t.fat.to_f64(),
            t.carbohydrates.to_f64(),
        )
    }

    #[test]
    fn worked_example_male() {
        let today = date(2026, 1, 12);
        let i = input(
            Gender::Male,
            date(1989, 6, 1), // 36 on 2026-01-12
            80.5,
            180,
            ActivityLevel::ModeratelyActive,
            GoalType::WeightLoss,
        );
        let t = calculate_daily_goal(&i, today).unwrap();
        assert_eq!(macros(&t), (2176, 163.2, 60.44, 244.8));
        assert_eq!(
            serde_json::to_value(t).unwrap(),
            serde_json::json!({"calories": 2176, "protein": 163.2, "fat": 60.44, "carbohydrates": 244.8})
        );
    }

    #[test]
    fn worked_example_female() {
        let t = daily_goal_for_age(
            Gender::Female,
            30,
            60.0,
            165,
            ActivityLevel::LightlyActive,
            GoalType::WeightLoss,
        )
        .unwrap();
        assert_eq!(macros(&t), (1452, 108.9, 40.33, 163.35));
    }

    #[test]
    fn calories_are_truncated_not_rounded() {
        // Male 36y 80.5 kg 180 cm moderately_active maintenance: 1755 × 1.55 = 2720.25.
        let t = daily_goal_for_age(
            Gender::Male,
            36,
            80.5,
            180,
            ActivityLevel::ModeratelyActive,
            GoalType::Maintenance,
        )
        .unwrap();
        assert_eq!(t.calories, 2720);
        // Female 30y 60 kg 165 cm lightly_active loss: 1452.275 → 1452 (tested above);
        // weight gain: 1815.34375 × 1.2 = 2178.4125 → 2178.
        let g = daily_goal_for_age(
            Gender::Female,
            30,
            60.0,
            165,
            ActivityLevel::LightlyActive,
            GoalType::WeightGain,
        )
        .unwrap();
        assert_eq!(g.calories, 2178);
    }

    #[test]
    fn missing_fields_are_listed() {
        let today = date(2026, 1, 12);
        let empty = MifflinInput {
            gender: None,
            birth_date: None,
            height_cm: None,
            weight_kg: None,
            activity_level: ActivityLevel::Sedentary,
            goal_type: GoalType::Maintenance,
        };
        let err = calculate_daily_goal(&empty, today).unwrap_err();
        assert_eq!(
            err,
            GoalCalcError::IncompleteProfile {
                missing: vec![
                    RequiredField::Gender,
                    RequiredField::BirthDate,
                    RequiredField::Height,
                    RequiredField::Weight
                ]
            }
        );
        assert_eq!(
            err.to_string(),
            "Необходимо заполнить профиль: пол, дата рождения, рост, вес"
        );
        // Zero height/weight are "not filled" (Python truthiness).
        let zeroes = MifflinInput {
            gender: Some(Gender::Female),
            birth_date: Some(date(1990, 1, 1)),
            height_cm: Some(0),
            weight_kg: Some(0.0),
            ..empty
        };
        assert_eq!(
            calculate_daily_goal(&zeroes, today),
            Err(GoalCalcError::IncompleteProfile {
                missing: vec![RequiredField::Height, RequiredField::Weight]
            })
        );
    }

    #[test]
    fn preconditions_in_the_original_order_with_its_messages() {
        let today = date(2026, 1, 12);
        let base = input(
            Gender::Male,
            date(1990, 1, 1),
            80.0,
            180,
            ActivityLevel::Sedentary,
            GoalType::Maintenance,
        );
        let future = MifflinInput {
            birth_date: Some(date(2026, 1, 13)),
            ..base
        };
        let e = calculate_daily_goal(&future, today).unwrap_err();
        assert_eq!(
            (e.code(), e.to_string().as_str()),
            ("age_unknown", "Не удалось рассчитать возраст")
        );

        let child = MifflinInput {
            birth_date: Some(date(2017, 1, 13)),
            weight_kg: Some(5.0),
            ..base
        };
        let e = calculate_daily_goal(&child, today).unwrap_err();
        assert_eq!(e, GoalCalcError::AgeOutOfRange { age: 8 });
        assert_eq!(e.to_string(), "Возраст должен быть от 10 до 120 лет");

        let heavy = MifflinInput {
            weight_kg: Some(500.01),
            height_cm: Some(300),
            ..base
        };
        let e = calculate_daily_goal(&heavy, today).unwrap_err();
        assert_eq!(e.to_string(), "Вес должен быть от 20 до 500 кг");

        let nan = MifflinInput {
            weight_kg: Some(f64::NAN),
            ..base
        };
        assert_eq!(
            calculate_daily_goal(&nan, today),
            Err(GoalCalcError::WeightOutOfRange)
        );

        let tall = MifflinInput {
            height_cm: Some(251),
            ..base
        };
        let e = calculate_daily_goal(&tall, today).unwrap_err();
        assert_eq!(e.to_string(), "Рост должен быть от 50 до 250 см");

        let negative = MifflinInput {
            height_cm: Some(-180),
            ..base
        };
        assert_eq!(
            calculate_daily_goal(&negative, today),
            Err(GoalCalcError::HeightOutOfRange)
        );
    }

    #[test]
    fn boundaries_are_inclusive() {
        for (age, weight, height) in [(10, 20.0, 50), (120, 500.0, 250)] {
            assert!(
                daily_goal_for_age(
                    Gender::Male,
                    age,
                    weight,
                    height,
                    ActivityLevel::Sedentary,
                    GoalType::Maintenance
                )
                .is_ok()
            );
        }
    }

    #[test]
    fn non_positive_energy_is_an_error_not_a_negative_goal() {
        // 10·20 + 6.25·50 − 5·120 − 161 = −248.5 (the original returned −298 kcal).
        assert_eq!(
            daily_goal_for_age(
                Gender::Female,
                120,
                20.0,
                50,
                ActivityLevel::Sedentary,
                GoalType::Maintenance
            ),
            Err(GoalCalcError::NonPositiveResult)
        );
    }

    #[test]
    fn manual_goal_validation() {
        assert_eq!(parse_goal_calories(500), Ok(500));
        assert_eq!(parse_goal_calories(10_000), Ok(10_000));
        let low = parse_goal_calories(400).unwrap_err();
        assert_eq!(low.to_string(), "Минимальная цель калорий: 500 ккал");
        let high = parse_goal_calories(10_001).unwrap_err();
        assert_eq!(high.to_string(), "Максимальная цель калорий: 10000 ккал");
        assert!(check_goal_macro(MacroGrams::from_hundredths(999_999)).is_ok());
        assert!(check_goal_macro(MacroGrams::from_hundredths(1_000_000)).is_err());
    }

    proptest! {
        #[test]
        fn macros_follow_the_percentages(
            male in any::<bool>(),
            age in 10_u32..=120,
            weight_centi in 2000_u32..=50000,
            height in 50_i32..=250,
            activity in 0_usize..5,
            goal in 0_usize..3,
        ) {
            let gender = if male { Gender::Male } else { Gender::Female };
            let weight = f64::from(weight_centi) / 100.0;
            let result = daily_goal_for_age(
                gender, age, weight, height, ActivityLevel::ALL[activity], GoalType::ALL[goal],
            );
            if let Ok(t) = result {
                let kcal = f64::from(t.calories);
                // Each macro is its share of calories, within the two-decimal rounding.
                prop_assert!((t.protein.to_f64() - kcal * 0.30 / 4.0).abs() <= 0.005 + 1e-9);
                prop_assert!((t.fat.to_f64() - kcal * 0.25 / 9.0).abs() <= 0.005 + 1e-9);
                prop_assert!((t.carbohydrates.to_f64() - kcal * 0.45 / 4.0).abs() <= 0.005 + 1e-9);
                // Atwater of the result is the calories within rounding.
                let atwater = 4.0 * t.protein.to_f64() + 9.0 * t.fat.to_f64() + 4.0 * t.carbohydrates.to_f64();
                prop_assert!((atwater - kcal).abs() < 0.1);
            }
        }
    }
}

//! Nutrition math and profile rules: units (grams, kcal, macro grams), the closed sets of the
//! nutrition domain, the Mifflin-St Jeor daily goal, profile validation, the user's calendar
//! day, rescaling by grams, the photo and meal state machines, diary math and the Atwater
//! check. Pure functions of their inputs: no IO, no clock.
//!
//! Numbers: energy and macros are fixed-point hundredths ([`Kcal`], [`MacroGrams`]) so sums are
//! exact; they are JSON numbers on the wire. Rounding is always to nearest with ties to even:
//! exact rational rounding for our own arithmetic, and [`py_round`] (`CPython`'s `round` on the
//! exact binary value) where the original's float results must be reproduced bit for bit.

mod atwater;
mod day;
mod diary;
mod enums;
mod fixed;
mod goal;
mod profile;
mod profile_update;
mod scale;
mod status;
mod units;
mod weight;

pub use atwater::{
    AtwaterTolerance, KCAL_PER_G_CARBS, KCAL_PER_G_FAT, KCAL_PER_G_PROTEIN, atwater_kcal,
    is_atwater_consistent,
};
pub use day::{FutureDateError, check_meal_date, user_today};
pub use diary::{
    ADHERENCE_TOLERANCE_PERCENT, DaySummary, MAX_RANGE_DAYS, MealTotals, Percent, Progress,
    RangeError, RangeSummary, WeeklyAverages, WeeklyDay, WeeklyStats, day_totals, progress,
    range_summary, weekly_stats,
};
pub use enums::{
    ActivityLevel, Gender, GoalSource, GoalType, MealStatus, MealType, ParseEnumError, PhotoStatus,
    SurveyActivity, SurveyGender, TrainingLevel,
};
pub use fixed::py_round;
pub use goal::{
    GOAL_CALORIES_MAX, GOAL_CALORIES_MIN, GoalCalcError, GoalTargets, GoalValueError, MifflinInput,
    RequiredField, calculate_daily_goal, check_goal_macro, daily_goal_for_age, parse_goal_calories,
};
pub use profile::{
    DEFAULT_TIMEZONE, FullName, HeightCm, Profile, ProfileErrorKind, ProfileField,
    ProfileFieldError, WeightKg, age, bmi, check_birth_date, effective_timezone, parse_timezone,
};
pub use profile_update::ProfileUpdate;
pub use scale::rescale;
pub use status::{InvalidTransition, MealOutcome, PhotoEvent, finalize_meal, photo_transition};
pub use units::{Grams, Kcal, MacroGrams, NutrientField, Nutrients, UnitError};
pub use weight::{TREND_ALPHA, TREND_RESET_DAYS, weight_trend};

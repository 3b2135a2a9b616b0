//! Diary math (§3.7): day totals, progress towards the goal, weekly statistics and a range
//! summary. FAILED meals never count anywhere (the original's weekly stats counted them).

use chrono::{Days, NaiveDate};
use serde::{Serialize, Serializer};

use super::fixed::{clamp_centi, div_round_half_even};
use super::goal::GoalTargets;
use super::units::{Kcal, MacroGrams, Nutrients};

/// One meal reduced to what the statistics need (the store can compute it with one query).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MealTotals {
    /// The meal's calendar day.
    pub date: NaiveDate,
    /// The meal's status; FAILED meals are skipped.
    pub status: super::enums::MealStatus,
    /// How many food items it has.
    pub item_count: u32,
    /// Sum over its items.
    pub total: Nutrients,
}

/// Totals over the items of the non-FAILED meals given (the caller passes one day's meals).
#[must_use]
pub fn day_totals<'a, I>(meals: I) -> Nutrients
where
    I: IntoIterator<Item = &'a MealTotals>,
{
    meals
        .into_iter()
        .filter(|m| m.status.counts_in_diary())
        .map(|m| m.total)
        .sum()
}

/// A percentage with one decimal (fixed-point tenths). Serialises as a JSON number (`9.3`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(u64);

impl Percent {
    /// 0 %.
    pub const ZERO: Self = Self(0);

    /// `round(part / whole × 100, 1)`, exact and ties to even; 0 when `whole` is 0.
    /// `part` and `whole` are in the same unit (e.g. hundredths).
    #[must_use]
    pub fn of(part: u64, whole: u64) -> Self {
        Self(clamp_centi(div_round_half_even(
            u128::from(part) * 1000,
            u128::from(whole),
        )))
    }

    /// In tenths of a percent (`93` is 9.3 %).
    #[must_use]
    pub const fn tenths(self) -> u64 {
        self.0
    }

    /// As `f64` (`9.3`).
    #[must_use]
    pub fn to_f64(self) -> f64 {
        // < 10^15 < 2^53: exact; one division, correctly rounded.
        #[allow(clippy::cast_precision_loss)]
        let tenths = self.0 as f64;
        tenths / 10.0
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.to_f64())
    }
}

/// Progress towards the daily goal, per value, in percent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Progress {
    /// Calories, %.
    pub calories: Percent,
    /// Protein, %.
    pub protein: Percent,
    /// Fat, %.
    pub fat: Percent,
    /// Carbohydrates, %.
    pub carbohydrates: Percent,
}

/// `round(total / goal × 100, 1)` per value; all 0 without a goal, 0 for a zero goal value.
///
/// Computed exactly on fixed-point values with ties to even (the original used decimals for
/// calories and floats for macros; results differ only on exact binary ties).
#[must_use]
pub fn progress(total: &Nutrients, goal: Option<&GoalTargets>) -> Progress {
    let Some(goal) = goal else {
        return Progress::default();
    };
    Progress {
        calories: Percent::of(total.calories.hundredths(), u64::from(goal.calories) * 100),
        protein: Percent::of(total.protein.hundredths(), goal.protein.hundredths()),
        fat: Percent::of(total.fat.hundredths(), goal.fat.hundredths()),
        carbohydrates: Percent::of(
            total.carbohydrates.hundredths(),
            goal.carbohydrates.hundredths(),
        ),
    }
}

/// Per-day sums over `days` days from `from`, skipping FAILED meals and meals outside the
/// range: `(totals, items, meals)` per day.
fn bucket_by_day<'a, I>(from: NaiveDate, days: usize, meals: I) -> Vec<(Nutrients, u64, u32)>
where
    I: IntoIterator<Item = &'a MealTotals>,
{
    let mut buckets = vec![(Nutrients::ZERO, 0_u64, 0_u32); days];
    for meal in meals {
        if !meal.status.counts_in_diary() {
            continue;
        }
        let offset = meal.date.signed_duration_since(from).num_days();
        if let Some(bucket) = usize::try_from(offset)
            .ok()
            .and_then(|i| buckets.get_mut(i))
        {
            bucket.0 += meal.total;
            bucket.1 += u64::from(meal.item_count);
            bucket.2 += 1;
        }
    }
    buckets
}

/// One day of the weekly statistics. Note the key `carbs` (the original's wire name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WeeklyDay {
    /// The day.
    pub date: NaiveDate,
    /// Calories.
    pub calories: Kcal,
    /// Protein, g.
    pub protein: MacroGrams,
    /// Fat, g.
    pub fat: MacroGrams,
    /// Carbohydrates, g.
    pub carbs: MacroGrams,
}

/// Weekly averages, each `round(sum over 7 days / 7, 1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct WeeklyAverages {
    /// Calories.
    pub calories: Kcal,
    /// Protein, g.
    pub protein: MacroGrams,
    /// Fat, g.
    pub fat: MacroGrams,
    /// Carbohydrates, g.
    pub carbs: MacroGrams,
}

/// The `GET /stats/weekly/` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WeeklyStats {
    /// First day (any weekday).
    pub start_date: NaiveDate,
    /// `start_date + 6`.
    pub end_date: NaiveDate,
    /// Seven days, in order; empty days are zeros.
    pub daily_data: Vec<WeeklyDay>,
    /// Averages over all seven days (divisor always 7).
    pub averages: WeeklyAverages,
}

/// Weekly statistics for `start_date ..= start_date + 6` from the user's meals (others are
/// ignored). FAILED meals are excluded, consistent with the diary (a fix). `None` only if the
/// range leaves the calendar.
#[must_use]
pub fn weekly_stats<'a, I>(start_date: NaiveDate, meals: I) -> Option<WeeklyStats>
where
    I: IntoIterator<Item = &'a MealTotals>,
{
    let end_date = start_date.checked_add_days(Days::new(6))?;
    let buckets = bucket_by_day(start_date, 7, meals);
    let mut daily_data = Vec::with_capacity(7);
    let mut date = start_date;
    for (totals, _, _) in &buckets {
        daily_data.push(WeeklyDay {
            date,
            calories: totals.calories,
            protein: totals.protein,
            fat: totals.fat,
            carbs: totals.carbohydrates,
        });
        date = date.succ_opt().unwrap_or(date);
    }
    let sum: Nutrients = buckets.iter().map(|b| b.0).sum();
    // round(sum / 7, 1) in tenths = sum_hundredths / 70, back to hundredths × 10.
    let avg = |centi: u64| clamp_centi(div_round_half_even(u128::from(centi), 70) * 10);
    Some(WeeklyStats {
        start_date,
        end_date,
        daily_data,
        averages: WeeklyAverages {
            calories: Kcal::from_hundredths(avg(sum.calories.hundredths())),
            protein: MacroGrams::from_hundredths(avg(sum.protein.hundredths())),
            fat: MacroGrams::from_hundredths(avg(sum.fat.hundredths())),
            carbs: MacroGrams::from_hundredths(avg(sum.carbohydrates.hundredths())),
        },
    })
}

/// Longest range a summary covers, in days (inclusive).
pub const MAX_RANGE_DAYS: u32 = 366;

/// A day counts as "on goal" when its calories are within this many percent of the goal.
pub const ADHERENCE_TOLERANCE_PERCENT: u64 = 10;

/// Why a range was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// `to` is before `from`.
    #[error("Дата окончания раньше даты начала")]
    EndBeforeStart,
    /// More than [`MAX_RANGE_DAYS`] days.
    #[error("Период не может быть длиннее 366 дней")]
    TooLong {
        /// Requested length in days.
        days: i64,
    },
}

/// One day of a range summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DaySummary {
    /// The day.
    pub date: NaiveDate,
    /// Totals of its non-FAILED meals.
    pub totals: Nutrients,
    /// Number of non-FAILED meals.
    pub meals: u32,
    /// Whether any food item was logged that day.
    pub logged: bool,
    /// Progress towards the goal (zeros without a goal).
    pub progress: Progress,
    /// Whether calories were within ±[`ADHERENCE_TOLERANCE_PERCENT`] % of the goal; `None`
    /// without a goal or when nothing was logged.
    pub on_goal: Option<bool>,
}

/// Summary of a date range against the current goal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RangeSummary {
    /// First day.
    pub from: NaiveDate,
    /// Last day (inclusive).
    pub to: NaiveDate,
    /// Every day of the range, in order.
    pub days: Vec<DaySummary>,
    /// The goal compared against (the active one; goal history is not kept).
    pub goal: Option<GoalTargets>,
    /// Days with at least one item.
    pub days_logged: u32,
    /// Logged days on goal.
    pub days_on_goal: u32,
    /// `days_on_goal / days_logged` in percent; `None` without a goal or a logged day.
    pub adherence_percent: Option<Percent>,
    /// Sum over the range.
    pub total: Nutrients,
    /// Average per **logged** day (rounded to hundredths, ties to even); zeros if none.
    pub average_per_logged_day: Nutrients,
}

/// Summarises `from ..= to` (at most [`MAX_RANGE_DAYS`] days): per-day totals, progress
/// towards `goal`, days logged, adherence. Meals outside the range and FAILED meals are
/// ignored.
///
/// # Errors
/// [`RangeError`] for a reversed or too long range.
pub fn range_summary<'a, I>(
    from: NaiveDate,
    to: NaiveDate,
    meals: I,
    goal: Option<&GoalTargets>,
) -> Result<RangeSummary, RangeError>
where
    I: IntoIterator<Item = &'a MealTotals>,
{
    let span = to.signed_duration_since(from).num_days();
    if span < 0 {
        return Err(RangeError::EndBeforeStart);
    }
    let days = span + 1;
    if days > i64::from(MAX_RANGE_DAYS) {
        return Err(RangeError::TooLong { days });
    }
    let count = usize::try_from(days).map_err(|_| RangeError::TooLong { days })?;
    let buckets = bucket_by_day(from, count, meals);

    let mut out = Vec::with_capacity(count);
    let (mut days_logged, mut days_on_goal) = (0_u32, 0_u32);
    let mut total = Nutrients::ZERO;
    let mut logged_total = Nutrients::ZERO;
    let mut date = from;
    for &(totals, items, meal_count) in &buckets {
        let logged = items > 0;
        let on_goal = match (goal, logged) {
            (Some(g), true) => Some(within_tolerance(totals.calories, g.calories)),
            _ => None,
        };
        if logged {
            days_logged += 1;
            logged_total += totals;
        }
        if on_goal == Some(true) {
            days_on_goal += 1;
        }
        total += totals;
        out.push(DaySummary {
            date,
            totals,
            meals: meal_count,
            logged,
            progress: progress(&totals, goal),
            on_goal,
        });
        date = date.succ_opt().unwrap_or(date);
    }
    let adherence_percent = (goal.is_some() && days_logged > 0)
        .then(|| Percent::of(u64::from(days_on_goal), u64::from(days_logged)));
    let per_day = |centi: u64| {
        clamp_centi(div_round_half_even(
            u128::from(centi),
            u128::from(days_logged),
        ))
    };
    let average_per_logged_day = Nutrients {
        calories: Kcal::from_hundredths(per_day(logged_total.calories.hundredths())),
        protein: MacroGrams::from_hundredths(per_day(logged_total.protein.hundredths())),
        fat: MacroGrams::from_hundredths(per_day(logged_total.fat.hundredths())),
        carbohydrates: MacroGrams::from_hundredths(per_day(
            logged_total.carbohydrates.hundredths(),
        )),
    };
    Ok(RangeSummary {
        from,
        to,
        days: out,
        goal: goal.copied(),
        days_logged,
        days_on_goal,
        adherence_percent,
        total,
        average_per_logged_day,
    })
}

/// `|kcal − goal| ≤ tolerance % × goal`, exactly.
fn within_tolerance(kcal: Kcal, goal_kcal: u32) -> bool {
    let goal_centi = u128::from(goal_kcal) * 100;
    let diff = u128::from(kcal.hundredths()).abs_diff(goal_centi);
    diff * 100 <= u128::from(ADHERENCE_TOLERANCE_PERCENT) * goal_centi
}

#[cfg(test)]
mod tests {
    use super::super::enums::MealStatus;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn nut(c: u64, p: u64, f: u64, carbs: u64) -> Nutrients {
        Nutrients {
            calories: Kcal::from_hundredths(c),
            protein: MacroGrams::from_hundredths(p),
            fat: MacroGrams::from_hundredths(f),
            carbohydrates: MacroGrams::from_hundredths(carbs),
        }
    }

    fn meal(d: NaiveDate, status: MealStatus, total: Nutrients) -> MealTotals {
        MealTotals {
            date: d,
            status,
            item_count: 1,
            total,
        }
    }

    fn goal() -> GoalTargets {
        GoalTargets {
            calories: 2100,
            protein: MacroGrams::from_whole(150),
            fat: MacroGrams::from_whole(70),
            carbohydrates: MacroGrams::from_whole(250),
        }
    }

    #[test]
    fn day_totals_skip_failed_meals() {
        let d = date(2026, 1, 12);
        let meals = [
            meal(d, MealStatus::Complete, nut(10_050, 500, 300, 1_000)),
            meal(d, MealStatus::Draft, nut(9_500, 250, 0, 0)),
            meal(d, MealStatus::Processing, nut(0, 0, 0, 0)),
            meal(d, MealStatus::Failed, nut(99_900, 9_900, 9_900, 9_900)),
        ];
        assert_eq!(day_totals(&meals), nut(19_550, 750, 300, 1_000));
        assert_eq!(day_totals(&[]), Nutrients::ZERO);
    }

    #[test]
    fn progress_example_from_the_reference() {
        // 195.5 kcal against 2100 → 9.3 %.
        let total = nut(19_550, 7_500, 0, 25_025);
        let p = progress(&total, Some(&goal()));
        assert_eq!(p.calories.to_f64(), 9.3);
        assert_eq!(p.protein.to_f64(), 50.0);
        assert_eq!(p.fat.to_f64(), 0.0);
        assert_eq!(p.carbohydrates.to_f64(), 100.1); // 100.1 exactly
        assert_eq!(
            serde_json::to_value(p).unwrap(),
            json!({"calories": 9.3, "protein": 50.0, "fat": 0.0, "carbohydrates": 100.1})
        );
    }

    #[test]
    fn progress_without_goal_or_with_zero_goal_is_zero() {
        let total = nut(19_550, 100, 100, 100);
        assert_eq!(progress(&total, None), Progress::default());
        let zero = GoalTargets {
            calories: 0,
            protein: MacroGrams::ZERO,
            fat: MacroGrams::ZERO,
            carbohydrates: MacroGrams::ZERO,
        };
        assert_eq!(progress(&total, Some(&zero)), Progress::default());
    }

    #[test]
    fn percent_rounding_ties_to_even() {
        assert_eq!(Percent::of(1, 2000).tenths(), 0); // 0.05 → 0.0
        assert_eq!(Percent::of(3, 2000).tenths(), 2); // 0.15 → 0.2
        assert_eq!(Percent::of(5, 2000).tenths(), 2); // 0.25 → 0.2
        assert_eq!(Percent::of(300, 100).to_f64(), 300.0);
    }

    #[test]
    fn weekly_stats_shape_and_averages() {
        let start = date(2026, 1, 7); // a Wednesday: any weekday is fine
        let meals = [
            meal(
                start,
                MealStatus::Complete,
                nut(100_000, 5_000, 3_000, 10_000),
            ),
            meal(date(2026, 1, 9), MealStatus::Draft, nut(50_000, 0, 0, 0)),
            meal(date(2026, 1, 9), MealStatus::Failed, nut(70_000, 0, 0, 0)),
            meal(
                date(2026, 1, 14),
                MealStatus::Complete,
                nut(99_900, 0, 0, 0),
            ), // day 8: outside
            meal(date(2026, 1, 6), MealStatus::Complete, nut(99_900, 0, 0, 0)), // before
        ];
        let w = weekly_stats(start, &meals).unwrap();
        assert_eq!(w.end_date, date(2026, 1, 13));
        assert_eq!(w.daily_data.len(), 7);
        assert_eq!(w.daily_data[2].date, date(2026, 1, 9));
        assert_eq!(w.daily_data[2].calories, Kcal::from_whole(500)); // FAILED excluded
        assert_eq!(w.daily_data[6].calories, Kcal::ZERO);
        // (1000 + 500) / 7 = 214.2857… → 214.3; 50/7 = 7.142… → 7.1; 30/7 → 4.3; 100/7 → 14.3.
        assert_eq!(w.averages.calories.to_f64(), 214.3);
        assert_eq!(w.averages.protein.to_f64(), 7.1);
        assert_eq!(w.averages.fat.to_f64(), 4.3);
        assert_eq!(w.averages.carbs.to_f64(), 14.3);
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v["start_date"], json!("2026-01-07"));
        assert_eq!(v["end_date"], json!("2026-01-13"));
        assert_eq!(
            v["daily_data"][0],
            json!({"date": "2026-01-07", "calories": 1000.0, "protein": 50.0, "fat": 30.0, "carbs": 100.0})
        );
        assert_eq!(
            v["averages"],
            json!({"calories": 214.3, "protein": 7.1, "fat": 4.3, "carbs": 14.3})
        );
    }

    #[test]
    fn weekly_stats_at_the_end_of_the_calendar() {
        assert!(weekly_stats(NaiveDate::MAX, &[]).is_none());
    }

    #[test]
    fn range_summary_counts_logged_days_and_adherence() {
        let from = date(2026, 1, 1);
        let to = date(2026, 1, 10);
        let g = goal(); // 2100 kcal: on goal within 1890..=2310
        let meals = [
            meal(
                date(2026, 1, 1),
                MealStatus::Complete,
                nut(189_000, 0, 0, 0),
            ), // on goal (edge)
            meal(
                date(2026, 1, 2),
                MealStatus::Complete,
                nut(231_001, 0, 0, 0),
            ), // just over
            meal(date(2026, 1, 3), MealStatus::Draft, nut(100_000, 0, 0, 0)),
            meal(date(2026, 1, 3), MealStatus::Draft, nut(110_000, 0, 0, 0)), // 2100 total
            meal(date(2026, 1, 4), MealStatus::Failed, nut(210_000, 0, 0, 0)), // not counted
            MealTotals {
                date: date(2026, 1, 5),
                status: MealStatus::Draft,
                item_count: 0,
                total: Nutrients::ZERO,
            },
        ];
        let s = range_summary(from, to, &meals, Some(&g)).unwrap();
        assert_eq!(s.days.len(), 10);
        assert_eq!(s.days_logged, 3);
        assert_eq!(s.days_on_goal, 2);
        assert_eq!(s.adherence_percent.map(Percent::to_f64), Some(66.7));
        assert_eq!(s.days[0].on_goal, Some(true));
        assert_eq!(s.days[1].on_goal, Some(false));
        assert_eq!(s.days[2].meals, 2);
        assert_eq!(s.days[2].progress.calories.to_f64(), 100.0);
        assert!(!s.days[3].logged);
        assert_eq!(s.days[4].meals, 1);
        assert!(!s.days[4].logged); // an empty manual meal is not "logged"
        assert_eq!(s.total.calories.hundredths(), 189_000 + 231_001 + 210_000);
        assert_eq!(s.average_per_logged_day.calories.hundredths(), 210_000); // 630001/3 = 210000.33
        assert_eq!(s.days[9].date, to);
    }

    #[test]
    fn range_summary_limits() {
        let d = date(2026, 1, 1);
        assert_eq!(
            range_summary(d, d.pred_opt().unwrap(), &[], None),
            Err(RangeError::EndBeforeStart)
        );
        let last = d.checked_add_days(Days::new(365)).unwrap();
        assert_eq!(range_summary(d, last, &[], None).unwrap().days.len(), 366);
        let too_far = last.succ_opt().unwrap();
        assert_eq!(
            range_summary(d, too_far, &[], None),
            Err(RangeError::TooLong { days: 367 })
        );
        let one = range_summary(d, d, &[], None).unwrap();
        assert_eq!(
            (one.days.len(), one.days_logged, one.adherence_percent),
            (1, 0, None)
        );
        assert_eq!(one.average_per_logged_day, Nutrients::ZERO);
    }

    proptest! {
        #[test]
        fn weekly_sum_equals_diary_totals(
            entries in proptest::collection::vec((0_u64..10, 0_u64..1_000_000, 0_usize..4), 0..30)
        ) {
            let start = date(2026, 3, 1);
            let meals: Vec<MealTotals> = entries.iter().map(|&(day, kcal, s)| MealTotals {
                date: start.checked_add_days(Days::new(day)).unwrap(),
                status: MealStatus::ALL[s],
                item_count: 1,
                total: nut(kcal, kcal / 10, kcal / 20, kcal / 5),
            }).collect();
            let w = weekly_stats(start, &meals).unwrap();
            for day in &w.daily_data {
                let same_day: Vec<&MealTotals> = meals.iter().filter(|m| m.date == day.date).collect();
                let expected = day_totals(same_day);
                prop_assert_eq!(day.calories, expected.calories);
                prop_assert_eq!(day.carbs, expected.carbohydrates);
            }
            let r = range_summary(start, w.end_date, &meals, None).unwrap();
            let week_sum: Kcal = w.daily_data.iter().map(|d| d.calories).sum();
            prop_assert_eq!(r.total.calories, week_sum);
            // The average is within half a tenth of the exact mean.
            let exact = week_sum.to_f64() / 7.0;
            prop_assert!((w.averages.calories.to_f64() - exact).abs() <= 0.05 + 1e-9);
        }
    }
}

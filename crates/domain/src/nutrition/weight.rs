//! The weight log's trend line: an exponentially smoothed moving average, as in John Walker's
//! *The Hacker's Diet* ("The Hacker's Diet", ch. "Signal and Noise").
//!
//! `trend₀ = weight₀`, then for every following **day** `trendₙ = trendₙ₋₁ + α·(weightₙ − trendₙ₋₁)`
//! with α = [`TREND_ALPHA`] = 0.1 (each day's reading moves the trend by a tenth of its distance
//! from it; day-to-day water swings are damped, a real change shows within about two weeks).
//!
//! The smoothing is per calendar day, not per entry: when days are missing between two entries
//! the weights of the missing days are interpolated linearly and smoothed one day at a time (what
//! the Hacker's Diet Online does), so a weekly weigher and a daily weigher get comparable
//! trends. After a gap longer than [`TREND_RESET_DAYS`] the trend restarts at the new weight
//! (0.9³⁶⁵ ≈ 2·10⁻¹⁷: the old history no longer matters anyway).

use chrono::NaiveDate;

/// Smoothing factor of the trend (Hacker's Diet: 0.1 per day).
pub const TREND_ALPHA: f64 = 0.1;

/// A gap (in days) after which the trend restarts at the new weight.
pub const TREND_RESET_DAYS: i64 = 365;

/// The trend value at each entry of a weight log, rounded to hundredths of a kg.
///
/// `entries` are `(date, kg)` sorted by ascending date, one per day (as the log stores them).
/// Out-of-order or repeated dates are tolerated: they count as one day's step.
#[must_use]
pub fn weight_trend(entries: &[(NaiveDate, f64)]) -> Vec<f64> {
    let mut out = Vec::with_capacity(entries.len());
    let mut state: Option<(NaiveDate, f64, f64)> = None; // (date, weight, trend)
    for &(date, kg) in entries {
        let trend = match state {
            None => kg,
            Some((prev_date, prev_kg, trend)) => {
                let gap = (date - prev_date).num_days();
                if gap > TREND_RESET_DAYS {
                    kg
                } else if gap <= 1 {
                    trend + TREND_ALPHA * (kg - trend)
                } else {
                    let mut t = trend;
                    #[allow(clippy::cast_precision_loss)] // 2 ≤ gap ≤ 365
                    let span = gap as f64;
                    for day in 1..=gap {
                        #[allow(clippy::cast_precision_loss)]
                        let share = day as f64 / span;
                        let interpolated = prev_kg + (kg - prev_kg) * share;
                        t += TREND_ALPHA * (interpolated - t);
                    }
                    t
                }
            }
        };
        state = Some((date, kg, trend));
        out.push(round2(trend));
    }
    out
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
    }

    #[test]
    fn empty_and_single() {
        assert!(weight_trend(&[]).is_empty());
        assert_eq!(weight_trend(&[(d(1), 80.5)]), vec![80.5]);
    }

    #[test]
    fn daily_entries_move_a_tenth_of_the_way() {
        let t = weight_trend(&[(d(1), 80.0), (d(2), 81.0), (d(3), 81.0), (d(4), 79.0)]);
        // 80 → 80.1 → 80.19 → 80.071
        assert_eq!(t, vec![80.0, 80.1, 80.19, 80.07]);
    }

    #[test]
    fn missing_days_are_interpolated_and_smoothed_day_by_day() {
        // Day 2 is interpolated as 81: 80 → 80.1 (day 2) → 80.29 (day 3, 82).
        let t = weight_trend(&[(d(1), 80.0), (d(3), 82.0)]);
        assert_eq!(t, vec![80.0, 80.29]);
        // A week without weighing at a constant weight: the step response 1 − 0.9⁷.
        let t = weight_trend(&[(d(1), 80.0), (d(8), 80.0), (d(15), 90.0)]);
        let expected = 80.0
            + 10.0
                * (1..=7)
                    .map(|i| f64::from(i) / 7.0)
                    .fold(0.0, |t, w| t + 0.1 * (w - t));
        assert_eq!(t[1], 80.0);
        assert!((t[2] - round2(expected)).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn a_long_gap_restarts_the_trend() {
        let later = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap();
        assert_eq!(
            weight_trend(&[(d(1), 80.0), (later, 70.0)]),
            vec![80.0, 70.0]
        );
    }

    #[test]
    fn disordered_input_does_not_panic() {
        let t = weight_trend(&[(d(5), 80.0), (d(1), 90.0), (d(1), 90.0)]);
        assert_eq!(t.len(), 3);
        assert_eq!(t[1], 81.0);
    }

    proptest! {
        #[test]
        fn trend_stays_between_the_extremes(
            weights in proptest::collection::vec((1_i64..10, 2000_u32..50000), 1..60),
        ) {
            let mut date = d(1);
            let mut entries = Vec::new();
            for (step, centi) in weights {
                date += chrono::Duration::days(step);
                entries.push((date, f64::from(centi) / 100.0));
            }
            let min = entries.iter().map(|e| e.1).fold(f64::INFINITY, f64::min);
            let max = entries.iter().map(|e| e.1).fold(f64::NEG_INFINITY, f64::max);
            let trend = weight_trend(&entries);
            prop_assert_eq!(trend.len(), entries.len());
            for t in trend {
                prop_assert!(t >= min - 0.005 && t <= max + 0.005, "{t} not in [{min}, {max}]");
            }
        }
    }
}

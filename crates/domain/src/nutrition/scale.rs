//! Rescaling an item's nutrients when its grams change and the client did not send new
//! values (DESIGN.md §3).

use super::fixed::{clamp_centi, div_round_half_even};
use super::units::{Grams, Kcal, MacroGrams, Nutrients};

/// The nutrients of an item whose weight changes from `old_grams` to `new_grams`, at the same
/// composition: each value × `new_grams / old_grams`.
///
/// Rounding: computed exactly on hundredths and rounded once to the nearest hundredth, ties to
/// even. Scaling there and back (a → b → a) returns within `½ + ½·a/b` hundredths of the
/// start (at most 1 hundredth when scaling up first). The result may exceed the per-item
/// column limits; check with [`Nutrients::check_item_limits`].
#[must_use]
pub fn rescale(old: Nutrients, old_grams: Grams, new_grams: Grams) -> Nutrients {
    if old_grams == new_grams {
        return old;
    }
    let (from, to) = (u128::from(old_grams.get()), u128::from(new_grams.get()));
    let scale = |centi: u64| clamp_centi(div_round_half_even(u128::from(centi) * to, from));
    Nutrients {
        calories: Kcal::from_hundredths(scale(old.calories.hundredths())),
        protein: MacroGrams::from_hundredths(scale(old.protein.hundredths())),
        fat: MacroGrams::from_hundredths(scale(old.fat.hundredths())),
        carbohydrates: MacroGrams::from_hundredths(scale(old.carbohydrates.hundredths())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(v: i64) -> Grams {
        Grams::parse(v).unwrap()
    }

    fn n(c: u64, p: u64, f: u64, carbs: u64) -> Nutrients {
        Nutrients {
            calories: Kcal::from_hundredths(c),
            protein: MacroGrams::from_hundredths(p),
            fat: MacroGrams::from_hundredths(f),
            carbohydrates: MacroGrams::from_hundredths(carbs),
        }
    }

    #[test]
    fn doubling_and_halving() {
        let rice = n(13_000, 270, 30, 2_800); // 130 kcal, 2.7 / 0.3 / 28 per 100 g
        assert_eq!(rescale(rice, g(100), g(200)), n(26_000, 540, 60, 5_600));
        assert_eq!(rescale(rice, g(100), g(50)), n(6_500, 135, 15, 1_400));
        assert_eq!(rescale(rice, g(100), g(100)), rice);
    }

    #[test]
    fn rounding_is_half_even_on_the_exact_quotient() {
        // 0.01 × 150/100 = 0.015 → 0.02 (tie, to even); 0.03 × 150/100 = 0.045 → 0.04.
        let r = rescale(n(1, 3, 5, 0), g(100), g(150));
        assert_eq!(r, n(2, 4, 8, 0)); // 0.075 → 0.08
        // 100 kcal × 1/3 = 33.333… → 33.33.
        assert_eq!(
            rescale(n(10_000, 0, 0, 0), g(3), g(1)).calories,
            Kcal::from_hundredths(3_333)
        );
    }

    #[test]
    fn extreme_ratios_do_not_overflow() {
        let max = n(9_999_999, 999_999, 999_999, 999_999);
        let up = rescale(max, g(1), g(5000));
        assert_eq!(up.calories.hundredths(), 9_999_999 * 5000);
        assert!(up.check_item_limits().is_err());
        assert_eq!(rescale(n(1, 1, 1, 1), g(5000), g(1)), Nutrients::ZERO);
    }

    proptest! {
        #[test]
        fn there_and_back_is_stable_within_rounding(
            c in 0_u64..10_000_000, a in 1_i64..=5000, b in 1_i64..=5000,
        ) {
            let start = n(c, c / 10, c / 100, c / 7);
            let back = rescale(rescale(start, g(a), g(b)), g(b), g(a));
            let (a, b) = (a.unsigned_abs(), b.unsigned_abs());
            for (x0, x2) in [
                (start.calories.hundredths(), back.calories.hundredths()),
                (start.protein.hundredths(), back.protein.hundredths()),
                (start.fat.hundredths(), back.fat.hundredths()),
                (start.carbohydrates.hundredths(), back.carbohydrates.hundredths()),
            ] {
                // |x2 − x0| ≤ ½ + ½·a/b  ⇔  2·b·|x2 − x0| ≤ b + a
                prop_assert!(2 * b * x0.abs_diff(x2) <= b + a, "{x0} -> {x2} via {a}/{b}");
                if b >= a {
                    prop_assert!(x0.abs_diff(x2) <= 1);
                }
            }
        }

        #[test]
        fn one_step_error_is_at_most_half_a_hundredth(
            c in 0_u64..10_000_000, a in 1_i64..=5000, b in 1_i64..=5000,
        ) {
            let r = rescale(n(c, 0, 0, 0), g(a), g(b)).calories.hundredths();
            let (a, b) = (u128::from(a.unsigned_abs()), u128::from(b.unsigned_abs()));
            // |r − c·b/a| ≤ ½  ⇔  |2·r·a − 2·c·b| ≤ a
            let lhs = (2 * u128::from(r) * a).abs_diff(2 * u128::from(c) * b);
            prop_assert!(lhs <= a);
        }

        #[test]
        fn monotonic_in_grams(c in 0_u64..10_000_000, a in 1_i64..=5000, b in 1_i64..5000) {
            let old = n(c, 0, 0, 0);
            let r1 = rescale(old, g(a), g(b));
            let r2 = rescale(old, g(a), g(b + 1));
            prop_assert!(r1.calories <= r2.calories);
        }
    }
}

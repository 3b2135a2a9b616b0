//! Energy and macronutrients, scaling by grams, and the Atwater consistency check.

use serde::Serialize;

use crate::table::Food;

/// Largest amount of one item the library will compute for, in grams. Larger quantities are
/// clamped (a typo like "20000 г" must not log 30 000 kcal).
pub const MAX_GRAMS: f64 = 5000.0;

/// Energy (kcal) and macronutrients (grams). Values are always finite and non-negative.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Nutrients {
    /// Energy, kcal.
    pub kcal: f64,
    /// Protein, g.
    pub protein: f64,
    /// Fat, g.
    pub fat: f64,
    /// Carbohydrate (by difference, as in SR28), g.
    pub carbs: f64,
}

/// NaN, infinities and negatives become 0.
fn sane(v: f64) -> f64 {
    if v.is_finite() && v > 0.0 { v } else { 0.0 }
}

/// Within `tolerance` relative, or 5 kcal absolute.
fn close(stated: f64, computed: f64, tolerance: f64) -> bool {
    let diff = (computed - stated).abs();
    diff <= 5.0 || diff <= tolerance * stated.max(computed)
}

/// Rounds to one decimal place.
fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl Nutrients {
    /// Builds a value, replacing NaN, infinite and negative inputs by 0.
    pub fn new(kcal: f64, protein: f64, fat: f64, carbs: f64) -> Self {
        Self {
            kcal: sane(kcal),
            protein: sane(protein),
            fat: sane(fat),
            carbs: sane(carbs),
        }
    }

    /// These values multiplied by `factor` (a non-finite or negative factor gives zeros).
    pub fn scaled(&self, factor: f64) -> Self {
        let f = sane(factor);
        Self::new(
            self.kcal * f,
            self.protein * f,
            self.fat * f,
            self.carbs * f,
        )
    }

    /// Every value rounded to one decimal place.
    pub fn rounded(&self) -> Self {
        Self::new(
            round1(self.kcal),
            round1(self.protein),
            round1(self.fat),
            round1(self.carbs),
        )
    }

    /// Energy by the general Atwater factors: 4·protein + 9·fat + 4·carbs.
    pub fn atwater_kcal(&self) -> f64 {
        4.0 * self.protein + 9.0 * self.fat + 4.0 * self.carbs
    }

    /// Energy by Atwater factors with fibre counted at 2 kcal/g instead of 4 (SR28 carbohydrate
    /// is "by difference" and includes fibre): 4·P + 9·F + 4·(C − fibre) + 2·fibre.
    pub fn atwater_kcal_with_fiber(&self, fiber: f64) -> f64 {
        let fiber = sane(fiber).min(self.carbs);
        self.atwater_kcal() - 2.0 * fiber
    }

    /// Whether the stated kcal agree with [`Self::atwater_kcal`] within `tolerance` (relative,
    /// e.g. `0.15`), or within 5 kcal absolute for nearly energy-free foods (tea, water).
    pub fn is_atwater_consistent(&self, tolerance: f64) -> bool {
        close(self.kcal, self.atwater_kcal(), tolerance)
    }

    /// Like [`Self::is_atwater_consistent`], also accepting agreement with
    /// [`Self::atwater_kcal_with_fiber`] (vegetables, greens).
    pub fn is_atwater_consistent_with_fiber(&self, fiber: f64, tolerance: f64) -> bool {
        self.is_atwater_consistent(tolerance)
            || close(self.kcal, self.atwater_kcal_with_fiber(fiber), tolerance)
    }
}

impl std::ops::Add for Nutrients {
    type Output = Nutrients;

    fn add(self, o: Nutrients) -> Nutrients {
        Nutrients::new(
            self.kcal + o.kcal,
            self.protein + o.protein,
            self.fat + o.fat,
            self.carbs + o.carbs,
        )
    }
}

impl std::iter::Sum for Nutrients {
    fn sum<I: Iterator<Item = Nutrients>>(iter: I) -> Self {
        iter.fold(Nutrients::default(), |a, b| a + b)
    }
}

/// Clamps grams into `0..=MAX_GRAMS`; NaN becomes 0.
pub fn clamp_grams(grams: f64) -> f64 {
    if grams.is_nan() {
        0.0
    } else {
        grams.clamp(0.0, MAX_GRAMS)
    }
}

/// Nutrients in `grams` of `food`, rounded to one decimal place. Grams are clamped into
/// `0..=MAX_GRAMS` first; the result never holds NaN or negatives.
pub fn nutrients_for(food: &Food, grams: f64) -> Nutrients {
    food.per_100g.scaled(clamp_grams(grams) / 100.0).rounded()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn new_sanitises_bad_values() {
        let n = Nutrients::new(f64::NAN, -3.0, f64::INFINITY, 2.0);
        assert_eq!(n, Nutrients::new(0.0, 0.0, 0.0, 2.0));
    }

    #[test]
    fn scaling_and_rounding() {
        let n = Nutrients::new(92.0, 3.38, 0.62, 19.94)
            .scaled(1.5)
            .rounded();
        assert_eq!(n, Nutrients::new(138.0, 5.1, 0.9, 29.9));
        assert_eq!(
            Nutrients::new(1.0, 1.0, 1.0, 1.0).scaled(-1.0),
            Nutrients::default()
        );
    }

    #[test]
    fn atwater_check() {
        // Cooked buckwheat: 4*3.38 + 9*0.62 + 4*19.94 = 98.9 vs 92 kcal: within 15 %.
        assert!(Nutrients::new(92.0, 3.38, 0.62, 19.94).is_atwater_consistent(0.15));
        assert!(!Nutrients::new(300.0, 3.0, 1.0, 10.0).is_atwater_consistent(0.15));
        // Tea: 1 kcal vs 1.2 computed: the absolute tolerance applies.
        assert!(Nutrients::new(1.0, 0.0, 0.0, 0.3).is_atwater_consistent(0.15));
        // Broccoli: 41 by general factors vs 34 stated; 36 with fibre at 2 kcal/g.
        let broccoli = Nutrients::new(34.0, 2.82, 0.37, 6.64);
        assert!(!broccoli.is_atwater_consistent(0.15));
        assert!(broccoli.is_atwater_consistent_with_fiber(2.6, 0.15));
        assert!((broccoli.atwater_kcal_with_fiber(2.6) - 35.97).abs() < 0.01);
    }

    #[test]
    fn sum_adds_up() {
        let total: Nutrients = [Nutrients::new(1.0, 2.0, 3.0, 4.0); 3].into_iter().sum();
        assert_eq!(total, Nutrients::new(3.0, 6.0, 9.0, 12.0));
    }

    #[test]
    fn clamp() {
        assert_eq!(clamp_grams(f64::NAN), 0.0);
        assert_eq!(clamp_grams(-5.0), 0.0);
        assert_eq!(clamp_grams(1e9), MAX_GRAMS);
        assert_eq!(clamp_grams(150.0), 150.0);
    }

    proptest! {
        #[test]
        fn scaled_is_never_negative_or_nan(
            k in proptest::num::f64::ANY, p in proptest::num::f64::ANY,
            f in proptest::num::f64::ANY, c in proptest::num::f64::ANY,
            factor in proptest::num::f64::ANY,
        ) {
            let n = Nutrients::new(k, p, f, c).scaled(factor).rounded();
            for v in [n.kcal, n.protein, n.fat, n.carbs] {
                prop_assert!(v.is_finite() && v >= 0.0);
            }
        }
    }
}

//! The Atwater check: energy from macros at 4 / 9 / 4 kcal per gram of protein / fat /
//! carbohydrates, to catch implausible recognised or entered values.

use super::units::{Kcal, MacroGrams};

/// kcal per gram of protein.
pub const KCAL_PER_G_PROTEIN: u64 = 4;
/// kcal per gram of fat.
pub const KCAL_PER_G_FAT: u64 = 9;
/// kcal per gram of carbohydrates.
pub const KCAL_PER_G_CARBS: u64 = 4;

/// Energy implied by the macros: `4·p + 9·f + 4·c`, exact.
#[must_use]
pub fn atwater_kcal(protein: MacroGrams, fat: MacroGrams, carbohydrates: MacroGrams) -> Kcal {
    let centi = protein
        .hundredths()
        .saturating_mul(KCAL_PER_G_PROTEIN)
        .saturating_add(fat.hundredths().saturating_mul(KCAL_PER_G_FAT))
        .saturating_add(carbohydrates.hundredths().saturating_mul(KCAL_PER_G_CARBS));
    Kcal::from_hundredths(centi)
}

/// How far stated kcal may be from the Atwater estimate: consistent when
/// `|kcal − atwater| ≤ max(absolute, relative_percent % × max(kcal, atwater))`.
///
/// The absolute floor keeps small portions (a cucumber, tea with sugar) from failing on
/// rounding; the relative part allows fibre, polyols and label rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AtwaterTolerance {
    /// Relative allowance, percent of the larger of the two values.
    pub relative_percent: u32,
    /// Absolute allowance.
    pub absolute: Kcal,
}

impl AtwaterTolerance {
    /// 20 % or 15 kcal, whichever is larger (a starting point for the sanity checks of
    /// recognised items; alcohol is not among the macros, so drinks may need more).
    pub const DEFAULT: Self = Self {
        relative_percent: 20,
        absolute: Kcal::from_whole(15),
    };
}

impl Default for AtwaterTolerance {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whether `kcal` agrees with the macros within `tolerance`.
#[must_use]
pub fn is_atwater_consistent(
    kcal: Kcal,
    protein: MacroGrams,
    fat: MacroGrams,
    carbohydrates: MacroGrams,
    tolerance: AtwaterTolerance,
) -> bool {
    let estimate = atwater_kcal(protein, fat, carbohydrates);
    let diff = u128::from(kcal.abs_diff(estimate).hundredths());
    let larger = u128::from(kcal.max(estimate).hundredths());
    let relative = larger * u128::from(tolerance.relative_percent);
    diff * 100 <= relative || diff <= u128::from(tolerance.absolute.hundredths())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn g(x: f64) -> MacroGrams {
        MacroGrams::parse_f64(x).unwrap()
    }

    fn k(x: f64) -> Kcal {
        Kcal::parse_f64(x).unwrap()
    }

    #[test]
    fn atwater_sum() {
        // Chicken breast 100 g: P 31, F 3.6, C 0 → 124 + 32.4 = 156.4 kcal.
        assert_eq!(atwater_kcal(g(31.0), g(3.6), g(0.0)), k(156.4));
        assert_eq!(atwater_kcal(g(0.01), g(0.01), g(0.01)), k(0.17));
        assert_eq!(
            atwater_kcal(MacroGrams::ZERO, MacroGrams::ZERO, MacroGrams::ZERO),
            Kcal::ZERO
        );
    }

    #[test]
    fn consistency_with_the_default_tolerance() {
        let t = AtwaterTolerance::DEFAULT;
        // Label says 165 kcal for 156.4 computed: within 20 %.
        assert!(is_atwater_consistent(k(165.0), g(31.0), g(3.6), g(0.0), t));
        // 400 kcal claimed for 156.4: not plausible.
        assert!(!is_atwater_consistent(k(400.0), g(31.0), g(3.6), g(0.0), t));
        // Zero macros with 500 kcal: not plausible; with 10 kcal: the absolute floor accepts.
        assert!(!is_atwater_consistent(k(500.0), g(0.0), g(0.0), g(0.0), t));
        assert!(is_atwater_consistent(k(10.0), g(0.0), g(0.0), g(0.0), t));
        // Exact boundary: 120 vs 100 computed, 20 % of 120 = 24 ≥ 20.
        assert!(is_atwater_consistent(k(120.0), g(25.0), g(0.0), g(0.0), t));
        let strict = AtwaterTolerance {
            relative_percent: 0,
            absolute: Kcal::ZERO,
        };
        assert!(is_atwater_consistent(
            k(100.0),
            g(25.0),
            g(0.0),
            g(0.0),
            strict
        ));
        assert!(!is_atwater_consistent(
            k(100.01),
            g(25.0),
            g(0.0),
            g(0.0),
            strict
        ));
    }

    proptest! {
        #[test]
        fn the_atwater_value_is_always_consistent(p in 0_u64..1_000_000, f in 0_u64..1_000_000, c in 0_u64..1_000_000, rel in 0_u32..100) {
            let (p, f, c) = (MacroGrams::from_hundredths(p), MacroGrams::from_hundredths(f), MacroGrams::from_hundredths(c));
            let kcal = atwater_kcal(p, f, c);
            let t = AtwaterTolerance { relative_percent: rel, absolute: Kcal::ZERO };
            prop_assert!(is_atwater_consistent(kcal, p, f, c, t));
        }

        #[test]
        fn tolerance_is_monotonic(kcal in 0_u64..10_000_000, p in 0_u64..100_000, rel in 0_u32..99) {
            let (kcal, p) = (Kcal::from_hundredths(kcal), MacroGrams::from_hundredths(p));
            let narrow = AtwaterTolerance { relative_percent: rel, absolute: Kcal::ZERO };
            let wide = AtwaterTolerance { relative_percent: rel + 1, absolute: Kcal::ZERO };
            if is_atwater_consistent(kcal, p, MacroGrams::ZERO, MacroGrams::ZERO, narrow) {
                prop_assert!(is_atwater_consistent(kcal, p, MacroGrams::ZERO, MacroGrams::ZERO, wide));
            }
        }
    }
}

//! Grounding and sanity checks of recognised items (DESIGN.md §6, ai-pipeline.md §7.2–7.3).
//!
//! Every item the model returns goes through [`ground`]:
//!
//! 1. **Name**: control characters removed, trimmed; empty → the item is rejected; longer than
//!    [`Checks::max_name_chars`] (255, the `FoodItem.name` column) → truncated.
//! 2. **Grams**: missing, non-finite or negative → the item is **rejected** (no portion, no
//!    numbers worth keeping); below 1 → raised to 1 (as the original backend did); above
//!    [`Checks::max_grams`] (5000) → **clamped**, and the model's kcal/macros are scaled by the
//!    same factor so the energy density is kept. Grams are rounded to whole grams.
//! 3. **Table**: the name (Russian, then `name_en`) is looked up in
//!    [`foods::FoodTable::builtin`]. A confident match whose energy density is within a factor
//!    of 3 of the model's (or when the model gave no kcal) computes kcal/macros from the table's
//!    per-100 g values: `grounded: true, source: "table"`. Otherwise the model's numbers are
//!    kept (`grounded: false, source: "model"`) and checked:
//! 4. **Numbers**: missing, NaN, infinite or negative kcal/macros → 0. Macros above 100 g per
//!    100 g in sum are scaled down to 100.
//! 5. **Atwater**: kcal must agree with 4·P + 9·F + 4·C within [`Checks::atwater_tolerance`]
//!    (20 %, or 5 kcal absolute). When it does not and the macros are known, kcal is recomputed
//!    from the macros (`kcal_from_macros`). Alcoholic drinks are exempt (ethanol carries
//!    7 kcal/g that no macro accounts for).
//! 6. **Density**: kcal above [`Checks::max_kcal_per_100g`] (900, pure fat) per 100 g is capped.
//!
//! Every change is recorded in `adjustments`. The result never holds NaN, infinities or
//! negatives (property-tested below).

use contract::{Item, ItemSource};
use foods::{FoodTable, Locale as FoodLocale, Nutrients, nutrients_for};

use crate::contract;

/// An item as the model returned it; every field may be missing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelItem {
    /// Name (Russian).
    pub name: Option<String>,
    /// Name (English).
    pub name_en: Option<String>,
    /// Portion, grams.
    pub grams: Option<f64>,
    /// Energy, kcal.
    pub kcal: Option<f64>,
    /// Protein, g.
    pub protein: Option<f64>,
    /// Fat, g.
    pub fat: Option<f64>,
    /// Carbohydrates, g.
    pub carbohydrates: Option<f64>,
    /// The model's confidence in this item (0..=1, or a percentage).
    pub confidence: Option<f64>,
}

/// Limits of the sanity checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Checks {
    /// Longest name, characters.
    pub max_name_chars: usize,
    /// Smallest portion, grams.
    pub min_grams: f64,
    /// Largest portion, grams.
    pub max_grams: f64,
    /// Highest energy density, kcal per 100 g.
    pub max_kcal_per_100g: f64,
    /// Relative Atwater tolerance.
    pub atwater_tolerance: f64,
    /// Largest ratio between the model's and the table's energy density for which a confident
    /// table match is still trusted.
    pub max_density_ratio: f64,
}

impl Default for Checks {
    fn default() -> Self {
        Self {
            max_name_chars: 255,
            min_grams: 1.0,
            max_grams: foods::MAX_GRAMS,
            max_kcal_per_100g: 900.0,
            atwater_tolerance: 0.2,
            max_density_ratio: 3.0,
        }
    }
}

/// Why an item was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// No usable name.
    #[error("item has no name")]
    EmptyName,
    /// Grams missing, non-finite or negative.
    #[error("item has no valid portion")]
    InvalidGrams,
}

/// Items that passed, and how many were dropped for which reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grounded {
    /// Checked items, in the model's order.
    pub items: Vec<Item>,
    /// Dropped items.
    pub rejected: Vec<Rejected>,
}

/// Grounds and checks every item with the built-in table.
#[must_use]
pub fn ground_all(items: Vec<ModelItem>, checks: &Checks) -> Grounded {
    ground_all_with(FoodTable::builtin(), items, checks)
}

/// Grounds and checks every item with `table`.
#[must_use]
pub fn ground_all_with(table: &FoodTable, items: Vec<ModelItem>, checks: &Checks) -> Grounded {
    let mut out = Grounded::default();
    for item in items {
        match ground(table, item, checks) {
            Ok(i) => out.items.push(i),
            Err(r) => out.rejected.push(r),
        }
    }
    out
}

/// One item: name and grams checks, table grounding, number checks.
pub fn ground(table: &FoodTable, item: ModelItem, checks: &Checks) -> Result<Item, Rejected> {
    let mut adjustments = Vec::new();
    let name = clean_name(
        item.name.as_deref(),
        checks.max_name_chars,
        &mut adjustments,
    )
    .or_else(|| {
        clean_name(
            item.name_en.as_deref(),
            checks.max_name_chars,
            &mut adjustments,
        )
    })
    .ok_or(Rejected::EmptyName)?;
    let name_en = clean_name(
        item.name_en.as_deref(),
        checks.max_name_chars,
        &mut Vec::new(),
    );
    let (grams, factor) = check_grams(item.grams, checks, &mut adjustments)?;
    let scale = |v: Option<f64>| v.map(|x| x * factor);
    let model = Raw {
        kcal: scale(item.kcal),
        protein: scale(item.protein),
        fat: scale(item.fat),
        carbohydrates: scale(item.carbohydrates),
    };
    let confidence = normalize_confidence(item.confidence);

    if let Some(food) = table_match(table, &name, name_en.as_deref(), grams, model.kcal, checks) {
        let n = nutrients_for(food, grams);
        return Ok(Item {
            name,
            name_en,
            grams,
            kcal: n.kcal,
            protein: n.protein,
            fat: n.fat,
            carbohydrates: n.carbs,
            confidence,
            grounded: true,
            source: ItemSource::Table,
            adjustments,
        });
    }
    let n = check_numbers(&name, grams, model, checks, &mut adjustments);
    Ok(Item {
        name,
        name_en,
        grams,
        kcal: n.kcal,
        protein: n.protein,
        fat: n.fat,
        carbohydrates: n.carbs,
        confidence,
        grounded: false,
        source: ItemSource::Model,
        adjustments,
    })
}

/// Re-checks an item received over the wire (the backend's defence in depth against an old or
/// broken proxy): the same name, grams and number checks, no table lookup; `grounded`/`source`
/// are kept only for items that pass the checks unchanged.
pub fn recheck(item: Item, checks: &Checks) -> Result<Item, Rejected> {
    let mut adjustments = item.adjustments.clone();
    let name = clean_name(Some(&item.name), checks.max_name_chars, &mut adjustments)
        .ok_or(Rejected::EmptyName)?;
    let name_en = clean_name(
        item.name_en.as_deref(),
        checks.max_name_chars,
        &mut Vec::new(),
    );
    let (grams, factor) = check_grams(Some(item.grams), checks, &mut adjustments)?;
    let raw = Raw {
        kcal: Some(item.kcal * factor),
        protein: Some(item.protein * factor),
        fat: Some(item.fat * factor),
        carbohydrates: Some(item.carbohydrates * factor),
    };
    let before = adjustments.len();
    let n = if item.grounded {
        // Table values: trusted for Atwater (fibre, acids), still bounded.
        let mut a = Vec::new();
        let n = bounded(raw, grams, checks, &mut a);
        adjustments.extend(a);
        n
    } else {
        check_numbers(&name, grams, raw, checks, &mut adjustments)
    };
    let changed = adjustments.len() > before;
    Ok(Item {
        name,
        name_en,
        grams,
        kcal: n.kcal,
        protein: n.protein,
        fat: n.fat,
        carbohydrates: n.carbs,
        confidence: normalize_confidence(item.confidence),
        grounded: item.grounded && !changed,
        source: if item.grounded && !changed {
            item.source
        } else {
            ItemSource::Model
        },
        adjustments,
    })
}

#[derive(Debug, Clone, Copy)]
struct Raw {
    kcal: Option<f64>,
    protein: Option<f64>,
    fat: Option<f64>,
    carbohydrates: Option<f64>,
}

fn clean_name(raw: Option<&str>, max: usize, adjustments: &mut Vec<String>) -> Option<String> {
    let cleaned: String = raw?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.chars().count() > max {
        push_once(adjustments, "name_truncated");
        let cut: String = trimmed.chars().take(max).collect();
        let cut = cut.trim_end().to_owned();
        return (!cut.is_empty()).then_some(cut);
    }
    Some(trimmed.to_owned())
}

/// Returns (grams, factor applied to the model's numbers).
fn check_grams(
    grams: Option<f64>,
    checks: &Checks,
    adjustments: &mut Vec<String>,
) -> Result<(f64, f64), Rejected> {
    let g = grams.ok_or(Rejected::InvalidGrams)?;
    if !g.is_finite() || g < 0.0 {
        return Err(Rejected::InvalidGrams);
    }
    if g < checks.min_grams {
        push_once(adjustments, "grams_raised");
        return Ok((checks.min_grams, 1.0));
    }
    if g > checks.max_grams {
        push_once(adjustments, "grams_clamped");
        return Ok((checks.max_grams, checks.max_grams / g));
    }
    Ok((g.round().clamp(checks.min_grams, checks.max_grams), 1.0))
}

fn normalize_confidence(c: Option<f64>) -> Option<f64> {
    let c = c.filter(|c| c.is_finite() && *c >= 0.0)?;
    let c = if c > 1.0 { c / 100.0 } else { c };
    Some(c.clamp(0.0, 1.0))
}

fn table_match<'a>(
    table: &'a FoodTable,
    name: &str,
    name_en: Option<&str>,
    grams: f64,
    model_kcal: Option<f64>,
    checks: &Checks,
) -> Option<&'a foods::Food> {
    let found = table
        .lookup(name, FoodLocale::Auto)
        .filter(|m| m.confident)
        .or_else(|| {
            name_en
                .and_then(|n| table.lookup(n, FoodLocale::En))
                .filter(|m| m.confident)
        })?;
    let food = found.food;
    // A confident name match with a wildly different energy density is more likely a wrong
    // match ("салат" for a dressed salad) than a wrong model: keep the model's numbers then.
    if let Some(kcal) = model_kcal.filter(|k| k.is_finite() && *k > 0.0) {
        let model_density = kcal / grams * 100.0;
        let table_density = food.per_100g.kcal;
        let (hi, lo) = if model_density > table_density {
            (model_density, table_density)
        } else {
            (table_density, model_density)
        };
        // Below ~20 kcal/100 g (water, tea, greens) ratios mean little.
        if hi > 20.0 && hi > lo * checks.max_density_ratio {
            return None;
        }
    }
    Some(food)
}

fn sane(v: Option<f64>, adjustments: &mut Vec<String>) -> f64 {
    match v {
        Some(x) if x.is_finite() && x >= 0.0 => x,
        Some(_) => {
            push_once(adjustments, "value_sanitized");
            0.0
        }
        None => {
            push_once(adjustments, "value_missing");
            0.0
        }
    }
}

fn push_once(adjustments: &mut Vec<String>, what: &str) {
    if !adjustments.iter().any(|a| a == what) {
        adjustments.push(what.to_owned());
    }
}

/// Non-finite/negative → 0, macros ≤ 100 g per 100 g, kcal ≤ the density cap.
fn bounded(raw: Raw, grams: f64, checks: &Checks, adjustments: &mut Vec<String>) -> Nutrients {
    let mut kcal = sane(raw.kcal, adjustments);
    let mut p = sane(raw.protein, adjustments);
    let mut f = sane(raw.fat, adjustments);
    let mut c = sane(raw.carbohydrates, adjustments);
    let macro_sum = p + f + c;
    if macro_sum > grams * 1.02 {
        let k = grams / macro_sum;
        p *= k;
        f *= k;
        c *= k;
        push_once(adjustments, "macros_scaled");
    }
    let cap = checks.max_kcal_per_100g * grams / 100.0;
    if kcal > cap {
        kcal = cap;
        push_once(adjustments, "kcal_capped");
    }
    Nutrients::new(kcal, p, f, c)
}

fn check_numbers(
    name: &str,
    grams: f64,
    raw: Raw,
    checks: &Checks,
    adjustments: &mut Vec<String>,
) -> Nutrients {
    let mut n = bounded(raw, grams, checks, adjustments);
    if !n.is_atwater_consistent(checks.atwater_tolerance) {
        let from_macros = n.atwater_kcal();
        if is_alcoholic(name) {
            push_once(adjustments, "atwater_exempt_alcohol");
        } else if from_macros > 0.0 {
            n.kcal = from_macros.min(checks.max_kcal_per_100g * grams / 100.0);
            push_once(adjustments, "kcal_from_macros");
        } else {
            push_once(adjustments, "macros_missing");
        }
    }
    n.rounded()
}

const ALCOHOL: &[&str] = &[
    "пиво",
    "пива",
    "вино",
    "вина",
    "водка",
    "водки",
    "коньяк",
    "коньяка",
    "виски",
    "ром",
    "рома",
    "ликер",
    "ликера",
    "сидр",
    "сидра",
    "шампанское",
    "шампанского",
    "текила",
    "текилы",
    "джин",
    "глинтвейн",
    "коктейль",
    "коктейля",
    "портвейн",
    "мартини",
    "бренди",
    "саке",
    "эль",
    "лагер",
    "просекко",
    "настойка",
    "beer",
    "wine",
    "vodka",
    "whisky",
    "whiskey",
    "cognac",
    "rum",
    "liqueur",
    "cider",
    "champagne",
    "tequila",
    "gin",
    "cocktail",
    "martini",
    "brandy",
    "sake",
    "ale",
    "lager",
    "prosecco",
];

fn is_alcoholic(name: &str) -> bool {
    name.to_lowercase()
        .replace('ё', "е")
        .split(|c: char| !c.is_alphanumeric())
        .any(|t| ALCOHOL.contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn table() -> &'static FoodTable {
        FoodTable::builtin()
    }

    fn model(name: &str, grams: f64, kcal: f64, p: f64, f: f64, c: f64) -> ModelItem {
        ModelItem {
            name: Some(name.to_owned()),
            name_en: None,
            grams: Some(grams),
            kcal: Some(kcal),
            protein: Some(p),
            fat: Some(f),
            carbohydrates: Some(c),
            confidence: Some(0.9),
        }
    }

    #[test]
    fn confident_table_match_recomputes_from_per_100g() {
        // The model's buckwheat numbers are off (double the kcal); the table wins.
        let item = ground(
            table(),
            model("гречка", 200.0, 400.0, 8.0, 2.0, 80.0),
            &Checks::default(),
        )
        .unwrap();
        assert!(item.grounded, "{item:?}");
        assert_eq!(item.source, ItemSource::Table);
        let food = table().lookup("гречка", FoodLocale::Ru).unwrap().food;
        let want = nutrients_for(food, 200.0);
        assert_eq!(item.kcal, want.kcal);
        assert_eq!(item.protein, want.protein);
    }

    #[test]
    fn unknown_dish_keeps_model_numbers_marked_as_estimate() {
        let item = ground(
            table(),
            model("Загадочное блюдо шефа", 250.0, 300.0, 10.0, 12.0, 38.0),
            &Checks::default(),
        )
        .unwrap();
        assert!(!item.grounded);
        assert_eq!(item.source, ItemSource::Model);
        assert_eq!(item.kcal, 300.0);
        assert!(item.adjustments.is_empty(), "{:?}", item.adjustments);
    }

    #[test]
    fn english_name_is_a_fallback_for_matching() {
        let mut m = model("Непонятное название", 100.0, 0.0, 0.0, 0.0, 0.0);
        m.kcal = None;
        m.name_en = Some("buckwheat".into());
        let item = ground(table(), m, &Checks::default()).unwrap();
        assert!(item.grounded, "{item:?}");
        assert_eq!(item.name, "Непонятное название");
    }

    #[test]
    fn wildly_different_density_is_not_grounded() {
        // A model saying 600 kcal per 100 g of "гречка" is far from the table (~100 cooked):
        // treat as a wrong match, keep (checked) model numbers.
        let item = ground(
            table(),
            model("гречка", 100.0, 600.0, 10.0, 60.0, 10.0),
            &Checks::default(),
        )
        .unwrap();
        assert!(!item.grounded, "{item:?}");
    }

    #[test]
    fn atwater_inconsistent_model_numbers_are_recomputed() {
        let item = ground(
            table(),
            model("Блюдо Х", 100.0, 900.0, 10.0, 10.0, 10.0),
            &Checks::default(),
        )
        .unwrap();
        assert_eq!(item.kcal, 170.0);
        assert!(item.adjustments.contains(&"kcal_from_macros".to_owned()));
        // Within tolerance: untouched.
        let ok = ground(
            table(),
            model("Блюдо Х", 100.0, 180.0, 10.0, 10.0, 10.0),
            &Checks::default(),
        )
        .unwrap();
        assert_eq!(ok.kcal, 180.0);
    }

    #[test]
    fn alcohol_is_exempt_from_atwater() {
        let item = ground(
            table(),
            model("Красное вино сухое", 150.0, 125.0, 0.1, 0.0, 4.0),
            &Checks::default(),
        )
        .unwrap();
        assert!(!item.grounded || item.kcal > 50.0);
        if !item.grounded {
            assert_eq!(item.kcal, 125.0);
        }
        assert!(is_alcoholic("Пиво светлое"));
        assert!(!is_alcoholic("Винегрет"));
        assert!(!is_alcoholic("Виноград"));
    }

    #[test]
    fn grams_policy() {
        let c = Checks::default();
        assert_eq!(
            ground(table(), model("Блюдо Х", f64::NAN, 1.0, 0.0, 0.0, 0.25), &c),
            Err(Rejected::InvalidGrams)
        );
        assert_eq!(
            ground(table(), model("Блюдо Х", -5.0, 1.0, 0.0, 0.0, 0.25), &c),
            Err(Rejected::InvalidGrams)
        );
        let mut none = model("Блюдо Х", 1.0, 1.0, 0.0, 0.0, 0.25);
        none.grams = None;
        assert_eq!(ground(table(), none, &c), Err(Rejected::InvalidGrams));
        let zero = ground(table(), model("Блюдо Х", 0.0, 0.0, 0.0, 0.0, 0.0), &c).unwrap();
        assert_eq!(zero.grams, 1.0);
        // 20 kg of something at 200 kcal/100 g: clamped to 5 kg, density kept.
        let huge = ground(
            table(),
            model("Блюдо Х", 20000.0, 40000.0, 2000.0, 1600.0, 4400.0),
            &c,
        )
        .unwrap();
        assert_eq!(huge.grams, 5000.0);
        assert!((huge.kcal - 10000.0).abs() < 60.0, "{}", huge.kcal);
        assert!(huge.adjustments.contains(&"grams_clamped".to_owned()));
    }

    #[test]
    fn names_are_trimmed_truncated_or_rejected() {
        let c = Checks::default();
        assert_eq!(
            ground(table(), model("   \n\t ", 100.0, 1.0, 0.0, 0.0, 0.0), &c),
            Err(Rejected::EmptyName)
        );
        let long = "щ".repeat(400);
        let item = ground(table(), model(&long, 100.0, 100.0, 5.0, 5.0, 9.0), &c).unwrap();
        assert_eq!(item.name.chars().count(), 255);
        assert!(item.adjustments.contains(&"name_truncated".to_owned()));
        let item = ground(
            table(),
            model("  Суп дня \u{0007} ", 100.0, 40.0, 2.0, 1.0, 5.0),
            &c,
        )
        .unwrap();
        assert_eq!(item.name, "Суп дня");
    }

    #[test]
    fn density_and_macro_caps() {
        let c = Checks::default();
        // Macros above the portion weight are scaled down; kcal follows them.
        let item = ground(
            table(),
            model("Блюдо Х", 100.0, 2000.0, 100.0, 100.0, 100.0),
            &c,
        )
        .unwrap();
        assert!(
            item.protein + item.fat + item.carbohydrates <= 102.1,
            "{item:?}"
        );
        assert!(item.kcal <= 900.0);
        // Macros missing, kcal absurd: capped at 9 kcal/g.
        let mut m = model("Блюдо Х", 100.0, 5000.0, 0.0, 0.0, 0.0);
        m.protein = None;
        let item = ground(table(), m, &c).unwrap();
        assert_eq!(item.kcal, 900.0);
        assert!(item.adjustments.contains(&"kcal_capped".to_owned()));
    }

    #[test]
    fn confidence_percent_and_bounds() {
        assert_eq!(normalize_confidence(Some(85.0)), Some(0.85));
        assert_eq!(normalize_confidence(Some(0.3)), Some(0.3));
        assert_eq!(normalize_confidence(Some(-1.0)), None);
        assert_eq!(normalize_confidence(Some(f64::NAN)), None);
        assert_eq!(normalize_confidence(Some(1e9)), Some(1.0));
    }

    #[test]
    fn recheck_keeps_clean_grounded_items_and_fixes_broken_ones() {
        let c = Checks::default();
        let good = ground(table(), model("гречка", 150.0, 150.0, 5.0, 1.0, 30.0), &c).unwrap();
        let again = recheck(good.clone(), &c).unwrap();
        assert_eq!(again, good);
        let mut bad = good;
        bad.kcal = f64::NAN;
        bad.grams = 1e7;
        let fixed = recheck(bad, &c).unwrap();
        assert!(!fixed.grounded);
        assert!(fixed.kcal.is_finite() && fixed.grams == 5000.0);
    }

    fn any_f64() -> impl Strategy<Value = Option<f64>> {
        prop_oneof![
            Just(None),
            Just(Some(f64::NAN)),
            Just(Some(f64::INFINITY)),
            Just(Some(f64::NEG_INFINITY)),
            Just(Some(-0.0)),
            any::<f64>().prop_map(Some),
            (-10.0f64..10_000.0).prop_map(Some),
        ]
    }

    fn any_name() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            ".{0,300}".prop_map(Some),
            prop::sample::select(vec!["гречка", "яблоко", "кофе", "рис", "пиво", "Салат"])
                .prop_map(|s| Some(s.to_owned())),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_model_numbers_never_yield_nan_or_negatives(
            name in any_name(), name_en in any_name(), grams in any_f64(), kcal in any_f64(),
            p in any_f64(), f in any_f64(), c in any_f64(), conf in any_f64(),
        ) {
            let checks = Checks::default();
            let m = ModelItem { name, name_en, grams, kcal, protein: p, fat: f, carbohydrates: c, confidence: conf };
            if let Ok(item) = ground(table(), m, &checks) {
                for v in [item.grams, item.kcal, item.protein, item.fat, item.carbohydrates] {
                    prop_assert!(v.is_finite() && v >= 0.0, "{item:?}");
                }
                prop_assert!((1.0..=5000.0).contains(&item.grams));
                prop_assert!(item.kcal <= 9.0 * item.grams + 0.1, "{item:?}");
                prop_assert!(!item.name.trim().is_empty() && item.name.chars().count() <= 255);
                if let Some(c) = item.confidence { prop_assert!((0.0..=1.0).contains(&c)); }
                let again = recheck(item.clone(), &checks);
                prop_assert!(again.is_ok());
            }
        }
    }
}

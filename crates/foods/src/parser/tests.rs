//! Tests of the meal text parser.
use super::*;
use crate::MAX_GRAMS;
use proptest::prelude::*;

fn table() -> &'static FoodTable {
    FoodTable::builtin()
}

/// (food name, grams) of each resolved item.
fn logged(text: &str) -> Vec<(String, f64)> {
    log_text(table(), text)
        .into_iter()
        .map(|r| {
            (
                r.food.map_or_else(|| "?".to_owned(), |f| f.name.clone()),
                (r.grams * 10.0).round() / 10.0,
            )
        })
        .collect()
}

fn within(actual: f64, expected: f64, tolerance: f64) -> bool {
    (actual - expected).abs() <= tolerance * expected
}

#[test]
fn buckwheat_and_chicken_breast_match_sr28() {
    let items = log_text(table(), "150 г гречки и 100 г куриной грудки");
    assert_eq!(items.len(), 2, "{items:?}");
    let (b, c) = (&items[0], &items[1]);
    assert!(b.grounded && c.grounded);
    assert_eq!(b.food.and_then(|f| f.ndb), Some(20010));
    assert_eq!(c.food.and_then(|f| f.ndb), Some(5064));
    assert_eq!((b.grams, c.grams), (150.0, 100.0));
    let bn = b.nutrients.expect("nutrients");
    let cn = c.nutrients.expect("nutrients");
    // SR28 20010 (buckwheat groats, roasted, cooked) ×1.5 and 05064 (chicken breast,
    // roasted) ×1.0.
    assert!(within(bn.kcal, 92.0 * 1.5, 0.10), "{bn:?}");
    assert!(within(bn.protein, 3.38 * 1.5, 0.10), "{bn:?}");
    assert!(within(bn.carbs, 19.94 * 1.5, 0.10), "{bn:?}");
    assert!(within(cn.kcal, 165.0, 0.10), "{cn:?}");
    assert!(within(cn.protein, 31.02, 0.10), "{cn:?}");
    assert!(within(cn.fat, 3.57, 0.10), "{cn:?}");
}

#[test]
fn commas_and_trailing_quantities() {
    assert_eq!(
        logged("200 г гречки, куриная грудка 150г, кофе с молоком"),
        vec![
            ("гречка".to_owned(), 200.0),
            ("куриная грудка".to_owned(), 150.0),
            ("кофе с молоком".to_owned(), 250.0),
        ]
    );
}

#[test]
fn with_keeps_one_food_when_the_table_has_it() {
    assert_eq!(
        logged("кофе с молоком"),
        vec![("кофе с молоком".into(), 250.0)]
    );
    assert_eq!(
        logged("гречка с курицей 300 г"),
        vec![("гречка с курицей".into(), 300.0)]
    );
    // No "чай с лимоном" entry: two foods.
    assert_eq!(
        logged("чай с лимоном"),
        vec![("чай".into(), 250.0), ("лимон".into(), 10.0)]
    );
    // A quantity after "с" starts a new item.
    assert_eq!(
        logged("кофе с 2 ч. л. сахара"),
        vec![("кофе".into(), 250.0), ("сахар".into(), 10.0)]
    );
}

#[test]
fn trailing_quantity_after_with_belongs_to_the_main_food() {
    assert_eq!(
        logged("сырники со сметаной 3 шт"),
        vec![("сырники".into(), 150.0), ("сметана 15%".into(), 30.0)]
    );
}

#[test]
fn and_inside_a_table_name_is_kept() {
    assert_eq!(
        logged("macaroni and cheese 250 g"),
        vec![("макароны с сыром".into(), 250.0)]
    );
    assert_eq!(
        logged("гречка и курица"),
        vec![("гречка".into(), 200.0), ("курица".into(), 150.0)]
    );
    assert_eq!(
        logged("стакан молока и печенье 3 шт"),
        vec![("молоко 3.2%".into(), 257.5), ("печенье".into(), 30.0)]
    );
}

#[test]
fn and_splits_listed_foods() {
    assert_eq!(
        logged("гречка 150 г и куриная грудка 100 г"),
        vec![("гречка".into(), 150.0), ("куриная грудка".into(), 100.0)]
    );
    assert_eq!(
        logged("яблоко и банан"),
        vec![("яблоко".into(), 180.0), ("банан".into(), 120.0)]
    );
    assert_eq!(
        logged("борщ; 2 куска хлеба + сметана"),
        vec![
            ("борщ".into(), 300.0),
            ("хлеб белый".into(), 60.0),
            ("сметана 15%".into(), 30.0),
        ]
    );
}

#[test]
fn units() {
    let cases: &[(&str, &str, f64)] = &[
        ("250 гр творога", "творог 5%", 250.0),
        ("0.5 кг картошки", "картофель отварной", 500.0),
        ("1 килограмм яблок", "яблоко", 1000.0),
        ("200 мл кефира", "кефир 2.5%", 206.0),
        ("пиво 0,5 л", "пиво", 505.0),
        ("3 шт пельменей", "пельмени", 36.0),
        ("пельмени 15 штук", "пельмени", 180.0),
        ("2 ст. л. сметаны", "сметана 15%", 40.0),
        ("2 ст.л. сметаны", "сметана 15%", 40.0),
        ("столовая ложка мёда", "мёд", 21.0),
        ("ч. л. сахара", "сахар", 5.0),
        ("3 чайные ложки сахара", "сахар", 15.0),
        ("стакан кефира", "кефир 2.5%", 257.5),
        ("2 стакана воды", "вода", 500.0),
        ("порция плова", "плов", 250.0),
        ("2 порции пельменей", "пельмени", 500.0),
        ("кусок хлеба", "хлеб белый", 30.0),
        ("кружка чая", "чай", 300.0),
        ("бутылка колы", "кола", 520.0),
        ("рюмка водки", "водка", 47.5),
        ("гречка 200", "гречка", 200.0),
    ];
    for (text, food, grams) in cases {
        assert_eq!(logged(text), vec![((*food).to_owned(), *grams)], "{text}");
    }
}

#[test]
fn number_words_and_decimals() {
    let cases: &[(&str, &str, f64)] = &[
        ("1,5 стакана молока", "молоко 3.2%", 386.3),
        ("два яйца", "яйцо", 110.0),
        ("две котлеты", "котлета", 160.0),
        ("три блина", "блины", 135.0),
        ("десять пельменей", "пельмени", 120.0),
        ("одно яблоко", "яблоко", 180.0),
        ("пол стакана кефира", "кефир 2.5%", 128.8),
        ("полстакана кефира", "кефир 2.5%", 128.8),
        ("половина банана", "банан", 60.0),
        ("полтора банана", "банан", 180.0),
        ("1/2 банана", "банан", 60.0),
        ("2 яйца", "яйцо", 110.0),
    ];
    for (text, food, grams) in cases {
        assert_eq!(logged(text), vec![((*food).to_owned(), *grams)], "{text}");
    }
}

#[test]
fn percent_numbers_are_part_of_the_name() {
    assert_eq!(logged("творог 9% 200 г"), vec![("творог 9%".into(), 200.0)]);
    assert_eq!(
        logged("кефир 2,5% стакан"),
        vec![("кефир 2.5%".into(), 257.5)]
    );
    assert_eq!(
        logged("молоко 1.5%, 100 мл"),
        vec![("молоко 1.5%".into(), 103.0)]
    );
    assert_eq!(
        logged("куриная грудка, 150 г"),
        vec![("куриная грудка".into(), 150.0)]
    );
}

#[test]
fn english() {
    assert_eq!(
        logged("200 g buckwheat and 2 eggs"),
        vec![("гречка".into(), 200.0), ("яйцо".into(), 110.0)]
    );
    assert_eq!(logged("a cup of milk"), vec![("молоко 3.2%".into(), 257.5)]);
    assert_eq!(logged("an apple"), vec![("яблоко".into(), 180.0)]);
    assert_eq!(
        logged("chicken breast 150g with rice"),
        vec![("куриная грудка".into(), 150.0), ("рис".into(), 180.0)]
    );
}

#[test]
fn missing_quantity_uses_typical_portion() {
    let items = log_text(table(), "борщ");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].basis, GramsBasis::TypicalPortion);
    assert_eq!(items[0].grams, 300.0);
    assert_eq!(items[0].item.quantity, None);
}

#[test]
fn fillers_are_dropped() {
    let items = parse_meal_text("я съел на завтрак 200 г овсянки на молоке");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].name, "овсянки на молоке");
    assert_eq!(logged("на обед борщ"), vec![("борщ".into(), 300.0)]);
}

#[test]
fn parsed_item_fields() {
    let items = parse_meal_text("200 г гречки");
    assert_eq!(
        items,
        vec![ParsedItem {
            raw: "200 г гречки".into(),
            name: "гречки".into(),
            quantity: Some(200.0),
            unit: Some(Unit::Gram),
            grams: Some(200.0),
        }]
    );
    let items = parse_meal_text("стакан кефира");
    assert_eq!(items[0].unit, Some(Unit::Glass));
    assert_eq!(items[0].grams, None);
}

#[test]
fn grams_are_capped() {
    assert_eq!(
        logged("100000 г гречки"),
        vec![("гречка".into(), MAX_GRAMS)]
    );
    assert_eq!(
        logged("1000 стаканов молока"),
        vec![("молоко 3.2%".into(), MAX_GRAMS)]
    );
}

#[test]
fn unknown_food_is_not_grounded() {
    let items = log_text(table(), "200 г абракадабры");
    assert_eq!(items.len(), 1);
    assert!(!items[0].grounded);
    assert!(items[0].food.is_none());
    assert!(items[0].nutrients.is_none());
    assert_eq!(items[0].grams, 200.0);
}

#[test]
fn empty_and_junk_input() {
    for text in ["", "   ", ",,,;;", "200 г", "и с и", "%%%", "1/0 г"] {
        assert!(parse_meal_text(text).is_empty(), "{text:?}");
    }
}

#[test]
fn grams_for_without_food_uses_defaults() {
    let item = ParsedItem {
        raw: String::new(),
        name: "x".into(),
        quantity: Some(2.0),
        unit: Some(Unit::Glass),
        grams: None,
    };
    assert_eq!(item.grams_for(None), (500.0, GramsBasis::DefaultUnitWeight));
    let item = ParsedItem {
        quantity: None,
        unit: None,
        ..item
    };
    assert_eq!(item.grams_for(None), (DEFAULT_GRAMS, GramsBasis::Default));
}

fn check_items(text: &str) -> Result<(), TestCaseError> {
    let items = log_text(table(), text);
    prop_assert!(items.len() <= MAX_ITEMS);
    for r in items {
        prop_assert!(r.grams.is_finite() && (0.0..=MAX_GRAMS).contains(&r.grams));
        if let Some(g) = r.item.grams {
            prop_assert!(g.is_finite() && (0.0..=MAX_GRAMS).contains(&g));
        }
        if let Some(q) = r.item.quantity {
            prop_assert!(q.is_finite() && q >= 0.0);
        }
        if let Some(n) = r.nutrients {
            for v in [n.kcal, n.protein, n.fat, n.carbs] {
                prop_assert!(v.is_finite() && v >= 0.0);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,80}") {
        check_items(&text)?;
    }

    #[test]
    fn never_panics_on_meal_like_text(
        parts in proptest::collection::vec(
            (
                proptest::option::of(0.0f64..1e12),
                proptest::sample::select(vec![
                    "", "г", "кг", "мл", "л", "шт", "ст. л.", "ч.л.", "стакан", "порция",
                    "кусок", "g", "cups", "%", "пол", "две",
                ]),
                proptest::sample::select(vec![
                    "гречки", "кофе с молоком", "куриной грудки", "творог 9%", "eggs",
                    "абракадабра", "с", "и", "", "1,5",
                ]),
                proptest::sample::select(vec![", ", " и ", " с ", "; ", " and ", " "]),
            ),
            0..6,
        )
    ) {
        let mut text = String::new();
        for (n, unit, food, sep) in parts {
            if let Some(n) = n {
                text.push_str(&format!("{n} "));
            }
            text.push_str(&format!("{unit} {food}{sep}"));
        }
        check_items(&text)?;
    }
}

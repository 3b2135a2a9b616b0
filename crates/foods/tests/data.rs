//! Checks of the committed data: SR28 rows against the source release, and the Russian table
//! for completeness, realistic values and unambiguous names.

use std::collections::HashMap;

use foods::{FoodTable, Locale, Nutrients, Source, Unit};

fn table() -> &'static FoodTable {
    FoodTable::builtin()
}

/// Values copied from SR28 NUT_DATA.txt (nutrients 208, 203, 204, 205, 291).
#[test]
fn sr28_rows_match_the_source_release() {
    let known: &[(u32, &str, [f64; 5])] = &[
        (
            20010,
            "Buckwheat groats, roasted, cooked",
            [92.0, 3.38, 0.62, 19.94, 2.7],
        ),
        (
            5064,
            "Chicken, broilers or fryers, breast, meat only, cooked, roasted",
            [165.0, 31.02, 3.57, 0.0, 0.0],
        ),
        (
            8120,
            "Cereals, oats, regular and quick, not fortified, dry",
            [379.0, 13.15, 6.52, 67.7, 10.1],
        ),
        (
            1077,
            "Milk, whole, 3.25% milkfat, with added vitamin D",
            [61.0, 3.15, 3.25, 4.8, 0.0],
        ),
        (9040, "Bananas, raw", [89.0, 1.09, 0.33, 22.84, 2.6]),
    ];
    for (ndb, desc, [kcal, p, f, c, fiber]) in known {
        let food = table()
            .by_ndb(*ndb)
            .unwrap_or_else(|| panic!("{ndb} missing"));
        assert_eq!(food.name, *desc);
        assert_eq!(food.per_100g, Nutrients::new(*kcal, *p, *f, *c), "{ndb}");
        assert_eq!(food.fiber_100g, Some(*fiber), "{ndb}");
        assert_eq!(food.source, Source::Sr28);
    }
    assert_eq!(
        table().by_ndb(20010).and_then(|f| f.group),
        Some("Cereal Grains and Pasta")
    );
}

/// When the SR28 release is present (as in the project's shared data folder, or wherever
/// `SR28_DIR` points), every committed row must carry the source's values.
#[test]
fn every_committed_sr28_row_matches_the_source_when_available() {
    let dir = std::env::var("SR28_DIR").unwrap_or_else(|_| "/work/shared/data/usda-sr28".into());
    let Ok(bytes) = std::fs::read(format!("{dir}/NUT_DATA.txt")) else {
        eprintln!("SR28 release not found in {dir}; skipping");
        return;
    };
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    let mut values: HashMap<(u32, u32), f64> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('^').map(|s| s.trim_matches('~')).collect();
        if let [ndb, nutr, val, ..] = f.as_slice()
            && let (Ok(ndb), Ok(nutr), Ok(val)) = (ndb.parse(), nutr.parse(), val.parse())
            && matches!(nutr, 203 | 204 | 205 | 208)
        {
            values.insert((ndb, nutr), val);
        }
    }
    let mut checked = 0;
    for food in table().foods().iter().filter(|f| !f.curated) {
        let ndb = food.ndb.expect("SR28 rows have an NDB number");
        let get = |n| values.get(&(ndb, n)).copied();
        let expected = Nutrients::new(
            get(208).expect("kcal"),
            get(203).expect("protein"),
            get(204).expect("fat"),
            get(205).expect("carbs"),
        );
        assert_eq!(food.per_100g, expected, "{ndb} {}", food.name);
        checked += 1;
    }
    assert!(checked > 5000);
}

#[test]
fn russian_table_has_the_everyday_foods() {
    let t = table();
    assert!(t.curated().len() >= 300, "{}", t.curated().len());
    let required = [
        "гречка",
        "овсянка",
        "рис",
        "макароны",
        "творог 5%",
        "творог 9%",
        "кефир 2.5%",
        "молоко 3.2%",
        "сметана 15%",
        "сметана 20%",
        "йогурт",
        "сыр",
        "яйцо",
        "куриная грудка",
        "курица",
        "говядина",
        "свинина",
        "индейка",
        "лосось",
        "минтай",
        "треска",
        "сельдь",
        "тунец",
        "хлеб белый",
        "хлеб ржаной",
        "хлеб бородинский",
        "картофель отварной",
        "картофель жареный",
        "картофельное пюре",
        "борщ",
        "щи",
        "солянка",
        "пельмени",
        "вареники с картошкой",
        "сырники",
        "блины",
        "оладьи",
        "плов",
        "гречка с курицей",
        "котлета",
        "голубцы",
        "оливье",
        "винегрет",
        "шаурма",
        "бутерброд с колбасой",
        "манная каша",
        "пшённая каша",
        "перловая каша",
        "яблоко",
        "банан",
        "огурец",
        "помидор",
        "грецкий орех",
        "шоколад",
        "печенье",
        "кофе с молоком",
        "чай",
        "сок",
        "кола",
        "пиво",
    ];
    for name in required {
        assert!(t.by_name(name).is_some(), "{name} missing");
    }
}

#[test]
fn russian_values_are_realistic() {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    for food in table().curated() {
        let n = food.per_100g;
        let name = &food.name;
        check(n.kcal <= 900.0, format!("{name}: {} kcal/100 g", n.kcal));
        check(
            n.protein + n.fat + n.carbs <= 100.5,
            format!("{name}: macros over 100 g"),
        );
        check(
            food.atwater_ok(0.15),
            format!("{name}: {} kcal vs Atwater {:.0}", n.kcal, n.atwater_kcal()),
        );
        let portion = food.portion_g.unwrap_or_default();
        check(
            (1.0..=1000.0).contains(&portion),
            format!("{name}: portion {portion}"),
        );
        for w in [food.units.piece, food.units.tbsp, food.units.glass] {
            check(
                w.is_none_or(|w| w > 0.0 && w <= 1000.0),
                format!("{name}: unit weight {w:?}"),
            );
        }
        check(
            food.units.density.is_none_or(|d| (0.5..=1.5).contains(&d)),
            format!("{name}: density"),
        );
        check(
            food.ndb.is_some() == (food.source == Source::Sr28),
            format!("{name}: ndb/source"),
        );
        check(
            food.source != Source::Recipe || food.note.is_some(),
            format!("{name}: recipe without a note"),
        );
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn alcohol_exemptions_are_documented_and_needed() {
    let beer = table().by_name("пиво").expect("beer");
    assert!(beer.atwater_exempt());
    assert!(!beer.per_100g.is_atwater_consistent(0.15));
    let exempt = table()
        .curated()
        .iter()
        .filter(|f| f.atwater_exempt())
        .count();
    assert!(exempt < 20, "{exempt} exemptions");
}

#[test]
fn names_and_aliases_are_unambiguous() {
    let mut owner: HashMap<String, &str> = HashMap::new();
    for food in table().curated() {
        for name in std::iter::once(&food.name).chain(&food.aliases) {
            let key = foods::normalize(name);
            if let Some(prev) = owner.insert(key.clone(), &food.name)
                && prev != food.name
            {
                panic!("{key:?} names both {prev:?} and {:?}", food.name);
            }
        }
    }
}

#[test]
fn every_name_and_alias_finds_its_own_food() {
    let mut problems = Vec::new();
    for food in table().curated() {
        for name in std::iter::once(&food.name).chain(&food.aliases) {
            let Some(m) = table().lookup(name, Locale::Auto) else {
                problems.push(format!("{name:?}: no match"));
                continue;
            };
            if !m.confident {
                problems.push(format!("{name:?}: {}", m.score));
            }
            if m.food.name != food.name {
                problems.push(format!(
                    "{name:?} of {:?} found {:?}",
                    food.name, m.food.name
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn units_of_drinks_use_density() {
    let t = table();
    let milk = t.by_name("молоко 3.2%").expect("milk");
    assert_eq!(milk.unit_grams(Unit::Milliliter), Some(1.03));
    let oil = t.by_name("масло подсолнечное").expect("oil");
    assert_eq!(oil.unit_grams(Unit::Tablespoon), Some(17.0));
    assert_eq!(oil.unit_grams(Unit::Liter), Some(920.0));
}

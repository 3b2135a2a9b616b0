//! Units of quantity in meal text, their words in Russian and English, and number words.

use serde::Serialize;

/// A unit a quantity is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// г, гр, грамм, g.
    Gram,
    /// кг, килограмм, kg.
    Kilogram,
    /// мл, ml.
    Milliliter,
    /// л, литр, l.
    Liter,
    /// шт, штука, piece; also зубчик, scoop.
    Piece,
    /// кусок, ломтик, долька, slice.
    Slice,
    /// ст. л., столовая ложка, tbsp.
    Tablespoon,
    /// ч. л., чайная ложка, tsp.
    Teaspoon,
    /// стакан, cup, glass.
    Glass,
    /// кружка, mug.
    Mug,
    /// порция, тарелка, serving, bowl.
    Portion,
    /// бутылка, bottle.
    Bottle,
    /// банка, can.
    Can,
    /// рюмка, стопка, shot.
    Shot,
}

impl Unit {
    /// Stable wire name (`"g"`, `"tbsp"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Gram => "g",
            Unit::Kilogram => "kg",
            Unit::Milliliter => "ml",
            Unit::Liter => "l",
            Unit::Piece => "piece",
            Unit::Slice => "slice",
            Unit::Tablespoon => "tbsp",
            Unit::Teaspoon => "tsp",
            Unit::Glass => "glass",
            Unit::Mug => "mug",
            Unit::Portion => "portion",
            Unit::Bottle => "bottle",
            Unit::Can => "can",
            Unit::Shot => "shot",
        }
    }

    /// Grams per unit for mass units.
    pub fn grams(self) -> Option<f64> {
        match self {
            Unit::Gram => Some(1.0),
            Unit::Kilogram => Some(1000.0),
            _ => None,
        }
    }

    /// Millilitres per unit for volume units and for household measures with a standard volume
    /// (tablespoon 15 ml, teaspoon 5 ml, glass 250 ml, mug 300 ml, bottle 500 ml, can 330 ml,
    /// shot 50 ml). A glass is taken as 250 ml, the size the original's prompt used.
    pub fn milliliters(self) -> Option<f64> {
        match self {
            Unit::Milliliter => Some(1.0),
            Unit::Liter => Some(1000.0),
            Unit::Tablespoon => Some(15.0),
            Unit::Teaspoon => Some(5.0),
            Unit::Glass => Some(250.0),
            Unit::Mug => Some(300.0),
            Unit::Bottle => Some(500.0),
            Unit::Can => Some(330.0),
            Unit::Shot => Some(50.0),
            Unit::Gram | Unit::Kilogram | Unit::Piece | Unit::Slice | Unit::Portion => None,
        }
    }

    /// Whether the unit is an exact measure (mass or volume) rather than a household one.
    pub fn is_exact(self) -> bool {
        matches!(
            self,
            Unit::Gram | Unit::Kilogram | Unit::Milliliter | Unit::Liter
        )
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Unit {
    type Err = UnknownUnit;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .copied()
            .find(|u| u.as_str() == s)
            .ok_or_else(|| UnknownUnit(s.to_owned()))
    }
}

/// A unit name that [`Unit::from_str`](std::str::FromStr) does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown unit {0:?}")]
pub struct UnknownUnit(pub String);

const ALL: [Unit; 14] = [
    Unit::Gram,
    Unit::Kilogram,
    Unit::Milliliter,
    Unit::Liter,
    Unit::Piece,
    Unit::Slice,
    Unit::Tablespoon,
    Unit::Teaspoon,
    Unit::Glass,
    Unit::Mug,
    Unit::Portion,
    Unit::Bottle,
    Unit::Can,
    Unit::Shot,
];

/// Unit phrases as sequences of normalised words. Longer phrases are tried first. `bare` says
/// whether the phrase counts as a quantity on its own ("стакан кефира" = one glass); short
/// abbreviations (г, л, шт) do not.
const UNIT_PHRASES: &[(&[&str], Unit, bool)] = &[
    (&["ст", "л"], Unit::Tablespoon, true),
    (&["ст", "ложка"], Unit::Tablespoon, true),
    (&["ст", "ложки"], Unit::Tablespoon, true),
    (&["ст", "ложек"], Unit::Tablespoon, true),
    (&["стол", "л"], Unit::Tablespoon, false),
    (&["ч", "л"], Unit::Teaspoon, true),
    (&["ч", "ложка"], Unit::Teaspoon, true),
    (&["ч", "ложки"], Unit::Teaspoon, true),
    (&["ч", "ложек"], Unit::Teaspoon, true),
    (&["чайн", "л"], Unit::Teaspoon, false),
    (&["мерная", "ложка"], Unit::Piece, true),
    (&["мерные", "ложки"], Unit::Piece, true),
    (&["мерных", "ложек"], Unit::Piece, true),
];

/// Adjective + "ложка" forms: "столовая ложка", "чайных ложек", …
const SPOON_WORDS: &[&str] = &[
    "ложка",
    "ложки",
    "ложку",
    "ложек",
    "ложкой",
    "ложками",
    "ложечка",
    "ложечки",
    "ложечек",
];
const TABLE_ADJ: &[&str] = &[
    "столовая",
    "столовые",
    "столовых",
    "столовую",
    "столовой",
    "столовыми",
];
const TEA_ADJ: &[&str] = &["чайная", "чайные", "чайных", "чайную", "чайной", "чайными"];

/// Single-word units: (word, unit, bare).
const UNIT_WORDS: &[(&str, Unit, bool)] = &[
    ("г", Unit::Gram, false),
    ("гр", Unit::Gram, false),
    ("грамм", Unit::Gram, true),
    ("грамма", Unit::Gram, false),
    ("граммов", Unit::Gram, false),
    ("граммы", Unit::Gram, false),
    ("g", Unit::Gram, false),
    ("gr", Unit::Gram, false),
    ("gram", Unit::Gram, false),
    ("grams", Unit::Gram, false),
    ("gramm", Unit::Gram, false),
    ("кг", Unit::Kilogram, false),
    ("кило", Unit::Kilogram, false),
    ("килограмм", Unit::Kilogram, true),
    ("килограмма", Unit::Kilogram, false),
    ("килограммов", Unit::Kilogram, false),
    ("kg", Unit::Kilogram, false),
    ("kilo", Unit::Kilogram, false),
    ("kilogram", Unit::Kilogram, false),
    ("kilograms", Unit::Kilogram, false),
    ("мл", Unit::Milliliter, false),
    ("миллилитр", Unit::Milliliter, false),
    ("миллилитра", Unit::Milliliter, false),
    ("миллилитров", Unit::Milliliter, false),
    ("ml", Unit::Milliliter, false),
    ("milliliter", Unit::Milliliter, false),
    ("milliliters", Unit::Milliliter, false),
    ("millilitre", Unit::Milliliter, false),
    ("millilitres", Unit::Milliliter, false),
    ("л", Unit::Liter, false),
    ("литр", Unit::Liter, true),
    ("литра", Unit::Liter, false),
    ("литров", Unit::Liter, false),
    ("l", Unit::Liter, false),
    ("liter", Unit::Liter, false),
    ("liters", Unit::Liter, false),
    ("litre", Unit::Liter, false),
    ("litres", Unit::Liter, false),
    ("шт", Unit::Piece, false),
    ("штук", Unit::Piece, false),
    ("штука", Unit::Piece, true),
    ("штуки", Unit::Piece, false),
    ("штучки", Unit::Piece, false),
    ("штучка", Unit::Piece, true),
    ("зубчик", Unit::Piece, true),
    ("зубчика", Unit::Piece, false),
    ("зубчиков", Unit::Piece, false),
    ("pc", Unit::Piece, false),
    ("pcs", Unit::Piece, false),
    ("piece", Unit::Piece, true),
    ("pieces", Unit::Piece, false),
    ("scoop", Unit::Piece, true),
    ("scoops", Unit::Piece, false),
    ("скуп", Unit::Piece, true),
    ("скупа", Unit::Piece, false),
    ("кусок", Unit::Slice, true),
    ("куска", Unit::Slice, false),
    ("кусков", Unit::Slice, false),
    ("кусочек", Unit::Slice, true),
    ("кусочка", Unit::Slice, false),
    ("кусочков", Unit::Slice, false),
    ("ломтик", Unit::Slice, true),
    ("ломтика", Unit::Slice, false),
    ("ломтиков", Unit::Slice, false),
    ("ломоть", Unit::Slice, true),
    ("долька", Unit::Slice, true),
    ("дольки", Unit::Slice, false),
    ("долек", Unit::Slice, false),
    ("slice", Unit::Slice, true),
    ("slices", Unit::Slice, false),
    ("ложка", Unit::Tablespoon, true),
    ("ложки", Unit::Tablespoon, false),
    ("ложек", Unit::Tablespoon, false),
    ("ложкой", Unit::Tablespoon, true),
    ("ложками", Unit::Tablespoon, false),
    ("ложечка", Unit::Teaspoon, true),
    ("ложечки", Unit::Teaspoon, false),
    ("ложечкой", Unit::Teaspoon, true),
    ("ложечек", Unit::Teaspoon, false),
    ("стл", Unit::Tablespoon, false),
    ("tbsp", Unit::Tablespoon, false),
    ("tablespoon", Unit::Tablespoon, true),
    ("tablespoons", Unit::Tablespoon, false),
    ("tbs", Unit::Tablespoon, false),
    ("spoon", Unit::Tablespoon, true),
    ("spoons", Unit::Tablespoon, false),
    ("чл", Unit::Teaspoon, false),
    ("tsp", Unit::Teaspoon, false),
    ("teaspoon", Unit::Teaspoon, true),
    ("teaspoons", Unit::Teaspoon, false),
    ("стакан", Unit::Glass, true),
    ("стакана", Unit::Glass, false),
    ("стаканов", Unit::Glass, false),
    ("стаканчик", Unit::Glass, true),
    ("стаканчика", Unit::Glass, false),
    ("cup", Unit::Glass, true),
    ("cups", Unit::Glass, false),
    ("glass", Unit::Glass, true),
    ("glasses", Unit::Glass, false),
    ("кружка", Unit::Mug, true),
    ("кружки", Unit::Mug, false),
    ("кружку", Unit::Mug, true),
    ("кружек", Unit::Mug, false),
    ("чашка", Unit::Mug, true),
    ("чашки", Unit::Mug, false),
    ("чашку", Unit::Mug, true),
    ("чашек", Unit::Mug, false),
    ("mug", Unit::Mug, true),
    ("mugs", Unit::Mug, false),
    ("порция", Unit::Portion, true),
    ("порции", Unit::Portion, false),
    ("порций", Unit::Portion, false),
    ("порцию", Unit::Portion, true),
    ("порцией", Unit::Portion, false),
    ("тарелка", Unit::Portion, true),
    ("тарелки", Unit::Portion, false),
    ("тарелку", Unit::Portion, true),
    ("тарелок", Unit::Portion, false),
    ("миска", Unit::Portion, true),
    ("миски", Unit::Portion, false),
    ("миску", Unit::Portion, true),
    ("serving", Unit::Portion, true),
    ("servings", Unit::Portion, false),
    ("portion", Unit::Portion, true),
    ("portions", Unit::Portion, false),
    ("bowl", Unit::Portion, true),
    ("bowls", Unit::Portion, false),
    ("plate", Unit::Portion, true),
    ("бутылка", Unit::Bottle, true),
    ("бутылки", Unit::Bottle, false),
    ("бутылку", Unit::Bottle, true),
    ("бутылок", Unit::Bottle, false),
    ("bottle", Unit::Bottle, true),
    ("bottles", Unit::Bottle, false),
    ("банка", Unit::Can, true),
    ("банки", Unit::Can, false),
    ("банку", Unit::Can, true),
    ("банок", Unit::Can, false),
    ("баночка", Unit::Can, true),
    ("can", Unit::Can, true),
    ("cans", Unit::Can, false),
    ("рюмка", Unit::Shot, true),
    ("рюмки", Unit::Shot, false),
    ("рюмку", Unit::Shot, true),
    ("рюмок", Unit::Shot, false),
    ("стопка", Unit::Shot, true),
    ("стопки", Unit::Shot, false),
    ("стопку", Unit::Shot, true),
    ("стопок", Unit::Shot, false),
    ("shot", Unit::Shot, true),
    ("shots", Unit::Shot, false),
];

/// Recognises a unit phrase at the start of `words`. Returns the unit, the number of words it
/// takes, and whether it may stand without a number.
pub(crate) fn unit_at(words: &[&str]) -> Option<(Unit, usize, bool)> {
    for (phrase, unit, bare) in UNIT_PHRASES {
        if words.len() >= phrase.len() && words[..phrase.len()] == **phrase {
            return Some((*unit, phrase.len(), *bare));
        }
    }
    if let [adj, spoon, ..] = words
        && SPOON_WORDS.contains(spoon)
    {
        if TABLE_ADJ.contains(adj) {
            return Some((Unit::Tablespoon, 2, true));
        }
        if TEA_ADJ.contains(adj) {
            return Some((Unit::Teaspoon, 2, true));
        }
    }
    let first = words.first()?;
    UNIT_WORDS
        .iter()
        .find(|(w, _, _)| w == first)
        .map(|(_, u, bare)| (*u, 1, *bare))
}

/// Number words for 1–10, halves and one and a half, in Russian and English.
const NUMBER_WORDS: &[(&str, f64)] = &[
    ("один", 1.0),
    ("одна", 1.0),
    ("одно", 1.0),
    ("одну", 1.0),
    ("одного", 1.0),
    ("одной", 1.0),
    ("два", 2.0),
    ("две", 2.0),
    ("двух", 2.0),
    ("пара", 2.0),
    ("пару", 2.0),
    ("парочку", 2.0),
    ("три", 3.0),
    ("трех", 3.0),
    ("четыре", 4.0),
    ("четырех", 4.0),
    ("пять", 5.0),
    ("пяти", 5.0),
    ("шесть", 6.0),
    ("шести", 6.0),
    ("семь", 7.0),
    ("семи", 7.0),
    ("восемь", 8.0),
    ("восьми", 8.0),
    ("девять", 9.0),
    ("девяти", 9.0),
    ("десять", 10.0),
    ("десяти", 10.0),
    ("пол", 0.5),
    ("половина", 0.5),
    ("половину", 0.5),
    ("половинка", 0.5),
    ("половинку", 0.5),
    ("полтора", 1.5),
    ("полторы", 1.5),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("half", 0.5),
    ("couple", 2.0),
];

/// The value of a number word ("две" → 2, "половина" → 0.5).
pub(crate) fn number_word(word: &str) -> Option<f64> {
    NUMBER_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, v)| *v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for u in ALL {
            assert_eq!(u.as_str().parse::<Unit>(), Ok(u));
        }
        assert!("bucket".parse::<Unit>().is_err());
    }

    #[test]
    fn phrases_are_recognised() {
        assert_eq!(
            unit_at(&["ст", "л", "сахара"]),
            Some((Unit::Tablespoon, 2, true))
        );
        assert_eq!(unit_at(&["ч", "л"]), Some((Unit::Teaspoon, 2, true)));
        assert_eq!(
            unit_at(&["столовые", "ложки", "сметаны"]),
            Some((Unit::Tablespoon, 2, true))
        );
        assert_eq!(
            unit_at(&["чайная", "ложка"]),
            Some((Unit::Teaspoon, 2, true))
        );
        assert_eq!(unit_at(&["стакан"]), Some((Unit::Glass, 1, true)));
        assert_eq!(unit_at(&["г"]), Some((Unit::Gram, 1, false)));
        assert_eq!(unit_at(&["гречки"]), None);
        assert_eq!(unit_at(&[]), None);
    }

    #[test]
    fn measures() {
        assert_eq!(Unit::Kilogram.grams(), Some(1000.0));
        assert_eq!(Unit::Glass.milliliters(), Some(250.0));
        assert_eq!(Unit::Piece.milliliters(), None);
        assert!(Unit::Liter.is_exact());
        assert!(!Unit::Glass.is_exact());
    }

    #[test]
    fn number_words() {
        assert_eq!(number_word("две"), Some(2.0));
        assert_eq!(number_word("пол"), Some(0.5));
        assert_eq!(number_word("ten"), Some(10.0));
        assert_eq!(number_word("гречка"), None);
    }
}

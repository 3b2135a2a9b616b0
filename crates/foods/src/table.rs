//! The food table: SR28 rows and the curated Russian names, loaded from the committed TSV files.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

use crate::matcher::Index;
use crate::nutrients::Nutrients;
use crate::units::Unit;

const SR28_TSV: &str = include_str!("../data/sr28.tsv");
const SR28_GROUPS_TSV: &str = include_str!("../data/sr28_groups.tsv");
const RU_TSV: &str = include_str!("../data/ru_foods.tsv");

/// Where a food's per-100 g values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// USDA SR28 (public domain).
    Sr28,
    /// Typical values from the Russian composition tables (Skurikhin & Tutelyan).
    RuTables,
    /// Typical values from Russian retail labels for that product and fat grade.
    Label,
    /// Estimate from SR28 components for the recipe given in [`Food::note`].
    Recipe,
}

impl Source {
    /// The name used in `data/ru_foods.tsv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Sr28 => "sr28",
            Source::RuTables => "ru-tables",
            Source::Label => "label",
            Source::Recipe => "recipe",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = TableError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "sr28" => Ok(Source::Sr28),
            "ru-tables" => Ok(Source::RuTables),
            "label" => Ok(Source::Label),
            "recipe" => Ok(Source::Recipe),
            other => Err(TableError::Field {
                line: 0,
                field: "source",
                value: other.to_owned(),
            }),
        }
    }
}

/// Household weights of a food, grams per unit, and its density.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct UnitWeights {
    /// One piece (an egg, an apple, a pelmen).
    pub piece: Option<f64>,
    /// One slice or chunk.
    pub slice: Option<f64>,
    /// One tablespoon.
    pub tbsp: Option<f64>,
    /// One teaspoon.
    pub tsp: Option<f64>,
    /// One glass (default 250 ml × density).
    pub glass: Option<f64>,
    /// One mug (default 300 ml × density).
    pub mug: Option<f64>,
    /// Grams per millilitre (default 1.0).
    pub density: Option<f64>,
}

/// One food with its values per 100 g.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Food {
    /// Display name: Russian for curated foods, the SR28 description otherwise.
    pub name: String,
    /// Other names and word forms (curated foods only).
    pub aliases: Vec<String>,
    /// SR28 NDB number, when the values come from SR28.
    pub ndb: Option<u32>,
    /// SR28 description of the food the values come from.
    pub description_en: Option<String>,
    /// SR28 food group description, when known.
    pub group: Option<&'static str>,
    /// Energy and macronutrients per 100 g.
    pub per_100g: Nutrients,
    /// Dietary fibre per 100 g, when known.
    pub fiber_100g: Option<f64>,
    /// Where the values come from.
    pub source: Source,
    /// A typical portion, grams.
    pub portion_g: Option<f64>,
    /// Weights of household units.
    pub units: UnitWeights,
    /// Free-text note (recipe, state such as "cooked", Atwater exemption).
    pub note: Option<String>,
    /// Whether the food is one of the curated Russian entries.
    pub curated: bool,
}

impl Food {
    /// A stable key: `ru:<name>` for curated foods, `sr28:<ndb>` for raw SR28 rows.
    pub fn key(&self) -> String {
        match (self.curated, self.ndb) {
            (false, Some(ndb)) => format!("sr28:{ndb:05}"),
            _ => format!("ru:{}", self.name),
        }
    }

    /// Grams per millilitre (1.0 unless the table says otherwise).
    pub fn density(&self) -> f64 {
        self.units.density.unwrap_or(1.0)
    }

    /// Grams of one `unit` of this food, when the table knows it (`None` for a household unit
    /// the food has no weight for; mass and volume units are always known).
    pub fn unit_grams(&self, unit: Unit) -> Option<f64> {
        let specific = match unit {
            Unit::Piece => self.units.piece,
            Unit::Slice => self.units.slice.or(self.units.piece),
            Unit::Tablespoon => self.units.tbsp,
            Unit::Teaspoon => self.units.tsp,
            Unit::Glass => self.units.glass,
            Unit::Mug => self.units.mug,
            Unit::Portion => self.portion_g,
            _ => None,
        };
        specific.or_else(|| unit.grams()).or_else(|| {
            let ml = unit.milliliters()?;
            Some(ml * self.density())
        })
    }

    /// Whether the Atwater check is waived for this food (alcohol, fibre-heavy foods, acids),
    /// as documented in its note.
    pub fn atwater_exempt(&self) -> bool {
        let note = self.note.as_deref().unwrap_or("");
        ["alcohol", "fibre", "acid"]
            .iter()
            .any(|k| note.contains(k))
    }

    /// Whether the per-100 g values pass the Atwater check within `tolerance` (fibre at
    /// 2 kcal/g when known), or the food is [exempt](Self::atwater_exempt).
    pub fn atwater_ok(&self, tolerance: f64) -> bool {
        self.atwater_exempt()
            || self
                .per_100g
                .is_atwater_consistent_with_fiber(self.fiber_100g.unwrap_or(0.0), tolerance)
    }
}

/// A problem in the table data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    /// A line has too few fields.
    #[error("line {line}: expected {expected} tab-separated fields, found {found}")]
    Fields {
        /// 1-based line number.
        line: usize,
        /// Fields required.
        expected: usize,
        /// Fields present.
        found: usize,
    },
    /// A field has an invalid value.
    #[error("line {line}: invalid {field} {value:?}")]
    Field {
        /// 1-based line number.
        line: usize,
        /// Column name.
        field: &'static str,
        /// The value found.
        value: String,
    },
    /// A Russian row names an NDB number that the SR28 table does not have.
    #[error("line {line}: NDB {ndb} is not in the SR28 table")]
    UnknownNdb {
        /// 1-based line number.
        line: usize,
        /// The missing number.
        ndb: u32,
    },
}

/// The food table with its name index. Build once; share by reference.
#[derive(Debug)]
pub struct FoodTable {
    foods: Vec<Food>,
    by_ndb: HashMap<u32, usize>,
    curated: usize,
    pub(crate) index: Index,
    issues: Vec<TableError>,
}

static BUILTIN: LazyLock<FoodTable> = LazyLock::new(|| {
    FoodTable::load(SR28_TSV, SR28_GROUPS_TSV, RU_TSV, false)
        .unwrap_or_else(|e| FoodTable::from_parts(Vec::new(), Vec::new(), vec![e]))
});

impl FoodTable {
    /// The table built from the committed data, loaded on first use.
    ///
    /// Loading never panics: rows that fail to parse are skipped and reported by
    /// [`FoodTable::issues`] (a test keeps that list empty).
    pub fn builtin() -> &'static FoodTable {
        &BUILTIN
    }

    /// Builds a table from the TSV formats of `data/` (see the crate README), failing on the
    /// first bad row.
    pub fn from_tsv(sr28: &str, groups: &str, ru: &str) -> Result<FoodTable, TableError> {
        Self::load(sr28, groups, ru, true)
    }

    fn load(sr28: &str, groups: &str, ru: &str, strict: bool) -> Result<FoodTable, TableError> {
        let mut issues = Vec::new();
        let mut keep = |r: Result<Food, TableError>| -> Result<Option<Food>, TableError> {
            match r {
                Ok(f) => Ok(Some(f)),
                Err(e) if strict => Err(e),
                Err(e) => {
                    issues.push(e);
                    Ok(None)
                }
            }
        };
        let group_names = parse_groups(groups);
        let mut sr_foods = Vec::new();
        for (line, fields) in data_lines(sr28) {
            if fields.first() == Some(&"ndb") {
                continue;
            }
            if let Some(f) = keep(parse_sr28_row(line, &fields, &group_names))? {
                sr_foods.push(f);
            }
        }
        let sr_by_ndb: HashMap<u32, &Food> =
            sr_foods.iter().filter_map(|f| Some((f.ndb?, f))).collect();
        let mut ru_foods = Vec::new();
        for (line, fields) in data_lines(ru) {
            if fields.first() == Some(&"name") {
                continue;
            }
            if let Some(f) = keep(parse_ru_row(line, &fields, &sr_by_ndb))? {
                ru_foods.push(f);
            }
        }
        Ok(Self::from_parts(ru_foods, sr_foods, issues))
    }

    fn from_parts(ru: Vec<Food>, sr: Vec<Food>, issues: Vec<TableError>) -> FoodTable {
        let curated = ru.len();
        let foods: Vec<Food> = ru.into_iter().chain(sr).collect();
        let by_ndb = foods
            .iter()
            .enumerate()
            .filter(|(_, f)| !f.curated)
            .filter_map(|(i, f)| Some((f.ndb?, i)))
            .collect();
        let index = Index::build(&foods);
        FoodTable {
            foods,
            by_ndb,
            curated,
            index,
            issues,
        }
    }

    /// Every food: the curated Russian entries first, then the SR28 rows.
    pub fn foods(&self) -> &[Food] {
        &self.foods
    }

    /// The curated Russian entries.
    pub fn curated(&self) -> &[Food] {
        &self.foods[..self.curated]
    }

    /// The SR28 row with this NDB number.
    pub fn by_ndb(&self, ndb: u32) -> Option<&Food> {
        self.by_ndb.get(&ndb).map(|&i| &self.foods[i])
    }

    /// The curated food with exactly this display name.
    pub fn by_name(&self, name: &str) -> Option<&Food> {
        self.curated().iter().find(|f| f.name == name)
    }

    /// Rows skipped while loading (always empty for a table from [`FoodTable::from_tsv`]).
    pub fn issues(&self) -> &[TableError] {
        &self.issues
    }

    pub(crate) fn food(&self, i: usize) -> &Food {
        &self.foods[i]
    }
}

/// Non-empty, non-comment lines split on tabs, with 1-based line numbers.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| (i + 1, l.split('\t').map(str::trim).collect()))
}

fn parse_groups(text: &str) -> HashMap<String, &'static str> {
    data_lines(text)
        .filter_map(|(_, f)| match f.as_slice() {
            [code, desc, ..] => Some(((*code).to_owned(), group_name(desc))),
            _ => None,
        })
        .collect()
}

/// Group descriptions are few; leak-free static names come from this fixed list when they
/// match, otherwise "Other".
fn group_name(desc: &str) -> &'static str {
    const GROUPS: &[&str] = &[
        "Dairy and Egg Products",
        "Spices and Herbs",
        "Baby Foods",
        "Fats and Oils",
        "Poultry Products",
        "Soups, Sauces, and Gravies",
        "Sausages and Luncheon Meats",
        "Breakfast Cereals",
        "Fruits and Fruit Juices",
        "Pork Products",
        "Vegetables and Vegetable Products",
        "Nut and Seed Products",
        "Beef Products",
        "Beverages",
        "Finfish and Shellfish Products",
        "Legumes and Legume Products",
        "Lamb, Veal, and Game Products",
        "Baked Products",
        "Sweets",
        "Cereal Grains and Pasta",
        "Fast Foods",
        "Meals, Entrees, and Side Dishes",
        "Snacks",
        "American Indian/Alaska Native Foods",
        "Restaurant Foods",
    ];
    GROUPS
        .iter()
        .copied()
        .find(|g| *g == desc)
        .unwrap_or("Other")
}

fn num(line: usize, field: &'static str, value: &str) -> Result<f64, TableError> {
    let bad = || TableError::Field {
        line,
        field,
        value: value.to_owned(),
    };
    let v: f64 = value.parse().map_err(|_| bad())?;
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(bad())
    }
}

fn opt_num(line: usize, field: &'static str, value: &str) -> Result<Option<f64>, TableError> {
    if value.is_empty() {
        Ok(None)
    } else {
        num(line, field, value).map(Some)
    }
}

fn ndb(line: usize, value: &str) -> Result<u32, TableError> {
    value.parse().map_err(|_| TableError::Field {
        line,
        field: "ndb",
        value: value.to_owned(),
    })
}

fn need(line: usize, fields: &[&str], expected: usize) -> Result<(), TableError> {
    if fields.len() < expected {
        Err(TableError::Fields {
            line,
            expected,
            found: fields.len(),
        })
    } else {
        Ok(())
    }
}

/// `ndb group kcal protein fat carbs fiber description [common_names]`
fn parse_sr28_row(
    line: usize,
    f: &[&str],
    groups: &HashMap<String, &'static str>,
) -> Result<Food, TableError> {
    need(line, f, 8)?;
    let common: Vec<String> = f
        .get(8)
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Food {
        name: f[7].to_owned(),
        aliases: common,
        ndb: Some(ndb(line, f[0])?),
        description_en: Some(f[7].to_owned()),
        group: groups.get(f[1]).copied(),
        per_100g: Nutrients::new(
            num(line, "kcal", f[2])?,
            num(line, "protein", f[3])?,
            num(line, "fat", f[4])?,
            num(line, "carbs", f[5])?,
        ),
        fiber_100g: opt_num(line, "fiber", f[6])?,
        source: Source::Sr28,
        portion_g: None,
        units: UnitWeights::default(),
        note: None,
        curated: false,
    })
}

/// `name aliases ndb kcal protein fat carbs source portion_g units note`
fn parse_ru_row(line: usize, f: &[&str], sr: &HashMap<u32, &Food>) -> Result<Food, TableError> {
    need(line, f, 10)?;
    let field = |field: &'static str, value: &str| TableError::Field {
        line,
        field,
        value: value.to_owned(),
    };
    if f[0].is_empty() {
        return Err(field("name", f[0]));
    }
    let aliases = f[1]
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let source: Source = f[7].parse().map_err(|_| field("source", f[7]))?;
    let (ndb_no, per_100g, fiber, group, description_en) = if f[2].is_empty() {
        let n = Nutrients::new(
            num(line, "kcal", f[3])?,
            num(line, "protein", f[4])?,
            num(line, "fat", f[5])?,
            num(line, "carbs", f[6])?,
        );
        if source == Source::Sr28 {
            return Err(field("source", f[7]));
        }
        (None, n, None, None, None)
    } else {
        let n = ndb(line, f[2])?;
        let row = sr.get(&n).ok_or(TableError::UnknownNdb { line, ndb: n })?;
        if source != Source::Sr28 {
            return Err(field("source", f[7]));
        }
        (
            Some(n),
            row.per_100g,
            row.fiber_100g,
            row.group,
            row.description_en.clone(),
        )
    };
    Ok(Food {
        name: f[0].to_owned(),
        aliases,
        ndb: ndb_no,
        description_en,
        group,
        per_100g,
        fiber_100g: fiber,
        source,
        portion_g: opt_num(line, "portion_g", f[8])?,
        units: parse_units(line, f[9])?,
        note: f.get(10).filter(|s| !s.is_empty()).map(|s| (*s).to_owned()),
        curated: true,
    })
}

/// `piece=60,tbsp=20,density=1.03`
fn parse_units(line: usize, text: &str) -> Result<UnitWeights, TableError> {
    let mut w = UnitWeights::default();
    for part in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || TableError::Field {
            line,
            field: "units",
            value: part.to_owned(),
        };
        let (key, value) = part.split_once('=').ok_or_else(bad)?;
        let v = num(line, "units", value.trim())?;
        if v <= 0.0 {
            return Err(bad());
        }
        let slot = match key.trim() {
            "piece" => &mut w.piece,
            "slice" => &mut w.slice,
            "tbsp" => &mut w.tbsp,
            "tsp" => &mut w.tsp,
            "glass" => &mut w.glass,
            "mug" => &mut w.mug,
            "density" => &mut w.density,
            _ => return Err(bad()),
        };
        *slot = Some(v);
    }
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: &str = "ndb\tgroup\tkcal\tprotein\tfat\tcarbs\tfiber\tdescription\tcommon_names\n\
        20010\t2000\t92\t3.38\t0.62\t19.94\t2.7\tBuckwheat groats, roasted, cooked\tkasha\n";
    const GROUPS: &str = "2000\tCereal Grains and Pasta\n";

    #[test]
    fn builtin_table_loads_without_issues() {
        let t = FoodTable::builtin();
        assert!(t.issues().is_empty(), "{:?}", t.issues());
        assert!(t.curated().len() >= 300, "{}", t.curated().len());
        assert!(t.foods().len() > 5000);
    }

    #[test]
    fn builtin_is_the_same_instance() {
        assert!(std::ptr::eq(FoodTable::builtin(), FoodTable::builtin()));
    }

    #[test]
    fn ru_row_with_ndb_takes_sr28_values() {
        let ru = "гречка\tгречки\t20010\t\t\t\t\tsr28\t200\ttbsp=25\tcooked\n";
        let t = FoodTable::from_tsv(SR, GROUPS, ru).expect("valid");
        let g = t.by_name("гречка").expect("present");
        assert_eq!(g.per_100g, Nutrients::new(92.0, 3.38, 0.62, 19.94));
        assert_eq!(g.group, Some("Cereal Grains and Pasta"));
        assert_eq!(g.units.tbsp, Some(25.0));
        assert_eq!(g.key(), "ru:гречка");
        assert_eq!(t.by_ndb(20010).map(Food::key), Some("sr28:20010".into()));
        assert_eq!(
            t.by_ndb(20010).map(|f| f.aliases.clone()),
            Some(vec!["kasha".into()])
        );
    }

    #[test]
    fn bad_rows_are_errors_when_strict() {
        let unknown = "x\t\t99999\t\t\t\t\tsr28\t\t\t\n";
        assert!(matches!(
            FoodTable::from_tsv(SR, GROUPS, unknown),
            Err(TableError::UnknownNdb { ndb: 99999, .. })
        ));
        let negative = "x\t\t\t-5\t1\t1\t1\tlabel\t\t\t\n";
        assert!(matches!(
            FoodTable::from_tsv(SR, GROUPS, negative),
            Err(TableError::Field { field: "kcal", .. })
        ));
        let bad_unit = "x\t\t\t5\t1\t1\t1\tlabel\t\tspoon=3\t\n";
        assert!(FoodTable::from_tsv(SR, GROUPS, bad_unit).is_err());
        let short = "x\ty\n";
        assert!(matches!(
            FoodTable::from_tsv(SR, GROUPS, short),
            Err(TableError::Fields { .. })
        ));
        let wrong_source = "x\t\t\t5\t1\t1\t1\tsr28\t\t\t\n";
        assert!(FoodTable::from_tsv(SR, GROUPS, wrong_source).is_err());
    }

    #[test]
    fn unit_grams_fall_back_to_standard_volumes() {
        let t = FoodTable::builtin();
        let kefir = t.by_name("кефир 2.5%").expect("present");
        assert_eq!(kefir.unit_grams(Unit::Glass), Some(250.0 * 1.03));
        assert_eq!(kefir.unit_grams(Unit::Kilogram), Some(1000.0));
        assert_eq!(kefir.unit_grams(Unit::Piece), None);
        let egg = t.by_name("яйцо").expect("present");
        assert_eq!(egg.unit_grams(Unit::Piece), Some(55.0));
        assert_eq!(egg.unit_grams(Unit::Portion), Some(55.0));
    }
}

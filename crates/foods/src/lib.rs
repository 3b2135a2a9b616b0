//! Food composition for EatFit24: a table derived from USDA SR28 plus curated Russian names,
//! a fuzzy name matcher, nutrition arithmetic, and an offline meal text parser.
//!
//! Pure: the data is compiled in (`include_str!`), nothing here does IO or is async.
//!
//! ```
//! use foods::{FoodTable, Locale, log_text};
//!
//! let table = FoodTable::builtin();
//! let m = table.lookup("гречки", Locale::Auto).unwrap();
//! assert_eq!(m.food.name, "гречка");
//! assert!(m.confident);
//!
//! let items = log_text(table, "150 г гречки и 100 г куриной грудки");
//! assert_eq!(items.len(), 2);
//! assert_eq!(items[0].grams, 150.0);
//! assert!(items.iter().all(|i| i.grounded));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod matcher;
mod normalize;
mod nutrients;
mod parser;
mod table;
mod units;

pub use matcher::{CONFIDENT_SCORE, Locale, MIN_SCORE, Match};
pub use normalize::{normalize, stem};
pub use nutrients::{MAX_GRAMS, Nutrients, clamp_grams, nutrients_for};
pub use parser::{
    DEFAULT_GRAMS, GramsBasis, MAX_ITEMS, MAX_TEXT_CHARS, ParsedItem, ResolvedItem, log_text,
    parse_meal_text,
};
pub use table::{Food, FoodTable, Source, TableError, UnitWeights};
pub use units::{Unit, UnknownUnit};

//! Offline meal text parser: "200 г гречки, куриная грудка 150г, кофе с молоком" → items with
//! quantities, then grams and nutrients from the table.
//!
//! Rules, in order:
//! 1. The text is cut into segments at `,` (not between digits: "1,5" is a number), `;`, `+`
//!    and line breaks.
//! 2. A segment is cut at a joining word (`и`, `с`, `со`, `and`, `with`, `&`, `плюс`) when the
//!    part after it starts with a quantity ("… и 100 г …") or both parts have one.
//! 3. Otherwise a joining word splits only when that explains the text better: with `с`/`with`
//!    the whole text is kept when it is a confident table match ("кофе с молоком" is one food;
//!    the longest match wins); with `и`/`and` it is split when both parts match confidently.
//! 4. In each item the first number (digits with `.` or `,`, a fraction `1/2`, or a word for
//!    1–10, `пол`, `половина`, `полтора`) is the quantity, and a unit word after it is the unit.
//!    A unit word alone ("стакан кефира") means one. A number followed by `%` is part of the
//!    name ("творог 9%").
//! 5. A number without a unit counts pieces (or portions) when it is at most 10 and is read as
//!    grams when larger ("гречка 200").
//!
//! At most [`MAX_ITEMS`] items are read from the first [`MAX_TEXT_CHARS`] characters.

use std::collections::HashMap;

use serde::Serialize;

use crate::matcher::{CONFIDENT_SCORE, Locale};
use crate::normalize::is_stopword;
use crate::nutrients::{Nutrients, clamp_grams, nutrients_for};
use crate::table::{Food, FoodTable};
use crate::units::{Unit, number_word, unit_at};

/// Items read from one text at most.
pub const MAX_ITEMS: usize = 50;
/// Characters of a text that are read at most.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Joining words considered per segment for optional splits.
const MAX_JOINS: usize = 6;
/// Grams assumed when neither the text nor the table says anything about the amount.
pub const DEFAULT_GRAMS: f64 = 100.0;

/// One item of meal text before it is resolved against the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedItem {
    /// The item's text as cut from the input (normalised spacing, original words).
    pub raw: String,
    /// The food name part, lower-case, quantities and filler words removed.
    pub name: String,
    /// The quantity, in `unit` (or a count when `unit` is `None`).
    pub quantity: Option<f64>,
    /// The unit of `quantity`.
    pub unit: Option<Unit>,
    /// Grams, when known without the table (mass units). Never negative or NaN; at most
    /// [`crate::MAX_GRAMS`].
    pub grams: Option<f64>,
}

/// How the grams of a resolved item were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GramsBasis {
    /// Stated in the text in a mass or volume unit.
    Stated,
    /// A household unit or a count, weighed with the food's own unit weight.
    UnitWeight,
    /// A household unit or a count, weighed with a generic default (e.g. 250 ml per glass,
    /// 100 g per piece).
    DefaultUnitWeight,
    /// No quantity: the food's typical portion.
    TypicalPortion,
    /// No quantity and no known portion: [`DEFAULT_GRAMS`].
    Default,
}

/// A parsed item with its food, grams and nutrients.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedItem<'a> {
    /// The parsed item.
    pub item: ParsedItem,
    /// The best food for the name, if any scored at least [`crate::MIN_SCORE`].
    pub food: Option<&'a Food>,
    /// The match score (0 when there is no food).
    pub score: f32,
    /// Whether the match is confident, so that nutrients come from the table rather than being
    /// a guess. Callers should show other items as estimates or ask the user.
    pub grounded: bool,
    /// Grams eaten, `0..=MAX_GRAMS`.
    pub grams: f64,
    /// How `grams` was found.
    pub basis: GramsBasis,
    /// Nutrients of `grams` of `food` (rounded to 0.1), when there is a food.
    pub nutrients: Option<Nutrients>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    /// A number written with `%`, kept as part of the name.
    Pct(String),
    Word(String),
}

impl Tok {
    fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Tok::Num(n) => format_num(*n),
            Tok::Pct(p) => format!("{p}%"),
            Tok::Word(w) => w.clone(),
        }
    }
}

fn format_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

/// Token ranges `[a, b)` of the items a part is cut into.
type Ranges = Vec<(usize, usize)>;
/// Best cut of each token range already computed.
type SplitMemo = HashMap<(usize, usize), (Ranges, f32)>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    With,
}

fn join_kind(w: &str) -> Option<Join> {
    match w {
        "и" | "and" | "плюс" | "plus" | "&" => Some(Join::And),
        "с" | "со" | "with" => Some(Join::With),
        _ => None,
    }
}

/// Meal words removed from names together with a preposition before them ("на завтрак").
const MEAL_WORDS: &[&str] = &[
    "завтрак",
    "завтрака",
    "обед",
    "обеда",
    "ужин",
    "ужина",
    "перекус",
    "перекуса",
    "полдник",
    "breakfast",
    "lunch",
    "dinner",
    "snack",
    "supper",
];
/// Words about eating that carry no food ("я съел").
const FILLERS: &[&str] = &[
    "я",
    "мы",
    "съел",
    "съела",
    "съели",
    "поел",
    "поела",
    "ел",
    "ела",
    "выпил",
    "выпила",
    "выпили",
    "пил",
    "пила",
    "скушал",
    "скушала",
    "сегодня",
    "вчера",
    "примерно",
    "около",
    "где",
    "то",
    "ещё",
    "еще",
    "i",
    "ate",
    "had",
    "drank",
    "today",
    "about",
    "some",
];

/// Cuts text into segments at hard separators.
fn segments(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().take(MAX_TEXT_CHARS).collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = i > 0
            && chars[i - 1].is_ascii_digit()
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        let hard = matches!(c, ';' | '\n' | '\r' | '+') || (c == ',' && !between_digits);
        if hard {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

/// Tokens of one segment: numbers (with decimal `.`/`,` and fractions), `N%`, and words
/// (lower-case, `ё`→`е`); glued "150г" and "полстакана" are taken apart.
fn tokenize(segment: &str) -> Vec<Tok> {
    let chars: Vec<char> = segment.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let (n, next) = read_number(&chars, i);
            i = next;
            // Fraction 1/2.
            let mut value = n;
            if chars.get(i) == Some(&'/') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                let (d, next) = read_number(&chars, i + 1);
                if d > 0.0 {
                    value = n / d;
                }
                i = next;
            }
            let mut j = i;
            while chars.get(j) == Some(&' ') {
                j += 1;
            }
            if chars.get(j) == Some(&'%') {
                toks.push(Tok::Pct(format_num(value)));
                i = j + 1;
            } else {
                toks.push(Tok::Num(value));
            }
        } else if c.is_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_alphabetic() {
                i += 1;
            }
            let word: String = chars[start..i]
                .iter()
                .flat_map(|c| c.to_lowercase())
                .map(|c| if c == 'ё' { 'е' } else { c })
                .collect();
            push_word(&mut toks, word);
        } else {
            if c == '&' {
                toks.push(Tok::Word("&".into()));
            }
            i += 1;
        }
    }
    toks
}

fn read_number(chars: &[char], start: usize) -> (f64, usize) {
    let mut i = start;
    let mut s = String::new();
    while i < chars.len() && chars[i].is_ascii_digit() {
        s.push(chars[i]);
        i += 1;
    }
    if matches!(chars.get(i), Some('.' | ',')) && chars.get(i + 1).is_some_and(char::is_ascii_digit)
    {
        s.push('.');
        i += 1;
        while i < chars.len() && chars[i].is_ascii_digit() {
            s.push(chars[i]);
            i += 1;
        }
    }
    (s.parse().unwrap_or(0.0), i)
}

/// "полстакана" → 0.5 + "стакана"; other words unchanged.
fn push_word(toks: &mut Vec<Tok>, word: String) {
    if let Some(rest) = word.strip_prefix("пол")
        && !rest.is_empty()
        && number_word(&word).is_none()
        && unit_at(&[rest]).is_some()
    {
        toks.push(Tok::Num(0.5));
        toks.push(Tok::Word(rest.to_owned()));
        return;
    }
    toks.push(Tok::Word(word));
}

/// A quantity starting at `i`: (value, unit, tokens used).
fn quantity_at(toks: &[Tok], i: usize) -> Option<(f64, Option<Unit>, usize)> {
    let words_from = |j: usize| -> Vec<&str> {
        toks[j.min(toks.len())..]
            .iter()
            .take(3)
            .map_while(Tok::word)
            .collect()
    };
    let value = match &toks[i] {
        Tok::Num(n) => Some(*n),
        Tok::Word(w) if (w == "a" || w == "an") && i == 0 && toks.len() > 1 => Some(1.0),
        Tok::Word(w) => number_word(w),
        Tok::Pct(_) => return None,
    };
    match value {
        Some(v) => {
            let unit = unit_at(&words_from(i + 1));
            match unit {
                Some((u, n, _)) => Some((v, Some(u), 1 + n)),
                None => Some((v, None, 1)),
            }
        }
        None => match unit_at(&words_from(i)) {
            Some((u, n, true)) => Some((1.0, Some(u), n)),
            _ => None,
        },
    }
}

/// Quantity, unit and name words of an item's tokens.
fn extract(toks: &[Tok]) -> ParsedItem {
    extract_with_position(toks).0
}

/// [`extract`], also telling whether the quantity came after the name ("сырники 3 шт").
fn extract_with_position(toks: &[Tok]) -> (ParsedItem, bool) {
    let raw = toks.iter().map(Tok::text).collect::<Vec<_>>().join(" ");
    let mut used = vec![false; toks.len()];
    let mut quantity = None;
    let mut unit = None;
    let mut suffix = false;
    for i in 0..toks.len() {
        if let Some((v, u, n)) = quantity_at(toks, i) {
            quantity = Some(v);
            unit = u;
            suffix = i > 0 && i + n >= toks.len();
            for slot in used.iter_mut().skip(i).take(n) {
                *slot = true;
            }
            break;
        }
    }
    // A bare number above 10 is grams ("гречка 200").
    if unit.is_none() && quantity.is_some_and(|q| q > 10.0) {
        unit = Some(Unit::Gram);
    }
    let mut words: Vec<String> = Vec::new();
    let mut skip_next_meal_prep = false;
    for (i, t) in toks.iter().enumerate().rev() {
        if used[i] {
            continue;
        }
        let text = t.text();
        if MEAL_WORDS.contains(&text.as_str()) {
            skip_next_meal_prep = true;
            continue;
        }
        if skip_next_meal_prep && matches!(text.as_str(), "на" | "в" | "for" | "at" | "к") {
            skip_next_meal_prep = false;
            continue;
        }
        skip_next_meal_prep = false;
        if FILLERS.contains(&text.as_str()) {
            continue;
        }
        words.push(text);
    }
    words.reverse();
    while words.first().is_some_and(|w| is_stopword(w)) {
        words.remove(0);
    }
    while words.last().is_some_and(|w| is_stopword(w)) {
        words.pop();
    }
    let grams = match (quantity, unit.and_then(Unit::grams)) {
        (Some(q), Some(g)) => Some(clamp_grams(q * g)),
        _ => None,
    };
    let item = ParsedItem {
        raw,
        name: words.join(" "),
        quantity: quantity.map(|q| if q.is_finite() && q > 0.0 { q } else { 0.0 }),
        unit,
        grams,
    };
    (item, suffix)
}

/// "сырники со сметаной 3 шт": when a part was cut only at "с"/"with", the first item has no
/// quantity and the last one ends with one, the quantity belongs to the first (main) food.
fn move_trailing_quantity(part: &[Tok], ranges: &[(usize, usize)], cut: &mut [(ParsedItem, bool)]) {
    let all_with = ranges.iter().skip(1).all(|&(a, _)| {
        a.checked_sub(1)
            .and_then(|j| part.get(j))
            .and_then(Tok::word)
            .and_then(join_kind)
            == Some(Join::With)
    });
    let n = cut.len();
    if n < 2 || !all_with || cut[0].0.quantity.is_some() || !cut[n - 1].1 {
        return;
    }
    let (head, tail) = cut.split_at_mut(n - 1);
    let (first, last) = (&mut head[0].0, &mut tail[0].0);
    first.quantity = last.quantity.take();
    first.unit = last.unit.take();
    first.grams = last.grams.take();
}

fn starts_with_quantity(toks: &[Tok]) -> bool {
    !toks.is_empty() && quantity_at(toks, 0).is_some()
}

fn has_quantity(toks: &[Tok]) -> bool {
    (0..toks.len()).any(|i| quantity_at(toks, i).is_some())
}

/// Cuts a segment where a joining word is followed by a quantity, or both sides have one.
fn forced_parts(toks: &[Tok]) -> Vec<&[Tok]> {
    let mut parts = Vec::new();
    let mut start = 0;
    for i in 0..toks.len() {
        let Some(w) = toks[i].word() else { continue };
        if join_kind(w).is_none() || i == start || i + 1 >= toks.len() {
            continue;
        }
        let left = &toks[start..i];
        let right = &toks[i + 1..];
        let next_join = right
            .iter()
            .position(|t| t.word().is_some_and(|w| join_kind(w).is_some()))
            .unwrap_or(right.len());
        if starts_with_quantity(right) || (has_quantity(left) && has_quantity(&right[..next_join]))
        {
            parts.push(left);
            start = i + 1;
        }
    }
    parts.push(&toks[start.min(toks.len())..]);
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

impl FoodTable {
    /// Parses meal text into items, using the table to decide whether "X с Y" is one food.
    pub fn parse_meal(&self, text: &str) -> Vec<ParsedItem> {
        let mut items = Vec::new();
        for seg in segments(text) {
            let toks = tokenize(&seg);
            for part in forced_parts(&toks) {
                let mut memo = HashMap::new();
                let (ranges, _) = self.best_split(part, 0, part.len(), &mut memo);
                let mut cut: Vec<(ParsedItem, bool)> = ranges
                    .iter()
                    .map(|&(a, b)| extract_with_position(&part[a..b]))
                    .collect();
                move_trailing_quantity(part, &ranges, &mut cut);
                for (item, _) in cut {
                    if !item.name.is_empty() {
                        if items.len() < MAX_ITEMS {
                            items.push(item);
                        }
                    } else if item.quantity.is_some()
                        && let Some(prev) = items.last_mut().filter(|p| p.quantity.is_none())
                    {
                        // "куриная грудка, 150 г": a bare quantity belongs to the food before.
                        prev.raw = format!("{}, {}", prev.raw, item.raw);
                        prev.quantity = item.quantity;
                        prev.unit = item.unit;
                        prev.grams = item.grams;
                    }
                }
            }
        }
        items
    }

    /// Whether the text is exactly a table name that itself contains "и"/"and"
    /// ("macaroni and cheese"), so that the joining word does not list two foods.
    fn names_with_and(&self, toks: &[Tok]) -> bool {
        let item = extract(toks);
        let Some(m) = self.lookup(&item.name, Locale::Auto) else {
            return false;
        };
        let target = crate::normalize::normalize(&item.name);
        m.score >= 0.99
            && std::iter::once(&m.food.name)
                .chain(&m.food.aliases)
                .map(|n| crate::normalize::normalize(n))
                .any(|n| n == target && n.split(' ').any(|w| join_kind(w) == Some(Join::And)))
    }

    fn item_score(&self, toks: &[Tok]) -> f32 {
        let item = extract(toks);
        if item.name.is_empty() {
            return 0.0;
        }
        self.lookup(&item.name, Locale::Auto)
            .map_or(0.0, |m| m.score)
    }

    /// Best way to cut `part[a..b]` at joining words: (ranges, score = weakest part, parts).
    fn best_split(&self, part: &[Tok], a: usize, b: usize, memo: &mut SplitMemo) -> (Ranges, f32) {
        if let Some(known) = memo.get(&(a, b)) {
            return known.clone();
        }
        let whole = self.item_score(&part[a..b]);
        let joins: Vec<(usize, Join)> = (a + 1..b.saturating_sub(1))
            .filter_map(|i| Some((i, join_kind(part[i].word()?)?)))
            .take(MAX_JOINS)
            .collect();
        let mut best: Option<(Ranges, f32, Join)> = None;
        for (i, kind) in joins {
            let (mut l, ls) = self.best_split(part, a, i, memo);
            let (r, rs) = self.best_split(part, i + 1, b, memo);
            let score = ls.min(rs);
            l.extend(r);
            let better = match &best {
                None => true,
                Some((ranges, s, _)) => score > *s || (score == *s && l.len() < ranges.len()),
            };
            if better {
                best = Some((l, score, kind));
            }
        }
        let result = match best {
            Some((ranges, split, kind)) => {
                // "с": keep a confident whole ("кофе с молоком"); "и": split when both parts
                // are confident. Either way a split must explain the text better.
                let keep_whole = match kind {
                    Join::With => {
                        (whole >= CONFIDENT_SCORE && whole + 0.02 >= split) || split <= whole
                    }
                    Join::And => {
                        (split < CONFIDENT_SCORE && split <= whole)
                            || self.names_with_and(&part[a..b])
                    }
                };
                if keep_whole {
                    (vec![(a, b)], whole)
                } else {
                    (ranges, split)
                }
            }
            None => (vec![(a, b)], whole),
        };
        memo.insert((a, b), result.clone());
        result
    }
}

impl ParsedItem {
    /// Matches the name against `table` and computes grams and nutrients.
    pub fn resolve<'a>(&self, table: &'a FoodTable) -> ResolvedItem<'a> {
        let m = table.lookup(&self.name, Locale::Auto);
        let food = m.map(|m| m.food);
        let (grams, basis) = self.grams_for(food);
        let grams = clamp_grams(grams);
        ResolvedItem {
            item: self.clone(),
            food,
            score: m.map_or(0.0, |m| m.score),
            grounded: m.is_some_and(|m| m.confident),
            grams,
            basis,
            nutrients: food.map(|f| nutrients_for(f, grams)),
        }
    }

    /// Grams of this item for `food` (or generic defaults without one), and how they were found.
    pub fn grams_for(&self, food: Option<&Food>) -> (f64, GramsBasis) {
        let portion = food.and_then(|f| f.portion_g);
        let count_weight = |f: Option<&Food>| f.and_then(|f| f.units.piece.or(f.portion_g));
        match (self.quantity, self.unit) {
            (Some(q), Some(u)) if u.grams().is_some() => {
                (q * u.grams().unwrap_or(1.0), GramsBasis::Stated)
            }
            (Some(q), Some(u)) if u.is_exact() => {
                let density = food.map_or(1.0, Food::density);
                (
                    q * u.milliliters().unwrap_or(0.0) * density,
                    GramsBasis::Stated,
                )
            }
            (Some(q), Some(u)) => match food.and_then(|f| f.unit_grams(u)) {
                Some(g) => (q * g, GramsBasis::UnitWeight),
                None => match count_weight(food) {
                    Some(g) if matches!(u, Unit::Piece | Unit::Slice | Unit::Portion) => {
                        (q * g, GramsBasis::UnitWeight)
                    }
                    _ => (q * default_unit_grams(u), GramsBasis::DefaultUnitWeight),
                },
            },
            (Some(q), None) => match count_weight(food) {
                Some(g) => (q * g, GramsBasis::UnitWeight),
                None => (q * DEFAULT_GRAMS, GramsBasis::DefaultUnitWeight),
            },
            (None, _) => match portion {
                Some(p) => (p, GramsBasis::TypicalPortion),
                None => (DEFAULT_GRAMS, GramsBasis::Default),
            },
        }
    }
}

/// Generic grams per household unit when the food has no weight for it.
fn default_unit_grams(unit: Unit) -> f64 {
    match unit {
        Unit::Slice => 30.0,
        Unit::Portion => 250.0,
        u => u.grams().or(u.milliliters()).unwrap_or(DEFAULT_GRAMS),
    }
}

/// Parses meal text with the built-in table. See the module docs for the rules.
pub fn parse_meal_text(text: &str) -> Vec<ParsedItem> {
    FoodTable::builtin().parse_meal(text)
}

/// Parses and resolves meal text against `table`.
pub fn log_text<'a>(table: &'a FoodTable, text: &str) -> Vec<ResolvedItem<'a>> {
    table
        .parse_meal(text)
        .iter()
        .map(|i| i.resolve(table))
        .collect()
}

#[cfg(test)]
mod tests;

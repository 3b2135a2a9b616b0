//! Name matching: a query ("куриной грудки", "buckwheat") to the best food of the table.
//!
//! Names and queries are compared as sets of stemmed tokens ([`crate::stem`]). Each query
//! token is matched to name tokens exactly, or — only when no name has it exactly — fuzzily
//! (one edit for tokens of 4+ letters, two for 7+, by Damerau–Levenshtein; or a prefix
//! relation for 4+ letters). A name scores
//!
//! `0.6 · (share of the query explained) + 0.4 · (share of the name present in the query)`
//!
//! so the name that covers the whole query and nothing more wins ("кофе с молоком" beats
//! "кофе"). Numbers ("творог 9%") count half a word. SR28 descriptions are English, weight
//! the words before the first comma fully and the rest by half, and are scaled by 0.9 (0.8 for
//! Russian queries) so that a curated entry wins a tie.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::normalize::{looks_russian, match_tokens, normalize};
use crate::table::{Food, FoodTable};

/// Score at or above which a match is trusted to compute nutrients from ("grounded").
pub const CONFIDENT_SCORE: f32 = 0.75;

/// Score below which [`FoodTable::lookup`] reports no match at all.
pub const MIN_SCORE: f32 = 0.5;

/// Factor applied to SR28 rows for English queries (for Russian queries: 0.8).
const SR28_FACTOR_EN: f32 = 0.9;
const SR28_FACTOR_RU: f32 = 0.8;

/// The language a query is written in, as far as the caller knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// Russian: curated entries are preferred even more strongly over SR28 rows.
    Ru,
    /// English.
    En,
    /// Decide from the script of the query (Cyrillic → Russian).
    #[default]
    Auto,
}

/// A food found for a query.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Match<'a> {
    /// The food.
    pub food: &'a Food,
    /// Similarity in `0.0..=1.0`.
    pub score: f32,
    /// Whether `score >= CONFIDENT_SCORE`.
    pub confident: bool,
}

#[derive(Debug)]
struct Name {
    food: u32,
    /// (stem id, weight), distinct stems.
    tokens: Vec<(u32, f32)>,
    weight: f32,
    curated: bool,
    chars: usize,
    /// The name as [`normalize`]d text, to prefer an exact match among equal scores
    /// ("салями" and "сало" share a stem).
    text: String,
}

/// Inverted index from stems to names.
#[derive(Debug, Default)]
pub(crate) struct Index {
    vocab: HashMap<String, u32>,
    stems: Vec<String>,
    postings: Vec<Vec<u32>>,
    names: Vec<Name>,
}

fn token_weight(t: &str) -> f32 {
    if t.chars().any(|c| c.is_ascii_digit()) {
        0.5
    } else {
        1.0
    }
}

impl Index {
    pub(crate) fn build(foods: &[Food]) -> Index {
        let mut index = Index::default();
        for (i, food) in foods.iter().enumerate() {
            let Ok(fi) = u32::try_from(i) else { break };
            if food.curated {
                for name in std::iter::once(&food.name).chain(&food.aliases) {
                    let tokens: Vec<(String, f32)> = match_tokens(name)
                        .into_iter()
                        .map(|t| {
                            let w = token_weight(&t);
                            (t, w)
                        })
                        .collect();
                    index.add(fi, tokens, true, name);
                }
            } else {
                let mut tokens = Vec::new();
                for (seg_no, segment) in food.name.split(',').enumerate() {
                    let seg_w = if seg_no == 0 { 1.0 } else { 0.5 };
                    for t in match_tokens(segment) {
                        let w = token_weight(&t) * seg_w;
                        tokens.push((t, w));
                    }
                }
                index.add(fi, tokens, false, &food.name);
                for common in &food.aliases {
                    let tokens = match_tokens(common)
                        .into_iter()
                        .map(|t| {
                            let w = token_weight(&t);
                            (t, w)
                        })
                        .collect();
                    index.add(fi, tokens, false, common);
                }
            }
        }
        index
    }

    fn add(&mut self, food: u32, tokens: Vec<(String, f32)>, curated: bool, name: &str) {
        let Ok(name_id) = u32::try_from(self.names.len()) else {
            return;
        };
        let mut ids: Vec<(u32, f32)> = Vec::new();
        for (t, w) in tokens {
            let id = self.stem_id(t);
            match ids.iter_mut().find(|(i, _)| *i == id) {
                Some(slot) => slot.1 = slot.1.max(w),
                None => ids.push((id, w)),
            }
        }
        if ids.is_empty() {
            return;
        }
        for (id, _) in &ids {
            if let Some(p) = self.postings.get_mut(*id as usize) {
                p.push(name_id);
            }
        }
        let weight = ids.iter().map(|(_, w)| w).sum();
        self.names.push(Name {
            food,
            tokens: ids,
            weight,
            curated,
            chars: name.chars().count(),
            text: normalize(name),
        });
    }

    fn stem_id(&mut self, stem: String) -> u32 {
        if let Some(&id) = self.vocab.get(&stem) {
            return id;
        }
        let id = u32::try_from(self.stems.len()).unwrap_or(u32::MAX);
        self.stems.push(stem.clone());
        self.postings.push(Vec::new());
        self.vocab.insert(stem, id);
        id
    }

    /// Stems similar to `token`, with their similarity.
    fn candidates(&self, token: &str) -> HashMap<u32, f32> {
        if let Some(&id) = self.vocab.get(token) {
            return HashMap::from([(id, 1.0)]);
        }
        if token.chars().any(|c| c.is_ascii_digit()) {
            return HashMap::new();
        }
        self.stems
            .iter()
            .enumerate()
            .filter_map(|(id, s)| {
                let sim = fuzzy_similarity(token, s);
                (sim > 0.0).then(|| (u32::try_from(id).ok(), sim))
            })
            .filter_map(|(id, sim)| Some((id?, sim)))
            .collect()
    }
}

/// How good one name of a food is for a query.
#[derive(Debug, Clone, Copy)]
struct Rank {
    score: f32,
    exact: bool,
    curated: bool,
    chars: usize,
}

impl Rank {
    /// Ordering: higher score, then exact text, then curated, then shorter name.
    fn cmp_key(&self, other: &Rank) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.exact.cmp(&other.exact))
            .then(self.curated.cmp(&other.curated))
            .then(other.chars.cmp(&self.chars))
    }

    fn better_than(&self, other: &Rank) -> bool {
        self.cmp_key(other) == std::cmp::Ordering::Greater
    }
}

/// Similarity of two different stems: 0.85 for a prefix relation (shorter ≥ 4 letters, at most
/// 3 letters apart), 0.8 for one edit (both ≥ 4 letters), 0.65 for two edits (both ≥ 7), else 0.
fn fuzzy_similarity(a: &str, b: &str) -> f32 {
    let (la, lb) = (a.chars().count(), b.chars().count());
    let shorter = la.min(lb);
    if shorter < 4 || la.abs_diff(lb) > 3 {
        return 0.0;
    }
    if a.starts_with(b) || b.starts_with(a) {
        return 0.85;
    }
    if la.abs_diff(lb) > 2 {
        return 0.0;
    }
    let max_edits = if shorter >= 7 { 2 } else { 1 };
    match strsim::damerau_levenshtein(a, b) {
        1 => 0.8,
        2 if max_edits >= 2 => 0.65,
        _ => 0.0,
    }
}

impl FoodTable {
    /// The best food for `query`, if any scores at least [`MIN_SCORE`]. Check
    /// [`Match::confident`] before trusting it.
    pub fn lookup(&self, query: &str, locale: Locale) -> Option<Match<'_>> {
        self.search(query, locale, 1).into_iter().next()
    }

    /// Up to `limit` foods for `query`, best first, each scoring at least [`MIN_SCORE`].
    pub fn search(&self, query: &str, locale: Locale, limit: usize) -> Vec<Match<'_>> {
        let russian = match locale {
            Locale::Ru => true,
            Locale::En => false,
            Locale::Auto => looks_russian(query),
        };
        let sr_factor = if russian {
            SR28_FACTOR_RU
        } else {
            SR28_FACTOR_EN
        };
        let q: Vec<String> = match_tokens(query).into_iter().take(16).collect();
        if q.is_empty() || limit == 0 {
            return Vec::new();
        }
        let idx = &self.index;
        let q_w: Vec<f32> = q.iter().map(|t| token_weight(t)).collect();
        let q_total: f32 = q_w.iter().sum();
        let cands: Vec<HashMap<u32, f32>> = q.iter().map(|t| idx.candidates(t)).collect();

        let mut seen: HashSet<u32> = HashSet::new();
        for c in &cands {
            for stem in c.keys() {
                for &name in idx.postings.get(*stem as usize).into_iter().flatten() {
                    seen.insert(name);
                }
            }
        }

        // Best (score, exact, curated, chars) per food.
        let query_text = normalize(query);
        let mut best: HashMap<u32, Rank> = HashMap::new();
        for &name_id in &seen {
            let Some(name) = idx.names.get(name_id as usize) else {
                continue;
            };
            let sim = |qi: usize, stem: u32| cands[qi].get(&stem).copied().unwrap_or(0.0);
            let q_cov: f32 = (0..q.len())
                .map(|qi| {
                    let s = name
                        .tokens
                        .iter()
                        .map(|(st, _)| sim(qi, *st))
                        .fold(0.0, f32::max);
                    q_w[qi] * s
                })
                .sum::<f32>()
                / q_total;
            let n_cov: f32 = name
                .tokens
                .iter()
                .map(|(st, w)| w * (0..q.len()).map(|qi| sim(qi, *st)).fold(0.0, f32::max))
                .sum::<f32>()
                / name.weight;
            let mut score = 0.6 * q_cov + 0.4 * n_cov;
            if !name.curated {
                score *= sr_factor;
            }
            let rank = Rank {
                score,
                exact: name.text == query_text,
                curated: name.curated,
                chars: name.chars,
            };
            let entry = best.entry(name.food).or_insert(rank);
            if rank.better_than(entry) {
                *entry = rank;
            }
        }

        let mut ranked: Vec<(u32, Rank)> = best
            .into_iter()
            .filter(|(_, r)| r.score >= MIN_SCORE)
            .collect();
        ranked.sort_by(|a, b| b.1.cmp_key(&a.1).then(a.0.cmp(&b.0)));
        ranked
            .into_iter()
            .take(limit)
            .map(|(f, rank)| {
                let score = rank.score.clamp(0.0, 1.0);
                Match {
                    food: self.food(f as usize),
                    score,
                    confident: score >= CONFIDENT_SCORE,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(q: &str) -> Option<String> {
        FoodTable::builtin()
            .lookup(q, Locale::Auto)
            .filter(|m| m.confident)
            .map(|m| m.food.name.clone())
    }

    #[test]
    fn russian_word_forms_hit() {
        for q in [
            "гречка",
            "гречки",
            "гречку",
            "гречкой",
            "Гречневая каша",
            "греча",
        ] {
            assert_eq!(name_of(q).as_deref(), Some("гречка"), "{q}");
        }
        assert_eq!(name_of("куриной грудки").as_deref(), Some("куриная грудка"));
        assert_eq!(name_of("куриная грудка").as_deref(), Some("куриная грудка"));
        assert_eq!(name_of("творогом").as_deref(), Some("творог 5%"));
        assert_eq!(name_of("пельменей").as_deref(), Some("пельмени"));
        assert_eq!(name_of("мёд").as_deref(), Some("мёд"));
        assert_eq!(name_of("МЕД!").as_deref(), Some("мёд"));
    }

    #[test]
    fn longest_name_wins() {
        assert_eq!(name_of("кофе с молоком").as_deref(), Some("кофе с молоком"));
        assert_eq!(name_of("кофе").as_deref(), Some("кофе"));
        assert_eq!(
            name_of("гречка с курицей").as_deref(),
            Some("гречка с курицей")
        );
        assert_eq!(name_of("творог 9%").as_deref(), Some("творог 9%"));
        assert_eq!(name_of("творог 9 %").as_deref(), Some("творог 9%"));
        assert_eq!(name_of("кефир 1%").as_deref(), Some("кефир 1%"));
        assert_eq!(name_of("сметана 20%").as_deref(), Some("сметана 20%"));
        assert_eq!(name_of("молоко 2,5%").as_deref(), Some("молоко 2.5%"));
        assert_eq!(
            name_of("кабачковая икра").as_deref(),
            Some("кабачковая икра")
        );
        assert_eq!(name_of("икра").as_deref(), Some("красная икра"));
    }

    #[test]
    fn typos_are_tolerated() {
        assert_eq!(name_of("гречька").as_deref(), Some("гречка"));
        assert_eq!(name_of("пельмнеи").as_deref(), Some("пельмени"));
        assert_eq!(name_of("шаурама").as_deref(), Some("шаурма"));
        assert_eq!(name_of("chiken breast").as_deref(), Some("куриная грудка"));
    }

    #[test]
    fn english_names_hit() {
        assert_eq!(name_of("buckwheat").as_deref(), Some("гречка"));
        assert_eq!(name_of("eggs").as_deref(), Some("яйцо"));
        assert_eq!(name_of("Chicken breast").as_deref(), Some("куриная грудка"));
        assert_eq!(
            name_of("coffee with milk").as_deref(),
            Some("кофе с молоком")
        );
    }

    #[test]
    fn english_falls_back_to_sr28_rows() {
        let m = FoodTable::builtin()
            .lookup("quinoa cooked", Locale::En)
            .expect("match");
        assert!(
            m.food.name.to_lowercase().contains("quinoa"),
            "{}",
            m.food.name
        );
        let m = FoodTable::builtin()
            .lookup("kohlrabi raw", Locale::En)
            .expect("match");
        assert_eq!(m.food.ndb, Some(11241));
        assert!(!m.food.curated);
    }

    #[test]
    fn nonsense_is_not_matched_confidently() {
        for q in ["абракадабра", "qwxzjk", "", "   ", "!!!", "и с на", "12345"] {
            let m = FoodTable::builtin().lookup(q, Locale::Auto);
            assert!(m.is_none_or(|m| !m.confident), "{q}: {m:?}");
        }
        assert!(
            FoodTable::builtin()
                .lookup("абракадабра", Locale::Ru)
                .is_none()
        );
    }

    #[test]
    fn partial_queries_are_not_confident() {
        // "чай с лимоном" has no entry: neither "чай" nor "лимон" explains it alone.
        let m = FoodTable::builtin()
            .lookup("чай с лимоном", Locale::Ru)
            .expect("some");
        assert!(!m.confident, "{m:?}");
    }

    #[test]
    fn search_ranks_and_limits() {
        let t = FoodTable::builtin();
        let r = t.search("творог", Locale::Ru, 5);
        assert_eq!(r.len(), 5);
        assert_eq!(r[0].food.name, "творог 5%");
        assert!(r.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(t.search("творог", Locale::Ru, 0).is_empty());
    }

    #[test]
    fn fuzzy_similarity_rules() {
        assert_eq!(fuzzy_similarity("гречьк", "гречк"), 0.8);
        assert_eq!(fuzzy_similarity("котлетк", "котлет"), 0.85);
        assert_eq!(fuzzy_similarity("сир", "сыр"), 0.0);
        assert_eq!(fuzzy_similarity("абракадабр", "гречк"), 0.0);
    }
}

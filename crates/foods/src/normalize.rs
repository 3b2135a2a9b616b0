//! Text normalisation shared by the matcher and the meal parser: case, `ё`→`е`, punctuation,
//! and a small Russian/English suffix stemmer.

/// Words ignored when matching names: prepositions, conjunctions, and words people put around
/// food ("я съел на завтрак …").
const STOPWORDS: &[&str] = &[
    // Russian
    "и",
    "с",
    "со",
    "в",
    "во",
    "на",
    "из",
    "по",
    "для",
    "или",
    "а",
    "к",
    "от",
    "у",
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
    "завтрак",
    "завтрака",
    "обед",
    "обеда",
    "ужин",
    "ужина",
    "перекус",
    "полдник",
    "немного",
    "еще",
    "ещё",
    "примерно",
    "около",
    "где-то",
    // English
    "and",
    "or",
    "with",
    "of",
    "in",
    "the",
    "a",
    "an",
    "to",
    "for",
    "from",
    "by",
    "on",
    "i",
    "ate",
    "had",
    "drank",
    "eat",
    "some",
    "about",
    "breakfast",
    "lunch",
    "dinner",
    "snack",
];

/// Whether a normalised word carries no food meaning.
pub(crate) fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Lower-cases, maps `ё` to `е`, turns punctuation into spaces (keeping a decimal point between
/// digits, with `,` normalised to `.`), drops `%`, and collapses whitespace.
///
/// ```
/// assert_eq!(foods::normalize("Кефир 2,5%, ЁЖИК!"), "кефир 2.5 ежик");
/// ```
pub fn normalize(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
        let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if (c == ',' || c == '.') && prev_digit && next_digit {
            out.push('.');
        } else if c.is_alphanumeric() {
            for l in c.to_lowercase() {
                out.push(if l == 'ё' { 'е' } else { l });
            }
        } else {
            out.push(' ');
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Normalised words of `text`, stopwords included.
pub(crate) fn words(text: &str) -> Vec<String> {
    normalize(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Russian endings, longest first within each length; stripped once (see [`stem`]).
const RU_ENDINGS: &[&str] = &[
    "иями", "ями", "ами", "ией", "иям", "ием", "иях", "ого", "его", "ому", "ему", "ыми", "ими",
    "ая", "яя", "ое", "ее", "ые", "ие", "ый", "ий", "ой", "ей", "ую", "юю", "ым", "им", "ом", "ем",
    "ах", "ях", "ам", "ям", "ов", "ев", "ых", "их", "ью", "а", "я", "о", "е", "ы", "и", "у", "ю",
    "ь", "й",
];

/// A light stemmer: strips one Russian inflectional ending (keeping at least two letters); a
/// soft sign before a vowel ending stays (`печенье` → `печень`, `печень` → `печен`); for Latin
/// words strips English plural endings. Tokens with digits
/// are returned unchanged.
///
/// `гречка`, `гречки`, `гречку`, `гречкой` → `гречк`; `eggs` → `egg`.
pub fn stem(word: &str) -> String {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return word.to_owned();
    }
    if word.chars().any(is_cyrillic) {
        stem_ru(word)
    } else {
        stem_en(word)
    }
}

fn stem_ru(word: &str) -> String {
    let len = word.chars().count();
    for ending in RU_ENDINGS {
        let elen = ending.chars().count();
        if len >= elen + 2 && word.ends_with(ending) {
            return word[..word.len() - ending.len()].to_owned();
        }
    }
    word.to_owned()
}

fn stem_en(word: &str) -> String {
    let len = word.len();
    if len <= 3 {
        return word.to_owned();
    }
    if let Some(s) = word.strip_suffix("ies") {
        return format!("{s}y");
    }
    for suffix in ["oes", "ches", "shes", "xes", "sses"] {
        if let Some(s) = word.strip_suffix(suffix) {
            return format!("{s}{}", &suffix[..suffix.len() - 2]);
        }
    }
    if word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        return word[..len - 1].to_owned();
    }
    word.to_owned()
}

/// Whether `c` is a Cyrillic letter.
pub(crate) fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// Whether `text` has more Cyrillic than Latin letters.
pub(crate) fn looks_russian(text: &str) -> bool {
    let (mut ru, mut lat) = (0usize, 0usize);
    for c in text.chars() {
        if is_cyrillic(c) {
            ru += 1;
        } else if c.is_ascii_alphabetic() {
            lat += 1;
        }
    }
    ru >= lat && ru > 0
}

/// Stemmed, stopword-free tokens of `text` — the form names are compared in.
pub(crate) fn match_tokens(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .map(|w| stem(&w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_handles_case_yo_punctuation_and_decimal_comma() {
        assert_eq!(normalize("  Мёд,   ГРЕЧКА!! "), "мед гречка");
        assert_eq!(normalize("кефир 2,5%"), "кефир 2.5");
        assert_eq!(normalize("молоко 3.2 %"), "молоко 3.2");
        assert_eq!(normalize("ст.л."), "ст л");
        assert_eq!(normalize("хот-дог"), "хот дог");
        assert_eq!(normalize("200,150"), "200.150");
        assert_eq!(normalize("гречка, 200"), "гречка 200");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn russian_word_forms_share_a_stem() {
        for w in ["гречка", "гречки", "гречку", "гречкой", "гречке"]
        {
            assert_eq!(stem(w), "гречк", "{w}");
        }
        assert_eq!(stem("молоком"), stem("молоко"));
        assert_eq!(stem("куриной"), stem("куриная"));
        assert_eq!(stem("грудки"), stem("грудка"));
        assert_eq!(stem("пельменей"), stem("пельмени"));
        assert_eq!(stem("оладьи"), stem("оладьями"));
        assert_ne!(stem("печенье"), stem("печень"));
        assert_eq!(stem("печенья"), stem("печенье"));
        assert_eq!(stem("печени"), stem("печень"));
        assert_eq!(stem("соли"), stem("соль"));
        assert_eq!(stem("чаем"), stem("чай"));
        assert_eq!(stem("творога"), "творог");
    }

    #[test]
    fn short_words_and_numbers_are_kept() {
        assert_eq!(stem("щи"), "щи");
        assert_eq!(stem("рис"), "рис");
        assert_eq!(stem("2.5"), "2.5");
    }

    #[test]
    fn english_plurals_are_stripped() {
        assert_eq!(stem("eggs"), "egg");
        assert_eq!(stem("potatoes"), "potato");
        assert_eq!(stem("berries"), "berry");
        assert_eq!(stem("peaches"), "peach");
        assert_eq!(stem("glass"), "glass");
        assert_eq!(stem("oats"), "oat");
    }

    #[test]
    fn match_tokens_drop_stopwords() {
        assert_eq!(match_tokens("кофе с молоком"), vec!["коф", "молок"]);
        assert_eq!(match_tokens("я съел гречку"), vec!["гречк"]);
        assert!(match_tokens("и с на").is_empty());
    }

    #[test]
    fn script_detection() {
        assert!(looks_russian("гречка 200 g"));
        assert!(!looks_russian("buckwheat"));
        assert!(!looks_russian("123"));
    }
}

//! Tolerant reading of model replies: JSON inside code fences or after prose, trailing commas,
//! numbers as strings, missing optional fields. Truncated or malformed JSON is a typed
//! [`ParseError`], never a guess.

use serde_json::{Map, Value};

use crate::contract::number_from_value;
use crate::grounding::ModelItem;

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The reply holds no JSON object at all.
    #[error("reply holds no JSON object")]
    NoJson,
    /// The JSON object is cut off (unbalanced braces or an open string), usually
    /// `finish_reason: length`.
    #[error("reply JSON is truncated")]
    Truncated,
    /// Balanced but not valid JSON.
    #[error("reply JSON is malformed: {0}")]
    Malformed(String),
    /// Valid JSON, wrong shape (e.g. `items` not a list).
    #[error("reply has the wrong shape: {0}")]
    Shape(&'static str),
    /// The HTTP envelope (not the model's content) could not be read.
    #[error("provider response is not a chat completion: {0}")]
    Envelope(String),
}

/// The model's recognition reply (also used for the single-call mode, where it carries the
/// gate fields).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// Could this be food? `None` when missing or unreadable.
    pub is_food: Option<bool>,
    /// 0..=1 (not yet clamped).
    pub confidence: Option<f64>,
    /// Short reason.
    pub reason: Option<String>,
    /// Items as returned.
    pub items: Vec<ModelItem>,
    /// Notes.
    pub notes: Option<String>,
}

/// The gate's reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GateReply {
    /// Could this be food? `None` when missing or unreadable.
    pub is_food: Option<bool>,
    /// 0..=1 (not yet clamped).
    pub confidence: Option<f64>,
    /// Short reason.
    pub reason: Option<String>,
}

/// Extracts the JSON object from a model's text.
pub fn extract_object(content: &str) -> Result<Map<String, Value>, ParseError> {
    let text = strip_fences(content.trim());
    // A JSON string holding the object ("double-encoded").
    if text.starts_with('"')
        && let Ok(Value::String(inner)) = serde_json::from_str::<Value>(text)
        && inner.trim_start().starts_with('{')
    {
        return extract_object(&inner);
    }
    let start = text.find('{').ok_or(ParseError::NoJson)?;
    let candidate = balanced(&text[start..])?;
    let cleaned = remove_trailing_commas(candidate);
    match serde_json::from_str::<Value>(&cleaned) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ParseError::Shape("not an object")),
        Err(e) if e.is_eof() => Err(ParseError::Truncated),
        Err(e) => Err(ParseError::Malformed(e.to_string())),
    }
}

/// The body of the first ```` ``` ```` fence (language tag dropped; an unclosed fence runs to the
/// end), or the text itself.
fn strip_fences(text: &str) -> &str {
    let Some(open) = text.find("```") else {
        return text;
    };
    let after = &text[open + 3..];
    // Skip the info string ("json") up to the end of the line.
    let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
    let tag = after[..body_start].trim();
    let body = if tag.is_empty() || tag.chars().all(|c| c.is_ascii_alphanumeric()) {
        &after[body_start..]
    } else {
        // "```{...}```" on one line.
        after
    };
    match body.find("```") {
        Some(close) => &body[..close],
        None => body,
    }
}

/// The prefix of `text` (which starts with `{`) up to its matching `}`, respecting strings and
/// escapes. Running out of text is [`ParseError::Truncated`]; a closing bracket of the wrong
/// kind is [`ParseError::Malformed`].
fn balanced(text: &str) -> Result<&str, ParseError> {
    let mut stack: Vec<char> = Vec::new();
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                if stack.pop() != Some(c) {
                    return Err(ParseError::Malformed(format!(
                        "unexpected '{c}' at byte {i}"
                    )));
                }
                if stack.is_empty() {
                    return Ok(&text[..=i]);
                }
            }
            _ => {}
        }
    }
    Err(ParseError::Truncated)
}

/// Removes commas directly followed (after whitespace) by `}` or `]`, outside strings.
fn remove_trailing_commas(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}' | ']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// `true`/`false`, the strings "true"/"false"/"yes"/"no"/"да"/"нет", 1/0. Anything else →
/// `None` (the original took truthiness, so the string "false" meant food).
fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "да" | "1" => Some(true),
            "false" | "no" | "нет" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => {
            let x = n.as_f64()?;
            if x == 1.0 {
                Some(true)
            } else if x == 0.0 {
                Some(false)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn first<'a>(m: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().filter_map(|k| m.get(*k)).find(|v| !v.is_null())
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.to_owned())
        }
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn number(m: &Map<String, Value>, keys: &[&str]) -> Option<f64> {
    first(m, keys).and_then(number_from_value)
}

/// Reads a gate reply.
pub fn gate_reply(content: &str) -> Result<GateReply, ParseError> {
    let m = extract_object(content)?;
    Ok(GateReply {
        is_food: boolean(m.get("is_food")),
        confidence: number(&m, &["confidence"]),
        reason: text(m.get("reason")),
    })
}

/// Reads a recognition reply. `items` missing or `null` is an empty list; a non-list `items` is
/// a [`ParseError::Shape`]; list elements that are not objects are skipped.
pub fn analysis(content: &str) -> Result<Analysis, ParseError> {
    let m = extract_object(content)?;
    let items = match m.get("items") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_object)
            .map(model_item)
            .collect(),
        Some(_) => return Err(ParseError::Shape("items is not a list")),
    };
    Ok(Analysis {
        is_food: boolean(m.get("is_food")),
        confidence: number(&m, &["confidence", "gate_confidence"]),
        reason: text(first(&m, &["reason", "gate_reason"])),
        items,
        notes: text(first(&m, &["notes", "model_notes"])),
    })
}

fn model_item(m: &Map<String, Value>) -> ModelItem {
    ModelItem {
        name: text(first(m, &["name_ru", "name", "food_name_ru", "title"])),
        name_en: text(first(m, &["name_en", "food_name_en"])),
        grams: number(
            m,
            &["grams", "amount_grams", "portion_weight_g", "weight_g"],
        ),
        kcal: number(m, &["kcal", "calories"]),
        protein: number(m, &["protein", "protein_g"]),
        fat: number(m, &["fat", "fat_g"]),
        carbohydrates: number(m, &["carbohydrates", "carbs", "carbs_g"]),
        confidence: number(m, &["confidence"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"is_food": true, "confidence": 0.9, "reason": "тарелка", "items": [{"name_ru": "Гречка", "name_en": "Buckwheat", "grams": 150, "kcal": 165, "protein": 6, "fat": 1.5, "carbohydrates": 30, "confidence": 0.8}], "notes": null}"#;

    #[test]
    fn plain_json() {
        let a = analysis(GOOD).unwrap();
        assert_eq!(a.is_food, Some(true));
        assert_eq!(a.items.len(), 1);
        assert_eq!(a.items[0].name.as_deref(), Some("Гречка"));
        assert_eq!(a.items[0].grams, Some(150.0));
        assert_eq!(a.notes, None);
    }

    #[test]
    fn fenced_and_prose_wrapped() {
        let fenced = format!("Вот результат:\n```json\n{GOOD}\n```\nПриятного аппетита!");
        assert_eq!(analysis(&fenced).unwrap().items.len(), 1);
        let prose = format!("Sure! Here you go: {GOOD} Hope this helps.");
        assert_eq!(analysis(&prose).unwrap().items.len(), 1);
        let one_line = format!("```{GOOD}```");
        assert_eq!(analysis(&one_line).unwrap().items.len(), 1);
        let unclosed = format!("```json\n{GOOD}");
        assert_eq!(analysis(&unclosed).unwrap().items.len(), 1);
    }

    #[test]
    fn trailing_commas_and_string_numbers() {
        let s = r#"{"is_food": "true", "confidence": "0.7", "items": [{"name": "Рис", "grams": "200", "calories": "260", "protein": "5,4", "fat": 0.6, "carbs": 57,},], "notes": "ok",}"#;
        let a = analysis(s).unwrap();
        assert_eq!(a.is_food, Some(true));
        assert_eq!(a.confidence, Some(0.7));
        let i = &a.items[0];
        assert_eq!(
            (i.grams, i.kcal, i.protein, i.carbohydrates),
            (Some(200.0), Some(260.0), Some(5.4), Some(57.0))
        );
        // A comma inside a string is not touched.
        let s = r#"{"is_food": true, "reason": "a, }", "items": []}"#;
        assert_eq!(analysis(s).unwrap().reason.as_deref(), Some("a, }"));
    }

    #[test]
    fn missing_optional_fields() {
        let a = analysis(r#"{"is_food": true, "confidence": 0.8, "items": [{"name_ru": "Яблоко", "grams": 180}]}"#).unwrap();
        assert_eq!(a.items[0].kcal, None);
        assert_eq!(a.items[0].name_en, None);
        assert_eq!(a.reason, None);
        let a = analysis(r#"{"is_food": true}"#).unwrap();
        assert!(a.items.is_empty());
    }

    #[test]
    fn truncated_and_malformed_are_typed() {
        let cut = &GOOD[..GOOD.len() / 2];
        assert_eq!(analysis(cut), Err(ParseError::Truncated));
        assert_eq!(
            analysis(r#"{"is_food": true, "reason": "unterminated"#),
            Err(ParseError::Truncated)
        );
        assert!(matches!(
            analysis(r#"{"is_food": tru, "items": []}"#),
            Err(ParseError::Malformed(_))
        ));
        assert!(matches!(
            analysis(r#"{"items": [}"#),
            Err(ParseError::Malformed(_))
        ));
        assert_eq!(
            analysis("Извините, не могу помочь."),
            Err(ParseError::NoJson)
        );
        assert_eq!(analysis(""), Err(ParseError::NoJson));
        assert_eq!(
            analysis(r#"{"items": 5}"#),
            Err(ParseError::Shape("items is not a list"))
        );
    }

    #[test]
    fn gate_booleans_are_not_truthiness() {
        assert_eq!(
            gate_reply(r#"{"is_food": "false", "confidence": 0.9}"#)
                .unwrap()
                .is_food,
            Some(false)
        );
        assert_eq!(
            gate_reply(r#"{"is_food": "maybe", "confidence": 0.9}"#)
                .unwrap()
                .is_food,
            None
        );
        assert_eq!(gate_reply(r#"{"confidence": 0.9}"#).unwrap().is_food, None);
        assert_eq!(gate_reply(r#"{"is_food": 1}"#).unwrap().is_food, Some(true));
    }

    #[test]
    fn double_encoded_object() {
        let s = serde_json::to_string(GOOD).unwrap();
        assert_eq!(analysis(&s).unwrap().items.len(), 1);
    }
}

//! The AI proxy's wire contract — one set of types for the server ([`crate::proxy`]) and its
//! client ([`crate::client`]).
//!
//! Request: `POST /api/v1/ai/recognize-food`, multipart fields `image` (file), `user_comment`
//! (optional text), `locale` (`ru` default; anything starting with `en` selects English),
//! headers `X-API-Key`, optional `X-Key-Id`, `X-Request-ID`/`X-Trace-Id`, `X-Request-Deadline`
//! (unix ms).
//!
//! Success (200): `{status:"success", is_food, confidence, gate_reason, trace_id,
//! result:{items:[…], total:{…}, model_notes}}`. Every item carries the canonical fields
//! `name, grams, kcal, protein, fat, carbohydrates` **and** the aliases `amount_grams`,
//! `calories`, `carbs` that the original backend and Mini App read (the 2025-12-07 "0 kcal"
//! incident came from one side reading a name the other did not send); `total` likewise has
//! `calories` and `carbs`. New, additive fields: `name_en`, `confidence`, `grounded`, `source`,
//! `adjustments`.
//!
//! Error: `{status:"error", error_code, user_title, user_message, user_actions, allow_retry,
//! retry_after_sec?, trace_id, error, error_message}` — the catalogue body of
//! [`domain::error::AiErrorBody`] plus `status`.

use domain::error::{AiErrorBody, AiErrorCode, Locale};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Path of the recognition endpoint.
pub const RECOGNIZE_PATH: &str = "/api/v1/ai/recognize-food";
/// Path of the authenticated no-op used by the backend's readiness check.
pub const AUTH_CHECK_PATH: &str = "/v1/auth-check";

/// Header names (lower case, as `http` stores them).
pub mod headers {
    /// The shared secret.
    pub const API_KEY: &str = "x-api-key";
    /// Which key of the verifier's set the sender uses (optional; echoed by auth-check).
    pub const KEY_ID: &str = "x-key-id";
    /// The trace id (preferred).
    pub const REQUEST_ID: &str = "x-request-id";
    /// The trace id (legacy name the original proxy read first).
    pub const TRACE_ID: &str = "x-trace-id";
    /// The end-to-end deadline, unix milliseconds.
    pub const DEADLINE: &str = "x-request-deadline";
}

/// Multipart field with the photo.
pub const FIELD_IMAGE: &str = "image";
/// Multipart field with the user's comment.
pub const FIELD_USER_COMMENT: &str = "user_comment";
/// Multipart field with the locale.
pub const FIELD_LOCALE: &str = "locale";

/// Longest user comment forwarded to the model, in characters (the backend's limit too).
pub const MAX_COMMENT_CHARS: usize = 500;

/// The body of a 401 (the original's text, kept for old clients).
pub const UNAUTHORIZED_DETAIL: &str = "Invalid or missing API key";

/// Parses the `locale` field: empty or `ru…` → Russian, `en…` → English, anything else →
/// Russian (our users' language; the original switched to English for anything but `ru`).
#[must_use]
pub fn parse_locale(value: Option<&str>) -> Locale {
    Locale::from_tag(value)
}

/// Where an item's numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemSource {
    /// Computed from the food composition table's per-100 g values.
    Table,
    /// The model's estimate (sanity-checked).
    #[default]
    Model,
}

impl ItemSource {
    /// Wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ItemSource::Table => "table",
            ItemSource::Model => "model",
        }
    }
}

/// One recognised food item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Display name (Russian when the model follows the prompt), trimmed, 1–255 chars.
    pub name: String,
    /// English name, when the model gave one.
    pub name_en: Option<String>,
    /// Portion, grams, 1..=5000.
    pub grams: f64,
    /// Energy, kcal.
    pub kcal: f64,
    /// Protein, g.
    pub protein: f64,
    /// Fat, g.
    pub fat: f64,
    /// Carbohydrates, g.
    pub carbohydrates: f64,
    /// The model's confidence in this item, 0..=1.
    pub confidence: Option<f64>,
    /// Whether the numbers were computed from the food table.
    pub grounded: bool,
    /// Where the numbers come from.
    pub source: ItemSource,
    /// What the sanity checks changed (`grams_clamped`, `kcal_from_macros`, …).
    pub adjustments: Vec<String>,
}

#[derive(Serialize)]
struct ItemOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_en: Option<&'a str>,
    grams: f64,
    kcal: f64,
    protein: f64,
    fat: f64,
    carbohydrates: f64,
    confidence: Option<f64>,
    grounded: bool,
    source: ItemSource,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    adjustments: &'a [String],
    amount_grams: f64,
    calories: f64,
    carbs: f64,
}

impl Serialize for Item {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ItemOut {
            name: &self.name,
            name_en: self.name_en.as_deref(),
            grams: self.grams,
            kcal: self.kcal,
            protein: self.protein,
            fat: self.fat,
            carbohydrates: self.carbohydrates,
            confidence: self.confidence,
            grounded: self.grounded,
            source: self.source,
            adjustments: &self.adjustments,
            amount_grams: self.grams,
            calories: self.kcal,
            carbs: self.carbohydrates,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct ItemIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default, deserialize_with = "lenient_f64")]
    grams: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    amount_grams: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    kcal: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    calories: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    protein: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    fat: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    carbohydrates: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    carbs: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    confidence: Option<f64>,
    #[serde(default)]
    grounded: bool,
    #[serde(default)]
    source: ItemSource,
    #[serde(default)]
    adjustments: Vec<String>,
}

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let i = ItemIn::deserialize(d)?;
        Ok(Item {
            name: i.name.unwrap_or_default(),
            name_en: i.name_en,
            grams: i.grams.or(i.amount_grams).unwrap_or(0.0),
            kcal: i.kcal.or(i.calories).unwrap_or(0.0),
            protein: i.protein.unwrap_or(0.0),
            fat: i.fat.unwrap_or(0.0),
            carbohydrates: i.carbohydrates.or(i.carbs).unwrap_or(0.0),
            confidence: i.confidence,
            grounded: i.grounded,
            source: i.source,
            adjustments: i.adjustments,
        })
    }
}

/// Sums over the items.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Total {
    /// Energy, kcal.
    pub kcal: f64,
    /// Protein, g.
    pub protein: f64,
    /// Fat, g.
    pub fat: f64,
    /// Carbohydrates, g.
    pub carbohydrates: f64,
}

impl Total {
    /// The sum of `items`, each value rounded to one decimal.
    #[must_use]
    pub fn of(items: &[Item]) -> Self {
        let r = |v: f64| (v * 10.0).round() / 10.0;
        let mut t = Total::default();
        for i in items {
            t.kcal += i.kcal;
            t.protein += i.protein;
            t.fat += i.fat;
            t.carbohydrates += i.carbohydrates;
        }
        Total {
            kcal: r(t.kcal),
            protein: r(t.protein),
            fat: r(t.fat),
            carbohydrates: r(t.carbohydrates),
        }
    }
}

#[derive(Serialize)]
struct TotalOut {
    kcal: f64,
    protein: f64,
    fat: f64,
    carbohydrates: f64,
    calories: f64,
    carbs: f64,
}

impl Serialize for Total {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TotalOut {
            kcal: self.kcal,
            protein: self.protein,
            fat: self.fat,
            carbohydrates: self.carbohydrates,
            calories: self.kcal,
            carbs: self.carbohydrates,
        }
        .serialize(s)
    }
}

#[derive(Deserialize)]
struct TotalIn {
    #[serde(default, deserialize_with = "lenient_f64")]
    kcal: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    calories: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    protein: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    fat: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    carbohydrates: Option<f64>,
    #[serde(default, deserialize_with = "lenient_f64")]
    carbs: Option<f64>,
}

impl<'de> Deserialize<'de> for Total {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = TotalIn::deserialize(d)?;
        Ok(Total {
            kcal: t.kcal.or(t.calories).unwrap_or(0.0),
            protein: t.protein.unwrap_or(0.0),
            fat: t.fat.unwrap_or(0.0),
            carbohydrates: t.carbohydrates.or(t.carbs).unwrap_or(0.0),
        })
    }
}

/// `result` of a success body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecognitionResult {
    /// Recognised items (never empty in a success body).
    #[serde(default)]
    pub items: Vec<Item>,
    /// Sums over `items` (recomputed by the proxy; the model's own total is ignored).
    #[serde(default)]
    pub total: Total,
    /// The model's notes (Russian), if any.
    #[serde(default)]
    pub model_notes: Option<String>,
}

/// The success body (HTTP 200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessBody {
    /// Always `"success"`.
    pub status: String,
    /// Always `true` in a success body (kept for the original's readers).
    pub is_food: bool,
    /// The food-gate confidence, 0..=1.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub confidence: Option<f64>,
    /// The gate's (or model's) short reason.
    #[serde(default)]
    pub gate_reason: Option<String>,
    /// The request's trace id.
    #[serde(default)]
    pub trace_id: String,
    /// Items, totals and notes.
    pub result: RecognitionResult,
}

impl SuccessBody {
    /// A success body.
    #[must_use]
    pub fn new(
        confidence: f64,
        gate_reason: Option<String>,
        trace_id: String,
        result: RecognitionResult,
    ) -> Self {
        Self {
            status: "success".to_owned(),
            is_food: true,
            confidence: Some(confidence),
            gate_reason,
            trace_id,
            result,
        }
    }
}

/// The error body: `status:"error"` plus the catalogue contract (with the legacy keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Always `"error"`.
    pub status: String,
    /// The catalogue body.
    #[serde(flatten)]
    pub body: AiErrorBody,
}

impl ErrorBody {
    /// The body for `code` in `locale`.
    #[must_use]
    pub fn new(
        code: AiErrorCode,
        locale: Locale,
        trace_id: &str,
        retry_after: Option<u32>,
    ) -> Self {
        Self {
            status: "error".to_owned(),
            body: code.def().body(locale, trace_id, retry_after),
        }
    }
}

/// Deserializes a number leniently: JSON numbers, numeric strings (`"150"`, `" 12,5 "`),
/// `null`/missing → `None`; anything else → `None` (never an error).
pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(number_from_value(&v))
}

/// A number from a JSON value: numbers, numeric strings (comma decimals and a trailing unit
/// such as `"150 г"` accepted). Non-finite results are `None`.
#[must_use]
pub fn number_from_value(v: &serde_json::Value) -> Option<f64> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => number_from_str(s),
        _ => None,
    }?;
    n.is_finite().then_some(n)
}

fn number_from_str(s: &str) -> Option<f64> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit() || *c == '.' || *c == ',' || ((*c == '-' || *c == '+') && *i == 0))
        })
        .map_or(s.len(), |(i, _)| i);
    let num = s[..end].replace(',', ".");
    num.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item() -> Item {
        Item {
            name: "гречка".into(),
            name_en: Some("buckwheat".into()),
            grams: 150.0,
            kcal: 165.0,
            protein: 6.0,
            fat: 1.5,
            carbohydrates: 30.0,
            confidence: Some(0.8),
            grounded: true,
            source: ItemSource::Table,
            adjustments: vec![],
        }
    }

    #[test]
    fn items_carry_canonical_fields_and_aliases() {
        let v = serde_json::to_value(item()).unwrap();
        assert_eq!(v["grams"], 150.0);
        assert_eq!(v["amount_grams"], 150.0);
        assert_eq!(v["kcal"], 165.0);
        assert_eq!(v["calories"], 165.0);
        assert_eq!(v["carbohydrates"], 30.0);
        assert_eq!(v["carbs"], 30.0);
        assert_eq!(v["source"], "table");
        assert!(v.get("adjustments").is_none());
        let back: Item = serde_json::from_value(v).unwrap();
        assert_eq!(back, item());
    }

    #[test]
    fn items_parse_from_aliases_only() {
        let i: Item = serde_json::from_value(json!({
            "name": "x", "amount_grams": "200", "calories": 10, "protein": null, "fat": "1,5",
            "carbs": 2
        }))
        .unwrap();
        assert_eq!(
            (i.grams, i.kcal, i.protein, i.fat, i.carbohydrates),
            (200.0, 10.0, 0.0, 1.5, 2.0)
        );
        assert_eq!(i.source, ItemSource::Model);
        assert!(!i.grounded);
    }

    #[test]
    fn totals_sum_and_alias() {
        let t = Total::of(&[item(), item()]);
        let v = serde_json::to_value(t).unwrap();
        assert_eq!(v["kcal"], 330.0);
        assert_eq!(v["calories"], 330.0);
        assert_eq!(v["carbs"], 60.0);
    }

    #[test]
    fn error_body_has_status_and_legacy_keys() {
        let v = serde_json::to_value(ErrorBody::new(
            AiErrorCode::GateError,
            Locale::Ru,
            "t",
            None,
        ))
        .unwrap();
        assert_eq!(v["status"], "error");
        assert_eq!(v["error_code"], "GATE_ERROR");
        assert_eq!(v["error"], "GATE_ERROR");
        assert_eq!(v["error_message"], v["user_message"]);
        assert_eq!(v["trace_id"], "t");
    }

    #[test]
    fn lenient_numbers() {
        assert_eq!(number_from_value(&json!("150 г")), Some(150.0));
        assert_eq!(number_from_value(&json!(" 2,5")), Some(2.5));
        assert_eq!(number_from_value(&json!("-3")), Some(-3.0));
        assert_eq!(number_from_value(&json!("abc")), None);
        assert_eq!(number_from_value(&json!(true)), None);
        assert_eq!(number_from_value(&json!(null)), None);
    }
}

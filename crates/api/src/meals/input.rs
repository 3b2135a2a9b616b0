//! Request input for the meals endpoints: a JSON object validated field by field with the
//! original's (DRF) Russian messages, strict ISO dates, path ids and query parameters.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use chrono::NaiveDate;
use domain::error::ErrorCode;
use domain::nutrition::{Grams, Kcal, MacroGrams, MealType, RangeError};
use serde_json::{Map, Value, json};

use crate::error::{ApiError, ApiResult};

pub const MSG_BAD_DATE: &str = "Невалидный формат даты. Используйте YYYY-MM-DD";
pub const MSG_BAD_PAGE: &str = "Неправильная страница";
const MSG_REQUIRED: &str = "Обязательное поле.";
const MSG_NULL: &str = "Это поле не может быть null.";
const MSG_BLANK: &str = "Это поле не может быть пустым.";
const MSG_NOT_STRING: &str = "Неправильное значение.";
const MSG_NAME_LONG: &str = "Убедитесь, что это значение содержит не более 255 символов.";
const MSG_FIELD_DATE: &str =
    "Неправильный формат date. Используйте один из этих форматов: YYYY-MM-DD.";
const MSG_BAD_JSON: &str = "Тело запроса должно быть JSON-объектом.";

/// A JSON object body, validated field by field with DRF-like messages: every problem is
/// collected, the first becomes the envelope's `message`.
pub(crate) struct Form {
    map: Map<String, Value>,
    partial: bool,
    errors: Vec<(&'static str, String)>,
}

impl Form {
    pub(crate) fn new(body: &Bytes, partial: bool) -> ApiResult<Self> {
        let map = if body.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => map,
                _ => return Err(ApiError::with_message(ErrorCode::BadRequest, MSG_BAD_JSON)),
            }
        };
        Ok(Self {
            map,
            partial,
            errors: Vec::new(),
        })
    }

    fn error(&mut self, key: &'static str, message: impl Into<String>) {
        self.errors.push((key, message.into()));
    }

    fn parse<T>(
        &mut self,
        key: &'static str,
        required: bool,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        match self.map.remove(key) {
            None => {
                if required && !self.partial {
                    self.error(key, MSG_REQUIRED);
                }
                None
            }
            Some(Value::Null) => {
                self.error(key, MSG_NULL);
                None
            }
            Some(v) => match parse(&v) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.error(key, e);
                    None
                }
            },
        }
    }

    /// A required field (optional when the form is partial).
    pub(crate) fn required<T>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        self.parse(key, true, parse)
    }

    /// An optional field (null refused).
    pub(crate) fn optional<T>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<T> {
        self.parse(key, false, parse)
    }

    /// An optional, nullable field: `Some(None)` for an explicit null.
    pub(crate) fn nullable<T>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&Value) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.map.remove(key) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(v) => match parse(&v) {
                Ok(t) => Some(Some(t)),
                Err(e) => {
                    self.error(key, e);
                    None
                }
            },
        }
    }

    pub(crate) fn finish(self) -> ApiResult<()> {
        let Some((first_key, first_msg)) = self.errors.first() else {
            return Ok(());
        };
        let message = format!("{first_key}: {first_msg}");
        let mut details = Map::new();
        for (k, m) in self.errors {
            if let Value::Array(list) = details
                .entry(k.to_string())
                .or_insert_with(|| Value::Array(Vec::new()))
            {
                list.push(Value::String(m));
            }
        }
        Err(ApiError::Validation {
            message,
            details: Value::Object(details),
        })
    }
}

pub(crate) fn p_str(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| MSG_NOT_STRING.to_string())
}

pub(crate) fn p_meal_type(v: &Value) -> Result<MealType, String> {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    s.parse::<MealType>()
        .map_err(|_| format!("Значения {s} нет среди допустимых вариантов."))
}

pub(crate) fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    (s.len() == 10)
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
}

pub(crate) fn p_date(v: &Value) -> Result<NaiveDate, String> {
    v.as_str()
        .and_then(parse_iso_date)
        .ok_or_else(|| MSG_FIELD_DATE.to_string())
}

pub(crate) fn p_name(v: &Value) -> Result<String, String> {
    let s = p_str(v)?.trim();
    if s.is_empty() {
        Err(MSG_BLANK.to_string())
    } else if s.chars().count() > 255 {
        Err(MSG_NAME_LONG.to_string())
    } else {
        Ok(s.to_string())
    }
}

pub(crate) fn p_grams(v: &Value) -> Result<Grams, String> {
    let r = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Grams::parse(i),
            None => Grams::parse_f64(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => s.parse(),
        _ => Err(domain::nutrition::UnitError::NotAnInteger),
    };
    r.map_err(|e| e.to_string())
}

pub(crate) fn p_kcal(v: &Value) -> Result<Kcal, String> {
    let r = match v {
        Value::Number(n) => Kcal::parse_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.parse(),
        _ => Err(domain::nutrition::UnitError::NotANumber),
    };
    r.and_then(Kcal::check_item_limit)
        .map_err(|e| e.to_string())
}

pub(crate) fn p_macro(v: &Value) -> Result<MacroGrams, String> {
    let r = match v {
        Value::Number(n) => MacroGrams::parse_f64(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => s.parse(),
        _ => Err(domain::nutrition::UnitError::NotANumber),
    };
    r.and_then(MacroGrams::check_item_limit)
        .map_err(|e| e.to_string())
}

pub(crate) fn path_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::not_found)
}

pub(crate) fn query_map(
    q: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> ApiResult<HashMap<String, String>> {
    q.map(|Query(m)| m).map_err(|_| {
        ApiError::with_message(ErrorCode::BadRequest, "Некорректные параметры запроса.")
    })
}

/// A required `YYYY-MM-DD` query parameter, with 400 in the general envelope otherwise.
pub(crate) fn query_date(
    q: &HashMap<String, String>,
    key: &str,
    missing: &str,
    invalid: &str,
) -> ApiResult<NaiveDate> {
    let raw = q
        .get(key)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad_request(key, missing))?;
    parse_iso_date(raw).ok_or_else(|| bad_request(key, invalid))
}

/// 400 BAD_REQUEST about one query parameter.
pub(crate) fn bad_request(key: &str, message: &str) -> ApiError {
    ApiError::General {
        code: ErrorCode::BadRequest,
        message: Some(message.to_string()),
        details: json!({ key: [message] }),
    }
}

/// Maps a service refusal; `date_field` names the field a future-date error belongs to.
/// Checks an export or summary range: `from ≤ to`, at most 366 days.
pub(crate) fn check_range(from: NaiveDate, to: NaiveDate) -> ApiResult<()> {
    let days = to.signed_duration_since(from).num_days() + 1;
    let err = if days < 1 {
        Some(RangeError::EndBeforeStart)
    } else if days > i64::from(domain::nutrition::MAX_RANGE_DAYS) {
        Some(RangeError::TooLong { days })
    } else {
        None
    };
    match err {
        Some(e) => Err(bad_request("to", &e.to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_strict() {
        assert!(parse_iso_date("2026-01-12").is_some());
        assert!(parse_iso_date("2026-1-12").is_none());
        assert!(parse_iso_date("2026-02-30").is_none());
        assert!(parse_iso_date("12.01.2026").is_none());
    }
}

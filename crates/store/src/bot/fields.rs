//! Parsing helpers for the bot's JSON requests: typed fields with DRF's Russian messages,
//! every problem collected as (field, message).

use domain::ids::TelegramId;
use serde_json::{Map, Value};

use super::FieldErrors;

pub(super) const REQUIRED: &str = "Обязательное поле.";
pub(super) const NOT_NULL: &str = "Это поле не может быть null.";
pub(super) const BLANK: &str = "Это поле не может быть пустым.";
const NOT_INT: &str = "Введите правильное число.";
const NOT_NUMBER: &str = "Требуется численное значение.";

fn min_msg(n: impl std::fmt::Display) -> String {
    format!("Убедитесь, что это значение больше либо равно {n}.")
}
fn max_msg(n: impl std::fmt::Display) -> String {
    format!("Убедитесь, что это значение меньше либо равно {n}.")
}
fn len_msg(n: usize) -> String {
    format!("Убедитесь, что это значение содержит не более {n} символов.")
}

pub(super) struct Fields<'a> {
    obj: Option<&'a Map<String, Value>>,
    errors: FieldErrors,
}

impl<'a> Fields<'a> {
    pub(super) fn new(v: &'a Value) -> Self {
        let obj = v.as_object();
        let mut errors = Vec::new();
        if obj.is_none() {
            errors.push((
                "non_field_errors",
                "Ожидался объект JSON с полями запроса.".to_string(),
            ));
        }
        Self { obj, errors }
    }

    pub(super) fn raw(&self, name: &str) -> Option<&'a Value> {
        self.obj.and_then(|o| o.get(name))
    }

    pub(super) fn fail(&mut self, field: &'static str, msg: impl Into<String>) {
        self.errors.push((field, msg.into()));
    }

    /// An integer (JSON integer, integral float or numeric string).
    pub(super) fn int(&mut self, field: &'static str, required: bool) -> Option<i64> {
        match self.raw(field) {
            None => {
                if required {
                    self.fail(field, REQUIRED);
                }
                None
            }
            Some(Value::Null) => {
                if required {
                    self.fail(field, NOT_NULL);
                }
                None
            }
            Some(v) => {
                let parsed = match v {
                    Value::Number(n) => n.as_i64().or_else(|| {
                        n.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                            .map(|f| f as i64)
                    }),
                    Value::String(s) => s.trim().parse::<i64>().ok(),
                    _ => None,
                };
                if parsed.is_none() {
                    self.fail(field, NOT_INT);
                }
                parsed
            }
        }
    }

    pub(super) fn int_in(
        &mut self,
        field: &'static str,
        required: bool,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let v = self.int(field, required)?;
        if v < min {
            self.fail(field, min_msg(min));
            None
        } else if v > max {
            self.fail(field, max_msg(max));
            None
        } else {
            Some(v)
        }
    }

    pub(super) fn telegram_id(&mut self) -> Option<TelegramId> {
        let v = self.int("telegram_id", true)?;
        match TelegramId::new(v) {
            Ok(id) => Some(id),
            Err(_) => {
                self.fail("telegram_id", min_msg(1));
                None
            }
        }
    }

    /// A decimal with at most two places, within `min..=max`.
    pub(super) fn decimal(
        &mut self,
        field: &'static str,
        required: bool,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        let raw = match self.raw(field) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(field, REQUIRED);
                }
                return None;
            }
            Some(v) => v,
        };
        let parsed = match raw {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().replace(',', ".").parse::<f64>().ok(),
            _ => None,
        }
        .filter(|f| f.is_finite());
        let Some(v) = parsed else {
            self.fail(field, NOT_NUMBER);
            return None;
        };
        if ((v * 100.0).round() - v * 100.0).abs() > 1e-6 {
            self.fail(
                field,
                "Убедитесь, что в числе не больше 2 знаков после запятой.",
            );
            return None;
        }
        if v < min {
            self.fail(field, min_msg(min));
            None
        } else if v > max {
            self.fail(field, max_msg(max));
            None
        } else {
            Some((v * 100.0).round() / 100.0)
        }
    }

    /// A string; `None` when absent or null. Blank is refused when `allow_blank` is false.
    pub(super) fn string(
        &mut self,
        field: &'static str,
        required: bool,
        allow_blank: bool,
        max_len: Option<usize>,
    ) -> Option<String> {
        let raw = match self.raw(field) {
            None => {
                if required {
                    self.fail(field, REQUIRED);
                }
                return None;
            }
            Some(Value::Null) => {
                if required {
                    self.fail(field, NOT_NULL);
                }
                return None;
            }
            Some(v) => v,
        };
        let Some(s) = raw.as_str() else {
            self.fail(field, "Ожидалась строка.");
            return None;
        };
        let s = s.trim().to_string();
        if s.is_empty() && !allow_blank {
            self.fail(field, BLANK);
            return None;
        }
        if let Some(max) = max_len
            && s.chars().count() > max
        {
            self.fail(field, len_msg(max));
            return None;
        }
        Some(s)
    }

    /// A list of non-blank strings (≤ 128 chars each, ≤ 20 items); `[]` when absent.
    pub(super) fn string_list(&mut self, field: &'static str) -> Vec<String> {
        let items = match self.raw(field) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => {
                self.fail(field, "Ожидался список строк.");
                return Vec::new();
            }
        };
        if items.len() > 20 {
            self.fail(field, "Убедитесь, что в списке не больше 20 элементов.");
            return Vec::new();
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str().map(str::trim) {
                Some(s) if !s.is_empty() && s.chars().count() <= 128 => out.push(s.to_string()),
                Some("") => {
                    self.fail(field, "Элементы списка не могут быть пустыми.");
                    return Vec::new();
                }
                Some(_) => {
                    self.fail(field, len_msg(128));
                    return Vec::new();
                }
                None => {
                    self.fail(field, "Ожидался список строк.");
                    return Vec::new();
                }
            }
        }
        out
    }

    pub(super) fn finish<T>(self, value: Option<T>) -> Result<T, FieldErrors> {
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ if self.errors.is_empty() => Err(vec![("non_field_errors", REQUIRED.to_string())]),
            _ => Err(self.errors),
        }
    }
}

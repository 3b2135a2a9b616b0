//! Validation of a `PUT/PATCH /users/profile/` body into a typed [`ProfileUpdate`].

use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::enums::{ActivityLevel, Gender, GoalType};
use super::profile::{
    FullName, HeightCm, Profile, ProfileErrorKind, ProfileField, ProfileFieldError, WeightKg,
    check_birth_date, parse_height_value, parse_timezone, parse_weight_value,
};

/// A validated `PUT/PATCH /users/profile/` body. Outer `None`: the key was absent (unchanged);
/// `Some(None)`: set to null.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfileUpdate {
    /// New display name.
    pub full_name: Option<FullName>,
    /// New sex or null.
    pub gender: Option<Option<Gender>>,
    /// New birth date or null.
    pub birth_date: Option<Option<NaiveDate>>,
    /// New height or null.
    pub height: Option<Option<HeightCm>>,
    /// New weight or null.
    pub weight: Option<Option<WeightKg>>,
    /// New activity level.
    pub activity_level: Option<ActivityLevel>,
    /// New goal.
    pub goal_type: Option<GoalType>,
    /// New target weight or null.
    pub target_weight: Option<Option<WeightKg>>,
    /// New time zone or null (null means the default zone).
    pub timezone: Option<Option<Tz>>,
}

impl ProfileUpdate {
    /// Validates a flat JSON body. Unknown and read-only keys (`username`, `age`, …) are
    /// ignored, as in the original; PUT and PATCH behave alike (no field is required).
    /// For nullable fields an empty string means null. `today` is the user's today (for the
    /// birth-date check).
    ///
    /// # Errors
    /// Every invalid field, in [`ProfileField::ALL`] order.
    pub fn from_json(
        body: &Map<String, Value>,
        today: NaiveDate,
    ) -> Result<Self, Vec<ProfileFieldError>> {
        let mut errors = Vec::new();
        let mut update = Self::default();
        for &field in ProfileField::ALL {
            let Some(value) = body.get(field.as_str()) else {
                continue;
            };
            if let Err(kind) = update.set(field, value, today) {
                errors.push(ProfileFieldError { field, kind });
            }
        }
        if errors.is_empty() {
            Ok(update)
        } else {
            Err(errors)
        }
    }

    fn set(
        &mut self,
        field: ProfileField,
        value: &Value,
        today: NaiveDate,
    ) -> Result<(), ProfileErrorKind> {
        let nullish = value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty());
        match field {
            ProfileField::FullName => {
                self.full_name = Some(FullName::parse(required_str(value)?)?);
            }
            ProfileField::ActivityLevel => {
                self.activity_level = Some(parse_choice(required_str(value)?)?);
            }
            ProfileField::GoalType => {
                self.goal_type = Some(parse_choice(required_str(value)?)?);
            }
            _ if nullish => self.set_null(field),
            ProfileField::Gender => {
                self.gender = Some(Some(parse_choice(required_str(value)?)?));
            }
            ProfileField::BirthDate => {
                let date = NaiveDate::parse_from_str(required_str(value)?.trim(), "%Y-%m-%d")
                    .map_err(|_| ProfileErrorKind::InvalidDate)?;
                self.birth_date = Some(Some(check_birth_date(date, today)?));
            }
            ProfileField::Height => self.height = Some(Some(parse_height_value(value)?)),
            ProfileField::Weight => self.weight = Some(Some(parse_weight_value(value)?)),
            ProfileField::TargetWeight => {
                let target = parse_weight_value(value).map_err(|e| match e {
                    ProfileErrorKind::WeightOutOfRange => ProfileErrorKind::TargetWeightOutOfRange,
                    other => other,
                })?;
                self.target_weight = Some(Some(target));
            }
            ProfileField::Timezone => {
                self.timezone = Some(Some(parse_timezone(required_str(value)?)?));
            }
        }
        Ok(())
    }

    fn set_null(&mut self, field: ProfileField) {
        match field {
            ProfileField::Gender => self.gender = Some(None),
            ProfileField::BirthDate => self.birth_date = Some(None),
            ProfileField::Height => self.height = Some(None),
            ProfileField::Weight => self.weight = Some(None),
            ProfileField::TargetWeight => self.target_weight = Some(None),
            ProfileField::Timezone => self.timezone = Some(None),
            // Not nullable: handled before `set_null` is reached.
            ProfileField::FullName | ProfileField::ActivityLevel | ProfileField::GoalType => {}
        }
    }

    /// Writes the present fields into `profile`.
    pub fn apply(self, profile: &mut Profile) {
        if let Some(v) = self.full_name {
            profile.full_name = v;
        }
        if let Some(v) = self.gender {
            profile.gender = v;
        }
        if let Some(v) = self.birth_date {
            profile.birth_date = v;
        }
        if let Some(v) = self.height {
            profile.height = v;
        }
        if let Some(v) = self.weight {
            profile.weight = v;
        }
        if let Some(v) = self.activity_level {
            profile.activity_level = v;
        }
        if let Some(v) = self.goal_type {
            profile.goal_type = v;
        }
        if let Some(v) = self.target_weight {
            profile.target_weight = v;
        }
        if let Some(v) = self.timezone {
            profile.timezone = v;
        }
    }

    /// The keys present in the update (for logging field names, never values).
    #[must_use]
    pub fn fields(&self) -> Vec<ProfileField> {
        let present = [
            self.full_name.is_some(),
            self.gender.is_some(),
            self.birth_date.is_some(),
            self.height.is_some(),
            self.weight.is_some(),
            self.activity_level.is_some(),
            self.goal_type.is_some(),
            self.target_weight.is_some(),
            self.timezone.is_some(),
        ];
        ProfileField::ALL
            .iter()
            .zip(present)
            .filter(|(_, p)| *p)
            .map(|(f, _)| *f)
            .collect()
    }
}

fn required_str(value: &Value) -> Result<&str, ProfileErrorKind> {
    match value {
        Value::Null => Err(ProfileErrorKind::NotNull),
        Value::String(s) => Ok(s),
        _ => Err(ProfileErrorKind::NotAString),
    }
}

fn parse_choice<T: FromStr>(s: &str) -> Result<T, ProfileErrorKind> {
    s.parse().map_err(|_| ProfileErrorKind::InvalidChoice {
        value: s.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn update(body: Value) -> Result<ProfileUpdate, Vec<ProfileFieldError>> {
        let Value::Object(map) = body else {
            panic!("not an object")
        };
        ProfileUpdate::from_json(&map, date(2026, 1, 12))
    }

    fn errors(body: Value) -> Vec<(&'static str, String)> {
        update(body)
            .unwrap_err()
            .into_iter()
            .map(|e| (e.field.as_str(), e.kind.to_string()))
            .collect()
    }

    #[test]
    fn empty_body_is_a_valid_update() {
        let u = update(json!({})).unwrap();
        assert_eq!(u, ProfileUpdate::default());
        assert!(u.fields().is_empty());
    }

    #[test]
    fn full_update_parses_every_field() {
        let u = update(json!({
            "full_name": " Анна ",
            "gender": "F",
            "birth_date": "1995-03-08",
            "height": 165,
            "weight": "60.50",
            "activity_level": "lightly_active",
            "goal_type": "weight_loss",
            "target_weight": 55,
            "timezone": "Asia/Yekaterinburg",
            "username": "ignored",
            "age": 99
        }))
        .unwrap();
        assert_eq!(u.fields().len(), 9);
        let mut p = Profile::default();
        u.apply(&mut p);
        assert_eq!(p.full_name.as_str(), "Анна");
        assert_eq!(p.gender, Some(Gender::Female));
        assert_eq!(p.birth_date, Some(date(1995, 3, 8)));
        assert_eq!(p.height.map(HeightCm::get), Some(165));
        assert_eq!(p.weight.map(WeightKg::hundredths), Some(6050));
        assert_eq!(p.activity_level, ActivityLevel::LightlyActive);
        assert_eq!(p.goal_type, GoalType::WeightLoss);
        assert_eq!(p.target_weight.map(WeightKg::hundredths), Some(5500));
        assert_eq!(p.timezone, Some(chrono_tz::Asia::Yekaterinburg));
        assert!(p.is_complete());
    }

    #[test]
    fn nulls_clear_nullable_fields_and_absent_fields_stay() {
        let mut p = Profile {
            gender: Some(Gender::Male),
            height: HeightCm::parse(180).ok(),
            timezone: Some(chrono_tz::Asia::Omsk),
            ..Profile::default()
        };
        let u = update(json!({"gender": null, "timezone": "", "weight": null})).unwrap();
        assert_eq!(
            u.fields(),
            [
                ProfileField::Gender,
                ProfileField::Weight,
                ProfileField::Timezone
            ]
        );
        u.apply(&mut p);
        assert_eq!(p.gender, None);
        assert_eq!(p.timezone, None);
        assert_eq!(p.height.map(HeightCm::get), Some(180));
    }

    #[test]
    fn all_invalid_fields_are_reported_with_russian_messages() {
        let errs = errors(json!({
            "full_name": null,
            "gender": "X",
            "birth_date": "2026-01-13",
            "height": 300,
            "weight": 10,
            "activity_level": "lazy",
            "goal_type": null,
            "target_weight": -5,
            "timezone": "Mars/Olympus"
        }));
        assert_eq!(
            errs,
            vec![
                ("full_name", "Это поле не может быть пустым.".to_owned()),
                (
                    "gender",
                    "Значения «X» нет среди допустимых вариантов.".to_owned()
                ),
                (
                    "birth_date",
                    "Дата рождения не может быть в будущем".to_owned()
                ),
                ("height", "Рост должен быть от 50 до 250 см".to_owned()),
                ("weight", "Вес должен быть от 20 до 500 кг".to_owned()),
                (
                    "activity_level",
                    "Значения «lazy» нет среди допустимых вариантов.".to_owned()
                ),
                ("goal_type", "Это поле не может быть пустым.".to_owned()),
                (
                    "target_weight",
                    "Целевой вес должен быть от 20 до 500 кг".to_owned()
                ),
                ("timezone", "Неизвестный часовой пояс".to_owned()),
            ]
        );
    }

    #[test]
    fn type_errors() {
        let errs = errors(json!({
            "full_name": 5,
            "birth_date": "12.01.1990",
            "height": 180.5,
            "weight": "heavy"
        }));
        let kinds: Vec<&str> = errs.iter().map(|(f, _)| *f).collect();
        assert_eq!(kinds, ["full_name", "birth_date", "height", "weight"]);
        assert_eq!(errs[2].1, "Введите правильное число.");
        assert_eq!(errs[3].1, "Требуется численное значение.");
        // DRF-style leniency: integral floats and digit strings for the height.
        assert!(update(json!({"height": 180.0})).is_ok());
        assert!(update(json!({"height": "180"})).is_ok());
        assert!(update(json!({"height": "-5"})).is_err());
        assert!(update(json!({"weight": 80.555})).is_err());
        let long = "x".repeat(256);
        assert_eq!(
            errors(json!({ "full_name": long }))[0].1,
            "Убедитесь, что это значение содержит не более 255 символов."
        );
    }
}

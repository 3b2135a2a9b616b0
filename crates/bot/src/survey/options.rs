//! The survey's options: keys as stored, labels in Russian and English.

use domain::error::Locale;
use domain::nutrition::{SurveyActivity, SurveyGender};

/// A table of options: (key, ru, en).
pub type Table = [(&'static str, &'static str, &'static str)];

/// Activity keys with labels (ru, en).
pub const ACTIVITY: [(SurveyActivity, &str, &str); 4] = [
    (
        SurveyActivity::Sedentary,
        "🧘 Минимальная — менее 3 000 шагов в день",
        "🧘 Minimal — under 3,000 steps a day",
    ),
    (
        SurveyActivity::Light,
        "🚶 Низкая — 3 000–7 000 шагов",
        "🚶 Low — 3,000–7,000 steps",
    ),
    (
        SurveyActivity::Moderate,
        "🏃 Средняя — 7 000–12 000 шагов",
        "🏃 Medium — 7,000–12,000 steps",
    ),
    (
        SurveyActivity::Active,
        "🔥 Высокая — более 12 000 шагов",
        "🔥 High — over 12,000 steps",
    ),
];

/// Training levels: (key, ru, en).
pub const TRAINING: [(&str, &str, &str); 4] = [
    (
        "beginner",
        "🟢 Новичок — не тренируюсь / реже 1 раза в неделю",
        "🟢 Beginner — under once a week",
    ),
    (
        "intermediate",
        "🟡 Средний — 2–3 тренировки в неделю",
        "🟡 Intermediate — 2–3 sessions a week",
    ),
    (
        "advanced",
        "🔴 Продвинутый — 4+ тренировки в неделю",
        "🔴 Advanced — 4+ sessions a week",
    ),
    (
        "home_irregular",
        "🏠 Домашний формат — время от времени",
        "🏠 At home, now and then",
    ),
];

/// Body goals: (key, ru, en).
pub const GOALS: [(&str, &str, &str); 9] = [
    ("weight_loss", "Снизить вес", "Lose weight"),
    ("belly_sides", "Убрать живот и бока", "Lose belly fat"),
    ("tighten_body", "Подтянуть тело", "Tone the body"),
    (
        "legs_hips_volume",
        "Уменьшить объёмы бёдер / ног",
        "Slimmer hips and legs",
    ),
    ("glutes_shape", "Подтянуть ягодицы", "Shape the glutes"),
    (
        "back_posture",
        "Прокачать спину и осанку",
        "Back and posture",
    ),
    ("muscle_gain", "Увеличить мышечную массу", "Gain muscle"),
    ("more_definition", "Стать рельефнее", "More definition"),
    ("reduce_bloating", "Уменьшить отёчность", "Less bloating"),
];

/// Health limitations: (key, ru, en); `none` is exclusive.
pub const HEALTH: [(&str, &str, &str); 10] = [
    ("spine", "Позвоночник", "Spine"),
    ("joints", "Суставы", "Joints"),
    ("cardio", "Давление / сердце", "Blood pressure / heart"),
    ("gut", "ЖКТ", "Digestion"),
    (
        "diabetes",
        "Диабет / инсулинорезистентность",
        "Diabetes / insulin resistance",
    ),
    (
        "hormones",
        "Гормоны (щитовидка и др.)",
        "Hormones (thyroid etc.)",
    ),
    (
        "pregnancy",
        "Беременность / после родов",
        "Pregnancy / postpartum",
    ),
    (
        "stress",
        "Стресс, тревожность, сон",
        "Stress, anxiety, sleep",
    ),
    (
        "allergy",
        "Пищевые аллергии / непереносимость",
        "Food allergies / intolerance",
    ),
    ("none", "Никаких ограничений", "No limitations"),
];

/// Body types "now" by sex, then "ideal": (ru, en) labels, ids from 1.
pub const BODY_NOW_FEMALE: [(&str, &str); 5] = [
    ("Полная фигура", "Full figure"),
    ("Склонность к животу и бёдрам", "Belly and hips"),
    ("Небольшой избыток веса", "Slightly overweight"),
    ("Стройная фигура", "Slim"),
    ("Очень худая фигура", "Very thin"),
];
pub const BODY_NOW_MALE: [(&str, &str); 4] = [
    (
        "Крупный, значительный избыток веса",
        "Large, clearly overweight",
    ),
    (
        "Средний, умеренный избыток",
        "Medium, moderately overweight",
    ),
    ("Стройный, небольшой живот", "Slim with a small belly"),
    ("Очень худой, минимум жира", "Very lean"),
];
pub const BODY_IDEAL_FEMALE: [(&str, &str); 3] = [
    ("Стройная фигура", "Slim"),
    ("Подтянутая с лёгким рельефом", "Toned"),
    ("Атлетическая с выраженными мышцами", "Athletic"),
];
pub const BODY_IDEAL_MALE: [(&str, &str); 3] = [
    ("Поджарый с видимым прессом", "Lean with visible abs"),
    ("Атлетический, развитая мускулатура", "Athletic"),
    ("Массивный, максимум мышц", "Massive"),
];

pub(super) fn pick(locale: Locale, ru: &'static str, en: &'static str) -> &'static str {
    match locale {
        Locale::En => en,
        _ => ru,
    }
}

pub(super) fn body_options(
    gender: Option<SurveyGender>,
    ideal: bool,
) -> &'static [(&'static str, &'static str)] {
    match (gender, ideal) {
        (Some(SurveyGender::Male), false) => &BODY_NOW_MALE,
        (_, false) => &BODY_NOW_FEMALE,
        (Some(SurveyGender::Male), true) => &BODY_IDEAL_MALE,
        (_, true) => &BODY_IDEAL_FEMALE,
    }
}

/// The label of a body type id (`None` for an unknown id).
#[must_use]
pub fn body_label(
    locale: Locale,
    gender: Option<SurveyGender>,
    ideal: bool,
    id: i16,
) -> Option<&'static str> {
    let opts = body_options(gender, ideal);
    usize::try_from(id)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| opts.get(i))
        .map(|(ru, en)| pick(locale, ru, en))
}

pub(super) fn label_of(
    table: &[(&'static str, &'static str, &'static str)],
    key: &str,
    locale: Locale,
) -> Option<&'static str> {
    table
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, ru, en)| pick(locale, ru, en))
}

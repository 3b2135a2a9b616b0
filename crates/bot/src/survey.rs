//! The personal-plan survey (reference/clients.md §A.4–§A.6) as a pure state machine: (step,
//! answers, input) → new state and what to show. Fixed against the original: back and cancel
//! on every step, text typed on a button step gets an answer, body-type ids are range-checked,
//! the summary prints the zone once (`Europe/Moscow (UTC+3)`), health answers go to the LLM
//! only after explicit consent.

use chrono::{DateTime, Utc};
use domain::error::Locale;
use domain::nutrition::{SurveyActivity, SurveyGender};
use serde::{Deserialize, Serialize};

use crate::texts::{T, esc, fill, t};
use crate::tz;
use crate::ui::{Button, Keyboard, Screen};

/// Survey steps in order (`Confirm`, `Consent` and `Generating` follow step 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Gender,
    Age,
    Height,
    Weight,
    TargetWeight,
    Activity,
    TrainingLevel,
    BodyGoals,
    Health,
    BodyNow,
    BodyIdeal,
    Tz,
    Confirm,
    Consent,
    Generating,
}

impl Step {
    /// The step "back" leads to (`None` on the first step).
    #[must_use]
    pub fn prev(self) -> Option<Step> {
        use Step::*;
        Some(match self {
            Gender => return None,
            Age => Gender,
            Height => Age,
            Weight => Height,
            TargetWeight => Weight,
            Activity => TargetWeight,
            TrainingLevel => Activity,
            BodyGoals => TrainingLevel,
            Health => BodyGoals,
            BodyNow => Health,
            BodyIdeal => BodyNow,
            Tz => BodyIdeal,
            Confirm => Tz,
            Consent => Confirm,
            Generating => return None,
        })
    }
}

/// The answers so far. Unknown or missing fields read as empty, so an older stored state
/// still loads after a field is added.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Answers {
    pub gender: Option<SurveyGender>,
    pub age: Option<i16>,
    pub height_cm: Option<i16>,
    pub weight_kg: Option<f64>,
    pub target_weight_kg: Option<f64>,
    pub activity: Option<SurveyActivity>,
    pub training_level: Option<String>,
    pub body_goals: Vec<String>,
    pub health: Vec<String>,
    pub body_now: Option<i16>,
    pub body_ideal: Option<i16>,
    pub tz: Option<String>,
    pub utc_offset_minutes: Option<i32>,
}

/// A survey in progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurveyState {
    pub step: Step,
    #[serde(default)]
    pub answers: Answers,
}

impl SurveyState {
    #[must_use]
    pub fn start() -> Self {
        Self {
            step: Step::Gender,
            answers: Answers::default(),
        }
    }
}

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Text(String),
    Callback(String),
}

/// What a step produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Show the state's screen, with an optional notice above (confirmation or error).
    Show {
        state: SurveyState,
        notice: Option<String>,
    },
    /// A pop-up answer to a button; nothing else changes.
    Alert(String),
    /// The user cancelled.
    Cancelled,
    /// The user agreed: generate the plan (and fill the profile when `fill_profile`).
    Agreed {
        answers: Answers,
        fill_profile: bool,
    },
}

fn nav(locale: Locale, step: Step) -> Vec<Button> {
    let mut row = Vec::new();
    if step.prev().is_some() {
        row.push(Button::cb(t(locale, T::BtnBack), "s:back"));
    }
    row.push(Button::cb(t(locale, T::BtnCancel), "s:cancel"));
    row
}

fn multi_select(
    locale: Locale,
    table: &[(&'static str, &'static str, &'static str)],
    chosen: &[String],
    prefix: &str,
) -> Keyboard {
    let mut k: Keyboard = table
        .iter()
        .map(|(key, ru, en)| {
            let mark = if chosen.iter().any(|c| c == key) {
                "✅ "
            } else {
                "▫️ "
            };
            vec![Button::cb(
                format!("{mark}{}", pick(locale, ru, en)),
                format!("s:{prefix}:{key}"),
            )]
        })
        .collect();
    k.push(vec![Button::cb(
        t(locale, T::BtnDone),
        format!("s:{prefix}:done"),
    )]);
    k
}

fn selected_line(
    locale: Locale,
    table: &[(&'static str, &'static str, &'static str)],
    chosen: &[String],
) -> String {
    if chosen.is_empty() {
        return String::new();
    }
    let labels: Vec<&str> = chosen
        .iter()
        .filter_map(|c| label_of(table, c, locale))
        .collect();
    format!(
        "\n\n<i>{}: {}</i>",
        t(locale, T::Selected),
        esc(&labels.join(", "))
    )
}

/// The screen of `state`'s step.
#[must_use]
pub fn screen(state: &SurveyState, locale: Locale) -> Screen {
    let a = &state.answers;
    let step = state.step;
    let (text, mut k): (String, Keyboard) = match step {
        Step::Gender => (
            t(locale, T::QGender).into(),
            vec![vec![
                Button::cb(t(locale, T::BtnMale), "s:g:male"),
                Button::cb(t(locale, T::BtnFemale), "s:g:female"),
            ]],
        ),
        Step::Age => (t(locale, T::QAge).into(), vec![]),
        Step::Height => (t(locale, T::QHeight).into(), vec![]),
        Step::Weight => (t(locale, T::QWeight).into(), vec![]),
        Step::TargetWeight => (
            t(locale, T::QTarget).into(),
            vec![vec![Button::cb(t(locale, T::BtnSkipTarget), "s:skip")]],
        ),
        Step::Activity => (
            t(locale, T::QActivity).into(),
            ACTIVITY
                .iter()
                .map(|(k, ru, en)| {
                    vec![Button::cb(
                        pick(locale, ru, en),
                        format!("s:act:{}", k.as_str()),
                    )]
                })
                .collect(),
        ),
        Step::TrainingLevel => (
            t(locale, T::QTraining).into(),
            TRAINING
                .iter()
                .map(|(k, ru, en)| vec![Button::cb(pick(locale, ru, en), format!("s:tl:{k}"))])
                .collect(),
        ),
        Step::BodyGoals => (
            format!(
                "{}{}",
                t(locale, T::QGoals),
                selected_line(locale, &GOALS, &a.body_goals)
            ),
            multi_select(locale, &GOALS, &a.body_goals, "bg"),
        ),
        Step::Health => (
            format!(
                "{}{}",
                t(locale, T::QHealth),
                selected_line(locale, &HEALTH, &a.health)
            ),
            multi_select(locale, &HEALTH, &a.health, "hl"),
        ),
        Step::BodyNow | Step::BodyIdeal => {
            let ideal = step == Step::BodyIdeal;
            let q = if ideal { T::QBodyIdeal } else { T::QBodyNow };
            let k = body_options(a.gender, ideal)
                .iter()
                .enumerate()
                .map(|(i, (ru, en))| {
                    let n = i + 1;
                    let prefix = if ideal { "bi" } else { "bn" };
                    vec![Button::cb(
                        format!("{n}. {}", pick(locale, ru, en)),
                        format!("s:{prefix}:{n}"),
                    )]
                })
                .collect();
            (t(locale, q).into(), k)
        }
        Step::Tz => {
            let mut k: Keyboard = tz::BUTTONS
                .chunks(2)
                .map(|pair| {
                    pair.iter()
                        .map(|(label, zone)| Button::cb(*label, format!("s:tz:{zone}")))
                        .collect()
                })
                .collect();
            k.push(vec![Button::cb(t(locale, T::BtnTzManual), "s:tz:manual")]);
            (t(locale, T::QTz).into(), k)
        }
        Step::Confirm => (
            summary(a, locale),
            vec![vec![
                Button::cb(t(locale, T::BtnConfirm), "s:ok"),
                Button::cb(t(locale, T::BtnEdit), "s:edit"),
            ]],
        ),
        Step::Consent => (
            t(locale, T::Consent).into(),
            vec![
                vec![Button::cb(t(locale, T::BtnConsentPlan), "s:consent:plan")],
                vec![Button::cb(
                    t(locale, T::BtnConsentPlanProfile),
                    "s:consent:profile",
                )],
            ],
        ),
        Step::Generating => (t(locale, T::PlanGenerating).into(), vec![]),
    };
    if step != Step::Generating {
        k.push(nav(locale, step));
    }
    Screen::new(text).keyboard(k)
}

fn fmt_kg(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// The confirmation summary (§A.6), every user value escaped.
#[must_use]
pub fn summary(a: &Answers, locale: Locale) -> String {
    let dash = "—".to_owned();
    let gender = match a.gender {
        Some(SurveyGender::Male) => t(locale, T::BtnMale).to_owned(),
        Some(SurveyGender::Female) => t(locale, T::BtnFemale).to_owned(),
        None => dash.clone(),
    };
    let num = |v: Option<String>, unit: T| {
        v.map(|v| format!("{v} {}", t(locale, unit)))
            .unwrap_or_else(|| dash.clone())
    };
    let target = match a.target_weight_kg {
        Some(v) => format!("{} {}", fmt_kg(v), t(locale, T::Kg)),
        None => t(locale, T::NoChange).to_owned(),
    };
    let activity = a
        .activity
        .and_then(|k| ACTIVITY.iter().find(|(a, _, _)| *a == k))
        .map(|(_, ru, en)| pick(locale, ru, en).to_owned())
        .unwrap_or_else(|| dash.clone());
    let training = a
        .training_level
        .as_deref()
        .and_then(|k| label_of(&TRAINING, k, locale))
        .unwrap_or("—")
        .to_owned();
    let list = |table: &[(&'static str, &'static str, &'static str)], keys: &[String]| {
        let v: Vec<&str> = keys
            .iter()
            .filter_map(|k| label_of(table, k, locale))
            .collect();
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.join(", ")
        }
    };
    let body = |ideal: bool, id: Option<i16>| {
        id.and_then(|n| body_label(locale, a.gender, ideal, n).map(|l| format!("{n} — {l}")))
            .unwrap_or_else(|| "—".to_owned())
    };
    let zone = match (&a.tz, a.utc_offset_minutes) {
        (Some(z), Some(off)) => format!("{z} ({})", tz::format_offset(off)),
        (Some(z), None) => z.clone(),
        _ => dash.clone(),
    };
    fill(
        t(locale, T::Summary),
        &[
            ("gender", &esc(&gender)),
            ("age", &esc(&num(a.age.map(|v| v.to_string()), T::Years))),
            (
                "height",
                &esc(&num(a.height_cm.map(|v| v.to_string()), T::Cm)),
            ),
            ("weight", &esc(&num(a.weight_kg.map(fmt_kg), T::Kg))),
            ("target", &esc(&target)),
            ("activity", &esc(&activity)),
            ("training", &esc(&training)),
            ("goals", &esc(&list(&GOALS, &a.body_goals))),
            ("health", &esc(&list(&HEALTH, &a.health))),
            ("body_now", &esc(&body(false, a.body_now))),
            ("body_ideal", &esc(&body(true, a.body_ideal))),
            ("tz", &esc(&zone)),
        ],
    )
}

fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 6 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A weight in kg, comma or dot decimal, at most one decimal place, 30…300.
fn parse_kg(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', ".");
    let s = s
        .strip_suffix("кг")
        .or_else(|| s.strip_suffix("kg"))
        .unwrap_or(&s)
        .trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || whole.len() > 3 || !whole.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 1 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    (30.0..=300.0).contains(&v).then_some(v)
}

fn show(step: Step, answers: Answers, notice: Option<String>) -> Outcome {
    Outcome::Show {
        state: SurveyState { step, answers },
        notice,
    }
}

fn toggle(list: &mut Vec<String>, key: &str, exclusive: Option<&str>) {
    if let Some(pos) = list.iter().position(|k| k == key) {
        list.remove(pos);
        return;
    }
    match exclusive {
        Some(ex) if key == ex => list.clear(),
        Some(ex) => list.retain(|k| k != ex),
        None => {}
    }
    list.push(key.to_owned());
}

/// Applies one input to a survey at `now` (the time-zone offset is taken at answer time).
#[must_use]
pub fn step(state: &SurveyState, input: &Input, locale: Locale, now: DateTime<Utc>) -> Outcome {
    let mut a = state.answers.clone();
    let cur = state.step;
    let err = |key: T| show(cur, state.answers.clone(), Some(t(locale, key).to_owned()));
    let data = match input {
        Input::Callback(d) => d.as_str(),
        Input::Text(text) => {
            return match cur {
                Step::Age => match parse_int(text).filter(|v| (14..=80).contains(v)) {
                    Some(v) => {
                        a.age = i16::try_from(v).ok();
                        show(
                            Step::Height,
                            a,
                            Some(format!("{} {v} {} ✅", "🎂", t(locale, T::Years))),
                        )
                    }
                    None => err(T::ErrAge),
                },
                Step::Height => match parse_int(text).filter(|v| (120..=250).contains(v)) {
                    Some(v) => {
                        a.height_cm = i16::try_from(v).ok();
                        show(
                            Step::Weight,
                            a,
                            Some(format!("📏 {v} {} ✅", t(locale, T::Cm))),
                        )
                    }
                    None => err(T::ErrHeight),
                },
                Step::Weight => match parse_kg(text) {
                    Some(v) => {
                        a.weight_kg = Some(v);
                        // A changed weight may make an old target invalid: ask again.
                        a.target_weight_kg = None;
                        show(
                            Step::TargetWeight,
                            a,
                            Some(format!("⚖️ {} {} ✅", fmt_kg(v), t(locale, T::Kg))),
                        )
                    }
                    None => err(T::ErrWeight),
                },
                Step::TargetWeight => {
                    let current = a.weight_kg.unwrap_or(0.0);
                    match parse_kg(text).filter(|v| (v - current).abs() >= 0.1 - 1e-9) {
                        Some(v) => {
                            a.target_weight_kg = Some(v);
                            show(
                                Step::Activity,
                                a,
                                Some(format!("🎯 {} {} ✅", fmt_kg(v), t(locale, T::Kg))),
                            )
                        }
                        None => err(T::ErrTarget),
                    }
                }
                Step::Tz => match tz::parse(text, now) {
                    Some(z) => {
                        a.tz = Some(z.name);
                        a.utc_offset_minutes = Some(z.offset_minutes);
                        show(Step::Confirm, a, None)
                    }
                    None => err(T::ErrTz),
                },
                Step::Generating => Outcome::Alert(t(locale, T::PlanBusy).to_owned()),
                _ => err(T::ErrButton),
            };
        }
    };
    if data == "s:cancel" {
        return Outcome::Cancelled;
    }
    if data == "s:back" {
        return match cur.prev() {
            Some(p) => show(p, a, None),
            None => Outcome::Cancelled,
        };
    }
    let stale = || Outcome::Alert(t(locale, T::ErrButton).to_owned());
    let (kind, value) = match data.strip_prefix("s:").and_then(|r| r.split_once(':')) {
        Some(kv) => kv,
        None => match data {
            "s:skip" if cur == Step::TargetWeight => {
                a.target_weight_kg = None;
                return show(
                    Step::Activity,
                    a,
                    Some(format!("🎯 {} ✅", t(locale, T::NotSpecified))),
                );
            }
            "s:ok" if cur == Step::Confirm => return show(Step::Consent, a, None),
            "s:edit" if cur == Step::Confirm => {
                return show(
                    Step::Gender,
                    Answers::default(),
                    Some(t(locale, T::SurveyRestart).to_owned()),
                );
            }
            _ => return stale(),
        },
    };
    match (cur, kind) {
        (Step::Gender, "g") => match value.parse::<SurveyGender>() {
            Ok(g) => {
                if a.gender != Some(g) {
                    // Body types depend on sex.
                    a.body_now = None;
                    a.body_ideal = None;
                }
                a.gender = Some(g);
                show(Step::Age, a, None)
            }
            Err(_) => stale(),
        },
        (Step::Activity, "act") => match ACTIVITY.iter().find(|(k, _, _)| k.as_str() == value) {
            Some((k, _, _)) => {
                a.activity = Some(*k);
                show(Step::TrainingLevel, a, None)
            }
            None => stale(),
        },
        (Step::TrainingLevel, "tl") => match TRAINING.iter().find(|(k, _, _)| *k == value) {
            Some((k, _, _)) => {
                a.training_level = Some((*k).to_owned());
                show(Step::BodyGoals, a, None)
            }
            None => stale(),
        },
        (Step::BodyGoals, "bg") | (Step::Health, "hl") => {
            let (table, list, next, exclusive): (&Table, &mut Vec<String>, Step, Option<&str>) =
                if cur == Step::BodyGoals {
                    (&GOALS, &mut a.body_goals, Step::Health, None)
                } else {
                    (&HEALTH, &mut a.health, Step::BodyNow, Some("none"))
                };
            if value == "done" {
                if list.is_empty() {
                    return Outcome::Alert(t(locale, T::PickOne).to_owned());
                }
                return show(next, a, None);
            }
            if !table.iter().any(|(k, _, _)| *k == value) {
                return stale();
            }
            toggle(list, value, exclusive);
            show(cur, a, None)
        }
        (Step::BodyNow, "bn") | (Step::BodyIdeal, "bi") => {
            let ideal = cur == Step::BodyIdeal;
            let id = value
                .parse::<i16>()
                .ok()
                .filter(|n| body_label(locale, a.gender, ideal, *n).is_some());
            match id {
                Some(n) if ideal => {
                    a.body_ideal = Some(n);
                    show(Step::Tz, a, None)
                }
                Some(n) => {
                    a.body_now = Some(n);
                    show(Step::BodyIdeal, a, None)
                }
                None => stale(),
            }
        }
        (Step::Tz, "tz") if value == "manual" => {
            show(Step::Tz, a, Some(t(locale, T::QTzManual).to_owned()))
        }
        (Step::Tz, "tz") => match tz::BUTTONS
            .iter()
            .find(|(_, z)| *z == value)
            .and_then(|(_, z)| tz::parse(z, now))
        {
            Some(z) => {
                a.tz = Some(z.name);
                a.utc_offset_minutes = Some(z.offset_minutes);
                show(Step::Confirm, a, None)
            }
            None => stale(),
        },
        (Step::Consent, "consent") if value == "plan" || value == "profile" => Outcome::Agreed {
            answers: a,
            fill_profile: value == "profile",
        },
        (Step::Generating, _) => Outcome::Alert(t(locale, T::PlanBusy).to_owned()),
        _ => stale(),
    }
}

/// The goal derived from the weights (§A.7.2): `fat_loss`, `muscle_gain` or `maintenance`.
#[must_use]
pub fn derived_goal(a: &Answers) -> &'static str {
    match (a.weight_kg, a.target_weight_kg) {
        (Some(w), Some(t)) if t < w => "fat_loss",
        (Some(w), Some(t)) if t > w => "muscle_gain",
        _ => "maintenance",
    }
}

mod options;

pub use options::{
    ACTIVITY, BODY_IDEAL_FEMALE, BODY_IDEAL_MALE, BODY_NOW_FEMALE, BODY_NOW_MALE, GOALS, HEALTH,
    TRAINING, Table, body_label,
};
use options::{body_options, label_of, pick};

#[cfg(test)]
mod tests;

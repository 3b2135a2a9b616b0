use chrono::TimeZone;

use super::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn go(s: &SurveyState, input: Input) -> Outcome {
    step(s, &input, Locale::Ru, now())
}

fn next(s: &SurveyState, input: Input) -> SurveyState {
    match go(s, input.clone()) {
        Outcome::Show { state, .. } => state,
        other => panic!("{input:?} at {:?}: {other:?}", s.step),
    }
}

fn cb(d: &str) -> Input {
    Input::Callback(d.into())
}

fn text(d: &str) -> Input {
    Input::Text(d.into())
}

fn completed() -> SurveyState {
    let mut s = SurveyState::start();
    for i in [
        cb("s:g:female"),
        text("30"),
        text("165"),
        text("70,5"),
        text("60"),
        cb("s:act:moderate"),
        cb("s:tl:beginner"),
        cb("s:bg:weight_loss"),
        cb("s:bg:done"),
        cb("s:hl:joints"),
        cb("s:hl:done"),
        cb("s:bn:5"),
        cb("s:bi:2"),
        cb("s:tz:Europe/Moscow"),
    ] {
        s = next(&s, i);
    }
    s
}

#[test]
fn a_full_pass_reaches_the_summary_with_one_utc() {
    let s = completed();
    assert_eq!(s.step, Step::Confirm);
    let text = screen(&s, Locale::Ru).text;
    assert!(text.contains("Europe/Moscow (UTC+3)"), "{text}");
    assert!(!text.contains("UTCUTC"));
    assert!(text.contains("70.5 кг"));
    assert!(text.contains("5 — Очень худая фигура"));
    assert_eq!(derived_goal(&s.answers), "fat_loss");
}

#[test]
fn every_step_has_back_and_cancel() {
    let mut s = SurveyState::start();
    for st in [
        Step::Gender,
        Step::Age,
        Step::Height,
        Step::Weight,
        Step::TargetWeight,
        Step::Activity,
        Step::TrainingLevel,
        Step::BodyGoals,
        Step::Health,
        Step::BodyNow,
        Step::BodyIdeal,
        Step::Tz,
        Step::Confirm,
        Step::Consent,
    ] {
        s.step = st;
        let data: Vec<String> = screen(&s, Locale::Ru)
            .keyboard
            .into_iter()
            .flatten()
            .filter_map(|b| match b {
                Button::Callback { data, .. } => Some(data),
                _ => None,
            })
            .collect();
        assert!(data.contains(&"s:cancel".to_owned()), "{st:?}");
        assert_eq!(
            data.contains(&"s:back".to_owned()),
            st != Step::Gender,
            "{st:?}"
        );
        assert_eq!(go(&s, cb("s:cancel")), Outcome::Cancelled);
    }
}

#[test]
fn invalid_inputs_keep_the_step_with_an_error() {
    let mut s = SurveyState::start();
    s = next(&s, cb("s:g:male"));
    for bad in ["13", "81", "28.5", "abc", ""] {
        let r = next(&s, text(bad));
        assert_eq!(r.step, Step::Age, "{bad}");
    }
    s = next(&s, text("28"));
    for bad in ["119", "251", "1.75"] {
        assert_eq!(next(&s, text(bad)).step, Step::Height, "{bad}");
    }
    s = next(&s, text("180"));
    for bad in ["29.9", "300.1", "70.55", "семьдесят"] {
        assert_eq!(next(&s, text(bad)).step, Step::Weight, "{bad}");
    }
    s = next(&s, text("80"));
    assert_eq!(next(&s, text("80")).step, Step::TargetWeight, "same weight");
    s = next(&s, cb("s:skip"));
    assert_eq!(s.answers.target_weight_kg, None);
    assert_eq!(next(&s, text("быстро")).step, Step::Activity);
    assert!(matches!(go(&s, cb("s:act:couch")), Outcome::Alert(_)));
    s = next(&s, cb("s:act:active"));
    s = next(&s, cb("s:tl:advanced"));
    assert!(matches!(go(&s, cb("s:bg:done")), Outcome::Alert(_)));
    s = next(&s, cb("s:bg:muscle_gain"));
    s = next(&s, cb("s:bg:done"));
    s = next(&s, cb("s:hl:joints"));
    s = next(&s, cb("s:hl:none"));
    assert_eq!(s.answers.health, vec!["none".to_owned()]);
    s = next(&s, cb("s:hl:spine"));
    assert_eq!(s.answers.health, vec!["spine".to_owned()]);
    s = next(&s, cb("s:hl:done"));
    assert!(
        matches!(go(&s, cb("s:bn:5")), Outcome::Alert(_)),
        "men have 4 types"
    );
    s = next(&s, cb("s:bn:4"));
    assert!(matches!(go(&s, cb("s:bi:4")), Outcome::Alert(_)));
    s = next(&s, cb("s:bi:3"));
    assert_eq!(next(&s, text("Марс")).step, Step::Tz);
    s = next(&s, text("UTC+5:30"));
    assert_eq!(s.step, Step::Confirm);
    assert!(
        screen(&s, Locale::Ru)
            .text
            .contains("Asia/Kolkata (UTC+5:30)")
    );
}

#[test]
fn back_keeps_answers_and_edit_restarts() {
    let s = completed();
    let back = next(&s, cb("s:back"));
    assert_eq!(back.step, Step::Tz);
    assert_eq!(back.answers, s.answers);
    let restarted = next(&s, cb("s:edit"));
    assert_eq!(restarted.step, Step::Gender);
    assert_eq!(restarted.answers, Answers::default());
    let consent = next(&s, cb("s:ok"));
    assert_eq!(consent.step, Step::Consent);
    match go(&consent, cb("s:consent:profile")) {
        Outcome::Agreed {
            fill_profile,
            answers,
        } => {
            assert!(fill_profile);
            assert_eq!(answers.age, Some(30));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stale_buttons_are_refused() {
    let s = completed();
    assert!(matches!(go(&s, cb("s:g:male")), Outcome::Alert(_)));
    assert!(matches!(go(&s, cb("garbage")), Outcome::Alert(_)));
}

#[test]
fn a_state_without_answers_still_loads() {
    let s: SurveyState =
        serde_json::from_str(r#"{"step":"age"}"#).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.step, Step::Age);
}

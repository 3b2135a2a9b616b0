//! After consent: store the survey (the respondent becomes a lead), check the daily limit,
//! fill the profile and AUTO goals when asked, generate the plan, store it (idempotent per
//! survey, 3 per user-local day), deliver it split safely under 4096 characters, and offer the
//! tracker.

use std::sync::Arc;

use domain::ids::TelegramId;
use domain::nutrition::{Gender, GoalType, SurveyGender, daily_goal_for_age};
use store::bot::{NewPlan, NewSurvey, PlanOutcome};

use crate::BotError;
use crate::app::BotApp;
use crate::handlers::Ctx;
use crate::plan::PROMPT_VERSION;
use crate::state::{self, Dialogue};
use crate::survey::{Answers, body_label, derived_goal};
use crate::texts::{T, fill};
use crate::ui::{Button, Screen, split_html};

/// Telegram's message limit.
pub const MAX_MESSAGE_CHARS: usize = 4096;

fn new_survey(tg: TelegramId, a: &Answers) -> Option<NewSurvey> {
    let gender = a.gender?;
    let g = gender.as_str();
    let (now_id, ideal_id) = (a.body_now?, a.body_ideal?);
    Some(NewSurvey {
        telegram_id: tg,
        gender,
        age: a.age?,
        height_cm: a.height_cm?,
        weight_kg: a.weight_kg?,
        target_weight_kg: a.target_weight_kg,
        activity: a.activity?,
        training_level: a.training_level.clone(),
        body_goals: a.body_goals.clone(),
        health_limitations: a.health.clone(),
        body_now_id: now_id,
        body_now_label: body_label(domain::error::Locale::Ru, Some(gender), false, now_id)
            .map(str::to_owned),
        body_now_file: format!("body_types/{g}/now/{g}_now_{now_id}.jpg"),
        body_ideal_id: ideal_id,
        body_ideal_label: body_label(domain::error::Locale::Ru, Some(gender), true, ideal_id)
            .map(str::to_owned),
        body_ideal_file: format!("body_types/{g}/ideal/{g}_ideal_{ideal_id}.jpg"),
        timezone: a.tz.clone()?,
        utc_offset_minutes: a.utc_offset_minutes?,
    })
}

async fn finish(app: &BotApp, ctx: &Ctx, message_id: i64, s: Screen) -> Result<(), BotError> {
    state::save(&app.deps().db, ctx.chat, &Dialogue::Idle, app.now()).await?;
    app.tg.show(ctx.chat, Some(message_id), &s).await?;
    Ok(())
}

/// Writes the answers to the profile and sets AUTO goals (the user agreed to it).
async fn fill_profile(app: &BotApp, ctx: &Ctx, a: &Answers) -> Result<(), BotError> {
    let db = &app.deps().db;
    let now = app.now();
    let user = ctx.account.user_id();
    let current = store::profiles::get(db, user, now).await?;
    let goal = match derived_goal(a) {
        "fat_loss" => GoalType::WeightLoss,
        "muscle_gain" => GoalType::WeightGain,
        _ => GoalType::Maintenance,
    };
    let mut body = serde_json::Map::new();
    if let Some(g) = a.gender {
        body.insert("gender".into(), Gender::from(g).as_str().into());
    }
    if let Some(h) = a.height_cm {
        body.insert("height".into(), h.into());
    }
    if let Some(w) = a.weight_kg {
        body.insert("weight".into(), w.into());
    }
    if let Some(w) = a.target_weight_kg {
        body.insert("target_weight".into(), w.into());
    }
    if let Some(act) = a.activity {
        body.insert("activity_level".into(), act.to_profile().as_str().into());
    }
    if let Some(tz) = &a.tz {
        body.insert("timezone".into(), tz.clone().into());
    }
    body.insert("goal_type".into(), goal.as_str().into());
    let today = store::profiles::today(&current, now);
    match domain::nutrition::ProfileUpdate::from_json(&body, today) {
        Ok(update) => {
            store::profiles::update(db, current, update, now).await?;
        }
        Err(errors) => tracing::warn!(
            chat_id = ctx.chat,
            problems = errors.len(),
            "survey answers did not fit the profile"
        ),
    }
    if let (Some(g), Some(age), Some(w), Some(h), Some(act)) =
        (a.gender, a.age, a.weight_kg, a.height_cm, a.activity)
    {
        let gender: Gender = match g {
            SurveyGender::Male => Gender::Male,
            SurveyGender::Female => Gender::Female,
        };
        if let Ok(targets) = daily_goal_for_age(
            gender,
            u32::try_from(age).unwrap_or(0),
            w,
            i32::from(h),
            act.to_profile(),
            goal,
        ) {
            store::goals::set_auto(db, user, targets, now).await?;
        }
    }
    Ok(())
}

/// The whole flow after consent (runs in the background).
pub(crate) async fn personal_plan(
    app: &Arc<BotApp>,
    ctx: &Ctx,
    answers: Answers,
    with_profile: bool,
    message_id: i64,
) -> Result<(), BotError> {
    let db = &app.deps().db;
    let now = app.now();
    let tg = TelegramId::new(ctx.account.telegram.telegram_id)
        .map_err(|e| BotError::Setup(e.to_string()))?;
    let Some(ns) = new_survey(tg, &answers) else {
        // Incomplete answers (should not happen): start over rather than strand the user.
        return finish(app, ctx, message_id, Screen::new(ctx.t(T::SurveyCancelled))).await;
    };
    let survey = store::bot::create_survey(&app.deps().db, &ctx.account, &ns, app.now()).await?;
    let count = store::bot::plans_today(db, Some(ctx.account.user.id), now).await?;
    let limit_screen = |c: store::bot::DailyCount| {
        Screen::new(fill(
            ctx.t(T::PlanLimit),
            &[
                ("count", &c.count.to_string()),
                ("limit", &c.limit.to_string()),
            ],
        ))
    };
    if !count.can_create() {
        return finish(app, ctx, message_id, limit_screen(count)).await;
    }
    if with_profile && let Err(e) = fill_profile(app, ctx, &answers).await {
        tracing::warn!(chat_id = ctx.chat, error = %e, "filling the profile from the survey failed");
    }
    let generated = match &app.plan {
        Some(client) => client.generate(&answers).await,
        None => Err(crate::plan::PlanError::Connect("no LLM configured".into())),
    };
    let generated = match generated {
        Ok(g) => g,
        Err(e) => {
            tracing::warn!(chat_id = ctx.chat, error = %e, "personal plan not generated");
            return finish(app, ctx, message_id, Screen::new(ctx.t(T::PlanFailed))).await;
        }
    };
    let np = NewPlan {
        telegram_id: tg,
        survey_id: Some(survey.id),
        ai_text: generated.html.clone(),
        ai_model: Some(generated.model.chars().take(100).collect()),
        prompt_version: Some(PROMPT_VERSION.to_owned()),
    };
    let html = match store::bot::create_plan(db, ctx.account.user.id, &np, app.now()).await? {
        PlanOutcome::Created(p) | PlanOutcome::Existing(p) => p.ai_text,
        PlanOutcome::LimitReached(c) => return finish(app, ctx, message_id, limit_screen(c)).await,
        PlanOutcome::SurveyNotFound => {
            return finish(app, ctx, message_id, Screen::new(ctx.t(T::PlanFailed))).await;
        }
    };
    state::save(db, ctx.chat, &Dialogue::Idle, app.now()).await?;
    let mut parts = split_html(&html, MAX_MESSAGE_CHARS).into_iter();
    if let Some(first) = parts.next() {
        app.tg
            .show(ctx.chat, Some(message_id), &Screen::new(first))
            .await?;
    }
    for part in parts {
        app.tg.send(ctx.chat, &Screen::new(part)).await?;
    }
    let mut after = Screen::new(ctx.t(T::PlanAfter));
    if let Some(url) = app.app_url("") {
        after = after.keyboard(vec![vec![Button::WebApp {
            text: ctx.t(T::BtnOpenApp).into(),
            url,
        }]]);
    }
    app.tg.send(ctx.chat, &after).await?;
    Ok(())
}

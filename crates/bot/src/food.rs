//! Food logging in the chat: a photo (caption = comment) or a text goes through the same
//! recognition service, quota and jobs as the Mini App; the answer lists the meal's items from
//! the diary (what the Mini App shows) with buttons for the meal type, undo and "open in the
//! app". `/today` shows the day against the goal.

use std::sync::Arc;
use std::time::Duration;

use chrono::Timelike;
use domain::error::AiErrorCode;
use domain::ids::UserId;
use domain::nutrition::{MealType, effective_timezone, user_today};
use recognition::{PhotoSubmission, SubmitError, TextSubmission};
use store::meals::MealPatch;

use crate::BotError;
use crate::app::BotApp;
use crate::handlers::Ctx;
use crate::texts::{T, esc, fill};
use crate::ui::{Button, Screen};

/// The meal type for a local hour: breakfast before 11, lunch before 16, dinner before 21.
#[must_use]
pub fn meal_type_for_hour(hour: u32) -> MealType {
    match hour {
        4..=10 => MealType::Breakfast,
        11..=15 => MealType::Lunch,
        16..=20 => MealType::Dinner,
        _ => MealType::Snack,
    }
}

async fn profile_tz(app: &BotApp, user: UserId) -> Result<chrono_tz::Tz, BotError> {
    let p = store::profiles::get(&app.deps().db, user, app.now()).await?;
    Ok(effective_timezone(Some(p.timezone.as_str())))
}

async fn local_meal_type(app: &BotApp, user: UserId) -> Result<MealType, BotError> {
    let tz = profile_tz(app, user).await?;
    Ok(meal_type_for_hour(app.now().with_timezone(&tz).hour()))
}

fn trace_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn submit_error_screen(app: &BotApp, ctx: &Ctx, e: &SubmitError) -> Screen {
    match e {
        SubmitError::Ai(AiErrorCode::DailyPhotoLimitExceeded, _) => {
            let mut s = Screen::new(ctx.t(T::UpgradeNeeded));
            if let Some(url) = app.app_url("/subscription") {
                s = s.keyboard(vec![vec![Button::WebApp {
                    text: ctx.t(T::BtnUpgrade).into(),
                    url,
                }]]);
            }
            s
        }
        SubmitError::Ai(code, retry) => {
            let body = code.def().body(ctx.locale, "", *retry);
            Screen::new(fill(
                ctx.t(T::PhotoFailed),
                &[
                    ("title", &esc(&body.user_title)),
                    ("message", &esc(&body.user_message)),
                ],
            ))
        }
        other => {
            tracing::warn!(chat_id = ctx.chat, error = %other, "food submission refused");
            Screen::new(ctx.t(T::Unexpected))
        }
    }
}

/// A photo from the chat.
pub(crate) async fn log_photo(
    app: &Arc<BotApp>,
    ctx: &Ctx,
    file_id: &str,
    caption: Option<&str>,
) -> Result<(), BotError> {
    let user = ctx.account.user_id();
    let image = app
        .tg
        .download(file_id, recognition::MAX_IMAGE_BYTES)
        .await?;
    let req = PhotoSubmission {
        user,
        image,
        meal_type: local_meal_type(app, user).await?,
        date: None,
        user_comment: caption.map(str::to_owned),
        meal_id: None,
        meal_photo_id: None,
        trace_id: trace_id(),
    };
    match app.deps().recognition.submit_photo(req).await {
        Ok(s) => {
            let msg = app
                .tg
                .send(ctx.chat, &Screen::new(ctx.t(T::Recognizing)))
                .await?;
            watch(app, ctx, s.task_id, s.meal_id, msg);
            Ok(())
        }
        Err(e) => {
            app.tg
                .send(ctx.chat, &submit_error_screen(app, ctx, &e))
                .await?;
            Ok(())
        }
    }
}

/// A text outside any flow: logged as food ("200 г гречки и котлета").
pub(crate) async fn log_text(app: &Arc<BotApp>, ctx: &Ctx, text: &str) -> Result<(), BotError> {
    let user = ctx.account.user_id();
    if text.trim().chars().count() < 2 {
        app.tg
            .send(ctx.chat, &Screen::new(ctx.t(T::Unexpected)))
            .await?;
        return Ok(());
    }
    let req = TextSubmission {
        user,
        text: text.to_owned(),
        meal_type: local_meal_type(app, user).await?,
        date: None,
        meal_id: None,
        trace_id: trace_id(),
    };
    match app.deps().recognition.submit_text(req).await {
        Ok(s) => {
            let msg = app
                .tg
                .send(ctx.chat, &Screen::new(ctx.t(T::TextLogging)))
                .await?;
            watch(app, ctx, s.task_id, s.meal_id, msg);
        }
        Err(SubmitError::InvalidInput(..)) => {
            app.tg
                .send(ctx.chat, &Screen::new(ctx.t(T::Unexpected)))
                .await?;
        }
        Err(e) => {
            app.tg
                .send(ctx.chat, &submit_error_screen(app, ctx, &e))
                .await?;
        }
    }
    Ok(())
}

/// Waits in the background for the task to finish, then replaces the "recognising" message by
/// the result (the meal is in the diary either way; this is only the chat's view of it).
fn watch(app: &Arc<BotApp>, ctx: &Ctx, task_id: String, meal_id: i64, message_id: i64) {
    let (app2, ctx2) = (app.clone(), ctx.clone());
    app.spawn(async move {
        let user = ctx2.account.user_id();
        let budget = recognition::TASK_BUDGET + recognition::REAP_GRACE + Duration::from_secs(10);
        let deadline = tokio::time::Instant::now() + budget;
        loop {
            let task = match app2.deps().recognition.task(user, &task_id).await {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(task_id, error = %e, "reading the recognition task failed");
                    None
                }
            };
            if let Some(t) = task.filter(|t| t.status != recognition::status::PROCESSING) {
                let screen = match t.error_code.as_deref() {
                    None => result_screen(&app2, &ctx2, meal_id).await,
                    Some("EMPTY_RESULT" | "UNSUPPORTED_CONTENT") if t.meal_photo_id.is_none() => Ok(Screen::new(ctx2.t(T::TextNotFood))),
                    Some(code) => {
                        let code = AiErrorCode::parse(code).unwrap_or(AiErrorCode::UnknownError);
                        Ok(submit_error_screen(&app2, &ctx2, &SubmitError::Ai(code, None)))
                    }
                };
                match screen {
                    Ok(s) => {
                        if let Err(e) = app2.tg.show(ctx2.chat, Some(message_id), &s).await {
                            tracing::warn!(chat_id = ctx2.chat, error = %e, "showing a recognition result failed");
                        }
                    }
                    Err(e) => tracing::warn!(chat_id = ctx2.chat, error = %e, "reading the meal failed"),
                }
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                return;
            }
            tokio::time::sleep(app2.config().photo_poll_interval).await;
        }
    });
}

fn num(v: f64) -> String {
    let s = format!("{v:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// The meal as the diary has it, with its buttons.
pub(crate) async fn result_screen(
    app: &BotApp,
    ctx: &Ctx,
    meal_id: i64,
) -> Result<Screen, BotError> {
    let view = store::diary::meal_view(&app.deps().db, ctx.account.user_id(), meal_id).await?;
    let items: Vec<String> = view
        .items
        .iter()
        .map(|i| {
            fill(
                ctx.t(T::PhotoItem),
                &[
                    ("name", &esc(&i.name)),
                    ("grams", &i.grams.to_string()),
                    ("kcal", &num(i.calories)),
                    ("p", &num(i.protein)),
                    ("f", &num(i.fat)),
                    ("c", &num(i.carbohydrates)),
                ],
            )
        })
        .collect();
    let total = view.total();
    let meal_type: MealType = view.meal.meal_type.parse().unwrap_or(MealType::Snack);
    let text = fill(
        ctx.t(T::PhotoResult),
        &[
            ("meal", meal_type.label_ru()),
            ("items", &items.join("\n")),
            ("kcal", &num(total.calories.to_f64())),
            ("p", &num(total.protein.to_f64())),
            ("f", &num(total.fat.to_f64())),
            ("c", &num(total.carbohydrates.to_f64())),
        ],
    );
    let mut k = vec![
        MealType::ALL
            .iter()
            .map(|t| {
                let mark = if *t == meal_type { "✅ " } else { "" };
                Button::cb(
                    format!("{mark}{}", t.label_ru()),
                    format!("m:{meal_id}:{}", t.as_str()),
                )
            })
            .collect::<Vec<_>>(),
        vec![Button::cb(ctx.t(T::BtnUndo), format!("u:{meal_id}"))],
    ];
    if let Some(url) = app.app_url(&format!("/meal/{meal_id}")) {
        k.push(vec![Button::WebApp {
            text: ctx.t(T::BtnOpenInApp).into(),
            url,
        }]);
    }
    Ok(Screen::new(text).keyboard(k))
}

/// Meal-type and undo buttons.
pub(crate) async fn on_callback(
    app: &Arc<BotApp>,
    ctx: &Ctx,
    data: &str,
    message_id: Option<i64>,
) -> Result<Option<String>, BotError> {
    let user = ctx.account.user_id();
    let db = &app.deps().db;
    if let Some(rest) = data.strip_prefix("m:") {
        let Some((id, ty)) = rest.split_once(':') else {
            return Ok(Some(ctx.t(T::ErrButton).into()));
        };
        let (Ok(id), Ok(ty)) = (id.parse::<i64>(), ty.parse::<MealType>()) else {
            return Ok(Some(ctx.t(T::ErrButton).into()));
        };
        let patch = MealPatch {
            meal_type: Some(ty),
            ..MealPatch::default()
        };
        if store::meals::update_meal(db, user, id, patch, app.now())
            .await
            .is_err()
        {
            return Ok(Some(ctx.t(T::ErrButton).into()));
        }
        let s = result_screen(app, ctx, id).await?;
        app.tg.show(ctx.chat, message_id, &s).await?;
        return Ok(None);
    }
    if let Some(id) = data.strip_prefix("u:").and_then(|s| s.parse::<i64>().ok()) {
        match store::meals::delete_meal(db, user, id).await {
            Ok(keys) => {
                for k in keys {
                    if let Err(e) = app.deps().recognition.media.delete(&k).await {
                        tracing::warn!(key = %k, error = %e, "deleting an undone meal's photo failed");
                    }
                }
                app.tg
                    .show(ctx.chat, message_id, &Screen::new(ctx.t(T::MealUndone)))
                    .await?;
                return Ok(None);
            }
            Err(_) => return Ok(Some(ctx.t(T::ErrButton).into())),
        }
    }
    Ok(Some(ctx.t(T::ErrButton).into()))
}

/// The day's totals and goal as text.
pub(crate) async fn day_text(
    db: &store::Db,
    now: chrono::DateTime<chrono::Utc>,
    user: UserId,
    locale: domain::error::Locale,
    key_goal: T,
    key_no_goal: T,
) -> Result<String, store::StoreError> {
    let p = store::profiles::get(db, user, now).await?;
    let tz = effective_timezone(Some(p.timezone.as_str()));
    let date = user_today(now, tz);
    let day = store::diary::day(db, user, date).await?;
    let total = day.total();
    let meals = day.meals.len().to_string();
    let d = date.format("%d.%m.%Y").to_string();
    let (kcal, p, f, c) = (
        num(total.calories.to_f64()),
        num(total.protein.to_f64()),
        num(total.fat.to_f64()),
        num(total.carbohydrates.to_f64()),
    );
    Ok(match &day.goal {
        Some(g) => fill(
            crate::texts::t(locale, key_goal),
            &[
                ("date", &d),
                ("kcal", &kcal),
                ("goal_kcal", &g.calories.to_string()),
                ("p", &p),
                ("goal_p", &num(g.protein)),
                ("f", &f),
                ("goal_f", &num(g.fat)),
                ("c", &c),
                ("goal_c", &num(g.carbohydrates)),
                ("meals", &meals),
            ],
        ),
        None => fill(
            crate::texts::t(locale, key_no_goal),
            &[
                ("date", &d),
                ("kcal", &kcal),
                ("goal_kcal", "—"),
                ("p", &p),
                ("f", &f),
                ("c", &c),
                ("meals", &meals),
            ],
        ),
    })
}

/// `/today`.
pub(crate) async fn today(app: &Arc<BotApp>, ctx: &Ctx) -> Result<(), BotError> {
    let text = day_text(
        &app.deps().db,
        app.now(),
        ctx.account.user_id(),
        ctx.locale,
        T::Today,
        T::TodayNoGoal,
    )
    .await?;
    let mut s = Screen::new(text);
    if let Some(url) = app.app_url("") {
        s = s.keyboard(vec![vec![Button::WebApp {
            text: ctx.t(T::BtnOpenApp).into(),
            url,
        }]]);
    }
    app.tg.send(ctx.chat, &s).await?;
    Ok(())
}

pub(crate) use crate::plan_flow::personal_plan;

//! Update dispatch: commands, the survey, buttons, and a friendly answer to anything else.

use std::sync::Arc;

use domain::error::Locale;
use domain::ids::TelegramId;
use jobs::outbox::{self, Notification};
use store::bot::BotUser;
use store::users::Account;
use teloxide::types::{CallbackQuery, Message, Update, UpdateKind, User};

use crate::app::BotApp;
use crate::state::{self, Dialogue};
use crate::survey::{self, Input, Outcome, SurveyState};
use crate::texts::{T, esc, fill, t};
use crate::ui::{Button, Screen};
use crate::{BotError, food};

/// Who is talking.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub chat: i64,
    pub account: Account,
    pub locale: Locale,
}

impl Ctx {
    pub fn t(&self, k: T) -> &'static str {
        t(self.locale, k)
    }
}

pub(crate) async fn handle(app: &Arc<BotApp>, update: Update) -> Result<(), BotError> {
    match update.kind {
        UpdateKind::Message(m) => on_message(app, m).await,
        UpdateKind::CallbackQuery(q) => on_callback(app, q).await,
        _ => Ok(()),
    }
}

/// Finds or creates the account; a new one raises the admins' "new user" card (once).
async fn ensure_user(app: &BotApp, u: &User, chat: i64) -> Result<Option<Ctx>, BotError> {
    let Ok(id) = TelegramId::new(i64::try_from(u.id.0).unwrap_or(0)) else {
        return Ok(None);
    };
    if u.is_bot {
        return Ok(None);
    }
    let now = app.now();
    let bu = BotUser {
        telegram_id: id,
        username: u.username.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone().unwrap_or_default(),
        language_code: u.language_code.clone(),
    };
    let p = store::bot::get_or_create_user(&app.deps().db, &bu, now).await?;
    state::touch_chat(&app.deps().db, chat, Some(p.account.user.id), now).await?;
    if p.created && !app.config().admins.is_empty() {
        let name = format!("{} {}", bu.first_name, bu.last_name);
        let username = bu
            .username
            .as_deref()
            .map(|n| format!("@{n}"))
            .unwrap_or_else(|| "—".into());
        let text = fill(
            t(Locale::Ru, T::AdminNewUser),
            &[
                ("name", &esc(name.trim())),
                ("id", &id.get().to_string()),
                ("username", &esc(&username)),
                ("source", "bot"),
            ],
        );
        let n = Notification::new(format!("bot.new_user:{}", id.get()), "admin.new_user", 0, text)
            .reply_markup(serde_json::json!({"inline_keyboard": [[{"text": t(Locale::Ru, T::BtnProfile), "url": format!("tg://user?id={}", id.get())}]]}));
        outbox::push_to_admins(app.deps().db.conn(), &app.config().admins, &n, now).await?;
    }
    let locale = Locale::from_tag(Some(p.account.telegram.language_code.as_str()));
    Ok(Some(Ctx {
        chat,
        account: p.account,
        locale,
    }))
}

async fn on_message(app: &Arc<BotApp>, m: Message) -> Result<(), BotError> {
    if !m.chat.is_private() {
        return Ok(());
    }
    let Some(from) = m.from.as_ref() else {
        return Ok(());
    };
    let Some(ctx) = ensure_user(app, from, m.chat.id.0).await? else {
        return Ok(());
    };
    if let Some(text) = m.text() {
        if let Some(cmd) = text.strip_prefix('/') {
            return command(app, &ctx, cmd).await;
        }
        if let Dialogue::Survey(s) = state::load(&app.deps().db, ctx.chat).await? {
            return survey_input(app, &ctx, s, Input::Text(text.to_owned()), None)
                .await
                .map(|_| ());
        }
        return food::log_text(app, &ctx, text).await;
    }
    if let Some(photos) = m.photo() {
        let largest = photos.iter().max_by_key(|p| p.width * p.height);
        if let Some(p) = largest {
            return food::log_photo(app, &ctx, &p.file.id.0, m.caption()).await;
        }
    }
    app.tg
        .send(ctx.chat, &Screen::new(ctx.t(T::Unexpected)))
        .await?;
    Ok(())
}

async fn command(app: &Arc<BotApp>, ctx: &Ctx, cmd: &str) -> Result<(), BotError> {
    let (name, payload) = cmd.split_once(char::is_whitespace).unwrap_or((cmd, ""));
    let name = name.split('@').next().unwrap_or(name);
    let db = &app.deps().db;
    let now = app.now();
    match name {
        "start" | "personal_plan" | "app" => {
            // These always leave any flow (as in the original), so nobody is ever stuck.
            state::save(db, ctx.chat, &Dialogue::Idle, now).await?;
        }
        _ => {}
    }
    match name {
        "start" => {
            if !payload.trim().is_empty() {
                state::record_start_payload(db, ctx.chat, payload.trim(), now).await?;
            }
            app.tg.send(ctx.chat, &welcome(app, ctx)).await?;
        }
        "personal_plan" => {
            let s = Screen::new(ctx.t(T::Welcome)).keyboard(vec![vec![Button::cb(
                ctx.t(T::BtnStartSurvey),
                "survey:start",
            )]]);
            app.tg.send(ctx.chat, &s).await?;
        }
        "app" => {
            let mut s = Screen::new(ctx.t(T::AppText));
            if let Some(url) = app.app_url("") {
                s = s.keyboard(vec![vec![Button::WebApp {
                    text: ctx.t(T::BtnOpenApp).into(),
                    url,
                }]]);
            }
            app.tg.send(ctx.chat, &s).await?;
        }
        "today" => food::today(app, ctx).await?,
        "settings" => crate::reminders::show_settings(app, ctx, None).await?,
        "help" => {
            app.tg.send(ctx.chat, &Screen::new(ctx.t(T::Help))).await?;
        }
        _ => {
            app.tg
                .send(ctx.chat, &Screen::new(ctx.t(T::Unexpected)))
                .await?;
        }
    }
    Ok(())
}

fn welcome(app: &BotApp, ctx: &Ctx) -> Screen {
    let admin = app.is_admin(ctx.account.telegram.telegram_id);
    let mut k = vec![vec![Button::cb(ctx.t(T::BtnStartSurvey), "survey:start")]];
    if let Some(url) = app.app_url("") {
        k.push(vec![Button::WebApp {
            text: ctx.t(T::BtnOpenApp).into(),
            url,
        }]);
    }
    if admin {
        let panel = app
            .config()
            .panel_url
            .clone()
            .or_else(|| app.app_url("/panel"))
            .filter(|u| {
                u.starts_with("https://") && !u.contains("localhost") && !u.contains("127.0.0.1")
            });
        if let Some(url) = panel {
            k.push(vec![Button::WebApp {
                text: ctx.t(T::BtnOpenPanel).into(),
                url,
            }]);
        }
        return Screen::new(ctx.t(T::WelcomeAdmin)).keyboard(k);
    }
    Screen::new(ctx.t(T::Welcome)).keyboard(k)
}

async fn on_callback(app: &Arc<BotApp>, q: CallbackQuery) -> Result<(), BotError> {
    let chat = q
        .message
        .as_ref()
        .map(|m| m.chat().id.0)
        .unwrap_or(i64::try_from(q.from.id.0).unwrap_or(0));
    let message_id = q.message.as_ref().map(|m| i64::from(m.id().0));
    let data = q.data.clone().unwrap_or_default();
    let alert = match ensure_user(app, &q.from, chat).await? {
        None => None,
        Some(ctx) => callback(app, &ctx, &data, message_id).await?,
    };
    app.tg.answer_callback(&q.id.0, alert.as_deref()).await?;
    Ok(())
}

/// Handles a button; returns a pop-up text when the press deserves one.
async fn callback(
    app: &Arc<BotApp>,
    ctx: &Ctx,
    data: &str,
    message_id: Option<i64>,
) -> Result<Option<String>, BotError> {
    let db = &app.deps().db;
    if data == "survey:start" {
        let s = SurveyState::start();
        state::save(db, ctx.chat, &Dialogue::Survey(s.clone()), app.now()).await?;
        app.tg
            .send(ctx.chat, &survey::screen(&s, ctx.locale))
            .await?;
        return Ok(None);
    }
    if data.starts_with("s:") {
        return match state::load(db, ctx.chat).await? {
            Dialogue::Survey(s) => {
                survey_input(app, ctx, s, Input::Callback(data.to_owned()), message_id).await
            }
            Dialogue::Idle => Ok(Some(ctx.t(T::ErrButton).to_owned())),
        };
    }
    if data.starts_with("set:") {
        crate::reminders::toggle(app, ctx, data, message_id).await?;
        return Ok(None);
    }
    food::on_callback(app, ctx, data, message_id).await
}

/// Applies an input to the survey and shows the result.
async fn survey_input(
    app: &Arc<BotApp>,
    ctx: &Ctx,
    s: SurveyState,
    input: Input,
    message_id: Option<i64>,
) -> Result<Option<String>, BotError> {
    let db = &app.deps().db;
    let now = app.now();
    // A typed answer gets a new message; a button edits the message it is on.
    let target = match input {
        Input::Callback(_) => message_id,
        Input::Text(_) => None,
    };
    match survey::step(&s, &input, ctx.locale, now) {
        Outcome::Show {
            state: next,
            notice,
        } => {
            state::save(db, ctx.chat, &Dialogue::Survey(next.clone()), now).await?;
            let screen = survey::screen(&next, ctx.locale).with_notice(notice.as_deref());
            app.tg.show(ctx.chat, target, &screen).await?;
            Ok(None)
        }
        Outcome::Alert(text) => {
            if target.is_none() {
                app.tg.send(ctx.chat, &Screen::new(text)).await?;
                return Ok(None);
            }
            Ok(Some(text))
        }
        Outcome::Cancelled => {
            state::save(db, ctx.chat, &Dialogue::Idle, now).await?;
            app.tg
                .show(ctx.chat, target, &Screen::new(ctx.t(T::SurveyCancelled)))
                .await?;
            Ok(None)
        }
        Outcome::Agreed {
            answers,
            fill_profile,
        } => {
            let generating = SurveyState {
                step: survey::Step::Generating,
                answers: answers.clone(),
            };
            state::save(db, ctx.chat, &Dialogue::Survey(generating.clone()), now).await?;
            let shown = app
                .tg
                .show(ctx.chat, target, &survey::screen(&generating, ctx.locale))
                .await?;
            let (app2, ctx2) = (app.clone(), ctx.clone());
            app.spawn(async move {
                if let Err(e) =
                    crate::food::personal_plan(&app2, &ctx2, answers, fill_profile, shown).await
                {
                    tracing::error!(chat_id = ctx2.chat, error = %e, "personal plan flow failed");
                    let _ =
                        state::save(&app2.deps().db, ctx2.chat, &Dialogue::Idle, app2.now()).await;
                    let _ = app2
                        .tg
                        .send(ctx2.chat, &Screen::new(ctx2.t(T::PlanFailed)))
                        .await;
                }
            });
            Ok(None)
        }
    }
}

//! Profile and goals (edit with validation by the API, auto-calculation with the missing
//! fields listed, manual macros with kcal derived or set directly) and settings (language,
//! theme, time zone, reminders, CSV export, account deletion).

use std::fmt::Write as _;

use api::ApiError;
use api::auth::CurrentUser;
use api::{ApiResult, AppState};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use domain::error::{ErrorCode, Locale};
use domain::nutrition::{ActivityLevel, GoalType};
use store::entities::profile;
use store::reminders::ReminderSettings;

use crate::html::{Screen, dec1, esc, nav};
use crate::i18n::K;
use crate::{Ctx, fragment};

/// Time zones offered in the picker (the user's current one is always added).
const ZONES: [&str; 20] = [
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Yakutsk",
    "Asia/Vladivostok",
    "Asia/Magadan",
    "Asia/Kamchatka",
    "Europe/Minsk",
    "Europe/Kyiv",
    "Asia/Almaty",
    "Asia/Tashkent",
    "Asia/Tbilisi",
    "Europe/Berlin",
    "Europe/London",
    "UTC",
];

fn select(out: &mut String, label: &str, name: &str, options: &[(&str, &str)], current: &str) {
    let _ = write!(
        out,
        r#"<label class="field"><span>{}</span><select name="{}">"#,
        esc(label),
        esc(name)
    );
    if current.is_empty() {
        out.push_str(r#"<option value="" selected>—</option>"#);
    }
    for (v, text) in options {
        let _ = write!(
            out,
            r#"<option value="{}"{}>{}</option>"#,
            esc(v),
            if *v == current { " selected" } else { "" },
            esc(text)
        );
    }
    out.push_str("</select></label>");
}

fn number(out: &mut String, label: &str, name: &str, value: &str, attrs: &str) {
    let _ = write!(
        out,
        r#"<label class="field"><span>{}</span><input name="{}" type="number" inputmode="decimal" value="{}" {attrs}></label>"#,
        esc(label),
        esc(name),
        esc(value)
    );
}

fn missing_fields(ctx: &Ctx, p: &profile::Model) -> Vec<&'static str> {
    let mut m = Vec::new();
    if p.gender.is_none() {
        m.push(ctx.t(K::Gender));
    }
    if p.birth_date.is_none() {
        m.push(ctx.t(K::BirthDate));
    }
    if p.height.is_none_or(|h| h <= 0) {
        m.push(ctx.t(K::Height));
    }
    if p.weight.is_none_or(|w| w <= 0.0) {
        m.push(ctx.t(K::Weight));
    }
    m
}

/// `GET /app/f/profile`.
pub async fn profile(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let p = store::profiles::get(ctx.state.db(), ctx.user.user_id(), ctx.state.now()).await?;
    let goal = store::goals::active(ctx.state.db(), ctx.user.user_id()).await?;
    let tg = &ctx.user.account.telegram;
    let mut out = String::with_capacity(8 * 1024);
    Screen {
        id: "profile",
        title: ctx.t(K::Profile),
        back: None,
        main: Some(("profile-save", ctx.t(K::Save))),
        poll_ms: None,
    }
    .open(&mut out);
    let _ = write!(
        out,
        r#"<div class="card who"><b>{} {}</b><small class="hint">{} · id {}</small><a class="pill" href="/app/settings">{}</a></div>"#,
        esc(&tg.first_name),
        esc(&tg.last_name),
        esc(&tg
            .username
            .as_deref()
            .map(|u| format!("@{u}"))
            .unwrap_or_default()),
        tg.telegram_id,
        esc(ctx.t(K::Settings)),
    );
    out.push_str(
        r#"<form class="card" id="profile-form" data-api="PATCH /api/v1/users/profile/">"#,
    );
    select(
        &mut out,
        ctx.t(K::Gender),
        "gender",
        &[("M", ctx.t(K::Male)), ("F", ctx.t(K::Female))],
        p.gender.as_deref().unwrap_or(""),
    );
    let _ = write!(
        out,
        r#"<label class="field"><span>{}</span><input name="birth_date" type="date" value="{}"></label>"#,
        esc(ctx.t(K::BirthDate)),
        p.birth_date.map(crate::diary::iso).unwrap_or_default()
    );
    out.push_str(r#"<div class="grid2">"#);
    number(
        &mut out,
        ctx.t(K::Height),
        "height",
        &p.height.map(|h| h.to_string()).unwrap_or_default(),
        r#"min="50" max="250" step="1""#,
    );
    number(
        &mut out,
        ctx.t(K::Weight),
        "weight",
        &p.weight.map(dec1).unwrap_or_default(),
        r#"min="20" max="500" step="0.1""#,
    );
    out.push_str("</div>");
    let acts = [
        (ActivityLevel::Sedentary.as_str(), ctx.t(K::ActSedentary)),
        (ActivityLevel::LightlyActive.as_str(), ctx.t(K::ActLight)),
        (
            ActivityLevel::ModeratelyActive.as_str(),
            ctx.t(K::ActModerate),
        ),
        (ActivityLevel::VeryActive.as_str(), ctx.t(K::ActVery)),
        (ActivityLevel::ExtraActive.as_str(), ctx.t(K::ActExtra)),
    ];
    select(
        &mut out,
        ctx.t(K::Activity),
        "activity_level",
        &acts,
        &p.activity_level,
    );
    let goals = [
        (GoalType::WeightLoss.as_str(), ctx.t(K::GoalLoss)),
        (GoalType::Maintenance.as_str(), ctx.t(K::GoalKeep)),
        (GoalType::WeightGain.as_str(), ctx.t(K::GoalGain)),
    ];
    select(
        &mut out,
        ctx.t(K::GoalType),
        "goal_type",
        &goals,
        &p.goal_type,
    );
    let _ = write!(
        out,
        r#"<button class="btn primary" type="submit" id="profile-save">{}</button></form>"#,
        esc(ctx.t(K::Save))
    );

    // Goals.
    let (kcal, prot, fat, carb) = match &goal {
        Some(g) => (
            g.calories.to_string(),
            dec1(g.protein),
            dec1(g.fat),
            dec1(g.carbohydrates),
        ),
        None => Default::default(),
    };
    let _ = write!(
        out,
        r#"<form class="card" id="goals" data-api="PUT /api/v1/goals/" data-derive-kcal><h2>{}</h2><div class="grid2">"#,
        esc(ctx.t(K::DailyGoals))
    );
    number(
        &mut out,
        &format!("{}, {}", ctx.t(K::Calories), ctx.t(K::Kcal)),
        "calories",
        &kcal,
        &format!(
            r#"min="500" max="10000" step="1" placeholder="{}""#,
            esc(ctx.t(K::KcalDerived))
        ),
    );
    for (k, name, v) in [
        (K::Protein, "protein", prot),
        (K::Fat, "fat", fat),
        (K::Carbs, "carbohydrates", carb),
    ] {
        number(
            &mut out,
            &format!("{}, {}", ctx.t(k), ctx.t(K::G)),
            name,
            &v,
            r#"min="0" step="0.1" required"#,
        );
    }
    let _ = write!(
        out,
        r#"</div><p class="hint">{}</p><button class="btn primary" type="submit">{}</button></form>"#,
        esc(ctx.t(K::KcalDerived)),
        esc(ctx.t(K::Save))
    );
    let missing = missing_fields(&ctx, &p);
    let _ = write!(
        out,
        r#"<div class="card"><p class="hint">{}</p>"#,
        esc(ctx.t(K::AutoCalcHint))
    );
    if missing.is_empty() {
        let _ = write!(
            out,
            r#"<button class="btn" type="button" id="auto-goals" data-api="POST /api/v1/goals/set-auto/">{}</button>"#,
            esc(ctx.t(K::AutoCalc))
        );
    } else {
        let _ = write!(
            out,
            r#"<p role="note" id="missing-fields"><b>{}</b> {}</p><button class="btn" type="button" disabled>{}</button>"#,
            esc(ctx.t(K::MissingFields)),
            esc(&missing.join(", ")),
            esc(ctx.t(K::AutoCalc))
        );
    }
    out.push_str("</div></section>");
    nav(&mut out, ctx.l, "profile", ctx.user.is_admin);
    Ok(fragment(out))
}

/// `GET /app/f/settings`.
pub async fn settings(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let p = store::profiles::get(ctx.state.db(), ctx.user.user_id(), ctx.state.now()).await?;
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "settings",
        title: ctx.t(K::Settings),
        back: Some("/app/profile".to_owned()),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2><div class="seg" role="group" aria-label="{}">"#,
        esc(ctx.t(K::Language)),
        esc(ctx.t(K::Language))
    );
    for (code, name) in [("ru", "Русский"), ("en", "English")] {
        let on = (code == "ru") == (ctx.l == Locale::Ru);
        let _ = write!(
            out,
            r#"<button type="button" data-set="lang:{code}" aria-pressed="{on}">{name}</button>"#
        );
    }
    let _ = write!(
        out,
        r#"</div><h2>{}</h2><div class="seg" role="group" aria-label="{}" id="theme-seg">"#,
        esc(ctx.t(K::Theme)),
        esc(ctx.t(K::Theme))
    );
    for (code, k) in [
        ("auto", K::ThemeAuto),
        ("light", K::ThemeLight),
        ("dark", K::ThemeDark),
    ] {
        let _ = write!(
            out,
            r#"<button type="button" data-set="theme:{code}">{}</button>"#,
            esc(ctx.t(k))
        );
    }
    out.push_str("</div></div>");
    let mut zones: Vec<(&str, &str)> = ZONES.iter().map(|z| (*z, *z)).collect();
    if !ZONES.contains(&p.timezone.as_str()) {
        zones.insert(0, (p.timezone.as_str(), p.timezone.as_str()));
    }
    out.push_str(r#"<form class="card" id="tz-form" data-api="PATCH /api/v1/users/profile/">"#);
    select(
        &mut out,
        ctx.t(K::Timezone),
        "timezone",
        &zones,
        &p.timezone,
    );
    let _ = write!(
        out,
        r#"<button class="btn" type="submit">{}</button></form>"#,
        esc(ctx.t(K::Save))
    );
    let reminders = store::reminders::get(ctx.state.db(), ctx.user.user_id().0).await;
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2><p class="hint">{}</p>"#,
        esc(ctx.t(K::Reminders)),
        esc(ctx.t(K::RemindersHint))
    );
    match reminders {
        Ok(r) => reminders_form(&mut out, &ctx, &r),
        Err(e) => {
            tracing::warn!(error = %e, "reminder settings unavailable");
            let _ = write!(
                out,
                r#"<p class="hint" role="alert">{}</p>"#,
                esc(ctx.t(K::RemindersUnavailable))
            );
        }
    }
    let _ = write!(
        out,
        r#"</div><div class="card"><button class="btn" type="button" data-download="/api/v1/meals/export.csv" data-filename="eatfit24.csv">{}</button></div><div class="card"><button class="btn danger block" type="button" id="delete-account" data-api="DELETE /api/v1/users/profile/delete/" data-confirm="{}" data-then="closed">{}</button></div></section>"#,
        esc(ctx.t(K::ExportCsv)),
        esc(ctx.t(K::DeleteAccountConfirm)),
        esc(ctx.t(K::DeleteAccount)),
    );
    nav(&mut out, ctx.l, "profile", ctx.user.is_admin);
    Ok(fragment(out))
}

fn reminders_form(out: &mut String, ctx: &Ctx, r: &ReminderSettings) {
    let fmt = store::reminders::format_hhmm;
    let check = |on: bool| if on { " checked" } else { "" };
    let _ = write!(
        out,
        r#"<form id="reminders" data-api="PUT /app/f/settings/reminders"><label class="check"><input type="checkbox" name="meal_reminders"{}> {}</label><div class="grid2"><label class="field"><span>{}</span><input type="time" name="breakfast_at" value="{}" min="08:00" max="21:59" required></label><label class="field"><span>{}</span><input type="time" name="lunch_at" value="{}" min="08:00" max="21:59" required></label><label class="field"><span>{}</span><input type="time" name="dinner_at" value="{}" min="08:00" max="21:59" required></label></div><label class="check"><input type="checkbox" name="evening_summary"{}> {}</label><label class="field"><span>{}</span><input type="time" name="summary_at" value="{}" min="08:00" max="21:59" required></label><label class="check"><input type="checkbox" name="inactivity_nudge"{}> {}</label><button class="btn" type="submit">{}</button></form>"#,
        check(r.meal_reminders),
        esc(ctx.t(K::MealReminders)),
        esc(ctx.t(K::Breakfast)),
        fmt(r.breakfast_at),
        esc(ctx.t(K::Lunch)),
        fmt(r.lunch_at),
        esc(ctx.t(K::Dinner)),
        fmt(r.dinner_at),
        check(r.evening_summary),
        esc(ctx.t(K::EveningSummary)),
        esc(ctx.t(K::EveningSummaryAt)),
        fmt(r.summary_at),
        check(r.inactivity_nudge),
        esc(ctx.t(K::InactivityNudge)),
        esc(ctx.t(K::Save)),
    );
}

/// `PUT /app/f/settings/reminders` with the reminder settings as JSON (times `HH:MM`, local,
/// outside the quiet hours 22:00–08:00) → `{"ok": true}`.
pub async fn save_reminders(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let s: ReminderSettings = serde_json::from_slice(&body).map_err(|e| {
        ApiError::with_message(ErrorCode::BadRequest, format!("Некорректные данные: {e}"))
    })?;
    if let Err(e) = s.validate() {
        return Err(ApiError::field(e.field, e.message));
    }
    store::reminders::update_at(state.db(), user.user_id().0, &s, state.now()).await?;
    Ok(Json(serde_json::json!({"ok": true})))
}

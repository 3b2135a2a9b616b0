//! The diary screen: week strip and month picker in the user's time zone, the calories ring and
//! macro bars against the goal, the day's meals (photos, processing and failed states).
//!
//! Every date on this screen is computed here from the user's calendar day and written into
//! links as `YYYY-MM-DD`; the browser never converts dates, so a user east of UTC picking a
//! day gets that day.

use std::collections::HashMap;
use std::fmt::Write as _;

use api::auth::CurrentUser;
use api::{ApiResult, AppState};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike, Days, Months, NaiveDate};
use domain::nutrition::{MealType, PhotoStatus};
use store::diary::{self, MealView};

use crate::html::{Screen, dec1, empty, esc, int, nav};
use crate::i18n::{self, K};
use crate::{Ctx, fragment, svg};

/// `date=YYYY-MM-DD`; anything else reads as `None`.
pub(crate) fn parse_date(q: &HashMap<String, String>, key: &str) -> Option<NaiveDate> {
    q.get(key)
        .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
}

pub(crate) fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn meal_type_label(ctx: &Ctx, t: &str) -> &'static str {
    match t.parse::<MealType>() {
        Ok(MealType::Breakfast) => ctx.t(K::Breakfast),
        Ok(MealType::Lunch) => ctx.t(K::Lunch),
        Ok(MealType::Dinner) => ctx.t(K::Dinner),
        _ => ctx.t(K::Snack),
    }
}

/// `GET /app/f/diary?date=&month=`.
pub async fn diary(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let date = parse_date(&q, "date").unwrap_or(ctx.today);
    let month = q
        .get("month")
        .and_then(|m| NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok());
    Ok(fragment(render_diary(&ctx, date, month).await?))
}

/// Renders the diary of `date` (with the month picker open on `month`, if given).
pub async fn render_diary(
    ctx: &Ctx,
    date: NaiveDate,
    month: Option<NaiveDate>,
) -> ApiResult<String> {
    let day = diary::day(ctx.state.db(), ctx.user.user_id(), date).await?;
    let processing = day.meals.iter().any(is_processing);
    let mut out = String::with_capacity(8 * 1024);
    Screen {
        id: "diary",
        title: ctx.t(K::Diary),
        back: None,
        main: Some(("add-meal", ctx.t(K::AddMeal))),
        poll_ms: processing.then_some(2000),
    }
    .open(&mut out);
    week_strip(&mut out, ctx, date);
    month_picker(&mut out, ctx, date, month);
    let _ = write!(
        out,
        r#"<p class="day-caption" id="day-caption" data-date="{}">{}</p>"#,
        iso(date),
        esc(&i18n::day_month(ctx.l, date))
    );
    totals(&mut out, ctx, &day);
    let _ = write!(
        out,
        r#"<a class="btn primary block" id="add-meal" href="/app/add?date={}">{}</a>"#,
        iso(date),
        esc(ctx.t(K::AddMeal))
    );
    meals(&mut out, ctx, date, &day.meals);
    out.push_str("</section>");
    nav(&mut out, ctx.l, "diary", ctx.user.is_admin);
    Ok(out)
}

fn is_processing(m: &MealView) -> bool {
    m.photos.iter().any(|p| {
        matches!(
            p.status.parse::<PhotoStatus>().unwrap_or_default(),
            PhotoStatus::Pending | PhotoStatus::Processing
        )
    }) || m.meal.status == "PROCESSING"
}

fn week_strip(out: &mut String, ctx: &Ctx, date: NaiveDate) {
    let monday = date - Days::new(u64::from(date.weekday().num_days_from_monday()));
    let prev = date.checked_sub_days(Days::new(7)).unwrap_or(date);
    let next = date.checked_add_days(Days::new(7)).unwrap_or(date);
    let _ = write!(
        out,
        r#"<div class="card week"><div class="week-head"><a class="icon" href="/app/diary?date={}" aria-label="{}">‹</a><a class="month-caption" id="open-month" href="/app/diary?date={}&amp;month={}" aria-label="{}">{} {}</a><a class="icon" href="/app/diary?date={}" aria-label="{}">›</a><a class="pill" href="/app/diary?date={}">{}</a></div><ol class="days">"#,
        iso(prev),
        esc(ctx.t(K::PrevWeek)),
        iso(date),
        date.format("%Y-%m"),
        esc(ctx.t(K::PickDate)),
        esc(i18n::month_name(ctx.l, date.month())),
        date.year(),
        iso(next),
        esc(ctx.t(K::NextWeek)),
        iso(ctx.today),
        esc(ctx.t(K::Today)),
    );
    for i in 0..7 {
        let Some(d) = monday.checked_add_days(Days::new(i)) else {
            continue;
        };
        day_cell(out, ctx, d, date);
    }
    out.push_str("</ol></div>");
}

fn day_cell(out: &mut String, ctx: &Ctx, d: NaiveDate, selected: NaiveDate) {
    let mut class = String::from("day");
    if d == selected {
        class.push_str(" sel");
    }
    if d == ctx.today {
        class.push_str(" today");
    }
    let wd = i18n::weekday_short(ctx.l, d.weekday());
    let cur = if d == selected {
        r#" aria-current="date""#
    } else {
        ""
    };
    if d > ctx.today {
        let _ = write!(
            out,
            r#"<li><span class="{class} future" aria-disabled="true"><small>{wd}</small><b>{}</b></span></li>"#,
            d.day()
        );
    } else {
        let _ = write!(
            out,
            r#"<li><a class="{class}" href="/app/diary?date={}" data-date="{}"{cur}><small>{wd}</small><b>{}</b></a></li>"#,
            iso(d),
            iso(d),
            d.day()
        );
    }
}

fn month_picker(out: &mut String, ctx: &Ctx, selected: NaiveDate, month: Option<NaiveDate>) {
    let Some(first) = month else {
        return;
    };
    let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let _ = write!(
        out,
        r#"<div class="card month" id="month-picker" role="dialog" aria-label="{}"><div class="week-head"><a class="icon" href="/app/diary?date={}&amp;month={}" aria-label="{}">‹</a><b>{} {}</b><a class="icon" href="/app/diary?date={}&amp;month={}" aria-label="{}">›</a><a class="pill" href="/app/diary?date={}">{}</a></div><div class="grid7">"#,
        esc(ctx.t(K::PickDate)),
        iso(selected),
        prev.format("%Y-%m"),
        esc(ctx.t(K::PrevMonth)),
        esc(i18n::month_name(ctx.l, first.month())),
        first.year(),
        iso(selected),
        next.format("%Y-%m"),
        esc(ctx.t(K::NextMonth)),
        iso(selected),
        esc(ctx.t(K::Close)),
    );
    for wd in [
        chrono::Weekday::Mon,
        chrono::Weekday::Tue,
        chrono::Weekday::Wed,
        chrono::Weekday::Thu,
        chrono::Weekday::Fri,
        chrono::Weekday::Sat,
        chrono::Weekday::Sun,
    ] {
        let _ = write!(out, "<small>{}</small>", i18n::weekday_short(ctx.l, wd));
    }
    for _ in 0..first.weekday().num_days_from_monday() {
        out.push_str("<span></span>");
    }
    let mut d = first;
    while d.month() == first.month() {
        out.push_str(r#"<span class="cell">"#);
        let mut ul = String::new();
        day_cell(&mut ul, ctx, d, selected);
        // day_cell writes a list item; the grid wants the bare link.
        out.push_str(ul.trim_start_matches("<li>").trim_end_matches("</li>"));
        out.push_str("</span>");
        match d.succ_opt() {
            Some(n) => d = n,
            None => break,
        }
    }
    out.push_str("</div></div>");
}

fn totals(out: &mut String, ctx: &Ctx, day: &diary::Day) {
    let total = day.total();
    let goal = day.goal.as_ref().map(diary::goal_targets);
    let kcal = total.calories.to_f64();
    let goal_kcal = goal.as_ref().map(|g| f64::from(g.calories));
    let sub = match goal_kcal {
        Some(g) if kcal > g => format!("{} +{}", ctx.t(K::Over), int(kcal - g)),
        Some(g) => format!("{} {}", ctx.t(K::Left), int(g - kcal)),
        None => ctx.t(K::Kcal).to_owned(),
    };
    let label = match goal_kcal {
        Some(g) => format!(
            "{} {} {} {} {}",
            ctx.t(K::Calories),
            int(kcal),
            ctx.t(K::Of),
            int(g),
            ctx.t(K::Kcal)
        ),
        None => format!("{} {} {}", ctx.t(K::Calories), int(kcal), ctx.t(K::Kcal)),
    };
    let _ = write!(
        out,
        r#"<div class="card totals"><div class="ring-wrap" id="kcal-total" data-kcal="{}">{}</div><div class="macros">"#,
        int(kcal),
        svg::ring(kcal, goal_kcal, &int(kcal), &sub, &label)
    );
    let rows = [
        (
            K::Protein,
            total.protein.to_f64(),
            goal.as_ref().map(|g| g.protein.to_f64()),
            "p",
        ),
        (
            K::Fat,
            total.fat.to_f64(),
            goal.as_ref().map(|g| g.fat.to_f64()),
            "f",
        ),
        (
            K::Carbs,
            total.carbohydrates.to_f64(),
            goal.as_ref().map(|g| g.carbohydrates.to_f64()),
            "c",
        ),
    ];
    for (k, v, g, class) in rows {
        let of = match g {
            Some(g) => format!("{} / {} {}", dec1(v), int(g), ctx.t(K::G)),
            None => format!("{} {}", dec1(v), ctx.t(K::G)),
        };
        let over = g.is_some_and(|g| g > 0.0 && v > g);
        let _ = write!(
            out,
            r#"<div class="macro macro-{class}{}" data-grams="{}"><div class="macro-head"><span>{}</span><span>{}{}</span></div>{}</div>"#,
            if over { " over" } else { "" },
            dec1(v),
            esc(ctx.t(k)),
            esc(&of),
            if over { " ▲" } else { "" },
            svg::bar(v, g, class)
        );
    }
    out.push_str("</div></div>");
    if goal.is_none() {
        let _ = write!(
            out,
            r#"<div class="card note" role="note"><b>{}</b><p class="hint">{}</p><a class="btn" href="/app/profile#goals">{}</a></div>"#,
            esc(ctx.t(K::GoalsNotSet)),
            esc(ctx.t(K::GoalsNotSetHint)),
            esc(ctx.t(K::SetGoals))
        );
    }
}

fn meals(out: &mut String, ctx: &Ctx, date: NaiveDate, meals: &[MealView]) {
    let _ = write!(
        out,
        r#"<div class="card"><div class="row"><h2>{}</h2><span class="hint">{}</span></div>"#,
        esc(ctx.t(K::Meals)),
        esc(&i18n::meals_count(ctx.l, meals.len() as u64))
    );
    if meals.is_empty() {
        empty(out, ctx.t(K::NoMeals), ctx.t(K::NoMealsHint));
        out.push_str("</div>");
        return;
    }
    out.push_str(r#"<ul class="meals" id="meals">"#);
    for m in meals {
        meal_row(out, ctx, m, Some(date));
    }
    out.push_str("</ul></div>");
}

/// One meal row. `interactive: Some(date)` links it to the meal screen and offers a retry of a
/// failed photo (the user's own diary of `date`); `None` renders it read-only (the coach panel).
pub(crate) fn meal_row(out: &mut String, ctx: &Ctx, m: &MealView, interactive: Option<NaiveDate>) {
    let statuses: Vec<PhotoStatus> = m
        .photos
        .iter()
        .map(|p| p.status.parse().unwrap_or_default())
        .collect();
    let success = m
        .photos
        .iter()
        .zip(&statuses)
        .filter(|(_, s)| **s == PhotoStatus::Success)
        .map(|(p, _)| p)
        .collect::<Vec<_>>();
    let processing = is_processing(m);
    let all_failed = !statuses.is_empty()
        && statuses
            .iter()
            .all(|s| matches!(s, PhotoStatus::Failed | PhotoStatus::Cancelled))
        && m.items.is_empty();
    let title = m
        .meal
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| meal_type_label(ctx, &m.meal.meal_type).to_owned());
    match interactive {
        Some(_) => {
            let _ = write!(
                out,
                r#"<li class="meal" data-meal-id="{}"><a class="meal-link" href="/app/meal/{}">"#,
                m.meal.id, m.meal.id
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<li class="meal" data-meal-id="{}"><div class="meal-link">"#,
                m.meal.id
            );
        }
    }
    match success.first() {
        Some(p) => {
            let _ = write!(
                out,
                r#"<img class="thumb" src="{}" alt="" loading="lazy" width="48" height="48">"#,
                esc(&api::meals::media_url(&p.image))
            );
        }
        None => {
            let initial = meal_type_label(ctx, &m.meal.meal_type)
                .chars()
                .next()
                .unwrap_or('·');
            let _ = write!(
                out,
                r#"<span class="thumb none" aria-hidden="true">{initial}</span>"#
            );
        }
    }
    let names: Vec<&str> = m.items.iter().take(3).map(|i| i.name.as_str()).collect();
    let sub = if processing {
        format!(
            r#"<span class="status processing">{}</span>"#,
            esc(ctx.t(K::Processing))
        )
    } else if all_failed {
        format!(
            r#"<span class="status failed">⚠ {}</span>"#,
            esc(ctx.t(K::RecognitionFailed))
        )
    } else {
        format!(
            "{} · {}",
            esc(&i18n::dishes_count(ctx.l, m.items.len() as u64)),
            esc(&names.join(", "))
        )
    };
    let _ = write!(
        out,
        r#"<span class="meal-body"><b>{}</b><small>{}</small></span><span class="meal-kcal">{} {}</span>{}"#,
        esc(&title),
        sub,
        int(m.total().calories.to_f64()),
        esc(ctx.t(K::Kcal)),
        if interactive.is_some() {
            "</a>"
        } else {
            "</div>"
        }
    );
    if let (true, Some(date)) = (all_failed, interactive) {
        let photo = m
            .photos
            .iter()
            .zip(&statuses)
            .rev()
            .find(|(_, s)| **s == PhotoStatus::Failed)
            .map(|(p, _)| p.id);
        let _ = write!(
            out,
            r#"<a class="btn small danger" href="/app/add?date={}&amp;meal_type={}&amp;meal_id={}{}">{}</a>"#,
            iso(date),
            esc(&m.meal.meal_type),
            m.meal.id,
            photo
                .map(|p| format!("&amp;retry_photo={p}"))
                .unwrap_or_default(),
            esc(ctx.t(K::Retry))
        );
    }
    out.push_str("</li>");
}

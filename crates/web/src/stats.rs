//! Statistics: a week or a month of calories and macros as SVG charts, averages per logged
//! day, days logged and on goal, and the weight log with its trend.

use std::collections::HashMap;
use std::fmt::Write as _;

use api::auth::CurrentUser;
use api::{ApiError, ApiResult, AppState};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Datelike, Days, Months, NaiveDate};
use store::diary::RangeSummaryError;

use crate::diary::{iso, parse_date};
use crate::html::{Screen, dec1, esc, int, nav};
use crate::i18n::{self, K};
use crate::svg::{self, DayPoint};
use crate::{Ctx, fragment};

fn bounds(period: &str, date: NaiveDate) -> (NaiveDate, NaiveDate, NaiveDate, NaiveDate) {
    if period == "month" {
        let first = date.with_day(1).unwrap_or(date);
        let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
        let last = next.pred_opt().unwrap_or(first);
        let prev = first.checked_sub_months(Months::new(1)).unwrap_or(first);
        (first, last, prev, next)
    } else {
        let monday = date - Days::new(u64::from(date.weekday().num_days_from_monday()));
        let sunday = monday + Days::new(6);
        (monday, sunday, monday - Days::new(7), monday + Days::new(7))
    }
}

/// `GET /app/f/stats?period=week|month&date=`.
pub async fn stats(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let period = if q.get("period").map(String::as_str) == Some("month") {
        "month"
    } else {
        "week"
    };
    let date = parse_date(&q, "date").unwrap_or(ctx.today);
    let (from, to, prev, next) = bounds(period, date);
    let summary = store::diary::range(ctx.state.db(), ctx.user.user_id(), from, to)
        .await
        .map_err(|e| match e {
            RangeSummaryError::Store(e) => ApiError::from(e),
            RangeSummaryError::Range(e) => ApiError::internal(e.to_string()),
        })?;
    let weights = store::weights::log(
        ctx.state.db(),
        ctx.user.user_id(),
        Some(to - Days::new(90)),
        Some(to),
    )
    .await?;

    let mut out = String::with_capacity(12 * 1024);
    Screen {
        id: "stats",
        title: ctx.t(K::Stats),
        back: None,
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let _ = write!(
        out,
        r#"<div class="seg" role="group" aria-label="{}">"#,
        esc(ctx.t(K::Stats))
    );
    for (p, k) in [("week", K::Week), ("month", K::Month)] {
        let _ = write!(
            out,
            r#"<a href="/app/stats?period={p}&amp;date={}" aria-pressed="{}">{}</a>"#,
            iso(date),
            p == period,
            esc(ctx.t(k))
        );
    }
    let caption = if period == "month" {
        format!("{} {}", i18n::month_name(ctx.l, from.month()), from.year())
    } else {
        format!(
            "{} — {}",
            i18n::day_month(ctx.l, from),
            i18n::day_month(ctx.l, to)
        )
    };
    let _ = write!(
        out,
        r#"</div><div class="week-head"><a class="icon" href="/app/stats?period={period}&amp;date={}" aria-label="‹">‹</a><b id="stats-range">{}</b><a class="icon" href="/app/stats?period={period}&amp;date={}" aria-label="›">›</a></div>"#,
        iso(prev),
        esc(&caption),
        iso(next),
    );
    let days: Vec<DayPoint> = summary
        .days
        .iter()
        .map(|d| DayPoint {
            label: if period == "month" {
                d.date.day().to_string()
            } else {
                i18n::weekday_short(ctx.l, d.date.weekday()).to_owned()
            },
            kcal: d.totals.calories.to_f64(),
            protein: d.totals.protein.to_f64(),
            fat: d.totals.fat.to_f64(),
            carbs: d.totals.carbohydrates.to_f64(),
        })
        .collect();
    let goal_kcal = summary.goal.as_ref().map(|g| f64::from(g.calories));
    let avg = &summary.average_per_logged_day;
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2><div class="kpis"><div><b id="avg-kcal">{}</b><small>{}</small></div><div><b>{}</b><small>{} {}</small></div><div><b>{}</b><small>{} {}</small></div><div><b>{}</b><small>{} {}</small></div></div><div class="kpis"><div><b id="days-logged">{} / {}</b><small>{}</small></div><div><b>{}</b><small>{}</small></div></div></div>"#,
        esc(ctx.t(K::Average)),
        int(avg.calories.to_f64()),
        esc(ctx.t(K::Kcal)),
        dec1(avg.protein.to_f64()),
        esc(ctx.t(K::Protein)),
        esc(ctx.t(K::G)),
        dec1(avg.fat.to_f64()),
        esc(ctx.t(K::Fat)),
        esc(ctx.t(K::G)),
        dec1(avg.carbohydrates.to_f64()),
        esc(ctx.t(K::Carbs)),
        esc(ctx.t(K::G)),
        summary.days_logged,
        summary.days.len(),
        esc(ctx.t(K::DaysLogged)),
        summary
            .adherence_percent
            .map(|p| format!("{}%", p.tenths() / 10))
            .unwrap_or_else(|| "—".to_owned()),
        esc(ctx.t(K::Adherence)),
    );
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2>{}</div><div class="card"><h2>{} / {} / {}</h2>{}<p class="legend"><span class="k-p">■ {}</span> <span class="k-f">■ {}</span> <span class="k-c">■ {}</span></p></div>"#,
        esc(ctx.t(K::Calories)),
        svg::calories_chart(&days, goal_kcal, ctx.t(K::Calories)),
        esc(ctx.t(K::Protein)),
        esc(ctx.t(K::Fat)),
        esc(ctx.t(K::Carbs)),
        svg::macros_chart(&days, ctx.t(K::Carbs)),
        esc(ctx.t(K::Protein)),
        esc(ctx.t(K::Fat)),
        esc(ctx.t(K::Carbs)),
    );
    let _ = write!(
        out,
        r#"<div class="card" id="weights"><h2>{}</h2>"#,
        esc(ctx.t(K::WeightLog))
    );
    if weights.is_empty() {
        let _ = write!(out, r#"<p class="hint">{}</p>"#, esc(ctx.t(K::NoWeights)));
    } else {
        let points: Vec<(String, f64, f64)> = weights
            .iter()
            .map(|w| (i18n::day_month(ctx.l, w.entry.date), w.entry.kg, w.trend))
            .collect();
        out.push_str(&svg::weight_chart(&points, ctx.t(K::WeightLog)));
        if let Some(last) = weights.last() {
            let _ = write!(
                out,
                r#"<p class="hint">{}: <b>{}</b> · {}: <b>{}</b></p>"#,
                esc(ctx.t(K::Weight)),
                dec1(last.entry.kg),
                esc(ctx.t(K::Trend)),
                dec1(last.trend)
            );
        }
    }
    let _ = write!(
        out,
        r#"<form class="inline" data-api="POST /api/v1/weights/"><label class="field"><span>{}</span><input name="kg" type="number" inputmode="decimal" min="20" max="500" step="0.1" required></label><button class="btn" type="submit">{}</button></form></div></section>"#,
        esc(ctx.t(K::Weight)),
        esc(ctx.t(K::AddWeight))
    );
    nav(&mut out, ctx.l, "stats", ctx.user.is_admin);
    Ok(fragment(out))
}

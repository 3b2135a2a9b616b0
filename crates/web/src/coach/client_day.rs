//! The client's diary of one day in the coach panel: read-only, in the client's calendar day
//! (their time zone), with links to the previous and next day. Meals render like the user's
//! own diary rows (the same renderer, read-only: no links into the meal screens or retry
//! buttons, which belong to the client).

use std::fmt::Write as _;

use chrono::{Days, NaiveDate};
use store::diary;

use crate::Ctx;
use crate::diary::{iso, meal_row};
use crate::html::{dec1, empty, esc, int};
use crate::i18n::{self, K};

/// The day card: caption with prev/next links (never past the client's today), totals against
/// the goal, the meals.
pub(super) fn render(
    out: &mut String,
    ctx: &Ctx,
    client_row_id: i64,
    day: &diary::Day,
    client_today: NaiveDate,
) {
    let date = day.date;
    let base = format!("/app/coach/client/{client_row_id}");
    let _ = write!(
        out,
        r#"<div class="card" id="client-diary" data-date="{}"><div class="row"><h2>{}</h2><span class="hint">{}</span></div><div class="row">"#,
        iso(date),
        esc(ctx.t(K::ClientDiary)),
        esc(&i18n::day_month(ctx.l, date)),
    );
    if let Some(prev) = date.checked_sub_days(Days::new(1)) {
        let _ = write!(
            out,
            r#"<a class="btn small" id="client-prev-day" href="{base}?date={}" aria-label="{}">‹ {}</a>"#,
            iso(prev),
            esc(ctx.t(K::PrevDay)),
            esc(&i18n::day_month(ctx.l, prev)),
        );
    }
    match date.checked_add_days(Days::new(1)) {
        Some(next) if next <= client_today => {
            let _ = write!(
                out,
                r#"<a class="btn small" id="client-next-day" href="{base}?date={}" aria-label="{}">{} ›</a>"#,
                iso(next),
                esc(ctx.t(K::NextDay)),
                esc(&i18n::day_month(ctx.l, next)),
            );
        }
        _ => {}
    }
    out.push_str("</div>");
    totals(out, ctx, day);
    let _ = write!(
        out,
        r#"<p class="hint">{}</p>"#,
        esc(&i18n::meals_count(ctx.l, day.meals.len() as u64))
    );
    if day.meals.is_empty() {
        empty(out, ctx.t(K::NoMeals), "");
    } else {
        out.push_str(r#"<ul class="meals" id="client-meals">"#);
        for m in &day.meals {
            meal_row(out, ctx, m, None);
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>");
}

fn totals(out: &mut String, ctx: &Ctx, day: &diary::Day) {
    let total = day.total();
    let goal = day.goal.as_ref().map(diary::goal_targets);
    let kcal = total.calories.to_f64();
    let kcal_text = match &goal {
        Some(g) => format!(
            "{} {} {} {}",
            int(kcal),
            ctx.t(K::Of),
            g.calories,
            ctx.t(K::Kcal)
        ),
        None => format!("{} {}", int(kcal), ctx.t(K::Kcal)),
    };
    let _ = write!(
        out,
        r#"<div class="kpis" id="client-day-total" data-kcal="{}"><div><b>{}</b><small>{}</small></div>"#,
        int(kcal),
        esc(&kcal_text),
        esc(ctx.t(K::Calories)),
    );
    for (k, v, g) in [
        (
            K::Protein,
            total.protein.to_f64(),
            goal.as_ref().map(|g| g.protein.to_f64()),
        ),
        (
            K::Fat,
            total.fat.to_f64(),
            goal.as_ref().map(|g| g.fat.to_f64()),
        ),
        (
            K::Carbs,
            total.carbohydrates.to_f64(),
            goal.as_ref().map(|g| g.carbohydrates.to_f64()),
        ),
    ] {
        let text = match g {
            Some(g) => format!("{} / {} {}", dec1(v), int(g), ctx.t(K::G)),
            None => format!("{} {}", dec1(v), ctx.t(K::G)),
        };
        let _ = write!(
            out,
            r#"<div><b>{}</b><small>{}</small></div>"#,
            esc(&text),
            esc(ctx.t(k))
        );
    }
    out.push_str("</div>");
}

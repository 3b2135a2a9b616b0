//! Adding food (text, photos, by hand, recent foods, copy yesterday) and the meal details
//! screen (photos, items with grams that rescale macros, rename, delete item, delete meal).
//! The forms post to the JSON API; the script sends them with initData.

use std::collections::HashMap;
use std::fmt::Write as _;

use api::auth::CurrentUser;
use api::{ApiError, ApiResult, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{Days, Duration, Timelike};
use domain::nutrition::{MealType, PhotoStatus};
use store::diary::{self, item_nutrients};

use crate::diary::{iso, meal_type_label, parse_date};
use crate::html::{Screen, dec1, empty, esc, int, nav};
use crate::i18n::K;
use crate::{Ctx, fragment};

fn meal_type_select(out: &mut String, ctx: &Ctx, selected: MealType, common: bool) {
    let _ = write!(
        out,
        r#"<label class="field"><span>{}</span><select name="meal_type"{}>"#,
        esc(ctx.t(K::MealType)),
        if common {
            r#" data-common id="f-meal-type""#
        } else {
            ""
        }
    );
    for (t, k) in [
        (MealType::Breakfast, K::Breakfast),
        (MealType::Lunch, K::Lunch),
        (MealType::Dinner, K::Dinner),
        (MealType::Snack, K::Snack),
    ] {
        let _ = write!(
            out,
            r#"<option value="{}"{}>{}</option>"#,
            t.as_str(),
            if t == selected { " selected" } else { "" },
            esc(ctx.t(k))
        );
    }
    out.push_str("</select></label>");
}

/// The meal type people usually mean at this local hour.
fn meal_type_at(hour: u32) -> MealType {
    match hour {
        4..=10 => MealType::Breakfast,
        11..=15 => MealType::Lunch,
        16..=21 => MealType::Dinner,
        _ => MealType::Snack,
    }
}

/// `GET /app/f/add?date=&meal_type=&meal_id=&retry_photo=`.
pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let date = parse_date(&q, "date")
        .filter(|d| *d <= ctx.today)
        .unwrap_or(ctx.today);
    let profile = store::profiles::get(ctx.state.db(), ctx.user.user_id(), ctx.state.now()).await?;
    let local_hour = ctx
        .state
        .now()
        .with_timezone(&api::views::profile_tz(&profile))
        .hour();
    let meal_type = q
        .get("meal_type")
        .and_then(|t| t.parse::<MealType>().ok())
        .unwrap_or(meal_type_at(local_hour));
    let meal_id = q.get("meal_id").and_then(|v| v.parse::<i64>().ok());
    let retry_photo = q.get("retry_photo").and_then(|v| v.parse::<i64>().ok());
    let since = ctx.state.now() - Duration::days(api::meals::RECENT_DAYS);
    let recent = store::meals::recent_foods(ctx.state.db(), ctx.user.user_id(), since, 8).await?;

    let mut out = String::with_capacity(8 * 1024);
    Screen {
        id: "add",
        title: ctx.t(K::AddFood),
        back: Some(format!("/app/diary?date={}", iso(date))),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let _ = write!(
        out,
        r#"<div class="card"><label class="field"><span>{}</span><input type="date" name="date" id="f-date" data-common value="{}" max="{}" required></label>"#,
        esc(ctx.t(K::Date)),
        iso(date),
        iso(ctx.today)
    );
    meal_type_select(&mut out, &ctx, meal_type, true);
    if let Some(id) = meal_id {
        let _ = write!(
            out,
            r#"<input type="hidden" name="meal_id" data-common value="{id}">"#
        );
    }
    out.push_str("</div>");

    // Text logging.
    let _ = write!(
        out,
        r#"<form class="card" id="text-form" data-textlog data-then="/app/diary?date={{date}}"><h2>{}</h2><label class="field"><span class="sr">{}</span><textarea name="text" id="text-input" rows="2" maxlength="2000" required placeholder="{}"></textarea></label><button class="btn primary" type="submit" id="text-submit">{}</button><p class="form-status" role="status"></p></form>"#,
        esc(ctx.t(K::ByText)),
        esc(ctx.t(K::ByText)),
        esc(ctx.t(K::ByTextPlaceholder)),
        esc(ctx.t(K::LogText)),
    );

    // Photos.
    let _ = write!(
        out,
        r#"<div class="card" id="photos" data-retry-photo="{}"><h2>{}</h2><p class="hint">{}</p><p class="hint" id="quota" role="status" data-l-left="{}" data-l-pro="{}"></p><label class="btn" for="photo-input">{}</label><input type="file" id="photo-input" accept="image/*" multiple hidden data-photos><ul id="photo-list" class="photo-list" data-comment="{}"></ul><button class="btn primary" type="button" id="photo-send" hidden>{}</button></div>"#,
        retry_photo.map(|p| p.to_string()).unwrap_or_default(),
        esc(ctx.t(K::ByPhoto)),
        esc(ctx.t(K::PhotoHint)),
        esc(ctx.t(K::QuotaLeft)),
        esc(ctx.t(K::QuotaPro)),
        esc(ctx.t(K::ChoosePhotos)),
        esc(ctx.t(K::PhotoComment)),
        esc(ctx.t(K::Send)),
    );

    // By hand.
    let _ = write!(
        out,
        r#"<form class="card" id="manual-form" data-api="POST /api/v1/meals/quick-add/" data-then="/app/diary?date={{date}}"><h2>{}</h2><label class="field"><span>{}</span><input name="name" maxlength="200"></label><div class="grid2"><label class="field"><span>{}</span><input name="grams" type="number" inputmode="numeric" min="1" max="10000"></label><label class="field"><span>{}, {}</span><input name="calories" type="number" inputmode="decimal" min="0" step="0.1" required></label><label class="field"><span>{}, {}</span><input name="protein" type="number" inputmode="decimal" min="0" step="0.1"></label><label class="field"><span>{}, {}</span><input name="fat" type="number" inputmode="decimal" min="0" step="0.1"></label><label class="field"><span>{}, {}</span><input name="carbohydrates" type="number" inputmode="decimal" min="0" step="0.1"></label></div><button class="btn" type="submit">{}</button></form>"#,
        esc(ctx.t(K::Manual)),
        esc(ctx.t(K::Name)),
        esc(ctx.t(K::Grams)),
        esc(ctx.t(K::Calories)),
        esc(ctx.t(K::Kcal)),
        esc(ctx.t(K::Protein)),
        esc(ctx.t(K::G)),
        esc(ctx.t(K::Fat)),
        esc(ctx.t(K::G)),
        esc(ctx.t(K::Carbs)),
        esc(ctx.t(K::G)),
        esc(ctx.t(K::Add)),
    );

    // Recent and frequent foods, yesterday's meals and copy yesterday.
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2>"#,
        esc(ctx.t(K::RecentFoods))
    );
    if recent.recent.is_empty() && recent.frequent.is_empty() {
        let _ = write!(out, r#"<p class="hint">{}</p>"#, esc(ctx.t(K::NoRecent)));
    } else {
        food_list(&mut out, &ctx, "recent-foods", K::Recent, &recent.recent);
        food_list(
            &mut out,
            &ctx,
            "frequent-foods",
            K::Frequent,
            &recent.frequent,
        );
    }
    if let Some(y) = date.checked_sub_days(Days::new(1)) {
        let day = diary::day(ctx.state.db(), ctx.user.user_id(), y).await?;
        yesterday_meals(&mut out, &ctx, &day, date);
        let body = serde_json::json!({"from_date": iso(y), "to_date": iso(date)});
        let _ = write!(
            out,
            r#"<button type="button" class="btn" data-api="POST /api/v1/meals/copy-day/" data-body="{}" data-then="/app/diary?date={}">{}</button>"#,
            esc(&body.to_string()),
            iso(date),
            esc(ctx.t(K::CopyYesterday))
        );
    }
    out.push_str("</div></section>");
    nav(&mut out, ctx.l, "add", ctx.user.is_admin);
    Ok(fragment(out))
}

/// One titled list of foods, each a button that logs it again (date and meal type from the
/// common fields, today by default).
fn food_list(out: &mut String, ctx: &Ctx, id: &str, title: K, foods: &[store::meals::FoodUse]) {
    if foods.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<h3>{}</h3><ul class="list" id="{id}">"#,
        esc(ctx.t(title))
    );
    for f in foods.iter().take(8) {
        let body = serde_json::json!({
            "name": f.name,
            "grams": f.grams,
            "calories": f.nutrients.calories.to_string(),
            "protein": f.nutrients.protein.to_string(),
            "fat": f.nutrients.fat.to_string(),
            "carbohydrates": f.nutrients.carbohydrates.to_string(),
        });
        let _ = write!(
            out,
            r#"<li><button type="button" class="row-btn" data-with-common data-api="POST /api/v1/meals/quick-add/" data-body="{}" data-then="/app/diary?date={{date}}"><span>{}</span><small>{} {} · {} {}</small></button></li>"#,
            esc(&body.to_string()),
            esc(&f.name),
            f.grams,
            esc(ctx.t(K::G)),
            int(f.nutrients.calories.to_f64()),
            esc(ctx.t(K::Kcal)),
        );
    }
    out.push_str("</ul>");
}

/// Yesterday's meals with items, each with a button copying it (items, not photos) to `to`.
fn yesterday_meals(out: &mut String, ctx: &Ctx, day: &diary::Day, to: chrono::NaiveDate) {
    let meals: Vec<&diary::MealView> = day.meals.iter().filter(|m| !m.items.is_empty()).collect();
    if meals.is_empty() {
        return;
    }
    let _ = write!(
        out,
        r#"<h3>{}</h3><ul class="list" id="yesterday-meals">"#,
        esc(ctx.t(K::YesterdayMeals))
    );
    let body = serde_json::json!({"date": iso(to)});
    for m in meals {
        let title = m
            .meal
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| meal_type_label(ctx, &m.meal.meal_type).to_owned());
        let _ = write!(
            out,
            r#"<li class="row-btn" data-meal-id="{id}"><span>{title} <small>{kcal} {l_kcal}</small></span><button type="button" class="btn small" data-api="POST /api/v1/meals/{id}/copy/" data-body="{body}" data-then="/app/diary?date={to}">{copy}</button></li>"#,
            id = m.meal.id,
            title = esc(&title),
            kcal = int(m.total().calories.to_f64()),
            l_kcal = esc(ctx.t(K::Kcal)),
            body = esc(&body.to_string()),
            to = iso(to),
            copy = esc(ctx.t(K::CopyMeal)),
        );
    }
    out.push_str("</ul>");
}

/// `GET /app/f/meal/{id}`.
pub async fn meal(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let m = diary::meal_view(ctx.state.db(), ctx.user.user_id(), id).await?;
    let date = m.meal.date;
    let title = m
        .meal
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| meal_type_label(&ctx, &m.meal.meal_type).to_owned());
    let mut out = String::with_capacity(8 * 1024);
    Screen {
        id: "meal",
        title: &title,
        back: Some(format!("/app/diary?date={}", iso(date))),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let total = m.total();
    let _ = write!(
        out,
        r#"<p class="hint">{} · <b id="meal-kcal">{}</b> {} · {} {} / {} {} / {} {}</p>"#,
        esc(&crate::i18n::day_month(ctx.l, date)),
        int(total.calories.to_f64()),
        esc(ctx.t(K::Kcal)),
        dec1(total.protein.to_f64()),
        esc(ctx.t(K::G)),
        dec1(total.fat.to_f64()),
        esc(ctx.t(K::G)),
        dec1(total.carbohydrates.to_f64()),
        esc(ctx.t(K::G)),
    );
    if !m.photos.is_empty() {
        out.push_str(r#"<div class="photos" role="list">"#);
        for p in &m.photos {
            let st: PhotoStatus = p.status.parse().unwrap_or_default();
            let badge = match st {
                PhotoStatus::Failed => Some(ctx.t(K::PhotoFailed)),
                PhotoStatus::Cancelled => Some(ctx.t(K::PhotoCancelled)),
                PhotoStatus::Pending | PhotoStatus::Processing => Some(ctx.t(K::Processing)),
                PhotoStatus::Success => None,
            };
            let _ = write!(
                out,
                r#"<figure role="listitem" class="photo {}"><img src="{}" alt="" width="120" height="120">{}</figure>"#,
                st.as_str().to_ascii_lowercase(),
                esc(&api::meals::media_url(&p.image)),
                badge
                    .map(|b| format!("<figcaption>{}</figcaption>", esc(b)))
                    .unwrap_or_default()
            );
        }
        out.push_str("</div>");
    }
    // Rename.
    let _ = write!(
        out,
        r#"<form class="card inline" data-api="PATCH /api/v1/meals/{}/"><label class="field"><span>{}</span><input name="name" maxlength="200" value="{}"></label><button class="btn" type="submit">{}</button></form>"#,
        m.meal.id,
        esc(ctx.t(K::Name)),
        esc(m.meal.name.as_deref().unwrap_or("")),
        esc(ctx.t(K::Save))
    );
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2>"#,
        esc(ctx.t(K::Items))
    );
    if m.items.is_empty() {
        empty(&mut out, ctx.t(K::NoItems), "");
    }
    out.push_str(r#"<ul class="items" id="items">"#);
    for i in &m.items {
        let n = item_nutrients(i);
        let _ = write!(
            out,
            r#"<li class="item" data-item-id="{id}"><form data-api="PATCH /api/v1/meals/{meal}/items/{id}/"><input class="item-name" name="name" value="{name}" aria-label="{l_name}" maxlength="200"><div class="item-row"><label class="grams"><input name="grams" type="number" inputmode="numeric" min="1" max="10000" value="{grams}" aria-label="{l_grams}" required> {g}</label><span class="item-kcal"><b>{kcal}</b> {l_kcal}</span><button class="btn small" type="submit">{save}</button><button class="btn small danger" type="button" data-api="DELETE /api/v1/meals/{meal}/items/{id}/" aria-label="{del}">✕</button></div><small class="hint">{l_p} {p} · {l_f} {f} · {l_c} {c}</small></form></li>"#,
            id = i.id,
            meal = m.meal.id,
            name = esc(&i.name),
            l_name = esc(ctx.t(K::Name)),
            grams = i.grams,
            l_grams = esc(ctx.t(K::Grams)),
            g = esc(ctx.t(K::G)),
            kcal = int(n.calories.to_f64()),
            l_kcal = esc(ctx.t(K::Kcal)),
            save = esc(ctx.t(K::Save)),
            del = esc(ctx.t(K::DeleteItem)),
            l_p = esc(ctx.t(K::Protein)),
            p = dec1(n.protein.to_f64()),
            l_f = esc(ctx.t(K::Fat)),
            f = dec1(n.fat.to_f64()),
            l_c = esc(ctx.t(K::Carbs)),
            c = dec1(n.carbohydrates.to_f64()),
        );
    }
    out.push_str("</ul></div>");
    let _ = write!(
        out,
        r#"<button class="btn danger block" type="button" id="delete-meal" data-api="DELETE /api/v1/meals/{}/" data-confirm="{}" data-then="/app/diary?date={}">{}</button></section>"#,
        m.meal.id,
        esc(ctx.t(K::ConfirmDeleteMeal)),
        iso(date),
        esc(ctx.t(K::DeleteMeal))
    );
    nav(&mut out, ctx.l, "diary", ctx.user.is_admin);
    Ok(fragment(out))
}

//! The coach panel for admins (`TELEGRAM_ADMINS`, initData no older than 30 minutes): home,
//! leads with the status workflow, search and survey details, clients, subscribers and
//! revenue. Writes go to the coach endpoints of the JSON API. The home shows the coach's own
//! invite link (`?start=coach_<telegram id>`); lead and client pages show where the person came
//! from; the client page shows the client's diary of a chosen day, read-only.

mod client_day;

use std::collections::HashMap;
use std::fmt::Write as _;

use api::auth::{AdminUser, CurrentUser};
use api::{ApiError, ApiResult, AppState};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use store::coach::{self, Lead, LeadStatus, PageRequest};

use crate::html::{Screen, esc, int, nav};
use crate::i18n::K;
use crate::{Ctx, fragment};

fn status_label(ctx: &Ctx, s: LeadStatus) -> &'static str {
    match s {
        LeadStatus::New => ctx.t(K::StatusNew),
        LeadStatus::Viewed => ctx.t(K::StatusViewed),
        LeadStatus::Contacted => ctx.t(K::StatusContacted),
        LeadStatus::Client => ctx.t(K::StatusClient),
    }
}

fn display_name(l: &Lead) -> String {
    let full = format!("{} {}", l.telegram.first_name, l.telegram.last_name);
    let full = full.trim();
    if full.is_empty() {
        format!("id {}", l.telegram.telegram_id)
    } else {
        full.to_owned()
    }
}

/// The coach's invite link card (or a note that the bot username is not configured).
fn invite_card(out: &mut String, ctx: &Ctx, coach_telegram_id: i64) {
    let link = api::coach::coach_invite_link_for(
        ctx.state.settings().bot_username.as_deref(),
        coach_telegram_id,
    );
    let _ = write!(
        out,
        r#"<div class="card" id="invite"><h2>{}</h2>"#,
        esc(ctx.t(K::InviteLink))
    );
    match link {
        Some(link) => {
            let share = format!("https://t.me/share/url?url={}", url_encode(&link));
            let _ = write!(
                out,
                r#"<p class="hint">{}</p><p><code id="invite-link">{}</code></p><div class="row"><button class="btn" type="button" data-copy="{}" data-copied="{}">{}</button><button class="btn" type="button" data-tg-link="{}">{}</button></div>"#,
                esc(ctx.t(K::InviteLinkHint)),
                esc(&link),
                esc(&link),
                esc(ctx.t(K::LinkCopied)),
                esc(ctx.t(K::CopyLink)),
                esc(&share),
                esc(ctx.t(K::ShareLink)),
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<p class="hint">{}</p>"#,
                esc(ctx.t(K::InviteLinkMissing))
            );
        }
    }
    out.push_str("</div>");
}

/// Percent-encodes everything but the URL-safe unreserved characters.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// "Invited by <coach>" for a `coach_<id>` source tag, else "Source: <tag>"; nothing without
/// a tag.
async fn source_line(out: &mut String, ctx: &Ctx, l: &Lead) -> ApiResult<()> {
    let Some(tag) = l.telegram.source_tag.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(());
    };
    match coach::invited_by_coach(Some(tag)) {
        Some(coach_id) => {
            let name = match domain::ids::TelegramId::new(coach_id) {
                Ok(tg) => store::users::find_by_telegram_id(ctx.state.db(), tg)
                    .await?
                    .map(|a| {
                        let full = format!("{} {}", a.telegram.first_name, a.telegram.last_name);
                        let full = full.trim();
                        if !full.is_empty() {
                            full.to_owned()
                        } else if let Some(u) =
                            a.telegram.username.as_deref().filter(|u| !u.is_empty())
                        {
                            format!("@{u}")
                        } else {
                            format!("id {coach_id}")
                        }
                    }),
                Err(_) => None,
            }
            .unwrap_or_else(|| format!("id {coach_id}"));
            let _ = write!(
                out,
                r#"<p class="hint" id="lead-source" data-source="{}">{} {}</p>"#,
                esc(tag),
                esc(ctx.t(K::InvitedBy)),
                esc(&name)
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<p class="hint" id="lead-source" data-source="{}">{}: {}</p>"#,
                esc(tag),
                esc(ctx.t(K::SourceTag)),
                esc(tag)
            );
        }
    }
    Ok(())
}

fn tabs(out: &mut String, ctx: &Ctx, active: &str) {
    out.push_str(r#"<div class="seg" role="group">"#);
    for (id, href, k) in [
        ("home", "/app/coach", K::Coach),
        ("leads", "/app/coach/leads", K::Leads),
        ("clients", "/app/coach/clients", K::Clients),
        ("subs", "/app/coach/subscribers", K::Subscribers),
    ] {
        let _ = write!(
            out,
            r#"<a href="{href}" aria-pressed="{}">{}</a>"#,
            id == active,
            esc(ctx.t(k))
        );
    }
    out.push_str("</div>");
}

async fn ctx(state: AppState, user: CurrentUser, headers: &HeaderMap) -> ApiResult<Ctx> {
    Ctx::new(state, user, headers).await
}

fn page_req(q: &HashMap<String, String>) -> PageRequest {
    PageRequest {
        page: q
            .get("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1),
        page_size: 50,
        search: q
            .get("q")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
    }
}

fn lead_rows(out: &mut String, ctx: &Ctx, leads: &[Lead]) {
    out.push_str(r#"<ul class="list" id="lead-list">"#);
    for l in leads {
        let kind = if l.status == LeadStatus::Client {
            "client"
        } else {
            "lead"
        };
        let _ = write!(
            out,
            r#"<li><a class="row-btn" href="/app/coach/{kind}/{}"><span>{}</span><small>{} · <span class="badge st-{}">{}</span></small></a></li>"#,
            l.telegram.id,
            esc(&display_name(l)),
            esc(&l
                .telegram
                .username
                .as_deref()
                .map(|u| format!("@{u}"))
                .unwrap_or_default()),
            l.status.as_str(),
            esc(status_label(ctx, l.status)),
        );
    }
    out.push_str("</ul>");
}

/// `GET /app/f/coach`.
pub async fn home(
    State(state): State<AppState>,
    admin: AdminUser,
    user: CurrentUser,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let ctx = ctx(state, user, &headers).await?;
    let now = ctx.state.now();
    let db = ctx.state.db();
    let small = PageRequest {
        page: 1,
        page_size: 5,
        search: None,
    };
    let new_leads = coach::list_applications(db, &small, Some(LeadStatus::New), now).await?;
    let clients = coach::list_clients(db, &small, now).await?;
    let stats = coach::subscriber_stats(db, now).await?;
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "coach",
        title: ctx.t(K::Coach),
        back: None,
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    tabs(&mut out, &ctx, "home");
    let _ = write!(
        out,
        r#"<div class="card"><div class="kpis"><div><b id="new-leads">{}</b><small>{} · {}</small></div><div><b>{}</b><small>{}</small></div><div><b>{}</b><small>{}</small></div><div><b>{} ₽</b><small>{}</small></div></div></div><div class="card"><h2>{} · {}</h2>"#,
        new_leads.count,
        esc(ctx.t(K::Leads)),
        esc(ctx.t(K::StatusNew)),
        clients.count,
        esc(ctx.t(K::Clients)),
        stats.monthly + stats.yearly,
        esc(ctx.t(K::Subscribers)),
        stats.revenue_kopecks / 100,
        esc(ctx.t(K::Revenue)),
        esc(ctx.t(K::Leads)),
        esc(ctx.t(K::StatusNew)),
    );
    if new_leads.items.is_empty() {
        let _ = write!(out, r#"<p class="hint">{}</p>"#, esc(ctx.t(K::NoLeads)));
    } else {
        lead_rows(&mut out, &ctx, &new_leads.items);
    }
    out.push_str("</div>");
    invite_card(&mut out, &ctx, admin.0.get());
    out.push_str("</section>");
    nav(&mut out, ctx.l, "coach", true);
    Ok(fragment(out))
}

/// `GET /app/f/coach/leads?status=&q=&page=`.
pub async fn leads(
    State(state): State<AppState>,
    _admin: AdminUser,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = ctx(state, user, &headers).await?;
    let status = q.get("status").and_then(|s| s.parse::<LeadStatus>().ok());
    let req = page_req(&q);
    let page = coach::list_applications(ctx.state.db(), &req, status, ctx.state.now()).await?;
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "coach-leads",
        title: ctx.t(K::Leads),
        back: Some("/app/coach".to_owned()),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    tabs(&mut out, &ctx, "leads");
    let _ = write!(
        out,
        r#"<form class="inline" data-search="/app/coach/leads"><label class="field"><span class="sr">{}</span><input name="q" type="search" value="{}" placeholder="{}"></label><select name="status" aria-label="status"><option value="">{}</option>"#,
        esc(ctx.t(K::Search)),
        esc(req.search.as_deref().unwrap_or("")),
        esc(ctx.t(K::Search)),
        esc(ctx.t(K::All)),
    );
    for s in LeadStatus::ALL {
        let _ = write!(
            out,
            r#"<option value="{}"{}>{}</option>"#,
            s.as_str(),
            if Some(s) == status { " selected" } else { "" },
            esc(status_label(&ctx, s))
        );
    }
    let _ = write!(
        out,
        r#"</select><button class="btn" type="submit">{}</button></form><p class="hint">{}: {}</p>"#,
        esc(ctx.t(K::Search)),
        esc(ctx.t(K::Total)),
        page.count
    );
    if page.items.is_empty() {
        let _ = write!(out, r#"<p class="hint">{}</p>"#, esc(ctx.t(K::NoLeads)));
    } else {
        lead_rows(&mut out, &ctx, &page.items);
    }
    out.push_str("</section>");
    nav(&mut out, ctx.l, "coach", true);
    Ok(fragment(out))
}

/// `GET /app/f/coach/lead/{id}`.
pub async fn lead(
    State(state): State<AppState>,
    _admin: AdminUser,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ctx = ctx(state, user, &headers).await?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let l = coach::get_lead_or_client(ctx.state.db(), id, ctx.state.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let name = display_name(&l);
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "coach-lead",
        title: &name,
        back: Some("/app/coach/leads".to_owned()),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let _ = write!(
        out,
        r#"<div class="card"><p><span class="badge st-{}" id="lead-status">{}</span> · id {}</p>"#,
        l.status.as_str(),
        esc(status_label(&ctx, l.status)),
        l.telegram.telegram_id
    );
    source_line(&mut out, &ctx, &l).await?;
    if let Some(u) = l.telegram.username.as_deref().filter(|u| !u.is_empty()) {
        let _ = write!(
            out,
            r#"<button class="btn" type="button" data-tg-link="https://t.me/{}">{}</button>"#,
            esc(u),
            esc(ctx.t(K::OpenChat))
        );
    }
    out.push_str(r#"<div class="seg" role="group">"#);
    for s in [LeadStatus::New, LeadStatus::Viewed, LeadStatus::Contacted] {
        let body = serde_json::json!({"status": s.as_str()});
        let _ = write!(
            out,
            r#"<button type="button" data-api="PATCH /api/v1/telegram/applications/{}/status/" data-body="{}" aria-pressed="{}">{}</button>"#,
            l.telegram.id,
            esc(&body.to_string()),
            s == l.status,
            esc(status_label(&ctx, s))
        );
    }
    out.push_str("</div>");
    if l.status != LeadStatus::Client {
        let _ = write!(
            out,
            r#"<button class="btn primary" type="button" data-api="POST /api/v1/telegram/clients/{}/add/">{}</button>"#,
            l.telegram.id,
            esc(ctx.t(K::MakeClient))
        );
    }
    out.push_str("</div>");
    if let Some(s) = &l.survey {
        let _ = write!(
            out,
            r#"<div class="card" id="survey"><h2>{}</h2><dl class="dl"><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}{}</dd><dt>{}</dt><dd>{}</dd><dt>{}</dt><dd>{}</dd></dl></div>"#,
            esc(ctx.t(K::Survey)),
            esc(ctx.t(K::Gender)),
            esc(&s.gender),
            esc(ctx.t(K::Age)),
            s.age,
            esc(ctx.t(K::Height)),
            s.height_cm,
            esc(ctx.t(K::Weight)),
            int(s.weight_kg),
            s.target_weight_kg
                .map(|t| format!(" → {}", int(t)))
                .unwrap_or_default(),
            esc(ctx.t(K::Activity)),
            esc(&s.activity),
            esc(ctx.t(K::Timezone)),
            esc(&s.timezone),
        );
    }
    let _ = write!(
        out,
        r#"<button class="btn danger block" type="button" data-api="DELETE /api/v1/telegram/applications/{}/" data-confirm="{}?" data-then="/app/coach/leads">{}</button></section>"#,
        l.telegram.id,
        esc(ctx.t(K::Delete)),
        esc(ctx.t(K::Delete))
    );
    nav(&mut out, ctx.l, "coach", true);
    Ok(fragment(out))
}

/// `GET /app/f/coach/clients`.
pub async fn clients(
    State(state): State<AppState>,
    _admin: AdminUser,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = ctx(state, user, &headers).await?;
    let page = coach::list_clients(ctx.state.db(), &page_req(&q), ctx.state.now()).await?;
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "coach-clients",
        title: ctx.t(K::Clients),
        back: Some("/app/coach".to_owned()),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    tabs(&mut out, &ctx, "clients");
    if page.items.is_empty() {
        let _ = write!(out, r#"<p class="hint">{}</p>"#, esc(ctx.t(K::NoClients)));
    } else {
        lead_rows(&mut out, &ctx, &page.items);
    }
    out.push_str("</section>");
    nav(&mut out, ctx.l, "coach", true);
    Ok(fragment(out))
}

/// `GET /app/f/coach/subscribers`.
pub async fn subscribers(
    State(state): State<AppState>,
    _admin: AdminUser,
    user: CurrentUser,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = ctx(state, user, &headers).await?;
    let now = ctx.state.now();
    let stats = coach::subscriber_stats(ctx.state.db(), now).await?;
    let page = coach::list_subscribers(ctx.state.db(), &page_req(&q), now).await?;
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "coach-subs",
        title: ctx.t(K::Subscribers),
        back: Some("/app/coach".to_owned()),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    tabs(&mut out, &ctx, "subs");
    let _ = write!(
        out,
        r#"<div class="card"><div class="kpis"><div><b>{}</b><small>{}</small></div><div><b>{}</b><small>{}</small></div><div><b>{}</b><small>PRO</small></div><div><b>{} ₽</b><small>{}</small></div></div></div><ul class="list">"#,
        stats.total,
        esc(ctx.t(K::Total)),
        stats.free,
        esc(ctx.t(K::Free)),
        stats.monthly + stats.yearly,
        stats.revenue_kopecks / 100,
        esc(ctx.t(K::Revenue)),
    );
    for s in &page.items {
        let _ = write!(
            out,
            r#"<li class="row-btn"><span>{} {}</span><small>{} · {}{}</small></li>"#,
            esc(&s.telegram.first_name),
            esc(&s.telegram.last_name),
            s.subscription.plan.as_str(),
            s.subscription.state.as_str(),
            s.subscription
                .paid_until
                .map(|d| format!(" · {}", d.format("%d.%m.%Y")))
                .unwrap_or_default()
        );
    }
    out.push_str("</ul></section>");
    nav(&mut out, ctx.l, "coach", true);
    Ok(fragment(out))
}

/// `GET /app/f/coach/client/{id}?date=`: a client's last 7 days against their goal, and their
/// diary of `date` (default: the client's today in their time zone; never a later day).
pub async fn client(
    State(state): State<AppState>,
    _admin: AdminUser,
    user: CurrentUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let ctx = ctx(state, user, &headers).await?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let l = coach::get_lead_or_client(ctx.state.db(), id, ctx.state.now())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let uid = domain::ids::UserId(l.telegram.user_id);
    let today = store::diary::user_today(ctx.state.db().conn(), uid, ctx.state.now()).await?;
    let from = today - chrono::Days::new(6);
    let week = store::diary::range(ctx.state.db(), uid, from, today)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let date = crate::diary::parse_date(&q, "date")
        .filter(|d| *d <= today)
        .unwrap_or(today);
    let day = store::diary::day(ctx.state.db(), uid, date).await?;
    let name = display_name(&l);
    let mut out = String::with_capacity(4 * 1024);
    Screen {
        id: "coach-client",
        title: &name,
        back: Some("/app/coach/clients".to_owned()),
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let goal = week
        .goal
        .as_ref()
        .map(|g| format!("{} {}", g.calories, ctx.t(K::Kcal)))
        .unwrap_or_else(|| ctx.t(K::GoalsNotSet).to_owned());
    let _ = write!(
        out,
        r#"<div class="card"><div class="kpis"><div><b>{}</b><small>{}</small></div><div><b id="client-logged">{} / 7</b><small>{}</small></div><div><b>{}</b><small>{}</small></div><div><b>{}</b><small>{} {}</small></div></div></div><div class="card"><h2>{}</h2>{}</div>"#,
        esc(&goal),
        esc(ctx.t(K::Goal)),
        week.days_logged,
        esc(ctx.t(K::DaysLogged)),
        week.adherence_percent
            .map(|p| format!("{}%", p.tenths() / 10))
            .unwrap_or_else(|| "—".to_owned()),
        esc(ctx.t(K::Adherence)),
        int(week.average_per_logged_day.calories.to_f64()),
        esc(ctx.t(K::Average)),
        esc(ctx.t(K::Kcal)),
        esc(ctx.t(K::Calories)),
        crate::svg::calories_chart(
            &week
                .days
                .iter()
                .map(|d| crate::svg::DayPoint {
                    label: crate::i18n::weekday_short(ctx.l, chrono::Datelike::weekday(&d.date))
                        .to_owned(),
                    kcal: d.totals.calories.to_f64(),
                    protein: d.totals.protein.to_f64(),
                    fat: d.totals.fat.to_f64(),
                    carbs: d.totals.carbohydrates.to_f64(),
                })
                .collect::<Vec<_>>(),
            week.goal.as_ref().map(|g| f64::from(g.calories)),
            ctx.t(K::Calories),
        ),
    );
    client_day::render(&mut out, &ctx, l.telegram.id, &day, today);
    source_line(&mut out, &ctx, &l).await?;
    if let Some(u) = l.telegram.username.as_deref().filter(|u| !u.is_empty()) {
        let _ = write!(
            out,
            r#"<button class="btn" type="button" data-tg-link="https://t.me/{}">{}</button>"#,
            esc(u),
            esc(ctx.t(K::OpenChat))
        );
    }
    out.push_str("</section>");
    nav(&mut out, ctx.l, "coach", true);
    Ok(fragment(out))
}

//! The subscription screen: the current plan (rendered here), the plans from the billing API
//! (fetched by the script from `GET /api/v1/billing/plans/`), buying through YooKassa with
//! `Telegram.WebApp.openLink` and polling `GET /api/v1/billing/me/` until PRO shows.

use std::fmt::Write as _;

use api::auth::CurrentUser;
use api::{ApiResult, AppState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use store::coach::{self, PlanKind, SubscriptionInfo};

use crate::html::{Screen, esc, nav};
use crate::i18n::K;
use crate::{Ctx, fragment};

/// `GET /app/f/plan`.
pub async fn plan(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let ctx = Ctx::new(state, user, &headers).await?;
    let id = ctx.user.user_id().0;
    let subs =
        coach::subscriptions_for_users(ctx.state.db().conn(), &[id], ctx.state.now()).await?;
    let sub = subs.get(&id).copied().unwrap_or(SubscriptionInfo::FREE);
    // Billing configured with recurring charges on and no card saved yet: offer binding one.
    let mut can_bind = false;
    if let Some(b) = ctx
        .state
        .billing()
        .filter(|b| b.is_configured() && b.settings().recurring_enabled)
    {
        can_bind = billing::plans::subscription_view(b, id)
            .await
            .is_ok_and(|v| !v.card_bound());
    }
    let mut out = String::with_capacity(2 * 1024);
    Screen {
        id: "plan",
        title: ctx.t(K::Subscription),
        back: None,
        main: None,
        poll_ms: None,
    }
    .open(&mut out);
    let name = match sub.plan {
        PlanKind::Free => ctx.t(K::Free).to_owned(),
        PlanKind::Monthly | PlanKind::Yearly if sub.is_paid() => "PRO".to_owned(),
        _ => ctx.t(K::Free).to_owned(),
    };
    let _ = write!(
        out,
        r#"<div class="card"><h2>{}</h2><p id="current-plan" data-pro="{}"><b>{}</b>{}</p></div><div class="card" id="plans" data-plans="/api/v1/billing/plans/" data-buy-text="{}" data-unavailable="{}"><div class="loading" role="status"></div></div><div class="card" id="sub-extra" data-l-autorenew="{}" data-l-consent="{}" data-l-card="{}" data-l-nocard="{}" data-l-history="{}" data-l-nohistory="{}" data-l-st-succeeded="{}" data-l-st-pending="{}" data-l-st-canceled="{}" data-l-st-failed="{}" data-l-st-refunded="{}"></div>"#,
        esc(ctx.t(K::CurrentPlan)),
        sub.is_paid(),
        esc(&name),
        sub.paid_until
            .filter(|_| sub.is_paid())
            .map(|d| format!(" · {} {}", esc(ctx.t(K::ActiveUntil)), d.format("%d.%m.%Y")))
            .unwrap_or_default(),
        esc(ctx.t(K::Buy)),
        esc(ctx.t(K::PlansUnavailable)),
        esc(ctx.t(K::AutoRenew)),
        esc(ctx.t(K::AutoRenewConsent)),
        esc(ctx.t(K::Card)),
        esc(ctx.t(K::NoCard)),
        esc(ctx.t(K::PaymentHistory)),
        esc(ctx.t(K::NoPayments)),
        esc(ctx.t(K::PaySucceeded)),
        esc(ctx.t(K::PayPending)),
        esc(ctx.t(K::PayCanceled)),
        esc(ctx.t(K::PayFailed)),
        esc(ctx.t(K::PayRefunded)),
    );
    if can_bind {
        let _ = write!(
            out,
            r#"<div class="card"><button class="btn" type="button" id="bind-card" data-bind-card>{}</button></div>"#,
            esc(ctx.t(K::LinkCard))
        );
    }
    out.push_str("</section>");
    nav(&mut out, ctx.l, "plan", ctx.user.is_admin);
    Ok(fragment(out))
}

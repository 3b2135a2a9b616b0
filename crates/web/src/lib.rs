//! The Mini App (DESIGN.md §9): served under `/app` by the same binary.
//!
//! * `GET /app`, `/app/…` — the shell: a light document with the embedded assets. A browser
//!   navigation cannot carry `X-Telegram-Init-Data`, so it holds no user data.
//! * `GET /app/f/…` — server-rendered screens (HTML fragments) the script fetches with the
//!   initData header; authenticated exactly like the JSON API ([`api::auth::CurrentUser`]).
//!   Errors answer with the API's JSON envelope/contract; the script renders them with the
//!   request id.
//! * `GET /app/static/{name}` — embedded CSS/JS under content-hashed names, cached for a year.
//!
//! Writes go from the script to the JSON API (`/api/v1/…`). Every response of this router
//! carries a CSP that allows framing only by Telegram's web clients, `nosniff`, and no
//! third-party origin except `telegram.org` (for `telegram-web-app.js`).

#![forbid(unsafe_code)]

pub mod assets;
mod coach;
mod diary;
mod food;
pub mod html;
pub mod i18n;
mod plan;
mod profile;
mod stats;
pub mod svg;

use api::auth::CurrentUser;
use api::{ApiResult, AppState};
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use domain::error::Locale;

pub use diary::render_diary;

/// The Content-Security-Policy of every `/app` response.
pub const CSP: &str = "default-src 'self'; script-src 'self' https://telegram.org; \
style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; \
frame-ancestors https://web.telegram.org https://*.web.telegram.org https://telegram.org https://*.telegram.org";

/// The header the script sends with the user's chosen UI language (`ru`/`en`).
pub const LANG_HEADER: &str = "x-ui-lang";

/// What every screen needs: the user, their language and their calendar day.
pub struct Ctx {
    pub state: AppState,
    pub user: CurrentUser,
    pub l: Locale,
    pub today: NaiveDate,
}

impl Ctx {
    pub async fn new(state: AppState, user: CurrentUser, headers: &HeaderMap) -> ApiResult<Ctx> {
        let l = match headers.get(LANG_HEADER).and_then(|v| v.to_str().ok()) {
            Some(v) if !v.trim().is_empty() => Locale::from_tag(Some(v)),
            _ => user.locale,
        };
        let today =
            store::diary::user_today(state.db().conn(), user.user_id(), state.now()).await?;
        Ok(Ctx {
            state,
            user,
            l,
            today,
        })
    }

    pub fn t(&self, k: i18n::K) -> &'static str {
        k.text(self.l)
    }
}

/// A rendered fragment: never cached (it is one user's data).
pub fn fragment(body: String) -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(body),
    )
        .into_response()
}

async fn shell() -> Response {
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(assets::shell()),
    )
        .into_response()
}

async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

async fn unknown_fragment() -> api::ApiError {
    api::ApiError::not_found()
}

/// The Mini App router. It has no fallback of its own: merge it next to [`api::router`],
/// whose fallback answers everything else.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/app", get(shell))
        .route("/app/", get(shell))
        .route("/app/{*path}", get(shell))
        .route("/app/static/{name}", get(assets::serve))
        .route("/app/f/diary", get(diary::diary))
        .route("/app/f/add", get(food::add))
        .route("/app/f/meal/{id}", get(food::meal))
        .route("/app/f/profile", get(profile::profile))
        .route("/app/f/settings", get(profile::settings))
        .route(
            "/app/f/settings/reminders",
            axum::routing::put(profile::save_reminders),
        )
        .route("/app/f/stats", get(stats::stats))
        .route("/app/f/plan", get(plan::plan))
        .route("/app/f/coach", get(coach::home))
        .route("/app/f/coach/leads", get(coach::leads))
        .route("/app/f/coach/lead/{id}", get(coach::lead))
        .route("/app/f/coach/clients", get(coach::clients))
        .route("/app/f/coach/client/{id}", get(coach::client))
        .route("/app/f/coach/subscribers", get(coach::subscribers))
        .route("/app/f/{*rest}", get(unknown_fragment))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn(api::request_id::layer))
        .with_state(state)
}

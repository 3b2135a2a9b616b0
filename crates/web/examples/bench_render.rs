//! Prints (does not assert) the server time to render the diary of a user with 5 meals, the
//! same over HTTP (fragment request, initData verification included), and the total JS bytes.
//!
//! `cargo run --release -p web --example bench_render` (add `EATFIT_TEST_DATABASE_URL` for
//! PostgreSQL too)

use std::time::{Duration, Instant};

use api::auth::CurrentUser;
use domain::error::Locale;
use domain::ids::TelegramId;
use reqwest::Method;
use serde_json::json;
use testkit::app::TestApp;

const TG: i64 = 720_001;
const ROUNDS: u32 = 200;

fn per_round(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0 / f64::from(ROUNDS))
}

#[tokio::main]
async fn main() {
    // SQLite always; PostgreSQL too when EATFIT_TEST_DATABASE_URL is set.
    for app in TestApp::all().await {
        bench(app).await;
    }
    println!(
        "total JS sent to the browser: {} bytes (limit 51200)",
        web::assets::js_bytes()
    );
}

async fn bench(app: TestApp) {
    let today = app.clock_now().date_naive().format("%Y-%m-%d").to_string();
    for (i, t) in ["BREAKFAST", "LUNCH", "DINNER", "SNACK", "SNACK"]
        .iter()
        .enumerate()
    {
        let (s, meal) = app
            .send_json(
                Method::POST,
                TG,
                "/api/v1/meals/",
                Some(json!({"date": today, "meal_type": t})),
            )
            .await;
        assert!(s.is_success(), "{meal}");
        for j in 0..2 {
            let (s, v) = app
                .send_json(
                    Method::POST,
                    TG,
                    &format!("/api/v1/meals/{}/items/", meal["id"]),
                    Some(
                        json!({"name": format!("Блюдо {i}.{j}"), "grams": 150, "calories": 200 + i,
                                "protein": 12, "fat": 6, "carbohydrates": 20}),
                    ),
                )
                .await;
            assert!(s.is_success(), "{v}");
        }
    }
    let tg = TelegramId::new(TG).unwrap_or_else(|e| panic!("{e}"));
    let account = store::users::find_by_telegram_id(app.db(), tg)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no account"));
    let user = CurrentUser {
        account,
        telegram_id: tg,
        is_admin: false,
        locale: Locale::Ru,
        created: false,
    };
    let headers = axum::http::HeaderMap::new();
    let ctx = web::Ctx::new(app.state.clone(), user, &headers)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let date = ctx.today;
    let html = web::render_diary(&ctx, date, None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(html.matches("class=\"meal\"").count(), 5);

    let started = Instant::now();
    for _ in 0..ROUNDS {
        let _ = web::render_diary(&ctx, date, None).await;
    }
    let render = started.elapsed();

    let init = app.init_data(TG);
    let started = Instant::now();
    for _ in 0..ROUNDS {
        let r = app
            .client
            .get(app.url("/app/f/diary"))
            .header("X-Telegram-Init-Data", &init)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(r.status().is_success());
        let _ = r.bytes().await;
    }
    let http = started.elapsed();

    println!("diary with 5 meals, {:?}, {ROUNDS} rounds:", app.backend());
    println!("  render (queries + HTML): {} per diary", per_round(render));
    println!(
        "  GET /app/f/diary over HTTP (auth + render): {} per request",
        per_round(http)
    );
    println!("  HTML size: {} bytes", html.len());
    app.finish().await;
}

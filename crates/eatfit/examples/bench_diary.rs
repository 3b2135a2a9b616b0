//! Load generator for the diary screen: seeds one user with 5 meals × 4 items through the API,
//! then runs `GET /api/v1/meals/?date=` from N concurrent connections for D seconds and prints
//! requests per second and latency percentiles. Run by `scripts/bench diary` against a release
//! `eatfit serve`; it asserts nothing.
//!
//! usage: bench_diary <base-url> <bot-token> [connections=64] [seconds=10] [path]
//!
//! With `BENCH_SEED_ONLY=1` it seeds, then prints the URL and the initData on two lines and
//! exits, so that `scripts/bench` can drive the load from `wrk` (a C load generator that costs
//! the 2-core machine far less CPU than this one, leaving more of it to the server measured).

use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let base = args.get(1).cloned().ok_or("base url required")?;
    let token = args.get(2).cloned().ok_or("bot token required")?;
    let conns: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(64);
    let secs: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let user = r#"{"id":900001,"first_name":"Bench","language_code":"ru"}"#;
    let init = domain::init_data::sign(&[("user", user), ("auth_date", &now.to_string())], &token);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()?;
    let date = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Moscow)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();

    // Seed: 5 meals × 4 items.
    for (i, meal_type) in ["BREAKFAST", "LUNCH", "DINNER", "SNACK", "SNACK"]
        .iter()
        .enumerate()
    {
        let meal: serde_json::Value = client
            .post(format!("{base}/api/v1/meals/"))
            .header("X-Telegram-Init-Data", &init)
            .json(&serde_json::json!({"meal_type": meal_type, "date": date}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = meal["id"].as_i64().ok_or("no meal id")?;
        for j in 0..4 {
            client
                .post(format!("{base}/api/v1/meals/{id}/items/"))
                .header("X-Telegram-Init-Data", &init)
                .json(&serde_json::json!({
                    "name": format!("Блюдо {i}-{j}"), "grams": 150,
                    "calories": "195.50", "protein": "7.20", "fat": "3.10", "carbohydrates": "30.00"
                }))
                .send()
                .await?
                .error_for_status()?;
        }
    }
    // An optional fifth argument measures another path (e.g. /livez for the harness ceiling).
    let url = match args.get(5) {
        Some(path) => format!("{base}{path}"),
        None => format!("{base}/api/v1/meals/?date={date}"),
    };
    let check: serde_json::Value = client
        .get(&url)
        .header("X-Telegram-Init-Data", &init)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let meals = check["meals"].as_array().map(|m| m.len()).unwrap_or(0);
    if std::env::var_os("BENCH_SEED_ONLY").is_some() {
        println!("{url}\n{init}");
        return Ok(());
    }

    // Warm-up, then the measured run.
    let deadline = Instant::now() + Duration::from_secs(secs);
    let init = Arc::new(init);
    let url = Arc::new(url);
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, init, url) = (client.clone(), init.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                match client
                    .get(url.as_str())
                    .header("X-Telegram-Init-Data", init.as_str())
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await?;
        all.extend(lat);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "  diary ({meals} meals × 4 items), {conns} connections, {secs} s: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {errors}   (target ≥ 5000 req/s, p99 < 20 ms)",
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
    );
    Ok(())
}

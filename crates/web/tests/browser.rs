//! The Mini App in headless Chromium (Debian `chromium` + `chromium-driver`) against the real
//! router on port 0, with a stub `window.Telegram.WebApp` carrying initData signed by the test
//! bot token. Skips with a notice when chromedriver is not installed.
//!
//! Screenshots of every screen, light and dark, at 390×844 go to `target/screenshots/`.

#[path = "support/webdriver.rs"]
mod webdriver;

#[path = "support/mini_app.rs"]
mod mini_app;

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use mini_app::{EAST, Run, STUB, USER, jpeg, shots_dir, survey_lead};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::app::{ADMIN_TG_ID, BillingSetup, Options, TestApp, fake_recognizer};
use testkit::fake_llm::{Behavior, FakeLlm};
use testkit::fake_yookassa::FakeYooKassa;
use webdriver::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mini_app_flows_in_headless_chromium() {
    if !webdriver::available() {
        // CI installs the browser and sets this, so a missing browser fails there instead of
        // passing silently.
        assert!(
            std::env::var_os("EATFIT_REQUIRE_BROWSER").is_none(),
            "EATFIT_REQUIRE_BROWSER is set but {} / {} are not installed",
            webdriver::CHROMEDRIVER,
            webdriver::CHROMIUM
        );
        eprintln!(
            "SKIPPED: {} / {} not installed (apt-get install -y chromium chromium-driver)",
            webdriver::CHROMEDRIVER,
            webdriver::CHROMIUM
        );
        return;
    }
    let llm = FakeLlm::start().await;
    llm.set_default(Behavior::Success(FakeLlm::items(&[
        ("Омлет", 200.0, 308.0, 20.0, 24.0, 3.0),
        ("Тост", 40.0, 106.0, 3.5, 1.5, 19.5),
    ])));
    // 20:00 UTC: 23:00 in Moscow (10 March), 06:00 in Vladivostok (11 March).
    let yk = FakeYooKassa::start().await;
    let opts = Options {
        billing: Some(BillingSetup::with_fake(&yk)),
        now: Utc
            .with_ymd_and_hms(2026, 3, 10, 20, 0, 0)
            .single()
            .unwrap_or_default(),
        recognizer: Some(fake_recognizer(&llm)),
        ..Options::default()
    };
    let apps = TestApp::all_with(opts).await;
    for (i, app) in apps.into_iter().enumerate() {
        let app = Arc::new(app);
        let worker = {
            let app = app.clone();
            tokio::spawn(async move {
                loop {
                    app.run_jobs().await;
                    app.run_billing_jobs().await;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        };
        // The browser runs at UTC+10, so any date the browser computed itself would differ.
        let b = Browser::start("Asia/Vladivostok", 390, 844).await;
        b.block_urls(&["*telegram.org*"]).await;
        b.on_new_document(STUB).await;
        let run = Run {
            app: app.clone(),
            b,
            shots: (i == 0).then(shots_dir),
        };
        flows(&run, &llm, &yk).await;
        let Run { app: shared, b, .. } = run;
        drop(shared);
        b.quit().await;
        worker.abort();
        let _ = worker.await;
        match Arc::try_unwrap(app) {
            Ok(app) => app.finish().await,
            Err(_) => panic!("app still shared"),
        }
    }
}

async fn flows(r: &Run, llm: &FakeLlm, yk: &FakeYooKassa) {
    let today = "2026-03-10";
    // Outside Telegram: a clear gate, no data requests.
    r.b.goto(&r.app.url("/app/?notg=1")).await;
    r.b.wait(
        "document.querySelector('.gate')",
        "the open-in-Telegram page",
    )
    .await;
    r.shot("outside-telegram-light").await;

    // Diary, empty.
    r.open_as(USER, 0, false, "/").await;
    r.screen("diary").await;
    assert_eq!(
        r.b.js(
            "return document.querySelector('#day-caption').dataset.date",
            json!([])
        )
        .await,
        json!(today)
    );
    assert_eq!(r.diary_kcal().await, 0);
    assert_eq!(
        r.b.js(
            "return Telegram.WebApp.MainButton.visible && Telegram.WebApp.MainButton.text",
            json!([])
        )
        .await,
        json!("Добавить приём пищи")
    );
    r.shot("diary-empty-light").await;

    // Text logging → the day's totals update.
    r.b.js("Telegram.WebApp.MainButton.press();", json!([]))
        .await;
    r.screen("add").await;
    assert_eq!(
        r.b.js("return Telegram.WebApp.BackButton.visible", json!([]))
            .await,
        json!(true)
    );
    r.shot("add-food-light").await;
    llm.push(FakeLlm::text_reply(FakeLlm::items(&[(
        "Гречка",
        150.0,
        165.0,
        6.0,
        1.5,
        30.0,
    )])));
    r.b.type_into("#text-input", "150 г гречки").await;
    r.b.click("#text-submit").await;
    r.screen("diary").await;
    r.b.wait("document.querySelector('#meals')", "the logged meal")
        .await;
    let kcal = r.diary_kcal().await;
    assert!(kcal > 0, "totals did not update: {kcal}");
    assert_eq!(kcal as f64, r.api_total(USER, today).await.round());
    assert!(
        r.b.text("#meals").await.to_lowercase().contains("греч"),
        "{}",
        r.b.text("#meals").await
    );
    r.shot("diary-after-text-light").await;
    assert_eq!(
        r.b.js(
            "return Telegram.WebApp.__haptics.indexOf('success') >= 0",
            json!([])
        )
        .await,
        json!(true)
    );

    // Photo with the fake provider → the meal appears with its items.
    r.nav(&format!("/app/add?date={today}&meal_type=BREAKFAST"), "add")
        .await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let photo = dir.path().join("breakfast.jpg");
    std::fs::write(&photo, jpeg()).unwrap_or_else(|e| panic!("{e}"));
    r.b.upload("#photo-input", &photo).await;
    r.b.wait(
        "document.querySelectorAll('.photo-item').length === 1",
        "the photo preview",
    )
    .await;
    r.b.wait(
        "document.querySelector('#quota').textContent.indexOf('осталось 3 из 3') >= 0",
        "the free photo quota",
    )
    .await;
    r.b.type_into(".photo-item textarea", "омлет и тост").await;
    r.shot("add-photo-selected-light").await;
    r.b.click("#photo-send").await;
    r.b.wait(
        "document.querySelector('.photo-item[data-state=done]')",
        "the recognised photo",
    )
    .await;
    r.shot("add-photo-done-light").await;
    r.b.click("#photo-send").await;
    r.screen("diary").await;
    r.b.wait(
        "document.querySelectorAll('#meals .meal').length === 2 && document.querySelector('#meals').textContent.toLowerCase().indexOf('омлет') >= 0",
        "the photo meal with its items",
    )
    .await;
    assert_eq!(
        r.b.js(
            "return document.querySelectorAll('#meals img.thumb').length",
            json!([])
        )
        .await,
        json!(1)
    );
    r.shot("diary-after-photo-light").await;

    // Edit an item's grams → kcal changes.
    r.b.click("#meals .meal:last-child .meal-link").await;
    r.screen("meal").await;
    r.shot("meal-details-light").await;
    let before: i64 =
        r.b.text("#items .item .item-kcal b")
            .await
            .trim()
            .parse()
            .unwrap_or(-1);
    assert!(before > 0, "the buckwheat item has kcal");
    assert_eq!(
        r.b.js(
            "return document.querySelector('#items .item input[name=grams]').value",
            json!([])
        )
        .await,
        json!("150")
    );
    r.b.type_into("#items .item input[name=grams]", "300").await;
    r.b.click("#items .item button[type=submit]").await;
    r.b.wait(
        &format!(
            "document.querySelector('#items .item .item-kcal b').textContent.trim() !== '{before}'"
        ),
        "kcal rescaled with grams",
    )
    .await;
    let after: i64 =
        r.b.text("#items .item .item-kcal b")
            .await
            .trim()
            .parse()
            .unwrap_or(-1);
    assert!(
        (after - 2 * before).abs() <= 1,
        "150 g → 300 g: {before} → {after} kcal"
    );
    r.shot("meal-details-edited-light").await;

    // Yesterday and back.
    r.b.click(".tab-diary").await;
    r.screen("diary").await;
    let with_both = r.diary_kcal().await;
    assert_eq!(with_both as f64, r.api_total(USER, today).await.round());
    r.b.click("a.day[data-date='2026-03-09']").await;
    r.b.wait(
        "document.querySelector('#day-caption').dataset.date === '2026-03-09'",
        "yesterday",
    )
    .await;
    assert_eq!(r.diary_kcal().await, 0);
    assert!(
        r.b.js("return !document.querySelector('#meals')", json!([]))
            .await
            == json!(true)
    );
    r.b.click(".week-head a.pill").await;
    r.b.wait(
        "document.querySelector('#day-caption').dataset.date === '2026-03-10'",
        "back to today",
    )
    .await;
    assert_eq!(r.diary_kcal().await, with_both);

    // Goals by hand with kcal derived from the macros; an invalid profile value is refused with
    // the server's message.
    r.nav("/app/profile", "profile").await;
    r.b.type_into("#goals input[name=protein]", "120").await;
    r.b.type_into("#goals input[name=fat]", "60").await;
    r.b.type_into("#goals input[name=carbohydrates]", "200")
        .await;
    r.b.click("#goals button[type=submit]").await;
    r.b.wait(
        "document.querySelector('#goals input[name=calories]').value === '1820'",
        "the saved goal with derived kcal",
    )
    .await;
    let (_, goal) = r
        .app
        .send_json(Method::GET, USER, "/api/v1/goals/", None)
        .await;
    assert_eq!(goal["goal"]["calories"], json!(1820), "{goal}");
    r.b.js(
        "var h = document.querySelector('#profile-form input[name=height]'); h.removeAttribute('min'); h.value = '10';",
        json!([]),
    )
    .await;
    r.b.click("#profile-save").await;
    r.b.wait(
        "!document.getElementById('toast').hidden && document.getElementById('toast').className === 'error' && document.getElementById('toast').textContent.indexOf('Рост, см: ') >= 0",
        "the refused height",
    )
    .await;
    r.shot("profile-invalid-light").await;

    // A photo the provider rejects: the server's title and message with a retry, which then
    // succeeds.
    llm.push(Behavior::NotFood);
    r.nav(&format!("/app/add?date={today}&meal_type=DINNER"), "add")
        .await;
    r.b.upload("#photo-input", &photo).await;
    r.b.wait(
        "document.querySelectorAll('.photo-item').length === 1",
        "the photo preview",
    )
    .await;
    r.b.click("#photo-send").await;
    r.b.wait(
        "document.querySelector('.photo-item[data-state=failed] .error-state h2')",
        "the recognition error",
    )
    .await;
    let title = r.b.text(".photo-item .error-state h2").await;
    assert!(
        !title.trim().is_empty() && !title.contains("Не удалось загрузить"),
        "{title}"
    );
    assert!(
        r.b.text(".photo-item .error-state .rid")
            .await
            .contains("Код запроса")
    );
    assert_eq!(
        r.b.js(
            "return Telegram.WebApp.__haptics.indexOf('error') >= 0",
            json!([])
        )
        .await,
        json!(true)
    );
    r.b.js(
        "document.querySelector('.photo-item').scrollIntoView({block: 'center'});",
        json!([]),
    )
    .await;
    r.shot("add-photo-failed-light").await;
    r.b.click(".photo-item [data-ph=retry]").await;
    r.b.wait(
        "document.querySelector('.photo-item[data-state=done]')",
        "the retried photo recognised",
    )
    .await;
    assert_eq!(
        r.b.js("return Telegram.WebApp.__closing", json!([])).await,
        json!(false),
        "closing confirmation is off once uploads end"
    );

    // Every screen, light then dark (themeChanged from Telegram).
    for dark in [false, true] {
        let theme = if dark { "dark" } else { "light" };
        if dark {
            r.b.js(
                "var c = JSON.parse(localStorage.getItem('__tg')); c.dark = true; localStorage.setItem('__tg', JSON.stringify(c)); Telegram.WebApp.__setTheme(true);",
                json!([]),
            )
            .await;
            assert_eq!(
                r.b.js("return document.documentElement.dataset.theme", json!([]))
                    .await,
                json!("dark")
            );
        }
        for (path, id, name) in [
            ("/app/diary", "diary", "diary"),
            (
                "/app/diary?date=2026-03-10&month=2026-03",
                "diary",
                "diary-month-picker",
            ),
            ("/app/add", "add", "add-food"),
            ("/app/stats", "stats", "stats-week"),
            ("/app/stats?period=month", "stats", "stats-month"),
            ("/app/profile", "profile", "profile"),
            ("/app/settings", "settings", "settings"),
            ("/app/plan", "plan", "subscription"),
        ] {
            r.nav(path, id).await;
            r.shot(&format!("{name}-{theme}")).await;
        }
        r.nav("/app/diary", "diary").await;
        r.b.click("#meals .meal:first-child .meal-link").await;
        r.screen("meal").await;
        r.shot(&format!("meal-details-{theme}")).await;
    }

    // A 360 px wide phone: nothing scrolls sideways on any client screen.
    r.b.viewport(360, 740).await;
    for (path, id) in [
        ("/app/diary", "diary"),
        ("/app/add", "add"),
        ("/app/stats?period=month", "stats"),
        ("/app/profile", "profile"),
        ("/app/settings", "settings"),
        ("/app/plan", "plan"),
    ] {
        r.nav(path, id).await;
        assert_eq!(
            r.b.js(
                "return document.documentElement.scrollWidth <= 360",
                json!([])
            )
            .await,
            json!(true),
            "{path} overflows 360 px"
        );
    }
    r.nav("/app/diary", "diary").await;
    r.shot("diary-360px-dark").await;
    r.b.viewport(390, 844).await;

    // A user at UTC+10 picking a date in the month picker gets that date.
    let (s, v) = r
        .app
        .send_json(
            Method::PATCH,
            EAST,
            "/api/v1/users/profile/",
            Some(json!({"timezone": "Asia/Vladivostok"})),
        )
        .await;
    assert!(s.is_success(), "{v}");
    r.open_as(EAST, 0, false, "/").await;
    r.screen("diary").await;
    assert_eq!(
        r.b.js(
            "return document.querySelector('#day-caption').dataset.date",
            json!([])
        )
        .await,
        json!("2026-03-11"),
        "the user's today at UTC+10"
    );
    r.b.click("#open-month").await;
    r.b.wait(
        "document.querySelector('#month-picker')",
        "the month picker",
    )
    .await;
    r.shot("month-picker-utc10-light").await;
    r.b.click("#month-picker a.day[data-date='2026-03-05']")
        .await;
    r.b.wait(
        "document.querySelector('#day-caption').dataset.date === '2026-03-05' && !document.querySelector('#month-picker')",
        "the picked date",
    )
    .await;
    assert!(r.b.text("#day-caption").await.contains("5 марта"));

    // An admin opens the coach panel and sees the lead from the survey.
    survey_lead(&r.app).await;
    r.open_as(ADMIN_TG_ID, 0, false, "/coach").await;
    r.screen("coach").await;
    assert!(
        r.b.text("#lead-list").await.contains("Лида"),
        "{}",
        r.b.text("#screen").await
    );
    r.shot("coach-home-light").await;
    r.b.click("#lead-list a").await;
    r.screen("coach-lead").await;
    assert!(r.b.text("#survey").await.contains("168"));
    r.b.click("button[data-body*=contacted]").await;
    r.b.wait(
        "document.querySelector('#lead-status').classList.contains('st-contacted')",
        "the lead moved to contacted",
    )
    .await;
    r.shot("coach-lead-light").await;
    r.b.click("button[data-api*='/clients/']").await;
    r.b.wait(
        "document.querySelector('#lead-status').classList.contains('st-client')",
        "the lead became a client",
    )
    .await;
    r.nav("/app/coach/clients", "coach-clients").await;
    r.shot("coach-clients-light").await;
    r.b.click("#lead-list a").await;
    r.screen("coach-client").await;
    assert_eq!(r.b.text("#client-logged").await, "0 / 7");
    r.shot("coach-client-light").await;
    r.nav("/app/coach/leads", "coach-leads").await;
    r.shot("coach-leads-light").await;
    r.nav("/app/coach/subscribers", "coach-subs").await;
    r.shot("coach-subscribers-light").await;

    // The coach panel in the dark theme.
    r.open_as(ADMIN_TG_ID, 0, true, "/coach").await;
    r.screen("coach").await;
    r.shot("coach-home-dark").await;
    r.nav("/app/coach/leads", "coach-leads").await;
    r.shot("coach-leads-dark").await;
    let row =
        r.b.js(
            "return document.querySelector('#lead-list a').getAttribute('href').split('/').pop()",
            json!([]),
        )
        .await;
    let row = row.as_str().unwrap_or_default().to_owned();
    r.nav(&format!("/app/coach/lead/{row}"), "coach-lead").await;
    r.shot("coach-lead-dark").await;
    r.nav(&format!("/app/coach/client/{row}"), "coach-client")
        .await;
    r.shot("coach-client-dark").await;
    r.nav("/app/coach/clients", "coach-clients").await;
    r.shot("coach-clients-dark").await;
    r.nav("/app/coach/subscribers", "coach-subs").await;
    r.shot("coach-subscribers-dark").await;

    // Paywall: plans from the server, buy → YooKassa page through openLink, the webhook is
    // delivered, and the screen shows PRO without a relaunch.
    r.open_as(USER, 0, false, "/plan").await;
    r.screen("plan").await;
    r.b.wait(
        "document.querySelector('[data-buy=PRO_MONTHLY]')",
        "the plans",
    )
    .await;
    assert_eq!(
        r.b.js(
            "return document.querySelector('#current-plan').dataset.pro",
            json!([])
        )
        .await,
        json!("false")
    );
    r.shot("subscription-plans-light").await;
    r.b.click("[data-buy=PRO_MONTHLY]").await;
    r.b.wait(
        "Telegram.WebApp.__links.length === 1",
        "openLink of the payment page",
    )
    .await;
    let url =
        r.b.js("return Telegram.WebApp.__links[0]", json!([]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned();
    assert!(url.starts_with("https://yoomoney.ru/"), "{url}");
    let id = url.split("orderId=").nth(1).unwrap_or_default().to_owned();
    yk.succeed(&id);
    let (s, body) = yk
        .notify(
            &r.app.url("/api/v1/billing/webhooks/yookassa"),
            "payment.succeeded",
            &id,
        )
        .await;
    assert_eq!(s, 200, "{body}");
    r.b.wait(
        "document.querySelector('#current-plan[data-pro=true]')",
        "PRO shown after the payment",
    )
    .await;
    r.b.wait(
        "document.querySelector('[data-buy]')",
        "the plans after the reload",
    )
    .await;
    r.b.wait("document.querySelector('#payments')", "the payment history")
        .await;
    assert!(
        r.b.text("#payments").await.contains("Оплачен"),
        "{}",
        r.b.text("#payments").await
    );
    r.shot("subscription-pro-light").await;

    // A non-admin gets an error state with the request id, not an empty panel.
    r.open_as(USER, 0, false, "/coach").await;
    r.b.wait(
        "document.querySelector('.error-state .rid')",
        "the forbidden state",
    )
    .await;
    r.shot("coach-forbidden-light").await;

    // Expired initData: "session expired, reopen".
    r.open_as(USER, 25 * 3600, false, "/").await;
    r.b.wait(
        "document.querySelector('#expired')",
        "the session-expired state",
    )
    .await;
    r.shot("session-expired-light").await;
    r.open_as(USER, 25 * 3600, true, "/").await;
    r.b.wait(
        "document.querySelector('#expired')",
        "the session-expired state",
    )
    .await;
    r.shot("session-expired-dark").await;

    // Outside Telegram with a dark system theme.
    r.b.cdp(
        "Emulation.setEmulatedMedia",
        json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]}),
    )
    .await;
    r.b.goto(&r.app.url("/app/?notg=1")).await;
    r.b.wait(
        "document.querySelector('.gate') && document.documentElement.dataset.theme === 'dark'",
        "the dark open-in-Telegram page",
    )
    .await;
    r.shot("outside-telegram-dark").await;
    r.b.cdp("Emulation.setEmulatedMedia", json!({"features": []}))
        .await;
    let _: Value = r.b.js("return 1", json!([])).await;
}

//! Billing: buying a plan end to end against the fake YooKassa, idempotency, what may be
//! bought, consent, the status endpoints.

mod billing_support;

use billing_support::*;
use chrono::Duration;
use reqwest::Method;
use serde_json::json;
use testkit::TestApp;
use testkit::app::{BillingSetup, Options};
use testkit::fake_yookassa::FakeYooKassa;

#[tokio::test]
async fn purchase_activates_pro_for_30_days_and_a_second_delivery_changes_nothing() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 71_001;
        let before = me(&app, tg).await;
        assert_eq!(before["plan_code"], "FREE");
        assert_eq!(before["daily_photo_limit"], 3);
        assert_eq!(before["expires_at"], serde_json::Value::Null);

        let (s, v) = buy(&app, tg, "PRO_MONTHLY").await;
        assert_eq!(s, 201, "{v}");
        let id = provider_id(&v);
        assert!(
            v["confirmation_url"]
                .as_str()
                .unwrap_or_default()
                .starts_with("https://yoomoney.ru/")
        );
        // Not paid yet: still FREE.
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");

        yk.succeed(&id);
        assert_eq!(deliver(&app, &yk, "payment.succeeded", &id).await, 200);
        let after = me(&app, tg).await;
        assert_eq!(after["plan_code"], "PRO_MONTHLY", "{after}");
        assert_eq!(after["daily_photo_limit"], serde_json::Value::Null);
        let sub = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no subscription"));
        assert_eq!(sub.end_date, app.clock_now() + Duration::days(30));
        assert_eq!(
            after["expires_at"],
            api::views::datetime(app.clock_now() + Duration::days(30))
        );
        assert_eq!(outbox(&app, "billing.payment_succeeded").await.len(), 1);
        assert_eq!(outbox(&app, "billing.new_pro").await.len(), 1);

        // The same notification again: 200, counted, nothing changes.
        assert_eq!(deliver(&app, &yk, "payment.succeeded", &id).await, 200);
        let again = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no subscription"));
        assert_eq!(again.end_date, sub.end_date);
        assert_eq!(outbox(&app, "billing.payment_succeeded").await.len(), 1);
        let events = webhook_events(&app).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].deliveries, 2);
        assert_eq!(events[0].status, "processed");
        assert_eq!(events[0].verdict.as_deref(), Some("activated"));

        let hist = get(&app, tg, "/api/v1/billing/payments/").await;
        assert_eq!(hist["results"][0]["status"], "succeeded");
        assert_eq!(hist["results"][0]["amount"], "299.00");
        app.finish().await;
    }
}

#[tokio::test]
async fn the_webhook_answers_with_and_without_the_trailing_slash() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let (_, v) = buy(&app, 71_002, "PRO_YEARLY").await;
        let id = provider_id(&v);
        yk.succeed(&id);
        let (s, body) = yk
            .notify(&app.url(&format!("{WEBHOOK}/")), "payment.succeeded", &id)
            .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body, json!({"status": "ok"}));
        app.run_billing_jobs().await;
        assert_eq!(me(&app, 71_002).await["plan_code"], "PRO_YEARLY");
        app.finish().await;
    }
}

#[tokio::test]
async fn plans_list_public_plans_with_seed_prices() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let r = app
            .client
            .get(app.url("/api/v1/billing/plans/"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        let codes: Vec<&str> = v
            .as_array()
            .map(|a| a.iter().filter_map(|p| p["code"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(codes, ["FREE", "PRO_MONTHLY", "PRO_YEARLY"]);
        assert_eq!(v[2]["price"], "2990.00");
        assert_eq!(v[2]["old_price"], 4990);
        assert_eq!(v[1]["price"], "299.00");
        assert_eq!(v[0]["daily_photo_limit"], 3);
        app.finish().await;
    }
}

#[tokio::test]
async fn b2_test_live_plan_and_free_cannot_be_bought_publicly() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        for code in ["TEST_LIVE", "FREE", "GOLD"] {
            let (s, v) = buy(&app, 71_003, code).await;
            assert_eq!(s, 400, "{code}: {v}");
            assert_eq!(v["error"]["code"], "INVALID_PLAN");
        }
        let (s, v) = app
            .send_json(
                Method::POST,
                71_003,
                "/api/v1/billing/create-payment/",
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 400);
        assert_eq!(v["error"]["code"], "MISSING_PLAN_CODE");
        // Legacy names still buy the PRO plans.
        let (s, _) = buy(&app, 71_003, "MONTHLY").await;
        assert_eq!(s, 201);
        assert!(yk.created_count() > 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn b9_create_payment_is_idempotent_by_key_and_by_open_payment() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 71_004;
        let send = |key: &'static str, plan: &'static str| {
            app.request_as(Method::POST, tg, "/api/v1/billing/create-payment/")
                .header("Idempotency-Key", key)
                .json(&json!({"plan_code": plan}))
                .send()
        };
        let a = send("k-1", "PRO_MONTHLY")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.status(), 201);
        let a: serde_json::Value = a.json().await.unwrap_or_default();
        let b = send("k-1", "PRO_MONTHLY")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.status(), 200);
        let b: serde_json::Value = b.json().await.unwrap_or_default();
        assert_eq!(a["payment_id"], b["payment_id"]);
        assert_eq!(a["confirmation_url"], b["confirmation_url"]);
        let c = send("k-1", "PRO_YEARLY")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.status(), 409);

        // Without a key: the open pending payment of the same plan is reused for 10 minutes.
        let tg2 = 71_005;
        let (s1, v1) = buy(&app, tg2, "PRO_MONTHLY").await;
        let (s2, v2) = buy(&app, tg2, "PRO_MONTHLY").await;
        assert_eq!((s1, s2), (201, 200));
        assert_eq!(v1["payment_id"], v2["payment_id"]);
        app.clock.advance(Duration::minutes(11));
        let (s3, v3) = buy(&app, tg2, "PRO_MONTHLY").await;
        assert_eq!(s3, 201);
        assert_ne!(v1["payment_id"], v3["payment_id"]);

        // The key YooKassa got is the one stored on the row before the call (B18).
        let rows = billing::payments::history(&app.billing, user_id(&app, tg2).await, 10)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        for r in &rows {
            assert!(
                yk.requests()
                    .iter()
                    .any(|q| q.idempotence_key == r.idempotency_key),
                "{}",
                r.idempotency_key
            );
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn b14_a_purchase_without_explicit_consent_never_turns_auto_renew_on() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let id = buy_and_pay(&app, &yk, 71_006, "PRO_MONTHLY", false).await;
        let s = subscription(&app, 71_006)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert!(!s.auto_renew);
        assert!(s.payment_method_id.is_none());
        assert!(s.next_renewal_at.is_none());
        assert!(
            yk.requests()
                .iter()
                .filter(|r| r.payment_id == id)
                .all(|r| r.body.get("save_payment_method").is_none())
        );

        buy_and_pay(&app, &yk, 71_007, "PRO_MONTHLY", true).await;
        let s = subscription(&app, 71_007)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert!(s.auto_renew);
        assert_eq!(s.auto_renew_consent_at, Some(app.clock_now()));
        assert_eq!(s.card_mask.as_deref(), Some("•••• 4444"));
        assert_eq!(s.next_renewal_at, Some(s.end_date - Duration::hours(24)));
        let card = get(&app, 71_007, "/api/v1/billing/subscription/").await;
        assert_eq!(card["plan"], "pro");
        assert_eq!(card["autorenew_enabled"], true);
        assert_eq!(card["autorenew_available"], true);
        app.finish().await;
    }
}

#[tokio::test]
async fn b10_the_bought_plan_snapshots_its_price_for_renewals() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        buy_and_pay(&app, &yk, 71_008, "PRO_MONTHLY", true).await;
        // An operator raises the price afterwards: the renewal terms keep what was bought.
        billing::plans::set_price(
            &app.billing,
            billing::PlanCode::ProMonthly,
            billing::Kopecks(49_900),
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let s = subscription(&app, 71_008)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(s.renewal_price_kopecks, Some(29_900));
        assert_eq!(s.renewal_duration_days, Some(30));
        // Buying YEARLY on top of an active MONTHLY keeps the days and switches the terms.
        buy_and_pay(&app, &yk, 71_008, "PRO_YEARLY", false).await;
        let s2 = subscription(&app, 71_008)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(s2.end_date, s.end_date + Duration::days(365));
        assert_eq!(s2.renewal_price_kopecks, Some(299_000));
        assert_eq!(me(&app, 71_008).await["plan_code"], "PRO_YEARLY");
        app.finish().await;
    }
}

#[tokio::test]
async fn b11_grant_and_downgrade_apply_at_once() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 71_009;
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");
        let g = billing::admin::grant_pro(&app.billing, tg, billing::PlanCode::ProYearly)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(g.end_date, app.clock_now() + Duration::days(365));
        assert_eq!(me(&app, tg).await["plan_code"], "PRO_YEARLY");
        assert_eq!(outbox(&app, "billing.pro_gifted").await.len(), 1);
        let limit = recognition::daily_photo_limit(
            app.db(),
            domain::ids::UserId(user_id(&app, tg).await),
            app.clock_now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(limit, None);
        assert!(
            billing::admin::downgrade(&app.billing, tg)
                .await
                .unwrap_or(false)
        );
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");
        app.finish().await;
    }
}

#[tokio::test]
async fn b15_autorenew_errors_use_the_general_envelope_and_respect_the_switch() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 71_010;
        let post = |body: serde_json::Value| {
            app.send_json(
                Method::POST,
                tg,
                "/api/v1/billing/subscription/autorenew/",
                Some(body),
            )
        };
        let (s, v) = post(json!({})).await;
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (400, Some("VALIDATION_ERROR"))
        );
        let (s, v) = post(json!({"enabled": true})).await;
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (404, Some("NO_SUBSCRIPTION"))
        );
        buy_and_pay(&app, &yk, tg, "PRO_MONTHLY", false).await;
        let (s, v) = post(json!({"enabled": true})).await;
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (400, Some("PAYMENT_METHOD_REQUIRED"))
        );
        assert!(v["error"]["details"].is_object());
        app.finish().await;
    }
    // Recurring off: 409 in the same envelope, and the card screen does not offer the toggle.
    let mut setup = BillingSetup::with_fake(&yk);
    setup.settings.recurring_enabled = false;
    for app in apps_with(setup).await {
        let (s, v) = app
            .send_json(
                Method::POST,
                71_011,
                "/api/v1/billing/subscription/autorenew/",
                Some(json!({"enabled": true})),
            )
            .await;
        assert_eq!(s, 409);
        assert_eq!(v["error"]["code"], "RECURRING_DISABLED");
        let (s, v) = app
            .send_json(
                Method::POST,
                71_011,
                "/api/v1/billing/bind-card/start/",
                Some(json!({})),
            )
            .await;
        assert_eq!(
            (s.as_u16(), v["error"]["code"].as_str()),
            (409, Some("RECURRING_DISABLED"))
        );
        let card = get(&app, 71_011, "/api/v1/billing/subscription/").await;
        assert_eq!(card["autorenew_available"], false);
        app.finish().await;
    }
}

#[tokio::test]
async fn b16_receipts_are_sent_when_configured() {
    let yk = FakeYooKassa::start().await;
    let mut setup = BillingSetup::with_fake(&yk);
    setup.settings.receipts = Some(billing::ReceiptSettings {
        vat_code: 1,
        fallback_email: Some("receipts@eatfit24.ru".into()),
    });
    for app in apps_with(setup).await {
        let (s, v) = buy(&app, 71_012, "PRO_YEARLY").await;
        assert_eq!(s, 201, "{v}");
        let id = provider_id(&v);
        let req = yk
            .requests()
            .into_iter()
            .find(|r| r.payment_id == id)
            .unwrap_or_else(|| panic!("no request"));
        assert_eq!(
            req.body["receipt"]["customer"]["email"],
            "receipts@eatfit24.ru"
        );
        assert_eq!(
            req.body["receipt"]["items"][0]["amount"]["value"],
            "2990.00"
        );
        assert_eq!(req.body["receipt"]["items"][0]["vat_code"], 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn b3_the_admin_live_test_never_changes_the_admins_subscription() {
    let yk = FakeYooKassa::start().await;
    yk.set_test_flag(false);
    let mut setup = BillingSetup::with_fake(&yk);
    setup.settings.prod_mode = true;
    for app in apps_with(setup).await {
        let admin = testkit::app::ADMIN_TG_ID;
        billing::admin::grant_pro(&app.billing, admin, billing::PlanCode::ProYearly)
            .await
            .err();
        // The admin needs an account first.
        me(&app, admin).await;
        billing::admin::grant_pro(&app.billing, admin, billing::PlanCode::ProYearly)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let before = subscription(&app, admin)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(me(&app, admin).await["test_live_payment_available"], true);
        // Not for regular users.
        let (s, _) = app
            .send_json(
                Method::POST,
                71_013,
                "/api/v1/billing/create-test-live-payment/",
                None,
            )
            .await;
        assert_eq!(s, 403);
        let (s, v) = app
            .send_json(
                Method::POST,
                admin,
                "/api/v1/billing/create-test-live-payment/",
                None,
            )
            .await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["amount"], "1.00");
        assert_eq!(v["test_mode"], true);
        let id = provider_id(&v);
        yk.succeed(&id);
        deliver(&app, &yk, "payment.succeeded", &id).await;
        let after = subscription(&app, admin)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(after.plan_id, before.plan_id);
        assert_eq!(after.end_date, before.end_date);
        assert_eq!(me(&app, admin).await["plan_code"], "PRO_YEARLY");
        assert_eq!(outbox(&app, "billing.admin_test").await.len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn b1_card_binding_saves_the_card_without_touching_the_subscription() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 71_014;
        let (s, v) = app
            .send_json(
                Method::POST,
                tg,
                "/api/v1/billing/bind-card/start/",
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let pid = v["payment_id"].as_str().unwrap_or_default().to_string();
        let row = billing::payments::history(&app.billing, user_id(&app, tg).await, 1)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .remove(0);
        assert_eq!(row.id, pid);
        assert_eq!(row.purpose, "card_binding");
        assert_eq!(row.amount_kopecks, 100);
        let provider = row.provider_payment_id.clone().unwrap_or_default();
        yk.succeed(&provider);
        deliver(&app, &yk, "payment.succeeded", &provider).await;
        let m = me(&app, tg).await;
        assert_eq!(m["plan_code"], "FREE");
        let pm = get(&app, tg, "/api/v1/billing/payment-method/").await;
        assert_eq!(pm["is_attached"], true);
        assert_eq!(pm["card_mask"], "•••• 4444");
        assert_eq!(pm["card_brand"], "MasterCard");
        let ev = webhook_events(&app).await;
        assert_eq!(ev[0].verdict.as_deref(), Some("card_saved"));
        app.finish().await;
    }
}

#[tokio::test]
async fn without_yookassa_payments_answer_503_and_reads_still_work() {
    for app in TestApp::all_with(Options::default()).await {
        let (s, v) = buy(&app, 71_015, "PRO_MONTHLY").await;
        assert_eq!(s, 503, "{v}");
        assert_eq!(v["error"]["code"], "BILLING_NOT_CONFIGURED");
        assert_eq!(me(&app, 71_015).await["plan_code"], "FREE");
        let r = app
            .client
            .post(app.url(WEBHOOK))
            .header("X-Forwarded-For", "185.71.76.10")
            .json(&json!({"event": "payment.succeeded", "object": {"id": "x"}}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        // The default allowlist has no loopback: refused before anything else.
        assert_eq!(r.status(), 403);
        app.finish().await;
    }
}

#[tokio::test]
async fn polling_me_and_subscription_share_a_throttle_of_120_a_minute() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 71_016;
        for i in 0..120 {
            let path = if i % 2 == 0 {
                "/api/v1/billing/me/"
            } else {
                "/api/v1/billing/subscription/"
            };
            let (s, _) = app.send_json(Method::GET, tg, path, None).await;
            assert_eq!(s, 200, "poll {i}");
        }
        let r = app
            .get_as(tg, "/api/v1/billing/me/")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 429);
        assert!(r.headers().contains_key("retry-after"));
        let v: serde_json::Value = r.json().await.unwrap_or_default();
        assert_eq!(v["error_code"], "RATE_LIMIT");
        // Another user is not affected; the next minute starts afresh.
        assert_eq!(me(&app, 71_017).await["plan_code"], "FREE");
        app.clock.advance(Duration::minutes(1));
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");
        app.finish().await;
    }
}

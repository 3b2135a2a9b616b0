//! Billing: renewals (exactly once across workers), dunning, expiry, quotas, digest, coach
//! stats.

mod billing_support;

use billing_support::*;
use chrono::Duration;
use testkit::TestApp;
use testkit::fake_yookassa::FakeYooKassa;

/// Buys PRO_MONTHLY with consent for `tg`; returns the subscription end.
async fn subscribed(app: &TestApp, yk: &FakeYooKassa, tg: i64) -> chrono::DateTime<chrono::Utc> {
    buy_and_pay(app, yk, tg, "PRO_MONTHLY", true).await;
    let s = subscription(app, tg)
        .await
        .unwrap_or_else(|| panic!("no sub"));
    assert!(s.auto_renew && s.payment_method_id.is_some());
    s.end_date
}

async fn renew(app: &TestApp) -> billing::renewals::RenewalRun {
    billing::renewals::run_renewals(&app.billing)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_due_renewal_charges_the_saved_card_and_extends_the_period() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 73_001;
        let end = subscribed(&app, &yk, tg).await;
        // Not due yet.
        assert_eq!(renew(&app).await.claimed, 0);
        app.clock.set(end - Duration::hours(23));
        let run = renew(&app).await;
        assert_eq!((run.claimed, run.charged), (1, 1), "{run:?}");
        let s = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(s.end_date, end + Duration::days(30));
        assert_eq!(s.next_renewal_at, Some(s.end_date - Duration::hours(24)));
        let hist = get(&app, tg, "/api/v1/billing/payments/").await;
        assert_eq!(hist["results"][0]["purpose"], "renewal");
        assert_eq!(hist["results"][0]["status"], "succeeded");
        assert_eq!(outbox(&app, "billing.new_pro").await.len(), 2);
        // The same period is never charged twice.
        assert_eq!(renew(&app).await.claimed, 0);
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn b13_two_renewal_workers_charge_exactly_once() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let users: Vec<i64> = (0..6).map(|i| 73_100 + i).collect();
        let mut end = app.clock_now();
        for tg in &users {
            end = subscribed(&app, &yk, *tg).await;
        }
        app.clock.set(end - Duration::hours(23));
        let before = yk.charge_count();
        let (a, b) = tokio::join!(
            billing::renewals::run_renewals(&app.billing),
            billing::renewals::run_renewals(&app.billing)
        );
        let (a, b) = (
            a.unwrap_or_else(|e| panic!("{e}")),
            b.unwrap_or_else(|e| panic!("{e}")),
        );
        assert_eq!(a.claimed + b.claimed, users.len(), "{a:?} {b:?}");
        assert_eq!(yk.charge_count() - before, users.len());
        for tg in &users {
            let s = subscription(&app, *tg)
                .await
                .unwrap_or_else(|| panic!("no sub"));
            assert_eq!(s.end_date, end + Duration::days(30), "user {tg}");
        }
        // A third sweep and a concurrent pair later change nothing.
        let (c, d) = tokio::join!(
            billing::renewals::run_renewals(&app.billing),
            billing::renewals::run_renewals(&app.billing)
        );
        assert_eq!(
            c.map(|r| r.claimed).unwrap_or(99) + d.map(|r| r.claimed).unwrap_or(99),
            0
        );
        assert_eq!(yk.charge_count() - before, users.len());
        app.finish().await;
    }
}

#[tokio::test]
async fn b8_a_declined_renewal_follows_the_dunning_schedule_then_turns_auto_renew_off() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 73_010;
        let end = subscribed(&app, &yk, tg).await;
        yk.decline_charges(Some("insufficient_funds"));
        app.clock.set(end - Duration::hours(23));
        assert_eq!(renew(&app).await.claimed, 1);
        let s = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(s.next_renewal_at, Some(end + Duration::hours(24)));
        assert!(s.auto_renew);
        assert_eq!(outbox(&app, "billing.renewal_failed").await.len(), 1);
        // Nothing before the next slot.
        assert_eq!(renew(&app).await.claimed, 0);
        app.clock.set(end + Duration::hours(25));
        assert_eq!(renew(&app).await.claimed, 1);
        let s = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(s.next_renewal_at, Some(end + Duration::hours(72)));
        // Expired meanwhile: the user is FREE for limits, but not downgraded while dunning runs.
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");
        billing::renewals::run_expiry(&app.billing)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outbox(&app, "billing.pro_ended").await.len(), 0);
        app.clock.set(end + Duration::hours(73));
        assert_eq!(renew(&app).await.claimed, 1);
        let s = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert!(!s.auto_renew);
        assert_eq!(s.next_renewal_at, None);
        assert_eq!(s.renewal_attempts, 3);
        let failed = outbox(&app, "billing.renewal_failed").await;
        assert_eq!(failed.len(), 3);
        assert!(
            failed[2].text.contains("Автопродление выключено"),
            "{}",
            failed[2].text
        );
        // A fresh provider key per attempt, each stored on its row and sent to YooKassa.
        let rows = billing::payments::history(&app.billing, s.user_id, 20)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let keys: std::collections::HashSet<String> = rows
            .iter()
            .filter(|r| r.purpose == "renewal")
            .map(|r| r.idempotency_key.clone())
            .collect();
        assert_eq!(keys.len(), 3, "{keys:?}");
        let sent: std::collections::HashSet<String> = yk
            .requests()
            .into_iter()
            .map(|r| r.idempotence_key)
            .collect();
        assert!(keys.is_subset(&sent));
        // No more attempts, ever; the expiry job now downgrades and tells the user.
        app.clock.advance(Duration::days(30));
        assert_eq!(renew(&app).await.claimed, 0);
        let run = billing::renewals::run_expiry(&app.billing)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.downgraded, 1);
        assert_eq!(outbox(&app, "billing.pro_ended").await.len(), 1);
        yk.decline_charges(None);
        app.finish().await;
    }
}

#[tokio::test]
async fn a_card_expired_decline_clears_the_card_and_tells_the_user() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 73_020;
        let end = subscribed(&app, &yk, tg).await;
        yk.decline_charges(Some("card_expired"));
        app.clock.set(end - Duration::hours(23));
        assert_eq!(renew(&app).await.claimed, 1);
        let s = subscription(&app, tg)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert!(!s.auto_renew);
        assert!(s.payment_method_id.is_none() && s.card_mask.is_none());
        assert_eq!(s.next_renewal_at, None);
        let pm = get(&app, tg, "/api/v1/billing/payment-method/").await;
        assert_eq!(pm["is_attached"], false);
        let msg = outbox(&app, "billing.renewal_failed").await;
        assert_eq!(msg.len(), 1);
        assert!(msg[0].text.contains("Карта"), "{}", msg[0].text);
        yk.decline_charges(None);
        app.finish().await;
    }
}

#[tokio::test]
async fn expiry_warns_three_days_ahead_then_downgrades_to_free() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 73_030;
        me(&app, tg).await;
        let g = billing::admin::grant_pro(&app.billing, tg, billing::PlanCode::ProMonthly)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        app.clock.set(g.end_date - Duration::days(2));
        for _ in 0..2 {
            billing::renewals::run_expiry(&app.billing)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let soon = outbox(&app, "billing.pro_ends_soon").await;
        assert_eq!(soon.len(), 1);
        assert!(soon[0].text.contains("заканчивается"), "{}", soon[0].text);
        app.clock.set(g.end_date);
        let run = billing::renewals::run_expiry(&app.billing)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(run.downgraded, 1);
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");
        let card = get(&app, tg, "/api/v1/billing/subscription/").await;
        assert_eq!(card["plan"], "free");
        assert_eq!(outbox(&app, "billing.pro_ended").await.len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn recurring_off_keeps_the_renewal_job_idle() {
    let yk = FakeYooKassa::start().await;
    let mut setup = testkit::app::BillingSetup::with_fake(&yk);
    setup.settings.recurring_enabled = false;
    for app in apps_with(setup).await {
        let run = renew(&app).await;
        assert!(run.disabled);
        let id = buy_and_pay(&app, &yk, 73_040, "PRO_MONTHLY", true).await;
        let req = yk
            .requests()
            .into_iter()
            .find(|r| r.payment_id == id)
            .unwrap_or_else(|| panic!("no request"));
        assert!(req.body.get("save_payment_method").is_none());
        let s = subscription(&app, 73_040)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert!(!s.auto_renew && s.next_renewal_at.is_none());
        app.finish().await;
    }
}

#[tokio::test]
async fn b12_the_daily_photo_limit_follows_the_effective_plan_with_no_cache() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 73_050;
        me(&app, tg).await;
        let uid = domain::ids::UserId(user_id(&app, tg).await);
        let limit = |at| recognition::daily_photo_limit(app.db(), uid, at);
        assert_eq!(limit(app.clock_now()).await.unwrap_or_default(), Some(3));
        buy_and_pay(&app, &yk, tg, "PRO_MONTHLY", false).await;
        assert_eq!(limit(app.clock_now()).await.unwrap_or_default(), None);
        let m = me(&app, tg).await;
        assert_eq!(m["remaining_today"], serde_json::Value::Null);
        // Expiry applies at once, before any job runs.
        let end = app.clock_now() + Duration::days(30);
        assert_eq!(limit(end).await.unwrap_or_default(), Some(3));
        app.clock.set(end);
        assert_eq!(me(&app, tg).await["daily_photo_limit"], 3);
        app.finish().await;
    }
}

#[tokio::test]
async fn weekly_digest_and_its_health_check_go_to_the_admins() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        assert_eq!(
            billing::ops::digest_health(&app.billing)
                .await
                .unwrap_or_default(),
            None
        );
        buy_and_pay(&app, &yk, 73_060, "PRO_MONTHLY", false).await;
        assert_eq!(
            billing::ops::weekly_digest(&app.billing)
                .await
                .unwrap_or_default(),
            1
        );
        let d = outbox(&app, billing::ops::KIND_DIGEST).await;
        assert!(
            d[0].text
                .contains("Все billing webhooks обработаны успешно"),
            "{}",
            d[0].text
        );
        assert_eq!(
            billing::ops::digest_health(&app.billing)
                .await
                .unwrap_or_default(),
            Some(true)
        );
        app.clock.advance(Duration::days(9));
        assert_eq!(
            billing::ops::digest_health(&app.billing)
                .await
                .unwrap_or_default(),
            Some(false)
        );
        billing::ops::digest_health(&app.billing)
            .await
            .unwrap_or_default();
        assert_eq!(outbox(&app, "billing.digest_stale").await.len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn coach_stats_read_real_subscriptions_and_revenue() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        buy_and_pay(&app, &yk, 73_070, "PRO_MONTHLY", false).await;
        buy_and_pay(&app, &yk, 73_071, "PRO_YEARLY", false).await;
        me(&app, 73_072).await;
        let stats = store::coach::subscriber_stats(app.db(), app.clock_now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (stats.total, stats.free, stats.monthly, stats.yearly),
            (3, 1, 1, 1)
        );
        assert_eq!(stats.revenue_kopecks, 29_900 + 299_000);
        let ids = [user_id(&app, 73_070).await, user_id(&app, 73_072).await];
        let subs = store::coach::subscriptions_for_users(app.db().conn(), &ids, app.clock_now())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(subs[&ids[0]].plan, store::coach::PlanKind::Monthly);
        assert!(subs[&ids[0]].is_paid());
        assert_eq!(subs[&ids[1]], store::coach::SubscriptionInfo::FREE);
        let later = app.clock_now() + Duration::days(30);
        let subs = store::coach::subscriptions_for_users(app.db().conn(), &ids[..1], later)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            subs[&ids[0]].state,
            store::coach::SubscriptionState::Expired
        );
        app.finish().await;
    }
}

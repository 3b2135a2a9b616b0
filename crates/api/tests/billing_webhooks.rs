//! Billing webhooks: forged notifications never activate anything and leave an audit record;
//! re-fetching from the API, redeliveries, refunds, reconciliation, alerts.

mod billing_support;

use billing_support::*;
use chrono::Duration;
use serde_json::json;
use testkit::fake_yookassa::{FakeYooKassa, YOOKASSA_IP};

#[tokio::test]
async fn b0_forged_webhooks_never_activate_anything_and_each_leaves_an_audit_record() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let url = app.url(WEBHOOK);
        let tg = 72_001;

        // 1. A payment YooKassa does not know.
        let forged = json!({"type": "notification", "event": "payment.succeeded",
            "object": {"id": "forged-000", "status": "succeeded", "amount": {"value": "299.00", "currency": "RUB"}}});
        let (s, _) = yk.notify_raw(&url, &forged, Some(YOOKASSA_IP)).await;
        assert_eq!(s, 200);
        app.run_billing_jobs().await;

        // 2. Our real payment id, but YooKassa says it is still pending.
        let (_, v) = buy(&app, tg, "PRO_MONTHLY").await;
        let pending_id = provider_id(&v);
        let forged = json!({"type": "notification", "event": "payment.succeeded",
            "object": {"id": pending_id, "status": "succeeded", "paid": true}});
        yk.notify_raw(&url, &forged, Some(YOOKASSA_IP)).await;
        app.run_billing_jobs().await;
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");

        // 3. Amount differs; 4. currency differs (YooKassa's object disagrees with our row).
        let tg3 = 72_002;
        let (_, v) = buy(&app, tg3, "PRO_YEARLY").await;
        let id3 = provider_id(&v);
        yk.succeed(&id3);
        yk.tamper(&id3, |p| p["amount"]["value"] = json!("1.00"));
        deliver(&app, &yk, "payment.succeeded", &id3).await;
        let tg4 = 72_003;
        let (_, v) = buy(&app, tg4, "PRO_MONTHLY").await;
        let id4 = provider_id(&v);
        yk.succeed(&id4);
        yk.tamper(&id4, |p| p["amount"]["currency"] = json!("USD"));
        deliver(&app, &yk, "payment.succeeded", &id4).await;

        // 5. A sender outside the allowlist: directly, and with a spoofed left-most X-Forwarded-For.
        let (_, v) = buy(&app, 72_004, "PRO_MONTHLY").await;
        let id5 = provider_id(&v);
        yk.succeed(&id5);
        let real = json!({"type": "notification", "event": "payment.succeeded",
            "object": yk.payment(&id5).unwrap_or_default()});
        let (s, body) = yk.notify_raw(&url, &real, None).await;
        assert_eq!(s, 403, "{body}");
        assert_eq!(body["error"]["code"], "FORBIDDEN");
        let (s, _) = yk
            .notify_raw(&url, &real, Some(&format!("{YOOKASSA_IP}, 8.8.8.8")))
            .await;
        assert_eq!(s, 403);
        app.run_billing_jobs().await;

        for t in [tg, tg3, tg4, 72_004] {
            assert_eq!(me(&app, t).await["plan_code"], "FREE", "user {t}");
            assert!(subscription(&app, t).await.is_none(), "user {t}");
        }
        let events = webhook_events(&app).await;
        let verdicts: Vec<(String, Option<String>)> = events
            .iter()
            .rev()
            .map(|e| (e.status.clone(), e.verdict.clone()))
            .collect();
        let expect = [
            ("rejected", "unknown_to_provider"),
            ("rejected", "provider_says_pending"),
            ("rejected", "amount_mismatch"),
            ("rejected", "currency_mismatch"),
            ("rejected", "ip_not_allowed"),
            ("rejected", "ip_not_allowed"),
        ];
        assert_eq!(verdicts.len(), expect.len(), "{verdicts:?}");
        for ((st, verdict), (es, ev)) in verdicts.iter().zip(expect) {
            assert_eq!((st.as_str(), verdict.as_deref()), (es, Some(ev)));
        }
        assert_eq!(events[0].client_ip.as_deref(), Some("8.8.8.8"));

        // The genuine success of the payment forged as "succeeded" earlier still activates:
        // the rejected event is processed again on redelivery.
        yk.succeed(&pending_id);
        deliver(&app, &yk, "payment.succeeded", &pending_id).await;
        assert_eq!(me(&app, tg).await["plan_code"], "PRO_MONTHLY");
        app.finish().await;
    }
}

#[tokio::test]
async fn b4_card_brand_and_expiry_come_from_the_api_and_the_stored_payload_is_sanitized() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        buy_and_pay(&app, &yk, 72_010, "PRO_MONTHLY", true).await;
        let s = subscription(&app, 72_010)
            .await
            .unwrap_or_else(|| panic!("no sub"));
        assert_eq!(s.card_brand.as_deref(), Some("MasterCard"));
        assert_eq!(s.card_expiry.as_deref(), Some("12/2030"));
        let ev = webhook_events(&app).await;
        let stored = ev[0].raw_payload.clone().unwrap_or_default();
        let card = &stored["object"]["payment_method"]["card"];
        assert_eq!(card["last4"], "4444");
        assert_eq!(card["card_type"], "MasterCard");
        assert!(card.get("first6").is_none(), "{card}");
        assert_eq!(card["redacted"], true);
        app.finish().await;
    }
}

#[tokio::test]
async fn b5_a_failed_event_is_retried_and_processed_after_redelivery() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let tg = 72_020;
        let (_, v) = buy(&app, tg, "PRO_MONTHLY").await;
        let id = provider_id(&v);
        yk.succeed(&id);
        yk.fail_gets(1);
        deliver(&app, &yk, "payment.succeeded", &id).await;
        assert_eq!(me(&app, tg).await["plan_code"], "FREE");
        let ev = webhook_events(&app).await;
        assert_eq!(ev[0].status, "failed");
        assert!(ev[0].error_message.is_some());
        // YooKassa redelivers later; the retry runs and activates.
        app.clock.advance(Duration::minutes(1));
        deliver(&app, &yk, "payment.succeeded", &id).await;
        assert_eq!(me(&app, tg).await["plan_code"], "PRO_MONTHLY");
        let ev = webhook_events(&app).await;
        assert_eq!((ev[0].status.as_str(), ev[0].deliveries), ("processed", 2));
        assert_eq!(ev[0].process_attempts, 2);
        app.finish().await;
    }
}

#[tokio::test]
async fn b6_refunds_are_verified_and_one_for_an_unknown_payment_is_recorded() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let rf = yk.refund("no-such-payment", "10.00");
        assert_eq!(deliver(&app, &yk, "refund.succeeded", &rf).await, 200);
        let ev = webhook_events(&app).await;
        assert_eq!(ev[0].status, "processed");
        assert_eq!(ev[0].verdict.as_deref(), Some("refund_for_unknown_payment"));

        let id = buy_and_pay(&app, &yk, 72_030, "PRO_MONTHLY", false).await;
        let partial = yk.refund(&id, "100.00");
        deliver(&app, &yk, "refund.succeeded", &partial).await;
        let hist = get(&app, 72_030, "/api/v1/billing/payments/").await;
        assert_eq!(hist["results"][0]["status"], "succeeded");
        let full = yk.refund(&id, "299.00");
        deliver(&app, &yk, "refund.succeeded", &full).await;
        let hist = get(&app, 72_030, "/api/v1/billing/payments/").await;
        assert_eq!(hist["results"][0]["status"], "refunded");
        // A forged refund id: unknown to the provider, nothing changes.
        let forged =
            json!({"event": "refund.succeeded", "object": {"id": "rf-forged", "payment_id": id}});
        yk.notify_raw(&app.url(WEBHOOK), &forged, Some(YOOKASSA_IP))
            .await;
        app.run_billing_jobs().await;
        assert_eq!(
            webhook_events(&app).await[0].verdict.as_deref(),
            Some("unknown_to_provider")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn b7_stale_payments_are_reconciled_with_the_api_and_success_after_cancel_activates_and_alerts()
 {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        // Paid, but the webhook never came: the reconciler asks YooKassa and activates.
        let (_, v) = buy(&app, 72_040, "PRO_MONTHLY").await;
        let id = provider_id(&v);
        yk.succeed(&id);
        // Another one nobody paid: stays pending (never cancelled blindly) and alerts once.
        let (_, v2) = buy(&app, 72_041, "PRO_MONTHLY").await;
        let id2 = provider_id(&v2);
        app.clock.advance(Duration::hours(25));
        let run = billing::renewals::run_reconcile(&app.billing)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((run.changed, run.stale), (1, 1), "{run:?}");
        assert_eq!(me(&app, 72_040).await["plan_code"], "PRO_MONTHLY");
        let hist = get(&app, 72_041, "/api/v1/billing/payments/").await;
        assert_eq!(hist["results"][0]["status"], "pending");
        assert_eq!(outbox(&app, "billing.stale_payments").await.len(), 1);
        billing::renewals::run_reconcile(&app.billing)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            outbox(&app, "billing.stale_payments").await.len(),
            1,
            "de-duplicated"
        );

        // Cancelled, then YooKassa reports success: activate and alert the admins.
        yk.cancel(&id2, "expired_on_confirmation");
        deliver(&app, &yk, "payment.canceled", &id2).await;
        let hist = get(&app, 72_041, "/api/v1/billing/payments/").await;
        assert_eq!(hist["results"][0]["status"], "canceled");
        yk.tamper(&id2, |p| {
            p["status"] = json!("succeeded");
            p["paid"] = json!(true);
        });
        deliver(&app, &yk, "payment.succeeded", &id2).await;
        assert_eq!(me(&app, 72_041).await["plan_code"], "PRO_MONTHLY");
        assert_eq!(outbox(&app, "billing.paid_after_cancel").await.len(), 1);
        let alerts = store::alerts::active(app.db()).await.unwrap_or_default();
        assert!(alerts.iter().any(|a| a.rule == "billing_paid_after_cancel"));
        assert_eq!(
            webhook_events(&app).await[0].verdict.as_deref(),
            Some("activated_after_local_cancel")
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn b17_the_webhook_is_not_throttled() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let url = app.url(WEBHOOK);
        for i in 0..120 {
            let body = json!({"event": "payment.canceled", "object": {"id": format!("burst-{i}"), "status": "canceled"}});
            let (s, _) = yk.notify_raw(&url, &body, Some(YOOKASSA_IP)).await;
            assert_eq!(s, 200, "delivery {i}");
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn b18_notifications_are_outbox_rows_written_once_even_when_processing_repeats() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        buy_and_pay(&app, &yk, 72_050, "PRO_MONTHLY", false).await;
        let ev = webhook_events(&app).await;
        assert!(
            billing::webhooks::replay(&app.billing, ev[0].id)
                .await
                .unwrap_or(false)
        );
        app.run_billing_jobs().await;
        let user = outbox(&app, "billing.payment_succeeded").await;
        assert_eq!(user.len(), 1);
        assert_eq!(user[0].chat_id, 72_050);
        assert!(user[0].text.contains("PRO месяц"), "{}", user[0].text);
        let admin = outbox(&app, "billing.new_pro").await;
        assert_eq!(admin.len(), 1);
        assert_eq!(admin[0].chat_id, testkit::app::ADMIN_TG_ID);
        assert!(admin[0].text.contains("НОВАЯ ПОДПИСКА PRO"));
        assert!(admin[0].reply_markup.is_some());
        app.finish().await;
    }
}

#[tokio::test]
async fn malformed_notifications_are_refused_with_clear_codes() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let url = app.url(WEBHOOK);
        let (s, v) = yk.notify_raw(&url, &json!([1, 2]), Some(YOOKASSA_IP)).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some("INVALID_JSON"))
        );
        let (s, v) = yk
            .notify_raw(
                &url,
                &json!({"event": "payment.succeeded"}),
                Some(YOOKASSA_IP),
            )
            .await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (400, Some("INVALID_PAYLOAD"))
        );
        app.finish().await;
    }
}

#[tokio::test]
async fn failed_webhooks_alert_the_admins_once_per_incident() {
    let yk = FakeYooKassa::start().await;
    for app in apps(&yk).await {
        let (_, v) = buy(&app, 72_060, "PRO_MONTHLY").await;
        let id = provider_id(&v);
        yk.fail_gets(1);
        deliver(&app, &yk, "payment.succeeded", &id).await;
        assert!(
            billing::ops::failed_webhooks_alert(&app.billing)
                .await
                .unwrap_or(false)
        );
        assert!(
            !billing::ops::failed_webhooks_alert(&app.billing)
                .await
                .unwrap_or(true)
        );
        let rows = outbox(&app, "billing.webhooks_failed").await;
        assert_eq!(rows.len(), 1);
        assert!(rows[0].text.contains("BILLING ALERT"));
        app.finish().await;
    }
}

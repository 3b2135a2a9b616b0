//! The billing tables of the original (reference/billing.md §2): plans (matched by code, never
//! created), subscriptions, payments (kept under their UUIDs), refunds and webhook logs.
//! Money becomes kopecks in SQL (`ROUND(amount * 100)`), never a float.

use chrono::{DateTime, Utc};
use store::sea_orm::Value;

use super::core::{Outcome, R, get, tally, user_of};
use super::{Counts, Run};

const T_PLANS: &str = "subscription_plans";
const T_SUBS: &str = "subscriptions";
const T_PAYMENTS: &str = "payments";
const T_REFUNDS: &str = "refunds";
const T_WEBHOOKS: &str = "webhook_logs";

pub(super) async fn import_all(run: &mut Run<'_>) -> R<()> {
    // An original from before billing existed has none of these tables.
    let present = run
        .source_rows("SELECT to_regclass('subscription_plans')::text AS t")
        .await?
        .first()
        .map(|r| get::<Option<String>>(r, "t"))
        .transpose()?
        .flatten()
        .is_some();
    if !present {
        run.fix("the source has no billing tables; billing skipped".into());
        return Ok(());
    }
    plans(run).await?;
    subscriptions(run).await?;
    payments(run).await?;
    refunds(run).await?;
    webhooks(run).await?;
    Ok(())
}

/// The original's plan code, with the legacy names it still accepted.
fn our_code(code: &str) -> &str {
    match code {
        "MONTHLY" => "PRO_MONTHLY",
        "YEARLY" => "PRO_YEARLY",
        other => other,
    }
}

async fn plans(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows("SELECT id, code, name FROM subscription_plans ORDER BY id")
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.seen(T_PLANS, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let code: String = get(&r, "code")?;
        let code = our_code(&code).to_string();
        match run
            .target_id(
                "SELECT id FROM plans WHERE code = $1",
                vec![code.clone().into()],
            )
            .await?
        {
            Some(id) => {
                run.record(T_PLANS, &sid, "plans", id).await?;
                tally(&mut c, Outcome::Merged);
            }
            None => {
                run.skip(
                    T_PLANS,
                    &sid,
                    format!("plan code `{code}` does not exist here"),
                );
                tally(&mut c, Outcome::Skipped);
            }
        }
    }
    run.report.tables.push((T_PLANS, c));
    Ok(())
}

async fn free_plan(run: &mut Run<'_>) -> R<Option<i64>> {
    run.target_id("SELECT id FROM plans WHERE code = 'FREE'", vec![])
        .await
}

async fn subscriptions(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT s.id, s.user_id, s.plan_id, p.code, s.start_date, s.end_date, s.is_active, \
             s.auto_renew, s.yookassa_payment_method_id, s.card_mask, s.card_brand, s.created_at, \
             s.updated_at FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id ORDER BY s.id",
        )
        .await?;
    let free = free_plan(run).await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.seen(T_SUBS, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_SUBS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let source_plan: i64 = get(&r, "plan_id")?;
        let Some(mut plan_id) = run.mapped(T_PLANS, &source_plan.to_string()) else {
            run.skip(
                T_SUBS,
                &sid,
                format!("its plan #{source_plan} was not imported"),
            );
            tally(&mut c, Outcome::Skipped);
            continue;
        };
        if let Some(existing) = run
            .target_id(
                "SELECT id FROM subscriptions WHERE user_id = $1",
                vec![user_id.into()],
            )
            .await?
        {
            run.record(T_SUBS, &sid, "subscriptions", existing).await?;
            tally(&mut c, Outcome::Merged);
            continue;
        }
        let code: String = get(&r, "code")?;
        let mut start: DateTime<Utc> = get(&r, "start_date")?;
        let end: DateTime<Utc> = get(&r, "end_date")?;
        let active: bool = get(&r, "is_active")?;
        let paid = our_code(&code) != "FREE";
        // The original kept expired PRO rows "active"; here an ended period is FREE.
        if paid
            && (end <= run.now || !active)
            && let Some(f) = free
        {
            run.fix(format!(
                "subscriptions #{sid}: {code} ended {} → FREE",
                end.format("%Y-%m-%d")
            ));
            plan_id = f;
            start = end;
        }
        let auto_renew: bool = get(&r, "auto_renew")?;
        if auto_renew {
            run.fix(format!(
                "subscriptions #{sid}: auto-renew off (the original recorded no consent; the user turns it on again)"
            ));
        }
        let new_id = run
            .insert_returning(
                "INSERT INTO subscriptions (user_id, plan_id, status, start_date, end_date, auto_renew, \
                 payment_method_id, card_mask, card_brand, created_at, updated_at) \
                 VALUES ($1, $2, 'active', $3, $4, FALSE, $5, $6, $7, $8, $9) RETURNING id",
                vec![
                    user_id.into(),
                    plan_id.into(),
                    start.into(),
                    end.into(),
                    get::<Option<String>>(&r, "yookassa_payment_method_id")?.into(),
                    get::<Option<String>>(&r, "card_mask")?.into(),
                    get::<Option<String>>(&r, "card_brand")?.into(),
                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                    get::<DateTime<Utc>>(&r, "updated_at")?.into(),
                ],
            )
            .await?;
        run.record(T_SUBS, &sid, "subscriptions", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_SUBS, c));
    Ok(())
}

async fn payments(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT py.id::text AS id, py.user_id, py.subscription_id, py.plan_id, p.code, \
             COALESCE(p.duration_days, 0) AS duration_days, ROUND(py.amount * 100)::bigint AS amount_kopecks, \
             py.currency, py.status, py.yookassa_payment_id, py.yookassa_payment_method_id, py.is_recurring, \
             py.save_payment_method, py.description, py.error_message, py.metadata, py.created_at, \
             py.updated_at, py.paid_at, py.billing_period_end \
             FROM payments py LEFT JOIN subscription_plans p ON p.id = py.plan_id ORDER BY py.created_at, py.id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid: String = get(&r, "id")?;
        if run.seen(T_PAYMENTS, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_PAYMENTS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let amount: i64 = get(&r, "amount_kopecks")?;
        let status: String = get(&r, "status")?;
        let status = status.to_ascii_lowercase();
        let known = matches!(
            status.as_str(),
            "pending" | "waiting_for_capture" | "succeeded" | "canceled" | "failed" | "refunded"
        );
        if amount < 0 || !known {
            run.skip(
                T_PAYMENTS,
                &sid,
                if amount < 0 {
                    format!("negative amount {amount} kopecks")
                } else {
                    format!("unknown status `{status}`")
                },
            );
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let provider_id: Option<String> = get(&r, "yookassa_payment_id")?;
        if let Some(p) = &provider_id
            && run
                .target_id(
                    "SELECT CAST(1 AS BIGINT) AS id FROM payments WHERE provider_payment_id = $1",
                    vec![p.clone().into()],
                )
                .await?
                .is_some()
        {
            run.skip(
                T_PAYMENTS,
                &sid,
                format!("YooKassa payment {p} is here already"),
            );
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let code: Option<String> = get(&r, "code")?;
        let recurring: bool = get(&r, "is_recurring")?;
        let purpose = match code.as_deref().map(our_code) {
            _ if recurring => "renewal",
            None => "card_binding",
            Some("TEST_LIVE") => "admin_test",
            Some(_) => "purchase",
        };
        let plan =
            get::<Option<i64>>(&r, "plan_id")?.and_then(|p| run.mapped(T_PLANS, &p.to_string()));
        let sub = get::<Option<i64>>(&r, "subscription_id")?
            .and_then(|s| run.mapped(T_SUBS, &s.to_string()));
        let values: Vec<Value> = vec![
            sid.clone().into(),
            user_id.into(),
            sub.into(),
            plan.into(),
            purpose.into(),
            amount.into(),
            get::<String>(&r, "currency")?.into(),
            get::<i32>(&r, "duration_days")?.into(),
            status.clone().into(),
            status.into(),
            provider_id.into(),
            format!("import:{sid}").into(),
            get::<Option<String>>(&r, "yookassa_payment_method_id")?.into(),
            get::<bool>(&r, "save_payment_method")?.into(),
            get::<String>(&r, "description")?.into(),
            get::<Option<String>>(&r, "error_message")?
                .filter(|e| !e.is_empty())
                .into(),
            get::<Option<DateTime<Utc>>>(&r, "billing_period_end")?.into(),
            get::<Option<serde_json::Value>>(&r, "metadata")?.into(),
            get::<DateTime<Utc>>(&r, "created_at")?.into(),
            get::<DateTime<Utc>>(&r, "updated_at")?.into(),
            get::<Option<DateTime<Utc>>>(&r, "paid_at")?.into(),
        ];
        let txn = run.txn().await?;
        use store::sea_orm::ConnectionTrait;
        txn.execute_raw(store::sea_orm::Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO payments (id, user_id, subscription_id, plan_id, purpose, amount_kopecks, currency, \
             duration_days, status, provider_status, provider_payment_id, idempotency_key, payment_method_id, \
             save_payment_method, description, error_message, billing_period_end, metadata, created_at, \
             updated_at, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             $16, $17, $18, $19, $20, $21)",
            values,
        ))
        .await?;
        run.record(T_PAYMENTS, &sid, "payments", None).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_PAYMENTS, c));
    Ok(())
}

async fn refunds(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT r.id::text AS id, r.payment_id::text AS payment_id, py.yookassa_payment_id, \
             ROUND(r.amount * 100)::bigint AS amount_kopecks, py.currency, r.status, r.yookassa_refund_id, \
             r.created_at, r.updated_at FROM refunds r JOIN payments py ON py.id = r.payment_id \
             ORDER BY r.created_at, r.id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid: String = get(&r, "id")?;
        if run.seen(T_REFUNDS, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let payment: String = get(&r, "payment_id")?;
        let refund_id: Option<String> = get(&r, "yookassa_refund_id")?;
        let reason = if !run.seen(T_PAYMENTS, &payment) {
            Some(format!("its payment {payment} was not imported"))
        } else if refund_id.as_deref().is_none_or(str::is_empty) {
            Some("no YooKassa refund id".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            run.skip(T_REFUNDS, &sid, reason);
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let new_id = run
            .insert_returning(
                "INSERT INTO refunds (provider_refund_id, payment_id, provider_payment_id, amount_kopecks, \
                 currency, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                vec![
                    refund_id.into(),
                    payment.into(),
                    get::<Option<String>>(&r, "yookassa_payment_id")?.into(),
                    get::<i64>(&r, "amount_kopecks")?.into(),
                    get::<String>(&r, "currency")?.into(),
                    get::<String>(&r, "status")?.to_ascii_lowercase().into(),
                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                    get::<DateTime<Utc>>(&r, "updated_at")?.into(),
                ],
            )
            .await?;
        run.record(T_REFUNDS, &sid, "refunds", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_REFUNDS, c));
    Ok(())
}

async fn webhooks(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id::text AS id, event_type, event_id, payment_id, trace_id, status, attempts, \
             error_message, raw_payload, host(client_ip) AS client_ip, created_at, processed_at \
             FROM webhook_logs ORDER BY created_at, id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid: String = get(&r, "id")?;
        if run.seen(T_WEBHOOKS, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let event_key: String = get(&r, "event_id")?;
        if run
            .target_id(
                "SELECT id FROM webhook_events WHERE event_key = $1",
                vec![event_key.clone().into()],
            )
            .await?
            .is_some()
        {
            run.skip(
                T_WEBHOOKS,
                &sid,
                format!("event {event_key} is here already"),
            );
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        // History only: nothing imported is processed again. An event the original never
        // finished is kept as rejected with a verdict that says so.
        let (status, verdict) = match get::<String>(&r, "status")?.as_str() {
            "SUCCESS" | "DUPLICATE" => ("processed", None),
            "FAILED" => ("failed", None),
            other => (
                "rejected",
                Some(format!("import:{}", other.to_ascii_lowercase())),
            ),
        };
        let created: DateTime<Utc> = get(&r, "created_at")?;
        let new_id = run
            .insert_returning(
                "INSERT INTO webhook_events (event_key, event_type, object_id, status, verdict, deliveries, \
                 error_message, client_ip, raw_payload, trace_id, created_at, updated_at, processed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) RETURNING id",
                vec![
                    event_key.into(),
                    get::<String>(&r, "event_type")?.into(),
                    get::<Option<String>>(&r, "payment_id")?
                        .unwrap_or_default()
                        .into(),
                    status.into(),
                    verdict.into(),
                    get::<i32>(&r, "attempts")?.max(1).into(),
                    get::<Option<String>>(&r, "error_message")?
                        .filter(|e| !e.is_empty())
                        .into(),
                    get::<Option<String>>(&r, "client_ip")?.into(),
                    get::<Option<serde_json::Value>>(&r, "raw_payload")?.into(),
                    get::<Option<String>>(&r, "trace_id")?.into(),
                    created.into(),
                    get::<Option<DateTime<Utc>>>(&r, "processed_at")?.into(),
                ],
            )
            .await?;
        run.record(T_WEBHOOKS, &sid, "webhook_events", new_id)
            .await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_WEBHOOKS, c));
    Ok(())
}

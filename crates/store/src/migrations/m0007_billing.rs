//! Billing (reference/billing.md §10.3, DESIGN.md §4, §7): plans, one subscription per user,
//! payments with a purpose, a price/duration snapshot and a deterministic idempotency key,
//! refunds, and the webhook events we received. Money is in kopecks (integers).
//!
//! Invariants held by the database: one subscription per user, a unique provider payment id,
//! a unique idempotency key, one non-failed renewal attempt per (subscription, billing period),
//! a unique webhook event key, a unique provider refund id.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{col}"))
        .from(from_table, col)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

/// Seed plans (§1.1, production prices): code, display name, description, price and old price
/// (kopecks), days, daily photo limit, history days, advanced stats, priority support, test,
/// public, sort order.
type SeedRow = (
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<i64>,
    i32,
    Option<i32>,
    i32,
    bool,
    bool,
    bool,
    bool,
    i32,
);

const SEED: [SeedRow; 4] = [
    (
        "FREE",
        "Бесплатный",
        "Базовый функционал с ограничением 3 фото в день",
        0,
        None,
        0,
        Some(3),
        7,
        false,
        false,
        false,
        true,
        3,
    ),
    (
        "PRO_MONTHLY",
        "PRO месяц",
        "Безлимитное распознавание фото, расширенная статистика",
        29_900,
        None,
        30,
        None,
        180,
        true,
        true,
        false,
        true,
        2,
    ),
    (
        "PRO_YEARLY",
        "PRO год",
        "Безлимитное распознавание фото, расширенная статистика. Экономия 30%!",
        299_000,
        Some(499_000),
        365,
        None,
        180,
        true,
        true,
        false,
        true,
        1,
    ),
    (
        "TEST_LIVE",
        "Test Live Payment 1 RUB",
        "Тестовый платёж для проверки боевого магазина YooKassa. Только для владельца/админов.",
        100,
        None,
        30,
        None,
        -1,
        true,
        true,
        true,
        false,
        9,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("plans")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("code", 50))
                    .col(string_len("display_name", 100))
                    .col(text("description").default(""))
                    .col(big_integer("price_kopecks").default(0))
                    .col(big_integer_null("old_price_kopecks"))
                    .col(integer("duration_days").default(0))
                    .col(integer_null("daily_photo_limit"))
                    .col(integer("history_days").default(7))
                    .col(boolean("ai_recognition").default(true))
                    .col(boolean("advanced_stats").default(false))
                    .col(boolean("priority_support").default(false))
                    .col(boolean("is_active").default(true))
                    .col(boolean("is_test").default(false))
                    .col(boolean("is_public").default(true))
                    .col(integer("sort_order").default(0))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("subscriptions")
                    .col(big_pk_auto("id"))
                    .col(big_integer_uniq("user_id"))
                    .col(big_integer("plan_id"))
                    .col(string_len("status", 16).default("active"))
                    .col(timestamp_with_time_zone("start_date"))
                    .col(timestamp_with_time_zone("end_date"))
                    .col(boolean("auto_renew").default(false))
                    .col(timestamp_with_time_zone_null("auto_renew_consent_at"))
                    .col(string_len_null("payment_method_id", 64))
                    .col(string_len_null("card_mask", 20))
                    .col(string_len_null("card_brand", 50))
                    .col(string_len_null("card_expiry", 7))
                    .col(big_integer_null("renewal_plan_id"))
                    .col(big_integer_null("renewal_price_kopecks"))
                    .col(integer_null("renewal_duration_days"))
                    .col(integer("renewal_attempts").default(0))
                    .col(timestamp_with_time_zone_null("next_renewal_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "subscriptions",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "subscriptions",
                        "plan_id",
                        "plans",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subscriptions_next_renewal")
                    .table("subscriptions")
                    .col("next_renewal_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subscriptions_status_end")
                    .table("subscriptions")
                    .col("status")
                    .col("end_date")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("payments")
                    .col(string_len("id", 36).primary_key())
                    .col(big_integer("user_id"))
                    .col(big_integer_null("subscription_id"))
                    .col(big_integer_null("plan_id"))
                    .col(string_len("purpose", 16))
                    .col(big_integer("amount_kopecks"))
                    .col(string_len("currency", 3).default("RUB"))
                    .col(integer("duration_days").default(0))
                    .col(string_len("status", 24).default("pending"))
                    .col(string_len_null("provider_status", 32))
                    .col(string_len_null("provider_payment_id", 64).unique_key())
                    .col(string_len_uniq("idempotency_key", 64))
                    .col(string_len_null("client_key", 64))
                    .col(string_len_null("payment_method_id", 64))
                    .col(boolean("save_payment_method").default(false))
                    .col(timestamp_with_time_zone_null("consent_at"))
                    .col(text("description").default(""))
                    .col(text_null("error_message"))
                    .col(string_len_null("cancellation_reason", 64))
                    .col(text_null("confirmation_url"))
                    .col(timestamp_with_time_zone_null("billing_period_end"))
                    .col(integer("attempt").default(0))
                    .col(json_binary_null("metadata"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("paid_at"))
                    .foreign_key(&mut fk(
                        "payments",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "payments",
                        "subscription_id",
                        "subscriptions",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "payments",
                        "plan_id",
                        "plans",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_user_created")
                    .table("payments")
                    .col("user_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_status_created")
                    .table("payments")
                    .col("status")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        // B9: a client's Idempotency-Key names one payment of theirs.
        manager
            .create_index(
                Index::create()
                    .name("payments_user_client_key")
                    .table("payments")
                    .col("user_id")
                    .col("client_key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        // B8: at most one live (pending or succeeded) renewal attempt per billing period.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX payments_one_renewal_per_period \
                 ON payments (subscription_id, billing_period_end) \
                 WHERE purpose = 'renewal' AND status IN ('pending', 'waiting_for_capture', 'succeeded')",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("refunds")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("provider_refund_id", 64))
                    .col(string_len_null("payment_id", 36))
                    .col(string_len_null("provider_payment_id", 64))
                    .col(big_integer("amount_kopecks"))
                    .col(string_len("currency", 3).default("RUB"))
                    .col(string_len("status", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "refunds",
                        "payment_id",
                        "payments",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("webhook_events")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("event_key", 255))
                    .col(string_len("event_type", 100))
                    .col(string_len("object_id", 64).default(""))
                    .col(string_len("status", 16).default("received"))
                    .col(string_len_null("verdict", 64))
                    .col(integer("deliveries").default(1))
                    .col(integer("process_attempts").default(0))
                    .col(text_null("error_message"))
                    .col(string_len_null("client_ip", 64))
                    .col(json_binary_null("raw_payload"))
                    .col(string_len_null("trace_id", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("processed_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("webhook_events_status_created")
                    .table("webhook_events")
                    .col("status")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;

        let conn = manager.get_connection();
        let backend = conn.get_database_backend();
        let now = chrono::Utc::now();
        for (code, name, desc, price, old, days, limit, history, adv, prio, test, public, order) in
            SEED
        {
            conn.execute_raw(sea_orm::Statement::from_sql_and_values(
                backend,
                "INSERT INTO plans (code, display_name, description, price_kopecks, \
                 old_price_kopecks, duration_days, daily_photo_limit, history_days, ai_recognition, \
                 advanced_stats, priority_support, is_active, is_test, is_public, sort_order, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9, $10, TRUE, $11, $12, $13, $14, $14)",
                vec![
                    code.into(),
                    name.into(),
                    desc.into(),
                    price.into(),
                    old.into(),
                    days.into(),
                    limit.into(),
                    history.into(),
                    adv.into(),
                    prio.into(),
                    test.into(),
                    public.into(),
                    order.into(),
                    now.into(),
                ],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "webhook_events",
            "refunds",
            "payments",
            "subscriptions",
            "plans",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

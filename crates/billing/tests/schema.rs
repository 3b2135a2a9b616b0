//! The billing invariants the database holds (DESIGN.md §4), on SQLite and PostgreSQL: seed
//! plans, one subscription per user, unique provider payment id and idempotency key, one live
//! renewal per (subscription, billing period), unique webhook event key.

use chrono::{TimeZone, Utc};
use domain::ids::TelegramId;
use domain::init_data::WebAppUser;
use sea_orm::{ConnectionTrait, Statement};
use store::testing::TestDb;

async fn user(db: &store::Db, tg: i64) -> i64 {
    let u = WebAppUser {
        id: TelegramId::new(tg).unwrap_or_else(|e| panic!("{e}")),
        first_name: "Тест".into(),
        last_name: None,
        username: None,
        language_code: Some("ru".into()),
        is_premium: None,
    };
    store::users::provision(db, &u, Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .account
        .user
        .id
}

async fn exec(
    db: &store::Db,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<u64, store::StoreError> {
    Ok(db
        .conn()
        .execute_raw(Statement::from_sql_and_values(db.db_backend(), sql, values))
        .await?
        .rows_affected())
}

fn payment(
    id: &str,
    user: i64,
    key: &str,
    provider: Option<&str>,
    sub: Option<i64>,
    purpose: &str,
    status: &str,
) -> Vec<sea_orm::Value> {
    let period = Utc
        .with_ymd_and_hms(2026, 4, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    vec![
        id.into(),
        user.into(),
        sub.into(),
        purpose.into(),
        status.into(),
        key.into(),
        provider.map(str::to_string).into(),
        (purpose == "renewal").then_some(period).into(),
        Utc::now().into(),
    ]
}

const INSERT_PAYMENT: &str = "INSERT INTO payments (id, user_id, subscription_id, purpose, amount_kopecks, \
    currency, duration_days, status, idempotency_key, provider_payment_id, billing_period_end, \
    save_payment_method, description, attempt, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, 29900, 'RUB', 30, $5, $6, $7, $8, FALSE, '', 1, $9, $9)";

#[tokio::test]
async fn plans_are_seeded_with_production_prices() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let conn = t.db.conn();
        let free = store::billing::plan_by_code(conn, "FREE")
            .await
            .unwrap_or_default()
            .unwrap_or_else(|| panic!("FREE"));
        assert_eq!((free.price_kopecks, free.daily_photo_limit), (0, Some(3)));
        let y = store::billing::plan_by_code(conn, "PRO_YEARLY")
            .await
            .unwrap_or_default()
            .unwrap_or_else(|| panic!("yearly"));
        assert_eq!(
            (y.price_kopecks, y.old_price_kopecks, y.duration_days),
            (299_000, Some(499_000), 365)
        );
        let m = store::billing::plan_by_code(conn, "PRO_MONTHLY")
            .await
            .unwrap_or_default()
            .unwrap_or_else(|| panic!("monthly"));
        assert_eq!(
            (m.price_kopecks, m.duration_days, m.daily_photo_limit),
            (29_900, 30, None)
        );
        let t_live = store::billing::plan_by_code(conn, "TEST_LIVE")
            .await
            .unwrap_or_default()
            .unwrap_or_else(|| panic!("test"));
        assert!(t_live.is_test && !t_live.is_public);
        assert_eq!(t_live.price_kopecks, 100);
        t.cleanup().await;
    }
}

#[tokio::test]
async fn the_database_holds_the_billing_invariants() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let u = user(db, 9_001).await;
        let free = store::billing::free_plan(db.conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let now = Utc::now();
        let sub_sql = "INSERT INTO subscriptions (user_id, plan_id, status, start_date, end_date, auto_renew, \
            renewal_attempts, created_at, updated_at) VALUES ($1, $2, 'active', $3, $3, FALSE, 0, $3, $3)";
        exec(db, sub_sql, vec![u.into(), free.id.into(), now.into()])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let dup = exec(db, sub_sql, vec![u.into(), free.id.into(), now.into()]).await;
        assert!(
            dup.is_err_and(|e| e.is_conflict()),
            "one subscription per user"
        );
        let sub: i64 = db
            .conn()
            .query_one_raw(Statement::from_sql_and_values(
                db.db_backend(),
                "SELECT id FROM subscriptions WHERE user_id = $1",
                vec![u.into()],
            ))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .and_then(|r| r.try_get::<i64>("", "id").ok())
            .unwrap_or_default();

        exec(
            db,
            INSERT_PAYMENT,
            payment("p1", u, "k1", Some("yk-1"), None, "purchase", "pending"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let same_key = exec(
            db,
            INSERT_PAYMENT,
            payment("p2", u, "k1", Some("yk-2"), None, "purchase", "pending"),
        )
        .await;
        assert!(
            same_key.is_err_and(|e| e.is_conflict()),
            "unique idempotency key"
        );
        let same_provider = exec(
            db,
            INSERT_PAYMENT,
            payment("p3", u, "k3", Some("yk-1"), None, "purchase", "pending"),
        )
        .await;
        assert!(
            same_provider.is_err_and(|e| e.is_conflict()),
            "unique provider id"
        );

        // One live renewal per period; a canceled attempt makes room for the next one.
        exec(
            db,
            INSERT_PAYMENT,
            payment("r1", u, "rk1", None, Some(sub), "renewal", "canceled"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        exec(
            db,
            INSERT_PAYMENT,
            payment("r2", u, "rk2", None, Some(sub), "renewal", "pending"),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let second_live = exec(
            db,
            INSERT_PAYMENT,
            payment("r3", u, "rk3", None, Some(sub), "renewal", "succeeded"),
        )
        .await;
        assert!(
            second_live.is_err_and(|e| e.is_conflict()),
            "one live renewal per period"
        );

        let ev = "INSERT INTO webhook_events (event_key, event_type, object_id, status, deliveries, process_attempts, \
            created_at, updated_at) VALUES ('payment.succeeded:x:succeeded', 'payment.succeeded', 'x', 'received', 1, 0, $1, $1)";
        exec(db, ev, vec![now.into()])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            exec(db, ev, vec![now.into()])
                .await
                .is_err_and(|e| e.is_conflict()),
            "unique event key"
        );
        t.cleanup().await;
    }
}

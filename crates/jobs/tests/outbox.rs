//! The notification outbox on every available backend: one row and one delivery job per
//! dedup key, written with the caller's transaction, and delivery outcomes recorded once.

use chrono::{TimeZone, Utc};
use jobs::outbox::{self, Notification, SEND_KIND, status};
use jobs::{JobStatus, admin};
use sea_orm::TransactionTrait;
use store::testing::TestDb;

fn t0() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 5, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_dedup_key_yields_one_message_and_one_job() {
    for tdb in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.db.clone();
        let n = Notification::new("pay:1:user", "billing.payment_succeeded", 42, "<b>PRO</b>")
            .user(7)
            .reply_markup(serde_json::json!({"inline_keyboard": []}));
        let first = outbox::push(db.conn(), n.clone(), t0())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let second = outbox::push(db.conn(), n, t0())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let id = first.unwrap_or_else(|| panic!("first push must insert"));
        assert_eq!(second, None, "a repeated dedup key inserts nothing");

        let rows = outbox::list(&db, Some("billing.payment_succeeded"))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].chat_id, 42);
        assert_eq!(rows[0].user_id, Some(7));
        assert_eq!(rows[0].status, status::PENDING);
        assert_eq!(rows[0].text, "<b>PRO</b>");

        let queued = admin::list(&db, JobStatus::Queued, 100)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let sends: Vec<_> = queued.iter().filter(|j| j.kind == SEND_KIND).collect();
        assert_eq!(sends.len(), 1, "one delivery job per message");
        assert_eq!(sends[0].payload["notification_id"], serde_json::json!(id));

        assert!(
            outbox::mark(&db, id, status::SENT, Some(555), None, t0())
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        assert!(
            !outbox::mark(&db, id, status::SENT, Some(556), None, t0())
                .await
                .unwrap_or_else(|e| panic!("{e}")),
            "a sent row never changes again"
        );
        let row = outbox::get(&db, id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.telegram_message_id, Some(555));
        assert_eq!(row.sent_at, Some(t0()));
        tdb.cleanup().await;
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_leaves_no_message_and_admins_get_one_row_each() {
    for tdb in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = tdb.db.clone();
        let txn = db.conn().begin().await.unwrap_or_else(|e| panic!("{e}"));
        outbox::push(&txn, Notification::new("k1", "test.kind", 1, "x"), t0())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        txn.rollback().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            outbox::list(&db, None)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .is_empty()
        );
        assert!(
            admin::list(&db, JobStatus::Queued, 10)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .is_empty()
        );

        let card = Notification::new("newpro:9", "admin.new_pro", 0, "card");
        let n = outbox::push_to_admins(db.conn(), &[100, 200], &card, t0())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 2);
        let again = outbox::push_to_admins(db.conn(), &[100, 200], &card, t0())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, 0, "the same card twice is still one per admin");
        let chats: Vec<i64> = outbox::list(&db, Some("admin.new_pro"))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .iter()
            .map(|r| r.chat_id)
            .collect();
        assert_eq!(chats, vec![100, 200]);
        tdb.cleanup().await;
    }
}

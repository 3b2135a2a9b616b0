//! The single sender: outbox rows (as billing pushes them) become exactly one Telegram message
//! each even when the delivery job runs twice; 429 honours `retry_after`; 403 marks the row
//! blocked and flags the chat.

mod common;

use common::Harness;
use jobs::outbox::{self, Notification, SEND_KIND, status};
use jobs::{NewJob, Queue};
use sea_orm::TransactionTrait;
use testkit::app::ADMIN_TG_ID;
use testkit::fake_telegram::Failure;

const U: i64 = 900_001;

async fn push_payment(h: &Harness, payment: &str) -> i64 {
    let now = h.app.clock_now();
    let db = h.app.db();
    let txn = db.conn().begin().await.unwrap_or_else(|e| panic!("{e}"));
    let id = outbox::push(
        &txn,
        Notification::new(format!("billing.payment_succeeded:{payment}:user"), "billing.payment_succeeded", U, "💎 <b>PRO активирован</b> до 10.04.2026")
            .user(1)
            .reply_markup(serde_json::json!({"inline_keyboard": [[{"text": "Открыть", "url": "https://eatfit.example/app"}]]})),
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"))
    .unwrap_or_else(|| panic!("new row"));
    outbox::push_to_admins(
        &txn,
        &[ADMIN_TG_ID],
        &Notification::new(
            format!("admin.new_pro:{payment}"),
            "admin.new_pro",
            0,
            "🎉 <b>НОВАЯ ПОДПИСКА PRO</b>",
        ),
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    txn.commit().await.unwrap_or_else(|e| panic!("{e}"));
    id
}

async fn run_job_again(h: &Harness, id: i64) {
    // A second delivery of the same row (a retried job, a replay by an operator).
    jobs::enqueue(
        h.app.db().conn(),
        NewJob::new(
            SEND_KIND,
            Queue::Notify,
            serde_json::json!({"notification_id": id}),
        ),
        h.app.clock_now(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test]
async fn a_payment_event_gives_one_user_message_and_one_admin_card_even_when_the_job_runs_twice() {
    for h in Harness::all().await {
        let id = push_payment(&h, "pay-1").await;
        // The billing transaction retried: the same keys push nothing.
        push_payment_again(&h).await;
        assert_eq!(h.deliver().await, 2);
        for row in outbox::list(h.app.db(), None)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
        {
            run_job_again(&h, row.id).await;
        }
        assert_eq!(h.deliver().await, 2, "the re-runs ran");
        assert_eq!(h.tg.sent_to(U).len(), 1, "one user message");
        assert_eq!(h.tg.sent_to(ADMIN_TG_ID).len(), 1, "one admin card");
        let user_msg = &h.tg.sent_to(U)[0];
        assert_eq!(user_msg.params["parse_mode"], "HTML");
        assert!(user_msg.text().contains("PRO активирован"));
        assert_eq!(user_msg.buttons().len(), 1, "the reply markup travels");
        let row = outbox::get(h.app.db(), id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.status, status::SENT);
        assert_eq!(row.telegram_message_id, user_msg.message_id);
        h.finish().await;
    }
}

async fn push_payment_again(h: &Harness) {
    let now = h.app.clock_now();
    let again = outbox::push(
        h.app.db().conn(),
        Notification::new(
            "billing.payment_succeeded:pay-1:user",
            "billing.payment_succeeded",
            U,
            "x",
        ),
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again, None);
}

#[tokio::test]
async fn telegram_429_is_waited_out_and_403_marks_the_user_blocked() {
    for h in Harness::all().await {
        h.tg.fail_next("sendMessage", Failure::TooManyRequests { retry_after: 1 });
        let id = push_payment(&h, "pay-429").await;
        h.deliver().await;
        let row = outbox::get(h.app.db(), id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.status, status::SENT, "sent after waiting retry_after");
        assert_eq!(
            h.tg.calls()
                .iter()
                .filter(|c| c.method == "sendMessage!failed")
                .count(),
            1
        );
        assert_eq!(h.tg.sent_to(U).len(), 1);

        // A longer retry_after hands the job back (retryable), the row stays pending.
        h.tg.fail_next("sendMessage", Failure::TooManyRequests { retry_after: 30 });
        let id = push_payment(&h, "pay-429b").await;
        h.deliver().await;
        let row = outbox::get(h.app.db(), id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.status, status::PENDING);
        assert!(
            row.last_error
                .unwrap_or_default()
                .contains("retry after 30")
        );
        h.app.clock.advance(chrono::Duration::seconds(60));
        h.deliver().await;
        let row = outbox::get(h.app.db(), id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.status, status::SENT, "retried later");

        // 403: blocked, flagged; the next message to that chat is not even tried.
        h.tg.fail_next("sendMessage", Failure::Blocked);
        let blocked = outbox::push(
            h.app.db().conn(),
            Notification::new("n:1", "test", U, "one"),
            h.app.clock_now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("row"));
        h.deliver().await;
        let row = outbox::get(h.app.db(), blocked)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.status, status::BLOCKED);
        assert!(
            bot::state::is_blocked(h.app.db(), U)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        let calls_before = h.tg.calls().len();
        let next = outbox::push(
            h.app.db().conn(),
            Notification::new("n:2", "test", U, "two"),
            h.app.clock_now(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("row"));
        h.deliver().await;
        assert_eq!(
            h.tg.calls().len(),
            calls_before,
            "no call to a chat that blocked the bot"
        );
        let row = outbox::get(h.app.db(), next)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("row"));
        assert_eq!(row.status, status::BLOCKED);
        // Writing to the bot again clears the flag.
        h.say(U, "/help").await;
        assert!(
            !bot::state::is_blocked(h.app.db(), U)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        );
        h.finish().await;
    }
}

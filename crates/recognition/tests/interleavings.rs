//! Property: whatever the interleaving of submit, cancel, complete, crash and reap, every photo
//! ends terminal with a code, every task is settled, each meal's status is what `finalize_meal`
//! says of its photos, and the FREE quota counts exactly the successful photos. Nothing stays
//! PROCESSING forever.

use std::collections::HashMap;

use domain::ids::UserId;
use domain::nutrition::{MealType, PhotoStatus, finalize_meal};
use proptest::prelude::*;
use recognition::{PhotoSubmission, Service, Submitted};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement};
use store::entities::{ai_task, meal, meal_photo, telegram_user};
use store::testing::TestDb;
use testkit::app::{Options, TestApp, fake_recognizer};
use testkit::fake_llm::{Behavior, FakeLlm};

#[derive(Debug, Clone)]
enum Op {
    Submit(usize),
    FailNext,
    Cancel(usize),
    Complete,
    /// A worker claims the next job, marks its photo PROCESSING and dies.
    Crash,
    /// Time passes, then the reaper runs.
    Reap(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..3).prop_map(Op::Submit),
        1 => Just(Op::FailNext),
        2 => (0usize..16).prop_map(Op::Cancel),
        2 => Just(Op::Complete),
        2 => Just(Op::Crash),
        1 => (10i64..200).prop_map(Op::Reap),
    ]
}

fn jpeg() -> Vec<u8> {
    let rgb = vec![128u8; 32 * 24 * 3];
    let mut out = Vec::new();
    let _ =
        jpeg_encoder::Encoder::new(&mut out, 85).encode(&rgb, 32, 24, jpeg_encoder::ColorType::Rgb);
    out
}

async fn user(app: &TestApp, tg: i64) -> UserId {
    let _ = app.get_as(tg, "/api/v1/users/profile/").send().await;
    let t = telegram_user::Entity::find()
        .filter(telegram_user::Column::TelegramId.eq(tg))
        .one(app.db().conn())
        .await
        .ok()
        .flatten()
        .expect("provisioned user");
    UserId(t.user_id)
}

async fn crash_one(app: &TestApp) {
    let now = app.clock_now();
    let Ok(Some(job)) = jobs::claim(
        app.db(),
        jobs::Queue::Ai,
        "crashed-worker",
        now,
        chrono::Duration::seconds(60),
    )
    .await
    else {
        return;
    };
    let Some(task_id) = job.payload["task_id"].as_str() else {
        return;
    };
    let db = app.db();
    let _ = db
        .conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "UPDATE meal_photos SET status = 'PROCESSING' WHERE status = 'PENDING' AND id = \
             (SELECT meal_photo_id FROM ai_tasks WHERE task_id = $1)",
            vec![task_id.to_string().into()],
        ))
        .await;
}

async fn run_case(ops: Vec<Op>, llm: &FakeLlm) {
    llm.set_default(Behavior::Success(FakeLlm::items(&[(
        "гречка",
        150.0,
        138.0,
        5.1,
        0.9,
        29.9,
    )])));
    let db = TestDb::sqlite().await.expect("db");
    let app = TestApp::spawn_with(
        db,
        Options {
            recognizer: Some(fake_recognizer(llm)),
            ..Options::default()
        },
    )
    .await;
    let svc: Service = app.recognition();
    let users = [
        user(&app, 7001).await,
        user(&app, 7002).await,
        user(&app, 7003).await,
    ];
    let mut submitted: Vec<(UserId, Submitted)> = Vec::new();

    for op in ops {
        match op {
            Op::Submit(u) => {
                let req = PhotoSubmission {
                    user: users[u],
                    image: jpeg(),
                    meal_type: MealType::Snack,
                    date: None,
                    user_comment: None,
                    meal_id: None,
                    meal_photo_id: None,
                    trace_id: "prop".into(),
                };
                if let Ok(s) = svc.submit_photo(req).await {
                    submitted.push((users[u], s));
                }
            }
            Op::FailNext => llm.push(Behavior::NotFood),
            Op::Cancel(k) => {
                if !submitted.is_empty() {
                    let (u, s) = &submitted[k % submitted.len()];
                    let _ = svc.cancel_task(*u, &s.task_id).await;
                }
            }
            Op::Complete => {
                app.run_jobs().await;
            }
            Op::Crash => crash_one(&app).await,
            Op::Reap(secs) => {
                app.clock.advance(chrono::Duration::seconds(secs));
                let _ = svc.reap().await;
            }
        }
    }
    // Long after everything: leases expire, workers and the reaper settle the rest.
    app.clock.advance(chrono::Duration::minutes(10));
    app.run_jobs().await;
    let _ = svc.reap().await;

    let conn = app.db().conn();
    let photos = meal_photo::Entity::find().all(conn).await.expect("photos");
    for p in &photos {
        let status: PhotoStatus = p.status.parse().expect("known status");
        assert!(status.is_terminal(), "photo {} left {}", p.id, p.status);
        if status != PhotoStatus::Success {
            assert!(
                p.error_code.is_some(),
                "photo {} {} without a code",
                p.id,
                p.status
            );
        }
    }
    for t in ai_task::Entity::find().all(conn).await.expect("tasks") {
        assert_ne!(t.status, "processing", "task {} never settled", t.task_id);
        assert_eq!(
            t.status == "failed",
            t.error_code.is_some(),
            "task {}",
            t.task_id
        );
    }
    let mut by_meal: HashMap<i64, Vec<PhotoStatus>> = HashMap::new();
    for p in &photos {
        by_meal
            .entry(p.meal_id)
            .or_default()
            .push(p.status.parse().expect("status"));
    }
    for m in meal::Entity::find().all(conn).await.expect("meals") {
        let statuses = by_meal.remove(&m.id).unwrap_or_default();
        let expected = finalize_meal(statuses.clone()).status();
        assert_eq!(
            Some(m.status.as_str()),
            expected.map(|s| s.as_str()),
            "meal {} with photos {statuses:?}",
            m.id
        );
    }
    let day = domain::nutrition::user_today(app.clock_now(), chrono_tz::Europe::Moscow);
    let submit_day = domain::nutrition::user_today(
        app.clock_now() - chrono::Duration::minutes(10),
        chrono_tz::Europe::Moscow,
    );
    if day == submit_day {
        for u in users {
            let meals: Vec<i64> = meal::Entity::find()
                .filter(meal::Column::UserId.eq(u.0))
                .all(conn)
                .await
                .expect("meals")
                .iter()
                .map(|m| m.id)
                .collect();
            let successes = photos
                .iter()
                .filter(|p| meals.contains(&p.meal_id) && p.status == "SUCCESS")
                .count() as i32;
            assert_eq!(
                svc.quota_used(u, day).await.expect("quota"),
                successes,
                "user {u}"
            );
        }
    }
    app.finish().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_interleaving_leaves_a_photo_processing(ops in proptest::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let llm = FakeLlm::start().await;
            run_case(ops, &llm).await;
        });
    }
}

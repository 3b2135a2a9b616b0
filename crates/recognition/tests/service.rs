//! The recognition service end to end on both backends: real database, real job queue, the
//! in-process recognizer over a scripted OpenAI-compatible fake.

use std::sync::Arc;

use domain::error::AiErrorCode;
use domain::ids::UserId;
use domain::nutrition::MealType;
use recognition::{PhotoSubmission, Service, SubmitError, Submitted, TextSubmission};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use store::entities::{ai_task, food_item, meal, meal_photo, telegram_user};
use testkit::app::{Options, TestApp, fake_recognizer};
use testkit::fake_llm::{Behavior, FakeLlm};

pub fn jpeg(w: u16, h: u16) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.push((u32::from(x) * 255 / u32::from(w.max(1))) as u8);
            rgb.push((u32::from(y) * 255 / u32::from(h.max(1))) as u8);
            rgb.push(128);
        }
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .expect("encode test jpeg");
    out
}

async fn user(app: &TestApp, tg: i64) -> UserId {
    let r = app
        .get_as(tg, "/api/v1/users/profile/")
        .send()
        .await
        .expect("provision");
    assert!(r.status().is_success(), "{}", r.status());
    let t = telegram_user::Entity::find()
        .filter(telegram_user::Column::TelegramId.eq(tg))
        .one(app.db().conn())
        .await
        .expect("db")
        .expect("telegram user");
    UserId(t.user_id)
}

fn photo(user: UserId) -> PhotoSubmission {
    PhotoSubmission {
        user,
        image: jpeg(64, 48),
        meal_type: MealType::Lunch,
        date: None,
        user_comment: Some("гречка с курицей".into()),
        meal_id: None,
        meal_photo_id: None,
        trace_id: "trace-test".into(),
    }
}

fn success_items() -> serde_json::Value {
    FakeLlm::items(&[
        ("гречка", 150.0, 138.0, 5.1, 0.9, 29.9),
        ("куриная грудка", 100.0, 165.0, 31.0, 3.6, 0.0),
    ])
}

async fn apps_with_ai() -> (FakeLlm, Vec<TestApp>) {
    let llm = FakeLlm::start().await;
    let opts = Options {
        recognizer: Some(fake_recognizer(&llm)),
        ..Options::default()
    };
    let apps = TestApp::all_with(opts).await;
    (llm, apps)
}

async fn task(svc: &Service, user: UserId, id: &str) -> ai_task::Model {
    svc.task(user, id).await.expect("db").expect("task")
}

async fn photo_row(app: &TestApp, id: i64) -> meal_photo::Model {
    meal_photo::Entity::find_by_id(id)
        .one(app.db().conn())
        .await
        .expect("db")
        .expect("photo")
}

async fn meal_row(app: &TestApp, id: i64) -> meal::Model {
    meal::Entity::find_by_id(id)
        .one(app.db().conn())
        .await
        .expect("db")
        .expect("meal")
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    domain::nutrition::user_today(app.clock_now(), chrono_tz::Europe::Moscow)
}

#[tokio::test]
async fn photo_success_saves_items_totals_and_completes_the_meal() {
    let (llm, apps) = apps_with_ai().await;
    for app in apps {
        let svc = app.recognition();
        let u = user(&app, 1001).await;
        llm.push(Behavior::Success(success_items()));
        let s: Submitted = svc.submit_photo(photo(u)).await.expect("submit");
        let photo_id = s.meal_photo_id.expect("photo id");
        assert_eq!(photo_row(&app, photo_id).await.status, "PENDING");
        assert_eq!(meal_row(&app, s.meal_id).await.status, "PROCESSING");
        assert_eq!(task(&svc, u, &s.task_id).await.status, "processing");
        assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 1);

        assert_eq!(app.run_jobs().await, 1);
        let t = task(&svc, u, &s.task_id).await;
        assert_eq!(t.status, "success");
        assert_eq!(t.error_code, None);
        let body = recognition::poll_body(&t);
        assert_eq!(body["status"], "success");
        let items = body["result"]["items"].as_array().expect("items").clone();
        assert_eq!(items.len(), 2);
        assert!(body["result"]["totals"]["calories"].as_f64().expect("kcal") > 200.0);
        let p = photo_row(&app, photo_id).await;
        assert_eq!(p.status, "SUCCESS");
        assert!(p.recognized_data.expect("data")["items"].is_array());
        assert_eq!(meal_row(&app, s.meal_id).await.status, "COMPLETE");
        let saved = food_item::Entity::find()
            .filter(food_item::Column::MealId.eq(s.meal_id))
            .all(app.db().conn())
            .await
            .expect("items");
        assert_eq!(saved.len(), 2);
        assert!(saved.iter().all(|i| i.source == "ai" && i.calories > 0.0));
        // The slot stays used after a success; a re-run of the job changes nothing.
        assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 1);
        assert_eq!(app.run_jobs().await, 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn every_failure_ends_failed_with_its_code_and_releases_the_slot() {
    let (llm, apps) = apps_with_ai().await;
    let cases: Vec<(Behavior, AiErrorCode)> = vec![
        (Behavior::NotFood, AiErrorCode::UnsupportedContent),
        (Behavior::EmptyItems, AiErrorCode::EmptyResult),
        (
            Behavior::LowConfidence(serde_json::json!([])),
            AiErrorCode::LowConfidence,
        ),
        (Behavior::Unauthorized, AiErrorCode::AiServiceMisconfigured),
        (Behavior::Refusal, AiErrorCode::UnsupportedContent),
    ];
    for app in apps {
        let svc = app.recognition();
        let u = user(&app, 1002).await;
        for (behavior, code) in cases.clone() {
            llm.set_default(behavior.clone());
            let s = svc.submit_photo(photo(u)).await.expect("submit");
            app.run_jobs().await;
            let t = task(&svc, u, &s.task_id).await;
            assert_eq!(t.status, "failed", "{behavior:?}");
            assert_eq!(t.error_code.as_deref(), Some(code.as_str()), "{behavior:?}");
            let body = recognition::poll_body(&t);
            assert_eq!(body["status"], "failed");
            assert_eq!(body["error"], code.as_str());
            let p = photo_row(&app, s.meal_photo_id.expect("id")).await;
            assert_eq!(p.status, "FAILED");
            assert_eq!(p.error_code.as_deref(), Some(code.as_str()));
            assert_eq!(meal_row(&app, s.meal_id).await.status, "FAILED");
            assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 0);
            // Next case gets a fresh meal.
            app.clock.advance(chrono::Duration::minutes(11));
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn cancel_pending_and_processing_finalises_and_frees_the_slot() {
    let (llm, apps) = apps_with_ai().await;
    for app in apps {
        let svc = app.recognition();
        let u = user(&app, 1003).await;
        // PENDING.
        let requests_before = llm.request_count();
        let s = svc.submit_photo(photo(u)).await.expect("submit");
        assert!(svc.cancel_task(u, &s.task_id).await.expect("cancel"));
        assert!(!svc.cancel_task(u, &s.task_id).await.expect("again"));
        let p = photo_row(&app, s.meal_photo_id.expect("id")).await;
        assert_eq!(
            (p.status.as_str(), p.error_code.as_deref()),
            ("CANCELLED", Some("CANCELLED"))
        );
        assert_eq!(meal_row(&app, s.meal_id).await.status, "FAILED");
        assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 0);
        app.run_jobs().await; // the job finds a terminal photo and does nothing
        assert_eq!(photo_row(&app, p.id).await.status, "CANCELLED");
        assert_eq!(llm.request_count(), requests_before);

        // PROCESSING: the recognizer is slow; cancel lands meanwhile; its result is discarded.
        llm.push(Behavior::Delay(
            std::time::Duration::from_millis(600),
            Box::new(Behavior::Success(success_items())),
        ));
        let s2 = svc.submit_photo(photo(u)).await.expect("submit");
        let runner = {
            let worker = app.worker.clone();
            tokio::spawn(async move { worker.drain_queue(jobs::Queue::Ai).await })
        };
        let pid = s2.meal_photo_id.expect("id");
        for _ in 0..100 {
            if photo_row(&app, pid).await.status == "PROCESSING" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(photo_row(&app, pid).await.status, "PROCESSING");
        let out = svc
            .cancel_batch(
                u,
                recognition::CancelRequest {
                    client_cancel_id: "5a1c7c1e-0000-4000-8000-000000000001".into(),
                    meal_photo_ids: vec![pid],
                    task_ids: vec![s2.task_id.clone()],
                    reason: "user_cancel".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("batch");
        assert_eq!(
            (out.cancelled_tasks, out.updated_photos, out.noop),
            (1, 1, false)
        );
        runner.await.expect("join").expect("drain");
        assert_eq!(photo_row(&app, pid).await.status, "CANCELLED");
        let items = food_item::Entity::find()
            .filter(food_item::Column::MealId.eq(s2.meal_id))
            .all(app.db().conn())
            .await
            .expect("items");
        assert!(items.is_empty(), "late results must be discarded");
        assert_eq!(meal_row(&app, s2.meal_id).await.status, "FAILED");
        assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 0);
        // Idempotent by client_cancel_id.
        let again = svc
            .cancel_batch(
                u,
                recognition::CancelRequest {
                    client_cancel_id: "5a1c7c1e-0000-4000-8000-000000000001".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("batch");
        assert!(again.repeated);
        assert_eq!((again.cancelled_tasks, again.updated_photos), (1, 1));
        app.finish().await;
    }
}

#[tokio::test]
async fn free_quota_is_three_a_day_failures_do_not_count_and_retry_reserves() {
    let (llm, apps) = apps_with_ai().await;
    for app in apps {
        let svc = app.recognition();
        let u = user(&app, 1004).await;
        // A failed photo gives its slot back.
        llm.set_default(Behavior::NotFood);
        let failed = svc.submit_photo(photo(u)).await.expect("submit");
        app.run_jobs().await;
        llm.set_default(Behavior::Success(success_items()));
        for _ in 0..3 {
            svc.submit_photo(photo(u)).await.expect("submit");
            app.run_jobs().await;
        }
        let err = svc.submit_photo(photo(u)).await.expect_err("4th");
        assert!(
            matches!(
                err,
                SubmitError::Ai(AiErrorCode::DailyPhotoLimitExceeded, _)
            ),
            "{err:?}"
        );
        // Retry of the failed photo also needs a slot.
        let mut retry = photo(u);
        retry.meal_photo_id = failed.meal_photo_id;
        let err = svc.submit_photo(retry.clone()).await.expect_err("retry");
        assert!(matches!(
            err,
            SubmitError::Ai(AiErrorCode::DailyPhotoLimitExceeded, _)
        ));
        assert_eq!(
            photo_row(&app, failed.meal_photo_id.expect("id"))
                .await
                .status,
            "FAILED"
        );
        // Next user-local day: the retry goes through on the same photo row.
        app.clock.advance(chrono::Duration::days(1));
        let r = svc
            .submit_photo(retry.clone())
            .await
            .expect("retry next day");
        assert_eq!(r.meal_photo_id, failed.meal_photo_id);
        app.run_jobs().await;
        assert_eq!(
            photo_row(&app, r.meal_photo_id.expect("id")).await.status,
            "SUCCESS"
        );
        // Retrying a SUCCESS photo is refused; a foreign photo is not found.
        let err = svc.submit_photo(retry).await.expect_err("success retry");
        assert!(matches!(
            err,
            SubmitError::Ai(AiErrorCode::InvalidStatus, _)
        ));
        let other = user(&app, 1005).await;
        let mut foreign = photo(other);
        foreign.meal_photo_id = failed.meal_photo_id;
        let err = svc.submit_photo(foreign).await.expect_err("foreign");
        assert!(matches!(
            err,
            SubmitError::Ai(AiErrorCode::PhotoNotFound, _)
        ));
        app.finish().await;
    }
}

#[tokio::test]
async fn ten_parallel_submits_accept_exactly_three() {
    let (_llm, apps) = apps_with_ai().await;
    for app in apps {
        let svc = app.recognition();
        let u = user(&app, 1006).await;
        let mut handles = Vec::new();
        for _ in 0..10 {
            let svc = svc.clone();
            handles.push(tokio::spawn(
                async move { svc.submit_photo(photo(u)).await },
            ));
        }
        let mut ok = 0;
        for h in handles {
            match h.await.expect("join") {
                Ok(_) => ok += 1,
                Err(SubmitError::Ai(AiErrorCode::DailyPhotoLimitExceeded, _)) => {}
                Err(e) => panic!("unexpected: {e:?}"),
            }
        }
        assert_eq!(ok, 3, "{:?}", app.backend());
        assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 3);
        let photos = meal_photo::Entity::find()
            .all(app.db().conn())
            .await
            .expect("photos");
        assert_eq!(photos.len(), 3, "rejected submissions leave no rows");
        app.finish().await;
    }
}

#[tokio::test]
async fn reaper_fails_a_stuck_photo_with_ai_timeout() {
    let (_llm, apps) = apps_with_ai().await;
    for app in apps {
        let svc = app.recognition();
        let u = user(&app, 1007).await;
        let s = svc.submit_photo(photo(u)).await.expect("submit");
        // Crash: a worker claims the job and dies (photo left as is).
        assert_eq!(
            svc.reap().await.expect("reap"),
            0,
            "not yet past the deadline"
        );
        app.clock.advance(chrono::Duration::minutes(3));
        assert_eq!(svc.reap().await.expect("reap"), 1);
        let p = photo_row(&app, s.meal_photo_id.expect("id")).await;
        assert_eq!(
            (p.status.as_str(), p.error_code.as_deref()),
            ("FAILED", Some("AI_TIMEOUT"))
        );
        assert_eq!(meal_row(&app, s.meal_id).await.status, "FAILED");
        assert_eq!(svc.quota_used(u, today(&app)).await.expect("q"), 0);
        let t = task(&svc, u, &s.task_id).await;
        assert_eq!(t.error_code.as_deref(), Some("AI_TIMEOUT"));
        // The late job does nothing.
        app.run_jobs().await;
        assert_eq!(photo_row(&app, p.id).await.status, "FAILED");
        assert!(!recognition::periodic().is_empty());
        app.finish().await;
    }
}

#[tokio::test]
async fn offline_text_logging_without_any_provider() {
    for app in TestApp::all().await {
        let svc = app.recognition();
        assert!(!svc.ai_configured);
        let u = user(&app, 1008).await;
        let err = svc.submit_photo(photo(u)).await.expect_err("no ai");
        assert!(matches!(
            err,
            SubmitError::Ai(AiErrorCode::AiNotConfigured, _)
        ));
        let s = svc
            .submit_text(TextSubmission {
                user: u,
                text: "150 г гречки и 100 г куриной грудки".into(),
                meal_type: MealType::Dinner,
                date: None,
                meal_id: None,
                trace_id: "t".into(),
            })
            .await
            .expect("text");
        assert_eq!(s.meal_photo_id, None);
        app.run_jobs().await;
        let t = task(&svc, u, &s.task_id).await;
        assert_eq!(t.status, "success", "{t:?}");
        let items = food_item::Entity::find()
            .filter(food_item::Column::MealId.eq(s.meal_id))
            .all(app.db().conn())
            .await
            .expect("items");
        assert_eq!(items.len(), 2, "{items:?}");
        // SR28 per 100 g: 20010 buckwheat groats, roasted, cooked: 92 kcal, 3.38 P, 0.62 F,
        // 19.94 C; 05064 chicken breast, meat only, roasted: 165 kcal, 31.02 P, 3.57 F, 0 C.
        let near = |a: f64, b: f64| (a - b).abs() <= b.abs() * 0.10 + 0.5;
        let buck = &items[0];
        assert_eq!(buck.grams, 150);
        assert!(
            near(buck.calories, 138.0)
                && near(buck.protein, 5.07)
                && near(buck.carbohydrates, 29.91),
            "{buck:?}"
        );
        let chicken = &items[1];
        assert_eq!(chicken.grams, 100);
        assert!(
            near(chicken.calories, 165.0)
                && near(chicken.protein, 31.02)
                && near(chicken.fat, 3.57),
            "{chicken:?}"
        );
        assert!(items.iter().all(|i| i.source == "text"));
        // Nothing recognisable → EMPTY_RESULT, and the empty meal is removed.
        let s = svc
            .submit_text(TextSubmission {
                user: u,
                text: "йцукен фывапр".into(),
                meal_type: MealType::Breakfast,
                date: None,
                meal_id: None,
                trace_id: "t".into(),
            })
            .await
            .expect("text");
        app.run_jobs().await;
        let t = task(&svc, u, &s.task_id).await;
        assert_eq!(t.error_code.as_deref(), Some("EMPTY_RESULT"));
        assert!(
            meal::Entity::find_by_id(s.meal_id)
                .one(app.db().conn())
                .await
                .expect("db")
                .is_none()
        );
        app.finish().await;
    }
}

#[allow(dead_code)]
fn _assert_send(_: Arc<dyn ai::Recognizer>) {}

#[tokio::test]
async fn a_rejected_key_raises_one_alert_for_many_photos_and_a_success_resolves_it() {
    let (llm, apps) = apps_with_ai().await;
    for app in apps {
        let svc = app.recognition();
        let u1 = user(&app, 1301).await;
        let u2 = user(&app, 1302).await;
        llm.set_default(Behavior::Unauthorized);
        for u in [u1, u1, u2] {
            svc.submit_photo(photo(u)).await.expect("submit");
        }
        assert_eq!(app.run_jobs().await, 3);
        let active = store::alerts::active(app.db()).await.expect("alerts");
        assert_eq!(active.len(), 1, "one alert for three failures");
        assert_eq!(active[0].rule, recognition::MISCONFIGURED_ALERT);
        assert_eq!(active[0].occurrences, 3);

        llm.set_default(Behavior::Success(success_items()));
        svc.submit_photo(photo(u2)).await.expect("submit");
        app.run_jobs().await;
        assert!(
            store::alerts::active(app.db())
                .await
                .expect("alerts")
                .is_empty()
        );
        app.finish().await;
    }
}

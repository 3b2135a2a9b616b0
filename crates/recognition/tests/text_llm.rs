//! Text logging with and without the LLM, on both backends: the LLM's items when a recognizer
//! with a text path is configured, the offline parser when it is not or when the LLM fails.

use std::sync::Arc;

use domain::ids::UserId;
use domain::nutrition::MealType;
use recognition::{Service, TextSubmission};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use store::entities::{ai_task, food_item, telegram_user};
use testkit::app::{Options, TestApp, fake_recognizer};
use testkit::fake_llm::{Behavior, FakeLlm};

const MEAL: &str = "200 г гречки, куриная грудка 150г, кофе с молоком";
const OFFLINE_MEAL: &str = "150 г гречки и 100 г куриной грудки";

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

async fn apps_with(recognizer: Arc<dyn ai::Recognizer>) -> Vec<TestApp> {
    TestApp::all_with(Options {
        recognizer: Some(recognizer),
        ..Options::default()
    })
    .await
}

/// Submits `text`, runs the jobs, and returns the finished task and its saved items.
async fn log_text(
    app: &TestApp,
    svc: &Service,
    u: UserId,
    text: &str,
) -> (ai_task::Model, Vec<food_item::Model>) {
    let s = svc
        .submit_text(TextSubmission {
            user: u,
            text: text.into(),
            meal_type: MealType::Dinner,
            date: None,
            meal_id: None,
            trace_id: "text-llm-trace".into(),
        })
        .await
        .expect("text");
    app.run_jobs().await;
    let t = svc.task(u, &s.task_id).await.expect("db").expect("task");
    let items = food_item::Entity::find()
        .filter(food_item::Column::MealId.eq(s.meal_id))
        .all(app.db().conn())
        .await
        .expect("items");
    (t, items)
}

fn path(t: &ai_task::Model) -> Value {
    recognition::poll_body(t)["result"]["meta"]["path"].clone()
}

/// The offline parse of [`OFFLINE_MEAL`] (SR28 per 100 g: buckwheat, cooked: 92 kcal;
/// chicken breast, roasted: 165 kcal).
fn assert_offline_items(items: &[food_item::Model]) {
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!((items[0].grams, items[1].grams), (150, 100), "{items:?}");
    let near = |a: f64, b: f64| (a - b).abs() <= b * 0.10 + 0.5;
    assert!(near(items[0].calories, 138.0), "{items:?}");
    assert!(near(items[1].calories, 165.0), "{items:?}");
    assert!(items.iter().all(|i| i.source == "text"));
}

#[tokio::test]
async fn text_uses_the_llm_when_a_recognizer_is_configured() {
    let llm = FakeLlm::start().await;
    for app in apps_with(fake_recognizer(&llm)).await {
        let svc = app.recognition();
        let u = user(&app, 2001).await;
        let before = llm.request_count();
        llm.push(FakeLlm::text_reply(FakeLlm::items(&[
            ("гречка", 200.0, 250.0, 9.0, 2.0, 48.0),
            ("куриная грудка", 150.0, 248.0, 46.0, 5.0, 0.0),
            ("кофе с молоком", 200.0, 70.0, 3.5, 3.5, 5.0),
        ])));
        let (t, items) = log_text(&app, &svc, u, MEAL).await;
        assert_eq!(t.status, "success", "{t:?}");
        assert_eq!(path(&t), "llm");
        assert_eq!(llm.request_count(), before + 1, "exactly one LLM request");
        let req = llm.requests().pop().expect("request");
        assert!(req.image_url().is_none());
        assert!(req.user_texts().iter().any(|p| p.contains(MEAL)));
        assert_eq!(
            req.headers.get("x-request-id").map(String::as_str),
            Some("text-llm-trace")
        );

        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["гречка", "куриная грудка", "кофе с молоком"]);
        assert_eq!(
            items.iter().map(|i| i.grams).collect::<Vec<_>>(),
            [200, 150, 200]
        );
        assert!(items.iter().all(|i| i.source == "text"));
        // Grounded: buckwheat's kcal from the table (92 kcal/100 g), not the model's 250.
        assert!((items[0].calories - 184.0).abs() < 10.0, "{:?}", items[0]);
        let result = recognition::poll_body(&t)["result"].clone();
        assert_eq!(result["items"][0]["grounded"], true);
        assert_eq!(result["meta"]["source"], "text");
        app.finish().await;
    }
}

#[tokio::test]
async fn text_falls_back_offline_when_the_llm_fails() {
    let llm = FakeLlm::start().await;
    let failures = [
        Behavior::ServerError,
        Behavior::Malformed,
        Behavior::Unauthorized,
        FakeLlm::text_reply(serde_json::json!([])),
    ];
    for app in apps_with(fake_recognizer(&llm)).await {
        let svc = app.recognition();
        let u = user(&app, 2002).await;
        for behavior in failures.clone() {
            llm.set_default(behavior.clone());
            let before = llm.request_count();
            let (t, items) = log_text(&app, &svc, u, OFFLINE_MEAL).await;
            assert_eq!(t.status, "success", "{behavior:?}: {t:?}");
            assert_eq!(t.error_code, None);
            assert_eq!(path(&t), "llm_fallback", "{behavior:?}");
            assert!(llm.request_count() > before, "the LLM was tried");
            assert_offline_items(&items);
            app.clock.advance(chrono::Duration::minutes(11));
        }
        app.finish().await;
    }
}

#[tokio::test]
async fn text_is_offline_without_a_recognizer() {
    for app in TestApp::all().await {
        let svc = app.recognition();
        let u = user(&app, 2003).await;
        let (t, items) = log_text(&app, &svc, u, OFFLINE_MEAL).await;
        assert_eq!(t.status, "success", "{t:?}");
        assert_eq!(path(&t), "offline");
        assert_offline_items(&items);
        app.finish().await;
    }
}

#[tokio::test]
async fn text_is_offline_behind_a_remote_proxy() {
    // The proxy's client has no text path (the proxy has no text endpoint): text is parsed
    // offline without calling it (nothing listens at this address).
    let client = ai::AiProxyClient::new(
        url::Url::parse("http://127.0.0.1:9/").expect("url"),
        secrecy::SecretString::from("proxy-secret".to_owned()),
        None,
        std::time::Duration::from_secs(1),
    )
    .expect("client");
    for app in apps_with(Arc::new(client.clone())).await {
        let svc = app.recognition();
        let u = user(&app, 2004).await;
        let (t, items) = log_text(&app, &svc, u, OFFLINE_MEAL).await;
        assert_eq!(path(&t), "offline");
        assert_offline_items(&items);
        app.finish().await;
    }
}

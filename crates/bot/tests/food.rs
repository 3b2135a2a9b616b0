//! Food logging in the chat: a photo becomes a meal in the diary with the items the Mini App
//! shows; the FREE plan's 4th photo of the day gets the upgrade message; text logging; undo.

mod common;

use common::{Harness, jpeg};
use testkit::fake_llm::Behavior;
use testkit::fake_llm::FakeLlm;

const U: i64 = 777_001;

#[tokio::test]
async fn a_photo_becomes_a_meal_with_the_items_the_mini_app_shows() {
    for h in Harness::all().await {
        h.say(U, "/start").await;
        h.vision.push(Behavior::Success(FakeLlm::items(&[
            ("гречка", 150.0, 138.0, 5.1, 0.9, 29.9),
            ("куриная грудка", 100.0, 165.0, 31.0, 3.6, 0.0),
        ])));
        h.tg.inject_photo(U, jpeg(64, 48), Some("обед после тренировки"));
        h.poll_only().await;
        let waiting = h.tg.last_shown(U).unwrap_or_else(|| panic!("ack"));
        assert!(waiting.text().contains("Распознаю"), "{}", waiting.text());
        assert_eq!(
            h.app.run_jobs().await,
            1,
            "the same recognition job as the Mini App"
        );
        let asked = h
            .vision
            .requests()
            .iter()
            .flat_map(|r| r.user_texts())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            asked.contains("обед после тренировки"),
            "the caption is the comment: {asked}"
        );
        assert!(h.bot.settle(std::time::Duration::from_secs(10)).await);
        let result = h.tg.last_shown(U).unwrap_or_else(|| panic!("result"));
        assert_eq!(
            result.message_id, waiting.message_id,
            "the waiting message becomes the result"
        );
        let text = result.text();

        // The meal as the Mini App's meal screen reads it.
        let meal_id: i64 = result
            .callback_data()
            .iter()
            .find_map(|d| d.strip_prefix("u:").and_then(|id| id.parse().ok()))
            .unwrap_or_else(|| panic!("undo button"));
        let path = format!("/api/v1/meals/{meal_id}/");
        let (s, meal) = h.app.send_json(reqwest::Method::GET, U, &path, None).await;
        assert!(s.is_success(), "{meal}");
        let items = meal["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 2, "{meal}");
        for item in &items {
            let name = item["name"].as_str().unwrap_or_default();
            assert!(text.contains(name), "{name} missing in {text}");
            assert!(
                text.contains(&format!("{name} — {} г", item["grams"])),
                "{text}"
            );
        }
        assert_eq!(meal["meal_type"], "LUNCH", "12:00 in Moscow is lunch");
        // Buttons: meal type, undo, open in the app.
        assert!(
            result
                .callback_data()
                .contains(&format!("m:{meal_id}:DINNER"))
        );
        assert!(
            result
                .buttons()
                .iter()
                .any(|b| b["web_app"]["url"] == format!("{}/meal/{meal_id}", common::WEB_APP))
        );

        // Change the meal type, then undo.
        let changed = h.press(U, &format!("m:{meal_id}:DINNER")).await;
        assert!(changed.text().contains("Ужин"), "{}", changed.text());
        let (_, meal) = h.app.send_json(reqwest::Method::GET, U, &path, None).await;
        assert_eq!(meal["meal_type"], "DINNER");
        let undone = h.press(U, &format!("u:{meal_id}")).await;
        assert!(undone.text().contains("удалена"));
        let (s, _) = h.app.send_json(reqwest::Method::GET, U, &path, None).await;
        assert_eq!(s, reqwest::StatusCode::NOT_FOUND);
        h.finish().await;
    }
}

#[tokio::test]
async fn a_free_users_fourth_photo_gets_the_upgrade_message() {
    for h in Harness::all().await {
        for i in 0..3 {
            h.tg.inject_photo(U, jpeg(64, 48), None);
            h.poll_only().await;
            assert_eq!(h.app.run_jobs().await, 1, "photo {i}");
            assert!(h.bot.settle(std::time::Duration::from_secs(10)).await);
        }
        h.tg.inject_photo(U, jpeg(64, 48), None);
        h.poll_only().await;
        let last = h.tg.last_shown(U).unwrap_or_else(|| panic!("answer"));
        assert!(last.text().contains("Лимит бесплатных"), "{}", last.text());
        assert!(
            last.buttons()
                .iter()
                .any(|b| b["web_app"]["url"] == format!("{}/subscription", common::WEB_APP))
        );
        assert_eq!(
            h.app.run_jobs().await,
            0,
            "nothing submitted over the quota"
        );
        h.finish().await;
    }
}

#[tokio::test]
async fn text_logs_food_and_today_shows_the_day() {
    for h in Harness::all().await {
        h.tg.inject_message(U, "200 г гречки и котлета");
        h.poll_only().await;
        let ack = h.tg.last_shown(U).unwrap_or_else(|| panic!("ack"));
        assert!(ack.text().contains("Считаю"), "{}", ack.text());
        h.app.run_jobs().await;
        assert!(h.bot.settle(std::time::Duration::from_secs(10)).await);
        let r = h.tg.last_shown(U).unwrap_or_else(|| panic!("result"));
        assert!(r.text().contains("Итого"), "{}", r.text());
        let today = h.say(U, "/today").await;
        assert!(today.text().contains("10.03.2026"), "{}", today.text());
        assert!(today.text().contains("Приёмов пищи: 1"), "{}", today.text());
        h.finish().await;
    }
}

//! The survey driven through the fake Bot API: every step, back, cancel, invalid input at each
//! step, a restart of the bot in the middle, the plan (split over 4096 characters) and the
//! daily plan limit.

mod common;

use common::{Harness, plan_reply};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use store::entities::{personal_plan, personal_plan_survey, telegram_user};

const U: i64 = 424_242;

fn has_button(c: &testkit::fake_telegram::Call, data: &str) -> bool {
    c.callback_data().iter().any(|d| d == data)
}

#[tokio::test]
async fn the_whole_survey_with_back_cancel_invalid_inputs_and_a_restart_in_the_middle() {
    for mut h in Harness::all().await {
        // /start with a coach invite payload: welcome with the survey and the Mini App.
        let w = h.say(U, "/start coach_anna").await;
        assert!(w.text().contains("Персональный план"), "{}", w.text());
        assert!(has_button(&w, "survey:start"));
        let tg = telegram_user::Entity::find()
            .filter(telegram_user::Column::TelegramId.eq(U))
            .one(h.app.db().conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("user"));
        assert_eq!(
            tg.source_tag.as_deref(),
            Some("coach_anna"),
            "deep-link attribution"
        );

        // Cancel from the first step.
        let q = h.press(U, "survey:start").await;
        assert!(q.text().contains("Шаг 1 из 12"));
        assert!(has_button(&q, "s:cancel"));
        let c = h.press(U, "s:cancel").await;
        assert!(c.text().contains("Опрос отменён"), "{}", c.text());
        // A stale survey button after cancelling gets a pop-up, not a crash.
        h.tg.inject_callback(U, c.message_id.unwrap_or_default(), "s:g:male");
        h.poll().await;
        assert!(h.last_callback_answer().is_some());

        h.say(U, "/personal_plan").await;
        h.press(U, "survey:start").await;
        // Step 1: text instead of a button.
        let e = h.say(U, "мужчина").await;
        assert!(e.text().contains("Нажмите одну из кнопок"), "{}", e.text());
        assert!(e.text().contains("Шаг 1 из 12"));
        let q = h.press(U, "s:g:male").await;
        assert!(q.text().contains("Шаг 2 из 12"));
        // Step 2.
        for bad in ["13", "81", "28.5", "двадцать"] {
            let e = h.say(U, bad).await;
            assert!(
                e.text().contains("Некорректный возраст"),
                "{bad}: {}",
                e.text()
            );
        }
        let q = h.say(U, "28").await;
        assert!(
            q.text().contains("Шаг 3 из 12") && q.text().contains("28 лет ✅"),
            "{}",
            q.text()
        );
        // Back to step 2 and forward again.
        let b = h.press(U, "s:back").await;
        assert!(b.text().contains("Шаг 2 из 12"), "{}", b.text());
        h.say(U, "29").await;
        // Step 3.
        let e = h.say(U, "119").await;
        assert!(e.text().contains("Некорректный рост"));
        let q = h.say(U, "180").await;
        assert!(q.text().contains("Шаг 4 из 12"));
        // Step 4.
        let e = h.say(U, "29,9").await;
        assert!(e.text().contains("Некорректный вес"));
        let q = h.say(U, "85,5").await;
        assert!(q.text().contains("Шаг 5 из 12"));
        // Step 5.
        let e = h.say(U, "85.5").await;
        assert!(
            e.text().contains("Некорректный целевой вес"),
            "same as current"
        );
        let q = h.say(U, "78").await;
        assert!(q.text().contains("Шаг 6 из 12"));
        // Step 6: a forged button and text are refused.
        h.press(U, "s:act:couch").await;
        assert!(
            h.last_callback_answer().is_some(),
            "invalid activity gets a pop-up"
        );
        let e = h.say(U, "много хожу").await;
        assert!(e.text().contains("Шаг 6 из 12"));
        let q = h.press(U, "s:act:moderate").await;
        assert!(q.text().contains("Шаг 7 из 12"));

        // The bot restarts (deploy): a new instance over the same database resumes at step 7.
        h.restart().await;
        let e = h.say(U, "продолжим?").await;
        assert!(e.text().contains("Шаг 7 из 12"), "resumed: {}", e.text());
        let q = h.press(U, "s:tl:intermediate").await;
        assert!(q.text().contains("Шаг 8 из 12"));
        // Step 8: nothing selected → pop-up; toggles.
        h.press(U, "s:bg:done").await;
        assert!(
            h.last_callback_answer()
                .unwrap_or_default()
                .contains("хотя бы один")
        );
        h.press(U, "s:bg:muscle_gain").await;
        let q = h.press(U, "s:bg:back_posture").await;
        assert!(q.text().contains("Выбрано"));
        let q = h.press(U, "s:bg:done").await;
        assert!(q.text().contains("Шаг 9 из 12"));
        // Step 9.
        h.press(U, "s:hl:done").await;
        assert!(h.last_callback_answer().is_some());
        h.press(U, "s:hl:joints").await;
        let q = h.press(U, "s:hl:done").await;
        assert!(q.text().contains("Шаг 10 из 12"));
        // Step 10: men have 4 body types.
        h.press(U, "s:bn:5").await;
        assert!(h.last_callback_answer().is_some());
        let q = h.press(U, "s:bn:3").await;
        assert!(q.text().contains("Шаг 11 из 12"));
        // Step 11.
        h.press(U, "s:bi:9").await;
        assert!(h.last_callback_answer().is_some());
        let q = h.press(U, "s:bi:2").await;
        assert!(q.text().contains("Шаг 12 из 12"));
        // Step 12: manual entry, garbage, then a city.
        let m = h.press(U, "s:tz:manual").await;
        assert!(m.text().contains("Введите часовой пояс"));
        let e = h.say(U, "Марс").await;
        assert!(e.text().contains("Некорректный часовой пояс"));
        let s = h.say(U, "Екатеринбург").await;
        // The summary: one "UTC", every answer.
        assert!(
            s.text().contains("Asia/Yekaterinburg (UTC+5)"),
            "{}",
            s.text()
        );
        assert!(!s.text().contains("UTCUTC"));
        assert!(
            s.text().contains("29 лет")
                && s.text().contains("85.5 кг")
                && s.text().contains("78 кг")
        );
        assert!(has_button(&s, "s:back") && has_button(&s, "s:cancel"));
        let consent = h.press(U, "s:ok").await;
        assert!(consent.text().contains("Согласие"), "{}", consent.text());
        assert_eq!(
            h.planner.request_count(),
            0,
            "nothing goes to the LLM before consent"
        );

        h.planner.push(plan_reply(
            "Тренировки три раза в неделю, питание без крайностей и активность каждый день",
            3,
        ));
        h.press(U, "s:consent:profile").await;
        let shown =
            h.tg.calls()
                .into_iter()
                .filter(|c| c.chat_id() == Some(U) && c.text().contains("1800–2100 ккал/день"))
                .count();
        assert_eq!(shown, 1, "the plan was shown once");
        let last = h.tg.last_shown(U).unwrap_or_else(|| panic!("after"));
        assert!(last.text().contains("трекер"), "{}", last.text());
        assert!(
            last.buttons()
                .iter()
                .any(|b| b["web_app"]["url"] == common::WEB_APP)
        );

        // The request carried answers, not identity.
        let req = &h.planner.requests()[0];
        let body = req.body.to_string();
        assert!(!body.contains(&U.to_string()) && !body.contains("user424242"));
        assert!(body.contains("json_schema"));

        // Stored: survey, plan, lead; profile and AUTO goal filled with consent.
        let surveys = personal_plan_survey::Entity::find()
            .all(h.app.db().conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(surveys.len(), 1);
        assert_eq!(surveys[0].timezone, "Asia/Yekaterinburg");
        assert_eq!(surveys[0].utc_offset_minutes, 300);
        let plans = personal_plan::Entity::find()
            .all(h.app.db().conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].survey_id, Some(surveys[0].id));
        let (_, profile) = h
            .app
            .send_json(reqwest::Method::GET, U, "/api/v1/users/profile/", None)
            .await;
        assert_eq!(
            profile["profile"]["timezone"], "Asia/Yekaterinburg",
            "{profile}"
        );
        let (_, goals) = h
            .app
            .send_json(reqwest::Method::GET, U, "/api/v1/goals/", None)
            .await;
        assert!(goals.to_string().contains("AUTO"), "{goals}");
        h.finish().await;
    }
}

async fn run_survey(h: &Harness, user: i64) {
    h.say(user, "/personal_plan").await;
    h.press(user, "survey:start").await;
    h.press(user, "s:g:female").await;
    h.say(user, "35").await;
    h.say(user, "165").await;
    h.say(user, "70").await;
    h.press(user, "s:skip").await;
    h.press(user, "s:act:light").await;
    h.press(user, "s:tl:beginner").await;
    h.press(user, "s:bg:weight_loss").await;
    h.press(user, "s:bg:done").await;
    h.press(user, "s:hl:none").await;
    h.press(user, "s:hl:done").await;
    h.press(user, "s:bn:2").await;
    h.press(user, "s:bi:1").await;
    let s = h.press(user, "s:tz:Europe/Moscow").await;
    assert!(s.text().contains("Europe/Moscow (UTC+3)"), "{}", s.text());
    assert!(
        s.text().contains("Без изменений"),
        "a skipped target: {}",
        s.text()
    );
    h.press(user, "s:ok").await;
    h.press(user, "s:consent:plan").await;
}

#[tokio::test]
async fn a_long_plan_arrives_in_parts_under_4096_and_the_fourth_plan_of_the_day_is_refused() {
    for h in Harness::all().await {
        let u = 515_151;
        // First answer fails validation (supplements): regenerated once.
        h.planner.push(plan_reply(
            "Пейте витамины и БАДы каждый день после еды утром и вечером",
            3,
        ));
        let long = "Тренировки три раза в неделю с прогрессией нагрузки, питание с достаточным белком и ежедневная активность без перегрузок суставов";
        h.planner.push(plan_reply(long, 12));
        run_survey(&h, u).await;
        let last = h.tg.last_shown(u).map(|c| c.text()).unwrap_or_default();
        assert_eq!(
            h.planner.request_count(),
            2,
            "one regeneration; last shown: {last}"
        );
        let parts: Vec<_> = h
            .tg
            .calls()
            .into_iter()
            .filter(|c| {
                c.chat_id() == Some(u)
                    && (c.method == "sendMessage" || c.method == "editMessageText")
            })
            .filter(|c| c.text().contains("Тренировки три раза") || c.text().contains("ккал/день"))
            .collect();
        assert!(
            parts.len() >= 2,
            "a plan over 4096 characters is split: {} part(s)",
            parts.len()
        );
        for p in &parts {
            let n = p.text().chars().count();
            assert!(n > 0 && n <= 4096, "part of {n} characters");
        }
        assert!(
            !h.tg.calls().iter().any(|c| c.method.ends_with("!failed")),
            "Telegram refused nothing"
        );

        // Two more plans today (stored directly), then the survey again: the limit message,
        // and no LLM call.
        for _ in 0..2 {
            let r = store::bot::create_plan(
                h.app.db(),
                plan_user(&h, u).await,
                &store::bot::NewPlan {
                    telegram_id: domain::ids::TelegramId::new(u).unwrap_or_else(|e| panic!("{e}")),
                    survey_id: None,
                    ai_text: "план".into(),
                    ai_model: None,
                    prompt_version: None,
                },
                h.app.clock_now(),
            )
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(r, store::bot::PlanOutcome::Created(_)));
        }
        run_survey(&h, u).await;
        assert_eq!(h.planner.request_count(), 2, "no generation over the limit");
        let last = h.tg.last_shown(u).unwrap_or_else(|| panic!("limit"));
        assert!(last.text().contains("дневной лимит"), "{}", last.text());
        assert!(last.text().contains("3 из 3"), "{}", last.text());
        h.finish().await;
    }
}

async fn plan_user(h: &Harness, tg: i64) -> i64 {
    telegram_user::Entity::find()
        .filter(telegram_user::Column::TelegramId.eq(tg))
        .one(h.app.db().conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("user"))
        .user_id
}

#[tokio::test]
async fn unexpected_input_gets_a_friendly_answer_and_commands_are_set() {
    for h in Harness::all().await {
        h.tg.inject_sticker(U);
        h.poll().await;
        let a = h.tg.last_shown(U).unwrap_or_else(|| panic!("answer"));
        assert!(a.text().contains("/help"), "{}", a.text());
        let a = h.say(U, "/nonsense").await;
        assert!(a.text().contains("/help"));
        h.bot.setup().await.unwrap_or_else(|e| panic!("{e}"));
        let calls = h.tg.calls();
        assert!(calls.iter().any(|c| c.method == "setMyCommands"));
        assert!(calls.iter().any(|c| c.method == "setChatMenuButton"));
        // The admin's /start offers the coach panel (https URL) and the new-user card was queued.
        let a = h.say(testkit::app::ADMIN_TG_ID, "/start").await;
        assert!(a.text().contains("Админ"), "{}", a.text());
        assert!(
            a.buttons()
                .iter()
                .any(|b| b["web_app"]["url"] == format!("{}/panel", common::WEB_APP)),
            "admins get the coach panel"
        );
        h.finish().await;
    }
}

//! Rotating the Telegram webhook secret token without losing an update: during the switch the
//! bot accepts a key set (new first, old second) and registers the webhook with the new one;
//! once Telegram sends only the new token, the old one is dropped and refused.

mod common;

use std::sync::Arc;

use bot::BotApp;
use common::{Harness, config};
use secrecy::SecretString;

const OLD: &str = "webhook-secret-old-0123456789";
const NEW: &str = "webhook-secret-new-9876543210";
const USER: i64 = 730_000_001;

fn bot_with(h: &Harness, secrets: &[&str]) -> Arc<BotApp> {
    let mut c = config(&h.tg);
    c.webhook_secrets = secrets
        .iter()
        .map(|s| SecretString::from((*s).to_owned()))
        .collect();
    let deps = h.bot.deps().clone();
    BotApp::new(c, deps).unwrap_or_else(|e| panic!("{e}"))
}

async fn serve(bot: Arc<BotApp>) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let router = bot::webhook_router(bot);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}{}", bot::WEBHOOK_PATH), server)
}

async fn deliver(url: &str, secret: &str, update_id: i64) -> u16 {
    let update = serde_json::json!({"update_id": update_id, "message": {"message_id": update_id, "date": 1_773_000_000,
        "chat": {"id": USER, "type": "private", "first_name": "Т"},
        "from": {"id": USER, "is_bot": false, "first_name": "Т"},
        "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}});
    reqwest::Client::new()
        .post(url)
        .header("X-Telegram-Bot-Api-Secret-Token", secret)
        .json(&update)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_webhook_secret_rotates_with_no_update_refused() {
    for h in Harness::all().await {
        // Before: only the old token.
        let (url, server) = serve(bot_with(&h, &[OLD])).await;
        assert_eq!(deliver(&url, OLD, 1).await, 200);
        server.abort();

        // During: the new token first, the old one still accepted; the webhook is registered
        // with the new one, so Telegram switches while in-flight deliveries with the old pass.
        let during = bot_with(&h, &[NEW, OLD]);
        let hook = url::Url::parse("https://eatfit.example/telegram/webhook")
            .unwrap_or_else(|e| panic!("{e}"));
        during
            .set_webhook(hook, &SecretString::from(NEW.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let registered: Vec<_> =
            h.tg.calls()
                .into_iter()
                .filter(|c| c.method == "setWebhook")
                .collect();
        assert_eq!(registered.len(), 1);
        assert_eq!(registered[0].params["secret_token"], NEW);
        let (url, server) = serve(during).await;
        assert_eq!(deliver(&url, OLD, 2).await, 200, "an in-flight delivery");
        assert_eq!(deliver(&url, NEW, 3).await, 200);
        server.abort();

        // After: the old token is gone.
        let (url, server) = serve(bot_with(&h, &[NEW])).await;
        assert_eq!(deliver(&url, NEW, 4).await, 200);
        assert_eq!(deliver(&url, OLD, 5).await, 403);
        server.abort();

        // Every accepted delivery was handled: four answers to /help, none to the refused one.
        let answered =
            h.tg.sent_to(USER)
                .iter()
                .filter(|c| c.method == "sendMessage")
                .count();
        assert_eq!(answered, 4);
        h.finish().await;
    }
}

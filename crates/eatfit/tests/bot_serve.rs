//! `eatfit serve` with a bot token runs the Telegram bot: the real binary long-polls a fake Bot
//! API, sets its commands and answers `/start`; SIGTERM stops it cleanly.

use std::process::{Command, Stdio};
use std::time::Duration;

use testkit::fake_telegram::FakeTelegram;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const U: i64 = 313_131;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

#[tokio::test]
async fn serve_with_a_bot_token_answers_start_through_the_bot_api() {
    let tg = FakeTelegram::start().await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .env("EATFIT_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("EATFIT_METRICS_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("TELEGRAM_BOT_TOKEN", testkit::BOT_TOKEN)
        .env("TELEGRAM_API_URL", tg.api_url())
        .env("TELEGRAM_WEB_APP_URL", "https://eatfit.example/app")
        .env("TELEGRAM_ADMINS", "500000001")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    tg.inject_message(U, "/start");
    let mut answered = false;
    for _ in 0..400 {
        if !tg.sent_to(U).is_empty() {
            answered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The admins get the "new user" card through the outbox and the notify worker.
    let mut carded = false;
    for _ in 0..200 {
        if !tg.sent_to(500_000_001).is_empty() {
            carded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let calls = tg.calls();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().ok().and_then(|s| s.code());
    assert!(
        answered,
        "no answer to /start; calls: {:?}",
        calls.iter().map(|c| c.method.clone()).collect::<Vec<_>>()
    );
    let welcome = &tg.sent_to(U)[0];
    assert!(
        welcome.text().contains("Персональный план"),
        "{}",
        welcome.text()
    );
    assert!(calls.iter().any(|c| c.method == "setMyCommands"));
    assert!(calls.iter().any(|c| c.method == "setChatMenuButton"));
    assert!(carded, "the admin card was delivered");
    assert!(
        tg.sent_to(500_000_001)[0]
            .text()
            .contains("НОВЫЙ ПОЛЬЗОВАТЕЛЬ")
    );
    assert_eq!(status, Some(0), "clean shutdown on SIGTERM");
}

//! Migrations as an operator meets them: `eatfit migrate` applies them; in prod on PostgreSQL a
//! role refuses to start while any is pending and names the command to run.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");

#[test]
fn migrate_applies_pending_migrations_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = || {
        Command::new(BIN)
            .arg("migrate")
            .current_dir(dir.path())
            .env_clear()
            .output()
            .expect("run")
    };
    let first = run();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let text = String::from_utf8_lossy(&first.stdout);
    assert!(!text.contains(" 0 migration(s)"), "{text}");
    assert!(dir.path().join("data/eatfit.db").exists());
    let second = run();
    assert!(String::from_utf8_lossy(&second.stdout).contains("0 migration(s) applied"));
}

#[tokio::test]
async fn prod_role_refuses_to_start_on_an_unmigrated_postgres() {
    let Ok(base) = std::env::var(store::testing::PG_ENV) else {
        eprintln!("skipped: {} not set", store::testing::PG_ENV);
        return;
    };
    // An empty database, never migrated.
    let name = format!("eatfit_unmigrated_{}", std::process::id());
    let admin = store::Db::connect(&store::DbUrl::parse(&base).expect("url"))
        .await
        .expect("connect");
    use store::sea_orm::ConnectionTrait;
    admin
        .conn()
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .expect("drop");
    admin
        .conn()
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create");
    let mut url = url::Url::parse(&base).expect("url");
    url.set_path(&format!("/{name}"));

    let proxy = testkit::fake_ai_proxy::FakeAiProxy::start(&[(
        "k",
        "ai-proxy-secret-0123456789abcdef0123456789",
    )])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .arg("api")
        .current_dir(dir.path())
        .env_clear()
        .env("APP_ENV", "prod")
        .env("DATABASE_URL", url.as_str())
        .env(
            "TELEGRAM_BOT_TOKEN",
            "7000000001:AAprod-like-bot-token-abcdefghijklmnop",
        )
        .env(
            "TELEGRAM_BOT_API_SECRET",
            "bot-api-secret-0123456789abcdef0123456789",
        )
        .env("AI_PROXY_URL", proxy.url())
        .env(
            "AI_PROXY_SECRET",
            "ai-proxy-secret-0123456789abcdef0123456789",
        )
        .env("YOOKASSA_MODE", "prod")
        .env("YOOKASSA_SHOP_ID", "123456")
        .env(
            "YOOKASSA_SECRET_KEY",
            "live_prod-like-yookassa-key-0123456789",
        )
        .env("YOOKASSA_RETURN_URL", "https://eatfit24.ru/app/")
        .env("EATFIT_LISTEN", "127.0.0.1:0")
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pending"), "{stderr}");
    assert!(stderr.contains("eatfit migrate"), "{stderr}");
    let _ = admin
        .conn()
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}

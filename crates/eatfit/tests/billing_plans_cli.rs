//! Operators edit plans through the real binary (`eatfit admin billing plans|plan-set|
//! plan-price`): a new PRO_MONTHLY price and a withdrawn PRO_YEARLY show in
//! `GET /api/v1/billing/plans/` of a server that is already running (no plan cache); taking the
//! last paid plan off sale, or charging for FREE, is refused with a non-zero exit and a reason.
//! SQLite always (through `eatfit serve`); PostgreSQL when `EATFIT_TEST_DATABASE_URL` is set
//! (a database of its own, checked through the store).

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const TOKEN: &str = "7000000001:AAplans-bot-token-0123456789abcdefghij";

/// Runs `eatfit <args>` in `dir`, on `database_url` when given (else `./data/eatfit.db`).
fn eatfit(dir: &std::path::Path, database_url: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args).current_dir(dir).env_clear();
    if let Some(url) = database_url {
        cmd.env("DATABASE_URL", url);
    }
    cmd.output().unwrap_or_else(|e| panic!("run eatfit: {e}"))
}

fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn refused(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_ne!(out.status.code(), Some(0), "accepted; stderr: {stderr}");
    assert!(out.stdout.is_empty() || !String::from_utf8_lossy(&out.stdout).contains("after:"));
    stderr
}

/// The operator's session: list, raise PRO_MONTHLY, withdraw PRO_YEARLY, and the refusals.
fn edit_plans(dir: &std::path::Path, db: Option<&str>) {
    let list = ok(&eatfit(dir, db, &["admin", "billing", "plans"]));
    for code in ["FREE", "PRO_MONTHLY", "PRO_YEARLY", "TEST_LIVE"] {
        assert!(list.contains(code), "{list}");
    }
    assert!(list.contains("299.00"), "{list}");

    let set = ok(&eatfit(
        dir,
        db,
        &[
            "admin",
            "billing",
            "plan-set",
            "PRO_MONTHLY",
            "--price",
            "349",
            "--old-price",
            "399.00",
            "--title",
            "PRO месяц",
        ],
    ));
    let before = set.lines().find(|l| l.starts_with("before:")).unwrap_or("");
    let after = set.lines().find(|l| l.starts_with("after:")).unwrap_or("");
    assert!(
        before.contains("299.00") && !before.contains("349.00"),
        "{set}"
    );
    assert!(
        after.contains("349.00") && after.contains("399.00"),
        "{set}"
    );

    let off = ok(&eatfit(
        dir,
        db,
        &[
            "admin",
            "billing",
            "plan-set",
            "pro_yearly",
            "--active",
            "false",
        ],
    ));
    assert!(off.contains("active false"), "{off}");

    // PRO_MONTHLY is now the only paid plan on sale (TEST_LIVE is a test plan).
    let last = refused(&eatfit(
        dir,
        db,
        &[
            "admin",
            "billing",
            "plan-set",
            "PRO_MONTHLY",
            "--active",
            "false",
        ],
    ));
    assert!(last.contains("last paid public plan"), "{last}");
    assert!(last.contains("PRO_MONTHLY"), "{last}");
    let free = refused(&eatfit(
        dir,
        db,
        &["admin", "billing", "plan-set", "FREE", "--price", "10"],
    ));
    assert!(free.contains("FREE must cost 0"), "{free}");
    let float = refused(&eatfit(
        dir,
        db,
        &["admin", "billing", "plan-price", "PRO_MONTHLY", "1e3"],
    ));
    assert!(float.contains("invalid amount"), "{float}");
    let cheap = refused(&eatfit(
        dir,
        db,
        &["admin", "billing", "plan-price", "PRO_MONTHLY", "0"],
    ));
    assert!(cheap.contains("must cost more than 0"), "{cheap}");

    let list = ok(&eatfit(dir, db, &["admin", "billing", "plans"]));
    let monthly = list
        .lines()
        .find(|l| l.starts_with("PRO_MONTHLY"))
        .unwrap_or("");
    assert!(
        monthly.contains("349.00") && monthly.contains("active true"),
        "{list}"
    );
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

async fn plans(client: &reqwest::Client, base: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = client
        .get(format!("{base}/api/v1/billing/plans/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("plans: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("plans json: {e}"));
    v.as_array().cloned().unwrap_or_default()
}

fn codes(list: &[serde_json::Value]) -> Vec<String> {
    list.iter()
        .filter_map(|p| p["code"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn operator_edits_show_at_once_in_the_plan_list_on_sqlite() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let port = free_port();
    let served = Served(
        Command::new(BIN)
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("TELEGRAM_BOT_TOKEN", TOKEN)
            .env("TELEGRAM_API_URL", "http://127.0.0.1:9")
            .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
            .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn: {e}")),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..400 {
        if client.get(format!("{base}/readyz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "serve did not start");
    let first = plans(&client, &base).await;
    assert_eq!(codes(&first), ["FREE", "PRO_MONTHLY", "PRO_YEARLY"]);
    assert_eq!(first[1]["price"], "299.00");

    // The server keeps running; the CLI edits the same database.
    edit_plans(dir.path(), None);

    let now = plans(&client, &base).await;
    assert_eq!(codes(&now), ["FREE", "PRO_MONTHLY"], "{now:?}");
    assert_eq!(now[1]["price"], "349.00");
    assert_eq!(now[1]["old_price"], 399);
    assert_eq!(now[1]["display_name"], "PRO месяц");
    drop(served);
}

#[tokio::test]
async fn operator_edits_apply_on_postgres() {
    use store::sea_orm::ConnectionTrait;
    let Ok(base) = std::env::var(store::testing::PG_ENV) else {
        eprintln!("skipped: {} not set", store::testing::PG_ENV);
        return;
    };
    let name = format!("eatfit_plans_cli_{}", std::process::id());
    let admin = store::Db::connect(&store::DbUrl::parse(&base).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    for sql in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        admin
            .conn()
            .execute_unprepared(&sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let mut url = url::Url::parse(&base).unwrap_or_else(|e| panic!("{e}"));
    url.set_path(&format!("/{name}"));
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    ok(&eatfit(dir.path(), Some(url.as_str()), &["migrate"]));

    edit_plans(dir.path(), Some(url.as_str()));

    let db =
        store::Db::connect(&store::DbUrl::parse(url.as_str()).unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("connect: {e}"));
    let list = billing::plans::public_plans(db.conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<(&str, i64, Option<i64>)> = list
        .iter()
        .map(|p| (p.code.as_str(), p.price_kopecks, p.old_price_kopecks))
        .collect();
    assert_eq!(
        seen,
        [("FREE", 0, None), ("PRO_MONTHLY", 34_900, Some(39_900))]
    );
    db.close().await;
    let _ = admin
        .conn()
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}

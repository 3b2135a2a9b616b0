//! Backup and restore as an operator runs them: `eatfit serve` with a diary (a recognised photo
//! and a text meal), `eatfit admin backup` while it runs, `eatfit admin restore` into an empty
//! folder, and `eatfit serve` there answering with the same diary and the same photo bytes.
//! On SQLite always; on PostgreSQL (pg_dump/pg_restore) when `EATFIT_TEST_DATABASE_URL` is set.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testkit::fake_llm::FakeLlm;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const TOKEN: &str = "7000000001:AAbackup-bot-token-0123456789abcdefgh";
const DAY: &str = "2026-02-03";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 77])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("{e}"));
    out.into_inner()
}

fn init_data() -> String {
    // Signed "now" only because the server checks auth_date against its clock; nothing below
    // depends on the date.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    domain::init_data::sign(
        &[
            ("user", r#"{"id":424242,"first_name":"Backup"}"#),
            ("auth_date", &now.to_string()),
        ],
        TOKEN,
    )
}

struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn env_for(dir: &Path, db_url: &Option<String>) -> Vec<(String, String)> {
    let mut env = vec![
        ("TELEGRAM_BOT_TOKEN".to_string(), TOKEN.to_string()),
        (
            "EATFIT_MEDIA_DIR".to_string(),
            dir.join("media").display().to_string(),
        ),
    ];
    match db_url {
        Some(u) => env.push(("DATABASE_URL".into(), u.clone())),
        None => env.push((
            "DATABASE_URL".into(),
            format!("sqlite://{}", dir.join("eatfit.db").display()),
        )),
    }
    env
}

async fn serve(dir: &Path, db_url: &Option<String>, llm: &FakeLlm) -> Served {
    let port = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env_clear()
        .envs(env_for(dir, db_url))
        .env("OPENROUTER_BASE_URL", llm.base_url())
        .env("OPENROUTER_API_KEY", "sk-backup-0123456789abcdef")
        .env("OPENROUTER_MODEL", "backup/vision")
        .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
        .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn serve: {e}"));
    let served = Served {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client
            .get(format!("{}/livez", served.base))
            .send()
            .await
            .is_ok()
        {
            return served;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("serve did not start");
}

fn admin(dir: &Path, db_url: &Option<String>, args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .arg("admin")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env_for(dir, db_url))
        .output()
        .unwrap_or_else(|e| panic!("admin: {e}"));
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn get(client: &reqwest::Client, url: &str) -> serde_json::Value {
    client
        .get(url)
        .header("X-Telegram-Init-Data", init_data())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

async fn poll(client: &reqwest::Client, base: &str, task: &str) -> serde_json::Value {
    for _ in 0..200 {
        let v = get(client, &format!("{base}/api/v1/ai/task/{task}/")).await;
        if v["status"] != "processing" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {task} never finished");
}

/// Builds a diary on `DAY` (a recognised photo and a manual meal with an item), returns the
/// diary JSON and the photo's bytes as served.
async fn make_diary(client: &reqwest::Client, base: &str) -> (serde_json::Value, Vec<u8>) {
    let form = reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::bytes(photo()).file_name("lunch.jpg"),
        )
        .text("meal_type", "LUNCH")
        .text("date", DAY);
    let r = client
        .post(format!("{base}/api/v1/ai/recognize/"))
        .header("X-Telegram-Init-Data", init_data())
        .multipart(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("submit: {e}"));
    assert_eq!(r.status(), 202);
    let submitted: serde_json::Value = r.json().await.unwrap_or_else(|e| panic!("{e}"));
    let task = submitted["task_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let done = poll(client, base, &task).await;
    assert_eq!(done["status"], "success", "{done}");

    let r = client
        .post(format!("{base}/api/v1/meals/"))
        .header("X-Telegram-Init-Data", init_data())
        .json(&serde_json::json!({"meal_type": "DINNER", "date": DAY}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("meal: {e}"));
    assert_eq!(r.status(), 201);
    let meal: serde_json::Value = r.json().await.unwrap_or_else(|e| panic!("{e}"));
    let r = client
        .post(format!("{base}/api/v1/meals/{}/items/", meal["id"]))
        .header("X-Telegram-Init-Data", init_data())
        .json(&serde_json::json!({"name": "Гречка", "grams": 200, "calories": "226.00", "protein": 8.4, "fat": "2.60", "carbohydrates": 43}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("item: {e}"));
    assert_eq!(r.status(), 201);
    diary(client, base).await
}

async fn diary(client: &reqwest::Client, base: &str) -> (serde_json::Value, Vec<u8>) {
    let v = get(client, &format!("{base}/api/v1/meals/?date={DAY}")).await;
    let photo_url = find_photo_url(&v).unwrap_or_else(|| panic!("no photo url in {v}"));
    let url = if photo_url.starts_with("http") {
        // Rebase onto this server (the host differs between the two runs).
        let path = photo_url
            .splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .unwrap_or_default();
        format!("{base}{path}")
    } else {
        format!("{base}{photo_url}")
    };
    let r = client
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("photo: {e}"));
    assert_eq!(r.status(), 200, "{url}");
    let bytes = r.bytes().await.unwrap_or_else(|e| panic!("{e}")).to_vec();
    (strip_hosts(v), bytes)
}

fn find_photo_url(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if s.contains("/media/") => Some(s.clone()),
        serde_json::Value::Array(a) => a.iter().find_map(find_photo_url),
        serde_json::Value::Object(o) => o.values().find_map(find_photo_url),
        _ => None,
    }
}

/// Absolute URLs carry the server's port, which differs between the runs.
fn strip_hosts(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::String(s) if s.starts_with("http://127.0.0.1:") => {
            serde_json::Value::String(s.splitn(4, '/').nth(3).unwrap_or_default().to_string())
        }
        serde_json::Value::Array(a) => a.into_iter().map(strip_hosts).collect(),
        serde_json::Value::Object(o) => o.into_iter().map(|(k, v)| (k, strip_hosts(v))).collect(),
        other => other,
    }
}

/// A fresh PostgreSQL database named `name` (dropped first), as a URL.
async fn pg_database(base: &str, name: &str) -> String {
    use store::sea_orm::ConnectionTrait;
    let admin = store::Db::connect(&store::DbUrl::parse(base).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
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
    admin.close().await;
    let mut url = url::Url::parse(base).unwrap_or_else(|e| panic!("{e}"));
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn drop_pg_database(base: &str, name: &str) {
    use store::sea_orm::ConnectionTrait;
    if let Ok(admin) =
        store::Db::connect(&store::DbUrl::parse(base).unwrap_or_else(|e| panic!("{e}"))).await
    {
        let _ = admin
            .conn()
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        admin.close().await;
    }
}

async fn round_trip(source_db: Option<String>, target_db: Option<String>) {
    let llm = FakeLlm::start().await;
    let client = reqwest::Client::new();
    let src = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let served = serve(src.path(), &source_db, &llm).await;
    let (before, photo_before) = make_diary(&client, &served.base).await;
    assert!(
        before.to_string().contains("Гречка"),
        "the diary holds the manual item: {before}"
    );

    // Backup while the service runs.
    let backup_dir = src.path().join("backup-1");
    let backup_arg = backup_dir.display().to_string();
    let (code, out) = admin(src.path(), &source_db, &["backup", "--out", &backup_arg]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("meals"), "{out}");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(backup_dir.join("manifest.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(manifest["tables"]["meals"], 2, "{manifest}");
    assert_eq!(manifest["media_files"], 1, "{manifest}");
    // A second backup into the same folder is refused, not merged.
    let (code, out) = admin(src.path(), &source_db, &["backup", "--out", &backup_arg]);
    assert_ne!(code, 0, "{out}");
    drop(served);

    // Restore into an empty folder (and an empty database).
    let dst = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (code, out) = admin(dst.path(), &target_db, &["restore", "--from", &backup_arg]);
    assert_eq!(code, 0, "{out}");
    // Restoring over data is refused without --force.
    let (code, out) = admin(dst.path(), &target_db, &["restore", "--from", &backup_arg]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("--force"), "{out}");

    let served = serve(dst.path(), &target_db, &llm).await;
    let (after, photo_after) = diary(&client, &served.base).await;
    assert_eq!(after, before, "the restored service serves the same diary");
    assert_eq!(photo_after, photo_before, "the same photo bytes");
    drop(served);

    // A damaged backup is refused before anything is touched.
    let media_file = std::fs::read_dir(backup_dir.join("media"))
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.path());
    if let Some(first) = media_file {
        let file = if first.is_dir() {
            std::fs::read_dir(&first)
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .map(|e| e.path())
                .unwrap_or(first)
        } else {
            first
        };
        if file.is_file() {
            std::fs::write(&file, b"tampered").unwrap_or_else(|e| panic!("{e}"));
            let empty = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let (code, out) = admin(empty.path(), &None, &["restore", "--from", &backup_arg]);
            assert_ne!(code, 0, "{out}");
            assert!(out.contains("checksum"), "{out}");
        }
    }
}

#[tokio::test]
async fn sqlite_backup_restored_into_an_empty_folder_serves_the_same_diary() {
    round_trip(None, None).await;
}

#[tokio::test]
async fn postgres_backup_restored_into_an_empty_database_serves_the_same_diary() {
    let Ok(base) = std::env::var(store::testing::PG_ENV) else {
        eprintln!("skipped: {} not set", store::testing::PG_ENV);
        return;
    };
    let pid = std::process::id();
    let (a, b) = (
        format!("eatfit_backup_src_{pid}"),
        format!("eatfit_backup_dst_{pid}"),
    );
    let src = pg_database(&base, &a).await;
    let dst = pg_database(&base, &b).await;
    round_trip(Some(src), Some(dst)).await;
    drop_pg_database(&base, &a).await;
    drop_pg_database(&base, &b).await;
}

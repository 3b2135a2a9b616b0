//! The real binary recognising a photo in-process against a fake OpenAI-compatible provider,
//! and logging text offline: submit → 202 → poll → success → the diary shows the items.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use testkit::fake_llm::FakeLlm;

const TOKEN: &str = "7000000001:AAe2e-bot-token-0123456789abcdefghij";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, 120])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode");
    out.into_inner()
}

fn init_data() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    domain::init_data::sign(
        &[
            ("user", r#"{"id":31337,"first_name":"E2E"}"#),
            ("auth_date", &now.to_string()),
        ],
        TOKEN,
    )
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

async fn poll(client: &reqwest::Client, base: &str, task: &str) -> serde_json::Value {
    for _ in 0..200 {
        let v: serde_json::Value = client
            .get(format!("{base}/api/v1/ai/task/{task}/"))
            .header("X-Telegram-Init-Data", init_data())
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
        if v["status"] != "processing" {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {task} never finished");
}

#[tokio::test]
async fn serve_recognises_in_process_and_logs_text_offline() {
    let llm = FakeLlm::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _served = Served(
        Command::new(env!("CARGO_BIN_EXE_eatfit"))
            .arg("serve")
            .current_dir(dir.path())
            .env_clear()
            .env("TELEGRAM_BOT_TOKEN", TOKEN)
            .env("OPENROUTER_BASE_URL", llm.base_url())
            .env("OPENROUTER_API_KEY", "sk-e2e-0123456789abcdef")
            .env("OPENROUTER_MODEL", "e2e/vision")
            .env("EATFIT_LISTEN", format!("127.0.0.1:{port}"))
            .env("EATFIT_METRICS_ADDR", "127.0.0.1:0")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..400 {
        if client.get(format!("{base}/livez")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(up, "serve did not start");
    let ready: serde_json::Value = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["checks"]["ai"], "ok", "{ready}");

    // A photo through the whole pipeline.
    let form = reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::bytes(photo()).file_name("lunch.jpg"),
        )
        .text("meal_type", "LUNCH");
    let r = client
        .post(format!("{base}/api/v1/ai/recognize/"))
        .header("X-Telegram-Init-Data", init_data())
        .multipart(form)
        .send()
        .await
        .expect("submit");
    assert_eq!(r.status(), 202);
    let submitted: serde_json::Value = r.json().await.expect("json");
    let task = submitted["task_id"].as_str().expect("task id").to_string();
    let done = poll(&client, &base, &task).await;
    assert_eq!(done["status"], "success", "{done}");

    // Text, offline.
    let r = client
        .post(format!("{base}/api/v1/ai/recognize-text/"))
        .header("X-Telegram-Init-Data", init_data())
        .json(&serde_json::json!({"text": "150 г гречки и 100 г куриной грудки", "meal_type": "DINNER"}))
        .send()
        .await
        .expect("text");
    assert_eq!(r.status(), 202);
    let t: serde_json::Value = r.json().await.expect("json");
    let done = poll(&client, &base, t["task_id"].as_str().expect("task")).await;
    assert_eq!(done["status"], "success", "{done}");

    // Both meals are in today's diary.
    let today = submitted["meal_id"].as_i64().expect("meal id");
    let meal: serde_json::Value = client
        .get(format!("{base}/api/v1/meals/{today}/"))
        .header("X-Telegram-Init-Data", init_data())
        .send()
        .await
        .expect("meal")
        .json()
        .await
        .expect("json");
    assert_eq!(meal["status"], "COMPLETE", "{meal}");
    assert!(!meal["items"].as_array().expect("items").is_empty());
    assert_eq!(meal["photo_count"], 1);
}

//! The Mini App test harness: the Telegram stub, screenshots, a JPEG, the driver of one run.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use testkit::app::TestApp;

use crate::webdriver::Browser;

pub const USER: i64 = 700_001;
pub const EAST: i64 = 700_002;
pub const LEAD: i64 = 800_001;

/// Installed before every document: `window.Telegram.WebApp` from `localStorage.__tg`
/// (`{initData, user, dark}`), recording what the app asks Telegram to do.
pub const STUB: &str = r#"(function () {
  if (location.search.indexOf('notg=1') >= 0) return;
  var raw = localStorage.getItem('__tg'); if (!raw) return;
  var cfg = JSON.parse(raw), handlers = {};
  var light = {bg_color:'#ffffff',text_color:'#000000',hint_color:'#707579',link_color:'#3390ec',button_color:'#3390ec',button_text_color:'#ffffff',secondary_bg_color:'#f4f4f5'};
  var dark = {bg_color:'#212121',text_color:'#ffffff',hint_color:'#aaaaaa',link_color:'#8774e1',button_color:'#8774e1',button_text_color:'#ffffff',secondary_bg_color:'#181818'};
  function btn() { var b = {visible:false,text:'',cbs:[],show:function(){b.visible=true;return b;},hide:function(){b.visible=false;return b;},
    setText:function(t){b.text=t;return b;},onClick:function(f){b.cbs.push(f);return b;},offClick:function(f){b.cbs=b.cbs.filter(function(x){return x!==f;});return b;},
    press:function(){b.cbs.slice().forEach(function(f){f();});}}; return b; }
  var wa = {initData: cfg.initData, initDataUnsafe: {user: cfg.user}, platform: 'ios', version: '8.0',
    colorScheme: cfg.dark ? 'dark' : 'light', themeParams: cfg.dark ? dark : light,
    safeAreaInset: {top:0,bottom:0,left:0,right:0}, contentSafeAreaInset: {top:0,bottom:0,left:0,right:0},
    ready: function(){}, expand: function(){}, close: function(){ wa.__closed = true; },
    onEvent: function(e, f){ (handlers[e] = handlers[e] || []).push(f); }, offEvent: function(){},
    BackButton: btn(), MainButton: btn(),
    HapticFeedback: {notificationOccurred: function(k){ wa.__haptics.push(k); }, impactOccurred: function(){}},
    openLink: function(u){ wa.__links.push(u); }, openTelegramLink: function(u){ wa.__links.push(u); },
    showConfirm: function(m, cb){ cb(true); },
    enableClosingConfirmation: function(){ wa.__closing = true; }, disableClosingConfirmation: function(){ wa.__closing = false; },
    __links: [], __haptics: [], __closing: false,
    __setTheme: function(d){ wa.colorScheme = d ? 'dark' : 'light'; wa.themeParams = d ? dark : light;
      (handlers.themeChanged || []).forEach(function(f){ f(); }); }};
  window.Telegram = {WebApp: wa};
})();"#;

pub fn shots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    dir
}

pub fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 96])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("jpeg: {e}"));
    out.into_inner()
}

pub struct Run {
    pub app: Arc<TestApp>,
    pub b: Browser,
    pub shots: Option<PathBuf>,
}

impl Run {
    /// Opens `/app{path}` as `tg` (initData signed `age_secs` ago by the app's clock).
    pub async fn open_as(&self, tg: i64, age_secs: i64, dark: bool, path: &str) {
        let at = self.app.clock_now() - chrono::Duration::seconds(age_secs);
        let cfg = json!({
            "initData": self.app.init_data_at(tg, at),
            "user": {"id": tg, "first_name": "Тест", "language_code": "ru"},
            "dark": dark,
        });
        self.b.goto(&self.app.url("/app/?notg=1")).await;
        self.b
            .js(
                "localStorage.clear(); localStorage.setItem('__tg', arguments[0]);",
                json!([cfg.to_string()]),
            )
            .await;
        self.b.goto(&self.app.url(&format!("/app{path}"))).await;
    }

    pub async fn screen(&self, id: &str) {
        self.b
            .wait(
                &format!("document.querySelector('section.screen[data-screen=\"{id}\"]') && !document.querySelector('#screen[aria-busy]')"),
                &format!("screen {id}"),
            )
            .await;
    }

    pub async fn nav(&self, path: &str, id: &str) {
        self.b
            .js("window.EF.nav(arguments[0]);", json!([path]))
            .await;
        self.screen(id).await;
    }

    pub async fn shot(&self, name: &str) {
        if let Some(dir) = &self.shots {
            self.b.screenshot(&dir.join(format!("{name}.png"))).await;
        }
    }

    pub async fn diary_kcal(&self) -> i64 {
        self.b
            .text("#kcal-total .ring-num")
            .await
            .trim()
            .parse()
            .unwrap_or(-1)
    }

    pub async fn api_total(&self, tg: i64, date: &str) -> f64 {
        let (s, v) = self
            .app
            .send_json(
                Method::GET,
                tg,
                &format!("/api/v1/meals/?date={date}"),
                None,
            )
            .await;
        assert!(s.is_success(), "{v}");
        let c = &v["total_consumed"]["calories"];
        c.as_f64()
            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(-1.0)
    }
}

pub async fn survey_lead(app: &TestApp) {
    let r = app
        .client
        .get(app.url("/api/v1/telegram/users/get-or-create/"))
        .header("X-Bot-Secret", testkit::BOT_SECRET)
        .query(&[
            ("telegram_id", LEAD.to_string()),
            ("first_name", "Лида".to_owned()),
            ("last_name", "Опросова".to_owned()),
            ("username", "lida_lead".to_owned()),
        ])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.status().is_success());
    let r = app
        .client
        .post(app.url("/api/v1/telegram/personal-plan/survey/"))
        .header("X-Bot-Secret", testkit::BOT_SECRET)
        .json(&json!({
            "telegram_id": LEAD, "gender": "female", "age": 29, "height_cm": 168,
            "weight_kg": "64.0", "target_weight_kg": 58, "activity": "moderate",
            "training_level": "beginner", "body_goals": ["tone"], "health_limitations": [],
            "body_now_id": 2, "body_now_file": "f_now_2.jpg", "body_ideal_id": 1,
            "body_ideal_file": "f_ideal_1.jpg", "timezone": "Europe/Moscow", "utc_offset_minutes": 180
        }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        r.status().as_u16(),
        201,
        "{}",
        r.text().await.unwrap_or_default()
    );
}

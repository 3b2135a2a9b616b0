//! Static assets embedded in the binary, served under content-hashed names with a one-year
//! immutable cache, and the HTML shell that loads them.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// The logical name (`app.js`).
    pub logical: &'static str,
    /// The served name with the content hash (`app.3f2a9c1b.js`).
    pub name: String,
    pub body: &'static str,
    pub content_type: &'static str,
}

const FILES: [(&str, &str, &str); 3] = [
    (
        "app.css",
        include_str!("../assets/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "app.js",
        include_str!("../assets/app.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "photo.js",
        include_str!("../assets/photo.js"),
        "text/javascript; charset=utf-8",
    ),
];

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|(logical, body, ct)| {
            let hash = hex::encode(&Sha256::digest(body.as_bytes())[..5]);
            let (stem, ext) = logical.rsplit_once('.').unwrap_or((logical, ""));
            Asset {
                logical,
                name: format!("{stem}.{hash}.{ext}"),
                body,
                content_type: ct,
            }
        })
        .collect()
});

/// Every embedded asset.
pub fn all() -> &'static [Asset] {
    &ASSETS
}

/// The URL of an asset by its logical name.
pub fn url(logical: &str) -> String {
    ASSETS
        .iter()
        .find(|a| a.logical == logical)
        .map(|a| format!("/app/static/{}", a.name))
        .unwrap_or_default()
}

/// Total uncompressed JavaScript sent to the browser, in bytes.
pub fn js_bytes() -> usize {
    ASSETS
        .iter()
        .filter(|a| a.logical.ends_with(".js"))
        .map(|a| a.body.len())
        .sum()
}

/// `GET /app/static/{name}`: only the current hashed names exist.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.name == name) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            "not found",
        )
            .into_response();
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        a.body,
    )
        .into_response()
}

/// Texts the script needs before any fragment arrives (outside Telegram, session expired,
/// offline, error states), in both languages: the shell is the same for everyone.
const SCRIPT_TEXTS: &str = r#"{
"ru":{"open_title":"Откройте через Telegram","open_text":"Это приложение работает внутри Telegram: откройте его кнопкой в боте EatFit24.","expired_title":"Сессия истекла","expired_text":"Закройте и откройте приложение заново из Telegram.","reopen":"Закрыть","offline":"Нет соединения — показаны последние данные","error_title":"Не удалось загрузить","check_title":"Проверьте данные","error_text":"Попробуйте ещё раз.","retry":"Повторить","request_id":"Код запроса","loading":"Загрузка…","saved":"Сохранено","upgrade":"Оформить PRO","retake":"Переснять","uploading":"Загрузка","processing":"Распознаём","done":"Готово","failed":"Ошибка","cancelled":"Отменено","cancel":"Отмена","queued":"В очереди","remove":"Убрать","max5":"Можно выбрать не больше 5 фото","paying":"Ожидаем оплату…","pro_active":"PRO активирован"},
"en":{"open_title":"Open in Telegram","open_text":"This app works inside Telegram: open it with the button in the EatFit24 bot.","expired_title":"Session expired","expired_text":"Close the app and open it again from Telegram.","reopen":"Close","offline":"You are offline — showing the last data","error_title":"Could not load","check_title":"Please check the data","error_text":"Please try again.","retry":"Retry","request_id":"Request id","loading":"Loading…","saved":"Saved","upgrade":"Get PRO","retake":"Retake","uploading":"Uploading","processing":"Recognising","done":"Done","failed":"Failed","cancelled":"Cancelled","cancel":"Cancel","queued":"Queued","remove":"Remove","max5":"You can pick at most 5 photos","paying":"Waiting for the payment…","pro_active":"PRO is active"}
}"#;

/// The document every `/app/…` navigation gets: no user data (a navigation cannot carry
/// initData), just the assets, the script texts and an empty screen the script fills.
pub fn shell() -> String {
    format!(
        r#"<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<title>EatFit24</title>
<link rel="stylesheet" href="{css}">
<script src="https://telegram.org/js/telegram-web-app.js"></script>
<script src="{app}" defer></script>
<script src="{photo}" defer></script>
</head>
<body>
<div id="offline" class="banner" role="status" hidden></div>
<main id="screen" aria-live="polite"><div class="loading" role="status"></div></main>
<div id="toast" role="alert" hidden></div>
<script type="application/json" id="texts">{texts}</script>
</body>
</html>
"#,
        css = url("app.css"),
        app = url("app.js"),
        photo = url("photo.js"),
        texts = SCRIPT_TEXTS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_content_hash_and_js_stays_small() {
        for a in all() {
            assert_ne!(a.name, a.logical);
            assert!(url(a.logical).starts_with("/app/static/"));
        }
        assert!(js_bytes() <= 50 * 1024, "JS is {} bytes", js_bytes());
        let texts: serde_json::Value =
            serde_json::from_str(SCRIPT_TEXTS).unwrap_or_else(|e| panic!("{e}"));
        let (ru, en) = (&texts["ru"], &texts["en"]);
        for (k, _) in ru.as_object().into_iter().flatten() {
            assert!(en.get(k).is_some(), "{k} has no English text");
        }
    }
}

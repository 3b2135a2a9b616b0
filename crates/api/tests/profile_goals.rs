//! Profile, avatar, account deletion, media serving, daily goals and the weight log, driven over
//! HTTP on every available backend (SQLite; PostgreSQL when `EATFIT_TEST_DATABASE_URL` is set).

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use domain::clock::Clock;
use image::{GenericImageView, ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use store::entities::{daily_goal, meal, meal_photo, profile, user, weight_entry};
use testkit::TestApp;

const TG: i64 = 222_000_001;
const OTHER: i64 = 222_000_002;

async fn send(
    app: &TestApp,
    method: Method,
    tg: i64,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.send_json(method, tg, path, body).await
}

async fn get(app: &TestApp, tg: i64, path: &str) -> (StatusCode, Value) {
    send(app, Method::GET, tg, path, None).await
}

async fn put(app: &TestApp, tg: i64, path: &str, body: Value) -> (StatusCode, Value) {
    send(app, Method::PUT, tg, path, Some(body)).await
}

async fn patch(app: &TestApp, tg: i64, path: &str, body: Value) -> (StatusCode, Value) {
    send(app, Method::PATCH, tg, path, Some(body)).await
}

async fn post(app: &TestApp, tg: i64, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    send(app, Method::POST, tg, path, body).await
}

async fn user_id(app: &TestApp, tg: i64) -> i64 {
    let (s, v) = get(app, tg, "/api/v1/users/profile/").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["id"].as_i64().unwrap()
}

async fn upload(
    app: &TestApp,
    tg: i64,
    bytes: Vec<u8>,
    name: &str,
    mime: &str,
) -> (StatusCode, Value) {
    let form = Form::new().part(
        "avatar",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str(mime)
            .unwrap(),
    );
    let resp = app
        .request_as(Method::POST, tg, "/api/v1/users/profile/avatar/")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    (status, v)
}

fn assert_envelope(v: &Value, code: &str) {
    assert_eq!(v["error"]["code"], code, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    assert!(v["error"]["details"].is_object(), "{v}");
}

// ---------------------------------------------------------------------------------------------
// Image fixtures
// ---------------------------------------------------------------------------------------------

/// A 300×200 PNG with a transparent left half and an opaque green right half.
fn png_with_alpha() -> Vec<u8> {
    let img = RgbaImage::from_fn(300, 200, |x, _| {
        if x < 150 {
            Rgba([255, 0, 0, 0])
        } else {
            Rgba([0, 200, 0, 255])
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(img.as_raw(), 300, 200, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

/// A 400×200 JPEG: left half red, right half blue.
fn jpeg_red_blue(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            Rgb([230, 20, 20])
        } else {
            Rgb([20, 20, 230])
        }
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// Inserts an EXIF APP1 segment with the given orientation right after SOI.
fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01".to_vec();
    exif.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01]);
    exif.extend_from_slice(&orientation.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let len = u16::try_from(exif.len() + 2).unwrap();
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A tiny PNG whose header declares `side`×`side` RGBA pixels (a decompression bomb shape).
fn png_declaring(side: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// A small JPEG whose SOF0 header is patched to declare `side`×`side`.
fn jpeg_declaring(side: u16) -> Vec<u8> {
    let mut jpeg = jpeg_red_blue(16, 16);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
    jpeg
}

fn media_key(avatar_url: &str) -> String {
    let path = avatar_url.split('?').next().unwrap();
    path.strip_prefix("/media/").unwrap().to_owned()
}

fn near(px: Rgb<u8>, want: [u8; 3]) -> bool {
    px.0.iter().zip(want).all(|(a, b)| a.abs_diff(b) < 60)
}

// ---------------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn profile_get_shows_user_and_derived_fields() {
    for app in TestApp::all().await {
        let (s, v) = get(&app, TG, "/api/v1/users/profile/").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(v["id"].as_i64().is_some());
        assert_eq!(v["username"], format!("tg_{TG}"));
        assert_eq!(v["email"], format!("tg{TG}@telegram.user"));
        let p = &v["profile"];
        let keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "full_name",
            "gender",
            "birth_date",
            "height",
            "weight",
            "activity_level",
            "goal_type",
            "target_weight",
            "timezone",
            "avatar_url",
            "age",
            "bmi",
            "is_complete",
            "created_at",
            "updated_at",
        ] {
            assert!(keys.contains(&k), "missing {k} in {p}");
        }
        assert_eq!(p["timezone"], "Europe/Moscow");
        assert_eq!(p["activity_level"], "sedentary");
        assert_eq!(p["goal_type"], "maintenance");
        assert_eq!(p["avatar_url"], Value::Null);
        assert_eq!(p["age"], Value::Null);
        assert_eq!(p["bmi"], Value::Null);
        assert_eq!(p["is_complete"], false);
        // Anonymous: 401 in the envelope.
        let resp = app
            .client
            .get(app.url("/api/v1/users/profile/"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        app.finish().await;
    }
}

#[tokio::test]
async fn profile_update_reports_every_invalid_field_and_changes_nothing() {
    for app in TestApp::all().await {
        let (s, v) = put(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"height": 300, "weight": 10, "gender": "X", "timezone": "Mars/Olympus", "full_name": "Ок"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_envelope(&v, "VALIDATION_ERROR");
        let d = &v["error"]["details"];
        assert_eq!(d["height"][0], "Рост должен быть от 50 до 250 см");
        assert_eq!(d["weight"][0], "Вес должен быть от 20 до 500 кг");
        assert_eq!(d["timezone"][0], "Неизвестный часовой пояс");
        assert!(d["gender"].is_array());
        assert!(d.get("full_name").is_none());
        assert_eq!(
            v["error"]["message"],
            "gender: Значения «X» нет среди допустимых вариантов."
        );
        let (_, v) = get(&app, TG, "/api/v1/users/profile/").await;
        assert_eq!(v["profile"]["full_name"], "");
        // Not an object.
        let (s, v) = put(&app, TG, "/api/v1/users/profile/", json!([1, 2])).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "VALIDATION_ERROR");
        app.finish().await;
    }
}

#[tokio::test]
async fn profile_put_and_patch_update_flat_fields() {
    for app in TestApp::all().await {
        let (s, v) = put(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({
                "full_name": "Иван Петров", "gender": "M", "birth_date": "1990-01-12", "height": 180,
                "weight": 80.5, "activity_level": "moderately_active", "goal_type": "weight_loss",
                "target_weight": "75", "timezone": "Asia/Vladivostok", "username": "hacker"
            }),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            v["username"],
            format!("tg_{TG}"),
            "username in the body is ignored"
        );
        let p = &v["profile"];
        assert_eq!(p["full_name"], "Иван Петров");
        assert_eq!(p["gender"], "M");
        assert_eq!(p["birth_date"], "1990-01-12");
        assert_eq!(p["height"], 180);
        assert_eq!(p["weight"], "80.50");
        assert_eq!(p["target_weight"], "75.00");
        assert_eq!(p["timezone"], "Asia/Vladivostok");
        assert_eq!(p["age"], 36); // clock: 2026-03-10
        let bmi = p["bmi"].as_f64().unwrap();
        assert!((bmi - 80.5 / (1.8 * 1.8)).abs() < 1e-9);
        assert_eq!(p["is_complete"], true);

        // PATCH changes only what it sends; a null time zone falls back to Moscow.
        let (s, v) = patch(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"weight": "81.25", "timezone": null}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["profile"]["weight"], "81.25");
        assert_eq!(v["profile"]["timezone"], "Europe/Moscow");
        assert_eq!(v["profile"]["full_name"], "Иван Петров");
        assert_eq!(v["profile"]["height"], 180);

        // PUT with an empty body is valid and changes nothing.
        let (s, v) = put(&app, TG, "/api/v1/users/profile/", json!({})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["profile"]["gender"], "M");

        // Birth date in the user's future is refused.
        let (s, v) = patch(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"birth_date": "2026-03-11"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert!(v["error"]["details"]["birth_date"].is_array());
        app.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Avatar
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn avatar_upload_normalises_replaces_and_serves() {
    for app in TestApp::all().await {
        // 1. PNG with alpha, sent with a lying content type and file name.
        let (s, v) = upload(&app, TG, png_with_alpha(), "photo.gif", "text/plain").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["username"], format!("tg_{TG}"));
        let url1 = v["profile"]["avatar_url"].as_str().unwrap().to_owned();
        assert!(
            url1.starts_with("/media/avatars/") && url1.ends_with(".jpg?v=1"),
            "{url1}"
        );
        let key1 = media_key(&url1);
        let stored = app.media().get(&key1).await.unwrap();
        assert_eq!(&stored[..3], &[0xFF, 0xD8, 0xFF]);
        let img = image::load_from_memory(&stored).unwrap();
        assert_eq!(img.dimensions(), (512, 512));

        // Served with a content type by extension and nosniff.
        let resp = app.client.get(app.url(&url1)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "image/jpeg");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.bytes().await.unwrap().as_ref(), stored.as_slice());

        // 2. JPEG with EXIF orientation 6 (rotate 90° clockwise to display): the stored avatar
        // has the red (left) half on top, and no EXIF left.
        let jpeg = with_exif_orientation(&jpeg_red_blue(400, 200), 6);
        let (s, v) = upload(&app, TG, jpeg, "x.png", "image/png").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let url2 = v["profile"]["avatar_url"].as_str().unwrap().to_owned();
        assert!(url2.ends_with("?v=2"), "{url2}");
        let key2 = media_key(&url2);
        assert_ne!(key1, key2);
        assert!(
            !app.media().exists(&key1).await.unwrap(),
            "the replaced avatar is deleted"
        );
        let stored = app.media().get(&key2).await.unwrap();
        assert!(
            !stored.windows(4).any(|w| w == b"Exif"),
            "metadata stripped"
        );
        let img = image::load_from_memory(&stored).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (512, 512));
        assert!(
            near(*img.get_pixel(256, 60), [230, 20, 20]),
            "top is red: {:?}",
            img.get_pixel(256, 60)
        );
        assert!(
            near(*img.get_pixel(256, 450), [20, 20, 230]),
            "bottom is blue: {:?}",
            img.get_pixel(256, 450)
        );

        // The same file without orientation keeps red on the left.
        let (s, v) = upload(&app, TG, jpeg_red_blue(400, 200), "a.jpg", "image/jpeg").await;
        assert_eq!(s, StatusCode::OK);
        let url3 = v["profile"]["avatar_url"].as_str().unwrap().to_owned();
        assert!(url3.ends_with("?v=3"));
        let img = image::load_from_memory(&app.media().get(&media_key(&url3)).await.unwrap())
            .unwrap()
            .to_rgb8();
        assert!(near(*img.get_pixel(60, 256), [230, 20, 20]));
        assert!(near(*img.get_pixel(450, 256), [20, 20, 230]));

        // GET profile shows the same URL.
        let (_, v) = get(&app, TG, "/api/v1/users/profile/").await;
        assert_eq!(v["profile"]["avatar_url"], url3);
        app.finish().await;
    }
}

#[tokio::test]
async fn avatar_rejections_use_the_envelope_and_change_nothing() {
    for app in TestApp::all().await {
        // No file field.
        let form = Form::new().text("other", "x");
        let resp = app
            .request_as(Method::POST, TG, "/api/v1/users/profile/avatar/")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let v: Value = resp.json().await.unwrap();
        assert_envelope(&v, "VALIDATION_ERROR");
        assert_eq!(v["error"]["details"]["code"], "avatar_missing");

        // Not multipart at all.
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/users/profile/avatar/",
            Some(json!({"avatar": "x"})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"]["details"]["code"], "avatar_missing");

        // A text file named .jpg sent as image/jpeg.
        let (s, v) = upload(
            &app,
            TG,
            b"hello, I am not a picture".to_vec(),
            "me.jpg",
            "image/jpeg",
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_envelope(&v, "VALIDATION_ERROR");
        assert_eq!(v["error"]["details"]["code"], "invalid_mime_type");
        assert!(v["error"]["message"].as_str().unwrap().contains("формат"));

        // Headers declaring 20000×20000: refused from the header, quickly.
        for (bomb, name) in [
            (png_declaring(20_000), "bomb.png"),
            (jpeg_declaring(20_000), "bomb.jpg"),
        ] {
            let started = Instant::now();
            let (s, v) = upload(&app, TG, bomb, name, "image/jpeg").await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{name}: {v}");
            assert_eq!(
                v["error"]["details"]["code"], "image_too_large",
                "{name}: {v}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{name} took {:?}",
                started.elapsed()
            );
        }

        // Over 5 MiB: 413.
        let mut big = jpeg_red_blue(64, 64);
        big.resize(5 * 1024 * 1024 + 1, 0);
        let (s, v) = upload(&app, TG, big, "big.jpg", "image/jpeg").await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
        assert_envelope(&v, "PAYLOAD_TOO_LARGE");
        assert_eq!(v["error"]["details"]["code"], "file_too_large");

        // A corrupt JPEG (valid magic, garbage after).
        let mut corrupt = jpeg_red_blue(64, 64);
        corrupt.truncate(40);
        let (s, v) = upload(&app, TG, corrupt, "c.jpg", "image/jpeg").await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"]["details"]["code"], "invalid_image");

        let (_, v) = get(&app, TG, "/api/v1/users/profile/").await;
        assert_eq!(v["profile"]["avatar_url"], Value::Null);
        let uid = v["id"].as_i64().unwrap();
        let p = profile::Entity::find()
            .filter(profile::Column::UserId.eq(uid))
            .one(app.db().conn())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(p.avatar_version, 0);
        app.finish().await;
    }
}

#[tokio::test]
async fn media_route_answers_404_in_the_envelope() {
    for app in TestApp::all().await {
        for path in [
            "/media/avatars/nope.jpg",
            "/media/..%2F..%2Fetc%2Fpasswd",
            "/media/a//b.jpg",
        ] {
            let resp = app.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
            let v: Value = resp.json().await.unwrap();
            assert_envelope(&v, "NOT_FOUND");
        }
        app.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Account deletion
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn deleting_the_account_removes_rows_and_files() {
    for app in TestApp::all().await {
        let (s, v) = upload(&app, TG, png_with_alpha(), "a.png", "image/png").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let avatar = media_key(v["profile"]["avatar_url"].as_str().unwrap());
        let uid = v["id"].as_i64().unwrap();
        let other_uid = user_id(&app, OTHER).await;
        let now = app.clock.now();

        // Meals with photos (stored files) for both users.
        let mut photo_keys = Vec::new();
        for owner in [uid, other_uid] {
            let m = meal::ActiveModel {
                user_id: Set(owner),
                meal_type: Set("LUNCH".into()),
                date: Set(now.date_naive()),
                status: Set("COMPLETE".into()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(app.db().conn())
            .await
            .unwrap();
            for _ in 0..2 {
                let key = app
                    .media()
                    .put_new(&format!("meals/{}", m.id), "jpg", b"jpeg".to_vec())
                    .await
                    .unwrap();
                meal_photo::ActiveModel {
                    meal_id: Set(m.id),
                    image: Set(key.clone()),
                    status: Set("SUCCESS".into()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(app.db().conn())
                .await
                .unwrap();
                photo_keys.push((owner, key));
            }
        }
        let (s, _) = put(
            &app,
            TG,
            "/api/v1/goals/",
            json!({"calories": 2000, "protein": 150, "fat": 70, "carbohydrates": 250}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = post(&app, TG, "/api/v1/weights/", Some(json!({"kg": 80}))).await;
        assert_eq!(s, StatusCode::CREATED);

        let resp = app
            .request_as(Method::DELETE, TG, "/api/v1/users/profile/delete/")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert!(resp.bytes().await.unwrap().is_empty());

        assert!(
            !app.media().exists(&avatar).await.unwrap(),
            "avatar file deleted"
        );
        for (owner, key) in &photo_keys {
            let exists = app.media().exists(key).await.unwrap();
            assert_eq!(exists, *owner == other_uid, "{key} of user {owner}");
        }
        let conn = app.db().conn();
        assert!(
            user::Entity::find_by_id(uid)
                .one(conn)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            meal::Entity::find()
                .filter(meal::Column::UserId.eq(uid))
                .count(conn)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            daily_goal::Entity::find()
                .filter(daily_goal::Column::UserId.eq(uid))
                .count(conn)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            weight_entry::Entity::find()
                .filter(weight_entry::Column::UserId.eq(uid))
                .count(conn)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            profile::Entity::find()
                .filter(profile::Column::UserId.eq(uid))
                .count(conn)
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            meal::Entity::find()
                .filter(meal::Column::UserId.eq(other_uid))
                .count(conn)
                .await
                .unwrap(),
            1
        );

        // The next request with valid initData creates a fresh account.
        let (s, v) = get(&app, TG, "/api/v1/users/profile/").await;
        assert_eq!(s, StatusCode::OK);
        assert_ne!(v["id"].as_i64().unwrap(), uid);
        assert_eq!(v["profile"]["avatar_url"], Value::Null);
        let (_, v) = get(&app, TG, "/api/v1/goals/").await;
        assert_eq!(v, json!({"goal": null, "is_set": false}));
        app.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Goals
// ---------------------------------------------------------------------------------------------

async fn active_goals(app: &TestApp, uid: i64) -> Vec<daily_goal::Model> {
    daily_goal::Entity::find()
        .filter(daily_goal::Column::UserId.eq(uid))
        .filter(daily_goal::Column::IsActive.eq(true))
        .all(app.db().conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn manual_goal_upsert_validation_and_deactivation() {
    for app in TestApp::all().await {
        let (s, v) = get(&app, TG, "/api/v1/goals/").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v, json!({"goal": null, "is_set": false}));

        // No active goal: every value is required, for PATCH too.
        let (s, v) = patch(&app, TG, "/api/v1/goals/", json!({"calories": 2000})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_envelope(&v, "VALIDATION_ERROR");
        for f in ["protein", "fat", "carbohydrates"] {
            assert_eq!(v["error"]["details"][f][0], "Обязательное поле.", "{v}");
        }
        let (s, v) = put(
            &app,
            TG,
            "/api/v1/goals/",
            json!({"calories": 400, "protein": -10, "fat": 70, "carbohydrates": 250}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["calories"][0],
            "Минимальная цель калорий: 500 ккал"
        );
        assert_eq!(
            v["error"]["details"]["protein"][0],
            "Убедитесь, что это значение больше либо равно 0."
        );
        let (s, v) = put(
            &app,
            TG,
            "/api/v1/goals/",
            json!({"calories": 10001, "protein": 1, "fat": 1, "carbohydrates": 1}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["message"],
            "calories: Максимальная цель калорий: 10000 ккал"
        );

        // Create: 201, bare goal, MANUAL without a source in the body.
        let (s, v) = put(
            &app,
            TG,
            "/api/v1/goals/",
            json!({"calories": 2000, "protein": 150, "fat": "70.5", "carbohydrates": 250}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["calories"], 2000);
        assert_eq!(v["protein"], "150.00");
        assert_eq!(v["fat"], "70.50");
        assert_eq!(v["carbohydrates"], "250.00");
        assert_eq!(v["source"], "MANUAL");
        assert_eq!(v["is_active"], true);
        assert!(v.get("goal").is_none());
        let id = v["id"].as_i64().unwrap();

        // Update in place: 200, same row; PUT needs every value.
        let (s, v) = put(&app, TG, "/api/v1/goals/", json!({"calories": 2100})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        let (s, v) = put(&app, TG, "/api/v1/goals/", json!({"calories": 2100, "protein": 140, "fat": 70, "carbohydrates": 260, "source": "MANUAL", "is_active": true})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["id"], id);
        assert_eq!(v["calories"], 2100);
        let (s, v) = patch(&app, TG, "/api/v1/goals/", json!({"fat": 65})).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            (v["id"].as_i64(), v["fat"].as_str(), v["calories"].as_i64()),
            (Some(id), Some("65.00"), Some(2100))
        );

        let (s, v) = get(&app, TG, "/api/v1/goals/").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["is_set"], true);
        assert_eq!(v["goal"]["id"], id);

        // Deactivate.
        let (s, v) = patch(&app, TG, "/api/v1/goals/", json!({"is_active": false})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["is_active"], false);
        assert_eq!(v["source"], "MANUAL");
        let (_, v) = get(&app, TG, "/api/v1/goals/").await;
        assert_eq!(v, json!({"goal": null, "is_set": false}));

        // A new goal afterwards is a new row.
        let (s, v) = patch(
            &app,
            TG,
            "/api/v1/goals/",
            json!({"calories": 1800, "protein": 120, "fat": 60, "carbohydrates": 200}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        assert_ne!(v["id"], id);
        let uid = user_id(&app, TG).await;
        assert_eq!(active_goals(&app, uid).await.len(), 1);
        app.finish().await;
    }
}

#[tokio::test]
async fn calculate_and_set_auto_reproduce_the_worked_examples() {
    for app in TestApp::all().await {
        // Pin the clock: 2026-01-12 (the reference date of the examples).
        app.clock.set(
            Utc.with_ymd_and_hms(2026, 1, 12, 10, 0, 0)
                .single()
                .unwrap(),
        );

        // Incomplete profile: the missing fields are listed.
        let (s, v) = post(&app, TG, "/api/v1/goals/calculate/", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        assert_envelope(&v, "VALIDATION_ERROR");
        assert_eq!(
            v["error"]["message"],
            "Необходимо заполнить профиль: пол, дата рождения, рост, вес"
        );
        assert_eq!(
            v["error"]["details"]["missing_fields"],
            json!(["gender", "birth_date", "height", "weight"])
        );
        assert_eq!(v["error"]["details"]["code"], "profile_incomplete");
        let (s, v) = patch(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"gender": "M", "height": 180}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = post(&app, TG, "/api/v1/goals/set-auto/", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["missing_fields"],
            json!(["birth_date", "weight"])
        );

        // Male, 36, 80.5 kg, 180 cm, moderately active, weight loss.
        let (s, v) = put(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"gender": "M", "birth_date": "1989-06-01", "height": 180, "weight": "80.50",
                   "activity_level": "moderately_active", "goal_type": "weight_loss"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["profile"]["age"], 36);
        let (s, v) = post(&app, TG, "/api/v1/goals/calculate/", None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(
            v,
            json!({"calories": 2176, "protein": 163.2, "fat": 60.44, "carbohydrates": 244.8})
        );
        let (_, g) = get(&app, TG, "/api/v1/goals/").await;
        assert_eq!(g["is_set"], false, "calculate stores nothing");

        // A manual goal first; set-auto replaces it.
        let (s, _) = put(
            &app,
            TG,
            "/api/v1/goals/",
            json!({"calories": 2000, "protein": 150, "fat": 70, "carbohydrates": 250}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, v) = post(&app, TG, "/api/v1/goals/set-auto/", None).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["calories"], 2176);
        assert_eq!(v["protein"], "163.20");
        assert_eq!(v["fat"], "60.44");
        assert_eq!(v["carbohydrates"], "244.80");
        assert_eq!(v["source"], "AUTO");
        assert_eq!(v["is_active"], true);
        let uid = user_id(&app, TG).await;
        let active = active_goals(&app, uid).await;
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].id, v["id"].as_i64().unwrap());

        // Female, 30, 60 kg, 165 cm, lightly active, weight loss.
        let (s, v) = put(
            &app,
            OTHER,
            "/api/v1/users/profile/",
            json!({"gender": "F", "birth_date": "1995-06-01", "height": 165, "weight": 60,
                   "activity_level": "lightly_active", "goal_type": "weight_loss"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["profile"]["age"], 30);
        let (s, v) = post(&app, OTHER, "/api/v1/goals/calculate/", None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            v,
            json!({"calories": 1452, "protein": 108.9, "fat": 40.33, "carbohydrates": 163.35})
        );
        let (s, v) = post(&app, OTHER, "/api/v1/goals/set-auto/", None).await;
        assert_eq!(s, StatusCode::CREATED);
        assert_eq!(
            (
                v["calories"].as_i64(),
                v["protein"].as_str(),
                v["fat"].as_str(),
                v["carbohydrates"].as_str()
            ),
            (Some(1452), Some("108.90"), Some("40.33"), Some("163.35"))
        );
        let (_, g) = get(&app, OTHER, "/api/v1/goals/").await;
        assert_eq!(g["goal"]["id"], v["id"]);

        // Out of range age: a ten-year-old limit, no missing fields.
        let (s, _) = patch(
            &app,
            OTHER,
            "/api/v1/users/profile/",
            json!({"birth_date": "2020-01-01"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = post(&app, OTHER, "/api/v1/goals/calculate/", None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["message"],
            "Возраст должен быть от 10 до 120 лет"
        );
        assert_eq!(v["error"]["details"]["missing_fields"], json!([]));
        app.finish().await;
    }
}

#[tokio::test]
async fn concurrent_goal_writes_leave_exactly_one_active_goal() {
    for app in TestApp::all().await {
        let (s, _) = put(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"gender": "F", "birth_date": "1995-06-01", "height": 165, "weight": 60}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let uid = user_id(&app, TG).await;

        let calls = (0..5).map(|_| post(&app, TG, "/api/v1/goals/set-auto/", None));
        let results = futures_join_all(calls).await;
        for (s, v) in &results {
            assert_eq!(*s, StatusCode::CREATED, "{v}");
            assert_eq!(v["source"], "AUTO");
        }
        assert_eq!(active_goals(&app, uid).await.len(), 1);
        let total = daily_goal::Entity::find()
            .filter(daily_goal::Column::UserId.eq(uid))
            .count(app.db().conn())
            .await
            .unwrap();
        assert_eq!(total, 5);

        // Concurrent manual PUTs for a user without a goal: one creates, the others update.
        let body = json!({"calories": 2000, "protein": 150, "fat": 70, "carbohydrates": 250});
        let calls = (0..5).map(|_| put(&app, OTHER, "/api/v1/goals/", body.clone()));
        let results = futures_join_all(calls).await;
        let created = results
            .iter()
            .filter(|(s, _)| *s == StatusCode::CREATED)
            .count();
        let updated = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!((created, updated), (1, 4), "{results:?}");
        let other = user_id(&app, OTHER).await;
        assert_eq!(active_goals(&app, other).await.len(), 1);
        app.finish().await;
    }
}

/// Runs futures concurrently on this task (no extra dependency).
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set = Vec::new();
    for f in futs {
        set.push(Box::pin(f));
    }
    let mut out: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

// ---------------------------------------------------------------------------------------------
// Weight log
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn weight_log_one_entry_per_day_with_trend() {
    for app in TestApp::all().await {
        // Clock: 2026-03-10 09:00 UTC = 12:00 Moscow.
        let (s, v) = post(&app, TG, "/api/v1/weights/", Some(json!({"kg": 80}))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["date"], "2026-03-10");
        assert_eq!(v["kg"], 80.0);
        let today_id = v["id"].as_i64().unwrap();
        // Same day again: updated, same id.
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/weights/",
            Some(json!({"kg": "81.50", "date": "2026-03-10"})),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["id"], today_id);
        assert_eq!(v["kg"], 81.5);

        for (date, kg) in [
            ("2026-03-07", 80.0),
            ("2026-03-08", 81.0),
            ("2026-03-09", 81.0),
        ] {
            let (s, v) = post(
                &app,
                TG,
                "/api/v1/weights/",
                Some(json!({"kg": kg, "date": date})),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }

        // Refusals.
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/weights/",
            Some(json!({"kg": 80, "date": "2026-03-11"})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["date"][0],
            "Дата не может быть в будущем"
        );
        let (s, v) = post(&app, TG, "/api/v1/weights/", Some(json!({"kg": 19.99}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["error"]["details"]["kg"][0],
            "Вес должен быть от 20 до 500 кг"
        );
        let (s, v) = post(&app, TG, "/api/v1/weights/", Some(json!({"kg": 500.01}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/weights/",
            Some(json!({"date": "10.03.2026"})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(
            v["error"]["details"]["kg"].is_array() && v["error"]["details"]["date"].is_array(),
            "{v}"
        );

        // List: ascending, Hacker's Diet trend (α = 0.1).
        let (s, v) = get(&app, TG, "/api/v1/weights/").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let list = v.as_array().unwrap();
        let dates: Vec<&str> = list.iter().map(|e| e["date"].as_str().unwrap()).collect();
        assert_eq!(
            dates,
            ["2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]
        );
        let trend: Vec<f64> = list.iter().map(|e| e["trend"].as_f64().unwrap()).collect();
        // 80 → 80.1 → 80.19 → 80.19 + 0.1·(81.5 − 80.19) = 80.321
        assert_eq!(trend, [80.0, 80.1, 80.19, 80.32]);
        assert_eq!(list[3]["kg"], 81.5);
        assert!(list[0]["id"].as_i64().is_some());

        // A window shows the same trend values (history before `from` counts).
        let (s, v) = get(&app, TG, "/api/v1/weights/?from=2026-03-09&to=2026-03-09").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            v,
            json!([{"id": list[2]["id"], "date": "2026-03-09", "kg": 81.0, "trend": 80.19}])
        );
        let (s, v) = get(&app, TG, "/api/v1/weights/?from=2026-03-10&to=2026-03-01").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_envelope(&v, "VALIDATION_ERROR");
        let (s, _) = get(&app, TG, "/api/v1/weights/?from=yesterday").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);

        // Other users see nothing and cannot delete.
        let (_, v) = get(&app, OTHER, "/api/v1/weights/").await;
        assert_eq!(v, json!([]));
        let path = format!("/api/v1/weights/{today_id}/");
        let (s, v) = send(&app, Method::DELETE, OTHER, &path, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_envelope(&v, "NOT_FOUND");
        let (s, _) = send(&app, Method::DELETE, TG, &path, None).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = send(&app, Method::DELETE, TG, &path, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = send(&app, Method::DELETE, TG, "/api/v1/weights/abc/", None).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, v) = get(&app, TG, "/api/v1/weights/").await;
        assert_eq!(v.as_array().unwrap().len(), 3);
        app.finish().await;
    }
}

#[tokio::test]
async fn weight_default_date_is_the_users_today() {
    for app in TestApp::all().await {
        // 2026-03-10 15:30 UTC: 18:30 in Moscow, already 2026-03-11 01:30 in Vladivostok.
        app.clock.set(
            Utc.with_ymd_and_hms(2026, 3, 10, 15, 30, 0)
                .single()
                .unwrap(),
        );
        let (s, v) = post(
            &app,
            TG,
            "/api/v1/weights/",
            Some(json!({"kg": 70, "date": "2026-03-11"})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "Moscow user: {v}");
        let (s, _) = patch(
            &app,
            TG,
            "/api/v1/users/profile/",
            json!({"timezone": "Asia/Vladivostok"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = post(&app, TG, "/api/v1/weights/", Some(json!({"kg": 70}))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["date"], "2026-03-11");
        app.finish().await;
    }
}

#[tokio::test]
async fn profile_updates_and_avatars_share_thirty_an_hour() {
    for app in TestApp::all().await {
        // 29 updates and one avatar fill the hour (the default clock is 09:00, a window start).
        for i in 0..29 {
            let (s, v) = patch(
                &app,
                TG,
                "/api/v1/users/profile/",
                json!({"height": 150 + i}),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "update {i}: {v}");
        }
        let (s, v) = upload(&app, TG, png_with_alpha(), "a.png", "image/png").await;
        assert_eq!(s, StatusCode::OK, "{v}");

        // The 31st is refused with the throttle contract and a Retry-After to the hour's end.
        let resp = app
            .request_as(Method::PUT, TG, "/api/v1/users/profile/")
            .json(&json!({"height": 190}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()["retry-after"], "3600");
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["error_code"], "RATE_LIMIT");
        assert_eq!(v["retry_after_sec"], 3600);
        let (s, _) = upload(&app, TG, png_with_alpha(), "a.png", "image/png").await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "avatars share the limit");
        // Nothing was changed by the refused update; reading is never limited; others are not.
        let (s, v) = get(&app, TG, "/api/v1/users/profile/").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(v["profile"]["height"], 178);
        let (s, _) = patch(
            &app,
            OTHER,
            "/api/v1/users/profile/",
            json!({"height": 170}),
        )
        .await;
        assert_eq!(s, StatusCode::OK);

        // The next hour starts afresh.
        app.clock.advance(chrono::Duration::hours(1));
        let (s, _) = patch(&app, TG, "/api/v1/users/profile/", json!({"height": 191})).await;
        assert_eq!(s, StatusCode::OK);
        app.finish().await;
    }
}

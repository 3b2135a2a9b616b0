//! `eatfit import django` against a PostgreSQL database built here from the original's
//! documented schema (reference/backend-core.md §2) with representative and malformed rows:
//! the real binary imports it (dry run first, then for real, then again), and our API serves
//! the diary and goals the original would have shown — with its bugs fixed (two active goals,
//! FAILED meals, photos stuck in PROCESSING) — while a second import changes nothing. Cancel
//! events keep their audit trail, and photos a FREE user took in the original on the
//! switch-over day count against that day's limit here.
//! Runs only when `EATFIT_TEST_DATABASE_URL` is set (the source must be PostgreSQL); the target
//! is SQLite and PostgreSQL.

use std::path::Path;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use store::sea_orm::ConnectionTrait;
use store::testing::{PG_ENV, TestDb};
use testkit::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_eatfit");
const TG: i64 = 111_000_111;
const DAY: &str = "2026-03-10";

/// The original's tables, as documented (types and defaults that matter for the import).
const ORIGINAL_SCHEMA: &str = r#"
CREATE TABLE auth_user (
  id bigserial PRIMARY KEY, password varchar(128) NOT NULL DEFAULT '!', last_login timestamptz NULL,
  is_superuser boolean NOT NULL DEFAULT false, username varchar(150) NOT NULL UNIQUE,
  first_name varchar(150) NOT NULL DEFAULT '', last_name varchar(150) NOT NULL DEFAULT '',
  email varchar(254) NOT NULL DEFAULT '', is_staff boolean NOT NULL DEFAULT false,
  is_active boolean NOT NULL DEFAULT true, date_joined timestamptz NOT NULL);
CREATE TABLE users_profile (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL UNIQUE REFERENCES auth_user(id) ON DELETE CASCADE,
  full_name varchar(255) NOT NULL DEFAULT '', gender varchar(1) NULL, birth_date date NULL,
  height integer NULL CHECK (height >= 0), weight numeric(5,2) NULL,
  activity_level varchar(20) NOT NULL DEFAULT 'sedentary', goal_type varchar(20) NOT NULL DEFAULT 'maintenance',
  target_weight numeric(5,2) NULL, timezone varchar(50) NULL, avatar varchar(100) NULL,
  avatar_version integer NOT NULL DEFAULT 0, telegram_id bigint NULL UNIQUE, telegram_username varchar(255) NULL,
  training_level varchar(20) NULL, goals jsonb NOT NULL DEFAULT '[]', health_restrictions jsonb NOT NULL DEFAULT '[]',
  current_body_type smallint NULL, ideal_body_type smallint NULL, ai_recommendations jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE telegram_telegramuser (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL UNIQUE REFERENCES auth_user(id) ON DELETE CASCADE,
  telegram_id bigint NOT NULL UNIQUE, username varchar(255) NULL, first_name varchar(255) NOT NULL DEFAULT '',
  last_name varchar(255) NOT NULL DEFAULT '', language_code varchar(10) NOT NULL DEFAULT 'ru',
  is_premium boolean NOT NULL DEFAULT false, ai_test_completed boolean NOT NULL DEFAULT false,
  ai_test_answers jsonb NULL, is_client boolean NOT NULL DEFAULT false, recommended_calories integer NULL,
  recommended_protein numeric(6,2) NULL, recommended_fat numeric(6,2) NULL, recommended_carbs numeric(6,2) NULL,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE telegram_personalplansurvey (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  gender varchar(10) NOT NULL, age smallint NOT NULL, height_cm smallint NOT NULL, weight_kg numeric(5,2) NOT NULL,
  target_weight_kg numeric(5,2) NULL, activity varchar(20) NOT NULL, training_level varchar(32) NULL,
  body_goals jsonb NOT NULL DEFAULT '[]', health_limitations jsonb NOT NULL DEFAULT '[]',
  body_now_id smallint NOT NULL, body_now_label text NULL, body_now_file text NOT NULL,
  body_ideal_id smallint NOT NULL, body_ideal_label text NULL, body_ideal_file text NOT NULL,
  timezone varchar(64) NOT NULL DEFAULT 'Europe/Moscow', utc_offset_minutes integer NOT NULL,
  completed_at timestamptz NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE telegram_personalplan (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  survey_id bigint NULL REFERENCES telegram_personalplansurvey(id) ON DELETE SET NULL,
  ai_text text NOT NULL, ai_model varchar(100) NULL, prompt_version varchar(20) NULL, created_at timestamptz NOT NULL);
CREATE TABLE nutrition_meals (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  meal_type varchar(10) NOT NULL, date date NOT NULL, status varchar(20) NOT NULL DEFAULT 'DRAFT',
  created_at timestamptz NOT NULL, photo varchar(100) NULL);
CREATE TABLE nutrition_food_items (
  id bigserial PRIMARY KEY, meal_id bigint NOT NULL REFERENCES nutrition_meals(id) ON DELETE CASCADE,
  name varchar(255) NOT NULL, photo varchar(100) NULL, grams integer NOT NULL,
  calories numeric(7,2) NOT NULL, protein numeric(6,2) NOT NULL, fat numeric(6,2) NOT NULL,
  carbohydrates numeric(6,2) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE nutrition_meal_photos (
  id bigserial PRIMARY KEY, meal_id bigint NOT NULL REFERENCES nutrition_meals(id) ON DELETE CASCADE,
  image varchar(100) NOT NULL, recognized_data jsonb NOT NULL DEFAULT '{}',
  status varchar(20) NOT NULL DEFAULT 'PENDING', error_message text NULL, error_code varchar(50) NULL,
  created_at timestamptz NOT NULL);
CREATE TABLE nutrition_daily_goals (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  calories integer NOT NULL, protein numeric(6,2) NOT NULL, fat numeric(6,2) NOT NULL,
  carbohydrates numeric(6,2) NOT NULL, source varchar(10) NOT NULL DEFAULT 'AUTO',
  is_active boolean NOT NULL DEFAULT true, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE subscription_plans (
  id bigserial PRIMARY KEY, code varchar(50) NOT NULL UNIQUE, name varchar(50) NULL UNIQUE,
  display_name varchar(100) NOT NULL, description text NOT NULL DEFAULT '', price numeric(10,2) NOT NULL DEFAULT 0,
  old_price integer NULL, duration_days integer NOT NULL DEFAULT 0, daily_photo_limit integer NULL,
  max_photos_per_day integer NOT NULL DEFAULT 3, history_days integer NOT NULL DEFAULT 7,
  ai_recognition boolean NOT NULL DEFAULT true, advanced_stats boolean NOT NULL DEFAULT false,
  priority_support boolean NOT NULL DEFAULT false, is_active boolean NOT NULL DEFAULT true,
  is_test boolean NOT NULL DEFAULT false, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE subscriptions (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL UNIQUE REFERENCES auth_user(id) ON DELETE CASCADE,
  plan_id bigint NOT NULL REFERENCES subscription_plans(id), start_date timestamptz NOT NULL,
  end_date timestamptz NOT NULL, is_active boolean NOT NULL DEFAULT true, auto_renew boolean NOT NULL DEFAULT false,
  yookassa_payment_method_id varchar(255) NULL, card_mask varchar(20) NULL, card_brand varchar(50) NULL,
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE payments (
  id uuid PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  subscription_id bigint NULL REFERENCES subscriptions(id) ON DELETE SET NULL,
  plan_id bigint NULL REFERENCES subscription_plans(id) ON DELETE SET NULL,
  amount numeric(10,2) NOT NULL, currency varchar(3) NOT NULL DEFAULT 'RUB',
  status varchar(50) NOT NULL DEFAULT 'PENDING', provider varchar(50) NOT NULL DEFAULT 'YOOKASSA',
  yookassa_payment_id varchar(255) NULL UNIQUE, yookassa_payment_method_id varchar(255) NULL,
  is_recurring boolean NOT NULL DEFAULT false, save_payment_method boolean NOT NULL DEFAULT true,
  description text NOT NULL DEFAULT '', error_message text NOT NULL DEFAULT '', metadata jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, paid_at timestamptz NULL,
  billing_period_end timestamptz NULL, webhook_processed_at timestamptz NULL);
CREATE TABLE refunds (
  id uuid PRIMARY KEY, payment_id uuid NOT NULL REFERENCES payments(id) ON DELETE CASCADE,
  amount numeric(10,2) NOT NULL, status varchar(50) NOT NULL DEFAULT 'PENDING',
  yookassa_refund_id varchar(255) NULL UNIQUE, reason text NOT NULL DEFAULT '', error_message text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, completed_at timestamptz NULL);
CREATE TABLE webhook_logs (
  id uuid PRIMARY KEY, event_type varchar(100) NOT NULL, event_id varchar(255) NOT NULL UNIQUE,
  provider_event_id varchar(255) NULL, payment_id varchar(255) NULL, trace_id varchar(36) NULL,
  status varchar(20) NOT NULL DEFAULT 'RECEIVED', attempts integer NOT NULL DEFAULT 0,
  error_message text NOT NULL DEFAULT '', raw_payload jsonb NOT NULL DEFAULT '{}', client_ip inet NULL,
  created_at timestamptz NOT NULL, processed_at timestamptz NULL);
-- As restored from a partial dump: no user FK, so an orphan row can exist.
CREATE TABLE nutrition_cancel_events (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL, client_cancel_id uuid NOT NULL UNIQUE,
  run_id integer NULL, meal_id bigint NULL REFERENCES nutrition_meals(id) ON DELETE SET NULL,
  payload jsonb NOT NULL DEFAULT '{}', cancelled_tasks integer NOT NULL DEFAULT 0,
  updated_photos integer NOT NULL DEFAULT 0, noop boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL);
CREATE TABLE daily_usage (
  id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
  date date NOT NULL, photo_ai_requests integer NOT NULL DEFAULT 0 CHECK (photo_ai_requests >= 0),
  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (user_id, date));
"#;

/// Representative rows, and the malformed ones the original let through.
const ORIGINAL_ROWS: &str = r#"
INSERT INTO auth_user (id, username, first_name, last_name, email, date_joined) VALUES
  (1, 'tg_111000111', 'Анна', 'Иванова', 'tg111000111@telegram.user', '2025-11-01 10:00+03'),
  (2, 'admin', '', '', 'admin@example.org', '2025-10-01 10:00+03'),
  (3, 'tg_bad', '', '', 'bad@telegram.user', '2025-11-02 10:00+03'),
  (4, 'tg_444000444', 'Пётр', '', 'tg444000444@telegram.user', '2025-11-03 10:00+03'),
  (5, 'tg_555000555', 'Ольга', '', 'tg555000555@telegram.user', '2025-11-04 10:00+03');
INSERT INTO telegram_telegramuser (id, user_id, telegram_id, username, first_name, last_name, is_client, recommended_calories, recommended_protein, created_at, updated_at) VALUES
  (1, 1, 111000111, 'anna', 'Анна', 'Иванова', true, 2000, 120.50, '2025-11-01 10:00+03', '2025-11-01 10:00+03'),
  (2, 3, -5, NULL, 'Bad', '', false, NULL, NULL, '2025-11-02 10:00+03', '2025-11-02 10:00+03'),
  (3, 4, 444000444, NULL, 'Пётр', '', false, NULL, NULL, '2025-11-03 10:00+03', '2025-11-03 10:00+03'),
  (4, 5, 555000555, NULL, 'Ольга', '', false, NULL, NULL, '2025-11-04 10:00+03', '2025-11-04 10:00+03');
INSERT INTO users_profile (id, user_id, full_name, gender, birth_date, height, weight, activity_level, goal_type, timezone, created_at, updated_at) VALUES
  (1, 1, 'Анна Иванова', 'F', '1990-05-20', 168, 64.50, 'lightly_active', 'weight_loss', 'Asia/Yekaterinburg', '2025-11-01 10:00+03', '2025-11-01 10:00+03'),
  (2, 3, '', NULL, NULL, NULL, NULL, 'sedentary', 'maintenance', 'MSK', '2025-11-02 10:00+03', '2025-11-02 10:00+03'),
  (3, 5, 'Ольга', 'F', NULL, NULL, NULL, 'sedentary', 'maintenance', 'Asia/Yekaterinburg', '2025-11-04 10:00+03', '2025-11-04 10:00+03');
-- Two active goals (the original's race) and an old inactive one.
INSERT INTO nutrition_daily_goals (id, user_id, calories, protein, fat, carbohydrates, source, is_active, created_at, updated_at) VALUES
  (1, 1, 1800, 110.00, 60.00, 200.00, 'AUTO', true, '2026-01-01 10:00+03', '2026-01-01 10:00+03'),
  (2, 1, 2000, 120.00, 65.00, 230.00, 'MANUAL', true, '2026-02-01 10:00+03', '2026-02-01 10:00+03'),
  (3, 1, 2500, 150.00, 80.00, 300.00, 'AUTO', false, '2025-12-01 10:00+03', '2025-12-01 10:00+03');
INSERT INTO nutrition_meals (id, user_id, meal_type, date, status, created_at) VALUES
  (10, 1, 'LUNCH', '2026-03-10', 'COMPLETE', '2026-03-10 13:00+03'),
  (11, 1, 'DINNER', '2026-03-10', 'FAILED', '2026-03-10 19:00+03'),
  (12, 1, 'SNACK', '2026-03-10', 'FAILED', '2026-03-10 16:00+03'),
  (13, 1, 'BREAKFAST', '2026-03-10', 'PROCESSING', '2026-03-10 08:00+03'),
  (14, 1, 'BRUNCH', '2026-03-10', 'COMPLETE', '2026-03-10 11:00+03'),
  (15, 1, 'LUNCH', '2026-03-09', 'COMPLETE', '2026-03-09 13:00+03');
INSERT INTO nutrition_food_items (id, meal_id, name, grams, calories, protein, fat, carbohydrates, created_at, updated_at) VALUES
  (100, 10, 'Куриная грудка', 150, 195.50, 31.50, 4.20, 0.00, '2026-03-10 13:00+03', '2026-03-10 13:00+03'),
  (101, 10, 'Ошибка модели', 0, 10.00, 1.00, 1.00, 1.00, '2026-03-10 13:00+03', '2026-03-10 13:00+03'),
  (102, 11, 'Рис отварной', 200, 260.00, 5.40, 0.60, 57.00, '2026-03-10 19:00+03', '2026-03-10 19:00+03'),
  (103, 15, 'Гречка', 200, 226.00, 8.40, 2.60, 43.00, '2026-03-09 13:00+03', '2026-03-09 13:00+03');
INSERT INTO nutrition_meal_photos (id, meal_id, image, recognized_data, status, error_code, created_at) VALUES
  (50, 10, 'uploads/users/1/meals/50/ai_a1.jpg', '{"items": [{"name": "Куриная грудка"}]}', 'SUCCESS', NULL, '2026-03-10 13:00+03'),
  (51, 12, 'uploads/users/1/meals/51/ai_b2.jpg', '{}', 'FAILED', 'UPSTREAM_TIMEOUT', '2026-03-10 16:00+03'),
  (52, 13, 'uploads/users/1/meals/52/ai_c3.jpg', '{}', 'PROCESSING', NULL, '2026-03-10 08:00+03'),
  (53, 10, 'uploads/users/1/meals/53/gone.jpg', '{}', 'SUCCESS', NULL, '2026-03-10 13:01+03');
INSERT INTO telegram_personalplansurvey (id, user_id, gender, age, height_cm, weight_kg, activity, body_now_id, body_now_file, body_ideal_id, body_ideal_file, utc_offset_minutes, completed_at, created_at, updated_at) VALUES
  (1, 1, 'female', 35, 168, 64.50, 'light', 2, 'f2.png', 1, 'fi1.png', 300, '2026-01-05 10:00+03', '2026-01-05 10:00+03', '2026-01-05 10:00+03'),
  (2, 1, 'other', 35, 168, 64.50, 'light', 2, 'f2.png', 1, 'fi1.png', 300, NULL, '2026-01-06 10:00+03', '2026-01-06 10:00+03');
INSERT INTO telegram_personalplan (id, user_id, survey_id, ai_text, ai_model, prompt_version, created_at) VALUES
  (1, 1, 1, 'План: 2000 ккал, белок 120 г.', 'model/x', 'v3', '2026-01-05 10:05+03');
INSERT INTO subscription_plans (id, code, name, display_name, price, duration_days, daily_photo_limit, history_days, is_test) VALUES
  (1, 'FREE', 'FREE', 'Бесплатный', 0.00, 0, 3, 7, false),
  (2, 'PRO_MONTHLY', 'MONTHLY', 'PRO месяц', 299.00, 30, NULL, 180, false),
  (3, 'PRO_YEARLY', 'YEARLY', 'PRO год', 2990.00, 365, NULL, 180, false),
  (4, 'TEST_LIVE', 'TEST_LIVE', 'Test Live Payment 1 RUB', 1.00, 30, NULL, -1, true);
-- An active PRO with a saved card, and an expired PRO the original still called active.
INSERT INTO subscriptions (id, user_id, plan_id, start_date, end_date, is_active, auto_renew, yookassa_payment_method_id, card_mask, card_brand, created_at, updated_at) VALUES
  (1, 1, 2, '2026-02-01 10:00+03', '2099-01-01 10:00+03', true, true, 'pm-1', '•••• 4242', 'Visa', '2025-11-01 10:00+03', '2026-02-01 10:00+03'),
  (2, 4, 2, '2025-11-03 10:00+03', '2025-12-03 10:00+03', true, false, NULL, NULL, NULL, '2025-11-03 10:00+03', '2025-11-03 10:00+03');
INSERT INTO payments (id, user_id, subscription_id, plan_id, amount, status, yookassa_payment_id, yookassa_payment_method_id, description, created_at, updated_at, paid_at) VALUES
  ('00000000-0000-4000-8000-000000000001', 1, 1, 2, 299.00, 'SUCCEEDED', 'yk-1', 'pm-1', 'PRO месяц', '2026-02-01 10:00+03', '2026-02-01 10:01+03', '2026-02-01 10:01+03'),
  ('00000000-0000-4000-8000-000000000002', 1, 1, 2, 299.00, 'CANCELED', 'yk-2', NULL, 'PRO месяц', '2026-01-31 10:00+03', '2026-01-31 10:30+03', NULL),
  ('00000000-0000-4000-8000-000000000003', 1, 1, NULL, 1.00, 'REFUNDED', 'yk-3', 'pm-1', 'Привязка карты', '2026-01-30 10:00+03', '2026-01-30 10:05+03', '2026-01-30 10:01+03'),
  ('00000000-0000-4000-8000-000000000004', 2, NULL, 2, 299.00, 'SUCCEEDED', 'yk-4', NULL, 'admin', '2026-01-29 10:00+03', '2026-01-29 10:00+03', '2026-01-29 10:00+03');
INSERT INTO refunds (id, payment_id, amount, status, yookassa_refund_id, created_at, updated_at) VALUES
  ('00000000-0000-4000-9000-000000000001', '00000000-0000-4000-8000-000000000003', 1.00, 'SUCCEEDED', 'rf-1', '2026-01-30 10:05+03', '2026-01-30 10:05+03'),
  ('00000000-0000-4000-9000-000000000002', '00000000-0000-4000-8000-000000000003', 1.00, 'PENDING', NULL, '2026-01-30 10:06+03', '2026-01-30 10:06+03');
INSERT INTO webhook_logs (id, event_type, event_id, payment_id, status, attempts, raw_payload, client_ip, created_at, processed_at) VALUES
  ('00000000-0000-4000-a000-000000000001', 'payment.succeeded', 'payment.succeeded:yk-1', 'yk-1', 'SUCCESS', 1, '{"event": "payment.succeeded"}', '185.71.76.1', '2026-02-01 10:01+03', '2026-02-01 10:01+03'),
  ('00000000-0000-4000-a000-000000000002', 'payment.canceled', 'payment.canceled:yk-2', 'yk-2', 'RECEIVED', 2, '{}', NULL, '2026-01-31 10:30+03', NULL);
-- Cancels: of an imported meal; after the meal was deleted (meal NULL, its id in the payload);
-- of a meal that is not imported (BRUNCH); and one whose user does not exist.
INSERT INTO nutrition_cancel_events (id, user_id, client_cancel_id, run_id, meal_id, payload, cancelled_tasks, updated_photos, noop, created_at) VALUES
  (1, 1, '6f1c2a9e-0000-4000-8000-000000000001', 7, 10, '{"run_id": 7, "meal_id": 10, "meal_photo_ids": [50], "task_ids": ["t-1"], "reason": "user_cancel"}', 1, 1, false, '2026-03-10 13:02+03'),
  (2, 1, '6f1c2a9e-0000-4000-8000-000000000002', 8, NULL, '{"run_id": 8, "meal_id": 77, "meal_photo_ids": [], "task_ids": [], "reason": "cleanup"}', 0, 0, true, '2026-03-10 14:00+03'),
  (3, 1, '6f1c2a9e-0000-4000-8000-000000000003', NULL, 14, '{}', 0, 0, true, '2026-03-10 11:05+03'),
  (4, 99, '6f1c2a9e-0000-4000-8000-000000000004', NULL, NULL, '{}', 0, 0, true, '2026-03-10 11:06+03');
-- Photos counted per Moscow day: Пётр (FREE, Moscow) used 2 on the 10th and 3 the day before;
-- Ольга (FREE, Yekaterinburg) used her 3 on the 10th; the admin's row has no user here, and a
-- row dated in the future is not a day that happened.
INSERT INTO daily_usage (id, user_id, date, photo_ai_requests) VALUES
  (1, 4, '2026-03-10', 2),
  (2, 4, '2026-03-09', 3),
  (3, 5, '2026-03-10', 3),
  (4, 2, '2026-03-10', 1),
  (5, 4, '2099-01-01', 1);
"#;

async fn pg_exec(url: &str, sql: &str) {
    let db = store::Db::connect(&store::DbUrl::parse(url).unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db.conn()
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    db.close().await;
}

/// A fresh PostgreSQL database holding the original's schema and rows; returns its URL.
async fn original_database(base: &str, name: &str) -> String {
    pg_exec(
        base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
    pg_exec(base, &format!("CREATE DATABASE {name}")).await;
    let mut url = url::Url::parse(base).unwrap_or_else(|e| panic!("{e}"));
    url.set_path(&format!("/{name}"));
    let url = url.to_string();
    pg_exec(&url, ORIGINAL_SCHEMA).await;
    pg_exec(&url, ORIGINAL_ROWS).await;
    url
}

fn original_media(dir: &Path) {
    for (rel, bytes) in [
        ("uploads/users/1/meals/50/ai_a1.jpg", b"jpeg-50".as_slice()),
        ("uploads/users/1/meals/51/ai_b2.jpg", b"jpeg-51".as_slice()),
        ("uploads/users/1/meals/52/ai_c3.jpg", b"jpeg-52".as_slice()),
    ] {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap_or(dir)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(p, bytes).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn import(source: &str, media: &Path, target: &str, target_media: &Path, dry: bool) -> String {
    let mut cmd = Command::new(BIN);
    cmd.args(["import", "django", "--from", source, "--media"])
        .arg(media)
        .env_clear()
        .env("DATABASE_URL", target)
        .env("EATFIT_MEDIA_DIR", target_media);
    if dry {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    text
}

/// `table seen imported already merged skipped` from the report.
fn counts(report: &str, table: &str) -> Vec<u64> {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{table} ")))
        .unwrap_or_else(|| panic!("no {table} line in {report}"))
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect()
}

async fn snapshot(db: &store::Db) -> std::collections::BTreeMap<String, i64> {
    eatfit::ops::backup::table_counts(db.conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn importing_the_original_serves_the_same_diary_and_a_second_import_changes_nothing() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let Ok(base) = std::env::var(PG_ENV) else {
        eprintln!("skipped: {PG_ENV} not set (the original is PostgreSQL)");
        return;
    };
    let name = format!("eatfit_django_{}", std::process::id());
    let source = original_database(&base, &name).await;
    let media = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    original_media(media.path());

    for target in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let target_media = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = target.url.expose().to_string();
        let empty = snapshot(&target.db).await;

        // A dry run reports everything and writes nothing.
        let dry = import(&source, media.path(), &url, target_media.path(), true);
        assert!(dry.contains("dry run"), "{dry}");
        assert_eq!(counts(&dry, "nutrition_meals"), [6, 5, 0, 0, 1], "{dry}");
        assert_eq!(
            counts(&dry, "nutrition_cancel_events"),
            [4, 3, 0, 0, 1],
            "{dry}"
        );
        assert_eq!(counts(&dry, "daily_usage"), [5, 3, 0, 0, 2], "{dry}");
        assert_eq!(snapshot(&target.db).await, empty, "a dry run wrote rows");
        assert!(
            std::fs::read_dir(target_media.path())
                .map(|mut d| d.next().is_none())
                .unwrap_or(true),
            "a dry run copied files"
        );

        let first = import(&source, media.path(), &url, target_media.path(), false);
        for (table, want) in [
            ("auth_user", [5, 3, 0, 0, 2]),
            ("telegram_telegramuser", [4, 3, 0, 0, 1]),
            ("users_profile", [3, 2, 0, 0, 1]),
            ("nutrition_daily_goals", [3, 3, 0, 0, 0]),
            ("nutrition_meals", [6, 5, 0, 0, 1]),
            ("nutrition_food_items", [4, 3, 0, 0, 1]),
            ("nutrition_meal_photos", [4, 3, 0, 0, 1]),
            ("telegram_personalplansurvey", [2, 1, 0, 0, 1]),
            ("telegram_personalplan", [1, 1, 0, 0, 0]),
            ("subscription_plans", [4, 0, 0, 4, 0]),
            ("subscriptions", [2, 2, 0, 0, 0]),
            ("payments", [4, 3, 0, 0, 1]),
            ("refunds", [2, 1, 0, 0, 1]),
            ("webhook_logs", [2, 2, 0, 0, 0]),
            ("nutrition_cancel_events", [4, 3, 0, 0, 1]),
            ("daily_usage", [5, 3, 0, 0, 2]),
        ] {
            assert_eq!(counts(&first, table), want, "{table}: {first}");
        }
        for reason in [
            "auth_user #2: `admin` has no Telegram identity",
            "nutrition_food_items #101: grams 0",
            "nutrition_meal_photos #53: file `uploads/users/1/meals/53/gone.jpg` is missing",
            "nutrition_meals #14: unknown meal_type `BRUNCH`",
            "telegram_personalplansurvey #2: gender `other`",
            "payments #00000000-0000-4000-8000-000000000004: its user #2 was not imported",
            "refunds #00000000-0000-4000-9000-000000000002: no YooKassa refund id",
            "nutrition_cancel_events #4: its user #99 was not imported",
            "daily_usage #4: its user #2 was not imported",
            "daily_usage #5: dated 2099-01-01, after the original's current day",
        ] {
            assert!(first.contains(reason), "missing skip `{reason}` in {first}");
        }
        for fix in [
            "nutrition_daily_goals #1: a second active goal",
            "nutrition_meals #11: status FAILED → COMPLETE",
            "nutrition_meals #12: status FAILED → DRAFT",
            "nutrition_meal_photos #52: PROCESSING forever",
            "subscriptions #2: PRO_MONTHLY ended 2025-12-03 → FREE",
            "subscriptions #1: auto-renew off",
        ] {
            assert!(first.contains(fix), "missing fix `{fix}` in {first}");
        }
        let after_first = snapshot(&target.db).await;
        assert_eq!(after_first["import_map"], 42, "{after_first:?}");
        assert_eq!(after_first["cancel_events"], 3, "{after_first:?}");
        assert_eq!(after_first["photo_quota"], 3, "{after_first:?}");
        cancel_events_as_the_original_kept_them(&target.db).await;

        // The second run changes nothing.
        let second = import(&source, media.path(), &url, target_media.path(), false);
        assert_eq!(
            counts(&second, "nutrition_meals"),
            [6, 0, 5, 0, 1],
            "{second}"
        );
        assert_eq!(counts(&second, "auth_user"), [5, 0, 3, 0, 2], "{second}");
        assert_eq!(
            counts(&second, "nutrition_cancel_events"),
            [4, 0, 3, 0, 1],
            "{second}"
        );
        assert_eq!(counts(&second, "daily_usage"), [5, 0, 3, 0, 2], "{second}");
        assert_eq!(counts(&second, "payments"), [4, 0, 3, 0, 1], "{second}");
        assert_eq!(
            snapshot(&target.db).await,
            after_first,
            "a second import wrote rows"
        );

        // Photos were copied under generated names.
        let photo = target_media.path().join("photos/imported-50.jpg");
        assert_eq!(
            std::fs::read(&photo).unwrap_or_else(|e| panic!("{}: {e}", photo.display())),
            b"jpeg-50"
        );

        // Through our API: the diary the original showed, with its bugs fixed.
        let app = TestApp::spawn_with(target, testkit::app::Options::default()).await;
        let (s, d) = app
            .send_json(
                reqwest::Method::GET,
                TG,
                &format!("/api/v1/meals/?date={DAY}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        assert_eq!(d["date"], DAY);
        assert_eq!(
            d["daily_goal"]["calories"], 2000,
            "the newest active goal: {d}"
        );
        assert_eq!(
            d["total_consumed"],
            json!({"calories": 455.5, "protein": 36.9, "fat": 4.8, "carbohydrates": 57.0}),
            "{d}"
        );
        let meals = d["meals"].as_array().cloned().unwrap_or_default();
        let by_type = |t: &str| -> Value {
            meals
                .iter()
                .find(|m| m["meal_type"] == t)
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(meals.len(), 4, "BRUNCH was not imported: {d}");
        let lunch = by_type("LUNCH");
        assert_eq!(lunch["status"], "COMPLETE");
        assert_eq!(lunch["items"][0]["name"], "Куриная грудка");
        assert_eq!(lunch["items"][0]["grams"], 150);
        assert_eq!(lunch["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(lunch["photo_count"], 1, "{lunch}");
        assert_eq!(lunch["has_success"], true);
        assert_eq!(by_type("DINNER")["status"], "COMPLETE");
        assert_eq!(by_type("SNACK")["status"], "DRAFT");
        let breakfast = by_type("BREAKFAST");
        assert_eq!(
            breakfast["is_processing"], false,
            "nothing stays processing"
        );
        assert_eq!(breakfast["latest_photo_status"], "FAILED", "{breakfast}");

        let (s, g) = app
            .send_json(reqwest::Method::GET, TG, "/api/v1/goals/", None)
            .await;
        assert_eq!(s, StatusCode::OK, "{g}");
        assert_eq!(g["is_set"], true, "{g}");
        assert_eq!(g["goal"]["calories"], 2000, "{g}");
        assert_eq!(g["goal"]["source"], "MANUAL", "{g}");
        assert_eq!(g["goal"]["protein"], "120.00", "{g}");

        // Subscription and payment history as the original's billing API shaped them.
        let (s, me) = app
            .send_json(reqwest::Method::GET, TG, "/api/v1/billing/me/", None)
            .await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["plan_code"], "PRO_MONTHLY", "{me}");
        assert_eq!(me["is_active"], true, "{me}");
        assert!(
            me["expires_at"]
                .as_str()
                .is_some_and(|e| e.starts_with("2099-01-01")),
            "{me}"
        );
        let (s, sub) = app
            .send_json(
                reqwest::Method::GET,
                TG,
                "/api/v1/billing/subscription/",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{sub}");
        assert_eq!(sub["plan"], "pro", "{sub}");
        assert_eq!(
            sub["autorenew_enabled"], false,
            "no recorded consent: {sub}"
        );
        assert_eq!(sub["payment_method"]["card_mask"], "•••• 4242", "{sub}");
        let (s, pays) = app
            .send_json(
                reqwest::Method::GET,
                TG,
                "/api/v1/billing/payments/?limit=20",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{pays}");
        let results = pays["results"].as_array().cloned().unwrap_or_default();
        assert_eq!(results.len(), 3, "{pays}");
        assert_eq!(results[0]["id"], "00000000-0000-4000-8000-000000000001");
        assert_eq!(results[0]["status"], "succeeded");
        // The reference has a float; our billing API answers a 2-dp string. Either way 299 ₽.
        let amount = |v: &Value| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(f64::NAN)
        };
        assert_eq!(amount(&results[0]["amount"]), 299.0, "{pays}");
        assert_eq!(results[0]["currency"], "RUB");
        assert_eq!(results[1]["status"], "canceled");
        assert_eq!(results[2]["status"], "refunded");
        assert_eq!(amount(&results[2]["amount"]), 1.0, "{pays}");
        // The expired PRO is FREE here.
        let (s, me) = app
            .send_json(
                reqwest::Method::GET,
                444_000_444,
                "/api/v1/billing/me/",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["plan_code"], "FREE", "{me}");
        app.finish().await;
    }
    pg_exec(
        &base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}

/// The imported cancel events: user and meal mapped; a meal that is gone is NULL with the
/// original's meal id in the payload.
async fn cancel_events_as_the_original_kept_them(db: &store::Db) {
    use store::entities::{cancel_event, meal};
    use store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let by_id = |n: u8| format!("6f1c2a9e-0000-4000-8000-00000000000{n}");
    let find = |id: String| async move {
        cancel_event::Entity::find()
            .filter(cancel_event::Column::ClientCancelId.eq(id.clone()))
            .one(db.conn())
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("no cancel event {id}"))
    };
    let lunch = meal::Entity::find()
        .filter(meal::Column::MealType.eq("LUNCH"))
        .filter(
            meal::Column::Date.eq(chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap_or_default()),
        )
        .one(db.conn())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no imported lunch"));
    let user = lunch.user_id;

    let kept = find(by_id(1)).await;
    assert_eq!(kept.user_id, user);
    assert_eq!(kept.meal_id, Some(lunch.id), "{kept:?}");
    assert_eq!(kept.run_id, Some(7));
    assert_eq!(
        (kept.cancelled_tasks, kept.updated_photos, kept.noop),
        (1, 1, false)
    );
    let payload = kept.payload.unwrap_or_default();
    assert_eq!(payload["reason"], "user_cancel", "{payload}");
    assert_eq!(payload["imported_from"], "django", "{payload}");

    let deleted = find(by_id(2)).await;
    assert_eq!(
        deleted.meal_id, None,
        "the meal was deleted in the original"
    );
    assert!(deleted.noop);
    assert_eq!(deleted.payload.unwrap_or_default()["meal_id"], 77);

    let not_imported = find(by_id(3)).await;
    assert_eq!(not_imported.meal_id, None, "BRUNCH was not imported");
    assert_eq!(not_imported.payload.unwrap_or_default()["meal_id"], 14);
}

/// JPEG bytes the recognition submit accepts.
fn jpeg() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap_or_else(|e| panic!("{e}"));
    out.into_inner()
}

async fn submit_photo(app: &TestApp, tg: i64) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "image",
            reqwest::multipart::Part::bytes(jpeg()).file_name("photo.jpg"),
        )
        .text("meal_type", "SNACK");
    let r = app
        .request_as(reqwest::Method::POST, tg, "/api/v1/ai/recognize/")
        .multipart(form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn photos_used_in_the_original_on_the_switch_over_day_count_against_the_free_limit() {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let Ok(base) = std::env::var(PG_ENV) else {
        eprintln!("skipped: {PG_ENV} not set (the original is PostgreSQL)");
        return;
    };
    let name = format!("eatfit_django_usage_{}", std::process::id());
    let source_url = original_database(&base, &name).await;
    let media = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    original_media(media.path());
    let source =
        store::Db::connect(&store::DbUrl::parse(&source_url).unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    // 23:30 in Moscow on the 10th, already 01:30 on the 11th in Yekaterinburg.
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-10T20:30:00Z")
        .unwrap_or_else(|e| panic!("{e}"))
        .to_utc();
    let llm = testkit::fake_llm::FakeLlm::start().await;
    llm.set_default(testkit::fake_llm::Behavior::Success(
        testkit::fake_llm::FakeLlm::items(&[("гречка", 150.0, 138.0, 5.1, 0.9, 29.9)]),
    ));

    for target in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let target_media = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let opts = eatfit::ops::import::Options {
            source_media: media.path().to_path_buf(),
            target_media: target_media.path().to_path_buf(),
            dry_run: false,
        };
        let report = eatfit::ops::import::run(&source, &target.db, &opts, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let text = report.lines().join("\n");
        assert_eq!(counts(&text, "daily_usage"), [5, 3, 0, 0, 2], "{text}");
        assert!(
            text.contains(
                "daily_usage #3: 3 photo(s) of the original's day 2026-03-10 (Moscow) count on the user's today 2026-03-11"
            ),
            "{text}"
        );

        let app = TestApp::spawn_with(
            target,
            testkit::app::Options {
                now,
                recognizer: Some(testkit::app::fake_recognizer(&llm)),
                ..testkit::app::Options::default()
            },
        )
        .await;
        // Пётр (FREE, Moscow) used 2 of 3 in the original today: one more, then the limit.
        let (s, b) = submit_photo(&app, 444_000_444).await;
        assert_eq!(s, StatusCode::ACCEPTED, "{b}");
        let (s, b) = submit_photo(&app, 444_000_444).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
        assert_eq!(b["error_code"], "DAILY_PHOTO_LIMIT_EXCEEDED", "{b}");
        // Ольга (FREE, Yekaterinburg) used all 3 on the original's day, which is her today.
        let (s, b) = submit_photo(&app, 555_000_555).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{b}");
        assert_eq!(b["error_code"], "DAILY_PHOTO_LIMIT_EXCEEDED", "{b}");
        // The subscription screen agrees.
        let (s, me) = app
            .send_json(
                reqwest::Method::GET,
                555_000_555,
                "/api/v1/billing/me/",
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{me}");
        assert_eq!(me["remaining_today"], 0, "{me}");
        app.run_jobs().await;
        app.finish().await;
    }
    source.close().await;
    pg_exec(
        &base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await;
}

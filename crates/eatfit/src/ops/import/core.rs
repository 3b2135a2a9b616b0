//! The core tables of the original (reference/backend-core.md §2), in dependency order.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{QueryResult, Value};
use store::sea_orm;

use super::{Counts, ImportError, Run, media_key};

pub(super) type R<T> = Result<T, ImportError>;

pub(super) fn get<T: sea_orm::TryGetable>(r: &QueryResult, col: &str) -> R<T> {
    r.try_get("", col)
        .map_err(|e| ImportError::Source(format!("column {col}: {e}")))
}

/// Runs one table: `f` returns what happened to each row.
pub(super) enum Outcome {
    Imported,
    Already,
    Merged,
    Skipped,
}

pub(super) fn tally(c: &mut Counts, o: Outcome) {
    c.seen += 1;
    match o {
        Outcome::Imported => c.imported += 1,
        Outcome::Already => c.already += 1,
        Outcome::Merged => c.merged += 1,
        Outcome::Skipped => c.skipped += 1,
    }
}

pub(super) async fn import_all(run: &mut Run<'_>) -> R<()> {
    users(run).await?;
    telegram_users(run).await?;
    profiles(run).await?;
    goals(run).await?;
    meals(run).await?;
    items(run).await?;
    photos(run).await?;
    super::usage::cancel_events(run).await?;
    surveys(run).await?;
    plans(run).await?;
    super::billing::import_all(run).await?;
    super::usage::daily_usage(run).await?;
    Ok(())
}

const T_USERS: &str = "auth_user";

async fn users(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT u.id, u.username, u.email, u.first_name, u.last_name, u.is_active, \
             u.date_joined, u.last_login, t.telegram_id \
             FROM auth_user u LEFT JOIN telegram_telegramuser t ON t.user_id = u.id ORDER BY u.id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let id: i64 = get(&r, "id")?;
        let sid = id.to_string();
        let o = if run.mapped(T_USERS, &sid).is_some() {
            Outcome::Already
        } else {
            let username: String = get(&r, "username")?;
            let tg: Option<i64> = get(&r, "telegram_id")?;
            let tg_name = username
                .strip_prefix("tg_")
                .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
            if tg.is_none_or(|t| t <= 0) && !tg_name {
                run.skip(
                    T_USERS,
                    &sid,
                    format!("`{username}` has no Telegram identity (a Django admin account)"),
                );
                Outcome::Skipped
            } else if let Some(existing) = run
                .target_id(
                    "SELECT id FROM users WHERE username = $1",
                    vec![username.clone().into()],
                )
                .await?
            {
                run.record(T_USERS, &sid, "users", existing).await?;
                Outcome::Merged
            } else {
                let joined: DateTime<Utc> = get(&r, "date_joined")?;
                let last_login: Option<DateTime<Utc>> = get(&r, "last_login")?;
                let new_id = run
                    .insert_returning(
                        "INSERT INTO users (username, email, first_name, last_name, is_active, created_at, last_login) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        vec![
                            username.into(),
                            get::<String>(&r, "email")?.into(),
                            get::<String>(&r, "first_name")?.into(),
                            get::<String>(&r, "last_name")?.into(),
                            get::<bool>(&r, "is_active")?.into(),
                            joined.into(),
                            last_login.into(),
                        ],
                    )
                    .await?;
                run.record(T_USERS, &sid, "users", new_id).await?;
                Outcome::Imported
            }
        };
        tally(&mut c, o);
    }
    run.report.tables.push((T_USERS, c));
    Ok(())
}

/// Our user id for a source user id, or a skip reason.
pub(super) fn user_of(run: &Run<'_>, source_user: i64) -> Result<i64, String> {
    run.mapped(T_USERS, &source_user.to_string())
        .ok_or_else(|| format!("its user #{source_user} was not imported"))
}

const T_TG: &str = "telegram_telegramuser";

async fn telegram_users(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id, user_id, telegram_id, username, first_name, last_name, language_code, \
             is_premium, ai_test_completed, ai_test_answers, is_client, recommended_calories, \
             recommended_protein::float8 AS rp, recommended_fat::float8 AS rf, \
             recommended_carbs::float8 AS rc, created_at, updated_at \
             FROM telegram_telegramuser ORDER BY id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        let o = if run.mapped(T_TG, &sid).is_some() {
            Outcome::Already
        } else {
            let tg: i64 = get(&r, "telegram_id")?;
            match user_of(run, get(&r, "user_id")?) {
                Err(reason) => {
                    run.skip(T_TG, &sid, reason);
                    Outcome::Skipped
                }
                Ok(_) if tg <= 0 => {
                    run.skip(
                        T_TG,
                        &sid,
                        format!("telegram_id {tg} is not a Telegram user id"),
                    );
                    Outcome::Skipped
                }
                Ok(user_id) => {
                    if let Some(existing) = run
                        .target_id(
                            "SELECT id FROM telegram_users WHERE telegram_id = $1 OR user_id = $2",
                            vec![tg.into(), user_id.into()],
                        )
                        .await?
                    {
                        run.record(T_TG, &sid, "telegram_users", existing).await?;
                        Outcome::Merged
                    } else {
                        let is_client: bool = get(&r, "is_client")?;
                        let answers: Option<serde_json::Value> = get(&r, "ai_test_answers")?;
                        let new_id = run
                            .insert_returning(
                                "INSERT INTO telegram_users (user_id, telegram_id, username, first_name, last_name, \
                                 language_code, is_premium, ai_test_completed, ai_test_answers, is_client, lead_status, \
                                 recommended_calories, recommended_protein, recommended_fat, recommended_carbs, \
                                 created_at, updated_at) \
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
                                vec![
                                    user_id.into(),
                                    tg.into(),
                                    get::<Option<String>>(&r, "username")?.filter(|u| !u.is_empty()).into(),
                                    get::<String>(&r, "first_name")?.into(),
                                    get::<String>(&r, "last_name")?.into(),
                                    get::<String>(&r, "language_code")?.into(),
                                    get::<bool>(&r, "is_premium")?.into(),
                                    get::<bool>(&r, "ai_test_completed")?.into(),
                                    answers.into(),
                                    is_client.into(),
                                    if is_client { "client" } else { "new" }.into(),
                                    get::<Option<i32>>(&r, "recommended_calories")?.into(),
                                    get::<Option<f64>>(&r, "rp")?.into(),
                                    get::<Option<f64>>(&r, "rf")?.into(),
                                    get::<Option<f64>>(&r, "rc")?.into(),
                                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                                    get::<DateTime<Utc>>(&r, "updated_at")?.into(),
                                ],
                            )
                            .await?;
                        run.record(T_TG, &sid, "telegram_users", new_id).await?;
                        Outcome::Imported
                    }
                }
            }
        };
        tally(&mut c, o);
    }
    run.report.tables.push((T_TG, c));
    Ok(())
}

const T_PROFILE: &str = "users_profile";

async fn profiles(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id, user_id, full_name, gender, birth_date, height, weight::float8 AS weight, \
             activity_level, goal_type, target_weight::float8 AS target_weight, timezone, avatar, \
             avatar_version, training_level, goals, health_restrictions, current_body_type, \
             ideal_body_type, created_at, updated_at FROM users_profile ORDER BY id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        let o = if run.mapped(T_PROFILE, &sid).is_some() {
            Outcome::Already
        } else {
            match user_of(run, get(&r, "user_id")?) {
                Err(reason) => {
                    run.skip(T_PROFILE, &sid, reason);
                    Outcome::Skipped
                }
                Ok(user_id) => {
                    if let Some(existing) = run
                        .target_id(
                            "SELECT id FROM profiles WHERE user_id = $1",
                            vec![user_id.into()],
                        )
                        .await?
                    {
                        run.record(T_PROFILE, &sid, "profiles", existing).await?;
                        Outcome::Merged
                    } else {
                        let tz_raw: Option<String> = get(&r, "timezone")?;
                        let tz = match tz_raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                            Some(z) if z.parse::<chrono_tz::Tz>().is_ok() => z.to_string(),
                            Some(z) => {
                                run.fix(format!(
                                    "users_profile #{sid}: time zone `{z}` is not an IANA zone; Europe/Moscow"
                                ));
                                "Europe/Moscow".to_string()
                            }
                            None => "Europe/Moscow".to_string(),
                        };
                        let gender =
                            get::<Option<String>>(&r, "gender")?.filter(|g| g == "M" || g == "F");
                        let avatar: Option<String> =
                            get::<Option<String>>(&r, "avatar")?.filter(|a| !a.is_empty());
                        let avatar_key = match avatar {
                            Some(a) => {
                                let key = media_key("avatars", &sid, &a);
                                if run.copy_media(&a, &key)? {
                                    Some(key)
                                } else {
                                    run.fix(format!(
                                        "users_profile #{sid}: avatar file `{a}` is missing; imported without it"
                                    ));
                                    None
                                }
                            }
                            None => None,
                        };
                        let new_id = run
                            .insert_returning(
                                "INSERT INTO profiles (user_id, full_name, gender, birth_date, height, weight, \
                                 activity_level, goal_type, target_weight, timezone, avatar, avatar_version, \
                                 training_level, goals, health_restrictions, current_body_type, ideal_body_type, \
                                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                                 $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id",
                                vec![
                                    user_id.into(),
                                    get::<String>(&r, "full_name")?.into(),
                                    gender.into(),
                                    get::<Option<NaiveDate>>(&r, "birth_date")?.into(),
                                    get::<Option<i32>>(&r, "height")?.into(),
                                    get::<Option<f64>>(&r, "weight")?.into(),
                                    get::<String>(&r, "activity_level")?.into(),
                                    get::<String>(&r, "goal_type")?.into(),
                                    get::<Option<f64>>(&r, "target_weight")?.into(),
                                    tz.into(),
                                    avatar_key.into(),
                                    get::<i32>(&r, "avatar_version")?.into(),
                                    get::<Option<String>>(&r, "training_level")?.into(),
                                    get::<Option<serde_json::Value>>(&r, "goals")?.into(),
                                    get::<Option<serde_json::Value>>(&r, "health_restrictions")?.into(),
                                    get::<Option<i16>>(&r, "current_body_type")?.into(),
                                    get::<Option<i16>>(&r, "ideal_body_type")?.into(),
                                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                                    get::<DateTime<Utc>>(&r, "updated_at")?.into(),
                                ],
                            )
                            .await?;
                        run.record(T_PROFILE, &sid, "profiles", new_id).await?;
                        Outcome::Imported
                    }
                }
            }
        };
        tally(&mut c, o);
    }
    run.report.tables.push((T_PROFILE, c));
    Ok(())
}

const T_GOALS: &str = "nutrition_daily_goals";

async fn goals(run: &mut Run<'_>) -> R<()> {
    // Newest active first per user: that one stays active, any other active one is the
    // original's bug (two active goals) and comes in inactive.
    let rows = run
        .source_rows(
            "SELECT id, user_id, calories, protein::float8 AS protein, fat::float8 AS fat, \
             carbohydrates::float8 AS carbohydrates, source, is_active, created_at, updated_at \
             FROM nutrition_daily_goals ORDER BY user_id, is_active DESC, created_at DESC, id DESC",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.mapped(T_GOALS, &sid).is_some() {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_GOALS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let calories: i32 = get(&r, "calories")?;
        let macros = [
            get::<f64>(&r, "protein")?,
            get::<f64>(&r, "fat")?,
            get::<f64>(&r, "carbohydrates")?,
        ];
        if calories < 0 || macros.iter().any(|m| !m.is_finite() || *m < 0.0) {
            run.skip(T_GOALS, &sid, "negative calories or macros");
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let mut active: bool = get(&r, "is_active")?;
        if active
            && run
                .target_id(
                    "SELECT id FROM daily_goals WHERE user_id = $1 AND is_active = $2",
                    vec![user_id.into(), true.into()],
                )
                .await?
                .is_some()
        {
            active = false;
            run.fix(format!(
                "nutrition_daily_goals #{sid}: a second active goal of the user, imported inactive"
            ));
        }
        let source: String = get(&r, "source")?;
        let source = if source == "MANUAL" { "MANUAL" } else { "AUTO" };
        let new_id = run
            .insert_returning(
                "INSERT INTO daily_goals (user_id, calories, protein, fat, carbohydrates, source, is_active, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                vec![
                    user_id.into(),
                    calories.into(),
                    macros[0].into(),
                    macros[1].into(),
                    macros[2].into(),
                    source.into(),
                    active.into(),
                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                    get::<DateTime<Utc>>(&r, "updated_at")?.into(),
                ],
            )
            .await?;
        run.record(T_GOALS, &sid, "daily_goals", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_GOALS, c));
    Ok(())
}

pub(super) const T_MEALS: &str = "nutrition_meals";

async fn meals(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT m.id, m.user_id, m.meal_type, m.date, m.status, m.created_at, \
             (SELECT COUNT(*) FROM nutrition_food_items i WHERE i.meal_id = m.id) AS items \
             FROM nutrition_meals m ORDER BY m.id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.mapped(T_MEALS, &sid).is_some() {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_MEALS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let meal_type: String = get(&r, "meal_type")?;
        if !matches!(
            meal_type.as_str(),
            "BREAKFAST" | "LUNCH" | "DINNER" | "SNACK"
        ) {
            run.skip(T_MEALS, &sid, format!("unknown meal_type `{meal_type}`"));
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let items: i64 = get(&r, "items")?;
        let status: String = get(&r, "status")?;
        let status = match status.as_str() {
            "COMPLETE" | "DRAFT" => status,
            other => {
                let fixed = if items > 0 { "COMPLETE" } else { "DRAFT" };
                run.fix(format!("nutrition_meals #{sid}: status {other} → {fixed}"));
                fixed.to_string()
            }
        };
        let created: DateTime<Utc> = get(&r, "created_at")?;
        let new_id = run
            .insert_returning(
                "INSERT INTO meals (user_id, meal_type, date, status, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                vec![
                    user_id.into(),
                    meal_type.into(),
                    get::<NaiveDate>(&r, "date")?.into(),
                    status.into(),
                    created.into(),
                ],
            )
            .await?;
        run.record(T_MEALS, &sid, "meals", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_MEALS, c));
    Ok(())
}

const T_ITEMS: &str = "nutrition_food_items";

async fn items(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id, meal_id, name, grams, calories::float8 AS calories, protein::float8 AS protein, \
             fat::float8 AS fat, carbohydrates::float8 AS carbohydrates, created_at, updated_at \
             FROM nutrition_food_items ORDER BY id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.mapped(T_ITEMS, &sid).is_some() {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let meal: i64 = get(&r, "meal_id")?;
        let Some(meal_id) = run.mapped(T_MEALS, &meal.to_string()) else {
            run.skip(T_ITEMS, &sid, format!("its meal #{meal} was not imported"));
            tally(&mut c, Outcome::Skipped);
            continue;
        };
        let name: String = get(&r, "name")?;
        let grams: i32 = get(&r, "grams")?;
        let nums = [
            get::<f64>(&r, "calories")?,
            get::<f64>(&r, "protein")?,
            get::<f64>(&r, "fat")?,
            get::<f64>(&r, "carbohydrates")?,
        ];
        let reason = if name.trim().is_empty() {
            Some("empty name".to_string())
        } else if grams < 1 {
            Some(format!("grams {grams} (must be at least 1)"))
        } else if nums.iter().any(|n| !n.is_finite() || *n < 0.0) {
            Some("negative or invalid calories/macros".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            run.skip(T_ITEMS, &sid, reason);
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let new_id = run
            .insert_returning(
                "INSERT INTO food_items (meal_id, name, grams, calories, protein, fat, carbohydrates, \
                 source, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'manual', $8, $9) RETURNING id",
                vec![
                    meal_id.into(),
                    name.trim().to_string().into(),
                    grams.into(),
                    nums[0].into(),
                    nums[1].into(),
                    nums[2].into(),
                    nums[3].into(),
                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                    get::<DateTime<Utc>>(&r, "updated_at")?.into(),
                ],
            )
            .await?;
        run.record(T_ITEMS, &sid, "food_items", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_ITEMS, c));
    Ok(())
}

const T_PHOTOS: &str = "nutrition_meal_photos";

async fn photos(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id, meal_id, image, recognized_data, status, error_message, error_code, created_at \
             FROM nutrition_meal_photos ORDER BY id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.mapped(T_PHOTOS, &sid).is_some() {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let meal: i64 = get(&r, "meal_id")?;
        let Some(meal_id) = run.mapped(T_MEALS, &meal.to_string()) else {
            run.skip(T_PHOTOS, &sid, format!("its meal #{meal} was not imported"));
            tally(&mut c, Outcome::Skipped);
            continue;
        };
        let image: String = get(&r, "image")?;
        let key = media_key("photos", &sid, &image);
        if image.is_empty() || !run.copy_media(&image, &key)? {
            run.skip(
                T_PHOTOS,
                &sid,
                format!("file `{image}` is missing from the media folder"),
            );
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let status: String = get(&r, "status")?;
        let mut error_code: Option<String> = get(&r, "error_code")?;
        let mut error_message: Option<String> = get(&r, "error_message")?;
        let status = match status.as_str() {
            "SUCCESS" | "FAILED" | "CANCELLED" => status,
            other => {
                run.fix(format!(
                    "nutrition_meal_photos #{sid}: {other} forever in the original → FAILED (AI_TIMEOUT)"
                ));
                error_code = Some("AI_TIMEOUT".into());
                error_message =
                    Some("The recognition never finished in the original system.".into());
                "FAILED".to_string()
            }
        };
        if status == "FAILED" && error_code.is_none() {
            error_code = Some("UNKNOWN_ERROR".into());
        }
        let created: DateTime<Utc> = get(&r, "created_at")?;
        let data: Option<serde_json::Value> = get(&r, "recognized_data")?;
        let new_id = run
            .insert_returning(
                "INSERT INTO meal_photos (meal_id, image, recognized_data, status, error_message, error_code, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
                vec![
                    meal_id.into(),
                    key.into(),
                    data.into(),
                    status.into(),
                    error_message.into(),
                    error_code.into(),
                    created.into(),
                ],
            )
            .await?;
        run.record(T_PHOTOS, &sid, "meal_photos", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_PHOTOS, c));
    Ok(())
}

const T_SURVEYS: &str = "telegram_personalplansurvey";

async fn surveys(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id, user_id, gender, age, height_cm, weight_kg::float8 AS weight_kg, \
             target_weight_kg::float8 AS target_weight_kg, activity, training_level, body_goals, \
             health_limitations, body_now_id, body_now_label, body_now_file, body_ideal_id, \
             body_ideal_label, body_ideal_file, timezone, utc_offset_minutes, completed_at, \
             created_at, updated_at FROM telegram_personalplansurvey ORDER BY id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.mapped(T_SURVEYS, &sid).is_some() {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_SURVEYS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let gender: String = get(&r, "gender")?;
        if gender != "male" && gender != "female" {
            run.skip(T_SURVEYS, &sid, format!("gender `{gender}`"));
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let values: Vec<Value> = vec![
            user_id.into(),
            gender.into(),
            get::<i16>(&r, "age")?.into(),
            get::<i16>(&r, "height_cm")?.into(),
            get::<f64>(&r, "weight_kg")?.into(),
            get::<Option<f64>>(&r, "target_weight_kg")?.into(),
            get::<String>(&r, "activity")?.into(),
            get::<Option<String>>(&r, "training_level")?.into(),
            get::<Option<serde_json::Value>>(&r, "body_goals")?.into(),
            get::<Option<serde_json::Value>>(&r, "health_limitations")?.into(),
            get::<i16>(&r, "body_now_id")?.into(),
            get::<Option<String>>(&r, "body_now_label")?.into(),
            get::<String>(&r, "body_now_file")?.into(),
            get::<i16>(&r, "body_ideal_id")?.into(),
            get::<Option<String>>(&r, "body_ideal_label")?.into(),
            get::<String>(&r, "body_ideal_file")?.into(),
            get::<String>(&r, "timezone")?.into(),
            get::<i32>(&r, "utc_offset_minutes")?.into(),
            get::<Option<DateTime<Utc>>>(&r, "completed_at")?.into(),
            get::<DateTime<Utc>>(&r, "created_at")?.into(),
            get::<DateTime<Utc>>(&r, "updated_at")?.into(),
        ];
        let new_id = run
            .insert_returning(
                "INSERT INTO personal_plan_surveys (user_id, gender, age, height_cm, weight_kg, target_weight_kg, \
                 activity, training_level, body_goals, health_limitations, body_now_id, body_now_label, \
                 body_now_file, body_ideal_id, body_ideal_label, body_ideal_file, timezone, utc_offset_minutes, \
                 completed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
                 $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) RETURNING id",
                values,
            )
            .await?;
        run.record(T_SURVEYS, &sid, "personal_plan_surveys", new_id)
            .await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_SURVEYS, c));
    Ok(())
}

const T_PLANS: &str = "telegram_personalplan";

async fn plans(run: &mut Run<'_>) -> R<()> {
    let rows = run
        .source_rows(
            "SELECT id, user_id, survey_id, ai_text, ai_model, prompt_version, created_at \
             FROM telegram_personalplan ORDER BY id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.mapped(T_PLANS, &sid).is_some() {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_PLANS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let survey = get::<Option<i64>>(&r, "survey_id")?
            .and_then(|s| run.mapped(T_SURVEYS, &s.to_string()));
        let new_id = run
            .insert_returning(
                "INSERT INTO personal_plans (user_id, survey_id, ai_text, ai_model, prompt_version, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                vec![
                    user_id.into(),
                    survey.into(),
                    get::<String>(&r, "ai_text")?.into(),
                    get::<Option<String>>(&r, "ai_model")?.into(),
                    get::<Option<String>>(&r, "prompt_version")?.into(),
                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                ],
            )
            .await?;
        run.record(T_PLANS, &sid, "personal_plans", new_id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_PLANS, c));
    Ok(())
}

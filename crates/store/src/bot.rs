//! What the bot stores through the API (reference/backend-core.md §1.7, §2.4, §2.5, §3.10,
//! §3.11): users by Telegram id, the personal-plan survey, the generated plan with its daily
//! limit, and the legacy lead-magnet test. Input parsing lives here too (JSON in, domain values
//! or field errors out), so the Rust bot can call the same rules without HTTP.
//!
//! Fixed against the original: Telegram ids must be positive; the survey checks the UTC offset
//! (−840..840), the IANA time zone and the body-type ids per sex; the plan limit counts the
//! **user's** calendar day (time zone of their newest survey, else of their profile, default
//! Europe/Moscow) and is serialised per user so concurrent requests cannot overshoot it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use domain::ids::TelegramId;
use domain::init_data::WebAppUser;
use domain::nutrition::{
    DEFAULT_TIMEZONE, SurveyActivity, SurveyGender, effective_timezone, parse_timezone, user_today,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::{Map, Value};

use crate::coach::will_be_new_lead;
use crate::entities::{
    personal_plan as plan, personal_plan_survey as survey, profile, telegram_user, user,
};
use crate::users::{self, Account, Provisioned};
use crate::{Db, StoreError};

/// How many personal plans a user may get per calendar day (`PERSONAL_PLAN_DAILY_LIMIT`).
pub const PERSONAL_PLAN_DAILY_LIMIT: u64 = 3;
/// The largest lead-magnet answers document accepted, serialised.
pub const MAX_ANSWERS_BYTES: usize = 64 * 1024;

/// Field problems of one request, in the order found: (field, message).
pub type FieldErrors = Vec<(&'static str, String)>;

mod fields;

use fields::{BLANK, Fields, NOT_NULL, REQUIRED};

// ---------------------------------------------------------------------------------------------
// Users.

/// A bot user as the bot knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotUser {
    pub telegram_id: TelegramId,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language_code: Option<String>,
}

/// Finds or creates the account of a bot user. An existing user only gets a new username (when
/// one is given); names are never overwritten from the bot (as in the original).
pub async fn get_or_create_user(
    db: &Db,
    u: &BotUser,
    now: DateTime<Utc>,
) -> Result<Provisioned, StoreError> {
    if let Some(mut account) = users::find_by_telegram_id(db, u.telegram_id).await? {
        if let Some(name) = u.username.as_deref().filter(|n| !n.is_empty())
            && account.telegram.username.as_deref() != Some(name)
        {
            let mut active: telegram_user::ActiveModel = account.telegram.clone().into();
            active.username = Set(Some(name.chars().take(255).collect()));
            active.updated_at = Set(now);
            account.telegram = active.update(db.conn()).await?;
        }
        return Ok(Provisioned {
            account,
            created: false,
        });
    }
    let web = WebAppUser {
        id: u.telegram_id,
        first_name: u.first_name.clone(),
        last_name: Some(u.last_name.clone()),
        username: u.username.clone().filter(|n| !n.is_empty()),
        language_code: u.language_code.clone().filter(|c| !c.is_empty()),
        is_premium: Some(false),
    };
    users::provision(db, &web, now).await
}

// ---------------------------------------------------------------------------------------------
// Survey.

/// A validated personal-plan survey.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSurvey {
    pub telegram_id: TelegramId,
    pub gender: SurveyGender,
    pub age: i16,
    pub height_cm: i16,
    pub weight_kg: f64,
    pub target_weight_kg: Option<f64>,
    pub activity: SurveyActivity,
    pub training_level: Option<String>,
    pub body_goals: Vec<String>,
    pub health_limitations: Vec<String>,
    pub body_now_id: i16,
    pub body_now_label: Option<String>,
    pub body_now_file: String,
    pub body_ideal_id: i16,
    pub body_ideal_label: Option<String>,
    pub body_ideal_file: String,
    /// A valid IANA zone name.
    pub timezone: String,
    pub utc_offset_minutes: i32,
}

/// Body-type picture ids the bot offers: "now" 1–5 for women, 1–4 for men; "ideal" 1–3.
pub fn body_now_max(gender: SurveyGender) -> i64 {
    match gender {
        SurveyGender::Female => 5,
        SurveyGender::Male => 4,
    }
}
pub const BODY_IDEAL_MAX: i64 = 3;

/// Parses and validates a survey request (§2.4 ranges, plus the offset, zone and body ids).
pub fn parse_survey(v: &Value) -> Result<NewSurvey, FieldErrors> {
    let mut f = Fields::new(v);
    let telegram_id = f.telegram_id();
    let gender = f.string("gender", true, false, None).and_then(|g| {
        g.parse::<SurveyGender>()
            .map_err(|e| f.fail("gender", e.to_string()))
            .ok()
    });
    let age = f.int_in("age", true, 14, 80);
    let height_cm = f.int_in("height_cm", true, 120, 250);
    let weight_kg = f.decimal("weight_kg", true, 30.0, 300.0);
    let target_weight_kg = f.decimal("target_weight_kg", false, 30.0, 300.0);
    let activity = f.string("activity", true, false, None).and_then(|a| {
        a.parse::<SurveyActivity>()
            .map_err(|e| f.fail("activity", e.to_string()))
            .ok()
    });
    let training_level = f
        .string("training_level", false, true, Some(32))
        .filter(|s| !s.is_empty());
    let body_goals = f.string_list("body_goals");
    let health_limitations = f.string_list("health_limitations");
    let now_max = gender.map(body_now_max).unwrap_or(5);
    let body_now_id = f.int_in("body_now_id", true, 1, now_max);
    let body_now_label = f
        .string("body_now_label", false, true, Some(255))
        .filter(|s| !s.is_empty());
    let body_now_file = f.string("body_now_file", true, false, Some(255));
    let body_ideal_id = f.int_in("body_ideal_id", true, 1, BODY_IDEAL_MAX);
    let body_ideal_label = f
        .string("body_ideal_label", false, true, Some(255))
        .filter(|s| !s.is_empty());
    let body_ideal_file = f.string("body_ideal_file", true, false, Some(255));
    let timezone = match f.string("timezone", false, true, Some(64)) {
        None => Some(DEFAULT_TIMEZONE.name().to_string()),
        Some(s) if s.is_empty() => Some(DEFAULT_TIMEZONE.name().to_string()),
        Some(s) => match parse_timezone(&s) {
            Ok(tz) => Some(tz.name().to_string()),
            Err(_) => {
                f.fail(
                    "timezone",
                    "Неизвестный часовой пояс: ожидается имя IANA, например Europe/Moscow.",
                );
                None
            }
        },
    };
    let utc_offset_minutes = f.int_in("utc_offset_minutes", true, -840, 840);

    let value = (|| {
        Some(NewSurvey {
            telegram_id: telegram_id?,
            gender: gender?,
            age: i16::try_from(age?).ok()?,
            height_cm: i16::try_from(height_cm?).ok()?,
            weight_kg: weight_kg?,
            target_weight_kg,
            activity: activity?,
            training_level: training_level.clone(),
            body_goals: body_goals.clone(),
            health_limitations: health_limitations.clone(),
            body_now_id: i16::try_from(body_now_id?).ok()?,
            body_now_label: body_now_label.clone(),
            body_now_file: body_now_file.clone()?,
            body_ideal_id: i16::try_from(body_ideal_id?).ok()?,
            body_ideal_label: body_ideal_label.clone(),
            body_ideal_file: body_ideal_file.clone()?,
            timezone: timezone.clone()?,
            utc_offset_minutes: i32::try_from(utc_offset_minutes?).ok()?,
        })
    })();
    f.finish(value)
}

/// Stores a completed survey for `account` (`completed_at = now`). A person who was not a lead
/// becomes a `new` one in the same transaction.
pub async fn create_survey(
    db: &Db,
    account: &Account,
    s: &NewSurvey,
    now: DateTime<Utc>,
) -> Result<survey::Model, StoreError> {
    let txn = db.conn().begin().await?;
    // Write first: it takes SQLite's write lock (waiting under the busy timeout) before the read
    // below, instead of reading a snapshot that a concurrent writer then invalidates — SQLite
    // answers that upgrade with SQLITE_BUSY_SNAPSHOT at once, which no timeout retries. On
    // PostgreSQL it locks the account row, serialising two surveys of one user.
    txn.execute_raw(sea_orm::Statement::from_sql_and_values(
        txn.get_database_backend(),
        "UPDATE telegram_users SET updated_at = updated_at WHERE id = $1",
        vec![account.telegram.id.into()],
    ))
    .await?;
    let fresh_lead = will_be_new_lead(&txn, &account.telegram).await?;
    let row = survey::ActiveModel {
        user_id: Set(account.user.id),
        gender: Set(s.gender.as_str().to_string()),
        age: Set(s.age),
        height_cm: Set(s.height_cm),
        weight_kg: Set(s.weight_kg),
        target_weight_kg: Set(s.target_weight_kg),
        activity: Set(s.activity.as_str().to_string()),
        training_level: Set(s.training_level.clone()),
        body_goals: Set(Some(Value::from(s.body_goals.clone()))),
        health_limitations: Set(Some(Value::from(s.health_limitations.clone()))),
        body_now_id: Set(s.body_now_id),
        body_now_label: Set(s.body_now_label.clone()),
        body_now_file: Set(s.body_now_file.clone()),
        body_ideal_id: Set(s.body_ideal_id),
        body_ideal_label: Set(s.body_ideal_label.clone()),
        body_ideal_file: Set(s.body_ideal_file.clone()),
        timezone: Set(s.timezone.clone()),
        utc_offset_minutes: Set(s.utc_offset_minutes),
        completed_at: Set(Some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if fresh_lead && account.telegram.lead_status != "new" {
        let mut active: telegram_user::ActiveModel = account.telegram.clone().into();
        active.lead_status = Set("new".to_string());
        active.updated_at = Set(now);
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok(row)
}

// ---------------------------------------------------------------------------------------------
// Plans.

/// A validated plan request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlan {
    pub telegram_id: TelegramId,
    pub survey_id: Option<i64>,
    pub ai_text: String,
    pub ai_model: Option<String>,
    pub prompt_version: Option<String>,
}

/// Parses a plan request.
pub fn parse_plan(v: &Value) -> Result<NewPlan, FieldErrors> {
    let mut f = Fields::new(v);
    let telegram_id = f.telegram_id();
    let survey_id = match f.raw("survey_id") {
        None | Some(Value::Null) => None,
        Some(_) => f.int_in("survey_id", false, 1, i64::MAX),
    };
    // Keep the text as sent (whitespace matters in a rendered plan), but refuse blank.
    let ai_text = match f.raw("ai_text") {
        None => {
            f.fail("ai_text", REQUIRED);
            None
        }
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Value::String(_)) => {
            f.fail("ai_text", BLANK);
            None
        }
        Some(Value::Null) => {
            f.fail("ai_text", NOT_NULL);
            None
        }
        Some(_) => {
            f.fail("ai_text", "Ожидалась строка.");
            None
        }
    };
    let ai_model = f
        .string("ai_model", false, true, Some(100))
        .filter(|s| !s.is_empty());
    let prompt_version = f
        .string("prompt_version", false, true, Some(20))
        .filter(|s| !s.is_empty());
    let value = (|| {
        Some(NewPlan {
            telegram_id: telegram_id?,
            survey_id,
            ai_text: ai_text.clone()?,
            ai_model: ai_model.clone(),
            prompt_version: prompt_version.clone(),
        })
    })();
    f.finish(value)
}

/// How many plans a user got on their current calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyCount {
    pub count: u64,
    pub limit: u64,
    /// The user's next local midnight (when the count starts over).
    pub resets_at: DateTime<Utc>,
}

impl DailyCount {
    pub fn can_create(&self) -> bool {
        self.count < self.limit
    }
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.count)
    }
}

/// What asking for a plan did.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanOutcome {
    Created(plan::Model),
    /// A plan for this survey existed already (idempotent repeat): it is returned unchanged.
    Existing(plan::Model),
    /// The survey is unknown or belongs to someone else.
    SurveyNotFound,
    /// The user's daily limit is used up.
    LimitReached(DailyCount),
}

/// The first instant of `date` in `tz` (the earliest hour that exists, for zones that skip
/// midnight on a DST change).
fn local_day_start<Z: TimeZone>(date: NaiveDate, tz: &Z) -> DateTime<Utc> {
    for hour in 0..24 {
        if let Some(naive) = date.and_hms_opt(hour, 0, 0)
            && let Some(t) = tz.from_local_datetime(&naive).earliest()
        {
            return t.with_timezone(&Utc);
        }
    }
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Counts a user's plans of their current day. The day's zone: their newest survey's, else
/// their profile's, else Europe/Moscow.
async fn count_today(
    db: &impl ConnectionTrait,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<DailyCount, StoreError> {
    let newest = survey::Entity::find()
        .filter(survey::Column::UserId.eq(user_id))
        .order_by_desc(survey::Column::Id)
        .one(db)
        .await?;
    let tz = match newest.and_then(|s| parse_timezone(&s.timezone).ok()) {
        Some(tz) => tz,
        None => {
            let p = profile::Entity::find()
                .filter(profile::Column::UserId.eq(user_id))
                .one(db)
                .await?;
            effective_timezone(p.as_ref().map(|p| p.timezone.as_str()))
        }
    };
    let today = user_today(now, tz);
    let start = local_day_start(today, &tz);
    let next = today
        .succ_opt()
        .map(|d| local_day_start(d, &tz))
        .unwrap_or(start + Duration::days(1));
    let count = plan::Entity::find()
        .filter(plan::Column::UserId.eq(user_id))
        .filter(plan::Column::CreatedAt.gte(start))
        .filter(plan::Column::CreatedAt.lt(next))
        .count(db)
        .await?;
    Ok(DailyCount {
        count,
        limit: PERSONAL_PLAN_DAILY_LIMIT,
        resets_at: next,
    })
}

/// The user's plan count for their current day; an unknown user (`None`) has 0 in Moscow.
pub async fn plans_today(
    db: &Db,
    user_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<DailyCount, StoreError> {
    match user_id {
        Some(id) => count_today(db.conn(), id, now).await,
        None => {
            let tz = DEFAULT_TIMEZONE;
            let next = user_today(now, tz)
                .succ_opt()
                .map(|d| local_day_start(d, &tz))
                .unwrap_or(now + Duration::days(1));
            Ok(DailyCount {
                count: 0,
                limit: PERSONAL_PLAN_DAILY_LIMIT,
                resets_at: next,
            })
        }
    }
}

async fn existing_plan(
    db: &impl ConnectionTrait,
    user_id: i64,
    survey_id: i64,
) -> Result<Option<plan::Model>, StoreError> {
    Ok(plan::Entity::find()
        .filter(plan::Column::UserId.eq(user_id))
        .filter(plan::Column::SurveyId.eq(survey_id))
        .one(db)
        .await?)
}

/// Stores a generated plan for `user_id`: idempotent per survey (a repeat returns the existing
/// plan, before any limit check), at most [`PERSONAL_PLAN_DAILY_LIMIT`] per user-local day.
/// The user row is written first in the transaction, so concurrent requests for one user queue
/// up (row lock on PostgreSQL, the write lock on SQLite) and cannot overshoot the limit.
pub async fn create_plan(
    db: &Db,
    user_id: i64,
    p: &NewPlan,
    now: DateTime<Utc>,
) -> Result<PlanOutcome, StoreError> {
    let result = async {
        let txn = db.conn().begin().await?;
        user::Entity::update_many()
            .col_expr(user::Column::IsActive, Expr::col(user::Column::IsActive))
            .filter(user::Column::Id.eq(user_id))
            .exec(&txn)
            .await?;
        if let Some(sid) = p.survey_id {
            let owned = survey::Entity::find_by_id(sid)
                .filter(survey::Column::UserId.eq(user_id))
                .one(&txn)
                .await?;
            if owned.is_none() {
                return Ok(PlanOutcome::SurveyNotFound);
            }
            if let Some(existing) = existing_plan(&txn, user_id, sid).await? {
                return Ok(PlanOutcome::Existing(existing));
            }
        }
        let today = count_today(&txn, user_id, now).await?;
        if !today.can_create() {
            return Ok(PlanOutcome::LimitReached(today));
        }
        let row = plan::ActiveModel {
            user_id: Set(user_id),
            survey_id: Set(p.survey_id),
            ai_text: Set(p.ai_text.clone()),
            ai_model: Set(p.ai_model.clone()),
            prompt_version: Set(p.prompt_version.clone()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok::<_, StoreError>(PlanOutcome::Created(row))
    }
    .await;
    match (result, p.survey_id) {
        // Lost a race for the same survey: the winner's plan is the answer (read outside the
        // failed transaction).
        (Err(e), Some(sid)) if e.is_conflict() => existing_plan(db.conn(), user_id, sid)
            .await?
            .map(PlanOutcome::Existing)
            .ok_or(e),
        (other, _) => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Lead-magnet test.

/// A validated `save-test` request.
#[derive(Debug, Clone, PartialEq)]
pub struct TestAnswers {
    pub user: BotUser,
    pub answers: Map<String, Value>,
}

/// Parses a `save-test` request.
pub fn parse_save_test(v: &Value) -> Result<TestAnswers, FieldErrors> {
    let mut f = Fields::new(v);
    let telegram_id = f.telegram_id();
    let first_name = f.string("first_name", false, true, Some(255));
    let last_name = f.string("last_name", false, true, Some(255));
    let username = f.string("username", false, true, Some(255));
    let answers = match f.raw("answers") {
        None | Some(Value::Null) => Some(Map::new()),
        Some(Value::Object(m)) => {
            if serde_json::to_vec(m).map(|b| b.len()).unwrap_or(usize::MAX) > MAX_ANSWERS_BYTES {
                f.fail("answers", "Слишком большой объём ответов.");
                None
            } else {
                Some(m.clone())
            }
        }
        Some(_) => {
            f.fail("answers", "answers должны быть объектом (словарём)");
            None
        }
    };
    let value = (|| {
        Some(TestAnswers {
            user: BotUser {
                telegram_id: telegram_id?,
                username: username.clone().filter(|s| !s.is_empty()),
                first_name: first_name.clone().unwrap_or_default(),
                last_name: last_name.clone().unwrap_or_default(),
                language_code: None,
            },
            answers: answers.clone()?,
        })
    })();
    f.finish(value)
}

/// Saves lead-magnet answers: creates the user if needed, stores the answers, sets
/// `ai_test_completed`; a person who was not a lead becomes a `new` one. One transaction for
/// the flag, answers and status.
pub async fn save_test(
    db: &Db,
    t: &TestAnswers,
    now: DateTime<Utc>,
) -> Result<Provisioned, StoreError> {
    let Provisioned { account, created } = get_or_create_user(db, &t.user, now).await?;
    let txn = db.conn().begin().await?;
    let tg = telegram_user::Entity::find_by_id(account.telegram.id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let fresh_lead = will_be_new_lead(&txn, &tg).await?;
    let mut active: telegram_user::ActiveModel = tg.into();
    active.ai_test_completed = Set(true);
    active.ai_test_answers = Set(Some(Value::Object(t.answers.clone())));
    if fresh_lead {
        active.lead_status = Set("new".to_string());
    }
    active.updated_at = Set(now);
    let telegram = active.update(&txn).await?;
    txn.commit().await?;
    Ok(Provisioned {
        account: Account {
            user: account.user,
            telegram,
        },
        created,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn survey_body() -> Value {
        json!({
            "telegram_id": 42, "gender": "female", "age": 30, "height_cm": 165,
            "weight_kg": 70.5, "activity": "moderate", "body_now_id": 5, "body_now_file": "f_now_5.jpg",
            "body_ideal_id": 2, "body_ideal_file": "f_ideal_2.jpg", "timezone": "Asia/Vladivostok",
            "utc_offset_minutes": 600
        })
    }

    fn fields(r: Result<NewSurvey, FieldErrors>) -> Vec<&'static str> {
        r.err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, _)| f)
            .collect()
    }

    #[test]
    fn valid_survey_parses() {
        let s = parse_survey(&survey_body()).unwrap();
        assert_eq!(s.timezone, "Asia/Vladivostok");
        assert_eq!(s.body_now_id, 5);
        assert_eq!(s.weight_kg, 70.5);
    }

    #[test]
    fn survey_ranges_are_enforced() {
        for (field, bad) in [
            ("age", json!(13)),
            ("age", json!(81)),
            ("height_cm", json!(119)),
            ("height_cm", json!(251)),
            ("weight_kg", json!(29.99)),
            ("weight_kg", json!(300.01)),
            ("weight_kg", json!(70.555)),
            ("utc_offset_minutes", json!(841)),
            ("utc_offset_minutes", json!(-841)),
            ("timezone", json!("Mars/Olympus")),
            ("activity", json!("couch")),
            ("gender", json!("invalid")),
            ("body_ideal_id", json!(4)),
            ("body_now_id", json!(0)),
            ("telegram_id", json!(0)),
        ] {
            let mut b = survey_body();
            b[field] = bad.clone();
            assert_eq!(fields(parse_survey(&b)), vec![field], "{field}={bad}");
        }
    }

    #[test]
    fn body_now_range_depends_on_sex() {
        let mut b = survey_body();
        b["gender"] = json!("male");
        assert_eq!(fields(parse_survey(&b)), vec!["body_now_id"]);
        b["body_now_id"] = json!(4);
        assert!(parse_survey(&b).is_ok());
    }

    #[test]
    fn local_day_start_handles_zones() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
        assert_eq!(
            local_day_start(d, &DEFAULT_TIMEZONE).to_rfc3339(),
            "2026-03-09T21:00:00+00:00"
        );
        // Santiago skips midnight on its spring-forward day (2026-09-06).
        let d = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        assert_eq!(
            local_day_start(d, &parse_timezone("America/Santiago").unwrap()).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }

    #[test]
    fn plan_and_test_parsing() {
        assert!(parse_plan(&json!({"telegram_id": 1, "ai_text": "   "})).is_err());
        let p =
            parse_plan(&json!({"telegram_id": "7", "ai_text": "план", "survey_id": null})).unwrap();
        assert_eq!(p.survey_id, None);
        assert!(parse_save_test(&json!({"telegram_id": 1, "answers": [1]})).is_err());
        let t = parse_save_test(&json!({"telegram_id": 1})).unwrap();
        assert!(t.answers.is_empty());
    }
}

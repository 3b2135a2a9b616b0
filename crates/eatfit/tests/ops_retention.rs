//! Retention by the plan's `history_days`: a FREE user's meals older than 7 days and a PRO
//! user's older than 180 go with their items, photos and files; failed photos older than 30
//! days go; everything else stays. The report (dry run) deletes nothing. Every backend, fixed
//! times.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use eatfit::ops::retention::{self, Candidate, Settings};
use store::Db;
use store::sea_orm::{ConnectionTrait, Statement, Value};
use store::testing::TestDb;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 4, 15, 0)
        .single()
        .unwrap_or_else(|| panic!("time"))
}

fn day(days_ago: i64) -> NaiveDate {
    now().date_naive() - Duration::days(days_ago)
}

async fn id(db: &Db, sql: &str, values: Vec<Value>) -> i64 {
    let row = db
        .conn()
        .query_one_raw(Statement::from_sql_and_values(db.db_backend(), sql, values))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get("", "id").unwrap_or_else(|e| panic!("{e}"))
}

async fn count(db: &Db, sql: &str) -> i64 {
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(db.db_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_else(|| panic!("{sql}: no row"));
    row.try_get("", "n").unwrap_or_else(|e| panic!("{e}"))
}

async fn user(db: &Db, name: &str) -> i64 {
    id(
        db,
        "INSERT INTO users (username, created_at) VALUES ($1, $2) RETURNING id",
        vec![name.into(), now().into()],
    )
    .await
}

async fn meal(db: &Db, user: i64, date: NaiveDate) -> i64 {
    let m = id(
        db,
        "INSERT INTO meals (user_id, meal_type, date, status, created_at, updated_at) \
         VALUES ($1, 'LUNCH', $2, 'COMPLETE', $3, $3) RETURNING id",
        vec![user.into(), date.into(), now().into()],
    )
    .await;
    id(
        db,
        "INSERT INTO food_items (meal_id, name, grams, calories, protein, fat, carbohydrates, created_at, updated_at) \
         VALUES ($1, 'Гречка', 100, 110, 4, 1, 21, $2, $2) RETURNING id",
        vec![m.into(), now().into()],
    )
    .await;
    m
}

async fn photo(
    db: &Db,
    media: &media::MediaStore,
    meal: i64,
    status: &str,
    days_ago: i64,
) -> String {
    let key = media
        .put_new("photos", "jpg", b"jpeg".to_vec())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let at = now() - Duration::days(days_ago);
    id(
        db,
        "INSERT INTO meal_photos (meal_id, image, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) RETURNING id",
        vec![meal.into(), key.clone().into(), status.into(), at.into()],
    )
    .await;
    key
}

#[tokio::test]
async fn history_past_the_plan_and_old_failed_photos_go_with_their_files() {
    for t in TestDb::all().await.unwrap_or_else(|e| panic!("{e}")) {
        let db = &t.db;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let media = media::MediaStore::local(dir.path()).unwrap_or_else(|e| panic!("{e}"));

        let free = user(db, "tg_1").await;
        let pro = user(db, "tg_2").await;
        let pro_plan = id(
            db,
            "SELECT id FROM plans WHERE code = 'PRO_MONTHLY'",
            vec![],
        )
        .await;
        id(
            db,
            "INSERT INTO subscriptions (user_id, plan_id, status, start_date, end_date, created_at, updated_at) \
             VALUES ($1, $2, 'active', $3, $4, $3, $3) RETURNING id",
            vec![
                pro.into(),
                pro_plan.into(),
                (now() - Duration::days(300)).into(),
                (now() + Duration::days(20)).into(),
            ],
        )
        .await;

        let free_old = meal(db, free, day(10)).await;
        let free_old_photo = photo(db, &media, free_old, "SUCCESS", 10).await;
        let free_recent = meal(db, free, day(3)).await;
        let failed_old = photo(db, &media, free_recent, "FAILED", 40).await;
        let failed_new = photo(db, &media, free_recent, "FAILED", 5).await;
        let pro_kept = meal(db, pro, day(10)).await;
        let pro_old = meal(db, pro, day(200)).await;

        let settings = Settings::default();
        let report = retention::find(db, now(), &settings)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let meals: Vec<i64> = report
            .candidates
            .iter()
            .filter_map(|c| match c {
                Candidate::Meal { id, .. } => Some(*id),
                Candidate::Photo { .. } => None,
            })
            .collect();
        assert_eq!(meals.len(), 2, "{report:?}");
        assert!(
            meals.contains(&free_old) && meals.contains(&pro_old),
            "{report:?}"
        );
        assert!(!meals.contains(&free_recent) && !meals.contains(&pro_kept));
        assert_eq!(report.meals_by_plan.get("FREE"), Some(&1));
        assert_eq!(report.meals_by_plan.get("PRO_MONTHLY"), Some(&1));
        assert_eq!(report.photos, 1, "{report:?}");
        // The report deleted nothing.
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM meals").await, 4);
        assert!(dir.path().join(&failed_old).exists());

        let applied = retention::apply(db, &media, now(), &settings)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(applied.applied);
        assert_eq!(applied.files_deleted, 2, "{applied:?}");
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM meals").await, 2);
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM food_items").await, 2);
        assert_eq!(count(db, "SELECT COUNT(*) AS n FROM meal_photos").await, 1);
        assert!(
            !dir.path().join(&free_old_photo).exists(),
            "the old meal's photo file"
        );
        assert!(
            !dir.path().join(&failed_old).exists(),
            "the old failed photo's file"
        );
        assert!(
            dir.path().join(&failed_new).exists(),
            "a recent failed photo stays"
        );

        // Nothing left to do.
        let again = retention::apply(db, &media, now(), &settings)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(again.candidates.is_empty(), "{again:?}");
        t.cleanup().await;
    }
}

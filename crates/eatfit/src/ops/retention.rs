//! Retention: history older than the user's plan keeps (`plans.history_days`; FREE 7 days,
//! PRO 180, −1 = forever) and failed or cancelled photos older than 30 days are deleted —
//! rows and their files together (a file is deleted with the row that owns it).
//!
//! `eatfit admin retention` prints what would go (a dry run); `--apply` deletes it. The daily
//! `ops.retention` job does the same when `EATFIT_RETENTION_ENABLED=true` (off by default:
//! deleting people's history is the operator's decision, not a default).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::ids::UserId;
use sea_orm::{ConnectionTrait, Value};
use store::{Db, StoreError, sea_orm};

/// The job kind.
pub const JOB_KIND: &str = "ops.retention";

/// Limits of one run.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// FAILED/CANCELLED photos older than this many days go.
    pub failed_photo_days: i64,
    /// At most this many meals and this many photos per run (the next run continues).
    pub batch: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            failed_photo_days: 30,
            batch: 1000,
        }
    }
}

/// Something retention deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// A whole meal (items and photos with it), older than the plan keeps.
    Meal {
        id: i64,
        user_id: i64,
        date: NaiveDate,
        plan: String,
    },
    /// A failed or cancelled photo (its meal stays).
    Photo {
        id: i64,
        image: String,
        status: String,
    },
}

/// What a run found or did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub candidates: Vec<Candidate>,
    /// Meals per plan code.
    pub meals_by_plan: BTreeMap<String, u64>,
    pub photos: u64,
    pub files_deleted: u64,
    pub applied: bool,
}

impl Report {
    pub fn lines(&self) -> Vec<String> {
        let verb = if self.applied {
            "deleted"
        } else {
            "would delete (dry run; --apply to delete)"
        };
        let mut out = vec![format!(
            "retention {verb}: {} meal(s), {} failed/cancelled photo(s)",
            self.meals_by_plan.values().sum::<u64>(),
            self.photos
        )];
        for (plan, n) in &self.meals_by_plan {
            out.push(format!(
                "  {plan:<12} {n:>8} meal(s) past the plan's history"
            ));
        }
        if self.applied {
            out.push(format!("  {} file(s) deleted", self.files_deleted));
        }
        out
    }
}

/// Finds what retention would delete now.
pub async fn find(db: &Db, now: DateTime<Utc>, s: &Settings) -> Result<Report, StoreError> {
    let mut report = Report::default();
    let plans = db
        .conn()
        .query_all_raw(db.statement(
            "SELECT id, code, history_days FROM plans ORDER BY id",
            vec![],
        ))
        .await?;
    let today = now.date_naive();
    let limit = s.batch as i64;
    for p in plans {
        let plan_id: i64 = p.try_get("", "id")?;
        let code: String = p.try_get("", "code")?;
        let days: i32 = p.try_get("", "history_days")?;
        if days < 0 {
            continue;
        }
        let cutoff = today - Duration::days(i64::from(days));
        // FREE is everyone without an active paid subscription.
        let (sql, values): (&str, Vec<Value>) = if code == "FREE" {
            (
                "SELECT m.id, m.user_id, m.date FROM meals m WHERE m.date < $1 AND NOT EXISTS ( \
                   SELECT 1 FROM subscriptions s JOIN plans p ON p.id = s.plan_id \
                   WHERE s.user_id = m.user_id AND s.status = 'active' AND s.end_date > $2 \
                   AND p.code <> 'FREE') ORDER BY m.date, m.id LIMIT $3",
                vec![cutoff.into(), now.into(), limit.into()],
            )
        } else {
            (
                "SELECT m.id, m.user_id, m.date FROM meals m JOIN subscriptions s ON s.user_id = m.user_id \
                 WHERE s.plan_id = $1 AND s.status = 'active' AND s.end_date > $2 AND m.date < $3 \
                 ORDER BY m.date, m.id LIMIT $4",
                vec![plan_id.into(), now.into(), cutoff.into(), limit.into()],
            )
        };
        for r in db.conn().query_all_raw(db.statement(sql, values)).await? {
            report.candidates.push(Candidate::Meal {
                id: r.try_get("", "id")?,
                user_id: r.try_get("", "user_id")?,
                date: r.try_get("", "date")?,
                plan: code.clone(),
            });
            *report.meals_by_plan.entry(code.clone()).or_default() += 1;
        }
    }
    let photos = db
        .conn()
        .query_all_raw(db.statement(
            "SELECT id, image, status FROM meal_photos WHERE status IN ('FAILED', 'CANCELLED') \
             AND created_at < $1 ORDER BY id LIMIT $2",
            vec![
                (now - Duration::days(s.failed_photo_days)).into(),
                limit.into(),
            ],
        ))
        .await?;
    for r in photos {
        report.candidates.push(Candidate::Photo {
            id: r.try_get("", "id")?,
            image: r.try_get("", "image")?,
            status: r.try_get("", "status")?,
        });
        report.photos += 1;
    }
    Ok(report)
}

/// Deletes what [`find`] finds: rows first (each meal in its own transaction), then files.
pub async fn apply(
    db: &Db,
    media: &media::MediaStore,
    now: DateTime<Utc>,
    s: &Settings,
) -> Result<Report, StoreError> {
    let mut report = find(db, now, s).await?;
    let mut files = Vec::new();
    for c in &report.candidates {
        match c {
            Candidate::Meal { id, user_id, .. } => {
                match store::meals::delete_meal(db, UserId(*user_id), *id).await {
                    Ok(keys) => files.extend(keys),
                    // Deleted meanwhile (by the user): nothing to do.
                    Err(store::meals::MealError::NotFound) => {}
                    Err(e) => return Err(StoreError::Unavailable(e.to_string())),
                }
            }
            Candidate::Photo { id, image, .. } => {
                let deleted = db
                    .conn()
                    .execute_raw(db.statement("DELETE FROM meal_photos WHERE id = $1 AND status IN ('FAILED', 'CANCELLED')",
                        vec![(*id).into()],
                    ))
                    .await?
                    .rows_affected();
                if deleted == 1 && !image.is_empty() {
                    files.push(image.clone());
                }
            }
        }
    }
    let failed = media.delete_all(&files);
    report.files_deleted = (files.len() - failed.await) as u64;
    report.applied = true;
    metrics::counter!("eatfit_retention_deleted_total", "what" => "meal")
        .increment(report.meals_by_plan.values().sum::<u64>());
    metrics::counter!("eatfit_retention_deleted_total", "what" => "photo").increment(report.photos);
    tracing::info!(
        meals = report.meals_by_plan.values().sum::<u64>(),
        photos = report.photos,
        files = report.files_deleted,
        "retention applied"
    );
    Ok(report)
}

/// Registers the daily `ops.retention` job (a no-op unless `enabled`).
pub fn register(registry: &mut jobs::worker::Registry, media: media::MediaStore, enabled: bool) {
    registry.register(JOB_KIND, move |ctx| {
        let media = media.clone();
        async move {
            if !enabled {
                tracing::debug!("retention is off (EATFIT_RETENTION_ENABLED=false)");
                return Ok(());
            }
            apply(&ctx.db, &media, ctx.clock.now(), &Settings::default()).await?;
            Ok(())
        }
    });
}

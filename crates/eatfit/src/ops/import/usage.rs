//! The original's AI usage records: `nutrition_cancel_events` (reference/backend-core.md §2.10)
//! into `cancel_events`, and `daily_usage` (reference/billing.md §2.6) into `photo_quota`, the
//! counter our daily photo limit reserves against — so photos a FREE user took in the original
//! on the switch-over day still count against that day's limit here.

use chrono::{DateTime, NaiveDate, Utc};
use domain::ids::UserId;
use serde_json::{Value as Json, json};

use super::core::{Outcome, R, T_MEALS, get, tally, user_of};
use super::{Counts, Run};

const T_CANCELS: &str = "nutrition_cancel_events";
const T_USAGE: &str = "daily_usage";

/// Whether the source has `table` (an original older than its migration has not).
async fn present(run: &Run<'_>, table: &str) -> R<bool> {
    Ok(run
        .source_rows(&format!("SELECT to_regclass('{table}')::text AS t"))
        .await?
        .first()
        .map(|r| get::<Option<String>>(r, "t"))
        .transpose()?
        .flatten()
        .is_some())
}

/// Cancel events, kept as the audit trail they are: user and meal mapped to ours; a meal that is
/// gone (deleted in the original, or not imported) becomes NULL with its original id in the
/// payload, as the original does. Idempotent by `client_cancel_id` as well as by `import_map`.
pub(super) async fn cancel_events(run: &mut Run<'_>) -> R<()> {
    if !present(run, T_CANCELS).await? {
        run.fix(format!("the source has no {T_CANCELS} table; skipped"));
        return Ok(());
    }
    let rows = run
        .source_rows(
            "SELECT id::bigint AS id, user_id::bigint AS user_id, client_cancel_id::text AS client_cancel_id, \
             run_id::bigint AS run_id, meal_id::bigint AS meal_id, payload::jsonb AS payload, \
             cancelled_tasks::int4 AS cancelled_tasks, updated_photos::int4 AS updated_photos, noop, created_at \
             FROM nutrition_cancel_events ORDER BY created_at, id",
        )
        .await?;
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.seen(T_CANCELS, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_CANCELS, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let raw: String = get(&r, "client_cancel_id")?;
        let Ok(cancel_id) = uuid::Uuid::parse_str(raw.trim()) else {
            run.skip(
                T_CANCELS,
                &sid,
                format!("client_cancel_id `{raw}` is not a UUID"),
            );
            tally(&mut c, Outcome::Skipped);
            continue;
        };
        let cancel_id = cancel_id.to_string();
        let source_meal: Option<i64> = get(&r, "meal_id")?;
        let meal_id = source_meal.and_then(|m| run.mapped(T_MEALS, &m.to_string()));
        let payload = audit_payload(
            get::<Option<Json>>(&r, "payload")?,
            source_meal.filter(|_| meal_id.is_none()),
        );
        let new_id = run
            .target_id(
                "INSERT INTO cancel_events (user_id, client_cancel_id, run_id, meal_id, payload, \
                 cancelled_tasks, updated_photos, noop, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (client_cancel_id) DO NOTHING RETURNING id",
                vec![
                    user_id.into(),
                    cancel_id.clone().into(),
                    get::<Option<i64>>(&r, "run_id")?.into(),
                    meal_id.into(),
                    payload.into(),
                    get::<i32>(&r, "cancelled_tasks")?.max(0).into(),
                    get::<i32>(&r, "updated_photos")?.max(0).into(),
                    get::<bool>(&r, "noop")?.into(),
                    get::<DateTime<Utc>>(&r, "created_at")?.into(),
                ],
            )
            .await?;
        if let Some(id) = new_id {
            run.record(T_CANCELS, &sid, "cancel_events", id).await?;
            tally(&mut c, Outcome::Imported);
            continue;
        }
        // The same cancel reached this service too (both ran side by side): one event.
        let existing = run
            .target_id(
                "SELECT id FROM cancel_events WHERE client_cancel_id = $1 AND user_id = $2",
                vec![cancel_id.clone().into(), user_id.into()],
            )
            .await?;
        match existing {
            Some(id) => {
                run.record(T_CANCELS, &sid, "cancel_events", id).await?;
                tally(&mut c, Outcome::Merged);
            }
            None => {
                run.skip(
                    T_CANCELS,
                    &sid,
                    format!("client_cancel_id {cancel_id} is here already, for another user"),
                );
                tally(&mut c, Outcome::Skipped);
            }
        }
    }
    run.report.tables.push((T_CANCELS, c));
    Ok(())
}

/// The original's payload (the whole request), marked as imported — the ids inside are the
/// original's — and holding the original meal id when the meal itself did not come along.
fn audit_payload(payload: Option<Json>, lost_meal: Option<i64>) -> Json {
    let mut obj = match payload {
        Some(Json::Object(m)) => m,
        None | Some(Json::Null) => serde_json::Map::new(),
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("original".into(), other);
            m
        }
    };
    if let Some(meal) = lost_meal
        && obj.get("meal_id").is_none_or(Json::is_null)
    {
        obj.insert("meal_id".into(), json!(meal));
    }
    obj.insert("imported_from".into(), json!("django"));
    Json::Object(obj)
}

/// Where an original `daily_usage` row counts here: its own date, except the original's current
/// day (its Moscow date at `now`), which counts on the user's own today — so the photos taken in
/// the original on the switch-over day use up that day's allowance whatever the user's zone.
pub(super) fn quota_day(
    source_date: NaiveDate,
    moscow_today: NaiveDate,
    user_today: NaiveDate,
) -> NaiveDate {
    if source_date == moscow_today {
        user_today
    } else {
        source_date
    }
}

/// `daily_usage` (successful AI photos per user per Moscow day) into `photo_quota` (slots used
/// per user and user-local day; the limit check reserves against it). A day that already has a
/// count here (the user used both services that day) gets the sum.
pub(super) async fn daily_usage(run: &mut Run<'_>) -> R<()> {
    if !present(run, T_USAGE).await? {
        run.fix(format!("the source has no {T_USAGE} table; skipped"));
        return Ok(());
    }
    let rows = run
        .source_rows(
            "SELECT id::bigint AS id, user_id::bigint AS user_id, date, \
             photo_ai_requests::int4 AS used FROM daily_usage ORDER BY date, id",
        )
        .await?;
    let moscow_today = domain::nutrition::user_today(run.now, chrono_tz::Europe::Moscow);
    let mut c = Counts::default();
    for r in rows {
        let sid = get::<i64>(&r, "id")?.to_string();
        if run.seen(T_USAGE, &sid) {
            tally(&mut c, Outcome::Already);
            continue;
        }
        let user_id = match user_of(run, get(&r, "user_id")?) {
            Ok(u) => u,
            Err(reason) => {
                run.skip(T_USAGE, &sid, reason);
                tally(&mut c, Outcome::Skipped);
                continue;
            }
        };
        let date: NaiveDate = get(&r, "date")?;
        let used: i32 = get(&r, "used")?;
        let reason = if used < 0 {
            Some(format!("negative photo_ai_requests {used}"))
        } else if date > moscow_today {
            Some(format!(
                "dated {date}, after the original's current day {moscow_today}"
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            run.skip(T_USAGE, &sid, reason);
            tally(&mut c, Outcome::Skipped);
            continue;
        }
        let day = if date == moscow_today {
            let now = run.now;
            let txn = run.txn().await?;
            let today = store::diary::user_today(txn, UserId(user_id), now).await?;
            quota_day(date, moscow_today, today)
        } else {
            date
        };
        if day != date {
            run.fix(format!(
                "daily_usage #{sid}: {used} photo(s) of the original's day {date} (Moscow) count on the user's today {day}"
            ));
        }
        let id = run
            .insert_returning(
                "INSERT INTO photo_quota (user_id, day, used) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, day) DO UPDATE SET used = photo_quota.used + excluded.used \
                 RETURNING id",
                vec![user_id.into(), day.into(), used.into()],
            )
            .await?;
        run.record(T_USAGE, &sid, "photo_quota", id).await?;
        tally(&mut c, Outcome::Imported);
    }
    run.report.tables.push((T_USAGE, c));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn only_the_originals_current_day_moves_to_the_users_today() {
        let msk = d("2026-03-11");
        // A user west of Moscow, still on the 10th: today's usage counts on their 10th.
        assert_eq!(
            quota_day(d("2026-03-11"), msk, d("2026-03-10")),
            d("2026-03-10")
        );
        // East of Moscow, already on the 12th.
        assert_eq!(
            quota_day(d("2026-03-11"), msk, d("2026-03-12")),
            d("2026-03-12")
        );
        // Older days keep their date.
        assert_eq!(
            quota_day(d("2026-03-10"), msk, d("2026-03-12")),
            d("2026-03-10")
        );
    }

    #[test]
    fn the_payload_keeps_the_original_meal_id_when_the_meal_is_gone() {
        let p = audit_payload(
            Some(json!({"run_id": 5, "reason": "user_cancel"})),
            Some(14),
        );
        assert_eq!(p["meal_id"], 14);
        assert_eq!(p["imported_from"], "django");
        let p = audit_payload(Some(json!({"meal_id": 77})), None);
        assert_eq!(p["meal_id"], 77);
        let p = audit_payload(Some(json!([1, 2])), Some(3));
        assert_eq!(p["original"], json!([1, 2]));
        assert_eq!(p["meal_id"], 3);
        assert_eq!(
            audit_payload(None, None),
            json!({"imported_from": "django"})
        );
    }
}

//! Operator edits of a plan (`eatfit admin billing plan-set`): a pure check from (current plan,
//! requested change) to the new plan, a catalogue check (a paid plan must stay on sale), and the
//! update itself. Plans are read fresh by `GET /plans/` and by purchases, so an edit takes effect
//! at once; payments and subscriptions keep the price and period they were bought at (snapshots).

use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, TransactionTrait};
use store::entities::plan;

use crate::repo::exec;
use crate::types::PlanCode;
use crate::{Billing, BillingError, Kopecks};

/// The longest display name the `plans.display_name` column holds.
pub const MAX_TITLE_CHARS: usize = 100;
/// The highest price an operator may set (a typo guard): 1 000 000.00 ₽.
pub const MAX_PRICE: Kopecks = Kopecks(100_000_000);
/// The longest period of a paid plan, days (ten years).
pub const MAX_DURATION_DAYS: i32 = 3_660;
/// The longest history a plan may keep, days (−1 = forever).
pub const MAX_HISTORY_DAYS: i32 = 36_600;

/// What an operator asks to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanChange {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub price: Option<Kopecks>,
    /// `Some(None)` removes the strike-through price.
    pub old_price: Option<Option<Kopecks>>,
    pub is_active: Option<bool>,
    pub duration_days: Option<i32>,
    /// `Some(None)` = unlimited photos.
    pub daily_photo_limit: Option<Option<i32>>,
    pub history_days: Option<i32>,
}

impl PlanChange {
    pub fn is_empty(&self) -> bool {
        *self == PlanChange::default()
    }
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanEditError {
    #[error("nothing to change: give at least one option")]
    NothingToChange,
    #[error("the title may not be empty")]
    EmptyTitle,
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("FREE must cost 0 (asked {0} RUB)")]
    FreeMustCostNothing(Kopecks),
    #[error("FREE has no old price")]
    FreeHasNoOldPrice,
    #[error("FREE must stay active: it is the plan everyone without PRO is on")]
    FreeMustStayActive,
    #[error("FREE has no period (duration_days stays 0)")]
    FreeHasNoPeriod,
    #[error("a paid plan must cost more than 0 (asked {0} RUB)")]
    PaidPlanNeedsPrice(Kopecks),
    #[error("price {0} RUB is above the limit of {MAX_PRICE} RUB")]
    PriceTooHigh(Kopecks),
    #[error("the old price {old} RUB must be higher than the price {price} RUB")]
    OldPriceNotHigher { old: Kopecks, price: Kopecks },
    #[error("duration must be 1..={MAX_DURATION_DAYS} days (asked {0})")]
    DurationOutOfRange(i32),
    #[error("the daily photo limit may not be negative (asked {0})")]
    NegativePhotoLimit(i32),
    #[error("history_days must be -1 (forever) or 1..={MAX_HISTORY_DAYS} (asked {0})")]
    HistoryOutOfRange(i32),
    #[error("{0} must stay a test plan")]
    TestPlanMustStayTest(String),
    #[error("refused: {0} is the last paid public plan on sale; activate another paid plan first")]
    LastPaidPlan(String),
}

/// Applies `change` to `current` (whose `code` decides the rules) and returns the plan as it
/// would be stored. Pure: `updated_at` is left to the caller.
pub fn apply(current: &plan::Model, change: &PlanChange) -> Result<plan::Model, PlanEditError> {
    if change.is_empty() {
        return Err(PlanEditError::NothingToChange);
    }
    let mut next = current.clone();
    if let Some(t) = &change.display_name {
        let t = t.trim();
        if t.is_empty() {
            return Err(PlanEditError::EmptyTitle);
        }
        if t.chars().count() > MAX_TITLE_CHARS {
            return Err(PlanEditError::TitleTooLong);
        }
        next.display_name = t.to_string();
    }
    if let Some(d) = &change.description {
        next.description = d.trim().to_string();
    }
    if let Some(p) = change.price {
        next.price_kopecks = p.0;
    }
    if let Some(o) = change.old_price {
        next.old_price_kopecks = o.map(|k| k.0);
    }
    if let Some(a) = change.is_active {
        next.is_active = a;
    }
    if let Some(d) = change.duration_days {
        next.duration_days = d;
    }
    if let Some(l) = change.daily_photo_limit {
        next.daily_photo_limit = l;
    }
    if let Some(h) = change.history_days {
        next.history_days = h;
    }
    check(current, &next)?;
    Ok(next)
}

/// The rules every stored plan obeys after an edit.
fn check(current: &plan::Model, next: &plan::Model) -> Result<(), PlanEditError> {
    let code = PlanCode::parse(&current.code);
    let price = Kopecks(next.price_kopecks);
    if code == Some(PlanCode::Free) {
        if price != Kopecks::ZERO {
            return Err(PlanEditError::FreeMustCostNothing(price));
        }
        if next.old_price_kopecks.is_some() && next.old_price_kopecks != current.old_price_kopecks {
            return Err(PlanEditError::FreeHasNoOldPrice);
        }
        if !next.is_active {
            return Err(PlanEditError::FreeMustStayActive);
        }
        if next.duration_days != current.duration_days {
            return Err(PlanEditError::FreeHasNoPeriod);
        }
    } else {
        if !price.is_positive() {
            return Err(PlanEditError::PaidPlanNeedsPrice(price));
        }
        if !(1..=MAX_DURATION_DAYS).contains(&next.duration_days) {
            return Err(PlanEditError::DurationOutOfRange(next.duration_days));
        }
    }
    if price > MAX_PRICE {
        return Err(PlanEditError::PriceTooHigh(price));
    }
    if let Some(old) = next.old_price_kopecks.map(Kopecks)
        && old <= price
    {
        return Err(PlanEditError::OldPriceNotHigher { old, price });
    }
    if let Some(l) = next.daily_photo_limit
        && l < 0
    {
        return Err(PlanEditError::NegativePhotoLimit(l));
    }
    if next.history_days != -1 && !(1..=MAX_HISTORY_DAYS).contains(&next.history_days) {
        return Err(PlanEditError::HistoryOutOfRange(next.history_days));
    }
    if (current.is_test || code == Some(PlanCode::TestLive)) && !next.is_test {
        return Err(PlanEditError::TestPlanMustStayTest(current.code.clone()));
    }
    Ok(())
}

/// A plan the public can buy: active, public, not a test plan, with a price and a period.
pub fn on_sale(p: &plan::Model) -> bool {
    p.is_active && p.is_public && !p.is_test && p.price_kopecks > 0 && p.duration_days > 0
}

/// Refuses a catalogue that would leave no paid public plan on sale when `before` had one
/// (`edited` names the plan whose edit did it).
pub fn ensure_sellable(
    before: &[plan::Model],
    after: &[plan::Model],
    edited: &str,
) -> Result<(), PlanEditError> {
    if before.iter().any(on_sale) && !after.iter().any(on_sale) {
        return Err(PlanEditError::LastPaidPlan(edited.to_string()));
    }
    Ok(())
}

/// Why [`update`] did not change the plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanUpdateError {
    #[error(transparent)]
    Refused(#[from] PlanEditError),
    #[error("plan {0} not found")]
    NotFound(PlanCode),
    #[error(transparent)]
    Billing(#[from] BillingError),
}

impl From<sea_orm::DbErr> for PlanUpdateError {
    fn from(e: sea_orm::DbErr) -> Self {
        PlanUpdateError::Billing(e.into())
    }
}

impl From<store::StoreError> for PlanUpdateError {
    fn from(e: store::StoreError) -> Self {
        PlanUpdateError::Billing(e.into())
    }
}

/// A stored edit: the plan before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEdit {
    pub before: plan::Model,
    pub after: plan::Model,
}

/// Every plan, in display order (`eatfit admin billing plans`).
pub async fn all<C: ConnectionTrait>(conn: &C) -> Result<Vec<plan::Model>, BillingError> {
    Ok(plan::Entity::find()
        .order_by_asc(plan::Column::SortOrder)
        .order_by_asc(plan::Column::Id)
        .all(conn)
        .await?)
}

/// Validates and stores an edit of plan `code` in one transaction. Every plan row is locked
/// first (a no-op `UPDATE`: row locks on PostgreSQL, the write lock on SQLite), so two operators
/// cannot together take the last paid plan off sale. Only the `plans` row changes: payments
/// and subscriptions keep their own price and period.
pub async fn update(
    billing: &Billing,
    code: PlanCode,
    change: &PlanChange,
) -> Result<PlanEdit, PlanUpdateError> {
    let txn = billing.db().conn().begin().await?;
    exec(&txn, "UPDATE plans SET updated_at = updated_at", vec![]).await?;
    let before_all = all(&txn).await?;
    let before = before_all
        .iter()
        .find(|p| p.code == code.as_str())
        .cloned()
        .ok_or(PlanUpdateError::NotFound(code))?;
    let mut after = apply(&before, change)?;
    let after_all: Vec<plan::Model> = before_all
        .iter()
        .map(|p| {
            if p.id == after.id {
                after.clone()
            } else {
                p.clone()
            }
        })
        .collect();
    ensure_sellable(&before_all, &after_all, code.as_str())?;
    after.updated_at = billing.now();
    exec(
        &txn,
        "UPDATE plans SET display_name = $1, description = $2, price_kopecks = $3, \
         old_price_kopecks = $4, is_active = $5, duration_days = $6, daily_photo_limit = $7, \
         history_days = $8, updated_at = $9 WHERE id = $10",
        vec![
            after.display_name.clone().into(),
            after.description.clone().into(),
            after.price_kopecks.into(),
            after.old_price_kopecks.into(),
            after.is_active.into(),
            after.duration_days.into(),
            after.daily_photo_limit.into(),
            after.history_days.into(),
            after.updated_at.into(),
            after.id.into(),
        ],
    )
    .await?;
    txn.commit().await?;
    Ok(PlanEdit { before, after })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn plan(code: &str, price: i64, duration: i32, is_test: bool, is_public: bool) -> plan::Model {
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default();
        plan::Model {
            id: price,
            code: code.into(),
            display_name: code.into(),
            description: String::new(),
            price_kopecks: price,
            old_price_kopecks: None,
            duration_days: duration,
            daily_photo_limit: if price == 0 { Some(3) } else { None },
            history_days: if is_test { -1 } else { 180 },
            ai_recognition: true,
            advanced_stats: price > 0,
            priority_support: false,
            is_active: true,
            is_test,
            is_public,
            sort_order: 0,
            created_at: t,
            updated_at: t,
        }
    }

    fn free() -> plan::Model {
        plan("FREE", 0, 0, false, true)
    }
    fn monthly() -> plan::Model {
        plan("PRO_MONTHLY", 29_900, 30, false, true)
    }
    fn yearly() -> plan::Model {
        plan("PRO_YEARLY", 299_000, 365, false, true)
    }
    fn test_live() -> plan::Model {
        plan("TEST_LIVE", 100, 30, true, false)
    }

    #[test]
    fn a_price_title_and_limits_change_and_nothing_else() {
        let change = PlanChange {
            display_name: Some("  PRO месяц+ ".into()),
            price: Some(Kopecks(34_900)),
            old_price: Some(Some(Kopecks(39_900))),
            duration_days: Some(31),
            daily_photo_limit: Some(Some(50)),
            history_days: Some(-1),
            ..PlanChange::default()
        };
        let before = monthly();
        let after = apply(&before, &change).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after.display_name, "PRO месяц+");
        assert_eq!(after.price_kopecks, 34_900);
        assert_eq!(after.old_price_kopecks, Some(39_900));
        assert_eq!(after.duration_days, 31);
        assert_eq!(after.daily_photo_limit, Some(50));
        assert_eq!(after.history_days, -1);
        assert_eq!(
            (after.id, &after.code, after.is_test, after.is_active),
            (before.id, &before.code, false, true)
        );
        let cleared = apply(
            &after,
            &PlanChange {
                old_price: Some(None),
                daily_photo_limit: Some(None),
                ..PlanChange::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cleared.old_price_kopecks, None);
        assert_eq!(cleared.daily_photo_limit, None);
        assert_eq!(
            apply(&before, &PlanChange::default()),
            Err(PlanEditError::NothingToChange)
        );
    }

    #[test]
    fn free_stays_free_and_active() {
        let f = free();
        let price = |k| PlanChange {
            price: Some(Kopecks(k)),
            ..PlanChange::default()
        };
        assert_eq!(
            apply(&f, &price(100)),
            Err(PlanEditError::FreeMustCostNothing(Kopecks(100)))
        );
        assert!(apply(&f, &price(0)).is_ok());
        let off = PlanChange {
            is_active: Some(false),
            ..PlanChange::default()
        };
        assert_eq!(apply(&f, &off), Err(PlanEditError::FreeMustStayActive));
        let old = PlanChange {
            old_price: Some(Some(Kopecks(100))),
            ..PlanChange::default()
        };
        assert_eq!(apply(&f, &old), Err(PlanEditError::FreeHasNoOldPrice));
        let period = PlanChange {
            duration_days: Some(30),
            ..PlanChange::default()
        };
        assert_eq!(apply(&f, &period), Err(PlanEditError::FreeHasNoPeriod));
        let limit = PlanChange {
            daily_photo_limit: Some(Some(5)),
            history_days: Some(14),
            ..PlanChange::default()
        };
        let more = apply(&f, &limit).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((more.daily_photo_limit, more.history_days), (Some(5), 14));
    }

    #[test]
    fn paid_plans_need_a_price_a_period_and_a_higher_old_price() {
        let m = monthly();
        let c = |price: Option<i64>, old: Option<Option<i64>>, days: Option<i32>| PlanChange {
            price: price.map(Kopecks),
            old_price: old.map(|o| o.map(Kopecks)),
            duration_days: days,
            ..PlanChange::default()
        };
        assert_eq!(
            apply(&m, &c(Some(0), None, None)),
            Err(PlanEditError::PaidPlanNeedsPrice(Kopecks(0)))
        );
        assert_eq!(
            apply(&m, &c(Some(100_000_100), None, None)),
            Err(PlanEditError::PriceTooHigh(Kopecks(100_000_100)))
        );
        assert_eq!(
            apply(&m, &c(None, Some(Some(29_900)), None)),
            Err(PlanEditError::OldPriceNotHigher {
                old: Kopecks(29_900),
                price: Kopecks(29_900)
            })
        );
        // Lowering the price under an existing old price is fine; raising it over is not.
        let y = yearly();
        let mut y_old = y.clone();
        y_old.old_price_kopecks = Some(499_000);
        assert!(apply(&y_old, &c(Some(250_000), None, None)).is_ok());
        assert!(matches!(
            apply(&y_old, &c(Some(500_000), None, None)),
            Err(PlanEditError::OldPriceNotHigher { .. })
        ));
        for d in [0, -1, MAX_DURATION_DAYS + 1] {
            assert_eq!(
                apply(&m, &c(None, None, Some(d))),
                Err(PlanEditError::DurationOutOfRange(d))
            );
        }
        let neg = PlanChange {
            daily_photo_limit: Some(Some(-1)),
            ..PlanChange::default()
        };
        assert_eq!(apply(&m, &neg), Err(PlanEditError::NegativePhotoLimit(-1)));
        for h in [0, -2, MAX_HISTORY_DAYS + 1] {
            let hist = PlanChange {
                history_days: Some(h),
                ..PlanChange::default()
            };
            assert_eq!(apply(&m, &hist), Err(PlanEditError::HistoryOutOfRange(h)));
        }
        let blank = PlanChange {
            display_name: Some("   ".into()),
            ..PlanChange::default()
        };
        assert_eq!(apply(&m, &blank), Err(PlanEditError::EmptyTitle));
        let long = PlanChange {
            display_name: Some("я".repeat(MAX_TITLE_CHARS + 1)),
            ..PlanChange::default()
        };
        assert_eq!(apply(&m, &long), Err(PlanEditError::TitleTooLong));
    }

    #[test]
    fn the_test_plan_stays_a_test_plan_and_its_edits_pass() {
        let t = test_live();
        let cheaper = PlanChange {
            price: Some(Kopecks(200)),
            is_active: Some(false),
            ..PlanChange::default()
        };
        let after = apply(&t, &cheaper).unwrap_or_else(|e| panic!("{e}"));
        assert!(after.is_test);
        let mut lost = t.clone();
        lost.is_test = false;
        assert_eq!(
            check(&t, &lost),
            Err(PlanEditError::TestPlanMustStayTest("TEST_LIVE".into()))
        );
    }

    #[test]
    fn the_last_paid_public_plan_cannot_go_off_sale() {
        let before = vec![free(), monthly(), yearly(), test_live()];
        let off = |p: &plan::Model| {
            let mut p = p.clone();
            p.is_active = false;
            p
        };
        let one_off = vec![free(), monthly(), off(&yearly()), test_live()];
        assert_eq!(ensure_sellable(&before, &one_off, "PRO_YEARLY"), Ok(()));
        // The test plan and FREE do not count as on sale.
        let none = vec![free(), off(&monthly()), off(&yearly()), test_live()];
        assert_eq!(
            ensure_sellable(&one_off, &none, "PRO_MONTHLY"),
            Err(PlanEditError::LastPaidPlan("PRO_MONTHLY".into()))
        );
        // A catalogue already without one may still be edited (e.g. to fix a title).
        assert_eq!(ensure_sellable(&none, &none, "FREE"), Ok(()));
        assert!(!on_sale(&test_live()));
        assert!(!on_sale(&free()));
        assert!(on_sale(&monthly()));
    }
}

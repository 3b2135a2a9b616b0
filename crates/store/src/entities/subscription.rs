//! Entity for the `subscriptions` table (one per user; no row = FREE).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub user_id: i64,
    pub plan_id: i64,
    /// `active` or `expired` (downgraded to FREE by the expiry job).
    pub status: String,
    pub start_date: DateTimeUtc,
    pub end_date: DateTimeUtc,
    pub auto_renew: bool,
    /// When the user explicitly agreed to recurring charges.
    pub auto_renew_consent_at: Option<DateTimeUtc>,
    pub payment_method_id: Option<String>,
    pub card_mask: Option<String>,
    pub card_brand: Option<String>,
    pub card_expiry: Option<String>,
    /// Renewal terms, snapshotted from the payment that bought the period.
    pub renewal_plan_id: Option<i64>,
    pub renewal_price_kopecks: Option<i64>,
    pub renewal_duration_days: Option<i32>,
    /// Failed renewal attempts for the current period (dunning).
    pub renewal_attempts: i32,
    /// When the renewal job may next charge (`None`: no renewal scheduled).
    pub next_renewal_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

//! Entity for the `payments` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    /// A UUID generated locally, sent to YooKassa as `metadata.payment_id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i64,
    pub subscription_id: Option<i64>,
    pub plan_id: Option<i64>,
    /// `purchase`, `renewal`, `card_binding` or `admin_test`.
    pub purpose: String,
    pub amount_kopecks: i64,
    pub currency: String,
    /// Days this payment buys (snapshot of the plan at creation).
    pub duration_days: i32,
    /// `pending`, `waiting_for_capture`, `succeeded`, `canceled`, `failed`, `refunded`.
    pub status: String,
    pub provider_status: Option<String>,
    #[sea_orm(unique)]
    pub provider_payment_id: Option<String>,
    /// The `Idempotence-Key` sent to YooKassa; written before the call.
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// The client's `Idempotency-Key` header (unique per user).
    pub client_key: Option<String>,
    pub payment_method_id: Option<String>,
    pub save_payment_method: bool,
    pub consent_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub error_message: Option<String>,
    pub cancellation_reason: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub confirmation_url: Option<String>,
    /// Renewals only: the end of the period being renewed.
    pub billing_period_end: Option<DateTimeUtc>,
    /// Renewals only: the dunning attempt number (1-based).
    pub attempt: i32,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub metadata: Option<Json>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

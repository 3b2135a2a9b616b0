//! Entity for the `refunds` table (written from verified `refund.succeeded` notifications).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub provider_refund_id: String,
    /// Our payment, when we know it.
    pub payment_id: Option<String>,
    pub provider_payment_id: Option<String>,
    pub amount_kopecks: i64,
    pub currency: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

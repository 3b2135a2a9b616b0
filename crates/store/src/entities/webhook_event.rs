//! Entity for the `webhook_events` table: every YooKassa notification we received (and every
//! refused one), with what processing concluded.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub event_key: String,
    pub event_type: String,
    pub object_id: String,
    /// `received`, `processing`, `processed`, `failed`, `rejected`.
    pub status: String,
    /// What processing concluded (`activated`, `amount_mismatch`, `ip_not_allowed`, …).
    pub verdict: Option<String>,
    /// How many times the notification was delivered.
    pub deliveries: i32,
    /// How many times it was processed.
    pub process_attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub error_message: Option<String>,
    pub client_ip: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub raw_payload: Option<Json>,
    pub trace_id: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub processed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

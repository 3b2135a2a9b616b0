//! Entity for the `plans` table (billing plans; editable by operators).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code: String,
    pub display_name: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub price_kopecks: i64,
    pub old_price_kopecks: Option<i64>,
    pub duration_days: i32,
    /// `None` = unlimited.
    pub daily_photo_limit: Option<i32>,
    /// −1 = keep forever.
    pub history_days: i32,
    pub ai_recognition: bool,
    pub advanced_stats: bool,
    pub priority_support: bool,
    pub is_active: bool,
    pub is_test: bool,
    pub is_public: bool,
    pub sort_order: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

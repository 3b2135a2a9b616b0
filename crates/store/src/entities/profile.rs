//! Entity for the `profiles` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "profiles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub user_id: i64,
    pub full_name: String,
    pub gender: Option<String>,
    pub birth_date: Option<Date>,
    pub height: Option<i32>,
    pub weight: Option<f64>,
    pub activity_level: String,
    pub goal_type: String,
    pub target_weight: Option<f64>,
    pub timezone: String,
    pub avatar: Option<String>,
    pub avatar_version: i32,
    pub training_level: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub goals: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub health_restrictions: Option<Json>,
    pub current_body_type: Option<i16>,
    pub ideal_body_type: Option<i16>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

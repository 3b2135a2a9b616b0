//! Entity for the `personal_plan_surveys` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "personal_plan_surveys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub gender: String,
    pub age: i16,
    pub height_cm: i16,
    pub weight_kg: f64,
    pub target_weight_kg: Option<f64>,
    pub activity: String,
    pub training_level: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub body_goals: Option<Json>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub health_limitations: Option<Json>,
    pub body_now_id: i16,
    pub body_now_label: Option<String>,
    pub body_now_file: String,
    pub body_ideal_id: i16,
    pub body_ideal_label: Option<String>,
    pub body_ideal_file: String,
    pub timezone: String,
    pub utc_offset_minutes: i32,
    pub completed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

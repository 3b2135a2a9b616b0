//! Entity for the `ai_tasks` table: one recognition run (photo or text), polled by `task_id`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ai_tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub task_id: String,
    pub user_id: i64,
    pub meal_id: Option<i64>,
    pub meal_photo_id: Option<i64>,
    /// `photo` or `text`.
    pub kind: String,
    pub input_text: Option<String>,
    pub user_comment: Option<String>,
    /// `processing`, `success` or `failed`.
    pub status: String,
    pub error_code: Option<String>,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub result: Option<Json>,
    /// The user-local day whose photo quota slot this task holds (cleared when released).
    pub quota_day: Option<Date>,
    pub deadline_at: DateTimeUtc,
    pub trace_id: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

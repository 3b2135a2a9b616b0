//! Entity for the `meal_photos` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "meal_photos")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub meal_id: i64,
    pub image: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub recognized_data: Option<Json>,
    pub status: String,
    pub error_message: Option<String>,
    pub error_code: Option<String>,
    pub user_comment: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

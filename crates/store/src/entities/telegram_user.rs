//! Entity for the `telegram_users` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "telegram_users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub user_id: i64,
    #[sea_orm(unique)]
    pub telegram_id: i64,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub language_code: String,
    pub is_premium: bool,
    pub ai_test_completed: bool,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub ai_test_answers: Option<Json>,
    pub is_client: bool,
    pub lead_status: String,
    pub source_tag: Option<String>,
    pub recommended_calories: Option<i32>,
    pub recommended_protein: Option<f64>,
    pub recommended_fat: Option<f64>,
    pub recommended_carbs: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id"
    )]
    User,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

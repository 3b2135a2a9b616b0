//! Entity for the `notifications` table (the outbox of Telegram messages).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dedup_key: String,
    pub kind: String,
    /// Telegram chat id (the user's or an admin's Telegram id for private chats).
    pub chat_id: i64,
    pub user_id: Option<i64>,
    /// Telegram HTML, already rendered in the recipient's language.
    #[sea_orm(column_type = "Text")]
    pub text: String,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub reply_markup: Option<Json>,
    /// `pending`, `sent`, `failed` (gave up) or `blocked` (the user blocked the bot).
    pub status: String,
    pub attempts: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub telegram_message_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Not delivered before this instant (quiet hours, scheduled reminders).
    pub not_before: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

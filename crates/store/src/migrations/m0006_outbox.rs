//! The notification outbox: every Telegram message the service sends is first a row here,
//! written in the transaction of the state change that causes it, and delivered by the bot's
//! sender as a job. A unique `dedup_key` makes "exactly one message" hold across retries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(big_pk_auto("id"))
                    .col(string_len("dedup_key", 200).unique_key())
                    .col(string_len("kind", 64))
                    .col(big_integer("chat_id"))
                    .col(big_integer_null("user_id"))
                    .col(text("text"))
                    .col(json_binary_null("reply_markup"))
                    .col(string_len("status", 16).default("pending"))
                    .col(integer("attempts").default(0))
                    .col(text_null("last_error"))
                    .col(big_integer_null("telegram_message_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("not_before"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_status_not_before")
                    .table("notifications")
                    .col("status")
                    .col("not_before")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("notifications").to_owned())
            .await
    }
}

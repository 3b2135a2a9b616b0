//! The Telegram bot: dialogue state per chat (versioned JSON, so a restart resumes every user
//! where they were), the poller lease (one active long-poller across instances), per-chat facts
//! (blocked the bot, deep-link attribution, last inactivity nudge) and reminder settings.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("bot_dialogues")
                    .col(big_integer("chat_id").primary_key())
                    .col(integer("version"))
                    .col(text("state"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("bot_leases")
                    .col(string_len("name", 64).primary_key())
                    .col(string_len("holder", 200))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(big_integer("last_update_id").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("bot_chats")
                    .col(big_integer("chat_id").primary_key())
                    .col(big_integer_null("user_id"))
                    .col(timestamp_with_time_zone_null("blocked_at"))
                    .col(string_len_null("start_payload", 64))
                    .col(timestamp_with_time_zone_null("nudged_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("reminder_settings")
                    .col(big_integer("user_id").primary_key())
                    .col(boolean("meal_reminders").default(false))
                    .col(string_len("breakfast_at", 5).default("09:00"))
                    .col(string_len("lunch_at", 5).default("13:00"))
                    .col(string_len("dinner_at", 5).default("19:00"))
                    .col(boolean("evening_summary").default(false))
                    .col(string_len("summary_at", 5).default("21:00"))
                    .col(boolean("inactivity_nudge").default(true))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "reminder_settings",
            "bot_chats",
            "bot_leases",
            "bot_dialogues",
        ] {
            manager
                .drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

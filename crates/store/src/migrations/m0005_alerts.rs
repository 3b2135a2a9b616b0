//! Operational alerts with de-duplication: one row per (rule, key) while it is active.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("alerts")
                    .col(big_pk_auto("id"))
                    .col(string_len("rule", 64))
                    .col(string_len("key", 255).default(""))
                    .col(text("summary"))
                    .col(integer("occurrences").default(1))
                    .col(timestamp_with_time_zone("raised_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .col(timestamp_with_time_zone_null("resolved_at"))
                    .to_owned(),
            )
            .await?;
        // At most one ACTIVE alert per (rule, key): raising it again only counts.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX alerts_one_active ON alerts (rule, key) \
                 WHERE resolved_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("alerts").to_owned())
            .await
    }
}

//! Operations bookkeeping: the map of rows imported from the original EatFit24 database
//! (`eatfit import django`), which makes a second import change nothing and an interrupted one
//! resumable, and the record of successful backups (`eatfit admin backup`), which feeds the
//! `eatfit_backup_last_success_timestamp_seconds` metric and the BackupStale alert.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("import_map")
                    .col(big_pk_auto("id"))
                    .col(string_len("source_table", 64))
                    .col(string_len("source_id", 64))
                    .col(string_len("target_table", 64))
                    .col(big_integer_null("target_id"))
                    // `imported` or `skipped` (with the reason).
                    .col(string_len("status", 16))
                    .col(text_null("reason"))
                    .col(timestamp_with_time_zone("imported_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("import_map_source")
                    .table("import_map")
                    .col("source_table")
                    .col("source_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("backup_runs")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("finished_at"))
                    .col(string_len("backend", 16))
                    .col(text("location"))
                    .col(big_integer("rows_total").default(0))
                    .col(big_integer("media_files").default(0))
                    .col(big_integer("media_bytes").default(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("backup_runs").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("import_map").to_owned())
            .await
    }
}

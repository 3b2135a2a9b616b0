//! State of the in-process alert evaluator that must outlive a process: `role_heartbeats` (what
//! each running role reports about itself: start time, readiness, memory, the fingerprints of
//! the keys it holds — never the keys) and `ops_conditions` (since when a probed condition has
//! been bad, for rules with a "for N minutes").

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("role_heartbeats")
                    .col(string_len("instance_id", 160).primary_key())
                    .col(string_len("role", 32))
                    .col(string_len("host", 128))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("last_seen"))
                    .col(timestamp_with_time_zone_null("stopped_at"))
                    // JSON: {secret name: {"current": fp, "accepted": [fp, …]}}.
                    .col(text("fingerprints").default(""))
                    // NULL until the first readiness evaluation.
                    .col(boolean_null("ready"))
                    .col(string_len("failing_checks", 255).default(""))
                    .col(big_integer_null("mem_used_bytes"))
                    .col(big_integer_null("mem_limit_bytes"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ops_conditions")
                    .col(string_len("name", 255).primary_key())
                    .col(timestamp_with_time_zone_null("bad_since"))
                    .col(timestamp_with_time_zone("checked_at"))
                    .col(text("detail").default(""))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["ops_conditions", "role_heartbeats"] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

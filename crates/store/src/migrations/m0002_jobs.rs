//! The durable job queue, the scheduler's slot ledger and worker heartbeats (DESIGN.md §5).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("jobs")
                    .col(big_pk_auto("id"))
                    .col(string_len("queue", 32))
                    .col(string_len("kind", 64))
                    .col(json_binary("payload"))
                    .col(string_len("status", 16).default("queued"))
                    .col(integer("attempts").default(0))
                    .col(integer("max_attempts"))
                    .col(timestamp_with_time_zone("run_at"))
                    .col(string_len_null("locked_by", 128))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(string_len_null("unique_key", 255))
                    .col(text_null("last_error"))
                    .col(string_len_null("trace_id", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .to_owned(),
            )
            .await?;
        let conn = manager.get_connection();
        // Workers look for due queued jobs per queue, and for expired leases.
        conn.execute_unprepared("CREATE INDEX jobs_claim ON jobs (queue, status, run_at)")
            .await?;
        // A unique key is unique among live jobs only, so a finished job's key can be reused.
        conn.execute_unprepared(
            "CREATE UNIQUE INDEX jobs_unique_live_key ON jobs (unique_key) \
             WHERE unique_key IS NOT NULL AND status IN ('queued', 'running')",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("scheduler_slots")
                    .col(string_len("job_name", 64))
                    .col(timestamp_with_time_zone("slot"))
                    .col(string_len("scheduled_by", 128))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("job_name").col("slot"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("worker_heartbeats")
                    .col(string_len("worker_id", 128).primary_key())
                    .col(string_len("role", 32))
                    .col(string_len("queues", 255))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("last_seen"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["worker_heartbeats", "scheduler_slots", "jobs"] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

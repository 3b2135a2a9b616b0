//! Recognition: `ai_tasks` (one row per recognition run, the id clients poll; it owns the daily
//! photo quota slot while `quota_day` is set) and `photo_quota` (slots used per user-local day).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from_table: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from_table}_{col}"))
        .from(from_table, col)
        .to(to, "id")
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ai_tasks")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("task_id", 64))
                    .col(big_integer("user_id"))
                    .col(big_integer_null("meal_id"))
                    .col(big_integer_null("meal_photo_id"))
                    .col(string_len("kind", 10))
                    .col(text_null("input_text"))
                    .col(text_null("user_comment"))
                    .col(string_len("status", 20).default("processing"))
                    .col(string_len_null("error_code", 50))
                    .col(json_binary_null("result"))
                    .col(date_null("quota_day"))
                    .col(timestamp_with_time_zone("deadline_at"))
                    .col(string_len("trace_id", 64))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "ai_tasks",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "ai_tasks",
                        "meal_id",
                        "meals",
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "ai_tasks",
                        "meal_photo_id",
                        "meal_photos",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ai_tasks_user_created")
                    .table("ai_tasks")
                    .col("user_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ai_tasks_status_deadline")
                    .table("ai_tasks")
                    .col("status")
                    .col("deadline_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ai_tasks_photo")
                    .table("ai_tasks")
                    .col("meal_photo_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("photo_quota")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(date("day"))
                    .col(integer("used").default(0))
                    .foreign_key(&mut fk(
                        "photo_quota",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("photo_quota_user_day")
                    .table("photo_quota")
                    .col("user_id")
                    .col("day")
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("photo_quota").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("ai_tasks").to_owned())
            .await
    }
}

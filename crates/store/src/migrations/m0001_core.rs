//! Core schema: users, Telegram users, profiles, goals, meals, items, photos, cancel events,
//! personal-plan surveys and plans (reference/backend-core.md §2, with its invariants held by
//! the database).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn ts(col: &'static str) -> ColumnDef {
    timestamp_with_time_zone(col)
}

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
                    .table("users")
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("username", 150))
                    .col(string_len("email", 254).default(""))
                    .col(string_len("first_name", 150).default(""))
                    .col(string_len("last_name", 150).default(""))
                    .col(boolean("is_active").default(true))
                    .col(ts("created_at"))
                    .col(timestamp_with_time_zone_null("last_login"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("telegram_users")
                    .col(big_pk_auto("id"))
                    .col(big_integer_uniq("user_id"))
                    .col(big_integer_uniq("telegram_id"))
                    .col(string_len_null("username", 255))
                    .col(string_len("first_name", 255).default(""))
                    .col(string_len("last_name", 255).default(""))
                    .col(string_len("language_code", 10).default("ru"))
                    .col(boolean("is_premium").default(false))
                    .col(boolean("ai_test_completed").default(false))
                    .col(json_binary_null("ai_test_answers"))
                    .col(boolean("is_client").default(false))
                    .col(string_len("lead_status", 20).default("new"))
                    .col(string_len_null("source_tag", 64))
                    .col(integer_null("recommended_calories"))
                    .col(double_null("recommended_protein"))
                    .col(double_null("recommended_fat"))
                    .col(double_null("recommended_carbs"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "telegram_users",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("profiles")
                    .col(big_pk_auto("id"))
                    .col(big_integer_uniq("user_id"))
                    .col(string_len("full_name", 255).default(""))
                    .col(string_len_null("gender", 1))
                    .col(date_null("birth_date"))
                    .col(integer_null("height"))
                    .col(double_null("weight"))
                    .col(string_len("activity_level", 20).default("sedentary"))
                    .col(string_len("goal_type", 20).default("maintenance"))
                    .col(double_null("target_weight"))
                    .col(string_len("timezone", 64).default("Europe/Moscow"))
                    .col(string_len_null("avatar", 255))
                    .col(integer("avatar_version").default(0))
                    .col(string_len_null("training_level", 20))
                    .col(json_binary_null("goals"))
                    .col(json_binary_null("health_restrictions"))
                    .col(small_integer_null("current_body_type"))
                    .col(small_integer_null("ideal_body_type"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "profiles",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("daily_goals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(integer("calories"))
                    .col(double("protein"))
                    .col(double("fat"))
                    .col(double("carbohydrates"))
                    .col(string_len("source", 10).default("AUTO"))
                    .col(boolean("is_active").default(true))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "daily_goals",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // One active goal per user: the database holds the invariant, not the code.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX daily_goals_one_active_per_user \
                 ON daily_goals (user_id) WHERE is_active",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("meals")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string_len("meal_type", 10))
                    .col(date("date"))
                    .col(string_len("status", 20).default("DRAFT"))
                    .col(string_len_null("name", 255))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "meals",
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
                    .name("meals_user_date")
                    .table("meals")
                    .col("user_id")
                    .col("date")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("food_items")
                    .col(big_pk_auto("id"))
                    .col(big_integer("meal_id"))
                    .col(string_len("name", 255))
                    .col(integer("grams"))
                    .col(double("calories"))
                    .col(double("protein"))
                    .col(double("fat"))
                    .col(double("carbohydrates"))
                    .col(string_len("source", 16).default("manual"))
                    .col(string_len_null("food_ref", 64))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "food_items",
                        "meal_id",
                        "meals",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("food_items_meal")
                    .table("food_items")
                    .col("meal_id")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("meal_photos")
                    .col(big_pk_auto("id"))
                    .col(big_integer("meal_id"))
                    .col(string_len("image", 255))
                    .col(json_binary_null("recognized_data"))
                    .col(string_len("status", 20).default("PENDING"))
                    .col(text_null("error_message"))
                    .col(string_len_null("error_code", 50))
                    .col(text_null("user_comment"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "meal_photos",
                        "meal_id",
                        "meals",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("meal_photos_meal_status")
                    .table("meal_photos")
                    .col("meal_id")
                    .col("status")
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("cancel_events")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string_len_uniq("client_cancel_id", 64))
                    .col(big_integer_null("run_id"))
                    .col(big_integer_null("meal_id"))
                    .col(json_binary_null("payload"))
                    .col(integer("cancelled_tasks").default(0))
                    .col(integer("updated_photos").default(0))
                    .col(boolean("noop").default(false))
                    .col(ts("created_at"))
                    .foreign_key(&mut fk(
                        "cancel_events",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "cancel_events",
                        "meal_id",
                        "meals",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("personal_plan_surveys")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(string_len("gender", 10))
                    .col(small_integer("age"))
                    .col(small_integer("height_cm"))
                    .col(double("weight_kg"))
                    .col(double_null("target_weight_kg"))
                    .col(string_len("activity", 20))
                    .col(string_len_null("training_level", 32))
                    .col(json_binary_null("body_goals"))
                    .col(json_binary_null("health_limitations"))
                    .col(small_integer("body_now_id"))
                    .col(text_null("body_now_label"))
                    .col(text("body_now_file").default(""))
                    .col(small_integer("body_ideal_id"))
                    .col(text_null("body_ideal_label"))
                    .col(text("body_ideal_file").default(""))
                    .col(string_len("timezone", 64).default("Europe/Moscow"))
                    .col(integer("utc_offset_minutes").default(180))
                    .col(timestamp_with_time_zone_null("completed_at"))
                    .col(ts("created_at"))
                    .col(ts("updated_at"))
                    .foreign_key(&mut fk(
                        "personal_plan_surveys",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("personal_plans")
                    .col(big_pk_auto("id"))
                    .col(big_integer("user_id"))
                    .col(big_integer_null("survey_id"))
                    .col(text("ai_text"))
                    .col(string_len_null("ai_model", 100))
                    .col(string_len_null("prompt_version", 20))
                    .col(ts("created_at"))
                    .foreign_key(&mut fk(
                        "personal_plans",
                        "user_id",
                        "users",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "personal_plans",
                        "survey_id",
                        "personal_plan_surveys",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX personal_plans_one_per_survey \
                 ON personal_plans (user_id, survey_id) WHERE survey_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "personal_plans",
            "personal_plan_surveys",
            "cancel_events",
            "meal_photos",
            "food_items",
            "meals",
            "daily_goals",
            "profiles",
            "telegram_users",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

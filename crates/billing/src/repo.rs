//! Small database helpers shared by the billing modules.

use domain::error::Locale;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Statement, Value};
use store::entities::{billing_payment as payment, plan, subscription, telegram_user};
use store::{Backend, StoreError};

pub(crate) fn stmt(conn: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(conn.get_database_backend(), sql, values)
}

pub(crate) async fn exec<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<u64, StoreError> {
    Ok(conn
        .execute_raw(stmt(conn, sql, values))
        .await?
        .rows_affected())
}

/// ` FOR UPDATE` on PostgreSQL (SQLite serialises writers; the first write takes the lock).
pub(crate) fn for_update(conn: &impl ConnectionTrait) -> &'static str {
    match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => " FOR UPDATE",
        _ => "",
    }
}

pub(crate) fn backend_of(conn: &impl ConnectionTrait) -> Backend {
    match conn.get_database_backend() {
        sea_orm::DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

pub(crate) async fn payment<C: ConnectionTrait>(
    conn: &C,
    id: &str,
) -> Result<Option<payment::Model>, StoreError> {
    Ok(payment::Entity::find_by_id(id.to_string())
        .one(conn)
        .await?)
}

pub(crate) async fn payment_by_provider_id<C: ConnectionTrait>(
    conn: &C,
    provider_id: &str,
) -> Result<Option<payment::Model>, StoreError> {
    Ok(payment::Entity::find()
        .filter(payment::Column::ProviderPaymentId.eq(provider_id))
        .one(conn)
        .await?)
}

pub(crate) async fn plan<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<plan::Model>, StoreError> {
    Ok(plan::Entity::find_by_id(id).one(conn).await?)
}

pub(crate) async fn subscription_of<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<Option<subscription::Model>, StoreError> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::UserId.eq(user_id))
        .one(conn)
        .await?)
}

/// Locks the user's subscription row (PostgreSQL) inside the caller's transaction; no joins.
pub(crate) async fn lock_subscription<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<Option<subscription::Model>, StoreError> {
    let sql = format!(
        "SELECT id FROM subscriptions WHERE user_id = $1{}",
        for_update(conn)
    );
    let row = conn
        .query_one_raw(stmt(conn, &sql, vec![user_id.into()]))
        .await?;
    if row.is_none() {
        return Ok(None);
    }
    subscription_of(conn, user_id).await
}

/// Who to message about a user.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub telegram_id: i64,
    pub locale: Locale,
    pub name: String,
    pub username: Option<String>,
}

pub(crate) async fn contact<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
) -> Result<Option<Contact>, StoreError> {
    let tg = telegram_user::Entity::find()
        .filter(telegram_user::Column::UserId.eq(user_id))
        .one(conn)
        .await?;
    Ok(tg.map(|t| Contact {
        telegram_id: t.telegram_id,
        locale: Locale::from_tag(Some(&t.language_code)),
        name: {
            let full = format!("{} {}", t.first_name, t.last_name);
            let full = full.trim();
            if full.is_empty() {
                "Пользователь".to_string()
            } else {
                full.to_string()
            }
        },
        username: t.username,
    }))
}

/// The user id of a Telegram id.
pub(crate) async fn user_of_telegram<C: ConnectionTrait>(
    conn: &C,
    telegram_id: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(telegram_user::Entity::find()
        .filter(telegram_user::Column::TelegramId.eq(telegram_id))
        .one(conn)
        .await?
        .map(|t| t.user_id))
}

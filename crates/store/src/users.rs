//! Users and their Telegram identities: provisioning from verified initData.

use chrono::{DateTime, Utc};
use domain::ids::{TelegramId, UserId};
use domain::init_data::WebAppUser;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::entities::{profile, telegram_user, user};
use crate::{Db, StoreError};

/// A user with their Telegram identity.
#[derive(Debug, Clone)]
pub struct Account {
    pub user: user::Model,
    pub telegram: telegram_user::Model,
}

impl Account {
    pub fn user_id(&self) -> UserId {
        UserId(self.user.id)
    }
}

/// The result of provisioning.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub account: Account,
    /// True when this call created the user.
    pub created: bool,
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Finds the account of a Telegram user (one round trip: it runs on every request).
pub async fn find_by_telegram_id(db: &Db, id: TelegramId) -> Result<Option<Account>, StoreError> {
    let row = telegram_user::Entity::find()
        .filter(telegram_user::Column::TelegramId.eq(id.get()))
        .find_also_related(user::Entity)
        .one(db.conn())
        .await?;
    match row {
        None => Ok(None),
        Some((telegram, Some(user))) => Ok(Some(Account { user, telegram })),
        Some((_, None)) => Err(StoreError::NotFound),
    }
}

/// Finds or creates the account of a verified Mini App user and syncs the fields Telegram
/// owns (username, names, language, premium). Safe under concurrent first logins: the unique
/// Telegram id decides, and the loser re-reads outside its failed transaction.
pub async fn provision(
    db: &Db,
    tg_user: &WebAppUser,
    now: DateTime<Utc>,
) -> Result<Provisioned, StoreError> {
    if let Some(existing) = find_by_telegram_id(db, tg_user.id).await? {
        let account = sync(db, existing, tg_user, now).await?;
        return Ok(Provisioned {
            account,
            created: false,
        });
    }
    match create(db, tg_user, now).await {
        Ok(account) => Ok(Provisioned {
            account,
            created: true,
        }),
        Err(e) if e.is_conflict() => {
            let account = find_by_telegram_id(db, tg_user.id)
                .await?
                .ok_or(StoreError::NotFound)?;
            Ok(Provisioned {
                account,
                created: false,
            })
        }
        Err(e) => Err(e),
    }
}

async fn create(db: &Db, u: &WebAppUser, now: DateTime<Utc>) -> Result<Account, StoreError> {
    let txn = db.conn().begin().await?;
    let tid = u.id.get();
    let user = user::ActiveModel {
        username: Set(format!("tg_{tid}")),
        email: Set(format!("tg{tid}@telegram.user")),
        first_name: Set(truncate(&u.first_name, 150)),
        last_name: Set(truncate(u.last_name.as_deref().unwrap_or_default(), 150)),
        is_active: Set(true),
        created_at: Set(now),
        last_login: Set(Some(now)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let telegram = telegram_user::ActiveModel {
        user_id: Set(user.id),
        telegram_id: Set(tid),
        username: Set(u.username.clone()),
        first_name: Set(truncate(&u.first_name, 255)),
        last_name: Set(truncate(u.last_name.as_deref().unwrap_or_default(), 255)),
        language_code: Set(truncate(u.language_code.as_deref().unwrap_or("ru"), 10)),
        is_premium: Set(u.is_premium.unwrap_or(false)),
        ai_test_completed: Set(false),
        is_client: Set(false),
        lead_status: Set("new".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    profile::ActiveModel {
        user_id: Set(user.id),
        full_name: Set(String::new()),
        activity_level: Set("sedentary".into()),
        goal_type: Set("maintenance".into()),
        timezone: Set("Europe/Moscow".into()),
        avatar_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Account { user, telegram })
}

async fn sync(
    db: &Db,
    account: Account,
    u: &WebAppUser,
    now: DateTime<Utc>,
) -> Result<Account, StoreError> {
    let tg = &account.telegram;
    let first = truncate(&u.first_name, 255);
    let last = truncate(u.last_name.as_deref().unwrap_or_default(), 255);
    let lang = truncate(u.language_code.as_deref().unwrap_or("ru"), 10);
    let premium = u.is_premium.unwrap_or(false);
    if tg.username == u.username
        && tg.first_name == first
        && tg.last_name == last
        && tg.language_code == lang
        && tg.is_premium == premium
    {
        return Ok(account);
    }
    let mut active: telegram_user::ActiveModel = account.telegram.clone().into();
    active.username = Set(u.username.clone());
    active.first_name = Set(first);
    active.last_name = Set(last);
    active.language_code = Set(lang);
    active.is_premium = Set(premium);
    active.updated_at = Set(now);
    let telegram = active.update(db.conn()).await?;
    Ok(Account {
        user: account.user,
        telegram,
    })
}

/// How many users exist (for tests and the coach panel's counts).
pub async fn count(db: &Db) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(user::Entity::find().count(db.conn()).await?)
}

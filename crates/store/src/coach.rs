//! The coach (trainer) panel: leads, clients and subscribers (reference/backend-core.md §1.6,
//! §3.8; DESIGN.md §3).
//!
//! * A **lead** (an "application" on the wire) is a Telegram user who answered the bot's
//!   personal-plan survey (a row in `personal_plan_surveys`) or the legacy lead-magnet test
//!   (`telegram_users.ai_test_completed`). The original listed only the latter, which nothing
//!   wrote any more, so new leads never reached the coach (§7.11).
//! * The lead status (`new` → `viewed` → `contacted` → `client`) lives in
//!   `telegram_users.lead_status`; `is_client` mirrors `status == client` (every write here keeps
//!   the two in step).
//! * Deleting a lead removes what made the person a lead — their survey rows (plans keep
//!   `survey_id = NULL`), the lead-magnet flag and answers — and resets the status to `new`.
//!   The account, diary, goals and plans stay. Answering the survey again makes a new lead.
//! * A **client** has `is_client = true`. Any Telegram user can be made one.
//! * **Subscribers** are all Telegram users with their plan, read from the billing tables by
//!   [`subscriptions_for_users`] and [`subscriber_stats`].
//!
//! Every list page costs a fixed number of statements whatever its size: count, page, newest
//! survey per listed user (one query), plan lookup (batch).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::entities::{personal_plan_survey as survey, telegram_user};
use crate::{Db, StoreError};

/// Default page size of the coach lists (the original's `PAGE_SIZE`).
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest page size a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;
/// At most this many words of a search are used.
const MAX_SEARCH_WORDS: usize = 5;

/// Where a lead is in the coach's workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadStatus {
    New,
    Viewed,
    Contacted,
    Client,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 4] = [
        LeadStatus::New,
        LeadStatus::Viewed,
        LeadStatus::Contacted,
        LeadStatus::Client,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Viewed => "viewed",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Client => "client",
        }
    }

    /// The status of a row: `client` whenever `is_client`, else the stored value (`new` for
    /// anything unknown).
    pub fn of(tg: &telegram_user::Model) -> LeadStatus {
        if tg.is_client {
            LeadStatus::Client
        } else {
            tg.lead_status.parse().unwrap_or(LeadStatus::New)
        }
    }
}

impl std::str::FromStr for LeadStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LeadStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(())
    }
}

/// A requested page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based.
    pub page: u64,
    /// 1..=[`MAX_PAGE_SIZE`].
    pub page_size: u64,
    /// Words matched against first name, last name, username (case-insensitive) and the exact
    /// Telegram id.
    pub search: Option<String>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            search: None,
        }
    }
}

impl PageRequest {
    fn offset(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.page_size)
    }
}

/// One page of a list plus the total number of matching rows.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub count: u64,
    pub page: u64,
    pub page_size: u64,
}

/// Plan family as the coach panel shows it (§3.8 normalisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanKind {
    Free,
    Monthly,
    Yearly,
}

impl PlanKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PlanKind::Free => "free",
            PlanKind::Monthly => "monthly",
            PlanKind::Yearly => "yearly",
        }
    }
}

/// Subscription state as the coach panel shows it (§3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionState {
    Active,
    Expired,
    Canceled,
    Unknown,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Active => "active",
            SubscriptionState::Expired => "expired",
            SubscriptionState::Canceled => "canceled",
            SubscriptionState::Unknown => "unknown",
        }
    }
}

/// A user's plan in the coach panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionInfo {
    pub plan: PlanKind,
    pub state: SubscriptionState,
    /// End of the paid period (non-free plans only).
    pub paid_until: Option<DateTime<Utc>>,
}

impl SubscriptionInfo {
    pub const FREE: SubscriptionInfo = SubscriptionInfo {
        plan: PlanKind::Free,
        state: SubscriptionState::Active,
        paid_until: None,
    };

    /// Paid = a non-free plan that is active.
    pub fn is_paid(&self) -> bool {
        self.plan != PlanKind::Free && self.state == SubscriptionState::Active
    }
}

/// The plan of each of `user_ids` (user row ids), in one batch (one statement).
///
/// Reads the subscriptions and their plans (reference/backend-core.md §3.8): plan codes
/// normalise to free/monthly/yearly (legacy `MONTHLY`/`YEARLY` too; anything else, TEST_LIVE
/// included, is free); a non-free subscription past its end (`end_date == now` included) is
/// `expired`, one downgraded by the expiry job reads as FREE. Users without a row are FREE.
pub async fn subscriptions_for_users(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, SubscriptionInfo>, StoreError> {
    let mut out: HashMap<i64, SubscriptionInfo> = user_ids
        .iter()
        .map(|&id| (id, SubscriptionInfo::FREE))
        .collect();
    if user_ids.is_empty() {
        return Ok(out);
    }
    let placeholders: Vec<String> = (1..=user_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT s.user_id, s.status, s.end_date, p.code FROM subscriptions s \
         JOIN plans p ON p.id = s.plan_id WHERE s.user_id IN ({})",
        placeholders.join(", ")
    );
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            user_ids
                .iter()
                .map(|&id| id.into())
                .collect::<Vec<sea_orm::Value>>(),
        ))
        .await?;
    for r in rows {
        let user_id: i64 = r.try_get("", "user_id")?;
        let code: String = r.try_get("", "code")?;
        let status: String = r.try_get("", "status")?;
        let end: DateTime<Utc> = r.try_get("", "end_date")?;
        let plan = match code.as_str() {
            "PRO_MONTHLY" | "MONTHLY" => PlanKind::Monthly,
            "PRO_YEARLY" | "YEARLY" => PlanKind::Yearly,
            _ => PlanKind::Free,
        };
        if plan == PlanKind::Free {
            continue;
        }
        let state = if status != "active" || end <= now {
            SubscriptionState::Expired
        } else {
            SubscriptionState::Active
        };
        out.insert(
            user_id,
            SubscriptionInfo {
                plan,
                state,
                paid_until: Some(end),
            },
        );
    }
    Ok(out)
}

/// The counts block of the subscribers screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriberStats {
    /// Telegram users (the same population as the subscribers list).
    pub total: u64,
    pub free: u64,
    pub monthly: u64,
    pub yearly: u64,
    /// Sum of succeeded payments, in kopecks.
    pub revenue_kopecks: i64,
}

/// Counts for the subscribers screen: Telegram users, active paid subscriptions by plan family
/// (`end_date > now`), and the sum of succeeded purchases and renewals (card bindings and the
/// admin's live test are not revenue). Unlike the original (§7.12), `total` counts the same
/// population the list shows.
pub async fn subscriber_stats(db: &Db, now: DateTime<Utc>) -> Result<SubscriberStats, StoreError> {
    // One statement, so the subscribers page keeps its fixed round-trip budget.
    let paid = |codes: &str| {
        format!(
            "(SELECT COUNT(*) FROM subscriptions s JOIN plans p ON p.id = s.plan_id \
             JOIN telegram_users t ON t.user_id = s.user_id \
             WHERE s.status = 'active' AND s.end_date > $1 AND p.code IN ({codes}))"
        )
    };
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM telegram_users) AS total, {} AS monthly, {} AS yearly, \
         (SELECT CAST(COALESCE(SUM(amount_kopecks), 0) AS BIGINT) FROM payments \
          WHERE status = 'succeeded' AND purpose IN ('purchase', 'renewal')) AS revenue",
        paid("'PRO_MONTHLY', 'MONTHLY'"),
        paid("'PRO_YEARLY', 'YEARLY'"),
    );
    let row = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            db.db_backend(),
            sql,
            vec![now.into()],
        ))
        .await?
        .ok_or(StoreError::NotFound)?;
    let count = |name: &str| -> Result<u64, StoreError> {
        let n: i64 = row.try_get("", name)?;
        Ok(u64::try_from(n).unwrap_or(0))
    };
    let (total, monthly, yearly) = (count("total")?, count("monthly")?, count("yearly")?);
    let revenue_kopecks: i64 = row.try_get("", "revenue")?;
    Ok(SubscriberStats {
        total,
        free: total.saturating_sub(monthly + yearly),
        monthly,
        yearly,
        revenue_kopecks,
    })
}

/// The start payload of a coach's invite link is this prefix and the coach's Telegram id
/// (`https://t.me/<bot>?start=coach_<id>`); the bot stores it as the user's `source_tag`.
pub const COACH_INVITE_PREFIX: &str = "coach_";

/// The start payload (and later `source_tag`) of `coach_telegram_id`'s invite link.
pub fn coach_invite_code(coach_telegram_id: i64) -> String {
    format!("{COACH_INVITE_PREFIX}{coach_telegram_id}")
}

/// The Telegram id of the coach whose invite link a user came through, read from their
/// `source_tag` (`None` for other tags and for none).
pub fn invited_by_coach(source_tag: Option<&str>) -> Option<i64> {
    source_tag?
        .strip_prefix(COACH_INVITE_PREFIX)?
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
}

/// One lead (or client) with what the coach sees about them.
#[derive(Debug, Clone)]
pub struct Lead {
    pub telegram: telegram_user::Model,
    pub status: LeadStatus,
    /// Their newest survey, if they answered the bot's survey.
    pub survey: Option<survey::Model>,
    pub subscription: SubscriptionInfo,
}

/// One row of the subscribers list.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub telegram: telegram_user::Model,
    pub subscription: SubscriptionInfo,
}

/// Rows that are leads: answered the survey or passed the lead-magnet test.
fn lead_condition() -> Condition {
    Condition::any()
        .add(telegram_user::Column::AiTestCompleted.eq(true))
        .add(
            telegram_user::Column::UserId.in_subquery(
                Query::select()
                    .column(survey::Column::UserId)
                    .from(survey::Entity)
                    .to_owned(),
            ),
        )
}

fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Every word must match a name, the username or the Telegram id.
///
/// Case-insensitivity: `LOWER(col) LIKE lower(word)` is exact on PostgreSQL; SQLite's `LOWER`
/// and `LIKE` fold ASCII only, so the word is also tried as typed and capitalised ("иван" finds
/// "Иван" there too).
fn search_condition(search: &str) -> Option<Condition> {
    let words: Vec<&str> = search.split_whitespace().take(MAX_SEARCH_WORDS).collect();
    if words.is_empty() {
        return None;
    }
    let mut all = Condition::all();
    for word in words {
        let word = word.trim_start_matches('@');
        if word.is_empty() {
            continue;
        }
        let lower = word.to_lowercase();
        let variants = [lower.clone(), word.to_string(), capitalized(&lower)];
        let mut any = Condition::any();
        for col in [
            telegram_user::Column::FirstName,
            telegram_user::Column::LastName,
            telegram_user::Column::Username,
        ] {
            let col_ref = (telegram_user::Entity, col);
            any = any.add(
                Expr::expr(Func::lower(Expr::col(col_ref)))
                    .like(LikeExpr::new(format!("%{}%", escape_like(&lower))).escape('\\')),
            );
            for v in &variants[1..] {
                any = any.add(
                    Expr::col(col_ref)
                        .like(LikeExpr::new(format!("%{}%", escape_like(v))).escape('\\')),
                );
            }
        }
        if let Ok(id) = word.parse::<i64>() {
            any = any.add(telegram_user::Column::TelegramId.eq(id));
        }
        all = all.add(any);
    }
    Some(all)
}

async fn page_of(
    db: &Db,
    filter: Condition,
    req: &PageRequest,
) -> Result<(Vec<telegram_user::Model>, u64), StoreError> {
    let mut filter = filter;
    if let Some(s) = req.search.as_deref().and_then(search_condition) {
        filter = filter.add(s);
    }
    let query = telegram_user::Entity::find().filter(filter);
    let count = query.clone().count(db.conn()).await?;
    let rows = query
        .order_by_desc(telegram_user::Column::CreatedAt)
        .order_by_desc(telegram_user::Column::Id)
        .offset(req.offset())
        .limit(req.page_size)
        .all(db.conn())
        .await?;
    Ok((rows, count))
}

/// The newest survey of each user, in one query.
async fn newest_surveys(
    db: &impl ConnectionTrait,
    user_ids: &[i64],
) -> Result<HashMap<i64, survey::Model>, StoreError> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let newest_ids = Query::select()
        .expr(Func::max(Expr::col(survey::Column::Id)))
        .from(survey::Entity)
        .and_where(survey::Column::UserId.is_in(user_ids.iter().copied()))
        .group_by_col(survey::Column::UserId)
        .to_owned();
    let rows = survey::Entity::find()
        .filter(survey::Column::Id.in_subquery(newest_ids))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|s| (s.user_id, s)).collect())
}

async fn to_leads(
    db: &impl ConnectionTrait,
    rows: Vec<telegram_user::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<Lead>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let mut surveys = newest_surveys(db, &ids).await?;
    let subs = subscriptions_for_users(db, &ids, now).await?;
    Ok(rows
        .into_iter()
        .map(|tg| Lead {
            status: LeadStatus::of(&tg),
            survey: surveys.remove(&tg.user_id),
            subscription: subs
                .get(&tg.user_id)
                .copied()
                .unwrap_or(SubscriptionInfo::FREE),
            telegram: tg,
        })
        .collect())
}

/// Leads (applications), newest first, optionally with one status.
pub async fn list_applications(
    db: &Db,
    req: &PageRequest,
    status: Option<LeadStatus>,
    now: DateTime<Utc>,
) -> Result<Page<Lead>, StoreError> {
    let mut filter = Condition::all().add(lead_condition());
    match status {
        Some(LeadStatus::Client) => filter = filter.add(telegram_user::Column::IsClient.eq(true)),
        Some(s) => {
            filter = filter
                .add(telegram_user::Column::IsClient.eq(false))
                .add(telegram_user::Column::LeadStatus.eq(s.as_str()));
        }
        None => {}
    }
    let (rows, count) = page_of(db, filter, req).await?;
    Ok(Page {
        items: to_leads(db.conn(), rows, now).await?,
        count,
        page: req.page,
        page_size: req.page_size,
    })
}

/// Clients, newest first.
pub async fn list_clients(
    db: &Db,
    req: &PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<Lead>, StoreError> {
    let filter = Condition::all().add(telegram_user::Column::IsClient.eq(true));
    let (rows, count) = page_of(db, filter, req).await?;
    Ok(Page {
        items: to_leads(db.conn(), rows, now).await?,
        count,
        page: req.page,
        page_size: req.page_size,
    })
}

/// All Telegram users with their plan, newest first.
pub async fn list_subscribers(
    db: &Db,
    req: &PageRequest,
    now: DateTime<Utc>,
) -> Result<Page<Subscriber>, StoreError> {
    let (rows, count) = page_of(db, Condition::all(), req).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let subs = subscriptions_for_users(db.conn(), &ids, now).await?;
    Ok(Page {
        items: rows
            .into_iter()
            .map(|tg| Subscriber {
                subscription: subs
                    .get(&tg.user_id)
                    .copied()
                    .unwrap_or(SubscriptionInfo::FREE),
                telegram: tg,
            })
            .collect(),
        count,
        page: req.page,
        page_size: req.page_size,
    })
}

/// Whether a user (row id) is a lead.
pub async fn is_lead(
    db: &impl ConnectionTrait,
    tg: &telegram_user::Model,
) -> Result<bool, StoreError> {
    if tg.ai_test_completed {
        return Ok(true);
    }
    has_survey(db, tg.user_id).await
}

async fn has_survey(db: &impl ConnectionTrait, user_id: i64) -> Result<bool, StoreError> {
    Ok(survey::Entity::find()
        .filter(survey::Column::UserId.eq(user_id))
        .count(db)
        .await?
        > 0)
}

/// One lead by its Telegram-user row id (`None` when unknown or not a lead).
pub async fn get_lead(db: &Db, id: i64, now: DateTime<Utc>) -> Result<Option<Lead>, StoreError> {
    let Some(tg) = telegram_user::Entity::find_by_id(id).one(db.conn()).await? else {
        return Ok(None);
    };
    if !is_lead(db.conn(), &tg).await? {
        return Ok(None);
    }
    Ok(to_leads(db.conn(), vec![tg], now).await?.pop())
}

/// One lead or client by its Telegram-user row id: [`get_lead`], plus clients who never were
/// leads (made clients by hand). `None` when unknown or neither.
pub async fn get_lead_or_client(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Lead>, StoreError> {
    let Some(tg) = telegram_user::Entity::find_by_id(id).one(db.conn()).await? else {
        return Ok(None);
    };
    if !tg.is_client && !is_lead(db.conn(), &tg).await? {
        return Ok(None);
    }
    Ok(to_leads(db.conn(), vec![tg], now).await?.pop())
}

fn with_status(
    tg: telegram_user::Model,
    status: LeadStatus,
    now: DateTime<Utc>,
) -> telegram_user::ActiveModel {
    let mut active: telegram_user::ActiveModel = tg.into();
    active.lead_status = Set(status.as_str().to_string());
    active.is_client = Set(status == LeadStatus::Client);
    active.updated_at = Set(now);
    active
}

/// Moves a lead to `status` (`client` also makes them a client; any other status takes the
/// client mark off). `NotFound` when the id is unknown or not a lead.
pub async fn set_lead_status(
    db: &Db,
    id: i64,
    status: LeadStatus,
    now: DateTime<Utc>,
) -> Result<Lead, StoreError> {
    let tg = telegram_user::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    if !is_lead(db.conn(), &tg).await? {
        return Err(StoreError::NotFound);
    }
    let tg = with_status(tg, status, now).update(db.conn()).await?;
    to_leads(db.conn(), vec![tg], now)
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Removes a lead from the list: deletes their surveys (plans keep `survey_id = NULL`), clears
/// the lead-magnet flag and answers, resets the status to `new` and the client mark. The
/// account and everything else stay. `NotFound` when unknown or not a lead.
pub async fn delete_lead(db: &Db, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    let txn = db.conn().begin().await?;
    let tg = telegram_user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if !is_lead(&txn, &tg).await? {
        return Err(StoreError::NotFound);
    }
    survey::Entity::delete_many()
        .filter(survey::Column::UserId.eq(tg.user_id))
        .exec(&txn)
        .await?;
    let mut active = with_status(tg, LeadStatus::New, now);
    active.ai_test_completed = Set(false);
    active.ai_test_answers = Set(None);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// What making someone a client did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddClient {
    Added,
    AlreadyClient,
}

/// Makes a Telegram user (row id) a client: `is_client`, status `client`.
pub async fn add_client(db: &Db, id: i64, now: DateTime<Utc>) -> Result<AddClient, StoreError> {
    let tg = telegram_user::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    if tg.is_client {
        return Ok(AddClient::AlreadyClient);
    }
    with_status(tg, LeadStatus::Client, now)
        .update(db.conn())
        .await?;
    Ok(AddClient::Added)
}

/// What removing a client did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveClient {
    Removed,
    AlreadyRemoved,
}

/// Takes the client mark off; the lead goes back to `contacted` (the coach has talked to them).
pub async fn remove_client(
    db: &Db,
    id: i64,
    now: DateTime<Utc>,
) -> Result<RemoveClient, StoreError> {
    let tg = telegram_user::Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    if !tg.is_client {
        return Ok(RemoveClient::AlreadyRemoved);
    }
    with_status(tg, LeadStatus::Contacted, now)
        .update(db.conn())
        .await?;
    Ok(RemoveClient::Removed)
}

/// True when `tg` is not yet a lead nor a client: the write that makes them a lead (survey
/// answered, lead-magnet test saved) then also resets their status to `new`. Call it in that
/// write's transaction, before the write.
pub(crate) async fn will_be_new_lead(
    txn: &impl ConnectionTrait,
    tg: &telegram_user::Model,
) -> Result<bool, StoreError> {
    Ok(!tg.is_client && !is_lead(txn, tg).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coach_invite_codes_round_trip() {
        assert_eq!(coach_invite_code(42), "coach_42");
        assert_eq!(invited_by_coach(Some(&coach_invite_code(42))), Some(42));
        assert_eq!(invited_by_coach(Some("invite")), None);
        assert_eq!(invited_by_coach(Some("coach_x")), None);
        assert_eq!(invited_by_coach(Some("coach_-5")), None);
        assert_eq!(invited_by_coach(None), None);
    }

    #[test]
    fn lead_status_round_trips() {
        for s in LeadStatus::ALL {
            assert_eq!(s.as_str().parse::<LeadStatus>(), Ok(s));
        }
        assert!("archived".parse::<LeadStatus>().is_err());
    }

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn capitalises_unicode() {
        assert_eq!(capitalized("иван"), "Иван");
        assert_eq!(capitalized(""), "");
    }

    #[test]
    fn blank_search_is_no_filter() {
        assert!(search_condition("   ").is_none());
        assert!(search_condition("иван 42").is_some());
    }
}

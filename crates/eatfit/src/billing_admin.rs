//! `eatfit admin billing …`: operator commands over the billing service (grant PRO, downgrade,
//! list and edit plans, a user's payments, failed webhooks and their replay). Each acts at
//! once — no plan cache.

use clap::Subcommand;

use crate::app;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum BillingCommand {
    /// Give PRO to a user (extends an active PRO period, else starts now); the user is told.
    GrantPro {
        /// The user's Telegram id.
        telegram_id: i64,
        /// PRO_MONTHLY or PRO_YEARLY.
        #[arg(long, default_value = "PRO_MONTHLY")]
        plan: String,
    },
    /// Put a user on FREE now (auto-renew off; the saved card is kept).
    Downgrade { telegram_id: i64 },
    /// Every plan as stored (code, title, prices in roubles, period, limits, flags).
    Plans,
    /// Edit a plan (validated; prints it before and after). Takes effect at once for the plan
    /// list and new purchases; payments and subscriptions keep the price they were bought at.
    PlanSet {
        /// FREE, PRO_MONTHLY, PRO_YEARLY, TEST_LIVE.
        code: String,
        /// The display name.
        #[arg(long)]
        title: Option<String>,
        /// The description shown under the title.
        #[arg(long)]
        description: Option<String>,
        /// Roubles, e.g. `2990` or `2990.00`.
        #[arg(long)]
        price: Option<String>,
        /// The strike-through price, roubles (higher than the price).
        #[arg(long, conflicts_with = "no_old_price")]
        old_price: Option<String>,
        /// Remove the strike-through price.
        #[arg(long)]
        no_old_price: bool,
        /// On sale (`true`) or withdrawn (`false`); FREE stays active and one paid plan must
        /// stay on sale.
        #[arg(long)]
        active: Option<bool>,
        /// The paid period, days.
        #[arg(long)]
        duration_days: Option<i32>,
        /// AI photos a day.
        #[arg(long, conflicts_with = "unlimited_photos")]
        daily_photo_limit: Option<i32>,
        /// No daily photo limit.
        #[arg(long)]
        unlimited_photos: bool,
        /// How long the diary history is kept, days (-1 = forever).
        #[arg(long, allow_hyphen_values = true)]
        history_days: Option<i32>,
    },
    /// Change a plan's price (same as `plan-set CODE --price P [--old-price O]`; without
    /// `--old-price` the strike-through price is removed).
    PlanPrice {
        /// PRO_MONTHLY, PRO_YEARLY, TEST_LIVE.
        code: String,
        /// Roubles, e.g. `2990` or `2990.00`.
        price: String,
        /// The strike-through price shown next to it, roubles.
        #[arg(long)]
        old_price: Option<String>,
    },
    /// A user's payments, newest first.
    Payments {
        telegram_id: i64,
        #[arg(long, default_value_t = 20)]
        limit: u64,
    },
    /// YooKassa notifications: `--failed` lists the failed ones; `replay <id>` processes one again.
    Webhooks {
        /// Only failed events.
        #[arg(long)]
        failed: bool,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[command(subcommand)]
        command: Option<WebhooksCommand>,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Queue event `id` for processing again (it is re-fetched from YooKassa).
    Replay { id: i64 },
}

/// Runs one billing admin command.
pub async fn run(config: &Config, cmd: BillingCommand) -> anyhow::Result<()> {
    let db = app::open_db(config, false).await?;
    let billing = app::billing_service(config, &db, app::system_clock())?;
    match cmd {
        BillingCommand::GrantPro { telegram_id, plan } => {
            let code = billing::PlanCode::parse(&plan)
                .filter(|c| {
                    matches!(
                        c,
                        billing::PlanCode::ProMonthly | billing::PlanCode::ProYearly
                    )
                })
                .ok_or_else(|| {
                    anyhow::anyhow!("--plan must be PRO_MONTHLY or PRO_YEARLY (got `{plan}`)")
                })?;
            let g = billing::admin::grant_pro(&billing, telegram_id, code).await?;
            println!(
                "user {} (telegram {telegram_id}) has {} until {}",
                g.user_id,
                g.plan,
                g.end_date.to_rfc3339()
            );
        }
        BillingCommand::Downgrade { telegram_id } => {
            if billing::admin::downgrade(&billing, telegram_id).await? {
                println!("telegram {telegram_id} is on FREE now");
            } else {
                println!("telegram {telegram_id} has no subscription (already FREE)");
            }
        }
        BillingCommand::Plans => {
            for p in billing::plans::edit::all(billing.db().conn()).await? {
                println!("{}", plan_line(&p));
            }
        }
        BillingCommand::PlanSet {
            code,
            title,
            description,
            price,
            old_price,
            no_old_price,
            active,
            duration_days,
            daily_photo_limit,
            unlimited_photos,
            history_days,
        } => {
            let old_price = if no_old_price {
                Some(None)
            } else {
                old_price.as_deref().map(rub).transpose()?.map(Some)
            };
            let change = billing::plans::edit::PlanChange {
                display_name: title,
                description,
                price: price.as_deref().map(rub).transpose()?,
                old_price,
                is_active: active,
                duration_days,
                daily_photo_limit: if unlimited_photos {
                    Some(None)
                } else {
                    daily_photo_limit.map(Some)
                },
                history_days,
            };
            edit_plan(&billing, &code, &change).await?;
        }
        BillingCommand::PlanPrice {
            code,
            price,
            old_price,
        } => {
            let change = billing::plans::edit::PlanChange {
                price: Some(rub(&price)?),
                old_price: Some(old_price.as_deref().map(rub).transpose()?),
                ..Default::default()
            };
            edit_plan(&billing, &code, &change).await?;
        }
        BillingCommand::Payments { telegram_id, limit } => {
            let rows = billing::admin::payments_of(&billing, telegram_id, limit).await?;
            if rows.is_empty() {
                println!("no payments");
            }
            for p in rows {
                println!(
                    "{}  {:<12} {:<20} {:>10} {}  {}  provider {}  {}",
                    p.id,
                    p.purpose,
                    p.status,
                    billing::Kopecks(p.amount_kopecks).to_decimal(),
                    p.currency,
                    p.created_at.to_rfc3339(),
                    p.provider_payment_id.unwrap_or_else(|| "-".into()),
                    p.error_message.unwrap_or_default()
                );
            }
        }
        BillingCommand::Webhooks {
            command: Some(WebhooksCommand::Replay { id }),
            ..
        } => {
            if billing::webhooks::replay(&billing, id).await? {
                println!("webhook event {id} queued for processing");
            } else {
                anyhow::bail!("no webhook event {id}");
            }
        }
        BillingCommand::Webhooks {
            failed,
            limit,
            command: None,
        } => {
            let rows = if failed {
                billing::webhooks::failed(&billing, limit).await?
            } else {
                billing::webhooks::all(&billing, limit).await?
            };
            if rows.is_empty() {
                println!("no {}webhook events", if failed { "failed " } else { "" });
            }
            for e in rows {
                println!(
                    "{:>8}  {:<24} {:<10} {:<28} deliveries {} attempts {}  {}  {}  {}",
                    e.id,
                    e.event_type,
                    e.status,
                    e.verdict.unwrap_or_default(),
                    e.deliveries,
                    e.process_attempts,
                    e.object_id,
                    e.created_at.to_rfc3339(),
                    e.error_message
                        .unwrap_or_default()
                        .lines()
                        .next()
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

/// Roubles (`"2990"`, `"2990.50"`) to kopecks, digit by digit (never through a float).
fn rub(s: &str) -> anyhow::Result<billing::Kopecks> {
    Ok(billing::Kopecks::parse_decimal(s)?)
}

/// Validates and stores an edit, printing the plan before and after.
async fn edit_plan(
    billing: &billing::Billing,
    code: &str,
    change: &billing::plans::edit::PlanChange,
) -> anyhow::Result<()> {
    let plan = billing::PlanCode::parse(code).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown plan `{}` (FREE, PRO_MONTHLY, PRO_YEARLY, TEST_LIVE)",
            code.chars().take(50).collect::<String>()
        )
    })?;
    let edit = billing::plans::edit::update(billing, plan, change).await?;
    println!("before: {}", plan_line(&edit.before));
    println!("after:  {}", plan_line(&edit.after));
    Ok(())
}

/// One plan on one line: every stored field an operator edits or needs to see.
fn plan_line(p: &store::entities::plan::Model) -> String {
    let money = |k: i64| billing::Kopecks(k).to_decimal();
    format!(
        "{:<12} {:<28} price {:>10} RUB  old {:>10}  {:>4} days  photos/day {:<9} history {:<7} \
         active {:<5} test {:<5} public {:<5} sort {}  features {}",
        p.code,
        format!("\"{}\"", p.display_name),
        money(p.price_kopecks),
        p.old_price_kopecks.map_or_else(|| "-".to_string(), money),
        p.duration_days,
        p.daily_photo_limit
            .map_or_else(|| "unlimited".to_string(), |n| n.to_string()),
        if p.history_days < 0 {
            "forever".to_string()
        } else {
            format!("{}d", p.history_days)
        },
        p.is_active,
        p.is_test,
        p.is_public,
        p.sort_order,
        features(p),
    )
}

/// The feature switches of a plan (`ai,stats,support`; `-` for none).
fn features(p: &store::entities::plan::Model) -> String {
    let on: Vec<&str> = [
        (p.ai_recognition, "ai"),
        (p.advanced_stats, "stats"),
        (p.priority_support, "support"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if on.is_empty() {
        "-".into()
    } else {
        on.join(",")
    }
}

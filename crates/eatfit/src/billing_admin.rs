//! `eatfit admin billing …`: operator commands over the billing service (grant PRO, downgrade,
//! a user's payments, failed webhooks and their replay). Each acts at once — no plan cache.

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
    /// Change a plan's price (new purchases; renewals keep the price the user bought at).
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
        BillingCommand::PlanPrice {
            code,
            price,
            old_price,
        } => {
            let plan = billing::PlanCode::parse(&code)
                .filter(|c| *c != billing::PlanCode::Free)
                .ok_or_else(|| anyhow::anyhow!("unknown or FREE plan `{code}`"))?;
            let price = billing::Kopecks::parse_decimal(&price)?;
            let old = old_price
                .as_deref()
                .map(billing::Kopecks::parse_decimal)
                .transpose()?;
            if billing::plans::set_price(&billing, plan, price, old).await? {
                println!("{plan} now costs {price} RUB");
            } else {
                anyhow::bail!("plan {plan} not found");
            }
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

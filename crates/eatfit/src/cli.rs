//! The command line: one binary, roles as subcommands.

use clap::{Parser, Subcommand, ValueEnum};
use domain::secret_fp::Fingerprint;

use crate::app;
use crate::config::{Config, EX_CONFIG, ProcessEnv, Role, spec};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "eatfit",
    version,
    about = "EatFit24: a calorie and macro tracker that lives in Telegram."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Everything in one process: HTTP API, job workers, scheduler. On SQLite and in dev it
    /// migrates the database itself. With no configuration it runs in dev on ./data.
    Serve,
    /// The HTTP API only (run several behind a proxy; workers and scheduler separately).
    Api,
    /// Job workers only (queues ai, billing, notify, default).
    Worker,
    /// The periodic-job scheduler only; several may run, each slot still runs once.
    Scheduler,
    /// The AI proxy alone: holds the LLM key, recognises food photos for the backend
    /// (`POST /api/v1/ai/recognize-food`, `GET /v1/auth-check`). No database.
    AiProxy,
    /// The Telegram bot alone: long polling (one active poller across instances) or, with
    /// TELEGRAM_WEBHOOK_URL, registers the webhook the api serves.
    Bot,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Inspect the configuration without starting anything.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import data from another system into this database (which must be migrated).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Serve,
    Api,
    Worker,
    Scheduler,
    Migrate,
    Admin,
    AiProxy,
    Bot,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Serve => Role::Serve,
            RoleArg::Api => Role::Api,
            RoleArg::Worker => Role::Worker,
            RoleArg::Scheduler => Role::Scheduler,
            RoleArg::Migrate => Role::Migrate,
            RoleArg::Admin => Role::Admin,
            RoleArg::AiProxy => Role::AiProxy,
            RoleArg::Bot => Role::Bot,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the environment for a role; exit 78 listing every problem.
    Check {
        #[arg(long, value_enum, default_value = "serve")]
        role: RoleArg,
    },
    /// Print the generated `.env.example`.
    Example,
    /// Print the configuration reference (Markdown).
    Reference,
    /// Print each configured secret's fingerprint (sha256 prefix and length), never the secret.
    Fingerprint {
        #[arg(long, value_enum, default_value = "serve")]
        role: RoleArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import an original EatFit24 (Django) PostgreSQL database: users, Telegram users,
    /// profiles, goals, meals, items, photos (copied from `--media`), cancel events, surveys,
    /// plans, billing history and the daily photo usage.
    /// Idempotent and resumable; prints counts per table and every row not imported.
    Django {
        /// The original database, `postgres://user:password@host:5432/eatfit24`.
        #[arg(long = "from")]
        from: String,
        /// The original's media folder (its MEDIA_ROOT).
        #[arg(long)]
        media: std::path::PathBuf,
        /// Do everything in a transaction that is rolled back; copy no file.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// The job queue.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Billing: grant PRO, downgrade, payments, YooKassa webhooks.
    Billing {
        #[command(subcommand)]
        command: crate::billing_admin::BillingCommand,
    },
    /// Back up the database (SQLite: online snapshot; PostgreSQL: `pg_dump`) and the media
    /// folder into a new folder with a manifest of row counts and checksums.
    Backup {
        /// The folder to create (must be empty or missing).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Restore a backup folder into the configured database and media folder (stop every
    /// eatfit process first). Refuses to overwrite data unless `--force`.
    Restore {
        #[arg(long)]
        from: std::path::PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Retention: list the meals past their plan's history and the old failed photos that
    /// would be deleted; `--apply` deletes them (rows and files).
    Retention {
        #[arg(long)]
        apply: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusArg {
    Queued,
    Running,
    Done,
    Dead,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs (dead ones by default).
    List {
        #[arg(long, value_enum, default_value = "dead")]
        status: StatusArg,
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Put a dead job back in its queue with fresh attempts.
    Retry { id: i64 },
    /// Queue depth, oldest due age and dead jobs per queue.
    Stats,
}

fn load(role: Role) -> Result<Config, i32> {
    Config::load(role, &ProcessEnv).map_err(|e| {
        eprintln!("{e}");
        EX_CONFIG
    })
}

/// Runs the command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Serve => run_role(Role::Serve).await,
        Command::Api => run_role(Role::Api).await,
        Command::Worker => run_role(Role::Worker).await,
        Command::Scheduler => run_role(Role::Scheduler).await,
        Command::AiProxy => run_role(Role::AiProxy).await,
        Command::Bot => run_role(Role::Bot).await,
        Command::Migrate => {
            let config = match load(Role::Migrate) {
                Ok(c) => c,
                Err(code) => return code,
            };
            telemetry::init_logging(&config);
            migrate(&config).await
        }
        Command::Config { command } => config_command(command),
        Command::Admin { command } => admin(command).await,
        Command::Import { command } => import(command).await,
    }
}

async fn migrate(config: &Config) -> i32 {
    let db = match store::Db::connect(&config.database).await {
        Ok(db) => db,
        Err(e) => {
            eprintln!(
                "eatfit migrate: cannot connect to {}: {e}",
                config.database.redacted()
            );
            return 1;
        }
    };
    let pending = db.pending_migrations().await.unwrap_or_default();
    match db.migrate().await {
        Ok(()) => {
            println!(
                "eatfit migrate: {} migration(s) applied on {}",
                pending.len(),
                config.database.redacted()
            );
            0
        }
        Err(e) => {
            eprintln!("eatfit migrate: failed: {e}");
            1
        }
    }
}

async fn run_role(role: Role) -> i32 {
    let config = match load(role) {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init_logging(&config);
    // Install the metrics recorder before anything records (build info, fingerprints).
    let _ = telemetry::metrics_handle();
    app::boot_summary(&config);
    match app::start(&config, app::system_clock()).await {
        Ok(running) => {
            running.wait().await;
            0
        }
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "eatfit {} failed to start",
                role.as_str()
            );
            eprintln!("eatfit {}: failed to start: {e:#}", role.as_str());
            1
        }
    }
}

fn config_command(cmd: ConfigCommand) -> i32 {
    match cmd {
        ConfigCommand::Check { role } => match load(role.into()) {
            Ok(c) => {
                let nc = c.not_configured();
                println!(
                    "configuration OK for `{}` (APP_ENV={}){}",
                    c.role.as_str(),
                    c.app_env.as_str(),
                    if nc.is_empty() {
                        String::new()
                    } else {
                        format!("; not configured: {}", nc.join(", "))
                    }
                );
                0
            }
            Err(code) => code,
        },
        ConfigCommand::Example => {
            print!("{}", spec::env_example());
            0
        }
        ConfigCommand::Reference => {
            print!("{}", spec::reference_markdown());
            0
        }
        ConfigCommand::Fingerprint { role } => match load(role.into()) {
            Ok(c) => {
                let secrets = c.secrets();
                if secrets.is_empty() {
                    println!("no secrets configured");
                }
                for (name, v) in secrets {
                    println!("{name:<36} {}", Fingerprint::of(&v));
                }
                0
            }
            Err(code) => code,
        },
    }
}

async fn admin(cmd: AdminCommand) -> i32 {
    let config = match load(Role::Admin) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = match cmd {
        AdminCommand::Jobs { command } => match command {
            JobsCommand::List { status, limit } => {
                let status = match status {
                    StatusArg::Queued => jobs::JobStatus::Queued,
                    StatusArg::Running => jobs::JobStatus::Running,
                    StatusArg::Done => jobs::JobStatus::Done,
                    StatusArg::Dead => jobs::JobStatus::Dead,
                };
                app::admin_jobs_list(&config, status, limit).await
            }
            JobsCommand::Retry { id } => admin_retry(&config, id).await,
            JobsCommand::Stats => admin_stats(&config).await,
        },
        AdminCommand::Billing { command } => crate::billing_admin::run(&config, command).await,
        AdminCommand::Backup { out } => admin_backup(&config, &out).await,
        AdminCommand::Restore { from, force } => admin_restore(&config, &from, force).await,
        AdminCommand::Retention { apply } => admin_retention(&config, apply).await,
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("eatfit admin: {e:#}");
            1
        }
    }
}

async fn admin_retry(config: &Config, id: i64) -> anyhow::Result<()> {
    let db = app::open_db(config, false).await?;
    if jobs::admin::retry(&db, id, chrono::Utc::now()).await? {
        println!("job {id} queued again");
        Ok(())
    } else {
        anyhow::bail!("job {id} is not dead (or does not exist); only dead jobs can be retried")
    }
}

async fn admin_stats(config: &Config) -> anyhow::Result<()> {
    let db = app::open_db(config, false).await?;
    for s in jobs::admin::queue_stats(&db, chrono::Utc::now()).await? {
        println!(
            "{:<8} depth {:>6}  oldest due {:>6} s  dead {:>4}",
            s.queue.as_str(),
            s.depth,
            s.oldest_age_secs,
            s.dead
        );
    }
    Ok(())
}

async fn admin_backup(config: &Config, out: &std::path::Path) -> anyhow::Result<()> {
    let db = app::open_db(config, false).await?;
    let summary = crate::ops::backup::backup(
        &db,
        &config.database,
        &config.media_dir,
        out,
        chrono::Utc::now(),
    )
    .await;
    db.close().await;
    for line in summary?.lines() {
        println!("{line}");
    }
    Ok(())
}

async fn admin_restore(config: &Config, from: &std::path::Path, force: bool) -> anyhow::Result<()> {
    let summary =
        crate::ops::backup::restore(&config.database, &config.media_dir, from, force).await?;
    println!("restored and verified:");
    for line in summary.lines() {
        println!("{line}");
    }
    Ok(())
}

async fn import(cmd: ImportCommand) -> i32 {
    let config = match load(Role::Admin) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let ImportCommand::Django {
        from,
        media,
        dry_run,
    } = cmd;
    match import_django(&config, &from, media, dry_run).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("eatfit import: {e:#}");
            1
        }
    }
}

async fn import_django(
    config: &Config,
    from: &str,
    media: std::path::PathBuf,
    dry_run: bool,
) -> anyhow::Result<()> {
    let source_url = store::DbUrl::parse(from).map_err(|e| anyhow::anyhow!("--from {e}"))?;
    if source_url.backend() != store::Backend::Postgres {
        anyhow::bail!("--from must be the original's PostgreSQL database (postgres://…)");
    }
    if !media.is_dir() {
        anyhow::bail!("--media {} is not a folder", media.display());
    }
    let source = store::Db::connect(&source_url)
        .await
        .map_err(|e| anyhow::anyhow!("connecting to {}: {e}", source_url.redacted()))?;
    let target = app::open_db(config, false).await?;
    let opts = crate::ops::import::Options {
        source_media: media,
        target_media: config.media_dir.clone(),
        dry_run,
    };
    let report = crate::ops::import::run(&source, &target, &opts, chrono::Utc::now()).await;
    source.close().await;
    target.close().await;
    for line in report?.lines() {
        println!("{line}");
    }
    Ok(())
}

async fn admin_retention(config: &Config, apply: bool) -> anyhow::Result<()> {
    use crate::ops::retention;
    let db = app::open_db(config, false).await?;
    let now = chrono::Utc::now();
    let settings = retention::Settings::default();
    let report = if apply {
        let media = media::MediaStore::local(&config.media_dir)?;
        retention::apply(&db, &media, now, &settings).await
    } else {
        retention::find(&db, now, &settings).await
    };
    db.close().await;
    for line in report?.lines() {
        println!("{line}");
    }
    Ok(())
}

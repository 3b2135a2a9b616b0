//! Database access for EatFit24: one set of entities and migrations (SeaORM 2), on SQLite by
//! default and on PostgreSQL in production. Repositories speak in domain terms; callers never
//! see SQL.

#![forbid(unsafe_code)]

pub mod alerts;
pub mod billing;
pub mod bot;
pub mod coach;
pub mod diary;
pub mod entities;
mod error;
pub mod goals;
pub mod meals;
pub mod migrations;
pub mod profiles;
pub mod rate_limits;
pub mod reminders;
pub mod testing;
pub mod users;
pub mod weights;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

pub use error::StoreError;
pub use sea_orm;

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A parsed database location.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    url: String,
    backend: Backend,
    /// The pool's size when set (`DATABASE_MAX_CONNECTIONS`); see [`DbUrl::pool_size`].
    max_connections: Option<u32>,
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbUrl")
            .field("url", &self.redacted())
            .field("backend", &self.backend)
            .finish()
    }
}

/// Why a database URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DbUrlError {
    #[error("must start with sqlite:// or postgres:// (got `{0}`)")]
    UnknownScheme(String),
    #[error("is not a valid URL: {0}")]
    Invalid(String),
}

impl DbUrl {
    /// Parses `sqlite://path`, `sqlite::memory:` or `postgres://…` (also `postgresql://`).
    pub fn parse(raw: &str) -> Result<Self, DbUrlError> {
        let raw = raw.trim();
        if raw.starts_with("sqlite:") {
            return Ok(Self {
                url: raw.to_string(),
                backend: Backend::Sqlite,
                max_connections: None,
            });
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            url::Url::parse(raw).map_err(|e| DbUrlError::Invalid(e.to_string()))?;
            return Ok(Self {
                url: raw.to_string(),
                backend: Backend::Postgres,
                max_connections: None,
            });
        }
        let scheme = raw.split(':').next().unwrap_or_default().to_string();
        Err(DbUrlError::UnknownScheme(scheme))
    }

    /// The embedded default: `sqlite://data/eatfit.db`.
    pub fn default_sqlite() -> Self {
        Self {
            url: "sqlite://data/eatfit.db".to_string(),
            backend: Backend::Sqlite,
            max_connections: None,
        }
    }

    /// The same location with an explicit pool size (`None`: the default of [`DbUrl::pool_size`]).
    #[must_use]
    pub fn with_max_connections(mut self, n: Option<u32>) -> Self {
        self.max_connections = n.filter(|n| *n > 0);
        self
    }

    /// Connections in the pool: the configured number, else 8 on SQLite (reads run in parallel
    /// under WAL; writes serialise anyway) and `max(4, 2 × CPU cores)` on PostgreSQL. More server
    /// processes than the cores can run only add context switches: on the 2-core bench machine
    /// the diary went from about 5 000 requests/s with 16 connections to about 6 500 with 4.
    pub fn pool_size(&self) -> u32 {
        self.pool_size_for(
            std::thread::available_parallelism()
                .map(std::num::NonZeroUsize::get)
                .unwrap_or(1),
        )
    }

    fn pool_size_for(&self, cores: usize) -> u32 {
        if let Some(n) = self.max_connections {
            return n;
        }
        match self.backend {
            Backend::Sqlite => 8,
            Backend::Postgres => u32::try_from(cores.saturating_mul(2))
                .unwrap_or(u32::MAX)
                .max(4),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL itself (it may hold a password: never log it, log [`DbUrl::redacted`]).
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced, for logs.
    pub fn redacted(&self) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.url.clone(),
        }
    }

    /// For a file-backed SQLite URL, the file path.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self
            .url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:");
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with(":memory:") {
            None
        } else {
            Some(PathBuf::from(path))
        }
    }
}

/// A connection pool plus what the rest of the code needs to know about it.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    backend: Backend,
    statements: Arc<AtomicU64>,
}

impl Db {
    /// Connects (creating the SQLite file and its folder if needed). Does not migrate.
    pub async fn connect(url: &DbUrl) -> Result<Self, StoreError> {
        if let Some(path) = url.sqlite_path()
            && let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Unavailable(format!(
                    "cannot create the database folder {}: {e}",
                    parent.display()
                ))
            })?;
        }
        let mut opts = ConnectOptions::new(url.expose().to_string());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(10));
        match url.backend() {
            Backend::Sqlite => {
                opts.max_connections(url.pool_size())
                    .min_connections(1)
                    .map_sqlx_sqlite_opts(|o| {
                        o.create_if_missing(true)
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal)
                            .busy_timeout(Duration::from_secs(10))
                            .foreign_keys(true)
                    });
            }
            Backend::Postgres => {
                opts.max_connections(url.pool_size()).min_connections(1);
            }
        }
        let mut conn = Database::connect(opts)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        conn.set_metric_callback(move |info| {
            counter.fetch_add(1, Ordering::Relaxed);
            metrics::histogram!("eatfit_db_statement_duration_seconds")
                .record(info.elapsed.as_secs_f64());
            if info.failed {
                metrics::counter!("eatfit_db_statement_errors_total").increment(1);
            }
        });
        Ok(Self {
            conn,
            backend: url.backend(),
            statements,
        })
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A raw statement for this database's dialect (`$n` placeholders work on both).
    pub fn statement(&self, sql: &str, values: Vec<sea_orm::Value>) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.db_backend(), sql, values)
    }

    pub fn db_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// How many statements this pool has run; tests use it to pin round trips per screen.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::Migrator::up(&self.conn, None).await?;
        Ok(())
    }

    /// Names of migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let pending = migrations::Migrator::get_pending_migrations(&self.conn).await?;
        Ok(pending.iter().map(|m| m.name().to_string()).collect())
    }

    /// A cheap query proving the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// Closes the pool, waiting for connections to return.
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> DbUrl {
        DbUrl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn pool_size_follows_the_backend_and_the_cores_unless_configured() {
        let pg = url("postgres://u@127.0.0.1:5432/eatfit");
        assert_eq!(pg.pool_size_for(1), 4);
        assert_eq!(pg.pool_size_for(2), 4);
        assert_eq!(pg.pool_size_for(8), 16);
        assert_eq!(url("sqlite://data/x.db").pool_size_for(2), 8);
        assert_eq!(url("sqlite://data/x.db").pool_size_for(32), 8);
        let set = pg.clone().with_max_connections(Some(10));
        assert_eq!(set.pool_size_for(2), 10);
        // Zero is not a pool: the default applies.
        assert_eq!(pg.with_max_connections(Some(0)).pool_size_for(2), 4);
    }
}

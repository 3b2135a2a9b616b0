//! Throw-away databases for tests: a fresh SQLite file, or (when `EATFIT_TEST_DATABASE_URL` is
//! set) a fresh PostgreSQL database created on that server and dropped afterwards.

use crate::{Backend, Db, DbUrl, StoreError};
use sea_orm::ConnectionTrait;

/// The environment variable that turns PostgreSQL tests on.
pub const PG_ENV: &str = "EATFIT_TEST_DATABASE_URL";

/// A migrated database that lives as long as this value.
pub struct TestDb {
    pub db: Db,
    pub url: DbUrl,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// A migrated SQLite database in a new temporary folder.
    pub async fn sqlite() -> Result<Self, StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let path = dir.path().join("test.db");
        let url = DbUrl::parse(&format!("sqlite://{}", path.display()))
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(Self {
            db,
            url,
            _dir: Some(dir),
            pg_admin: None,
        })
    }

    /// A migrated, freshly created PostgreSQL database, if `EATFIT_TEST_DATABASE_URL` is set.
    pub async fn postgres() -> Result<Option<Self>, StoreError> {
        let Ok(base) = std::env::var(PG_ENV) else {
            return Ok(None);
        };
        let base_url =
            DbUrl::parse(&base).map_err(|e| StoreError::Unavailable(format!("{PG_ENV}: {e}")))?;
        let name = format!("eatfit_t_{}", uuid::Uuid::new_v4().simple());
        let admin = Db::connect(&base_url).await?;
        admin
            .conn()
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await?;
        admin.close().await;
        let mut parsed =
            url::Url::parse(&base).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        parsed.set_path(&format!("/{name}"));
        let url =
            DbUrl::parse(parsed.as_str()).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let db = Db::connect(&url).await?;
        db.migrate().await?;
        Ok(Some(Self {
            db,
            url,
            _dir: None,
            pg_admin: Some((base, name)),
        }))
    }

    /// Every backend available here: SQLite always, PostgreSQL when configured.
    pub async fn all() -> Result<Vec<Self>, StoreError> {
        let mut out = vec![Self::sqlite().await?];
        if let Some(pg) = Self::postgres().await? {
            out.push(pg);
        }
        Ok(out)
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    /// Drops the PostgreSQL database (SQLite files go with the temporary folder).
    pub async fn cleanup(self) {
        let TestDb { db, pg_admin, .. } = self;
        db.close().await;
        if let Some((base, name)) = pg_admin
            && let Ok(url) = DbUrl::parse(&base)
            && let Ok(admin) = Db::connect(&url).await
        {
            let _ = admin
                .conn()
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            admin.close().await;
        }
    }
}

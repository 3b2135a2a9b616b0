//! `eatfit import django --from postgres://… --media DIR [--dry-run]`: moves an original
//! EatFit24 (Django) database into ours, table by table, in dependency order.
//!
//! * **Idempotent and resumable**: every imported source row is recorded in `import_map`
//!   (source table, source id → our id) in the same transaction as the row itself, in chunks;
//!   a second run skips what is mapped, an interrupted run continues where it stopped.
//! * **Honest**: it prints per table how many rows it saw, imported, found already imported and
//!   skipped, and every skipped row with the reason. Skips are re-evaluated on each run (fix the
//!   source row and run again).
//! * **Fixes** what the original got wrong: a second active goal of a user is imported inactive;
//!   a FAILED/PROCESSING meal becomes COMPLETE when it has items (DRAFT otherwise, so its photo
//!   can be retried); a photo left PENDING/PROCESSING becomes FAILED with `AI_TIMEOUT`; a user
//!   who already exists here (same username or Telegram id) is merged, not duplicated.
//! * **Photos and avatars** are copied from the original media folder to ours under generated,
//!   deterministic names (`photos/imported-<id>.<ext>`), so a re-run overwrites, never orphans.
//! * `--dry-run` runs everything in one transaction that is rolled back, and copies no file.

mod billing;
mod core;
mod usage;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, QueryResult, Statement, TransactionTrait, Value,
};
use store::{Db, StoreError, sea_orm};

/// Rows per transaction in a real run.
const CHUNK: usize = 500;

/// Why an import failed as a whole (row problems are skips, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("the source database: {0}")]
    Source(String),
    #[error("media: {0}")]
    Media(String),
}

/// What to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The original's media folder (`MEDIA_ROOT`).
    pub source_media: PathBuf,
    /// Our local media folder (`EATFIT_MEDIA_DIR`).
    pub target_media: PathBuf,
    pub dry_run: bool,
}

/// Per-table counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub seen: u64,
    pub imported: u64,
    pub already: u64,
    pub merged: u64,
    pub skipped: u64,
}

/// A source row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub table: &'static str,
    pub source_id: String,
    pub reason: String,
}

/// The outcome of a run.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub tables: Vec<(&'static str, Counts)>,
    pub skips: Vec<Skip>,
    pub fixes: Vec<String>,
    pub dry_run: bool,
}

impl Report {
    /// Lines for the operator.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "{:<34} {:>8} {:>8} {:>8} {:>8} {:>8}{}",
            "source table",
            "seen",
            "imported",
            "already",
            "merged",
            "skipped",
            if self.dry_run {
                "   (dry run: nothing written)"
            } else {
                ""
            }
        )];
        for (t, c) in &self.tables {
            out.push(format!(
                "{t:<34} {:>8} {:>8} {:>8} {:>8} {:>8}",
                c.seen, c.imported, c.already, c.merged, c.skipped
            ));
        }
        if !self.fixes.is_empty() {
            out.push(format!("fixed on the way ({}):", self.fixes.len()));
            out.extend(self.fixes.iter().map(|f| format!("  {f}")));
        }
        if !self.skips.is_empty() {
            out.push(format!("not imported ({}):", self.skips.len()));
            out.extend(
                self.skips
                    .iter()
                    .map(|s| format!("  {} #{}: {}", s.table, s.source_id, s.reason)),
            );
        }
        out
    }

    pub fn counts(&self, table: &str) -> Counts {
        self.tables
            .iter()
            .find(|(t, _)| *t == table)
            .map(|(_, c)| *c)
            .unwrap_or_default()
    }
}

/// The state one run carries from table to table.
pub(crate) struct Run<'a> {
    pub source: &'a Db,
    pub target: &'a Db,
    pub opts: &'a Options,
    pub now: DateTime<Utc>,
    /// (source table, source id) → our id, for everything imported so far (any run).
    map: HashMap<(String, String), Option<i64>>,
    pub report: Report,
    /// The open transaction (a dry run keeps one for the whole run).
    txn: Option<DatabaseTransaction>,
    in_chunk: usize,
}

impl<'a> Run<'a> {
    /// The current transaction, opened on demand.
    pub async fn txn(&mut self) -> Result<&DatabaseTransaction, ImportError> {
        if self.txn.is_none() {
            self.txn = Some(self.target.conn().begin().await?);
        }
        self.txn
            .as_ref()
            .ok_or_else(|| ImportError::Source("no transaction".into()))
    }

    /// Counts a written row; commits every [`CHUNK`] rows in a real run.
    pub async fn wrote(&mut self) -> Result<(), ImportError> {
        self.in_chunk += 1;
        if !self.opts.dry_run && self.in_chunk >= CHUNK {
            self.commit().await?;
        }
        Ok(())
    }

    async fn commit(&mut self) -> Result<(), ImportError> {
        if let Some(t) = self.txn.take() {
            t.commit().await?;
        }
        self.in_chunk = 0;
        Ok(())
    }

    /// Our id of an imported source row (rows kept under their own id map to `None`).
    pub fn mapped(&self, table: &str, id: &str) -> Option<i64> {
        self.map
            .get(&(table.to_string(), id.to_string()))
            .copied()
            .flatten()
    }

    /// Whether a source row was imported (by any run).
    pub fn seen(&self, table: &str, id: &str) -> bool {
        self.map.contains_key(&(table.to_string(), id.to_string()))
    }

    /// Records `source` → `target_id` in `import_map` (same transaction as the row).
    pub async fn record(
        &mut self,
        table: &'static str,
        id: &str,
        target_table: &str,
        target_id: impl Into<Option<i64>>,
    ) -> Result<(), ImportError> {
        let target_id: Option<i64> = target_id.into();
        let now = self.now;
        let txn = self.txn().await?;
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO import_map (source_table, source_id, target_table, target_id, status, imported_at) \
             VALUES ($1, $2, $3, $4, 'imported', $5)",
            vec![
                table.into(),
                id.into(),
                target_table.into(),
                target_id.into(),
                now.into(),
            ],
        ))
        .await?;
        self.map
            .insert((table.to_string(), id.to_string()), target_id);
        self.wrote().await
    }

    /// Runs `sql` with `values` in the current transaction and returns the `id` it returned.
    pub async fn insert_returning(
        &mut self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<i64, ImportError> {
        let txn = self.txn().await?;
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                sql,
                values,
            ))
            .await?
            .ok_or_else(|| ImportError::Source("an insert returned no id".into()))?;
        Ok(row.try_get("", "id")?)
    }

    /// A single-row, single-column lookup in the target (inside the transaction).
    pub async fn target_id(
        &mut self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Option<i64>, ImportError> {
        let txn = self.txn().await?;
        let row = txn
            .query_one_raw(Statement::from_sql_and_values(
                txn.get_database_backend(),
                sql,
                values,
            ))
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get("", "id")?),
            None => None,
        })
    }

    pub fn skip(&mut self, table: &'static str, id: &str, reason: impl Into<String>) {
        self.report.skips.push(Skip {
            table,
            source_id: id.to_string(),
            reason: reason.into(),
        });
    }

    pub fn fix(&mut self, what: String) {
        self.report.fixes.push(what);
    }

    /// Every row of a source query.
    pub async fn source_rows(&self, sql: &str) -> Result<Vec<QueryResult>, ImportError> {
        self.source
            .conn()
            .query_all_raw(Statement::from_string(self.source.db_backend(), sql))
            .await
            .map_err(|e| ImportError::Source(e.to_string()))
    }

    /// Copies `rel` from the original media folder to `key` in ours (nothing in a dry run).
    /// Returns false when the source file does not exist.
    pub fn copy_media(&self, rel: &str, key: &str) -> Result<bool, ImportError> {
        let rel = rel.trim_start_matches('/');
        if rel.split('/').any(|s| s == "..") {
            return Ok(false);
        }
        let from = self.opts.source_media.join(rel);
        if !from.is_file() {
            return Ok(false);
        }
        if self.opts.dry_run {
            return Ok(true);
        }
        let to = self.opts.target_media.join(key);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| ImportError::Media(format!("{}: {e}", dir.display())))?;
        }
        std::fs::copy(&from, &to).map_err(|e| {
            ImportError::Media(format!("{} → {}: {e}", from.display(), to.display()))
        })?;
        Ok(true)
    }
}

/// A stored-file key for an imported file: `<prefix>/imported-<id>.<ext>` (the extension from
/// the original name, if it is a plain one).
pub(crate) fn media_key(prefix: &str, id: &str, original: &str) -> String {
    let ext = Path::new(original)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|e| matches!(e.as_str(), "jpg" | "jpeg" | "png" | "webp" | "heic" | "gif"))
        .unwrap_or_else(|| "jpg".into());
    format!("{prefix}/imported-{id}.{ext}")
}

/// Imports everything; returns the report. The target must be migrated.
pub async fn run(
    source: &Db,
    target: &Db,
    opts: &Options,
    now: DateTime<Utc>,
) -> Result<Report, ImportError> {
    // Everything imported by earlier runs.
    let rows = target
        .conn()
        .query_all_raw(Statement::from_string(
            target.db_backend(),
            "SELECT source_table, source_id, target_id FROM import_map",
        ))
        .await?;
    let mut map = HashMap::with_capacity(rows.len());
    for r in rows {
        let t: String = r.try_get("", "source_table")?;
        let id: String = r.try_get("", "source_id")?;
        let target_id: Option<i64> = r.try_get("", "target_id")?;
        map.insert((t, id), target_id);
    }
    let mut run = Run {
        source,
        target,
        opts,
        now,
        map,
        report: Report {
            dry_run: opts.dry_run,
            ..Report::default()
        },
        txn: None,
        in_chunk: 0,
    };
    core::import_all(&mut run).await?;
    if opts.dry_run {
        if let Some(t) = run.txn.take() {
            t.rollback().await?;
        }
    } else {
        run.commit().await?;
    }
    Ok(run.report)
}

//! `eatfit admin backup --out DIR` and `eatfit admin restore --from DIR`.
//!
//! A backup folder holds the database (SQLite: a consistent copy made by `VACUUM INTO` while
//! the service runs; PostgreSQL: a `pg_dump` custom-format archive), a copy of the media folder
//! and `manifest.json` with row counts per table and a SHA-256 of every file. Restore checks the
//! checksums first, refuses to overwrite a database or media folder that holds data (unless
//! `--force`), and verifies the restored row counts against the manifest.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use store::{Backend, Db, DbUrl, sea_orm};

/// The manifest format version.
pub const MANIFEST_VERSION: u32 = 1;
/// The file name of the manifest inside a backup folder.
pub const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "eatfit.db";
const PG_FILE: &str = "eatfit.pgdump";
const MEDIA_DIR: &str = "media";

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{0}` was not found on PATH; install the PostgreSQL client tools (Debian: postgresql-client) of the server's major version"
    )]
    ToolMissing(&'static str),
    #[error("`{tool}` failed ({status}): {stderr}")]
    ToolFailed {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error("the manifest {path} is unreadable: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("checksum mismatch for {0}: the backup is damaged or was modified")]
    Checksum(String),
    #[error("restored row counts differ from the manifest: {0}")]
    CountMismatch(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One file in the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the backup folder, `/`-separated.
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub eatfit_version: String,
    pub created_at: DateTime<Utc>,
    pub backend: String,
    /// The database file inside the folder (`eatfit.db` or `eatfit.pgdump`).
    pub database_file: String,
    /// Row counts per table at the time of the backup.
    pub tables: BTreeMap<String, i64>,
    pub media_files: u64,
    pub media_bytes: u64,
    /// Every file of the backup except the manifest, with its checksum.
    pub files: Vec<FileEntry>,
}

/// What a finished backup or restore reports.
#[derive(Debug, Clone)]
pub struct Summary {
    pub manifest: Manifest,
    pub folder: PathBuf,
}

impl Summary {
    /// Lines for the operator.
    pub fn lines(&self) -> Vec<String> {
        let m = &self.manifest;
        let mut out = vec![format!(
            "{} backup of {} tables, {} rows; {} media file(s), {} bytes; folder {}",
            m.backend,
            m.tables.len(),
            m.tables.values().sum::<i64>(),
            m.media_files,
            m.media_bytes,
            self.folder.display()
        )];
        for (t, n) in &m.tables {
            out.push(format!("  {t:<32} {n:>10}"));
        }
        out
    }
}

/// Every application table (migrations bookkeeping included), sorted.
pub async fn table_names<C: ConnectionTrait>(conn: &C) -> Result<Vec<String>, BackupError> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
        _ => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
    };
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut names = Vec::with_capacity(rows.len());
    for r in rows {
        names.push(r.try_get::<String>("", "t")?);
    }
    Ok(names)
}

/// Row counts of every table.
pub async fn table_counts<C: ConnectionTrait>(
    conn: &C,
) -> Result<BTreeMap<String, i64>, BackupError> {
    let mut out = BTreeMap::new();
    for t in table_names(conn).await? {
        // Names come from the catalogue; quote them anyway.
        let sql = format!("SELECT COUNT(*) AS n FROM \"{}\"", t.replace('"', "\"\""));
        let row = conn
            .query_one_raw(Statement::from_string(conn.get_database_backend(), sql))
            .await?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n")?,
            None => 0,
        };
        out.insert(t, n);
    }
    Ok(out)
}

/// Row counts of an SQLite file (the snapshot just written), opened on its own.
async fn sqlite_file_counts(path: &Path) -> Result<BTreeMap<String, i64>, BackupError> {
    let url = DbUrl::parse(&format!("sqlite://{}", path.display()))
        .map_err(|e| BackupError::Refused(e.to_string()))?;
    let db = Db::connect(&url).await?;
    let counts = table_counts(db.conn()).await;
    db.close().await;
    for suffix in ["-wal", "-shm"] {
        let mut p = path.to_path_buf().into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    counts
}

/// `pg_dump` of the exact snapshot the counts were taken in: a REPEATABLE READ transaction
/// exports its snapshot and stays open while the dump runs (`--snapshot`), so the manifest's
/// counts match the archive even while the service keeps writing.
async fn pg_dump_consistent(
    db: &Db,
    url: &DbUrl,
    target: &Path,
) -> Result<BTreeMap<String, i64>, BackupError> {
    use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
    let txn = db
        .conn()
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    let snapshot: String = match txn
        .query_one_raw(Statement::from_string(
            db.db_backend(),
            "SELECT pg_export_snapshot() AS s",
        ))
        .await?
    {
        Some(r) => r.try_get("", "s")?,
        None => {
            return Err(BackupError::Refused(
                "no snapshot id from PostgreSQL".into(),
            ));
        }
    };
    let counts = table_counts(&txn).await?;
    let (url_no_pw, pw) = pg_url_parts(url);
    let args = vec![
        "--format=custom".to_string(),
        "--no-owner".into(),
        "--no-privileges".into(),
        format!("--snapshot={snapshot}"),
        format!("--file={}", target.display()),
        format!("--dbname={url_no_pw}"),
    ];
    let dumped = tokio::task::spawn_blocking(move || run_tool("pg_dump", &args, pw.as_deref()))
        .await
        .map_err(|e| BackupError::ToolFailed {
            tool: "pg_dump",
            status: "panicked".into(),
            stderr: e.to_string(),
        })?;
    txn.commit().await?;
    dumped?;
    Ok(counts)
}

fn sha256_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    Ok((total, hex::encode(h.finalize())))
}

/// Copies every regular file under `src` to `dst` (created), returning their relative paths.
fn copy_tree(src: &Path, dst: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut copied = Vec::new();
    if !src.exists() {
        return Ok(copied);
    }
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let from = src.join(&rel);
        std::fs::create_dir_all(dst.join(&rel)).map_err(io(&dst.join(&rel)))?;
        let mut entries: Vec<_> = std::fs::read_dir(&from)
            .map_err(io(&from))?
            .collect::<Result<_, _>>()
            .map_err(io(&from))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let ty = e.file_type().map_err(io(&e.path()))?;
            let r = rel.join(&name);
            if ty.is_dir() {
                stack.push(r);
            } else if ty.is_file() {
                let to = dst.join(&r);
                std::fs::copy(e.path(), &to).map_err(io(&to))?;
                copied.push(r);
            }
        }
    }
    copied.sort();
    Ok(copied)
}

fn rel_str(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn dir_is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true)
}

/// Splits a PostgreSQL URL into (URL without password, password) so that the password goes
/// to the tool through `PGPASSWORD`, never on a command line that `ps` shows.
fn pg_url_parts(url: &DbUrl) -> (String, Option<String>) {
    match url::Url::parse(url.expose()) {
        Ok(mut u) => {
            let pw = u.password().map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            });
            let _ = u.set_password(None);
            (u.to_string(), pw)
        }
        Err(_) => (url.expose().to_string(), None),
    }
}

fn run_tool(
    tool: &'static str,
    args: &[String],
    password: Option<&str>,
) -> Result<(), BackupError> {
    let mut cmd = Command::new(tool);
    cmd.args(args);
    if let Some(pw) = password {
        cmd.env("PGPASSWORD", pw);
    }
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            BackupError::ToolMissing(tool)
        } else {
            BackupError::ToolFailed {
                tool,
                status: "not started".into(),
                stderr: e.to_string(),
            }
        }
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(BackupError::ToolFailed {
        tool,
        status: out.status.to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// Makes a backup of `db` and the media folder into `out` (created; must be empty).
pub async fn backup(
    db: &Db,
    url: &DbUrl,
    media_dir: &Path,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<Summary, BackupError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    if !dir_is_empty(out) {
        return Err(BackupError::Refused(format!(
            "{} is not empty; back up into a new folder (e.g. one named by date)",
            out.display()
        )));
    }
    let started = std::time::Instant::now();
    let (database_file, tables) = match db.backend() {
        Backend::Sqlite => {
            let target = out.join(SQLITE_FILE);
            let quoted = target.to_string_lossy().replace('\'', "''");
            // A consistent snapshot while other connections keep writing (WAL).
            db.conn()
                .execute_unprepared(&format!("VACUUM INTO '{quoted}'"))
                .await?;
            (SQLITE_FILE, sqlite_file_counts(&target).await?)
        }
        Backend::Postgres => {
            let target = out.join(PG_FILE);
            (PG_FILE, pg_dump_consistent(db, url, &target).await?)
        }
    };
    let media = copy_tree(media_dir, &out.join(MEDIA_DIR))?;
    let mut files = Vec::with_capacity(media.len() + 1);
    let (bytes, sha) = sha256_file(&out.join(database_file))?;
    files.push(FileEntry {
        path: database_file.to_string(),
        bytes,
        sha256: sha,
    });
    let (mut media_bytes, media_files) = (0u64, media.len() as u64);
    for rel in &media {
        let p = Path::new(MEDIA_DIR).join(rel);
        let (bytes, sha256) = sha256_file(&out.join(&p))?;
        media_bytes += bytes;
        files.push(FileEntry {
            path: rel_str(&p),
            bytes,
            sha256,
        });
    }
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        eatfit_version: crate::app::VERSION.to_string(),
        created_at: now,
        backend: db.backend().as_str().to_string(),
        database_file: database_file.to_string(),
        tables,
        media_files,
        media_bytes,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Manifest {
        path: out.join(MANIFEST),
        reason: e.to_string(),
    })?;
    std::fs::write(out.join(MANIFEST), json).map_err(io(&out.join(MANIFEST)))?;
    record_success(db, &manifest, out, now).await?;
    tracing::info!(
        folder = %out.display(),
        backend = db.backend().as_str(),
        rows = manifest.tables.values().sum::<i64>(),
        media_files,
        media_bytes,
        duration_ms = started.elapsed().as_millis() as u64,
        "backup finished"
    );
    Ok(Summary {
        manifest,
        folder: out.to_path_buf(),
    })
}

/// Records a successful backup (the metric and the BackupStale alert read it) and sets the
/// gauge in this process.
async fn record_success(
    db: &Db,
    m: &Manifest,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<(), BackupError> {
    let location = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    db.conn()
        .execute_raw(Statement::from_sql_and_values(
            db.db_backend(),
            "INSERT INTO backup_runs (started_at, finished_at, backend, location, rows_total, \
             media_files, media_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                m.created_at.into(),
                now.into(),
                m.backend.clone().into(),
                location.to_string_lossy().into_owned().into(),
                m.tables.values().sum::<i64>().into(),
                (m.media_files as i64).into(),
                (m.media_bytes as i64).into(),
            ],
        ))
        .await?;
    metrics::gauge!("eatfit_backup_last_success_timestamp_seconds").set(now.timestamp() as f64);
    Ok(())
}

/// When the last successful backup finished, if any.
pub async fn last_success(db: &Db) -> Result<Option<DateTime<Utc>>, BackupError> {
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(
            db.db_backend(),
            "SELECT finished_at FROM backup_runs ORDER BY finished_at DESC LIMIT 1",
        ))
        .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("", "finished_at")?),
        None => None,
    })
}

/// Reads and checks a backup folder's manifest and every file's checksum.
pub fn verify(from: &Path) -> Result<Manifest, BackupError> {
    let path = from.join(MANIFEST);
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| BackupError::Manifest {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    if manifest.version != MANIFEST_VERSION {
        return Err(BackupError::Manifest {
            path,
            reason: format!("unknown version {}", manifest.version),
        });
    }
    for f in &manifest.files {
        if f.path.split('/').any(|s| s == ".." || s.is_empty()) {
            return Err(BackupError::Checksum(f.path.clone()));
        }
        let (bytes, sha) = sha256_file(&from.join(&f.path))?;
        if bytes != f.bytes || sha != f.sha256 {
            return Err(BackupError::Checksum(f.path.clone()));
        }
    }
    Ok(manifest)
}

/// Restores a backup folder into the configured database and media folder.
///
/// SQLite: the database file must not exist (or `force`). PostgreSQL: the target database
/// must hold no tables (or `force`, which drops what the archive restores). The media folder
/// must be empty (or `force`, which copies over it).
pub async fn restore(
    url: &DbUrl,
    media_dir: &Path,
    from: &Path,
    force: bool,
) -> Result<Summary, BackupError> {
    let manifest = verify(from)?;
    let backend = url.backend();
    if backend.as_str() != manifest.backend {
        return Err(BackupError::Refused(format!(
            "the backup is of a {} database but DATABASE_URL points at {}",
            manifest.backend,
            backend.as_str()
        )));
    }
    if !force && media_dir.exists() && !dir_is_empty(media_dir) {
        return Err(BackupError::Refused(format!(
            "the media folder {} is not empty (pass --force to copy over it)",
            media_dir.display()
        )));
    }
    match backend {
        Backend::Sqlite => {
            let target = url.sqlite_path().ok_or_else(|| {
                BackupError::Refused("restore needs a file-backed SQLite DATABASE_URL".into())
            })?;
            let exists = std::fs::metadata(&target)
                .map(|m| m.len() > 0)
                .unwrap_or(false);
            if exists && !force {
                return Err(BackupError::Refused(format!(
                    "{} exists (pass --force to replace it; stop every eatfit process first)",
                    target.display()
                )));
            }
            if let Some(parent) = target.parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            for suffix in ["-wal", "-shm"] {
                let mut p = target.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            // Copy beside, then rename: a crash never leaves half a database in place.
            let mut tmp = target.clone().into_os_string();
            tmp.push(".restoring");
            let tmp = PathBuf::from(tmp);
            std::fs::copy(from.join(&manifest.database_file), &tmp).map_err(io(&tmp))?;
            std::fs::rename(&tmp, &target).map_err(io(&target))?;
        }
        Backend::Postgres => {
            let db = Db::connect(url).await?;
            let existing = table_names(db.conn()).await?;
            db.close().await;
            if !existing.is_empty() && !force {
                return Err(BackupError::Refused(format!(
                    "the target database holds {} table(s) (pass --force to replace them)",
                    existing.len()
                )));
            }
            let (url_no_pw, pw) = pg_url_parts(url);
            let mut args = vec![
                "--no-owner".to_string(),
                "--no-privileges".into(),
                "--exit-on-error".into(),
                format!("--dbname={url_no_pw}"),
            ];
            if force {
                args.push("--clean".into());
                args.push("--if-exists".into());
            }
            args.push(
                from.join(&manifest.database_file)
                    .to_string_lossy()
                    .into_owned(),
            );
            run_tool("pg_restore", &args, pw.as_deref())?;
        }
    }
    copy_tree(&from.join(MEDIA_DIR), media_dir)?;

    let db = Db::connect(url).await?;
    let counts = table_counts(db.conn()).await?;
    db.close().await;
    let mut diffs = Vec::new();
    for (t, n) in &manifest.tables {
        let got = counts.get(t).copied().unwrap_or(-1);
        if got != *n {
            diffs.push(format!("{t}: expected {n}, found {got}"));
        }
    }
    if !diffs.is_empty() {
        return Err(BackupError::CountMismatch(diffs.join("; ")));
    }
    tracing::info!(from = %from.display(), backend = backend.as_str(), "restore finished");
    Ok(Summary {
        manifest,
        folder: from.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pg_password_leaves_the_url_for_the_environment() {
        let url = DbUrl::parse("postgres://eatfit:p%40ss@db:5432/eatfit")
            .unwrap_or_else(|e| panic!("{e}"));
        let (u, pw) = pg_url_parts(&url);
        assert_eq!(u, "postgres://eatfit@db:5432/eatfit");
        assert_eq!(pw.as_deref(), Some("p@ss"));
    }

    #[test]
    fn a_tampered_file_fails_verification() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("eatfit.db"), b"data").unwrap_or_else(|e| panic!("{e}"));
        let (bytes, sha256) =
            sha256_file(&dir.path().join("eatfit.db")).unwrap_or_else(|e| panic!("{e}"));
        let m = Manifest {
            version: MANIFEST_VERSION,
            eatfit_version: "test".into(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            backend: "sqlite".into(),
            database_file: "eatfit.db".into(),
            tables: BTreeMap::new(),
            media_files: 0,
            media_bytes: 0,
            files: vec![FileEntry {
                path: "eatfit.db".into(),
                bytes,
                sha256,
            }],
        };
        std::fs::write(
            dir.path().join(MANIFEST),
            serde_json::to_vec(&m).unwrap_or_else(|e| panic!("{e}")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(verify(dir.path()).is_ok());
        std::fs::write(dir.path().join("eatfit.db"), b"date").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(verify(dir.path()), Err(BackupError::Checksum(_))));
    }
}

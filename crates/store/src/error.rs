use sea_orm::{DbErr, SqlErr};

/// What can go wrong in the storage layer, classified for callers.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Db(DbErr),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(msg)) => StoreError::Conflict(msg),
            _ => match e {
                DbErr::RecordNotFound(_) => StoreError::NotFound,
                DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                    StoreError::Unavailable(e.to_string())
                }
                other => StoreError::Db(other),
            },
        }
    }
}

impl StoreError {
    /// True when a unique constraint refused the write.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict(_))
    }
}

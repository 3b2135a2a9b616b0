//! Where photos and avatars live. Names are generated here (`<prefix>/<uuid>.<ext>`), never taken
//! from the client. A file is deleted with the row that owns it.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// Storage errors.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media not found: {0}")]
    NotFound(String),
    #[error("invalid media key `{0}`")]
    InvalidKey(String),
    #[error("media storage error: {0}")]
    Storage(String),
}

impl From<object_store::Error> for MediaError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => MediaError::NotFound(path),
            other => MediaError::Storage(other.to_string()),
        }
    }
}

/// A handle to the media storage.
#[derive(Clone, Debug)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
    root: Option<PathBuf>,
}

/// A validated storage key: `segment/segment/name.ext`, ASCII, no `..`.
fn check_key(key: &str) -> Result<ObjPath, MediaError> {
    let ok = !key.is_empty()
        && key.len() <= 255
        && !key.starts_with('/')
        && key.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
    if !ok {
        return Err(MediaError::InvalidKey(key.to_string()));
    }
    ObjPath::parse(key).map_err(|_| MediaError::InvalidKey(key.to_string()))
}

impl MediaStore {
    /// A local folder (created if missing).
    pub fn local(dir: &Path) -> Result<Self, MediaError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MediaError::Storage(format!("cannot create {}: {e}", dir.display())))?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| MediaError::Storage(e.to_string()))?;
        Ok(Self {
            store: Arc::new(fs),
            root: Some(dir.to_path_buf()),
        })
    }

    /// Any `object_store` backend (S3-compatible in production).
    pub fn from_store(store: Arc<dyn ObjectStore>) -> Self {
        Self { store, root: None }
    }

    /// The local folder, when the storage is local.
    pub fn local_root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// Stores `bytes` under a generated name in `prefix` (e.g. `avatars` or `meals/42`).
    pub async fn put_new(
        &self,
        prefix: &str,
        ext: &str,
        bytes: Vec<u8>,
    ) -> Result<String, MediaError> {
        let key = format!(
            "{}/{}.{}",
            prefix.trim_matches('/'),
            uuid::Uuid::new_v4().simple(),
            ext.trim_start_matches('.')
        );
        let path = check_key(&key)?;
        self.store.put(&path, PutPayload::from(bytes)).await?;
        Ok(key)
    }

    /// Reads a stored file.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, MediaError> {
        let path = check_key(key)?;
        let r = self.store.get(&path).await?;
        Ok(r.bytes().await?.to_vec())
    }

    /// Deletes a stored file; a missing file is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), MediaError> {
        let path = check_key(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes many files, logging (not failing on) individual errors. Returns how many failed.
    pub async fn delete_all<I, S>(&self, keys: I) -> usize
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut failed = 0;
        for k in keys {
            if let Err(e) = self.delete(k.as_ref()).await {
                failed += 1;
                tracing::warn!(key = k.as_ref(), error = %e, "deleting a media file failed");
            }
        }
        failed
    }

    /// Whether a file exists.
    pub async fn exists(&self, key: &str) -> Result<bool, MediaError> {
        let path = check_key(key)?;
        match self.store.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_delete_round_trip_with_generated_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = MediaStore::local(dir.path()).expect("local");
        let key = m
            .put_new("avatars", "jpg", b"abc".to_vec())
            .await
            .expect("put");
        assert!(key.starts_with("avatars/") && key.ends_with(".jpg"));
        assert_eq!(m.get(&key).await.expect("get"), b"abc");
        assert!(dir.path().join(&key).exists());
        m.delete(&key).await.expect("delete");
        assert!(!m.exists(&key).await.expect("exists"));
        m.delete(&key).await.expect("deleting twice is fine");
    }

    #[tokio::test]
    async fn hostile_keys_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let m = MediaStore::local(dir.path()).expect("local");
        for k in [
            "../etc/passwd",
            "/abs",
            "a//b",
            "a/../b",
            "",
            "spa ce.jpg",
            "ü.jpg",
        ] {
            assert!(
                matches!(m.get(k).await, Err(MediaError::InvalidKey(_))),
                "{k}"
            );
        }
    }
}

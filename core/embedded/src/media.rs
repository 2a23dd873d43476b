//! Media files on the local filesystem, one file per key under a root directory.

use std::path::{Path, PathBuf};

use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use core_ports::ports::{MediaStore, MediaStoreError, valid_media_key};

/// Media files under a root directory. Writes go to a temporary file in the same directory
/// and are renamed into place, so a reader sees the whole old object or the whole new one.
#[derive(Debug, Clone)]
pub struct FsMediaStore {
    root: PathBuf,
}

impl FsMediaStore {
    /// Opens (creating if needed) the root directory.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        Ok(FsMediaStore { root: root.to_path_buf() })
    }

    fn path(&self, key: &str) -> Result<PathBuf, MediaStoreError> {
        if !valid_media_key(key) {
            return Err(MediaStoreError::InvalidKey(key.to_owned()));
        }
        Ok(self.root.join(key))
    }
}

/// Distinguishes concurrent writers' temporary files.
static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

fn backend(e: impl Into<core_ports::BoxError>) -> MediaStoreError {
    MediaStoreError::backend("media directory", e)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, MediaStoreError> + Send + 'static) -> Result<T, MediaStoreError> {
    tokio::task::spawn_blocking(f).await.map_err(backend)?
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> Result<(), MediaStoreError> {
        let path = self.path(key)?;
        blocking(move || {
            let dir = path.parent().ok_or_else(|| backend("media key has no parent"))?;
            std::fs::create_dir_all(dir).map_err(backend)?;
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("object");
            let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), TMP_SEQ.fetch_add(1, Ordering::Relaxed)));
            std::fs::write(&tmp, &bytes).map_err(backend)?;
            std::fs::rename(&tmp, &path).map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                backend(e)
            })
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, MediaStoreError> {
        let path = self.path(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(backend(e)),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), MediaStoreError> {
        let path = self.path(key)?;
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend(e)),
        })
        .await
    }
}

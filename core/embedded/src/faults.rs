//! Storage faults on demand, for tests (feature `fault-injection`): a redb file backend whose
//! disk can be made full, as the test seam for the store's recovery from storage failures.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use redb::StorageBackend;
use redb::backends::FileBackend;

use crate::store::Opener;

/// A database file on a disk that is full while the switch says so: every write, growth and
/// flush fails with ENOSPC, as on a filesystem with no block left.
#[derive(Debug)]
struct FillableFile {
    file: FileBackend,
    full: Arc<AtomicBool>,
}

fn no_space() -> io::Error {
    // ENOSPC on Linux and macOS.
    io::Error::from_raw_os_error(28)
}

impl StorageBackend for FillableFile {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, io::Error> {
        self.file.read(offset, len)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        if self.full.load(Ordering::SeqCst) && len > self.file.len()? {
            return Err(no_space());
        }
        self.file.set_len(len)
    }

    fn sync_data(&self, eventual: bool) -> Result<(), io::Error> {
        if self.full.load(Ordering::SeqCst) {
            return Err(no_space());
        }
        self.file.sync_data(eventual)
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        if self.full.load(Ordering::SeqCst) {
            return Err(no_space());
        }
        self.file.write(offset, data)
    }
}

/// Opens the database at `path` on a disk that is full while `full` is true: hand it to
/// [`crate::RedbStore::open_with`].
pub fn fillable_disk(path: &Path, full: Arc<AtomicBool>) -> Opener {
    let path = path.to_path_buf();
    Arc::new(move || {
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path)?;
        let backend = FillableFile { file: FileBackend::new(file)?, full: full.clone() };
        redb::Database::builder().create_with_backend(backend)
    })
}

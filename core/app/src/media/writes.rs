//! The store writes of media attachments, with named conditions.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, MediaJob, MediaRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why saving an attachment record did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveConflict {
    /// A new record's id is taken: the same upload was completed meanwhile.
    AlreadyProcessed,
    /// A changed record's attachment is gone.
    Gone,
    /// The attachment was read while waiting for processing, and processing finished meanwhile.
    Processed,
}

/// Why removing an attachment did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveConflict {
    /// Removed already.
    Gone,
    /// A status claimed it meanwhile.
    Attached,
}

/// Stores a new attachment record.
pub async fn create(app: &App, record: &MediaRecord) -> ApiResult<Result<(), SaveConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::media(record.id), record, Condition::NotExists)?, SaveConflict::AlreadyProcessed);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Why a media job's write did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobConflict {
    /// The entry is not where this process put or read it: another process claimed it, or the
    /// attachment was finished or deleted.
    NotHeld,
}

/// Stores a new attachment waiting to be processed and its job, due at `due`.
pub async fn create_with_job(app: &App, record: &MediaRecord, due: u64) -> ApiResult<Result<(), SaveConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::media(record.id), record, Condition::NotExists)?, SaveConflict::AlreadyProcessed);
    tx.push(model::put(keys::media_job(due, record.id), &MediaJob { media: record.id, attempt: 0 }, Condition::NotExists)?);
    tx.push(model::put(keys::media_processing(record.id), &Ref { id: record.id }, Condition::NotExists)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Moves job `job` from `due` to `until` as `next` (a claim, or a retry later): only while it is still at `due`.
pub async fn claim_job(app: &App, due: u64, job: MediaJob, until: u64, next: MediaJob) -> ApiResult<Result<(), JobConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::media_job(due, job.media), condition: Condition::Exists }, JobConflict::NotHeld);
    tx.guard(model::put(keys::media_job(until, job.media), &next, Condition::NotExists)?, JobConflict::NotHeld);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Ends the job held until `until` without touching its attachment (deleted meanwhile).
pub async fn drop_job(app: &App, until: u64, media: Id) -> ApiResult<Result<(), JobConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::media_job(until, media), condition: Condition::Exists }, JobConflict::NotHeld);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Saves the processed (or failed) attachment and ends the job held until `until`, in one commit.
pub async fn finish_job(app: &App, until: u64, record: &MediaRecord) -> ApiResult<Result<(), JobConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::media_job(until, record.id), condition: Condition::Exists }, JobConflict::NotHeld);
    tx.guard(model::put(keys::media(record.id), record, Condition::Exists)?, JobConflict::NotHeld);
    tx.guard(Write::Delete { key: keys::media_processing(record.id), condition: Condition::Exists }, JobConflict::NotHeld);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Saves a changed attachment record (description, focus).
pub async fn update(app: &App, record: &MediaRecord) -> ApiResult<Result<(), SaveConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::media(record.id), record, Condition::Exists)?, SaveConflict::Gone);
    if record.processing.is_some_and(|p| !p.failed) {
        tx.guard(model::put(keys::media_processing(record.id), &Ref { id: record.id }, Condition::Exists)?, SaveConflict::Processed);
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Deletes an unattached attachment's record. Claiming its attachment slot in the same
/// transaction makes a racing status post fail (its claim finds this tombstone) instead of
/// attaching a file that is being removed.
pub async fn remove(app: &App, id: Id) -> ApiResult<Result<(), RemoveConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::media(id), condition: Condition::Exists }, RemoveConflict::Gone);
    tx.push(Write::Delete { key: keys::media_processing(id), condition: Condition::None });
    tx.guard(model::put(keys::media_attachment(id), &Ref { id: Id::MIN }, Condition::NotExists)?, RemoveConflict::Attached);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

//! The store writes of media attachments, with named conditions.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, MediaRecord, Ref};
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

/// Saves a changed attachment record (description, focus).
pub async fn update(app: &App, record: &MediaRecord) -> ApiResult<Result<(), SaveConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::media(record.id), record, Condition::Exists)?, SaveConflict::Gone);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Deletes an unattached attachment's record. Claiming its attachment slot in the same
/// transaction makes a racing status post fail (its claim finds this tombstone) instead of
/// attaching a file that is being removed.
pub async fn remove(app: &App, id: Id) -> ApiResult<Result<(), RemoveConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::media(id), condition: Condition::Exists }, RemoveConflict::Gone);
    tx.guard(model::put(keys::media_attachment(id), &Ref { id: Id::MIN }, Condition::NotExists)?, RemoveConflict::Attached);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

//! The store writes of scheduled statuses: scheduling one, moving it, removing it. Publishing
//! is the post's own transaction ([`crate::statuses::writes::Publishing`]).

use shared::wire;

use crate::error::ApiResult;
use crate::model::{self, Ref, ScheduledDue, ScheduledRecord};
use crate::ports::{Condition, Key, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why scheduling a status did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleConflict {
    /// A request with the same idempotency key committed first.
    IdempotencyKeyTaken,
    /// An attachment was claimed by a status (or another scheduled one) meanwhile.
    MediaAlreadyAttached,
}

/// Why changing or removing a scheduled status did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeConflict {
    /// It was published or deleted meanwhile.
    Gone,
}

/// The `A#` item the limits count, for the day `record` is due.
fn day_key(record: &ScheduledRecord) -> Key {
    keys::scheduled_day(record.account, &wire::date(record.scheduled_at), record.id)
}

/// The items a scheduled status has besides its attachments' claims and its schedule entry:
/// its record and its day item (what publishing or deleting it removes).
pub fn items_of(record: &ScheduledRecord) -> Vec<Key> {
    vec![keys::scheduled_status(record.account, record.id), day_key(record)]
}

/// Schedules `record`: its record, its day item, its schedule entry, its attachments held for
/// it (each once: `NotExists`), and with an idempotency key, the key.
pub async fn schedule(app: &App, record: &ScheduledRecord, idempotency: Option<&Key>) -> ApiResult<Result<(), ScheduleConflict>> {
    let id = record.id;
    let mut tx = Transaction::new();
    if let Some(key) = idempotency {
        tx.guard(model::put(key.clone(), &Ref { id }, Condition::NotExists)?, ScheduleConflict::IdempotencyKeyTaken);
    }
    for m in &record.media {
        tx.guard(model::put(keys::media_attachment(*m), &Ref { id }, Condition::NotExists)?, ScheduleConflict::MediaAlreadyAttached);
    }
    tx.push(model::put(keys::scheduled_status(record.account, id), record, Condition::NotExists)?);
    tx.push(model::put(day_key(record), &Ref { id }, Condition::None)?);
    tx.push(model::put(keys::scheduled_due(record.scheduled_at, id), &ScheduledDue { id, account: record.account }, Condition::None)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Moves `before` to `after`'s time: its schedule entry (which must still be there: not
/// published meanwhile) and day item follow.
pub async fn reschedule(app: &App, before: &ScheduledRecord, after: &ScheduledRecord) -> ApiResult<Result<(), ChangeConflict>> {
    let (id, account) = (after.id, after.account);
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::scheduled_status(account, id), after, Condition::Exists)?, ChangeConflict::Gone);
    if before.scheduled_at != after.scheduled_at {
        tx.guard(Write::Delete { key: keys::scheduled_due(before.scheduled_at, id), condition: Condition::Exists }, ChangeConflict::Gone);
        tx.push(model::put(keys::scheduled_due(after.scheduled_at, id), &ScheduledDue { id, account }, Condition::None)?);
    }
    let (old_day, new_day) = (day_key(before), day_key(after));
    if old_day != new_day {
        tx.push(Write::Delete { key: old_day, condition: Condition::None });
        tx.push(model::put(new_day, &Ref { id }, Condition::None)?);
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes `record` unpublished (deleted by its owner, or dropped by the scheduler): its items,
/// its schedule entry, and its attachments' claims (they are free again).
pub async fn remove(app: &App, record: &ScheduledRecord) -> ApiResult<Result<(), ChangeConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::scheduled_status(record.account, record.id), condition: Condition::Exists }, ChangeConflict::Gone);
    let held = record.media.iter().map(|m| keys::media_attachment(*m));
    for key in [day_key(record), keys::scheduled_due(record.scheduled_at, record.id)].into_iter().chain(held) {
        tx.push(Write::Delete { key, condition: Condition::None });
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

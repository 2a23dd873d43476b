//! The store writes of notifications, with named conditions.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, ActNotification, NotificationRecord, Ref};
use crate::ports::{Condition, Key, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why creating a notification did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyConflict {
    /// The event (`seq`) already gave the recipient this notification (a replay).
    AlreadyNotified,
}

/// Why dismissing a notification did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DismissConflict {
    /// No such notification (never made, or dismissed already).
    NotFound,
}

/// Creates notification `record` of `recipient` for event `seq`, once per (event, type); with
/// `act`, also the pointer its undo will follow ([`keys::act_notification`]).
pub async fn notify(app: &App, recipient: Id, seq: u64, record: &NotificationRecord, act: Option<Key>) -> ApiResult<Result<(), NotifyConflict>> {
    let mut tx = Transaction::new();
    tx.guard(
        model::put(keys::notification_dedupe(recipient, seq, &record.kind), &Ref { id: record.id }, Condition::NotExists)?,
        NotifyConflict::AlreadyNotified,
    );
    tx.push(model::put(keys::notification(recipient, record.id), record, Condition::NotExists)?);
    if let Some(act) = act {
        tx.push(model::put(act, &ActNotification { id: record.id, seq }, Condition::None)?);
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Takes back the notification `act` points at (and the pointer), when it was made by an event
/// logged before `undo_seq`; idempotent, and a replayed older undo leaves a newer act's alone.
pub async fn take_back(app: &App, recipient: Id, act: Key, undo_seq: u64) -> ApiResult<()> {
    let Some(item) = app.store.get(&act).await? else { return Ok(()) };
    let made: ActNotification = model::decode(&item)?;
    if made.seq >= undo_seq {
        return Ok(());
    }
    let writes =
        vec![Write::Delete { key: keys::notification(recipient, made.id), condition: Condition::None }, Write::Delete { key: act, condition: Condition::None }];
    Ok(app.store.transact(writes, vec![]).await?)
}

/// Deletes notification `id` of `account`.
pub async fn dismiss(app: &App, account: Id, id: Id) -> ApiResult<Result<(), DismissConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::notification(account, id), condition: Condition::Exists }, DismissConflict::NotFound);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

//! The store writes of notifications, with named conditions.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, NotificationRecord, Ref};
use crate::ports::{Condition, Write};
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

/// Creates notification `record` of `recipient` for event `seq`, once per (event, type).
pub async fn notify(app: &App, recipient: Id, seq: u64, record: &NotificationRecord) -> ApiResult<Result<(), NotifyConflict>> {
    let mut tx = Transaction::new();
    tx.guard(
        model::put(keys::notification_dedupe(recipient, seq, &record.kind), &Ref { id: record.id }, Condition::NotExists)?,
        NotifyConflict::AlreadyNotified,
    );
    tx.push(model::put(keys::notification(recipient, record.id), record, Condition::NotExists)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Deletes notification `id` of `account`.
pub async fn dismiss(app: &App, account: Id, id: Id) -> ApiResult<Result<(), DismissConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::notification(account, id), condition: Condition::Exists }, DismissConflict::NotFound);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

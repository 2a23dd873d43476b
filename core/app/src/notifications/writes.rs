//! The store writes of notifications, with named conditions.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, ActNotification, NotificationPolicyRecord, NotificationRecord, NotificationRequestRecord, Ref};
use crate::ports::{Condition, Key, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Whose a new notification is, and over how many shards it is written
/// ([`App::notification_shards`]: 1 but for a celebrity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recipient {
    /// The account notified.
    pub account: Id,
    /// `[shards] notifications` while it is a celebrity, else 1 (`N#{account}` alone).
    pub shards: u32,
}

/// Why creating a notification did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyConflict {
    /// The event (`seq`) already gave the recipient this notification (a replay).
    AlreadyNotified,
    /// The sender's notification request changed since it was read (accepted, dismissed, or
    /// created by a concurrent notification).
    RequestChanged,
}

/// Why moving a notification request's notifications did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestConflict {
    /// A notification or listing entry read is gone (dismissed or cleared meanwhile).
    Changed,
}

/// Why dismissing a notification did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DismissConflict {
    /// No such notification (never made, or dismissed already).
    NotFound,
}

/// Creates notification `record` of `to` for event `seq`, once per (event, type); with `act`,
/// also the pointer its undo will follow ([`keys::act_notification`]).
pub async fn notify(app: &App, to: Recipient, seq: u64, record: &NotificationRecord, act: Option<Key>) -> ApiResult<Result<(), NotifyConflict>> {
    let mut tx = Transaction::new();
    tx.guard(
        model::put(keys::notification_dedupe(to.account, seq, &record.kind), &Ref { id: record.id }, Condition::NotExists)?,
        NotifyConflict::AlreadyNotified,
    );
    tx.push(model::put(keys::notification_in(to.account, record.id, to.shards), record, Condition::NotExists)?);
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
    // Written sharded or not (the recipient may have joined or left the celebrity set since):
    // both places where it may be.
    let mut writes: Vec<Write> = keys::notification_candidates(recipient, made.id, app.config.shards.notifications)
        .into_iter()
        .map(|key| Write::Delete { key, condition: Condition::None })
        .collect();
    writes.push(Write::Delete { key: act, condition: Condition::None });
    Ok(app.store.transact(writes, vec![]).await?)
}

/// Deletes the notification stored at `key`.
pub async fn dismiss(app: &App, key: Key) -> ApiResult<Result<(), DismissConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key, condition: Condition::Exists }, DismissConflict::NotFound);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Creates the filtered notification `record` of `to` for event `seq` (once per event
/// and type, as [`notify`]), its entry among the sender's filtered notifications, and the
/// sender's notification request: `request` as written, over `existing` as read (`None`: a new
/// request, listed).
pub async fn notify_filtered(
    app: &App,
    to: Recipient,
    seq: u64,
    record: &NotificationRecord,
    act: Option<Key>,
    request: &NotificationRequestRecord,
    existing: Option<&NotificationRequestRecord>,
) -> ApiResult<Result<(), NotifyConflict>> {
    let mut tx = Transaction::new();
    tx.guard(
        model::put(keys::notification_dedupe(to.account, seq, &record.kind), &Ref { id: record.id }, Condition::NotExists)?,
        NotifyConflict::AlreadyNotified,
    );
    tx.push(model::put(keys::notification_in(to.account, record.id, to.shards), record, Condition::NotExists)?);
    tx.push(model::put(keys::filtered_notification(to.account, record.from, record.id), &Ref { id: record.id }, Condition::None)?);
    if let Some(act) = act {
        tx.push(model::put(act, &ActNotification { id: record.id, seq }, Condition::None)?);
    }
    let request_key = keys::notification_request(to.account, record.from);
    match existing {
        None => {
            tx.guard(model::put(request_key, request, Condition::NotExists)?, NotifyConflict::RequestChanged);
            tx.push(model::put(keys::notification_request_listing(to.account, request.id), &Ref { id: record.from }, Condition::None)?);
        }
        Some(_) => tx.guard(model::put(request_key, request, Condition::Exists)?, NotifyConflict::RequestChanged),
    }
    tx.push(Write::Add { key: keys::notification_request_count(to.account, record.from), delta: 1 });
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Stores `account`'s notification policy.
pub async fn set_policy(app: &App, account: Id, policy: &NotificationPolicyRecord) -> ApiResult<()> {
    let written = app.store.transact(vec![model::put(keys::notification_policy(account), policy, Condition::None)?], vec![]).await;
    app.hot.policies.forget(&account);
    Ok(written?)
}

/// Lets `from`'s notifications to `account` through the policy from now on.
pub async fn permit(app: &App, account: Id, from: Id) -> ApiResult<()> {
    Ok(app.store.transact(vec![model::put(keys::notification_permission(account, from), &Ref { id: from }, Condition::None)?], vec![]).await?)
}

/// Settles one chunk of a request's filtered notifications: with `accept`, `present` (the
/// notifications still there, where they are, as read) become ordinary in place; without,
/// they are deleted. Their entries in `entries` (the filtered listing's keys) go either way.
pub async fn settle_filtered(app: &App, present: &[(Key, NotificationRecord)], entries: Vec<Key>, accept: bool) -> ApiResult<Result<(), RequestConflict>> {
    let mut tx = Transaction::new();
    for (key, record) in present {
        let key = key.clone();
        if accept {
            let unfiltered = NotificationRecord { filtered: false, ..record.clone() };
            tx.guard(model::put(key, &unfiltered, Condition::Exists)?, RequestConflict::Changed);
        } else {
            tx.push(Write::Delete { key, condition: Condition::None });
        }
    }
    for key in entries {
        tx.push(Write::Delete { key, condition: Condition::None });
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes the notification request `request` of `account` (as read): its record, counter
/// and listing entry.
pub async fn close_request(app: &App, account: Id, request: &NotificationRequestRecord) -> ApiResult<Result<(), RequestConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::notification_request_listing(account, request.id), condition: Condition::Exists }, RequestConflict::Changed);
    tx.push(Write::Delete { key: keys::notification_request(account, request.from), condition: Condition::None });
    tx.push(Write::Delete { key: keys::notification_request_count(account, request.from), condition: Condition::None });
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes listing entry `request` of `account` alone (its request is gone).
pub async fn unlist_request(app: &App, account: Id, request: Id) -> ApiResult<()> {
    let writes = vec![Write::Delete { key: keys::notification_request_listing(account, request), condition: Condition::None }];
    Ok(app.store.transact(writes, vec![]).await?)
}

//! The store writes of blocks and mutes.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, BlockRecord, MuteRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a block or an unblock did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockConflict {
    /// A concurrent block won (blocking), or the block read is gone (unblocking).
    Changed,
}

/// Why a mute or an unmute did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MuteConflict {
    /// The mute edge changed since it was read (a concurrent mute or unmute won).
    Changed,
}

/// Creates the block edge, its mirror on the blocked side and the list entry.
pub async fn block(app: &App, blocker: Id, target: Id, block: &BlockRecord) -> ApiResult<Result<(), BlockConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::block_edge(blocker, target), block, Condition::NotExists)?, BlockConflict::Changed);
    tx.push(model::put(keys::blocked_by(target, blocker), &Ref { id: blocker }, Condition::None)?);
    tx.push(model::put(keys::block_listing(blocker, block.id), &Ref { id: target }, Condition::None)?);
    changed_relations(&mut tx, &[blocker, target]);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes the block `block` (as read), its mirror and its list entry.
pub async fn unblock(app: &App, blocker: Id, target: Id, block: &BlockRecord) -> ApiResult<Result<(), BlockConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::block_edge(blocker, target), condition: Condition::Exists }, BlockConflict::Changed);
    tx.guard(Write::Delete { key: keys::block_listing(blocker, block.id), condition: Condition::Exists }, BlockConflict::Changed);
    tx.push(Write::Delete { key: keys::blocked_by(target, blocker), condition: Condition::None });
    changed_relations(&mut tx, &[blocker, target]);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Writes the mute edge (and its mirror): a new one (`previous` none) with its list entry, or new options for
/// the one read (its list entry, keyed by its id, still there). `ends`: when the muter's timed
/// mutes end, this one's included.
pub async fn mute(app: &App, muter: Id, target: Id, mute: &MuteRecord, previous: Option<&MuteRecord>, ends: &[u64]) -> ApiResult<Result<(), MuteConflict>> {
    let mut tx = Transaction::new();
    changed_relations(&mut tx, &[muter]);
    tx.push(model::put(keys::mute_ends(muter), &ends, Condition::None)?);
    tx.push(model::put(keys::muted_by(target, muter), mute, Condition::None)?);
    match previous {
        None => {
            tx.guard(model::put(keys::mute_edge(muter, target), mute, Condition::NotExists)?, MuteConflict::Changed);
            tx.push(model::put(keys::mute_listing(muter, mute.id), &Ref { id: target }, Condition::None)?);
        }
        Some(previous) => {
            tx.guard(model::put(keys::mute_edge(muter, target), mute, Condition::Exists)?, MuteConflict::Changed);
            tx.guard(model::put(keys::mute_listing(muter, previous.id), &Ref { id: target }, Condition::Exists)?, MuteConflict::Changed);
        }
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes the mute `mute` (as read), its mirror and its list entry.
pub async fn unmute(app: &App, muter: Id, target: Id, mute: &MuteRecord) -> ApiResult<Result<(), MuteConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::mute_edge(muter, target), condition: Condition::Exists }, MuteConflict::Changed);
    tx.guard(Write::Delete { key: keys::mute_listing(muter, mute.id), condition: Condition::Exists }, MuteConflict::Changed);
    tx.push(Write::Delete { key: keys::muted_by(target, muter), condition: Condition::None });
    changed_relations(&mut tx, &[muter]);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Moves the relations counter of each account whose home a block or mute changes.
fn changed_relations<C: Copy>(tx: &mut Transaction<C>, accounts: &[Id]) {
    for account in accounts {
        tx.push(Write::Add { key: keys::relations_counter(*account), delta: 1 });
    }
}

//! The store writes of endorsements and notes.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, EndorsementRecord, FollowRecord, NoteRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why an endorsement change did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndorseConflict {
    /// The follow read is gone (endorsing needs it), or the endorsement changed meanwhile.
    Changed,
}

/// Creates the endorsement edge and its list entry, provided `owner` still follows `target`
/// with the follow read (rewritten as it was, under `Exists`).
pub async fn endorse(app: &App, owner: Id, target: Id, follow: &FollowRecord, endorsement: &EndorsementRecord) -> ApiResult<Result<(), EndorseConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::follow_edge(owner, target), follow, Condition::Exists)?, EndorseConflict::Changed);
    tx.guard(model::put(keys::endorse_edge(owner, target), endorsement, Condition::NotExists)?, EndorseConflict::Changed);
    tx.push(model::put(keys::endorsement_listing(owner, endorsement.id), &Ref { id: target }, Condition::None)?);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Removes the endorsement read and its list entry.
pub async fn unendorse(app: &App, owner: Id, target: Id, endorsement: &EndorsementRecord) -> ApiResult<Result<(), EndorseConflict>> {
    let mut tx = Transaction::new();
    push_unendorse(&mut tx, owner, target, Some(endorsement), EndorseConflict::Changed);
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// The writes that remove `owner`'s endorsement of `target` as read — or, when none was read,
/// that check there still is none (so a concurrent endorsement cannot outlive the change).
pub fn push_unendorse<C: Copy>(tx: &mut Transaction<C>, owner: Id, target: Id, endorsement: Option<&EndorsementRecord>, changed: C) {
    match endorsement {
        Some(e) => {
            tx.guard(Write::Delete { key: keys::endorse_edge(owner, target), condition: Condition::Exists }, changed);
            tx.push(Write::Delete { key: keys::endorsement_listing(owner, e.id), condition: Condition::None });
        }
        None => tx.guard(Write::Delete { key: keys::endorse_edge(owner, target), condition: Condition::NotExists }, changed),
    }
}

/// Sets `owner`'s note on `target` (an empty one removes it).
pub async fn note(app: &App, owner: Id, target: Id, note: &NoteRecord) -> ApiResult<()> {
    let write = if note.comment.is_empty() {
        Write::Delete { key: keys::note_edge(owner, target), condition: Condition::None }
    } else {
        model::put(keys::note_edge(owner, target), note, Condition::None)?
    };
    app.store.transact(vec![write], vec![]).await?;
    Ok(())
}

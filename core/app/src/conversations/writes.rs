//! The store writes of conversations: a status joining or leaving one, and the reader's
//! changes. Every change of a record replaces its revision item (`keys::conversation_revision`),
//! so concurrent changes of one conversation (two statuses arriving on different consumers,
//! the reader marking it read meanwhile) cannot both win.

use shared::id::Id;

use crate::error::ApiResult;
use crate::model::{self, ConversationRecord, Ref};
use crate::ports::{Condition, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why a change to a conversation did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationConflict {
    /// Joining: the status is in the reader's conversations already (the event was handled
    /// before). Leaving: it is not (any more).
    Handled,
    /// The record changed since it was read: read it again.
    Changed,
}

/// `status` joins the reader's conversation `conversation`, whose record goes from `before` to
/// `after` (`None`: unchanged, an older status arriving late).
pub async fn join(
    app: &App,
    owner: Id,
    conversation: Id,
    status: Id,
    before: Option<&ConversationRecord>,
    after: Option<&ConversationRecord>,
) -> ApiResult<Result<(), ConversationConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::conversation_status(owner, status), &Ref { id: conversation }, Condition::NotExists)?, ConversationConflict::Handled);
    tx.push(model::put(keys::conversation_member(owner, conversation, status), &Ref { id: status }, Condition::None)?);
    if let Some(after) = after {
        save(&mut tx, owner, before, after)?;
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// `status` (deleted) leaves the reader's conversation, whose record goes from `before` to
/// `after` (`None`: unchanged).
pub async fn leave(
    app: &App,
    owner: Id,
    conversation: Id,
    status: Id,
    before: Option<&ConversationRecord>,
    after: Option<&ConversationRecord>,
) -> ApiResult<Result<(), ConversationConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::conversation_status(owner, status), condition: Condition::Exists }, ConversationConflict::Handled);
    tx.push(Write::Delete { key: keys::conversation_member(owner, conversation, status), condition: Condition::None });
    if let Some(after) = after {
        save(&mut tx, owner, before, after)?;
    }
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// The reader's change of a conversation (read, removed).
pub async fn change(app: &App, owner: Id, before: &ConversationRecord, after: &ConversationRecord) -> ApiResult<Result<(), ConversationConflict>> {
    let mut tx = Transaction::new();
    save(&mut tx, owner, Some(before), after)?;
    Ok(tx.commit(app.store.as_ref(), vec![]).await?)
}

/// Replaces `before` (as read; `None`: absent) by `after`, and moves its listing entry.
fn save(tx: &mut Transaction<ConversationConflict>, owner: Id, before: Option<&ConversationRecord>, after: &ConversationRecord) -> ApiResult<()> {
    let id = after.id;
    match before {
        Some(before) => {
            tx.guard(
                Write::Delete { key: keys::conversation_revision(owner, id, before.revision), condition: Condition::Exists },
                ConversationConflict::Changed,
            );
            tx.push(model::put(keys::conversation(owner, id), after, Condition::None)?);
        }
        None => tx.guard(model::put(keys::conversation(owner, id), after, Condition::NotExists)?, ConversationConflict::Changed),
    }
    tx.guard(model::put(keys::conversation_revision(owner, id, after.revision), &Ref { id }, Condition::NotExists)?, ConversationConflict::Changed);
    let old = before.and_then(|b| b.last_status);
    if old != after.last_status {
        if let Some(old) = old {
            tx.push(Write::Delete { key: keys::conversation_listing(owner, old), condition: Condition::None });
        }
        if let Some(new) = after.last_status {
            tx.push(model::put(keys::conversation_listing(owner, new), &Ref { id }, Condition::None)?);
        }
    }
    Ok(())
}

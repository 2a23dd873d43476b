//! The conversation use cases: a direct status joining or leaving its participants'
//! conversations (the consumer calls these), and the reader's list, read and remove.
//!
//! A conversation is the reader's, one per set of other participants; its id is derived from
//! that set, so every handling of an event finds the same one. A status joins once (its
//! `keys::conversation_status` item is put `NotExists`): a replayed event changes nothing,
//! and a status the reader saw before removing the conversation does not bring it back. As
//! Mastodon does, the newest status decides `unread` (someone else's: unread; the reader's own
//! reply: read), and removing keeps nothing but the fact (a new status brings it back with
//! only what follows).

use std::collections::{HashMap, HashSet};

use shared::id::Id;
use shared::page::Window;
use shared::wire::{self, Visibility};

use super::writes::{self, ConversationConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, ConversationRecord, Ref, StatusRecord};
use crate::policy::{Relations, feed};
use crate::ports::Query;
use crate::transaction::RACE_RETRIES;
use crate::{App, keys};

/// A conversation's id for the reader, from the other participants (ascending, no duplicates):
/// FNV-1a over their ids, kept below 2⁶³ and above 0. Pinned (a test): records written by one
/// release are found by the next.
pub fn conversation_id(participants: &[Id]) -> Id {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for id in participants {
        for byte in id.as_u64().to_be_bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Id::from_u64((hash & (u64::MAX >> 1)).max(1))
}

/// The participants of `status` other than `reader`: its author and the accounts it mentions,
/// ascending.
pub fn other_participants(reader: Id, status: &StatusRecord) -> Vec<Id> {
    let mut out: Vec<Id> = std::iter::once(status.account_id).chain(status.mentions.iter().map(|m| m.id)).filter(|a| *a != reader).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The accounts whose conversations a direct status joins: its author, and each mentioned
/// account the policy lets hear of the author (`policy::feed::joins_conversation`).
pub async fn recipients(app: &App, status: &StatusRecord) -> ApiResult<Vec<Id>> {
    if status.visibility != Visibility::Direct || status.reblog_of.is_some() {
        return Ok(Vec::new());
    }
    let mut out = vec![status.account_id];
    let mut seen = HashSet::from([status.account_id]);
    for mention in &status.mentions {
        if !seen.insert(mention.id) {
            continue;
        }
        let relations = Relations::load(app, mention.id, &[status.account_id]).await?;
        if feed::joins_conversation(mention.id, status.account_id, &relations) {
            out.push(mention.id);
        }
    }
    Ok(out)
}

/// The reader's conversation `id` as stored (live or removed).
pub async fn record(app: &App, owner: Id, id: Id) -> ApiResult<Option<ConversationRecord>> {
    match app.store.get(&keys::conversation(owner, id)).await? {
        Some(item) => model::decode(&item).map(Some),
        None => Ok(None),
    }
}

/// The reader's live conversation `id`, or 404.
pub async fn live(app: &App, owner: Id, id: Id) -> ApiResult<ConversationRecord> {
    record(app, owner, id).await?.filter(|r| r.last_status.is_some()).ok_or(ApiError::NotFound)
}

/// The reader's conversation holding `status`, if it joined one.
pub async fn holding(app: &App, owner: Id, status: Id) -> ApiResult<Option<ConversationRecord>> {
    let Some(item) = app.store.get(&keys::conversation_status(owner, status)).await? else { return Ok(None) };
    record(app, owner, model::decode::<Ref>(&item)?.id).await
}

/// `status` (direct, still there) joins `owner`'s conversation with its other participants.
/// The record as it now is when the reader sees something new (a new newest status, or the
/// conversation back), `None` when nothing changed for them (handled before, or older than
/// what they have).
pub async fn add_status(app: &App, owner: Id, status: &StatusRecord) -> ApiResult<Option<ConversationRecord>> {
    let participants = other_participants(owner, status);
    let id = conversation_id(&participants);
    let unread = status.account_id != owner;
    for _ in 0..RACE_RETRIES {
        let before = record(app, owner, id).await?;
        let after = match &before {
            None => {
                Some(ConversationRecord { id, participants: participants.clone(), last_status: Some(status.id), unread, removed_through: None, revision: 1 })
            }
            Some(b) => match b.last_status {
                Some(last) if last >= status.id => None,
                // Removed by the reader before this status: older ones do not bring it back.
                None if b.removed_through.is_some_and(|r| r >= status.id) => None,
                _ => Some(ConversationRecord { last_status: Some(status.id), unread, revision: b.revision + 1, ..b.clone() }),
            },
        };
        match writes::join(app, owner, id, status.id, before.as_ref(), after.as_ref()).await? {
            Ok(()) => return Ok(after),
            Err(ConversationConflict::Handled) => return Ok(None),
            Err(ConversationConflict::Changed) => continue,
        }
    }
    Err(ApiError::Unavailable("the conversation kept changing".into()))
}

/// `status` (deleted) leaves `owner`'s conversation: when it was the newest, the one before it
/// takes its place, and without one the conversation goes.
pub async fn remove_status(app: &App, owner: Id, status: Id) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let Some(item) = app.store.get(&keys::conversation_status(owner, status)).await? else { return Ok(()) };
        let id = model::decode::<Ref>(&item)?.id;
        let before = record(app, owner, id).await?;
        let after = match &before {
            Some(b) if b.last_status == Some(status) => {
                let previous = previous_status(app, owner, b, status).await?;
                let unread = if previous.is_some() { b.unread } else { false };
                Some(ConversationRecord { last_status: previous, unread, revision: b.revision + 1, ..b.clone() })
            }
            _ => None,
        };
        match writes::leave(app, owner, id, status, before.as_ref(), after.as_ref()).await? {
            Ok(()) | Err(ConversationConflict::Handled) => return Ok(()),
            Err(ConversationConflict::Changed) => continue,
        }
    }
    Err(ApiError::Unavailable("the conversation kept changing".into()))
}

/// The newest status of `conversation` older than `status`, newer than its last removal.
async fn previous_status(app: &App, owner: Id, conversation: &ConversationRecord, status: Id) -> ApiResult<Option<Id>> {
    let query = Query {
        after: conversation.removed_through.map(Id::sort_key),
        before: Some(status.sort_key()),
        descending: true,
        ..Query::partition(keys::conversation_members_partition(owner, conversation.id), 1)
    };
    match app.store.query(&query).await?.first() {
        Some(item) => Ok(Some(model::decode::<Ref>(item)?.id)),
        None => Ok(None),
    }
}

/// `POST /api/v1/conversations/:id/read`: the reader's conversation, read.
pub async fn mark_read(app: &App, owner: Id, id: Id) -> ApiResult<ConversationRecord> {
    for _ in 0..RACE_RETRIES {
        let before = live(app, owner, id).await?;
        if !before.unread {
            return Ok(before);
        }
        let after = ConversationRecord { unread: false, revision: before.revision + 1, ..before.clone() };
        match writes::change(app, owner, &before, &after).await? {
            Ok(()) => return Ok(after),
            Err(_) => continue,
        }
    }
    live(app, owner, id).await
}

/// `DELETE /api/v1/conversations/:id`: gone from the reader's list (not for the others) until
/// a new status comes.
pub async fn remove(app: &App, owner: Id, id: Id) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let before = live(app, owner, id).await?;
        let after =
            ConversationRecord { last_status: None, unread: false, removed_through: before.last_status, revision: before.revision + 1, ..before.clone() };
        match writes::change(app, owner, &before, &after).await? {
            Ok(()) => return Ok(()),
            Err(_) => continue,
        }
    }
    Err(ApiError::Unavailable("the conversation kept changing".into()))
}

/// A page of the reader's live conversations, newest activity first: (cursors — their newest
/// statuses' ids, as Mastodon paginates —, records).
pub async fn page(app: &App, owner: Id, window: &Window) -> ApiResult<(Vec<Id>, Vec<ConversationRecord>)> {
    let (cursors, ids) = app.ref_page(keys::conversations_partition(owner), window).await?;
    let items = app.store.get_many(&ids.iter().map(|id| keys::conversation(owner, *id)).collect::<Vec<_>>()).await?;
    let mut out_cursors = Vec::with_capacity(items.len());
    let mut out = Vec::with_capacity(items.len());
    for (cursor, item) in cursors.into_iter().zip(items) {
        let Some(item) = item else { continue };
        let record: ConversationRecord = model::decode(&item)?;
        if record.last_status == Some(cursor) {
            out_cursors.push(cursor);
            out.push(record);
        }
    }
    Ok((out_cursors, out))
}

/// Renders the reader's conversations: the other participants (the reader alone in a note to
/// self, as Mastodon) and the newest status when the reader may see it.
pub async fn render(app: &App, owner: Id, records: &[ConversationRecord]) -> ApiResult<Vec<wire::Conversation>> {
    let mut account_ids: Vec<Id> = records.iter().flat_map(|r| r.participants.iter().copied()).collect();
    account_ids.push(owner);
    let accounts = app.accounts(&account_ids).await?;
    let last_ids: Vec<Id> = records.iter().filter_map(|r| r.last_status).collect();
    let statuses: HashMap<Id, wire::Status> = app.statuses(Some(owner), &last_ids).await?.into_iter().map(|s| (s.id, s)).collect();
    Ok(records
        .iter()
        .map(|r| {
            let shown: &[Id] = if r.participants.is_empty() { std::slice::from_ref(&owner) } else { &r.participants };
            wire::Conversation {
                id: r.id,
                unread: r.unread,
                accounts: shown.iter().filter_map(|a| accounts.get(a).cloned()).collect(),
                last_status: r.last_status.and_then(|s| statuses.get(&s).cloned()),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversation_ids_are_pinned_and_depend_on_the_participants_only() {
        let (a, b) = (Id::from_u64(1 << 20), Id::from_u64(7 << 30));
        assert_eq!(conversation_id(&[a, b]), conversation_id(&[a, b]));
        assert_ne!(conversation_id(&[a, b]), conversation_id(&[a]));
        assert_eq!(conversation_id(&[]).as_u64(), 0xcbf2_9ce4_8422_2325 & (u64::MAX >> 1));
        assert!(conversation_id(&[a]).as_u64() < 1 << 63);
    }
}

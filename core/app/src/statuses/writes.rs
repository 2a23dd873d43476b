//! The store writes of the status use cases, each one transaction with its domain event, and
//! the conflicts their conditions name.

use std::collections::HashSet;

use shared::id::Id;
use shared::wire::Visibility;

use crate::error::ApiResult;
use crate::events::Event;
use crate::hot::CountChange;
use crate::keys::Interaction;
use crate::model::{self, AccountStatusEntry, PollDue, PublicEntry, Ref, RevisionRecord, StatusRecord};
use crate::policy::{FeedItem, feed};
use crate::ports::{Condition, Key, Write};
use crate::transaction::Transaction;
use crate::{App, keys};

/// Why posting a status (or a boost) did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostConflict {
    /// A request with the same idempotency key committed first.
    IdempotencyKeyTaken,
    /// An attachment was claimed by another status meanwhile.
    MediaAlreadyAttached,
    /// Publishing a scheduled status: it was published or deleted meanwhile.
    NotScheduled,
}

/// What publishing a scheduled status adds to its post's transaction: the claim (its `SX`
/// entry, deleted under `Exists`, so exactly one scheduler posts it) and the removal of its other
/// items. Its attachments are held for it already and pass to the status.
#[derive(Debug, Clone)]
pub struct Publishing {
    /// The scheduled status's entry in the schedule.
    pub claim: Key,
    /// Its record and index items.
    pub retire: Vec<Key>,
}

/// Why an edit did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditConflict {
    /// The status was deleted meanwhile.
    StatusGone,
    /// An added attachment was claimed by another status meanwhile.
    MediaAlreadyAttached,
}

/// Why a boost did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoostConflict {
    /// The account boosted the status meanwhile.
    AlreadyBoosted,
}

/// Why a deletion did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteConflict {
    /// Deleted already (a concurrent request, or fanout deleting boosts of a deleted status).
    AlreadyDeleted,
}

/// Why revoking a quote did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeConflict {
    /// The quote no longer stands (revoked already, or its status deleted).
    NotStanding,
}

/// Why one try at deleting a status did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeleteStep {
    Deleted(DeleteConflict),
    /// The quote it makes was revoked after it was read: try again.
    QuoteRevoked,
}

/// Why a favourite or bookmark (or taking one back) did not commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractionConflict {
    /// Already in the requested state, or (taking back) the interaction read was replaced by
    /// a concurrent undo and redo.
    Unchanged,
}

/// The `AS#` entry of a status: the flags profile filters and home rebuilds read.
fn account_entry(record: &StatusRecord) -> AccountStatusEntry {
    let addressed = if record.visibility == Visibility::Direct { record.mentions.iter().map(|m| m.id).collect() } else { Vec::new() };
    AccountStatusEntry {
        reblog_of: record.reblog_of,
        in_reply_to_account: record.in_reply_to_account_id,
        media: !record.media.is_empty(),
        visibility: record.visibility,
        mentions: addressed,
    }
}

/// Posts `record` (not a boost), claiming its attachments and, with an idempotency key, the key;
/// when `publishing` a scheduled status, removing it in the same commit (its attachments are
/// its already).
pub async fn post(app: &App, record: &StatusRecord, idempotency: Option<&Key>, publishing: Option<&Publishing>) -> ApiResult<Result<(), PostConflict>> {
    let (id, author) = (record.id, record.account_id);
    let mut tx = Transaction::new();
    if let Some(key) = idempotency {
        tx.guard(model::put(key.clone(), &Ref { id }, Condition::NotExists)?, PostConflict::IdempotencyKeyTaken);
    }
    for m in &record.media {
        let claim = model::put(keys::media_attachment(*m), &Ref { id }, if publishing.is_some() { Condition::None } else { Condition::NotExists })?;
        tx.guard(claim, PostConflict::MediaAlreadyAttached);
    }
    if let Some(publishing) = publishing {
        tx.guard(Write::Delete { key: publishing.claim.clone(), condition: Condition::Exists }, PostConflict::NotScheduled);
        for key in &publishing.retire {
            tx.push(Write::Delete { key: key.clone(), condition: Condition::None });
        }
    }
    tx.push(model::put(keys::status(id), record, Condition::NotExists)?);
    tx.push(model::put(keys::account_status(author, id), &account_entry(record), Condition::None)?);
    tx.push(Write::Add { key: keys::account_counter(author, keys::AccountCounter::Statuses), delta: 1 });
    let shards = &app.config.shards;
    tx.push(Write::Add { key: keys::instance_counter_of(keys::InstanceCounter::Statuses, id, shards.instance_counters), delta: 1 });
    tx.push(model::put(keys::last_status(author), &record.created_at, Condition::None)?);
    if let Some(poll) = &record.poll {
        tx.push(model::put(keys::poll_due(poll.expires_at, id), &PollDue { status: id, author }, Condition::None)?);
    }
    if let Some(quote) = &record.quote {
        tx.push(model::put(keys::quote_edge(quote.status, id), &Ref { id: author }, Condition::None)?);
        tx.push(model::put(keys::quote_listing(quote.status, id), &Ref { id: author }, Condition::None)?);
        tx.push(Write::Add { key: keys::quotes_count(quote.status), delta: 1 });
    }
    if let Some(parent) = record.in_reply_to_id {
        tx.push(model::put(keys::reply(parent, id), &Ref { id: author }, Condition::None)?);
        tx.push(Write::Add { key: counter_shard(app, parent, keys::StatusCounter::Replies, id), delta: 1 });
    }
    if feed::in_public(&FeedItem::record(record, &[])) {
        let listed = PublicEntry { id: author, media: !record.media.is_empty() };
        tx.push(model::put(keys::public(id, shards.public), &listed, Condition::None)?);
        for tag in &record.tags {
            tx.push(model::put(keys::tagged(tag, id, shards.tags), &listed, Condition::None)?);
        }
    }
    if feed::distributable(&FeedItem::record(record, &[])) {
        // The author's own use of the tag (featured tags' counts).
        for tag in &record.tags {
            tx.push(Write::Add { key: keys::account_tag_count(author, tag), delta: 1 });
            tx.push(model::put(keys::account_tag_last(author, tag), &record.created_at, Condition::None)?);
        }
    }
    let event = Event::StatusCreated {
        status: id,
        author,
        visibility: record.visibility,
        reblog_of: None,
        in_reply_to_account: record.in_reply_to_account_id,
        mentions: record.mentions.iter().map(|m| m.id).collect(),
    };
    let committed = tx.commit(app.store.as_ref(), vec![event]).await?;
    // The author's newest posts changed (a celebrity's are kept in process), and a parent's count.
    app.hot.forget_status(id, Some(author));
    for changed in [record.in_reply_to_id, record.quote.as_ref().map(|q| q.status)].into_iter().flatten() {
        app.hot.forget_status(changed, None);
    }
    Ok(committed)
}

/// The shard of `status`'s `counter` a change made by the write of `by` (a reply, a boost, a
/// favourite: their own ids) goes to; any shard would do for the sum, the hash spreads them.
fn counter_shard(app: &App, status: Id, counter: keys::StatusCounter, by: Id) -> Key {
    keys::status_counter(status, counter, keys::counter_shard_of(by, app.config.shards.status_counters))
}

/// Pushes the deletion of sharded listing entry `key` (of partition `base`), also from shard 0
/// for an entry listed before sharding.
fn delete_listed(tx: &mut Transaction<impl Copy>, key: Key, base: &str) {
    for key in keys::with_unsharded(key, base) {
        tx.push(Write::Delete { key, condition: Condition::None });
    }
}

/// Replaces `before` with `after` (same id), keeping the first revision and adding the new one
/// (`revision`), moving attachment claims and the public and tag listings.
pub async fn edit(app: &App, before: &StatusRecord, after: &StatusRecord, revision: Id) -> ApiResult<Result<(), EditConflict>> {
    let (id, author) = (after.id, after.account_id);
    let mut tx = Transaction::new();
    if before.edited_at.is_none() {
        let original = RevisionRecord {
            content: before.content.clone(),
            spoiler_text: before.spoiler_text.clone(),
            sensitive: before.sensitive,
            created_at: before.created_at,
            media: before.media.clone(),
        };
        tx.push(model::put(keys::revision(id, Id::floor_of_millis(before.created_at)), &original, Condition::None)?);
    }
    for added in after.media.iter().filter(|m| !before.media.contains(m)) {
        tx.guard(model::put(keys::media_attachment(*added), &Ref { id }, Condition::NotExists)?, EditConflict::MediaAlreadyAttached);
    }
    for removed in before.media.iter().filter(|m| !after.media.contains(m)) {
        tx.push(Write::Delete { key: keys::media_attachment(*removed), condition: Condition::None });
    }
    // A poll's end moves with it (an unchanged end keeps its schedule entry).
    let (old_end, new_end) = (before.poll.as_ref().map(|p| p.expires_at), after.poll.as_ref().map(|p| p.expires_at));
    if old_end != new_end {
        if let Some(at) = old_end {
            tx.push(Write::Delete { key: keys::poll_due(at, id), condition: Condition::None });
        }
        if let Some(at) = new_end {
            tx.push(model::put(keys::poll_due(at, id), &PollDue { status: id, author }, Condition::None)?);
        }
    }
    if after.media != before.media {
        // Visibility and mentions of the entry stay as posted (an edit does not re-address).
        let entry = AccountStatusEntry { media: !after.media.is_empty(), ..account_entry(before) };
        tx.push(model::put(keys::account_status(author, id), &entry, Condition::None)?);
    }
    if feed::in_public(&FeedItem::record(before, &[])) {
        let old_tags: HashSet<&String> = before.tags.iter().collect();
        let new_tags: HashSet<&String> = after.tags.iter().collect();
        let listed = PublicEntry { id: author, media: !after.media.is_empty() };
        let flag_changed = after.media.is_empty() != before.media.is_empty();
        let shards = &app.config.shards;
        for gone in old_tags.difference(&new_tags) {
            delete_listed(&mut tx, keys::tagged(gone, id, shards.tags), &keys::tag_partition(gone));
        }
        for tag in new_tags.iter().filter(|t| flag_changed || !old_tags.contains(*t)) {
            tx.push(model::put(keys::tagged(tag, id, shards.tags), &listed, Condition::None)?);
        }
        if flag_changed {
            tx.push(model::put(keys::public(id, shards.public), &listed, Condition::None)?);
        }
    }
    let current = RevisionRecord {
        content: after.content.clone(),
        spoiler_text: after.spoiler_text.clone(),
        sensitive: after.sensitive,
        created_at: after.edited_at.unwrap_or(after.created_at),
        media: after.media.clone(),
    };
    tx.push(model::put(keys::revision(id, revision), &current, Condition::None)?);
    tx.guard(model::put(keys::status(id), after, Condition::Exists)?, EditConflict::StatusGone);
    let committed = tx.commit(app.store.as_ref(), vec![Event::StatusUpdated { status: id, author }]).await?;
    app.hot.forget_status(id, Some(author));
    if committed.is_ok() && feed::distributable(&FeedItem::record(before, &[])) {
        // The author's per-tag counts, in a transaction of their own: an edit replacing every
        // tag already comes near the write limit. A crash in between leaves a count off by one.
        let mut counts = Vec::new();
        for gone in before.tags.iter().filter(|t| !after.tags.contains(t)) {
            counts.push(Write::Add { key: keys::account_tag_count(author, gone), delta: -1 });
        }
        for added in after.tags.iter().filter(|t| !before.tags.contains(t)) {
            counts.push(Write::Add { key: keys::account_tag_count(author, added), delta: 1 });
            counts.push(model::put(keys::account_tag_last(author, added), &before.created_at, Condition::None)?);
        }
        if !counts.is_empty()
            && let Err(e) = app.store.transact(counts, vec![]).await
        {
            tracing::warn!(status = %id, error = %e, "tag counts of an edited status not updated");
        }
    }
    Ok(committed)
}

/// Posts `boost` of `original`, claiming the booster's one boost of it.
pub async fn boost(app: &App, boost: &StatusRecord, original: Id) -> ApiResult<Result<(), BoostConflict>> {
    let (id, me) = (boost.id, boost.account_id);
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::interaction(original, keys::Interaction::Reblog, me), &Ref { id }, Condition::NotExists)?, BoostConflict::AlreadyBoosted);
    tx.push(model::put(keys::status(id), boost, Condition::NotExists)?);
    tx.push(model::put(keys::account_status(me, id), &account_entry(boost), Condition::None)?);
    tx.push(model::put(keys::interaction_list(original, keys::Interaction::Reblog, id, app.config.shards.interactions), &Ref { id: me }, Condition::None)?);
    tx.push(Write::Add { key: counter_shard(app, original, keys::StatusCounter::Reblogs, id), delta: 1 });
    tx.push(Write::Add { key: keys::account_counter(me, keys::AccountCounter::Statuses), delta: 1 });
    tx.push(model::put(keys::last_status(me), &boost.created_at, Condition::None)?);
    let event = Event::StatusCreated {
        status: id,
        author: me,
        visibility: boost.visibility,
        reblog_of: Some(original),
        in_reply_to_account: None,
        mentions: Vec::new(),
    };
    let mark = app.hot.counts.mark(&original);
    let committed = tx.commit(app.store.as_ref(), vec![event]).await?;
    // The booster's newest posts changed (a celebrity's are kept in process); the original's
    // record did not, its boosts count did.
    app.hot.forget_author(me);
    app.hot.own_flags.forget(&(me, original));
    if committed.is_ok() {
        app.hot.count_changed(original, mark, CountChange::Reblogs(1));
    }
    Ok(committed)
}

/// Deletes a status or boost and everything indexing it (with the quote it makes, if that still
/// stands).
pub async fn delete(app: &App, record: &StatusRecord) -> ApiResult<Result<(), DeleteConflict>> {
    // A quote is revoked at most once, so a second try sees it settled.
    for _ in 0..2 {
        let standing = match &record.quote {
            Some(quote) => app.store.get(&keys::quote_edge(quote.status, record.id)).await?.is_some(),
            None => false,
        };
        match delete_once(app, record, standing).await? {
            Ok(()) => return Ok(Ok(())),
            Err(DeleteStep::Deleted(conflict)) => return Ok(Err(conflict)),
            Err(DeleteStep::QuoteRevoked) => continue,
        }
    }
    Err(crate::error::ApiError::internal("a quote changed twice while its status was deleted"))
}

/// One try at [`delete`]; `quote_standing`: the quote the status makes stands (as read).
async fn delete_once(app: &App, record: &StatusRecord, quote_standing: bool) -> ApiResult<Result<(), DeleteStep>> {
    let id = record.id;
    let author = record.account_id;
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::status(id), condition: Condition::Exists }, DeleteStep::Deleted(DeleteConflict::AlreadyDeleted));
    if let Some(quote) = record.quote.filter(|_| quote_standing) {
        tx.guard(Write::Delete { key: keys::quote_edge(quote.status, id), condition: Condition::Exists }, DeleteStep::QuoteRevoked);
        tx.push(Write::Delete { key: keys::quote_listing(quote.status, id), condition: Condition::None });
        tx.push(Write::Add { key: keys::quotes_count(quote.status), delta: -1 });
    }
    // Its own quotes count (quotes of it render as `deleted` from now on).
    tx.push(Write::Delete { key: keys::quotes_count(id), condition: Condition::None });
    tx.push(Write::Delete { key: keys::account_status(author, id), condition: Condition::None });
    tx.push(Write::Add { key: keys::account_counter(author, keys::AccountCounter::Statuses), delta: -1 });
    tx.push(Write::Delete { key: keys::pinned(author, id), condition: Condition::None });
    for counter in keys::StatusCounter::ALL {
        tx.push(Write::Delete { key: keys::status_counter(id, counter, 0), condition: Condition::None });
    }
    if let Some(parent) = record.in_reply_to_id {
        tx.push(Write::Delete { key: keys::reply(parent, id), condition: Condition::None });
        tx.push(Write::Add { key: counter_shard(app, parent, keys::StatusCounter::Replies, id), delta: -1 });
    }
    if let Some(original) = record.reblog_of {
        tx.push(Write::Delete { key: keys::interaction(original, keys::Interaction::Reblog, author), condition: Condition::None });
        let listed = keys::interaction_list(original, keys::Interaction::Reblog, id, app.config.shards.interactions);
        delete_listed(&mut tx, listed, &keys::interaction_list_partition(original, keys::Interaction::Reblog));
        tx.push(Write::Add { key: counter_shard(app, original, keys::StatusCounter::Reblogs, id), delta: -1 });
    }
    let shards = &app.config.shards;
    if record.reblog_of.is_none() {
        tx.push(Write::Add { key: keys::instance_counter_of(keys::InstanceCounter::Statuses, id, shards.instance_counters), delta: -1 });
    }
    if let Some(poll) = &record.poll {
        tx.push(Write::Delete { key: keys::poll_due(poll.expires_at, id), condition: Condition::None });
    }
    // As Mastodon: the files stay with their uploader (delete-and-redraft reattaches them).
    for m in &record.media {
        tx.push(Write::Delete { key: keys::media_attachment(*m), condition: Condition::None });
    }
    if feed::in_public(&FeedItem::record(record, &[])) {
        delete_listed(&mut tx, keys::public(id, shards.public), keys::PUBLIC);
        for tag in &record.tags {
            delete_listed(&mut tx, keys::tagged(tag, id, shards.tags), &keys::tag_partition(tag));
        }
    }
    if feed::distributable(&FeedItem::record(record, &[])) {
        for tag in &record.tags {
            tx.push(Write::Add { key: keys::account_tag_count(author, tag), delta: -1 });
        }
    }
    let event = Event::StatusDeleted {
        status: id,
        author,
        visibility: record.visibility,
        reblog_of: record.reblog_of,
        mentions: record.mentions.iter().map(|m| m.id).collect(),
        tags: record.tags.clone(),
    };
    let boosted_mark = record.reblog_of.map(|original| app.hot.counts.mark(&original));
    let committed = tx.commit(app.store.as_ref(), vec![event]).await?;
    app.hot.forget_status(id, Some(author));
    for changed in [record.in_reply_to_id, record.quote.as_ref().map(|q| q.status)].into_iter().flatten() {
        app.hot.forget_status(changed, None);
    }
    if let Some(original) = record.reblog_of {
        app.hot.own_flags.forget(&(author, original));
    }
    if let (Some(original), Some(mark)) = (record.reblog_of, boosted_mark)
        && committed.is_ok()
    {
        app.hot.count_changed(original, mark, CountChange::Reblogs(-1));
    }
    if committed.is_ok() && shards.status_counters > 1 {
        // The counters' other shards, in a transaction of their own (3 × up to 32 writes would
        // crowd the deletion's): only counts of a status no one can read any more, so one lost
        // to a crash here is an orphan item, never a wrong count.
        let rest: Vec<Write> = keys::StatusCounter::ALL
            .into_iter()
            .flat_map(|counter| keys::status_counter_shards(id, counter, shards.status_counters).skip(1))
            .map(|key| Write::Delete { key, condition: Condition::None })
            .collect();
        if let Err(e) = app.store.transact(rest, vec![]).await {
            // The deletion committed: answer it; the shards left are orphans nobody reads.
            tracing::warn!(status = %id, error = %e, "counter shards of a deleted status not deleted");
        }
    }
    Ok(committed)
}

/// Records `me`'s favourite (with a counter and an event) or bookmark of `status`
/// as interaction `id`.
pub async fn interact(app: &App, me: Id, status: &StatusRecord, kind: Interaction, id: Id) -> ApiResult<Result<(), InteractionConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::interaction(status.id, kind, me), &Ref { id }, Condition::NotExists)?, InteractionConflict::Unchanged);
    tx.push(model::put(keys::account_list(me, kind, id), &Ref { id: status.id }, Condition::None)?);
    let mut events = Vec::new();
    if kind == Interaction::Favourite {
        tx.push(model::put(keys::interaction_list(status.id, kind, id, app.config.shards.interactions), &Ref { id: me }, Condition::None)?);
        tx.push(Write::Add { key: counter_shard(app, status.id, keys::StatusCounter::Favourites, id), delta: 1 });
        events.push(Event::Favourited { account: me, status: status.id, author: status.account_id });
    }
    let mark = app.hot.counts.mark(&status.id);
    let committed = tx.commit(app.store.as_ref(), events).await?;
    app.hot.own_flags.forget(&(me, status.id));
    if committed.is_ok() && kind == Interaction::Favourite {
        app.hot.count_changed(status.id, mark, CountChange::Favourites(1));
    }
    Ok(committed)
}

/// Takes back interaction `id` (a favourite or bookmark) of `me` with `status`.
pub async fn uninteract(app: &App, me: Id, status: Id, kind: Interaction, id: Id) -> ApiResult<Result<(), InteractionConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::interaction(status, kind, me), condition: Condition::Exists }, InteractionConflict::Unchanged);
    // Still the interaction read, or a replacing one's list entries would be orphaned.
    tx.guard(Write::Delete { key: keys::account_list(me, kind, id), condition: Condition::Exists }, InteractionConflict::Unchanged);
    let mut events = Vec::new();
    if kind == Interaction::Favourite {
        delete_listed(&mut tx, keys::interaction_list(status, kind, id, app.config.shards.interactions), &keys::interaction_list_partition(status, kind));
        tx.push(Write::Add { key: counter_shard(app, status, keys::StatusCounter::Favourites, id), delta: -1 });
        events.push(Event::Unfavourited { account: me, status });
    }
    let mark = app.hot.counts.mark(&status);
    let committed = tx.commit(app.store.as_ref(), events).await?;
    app.hot.own_flags.forget(&(me, status));
    if committed.is_ok() && kind == Interaction::Favourite {
        app.hot.count_changed(status, mark, CountChange::Favourites(-1));
    }
    Ok(committed)
}

/// Writes or removes `account`'s mute of the thread starting with status `thread`.
pub async fn mute_thread(app: &App, account: Id, thread: Id, on: bool) -> ApiResult<()> {
    let key = keys::thread_mute(account, thread);
    let write = if on { model::put(key, &Ref { id: thread }, Condition::None)? } else { Write::Delete { key, condition: Condition::None } };
    let committed = app.store.transact(vec![write], vec![]).await;
    // Kept flags are by status, and any of the thread's may be kept.
    app.hot.own_flags.clear();
    committed?;
    Ok(())
}

/// Pins or unpins `status` on `account`'s profile.
pub async fn pin(app: &App, account: Id, status: Id, on: bool) -> ApiResult<()> {
    let key = keys::pinned(account, status);
    let write = if on { model::put(key, &Ref { id: status }, Condition::None)? } else { Write::Delete { key, condition: Condition::None } };
    let committed = app.store.transact(vec![write], vec![]).await;
    app.hot.pins.forget(&account);
    committed?;
    Ok(())
}

/// Takes back `quoting`'s quote of `quoted` (its edge, listing and count), exactly once.
pub async fn revoke_quote(app: &App, quoted: Id, quoting: Id) -> ApiResult<Result<(), RevokeConflict>> {
    let mut tx = Transaction::new();
    tx.guard(Write::Delete { key: keys::quote_edge(quoted, quoting), condition: Condition::Exists }, RevokeConflict::NotStanding);
    tx.push(Write::Delete { key: keys::quote_listing(quoted, quoting), condition: Condition::None });
    tx.push(Write::Add { key: keys::quotes_count(quoted), delta: -1 });
    let committed = tx.commit(app.store.as_ref(), vec![]).await?;
    app.hot.forget_status(quoted, None);
    Ok(committed)
}

/// Rewrites `record` with its new quote policy (the rest as read), if it still exists.
pub async fn set_quote_policy(app: &App, record: &StatusRecord) -> ApiResult<Result<(), EditConflict>> {
    let mut tx = Transaction::new();
    tx.guard(model::put(keys::status(record.id), record, Condition::Exists)?, EditConflict::StatusGone);
    let committed = tx.commit(app.store.as_ref(), vec![]).await?;
    app.hot.forget_status(record.id, None);
    Ok(committed)
}

//! The notifications consumer of the event log: who is told what about each event.
//!
//! Every notification an event gives an account is keyed by (account, event position, type):
//! the dedupe item and the notification commit together under `NotExists`, so a replayed
//! event — the log is at-least-once — creates nothing twice. New notifications are also
//! published to the recipient's stream and handed to Web Push, unless the recipient's
//! notification policy (`policy::filtering`) drops them or files them as filtered under the
//! sender's notification request. Undoing a follow, favourite or
//! boost takes its notification back, as Mastodon does.

use std::collections::HashSet;

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, NotificationRecord, NotificationRequestRecord, PolicyAction, Ref};
use crate::notifications::writes::{NotifyConflict, Recipient};
use crate::policy::{FeedItem, Relations, feed, filtering};
use crate::ports::{Key, LoggedEvent, Query};
use crate::transaction::RACE_RETRIES;
use crate::{App, keys, notifications, now_ms, polls, push, streaming};

/// Name of this consumer's checkpoint.
pub const CONSUMER: &str = "notifications";
/// Events handled per batch.
const BATCH: usize = 256;
/// Items read per page of a partition.
const PAGE: usize = 500;

/// The notifications consumer.
pub struct Notifications;

#[async_trait::async_trait]
impl super::Consumer for Notifications {
    const NAME: &'static str = CONSUMER;
    const BATCH: usize = BATCH;

    fn lock(app: &App) -> &tokio::sync::Mutex<()> {
        &app.notifications_lock
    }

    async fn handle(app: &App, batch: &[LoggedEvent]) -> ApiResult<()> {
        for logged in batch {
            handle(app, logged).await?;
        }
        Ok(())
    }
}

/// Who is told what about one event.
async fn handle(app: &App, logged: &LoggedEvent) -> ApiResult<()> {
    let seq = logged.seq;
    match &logged.event {
        Event::StatusCreated { author, reblog_of: Some(original), .. } => {
            // Its author (a viral status is boosted thousands of times a second: the kept copy).
            let Some(original) = app.cached_status_records(&[*original]).await?.remove(original) else { return Ok(()) };
            notify(app, seq, original.account_id, "reblog", *author, Some(original.id)).await?;
        }
        Event::StatusDeleted { author, reblog_of: Some(original), .. } => {
            // An unreblog. With the original gone, its notifications went with it.
            let Some(original) = app.cached_status_records(&[*original]).await?.remove(original) else { return Ok(()) };
            take_back(app, seq, original.account_id, "reblog", *author, Some(original.id)).await?;
        }
        Event::StatusCreated { status, author, visibility, reblog_of: None, in_reply_to_account, mentions } => {
            for mentioned in mentions {
                notify(app, seq, *mentioned, "mention", *author, Some(*status)).await?;
            }
            // The quoted author hears of a quote that still stands (not of quoting themself).
            if let Some(record) = app.status_records(&[*status]).await?.remove(status)
                && let Some(quote) = record.quote
                && quote.account != *author
                && app.store.get(&keys::quote_edge(quote.status, *status)).await?.is_some()
            {
                notify(app, seq, quote.account, "quote", *author, Some(*status)).await?;
            }
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: None, in_reply_to_account: *in_reply_to_account, mentions };
            if feed::notifies_subscribers(&item) {
                let mentioned: HashSet<Id> = mentions.iter().copied().collect();
                for subscriber in partition_refs(app, keys::notify_subscribers_partition(*author)).await? {
                    if !mentioned.contains(&subscriber) {
                        notify(app, seq, subscriber, "status", *author, Some(*status)).await?;
                    }
                }
            }
        }
        Event::StatusUpdated { status, author } => {
            // Everyone who boosted or favourited the status hears of the edit, once.
            let mut told = HashSet::new();
            for kind in [keys::Interaction::Reblog, keys::Interaction::Favourite] {
                for partition in keys::interaction_list_partitions(*status, kind, app.config.shards.interactions) {
                    for account in partition_refs(app, partition).await? {
                        if told.insert(account) {
                            notify(app, seq, account, "update", *author, Some(*status)).await?;
                        }
                    }
                }
            }
            // Those whose quotes of it stand hear of the edit with their quote attached.
            for item in partition_items(app, keys::quotes_partition(*status)).await? {
                let (Some(quoting), quoter) = (Id::from_sort_key(&item.key.sk), model::decode::<Ref>(&item)?.id) else { continue };
                if quoter != *author {
                    notify(app, seq, quoter, "quoted_update", *author, Some(quoting)).await?;
                }
            }
        }
        Event::Followed { follower, target } => notify(app, seq, *target, "follow", *follower, None).await?,
        Event::Favourited { account, status, author } => notify(app, seq, *author, "favourite", *account, Some(*status)).await?,
        Event::Unfollowed { follower, target } => take_back(app, seq, *target, "follow", *follower, None).await?,
        // The request as it is now decides: a request already closed (events handled late, or
        // replayed) notifies no one.
        Event::FollowRequested { follower, target } => {
            if app.store.get(&keys::follow_request_edge(*follower, *target)).await?.is_some() {
                notify(app, seq, *target, "follow_request", *follower, None).await?;
            }
        }
        Event::FollowRequestClosed { follower, target, .. } => take_back(app, seq, *target, "follow_request", *follower, None).await?,
        Event::Unfavourited { account, status } => {
            // With the status gone, its notifications went with it.
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            take_back(app, seq, record.account_id, "favourite", *account, Some(*status)).await?;
        }
        Event::PollEnded { status, author } => {
            // Every voter of the poll's current round, and its author. A deleted status (or a
            // poll edited away) tells no one.
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            let Some(poll) = &record.poll else { return Ok(()) };
            for voter in polls::service::voters(app, *status, poll.round).await? {
                notify(app, seq, voter, "poll", *author, Some(*status)).await?;
            }
            notify(app, seq, *author, "poll", *author, Some(*status)).await?;
        }
        Event::AccountCreated { .. } | Event::AccountUpdated { .. } | Event::StatusDeleted { .. } => {}
    }
    Ok(())
}

/// Creates the notification of event `seq` for `recipient`, unless it exists already; the
/// recipient's notification policy may drop it, or file it as filtered under the sender's
/// notification request (then it is neither streamed nor pushed).
async fn notify(app: &App, seq: u64, recipient: Id, kind: &'static str, from: Id, status: Option<Id>) -> ApiResult<()> {
    // Read from the sender's side: a celebrity recipient gets a notification per favourite.
    let relations = Relations::load_toward(app, recipient, from).await?;
    if !feed::notification_wanted(kind, recipient, from, &relations) {
        return Ok(());
    }
    // A muted thread (a gone status: not muted). A public status's record may be the kept copy.
    let status_record = match status {
        Some(id) => app.cached_status_records(&[id]).await?.remove(&id),
        None => None,
    };
    if let Some(record) = &status_record
        && app.thread_muted(recipient, record).await?
    {
        return Ok(());
    }
    let now = now_ms();
    let action = filtering::notification_action(app, recipient, from, kind, status_record.as_ref(), &relations, now).await?;
    if action == PolicyAction::Drop {
        return Ok(());
    }
    let filtered = action == PolicyAction::Filter;
    let record = NotificationRecord { id: app.next_id()?, kind: kind.to_owned(), from, status, created_at: now, filtered };
    // The acts an undo takes back point at their notification.
    let act = matches!(kind, "follow" | "follow_request" | "favourite" | "reblog").then(|| keys::act_notification(recipient, kind, from, status));
    // A celebrity's notifications are spread over shards: it gets one per favourite, boost
    // and follow of any of its posts, more than one partition takes.
    let to = Recipient { account: recipient, shards: app.notification_shards(recipient).await? };
    if filtered {
        return notify_filtered(app, seq, to, &record, act).await;
    }
    match notifications::writes::notify(app, to, seq, &record, act).await? {
        Ok(()) => {}
        // Made when this event was handled before.
        Err(NotifyConflict::AlreadyNotified | NotifyConflict::RequestChanged) => return Ok(()),
    }
    if let Some(rendered) = app.render_notifications_under(recipient, vec![record], &relations).await?.pop() {
        streaming::publish_notification(app, recipient, &rendered).await;
        push::deliver(app, recipient, from, &rendered).await;
    }
    Ok(())
}

/// Files `record` as filtered, in the sender's notification request (made or updated).
async fn notify_filtered(app: &App, seq: u64, to: Recipient, record: &NotificationRecord, act: Option<Key>) -> ApiResult<()> {
    for _ in 0..RACE_RETRIES {
        let existing = notifications::service::request_from(app, to.account, record.from).await?;
        let request = match &existing {
            Some(e) => NotificationRequestRecord { updated_at: record.created_at, last_status: record.status.or(e.last_status), ..*e },
            None => NotificationRequestRecord {
                id: app.next_id()?,
                from: record.from,
                created_at: record.created_at,
                updated_at: record.created_at,
                last_status: record.status,
            },
        };
        match notifications::writes::notify_filtered(app, to, seq, record, act.clone(), &request, existing.as_ref()).await? {
            // Made when this event was handled before, or now.
            Ok(()) | Err(NotifyConflict::AlreadyNotified) => return Ok(()),
            // The request was accepted, dismissed or made meanwhile: read it again.
            Err(NotifyConflict::RequestChanged) => continue,
        }
    }
    Ok(())
}

/// Takes back the notification `from`'s act of `kind` gave `recipient`, as undo event `seq`.
async fn take_back(app: &App, seq: u64, recipient: Id, kind: &str, from: Id, status: Option<Id>) -> ApiResult<()> {
    notifications::writes::take_back(app, recipient, keys::act_notification(recipient, kind, from, status), seq).await
}

/// Every account id listed in a partition of [`Ref`]s.
async fn partition_refs(app: &App, partition: String) -> ApiResult<Vec<Id>> {
    partition_items(app, partition).await?.iter().map(|item| Ok(model::decode::<Ref>(item)?.id)).collect()
}

/// Every item of a partition, read a page at a time.
async fn partition_items(app: &App, partition: String) -> ApiResult<Vec<crate::ports::Item>> {
    let mut out: Vec<crate::ports::Item> = Vec::new();
    let mut query = Query::partition(partition, PAGE);
    loop {
        let page = app.store.query(&query).await?;
        let full = page.len() == PAGE;
        out.extend(page);
        match out.last() {
            Some(last) if full => query.after = Some(last.key.sk.clone()),
            _ => return Ok(out),
        }
    }
}

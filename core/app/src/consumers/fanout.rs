//! The fanout consumer: tails the event log and keeps home timelines current.
//!
//! Posts go into each follower's cached home (only timelines that exist: the rest are rebuilt
//! on read), except for accounts above the celebrity threshold, whose posts are merged in at
//! read time; and into the list timelines holding the author (`policy::lists`). Follows
//! backfill, unfollows and deletes remove (an unfollow also takes the account out of lists).
//! Every step is idempotent, so the at-least-once log may replay anything, and reads the store
//! as it is now (followers, the follow edge, whether the status still exists), so events
//! handled late or out of order across shards converge.

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::lists::{self, list_key};
use crate::model::{self, Ref};
use crate::policy::{self, FeedItem};
use crate::ports::{Condition, Query, TimelineEntry, Write};
use crate::scan::RefScan;
use crate::timelines::{home_key, push_recipients};
use crate::{App, keys};

/// Name of this consumer's checkpoint.
pub const CONSUMER: &str = "fanout";
/// Events handled per batch.
const BATCH: usize = 256;
/// Followers read per page while fanning out.
const FOLLOWER_PAGE: usize = 1000;

/// The fanout consumer.
pub struct Fanout;

#[async_trait::async_trait]
impl super::Consumer for Fanout {
    const NAME: &'static str = CONSUMER;
    const BATCH: usize = BATCH;

    fn lock(app: &App) -> &tokio::sync::Mutex<()> {
        &app.fanout_lock
    }

    async fn handle(app: &App, batch: &[crate::ports::LoggedEvent]) -> ApiResult<()> {
        for logged in batch {
            handle(app, &logged.event).await?;
        }
        Ok(())
    }
}

async fn handle(app: &App, event: &Event) -> ApiResult<()> {
    let cap = app.config.timelines.cap;
    match event {
        Event::StatusCreated { status, author, visibility, reblog_of, in_reply_to_account, mentions } => {
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: *in_reply_to_account, mentions };
            // Handled after its deletion (a feed that reordered them): nothing to deliver.
            let Some(record) = app.status_records(&[*status]).await?.remove(status) else { return Ok(()) };
            let entry = TimelineEntry { id: *status, reblog_of: *reblog_of };
            let recipients = push_recipients(app, &item, &record.tags).await?;
            for chunk in recipients.chunks(FOLLOWER_PAGE) {
                let timelines: Vec<String> = chunk.iter().map(|id| home_key(*id)).collect();
                let delivered = app.timelines.fan_out(&timelines, entry, cap).await?;
                app.metrics.fanned_out(delivered);
            }
            let lists = policy::lists::lists_with(app, *author).await?;
            let targets = policy::lists::list_recipients(app, &item, &lists).await?;
            if !targets.is_empty() {
                let timelines: Vec<String> = targets.iter().map(|l| list_key(l.list)).collect();
                app.timelines.fan_out(&timelines, entry, cap).await?;
            }
        }
        Event::StatusDeleted { status, author, visibility, reblog_of, mentions, tags } => {
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: None, mentions };
            let recipients = push_recipients(app, &item, tags).await?;
            for chunk in recipients.chunks(FOLLOWER_PAGE) {
                let timelines: Vec<String> = chunk.iter().map(|id| home_key(*id)).collect();
                app.timelines.remove_from_all(&timelines, &[*status]).await?;
            }
            let lists = policy::lists::lists_with(app, *author).await?;
            if !lists.is_empty() {
                let timelines: Vec<String> = lists.iter().map(|l| list_key(l.list)).collect();
                app.timelines.remove_from_all(&timelines, &[*status]).await?;
            }
            if reblog_of.is_none() {
                delete_boosts_of(app, *status).await?;
            }
        }
        // The follow edge as it is now decides, not the event: a follow and an unfollow
        // handled in the wrong order (or replayed) leave the home as the graph says.
        Event::Followed { follower, target } | Event::FollowRequestClosed { follower, target, authorized: true } => {
            update_celebrity(app, *target).await?;
            if app.store.get(&keys::follow_edge(*follower, *target)).await?.is_some() {
                app.backfill_home(*follower, *target).await?;
            }
        }
        Event::Unfollowed { follower, target } => {
            update_celebrity(app, *target).await?;
            if app.store.get(&keys::follow_edge(*follower, *target)).await?.is_some() {
                return Ok(());
            }
            let ids = app.newest_statuses(*target, cap).await?;
            app.timelines.remove(&home_key(*follower), &ids).await?;
            // Mastodon keeps only followed accounts in lists (the unfollow took them out
            // already; this catches a member added while the unfollow committed).
            lists::service::follow_ended(app, *follower, *target).await?;
        }
        // The moderation record as it is now decides: a suspension purges the account's
        // statuses from its followers' cached homes (reads drop them anyway; this frees the
        // cache and keeps cached pages honest at once).
        Event::AccountUpdated { account } => {
            if app.moderation(*account).await?.suspended_at.is_some() {
                purge_suspended(app, *account, cap).await?;
            }
        }
        Event::AccountCreated { .. }
        | Event::StatusUpdated { .. }
        | Event::Favourited { .. }
        | Event::Unfavourited { .. }
        | Event::FollowRequested { .. }
        | Event::FollowRequestClosed { authorized: false, .. }
        | Event::PollEnded { .. } => {}
    }
    Ok(())
}

/// Deleting a status deletes the boosts of it.
async fn delete_boosts_of(app: &App, status: Id) -> ApiResult<()> {
    let mut ids: Vec<Id> = Vec::new();
    for partition in keys::interaction_list_partitions(status, keys::Interaction::Reblog, app.config.shards.interactions) {
        let boosts = app.store.query(&Query::partition(partition, 10_000)).await?;
        ids.extend(boosts.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)));
    }
    let records = app.status_records(&ids).await?;
    for record in records.values() {
        app.delete_status(record).await?;
    }
    Ok(())
}

/// Keeps the celebrity set in step with follower counts (with hysteresis, so an account near
/// the threshold does not flap between push and pull).
async fn update_celebrity(app: &App, account: Id) -> ApiResult<()> {
    let threshold = app.config.timelines.celebrity_threshold;
    let followers = model::count(app.store.get(&keys::account_counter(account, keys::AccountCounter::Followers)).await?.as_ref());
    // Its shard's entry, and shard 0's (an entry from before the set was sharded).
    let entries = keys::with_unsharded(keys::celebrity(account, app.config.shards.celebrities), keys::CELEBRITIES);
    let is_celebrity = app.store.get_many(&entries).await?.iter().any(Option::is_some);
    let demoted = is_celebrity && followers < threshold - threshold / 10;
    let mut writes = if !is_celebrity && followers >= threshold {
        vec![model::put(keys::celebrity(account, app.config.shards.celebrities), &followers, Condition::None)?]
    } else if demoted {
        entries.into_iter().map(|key| Write::Delete { key, condition: Condition::None }).collect()
    } else {
        return Ok(());
    };
    // Its notifications are written to shards while it is a celebrity: from now on its reads
    // merge them, also once it has left the set (a celebrity of before this flag has it from
    // its demotion; till then the set itself says so).
    writes.push(model::put(keys::notification_shards_flag(account), &Ref { id: account }, Condition::None)?);
    app.store.transact(writes, vec![]).await?;
    app.invalidate_celebrities();
    if demoted {
        // Its posts were merged in at read time, never pushed, so the followers' cached homes
        // lack them: let those homes rebuild, which now reads the account like any other.
        let mut followers = RefScan::all(keys::followers_partition(account), FOLLOWER_PAGE);
        while let Some(page) = followers.next(app).await? {
            for follower in page {
                app.timelines.drop_timeline(&home_key(follower)).await?;
            }
        }
    }
    Ok(())
}

/// Removes a suspended account's newest `cap` statuses (and boosts) from every follower's
/// cached home, and drops its own.
async fn purge_suspended(app: &App, account: Id, cap: usize) -> ApiResult<()> {
    let ids = app.newest_statuses(account, cap).await?;
    if !ids.is_empty() {
        let mut followers = RefScan::all(keys::followers_partition(account), FOLLOWER_PAGE);
        while let Some(page) = followers.next(app).await? {
            for follower in page {
                app.timelines.remove(&home_key(follower), &ids).await?;
            }
        }
    }
    app.evict_home(account).await
}

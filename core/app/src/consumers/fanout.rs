//! The fanout consumer: tails the event log and keeps home timelines current.
//!
//! Posts go into each follower's cached home (only timelines that exist: the rest are rebuilt
//! on read), except for accounts above the celebrity threshold, whose posts are merged in at
//! read time. Follows backfill, unfollows and deletes remove. Every step is idempotent, so the
//! at-least-once log may replay anything, and reads the store as it is now (followers, the
//! follow edge, whether the status still exists), so events handled late or out of order
//! across shards converge.

use shared::id::Id;

use crate::error::ApiResult;
use crate::events::Event;
use crate::model::{self, Ref};
use crate::policy::{FeedItem, Relations, feed};
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
            if app.status_records(&[*status]).await?.is_empty() {
                return Ok(());
            }
            let entry = TimelineEntry { id: *status, reblog_of: *reblog_of };
            let recipients = push_recipients(app, &item).await?;
            for chunk in recipients.chunks(FOLLOWER_PAGE) {
                let timelines: Vec<String> = chunk.iter().map(|id| home_key(*id)).collect();
                let delivered = app.timelines.fan_out(&timelines, entry, cap).await?;
                app.metrics.fanned_out(delivered);
            }
        }
        Event::StatusDeleted { status, author, visibility, reblog_of, mentions, .. } => {
            let item = FeedItem { author: *author, visibility: *visibility, reblog_of: *reblog_of, in_reply_to_account: None, mentions };
            let recipients = push_recipients(app, &item).await?;
            for chunk in recipients.chunks(FOLLOWER_PAGE) {
                let timelines: Vec<String> = chunk.iter().map(|id| home_key(*id)).collect();
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
                backfill(app, *follower, *target).await?;
            }
        }
        Event::Unfollowed { follower, target } => {
            update_celebrity(app, *target).await?;
            if app.store.get(&keys::follow_edge(*follower, *target)).await?.is_some() {
                return Ok(());
            }
            let ids = newest_statuses(app, *target, cap).await?;
            app.timelines.remove(&home_key(*follower), &ids).await?;
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

/// Copies the target's recent statuses into the new follower's home, if it is built.
async fn backfill(app: &App, follower: Id, target: Id) -> ApiResult<()> {
    let key = home_key(follower);
    if !app.timelines.exists(&key).await? || app.celebrities().await?.contains(&target) {
        return Ok(());
    }
    let items =
        app.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(target), app.config.timelines.backfill) }).await?;
    let following = app.store.query(&Query::partition(keys::following_partition(follower), 2000)).await?;
    let relations = Relations::following(following.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<_>>()?);
    let mut entries = Vec::new();
    for item in &items {
        let Some(id) = Id::from_sort_key(&item.key.sk) else { continue };
        let entry: model::AccountStatusEntry = model::decode(item)?;
        if feed::in_home(follower, &relations, &FeedItem::entry(target, &entry)) {
            entries.push(TimelineEntry { id, reblog_of: entry.reblog_of });
        }
    }
    app.timelines.insert(&key, &entries, app.config.timelines.cap).await?;
    Ok(())
}

/// Deleting a status deletes the boosts of it.
async fn delete_boosts_of(app: &App, status: Id) -> ApiResult<()> {
    let boosts = app.store.query(&Query::partition(keys::interaction_list_partition(status, keys::Interaction::Reblog), 10_000)).await?;
    let ids: Vec<Id> = boosts.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect();
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
    let is_celebrity = app.store.get(&keys::celebrity(account)).await?.is_some();
    let demoted = is_celebrity && followers < threshold - threshold / 10;
    let write = if !is_celebrity && followers >= threshold {
        model::put(keys::celebrity(account), &followers, Condition::None)?
    } else if demoted {
        Write::Delete { key: keys::celebrity(account), condition: Condition::None }
    } else {
        return Ok(());
    };
    app.store.transact(vec![write], vec![]).await?;
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
    let ids = newest_statuses(app, account, cap).await?;
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

/// The ids of `account`'s newest `cap` statuses and boosts.
async fn newest_statuses(app: &App, account: Id, cap: usize) -> ApiResult<Vec<Id>> {
    let items = app.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(account), cap) }).await?;
    Ok(items.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect())
}

//! The use cases and the reads they share; no HTTP type reaches here.

use std::collections::HashMap;

use shared::id::Id;
use shared::page::Window;
use shared::wire;

use super::writes::{self, DismissConflict, RequestConflict};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, NotificationPolicyRecord, NotificationRecord, NotificationRequestRecord, PolicyAction, Ref};
use crate::policy::{Relations, feed, filtering};
use crate::ports::{Condition, Item, Key, Query, Write};
use crate::scan::ShardScan;
use crate::transaction::RACE_RETRIES;
use crate::{App, keys};

/// Items read per page of a partition.
pub(crate) const PAGE: usize = 500;
/// Partition pages scanned at most to fill one filtered page of notifications.
pub(crate) const MAX_SCAN_PAGES: usize = 10;

impl App {
    /// Renders notifications for `viewer`, dropping those whose account or status is gone
    /// (or no longer visible to the viewer, or hidden by the viewer's filters), and those from accounts the viewer has blocked
    /// (or is blocked by) or whose notifications it mutes since.
    pub async fn render_notifications(&self, viewer: Id, records: Vec<NotificationRecord>) -> ApiResult<Vec<wire::Notification>> {
        let senders: Vec<Id> = records.iter().map(|r| r.from).collect();
        let relations = Relations::load(self, viewer, &senders).await?;
        self.render_notifications_under(viewer, records, &relations).await
    }

    /// [`App::render_notifications`] with the viewer's `relations` to the senders already read
    /// (the notifier has just checked them for the notification it made: reading them again
    /// would double the reads a celebrity's partition takes per favourite).
    pub(crate) async fn render_notifications_under(
        &self,
        viewer: Id,
        records: Vec<NotificationRecord>,
        relations: &Relations,
    ) -> ApiResult<Vec<wire::Notification>> {
        let records: Vec<NotificationRecord> = records.into_iter().filter(|r| feed::notification_wanted(&r.kind, viewer, r.from, relations)).collect();
        let accounts = self.accounts(&records.iter().map(|r| r.from).collect::<Vec<_>>()).await?;
        let status_ids: Vec<Id> = records.iter().filter_map(|r| r.status).collect();
        let statuses: HashMap<Id, wire::Status> =
            self.statuses_in(Some(viewer), &status_ids, wire::FilterContext::Notifications).await?.into_iter().map(|s| (s.id, s)).collect();
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let Some(account) = accounts.get(&r.from) else { continue };
            let status = match r.status {
                Some(id) => match statuses.get(&id) {
                    Some(s) => Some(s.clone()),
                    None => continue,
                },
                None => None,
            };
            out.push(wire::Notification {
                id: r.id,
                kind: r.kind,
                created_at: wire::timestamp(r.created_at),
                group_key: format!("ungrouped-{}", r.id),
                account: account.clone(),
                status,
            });
        }
        Ok(out)
    }
}

impl App {
    /// How many shards `account`'s notifications are written to now: `[shards] notifications`
    /// while it is in the celebrity set, else 1 (`N#{account}` alone).
    pub(crate) async fn notification_shards(&self, account: Id) -> ApiResult<u32> {
        let shards = self.config.shards.notifications;
        Ok(if shards > 1 && self.celebrities().await?.contains(&account) { shards } else { 1 })
    }

    /// The partitions `account`'s notifications are read from: every shard when it may have
    /// sharded ones (it is a celebrity now, or its [`keys::notification_shards_flag`] says it
    /// joined or left the set), else `N#{account}` alone, as before sharding. The flag is read
    /// only with `[shards] notifications` > 1, and not for a celebrity.
    pub(crate) async fn notification_partitions(&self, account: Id) -> ApiResult<Vec<String>> {
        Ok(self.notification_partitions_with(account, false).await?.0)
    }

    /// [`App::notification_partitions`], and with `marker` the account's notifications read
    /// marker item, read in the same batch as the flag.
    async fn notification_partitions_with(&self, account: Id, marker: bool) -> ApiResult<(Vec<String>, Option<Item>)> {
        let shards = self.config.shards.notifications;
        let sharded = self.notification_shards(account).await? > 1;
        let mut wanted = Vec::with_capacity(2);
        if marker {
            wanted.push(keys::marker(account, "notifications"));
        }
        let ask_flag = shards > 1 && !sharded;
        if ask_flag {
            wanted.push(keys::notification_shards_flag(account));
        }
        let mut found = if wanted.is_empty() { Vec::new() } else { self.store.get_many(&wanted).await? };
        let flagged = ask_flag && found.pop().flatten().is_some();
        let marker = if marker { found.pop().flatten() } else { None };
        let partitions = if sharded || flagged { keys::notification_partitions(account, shards) } else { vec![keys::notifications_partition(account)] };
        Ok((partitions, marker))
    }
}

/// The id of the newest notification read, per the notifications read `marker`.
fn last_read(marker: Option<&Item>) -> ApiResult<Option<Id>> {
    marker.map(|item| model::decode::<model::MarkerRecord>(item).map(|m| m.last_read_id)).transpose()
}

/// `account`'s notifications in `window` that `keep` accepts, newest first (oldest first for a
/// window read from `min_id`): every shard merged by id, read a page at a time, at most
/// [`MAX_SCAN_PAGES`] pages a shard.
pub async fn list(app: &App, account: Id, window: &Window, keep: impl Fn(&NotificationRecord) -> bool) -> ApiResult<Vec<NotificationRecord>> {
    const MIN_PAGE: usize = 20;
    let partitions = app.notification_partitions(account).await?;
    let shards = partitions.len();
    let first = ShardScan::first_page(window.limit, shards, MIN_PAGE);
    let mut scan = ShardScan::window(partitions, window, first, window.limit.max(MIN_PAGE), (MAX_SCAN_PAGES - 1) * shards);
    let mut records = Vec::new();
    let mut last: Option<String> = None;
    while records.len() < window.limit
        && let Some(item) = scan.next(app).await?
    {
        // The same notification in two shards (never written so, but read once if it were).
        if last.as_ref() == Some(&item.key.sk) {
            continue;
        }
        let record: NotificationRecord = model::decode(&item)?;
        last = Some(item.key.sk);
        if keep(&record) {
            records.push(record);
        }
    }
    if window.oldest_first {
        records.reverse();
    }
    Ok(records)
}

/// How many of `account`'s notifications newer than its read marker `keep` accepts, counting
/// up to `limit`.
pub async fn unread_count(app: &App, account: Id, limit: usize, keep: impl Fn(&NotificationRecord) -> bool) -> ApiResult<usize> {
    let (partitions, marker) = app.notification_partitions_with(account, true).await?;
    let window = Window { after: last_read(marker.as_ref())?, before: None, oldest_first: false, limit };
    let first = ShardScan::first_page(limit, partitions.len(), PAGE);
    let mut scan = ShardScan::window(partitions, &window, first, PAGE, usize::MAX);
    let mut count = 0;
    while count < limit
        && let Some(item) = scan.next(app).await?
    {
        if keep(&model::decode(&item)?) {
            count += 1;
        }
    }
    Ok(count)
}

/// Notification `id` of `account`, looked for in the shard its id picks and in shard 0.
pub async fn notification(app: &App, account: Id, id: Id) -> ApiResult<Option<NotificationRecord>> {
    Ok(located(app, account, &[id]).await?.into_iter().next().map(|(_, record)| record))
}

/// Where each of `account`'s notifications `ids` is, with what it holds (those gone left out):
/// in the shard its id picks, or in shard 0 (written unsharded).
pub(crate) async fn located(app: &App, account: Id, ids: &[Id]) -> ApiResult<Vec<(Key, NotificationRecord)>> {
    let candidates: Vec<Key> = ids.iter().flat_map(|id| keys::notification_candidates(account, *id, app.config.shards.notifications)).collect();
    let found = app.store.get_many(&candidates).await?;
    let mut out: Vec<(Key, NotificationRecord)> = Vec::with_capacity(ids.len());
    for item in found.into_iter().flatten() {
        // Never written twice, but taken once if it were.
        if out.iter().any(|(key, _)| key.sk == item.key.sk) {
            continue;
        }
        out.push((item.key.clone(), model::decode(&item)?));
    }
    Ok(out)
}

/// Deletes notification `id` of `account`, wherever it is.
pub async fn dismiss(app: &App, account: Id, id: Id) -> ApiResult<Result<(), DismissConflict>> {
    let key = if app.config.shards.notifications > 1 {
        let Some((key, _)) = located(app, account, &[id]).await?.into_iter().next() else { return Ok(Err(DismissConflict::NotFound)) };
        key
    } else {
        keys::notification_in(account, id, 1)
    };
    writes::dismiss(app, key).await
}

/// Deletes every notification of `account` (every shard), and its notification requests (what
/// held the filtered ones).
pub async fn clear(app: &App, account: Id) -> ApiResult<()> {
    for partition in app.notification_partitions(account).await? {
        let query = Query::partition(partition, crate::ports::MAX_TRANSACTION_WRITES);
        loop {
            // Each round deletes what the last one read, so the partition's head moves on.
            let items = app.store.query(&query).await?;
            if items.is_empty() {
                break;
            }
            let writes = items.into_iter().map(|i| Write::Delete { key: i.key, condition: Condition::None }).collect();
            app.store.transact(writes, vec![]).await?;
        }
    }
    // The filtered ones went too: their requests hold nothing any more.
    dismiss_all_requests(app, account).await
}

/// Pending requests counted at most in a policy's summary (as Mastodon).
const SUMMARY_CAP: usize = 100;
/// Filtered notifications settled per transaction when a request is accepted or dismissed.
const SETTLE_CHUNK: usize = 40;

/// A change of notification policy: each field given replaces the stored one.
#[derive(Debug, Default, Clone, Copy)]
pub struct PolicyChange {
    pub for_not_following: Option<PolicyAction>,
    pub for_not_followers: Option<PolicyAction>,
    pub for_new_accounts: Option<PolicyAction>,
    pub for_private_mentions: Option<PolicyAction>,
    pub for_limited_accounts: Option<PolicyAction>,
}

/// `account`'s notification policy with its summary.
pub async fn policy(app: &App, account: Id) -> ApiResult<wire::NotificationPolicy> {
    let record = filtering::load_policy(app, account).await?;
    render_policy(app, account, &record).await
}

/// Applies `change` to `account`'s notification policy; answers the policy as stored.
pub async fn update_policy(app: &App, account: Id, change: PolicyChange) -> ApiResult<wire::NotificationPolicy> {
    let current = filtering::load_policy(app, account).await?;
    let record = NotificationPolicyRecord {
        for_not_following: change.for_not_following.unwrap_or(current.for_not_following),
        for_not_followers: change.for_not_followers.unwrap_or(current.for_not_followers),
        for_new_accounts: change.for_new_accounts.unwrap_or(current.for_new_accounts),
        for_private_mentions: change.for_private_mentions.unwrap_or(current.for_private_mentions),
        for_limited_accounts: change.for_limited_accounts.unwrap_or(current.for_limited_accounts),
    };
    writes::set_policy(app, account, &record).await?;
    render_policy(app, account, &record).await
}

async fn render_policy(app: &App, account: Id, record: &NotificationPolicyRecord) -> ApiResult<wire::NotificationPolicy> {
    let listed = app.store.query(&Query::partition(keys::notification_requests_partition(account), SUMMARY_CAP)).await?;
    let senders: Vec<Id> = listed.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<_>>()?;
    let counts = app.store.get_many(&senders.iter().map(|s| keys::notification_request_count(account, *s)).collect::<Vec<_>>()).await?;
    Ok(wire::NotificationPolicy {
        for_not_following: record.for_not_following.as_str().to_owned(),
        for_not_followers: record.for_not_followers.as_str().to_owned(),
        for_new_accounts: record.for_new_accounts.as_str().to_owned(),
        for_private_mentions: record.for_private_mentions.as_str().to_owned(),
        for_limited_accounts: record.for_limited_accounts.as_str().to_owned(),
        summary: wire::NotificationPolicySummary {
            pending_requests_count: senders.len() as u64,
            pending_notifications_count: counts.iter().map(|c| model::count(c.as_ref())).sum(),
        },
    })
}

/// The request `id` of `account`, if pending.
pub async fn request(app: &App, account: Id, id: Id) -> ApiResult<Option<NotificationRequestRecord>> {
    let Some(listed) = app.store.get(&keys::notification_request_listing(account, id)).await? else { return Ok(None) };
    let from = model::decode::<Ref>(&listed)?.id;
    let Some(item) = app.store.get(&keys::notification_request(account, from)).await? else { return Ok(None) };
    let record: NotificationRequestRecord = model::decode(&item)?;
    Ok((record.id == id).then_some(record))
}

/// The pending request of `from`'s notifications to `account`, if any.
pub async fn request_from(app: &App, account: Id, from: Id) -> ApiResult<Option<NotificationRequestRecord>> {
    app.store.get(&keys::notification_request(account, from)).await?.map(|i| model::decode(&i)).transpose()
}

/// Renders requests of `account` (dropping those whose sender is gone).
pub async fn render_requests(app: &App, account: Id, records: &[NotificationRequestRecord]) -> ApiResult<Vec<wire::NotificationRequest>> {
    let accounts = app.accounts(&records.iter().map(|r| r.from).collect::<Vec<_>>()).await?;
    let status_ids: Vec<Id> = records.iter().filter_map(|r| r.last_status).collect();
    let statuses: HashMap<Id, wire::Status> = app.statuses(Some(account), &status_ids).await?.into_iter().map(|s| (s.id, s)).collect();
    let counts = app.store.get_many(&records.iter().map(|r| keys::notification_request_count(account, r.from)).collect::<Vec<_>>()).await?;
    let mut out = Vec::with_capacity(records.len());
    for (r, count) in records.iter().zip(counts) {
        let Some(sender) = accounts.get(&r.from) else { continue };
        out.push(wire::NotificationRequest {
            id: r.id,
            created_at: wire::timestamp(r.created_at),
            updated_at: wire::timestamp(r.updated_at),
            account: sender.clone(),
            notifications_count: model::count(count.as_ref()).to_string(),
            last_status: r.last_status.and_then(|s| statuses.get(&s).cloned()),
        });
    }
    Ok(out)
}

/// Accepts `request` of `account`: from now on the sender's notifications pass the policy,
/// and those it filtered join the ordinary list.
pub async fn accept_request(app: &App, account: Id, request: &NotificationRequestRecord) -> ApiResult<()> {
    // The permission first: notifications made from then on are not filtered.
    writes::permit(app, account, request.from).await?;
    settle_request(app, account, request, true).await
}

/// Dismisses `request` of `account`: the notifications it holds are deleted.
pub async fn dismiss_request(app: &App, account: Id, request: &NotificationRequestRecord) -> ApiResult<()> {
    settle_request(app, account, request, false).await
}

/// Dismisses every pending request of `account` (what clearing the notifications leaves
/// behind: requests whose notifications are gone).
pub async fn dismiss_all_requests(app: &App, account: Id) -> ApiResult<()> {
    let query = Query::partition(keys::notification_requests_partition(account), SETTLE_CHUNK);
    loop {
        // Each round closes the requests it read, so the partition's head moves on.
        let listed = app.store.query(&query).await?;
        if listed.is_empty() {
            return Ok(());
        }
        for item in &listed {
            let id = Id::from_sort_key(&item.key.sk).ok_or_else(|| ApiError::internal("bad notification request sort key"))?;
            let from = model::decode::<Ref>(item)?.id;
            match request_from(app, account, from).await? {
                Some(record) if record.id == id => dismiss_request(app, account, &record).await?,
                // A listing entry whose request is gone (or was replaced): removed alone.
                _ => writes::unlist_request(app, account, id).await?,
            }
        }
    }
}

async fn settle_request(app: &App, account: Id, request: &NotificationRequestRecord, accept: bool) -> ApiResult<()> {
    let query = Query::partition(keys::filtered_notifications_partition(account, request.from), SETTLE_CHUNK);
    loop {
        // Each round removes the entries it read, so the partition's head moves on.
        let entries = app.store.query(&query).await?;
        if entries.is_empty() {
            break;
        }
        let mut settled = false;
        for _ in 0..RACE_RETRIES {
            let ids: Vec<Id> = entries.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect::<ApiResult<_>>()?;
            let present = located(app, account, &ids).await?;
            match writes::settle_filtered(app, &present, entries.iter().map(|i| i.key.clone()).collect(), accept).await? {
                Ok(()) => {
                    settled = true;
                    break;
                }
                // A notification was dismissed meanwhile: read the chunk again.
                Err(RequestConflict::Changed) => continue,
            }
        }
        if !settled {
            // Every try lost to concurrent dismissals: answer with what the winners left.
            return Ok(());
        }
    }
    // Gone already (settled by a concurrent request): nothing left to close.
    let _ = writes::close_request(app, account, request).await?;
    Ok(())
}

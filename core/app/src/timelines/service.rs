//! The use cases and the reads they share; no HTTP type reaches here.

use std::collections::HashSet;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use futures_util::stream::{self, StreamExt as _, TryStreamExt as _};
use shared::id::Id;
use shared::page::Window;

use crate::error::ApiResult;
use crate::model::{self, AccountStatusEntry, PublicEntry, Ref, StatusRecord, TagName};
use crate::policy::{FeedItem, Relations, feed, lists, tags as policy_tags};
use crate::ports::{CacheError, Item, Query, TimelineEntry};
use crate::scan::ShardScan;
use crate::{App, keys};

/// How long the in-process copy of the celebrity set is trusted.
pub(crate) const CELEBRITY_TTL: Duration = Duration::from_secs(10);
/// Followed tags (the newest follows) a home rebuild reads.
pub(crate) const MAX_REBUILD_TAGS: usize = 100;
/// Partition pages scanned at most to fill one filtered page.
pub(crate) const MAX_SCAN_PAGES: usize = 10;

/// Cache key of an account's home timeline.
pub fn home_key(account: Id) -> String {
    format!("home:{account}")
}

impl App {
    /// Accounts whose posts are pulled at read time (cached briefly in process).
    pub async fn celebrities(&self) -> ApiResult<Arc<HashSet<Id>>> {
        if let Ok(guard) = self.celebrities.read()
            && let Some((at, set)) = guard.as_ref()
            && at.elapsed() < CELEBRITY_TTL
        {
            return Ok(set.clone());
        }
        let queries: Vec<Query> = keys::celebrity_partitions(self.config.shards.celebrities).into_iter().map(|pk| Query::partition(pk, 100_000)).collect();
        let shards = try_join_all(queries.iter().map(|q| self.store.query(q))).await?;
        let set: Arc<HashSet<Id>> = Arc::new(shards.iter().flatten().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect());
        if let Ok(mut guard) = self.celebrities.write() {
            *guard = Some((Instant::now(), set.clone()));
        }
        Ok(set)
    }

    /// Forgets the cached celebrity set (after a change this process made).
    pub fn invalidate_celebrities(&self) {
        if let Ok(mut guard) = self.celebrities.write() {
            *guard = None;
        }
    }

    /// Builds `viewer`'s home timeline from the store if the cache lacks it.
    pub async fn ensure_home(&self, viewer: Id) -> ApiResult<()> {
        Ok(self.build_home(viewer).await??)
    }

    /// [`App::ensure_home`], telling a cache failure (inner) from a store failure (outer), so a
    /// read can go on without the cache.
    async fn build_home(&self, viewer: Id) -> ApiResult<Result<(), CacheError>> {
        let key = home_key(viewer);
        if self.unfinished_homes.lock().unwrap_or_else(PoisonError::into_inner).contains(&viewer) {
            // Marked built by a rebuild the cache failed in the middle of: start again.
            if let Err(e) = self.timelines.drop_timeline(&key).await {
                return Ok(Err(e));
            }
            self.unfinished_homes.lock().unwrap_or_else(PoisonError::into_inner).remove(&viewer);
        }
        match self.timelines.exists(&key).await {
            Ok(true) => return Ok(Ok(())),
            Ok(false) => {}
            Err(e) => return Ok(Err(e)),
        }
        // Mark first: fanout from now on lands in it; what committed before is read below.
        if let Err(e) = self.timelines.create(&key).await {
            // It may have been marked nonetheless (an answer lost to a timeout).
            self.unfinished_homes.lock().unwrap_or_else(PoisonError::into_inner).insert(viewer);
            return Ok(Err(e));
        }
        let cap = self.config.timelines.cap;
        let entries = match self.rebuilt_home(viewer, cap).await {
            Ok(entries) => entries,
            Err(e) => {
                self.unfinished_homes.lock().unwrap_or_else(PoisonError::into_inner).insert(viewer);
                return Err(e);
            }
        };
        if let Err(e) = self.timelines.insert(&key, &entries, cap).await {
            self.unfinished_homes.lock().unwrap_or_else(PoisonError::into_inner).insert(viewer);
            return Ok(Err(e));
        }
        Ok(Ok(()))
    }

    /// The newest `cap` entries of `viewer`'s home, read from the store: what fanout would have
    /// left in the cache (followed celebrities excluded: they are merged in at read time).
    async fn rebuilt_home(&self, viewer: Id, cap: usize) -> ApiResult<Vec<TimelineEntry>> {
        let celebrities = self.celebrities().await?;
        let most = self.config.timelines.rebuild_max_followees;
        let followees = self.store.query(&Query { descending: true, ..Query::partition(keys::following_partition(viewer), most) }).await?;
        // Members of the viewer's exclusive lists are read in those lists only.
        let excluded = lists::exclusive_members(self, viewer).await?;
        let mut sources: Vec<Id> = Vec::with_capacity(followees.len() + 1);
        sources.push(viewer);
        let mut followed = HashSet::with_capacity(followees.len() + 1);
        followed.insert(viewer);
        for item in &followees {
            let target = model::decode::<Ref>(item)?.id;
            followed.insert(target);
            if !celebrities.contains(&target) && !excluded.contains(&target) {
                sources.push(target);
            }
        }
        // Public posts of the tags the viewer follows (the newest follows, bounded like the
        // followees), by authors it does not follow: what tag fanout pushed.
        let mut partitions: Vec<String> = sources.iter().map(|source| keys::account_statuses_partition(*source)).collect();
        for tag in self.followed_tag_names(viewer).await? {
            partitions.extend(keys::tag_partitions(&tag, self.config.shards.tags));
        }
        let relations = Relations::following(followed);
        self.merge_newest_of(partitions, cap, |i, item| match sources.get(i) {
            Some(source) => self.home_entry(viewer, *source, item, &relations),
            None => {
                let Some(id) = Id::from_sort_key(&item.key.sk) else { return Ok(None) };
                let author = model::decode::<PublicEntry>(item)?.id;
                Ok((!relations.follows(author)).then_some(TimelineEntry { id, reblog_of: None }))
            }
        })
        .await
    }

    /// The cached home's ids for `window`, or, while the cache is unavailable (a Redis
    /// outage, its circuit breaker open), the same page rebuilt from the store, not cached.
    async fn home_page(&self, viewer: Id, window: &Window) -> ApiResult<Vec<Id>> {
        let cached = match self.build_home(viewer).await? {
            Ok(()) => self.timelines.range(&home_key(viewer), window).await,
            Err(e) => Err(e),
        };
        match cached {
            Ok(ids) => Ok(ids),
            Err(e) => {
                // Logged per read at debug only: the cache adapter logs its outage (redis: the breaker opening).
                tracing::debug!(error = %e, "timeline cache unavailable; home read from the store");
                // A first page needs only its own length; any other may lie deep in the home.
                let cap = if window.before.is_none() && window.after.is_none() { window.limit } else { self.config.timelines.cap };
                let entries = self.rebuilt_home(viewer, cap.min(self.config.timelines.cap)).await?;
                Ok(window.select_from_newest_first(entries.into_iter().map(|e| e.id)))
            }
        }
    }

    /// The newest `cap` entries of `sources`' statuses that `keep` turns into timeline entries
    /// (given the source and its `AS#` item), newest first: what fanout would have left in the
    /// timeline. A k-way merge over each source's `AS#` partition: a first small page from
    /// every source, then further pages only from the source whose entries are still the
    /// newest, so a prolific source fills the timeline as it would have by fanout.
    pub(crate) async fn merge_newest(
        &self,
        sources: &[Id],
        cap: usize,
        keep: impl Fn(Id, &Item) -> ApiResult<Option<TimelineEntry>>,
    ) -> ApiResult<Vec<TimelineEntry>> {
        let partitions = sources.iter().map(|source| keys::account_statuses_partition(*source)).collect();
        self.merge_newest_of(partitions, cap, |i, item| keep(sources[i], item)).await
    }

    /// [`App::merge_newest`] over any id-keyed `partitions` (`keep` gets the partition's index):
    /// an id kept from several of them (a status in two followed tags' partitions) is an entry
    /// once.
    pub(crate) async fn merge_newest_of(
        &self,
        partitions: Vec<String>,
        cap: usize,
        keep: impl Fn(usize, &Item) -> ApiResult<Option<TimelineEntry>>,
    ) -> ApiResult<Vec<TimelineEntry>> {
        const MAX_PAGE: usize = 100;
        struct Cursor {
            partition: String,
            page: std::collections::VecDeque<Item>,
            /// More items may follow the page (it came back full).
            more: bool,
        }
        let first_page = (cap / partitions.len().max(1)).clamp(10, MAX_PAGE);
        // The first pages `read_concurrency` at a time (in order), not one round trip after another.
        let cursors: Vec<Cursor> = stream::iter(partitions)
            .map(|partition| async move {
                let items = self.store.query(&Query { descending: true, ..Query::partition(partition.clone(), first_page) }).await?;
                ApiResult::Ok(Cursor { partition, more: items.len() == first_page, page: items.into() })
            })
            .buffered(self.config.timelines.read_concurrency.max(1))
            .try_collect()
            .await?;
        let mut cursors = cursors;
        // The newest unread item of each cursor, by id.
        let mut heads: std::collections::BinaryHeap<(Id, usize)> =
            cursors.iter().enumerate().filter_map(|(i, c)| c.page.front().and_then(|item| Id::from_sort_key(&item.key.sk)).map(|id| (id, i))).collect();
        let mut entries = Vec::new();
        while entries.len() < cap {
            let Some((_, i)) = heads.pop() else { break };
            let cursor = &mut cursors[i];
            let Some(item) = cursor.page.pop_front() else { continue };
            // Equal ids leave the heap one after the other: an entry kept already is not kept
            // again (the partition that keeps it may come second).
            if let Some(entry) = keep(i, &item)?
                && entries.last().is_none_or(|last: &TimelineEntry| last.id != entry.id)
            {
                entries.push(entry);
            }
            if cursor.page.is_empty() && cursor.more {
                let query = Query { descending: true, before: Some(item.key.sk.clone()), ..Query::partition(cursor.partition.clone(), MAX_PAGE) };
                let items = self.store.query(&query).await?;
                cursor.more = items.len() == MAX_PAGE;
                cursor.page = items.into();
            }
            if let Some(id) = cursor.page.front().and_then(|next| Id::from_sort_key(&next.key.sk)) {
                heads.push((id, i));
            }
        }
        Ok(entries)
    }

    /// Copies `target`'s recent statuses into `follower`'s home, if it is built and `target` is
    /// neither pulled at read time (a celebrity) nor kept out by an exclusive list.
    pub(crate) async fn backfill_home(&self, follower: Id, target: Id) -> ApiResult<()> {
        let key = home_key(follower);
        if !self.timelines.exists(&key).await? || self.celebrities().await?.contains(&target) {
            return Ok(());
        }
        if lists::exclusive_members(self, follower).await?.contains(&target) {
            return Ok(());
        }
        let items =
            self.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(target), self.config.timelines.backfill) }).await?;
        let relations = Relations::following(self.following_set(follower).await?);
        let mut entries = Vec::new();
        for item in &items {
            entries.extend(self.home_entry(follower, target, item, &relations)?);
        }
        self.timelines.insert(&key, &entries, self.config.timelines.cap).await?;
        Ok(())
    }

    /// The ids of `account`'s newest `cap` statuses and boosts.
    pub(crate) async fn newest_statuses(&self, account: Id, cap: usize) -> ApiResult<Vec<Id>> {
        let items = self.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(account), cap) }).await?;
        Ok(items.iter().filter_map(|i| Id::from_sort_key(&i.key.sk)).collect())
    }

    /// Turns an `AS#` item into a home entry if the viewer should see it there.
    pub(crate) fn home_entry(&self, viewer: Id, author: Id, item: &Item, relations: &Relations) -> ApiResult<Option<TimelineEntry>> {
        let Some(id) = Id::from_sort_key(&item.key.sk) else { return Ok(None) };
        let entry: AccountStatusEntry = model::decode(item)?;
        Ok(feed::in_home(viewer, relations, &FeedItem::entry(author, &entry)).then_some(TimelineEntry { id, reblog_of: entry.reblog_of }))
    }

    /// Home-timeline ids for a window: the cached entries merged with followed celebrities' posts.
    pub async fn home_ids(&self, viewer: Id, window: &Window) -> ApiResult<Vec<Id>> {
        let mut ids = self.home_page(viewer, window).await?;
        let celebrities = self.celebrities().await?;
        if !celebrities.is_empty() {
            let candidates: Vec<Id> = celebrities.iter().copied().collect();
            let mut followed = Relations::load(self, viewer, &candidates).await?.followed().clone();
            if !followed.is_empty() {
                let excluded = lists::exclusive_members(self, viewer).await?;
                followed.retain(|celebrity| !excluded.contains(celebrity));
            }
            if !followed.is_empty() {
                let mut all_followed: Option<Relations> = None;
                let no_one = Relations::default();
                let mut seen_originals: HashSet<Id> = HashSet::new();
                let mut boosts: Vec<(Id, Id)> = Vec::new();
                let pages: Vec<(Id, Arc<Vec<Item>>)> = stream::iter(followed)
                    .map(|celebrity| async move { ApiResult::Ok((celebrity, self.celebrity_page(celebrity, window).await?)) })
                    .buffered(self.config.timelines.read_concurrency.max(1))
                    .try_collect()
                    .await?;
                for (celebrity, items) in pages {
                    for item in items.iter() {
                        let entry: AccountStatusEntry = model::decode(item)?;
                        if entry.in_reply_to_account.is_some() && all_followed.is_none() {
                            let set = self.following_set(viewer).await?;
                            all_followed = Some(Relations::following(set));
                        }
                        let followed_set = all_followed.as_ref().unwrap_or(&no_one);
                        if let Some(e) = self.home_entry(viewer, celebrity, item, followed_set)? {
                            match e.reblog_of {
                                Some(original) => {
                                    if seen_originals.insert(original) {
                                        boosts.push((e.id, original));
                                    }
                                }
                                None => ids.push(e.id),
                            }
                        }
                    }
                }
                if !boosts.is_empty() {
                    // One entry per original status, as the cache keeps it: a merged boost of
                    // something the page already shows (itself or boosted) is left out.
                    let shown: HashSet<Id> = self.cached_status_records(&ids).await?.values().map(|r| r.reblog_of.unwrap_or(r.id)).collect();
                    ids.extend(boosts.into_iter().filter(|(_, original)| !shown.contains(original)).map(|(boost, _)| boost));
                }
                ids.sort_unstable_by(|a, b| b.cmp(a));
                ids.dedup();
                ids = window.select_from_newest_first(ids.into_iter());
            }
        }
        Ok(ids)
    }

    /// A celebrity's `AS#` entries in `window`. Its newest entries (the head page) are what
    /// every follower's home pages merge in: kept in process for `[timelines] hot_ttl_ms`, and
    /// any window they hold the whole answer to (a first page, or the next pages while they
    /// stay within the head) is cut from them; a deeper window is read from the store.
    async fn celebrity_page(&self, celebrity: Id, window: &Window) -> ApiResult<Arc<Vec<Item>>> {
        const HEAD: usize = 40;
        let partition = keys::account_statuses_partition(celebrity);
        if window.limit > HEAD || !self.hot.celebrity_heads.enabled() {
            return Ok(Arc::new(self.store.query(&Query::window(partition, window)).await?));
        }
        let head = Query { descending: true, ..Query::partition(partition.clone(), HEAD) };
        let page = self.hot.celebrity_heads.get_or_fill(celebrity, async { self.store.query(&head).await.map(Arc::new) }).await?;
        match from_head(&page, page.len() < HEAD, window) {
            Some(items) => Ok(Arc::new(items)),
            None => Ok(Arc::new(self.store.query(&Query::window(partition, window)).await?)),
        }
    }

    /// Mastodon's unmerge when `viewer` stops following `tag`: what only the tag brought leaves
    /// the cached home — posts carrying it by authors the viewer does not follow, unless a tag
    /// it still follows brought them too. (A home not built holds nothing; a rebuild leaves
    /// them out anyway, reading only the tags still followed.)
    pub(crate) async fn unmerge_tag(&self, viewer: Id, tag: &str) -> ApiResult<()> {
        let key = home_key(viewer);
        if !self.timelines.exists(&key).await? {
            return Ok(());
        }
        let whole = Window { after: None, before: None, oldest_first: false, limit: self.config.timelines.cap };
        let ids = self.timelines.range(&key, &whole).await?;
        let records = self.status_records(&ids).await?;
        let tagged: Vec<&StatusRecord> =
            records.values().filter(|r| r.reblog_of.is_none() && r.account_id != viewer && r.tags.iter().any(|t| t == tag)).collect();
        if tagged.is_empty() {
            return Ok(());
        }
        let following = self.following_set(viewer).await?;
        let still: HashSet<String> = self.followed_tag_names(viewer).await?.into_iter().collect();
        let gone: Vec<Id> = tagged.iter().filter(|r| !following.contains(&r.account_id) && !r.tags.iter().any(|t| still.contains(t))).map(|r| r.id).collect();
        if !gone.is_empty() {
            self.timelines.remove(&key, &gone).await?;
        }
        Ok(())
    }

    /// The tags `viewer` follows that its home reads: the newest [`MAX_REBUILD_TAGS`] follows.
    async fn followed_tag_names(&self, viewer: Id) -> ApiResult<Vec<String>> {
        let items = self.store.query(&Query { descending: true, ..Query::partition(keys::followed_tags_partition(viewer), MAX_REBUILD_TAGS) }).await?;
        items.iter().map(|item| model::decode::<TagName>(item).map(|t| t.name)).collect()
    }

    /// Everyone `viewer` follows (bounded), for reply filtering.
    pub(crate) async fn following_set(&self, viewer: Id) -> ApiResult<HashSet<Id>> {
        let items = self.store.query(&Query::partition(keys::following_partition(viewer), self.config.timelines.rebuild_max_followees)).await?;
        items.iter().map(|i| model::decode::<Ref>(i).map(|r| r.id)).collect()
    }

    /// Scans id-keyed `partitions` (the shards of one partition, or several partitions) through
    /// `window` as one, keeping items `keep` accepts, until the page is full or the partitions
    /// end (or the page budget does). An id in several partitions counts once. Returns ids
    /// newest first.
    pub(crate) async fn scan_ids(&self, partitions: Vec<String>, window: &Window, keep: impl Fn(&Item) -> ApiResult<bool>) -> ApiResult<Vec<Id>> {
        const MIN_PAGE: usize = 20;
        let shards = partitions.len();
        let first = ShardScan::first_page(window.limit, shards, MIN_PAGE);
        let mut scan = ShardScan::window(partitions, window, first, window.limit.max(MIN_PAGE), (MAX_SCAN_PAGES - 1) * shards);
        let mut out = Vec::new();
        let mut last = None;
        while out.len() < window.limit
            && let Some(item) = scan.next(self).await?
        {
            let Some(id) = Id::from_sort_key(&item.key.sk) else { continue };
            if last.replace(id) == Some(id) {
                continue;
            }
            if keep(&item)? {
                out.push(id);
            }
        }
        if window.oldest_first {
            out.reverse();
        }
        Ok(out)
    }
}

/// The homes `item` is pushed into (and streamed to): the policy's recipients, or only the
/// author's home for an account whose posts are pulled at read time (a celebrity); less the
/// owners of exclusive lists holding the author (they read the author in those lists); plus
/// the followers of its hashtags `tags` the tag rules let it reach (`policy::tags`), each
/// home once.
pub async fn push_recipients(app: &App, item: &FeedItem<'_>, tags: &[String]) -> ApiResult<Vec<Id>> {
    let pulled = item.visibility != shared::wire::Visibility::Direct && app.celebrities().await?.contains(&item.author);
    let mut recipients = feed::home_recipients(app, item, pulled).await?;
    let excluding = lists::exclusive_owners(&lists::lists_with(app, item.author).await?);
    if !excluding.is_empty() {
        recipients.retain(|r| *r == item.author || !excluding.contains(r));
    }
    if !tags.is_empty() {
        let reached: HashSet<Id> = recipients.iter().copied().collect();
        recipients.extend(policy_tags::tag_recipients(app, item, tags, &reached).await?);
    }
    Ok(recipients)
}

/// The entries of `window` cut from `head` (a partition's newest entries, newest first; the
/// whole partition when `complete`), or `None` when the answer may hold entries older than the
/// head. Newest first, or oldest first for an `oldest_first` window, as a store query answers.
fn from_head(head: &[Item], complete: bool, window: &Window) -> Option<Vec<Item>> {
    let oldest_held = head.last().and_then(|i| Id::from_sort_key(&i.key.sk));
    // Every entry newer than the head's oldest is in the head.
    let all_after_held = complete || window.after.zip(oldest_held).is_some_and(|(after, oldest)| after >= oldest);
    let inside = head.iter().filter(|i| Id::from_sort_key(&i.key.sk).is_some_and(|id| window.contains(id)));
    if window.oldest_first {
        // The oldest entries after `after`: all of them must be held.
        return all_after_held.then(|| inside.rev().take(window.limit).cloned().collect());
    }
    let newest: Vec<Item> = inside.take(window.limit).cloned().collect();
    // Anything not held is older than every held entry: a full page is the answer.
    (newest.len() == window.limit || all_after_held).then_some(newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{Key, Value};

    /// Entries with ids 10, 20, …, 10 × n, newest first.
    fn head(n: u64) -> Vec<Item> {
        (1..=n).rev().map(|i| Item { key: Key::new("AS#1", Id::from_u64(i * 10).sort_key()), value: Value::Count(0) }).collect()
    }

    fn ids(items: Option<Vec<Item>>) -> Option<Vec<u64>> {
        items.map(|v| v.iter().map(|i| Id::from_sort_key(&i.key.sk).unwrap().as_u64()).collect())
    }

    fn window(after: Option<u64>, before: Option<u64>, oldest_first: bool, limit: usize) -> Window {
        Window { after: after.map(Id::from_u64), before: before.map(Id::from_u64), oldest_first, limit }
    }

    #[test]
    fn windows_the_head_holds_are_cut_from_it_and_deeper_ones_are_not() {
        let held = head(5); // 50 40 30 20 10, more may be older
        assert_eq!(ids(from_head(&held, false, &window(None, None, false, 3))), Some(vec![50, 40, 30]), "the first page");
        assert_eq!(ids(from_head(&held, false, &window(None, Some(40), false, 2))), Some(vec![30, 20]), "the next page, still held");
        assert_eq!(ids(from_head(&held, false, &window(None, Some(30), false, 3))), None, "would need entries older than the head");
        assert_eq!(ids(from_head(&held, true, &window(None, Some(30), false, 3))), Some(vec![20, 10]), "unless the head is everything");
        assert_eq!(ids(from_head(&held, false, &window(Some(20), None, false, 5))), Some(vec![50, 40, 30]), "since_id within the head");
        assert_eq!(ids(from_head(&held, false, &window(Some(5), None, false, 9))), None, "since_id older than the head");
        assert_eq!(ids(from_head(&held, false, &window(Some(20), None, true, 2))), Some(vec![30, 40]), "min_id: the oldest after it");
        assert_eq!(ids(from_head(&held, false, &window(Some(5), None, true, 2))), None, "min_id older than the head");
        assert_eq!(ids(from_head(&[], true, &window(None, None, false, 3))), Some(vec![]), "an empty partition");
    }
}

//! A list's timeline: cached like home (fanout adds to it, capped), rebuilt from the members'
//! statuses when the cache lacks it, and read from the store, uncached, while the cache is down.
//! Unlike home, celebrities' posts are pushed too: an account is in far fewer lists than it
//! has followers.

use std::collections::HashSet;

use shared::id::Id;
use shared::page::Window;

use crate::error::ApiResult;
use crate::model::{self, AccountStatusEntry, FollowRecord, ListRecord, MuteRecord};
use crate::policy::FeedItem;
use crate::policy::lists::in_list;
use crate::ports::{CacheError, Item, Query, TimelineEntry};
use crate::{App, keys};

/// Cache key of a list's timeline.
pub fn list_key(list: Id) -> String {
    format!("list:{list}")
}

impl App {
    /// Entry ids of `owner`'s `list` for `window`, newest first: from the cache (built first if
    /// missing) or, while the cache is unavailable, from the store.
    pub(crate) async fn list_ids(&self, owner: Id, list: &ListRecord, window: &Window) -> ApiResult<Vec<Id>> {
        let cached = match self.build_list(owner, list).await? {
            Ok(()) => self.timelines.range(&list_key(list.id), window).await,
            Err(e) => Err(e),
        };
        match cached {
            Ok(ids) => Ok(ids),
            Err(e) => {
                tracing::debug!(error = %e, "timeline cache unavailable; list read from the store");
                let entries = self.rebuilt_list(owner, list, self.config.timelines.cap).await?;
                Ok(window.select_from_newest_first(entries.into_iter().map(|e| e.id)))
            }
        }
    }

    /// Builds the list's timeline from the store if the cache lacks it (a cache failure inner,
    /// a store failure outer).
    async fn build_list(&self, owner: Id, list: &ListRecord) -> ApiResult<Result<(), CacheError>> {
        let key = list_key(list.id);
        match self.timelines.exists(&key).await {
            Ok(true) => return Ok(Ok(())),
            Ok(false) => {}
            Err(e) => return Ok(Err(e)),
        }
        // Mark first: fanout from now on lands in it; what committed before is read below.
        if let Err(e) = self.timelines.create(&key).await {
            return Ok(Err(e));
        }
        let cap = self.config.timelines.cap;
        let filled = match self.rebuilt_list(owner, list, cap).await {
            Ok(entries) => self.timelines.insert(&key, &entries, cap).await.map(|_| ()),
            Err(e) => {
                // Not left marked built but empty: the next read tries again.
                let _ = self.timelines.drop_timeline(&key).await;
                return Err(e);
            }
        };
        if let Err(e) = filled {
            let _ = self.timelines.drop_timeline(&key).await;
            return Ok(Err(e));
        }
        Ok(Ok(()))
    }

    /// The newest `cap` entries of the list, read from the store: what fanout would have left.
    async fn rebuilt_list(&self, owner: Id, list: &ListRecord, cap: usize) -> ApiResult<Vec<TimelineEntry>> {
        let members = self.list_members(list.id).await?;
        let judge = ListJudge::load(self, owner, list, &members).await?;
        let sources: Vec<Id> = members.into_iter().filter(|m| judge.accepts_author(*m)).collect();
        self.merge_newest(&sources, cap, |source, item| judge.entry(source, item)).await
    }

    /// Copies a new member's recent statuses into the list's timeline, if it is built.
    pub(crate) async fn backfill_list(&self, owner: Id, list: &ListRecord, member: Id) -> ApiResult<()> {
        let key = list_key(list.id);
        if !self.timelines.exists(&key).await? {
            return Ok(());
        }
        let members = self.list_members(list.id).await?;
        let judge = ListJudge::load(self, owner, list, &members).await?;
        if !judge.accepts_author(member) {
            return Ok(());
        }
        let items =
            self.store.query(&Query { descending: true, ..Query::partition(keys::account_statuses_partition(member), self.config.timelines.backfill) }).await?;
        let mut entries = Vec::new();
        for item in &items {
            entries.extend(judge.entry(member, item)?);
        }
        self.timelines.insert(&key, &entries, self.config.timelines.cap).await?;
        Ok(())
    }
}

/// What deciding a rebuilt list's entries needs to know: the policy, the owner's follows, the
/// members, and which members' boosts the owner hides or which members the owner mutes.
struct ListJudge {
    policy: shared::wire::ListRepliesPolicy,
    following: HashSet<Id>,
    members: HashSet<Id>,
    hides_boosts: HashSet<Id>,
    muted: HashSet<Id>,
}

impl ListJudge {
    async fn load(app: &App, owner: Id, list: &ListRecord, members: &[Id]) -> ApiResult<Self> {
        let following = app.following_set(owner).await?;
        let follows = app.store.get_many(&members.iter().map(|m| keys::follow_edge(owner, *m)).collect::<Vec<_>>()).await?;
        let mutes = app.store.get_many(&members.iter().map(|m| keys::mute_edge(owner, *m)).collect::<Vec<_>>()).await?;
        let now = crate::clock::now_ms();
        let (mut hides_boosts, mut muted) = (HashSet::new(), HashSet::new());
        for ((member, follow), mute) in members.iter().zip(follows).zip(mutes) {
            if !follow.map(|f| model::decode::<FollowRecord>(&f)).transpose()?.is_some_and(|f| f.reblogs) {
                hides_boosts.insert(*member);
            }
            if mute.map(|m| model::decode::<MuteRecord>(&m)).transpose()?.is_some_and(|m| m.active(now)) {
                muted.insert(*member);
            }
        }
        Ok(ListJudge { policy: list.replies_policy, following, members: members.iter().copied().collect(), hides_boosts, muted })
    }

    fn accepts_author(&self, member: Id) -> bool {
        !self.muted.contains(&member)
    }

    /// Turns a member's `AS#` item into a list entry if the list shows it.
    fn entry(&self, member: Id, item: &Item) -> ApiResult<Option<TimelineEntry>> {
        let Some(id) = Id::from_sort_key(&item.key.sk) else { return Ok(None) };
        let entry: AccountStatusEntry = model::decode(item)?;
        if entry.reblog_of.is_some() && self.hides_boosts.contains(&member) {
            return Ok(None);
        }
        let target = entry.in_reply_to_account;
        let shown = in_list(
            self.policy,
            target.is_some_and(|t| self.following.contains(&t)),
            target.is_some_and(|t| self.members.contains(&t)),
            &FeedItem::entry(member, &entry),
        );
        Ok(shown.then_some(TimelineEntry { id, reblog_of: entry.reblog_of }))
    }
}

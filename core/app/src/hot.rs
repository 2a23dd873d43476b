//! In-process copies of hot, public data, trusted for a bounded time (`[timelines] hot_ttl_ms`):
//! what every reader of a viral status, of a celebrity's home-merged posts or of the instance
//! counts would otherwise read from one store item at once. What this process changes itself is
//! forgotten at once ([`HotCaches::forget_status`]); other processes' changes show within the bound.
//!
//! One account's own settings that every read of its applies (its filters, its pins, its
//! notification policy) are kept the same way, keyed by that account and used for it alone.
//!
//! Must never: hold anything one reader may see and another may not (records are checked for
//! visibility after they are read, as from the store; an account's settings serve only that
//! account), nor grow without bound.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use shared::id::Id;

use crate::model::{FilterRecord, NotificationPolicyRecord, StatusRecord};
use crate::ports::Item;

/// Entries each cache keeps at most (then the expired ones go, or everything).
const CAPACITY: usize = 10_000;

tokio::task_local! {
    /// Set while a store read fills an in-process copy.
    static FILLING: ();
}

/// Runs `read`, a store read whose result becomes an in-process copy, marked as such: each
/// process repeats it at most once per `hot_ttl_ms` and key, whatever the request rate, and the
/// capacity model (a recording store, loadgen) rates it so.
pub async fn filling<F: std::future::Future>(read: F) -> F::Output {
    FILLING.scope((), read).await
}

/// Whether the running task is inside [`filling`].
pub fn is_filling() -> bool {
    FILLING.try_with(|()| ()).is_ok()
}

/// A map whose entries are trusted for `ttl` (never, when it is zero).
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    inner: Mutex<Copies<K, V>>,
}

struct Copies<K, V> {
    /// Each copy: when its read began, the `seq` then, the value.
    entries: HashMap<K, (Instant, u64, V)>,
    /// Counts this process's changes ([`TtlCache::mark`], [`TtlCache::changed_since`],
    /// [`TtlCache::forget`]).
    seq: u64,
    /// The `seq` of each key's last change (since `floor`).
    changed: HashMap<K, u64>,
    /// Changes up to here are no longer told apart: tickets older than it are refused.
    floor: u64,
}

/// Taken before this process changes a key ([`TtlCache::mark`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    seq: u64,
}

/// Taken before a store read whose result may be kept ([`TtlCache::ticket`]): the read's age,
/// and which of this process's changes it may have missed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    at: Instant,
    seq: u64,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        TtlCache { ttl, inner: Mutex::new(Copies { entries: HashMap::new(), seq: 0, changed: HashMap::new(), floor: 0 }) }
    }

    fn copies(&self) -> std::sync::MutexGuard<'_, Copies<K, V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether anything is kept at all.
    pub(crate) fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The copy of `key`, if younger than the bound.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        if !self.enabled() {
            return None;
        }
        self.copies().entries.get(key).filter(|(at, _, _)| at.elapsed() < self.ttl).map(|(_, _, v)| v.clone())
    }

    /// The copy of `key`, or else `read`'s result, kept ([`TtlCache::fill`]).
    pub(crate) async fn get_or_fill<E>(&self, key: K, read: impl std::future::Future<Output = Result<V, E>>) -> Result<V, E> {
        match self.get(&key) {
            Some(value) => Ok(value),
            None => self.fill(key, read).await,
        }
    }

    /// `read`'s result (a store read, run inside [`filling`]), kept for `key` whatever is kept
    /// now. `read` is a future not yet polled: its ticket is taken before it starts.
    pub(crate) async fn fill<E>(&self, key: K, read: impl std::future::Future<Output = Result<V, E>>) -> Result<V, E> {
        let ticket = self.ticket();
        let value = filling(read).await?;
        self.put(key, value.clone(), ticket);
        Ok(value)
    }

    /// Take before a store read whose result [`TtlCache::put`] may keep.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket { at: Instant::now(), seq: self.copies().seq }
    }

    /// Keeps `value` for `key`, read after `ticket` was taken: aged from then, and not at all if
    /// this process changed `key` since (the read may predate that change, which must show at
    /// once here).
    pub(crate) fn put(&self, key: K, value: V, ticket: Ticket) {
        if !self.enabled() {
            return;
        }
        let mut copies = self.copies();
        if ticket.seq < copies.floor || copies.changed.get(&key).is_some_and(|at| *at > ticket.seq) {
            return;
        }
        if copies.entries.len() >= CAPACITY {
            copies.entries.retain(|_, (at, _, _)| at.elapsed() < self.ttl);
            if copies.entries.len() >= CAPACITY {
                copies.entries.clear();
            }
        }
        copies.entries.insert(key, (ticket.at, ticket.seq, value));
    }

    /// Records a change of `key` by this process, so reads begun before it are not kept.
    fn changed(copies: &mut Copies<K, V>, key: &K) {
        copies.seq += 1;
        if copies.changed.len() >= CAPACITY {
            copies.changed.clear();
            copies.floor = copies.seq;
        }
        let seq = copies.seq;
        copies.changed.insert(key.clone(), seq);
    }

    /// Marks the start of a change of `key` by this process: reads in flight are not kept from
    /// now on. Pass the mark to [`TtlCache::changed_since`] once the change committed.
    pub(crate) fn mark(&self, key: &K) -> Mark {
        let mut copies = self.copies();
        Self::changed(&mut copies, key);
        Mark { seq: copies.seq }
    }

    /// Applies `change` (what this process committed since `mark`) to the copy of `key`, if one
    /// is kept from a read begun before the mark (its age stays: only the change is newer); a
    /// copy read since may hold the change already, so it is forgotten instead, as is any read
    /// still in flight. `change` answers whether the copy it changed is still exact; if not, it is
    /// forgotten too.
    pub(crate) fn changed_since(&self, key: &K, mark: Mark, change: impl FnOnce(&mut V) -> bool) {
        if !self.enabled() {
            return;
        }
        let mut copies = self.copies();
        Self::changed(&mut copies, key);
        let exact = match copies.entries.get_mut(key) {
            Some((_, read, value)) if *read < mark.seq => change(value),
            Some(_) => false,
            None => true,
        };
        if !exact {
            copies.entries.remove(key);
        }
    }

    /// Forgets every copy, and any read in flight.
    pub(crate) fn clear(&self) {
        let mut copies = self.copies();
        copies.entries.clear();
        copies.seq += 1;
        copies.floor = copies.seq;
        copies.changed.clear();
    }

    /// Forgets `key` (this process changed it), and any read of it in flight.
    pub(crate) fn forget(&self, key: &K) {
        if self.enabled() {
            let mut copies = self.copies();
            Self::changed(&mut copies, key);
            copies.entries.remove(key);
        }
    }
}

/// The counts of a status: replies, boosts, favourites, quotes standing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct StatusCounts {
    pub(crate) replies: u64,
    pub(crate) reblogs: u64,
    pub(crate) favourites: u64,
    pub(crate) quotes: u64,
}

/// One of this process's writes to a status's counts: which count, by how much.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CountChange {
    Favourites(i64),
    Reblogs(i64),
}

impl StatusCounts {
    /// Applies `change`; false when a count would go below zero (changes committed together can
    /// be applied out of order, so such counts are no longer known exactly).
    fn apply(&mut self, change: CountChange) -> bool {
        let (count, delta) = match change {
            CountChange::Favourites(delta) => (&mut self.favourites, delta),
            CountChange::Reblogs(delta) => (&mut self.reblogs, delta),
        };
        match count.checked_add_signed(delta) {
            Some(changed) => {
                *count = changed;
                true
            }
            None => false,
        }
    }
}

/// Every hot copy the app keeps.
pub(crate) struct HotCaches {
    /// Public and unlisted statuses' records.
    pub(crate) statuses: TtlCache<Id, StatusRecord>,
    /// Public and unlisted statuses' counts (summed over their shards).
    pub(crate) counts: TtlCache<Id, StatusCounts>,
    /// Each celebrity's newest `AS#` entries (the head page a home merges in).
    pub(crate) celebrity_heads: TtlCache<Id, Arc<Vec<Item>>>,
    /// The instance's (users, statuses) counts, summed over their shards.
    pub(crate) instance: TtlCache<(), (u64, u64)>,
    /// Each account's filters as stored, applied to what it reads (a celebrity's notifications
    /// render its own posts under its filters once per favourite).
    pub(crate) filters: TtlCache<Id, Arc<Vec<FilterRecord>>>,
    /// Each account's pinned statuses, which its own posts show as `pinned`.
    pub(crate) pins: TtlCache<Id, Arc<HashSet<Id>>>,
    /// Each account's notification policy, which every notification it gets is checked against.
    pub(crate) policies: TtlCache<Id, NotificationPolicyRecord>,
    /// Celebrities' account items as their views read them ([`ACCOUNT_ITEMS`]: profile, the
    /// three counters, last status, moderation): every render of a viral post reads its
    /// author's. Forgotten on every process when its moderation changes (`hot_sync`).
    pub(crate) accounts: TtlCache<Id, AccountItems>,
    /// A celebrity's own flags on a status (favourited, boosted, bookmarked, thread muted), by
    /// (celebrity, status): every notification of a favourite of its viral post renders that
    /// post for it. Its own changes here forget them; a thread mute forgets them all.
    pub(crate) own_flags: TtlCache<(Id, Id), [bool; 4]>,
}

/// An account's items as its view reads them ([`ACCOUNT_ITEMS`] of them, absent ones `None`).
pub(crate) type AccountItems = Arc<Vec<Option<Item>>>;

/// How many items an account's view is read from (`App::account_views`); the last is its
/// moderation record.
pub(crate) const ACCOUNT_ITEMS: usize = 6;

impl HotCaches {
    pub(crate) fn new(ttl: Duration) -> Self {
        HotCaches {
            statuses: TtlCache::new(ttl),
            counts: TtlCache::new(ttl),
            celebrity_heads: TtlCache::new(ttl),
            instance: TtlCache::new(ttl),
            filters: TtlCache::new(ttl),
            pins: TtlCache::new(ttl),
            policies: TtlCache::new(ttl),
            accounts: TtlCache::new(ttl),
            own_flags: TtlCache::new(ttl),
        }
    }

    /// Applies this process's change to status `id`'s kept counts, committed since `mark`
    /// (`counts.mark(&id)`), so the answer to a favourite or boost is the kept counts plus its
    /// own change, not a read of every counter shard (the status's record did not change).
    pub(crate) fn count_changed(&self, id: Id, mark: Mark, change: CountChange) {
        self.counts.changed_since(&id, mark, |counts| counts.apply(change));
    }

    /// Forgets what this process knows of status `id` (it edited, deleted, favourited, boosted or
    /// replied to it), and of its author's head page and account (its statuses count).
    pub(crate) fn forget_status(&self, id: Id, author: Option<Id>) {
        self.statuses.forget(&id);
        self.counts.forget(&id);
        if let Some(author) = author {
            self.forget_author(author);
        }
    }

    /// Forgets what this process knows of `author`'s newest posts and account (it posted,
    /// boosted, edited or deleted).
    pub(crate) fn forget_author(&self, author: Id) {
        self.celebrity_heads.forget(&author);
        self.accounts.forget(&author);
    }

    /// The moderation record of `account` as kept with its view, if it is.
    pub(crate) fn kept_moderation(&self, account: Id) -> Option<Option<Item>> {
        self.accounts.get(&account).map(|items| items[ACCOUNT_ITEMS - 1].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_change_moves_only_its_count_and_never_below_zero() {
        let mut counts = StatusCounts { replies: 1, reblogs: 0, favourites: 5, quotes: 2 };
        assert!(counts.apply(CountChange::Favourites(1)));
        assert!(!counts.apply(CountChange::Reblogs(-1)), "below zero: not exact");
        assert_eq!(counts, StatusCounts { replies: 1, reblogs: 0, favourites: 6, quotes: 2 });
    }

    #[test]
    fn entries_expire_after_the_bound_and_a_zero_bound_keeps_nothing() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_millis(50));
        cache.put(1, 10, cache.ticket());
        assert_eq!(cache.get(&1), Some(10));
        cache.forget(&1);
        assert_eq!(cache.get(&1), None);
        cache.put(2, 20, cache.ticket());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&2), None, "expired");
        cache.put(3, 30, cache.ticket());
        let (mark3, mark4) = (cache.mark(&3), cache.mark(&4));
        cache.changed_since(&3, mark3, |v| {
            *v += 1;
            true
        });
        cache.changed_since(&4, mark4, |v| {
            *v += 1;
            true
        });
        assert_eq!((cache.get(&3), cache.get(&4)), (Some(31), None), "only a kept copy changes");
        let off: TtlCache<u32, u32> = TtlCache::new(Duration::ZERO);
        off.put(1, 10, off.ticket());
        assert_eq!(off.get(&1), None);
    }

    #[test]
    fn a_read_begun_before_this_processs_change_of_its_key_is_not_kept() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60));
        let early = cache.ticket();
        cache.mark(&1);
        cache.forget(&2);
        cache.put(1, 10, early);
        cache.put(2, 20, early);
        cache.put(3, 30, early);
        assert_eq!((cache.get(&1), cache.get(&2), cache.get(&3)), (None, None, Some(30)), "only the unchanged key is kept");
        let late = cache.ticket();
        cache.put(1, 11, late);
        assert_eq!(cache.get(&1), Some(11), "a read begun after the change is kept");
        // A copy read between a change's mark and its end may hold the change: it is forgotten,
        // not changed again; one read before the mark is changed.
        let mark = cache.mark(&1);
        cache.put(1, 12, cache.ticket());
        cache.changed_since(&1, mark, |v| {
            *v += 1;
            true
        });
        assert_eq!(cache.get(&1), None);
        cache.put(5, 50, cache.ticket());
        let mark = cache.mark(&5);
        cache.changed_since(&5, mark, |v| {
            *v += 1;
            true
        });
        assert_eq!(cache.get(&5), Some(51));
        let mark = cache.mark(&5);
        cache.changed_since(&5, mark, |_| false);
        assert_eq!(cache.get(&5), None, "a change that leaves the copy inexact forgets it");
        let before_clear = cache.ticket();
        cache.clear();
        cache.put(4, 40, before_clear);
        assert_eq!(cache.get(&4), None, "a clear refuses every read begun before it");
    }
}

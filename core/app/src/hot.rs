//! In-process copies of hot, public data, trusted for a bounded time (`[timelines] hot_ttl_ms`):
//! what every reader of a viral status, of a celebrity's home-merged posts or of the instance
//! counts would otherwise read from one store item at once. What this process changes itself is
//! forgotten at once ([`HotCaches::forget_status`]); other processes' changes show within the bound.
//!
//! Must never: hold anything one reader may see and another may not (records are checked for
//! visibility after they are read, as from the store), nor grow without bound.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use shared::id::Id;

use crate::model::StatusRecord;
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
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        TtlCache { ttl, entries: Mutex::new(HashMap::new()) }
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
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    /// Keeps `value` for `key`, read at `read_at` (taken before the store read, so a change this
    /// process committed while the read was in flight is not hidden for a whole `ttl`).
    pub(crate) fn put(&self, key: K, value: V, read_at: Instant) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (read_at, value));
    }

    /// Forgets `key` (this process changed it).
    pub(crate) fn forget(&self, key: &K) {
        if self.enabled() {
            self.entries.lock().unwrap_or_else(PoisonError::into_inner).remove(key);
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
}

impl HotCaches {
    pub(crate) fn new(ttl: Duration) -> Self {
        HotCaches { statuses: TtlCache::new(ttl), counts: TtlCache::new(ttl), celebrity_heads: TtlCache::new(ttl), instance: TtlCache::new(ttl) }
    }

    /// Forgets what this process knows of status `id` (it edited, deleted, favourited, boosted or
    /// replied to it), and of its author's head page.
    pub(crate) fn forget_status(&self, id: Id, author: Option<Id>) {
        self.statuses.forget(&id);
        self.counts.forget(&id);
        if let Some(author) = author {
            self.celebrity_heads.forget(&author);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_bound_and_a_zero_bound_keeps_nothing() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_millis(50));
        cache.put(1, 10, Instant::now());
        assert_eq!(cache.get(&1), Some(10));
        cache.forget(&1);
        assert_eq!(cache.get(&1), None);
        cache.put(2, 20, Instant::now());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&2), None, "expired");
        let off: TtlCache<u32, u32> = TtlCache::new(Duration::ZERO);
        off.put(1, 10, Instant::now());
        assert_eq!(off.get(&1), None);
    }
}

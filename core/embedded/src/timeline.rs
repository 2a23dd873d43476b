//! In-process home timelines: per timeline, an ordered map of entries plus a count of entries
//! per original status (so nothing is added for a status already shown, itself or boosted), sharded
//! behind a few mutexes so fanout to many timelines does not serialise readers.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use core_ports::ports::{CacheError, TimelineCache, TimelineEntry};
use shared::id::Id;
use shared::page::Window;

const SHARDS: usize = 32;

#[derive(Default)]
struct Timeline {
    /// Entry id → boosted original, if a boost.
    entries: BTreeMap<Id, Option<Id>>,
    /// Original status id → how many entries show it (itself or boosts).
    shown: HashMap<Id, u32>,
    version: u64,
}

impl Timeline {
    fn original(entry: &TimelineEntry) -> Id {
        entry.reblog_of.unwrap_or(entry.id)
    }

    fn add(&mut self, entry: TimelineEntry) -> bool {
        if self.entries.contains_key(&entry.id) {
            return false;
        }
        let original = Self::original(&entry);
        if self.shown.get(&original).is_some_and(|n| *n > 0) {
            return false;
        }
        self.entries.insert(entry.id, entry.reblog_of);
        *self.shown.entry(original).or_default() += 1;
        true
    }

    fn remove(&mut self, id: Id) -> bool {
        let Some(reblog_of) = self.entries.remove(&id) else { return false };
        let original = reblog_of.unwrap_or(id);
        if let Some(n) = self.shown.get_mut(&original) {
            *n -= 1;
            if *n == 0 {
                self.shown.remove(&original);
            }
        }
        true
    }

    fn trim(&mut self, cap: usize) {
        while self.entries.len() > cap {
            let Some((&oldest, _)) = self.entries.iter().next() else { break };
            self.remove(oldest);
        }
    }
}

/// Home timelines held in memory.
pub struct MemoryTimelineCache {
    shards: Vec<Mutex<HashMap<String, Timeline>>>,
    clock: AtomicU64,
}

impl Default for MemoryTimelineCache {
    fn default() -> Self {
        MemoryTimelineCache { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), clock: AtomicU64::new(1) }
    }
}

impl MemoryTimelineCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, HashMap<String, Timeline>> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % SHARDS as u64).unwrap_or(0);
        // A panic while holding the lock cannot leave a timeline half-updated in a way that
        // matters: it is a cache, so keep serving.
        self.shards[index].lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }
}

#[async_trait]
impl TimelineCache for MemoryTimelineCache {
    async fn exists(&self, timeline: &str) -> Result<bool, CacheError> {
        Ok(self.shard(timeline).contains_key(timeline))
    }

    async fn create(&self, timeline: &str) -> Result<(), CacheError> {
        let version = self.tick();
        self.shard(timeline).entry(timeline.to_owned()).or_insert_with(|| Timeline { version, ..Timeline::default() });
        Ok(())
    }

    async fn insert(&self, timeline: &str, entries: &[TimelineEntry], cap: usize) -> Result<usize, CacheError> {
        let version = self.tick();
        let mut shard = self.shard(timeline);
        let t = shard.entry(timeline.to_owned()).or_default();
        // Oldest first, so of several boosts of one status the earliest is the one kept.
        let mut sorted = entries.to_vec();
        sorted.sort_by_key(|e| e.id);
        let added = sorted.into_iter().filter(|e| t.add(*e)).count();
        t.trim(cap);
        if added > 0 {
            t.version = version;
        }
        Ok(added)
    }

    async fn fan_out(&self, timelines: &[String], entry: TimelineEntry, cap: usize) -> Result<usize, CacheError> {
        let mut delivered = 0;
        for key in timelines {
            let version = self.tick();
            let mut shard = self.shard(key);
            if let Some(t) = shard.get_mut(key.as_str()) {
                delivered += 1;
                if t.add(entry) {
                    t.trim(cap);
                    t.version = version;
                }
            }
        }
        Ok(delivered)
    }

    async fn remove(&self, timeline: &str, ids: &[Id]) -> Result<(), CacheError> {
        self.remove_from_all(&[timeline.to_owned()], ids).await
    }

    async fn remove_from_all(&self, timelines: &[String], ids: &[Id]) -> Result<(), CacheError> {
        for key in timelines {
            let version = self.tick();
            let mut shard = self.shard(key);
            if let Some(t) = shard.get_mut(key.as_str()) {
                let mut removed = false;
                for id in ids {
                    removed |= t.remove(*id);
                }
                if removed {
                    t.version = version;
                }
            }
        }
        Ok(())
    }

    async fn range(&self, timeline: &str, window: &Window) -> Result<Vec<Id>, CacheError> {
        let shard = self.shard(timeline);
        let Some(t) = shard.get(timeline) else { return Ok(Vec::new()) };
        let lower = window.after.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let upper = window.before.map_or(std::ops::Bound::Unbounded, std::ops::Bound::Excluded);
        let range = t.entries.range((lower, upper)).map(|(id, _)| *id);
        Ok(if window.oldest_first {
            let mut page: Vec<Id> = range.take(window.limit).collect();
            page.reverse();
            page
        } else {
            range.rev().take(window.limit).collect()
        })
    }

    async fn version(&self, timeline: &str) -> Result<u64, CacheError> {
        Ok(self.shard(timeline).get(timeline).map_or(0, |t| t.version))
    }

    async fn drop_timeline(&self, timeline: &str) -> Result<(), CacheError> {
        self.shard(timeline).remove(timeline);
        Ok(())
    }
}

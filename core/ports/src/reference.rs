//! In-memory reference adapters for the ports whose production adapters live outside the
//! process and have no embedded counterpart ([`EventSink`], [`PushPublisher`]): what their
//! contract suites are checked against in every `cargo test`, and handy doubles for tests.
//! Also [`MemoryRateLimiter`], the embedded rate-limit store, which core keeps besides a shared
//! one as its fallback while that one is unreachable.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use crate::ports::{CacheError, EventSink, LoggedEvent, PushError, PushMessage, PushPublisher, RateLimitStore, SinkError};
use shared::rate::{Decision, Quota};

/// An [`EventSink`] keeping what it was given, keyed by `seq` like a warehouse loader.
#[derive(Debug, Default)]
pub struct MemoryEventSink {
    events: Mutex<BTreeMap<u64, LoggedEvent>>,
    deliveries: Mutex<usize>,
    failing: AtomicBool,
}

impl MemoryEventSink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event handled, once per `seq`, in `seq` order.
    pub fn events(&self) -> Vec<LoggedEvent> {
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner).values().cloned().collect()
    }

    /// How many batches were accepted.
    pub fn deliveries(&self) -> usize {
        *self.deliveries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes every delivery fail (an unreachable downstream) until set back.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

/// Why [`MemoryEventSink`] refused a batch.
#[derive(Debug, thiserror::Error)]
#[error("the sink is down")]
struct Down;

#[async_trait]
impl EventSink for MemoryEventSink {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(SinkError::new("memory sink", Down));
        }
        let mut stored = self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for event in events {
            stored.insert(event.seq, event.clone());
        }
        *self.deliveries.lock().unwrap_or_else(std::sync::PoisonError::into_inner) += 1;
        Ok(())
    }
}

/// A [`PushPublisher`] keeping every message handed to it.
#[derive(Debug)]
pub struct MemoryPushPublisher {
    server_key: String,
    messages: Mutex<Vec<PushMessage>>,
    failing: AtomicBool,
}

impl MemoryPushPublisher {
    /// A publisher reporting `server_key` as its VAPID public key.
    pub fn new(server_key: impl Into<String>) -> Self {
        MemoryPushPublisher { server_key: server_key.into(), messages: Mutex::new(Vec::new()), failing: AtomicBool::new(false) }
    }

    /// Every message handed over, in order.
    pub fn messages(&self) -> Vec<PushMessage> {
        self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Makes every hand-over fail until set back.
    pub fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }
}

#[async_trait]
impl PushPublisher for MemoryPushPublisher {
    async fn publish(&self, message: &PushMessage) -> Result<(), PushError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(PushError::new("memory push publisher", Down));
        }
        self.messages.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(message.clone());
        Ok(())
    }

    fn server_key(&self) -> String {
        self.server_key.clone()
    }
}

const SHARDS: usize = 16;
/// Keys a shard holds before it sweeps out expired ones.
const SWEEP_AT: usize = 50_000;

/// Rate-limit state in process memory: GCRA timestamps in sharded maps, swept of expired keys.
pub struct MemoryRateLimiter {
    shards: Vec<Mutex<HashMap<String, u64>>>,
}

impl Default for MemoryRateLimiter {
    fn default() -> Self {
        MemoryRateLimiter { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect() }
    }
}

impl MemoryRateLimiter {
    /// Empty state.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RateLimitStore for MemoryRateLimiter {
    async fn hit(&self, key: &str, quota: Quota, now_ms: u64) -> Result<Decision, CacheError> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % SHARDS as u64).unwrap_or(0);
        let mut shard = self.shards[index].lock().unwrap_or_else(PoisonError::into_inner);
        if shard.len() >= SWEEP_AT {
            // A timestamp in the past means a full bucket: the key carries no information.
            shard.retain(|_, tat| *tat > now_ms);
        }
        let decision = quota.check(shard.get(key).copied(), now_ms);
        if decision.allowed {
            shard.insert(key.to_owned(), decision.tat_ms);
        }
        Ok(decision)
    }
}

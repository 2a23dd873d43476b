//! In-process rate-limit state: GCRA timestamps in sharded maps, swept of expired keys.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use core_ports::ports::{CacheError, RateLimitStore};
use shared::rate::{Decision, Quota};

const SHARDS: usize = 16;
/// Keys a shard holds before it sweeps out expired ones.
const SWEEP_AT: usize = 50_000;

/// Rate-limit state for one process.
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

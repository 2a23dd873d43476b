//! The [`RateLimitStore`] contract.

use shared::rate::Quota;

use super::ns;
use crate::ports::RateLimitStore;

const QUOTA: Quota = Quota::new(3, 3000);

/// Every promise in turn.
pub async fn all(store: &dyn RateLimitStore) {
    a_burst_is_cut_at_the_limit(store).await;
    capacity_returns_with_time(store).await;
    keys_are_independent(store).await;
}

async fn exhaust(store: &dyn RateLimitStore, key: &str, now_ms: u64) -> usize {
    let mut allowed = 0;
    for _ in 0..5 {
        if store.hit(key, QUOTA, now_ms).await.unwrap().allowed {
            allowed += 1;
        }
    }
    allowed
}

pub async fn a_burst_is_cut_at_the_limit(store: &dyn RateLimitStore) {
    let key = ns("rl");
    assert_eq!(exhaust(store, &key, 1_000_000).await, 3, "a burst is cut at the limit");
    let refused = store.hit(&key, QUOTA, 1_000_000).await.unwrap();
    assert!(!refused.allowed && refused.retry_after_ms > 0, "a refusal says when to retry");
}

pub async fn capacity_returns_with_time(store: &dyn RateLimitStore) {
    let key = ns("rl");
    exhaust(store, &key, 1_000_000).await;
    assert!(store.hit(&key, QUOTA, 1_001_000).await.unwrap().allowed, "capacity returns with time");
}

pub async fn keys_are_independent(store: &dyn RateLimitStore) {
    let key = ns("rl");
    exhaust(store, &key, 1_000_000).await;
    assert!(store.hit(&ns("rl-other"), QUOTA, 1_000_000).await.unwrap().allowed, "keys are independent");
}

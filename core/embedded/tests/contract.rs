//! The port contract suites against the embedded adapters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core_app::contract;
use core_embedded::{FsMediaStore, MemoryTimelineCache, RedbStore};

fn store() -> (tempfile::TempDir, RedbStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("starling.redb")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn redb_store_keeps_the_store_contract() {
    let (_dir, store) = store();
    contract::store_suite(&store).await;
}

#[tokio::test]
async fn redb_store_keeps_the_event_log_contract() {
    let (_dir, store) = store();
    contract::event_log_suite(&store, &store).await;
}

#[tokio::test]
async fn memory_cache_keeps_the_timeline_cache_contract() {
    contract::timeline_cache_suite(&MemoryTimelineCache::new()).await;
}

#[tokio::test]
async fn redb_store_survives_reopening_with_its_log_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starling.redb");
    {
        let store = RedbStore::open(&path).unwrap();
        contract::event_log_suite(&store, &store).await;
    }
    let reopened = RedbStore::open(&path).unwrap();
    use core_app::ports::EventLog;
    assert_eq!(reopened.head().await.unwrap(), 3, "the log head is recovered from disk");
}

#[tokio::test]
async fn memory_rate_limiter_keeps_the_rate_limit_contract() {
    contract::rate_limit_suite(&core_embedded::MemoryRateLimiter::new()).await;
}

#[tokio::test]
async fn filesystem_media_store_keeps_the_media_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    contract::media_store_suite(&FsMediaStore::open(&dir.path().join("media")).unwrap()).await;
}

#[tokio::test]
async fn redb_store_keeps_the_node_lease_contract() {
    let (_dir, store) = store();
    contract::node_lease_suite(std::sync::Arc::new(store)).await;
}

#[tokio::test]
async fn memory_stream_hub_keeps_the_stream_hub_contract() {
    let hub = core_embedded::MemoryStreamHub::new();
    contract::stream_hub_suite(&hub).await;
    contract::shared_stream_hub_suite(&hub, &hub.clone()).await;
}

//! The port contract suites against the embedded adapters: one test per promise.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core_embedded::{FsMediaStore, MemoryRateLimiter, MemoryStreamHub, MemoryTimelineCache, RedbStore};
use core_ports::contract::Fixture;
use core_ports::ports::EventLog as _;

async fn redb() -> Fixture<RedbStore> {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("starling.redb")).unwrap();
    Fixture::new(store, dir)
}

mod redb_store {
    core_ports::store_contract_tests!(super::redb());
}

mod redb_event_log {
    core_ports::event_log_contract_tests!(super::redb());
}

mod memory_timeline_cache {
    core_ports::timeline_cache_contract_tests!(async { Box::new(super::MemoryTimelineCache::new()) });
}

mod memory_rate_limiter {
    core_ports::rate_limit_contract_tests!(async { Box::new(super::MemoryRateLimiter::new()) });
}

mod filesystem_media_store {
    core_ports::media_store_contract_tests!(async {
        let dir = tempfile::tempdir().unwrap();
        let media = super::FsMediaStore::open(&dir.path().join("media")).unwrap();
        core_ports::contract::Fixture::new(media, dir)
    });
}

mod memory_stream_hub {
    core_ports::stream_hub_contract_tests!(async { Box::new(super::MemoryStreamHub::new()) });
}

mod memory_stream_hub_shared_by_clones {
    core_ports::shared_stream_hub_contract_tests!(async {
        let hub = super::MemoryStreamHub::new();
        (Box::new(hub.clone()), Box::new(hub))
    });
}

#[tokio::test]
async fn redb_store_survives_reopening_with_its_log_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starling.redb");
    let head = {
        let store = RedbStore::open(&path).unwrap();
        core_ports::contract::event_log::all(&store, &store).await;
        store.head().await.unwrap()
    };
    assert!(head.get(0) > 0);
    let reopened = RedbStore::open(&path).unwrap();
    assert_eq!(reopened.head().await.unwrap(), head, "the log head is recovered from disk");
}

/// What node-number leases rely on to reclaim the numbers of earlier openings at once: an
/// opening of the store file is exclusive, and each one has a session of its own.
#[test]
fn the_store_is_held_by_one_opening_at_a_time_each_with_its_own_session() {
    use core_ports::ports::Store as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starling.redb");
    let first = RedbStore::open(&path).unwrap();
    assert!(RedbStore::open(&path).is_err(), "a second opening is refused while the first lives");
    let first_session = first.exclusive_session().unwrap().to_owned();
    assert_eq!(first.clone().exclusive_session(), Some(first_session.as_str()), "handles of one opening share its session");
    drop(first);
    let second = RedbStore::open(&path).unwrap();
    assert_ne!(second.exclusive_session(), Some(first_session.as_str()), "a new opening has a new session");
}

//! The embedded event log is pruned behind its consumers, never ahead of one, and never loses
//! its position.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use core_embedded::{ABANDONED_AFTER, PRUNE_STEP, RedbStore};
use core_ports::events::Event;
use core_ports::ports::{EventLog as _, Store as _};
use shared::id::Id;

const DAY: u64 = 24 * 3600 * 1000;

/// The wall clock (consumers registered by `checkpoint` are stamped with it).
fn now() -> u64 {
    u64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

fn store() -> (tempfile::TempDir, RedbStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("starling.redb")).unwrap();
    (dir, store)
}

/// Appends `n` events, 100 per transaction.
async fn append(store: &RedbStore, n: u64) {
    let mut left = n;
    while left > 0 {
        let batch = left.min(100);
        let events = (0..batch).map(|i| Event::Followed { follower: Id::from_u64(i + 1), target: Id::from_u64(i + 2) }).collect();
        store.transact(vec![], events).await.unwrap();
        left -= batch;
    }
}

async fn first_position(store: &RedbStore) -> u64 {
    store.read(&core_ports::Cursor::single(0), 1, Duration::ZERO).await.unwrap()[0].seq
}

#[tokio::test]
async fn events_go_once_every_consumer_has_passed_them() {
    let (_dir, store) = store();
    append(&store, 3 * PRUNE_STEP).await;
    // Both consumers register by asking where they are.
    assert_eq!(store.checkpoint("fast").await.unwrap().get(0), 0);
    assert_eq!(store.checkpoint("slow").await.unwrap().get(0), 0);

    let now = now();
    store.save_checkpoint_at("fast", 3 * PRUNE_STEP, now).unwrap();
    assert_eq!(first_position(&store).await, 1, "pruned ahead of the slow consumer");

    // Less than a step past the last pruning: nothing yet.
    store.save_checkpoint_at("slow", PRUNE_STEP - 1, now).unwrap();
    assert_eq!(first_position(&store).await, 1);

    store.save_checkpoint_at("slow", PRUNE_STEP + 10, now).unwrap();
    assert_eq!(first_position(&store).await, PRUNE_STEP + 11);
    assert_eq!(store.oldest(), PRUNE_STEP + 11);
    // What the slow consumer has not handled is all there.
    let rest = store.read(&core_ports::Cursor::single(PRUNE_STEP + 10), usize::MAX, Duration::ZERO).await.unwrap();
    assert_eq!(rest.len() as u64, 2 * PRUNE_STEP - 10);
    assert!(rest.windows(2).all(|w| w[1].seq == w[0].seq + 1));
}

#[tokio::test]
async fn the_newest_event_stays_so_positions_continue_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starling.redb");
    {
        let store = RedbStore::open(&path).unwrap();
        append(&store, 2 * PRUNE_STEP).await;
        store.save_checkpoint_at("only", 2 * PRUNE_STEP, now()).unwrap();
        let left = store.read(&core_ports::Cursor::single(0), usize::MAX, Duration::ZERO).await.unwrap();
        assert_eq!(left.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2 * PRUNE_STEP]);
    }
    let store = RedbStore::open(&path).unwrap();
    assert_eq!(store.head().await.unwrap().get(0), 2 * PRUNE_STEP);
    assert_eq!(store.oldest(), 2 * PRUNE_STEP);
    append(&store, 1).await;
    assert_eq!(store.head().await.unwrap().get(0), 2 * PRUNE_STEP + 1, "a position was reused");
}

#[tokio::test]
async fn an_abandoned_consumer_stops_holding_the_log_but_an_idle_one_at_the_head_never_does() {
    let (_dir, store) = store();
    append(&store, 2 * PRUNE_STEP).await;
    let now = now();
    store.save_checkpoint_at("stalled", 5, now).unwrap();
    store.save_checkpoint_at("idle", 2 * PRUNE_STEP, now).unwrap();
    assert_eq!(first_position(&store).await, 1);

    // A week later the stalled one, still behind, is abandoned; the idle one, at the head, is
    // not (it had nothing to do), and pruning goes on.
    let later = now + u64::try_from(ABANDONED_AFTER.as_millis()).unwrap() + DAY;
    store.prune_at(later).unwrap();
    assert_eq!(first_position(&store).await, 2 * PRUNE_STEP);

    // Came back: it continues after the gap.
    let next = store.read(&core_ports::Cursor::single(5), 10, Duration::ZERO).await.unwrap();
    assert_eq!(next[0].seq, 2 * PRUNE_STEP);
}

#[tokio::test]
async fn the_stores_clock_decides_when_a_silent_consumer_is_abandoned() {
    use core_ports::clock::ManualClock;
    use core_ports::ports::EventLog as _;

    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_900_000_000_000);
    let store = RedbStore::open_with_clock(&dir.path().join("starling.redb"), std::sync::Arc::new(clock.clone())).unwrap();
    append(&store, 2 * PRUNE_STEP).await;
    store.save_checkpoint("stalled", &core_ports::Cursor::single(5)).await.unwrap();
    store.save_checkpoint("fast", &core_ports::Cursor::single(2 * PRUNE_STEP)).await.unwrap();
    assert_eq!(first_position(&store).await, 1, "the stalled consumer holds the log");

    clock.advance(ABANDONED_AFTER - Duration::from_secs(60));
    store.save_checkpoint("fast", &core_ports::Cursor::single(2 * PRUNE_STEP)).await.unwrap();
    assert_eq!(first_position(&store).await, 1, "not yet abandoned by the store's clock");

    clock.advance(Duration::from_secs(120));
    store.save_checkpoint("fast", &core_ports::Cursor::single(2 * PRUNE_STEP)).await.unwrap();
    assert_eq!(first_position(&store).await, 2 * PRUNE_STEP, "silent past ABANDONED_AFTER on the store's clock: pruned past it");
}

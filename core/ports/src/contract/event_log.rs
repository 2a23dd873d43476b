//! The [`EventLog`] contract, with the store whose transactions feed it.

use std::time::Duration;

use shared::id::Id;

use super::ns;
use super::store::{doc, put};
use crate::events::Event;
use crate::ports::{Condition, EventLog, Store};

fn event(n: u64) -> Event {
    Event::Followed { follower: Id::from_u64(n), target: Id::from_u64(n + 1) }
}

/// Every promise in turn.
pub async fn all(store: &dyn Store, log: &dyn EventLog) {
    committed_events_appear_in_commit_order(store, log).await;
    reads_start_after_a_position_and_honour_the_limit(store, log).await;
    checkpoints_start_at_zero_and_persist(store, log).await;
    an_idle_read_waits_up_to_its_bound(store, log).await;
}

pub async fn committed_events_appear_in_commit_order(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    let pk = ns("e");
    store.transact(vec![put(doc(&pk, "1", "x"), Condition::None)], vec![event(1), event(2)]).await.unwrap();
    let failed = store.transact(vec![put(doc(&pk, "1", "y"), Condition::NotExists)], vec![event(99)]).await;
    assert!(failed.is_err(), "the conflicting write fails");
    store.transact(vec![], vec![event(3)]).await.unwrap();

    let read = log.read(start, 100, Duration::ZERO).await.unwrap();
    let got: Vec<Event> = read.iter().map(|e| e.event.clone()).collect();
    assert_eq!(got, vec![event(1), event(2), event(3)], "events of committed transactions appear in commit order; a failed transaction logs nothing");
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq), "positions strictly increase");
    assert_eq!(log.head().await.unwrap(), read[2].seq, "head is the newest position");
}

pub async fn reads_start_after_a_position_and_honour_the_limit(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    store.transact(vec![], vec![event(1), event(2), event(3)]).await.unwrap();
    let read = log.read(start, 100, Duration::ZERO).await.unwrap();
    assert_eq!(read.len(), 3);
    let rest = log.read(read[0].seq, 100, Duration::ZERO).await.unwrap();
    assert_eq!(rest, read[1..], "reading after a position skips it");
    let limited = log.read(start, 1, Duration::ZERO).await.unwrap();
    assert_eq!(limited, read[..1], "read honours its limit");
}

pub async fn checkpoints_start_at_zero_and_persist(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    store.transact(vec![], vec![event(1), event(2)]).await.unwrap();
    let read = log.read(start, 100, Duration::ZERO).await.unwrap();
    let consumer = ns("consumer");
    assert_eq!(log.checkpoint(&consumer).await.unwrap(), 0, "a new consumer starts at zero");
    log.save_checkpoint(&consumer, read[1].seq).await.unwrap();
    assert_eq!(log.checkpoint(&consumer).await.unwrap(), read[1].seq, "checkpoints persist");
    log.save_checkpoint(&consumer, read[0].seq).await.unwrap();
    assert_eq!(log.checkpoint(&consumer).await.unwrap(), read[0].seq, "a checkpoint may be moved back (rewinding a consumer)");
}

pub async fn an_idle_read_waits_up_to_its_bound(_store: &dyn Store, log: &dyn EventLog) {
    let head = log.head().await.unwrap();
    let waited = std::time::Instant::now();
    assert!(log.read(head, 10, Duration::from_millis(200)).await.unwrap().is_empty(), "an idle log returns nothing");
    assert!(waited.elapsed() >= Duration::from_millis(150), "read waits for new events up to its bound");
}

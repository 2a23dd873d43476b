//! The [`EventLog`] contract, with the store whose transactions feed it. Written for any
//! number of partitions: with one, "per partition" is the whole log.

use std::time::Duration;

use shared::id::Id;

use super::ns;
use super::store::{doc, put};
use crate::cursor::Cursor;
use crate::events::Event;
use crate::ports::{Condition, EventLog, LoggedEvent, Store};

fn event(n: u64) -> Event {
    Event::Followed { follower: Id::from_u64(n), target: Id::from_u64(n + 1) }
}

/// Everything after `start`, in full.
async fn read_all(log: &dyn EventLog, start: &Cursor) -> Vec<LoggedEvent> {
    log.read(start, 1000, Duration::ZERO).await.unwrap()
}

fn events(read: &[LoggedEvent]) -> Vec<Event> {
    read.iter().map(|e| e.event.clone()).collect()
}

/// Every promise in turn.
pub async fn all(store: &dyn Store, log: &dyn EventLog) {
    committed_events_appear_in_commit_order(store, log).await;
    reads_start_after_a_position_and_honour_the_limit(store, log).await;
    checkpoints_start_at_zero_and_persist(store, log).await;
    an_idle_read_waits_up_to_its_bound(store, log).await;
    one_accounts_events_keep_their_order(store, log).await;
    a_transaction_may_span_partitions(store, log).await;
}

pub async fn committed_events_appear_in_commit_order(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    let pk = ns("e");
    // One actor, so one partition: a total order to check.
    let same = |n: u64| Event::Followed { follower: Id::from_u64(1), target: Id::from_u64(n) };
    store.transact(vec![put(doc(&pk, "1", "x"), Condition::None)], vec![same(1), same(2)]).await.unwrap();
    let failed = store.transact(vec![put(doc(&pk, "1", "y"), Condition::NotExists)], vec![same(99)]).await;
    assert!(failed.is_err(), "the conflicting write fails");
    store.transact(vec![], vec![same(3)]).await.unwrap();

    let read = read_all(log, &start).await;
    assert_eq!(events(&read), vec![same(1), same(2), same(3)], "events of committed transactions appear in commit order; a failed transaction logs nothing");
    assert!(read.windows(2).all(|w| w[0].seq < w[1].seq), "seqs strictly increase within a partition");
    let partition = same(1).partition(log.partitions());
    assert!(read.iter().all(|e| e.partition == partition), "an account's events go to its partition");
    assert_eq!(log.head().await.unwrap().get(partition), read[2].seq, "head is the newest seq of the partition");
}

pub async fn reads_start_after_a_position_and_honour_the_limit(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    store.transact(vec![], vec![event(1), event(2), event(3)]).await.unwrap();
    let read = read_all(log, &start).await;
    assert_eq!(read.len(), 3);
    let mut after_first = start.clone();
    after_first.advance(&read[..1]);
    let rest = read_all(log, &after_first).await;
    assert_eq!(rest.len(), 2, "reading after a position skips it");
    assert!(!rest.contains(&read[0]));
    let limited = log.read(&start, 1, Duration::ZERO).await.unwrap();
    assert_eq!(limited.len(), 1, "read honours its limit");
    assert!(read.contains(&limited[0]));
}

pub async fn checkpoints_start_at_zero_and_persist(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    store.transact(vec![], vec![event(1), event(2)]).await.unwrap();
    let read = read_all(log, &start).await;
    let consumer = ns("consumer");
    let fresh = log.checkpoint(&consumer).await.unwrap();
    assert_eq!(fresh, Cursor::start(log.partitions()), "a new consumer starts at zero everywhere");
    let both = Cursor::of_batch(log.partitions(), &read);
    log.save_checkpoint(&consumer, &both).await.unwrap();
    let saved = log.checkpoint(&consumer).await.unwrap();
    for (partition, seq) in both.parts() {
        assert_eq!(saved.get(partition), seq, "checkpoints persist");
    }
    let back = Cursor::from_parts(log.partitions(), [(read[0].partition, 0)]);
    log.save_checkpoint(&consumer, &back).await.unwrap();
    let saved = log.checkpoint(&consumer).await.unwrap();
    assert_eq!(saved.get(read[0].partition), 0, "a checkpoint may be moved back (rewinding a consumer)");
    if read[1].partition != read[0].partition {
        assert_eq!(saved.get(read[1].partition), read[1].seq, "saving some partitions leaves the others");
    }
}

pub async fn an_idle_read_waits_up_to_its_bound(_store: &dyn Store, log: &dyn EventLog) {
    let head = log.head().await.unwrap();
    let waited = std::time::Instant::now();
    assert!(log.read(&head, 10, Duration::from_millis(200)).await.unwrap().is_empty(), "an idle log returns nothing");
    assert!(waited.elapsed() >= Duration::from_millis(150), "read waits for new events up to its bound");
}

pub async fn one_accounts_events_keep_their_order(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    let (a, b) = (Id::from_u64(1001), Id::from_u64(2002));
    let by = |actor: Id, n: u64| Event::Favourited { account: actor, status: Id::from_u64(n), author: Id::from_u64(9) };
    for n in 0..6 {
        store.transact(vec![], vec![by(a, n), by(b, n)]).await.unwrap();
    }
    let read = read_all(log, &start).await;
    for actor in [a, b] {
        let mine: Vec<&LoggedEvent> = read.iter().filter(|e| e.event.actor() == actor).collect();
        assert_eq!(
            mine.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
            (0..6).map(|n| by(actor, n)).collect::<Vec<_>>(),
            "one account's events in commit order"
        );
        assert!(mine.windows(2).all(|w| w[0].seq < w[1].seq));
    }
    // A reader of only a's partition sees a's events and nothing of other partitions.
    let pa = by(a, 0).partition(log.partitions());
    let only = read_all(log, &start.only(&[pa])).await;
    assert!(only.iter().all(|e| e.partition == pa));
    assert_eq!(only.iter().filter(|e| e.event.actor() == a).count(), 6);
}

pub async fn a_transaction_may_span_partitions(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    // A block ends both follows: two actors, possibly two partitions, one commit.
    let (a, b) = (Id::from_u64(31), Id::from_u64(77));
    let pk = ns("span");
    let both = vec![Event::Unfollowed { follower: a, target: b }, Event::Unfollowed { follower: b, target: a }];
    store.transact(vec![put(doc(&pk, "1", "x"), Condition::None)], both.clone()).await.unwrap();
    let failed = store.transact(vec![put(doc(&pk, "1", "y"), Condition::NotExists)], both.clone()).await;
    assert!(failed.is_err());
    let read = read_all(log, &start).await;
    assert_eq!(read.len(), 2, "both events, once: {read:?}");
    for e in &read {
        assert_eq!(e.partition, e.event.partition(log.partitions()), "each in its actor's partition");
    }
    let mut got = events(&read);
    got.sort_by_key(|e| e.actor());
    let mut want = both;
    want.sort_by_key(|e| e.actor());
    assert_eq!(got, want);
}

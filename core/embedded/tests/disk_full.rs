//! A full disk (a redb storage backend failing with ENOSPC on demand): writes are refused while
//! it lasts, and resume by themselves once space returns, with nothing committed lost.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use core_embedded::RedbStore;
use core_embedded::faults::fillable_disk;
use core_ports::SystemClock;
use core_ports::events::Event;
use core_ports::ports::{Condition, EventLog as _, Item, Key, Store as _, Value, Write};
use shared::id::Id;

fn put(n: usize) -> Write {
    Write::Put { item: Item { key: Key::new("P", format!("{n:04}")), value: Value::Doc(vec![7; 64]) }, condition: Condition::None }
}

fn event(n: u64) -> Event {
    Event::Unfavourited { account: Id::from_u64(n), status: Id::from_u64(n) }
}

#[tokio::test]
async fn writes_resume_by_themselves_after_the_disk_was_full() {
    let dir = tempfile::tempdir().unwrap();
    let full = Arc::new(AtomicBool::new(false));
    let store = RedbStore::open_with(fillable_disk(&dir.path().join("s.redb"), full.clone()), Arc::new(SystemClock)).unwrap();
    for n in 0..20 {
        store.transact(vec![put(n)], vec![event(n as u64)]).await.unwrap();
    }
    store.ping().await.unwrap();

    full.store(true, Ordering::SeqCst);
    assert!(store.transact(vec![put(100)], vec![]).await.is_err(), "no space: the write fails");
    assert!(store.ping().await.is_err(), "the store reports itself down while it cannot write");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(store.transact(vec![put(101)], vec![]).await.is_err(), "still full: still refused");
    assert!(store.ping().await.is_err());

    full.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(8);
    while store.transact(vec![put(200)], vec![event(200)]).await.is_err() {
        assert!(Instant::now() < deadline, "writes did not resume within 8 s of space returning");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    store.ping().await.unwrap();
    for n in 0..20 {
        assert!(store.get(&Key::new("P", format!("{n:04}"))).await.unwrap().is_some(), "committed write {n} kept");
    }
    assert!(store.get(&Key::new("P", "0200")).await.unwrap().is_some());
    assert!(store.get(&Key::new("P", "0100")).await.unwrap().is_none(), "the refused write did not half-happen");
    let log = store.read(&core_ports::Cursor::single(0), 100, Duration::ZERO).await.unwrap();
    assert_eq!(log.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=21).collect::<Vec<_>>(), "the log continues gap-free");
    assert_eq!(store.head().await.unwrap().get(0), 21);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_readers_and_writers_ride_through_a_full_disk_and_keep_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let full = Arc::new(AtomicBool::new(false));
    let store = RedbStore::open_with(fillable_disk(&dir.path().join("s.redb"), full.clone()), Arc::new(SystemClock)).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4usize {
        let (store, stop) = (store.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let key = w * 100_000 + n;
                n += 1;
                if store.transact(vec![put(key)], vec![event(key as u64)]).await.is_ok() {
                    acknowledged.push(key);
                }
                // Readers share the store meanwhile; their errors while full are fine.
                let _ = store.get(&Key::new("P", format!("{key:04}"))).await;
                let _ = store.read(&core_ports::Cursor::single(0), 10, Duration::ZERO).await;
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    full.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    full.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(8);
    while store.ping().await.is_err() {
        assert!(Instant::now() < deadline, "the store did not recover within 8 s under load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(tokio::time::timeout(Duration::from_secs(10), writer).await.expect("no writer hangs").unwrap());
    }
    assert!(acknowledged.len() > 8, "writes went through before and after: {}", acknowledged.len());
    for key in &acknowledged {
        assert!(store.get(&Key::new("P", format!("{key:04}"))).await.unwrap().is_some(), "acknowledged write {key} kept");
    }
    let log = store.read(&core_ports::Cursor::single(0), 1_000_000, Duration::ZERO).await.unwrap();
    assert_eq!(log.len(), acknowledged.len(), "one event per acknowledged write, none for a refused one");
    assert!(log.iter().enumerate().all(|(i, e)| e.seq == i as u64 + 1), "gap-free positions");
}

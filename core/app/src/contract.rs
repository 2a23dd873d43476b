//! Contract suites for the ports: every adapter runs the same assertions, the embedded ones in
//! every `cargo test`, the production ones against real servers in the full suite.
//! Each function panics with a message naming the broken promise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use shared::id::Id;
use shared::page::PageRequest;

use crate::events::Event;
use crate::ports::{Condition, EventLog, Item, Key, Query, Store, StoreError, TimelineCache, TimelineEntry, Value, Write};

fn doc(pk: &str, sk: &str, body: &str) -> Item {
    Item { key: Key::new(pk, sk), value: Value::Doc(body.as_bytes().to_vec()) }
}

fn put(item: Item, condition: Condition) -> Write {
    Write::Put { item, condition }
}

/// A unique prefix so suites can share a backend (e.g. one DynamoDB table) without clashing.
fn ns(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("t{nanos}x{}#{tag}", N.fetch_add(1, Ordering::Relaxed))
}

/// The [`Store`] contract.
pub async fn store_suite(store: &dyn Store) {
    puts_and_gets(store).await;
    conditions_are_atomic(store).await;
    counters_add(store).await;
    queries_order_bound_and_limit(store).await;
    get_many_keeps_order(store).await;
    oversized_transactions_are_refused(store).await;
}

async fn puts_and_gets(store: &dyn Store) {
    let pk = ns("a");
    store.transact(vec![put(doc(&pk, "x", "1"), Condition::None)], vec![]).await.unwrap();
    let got = store.get(&Key::new(&pk, "x")).await.unwrap();
    assert_eq!(got, Some(doc(&pk, "x", "1")), "a put item reads back");
    store.transact(vec![put(doc(&pk, "x", "2"), Condition::None)], vec![]).await.unwrap();
    assert_eq!(store.get(&Key::new(&pk, "x")).await.unwrap(), Some(doc(&pk, "x", "2")), "an unconditional put replaces");
    store.transact(vec![Write::Delete { key: Key::new(&pk, "x"), condition: Condition::None }], vec![]).await.unwrap();
    assert_eq!(store.get(&Key::new(&pk, "x")).await.unwrap(), None, "a deleted item is gone");
    store.transact(vec![Write::Delete { key: Key::new(&pk, "never"), condition: Condition::None }], vec![]).await.unwrap();
}

async fn conditions_are_atomic(store: &dyn Store) {
    let pk = ns("c");
    store.transact(vec![put(doc(&pk, "taken", "1"), Condition::NotExists)], vec![]).await.unwrap();
    let result = store
        .transact(
            vec![
                put(doc(&pk, "fresh", "1"), Condition::NotExists),
                put(doc(&pk, "taken", "2"), Condition::NotExists),
                Write::Add { key: Key::new(&pk, "n"), delta: 1 },
            ],
            vec![],
        )
        .await;
    match result {
        Err(StoreError::ConditionFailed { index: 1 }) => {}
        other => panic!("a failed condition reports its write index, got {other:?}"),
    }
    assert_eq!(store.get(&Key::new(&pk, "fresh")).await.unwrap(), None, "nothing of a failed transaction is written");
    assert_eq!(store.get(&Key::new(&pk, "n")).await.unwrap(), None, "no counter of a failed transaction moves");
    assert_eq!(store.get(&Key::new(&pk, "taken")).await.unwrap(), Some(doc(&pk, "taken", "1")), "the existing item is untouched");
    match store.transact(vec![Write::Delete { key: Key::new(&pk, "absent"), condition: Condition::Exists }], vec![]).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {}
        other => panic!("deleting an absent item under Exists fails, got {other:?}"),
    }
    match store.transact(vec![put(doc(&pk, "absent", "1"), Condition::Exists)], vec![]).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {}
        other => panic!("putting over an absent item under Exists fails, got {other:?}"),
    }
}

async fn counters_add(store: &dyn Store) {
    let pk = ns("n");
    let key = Key::new(&pk, "count");
    store.transact(vec![Write::Add { key: key.clone(), delta: 5 }], vec![]).await.unwrap();
    store.transact(vec![Write::Add { key: key.clone(), delta: -2 }], vec![]).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().map(|i| i.value), Some(Value::Count(3)), "counters start at zero and add");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        tasks.push(store.transact(vec![Write::Add { key: key.clone(), delta: 1 }], vec![]));
    }
    for r in futures_join(tasks).await {
        r.unwrap();
    }
    assert_eq!(store.get(&key).await.unwrap().map(|i| i.value), Some(Value::Count(23)), "concurrent adds are not lost");
}

async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut out = Vec::with_capacity(futures.len());
    for f in futures {
        out.push(f.await);
    }
    out
}

async fn queries_order_bound_and_limit(store: &dyn Store) {
    let pk = ns("q");
    let ids: Vec<Id> = (1..=30u64).map(|i| Id::from_u64(i * 1000)).collect();
    let writes = ids.iter().map(|id| put(doc(&pk, &id.sort_key(), "x"), Condition::None)).collect();
    store.transact(writes, vec![]).await.unwrap();
    store.transact(vec![put(doc(&format!("{pk}z"), &ids[0].sort_key(), "other"), Condition::None)], vec![]).await.unwrap();
    let sks = |items: Vec<Item>| items.into_iter().map(|i| Id::from_sort_key(&i.key.sk).unwrap().as_u64() / 1000).collect::<Vec<_>>();

    let all = store.query(&Query::partition(&pk, 100)).await.unwrap();
    assert_eq!(sks(all), (1..=30).collect::<Vec<_>>(), "a partition scans ascending and only itself");
    let newest = PageRequest::new(None, None, None, Some(3), 20, 40).window();
    assert_eq!(sks(store.query(&Query::window(&pk, &newest)).await.unwrap()), vec![30, 29, 28], "descending with a limit gives the newest");
    let older = PageRequest::new(Some(Id::from_u64(28_000)), None, None, Some(2), 20, 40).window();
    assert_eq!(sks(store.query(&Query::window(&pk, &older)).await.unwrap()), vec![27, 26], "max_id is exclusive");
    let since = PageRequest::new(None, None, Some(Id::from_u64(5_000)), Some(2), 20, 40).window();
    assert_eq!(sks(store.query(&Query::window(&pk, &since)).await.unwrap()), vec![6, 7], "min_id scans upwards from just above it");
    let between = Query { after: Some(ids[9].sort_key()), before: Some(ids[12].sort_key()), ..Query::partition(&pk, 100) };
    assert_eq!(sks(store.query(&between).await.unwrap()), vec![11, 12], "both bounds are exclusive");

    let mixed = ns("p");
    let writes = ["edit#1", "edit#2", "fav#1", "n#x", "status"].iter().map(|sk| put(doc(&mixed, sk, "x"), Condition::None)).collect();
    store.transact(writes, vec![]).await.unwrap();
    let edits = store.query(&Query { prefix: Some("edit#".into()), ..Query::partition(&mixed, 100) }).await.unwrap();
    assert_eq!(edits.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(), vec!["edit#1", "edit#2"], "a prefix narrows the scan");
    let desc = store.query(&Query { prefix: Some("edit#".into()), descending: true, ..Query::partition(&mixed, 1) }).await.unwrap();
    assert_eq!(desc.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(), vec!["edit#2"], "a prefix scans descending too");
}

async fn get_many_keeps_order(store: &dyn Store) {
    let pk = ns("m");
    store.transact(vec![put(doc(&pk, "b", "B"), Condition::None), put(doc(&pk, "a", "A"), Condition::None)], vec![]).await.unwrap();
    let keys: Vec<Key> = (0..150)
        .map(|i| {
            Key::new(
                &pk,
                if i % 3 == 0 {
                    "a"
                } else if i % 3 == 1 {
                    "missing"
                } else {
                    "b"
                },
            )
        })
        .collect();
    let got = store.get_many(&keys).await.unwrap();
    assert_eq!(got.len(), 150, "get_many answers every key, beyond one batch");
    for (i, item) in got.iter().enumerate() {
        let expected = match i % 3 {
            0 => Some(doc(&pk, "a", "A")),
            1 => None,
            _ => Some(doc(&pk, "b", "B")),
        };
        assert_eq!(item, &expected, "get_many keeps the order of the keys");
    }
}

async fn oversized_transactions_are_refused(store: &dyn Store) {
    let pk = ns("big");
    let writes: Vec<Write> = (0..=crate::ports::MAX_TRANSACTION_WRITES).map(|i| put(doc(&pk, &format!("{i:04}"), "x"), Condition::None)).collect();
    match store.transact(writes, vec![]).await {
        Err(StoreError::TooLarge { .. }) => {}
        other => panic!("more than the transaction limit is refused, got {other:?}"),
    }
    assert!(store.query(&Query::partition(&pk, 10)).await.unwrap().is_empty(), "a refused transaction writes nothing");
}

/// The [`EventLog`] contract, with the store whose transactions feed it.
pub async fn event_log_suite(store: &dyn Store, log: &dyn EventLog) {
    let start = log.head().await.unwrap();
    let event = |n: u64| Event::Followed { follower: Id::from_u64(n), target: Id::from_u64(n + 1) };
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
    let rest = log.read(read[0].seq, 100, Duration::ZERO).await.unwrap();
    assert_eq!(rest.len(), 2, "reading after a position skips it");
    let limited = log.read(start, 1, Duration::ZERO).await.unwrap();
    assert_eq!(limited.len(), 1, "read honours its limit");

    let consumer = ns("consumer");
    assert_eq!(log.checkpoint(&consumer).await.unwrap(), 0, "a new consumer starts at zero");
    log.save_checkpoint(&consumer, read[1].seq).await.unwrap();
    assert_eq!(log.checkpoint(&consumer).await.unwrap(), read[1].seq, "checkpoints persist");

    let head = log.head().await.unwrap();
    let waited = std::time::Instant::now();
    assert!(log.read(head, 10, Duration::from_millis(200)).await.unwrap().is_empty(), "an idle log returns nothing");
    assert!(waited.elapsed() >= Duration::from_millis(150), "read waits for new events up to its bound");
}

fn e(id: u64) -> TimelineEntry {
    TimelineEntry { id: Id::from_u64(id), reblog_of: None }
}

fn boost(id: u64, of: u64) -> TimelineEntry {
    TimelineEntry { id: Id::from_u64(id), reblog_of: Some(Id::from_u64(of)) }
}

/// The [`TimelineCache`] contract.
pub async fn timeline_cache_suite(cache: &dyn TimelineCache) {
    let all = PageRequest::new(None, None, None, Some(100), 100, 100).window();
    let ids = |v: &[u64]| v.iter().copied().map(Id::from_u64).collect::<Vec<_>>();
    let t = ns("home");
    assert!(!cache.exists(&t).await.unwrap(), "an unknown timeline does not exist");
    assert_eq!(cache.fan_out(std::slice::from_ref(&t), e(1), 10).await.unwrap(), 0, "fanout skips timelines that were never built");
    assert!(!cache.exists(&t).await.unwrap(), "fanout does not create timelines");
    cache.create(&t).await.unwrap();
    assert!(cache.exists(&t).await.unwrap(), "a created timeline exists while empty");
    assert!(cache.range(&t, &all).await.unwrap().is_empty());
    let v0 = cache.version(&t).await.unwrap();

    cache.insert(&t, &[e(10), e(30), e(20)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[30, 20, 10]), "entries come newest first");
    assert_ne!(cache.version(&t).await.unwrap(), v0, "the version moves when entries arrive");
    cache.insert(&t, &[e(20)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[30, 20, 10]), "inserting twice keeps one entry");

    cache.insert(&t, &[boost(40, 20)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[30, 20, 10]), "a boost of a status already there is not added");
    cache.insert(&t, &[boost(50, 99)], 10).await.unwrap();
    cache.insert(&t, &[boost(60, 99)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[50, 30, 20, 10]), "a second boost of the same status is not added");
    cache.insert(&t, &[e(99)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[50, 30, 20, 10]), "an original already shown by a boost is not added");

    let page = PageRequest::new(Some(Id::from_u64(30)), None, None, Some(2), 20, 40).window();
    assert_eq!(cache.range(&t, &page).await.unwrap(), ids(&[20, 10]), "range honours max_id and limit");
    let min = PageRequest::new(None, None, Some(Id::from_u64(10)), Some(2), 20, 40).window();
    assert_eq!(cache.range(&t, &min).await.unwrap(), ids(&[30, 20]), "range honours min_id");

    cache.remove(&t, &ids(&[30, 50])).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[20, 10]), "removed entries are gone");
    cache.insert(&t, &[boost(70, 99)], 10).await.unwrap();
    assert_eq!(cache.range(&t, &all).await.unwrap(), ids(&[70, 20, 10]), "removing a boost frees its original for another boost");

    let capped = ns("cap");
    cache.create(&capped).await.unwrap();
    let many: Vec<TimelineEntry> = (1..=25).map(e).collect();
    cache.insert(&capped, &many, 10).await.unwrap();
    assert_eq!(cache.range(&capped, &all).await.unwrap(), (16..=25).rev().map(Id::from_u64).collect::<Vec<_>>(), "timelines keep only the newest cap entries");

    let other = ns("other");
    cache.create(&other).await.unwrap();
    let absent = ns("absent");
    let delivered = cache.fan_out(&[t.clone(), other.clone(), absent.clone()], e(80), 10).await.unwrap();
    assert_eq!(delivered, 2, "fanout reports deliveries to existing timelines only");
    assert_eq!(cache.range(&other, &all).await.unwrap(), ids(&[80]));
    cache.remove_from_all(&[t.clone(), other.clone()], &ids(&[80])).await.unwrap();
    assert!(cache.range(&other, &all).await.unwrap().is_empty(), "remove_from_all removes everywhere");
    assert!(!cache.exists(&absent).await.unwrap());

    cache.drop_timeline(&t).await.unwrap();
    assert!(!cache.exists(&t).await.unwrap(), "a dropped timeline no longer exists");
    assert!(cache.range(&t, &all).await.unwrap().is_empty(), "a dropped timeline is empty");
}

/// The [`crate::ports::RateLimitStore`] contract.
pub async fn rate_limit_suite(store: &dyn crate::ports::RateLimitStore) {
    use shared::rate::Quota;
    let key = ns("rl");
    let quota = Quota::new(3, 3000);
    let mut allowed = 0;
    for _ in 0..5 {
        if store.hit(&key, quota, 1_000_000).await.unwrap().allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 3, "a burst is cut at the limit");
    let refused = store.hit(&key, quota, 1_000_000).await.unwrap();
    assert!(!refused.allowed && refused.retry_after_ms > 0, "a refusal says when to retry");
    assert!(store.hit(&key, quota, 1_001_000).await.unwrap().allowed, "capacity returns with time");
    assert!(store.hit(&ns("rl-other"), quota, 1_000_000).await.unwrap().allowed, "keys are independent");
}

/// The [`crate::ports::SearchIndex`] contract. Clears the index first.
pub async fn search_index_suite(index: &dyn crate::ports::SearchIndex) {
    use crate::ports::{AccountDoc, AccountSearch, SearchChange, StatusDoc, StatusSearch};
    use shared::wire::Visibility;

    let id = Id::from_u64;
    let (alice, bob, carol, dave) = (id(1), id(2), id(3), id(4));
    let status = |n: u64, author: Id, visibility: Visibility, mentions: Vec<Id>, text: &str, tags: &[&str]| {
        SearchChange::IndexStatus(StatusDoc {
            id: id(n),
            author,
            visibility,
            mentions,
            text: text.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        })
    };
    let search = |text: &str, reader: Id, followed: Vec<Id>| StatusSearch {
        text: text.into(),
        reader,
        followed,
        author: None,
        max_id: None,
        min_id: None,
        offset: 0,
        limit: 20,
    };
    let accounts = |text: &str| AccountSearch { text: text.into(), among: None, offset: 0, limit: 20 };

    index.clear().await.unwrap();
    index
        .apply(vec![
            status(100, alice, Visibility::Public, vec![], "a long post that mentions gardening once among many other unrelated words here", &["garden"]),
            status(101, bob, Visibility::Public, vec![], "gardening gardening gardening", &["gardening", "Rust"]),
            status(102, alice, Visibility::Unlisted, vec![], "the weather is lovely", &["garden"]),
            status(103, carol, Visibility::Private, vec![dave], "secret plans for tomorrow", &["hidden"]),
            status(104, carol, Visibility::Direct, vec![dave], "direct whisper about plans", &[]),
            SearchChange::IndexAccount(AccountDoc { id: alice, username: "alice".into(), display_name: "Alice Liddell".into() }),
            SearchChange::IndexAccount(AccountDoc { id: bob, username: "bob".into(), display_name: "Bob the Builder".into() }),
            SearchChange::IndexAccount(AccountDoc { id: carol, username: "bobby_tables".into(), display_name: "Carol".into() }),
        ])
        .await
        .unwrap();

    assert_eq!(index.statuses(&search("gardening", dave, vec![])).await.unwrap(), vec![id(101), id(100)], "BM25: the dense short text ranks first");
    assert_eq!(index.statuses(&search("GARDENING weather", dave, vec![])).await.unwrap(), Vec::<Id>::new(), "every word must match");
    assert_eq!(index.statuses(&search("wether", dave, vec![])).await.unwrap(), vec![id(102)], "one typo is tolerated from four characters");
    assert_eq!(index.statuses(&search("gardneing", dave, vec![])).await.unwrap().len(), 2, "a transposition counts as one edit");
    assert!(index.statuses(&search("the", dave, vec![])).await.unwrap().contains(&id(102)));
    assert!(index.statuses(&search("teh", dave, vec![])).await.unwrap().is_empty(), "short words must match exactly");
    for hostile in ["\"(:*", "title:x AND (", "*", "   ", "\u{0}\u{1}"] {
        assert!(index.statuses(&search(hostile, dave, vec![])).await.unwrap().is_empty(), "query syntax is not interpreted: {hostile:?}");
    }

    // Visibility.
    assert_eq!(index.statuses(&search("plans", bob, vec![])).await.unwrap(), Vec::<Id>::new(), "a stranger sees neither private nor direct");
    assert_eq!(index.statuses(&search("plans", bob, vec![carol])).await.unwrap(), vec![id(103)], "a follower sees private, not direct");
    let mut mentioned = index.statuses(&search("plans", dave, vec![])).await.unwrap();
    mentioned.sort();
    assert_eq!(mentioned, vec![id(103), id(104)], "the mentioned see both");
    assert_eq!(index.statuses(&search("whisper", carol, vec![])).await.unwrap(), vec![id(104)], "the author sees their direct status");

    // Filters and paging.
    let by_alice = StatusSearch { author: Some(alice), ..search("gardening", dave, vec![]) };
    assert_eq!(index.statuses(&by_alice).await.unwrap(), vec![id(100)]);
    let older = StatusSearch { max_id: Some(id(101)), ..search("gardening", dave, vec![]) };
    assert_eq!(index.statuses(&older).await.unwrap(), vec![id(100)]);
    let newer = StatusSearch { min_id: Some(id(100)), ..search("gardening", dave, vec![]) };
    assert_eq!(index.statuses(&newer).await.unwrap(), vec![id(101)]);
    let second = StatusSearch { offset: 1, limit: 1, ..search("gardening", dave, vec![]) };
    assert_eq!(index.statuses(&second).await.unwrap(), vec![id(100)]);

    // Re-indexing replaces; deleting removes; both are idempotent.
    let edit = status(101, bob, Visibility::Public, vec![], "now about cooking", &["cooking"]);
    index.apply(vec![edit.clone(), edit]).await.unwrap();
    assert_eq!(index.statuses(&search("gardening", dave, vec![])).await.unwrap(), vec![id(100)]);
    assert_eq!(index.statuses(&search("cooking", dave, vec![])).await.unwrap(), vec![id(101)]);
    index.apply(vec![SearchChange::DeleteStatus(id(100)), SearchChange::DeleteStatus(id(100))]).await.unwrap();
    assert!(index.statuses(&search("gardening", dave, vec![])).await.unwrap().is_empty());

    // Accounts.
    assert_eq!(index.accounts(&accounts("ali")).await.unwrap(), vec![alice]);
    assert_eq!(index.accounts(&accounts("LIDD")).await.unwrap(), vec![alice], "display-name words, case-insensitive");
    assert_eq!(index.accounts(&accounts("bob")).await.unwrap(), vec![bob, carol], "the exact username first");
    assert_eq!(index.accounts(&accounts("bob build")).await.unwrap(), vec![bob]);
    assert_eq!(index.accounts(&AccountSearch { among: Some(vec![carol]), ..accounts("bob") }).await.unwrap(), vec![carol]);
    assert!(index.accounts(&AccountSearch { among: Some(vec![]), ..accounts("bob") }).await.unwrap().is_empty());
    index.apply(vec![SearchChange::IndexAccount(AccountDoc { id: alice, username: "alice".into(), display_name: "Wonder".into() })]).await.unwrap();
    assert!(index.accounts(&accounts("lidd")).await.unwrap().is_empty(), "a renamed account is found by its new name only");
    assert_eq!(index.accounts(&accounts("wond")).await.unwrap(), vec![alice]);

    // Hashtags: public and unlisted only, live statuses only, exact first then by use.
    index
        .apply(vec![
            status(105, dave, Visibility::Public, vec![], "more", &["gardening"]),
            status(106, dave, Visibility::Public, vec![], "more", &["gardening"]),
        ])
        .await
        .unwrap();
    let tags = index.hashtags("garden", 0, 10).await.unwrap();
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["garden", "gardening"], "garden from statuses 100 (deleted) and 102");
    assert_eq!((tags[0].uses, tags[1].uses), (1, 2));
    assert!(index.hashtags("hidden", 0, 10).await.unwrap().is_empty(), "tags of private statuses are not listed");
    assert_eq!(index.hashtags("garden", 1, 10).await.unwrap().len(), 1);

    index.clear().await.unwrap();
    assert!(index.statuses(&search("cooking", dave, vec![])).await.unwrap().is_empty());
    assert!(index.accounts(&accounts("bob")).await.unwrap().is_empty());
}

/// The [`crate::ports::MediaStore`] contract.
pub async fn media_store_suite(media: &dyn crate::ports::MediaStore) {
    let dir = ns("media").replace('#', "-");
    let key = format!("{dir}/a/original.png");
    assert_eq!(media.get(&key).await.unwrap(), None, "a missing object reads as None");
    media.put(&key, b"first".to_vec(), "image/png").await.unwrap();
    assert_eq!(media.get(&key).await.unwrap().as_deref(), Some(&b"first"[..]), "an object reads back");
    media.put(&key, b"second version".to_vec(), "image/png").await.unwrap();
    assert_eq!(media.get(&key).await.unwrap().as_deref(), Some(&b"second version"[..]), "a put replaces the object");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let big_key = format!("{dir}/b/original.mp4");
    media.put(&big_key, big.clone(), "video/mp4").await.unwrap();
    assert_eq!(media.get(&big_key).await.unwrap(), Some(big), "binary objects round-trip exactly");
    media.delete(&key).await.unwrap();
    assert_eq!(media.get(&key).await.unwrap(), None, "a deleted object is gone");
    media.delete(&key).await.unwrap();
    media.delete(&big_key).await.unwrap();
    for bad in ["", "../escape", "a/../../b", "/absolute", "a//b", "sp ace", "a\\b"] {
        assert!(media.put(bad, b"x".to_vec(), "image/png").await.is_err(), "key {bad:?} is refused");
        assert!(media.get(bad).await.is_err(), "key {bad:?} is refused on read");
    }
}

/// The node-number lease contract (`crate::nodes`) over a store's conditional writes. Needs a
/// store in which nobody else leases numbers (a fresh one); times are explicit, nothing sleeps.
pub async fn node_lease_suite(store: std::sync::Arc<dyn Store>) {
    use crate::config::NodeLeaseConfig;
    use crate::nodes::{EDGE_NODES, LEASABLE_NODES, LeaseError, NodeLeases};

    let config = NodeLeaseConfig { lease_secs: 60, renew_secs: 10, grace_secs: 10 };
    let process = || NodeLeases::new(store.clone(), &config);
    let t0 = 1_900_000_000_000u64;

    // Acquisition: the lowest free numbers, each to one process, spans starting now.
    let (a, b) = (process(), process());
    let ga = a.acquire(t0).await.unwrap();
    assert_eq!((ga.node, ga.from_ms, ga.until_ms), (0, t0, t0 + 60_000), "the first lease takes number 0 for one lease length");
    let gb = b.acquire(t0).await.unwrap();
    assert_eq!(gb.node, 1, "a second process gets another number");
    assert_eq!(a.holder(0).await.unwrap().and_then(|h| h.owner).as_deref(), Some(a.owner()), "the store names the holder");

    // Renewal moves the end forward, never the start; a renewal whose answer was lost is adopted.
    let ga2 = a.renew(&ga, t0 + 10_000).await.unwrap();
    assert_eq!((ga2.node, ga2.from_ms, ga2.until_ms), (0, t0, t0 + 70_000), "renewal extends the span");
    let adopted = a.renew(&ga, t0 + 10_000).await.unwrap();
    assert_eq!(adopted.until_ms, ga2.until_ms, "a stale grant of the same holder adopts what is stored");
    let ga3 = a.renew(&adopted, t0 + 20_000).await.unwrap();
    assert_eq!(ga3.until_ms, t0 + 80_000);
    let gb2 = b.renew(&gb, t0 + 20_000).await.unwrap();
    assert_eq!(gb2.until_ms, t0 + 80_000);

    // Within the grace period after its end a lease is not taken over.
    let d = process();
    let gd = d.acquire(t0 + 85_000).await.unwrap();
    assert_eq!(gd.node, 2, "numbers whose lease just ended are not taken before the grace period");

    // Past it, the number is taken over; the new span starts where the old one ended, so the
    // two never stamp the same millisecond, and the old holder learns it lost the number.
    let late = t0 + 90_000;
    let c = process();
    let gc = c.acquire(late).await.unwrap();
    assert_eq!((gc.node, gc.from_ms, gc.until_ms), (0, ga3.until_ms, late + 60_000), "a lapsed number is taken over from its old end");
    assert!(matches!(a.renew(&ga3, late).await, Err(LeaseError::Lost { node: 0 })), "the old holder cannot renew a number taken over");
    assert!(matches!(a.release(&ga3, ga3.until_ms).await, Err(LeaseError::Lost { node: 0 })), "nor release it");
    assert_eq!(c.holder(0).await.unwrap().and_then(|h| h.owner).as_deref(), Some(c.owner()));

    // Release hands the rest of the span back at once: the next holder starts after the last
    // id minted.
    c.release(&gc, gc.from_ms + 5).await.unwrap();
    let released = c.holder(0).await.unwrap().unwrap();
    assert_eq!((released.owner, released.until_ms), (None, gc.from_ms + 5), "a released number names no owner");
    let e = process();
    let ge = e.acquire(late).await.unwrap();
    assert_eq!((ge.node, ge.from_ms), (0, gc.from_ms + 5), "a released number is free before its lease would have ended");

    // Processes starting together get distinct numbers.
    let starters: Vec<NodeLeases> = (0..8).map(|_| process()).collect();
    let grants = futures_util::future::join_all(starters.iter().map(|p| p.acquire(late))).await;
    let mut held: Vec<u8> = vec![ge.node, gd.node];
    held.extend(grants.into_iter().map(|g| g.expect("concurrent acquisition").node));
    let mut unique = held.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), held.len(), "concurrent acquisitions never share a number: {held:?}");

    // Exhaustion: every leasable number held, the next process is refused with a clear error;
    // the edges' numbers are never leased.
    loop {
        match process().acquire(late).await {
            Ok(grant) => held.push(grant.node),
            Err(LeaseError::Exhausted { retry_in_ms }) => {
                assert!(retry_in_ms > 0 && retry_in_ms <= 70_000, "the error says when a number frees: {retry_in_ms}");
                let message = LeaseError::Exhausted { retry_in_ms }.to_string();
                assert!(message.contains("all 62 node numbers"), "{message}");
                break;
            }
            Err(e) => panic!("acquisition failed: {e}"),
        }
        assert!(held.len() <= usize::from(LEASABLE_NODES), "more grants than numbers: {held:?}");
    }
    held.sort_unstable();
    assert_eq!(held, (0..LEASABLE_NODES).collect::<Vec<_>>(), "every leasable number was handed out once");
    for edge in EDGE_NODES {
        assert_eq!(a.holder(edge).await.unwrap(), None, "edge number {edge} is never leased");
    }
}

/// How long the stream suites wait for a message that should come.
const STREAM_WAIT: Duration = Duration::from_secs(5);

fn stream_message(event: &str, payload: &str) -> crate::ports::StreamMessage {
    crate::ports::StreamMessage { event: event.to_owned(), payload: payload.to_owned() }
}

async fn next_message(rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<crate::ports::StreamMessage>>, what: &str) -> crate::ports::StreamMessage {
    match tokio::time::timeout(STREAM_WAIT, rx.recv()).await {
        Ok(Ok(message)) => (*message).clone(),
        Ok(Err(e)) => panic!("{what}: the subscription failed: {e}"),
        Err(_) => panic!("{what}: nothing arrived within {STREAM_WAIT:?}"),
    }
}

/// Asserts nothing (more) arrives on `rx` within a short wait.
async fn nothing_more(rx: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<crate::ports::StreamMessage>>, what: &str) {
    if let Ok(received) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        panic!("{what}: got {received:?}");
    }
}

/// Polls `has_subscribers` until it says `want` (a hub across processes may notice a departure
/// late, never an arrival).
async fn subscribers_turn(hub: &dyn crate::ports::StreamHub, channel: &str, want: bool, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if hub.has_subscribers(channel).await.unwrap() == want {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A claim base no earlier run has used (claims may outlive a suite in a shared server).
fn fresh_seq() -> u64 {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    u64::try_from(nanos % (1 << 60)).unwrap_or(0) * 8
}

/// The [`crate::ports::StreamHub`] contract for one handle on a hub.
pub async fn stream_hub_suite(hub: &dyn crate::ports::StreamHub) {
    let home = format!("timeline:{}", ns("home"));
    let other = format!("timeline:{}", ns("other"));
    assert!(!hub.has_subscribers(&home).await.unwrap(), "a fresh channel has no subscribers");
    hub.publish(&home, stream_message("update", "to no one")).await.unwrap();

    let mut first = hub.subscribe(&home).await.unwrap();
    let mut second = hub.subscribe(&home).await.unwrap();
    let mut elsewhere = hub.subscribe(&other).await.unwrap();
    assert!(hub.has_subscribers(&home).await.unwrap(), "a channel has subscribers once subscribed");
    nothing_more(&mut first, "a message published before subscribing").await;

    let payload = "{\"id\":\"1\",\"content\":\"<p>caf\u{e9} \u{1f426} \\\"quoted\\\"\\nline</p>\"}";
    hub.publish(&home, stream_message("update", payload)).await.unwrap();
    assert_eq!(next_message(&mut first, "the first subscriber").await, stream_message("update", payload), "event and payload arrive exactly");
    assert_eq!(next_message(&mut second, "the second subscriber").await, stream_message("update", payload), "every subscriber of a channel receives");
    nothing_more(&mut elsewhere, "a subscriber of another channel").await;

    for i in 0..50 {
        hub.publish(&home, stream_message("status.update", &i.to_string())).await.unwrap();
    }
    for i in 0..50 {
        assert_eq!(next_message(&mut first, "a run of messages").await.payload, i.to_string(), "one publisher's messages arrive in order");
    }
    let big = "x".repeat(200_000);
    hub.publish(&other, stream_message("delete", &big)).await.unwrap();
    assert_eq!(next_message(&mut elsewhere, "a large payload").await.payload.len(), big.len(), "large payloads arrive whole");

    let tag = format!("timeline:hashtag:{}caf\u{e9}:local", ns("t").replace('#', ""));
    let mut tagged = hub.subscribe(&tag).await.unwrap();
    hub.publish(&tag, stream_message("update", "tagged")).await.unwrap();
    assert_eq!(next_message(&mut tagged, "a channel with non-ASCII characters").await.payload, "tagged");

    drop(first);
    drop(second);
    assert!(subscribers_turn(hub, &home, false, Duration::from_secs(10)).await, "a channel whose subscribers all left has none, eventually");
    let mut again = hub.subscribe(&home).await.unwrap();
    assert!(hub.has_subscribers(&home).await.unwrap(), "subscribing again after everyone left");
    hub.publish(&home, stream_message("notification", "back")).await.unwrap();
    assert_eq!(next_message(&mut again, "a re-subscription").await.payload, "back", "a channel can be subscribed again after everyone left");

    let seq = fresh_seq();
    assert!(hub.claim(seq).await.unwrap(), "the first claim of an event wins");
    assert!(!hub.claim(seq).await.unwrap(), "a second claim of the same event loses");
    assert!(hub.claim(seq + 1).await.unwrap(), "events are claimed independently");
}

/// The contract between two handles on one hub as two core processes hold them: what one
/// publishes reaches the other's subscribers, `has_subscribers` sees the other's listeners, and
/// each event is claimed once. (A hub within one process passes with two clones of itself.)
pub async fn shared_stream_hub_suite(a: &dyn crate::ports::StreamHub, b: &dyn crate::ports::StreamHub) {
    let channel = format!("timeline:{}", ns("shared"));
    assert!(!a.has_subscribers(&channel).await.unwrap());
    let mut on_b = b.subscribe(&channel).await.unwrap();
    assert!(a.has_subscribers(&channel).await.unwrap(), "a publisher sees subscribers of other processes");
    let mut on_a = a.subscribe(&channel).await.unwrap();
    a.publish(&channel, stream_message("update", "from a")).await.unwrap();
    assert_eq!(next_message(&mut on_b, "a message from the other process").await.payload, "from a");
    assert_eq!(next_message(&mut on_a, "a message from the same process").await.payload, "from a");
    b.publish(&channel, stream_message("update", "from b")).await.unwrap();
    assert_eq!(next_message(&mut on_a, "a message back").await.payload, "from b");
    assert_eq!(next_message(&mut on_b, "a message back").await.payload, "from b");
    nothing_more(&mut on_a, "each message once").await;
    nothing_more(&mut on_b, "each message once").await;
    drop(on_a);
    assert!(subscribers_turn(a, &channel, true, Duration::ZERO).await, "b still listens");

    let seq = fresh_seq();
    let (first, second) = tokio::join!(a.claim(seq), b.claim(seq));
    assert!(first.unwrap() ^ second.unwrap(), "exactly one process claims an event");
    assert!(!a.claim(seq).await.unwrap() && !b.claim(seq).await.unwrap(), "a claimed event stays claimed");
}

//! The [`Store`] contract.

use shared::id::Id;
use shared::page::PageRequest;

use super::ns;
use crate::ports::{Condition, Item, Key, MAX_TRANSACTION_WRITES, Query, Store, StoreError, Value, Write};

pub(crate) fn doc(pk: &str, sk: &str, body: &str) -> Item {
    Item { key: Key::new(pk, sk), value: Value::Doc(body.as_bytes().to_vec()) }
}

pub(crate) fn put(item: Item, condition: Condition) -> Write {
    Write::Put { item, condition }
}

/// Every promise in turn.
pub async fn all(store: &dyn Store) {
    puts_read_back_and_deletes_remove(store).await;
    a_failed_condition_writes_nothing_and_names_its_write(store).await;
    exists_conditions_need_the_item(store).await;
    counters_start_at_zero_and_add(store).await;
    concurrent_adds_are_not_lost(store).await;
    queries_scan_one_partition_in_order_within_bounds(store).await;
    prefixes_narrow_a_scan(store).await;
    get_many_answers_every_key_in_order(store).await;
    oversized_transactions_are_refused(store).await;
    concurrent_conditional_puts_have_one_winner(store).await;
    a_compare_and_set_is_atomic_under_contention(store).await;
}

pub async fn puts_read_back_and_deletes_remove(store: &dyn Store) {
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

pub async fn a_failed_condition_writes_nothing_and_names_its_write(store: &dyn Store) {
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
}

pub async fn exists_conditions_need_the_item(store: &dyn Store) {
    let pk = ns("x");
    match store.transact(vec![Write::Delete { key: Key::new(&pk, "absent"), condition: Condition::Exists }], vec![]).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {}
        other => panic!("deleting an absent item under Exists fails, got {other:?}"),
    }
    match store.transact(vec![put(doc(&pk, "absent", "1"), Condition::Exists)], vec![]).await {
        Err(StoreError::ConditionFailed { index: 0 }) => {}
        other => panic!("putting over an absent item under Exists fails, got {other:?}"),
    }
    store.transact(vec![put(doc(&pk, "here", "1"), Condition::None)], vec![]).await.unwrap();
    store.transact(vec![put(doc(&pk, "here", "2"), Condition::Exists)], vec![]).await.unwrap();
    assert_eq!(store.get(&Key::new(&pk, "here")).await.unwrap(), Some(doc(&pk, "here", "2")), "a put under Exists replaces an item that is there");
    store.transact(vec![Write::Delete { key: Key::new(&pk, "here"), condition: Condition::Exists }], vec![]).await.unwrap();
    assert_eq!(store.get(&Key::new(&pk, "here")).await.unwrap(), None, "a delete under Exists removes an item that is there");
}

pub async fn counters_start_at_zero_and_add(store: &dyn Store) {
    let key = Key::new(ns("n"), "count");
    store.transact(vec![Write::Add { key: key.clone(), delta: 5 }], vec![]).await.unwrap();
    store.transact(vec![Write::Add { key: key.clone(), delta: -2 }], vec![]).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap().map(|i| i.value), Some(Value::Count(3)), "counters start at zero and add");
}

pub async fn concurrent_adds_are_not_lost(store: &dyn Store) {
    let key = Key::new(ns("n"), "count");
    let adds = (0..20).map(|_| store.transact(vec![Write::Add { key: key.clone(), delta: 1 }], vec![]));
    for result in futures_util::future::join_all(adds).await {
        result.unwrap();
    }
    assert_eq!(store.get(&key).await.unwrap().map(|i| i.value), Some(Value::Count(20)), "concurrent adds are not lost");
}

pub async fn queries_scan_one_partition_in_order_within_bounds(store: &dyn Store) {
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
}

pub async fn prefixes_narrow_a_scan(store: &dyn Store) {
    let mixed = ns("p");
    let writes = ["edit#1", "edit#2", "fav#1", "n#x", "status"].iter().map(|sk| put(doc(&mixed, sk, "x"), Condition::None)).collect();
    store.transact(writes, vec![]).await.unwrap();
    let edits = store.query(&Query { prefix: Some("edit#".into()), ..Query::partition(&mixed, 100) }).await.unwrap();
    assert_eq!(edits.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(), vec!["edit#1", "edit#2"], "a prefix narrows the scan");
    let desc = store.query(&Query { prefix: Some("edit#".into()), descending: true, ..Query::partition(&mixed, 1) }).await.unwrap();
    assert_eq!(desc.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(), vec!["edit#2"], "a prefix scans descending too");
}

pub async fn get_many_answers_every_key_in_order(store: &dyn Store) {
    let pk = ns("m");
    store.transact(vec![put(doc(&pk, "b", "B"), Condition::None), put(doc(&pk, "a", "A"), Condition::None)], vec![]).await.unwrap();
    let sk = |i: usize| match i % 3 {
        0 => "a",
        1 => "missing",
        _ => "b",
    };
    let keys: Vec<Key> = (0..150).map(|i| Key::new(&pk, sk(i))).collect();
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

pub async fn oversized_transactions_are_refused(store: &dyn Store) {
    let pk = ns("big");
    let writes: Vec<Write> = (0..=MAX_TRANSACTION_WRITES).map(|i| put(doc(&pk, &format!("{i:04}"), "x"), Condition::None)).collect();
    match store.transact(writes, vec![]).await {
        Err(StoreError::TooLarge { .. }) => {}
        other => panic!("more than the transaction limit is refused, got {other:?}"),
    }
    assert!(store.query(&Query::partition(&pk, 10)).await.unwrap().is_empty(), "a refused transaction writes nothing");
}

/// What uniqueness (usernames, idempotency keys) rests on: of racing `NotExists` puts of one
/// key, one wins and the others fail on their condition.
pub async fn concurrent_conditional_puts_have_one_winner(store: &dyn Store) {
    let pk = ns("u");
    let attempts = (0..8).map(|i| store.transact(vec![put(doc(&pk, "claim", &i.to_string()), Condition::NotExists)], vec![]));
    let results = futures_util::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "exactly one racing NotExists put wins: {results:?}");
    assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(StoreError::ConditionFailed { index: 0 }))), "the losers fail on their condition: {results:?}");
}

/// What node leases rest on: a register moved by Delete(`Exists`) of its current version plus
/// Put(`NotExists`) of the next, in one transaction, moves once however many race.
pub async fn a_compare_and_set_is_atomic_under_contention(store: &dyn Store) {
    let pk = ns("cas");
    store.transact(vec![put(doc(&pk, "v1", "genesis"), Condition::NotExists)], vec![]).await.unwrap();
    let attempts = (0..8).map(|i| {
        store.transact(
            vec![Write::Delete { key: Key::new(&pk, "v1"), condition: Condition::Exists }, put(doc(&pk, "v2", &format!("owner {i}")), Condition::NotExists)],
            vec![],
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "exactly one compare-and-set wins: {results:?}");
    let left = store.query(&Query::partition(&pk, 10)).await.unwrap();
    assert_eq!(left.iter().map(|i| i.key.sk.as_str()).collect::<Vec<_>>(), vec!["v2"], "the register holds the one new version");
}

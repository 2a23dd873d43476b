//! The store and event log contracts, and the outbox's concurrency promises, against a
//! DynamoDB wire-protocol server. moto (`moto_server`) is an emulator of the AWS protocol, not
//! DynamoDB: it checks our requests, conditions and transactions, not DynamoDB's throughput or
//! its concurrency in depth. Run by scripts/test.sh, which starts moto and sets
//! `STARLING_TEST_DYNAMODB_ENDPOINT`; without it these fail loudly (`--ignored` runs only).
//! Each test uses a fresh table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::Duration;

use core_dynamodb::{DynamoConfig, DynamoStore};
use core_ports::cursor::Cursor;
use core_ports::events::Event;
use core_ports::ports::{Condition, EventLog as _, Item, Key, Store as _, StoreError, Value, Write};
use shared::id::Id;

fn endpoint() -> String {
    std::env::var("STARLING_TEST_DYNAMODB_ENDPOINT").expect("STARLING_TEST_DYNAMODB_ENDPOINT must point at a DynamoDB endpoint (moto_server)")
}

fn config(table: &str) -> DynamoConfig {
    DynamoConfig {
        table: table.to_owned(),
        region: "us-east-1".into(),
        endpoint: Some(endpoint()),
        credentials: Some(("test".into(), "test".into())),
        create_table: true,
        log_partitions: 1,
    }
}

/// A split log: 8 partitions.
fn split(table: &str) -> DynamoConfig {
    DynamoConfig { log_partitions: 8, ..config(table) }
}

fn fresh_table(tag: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("starling-{tag}-{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

async fn fresh(tag: &str) -> DynamoStore {
    DynamoStore::connect(&config(&fresh_table(tag))).await.unwrap()
}

fn followed(n: u64) -> Event {
    Event::Followed { follower: Id::from_u64(n), target: Id::from_u64(n + 1) }
}

/// The store contract, one test (and one fresh table) per promise. (The node-lease suite,
/// which needs core's lease logic, runs in core-server's tests: `it::nodes`.)
mod store_contract {
    core_ports::store_contract_tests!(
        async { Box::new(super::fresh("store").await) },
        #[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
    );
}

mod event_log_contract {
    core_ports::event_log_contract_tests!(
        async { Box::new(super::fresh("log").await) },
        #[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
    );
}

mod split_event_log_contract {
    core_ports::event_log_contract_tests!(
        async { Box::new(core_dynamodb::DynamoStore::connect(&super::split(&super::fresh_table("split"))).await.unwrap()) },
        #[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn concurrent_writers_get_gap_free_positions_and_a_tailing_reader_misses_none() {
    let table = fresh_table("outbox");
    // Two "core processes" on one table, each with its own head hint.
    let a = DynamoStore::connect(&config(&table)).await.unwrap();
    let b = DynamoStore::connect(&config(&table)).await.unwrap();
    let writers = 8u64;
    let per_writer = 6u64;
    let reader = {
        let log = a.clone();
        let total = (writers * per_writer * 2) as usize;
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut after = Cursor::single(0);
            let started = std::time::Instant::now();
            while seen.len() < total && started.elapsed() < Duration::from_secs(60) {
                for e in log.read(&after, 7, Duration::from_millis(100)).await.unwrap() {
                    assert!(e.seq > after.get(0), "read returns positions after the one asked for");
                    after.set(0, e.seq);
                    seen.push(e);
                }
            }
            seen
        })
    };
    let mut tasks = Vec::new();
    for w in 0..writers {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for i in 0..per_writer {
                let n = (w * 1000 + i) * 10;
                let item = Item { key: Key::new(format!("W#{w}"), format!("{i:04}")), value: Value::Doc(b"x".to_vec()) };
                store.transact(vec![Write::Put { item, condition: Condition::NotExists }], vec![followed(n), followed(n + 1)]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let seen = reader.await.unwrap();
    let total = writers * per_writer * 2;
    assert_eq!(
        seen.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>(),
        "positions are gap-free and the tailing reader saw every one, in order"
    );
    let distinct: BTreeSet<String> = seen.iter().map(|e| format!("{:?}", e.event)).collect();
    assert_eq!(distinct.len() as u64, total, "every event once");
    // A transaction's events stay together and in order.
    for pair in seen.chunks(2) {
        match (&pair[0].event, &pair[1].event) {
            (Event::Followed { follower: x, .. }, Event::Followed { follower: y, .. }) => {
                assert_eq!(x.as_u64() + 1, y.as_u64(), "one transaction's events are adjacent")
            }
            other => panic!("unexpected events {other:?}"),
        }
    }
    assert_eq!(a.head().await.unwrap().get(0), total);
    assert_eq!(b.head().await.unwrap().get(0), total);
}

#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn a_reconnected_store_continues_the_log_and_keeps_checkpoints() {
    let table = fresh_table("restart");
    let first = DynamoStore::connect(&config(&table)).await.unwrap();
    first.transact(vec![], vec![followed(1), followed(2), followed(3)]).await.unwrap();
    first.save_checkpoint("fanout", &Cursor::single(2)).await.unwrap();
    drop(first);
    let second = DynamoStore::connect(&config(&table)).await.unwrap();
    assert_eq!(second.head().await.unwrap(), Cursor::single(3));
    assert_eq!(second.checkpoint("fanout").await.unwrap(), Cursor::single(2));
    second.transact(vec![], vec![followed(4)]).await.unwrap();
    let rest = second.read(&Cursor::single(2), 10, Duration::ZERO).await.unwrap();
    assert_eq!(
        rest.iter().map(|e| (e.seq, e.event.clone())).collect::<Vec<_>>(),
        vec![(3, followed(3)), (4, followed(4))],
        "positions continue after a restart and a read starting mid-transaction skips only what it should"
    );
}

#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn the_outbox_takes_room_in_the_transaction_limit() {
    let store = fresh("limit").await;
    let writes = |n: usize| -> Vec<Write> {
        (0..n).map(|i| Write::Put { item: Item { key: Key::new("P#x", format!("{i:03}")), value: Value::Count(1) }, condition: Condition::None }).collect()
    };
    match store.transact(writes(99), vec![followed(1)]).await {
        Err(StoreError::TooLarge { writes: 99 }) => {}
        other => panic!("99 writes + the outbox's two items exceed TransactWriteItems' 100, got {other:?}"),
    }
    store.transact(writes(98), vec![followed(1)]).await.unwrap();
    store.transact(writes(100), vec![]).await.unwrap();
    assert_eq!(store.head().await.unwrap(), Cursor::single(1), "only the transaction that fit logged its event");
}

#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn a_missing_table_or_endpoint_fails_with_a_clear_message() {
    let missing = DynamoConfig { create_table: false, ..config(&fresh_table("absent")) };
    let error = DynamoStore::connect(&missing).await.err().expect("a missing table is an error").to_string();
    assert!(error.contains("does not exist") && error.contains("create_table"), "{error}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = DynamoConfig { endpoint: Some(format!("http://127.0.0.1:{port}")), ..config("nowhere") };
    let started = std::time::Instant::now();
    let error = DynamoStore::connect(&unreachable).await.err().expect("an unreachable endpoint is an error").to_string();
    assert!(error.contains("unreachable"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(30), "fails fast");
}

#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn outbox_items_expire_after_the_retention_and_the_created_table_has_ttl_on() {
    use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};

    let table = fresh_table("ttl");
    let store = DynamoStore::connect(&config(&table)).await.unwrap();
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    store
        .transact(vec![Write::Put { item: Item { key: Key::new("a", "1"), value: Value::Doc(b"x".to_vec()) }, condition: Condition::None }], vec![followed(1)])
        .await
        .unwrap();
    let after = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();

    let sdk = core_aws::loader("us-east-1", Some(&endpoint()), core_aws::keys(Some(&("test".to_owned(), "test".to_owned())))).load().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(description.time_to_live_status(), Some(&TimeToLiveStatus::Enabled));
    assert_eq!(description.attribute_name(), Some(core_dynamodb::TTL_ATTRIBUTE));

    let log = client
        .query()
        .table_name(&table)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", AttributeValue::S("$LOG".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let items = log.items();
    assert_eq!(items.len(), 1);
    let expires: u64 = items[0].get(core_dynamodb::TTL_ATTRIBUTE).unwrap().as_n().unwrap().parse().unwrap();
    let retention = core_dynamodb::OUTBOX_RETENTION;
    assert!(expires >= (before + retention).as_secs() && expires <= (after + retention).as_secs(), "expires_at {expires}");

    // App items never expire.
    let app = client
        .get_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("a".into()))
        .key("sk", AttributeValue::S("1".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert!(!app.item().unwrap().contains_key(core_dynamodb::TTL_ATTRIBUTE));
}

/// 32 writers, each an account whose events go to a log partition of its own (64 partitions):
/// no DynamoDB item is written by two of them (their own items, and the outbox heads and log
/// items `outbox_keys` names), and no transaction is ever sent again for a moved head. A
/// reader of every partition sees each account's events in order, each partition gap-free.
#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn writers_in_different_partitions_share_no_item_and_never_retry() {
    use core_ports::cursor::partition_of;
    use std::collections::{BTreeMap, HashMap};

    const PARTITIONS: u32 = 64;
    const PER_WRITER: u64 = 8;
    let table = fresh_table("hot");
    let config = DynamoConfig { log_partitions: PARTITIONS, ..config(&table) };
    let (a, b) = (DynamoStore::connect(&config).await.unwrap(), DynamoStore::connect(&config).await.unwrap());
    // 32 accounts in 32 different partitions (accounts sharing a partition share its head:
    // that is the partition count's trade-off, docs/dynamodb.md).
    let mut taken = BTreeSet::new();
    let actors: Vec<Id> = (1u64..).map(|n| Id::from_u64(n << 22)).filter(|id| taken.insert(partition_of(*id, PARTITIONS))).take(32).collect();
    let mut tasks = Vec::new();
    for (w, actor) in actors.iter().copied().enumerate() {
        let store = if w % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut written = BTreeSet::new();
            for i in 0..PER_WRITER {
                let status = Id::from_u64(actor.as_u64() + i + 1);
                let writes = vec![
                    Write::Put {
                        item: Item { key: Key::new(format!("S#{status}"), "status"), value: Value::Doc(b"{}".to_vec()) },
                        condition: Condition::NotExists,
                    },
                    Write::Put {
                        item: Item { key: Key::new(format!("AS#{actor}"), status.to_string()), value: Value::Doc(b"{}".to_vec()) },
                        condition: Condition::None,
                    },
                    Write::Add { key: Key::new(format!("A#{actor}"), "n#statuses"), delta: 1 },
                ];
                let events = vec![Event::StatusCreated {
                    status,
                    author: actor,
                    visibility: shared::wire::Visibility::Private,
                    reblog_of: None,
                    in_reply_to_account: None,
                    mentions: vec![],
                }];
                written.extend(writes.iter().map(|w| format!("{:?}", w.key())));
                written.extend(core_dynamodb::outbox_keys(PARTITIONS, &events).into_iter().map(|k| format!("{:?}", Key::new(k.pk, "-"))));
                store.transact(writes, events).await.unwrap();
            }
            written
        }));
    }
    let mut owner_of: HashMap<String, usize> = HashMap::new();
    for (w, task) in tasks.into_iter().enumerate() {
        for item in task.await.unwrap() {
            if let Some(other) = owner_of.insert(item.clone(), w) {
                assert_eq!(other, w, "writers {other} and {w} both wrote {item}");
            }
        }
    }
    assert_eq!(a.head_retries() + b.head_retries(), 0, "no transaction was sent again for a moved head");

    let read = a.read(&Cursor::start(PARTITIONS), 10_000, Duration::ZERO).await.unwrap();
    assert_eq!(read.len() as u64, 32 * PER_WRITER);
    let mut per_partition: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for e in &read {
        per_partition.entry(e.partition).or_default().push(core_ports::cursor::position(PARTITIONS, e.seq));
    }
    assert_eq!(per_partition.len(), 32);
    assert!(per_partition.values().all(|positions| *positions == (1..=PER_WRITER).collect::<Vec<_>>()), "each partition gap-free, in order");
    let mut per_actor: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
    for e in &read {
        if let Event::StatusCreated { status, author, .. } = &e.event {
            per_actor.entry(*author).or_default().push(*status);
        }
    }
    assert!(per_actor.values().all(|s| s.windows(2).all(|w| w[0] < w[1])), "each account's events in commit order");
}

/// Two relay processes on an 8-partition log split the partitions by lease: every event is
/// delivered, each partition by one process, and both take part. The leases run on a manual
/// clock, so the hand-over happens exactly when the test moves time (a lease window is 10 s).
#[tokio::test]
#[ignore = "needs a DynamoDB endpoint: STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)"]
async fn relays_split_the_log_partitions_and_deliver_everything() {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use core_ports::leases::Leases;
    use core_ports::ports::{EventSink, LoggedEvent, SinkError};

    struct Record(String, Arc<Mutex<Vec<(String, u32, u64)>>>);
    #[async_trait::async_trait]
    impl EventSink for Record {
        async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
            self.1.lock().unwrap().extend(events.iter().map(|e| (self.0.clone(), e.partition, e.seq)));
            Ok(())
        }
    }

    const LEASE_MS: u64 = 10_000;
    let table = fresh_table("relay");
    let store = Arc::new(DynamoStore::connect(&split(&table)).await.unwrap());
    let clock = Arc::new(core_ports::ManualClock::new(1_000 * LEASE_MS + 100));
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let start = |owner: &str| {
        let leases = Leases::new(
            store.clone(),
            core_ports::keys::relay_lease_prefix("relay"),
            core_ports::keys::relay_instances_partition("relay"),
            owner.into(),
            Duration::from_millis(LEASE_MS),
            clock.clone(),
        );
        let sink = Arc::new(Record(owner.into(), delivered.clone()));
        tokio::spawn(core_ports::sink::relay(store.clone(), "relay".into(), sink, leases, 100, Duration::from_millis(50), stop_rx.clone()))
    };
    let holders = || async {
        let probe = Leases::new(
            store.clone(),
            core_ports::keys::relay_lease_prefix("relay"),
            core_ports::keys::relay_instances_partition("relay"),
            "probe".into(),
            Duration::from_millis(LEASE_MS),
            clock.clone(),
        );
        let mut out = BTreeMap::new();
        for p in 0..8 {
            out.insert(p, probe.holder(&p.to_string()).await.unwrap());
        }
        out
    };
    // Waits (moto is slow under the whole suite) until the leases look as `wanted` says.
    let until = |wanted: fn(&BTreeMap<u32, Option<String>>) -> bool| async move {
        let started = std::time::Instant::now();
        loop {
            let now = holders().await;
            if wanted(&now) {
                return now;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "leases never settled: {now:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    fn count(h: &BTreeMap<u32, Option<String>>, owner: &str) -> usize {
        h.values().filter(|o| o.as_deref() == Some(owner)).count()
    }
    let a = start("core-1");
    until(|h| count(h, "core-1") == 8).await;
    let b = start("core-2");
    // core-2 announced itself (its heartbeat), holding nothing yet: every partition is taken.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Second half of the window: core-1 renews only its share (4 of 8) for the next one.
    clock.advance_ms(LEASE_MS / 2);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Next window: core-2 takes the four core-1 let go.
    clock.advance_ms(LEASE_MS / 2 + LEASE_MS / 4);
    let split_between = until(|h| count(h, "core-1") == 4 && count(h, "core-2") == 4).await;

    delivered.lock().unwrap().clear();
    let mut expected = BTreeSet::new();
    for n in 0..40u64 {
        store.transact(vec![], vec![followed(n * 7919)]).await.unwrap();
        expected.insert(n * 7919);
    }
    let started = std::time::Instant::now();
    while delivered.lock().unwrap().len() < expected.len() && started.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    a.await.unwrap();
    b.await.unwrap();
    let delivered = delivered.lock().unwrap().clone();
    assert_eq!(delivered.len(), expected.len(), "every event delivered once: {delivered:?}");
    let mut publishers: BTreeMap<u32, BTreeSet<String>> = BTreeMap::new();
    for (owner, partition, _) in &delivered {
        publishers.entry(*partition).or_default().insert(owner.clone());
    }
    for (partition, owners) in &publishers {
        assert_eq!(
            owners.iter().map(|o| Some(o.clone())).collect::<Vec<_>>(),
            vec![split_between[partition].clone()],
            "partition {partition} published by its holder only"
        );
    }
}

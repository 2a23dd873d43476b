//! The relay and the consumer against a Kinesis wire-protocol endpoint: moto_server, an
//! emulator of the AWS wire protocol (scripts/test.sh starts it and sets
//! STARLING_TEST_KINESIS_ENDPOINT). Leases and checkpoints live in the embedded store here,
//! in DynamoDB when that store is configured: only the `Store` port is used.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use core_embedded::RedbStore;
use core_kinesis::{ConsumerOptions, KinesisConfig, KinesisConsumer, KinesisPublisher, RELAY_CONSUMER};
use core_ports::events::Event;
use core_ports::ports::{EventLog, EventSink, LoggedEvent, SinkError, Store};
use shared::id::Id;

fn config(stream: &str) -> KinesisConfig {
    let endpoint = std::env::var("STARLING_TEST_KINESIS_ENDPOINT").expect("STARLING_TEST_KINESIS_ENDPOINT (scripts/test.sh starts moto)");
    KinesisConfig { stream: stream.to_owned(), region: "us-east-1".into(), endpoint: Some(endpoint), credentials: Some(("test".into(), "test".into())) }
}

/// A stream with `shards` shards, created fresh.
async fn stream(name: &str, shards: i32) -> (KinesisConfig, aws_sdk_kinesis::Client) {
    let config = config(name);
    let client = core_kinesis::client(&config).await;
    let _ = client.delete_stream().stream_name(name).send().await;
    client.create_stream().stream_name(name).shard_count(shards).send().await.unwrap();
    core_kinesis::check_stream(&client, name).await.unwrap();
    (config, client)
}

/// Collects what it is given.
#[derive(Default)]
struct Collect(Mutex<Vec<LoggedEvent>>);

#[async_trait]
impl EventSink for Collect {
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError> {
        self.0.lock().unwrap().extend_from_slice(events);
        Ok(())
    }
}

impl Collect {
    fn seqs(&self) -> Vec<u64> {
        let mut seqs: Vec<u64> = self.0.lock().unwrap().iter().map(|e| e.seq).collect();
        seqs.sort_unstable();
        seqs
    }
}

/// Refuses everything, as Kinesis does while unreachable.
struct Down;

#[async_trait]
impl EventSink for Down {
    async fn deliver(&self, _: &[LoggedEvent]) -> Result<(), SinkError> {
        Err(SinkError("unreachable".into()))
    }
}

/// Reads a whole stream back: what the event sink contract's probe sees of the publisher.
struct StreamProbe {
    client: aws_sdk_kinesis::Client,
    stream: String,
}

#[async_trait]
impl core_ports::contract::event_sink::SinkProbe for StreamProbe {
    async fn handled(&self, seqs: &[u64]) -> Vec<(u64, String)> {
        let wanted: HashSet<u64> = seqs.iter().copied().collect();
        let mut out = Vec::new();
        let shards = self.client.list_shards().stream_name(&self.stream).send().await.unwrap();
        for shard in shards.shards() {
            let mut iterator = self
                .client
                .get_shard_iterator()
                .stream_name(&self.stream)
                .shard_id(shard.shard_id())
                .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
                .send()
                .await
                .unwrap()
                .shard_iterator
                .unwrap();
            loop {
                let page = self.client.get_records().shard_iterator(&iterator).limit(10_000).send().await.unwrap();
                for record in page.records() {
                    let logged = core_kinesis::decode(record.data().as_ref()).expect("every record decodes");
                    assert_eq!(record.partition_key(), logged.event.partition_key(), "records are partitioned by the acting account");
                    if wanted.contains(&logged.seq) {
                        out.push((logged.seq, logged.event.type_name().to_owned()));
                    }
                }
                match page.next_shard_iterator() {
                    Some(next) if !page.records().is_empty() => iterator = next.to_owned(),
                    _ => break,
                }
            }
        }
        out
    }
}

/// The event sink contract on the publisher, one test (and one fresh stream) per promise.
mod publisher_event_sink_contract {
    use super::*;

    async fn fixture() -> (Box<KinesisPublisher>, Box<StreamProbe>) {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let name = format!("sink-contract-{}-{}", std::process::id(), N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let (config, client) = stream(&name, 2).await;
        (Box::new(KinesisPublisher::new(&config).await), Box::new(StreamProbe { client, stream: name }))
    }

    core_ports::event_sink_contract_tests!(fixture(), #[ignore = "needs moto_server: scripts/test.sh"]);
}

fn follow(i: u64) -> Event {
    Event::Followed { follower: Id::from_u64(100 + i % 7), target: Id::from_u64(1000 + i) }
}

async fn commit(store: &RedbStore, n: u64, from: u64) {
    for i in from..from + n {
        store.transact(vec![], vec![follow(i)]).await.unwrap();
    }
}

fn open_store(dir: &tempfile::TempDir, name: &str) -> Arc<RedbStore> {
    Arc::new(RedbStore::open(&dir.path().join(name)).unwrap())
}

#[tokio::test]
#[ignore = "needs moto_server: scripts/test.sh"]
async fn relay_publishes_every_committed_event_once_kinesis_accepts_it() {
    let (config, client) = stream("relay", 2).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_store(&dir, "core.redb");
    commit(&core, 620, 0).await;

    // Kinesis unreachable: nothing is lost, the relay's checkpoint stays where it was.
    assert!(core_ports::sink::step(core.as_ref(), RELAY_CONSUMER, &Down, 1000, Duration::ZERO).await.is_err());
    assert_eq!(core.checkpoint(RELAY_CONSUMER).await.unwrap().get(0), 0);

    // "Restart": a new publisher relays the backlog (620 events: two PutRecords calls).
    let publisher = KinesisPublisher::new(&config).await;
    core_ports::sink::drain(core.as_ref(), RELAY_CONSUMER, &publisher, 1000).await.unwrap();
    assert_eq!(core.checkpoint(RELAY_CONSUMER).await.unwrap().get(0), 620);

    // Every event arrives with its outbox seq, each actor's events in commit order.
    let consumer_store = open_store(&dir, "consumer.redb");
    let sink = Arc::new(Collect::default());
    let consumer = KinesisConsumer::new(client, "relay".into(), consumer_store, sink.clone(), ConsumerOptions::new("test", "one"));
    while consumer.poll().await.unwrap() > 0 {}
    assert_eq!(sink.seqs(), (1..=620).collect::<Vec<u64>>());
    let mut per_actor: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let delivered = sink.0.lock().unwrap().clone();
    for e in &delivered {
        let event = core.read(&core_ports::Cursor::single(e.seq - 1), 1, Duration::ZERO).await.unwrap().remove(0);
        assert_eq!(event, *e, "the record is the logged event");
        per_actor.entry(core_kinesis::partition_key(&e.event)).or_default().push(e.seq);
    }
    assert_eq!(per_actor.len(), 7);
    assert!(per_actor.values().all(|seqs| seqs.windows(2).all(|w| w[0] < w[1])));
}

#[tokio::test]
#[ignore = "needs moto_server: scripts/test.sh"]
async fn consumer_resumes_after_its_stored_checkpoint() {
    let (config, client) = stream("resume", 2).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_store(&dir, "core.redb");
    let publisher = KinesisPublisher::new(&config).await;
    commit(&core, 30, 0).await;
    core_ports::sink::drain(core.as_ref(), RELAY_CONSUMER, &publisher, 500).await.unwrap();

    let checkpoints: Arc<dyn Store> = open_store(&dir, "checkpoints.redb");
    let first = Arc::new(Collect::default());
    let consumer = KinesisConsumer::new(client.clone(), "resume".into(), checkpoints.clone(), first.clone(), ConsumerOptions::new("test", "a"));
    while consumer.poll().await.unwrap() > 0 {}
    assert_eq!(first.seqs(), (1..=30).collect::<Vec<u64>>());
    drop(consumer);

    commit(&core, 20, 30).await;
    core_ports::sink::drain(core.as_ref(), RELAY_CONSUMER, &publisher, 500).await.unwrap();
    // A restarted instance (same store) starts AFTER_SEQUENCE_NUMBER of each shard's checkpoint.
    let second = Arc::new(Collect::default());
    let consumer = KinesisConsumer::new(client, "resume".into(), checkpoints, second.clone(), ConsumerOptions::new("test", "a"));
    while consumer.poll().await.unwrap() > 0 {}
    assert_eq!(second.seqs(), (31..=50).collect::<Vec<u64>>());
}

#[tokio::test]
#[ignore = "needs moto_server: scripts/test.sh"]
async fn instances_split_the_shards_and_take_over_a_dead_ones() {
    let (config, client) = stream("split", 4).await;
    let dir = tempfile::tempdir().unwrap();
    let core = open_store(&dir, "core.redb");
    let publisher = KinesisPublisher::new(&config).await;
    commit(&core, 200, 0).await;
    core_ports::sink::drain(core.as_ref(), RELAY_CONSUMER, &publisher, 500).await.unwrap();

    let shared: Arc<dyn Store> = open_store(&dir, "leases.redb");
    let lease = Duration::from_millis(1500);
    let options = |owner: &str| ConsumerOptions { lease, ..ConsumerOptions::new("test", owner) };
    let (sink_a, sink_b) = (Arc::new(Collect::default()), Arc::new(Collect::default()));
    let a = KinesisConsumer::new(client.clone(), "split".into(), shared.clone(), sink_a.clone(), options("a"));
    let b = KinesisConsumer::new(client.clone(), "split".into(), shared.clone(), sink_b.clone(), options("b"));

    // Both poll for a few lease windows: they end up with two shards each.
    let mut balanced = false;
    for _ in 0..60 {
        a.poll().await.unwrap();
        b.poll().await.unwrap();
        let leases = a.leases().await.unwrap();
        let owners: Vec<&str> = leases.iter().map(|l| l.owner.as_str()).collect();
        if leases.len() == 4 && owners.iter().filter(|o| **o == "a").count() == 2 && owners.iter().filter(|o| **o == "b").count() == 2 {
            balanced = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(balanced, "leases: {:?}", a.leases().await.unwrap());

    // Instance a dies; b takes its shards once a's lease and heartbeat expire.
    let mut took_over = false;
    for _ in 0..80 {
        b.poll().await.unwrap();
        let leases = b.leases().await.unwrap();
        if leases.len() == 4 && leases.iter().all(|l| l.owner == "b") {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(took_over, "leases: {:?}", b.leases().await.unwrap());
    while b.poll().await.unwrap() > 0 {}

    // Together they delivered everything (at least once).
    let all: HashSet<u64> = sink_a.seqs().into_iter().chain(sink_b.seqs()).collect();
    assert_eq!(all, (1..=200).collect::<HashSet<u64>>());
}

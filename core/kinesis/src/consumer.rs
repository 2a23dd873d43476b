//! The stream consumer: shard leases and per-shard checkpoints in the `Store`, records
//! decoded and handed to an [`EventSink`].
//!
//! Shards are split between instances by [`Leases`] (core-ports: lease windows created with
//! conditional puts, heartbeats, each instance keeping its share). A checkpoint is written
//! under the shard's lease ([`Leases::write_held`]), so an instance whose lease ran out cannot
//! move a checkpoint any more.
//!
//! Several applications read one stream independently (fanout, search, notifications,
//! analytics): each has its own leases, heartbeats and checkpoints, namespaced by its
//! [`ConsumerOptions::application`], so a slow or failing one only holds itself back.
//! Keys: leases `KL#{stream}#{application}#{shard}` / window (and window#owner), checkpoints
//! `KC#{stream}#{application}` / shard, heartbeats `KI#{stream}#{application}` / owner.
//! Checkpoints written before applications existed (`KC#{stream}` / shard, only the analytics
//! loader read the stream then) are adopted by the application named [`LEGACY_APPLICATION`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_kinesis::types::ShardIteratorType;
use core_ports::clock::{Clock, SystemClock};
use core_ports::keys;
use core_ports::leases::{Leases, doc};
use core_ports::ports::{Condition, EventSink, Item, Key, Store, Value, Write};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::{KinesisError, decode};

/// The application whose checkpoints predate namespacing (`KC#{stream}` / shard): it adopts
/// them when it has none of its own yet, so the analytics loader resumes where it was.
pub const LEGACY_APPLICATION: &str = "analytics";

/// Tuning of a consumer.
#[derive(Clone)]
pub struct ConsumerOptions {
    /// What reads the stream (`fanout`, `analytics`, …): leases and checkpoints are its own.
    pub application: String,
    /// This instance's name in leases (unique per running process).
    pub owner: String,
    /// Lease length: how long a dead instance's shards wait before others take them.
    pub lease: Duration,
    /// Records read per `GetRecords`.
    pub batch: i32,
    /// Records delivered (and checkpointed) at a time: small enough for one delivery to
    /// finish well within a lease.
    pub chunk: usize,
    /// Pause between two reads of a shard. Kinesis allows five `GetRecords` a second per
    /// shard for all readers together, so each application reads at most once per `idle`.
    pub idle: Duration,
    /// What lease windows and heartbeats are timed by.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ConsumerOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerOptions")
            .field("application", &self.application)
            .field("owner", &self.owner)
            .field("lease", &self.lease)
            .field("batch", &self.batch)
            .field("chunk", &self.chunk)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl ConsumerOptions {
    /// Defaults for `application` run by `owner`: 30 s leases, 1,000 records a read (a
    /// shard's whole write rate per second) delivered at once, at most one read a second.
    pub fn new(application: impl Into<String>, owner: impl Into<String>) -> Self {
        ConsumerOptions {
            application: application.into(),
            owner: owner.into(),
            lease: Duration::from_secs(30),
            batch: 1000,
            chunk: 1000,
            idle: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
        }
    }
}

/// A shard's id and its parent's.
type Shard = (String, Option<String>);

/// A shard's stored checkpoint.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    /// Last sequence number fully delivered.
    sequence: Option<String>,
    /// The shard is closed (resharded) and was read to its end.
    #[serde(default)]
    finished: bool,
}

/// Who holds a shard in the current window (for tests and operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Shard id.
    pub shard: String,
    /// Holder.
    pub owner: String,
}

/// Reads a Kinesis stream's shards into a sink, splitting shards with other instances.
pub struct KinesisConsumer {
    client: aws_sdk_kinesis::Client,
    stream: String,
    store: Arc<dyn Store>,
    sink: Arc<dyn EventSink>,
    options: ConsumerOptions,
    /// Open iterators of the shards this instance reads.
    iterators: tokio::sync::Mutex<HashMap<String, String>>,
    /// The shard list as last listed, and when (listed again once a lease length old).
    listed: std::sync::Mutex<Option<(u64, Vec<Shard>)>>,
    /// This instance's shard leases.
    leases: Leases,
}

impl KinesisConsumer {
    /// A consumer of `stream` delivering to `sink`, keeping leases and checkpoints in `store`.
    pub fn new(client: aws_sdk_kinesis::Client, stream: String, store: Arc<dyn Store>, sink: Arc<dyn EventSink>, options: ConsumerOptions) -> Self {
        let leases = Leases::new(
            store.clone(),
            keys::kinesis_lease_prefix(&stream, &options.application),
            keys::kinesis_instances_partition(&stream, &options.application),
            options.owner.clone(),
            options.lease,
            options.clock.clone(),
        );
        KinesisConsumer {
            client,
            stream,
            store,
            sink,
            options,
            iterators: tokio::sync::Mutex::new(HashMap::new()),
            listed: std::sync::Mutex::new(None),
            leases,
        }
    }

    /// Runs until `stop` turns true, then gives its leases up ([`KinesisConsumer::release`]).
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            // Busy or not, a shard is read at most once per `idle`: the applications sharing
            // the stream share its five reads a second per shard.
            let pause = match self.poll().await {
                Ok(_) => self.options.idle,
                Err(e) => {
                    tracing::warn!(error = %e, stream = %self.stream, application = %self.options.application, "kinesis consumer poll failed; retrying");
                    self.options.idle.max(Duration::from_secs(1))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => break,
            }
        }
        if let Err(e) = self.release().await {
            tracing::warn!(error = %e, stream = %self.stream, application = %self.options.application, "kinesis consumer could not release its leases; they expire");
        }
    }

    /// Gives up this instance's leases (this window and the next) and its heartbeat, so the
    /// others take its shards on their next poll instead of when the leases expire.
    pub async fn release(&self) -> Result<(), KinesisError> {
        let shards: Vec<String> = self.shards().await?.into_iter().map(|(id, _)| id).collect();
        Ok(self.leases.release(&shards).await?)
    }

    /// One round: heartbeat, balance leases, read each held shard once and deliver what it
    /// had; returns how many events were delivered.
    pub async fn poll(&self) -> Result<usize, KinesisError> {
        let shards = self.shards().await?;
        let held = self.balance(&shards).await?;
        let mut iterators = self.iterators.lock().await;
        iterators.retain(|shard, _| held.contains(shard));
        let mut delivered = 0;
        for shard in &held {
            delivered += self.read_shard(shard, &mut iterators).await?;
        }
        Ok(delivered)
    }

    /// Who holds each shard in the current window.
    pub async fn leases(&self) -> Result<Vec<Lease>, KinesisError> {
        let mut out = Vec::new();
        for (shard, _) in self.shards().await? {
            if let Some(owner) = self.leases.holder(&shard).await? {
                out.push(Lease { shard, owner });
            }
        }
        Ok(out)
    }

    /// The stream's shards with their parents, in id order, listed at most once a lease
    /// length (ListShards allows 100 calls a second per stream, for every reader).
    async fn shards(&self) -> Result<Vec<Shard>, KinesisError> {
        let now = self.now_ms();
        let cached = self
            .listed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| now.saturating_sub(*at) < self.lease_ms())
            .map(|(_, shards)| shards.clone());
        if let Some(shards) = cached {
            return Ok(shards);
        }
        let out = self.list_shards().await?;
        *self.listed.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((now, out.clone()));
        Ok(out)
    }

    async fn list_shards(&self) -> Result<Vec<Shard>, KinesisError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request = match &token {
                Some(t) => self.client.list_shards().next_token(t),
                None => self.client.list_shards().stream_name(&self.stream),
            };
            let page = request.send().await.map_err(|e| KinesisError::Api(aws_sdk_kinesis::error::DisplayErrorContext(e).to_string()))?;
            out.extend(page.shards().iter().map(|s| (s.shard_id().to_owned(), s.parent_shard_id().map(str::to_owned))));
            match page.next_token() {
                Some(t) => token = Some(t.to_owned()),
                None => break,
            }
        }
        out.sort();
        Ok(out)
    }

    /// Renews, claims and gives up leases so this instance holds its share; returns the shards
    /// it holds now and may read (a child shard waits until its parent is finished).
    async fn balance(&self, shards: &[Shard]) -> Result<Vec<String>, KinesisError> {
        let finished = self.finished(shards).await?;
        let readable: Vec<String> = shards
            .iter()
            .filter(|(id, parent)| !finished.contains(id) && parent.as_ref().is_none_or(|p| finished.contains(p) || !shards.iter().any(|(s, _)| s == p)))
            .map(|(id, _)| id.clone())
            .collect();
        Ok(self.leases.balance(&readable).await?)
    }

    /// Closed shards read to their end.
    async fn finished(&self, shards: &[Shard]) -> Result<HashSet<String>, KinesisError> {
        let ids: Vec<&str> = shards.iter().map(|(id, _)| id.as_str()).collect();
        let checkpoints = self.checkpoints(&ids).await?;
        Ok(ids.into_iter().zip(checkpoints).filter(|(_, c)| c.finished).map(|(id, _)| id.to_owned()).collect())
    }

    /// The stored checkpoints of `shards` (default when none), adopting a pre-namespacing one
    /// for [`LEGACY_APPLICATION`].
    async fn checkpoints(&self, shards: &[&str]) -> Result<Vec<Checkpoint>, KinesisError> {
        let items = self.store.get_many(&shards.iter().map(|s| self.checkpoint_key(s)).collect::<Vec<_>>()).await?;
        let mut out: Vec<Option<Checkpoint>> = items.iter().map(|i| i.as_ref().and_then(doc::<Checkpoint>)).collect();
        if self.options.application == LEGACY_APPLICATION && out.iter().any(Option::is_none) {
            let legacy = self.store.get_many(&shards.iter().map(|s| keys::kinesis_legacy_checkpoint(&self.stream, s)).collect::<Vec<_>>()).await?;
            for (slot, item) in out.iter_mut().zip(legacy) {
                if slot.is_none() {
                    *slot = item.as_ref().and_then(doc::<Checkpoint>);
                }
            }
        }
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// The stored checkpoint of `shard`.
    async fn checkpoint(&self, shard: &str) -> Result<Checkpoint, KinesisError> {
        Ok(self.checkpoints(&[shard]).await?.pop().unwrap_or_default())
    }

    /// Reads `shard` once from its iterator (opened after the checkpoint when missing),
    /// delivers the events and saves the checkpoint; returns how many were delivered.
    async fn read_shard(&self, shard: &str, iterators: &mut HashMap<String, String>) -> Result<usize, KinesisError> {
        let iterator = match iterators.remove(shard) {
            Some(it) => it,
            None => match self.open_iterator(shard).await? {
                Some(it) => it,
                None => return Ok(0),
            },
        };
        let out = match self.client.get_records().shard_iterator(&iterator).limit(self.options.batch).send().await {
            Ok(out) => out,
            // An expired or invalid iterator is reopened from the checkpoint next time.
            Err(e) => return Err(KinesisError::Api(aws_sdk_kinesis::error::DisplayErrorContext(e).to_string())),
        };
        let records = out.records();
        let finished = out.next_shard_iterator().is_none();
        let mut delivered = 0;
        // Delivered and checkpointed a chunk at a time, so a read that takes longer than a
        // lease still moves forward.
        let chunks = records.chunks(self.options.chunk.max(1));
        let count = chunks.len();
        for (i, chunk) in chunks.enumerate() {
            let events: Vec<_> = chunk
                .iter()
                .filter_map(|r| {
                    let decoded = decode(r.data().as_ref());
                    if decoded.is_none() {
                        tracing::warn!(shard, sequence = r.sequence_number(), "skipping a record that is not a Starling event");
                    }
                    decoded
                })
                .collect();
            if !events.is_empty() {
                self.sink.deliver(&events).await?;
            }
            delivered += events.len();
            if let Some(last) = chunk.last() {
                self.save_checkpoint(shard, Checkpoint { sequence: Some(last.sequence_number().to_owned()), finished: finished && i + 1 == count }).await?;
            }
        }
        if records.is_empty() && finished {
            let current = self.checkpoint(shard).await?;
            self.save_checkpoint(shard, Checkpoint { sequence: current.sequence, finished: true }).await?;
        }
        if let Some(next) = out.next_shard_iterator() {
            iterators.insert(shard.to_owned(), next.to_owned());
        }
        Ok(delivered)
    }

    /// An iterator right after the shard's checkpoint, or at its oldest record.
    async fn open_iterator(&self, shard: &str) -> Result<Option<String>, KinesisError> {
        let checkpoint = self.checkpoint(shard).await?;
        if checkpoint.finished {
            return Ok(None);
        }
        let request = self.client.get_shard_iterator().stream_name(&self.stream).shard_id(shard);
        let request = match checkpoint.sequence {
            Some(seq) => request.shard_iterator_type(ShardIteratorType::AfterSequenceNumber).starting_sequence_number(seq),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out = request.send().await.map_err(|e| KinesisError::Api(aws_sdk_kinesis::error::DisplayErrorContext(e).to_string()))?;
        Ok(out.shard_iterator().map(str::to_owned))
    }

    /// Saves a checkpoint, only while this instance still holds the shard's current lease.
    /// A delivery that ran into a window this instance did not renew claims that window now,
    /// when nobody else has (the lease stays exclusive; at worst the checkpoint moves back
    /// behind another holder's and records are delivered again).
    async fn save_checkpoint(&self, shard: &str, checkpoint: Checkpoint) -> Result<(), KinesisError> {
        let item = Item { key: self.checkpoint_key(shard), value: Value::Doc(serde_json::to_vec(&checkpoint).unwrap_or_default()) };
        if self.leases.write_held(shard, vec![Write::Put { item, condition: Condition::None }]).await? {
            Ok(())
        } else {
            Err(KinesisError::Api(format!("lost the lease of shard {shard}; its checkpoint stays for the next holder")))
        }
    }

    fn now_ms(&self) -> u64 {
        self.options.clock.now_ms()
    }

    fn lease_ms(&self) -> u64 {
        self.leases.lease_ms()
    }

    fn checkpoint_key(&self, shard: &str) -> Key {
        keys::kinesis_checkpoint(&self.stream, &self.options.application, shard)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use core_ports::clock::system_now_ms;

    use super::*;

    async fn consumer(store: Arc<dyn Store>, application: &str) -> KinesisConsumer {
        owned(store, application, "a", Duration::from_secs(30)).await
    }

    async fn owned(store: Arc<dyn Store>, application: &str, owner: &str, lease: Duration) -> KinesisConsumer {
        struct Nothing;
        #[async_trait::async_trait]
        impl EventSink for Nothing {
            async fn deliver(&self, _: &[core_ports::ports::LoggedEvent]) -> Result<(), core_ports::ports::SinkError> {
                Ok(())
            }
        }
        // Never called: these tests touch only the store.
        let config = crate::KinesisConfig {
            stream: "s".into(),
            region: "us-east-1".into(),
            endpoint: Some("http://127.0.0.1:9".into()),
            credentials: Some(("k".into(), "s".into())),
        };
        KinesisConsumer::new(
            crate::client(&config).await,
            "s".into(),
            store,
            Arc::new(Nothing),
            ConsumerOptions { lease, ..ConsumerOptions::new(application, owner) },
        )
    }

    fn put(key: Key, checkpoint: &Checkpoint) -> Write {
        Write::Put { item: Item { key, value: Value::Doc(serde_json::to_vec(checkpoint).unwrap()) }, condition: Condition::None }
    }

    #[tokio::test]
    async fn applications_keep_their_own_checkpoints_and_analytics_adopts_the_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(core_embedded::RedbStore::open(&dir.path().join("db")).unwrap());
        // A checkpoint written before applications had names.
        let old = Checkpoint { sequence: Some("49".into()), finished: false };
        store.transact(vec![put(keys::kinesis_legacy_checkpoint("s", "shard-0"), &old)], vec![]).await.unwrap();
        let analytics = consumer(store.clone(), "analytics").await;
        let fanout = consumer(store.clone(), "fanout").await;
        assert_eq!(analytics.checkpoint("shard-0").await.unwrap().sequence.as_deref(), Some("49"));
        assert_eq!(fanout.checkpoint("shard-0").await.unwrap().sequence, None, "fanout starts at the trim horizon");

        // Each application's own checkpoint wins, and they do not see each other's.
        let mine = Checkpoint { sequence: Some("77".into()), finished: true };
        store.transact(vec![put(fanout.checkpoint_key("shard-0"), &mine)], vec![]).await.unwrap();
        assert_eq!(fanout.checkpoint("shard-0").await.unwrap().sequence.as_deref(), Some("77"));
        assert_eq!(analytics.checkpoint("shard-0").await.unwrap().sequence.as_deref(), Some("49"));
        let shards = vec![("shard-0".to_owned(), None)];
        assert!(fanout.finished(&shards).await.unwrap().contains("shard-0"));
        assert!(analytics.finished(&shards).await.unwrap().is_empty());
        store.transact(vec![put(analytics.checkpoint_key("shard-0"), &Checkpoint { sequence: Some("50".into()), finished: false })], vec![]).await.unwrap();
        assert_eq!(analytics.checkpoint("shard-0").await.unwrap().sequence.as_deref(), Some("50"));
    }

    #[tokio::test]
    async fn heartbeats_count_live_instances_per_application_and_forget_long_dead_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(core_embedded::RedbStore::open(&dir.path().join("db")).unwrap());
        let fanout = consumer(store.clone(), "fanout").await;
        let search = consumer(store.clone(), "search").await;
        let now = system_now_ms();
        let beat = |owner: &str, expires_ms: u64| Write::Put {
            item: Item {
                key: Key::new(keys::kinesis_instances_partition("s", "fanout"), owner),
                value: Value::Doc(serde_json::to_vec(&core_ports::leases::Heartbeat { expires_ms }).unwrap()),
            },
            condition: Condition::None,
        };
        store.transact(vec![beat("live", now + 60_000), beat("dead", now - 1), beat("long-dead", now - 11 * 30_000)], vec![]).await.unwrap();
        assert_eq!(fanout.leases.heartbeat(now).await.unwrap(), 2, "itself and `live`");
        assert_eq!(search.leases.heartbeat(now).await.unwrap(), 1, "another application's instances do not count");
        let left: Vec<String> = store
            .query(&core_ports::ports::Query::partition(keys::kinesis_instances_partition("s", "fanout"), 10))
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.key.sk)
            .collect();
        assert_eq!(left, ["a", "dead", "live"]);
    }

    #[tokio::test]
    async fn a_delivery_outlasting_its_window_checkpoints_only_when_nobody_took_the_shard() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(core_embedded::RedbStore::open(&dir.path().join("db")).unwrap());
        let lease = Duration::from_millis(100);
        let a = owned(store.clone(), "fanout", "a", lease).await;
        let b = owned(store.clone(), "fanout", "b", lease).await;
        let window = a.leases.window(system_now_ms());
        assert!(a.leases.claim("shard-0", window).await.unwrap());
        assert!(a.leases.claim("shard-1", window).await.unwrap());
        assert!(!b.leases.claim("shard-0", window).await.unwrap(), "a lease has one holder");
        // `a` is slow: its deliveries end two windows later, without renewing.
        tokio::time::sleep(Duration::from_millis(250)).await;
        // Nobody took shard-0: `a` claims the current window late and saves.
        let at = |seq: &str| Checkpoint { sequence: Some(seq.into()), finished: false };
        a.save_checkpoint("shard-0", at("10")).await.unwrap();
        assert_eq!(a.checkpoint("shard-0").await.unwrap().sequence.as_deref(), Some("10"));
        // `b` took shard-1 meanwhile: `a` cannot move its checkpoint.
        let now = a.leases.window(system_now_ms());
        assert!(b.leases.claim("shard-1", now).await.unwrap());
        b.save_checkpoint("shard-1", at("20")).await.unwrap();
        if a.leases.window(system_now_ms()) == now {
            assert!(a.save_checkpoint("shard-1", at("5")).await.is_err());
            assert_eq!(a.checkpoint("shard-1").await.unwrap().sequence.as_deref(), Some("20"));
        }
    }

    #[tokio::test]
    async fn released_shards_are_free_at_once_for_another_instance() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(core_embedded::RedbStore::open(&dir.path().join("db")).unwrap());
        let a = owned(store.clone(), "fanout", "a", Duration::from_secs(30)).await;
        let b = owned(store.clone(), "fanout", "b", Duration::from_secs(30)).await;
        let shards: Vec<Shard> = vec![("shard-0".into(), None), ("shard-1".into(), None)];
        *a.listed.lock().unwrap() = Some((system_now_ms(), shards.clone()));
        *b.listed.lock().unwrap() = Some((system_now_ms(), shards.clone()));
        assert_eq!(a.balance(&shards).await.unwrap(), ["shard-0", "shard-1"]);
        assert!(b.balance(&shards).await.unwrap().is_empty(), "a holds both for this window");
        // b's own leases are untouched by a's release.
        a.release().await.unwrap();
        // b's next heartbeat no longer counts a.
        b.leases.forget_count();
        assert_eq!(b.balance(&shards).await.unwrap(), ["shard-0", "shard-1"], "free at once, not after 30 s");
        b.release().await.unwrap();
    }
}

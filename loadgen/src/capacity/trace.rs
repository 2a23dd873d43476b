//! The key-level trace: recording decorators around the ports the app runs on (store, event
//! log, timeline cache, stream hub, search index, rate limits). Each logs every item or key it
//! reads or writes, with its size, under the action that caused it: a tokio task-local set
//! around each action of the workload ([`Trace::within`]). The app spawns no task in a request's
//! path (argon2 runs on the blocking pool inside it), so nothing caused by an action escapes its
//! scope; accesses outside any scope (startup) are kept as unattributed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use core_app::cursor::Cursor;
use core_app::events::Event;
use core_app::ports::{
    AccountSearch, CacheError, EventLog, Item, Key, LoggedEvent, Query, RateLimitStore, SearchChange, SearchError, SearchIndex, StatusSearch, Store,
    StoreError, StreamHub, StreamMessage, TagHit, TimelineCache, TimelineEntry, Value, Write,
};
use shared::id::Id;
use shared::page::Window;
use shared::rate::{Decision, Quota};

/// Which part of the system did the work of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// The HTTP request itself.
    Request,
    /// An event consumer (fanout, search, notifications, streaming) handling its events.
    Consumers,
}

/// Who caused an access: the action's index in the trace and the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cause {
    pub action: usize,
    pub stage: Stage,
}

tokio::task_local! {
    static CAUSE: Cause;
}

/// What an access did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A strongly consistent point read (`GetItem`, or one key of a `BatchGetItem`); `bytes` is
    /// the item's size (0 when absent).
    Get,
    /// A strongly consistent `Query` of one partition; `bytes` is the size of the items returned.
    Query { items: usize },
    /// One write of a transaction (`TransactWriteItems`); `bytes` is the item's size.
    Put,
    /// A delete inside a transaction (size unknown to the caller: billed as one unit).
    Delete,
    /// A counter update inside a transaction.
    Add,
    /// A committed transaction: its writes and the events it appended (`bytes`: the events'
    /// JSON). The DynamoDB outbox items it implies come from `outbox::dynamodb_outbox`.
    Commit { writes: usize, events: Vec<Event> },
    /// An event-log read or checkpoint (only the in-process log tails do these).
    Log,
    /// One Redis command, as the Redis adapter issues it (see `redis_command`).
    Redis(&'static str),
    /// Documents handed to the search index.
    SearchIndex { docs: usize },
    /// One search query.
    SearchQuery,
}

/// One recorded access.
#[derive(Debug, Clone)]
pub struct Access {
    pub cause: Option<Cause>,
    pub op: Op,
    /// Partition key (store), or the Redis key / channel.
    pub pk: String,
    /// Sort key (store), empty otherwise.
    pub sk: String,
    pub bytes: usize,
    /// A read that fills an in-process copy (`core_app::hot::filling`): each core task repeats
    /// it at most once per `hot_ttl_ms`, whatever the request rate.
    pub filled: bool,
}

/// The trace every decorator appends to.
#[derive(Clone, Default)]
pub struct Trace(Arc<Mutex<Vec<Access>>>);

impl Trace {
    /// Runs `work` with its accesses attributed to `cause`.
    pub async fn within<F: std::future::Future>(cause: Cause, work: F) -> F::Output {
        CAUSE.scope(cause, work).await
    }

    fn push(&self, op: Op, pk: impl Into<String>, sk: impl Into<String>, bytes: usize) {
        let access = Access { cause: CAUSE.try_with(|c| *c).ok(), op, pk: pk.into(), sk: sk.into(), bytes, filled: core_app::hot::is_filling() };
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push(access);
    }

    /// Everything recorded so far.
    pub fn take(&self) -> Vec<Access> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// An item's size as DynamoDB counts it: attribute names plus values, with the adapter's
/// attributes (`pk`, `sk`, and `doc` bytes or the number `n`).
pub fn item_size(key: &Key, value: &Value) -> usize {
    let keys = "pk".len() + key.pk.len() + "sk".len() + key.sk.len();
    keys + match value {
        Value::Doc(bytes) => "doc".len() + bytes.len(),
        Value::Count(n) => "n".len() + number_size(*n),
    }
}

/// DynamoDB's size of a number: one byte per two significant digits, plus one.
pub fn number_size(n: i64) -> usize {
    let digits = n.unsigned_abs().to_string().trim_end_matches('0').len().max(1);
    digits.div_ceil(2) + 1
}

/// The store and the event log, recorded.
pub struct RecordingStore {
    pub inner: Arc<dyn Store>,
    pub trace: Trace,
}

#[async_trait]
impl Store for RecordingStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let item = self.inner.get(key).await?;
        self.trace.push(Op::Get, &key.pk, &key.sk, item.as_ref().map_or(0, |i| item_size(&i.key, &i.value)));
        Ok(item)
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let items = self.inner.get_many(keys).await?;
        for (key, item) in keys.iter().zip(&items) {
            self.trace.push(Op::Get, &key.pk, &key.sk, item.as_ref().map_or(0, |i| item_size(&i.key, &i.value)));
        }
        Ok(items)
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let items = self.inner.query(query).await?;
        let bytes = items.iter().map(|i| item_size(&i.key, &i.value)).sum();
        self.trace.push(Op::Query { items: items.len() }, &query.pk, query.prefix.clone().unwrap_or_default(), bytes);
        Ok(items)
    }

    async fn transact(&self, writes: Vec<Write>, events: Vec<Event>) -> Result<(), StoreError> {
        let recorded: Vec<(Op, Key, usize)> = writes
            .iter()
            .map(|w| match w {
                Write::Put { item, .. } => (Op::Put, item.key.clone(), item_size(&item.key, &item.value)),
                Write::Delete { key, .. } => (Op::Delete, key.clone(), 0),
                Write::Add { key, .. } => (Op::Add, key.clone(), item_size(key, &Value::Count(1))),
            })
            .collect();
        let count = writes.len();
        let bytes = serde_json::to_vec(&events).map_or(0, |v| v.len());
        let logged = events.clone();
        let result = self.inner.transact(writes, events).await;
        // A failed condition costs the same capacity as a committed write on DynamoDB.
        for (op, key, size) in recorded {
            self.trace.push(op, key.pk, key.sk, size);
        }
        if result.is_ok() {
            self.trace.push(Op::Commit { writes: count, events: logged }, "", "", bytes);
        }
        result
    }
}

/// The event log, recorded (only log tails read it: the workload feeds consumers directly).
pub struct RecordingLog {
    pub inner: Arc<dyn EventLog>,
    pub trace: Trace,
}

#[async_trait]
impl EventLog for RecordingLog {
    fn partitions(&self) -> u32 {
        self.inner.partitions()
    }

    async fn read(&self, after: &Cursor, limit: usize, wait: Duration) -> Result<Vec<LoggedEvent>, StoreError> {
        let events = self.inner.read(after, limit, wait).await?;
        self.trace.push(Op::Log, "log", "read", events.len());
        Ok(events)
    }

    async fn checkpoint(&self, consumer: &str) -> Result<Cursor, StoreError> {
        self.trace.push(Op::Log, "log", format!("checkpoint {consumer}"), 0);
        self.inner.checkpoint(consumer).await
    }

    async fn save_checkpoint(&self, consumer: &str, at: &Cursor) -> Result<(), StoreError> {
        self.trace.push(Op::Log, "log", format!("save {consumer}"), 0);
        self.inner.save_checkpoint(consumer, at).await
    }

    async fn head(&self) -> Result<Cursor, StoreError> {
        self.inner.head().await
    }
}

/// The home-timeline cache, recorded as the Redis commands `core/redis/src/timeline.rs`
/// sends: `EXISTS`/`SET NX`/`GET`/`DEL` on the version key, `EVALSHA` of add.lua / remove.lua
/// (one per timeline, pipelined, for fanout), `ZRANGE BYLEX` for reads.
pub struct RecordingTimelines {
    pub inner: Arc<dyn TimelineCache>,
    pub trace: Trace,
}

/// Bytes of one timeline entry as the Redis adapter stores it: the entry's and the original's
/// sort keys (16 hex digits each) and a separator.
pub const TIMELINE_MEMBER_BYTES: usize = 33;

#[async_trait]
impl TimelineCache for RecordingTimelines {
    async fn exists(&self, timeline: &str) -> Result<bool, CacheError> {
        self.trace.push(Op::Redis("EXISTS"), timeline, "", 0);
        self.inner.exists(timeline).await
    }

    async fn create(&self, timeline: &str) -> Result<(), CacheError> {
        self.trace.push(Op::Redis("SET NX"), timeline, "", 0);
        self.inner.create(timeline).await
    }

    async fn insert(&self, timeline: &str, entries: &[TimelineEntry], cap: usize) -> Result<usize, CacheError> {
        self.trace.push(Op::Redis("EVALSHA add"), timeline, "", entries.len() * TIMELINE_MEMBER_BYTES);
        self.inner.insert(timeline, entries, cap).await
    }

    async fn fan_out(&self, timelines: &[String], entry: TimelineEntry, cap: usize) -> Result<usize, CacheError> {
        for timeline in timelines {
            self.trace.push(Op::Redis("EVALSHA add (fanout)"), timeline, "", TIMELINE_MEMBER_BYTES);
        }
        self.inner.fan_out(timelines, entry, cap).await
    }

    async fn remove(&self, timeline: &str, ids: &[Id]) -> Result<(), CacheError> {
        self.trace.push(Op::Redis("EVALSHA remove"), timeline, "", 0);
        self.inner.remove(timeline, ids).await
    }

    async fn remove_from_all(&self, timelines: &[String], ids: &[Id]) -> Result<(), CacheError> {
        for timeline in timelines {
            self.trace.push(Op::Redis("EVALSHA remove"), timeline, "", 0);
        }
        self.inner.remove_from_all(timelines, ids).await
    }

    async fn range(&self, timeline: &str, window: &Window) -> Result<Vec<Id>, CacheError> {
        let ids = self.inner.range(timeline, window).await?;
        self.trace.push(Op::Redis("ZRANGE"), timeline, "", ids.len() * TIMELINE_MEMBER_BYTES);
        Ok(ids)
    }

    async fn version(&self, timeline: &str) -> Result<u64, CacheError> {
        self.trace.push(Op::Redis("GET"), timeline, "", 0);
        self.inner.version(timeline).await
    }

    async fn drop_timeline(&self, timeline: &str) -> Result<(), CacheError> {
        self.trace.push(Op::Redis("DEL"), timeline, "", 0);
        self.inner.drop_timeline(timeline).await
    }
}

/// The stream hub, recorded as `core/redis/src/stream.rs` issues it: `SPUBLISH`, `SSUBSCRIBE`,
/// `PUBSUB SHARDNUMSUB` (asked for every channel a publisher considers), `SET NX PX` claims.
pub struct RecordingStreams {
    pub inner: Arc<dyn StreamHub>,
    pub trace: Trace,
}

#[async_trait]
impl StreamHub for RecordingStreams {
    async fn publish(&self, channel: &str, message: StreamMessage) -> Result<(), CacheError> {
        self.trace.push(Op::Redis("SPUBLISH"), channel, "", message.payload.len());
        self.inner.publish(channel, message).await
    }

    async fn subscribe(&self, channel: &str) -> Result<tokio::sync::broadcast::Receiver<Arc<StreamMessage>>, CacheError> {
        self.trace.push(Op::Redis("SSUBSCRIBE"), channel, "", 0);
        self.inner.subscribe(channel).await
    }

    async fn has_subscribers(&self, channel: &str) -> Result<bool, CacheError> {
        self.trace.push(Op::Redis("PUBSUB SHARDNUMSUB"), channel, "", 0);
        self.inner.has_subscribers(channel).await
    }

    async fn claim(&self, seq: u64) -> Result<bool, CacheError> {
        self.trace.push(Op::Redis("SET NX PX (claim)"), format!("stream:claim:{seq}"), "", 0);
        self.inner.claim(seq).await
    }
}

/// Rate-limit state, recorded as the Redis adapter's one `EVALSHA` of gcra.lua per hit.
pub struct RecordingRateLimits {
    pub inner: Arc<dyn RateLimitStore>,
    pub trace: Trace,
}

#[async_trait]
impl RateLimitStore for RecordingRateLimits {
    async fn hit(&self, key: &str, quota: Quota, now_ms: u64) -> Result<Decision, CacheError> {
        self.trace.push(Op::Redis("EVALSHA gcra"), key, "", 0);
        self.inner.hit(key, quota, now_ms).await
    }
}

/// The search index, recorded: documents indexed and queries asked (OpenSearch in production).
pub struct RecordingSearch {
    pub inner: Arc<dyn SearchIndex>,
    pub trace: Trace,
}

#[async_trait]
impl SearchIndex for RecordingSearch {
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError> {
        let bytes = changes
            .iter()
            .map(|c| match c {
                SearchChange::IndexStatus(doc) => doc.text.len() + 64,
                SearchChange::IndexAccount(doc) => doc.username.len() + doc.display_name.len() + 32,
                SearchChange::DeleteStatus(_) | SearchChange::DeleteAccount(_) => 16,
            })
            .sum();
        self.trace.push(Op::SearchIndex { docs: changes.len() }, "search", "", bytes);
        self.inner.apply(changes).await
    }

    async fn statuses(&self, query: &StatusSearch) -> Result<Vec<Id>, SearchError> {
        self.trace.push(Op::SearchQuery, "search", "statuses", 0);
        self.inner.statuses(query).await
    }

    async fn accounts(&self, query: &AccountSearch) -> Result<Vec<Id>, SearchError> {
        self.trace.push(Op::SearchQuery, "search", "accounts", 0);
        self.inner.accounts(query).await
    }

    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<TagHit>, SearchError> {
        self.trace.push(Op::SearchQuery, "search", "hashtags", 0);
        self.inner.hashtags(prefix, offset, limit).await
    }

    async fn clear(&self) -> Result<(), SearchError> {
        self.inner.clear().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_a_byte_per_two_significant_digits_plus_one() {
        assert_eq!(number_size(0), 2);
        assert_eq!(number_size(7), 2);
        assert_eq!(number_size(12_345), 4);
        assert_eq!(number_size(1_000_000), 2, "trailing zeros are not significant");
    }

    #[test]
    fn item_sizes_count_attribute_names_and_values() {
        let key = Key::new("A#1", "profile");
        assert_eq!(item_size(&key, &Value::Doc(vec![0; 100])), 2 + 3 + 2 + 7 + 3 + 100);
    }

    #[tokio::test]
    async fn accesses_are_attributed_to_the_scope_they_run_in() {
        let trace = Trace::default();
        trace.push(Op::Get, "outside", "", 0);
        let cause = Cause { action: 7, stage: Stage::Consumers };
        Trace::within(cause, async { trace.push(Op::Get, "inside", "", 0) }).await;
        let accesses = trace.take();
        assert_eq!(accesses[0].cause, None);
        assert_eq!(accesses[1].cause, Some(cause));
    }
}

//! The ports core/app needs from the outside world, shaped after the production access
//! patterns: a single-table item store with DynamoDB's operations (get, batch get, query one
//! partition by sort key, conditional transactional writes, atomic counters), an event log
//! with per-consumer checkpoints (Kinesis-like), and a timeline cache with Redis sorted-set
//! operations. Adapters implement these; nothing here names a backend.

use std::time::Duration;

use async_trait::async_trait;
use shared::id::Id;
use shared::page::Window;
use shared::rate::{Decision, Quota};

use crate::events::Event;

/// Primary key of an item: partition key + sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Partition key: every query reads exactly one partition.
    pub pk: String,
    /// Sort key: items of a partition are ordered by it (byte-wise).
    pub sk: String,
}

impl Key {
    /// A key from its parts.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }
}

/// What an item holds: an opaque document, or a counter changed only by [`Write::Add`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A serialised record (JSON).
    Doc(Vec<u8>),
    /// An atomic counter.
    Count(i64),
}

/// One stored item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Its key.
    pub key: Key,
    /// Its value.
    pub value: Value,
}

/// A precondition on the item a write touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Always write.
    None,
    /// Only if no item has this key (uniqueness, idempotency).
    NotExists,
    /// Only if an item has this key (deleting exactly once).
    Exists,
}

/// One write of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Create or replace an item.
    Put { item: Item, condition: Condition },
    /// Remove an item (absent items are fine unless the condition says otherwise).
    Delete { key: Key, condition: Condition },
    /// Add `delta` to a counter item, creating it at zero first.
    Add { key: Key, delta: i64 },
}

/// A scan of one partition, in sort-key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The partition.
    pub pk: String,
    /// Only sort keys strictly greater than this.
    pub after: Option<String>,
    /// Only sort keys strictly less than this.
    pub before: Option<String>,
    /// Only sort keys starting with this.
    pub prefix: Option<String>,
    /// Descending order (newest first for id-keyed partitions).
    pub descending: bool,
    /// At most this many items.
    pub limit: usize,
}

impl Query {
    /// Everything in a partition, ascending, up to `limit`.
    pub fn partition(pk: impl Into<String>, limit: usize) -> Self {
        Query { pk: pk.into(), after: None, before: None, prefix: None, descending: false, limit }
    }

    /// An id-keyed partition read through a pagination window.
    pub fn window(pk: impl Into<String>, window: &Window) -> Self {
        Query {
            pk: pk.into(),
            after: window.after.map(Id::sort_key),
            before: window.before.map(Id::sort_key),
            prefix: None,
            descending: !window.oldest_first,
            limit: window.limit,
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition of write number `index` did not hold; nothing was written.
    #[error("condition of write {index} failed")]
    ConditionFailed { index: usize },
    /// The transaction is larger than the store accepts.
    #[error("transaction too large: {writes} writes")]
    TooLarge { writes: usize },
    /// The backend failed or could not be reached.
    #[error("store backend failed: {0}")]
    Backend(String),
}

/// Most writes a transaction may carry (DynamoDB's TransactWriteItems limit).
pub const MAX_TRANSACTION_WRITES: usize = 100;

/// The durable store of record: strongly consistent, single-table.
#[async_trait]
pub trait Store: Send + Sync {
    /// Reads one item.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Reads many items at once; the result is in the order of `keys`.
    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError>;

    /// Scans one partition.
    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError>;

    /// Applies `writes` and appends `events` to the event log, all or nothing.
    async fn transact(&self, writes: Vec<Write>, events: Vec<Event>) -> Result<(), StoreError>;
}

/// One event as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// Position in the log; strictly increasing in commit order.
    pub seq: u64,
    /// The event.
    pub event: Event,
}

/// The durable log of what changed, tailed by consumers (fanout, search, notifications, …).
/// Delivery is at-least-once: consumers must be idempotent.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Events after position `after`, at most `limit`, waiting up to `wait` for the first one.
    async fn read(&self, after: u64, limit: usize, wait: Duration) -> Result<Vec<LoggedEvent>, StoreError>;

    /// The position `consumer` has fully processed (0 when it has never run).
    async fn checkpoint(&self, consumer: &str) -> Result<u64, StoreError>;

    /// Records that `consumer` has processed everything up to `seq`.
    async fn save_checkpoint(&self, consumer: &str, seq: u64) -> Result<(), StoreError>;

    /// The position of the newest event (0 for an empty log).
    async fn head(&self) -> Result<u64, StoreError>;
}

/// One home-timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    /// The status shown (for a boost, the boost's own id): the sort order.
    pub id: Id,
    /// For a boost, the boosted status.
    pub reblog_of: Option<Id>,
}

/// Why a timeline cache operation failed.
#[derive(Debug, thiserror::Error)]
#[error("timeline cache failed: {0}")]
pub struct CacheError(pub String);

/// Per-user cached timelines: sorted sets of status ids, capped, rebuildable from the store.
///
/// Invariant: a timeline holds at most one entry per original status — a boost is not added
/// when the original or another boost of it is already there.
#[async_trait]
pub trait TimelineCache: Send + Sync {
    /// Whether the timeline has been built (an empty built timeline exists).
    async fn exists(&self, timeline: &str) -> Result<bool, CacheError>;

    /// Marks the timeline as built, before a rebuild fills it, so fanout racing the rebuild
    /// is not lost.
    async fn create(&self, timeline: &str) -> Result<(), CacheError>;

    /// Adds `entries` to `timeline`, trimming it to the newest `cap`; returns how many were added.
    async fn insert(&self, timeline: &str, entries: &[TimelineEntry], cap: usize) -> Result<usize, CacheError>;

    /// Adds `entry` to each of `timelines` that exists (missing ones are rebuilt on read);
    /// returns how many received it.
    async fn fan_out(&self, timelines: &[String], entry: TimelineEntry, cap: usize) -> Result<usize, CacheError>;

    /// Removes statuses (by entry id) from `timeline`.
    async fn remove(&self, timeline: &str, ids: &[Id]) -> Result<(), CacheError>;

    /// Removes statuses from each of `timelines`.
    async fn remove_from_all(&self, timelines: &[String], ids: &[Id]) -> Result<(), CacheError>;

    /// Entry ids inside `window`, newest first.
    async fn range(&self, timeline: &str, window: &Window) -> Result<Vec<Id>, CacheError>;

    /// A number that changes whenever the timeline gains or loses entries (edge cache validation).
    async fn version(&self, timeline: &str) -> Result<u64, CacheError>;

    /// Drops the timeline entirely (it is rebuilt on the next read).
    async fn drop_timeline(&self, timeline: &str) -> Result<(), CacheError>;

    /// Whether the backend answers (readiness); in-process caches always do.
    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

/// Rate-limit state: one GCRA timestamp per key, updated atomically.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Applies one request at `now_ms` against `quota` for `key`, storing the new state when
    /// the request is allowed.
    async fn hit(&self, key: &str, quota: Quota, now_ms: u64) -> Result<Decision, CacheError>;

    /// Whether the backend answers (readiness); in-process state always does.
    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

//! The ports core/app needs from the outside world, shaped after the production access
//! patterns: a single-table item store with DynamoDB's operations (get, batch get, query one
//! partition by sort key, conditional transactional writes, atomic counters), an event log
//! with per-consumer checkpoints (Kinesis-like), and a timeline cache with Redis sorted-set
//! operations. Adapters implement these; nothing here names a backend.
//!
//! Port errors carry the adapter's own error as their [`std::error::Error::source`] (a
//! [`BoxError`]); their `Display` includes it too, so a log line of the error alone loses
//! nothing. [`context`] adds a message saying what was being done.

use std::time::Duration;

use async_trait::async_trait;
use shared::id::Id;
use shared::page::Window;
use shared::rate::{Decision, Quota};

use crate::cursor::Cursor;
use crate::events::Event;

/// An adapter's own error, as the source of a port error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `source`, explained by what was being done (`"dynamodb TransactWriteItems"`): displays as
/// `{message}: {source}` and keeps `source` as its [`std::error::Error::source`].
pub fn context(message: impl Into<String>, source: impl Into<BoxError>) -> BoxError {
    Box::new(Context { message: message.into(), source: source.into() })
}

/// What [`context`] builds.
#[derive(Debug, thiserror::Error)]
#[error("{message}: {source}")]
pub struct Context {
    /// What was being done.
    pub message: String,
    /// What failed.
    #[source]
    pub source: BoxError,
}

/// `source` under a message that already says everything it says (an SDK error's whole chain,
/// rendered by the SDK): displays as `message` alone and keeps `source` as its source.
pub fn described(message: impl Into<String>, source: impl Into<BoxError>) -> BoxError {
    Box::new(Described { message: message.into(), source: source.into() })
}

/// What [`described`] builds.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Described {
    /// The full description.
    pub message: String,
    /// What failed.
    #[source]
    pub source: BoxError,
}

/// `error` and every source under it, `: `-separated, each message once (a source whose text
/// the chain already holds is not repeated).
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut current = error.source();
    while let Some(source) = current {
        let text = source.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        current = source.source();
    }
    out
}

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

impl Write {
    /// The item it writes.
    pub fn key(&self) -> &Key {
        match self {
            Write::Put { item, .. } => &item.key,
            Write::Delete { key, .. } | Write::Add { key, .. } => key,
        }
    }
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
    /// The backend failed or could not be reached (or returned what it should not have).
    #[error("store backend failed: {0}")]
    Backend(#[source] BoxError),
}

impl StoreError {
    /// A backend failure: `source`, explained by what was being done.
    pub fn backend(doing: impl Into<String>, source: impl Into<BoxError>) -> Self {
        StoreError::Backend(context(doing, source))
    }
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

    /// Whether the backend answers (readiness): by default one point read of an item that is
    /// never written.
    async fn ping(&self) -> Result<(), StoreError> {
        self.get(&Key::new("META", "ping")).await.map(|_| ())
    }

    /// When this handle holds the store exclusively (no other handle, in this process or
    /// another, can use it while it is open: the embedded store's file lock), a name for this
    /// opening of it, different at every open. Whatever a lease names another opening was
    /// written by a handle closed since, so nothing uses it any more (node-number leases
    /// reclaim such numbers at once). `None`, the default, for stores many processes share.
    fn exclusive_session(&self) -> Option<&str> {
        None
    }
}

/// One event as read back from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    /// Its identity in the log: strictly increasing in commit order within its partition,
    /// unique across partitions ([`crate::cursor::seq`]).
    pub seq: u64,
    /// The log partition it was committed to (0 in a one-partition log).
    pub partition: u32,
    /// The event.
    pub event: Event,
}

/// The durable log of what changed, tailed by consumers (fanout, search, notifications, …).
/// Delivery is at-least-once: consumers must be idempotent.
///
/// The log has [`EventLog::partitions`] partitions, each with its own gap-free commit order; an
/// account's events always go to the same one ([`crate::cursor::partition_of`] of
/// [`Event::actor`]), so they stay in order. Readers stand at a [`Cursor`] (a seq per
/// partition).
#[async_trait]
pub trait EventLog: Send + Sync {
    /// How many partitions the log has (fixed for its lifetime).
    fn partitions(&self) -> u32 {
        1
    }

    /// Events after `after` in the partitions it names, at most `limit`, waiting up to `wait`
    /// for the first one; within a partition in commit order.
    async fn read(&self, after: &Cursor, limit: usize, wait: Duration) -> Result<Vec<LoggedEvent>, StoreError>;

    /// Where `consumer` stands in every partition (0s when it has never run).
    async fn checkpoint(&self, consumer: &str) -> Result<Cursor, StoreError>;

    /// Records that `consumer` has processed everything up to `at`, in the partitions `at`
    /// names (others keep their checkpoints).
    async fn save_checkpoint(&self, consumer: &str, at: &Cursor) -> Result<(), StoreError>;

    /// The newest seq of every partition (0 for an empty one).
    async fn head(&self) -> Result<Cursor, StoreError>;
}

/// One home-timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    /// The status shown (for a boost, the boost's own id): the sort order.
    pub id: Id,
    /// For a boost, the boosted status.
    pub reblog_of: Option<Id>,
}

/// Why a timeline cache, rate-limit store or stream hub operation failed.
#[derive(Debug, thiserror::Error)]
#[error("timeline cache failed: {0}")]
pub struct CacheError(#[source] pub BoxError);

impl CacheError {
    /// `source`, explained by what was being done.
    pub fn new(doing: impl Into<String>, source: impl Into<BoxError>) -> Self {
        CacheError(context(doing, source))
    }
}

/// Per-user cached timelines: sorted sets of status ids, capped, rebuildable from the store.
///
/// Invariant: a timeline holds at most one entry per original status — an entry (a boost, or
/// the original itself) is not added when the original or a boost of it is already there.
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

/// A status as the search index holds it: its words, and what decides who may find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDoc {
    /// The status id (index key: re-indexing overwrites).
    pub id: Id,
    /// Its author.
    pub author: Id,
    /// Its visibility.
    pub visibility: shared::wire::Visibility,
    /// Accounts it mentions (they may find private and direct statuses).
    pub mentions: Vec<Id>,
    /// Searchable text: the text as written plus the content warning.
    pub text: String,
    /// Normalised hashtags.
    pub tags: Vec<String>,
}

/// An account as the search index holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDoc {
    /// The account id (index key).
    pub id: Id,
    /// Username, as registered.
    pub username: String,
    /// Display name.
    pub display_name: String,
}

/// One change to the search index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchChange {
    /// Adds or replaces a status.
    IndexStatus(StatusDoc),
    /// Removes a status (absent is fine).
    DeleteStatus(Id),
    /// Adds or replaces an account.
    IndexAccount(AccountDoc),
    /// Removes an account (absent is fine).
    DeleteAccount(Id),
}

/// A full-text status search on behalf of a signed-in reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSearch {
    /// What the reader typed, as plain text: the adapter analyses it like indexed text and
    /// never interprets it as query syntax.
    pub text: String,
    /// The reader: sees public and unlisted statuses, their own, those mentioning them.
    pub reader: Id,
    /// Authors whose private statuses the reader may see (the accounts they follow).
    pub followed: Vec<Id>,
    /// Only statuses by this account.
    pub author: Option<Id>,
    /// Only statuses with ids strictly below this.
    pub max_id: Option<Id>,
    /// Only statuses with ids strictly above this.
    pub min_id: Option<Id>,
    /// Results skipped (best first).
    pub offset: usize,
    /// At most this many results.
    pub limit: usize,
}

/// An account search by username / display-name prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSearch {
    /// What the reader typed (a name, `@name` or a prefix of one).
    pub text: String,
    /// Only these accounts (the reader's followings), when set.
    pub among: Option<Vec<Id>>,
    /// Results skipped.
    pub offset: usize,
    /// At most this many results.
    pub limit: usize,
}

/// A hashtag found by search, with how many indexed public statuses carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagHit {
    /// Normalised name.
    pub name: String,
    /// Statuses using it.
    pub uses: u64,
}

/// Why a search index operation failed.
#[derive(Debug, thiserror::Error)]
#[error("search index failed: {0}")]
pub struct SearchError(#[source] pub BoxError);

impl SearchError {
    /// `source`, explained by what was being done.
    pub fn new(doing: impl Into<String>, source: impl Into<BoxError>) -> Self {
        SearchError(context(doing, source))
    }
}

/// Full-text search over statuses, accounts and hashtags (tantivy embedded, OpenSearch in
/// production). Fed by the search consumer of the event log; changes are keyed by id, so a
/// replayed batch overwrites what it wrote before.
#[async_trait]
pub trait SearchIndex: Send + Sync {
    /// Applies `changes` in order; they are searchable and durable when this returns.
    async fn apply(&self, changes: Vec<SearchChange>) -> Result<(), SearchError>;

    /// Status ids matching the text that the reader may see, most relevant first (BM25 with
    /// typo tolerance).
    async fn statuses(&self, query: &StatusSearch) -> Result<Vec<Id>, SearchError>;

    /// Account ids whose username or display-name words start with the typed words, exact
    /// username matches first.
    async fn accounts(&self, query: &AccountSearch) -> Result<Vec<Id>, SearchError>;

    /// Hashtags of public and unlisted statuses equal to or starting with `prefix`
    /// (normalised, without `#`): an exact match first, then by use.
    async fn hashtags(&self, prefix: &str, offset: usize, limit: usize) -> Result<Vec<TagHit>, SearchError>;

    /// Removes everything (before a rebuild).
    async fn clear(&self) -> Result<(), SearchError>;

    /// Whether the backend answers (readiness): by default one one-row hashtag lookup.
    async fn ping(&self) -> Result<(), SearchError> {
        self.hashtags("ping", 0, 1).await.map(|_| ())
    }
}

/// One message on a streaming channel: Mastodon's event name and its payload (an entity as
/// JSON, or a bare id for `delete`), exactly what clients receive. A hub between processes
/// sends it as JSON `{"event": …, "payload": …}` (the shape Mastodon's own Redis messages have).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StreamMessage {
    /// `update`, `notification`, `delete` or `status.update`.
    pub event: String,
    /// The payload, already serialised.
    pub payload: String,
}

/// Live fan-out to connected streaming clients, over named channels (Mastodon's own Redis
/// channel names: `timeline:{account}`, `timeline:public`, `timeline:public:local`,
/// `timeline:hashtag:{tag}`). Fire-and-forget: a message published while no one listens is
/// gone, and a subscriber that falls behind skips what it missed; clients catch up through
/// the REST timelines. The Redis adapter implements it with the same channel names, so
/// subscribers on every core process hear what any of them publishes.
#[async_trait]
pub trait StreamHub: Send + Sync {
    /// Sends `message` to everyone subscribed to `channel` now.
    async fn publish(&self, channel: &str, message: StreamMessage) -> Result<(), CacheError>;

    /// Starts listening to `channel`; dropping the receiver ends the subscription.
    async fn subscribe(&self, channel: &str) -> Result<tokio::sync::broadcast::Receiver<std::sync::Arc<StreamMessage>>, CacheError>;

    /// Whether anyone listens to `channel` anywhere the hub reaches (lets publishers skip
    /// publishing for no one). It may say `true` for a while after the last listener left; it
    /// never says `false` while one listens.
    async fn has_subscribers(&self, channel: &str) -> Result<bool, CacheError>;

    /// Whether the caller should publish what the event logged at `seq` causes: `true` for the
    /// first claim of `seq` among everyone sharing the hub, `false` after. Every core process
    /// tails the same log, so a hub shared by several processes lets one of them publish each
    /// event; a hub inside one process is shared by its one publisher only.
    async fn claim(&self, seq: u64) -> Result<bool, CacheError>;

    /// Whether the hub can carry messages (readiness); one in process memory always can.
    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

/// Why a media store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    /// The key is not one the store accepts (empty, `..`, characters outside `[A-Za-z0-9._/-]`).
    #[error("invalid media key {0:?}")]
    InvalidKey(String),
    /// The backend failed or could not be reached.
    #[error("media store failed: {0}")]
    Backend(#[source] BoxError),
}

impl MediaStoreError {
    /// A backend failure: `source`, explained by what was being done.
    pub fn backend(doing: impl Into<String>, source: impl Into<BoxError>) -> Self {
        MediaStoreError::Backend(context(doing, source))
    }
}

/// Whether `key` is a valid media key: relative, `/`-separated segments of `[A-Za-z0-9._-]`,
/// none empty or `.`/`..`. Adapters refuse anything else.
pub fn valid_media_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')))
}

/// Blob storage for media files, by key (an object store's access pattern: whole-object put,
/// get and delete; no listing, no partial writes).
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing any previous object; readers never see a partial one.
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), MediaStoreError>;

    /// Reads the object at `key`, `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, MediaStoreError>;

    /// Removes the object at `key`; absent objects are fine.
    async fn delete(&self, key: &str) -> Result<(), MediaStoreError>;

    /// Whether the backend answers (readiness): by default one read of a key never written.
    async fn ping(&self) -> Result<(), MediaStoreError> {
        self.get("starling-ping").await.map(|_| ())
    }

    /// Where clients fetch `key` directly, when the store serves files itself (a public bucket
    /// or CDN); `None` means core serves them at `/system/{key}`.
    fn public_url(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }

    /// Where clients fetch `key` for a limited time when the store serves files itself (see
    /// [`MediaStore::public_url`]) and the file is not for everyone: a URL signed at `signed_at`
    /// and valid for `expires_in` (an S3 presigned GET). `None` (the default, and whenever
    /// `public_url` is `None`): core serves the file on a URL it signs itself.
    async fn presigned_url(&self, key: &str, signed_at: std::time::SystemTime, expires_in: std::time::Duration) -> Result<Option<String>, MediaStoreError> {
        let _ = (key, signed_at, expires_in);
        Ok(None)
    }
}

/// Why an event sink failed; the batch is delivered again.
#[derive(Debug, thiserror::Error)]
#[error("event sink failed: {0}")]
pub struct SinkError(#[source] pub BoxError);

impl SinkError {
    /// `source`, explained by what was being done.
    pub fn new(doing: impl Into<String>, source: impl Into<BoxError>) -> Self {
        SinkError(context(doing, source))
    }
}

/// Something events are delivered to in batches, outside the in-process consumers: the
/// Kinesis publisher (the outbox relay), the analytics loader. Delivery is at-least-once:
/// a batch may arrive again after a failure or a crash, so sinks use each event's `seq`
/// (its outbox position) as an idempotency key.
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Takes `events` (in log order); when this returns `Ok` all of them are durably handled.
    async fn deliver(&self, events: &[LoggedEvent]) -> Result<(), SinkError>;
}

/// One Web Push delivery: the notification and the subscription it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMessage {
    /// The subscription (one per access token).
    pub subscription: Id,
    /// Its account.
    pub account: Id,
    /// The push service endpoint the message is for.
    pub endpoint: String,
    /// The user agent's ECDH public key (base64url), for payload encryption.
    pub p256dh: String,
    /// The user agent's auth secret (base64url).
    pub auth: String,
    /// Standardised Web Push (RFC 8291) rather than the legacy draft.
    pub standard: bool,
    /// The notification's type (`mention`, `follow`, …).
    pub notification_type: String,
    /// The notification's id.
    pub notification_id: String,
    /// The notification as the API renders it (JSON).
    pub notification: String,
}

/// Why a push could not be handed over.
#[derive(Debug, thiserror::Error)]
#[error("push publisher failed: {0}")]
pub struct PushError(#[source] pub BoxError);

impl PushError {
    /// `source`, explained by what was being done.
    pub fn new(doing: impl Into<String>, source: impl Into<BoxError>) -> Self {
        PushError(context(doing, source))
    }
}

/// Hands Web Push deliveries to whatever sends them (an SNS topic whose subscriber encrypts
/// and POSTs to the endpoint). Fire-and-forget like streaming: a failed hand-over is logged.
#[async_trait]
pub trait PushPublisher: Send + Sync {
    /// Hands over one delivery.
    async fn publish(&self, message: &PushMessage) -> Result<(), PushError>;

    /// The VAPID public key subscriptions report as `server_key`.
    fn server_key(&self) -> String;
}

/// What became of a presigned upload handed to [`UploadCompletion`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadOutcome {
    /// The upload is an attachment now (made by this call or an earlier one).
    Completed,
    /// Nothing is left to complete: no upload object under that id, or the id is another
    /// account's attachment.
    NothingToComplete,
}

/// Why an upload could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Failed for now (store or media store unavailable): try again later.
    #[error("upload completion failed for now: {0}")]
    Transient(#[source] BoxError),
    /// Refused for good (not a supported image or video, too large, …); the upload object is
    /// gone and the client's own `complete` call reports why.
    #[error("upload refused: {0}")]
    Refused(#[source] BoxError),
}

/// Turns a presigned upload (the object at [`crate::keys::upload_key`]) into an attachment:
/// what the S3 upload intake calls for every object-created notification. Implemented over
/// core's media use case by the server; idempotent, so a redelivered notification or the
/// client's own `complete` racing it is harmless.
#[async_trait]
pub trait UploadCompletion: Send + Sync {
    /// Completes upload `id` of `owner`.
    async fn complete_upload(&self, owner: Id, id: Id) -> Result<UploadOutcome, UploadError>;
}

/// What the analytics loader knows of a status beyond its [`Event::StatusCreated`]: a stable
/// projection of the stored record, so no adapter decodes core's storage format.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusFacts {
    /// The status it replies to.
    pub in_reply_to_id: Option<Id>,
    /// Its normalised hashtags.
    pub tags: Vec<String>,
}

/// Reads [`StatusFacts`] (implemented over the [`Store`] where core's record format is known: the server).
#[async_trait]
pub trait StatusFactsSource: Send + Sync {
    /// The facts of status `id`, `None` when it is gone.
    async fn status_facts(&self, id: Id) -> Result<Option<StatusFacts>, StoreError>;
}

//! The redb-backed item store and event log.
//!
//! Layout mirrors the DynamoDB table: one `items` table keyed by `(pk, sk)`, so a partition
//! query is a range scan. Values carry a one-byte tag: documents and counters. Events live in
//! `events` keyed by a gap-free sequence assigned inside the committing transaction, so log
//! order is commit order.
//!
//! The log is pruned behind its consumers: once every consumer's checkpoint has passed a
//! position, events up to it are deleted (in steps of [`PRUNE_STEP`], always keeping the newest
//! event, whose position the next transaction continues from). A consumer that is behind the
//! head and has not checkpointed for [`ABANDONED_AFTER`] no longer holds pruning back, so a
//! consumer that was switched off (say, after `[events]` moved to Kinesis) cannot make the log
//! grow forever; if it comes back it continues after the gap, as on DynamoDB after the outbox
//! TTL. A consumer at the head holds nothing back, however long it idles.

use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use core_ports::clock::{Clock, SystemClock};
use core_ports::cursor::Cursor;
use core_ports::events::Event;
use core_ports::ports::{Condition, EventLog, Item, Key, LoggedEvent, MAX_TRANSACTION_WRITES, Query, Store, StoreError, Value, Write};
use redb::{Database, ReadableTable, TableDefinition};
use tokio::sync::watch;

const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
const CHECKPOINTS: TableDefinition<&str, u64> = TableDefinition::new("checkpoints");
/// When each checkpoint last moved (ms since the epoch).
const CHECKPOINT_TIMES: TableDefinition<&str, u64> = TableDefinition::new("checkpoint_times");

/// How long a consumer behind the head may stand still before it no longer holds back pruning
/// (as long as the outbox TTL on DynamoDB).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// Pruning runs once every consumer has moved this many positions past the last pruned one.
pub const PRUNE_STEP: u64 = 1024;

const TAG_DOC: u8 = 0;
const TAG_COUNT: u8 = 1;

/// One entry of an `items` range scan.
type RangeEntry<'a> = Result<(redb::AccessGuard<'a, (&'static str, &'static str)>, redb::AccessGuard<'a, &'static [u8]>), redb::StorageError>;

/// The embedded store of record (one file, crash-safe, serialisable transactions).
#[derive(Clone)]
pub struct RedbStore {
    db: Arc<Handle>,
    head: watch::Sender<u64>,
    /// Events up to here are deleted (0: none yet).
    pruned: Arc<AtomicU64>,
    /// Stamps consumers' checkpoints (pruning skips consumers silent for [`ABANDONED_AFTER`]).
    clock: Arc<dyn Clock>,
    /// This opening of the file (`Store::exclusive_session`): redb's file lock refuses every
    /// other opening while this one lives.
    session: Arc<str>,
}

/// A name no other opening of a store file has had: this process, the time, and a counter.
fn new_session() -> Arc<str> {
    static OPENED: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{}-{nanos:x}-{}", std::process::id(), OPENED.fetch_add(1, Ordering::Relaxed)).into()
}

/// Opens the database (again): a file path, or a test's storage backend.
pub type Opener = Arc<dyn Fn() -> Result<Database, redb::DatabaseError> + Send + Sync>;

/// The first wait before reopening after a storage failure; doubled per failed attempt.
const REOPEN_FIRST: Duration = Duration::from_millis(200);
/// The longest wait between reopening attempts.
const REOPEN_MAX: Duration = Duration::from_secs(5);
/// How long a reopen waits for operations still using the old handle.
const REOPEN_DRAIN: Duration = Duration::from_secs(10);

/// The open database, reopened after a storage I/O failure.
///
/// After one failed write (a full disk, say) redb refuses every later operation ("Previous
/// I/O error … re-open the database") until the database is opened again. So a write that
/// fails with an I/O error marks the handle broken; while broken, writes fail at once, and the
/// first operation (read, write or readiness ping) once a backoff has passed drops the database — after the
/// operations still using it end — opens it again (redb repairs what the interrupted commit
/// left, keeping every committed transaction) and proves it can write with a probe
/// transaction. Only then do writes go through again.
struct Handle {
    db: RwLock<Option<Arc<Database>>>,
    opener: Opener,
    broken: Mutex<Option<Broken>>,
    /// One write at a time through here (redb runs one anyway): a write waiting behind one that
    /// fails sees the failure, instead of committing on the failed database (which redb
    /// answers with a panic).
    writer: Mutex<()>,
    /// When the last recovery happened, and the backoff then in effect.
    recovered: Mutex<Option<(Instant, Duration)>>,
}

struct Broken {
    cause: String,
    retry_at: Instant,
    backoff: Duration,
}

const PROBE: TableDefinition<&str, u64> = TableDefinition::new("write_probe");

impl Handle {
    fn new(db: Database, opener: Opener) -> Self {
        Handle { db: RwLock::new(Some(Arc::new(db))), opener, broken: Mutex::new(None), writer: Mutex::new(()), recovered: Mutex::new(None) }
    }

    /// The database, for reading (a broken one may still serve what redb has cached). While
    /// broken, the first operation after the backoff — a read too: a request reads before it
    /// writes — tries to reopen first, so the store comes back once space returns.
    fn get(&self) -> Result<Arc<Database>, StoreError> {
        let due = self.broken.lock().unwrap_or_else(PoisonError::into_inner).as_ref().is_some_and(|b| Instant::now() >= b.retry_at);
        if due {
            // On failure reads go on with what is open (if anything); the cause is logged.
            let _ = self.recover();
        }
        self.db.read().unwrap_or_else(PoisonError::into_inner).clone().ok_or_else(|| backend("the database is closed after a storage failure; reopening"))
    }

    /// Runs a write, first recovering from an earlier storage failure; an I/O failure of this
    /// one breaks the handle.
    fn write<T>(&self, f: impl FnOnce(&Database) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let _one_at_a_time = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.recover()?;
        let db = self.get()?;
        let result = f(&db);
        if let Err(e) = &result
            && is_io_failure(e)
        {
            self.break_with(e);
        }
        result
    }

    fn break_with(&self, e: &StoreError) {
        let mut broken = self.broken.lock().unwrap_or_else(PoisonError::into_inner);
        if broken.is_none() {
            tracing::error!(error = %core_ports::ports::error_chain(e), "the embedded store cannot write (disk full?); writes are refused until it can");
            // Broken again soon after a recovery (a probe fits where real writes do not): the
            // backoff goes on growing instead of reopening every 200 ms.
            let recent = *self.recovered.lock().unwrap_or_else(PoisonError::into_inner);
            let backoff = match recent {
                Some((at, backoff)) if at.elapsed() < REOPEN_MAX * 6 => (backoff * 2).min(REOPEN_MAX),
                _ => REOPEN_FIRST,
            };
            *broken = Some(Broken { cause: e.to_string(), retry_at: Instant::now() + backoff, backoff });
        }
    }

    /// Whether the store can write: Ok when not broken, else tries to recover (when the
    /// backoff allows), failing with the cause while it cannot.
    fn recover(&self) -> Result<(), StoreError> {
        let mut broken = self.broken.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(state) = broken.as_mut() else { return Ok(()) };
        if Instant::now() < state.retry_at {
            return Err(backend(format!("the store cannot write since a storage failure ({}); retrying", state.cause)));
        }
        match self.reopen() {
            Ok(()) => {
                tracing::info!("the embedded store writes again (reopened after a storage failure)");
                *self.recovered.lock().unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), state.backoff));
                *broken = None;
                Ok(())
            }
            Err(e) => {
                state.backoff = (state.backoff * 2).min(REOPEN_MAX);
                state.retry_at = Instant::now() + state.backoff;
                state.cause = e.to_string();
                tracing::warn!(error = %core_ports::ports::error_chain(&e), retry_in_ms = state.backoff.as_millis(), "the embedded store still cannot write");
                Err(e)
            }
        }
    }

    /// Drops the database once no operation uses it, opens it again and commits a probe.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self.db.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = slot.take() {
            let deadline = Instant::now() + REOPEN_DRAIN;
            let mut old = old;
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(still_used) if Instant::now() < deadline => {
                        old = still_used;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(still_used) => {
                        *slot = Some(still_used);
                        return Err(backend("operations kept using the database; reopening later"));
                    }
                }
            }
        }
        let db = (self.opener)().map_err(redb_error)?;
        let probe = db.begin_write().map_err(redb_error).and_then(|txn| {
            txn.open_table(PROBE).map_err(redb_error)?.insert("probe", 1).map_err(redb_error)?;
            txn.commit().map_err(redb_error)
        });
        *slot = Some(Arc::new(db));
        probe
    }
}

/// A redb error kept typed, so an I/O failure can be told apart.
fn redb_error(e: impl Into<redb::Error>) -> StoreError {
    StoreError::backend("redb", e.into())
}

/// Whether `e` is a storage I/O failure (after which redb needs reopening).
fn is_io_failure(e: &StoreError) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(e) = c.downcast_ref::<redb::Error>() {
            return matches!(e, redb::Error::Io(_) | redb::Error::PreviousIo);
        }
        if let Some(e) = c.downcast_ref::<redb::StorageError>() {
            return matches!(e, redb::StorageError::Io(_) | redb::StorageError::PreviousIo);
        }
        if let Some(e) = c.downcast_ref::<redb::CommitError>() {
            return matches!(e, redb::CommitError::Storage(redb::StorageError::Io(_) | redb::StorageError::PreviousIo));
        }
        if let Some(e) = c.downcast_ref::<redb::TransactionError>() {
            return matches!(e, redb::TransactionError::Storage(redb::StorageError::Io(_) | redb::StorageError::PreviousIo));
        }
        if let Some(e) = c.downcast_ref::<redb::TableError>() {
            return matches!(e, redb::TableError::Storage(redb::StorageError::Io(_) | redb::StorageError::PreviousIo));
        }
        cause = c.source();
    }
    false
}

fn backend(e: impl Into<core_ports::BoxError>) -> StoreError {
    StoreError::backend("redb", e)
}

fn encode(value: &Value) -> Vec<u8> {
    match value {
        Value::Doc(bytes) => {
            let mut out = Vec::with_capacity(bytes.len() + 1);
            out.push(TAG_DOC);
            out.extend_from_slice(bytes);
            out
        }
        Value::Count(n) => {
            let mut out = vec![TAG_COUNT];
            out.extend_from_slice(&n.to_le_bytes());
            out
        }
    }
}

fn decode(bytes: &[u8]) -> Result<Value, StoreError> {
    match bytes.split_first() {
        Some((&TAG_DOC, rest)) => Ok(Value::Doc(rest.to_vec())),
        Some((&TAG_COUNT, rest)) => {
            let raw: [u8; 8] = rest.try_into().map_err(|_| backend("corrupt counter"))?;
            Ok(Value::Count(i64::from_le_bytes(raw)))
        }
        _ => Err(backend("corrupt value tag")),
    }
}

impl RedbStore {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Like [`RedbStore::open`], stamping checkpoints with `clock`.
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let opener: Opener = {
            let path = path.to_path_buf();
            Arc::new(move || Database::create(&path))
        };
        Self::open_with(opener, clock)
    }

    /// Opens the database `opener` opens (again, after a storage failure), stamping
    /// checkpoints with `clock`: the test seam for storage faults (a redb `StorageBackend` that
    /// fails on demand).
    pub fn open_with(opener: Opener, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let db = opener().map_err(redb_error)?;
        let txn = db.begin_write().map_err(backend)?;
        txn.open_table(ITEMS).map_err(backend)?;
        txn.open_table(EVENTS).map_err(backend)?;
        txn.open_table(CHECKPOINTS).map_err(backend)?;
        txn.open_table(CHECKPOINT_TIMES).map_err(backend)?;
        txn.commit().map_err(backend)?;
        let store = RedbStore { db: Arc::new(Handle::new(db, opener)), head: watch::channel(0).0, pruned: Arc::default(), clock, session: new_session() };
        let head = store.head_blocking()?;
        store.head.send_replace(head);
        let db = store.db.get()?;
        let txn = db.begin_read().map_err(backend)?;
        let first = txn.open_table(EVENTS).map_err(backend)?.first().map_err(backend)?.map_or(1, |(k, _)| k.value());
        store.pruned.store(first - 1, Ordering::Relaxed);
        Ok(store)
    }

    /// The oldest position the log still holds (the next one when it is empty).
    pub fn oldest(&self) -> u64 {
        self.pruned.load(Ordering::Relaxed) + 1
    }

    /// Records `consumer`'s checkpoint at `now_ms`, then prunes what every consumer has passed.
    pub fn save_checkpoint_at(&self, consumer: &str, seq: u64, now_ms: u64) -> Result<(), StoreError> {
        self.db.write(|db| {
            let txn = db.begin_write().map_err(backend)?;
            txn.open_table(CHECKPOINTS).map_err(backend)?.insert(consumer, seq).map_err(backend)?;
            txn.open_table(CHECKPOINT_TIMES).map_err(backend)?.insert(consumer, now_ms).map_err(backend)?;
            txn.commit().map_err(backend)
        })?;
        self.prune_at(now_ms)
    }

    /// Deletes the events every live consumer has passed, when that is at least [`PRUNE_STEP`]
    /// past the last pruning (see the module docs).
    pub fn prune_at(&self, now_ms: u64) -> Result<(), StoreError> {
        let head = *self.head.borrow();
        let pruned = self.pruned.load(Ordering::Relaxed);
        let abandoned_before = now_ms.saturating_sub(u64::try_from(ABANDONED_AFTER.as_millis()).unwrap_or(u64::MAX));
        let floor = {
            let db = self.db.get()?;
            let txn = db.begin_read().map_err(backend)?;
            let checkpoints = txn.open_table(CHECKPOINTS).map_err(backend)?;
            let times = txn.open_table(CHECKPOINT_TIMES).map_err(backend)?;
            let mut floor = head;
            for entry in checkpoints.iter().map_err(backend)? {
                let (name, seq) = entry.map_err(backend)?;
                let seq = seq.value();
                // Checkpoints from before times were kept count as live.
                let moved = times.get(name.value()).map_err(backend)?.map_or(now_ms, |t| t.value());
                if seq < head && moved < abandoned_before {
                    continue;
                }
                floor = floor.min(seq);
            }
            // The newest event stays: the next transaction continues from its position.
            floor.min(head.saturating_sub(1))
        };
        if floor < pruned + PRUNE_STEP {
            return Ok(());
        }
        self.db.write(|db| {
            let txn = db.begin_write().map_err(backend)?;
            txn.open_table(EVENTS).map_err(backend)?.retain_in(..=floor, |_, _| false).map_err(backend)?;
            txn.commit().map_err(backend)
        })?;
        self.pruned.fetch_max(floor, Ordering::Relaxed);
        tracing::debug!(through = floor, "pruned the event log");
        Ok(())
    }

    fn head_blocking(&self) -> Result<u64, StoreError> {
        let db = self.db.get()?;
        let txn = db.begin_read().map_err(backend)?;
        let events = txn.open_table(EVENTS).map_err(backend)?;
        Ok(events.last().map_err(backend)?.map_or(0, |(k, _)| k.value()))
    }

    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce(&RedbStore) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&this)).await.map_err(backend)?
    }

    fn transact_blocking(&self, writes: &[Write], events: &[Event]) -> Result<Option<u64>, StoreError> {
        self.db.write(|db| {
            let txn = db.begin_write().map_err(backend)?;
            let mut new_head = None;
            {
                let mut items = txn.open_table(ITEMS).map_err(backend)?;
                for (index, write) in writes.iter().enumerate() {
                    let (key, condition) = match write {
                        Write::Put { item, condition } => (&item.key, *condition),
                        Write::Delete { key, condition } => (key, *condition),
                        Write::Add { key, .. } => (key, Condition::None),
                    };
                    let existing = items.get((key.pk.as_str(), key.sk.as_str())).map_err(backend)?.map(|v| v.value().to_vec());
                    let holds = match condition {
                        Condition::None => true,
                        Condition::NotExists => existing.is_none(),
                        Condition::Exists => existing.is_some(),
                    };
                    if !holds {
                        // Dropping the transaction without commit aborts it.
                        return Err(StoreError::ConditionFailed { index });
                    }
                    match write {
                        Write::Put { item, .. } => {
                            items.insert((key.pk.as_str(), key.sk.as_str()), encode(&item.value).as_slice()).map_err(backend)?;
                        }
                        Write::Delete { .. } => {
                            items.remove((key.pk.as_str(), key.sk.as_str())).map_err(backend)?;
                        }
                        Write::Add { delta, .. } => {
                            let current = match existing.as_deref().map(decode).transpose()? {
                                Some(Value::Count(n)) => n,
                                Some(Value::Doc(_)) => return Err(backend(format!("add on a document at {key:?}"))),
                                None => 0,
                            };
                            let next = Value::Count(current.saturating_add(*delta));
                            items.insert((key.pk.as_str(), key.sk.as_str()), encode(&next).as_slice()).map_err(backend)?;
                        }
                    }
                }
                if !events.is_empty() {
                    let mut log = txn.open_table(EVENTS).map_err(backend)?;
                    let mut seq = log.last().map_err(backend)?.map_or(0, |(k, _)| k.value());
                    for event in events {
                        seq += 1;
                        let bytes = serde_json::to_vec(event).map_err(backend)?;
                        log.insert(seq, bytes.as_slice()).map_err(backend)?;
                    }
                    new_head = Some(seq);
                }
            }
            txn.commit().map_err(backend)?;
            Ok(new_head)
        })
    }

    fn query_blocking(&self, q: &Query) -> Result<Vec<Item>, StoreError> {
        let db = self.db.get()?;
        let txn = db.begin_read().map_err(backend)?;
        let items = txn.open_table(ITEMS).map_err(backend)?;
        let pk = q.pk.as_str();
        let lower_sk = q.after.as_deref().or(q.prefix.as_deref()).unwrap_or("");
        let lower = if q.after.is_some() { Bound::Excluded((pk, lower_sk)) } else { Bound::Included((pk, lower_sk)) };
        let pk_end = format!("{pk}\0");
        let upper = match q.before.as_deref() {
            Some(before) => Bound::Excluded((pk, before)),
            None => Bound::Excluded((pk_end.as_str(), "")),
        };
        let range = items.range::<(&str, &str)>((lower, upper)).map_err(backend)?;
        let mut out = Vec::with_capacity(q.limit.min(1024));
        let mut push = |entry: RangeEntry<'_>| -> Result<bool, StoreError> {
            let (k, v) = entry.map_err(backend)?;
            let (kpk, ksk) = k.value();
            if kpk != pk {
                return Ok(true);
            }
            if let Some(prefix) = q.prefix.as_deref()
                && !ksk.starts_with(prefix)
            {
                // Ascending: past the prefix, done. Descending: not reached it yet.
                return Ok(!q.descending || ksk < prefix);
            }
            if q.after.as_deref().is_some_and(|a| ksk <= a) {
                return Ok(true);
            }
            out.push(Item { key: Key::new(kpk, ksk), value: decode(v.value())? });
            Ok(out.len() >= q.limit)
        };
        if q.descending {
            for entry in range.rev() {
                if push(entry)? {
                    break;
                }
            }
        } else {
            for entry in range {
                if push(entry)? {
                    break;
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Store for RedbStore {
    /// Down while the store cannot write (after a storage failure, until a reopened database
    /// commits a probe), or cannot read.
    async fn ping(&self) -> Result<(), StoreError> {
        self.blocking(|s| {
            s.db.recover()?;
            let db = s.db.get()?;
            let txn = db.begin_read().map_err(backend)?;
            txn.open_table(ITEMS).map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        Ok(self.get_many(std::slice::from_ref(key)).await?.pop().flatten())
    }

    async fn get_many(&self, keys: &[Key]) -> Result<Vec<Option<Item>>, StoreError> {
        let keys = keys.to_vec();
        self.blocking(move |s| {
            let db = s.db.get()?;
            let txn = db.begin_read().map_err(backend)?;
            let items = txn.open_table(ITEMS).map_err(backend)?;
            keys.into_iter()
                .map(|key| {
                    let found = items.get((key.pk.as_str(), key.sk.as_str())).map_err(backend)?;
                    match found {
                        Some(v) => Ok(Some(Item { value: decode(v.value())?, key })),
                        None => Ok(None),
                    }
                })
                .collect()
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let query = query.clone();
        self.blocking(move |s| s.query_blocking(&query)).await
    }

    fn exclusive_session(&self) -> Option<&str> {
        Some(&self.session)
    }

    async fn transact(&self, writes: Vec<Write>, events: Vec<Event>) -> Result<(), StoreError> {
        if writes.len() > MAX_TRANSACTION_WRITES {
            return Err(StoreError::TooLarge { writes: writes.len() });
        }
        if writes.is_empty() && events.is_empty() {
            return Ok(());
        }
        let head = self.blocking(move |s| s.transact_blocking(&writes, &events)).await?;
        if let Some(head) = head {
            self.head.send_if_modified(|h| {
                let moved = head > *h;
                *h = (*h).max(head);
                moved
            });
        }
        Ok(())
    }
}

#[async_trait]
impl EventLog for RedbStore {
    async fn read(&self, after: &Cursor, limit: usize, wait: Duration) -> Result<Vec<LoggedEvent>, StoreError> {
        // One partition: the whole log is one gap-free order (a cursor naming none reads nothing).
        if after.parts().next().is_none() {
            return Ok(Vec::new());
        }
        let after = after.get(0);
        let mut head = self.head.subscribe();
        if *head.borrow_and_update() <= after && !wait.is_zero() {
            let _ = tokio::time::timeout(wait, head.wait_for(|h| *h > after)).await;
        }
        self.blocking(move |s| {
            let db = s.db.get()?;
            let txn = db.begin_read().map_err(backend)?;
            let log = txn.open_table(EVENTS).map_err(backend)?;
            let mut out = Vec::new();
            for entry in log.range((Bound::Excluded(after), Bound::Unbounded)).map_err(backend)? {
                let (k, v) = entry.map_err(backend)?;
                let event: Event = serde_json::from_slice(v.value()).map_err(backend)?;
                out.push(LoggedEvent { seq: k.value(), partition: 0, event });
                if out.len() >= limit {
                    break;
                }
            }
            Ok(out)
        })
        .await
    }

    async fn checkpoint(&self, consumer: &str) -> Result<Cursor, StoreError> {
        let consumer = consumer.to_owned();
        self.blocking(move |s| s.checkpoint_blocking(&consumer)).await.map(Cursor::single)
    }

    async fn save_checkpoint(&self, consumer: &str, at: &Cursor) -> Result<(), StoreError> {
        let consumer = consumer.to_owned();
        let seq = at.get(0);
        self.blocking(move |s| s.save_checkpoint_at(&consumer, seq, s.clock.now_ms())).await
    }

    async fn head(&self) -> Result<Cursor, StoreError> {
        Ok(Cursor::single(*self.head.borrow()))
    }
}

impl RedbStore {
    /// `consumer`'s checkpoint. A consumer's first question registers it at 0, so pruning
    /// waits for it from then on (a consumer that has not asked yet starts at the oldest event
    /// kept).
    fn checkpoint_blocking(&self, consumer: &str) -> Result<u64, StoreError> {
        {
            let db = self.db.get()?;
            let txn = db.begin_read().map_err(backend)?;
            let table = txn.open_table(CHECKPOINTS).map_err(backend)?;
            if let Some(seq) = table.get(consumer).map_err(backend)? {
                return Ok(seq.value());
            }
        }
        self.db.write(|db| {
            let txn = db.begin_write().map_err(backend)?;
            let seq = {
                let mut table = txn.open_table(CHECKPOINTS).map_err(backend)?;
                let existing = table.get(consumer).map_err(backend)?.map(|v| v.value());
                match existing {
                    Some(seq) => seq,
                    None => {
                        table.insert(consumer, 0).map_err(backend)?;
                        txn.open_table(CHECKPOINT_TIMES).map_err(backend)?.insert(consumer, self.clock.now_ms()).map_err(backend)?;
                        0
                    }
                }
            };
            txn.commit().map_err(backend)?;
            Ok(seq)
        })
    }
}

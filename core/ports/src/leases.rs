//! Leases over a set of work units (stream shards, event-log partitions) kept in the
//! [`Store`], so several processes split the units and each unit has one holder at a time.
//!
//! Leases need only conditional puts (`NotExists`), which every store has: time is cut into
//! windows of the lease length, and holding unit U in window w means having created the item
//! (`{prefix}#{U}`, w) first. The holder claims window w+1 once half of w has passed, so it
//! keeps the unit without a gap; a process that dies stops renewing and the unit is free from
//! the next window on (the lease's expiry). Writes made "under the lease" carry an `Exists`
//! check on the holder's own marker for the current window (`{window}#{owner}`), so a process
//! whose lease ran out cannot make them any more. Processes announce themselves (heartbeats in
//! one partition, with an expiry); each keeps at most its share, ⌈units ÷ live processes⌉, so
//! a new process gets units at the next window.
//!
//! Used by the Kinesis consumer (units: shards) and the outbox relay (units: log partitions).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::ports::{Condition, Item, Key, Query, Store, StoreError, Value, Write};

/// A lease item's content.
#[derive(Debug, Serialize, Deserialize)]
struct LeaseDoc {
    owner: String,
}

/// A process's heartbeat.
#[derive(Debug, Serialize, Deserialize)]
pub struct Heartbeat {
    /// When it stops counting as live.
    pub expires_ms: u64,
}

/// Leases of one kind of unit, held by one process.
pub struct Leases {
    store: Arc<dyn Store>,
    /// Lease windows of unit U live in partition `{prefix}#{U}`.
    prefix: String,
    /// Heartbeats of the processes sharing the units (sort key: owner).
    instances: String,
    owner: String,
    lease: Duration,
    clock: Arc<dyn Clock>,
    /// When this process last announced itself, and how many were live then (announced
    /// again every quarter lease: heartbeats live for two).
    announced: Mutex<Option<(u64, usize)>>,
}

impl Leases {
    /// Leases in partitions `{prefix}#{unit}`, heartbeats in `instances`, held by `owner` (unique
    /// per running process) for `lease` at a time.
    pub fn new(store: Arc<dyn Store>, prefix: String, instances: String, owner: String, lease: Duration, clock: Arc<dyn Clock>) -> Self {
        Leases { store, prefix, instances, owner, lease, clock, announced: Mutex::new(None) }
    }

    /// This process's name in leases.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The lease length in milliseconds (at least 2).
    pub fn lease_ms(&self) -> u64 {
        u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX).max(2)
    }

    /// Now, by the leases' clock.
    pub fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The lease window `now` falls in.
    pub fn window(&self, now: u64) -> u64 {
        now / self.lease_ms()
    }

    /// Renews, claims and gives up leases so this process holds its share of `units` (in
    /// their order); returns the units it holds now. Reads are batched: one `get_many` for the
    /// current window's markers, one for the next window's (renewals, in the second half of a
    /// window), one for the free units' leases; writes only where something changes.
    pub async fn balance(&self, units: &[String]) -> Result<Vec<String>, StoreError> {
        let now = self.now_ms();
        let window = self.window(now);
        let lease_ms = self.lease_ms();
        let live = self.heartbeat(now).await?;
        let share = units.len().div_ceil(live.max(1));
        // Units held now, in order; renewing past the share lets the extra ones go.
        let markers = self.store.get_many(&units.iter().map(|unit| self.marker_key(unit, window)).collect::<Vec<_>>()).await?;
        let mut held: Vec<String> = units.iter().zip(markers).filter(|(_, marker)| marker.is_some()).map(|(unit, _)| unit.clone()).collect();
        held.truncate(share);
        if now % lease_ms >= lease_ms / 2 && !held.is_empty() {
            let next = self.store.get_many(&held.iter().map(|unit| self.marker_key(unit, window + 1)).collect::<Vec<_>>()).await?;
            let due: Vec<&String> = held.iter().zip(next).filter(|(_, renewed)| renewed.is_none()).map(|(unit, _)| unit).collect();
            self.renew(&due, window + 1).await?;
        }
        if held.len() < share {
            let free: Vec<&String> = units.iter().filter(|unit| !held.contains(unit)).collect();
            let leases = self.store.get_many(&free.iter().map(|unit| self.lease_key(unit, window)).collect::<Vec<_>>()).await?;
            for (unit, lease) in free.into_iter().zip(leases) {
                if held.len() >= share {
                    break;
                }
                if lease.is_none() && self.claim(unit, window).await? {
                    held.push(unit.clone());
                }
            }
        }
        Ok(held)
    }

    /// Announces this process and counts the live ones (itself included), every quarter
    /// lease; in between, the last count.
    pub async fn heartbeat(&self, now: u64) -> Result<usize, StoreError> {
        let cached = *self.announced.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, live)) = cached.filter(|(at, _)| now.saturating_sub(*at) < self.lease_ms() / 4) {
            return Ok(live);
        }
        let live = self.announce(now).await?;
        *self.announced.lock().unwrap_or_else(PoisonError::into_inner) = Some((now, live));
        Ok(live)
    }

    /// Forgets the last count, so the next [`Leases::heartbeat`] counts again.
    pub fn forget_count(&self) {
        *self.announced.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    async fn announce(&self, now: u64) -> Result<usize, StoreError> {
        let beat = Heartbeat { expires_ms: now + 2 * self.lease_ms() };
        let item = Item { key: Key::new(self.instances.clone(), self.owner.clone()), value: Value::Doc(serde_json::to_vec(&beat).unwrap_or_default()) };
        let mut writes = vec![Write::Put { item, condition: Condition::None }];
        let instances = self.store.query(&Query::partition(self.instances.clone(), 1000)).await?;
        // Owners are per process, so every restart leaves a heartbeat behind: drop those
        // expired for ten leases.
        let forgotten = now.saturating_sub(10 * self.lease_ms());
        writes.extend(
            instances
                .iter()
                .filter(|i| i.key.sk != self.owner && doc::<Heartbeat>(i).is_none_or(|h| h.expires_ms < forgotten))
                .take(50)
                .map(|i| Write::Delete { key: i.key.clone(), condition: Condition::None }),
        );
        self.store.transact(writes, vec![]).await?;
        let others = instances.iter().filter(|i| i.key.sk != self.owner && doc::<Heartbeat>(i).is_some_and(|h| h.expires_ms > now)).count();
        Ok(others + 1)
    }

    /// Whether this process holds `unit` in `window`.
    pub async fn holds(&self, unit: &str, window: u64) -> Result<bool, StoreError> {
        Ok(self.store.get(&self.marker_key(unit, window)).await?.is_some())
    }

    /// Who holds `unit` in the current window.
    pub async fn holder(&self, unit: &str) -> Result<Option<String>, StoreError> {
        let window = self.window(self.now_ms());
        Ok(self.store.get(&self.lease_key(unit, window)).await?.map(|item| doc::<LeaseDoc>(&item).map(|d| d.owner).unwrap_or_default()))
    }

    /// Tries to take `unit` for `window`; `false` when someone else has it. Leases of windows
    /// before the previous one (anyone's, left by dead processes too) are removed in the same
    /// transaction.
    pub async fn claim(&self, unit: &str, window: u64) -> Result<bool, StoreError> {
        if self.holds(unit, window).await? {
            return Ok(true);
        }
        let old = self.store.query(&Query { before: Some(window_sk(window.saturating_sub(1))), ..Query::partition(self.partition(unit), 50) }).await?;
        self.take(unit, window, old.into_iter().map(|i| i.key).collect()).await
    }

    /// Takes `units` (held now) for `window`, the next one: in as few transactions as the
    /// store allows, one at a time if a batch fails (someone took one of them). Our own items
    /// of the window before the current one go in the same writes.
    async fn renew(&self, units: &[&String], window: u64) -> Result<(), StoreError> {
        // Four writes a unit: the lease, the marker, and the two old items.
        for batch in units.chunks(crate::ports::MAX_TRANSACTION_WRITES / 4) {
            let mut writes = Vec::with_capacity(batch.len() * 4);
            for unit in batch {
                writes.extend(self.take_writes(unit, window, self.stale(unit, window)));
            }
            match self.store.transact(writes, vec![]).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { .. }) => {
                    for unit in batch {
                        self.take(unit, window, self.stale(unit, window)).await?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// This process's own items of `unit` two windows before `window`.
    fn stale(&self, unit: &str, window: u64) -> Vec<Key> {
        let old = window.saturating_sub(2);
        vec![self.lease_key(unit, old), self.marker_key(unit, old)]
    }

    /// Creates `unit`'s lease for `window` (`NotExists`) and this process's marker, deleting
    /// `old` in the same transaction; `false` when someone else has the lease.
    async fn take(&self, unit: &str, window: u64, old: Vec<Key>) -> Result<bool, StoreError> {
        match self.store.transact(self.take_writes(unit, window, old), vec![]).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The writes of [`Leases::take`].
    fn take_writes(&self, unit: &str, window: u64, old: Vec<Key>) -> Vec<Write> {
        let lease = serde_json::to_vec(&LeaseDoc { owner: self.owner.clone() }).unwrap_or_default();
        let mut writes = vec![
            Write::Put { item: Item { key: self.lease_key(unit, window), value: Value::Doc(lease.clone()) }, condition: Condition::NotExists },
            Write::Put { item: Item { key: self.marker_key(unit, window), value: Value::Doc(lease) }, condition: Condition::None },
        ];
        writes.extend(old.into_iter().map(|key| Write::Delete { key, condition: Condition::None }));
        writes
    }

    /// Commits `writes` only while this process holds `unit`'s current lease; `false` (nothing
    /// written) when it does not. A holder whose work ran into a window it did not renew claims
    /// that window now, when nobody else has (the lease stays exclusive).
    pub async fn write_held(&self, unit: &str, mut writes: Vec<Write>) -> Result<bool, StoreError> {
        let window = self.window(self.now_ms());
        if !self.holds(unit, window).await? && !self.claim(unit, window).await? {
            return Ok(false);
        }
        let marker =
            Item { key: self.marker_key(unit, window), value: Value::Doc(serde_json::to_vec(&LeaseDoc { owner: self.owner.clone() }).unwrap_or_default()) };
        writes.push(Write::Put { item: marker, condition: Condition::Exists });
        match self.store.transact(writes, vec![]).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives up this process's leases of `units` (this window and the next) and its heartbeat,
    /// so the others take them on their next round instead of when the leases expire.
    pub async fn release(&self, units: &[String]) -> Result<(), StoreError> {
        let window = self.window(self.now_ms());
        for unit in units {
            for w in [window, window + 1] {
                // Only a lease whose marker is ours: the marker's `Exists` check guards both.
                let writes = vec![
                    Write::Delete { key: self.marker_key(unit, w), condition: Condition::Exists },
                    Write::Delete { key: self.lease_key(unit, w), condition: Condition::None },
                ];
                match self.store.transact(writes, vec![]).await {
                    Ok(()) | Err(StoreError::ConditionFailed { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let heartbeat = Key::new(self.instances.clone(), self.owner.clone());
        self.store.transact(vec![Write::Delete { key: heartbeat, condition: Condition::None }], vec![]).await?;
        self.forget_count();
        Ok(())
    }

    fn partition(&self, unit: &str) -> String {
        format!("{}#{unit}", self.prefix)
    }

    fn lease_key(&self, unit: &str, window: u64) -> Key {
        Key::new(self.partition(unit), window_sk(window))
    }

    fn marker_key(&self, unit: &str, window: u64) -> Key {
        Key::new(self.partition(unit), format!("{}#{}", window_sk(window), self.owner))
    }
}

/// Sort key of a lease window (hex, so byte order is time order).
fn window_sk(window: u64) -> String {
    format!("{window:016x}")
}

/// Decodes an item's document.
pub fn doc<T: serde::de::DeserializeOwned>(item: &Item) -> Option<T> {
    match &item.value {
        Value::Doc(bytes) => serde_json::from_slice(bytes).ok(),
        Value::Count(_) => None,
    }
}

//! Node numbers for ids, leased from the store of record, so any number of core processes can
//! share one store without ever minting the same id.
//!
//! An id is (millisecond, node, sequence) (`shared::id`): two generators can only collide when
//! they share a node number *and* stamp ids with the same millisecond. So a lease grants a node
//! number for a span of **id timestamps**, not of wall-clock time: the holder may mint ids
//! stamped in `[from_ms, until_ms)`, renewing moves `until_ms` forward, and whoever takes the
//! number next starts at the previous holder's last `until_ms`. The spans of two processes never
//! overlap whatever their clocks say; a process whose clock is skewed, or that was paused past
//! its lease, can only lose liveness (its ids are refused with 503 until it renews or leases
//! another number), never uniqueness. The grace period before a lapsed lease is taken over is
//! for liveness only: it keeps a holder whose renewals are briefly slow from losing its number.
//!
//! The lease of number `n` is a compare-and-set register built from the `Store`'s conditional
//! writes (nothing but `NotExists`/`Exists`, which every adapter has): partition `NODE#{n}`
//! holds a permanent `genesis` item and exactly one version item `v{k}` (16 hex digits). Going
//! from version `k` to `k + 1` deletes `v{k}` under `Exists` and puts `v{k+1}` under `NotExists`
//! in one transaction, so of any number of processes that read version `k` exactly one moves
//! it. The first version is put together with `genesis` (both `NotExists`), so a version, once
//! replaced, can never be written again. Each version's document names its owner (none after a
//! release), `from_ms` and `until_ms`, the newest id timestamp the owner reported minting (at
//! each renewal) and, on an exclusively held store, the opening of it the owner leased through.
//!
//! On a store one process holds exclusively (the embedded store: redb's file lock,
//! [`Store::exclusive_session`]), a lease taken through an earlier opening of the store belongs
//! to a process that has ended, so it is reclaimed at once instead of after its lapse: a crash
//! loop never runs out of numbers (number 0 is reclaimed at every start). The reclaimed span
//! starts [`RECLAIM_MARGIN_MS`] after the latest of the previous holder's span start, the newest
//! id timestamp it reported at its last renewal, and now (never later than a takeover would
//! start it, the end of its span): the previous holder ran on this machine's clock and stamped
//! ids with its clock or its span start, both behind that, so ids neither go back nor collide,
//! and they do not drift ahead of the clock by a lease per crash as a takeover would make them.
//! Stores shared by many processes (DynamoDB) never reclaim: a lease there is only taken over
//! once lapsed.
//!
//! Numbers [`EDGE_NODES`] (62 and 63) belong to the edges (`edge/app` mints upload ids with
//! them) and are never leased: at most [`LEASABLE_NODES`] core processes run at once.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shared::id::{Id, IdGenerator};
use tokio::sync::watch;

use crate::config::NodeLeaseConfig;
use crate::ports::{Condition, Item, Key, Query, Store, StoreError, Value, Write};

/// Node numbers the edges mint with (Workers 63, Spin 62 by default); never leased to core.
pub const EDGE_NODES: [u8; 2] = [62, 63];

/// Core leases numbers `0..LEASABLE_NODES`.
pub const LEASABLE_NODES: u8 = 62;

/// How far past the latest moment a dead holder can have stamped (its span start, the newest
/// timestamp it reported, or now) a reclaimed span starts: the holder may have stamped ids with
/// that very millisecond, or a few ahead of its clock after minting more than a millisecond's
/// 1,024 ids.
pub const RECLAIM_MARGIN_MS: u64 = 10;

/// A node number held by this process, and the id timestamps it may mint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// The node number.
    pub node: u8,
    /// First millisecond this holder may stamp ids with.
    pub from_ms: u64,
    /// Ids must be stamped before this millisecond.
    pub until_ms: u64,
    /// The lease register's version this grant wrote.
    version: u64,
}

/// Who holds a number, as stored (for tests and operators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holding process; `None` once released.
    pub owner: Option<String>,
    /// End of the holder's span of id timestamps.
    pub until_ms: u64,
}

/// Why a lease could not be taken or kept.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// Every leasable number is held by a live process.
    #[error("all {LEASABLE_NODES} node numbers (0-{last}) are leased by live core processes; the first one lapses in {secs} s (run fewer core processes, or start this one again then)", last = LEASABLE_NODES - 1, secs = .retry_in_ms.div_ceil(1000))]
    Exhausted {
        /// Until the earliest held lease can be taken over.
        retry_in_ms: u64,
    },
    /// Another process took the number over (this one did not renew in time).
    #[error("node number {node} was taken over by another process")]
    Lost {
        /// The number.
        node: u8,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A version's document.
#[derive(Debug, Serialize, Deserialize)]
struct LeaseDoc {
    #[serde(default)]
    owner: Option<String>,
    until_ms: u64,
    /// Start of the holder's span (absent in documents written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from_ms: Option<u64>,
    /// One past the newest id timestamp the holder had minted at its last renewal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    used_ms: Option<u64>,
    /// The opening of an exclusively held store the holder leased through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session: Option<String>,
}

impl LeaseDoc {
    /// Where a reclaimed span starts: after everything the dead holder can have minted, and no
    /// later than a takeover would start (its span's end).
    fn reclaim_from(&self, now_ms: u64) -> u64 {
        match self.from_ms {
            // Written before spans were recorded: continue after the whole span.
            None => self.until_ms,
            Some(from_ms) => from_ms.max(self.used_ms.unwrap_or(from_ms)).max(now_ms).saturating_add(RECLAIM_MARGIN_MS).min(self.until_ms),
        }
    }
}

/// The current version of a number's register.
struct Current {
    version: u64,
    doc: LeaseDoc,
}

/// Leases node numbers in a store on behalf of one process.
#[derive(Clone)]
pub struct NodeLeases {
    store: Arc<dyn Store>,
    owner: String,
    lease_ms: u64,
    grace_ms: u64,
    /// This process's opening of an exclusively held store (`Store::exclusive_session`).
    session: Option<String>,
}

impl NodeLeases {
    /// Leases for this process (a fresh random owner name) with `config`'s timing.
    pub fn new(store: Arc<dyn Store>, config: &NodeLeaseConfig) -> Self {
        let owner = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
        let session = store.exclusive_session().map(str::to_owned);
        NodeLeases { store, owner, lease_ms: config.lease_secs.max(1) * 1000, grace_ms: config.grace_secs * 1000, session }
    }

    /// This process's name in the lease documents.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Leases the lowest free number at wall time `now_ms`: one never leased, released, lapsed
    /// (past its end by the grace period), or, on an exclusively held store, leased through an
    /// earlier opening of it (its holder has ended).
    pub async fn acquire(&self, now_ms: u64) -> Result<Grant, LeaseError> {
        let mut first_lapse = u64::MAX;
        for node in 0..LEASABLE_NODES {
            match self.current(node).await? {
                None => {
                    if let Some(grant) = self.create(node, now_ms).await? {
                        return Ok(grant);
                    }
                }
                Some(current) => {
                    let lapses = current.doc.until_ms.saturating_add(self.grace_ms);
                    if current.doc.owner.is_none() || now_ms >= lapses {
                        if let Some(grant) = self.take(node, &current, current.doc.until_ms, now_ms).await? {
                            return Ok(grant);
                        }
                    } else if self.session.is_some() && current.doc.session != self.session {
                        let from_ms = current.doc.reclaim_from(now_ms);
                        if let Some(grant) = self.take(node, &current, from_ms, now_ms).await? {
                            tracing::info!(node, previous_owner = current.doc.owner.as_deref().unwrap_or(""), "reclaimed the node number of an ended process");
                            return Ok(grant);
                        }
                    } else {
                        first_lapse = first_lapse.min(lapses);
                    }
                }
            }
        }
        // Every lease held now lapses within one lease length and grace (more only when this
        // clock is behind); when all were lost to concurrent starters, retrying is immediate.
        let retry_in_ms = if first_lapse == u64::MAX { 0 } else { first_lapse.saturating_sub(now_ms).min(self.lease_ms + self.grace_ms) };
        Err(LeaseError::Exhausted { retry_in_ms })
    }

    /// Extends `grant` to `now_ms` plus the lease length. When the register moved under it,
    /// either an earlier renewal of ours landed though its answer was lost (the grant is
    /// adopted as stored) or another process took the number ([`LeaseError::Lost`]).
    pub async fn renew(&self, grant: &Grant, now_ms: u64) -> Result<Grant, LeaseError> {
        self.renew_used(grant, now_ms, grant.from_ms).await
    }

    /// [`NodeLeases::renew`], recording that ids were minted up to `used_until_ms` (one past
    /// the newest timestamp), where a reclaim of the number would continue.
    pub async fn renew_used(&self, grant: &Grant, now_ms: u64, used_until_ms: u64) -> Result<Grant, LeaseError> {
        let until_ms = grant.until_ms.max(now_ms.saturating_add(self.lease_ms));
        if self.swap(grant.node, grant.version, &self.held(grant.from_ms, until_ms, used_until_ms)).await? {
            return Ok(Grant { until_ms, version: grant.version + 1, ..*grant });
        }
        match self.current(grant.node).await? {
            Some(current) if current.doc.owner.as_deref() == Some(self.owner.as_str()) => {
                Ok(Grant { until_ms: current.doc.until_ms, version: current.version, ..*grant })
            }
            _ => Err(LeaseError::Lost { node: grant.node }),
        }
    }

    /// Gives the number back: its next holder may stamp ids from `used_until_ms` on (the end
    /// of what this process minted, kept inside the grant).
    pub async fn release(&self, grant: &Grant, used_until_ms: u64) -> Result<(), LeaseError> {
        let until_ms = used_until_ms.clamp(grant.from_ms, grant.until_ms);
        let doc = LeaseDoc { owner: None, until_ms, from_ms: Some(grant.from_ms), used_ms: Some(until_ms), session: None };
        let mut version = grant.version;
        for _ in 0..3 {
            if self.swap(grant.node, version, &doc).await? {
                return Ok(());
            }
            match self.current(grant.node).await? {
                // A renewal of ours landed unseen: release from there.
                Some(current) if current.doc.owner.as_deref() == Some(self.owner.as_str()) => version = current.version,
                _ => return Err(LeaseError::Lost { node: grant.node }),
            }
        }
        Err(LeaseError::Lost { node: grant.node })
    }

    /// Who holds `node` now, as stored.
    pub async fn holder(&self, node: u8) -> Result<Option<Holder>, StoreError> {
        Ok(self.current(node).await?.map(|c| Holder { owner: c.doc.owner, until_ms: c.doc.until_ms }))
    }

    /// The first lease of a number never leased before.
    async fn create(&self, node: u8, now_ms: u64) -> Result<Option<Grant>, StoreError> {
        let until_ms = now_ms.saturating_add(self.lease_ms);
        let writes = vec![
            Write::Put { item: Item { key: Key::new(partition(node), GENESIS), value: Value::Doc(b"{}".to_vec()) }, condition: Condition::NotExists },
            Write::Put { item: version_item(node, 1, &self.held(now_ms, until_ms, now_ms))?, condition: Condition::NotExists },
        ];
        match self.store.transact(writes, vec![]).await {
            Ok(()) => Ok(Some(Grant { node, from_ms: now_ms, until_ms, version: 1 })),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Takes a number whose holder is gone with a span starting at `from_ms`: where the last
    /// holder's ended (released or lapsed), or after what it used (reclaimed).
    async fn take(&self, node: u8, current: &Current, from_ms: u64, now_ms: u64) -> Result<Option<Grant>, StoreError> {
        let until_ms = from_ms.max(now_ms).saturating_add(self.lease_ms);
        if self.swap(node, current.version, &self.held(from_ms, until_ms, from_ms)).await? {
            Ok(Some(Grant { node, from_ms, until_ms, version: current.version + 1 }))
        } else {
            Ok(None)
        }
    }

    /// The document of a lease this process holds.
    fn held(&self, from_ms: u64, until_ms: u64, used_ms: u64) -> LeaseDoc {
        LeaseDoc { owner: Some(self.owner.clone()), until_ms, from_ms: Some(from_ms), used_ms: Some(used_ms), session: self.session.clone() }
    }

    /// Moves the register of `node` from `version` to `version + 1` holding `doc`; `false`
    /// when `version` is no longer current.
    async fn swap(&self, node: u8, version: u64, doc: &LeaseDoc) -> Result<bool, StoreError> {
        let writes = vec![
            Write::Delete { key: version_key(node, version), condition: Condition::Exists },
            Write::Put { item: version_item(node, version + 1, doc)?, condition: Condition::NotExists },
        ];
        match self.store.transact(writes, vec![]).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn current(&self, node: u8) -> Result<Option<Current>, StoreError> {
        let query = Query { prefix: Some(VERSION_PREFIX.into()), descending: true, ..Query::partition(partition(node), 1) };
        let Some(item) = self.store.query(&query).await?.into_iter().next() else { return Ok(None) };
        let version = item.key.sk.strip_prefix(VERSION_PREFIX).and_then(|hex| u64::from_str_radix(hex, 16).ok());
        let doc = match &item.value {
            Value::Doc(bytes) => serde_json::from_slice::<LeaseDoc>(bytes).ok(),
            Value::Count(_) => None,
        };
        match (version, doc) {
            (Some(version), Some(doc)) => Ok(Some(Current { version, doc })),
            _ => Err(StoreError::Backend(format!("node lease item {:?} is corrupt", item.key).into())),
        }
    }
}

const GENESIS: &str = "genesis";
const VERSION_PREFIX: &str = "v";

/// `NODE#{n}`: the lease register of node number `n`.
fn partition(node: u8) -> String {
    format!("NODE#{node:02}")
}

fn version_key(node: u8, version: u64) -> Key {
    Key::new(partition(node), format!("{VERSION_PREFIX}{version:016x}"))
}

fn version_item(node: u8, version: u64, doc: &LeaseDoc) -> Result<Item, StoreError> {
    let bytes = serde_json::to_vec(doc).map_err(|e| StoreError::Backend(e.into()))?;
    Ok(Item { key: version_key(node, version), value: Value::Doc(bytes) })
}

/// Why no id could be minted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// This process holds no node number (lost, released, or shutting down).
    #[error("no node number is leased")]
    NoLease,
    /// The lease's span ended and was not renewed in time.
    #[error("the lease of node {node} ended at {until_ms} ms and was not renewed")]
    Expired {
        /// The number.
        node: u8,
        /// Where its span ended.
        until_ms: u64,
    },
}

/// The id generator behind its lease: ids are only minted with a timestamp inside the held
/// span.
pub struct IdSource {
    minting: Mutex<Minting>,
}

struct Minting {
    generator: IdGenerator,
    node: Option<u8>,
    from_ms: u64,
    until_ms: u64,
    /// One past the newest timestamp minted (`from_ms` before the first id).
    used_until_ms: u64,
}

impl IdSource {
    /// A fixed node number, never expiring (single-process deployments).
    pub fn fixed(node: u8) -> Self {
        IdSource { minting: Mutex::new(Minting { generator: IdGenerator::new(node), node: Some(node), from_ms: 0, until_ms: u64::MAX, used_until_ms: 0 }) }
    }

    /// Minting under `grant`.
    pub fn leased(grant: &Grant) -> Self {
        IdSource { minting: Mutex::new(Minting::for_grant(grant)) }
    }

    /// The next id at wall time `now_ms`, refused outside the held span. A clock behind the
    /// span's start stamps ids with the start instead.
    pub fn next(&self, now_ms: u64) -> Result<Id, Refused> {
        let mut m = self.lock();
        let node = m.node.ok_or(Refused::NoLease)?;
        let expired = Refused::Expired { node, until_ms: m.until_ms };
        let stamp = now_ms.max(m.from_ms);
        if stamp >= m.until_ms {
            return Err(expired);
        }
        let id = m.generator.next(stamp);
        // The generator borrows from the next millisecond when one is full.
        if id.timestamp_millis() >= m.until_ms {
            return Err(expired);
        }
        m.used_until_ms = m.used_until_ms.max(id.timestamp_millis() + 1);
        Ok(id)
    }

    /// One past the newest timestamp minted under the current grant.
    pub fn used_until(&self) -> u64 {
        self.lock().used_until_ms
    }

    /// The node number minted with, if any.
    pub fn node(&self) -> Option<u8> {
        self.lock().node
    }

    /// Whether minting will still work `margin_ms` from `now_ms` (readiness): a lease whose
    /// renewals keep failing reports unready well before ids are refused.
    pub fn check(&self, now_ms: u64, margin_ms: u64) -> Result<(), Refused> {
        let m = self.lock();
        let node = m.node.ok_or(Refused::NoLease)?;
        if now_ms.saturating_add(margin_ms) >= m.until_ms {
            return Err(Refused::Expired { node, until_ms: m.until_ms });
        }
        Ok(())
    }

    /// Takes a renewal of the held grant.
    fn renewed(&self, grant: &Grant) {
        let mut m = self.lock();
        if m.node == Some(grant.node) {
            m.until_ms = m.until_ms.max(grant.until_ms);
        }
    }

    /// Mints with a newly leased number from now on.
    fn replaced(&self, grant: &Grant) {
        *self.lock() = Minting::for_grant(grant);
    }

    /// Stops minting; returns one past the newest timestamp minted under the current grant.
    fn close(&self) -> u64 {
        let mut m = self.lock();
        m.node = None;
        m.used_until_ms
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Minting> {
        self.minting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Minting {
    fn for_grant(grant: &Grant) -> Self {
        Minting {
            generator: IdGenerator::new(grant.node),
            node: Some(grant.node),
            from_ms: grant.from_ms,
            until_ms: grant.until_ms,
            used_until_ms: grant.from_ms,
        }
    }
}

/// Renews `grant` every `every` until `stop` turns true or its sender is dropped, then releases
/// it. A lost number is replaced by a fresh lease when one is free; until then ids are refused.
pub(crate) async fn keep(leases: NodeLeases, grant: Grant, ids: Arc<IdSource>, every: Duration, mut stop: watch::Receiver<bool>) {
    let mut held = Some(grant);
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
        let now = crate::now_ms();
        if let Some(grant) = held {
            match leases.renew_used(&grant, now, ids.used_until()).await {
                Ok(next) => {
                    ids.renewed(&next);
                    held = Some(next);
                }
                Err(LeaseError::Lost { node }) => {
                    tracing::error!(node, "node number taken over by another process; ids are refused until another is leased");
                    ids.close();
                    held = None;
                }
                Err(e) => tracing::warn!(node = grant.node, error = %e, ends_in_ms = grant.until_ms.saturating_sub(now), "node lease renewal failed; retrying"),
            }
        }
        if held.is_none() {
            match leases.acquire(now).await {
                Ok(grant) => {
                    tracing::info!(node = grant.node, "leased a new node number");
                    ids.replaced(&grant);
                    held = Some(grant);
                }
                Err(e) => tracing::error!(error = %e, "cannot lease a node number; ids are refused"),
            }
        }
    }
    if let Some(grant) = held {
        let used_until = ids.close();
        match leases.release(&grant, used_until).await {
            Ok(()) => tracing::info!(node = grant.node, "node number released"),
            Err(e) => tracing::warn!(node = grant.node, error = %e, "node number not released; it lapses by itself"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(node: u8, from_ms: u64, until_ms: u64) -> Grant {
        Grant { node, from_ms, until_ms, version: 1 }
    }

    #[test]
    fn ids_carry_the_leased_node_and_stay_inside_the_span() {
        let ids = IdSource::leased(&grant(7, 1_000, 2_000));
        let id = ids.next(1_500).unwrap();
        assert_eq!(id.as_u64() >> 10 & 0x3f, 7);
        assert_eq!(id.timestamp_millis(), 1_500);
        assert_eq!(ids.next(2_000), Err(Refused::Expired { node: 7, until_ms: 2_000 }));
    }

    #[test]
    fn a_clock_behind_the_span_stamps_ids_with_its_start() {
        let ids = IdSource::leased(&grant(3, 5_000, 9_000));
        assert_eq!(ids.next(4_000).unwrap().timestamp_millis(), 5_000);
    }

    #[test]
    fn a_full_last_millisecond_refuses_rather_than_spill_past_the_span() {
        let ids = IdSource::leased(&grant(1, 0, 10));
        for _ in 0..1024 {
            ids.next(9).unwrap();
        }
        assert!(matches!(ids.next(9), Err(Refused::Expired { .. })));
    }

    #[test]
    fn renewal_extends_minting_and_close_reports_what_was_used() {
        let ids = IdSource::leased(&grant(2, 100, 200));
        ids.next(150).unwrap();
        assert!(ids.next(250).is_err());
        ids.renewed(&grant(2, 100, 300));
        assert_eq!(ids.next(250).unwrap().timestamp_millis(), 250);
        assert_eq!(ids.close(), 251);
        assert_eq!(ids.next(260), Err(Refused::NoLease));
    }

    #[test]
    fn readiness_fails_inside_the_margin_before_ids_do() {
        let ids = IdSource::leased(&grant(0, 0, 60_000));
        assert!(ids.check(10_000, 30_000).is_ok());
        assert!(ids.check(40_000, 30_000).is_err());
        assert!(ids.next(40_000).is_ok());
    }

    #[test]
    fn a_reclaimed_span_starts_after_all_the_dead_holder_can_have_stamped_and_never_past_its_end() {
        let doc = |from_ms: Option<u64>, used_ms: Option<u64>| LeaseDoc { owner: Some("dead".into()), until_ms: 60_000, from_ms, used_ms, session: None };
        assert_eq!(doc(None, None).reclaim_from(1_000), 60_000, "an old document without its start: after the whole span");
        assert_eq!(doc(Some(0), None).reclaim_from(1_000), 1_000 + RECLAIM_MARGIN_MS, "after now, not a lease ahead");
        assert_eq!(doc(Some(5_000), None).reclaim_from(1_000), 5_000 + RECLAIM_MARGIN_MS, "after a span start ahead of the clock");
        assert_eq!(doc(Some(0), Some(7_000)).reclaim_from(1_000), 7_000 + RECLAIM_MARGIN_MS, "after the newest id it reported");
        assert_eq!(doc(Some(0), None).reclaim_from(70_000), 60_000, "never past where a takeover would start");
    }

    #[test]
    fn a_fixed_node_never_expires() {
        let ids = IdSource::fixed(5);
        assert!(ids.next(u64::from(u32::MAX) * 1000).is_ok());
        assert!(ids.check(u64::MAX - 1, 0).is_ok());
    }
}

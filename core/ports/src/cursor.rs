//! Positions in a partitioned event log.
//!
//! A log has `P` partitions (1 unless its backend splits it, see [`crate::ports::EventLog`]).
//! Each partition keeps its own gap-free commit order, and one account's events always land in
//! the same partition ([`partition_of`]), so per-account order holds while unrelated accounts
//! never contend for one position counter. An event's `seq` identifies it across the whole log
//! ([`seq`]): with one partition it is the position itself (so one-partition logs keep the
//! numbers they always had); with more, the position in the high bits and the partition in the
//! low [`PARTITION_BITS`]. Within one partition seqs increase in commit order; seqs of different
//! partitions are not comparable in time.
//!
//! A [`Cursor`] is where a reader stands: per partition, the last `seq` it has read (0 for
//! nothing yet). A cursor may name only some partitions (a relay holding the leases of a few);
//! reads and checkpoints then concern only those.

use std::collections::BTreeMap;

use shared::id::Id;

use crate::ports::LoggedEvent;

/// Low bits of a partitioned log's `seq` that name the partition.
pub const PARTITION_BITS: u32 = 16;
/// Most partitions a log can have.
pub const MAX_PARTITIONS: u32 = 1 << PARTITION_BITS;

/// The partition of `actor`'s events in a log of `partitions`: a fixed mix of the id's bits
/// (ids are time-ordered, so their low bits alone would crowd a few partitions).
pub fn partition_of(actor: Id, partitions: u32) -> u32 {
    if partitions <= 1 {
        return 0;
    }
    // splitmix64's finaliser: every input bit moves every output bit.
    let mut x = actor.as_u64();
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    u32::try_from(x % u64::from(partitions)).unwrap_or(0)
}

/// The `seq` of `position` in `partition` of a log of `partitions`.
pub fn seq(partitions: u32, partition: u32, position: u64) -> u64 {
    if partitions <= 1 { position } else { (position << PARTITION_BITS) | u64::from(partition) }
}

/// The position within its partition of `seq` (a log of `partitions`).
pub fn position(partitions: u32, seq: u64) -> u64 {
    if partitions <= 1 { seq } else { seq >> PARTITION_BITS }
}

/// Where a reader stands: per partition, the last `seq` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    partitions: u32,
    at: BTreeMap<u32, u64>,
}

impl Cursor {
    /// The start of every partition of a log of `partitions`.
    pub fn start(partitions: u32) -> Self {
        let partitions = partitions.max(1);
        Cursor { partitions, at: (0..partitions).map(|p| (p, 0)).collect() }
    }

    /// A one-partition log's cursor at `seq`.
    pub fn single(seq: u64) -> Self {
        Cursor { partitions: 1, at: BTreeMap::from([(0, seq)]) }
    }

    /// A cursor of a log of `partitions` naming only the given `(partition, seq)`s.
    pub fn from_parts(partitions: u32, parts: impl IntoIterator<Item = (u32, u64)>) -> Self {
        Cursor { partitions: partitions.max(1), at: parts.into_iter().collect() }
    }

    /// The partition count of the log.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// The partitions this cursor names, with their seqs, in partition order.
    pub fn parts(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.at.iter().map(|(p, s)| (*p, *s))
    }

    /// The seq read in `partition` (0 when it is not named).
    pub fn get(&self, partition: u32) -> u64 {
        self.at.get(&partition).copied().unwrap_or(0)
    }

    /// Sets the seq read in `partition`.
    pub fn set(&mut self, partition: u32, seq: u64) {
        self.at.insert(partition, seq);
    }

    /// For a one-partition log, its seq; otherwise the highest position of any partition (for
    /// reports only).
    pub fn last(&self) -> u64 {
        if self.partitions <= 1 { self.get(0) } else { self.at.values().map(|s| position(self.partitions, *s)).max().unwrap_or(0) }
    }

    /// This cursor restricted to `partitions` (those it does not name start at 0).
    #[must_use]
    pub fn only(&self, partitions: &[u32]) -> Cursor {
        Cursor { partitions: self.partitions, at: partitions.iter().map(|p| (*p, self.get(*p))).collect() }
    }

    /// Moves past `events` (read from this log).
    pub fn advance(&mut self, events: &[LoggedEvent]) {
        for e in events {
            let slot = self.at.entry(e.partition).or_insert(0);
            *slot = (*slot).max(e.seq);
        }
    }

    /// The last seq of each partition in `events`: what a reader that handled them saves.
    pub fn of_batch(partitions: u32, events: &[LoggedEvent]) -> Cursor {
        let mut cursor = Cursor { partitions: partitions.max(1), at: BTreeMap::new() };
        cursor.advance(events);
        cursor
    }

    /// Whether `head` has events this cursor has not read, in the partitions it names.
    pub fn is_behind(&self, head: &Cursor) -> bool {
        self.at.iter().any(|(p, s)| head.get(*p) > *s)
    }

    /// How many events this cursor is behind `head`, over the partitions it names.
    pub fn lag(&self, head: &Cursor) -> u64 {
        self.at.iter().map(|(p, s)| position(self.partitions, head.get(*p)).saturating_sub(position(self.partitions, *s))).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Event;

    fn logged(partitions: u32, partition: u32, position: u64) -> LoggedEvent {
        let event = Event::AccountCreated { account: Id::from_u64(1) };
        LoggedEvent { seq: seq(partitions, partition, position), partition, event }
    }

    #[test]
    fn one_partition_seqs_are_positions() {
        assert_eq!(seq(1, 0, 42), 42);
        assert_eq!(position(1, 42), 42);
        assert_eq!(partition_of(Id::from_u64(7), 1), 0);
    }

    #[test]
    fn partitioned_seqs_are_unique_and_ordered_within_a_partition() {
        let a = seq(8, 3, 5);
        assert_eq!(position(8, a), 5);
        assert_eq!(a & u64::from(MAX_PARTITIONS - 1), 3);
        assert!(seq(8, 3, 6) > a, "later positions of one partition have larger seqs");
        assert_ne!(seq(8, 2, 5), a, "the same position of two partitions are two events");
    }

    #[test]
    fn accounts_spread_over_partitions() {
        let mut counts = [0u32; 16];
        // Consecutive ids, as a busy node hands them out.
        for id in 0..16_000u64 {
            counts[partition_of(Id::from_u64((1 << 40) + id), 16) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
        assert_eq!(partition_of(Id::from_u64(99), 16), partition_of(Id::from_u64(99), 16), "stable");
    }

    #[test]
    fn cursors_advance_per_partition_and_measure_lag() {
        let mut cursor = Cursor::start(4);
        cursor.advance(&[logged(4, 1, 1), logged(4, 1, 2), logged(4, 3, 1)]);
        assert_eq!(cursor.get(1), seq(4, 1, 2));
        assert_eq!(cursor.get(3), seq(4, 3, 1));
        assert_eq!(cursor.get(0), 0);
        let head = Cursor::from_parts(4, [(0, seq(4, 0, 2)), (1, seq(4, 1, 2)), (2, 0), (3, seq(4, 3, 4))]);
        assert!(cursor.is_behind(&head));
        assert_eq!(cursor.lag(&head), 2 + 3);
        let mine = cursor.only(&[1]);
        assert!(!mine.is_behind(&head), "partition 1 is read to its head");
        assert_eq!(Cursor::of_batch(4, &[logged(4, 2, 7), logged(4, 2, 9)]).parts().collect::<Vec<_>>(), vec![(2, seq(4, 2, 9))]);
    }
}

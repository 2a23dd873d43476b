//! Time-sortable 64-bit identifiers, serialised as decimal strings like Mastodon's.
//!
//! Layout: the high 48 bits are milliseconds since the Unix epoch, the low 16 bits are a node
//! number (6 bits) and a per-millisecond sequence (10 bits). Ids from one generator strictly
//! increase; ids from different nodes never collide.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const LOW_BITS: u32 = 16;
const SEQUENCE_BITS: u32 = 10;
const MAX_SEQUENCE: u16 = (1 << SEQUENCE_BITS) - 1;

/// Largest node number a generator accepts.
pub const MAX_NODE: u8 = (1 << (LOW_BITS - SEQUENCE_BITS)) - 1;

/// A time-sortable identifier of an account, status, application, follow, notification, …
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Id(u64);

impl Id {
    /// The smallest id, below every generated one.
    pub const MIN: Id = Id(0);
    /// The largest id, above every generated one.
    pub const MAX: Id = Id(u64::MAX);

    /// Wraps a raw value, e.g. one read back from storage.
    pub const fn from_u64(raw: u64) -> Self {
        Id(raw)
    }

    /// The raw value.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// The smallest id that could be generated at `ms`: a cursor for "created at or after".
    pub const fn floor_of_millis(ms: u64) -> Self {
        Id(ms << LOW_BITS)
    }

    /// Milliseconds since the Unix epoch at which this id was generated.
    pub const fn timestamp_millis(self) -> u64 {
        self.0 >> LOW_BITS
    }

    /// Fixed-width lowercase hex, whose lexicographic order equals numeric order: for sort keys.
    pub fn sort_key(self) -> String {
        format!("{:016x}", self.0)
    }

    /// Parses a [`Id::sort_key`] back.
    pub fn from_sort_key(key: &str) -> Option<Self> {
        if key.len() != 16 {
            return None;
        }
        u64::from_str_radix(key, 16).ok().map(Id)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// The text is not a decimal 64-bit id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid id")]
pub struct InvalidId;

impl FromStr for Id {
    type Err = InvalidId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId);
        }
        s.parse::<u64>().map(Id).map_err(|_| InvalidId)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;

        impl Visitor<'_> for IdVisitor {
            type Value = Id;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id as a decimal string or an unsigned integer")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id, E> {
                u64::try_from(v).map(Id).map_err(|_| E::custom("negative id"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse().map_err(|_| E::custom("invalid id"))
            }
        }

        deserializer.deserialize_any(IdVisitor)
    }
}

/// Hands out strictly increasing ids for one node. The caller supplies the time, so the
/// generator itself reads no clock.
#[derive(Debug)]
pub struct IdGenerator {
    node: u16,
    last_ms: u64,
    sequence: u16,
}

impl IdGenerator {
    /// A generator for `node` (0..=[`MAX_NODE`]); larger values wrap into range.
    pub fn new(node: u8) -> Self {
        IdGenerator { node: u16::from(node & MAX_NODE), last_ms: 0, sequence: 0 }
    }

    /// The next id at wall time `now_ms`. A clock that steps backwards, or more than 1024 ids in
    /// one millisecond, borrows from the next millisecond rather than repeating an id.
    pub fn next(&mut self, now_ms: u64) -> Id {
        if now_ms > self.last_ms {
            self.last_ms = now_ms;
            self.sequence = 0;
        } else if self.sequence == MAX_SEQUENCE {
            self.last_ms += 1;
            self.sequence = 0;
        } else {
            self.sequence += 1;
        }
        Id((self.last_ms << LOW_BITS) | u64::from(self.node << SEQUENCE_BITS) | u64::from(self.sequence))
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn ids_from_one_generator_strictly_increase_even_within_a_millisecond() {
        let mut ids = IdGenerator::new(3);
        let mut last = Id::MIN;
        for i in 0..5000 {
            let id = ids.next(1_700_000_000_000 + i / 2000);
            assert!(id > last);
            last = id;
        }
    }

    #[test]
    fn a_clock_stepping_backwards_never_repeats_an_id() {
        let mut ids = IdGenerator::new(0);
        let a = ids.next(2_000);
        let b = ids.next(1_000);
        assert!(b > a);
    }

    #[test]
    fn ids_carry_their_timestamp() {
        let mut ids = IdGenerator::new(1);
        let id = ids.next(1_700_000_000_123);
        assert_eq!(id.timestamp_millis(), 1_700_000_000_123);
        assert!(Id::floor_of_millis(1_700_000_000_123) <= id);
    }

    #[test]
    fn ids_from_different_nodes_differ() {
        let (mut a, mut b) = (IdGenerator::new(1), IdGenerator::new(2));
        assert_ne!(a.next(5), b.next(5));
    }

    #[test]
    fn ids_serialise_as_strings_and_accept_numbers() {
        let id = Id::from_u64(109_876_543_210);
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"109876543210\"");
        assert_eq!(serde_json::from_str::<Id>("\"109876543210\"").unwrap(), id);
        assert_eq!(serde_json::from_str::<Id>("109876543210").unwrap(), id);
        assert!(serde_json::from_str::<Id>("\"12a\"").is_err());
    }

    #[test]
    fn sort_keys_order_like_ids() {
        let (a, b) = (Id::from_u64(9), Id::from_u64(10));
        assert!(a.sort_key() < b.sort_key());
        assert_eq!(Id::from_sort_key(&b.sort_key()), Some(b));
    }

    #[test]
    fn junk_is_not_an_id() {
        for bad in ["", "-1", "1.5", "99999999999999999999999", " 1"] {
            assert!(bad.parse::<Id>().is_err(), "{bad}");
        }
    }
}

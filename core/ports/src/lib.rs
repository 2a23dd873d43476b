//! Starling core's ports: what the use cases in `core-app` need from the outside world, and
//! what every adapter crate (`core-embedded`, `core-dynamodb`, `core-redis`, …) implements.
//!
//! Owns: the port traits and their types ([`ports`]), the domain events the outbox records
//! ([`events`]), the [`clock`], typed port errors carrying their sources, the key layout
//! adapters share with core (Kinesis consumer state, upload objects: [`keys`]), tailing the
//! log into a sink ([`sink`]), in-memory reference adapters for the ports that have no embedded
//! one ([`reference`]), and the contract suites every adapter runs ([`contract`], feature
//! `contract`).
//!
//! Must never: depend on `core-app` or any backend technology (no redb, tantivy, fred,
//! aws-sdk-*, opensearch, axum), hold a use case or a feed rule, or read the wall clock outside
//! [`clock::SystemClock`].

pub mod clock;
pub mod cursor;
pub mod events;
pub mod keys;
pub mod leases;
pub mod ports;
pub mod reference;
pub mod sink;

#[cfg(feature = "contract")]
pub mod contract;

pub use clock::{Clock, ManualClock, SystemClock};
pub use cursor::Cursor;
pub use ports::BoxError;

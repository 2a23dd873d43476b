//! Embedded adapters: what `cargo run` uses with no external services.
//!
//! - [`RedbStore`]: the item store and its event outbox in one redb file; a transaction's
//!   writes and events commit together, durably (fsync) before the call returns. After a
//!   storage failure (a full disk) it refuses writes and reopens the file by itself until it
//!   can write again.
//! - [`MemoryTimelineCache`]: home timelines in process memory (they are caches: after a
//!   restart they rebuild from the store on read).
//! - [`MemoryRateLimiter`]: GCRA rate-limit state in process memory.
//! - [`MemoryStreamHub`]: streaming pub/sub within one process (tokio broadcast channels).
//! - [`FsMediaStore`]: media files in a directory (default: `media/` in the data directory).
//!
//! Must never: hold business rules (those live in core/app), or be named by core/app.

#[cfg(feature = "fault-injection")]
pub mod faults;
mod media;
mod ratelimit;
mod store;
mod stream;
mod timeline;

pub use media::FsMediaStore;
pub use ratelimit::MemoryRateLimiter;
pub use store::{ABANDONED_AFTER, Opener, PRUNE_STEP, RedbStore};
pub use stream::MemoryStreamHub;
pub use timeline::MemoryTimelineCache;

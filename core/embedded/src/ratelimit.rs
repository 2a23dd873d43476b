//! In-process rate-limit state: the reference adapter in `core_ports` (core keeps one besides a
//! shared store as its fallback), named here with the other embedded adapters.

pub use core_ports::reference::MemoryRateLimiter;

//! The wall clock, read in one place: core-ports' system clock.

/// Milliseconds since the Unix epoch (0 before it); the one wall-clock reading core's crates share.
pub fn now_ms() -> u64 {
    core_ports::clock::system_now_ms()
}

/// Seconds since the Unix epoch.
pub(crate) fn now_secs() -> u64 {
    now_ms() / 1000
}

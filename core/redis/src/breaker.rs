//! Failing fast through a Redis outage: every command is bounded by a short timeout, and a
//! circuit breaker stops sending commands once Redis keeps failing.
//!
//! - **Closed** (normal): commands go through; `failures` consecutive failures or timeouts
//!   open the circuit. A success resets the count.
//! - **Open**: every command fails at once (no network, no waiting) until `cooldown` has passed.
//! - **Half-open**: the first command after the cool-down is let through as a probe while the
//!   others still fail at once; its success closes the circuit, its failure (or cancellation)
//!   opens it for another cool-down.
//!
//! Callers in core treat a failure as "the cache is unavailable": home reads rebuild from the
//! store, the rate limiter falls back to the local one, fanout retries later — so an open
//! circuit costs nothing but the cache.

use std::future::Future;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use core_ports::ports::CacheError;

/// Thresholds of the circuit breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures (errors or timeouts) that open the circuit.
    pub failures: u32,
    /// How long an open circuit fails every command before letting one probe through.
    pub cooldown: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig { failures: 5, cooldown: Duration::from_secs(2) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is in flight.
    HalfOpen,
}

/// A circuit breaker shared by every clone of a [`crate::Redis`].
#[derive(Debug)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

/// Leave to run one command; settles the breaker when dropped (a dropped, unsettled permit is a
/// failure: a probe cancelled by its caller must not leave the circuit half-open forever).
pub(crate) struct Permit<'a> {
    breaker: &'a Breaker,
    settled: bool,
}

impl Permit<'_> {
    fn settle(mut self, ok: bool) {
        self.settled = true;
        self.breaker.record(ok);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.breaker.record(false);
        }
    }
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Breaker { config, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// Whether the circuit is closed (commands are being sent).
    pub(crate) fn is_closed(&self) -> bool {
        matches!(*self.state.lock().unwrap_or_else(PoisonError::into_inner), State::Closed { .. })
    }

    /// Leave to send a command, or the refusal to give while the circuit is open.
    pub(crate) fn admit(&self, now: Instant) -> Result<Permit<'_>, CacheError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match *state {
            State::Closed { .. } => {}
            State::Open { until } if now >= until => {
                tracing::info!("redis circuit half-open: probing");
                *state = State::HalfOpen;
            }
            State::Open { .. } | State::HalfOpen => return Err(CacheError("redis is unavailable (circuit open)".into())),
        }
        Ok(Permit { breaker: self, settled: false })
    }

    fn record(&self, ok: bool) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let next = match (*state, ok) {
            (State::Closed { .. }, true) => State::Closed { failures: 0 },
            (State::HalfOpen | State::Open { .. }, true) => {
                tracing::info!("redis answers again: circuit closed");
                State::Closed { failures: 0 }
            }
            (State::Closed { failures }, false) if failures + 1 < self.config.failures => State::Closed { failures: failures + 1 },
            (State::Closed { .. } | State::HalfOpen, false) => {
                tracing::warn!(cooldown_ms = self.config.cooldown.as_millis(), "redis keeps failing: circuit open, failing fast");
                State::Open { until: Instant::now() + self.config.cooldown }
            }
            // A late failure of a command admitted before the circuit opened.
            (open @ State::Open { .. }, false) => open,
        };
        *state = next;
    }

    /// Runs `command` within `timeout` if the circuit lets it through; a timeout or an error
    /// counts as a failure.
    pub(crate) async fn run<T>(&self, operation: &str, timeout: Duration, command: impl Future<Output = Result<T, CacheError>>) -> Result<T, CacheError> {
        let permit = self.admit(Instant::now())?;
        match tokio::time::timeout(timeout, command).await {
            Ok(Ok(value)) => {
                permit.settle(true);
                Ok(value)
            }
            Ok(Err(e)) => {
                permit.settle(false);
                Err(e)
            }
            Err(_) => {
                permit.settle(false);
                Err(CacheError(format!("redis {operation}: no answer within {} ms", timeout.as_millis()).into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig { failures: 3, cooldown: Duration::from_millis(100) })
    }

    #[test]
    fn opens_after_consecutive_failures_and_fails_fast() {
        let b = breaker();
        let now = Instant::now();
        for _ in 0..2 {
            b.admit(now).unwrap().settle(false);
        }
        assert!(b.is_closed(), "two failures of three keep it closed");
        b.admit(now).unwrap().settle(true);
        for _ in 0..2 {
            b.admit(now).unwrap().settle(false);
        }
        assert!(b.is_closed(), "a success resets the count");
        b.admit(now).unwrap().settle(false);
        assert!(!b.is_closed());
        assert!(b.admit(now).is_err(), "open: refused without sending");
    }

    #[test]
    fn one_probe_after_the_cooldown_closes_or_reopens() {
        let b = breaker();
        let now = Instant::now();
        for _ in 0..3 {
            b.admit(now).unwrap().settle(false);
        }
        let after_cooldown = || Instant::now() + Duration::from_millis(150);
        let probe = b.admit(after_cooldown()).unwrap();
        assert!(b.admit(after_cooldown()).is_err(), "one probe at a time");
        probe.settle(false);
        assert!(b.admit(Instant::now()).is_err(), "a failed probe opens it again");
        drop(b.admit(after_cooldown()).unwrap());
        assert!(b.admit(Instant::now()).is_err(), "a cancelled probe counts as failed");
        b.admit(after_cooldown()).unwrap().settle(true);
        assert!(b.is_closed(), "a successful probe closes it");
        assert!(b.admit(Instant::now()).is_ok());
    }
}

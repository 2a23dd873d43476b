//! What happened to each request: latencies of every answered request, failures by cause, and
//! nearest-rank percentiles over them.

use std::collections::BTreeMap;
use std::time::Duration;

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// No complete answer: `timeout`, `connect`, `body` or `transport`.
    Transport(&'static str),
}

impl Outcome {
    /// A 2xx answer.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(&s))
    }
}

/// Everything recorded for one request type.
#[derive(Debug, Default, Clone)]
pub struct Recorder {
    /// Microseconds from send to the last body byte, for every request that got an answer
    /// (errors included: a slow 500 is still a slow request).
    latencies_us: Vec<u64>,
    /// Requests that did not succeed, keyed by status code or transport failure.
    errors: BTreeMap<String, u64>,
    /// Requests that failed below HTTP, so have no latency.
    transport_failures: u64,
    /// Answers the server's edge cache served, and answers it did not.
    cache_hits: u64,
    cache_misses: u64,
}

impl Recorder {
    /// Records one request.
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        match outcome {
            Outcome::Status(status) => {
                self.latencies_us.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
                if !outcome.is_success() {
                    *self.errors.entry(status.to_string()).or_default() += 1;
                }
            }
            Outcome::Transport(cause) => {
                self.transport_failures += 1;
                *self.errors.entry(cause.to_owned()).or_default() += 1;
            }
        }
    }

    /// Records whether the server's cache answered.
    pub fn record_cache(&mut self, hit: bool) {
        if hit { self.cache_hits += 1 } else { self.cache_misses += 1 }
    }

    /// `(hits, misses)` of the server's cache, when it reported any.
    pub fn cache(&self) -> Option<(u64, u64)> {
        (self.cache_hits + self.cache_misses > 0).then_some((self.cache_hits, self.cache_misses))
    }

    /// Adds another recorder's requests to this one.
    pub fn merge(&mut self, other: Recorder) {
        self.latencies_us.extend(other.latencies_us);
        for (cause, n) in other.errors {
            *self.errors.entry(cause).or_default() += n;
        }
        self.transport_failures += other.transport_failures;
        self.cache_hits += other.cache_hits;
        self.cache_misses += other.cache_misses;
    }

    /// Requests sent (answered or not).
    pub fn requests(&self) -> u64 {
        self.latencies_us.len() as u64 + self.transport_failures
    }

    /// Requests that did not get a 2xx.
    pub fn errors(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Failures by cause, e.g. `500 ×3, timeout ×1`; `0` when there were none.
    pub fn errors_by_cause(&self) -> String {
        if self.errors.is_empty() {
            return "0".to_owned();
        }
        self.errors.iter().map(|(cause, n)| format!("{cause} ×{n}")).collect::<Vec<_>>().join(", ")
    }

    /// Latency percentiles.
    pub fn summary(&self) -> Summary {
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        Summary {
            p50: percentile(&sorted, 50.0),
            p90: percentile(&sorted, 90.0),
            p99: percentile(&sorted, 99.0),
            max: sorted.last().copied().map(Duration::from_micros),
        }
    }
}

/// Latency percentiles of one request type; `None` when nothing was answered.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub p50: Option<Duration>,
    pub p90: Option<Duration>,
    pub p99: Option<Duration>,
    pub max: Option<Duration>,
}

/// Nearest-rank percentile of sorted microseconds: the smallest value with at least `p`% of
/// the values at or below it.
fn percentile(sorted_us: &[u64], p: f64) -> Option<Duration> {
    if sorted_us.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted_us.len()) - 1;
    Some(Duration::from_micros(sorted_us[index]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(values: &[u64]) -> Recorder {
        let mut r = Recorder::default();
        for v in values {
            r.record(Outcome::Status(200), Duration::from_micros(*v));
        }
        r
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let r = micros(&(1..=100).collect::<Vec<_>>());
        let s = r.summary();
        assert_eq!(s.p50, Some(Duration::from_micros(50)));
        assert_eq!(s.p90, Some(Duration::from_micros(90)));
        assert_eq!(s.p99, Some(Duration::from_micros(99)));
        assert_eq!(s.max, Some(Duration::from_micros(100)));
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let s = micros(&[7]).summary();
        assert_eq!((s.p50, s.p99, s.max), (Some(Duration::from_micros(7)), Some(Duration::from_micros(7)), Some(Duration::from_micros(7))));
    }

    #[test]
    fn errors_are_counted_by_cause_and_transport_failures_have_no_latency() {
        let mut r = micros(&[1, 2]);
        r.record(Outcome::Status(500), Duration::from_micros(3));
        r.record(Outcome::Status(500), Duration::from_micros(4));
        r.record(Outcome::Transport("timeout"), Duration::from_secs(30));
        assert_eq!(r.requests(), 5);
        assert_eq!(r.errors(), 3);
        assert_eq!(r.errors_by_cause(), "500 ×2, timeout ×1");
        assert_eq!(r.summary().max, Some(Duration::from_micros(4)));
    }

    #[test]
    fn merging_keeps_everything() {
        let mut a = micros(&[1]);
        let mut b = micros(&[2]);
        b.record(Outcome::Status(429), Duration::from_micros(1));
        b.record_cache(true);
        a.record_cache(false);
        a.merge(b);
        assert_eq!(a.requests(), 3);
        assert_eq!(a.errors_by_cause(), "429 ×1");
        assert_eq!(a.cache(), Some((1, 1)));
    }
}

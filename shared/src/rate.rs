//! Rate limiting by GCRA (the generic cell rate algorithm): one timestamp of state per key,
//! smooth refill, bursts up to the limit. The edge and core share this arithmetic; where the
//! state lives (edge KV, Redis, process memory) is the caller's business.

/// `limit` requests per `period_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests allowed per period (and the largest burst).
    pub limit: u32,
    /// The period, in milliseconds.
    pub period_ms: u64,
}

/// The outcome of one request against a quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// The state to store for the key (unchanged when refused).
    pub tat_ms: u64,
    /// Requests still allowed right now.
    pub remaining: u32,
    /// When the quota will be fully restored (ms since the epoch).
    pub reset_at_ms: u64,
    /// When refused: how long until one request is allowed.
    pub retry_after_ms: u64,
}

impl Quota {
    /// A quota of `limit` per `period_ms` (a zero limit refuses everything).
    pub const fn new(limit: u32, period_ms: u64) -> Self {
        Quota { limit, period_ms }
    }

    fn interval(&self) -> u64 {
        (self.period_ms / u64::from(self.limit.max(1))).max(1)
    }

    /// Decides a request at `now_ms`, given the stored theoretical arrival time (`None` for a
    /// key never seen or expired).
    pub fn check(&self, tat_ms: Option<u64>, now_ms: u64) -> Decision {
        let interval = self.interval();
        let tat = tat_ms.unwrap_or(now_ms).max(now_ms);
        let new_tat = tat + interval;
        if self.limit == 0 || new_tat - now_ms > self.period_ms {
            let retry_after_ms = if self.limit == 0 { self.period_ms } else { new_tat - now_ms - self.period_ms };
            return Decision { allowed: false, tat_ms: tat, remaining: 0, reset_at_ms: tat, retry_after_ms };
        }
        let remaining = (self.period_ms - (new_tat - now_ms)) / interval;
        Decision { allowed: true, tat_ms: new_tat, remaining: u32::try_from(remaining).unwrap_or(u32::MAX), reset_at_ms: new_tat, retry_after_ms: 0 }
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn run(quota: Quota, times: &[u64]) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|now| {
                let d = quota.check(tat, *now);
                if d.allowed {
                    tat = Some(d.tat_ms);
                }
                d.allowed
            })
            .collect()
    }

    #[test]
    fn a_burst_up_to_the_limit_passes_and_the_next_is_refused() {
        let q = Quota::new(5, 1000);
        assert_eq!(run(q, &[0, 0, 0, 0, 0, 0]), vec![true, true, true, true, true, false]);
    }

    #[test]
    fn capacity_refills_smoothly() {
        let q = Quota::new(5, 1000);
        // Five at t=0 drain the bucket; one slot returns every 200 ms.
        assert_eq!(run(q, &[0, 0, 0, 0, 0, 100, 200, 200]), vec![true, true, true, true, true, false, true, false]);
    }

    #[test]
    fn remaining_counts_down_and_retry_after_says_when() {
        let q = Quota::new(3, 300);
        let a = q.check(None, 1000);
        assert_eq!((a.allowed, a.remaining), (true, 2));
        let b = q.check(Some(a.tat_ms), 1000);
        let c = q.check(Some(b.tat_ms), 1000);
        assert_eq!((c.allowed, c.remaining), (true, 0));
        let d = q.check(Some(c.tat_ms), 1000);
        assert!(!d.allowed);
        assert_eq!(d.retry_after_ms, 100);
        assert!(q.check(Some(c.tat_ms), 1100).allowed);
    }

    #[test]
    fn a_long_idle_key_starts_full() {
        let q = Quota::new(2, 1000);
        assert_eq!(q.check(Some(10), 1_000_000).remaining, 1);
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        assert!(!Quota::new(0, 1000).check(None, 0).allowed);
    }
}

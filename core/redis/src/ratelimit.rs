//! Rate-limit state in Redis: one key per caller and route class holding the GCRA theoretical
//! arrival time, read and written by one Lua script (the same arithmetic as
//! `shared::rate::Quota::check`), expiring when the bucket is full again. One key per call,
//! so it works unchanged on a cluster.

use async_trait::async_trait;
use core_ports::ports::{CacheError, RateLimitStore};
use shared::rate::{Decision, Quota};

use crate::{Redis, failed};

/// GCRA rate-limit state shared by every core process using the same Redis.
#[derive(Clone)]
pub struct RedisRateLimiter {
    redis: Redis,
}

impl RedisRateLimiter {
    /// Rate-limit state on `redis`.
    pub fn new(redis: Redis) -> Self {
        RedisRateLimiter { redis }
    }
}

#[async_trait]
impl RateLimitStore for RedisRateLimiter {
    async fn hit(&self, key: &str, quota: Quota, now_ms: u64) -> Result<Decision, CacheError> {
        let args = vec![quota.limit.to_string(), quota.period_ms.to_string(), now_ms.to_string()];
        let hit = self.redis.eval(&self.redis.scripts.gcra, vec![format!("rl:{key}")], args);
        let reply: Vec<i64> = self.redis.guarded("rate limit", async { hit.await.map_err(|e| failed("rate limit", &e)) }).await?;
        let [allowed, tat_ms, remaining, reset_at_ms, retry_after_ms] = reply[..] else {
            return Err(CacheError(format!("rate limit script answered {} values", reply.len()).into()));
        };
        let num = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok(Decision {
            allowed: allowed == 1,
            tat_ms: num(tat_ms),
            remaining: u32::try_from(remaining).unwrap_or(0),
            reset_at_ms: num(reset_at_ms),
            retry_after_ms: num(retry_after_ms),
        })
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.redis.ping().await
    }
}

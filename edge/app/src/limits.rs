//! GCRA rate limits with state in the platform's KV. KV read-modify-write is not atomic, so
//! concurrent bursts at one location can slip a few requests through; core keeps its own
//! limiter as the backstop.

use shared::rate::{Decision, Quota};
use shared::token::secret_digest;

use crate::auth::Caller;
use crate::ports::{Clock, Kv, Upstream};
use crate::{Edge, EdgeRequest, EdgeResponse};

impl<K: Kv, U: Upstream, C: Clock> Edge<K, U, C> {
    /// Applies the request's quota. `Ok` carries the `X-RateLimit-*` headers to add;
    /// `Err` is the 429 to send.
    pub(crate) async fn rate_limit(&self, request: &EdgeRequest, caller: Option<&Caller>) -> Result<Vec<(String, String)>, EdgeResponse> {
        if !self.config.rate_limits_enabled {
            return Ok(Vec::new());
        }
        let address = secret_digest(request.client_ip.as_deref().unwrap_or("unknown"));
        let who = caller.map_or_else(|| format!("ip:{address}"), |c| format!("t:{}", c.jti));
        let (quota, key) = match (request.method.as_str(), request.path()) {
            ("POST", "/api/v1/accounts") => (self.config.sign_ups, format!("rl:sign_ups:{address}")),
            ("POST", "/oauth/token" | "/oauth/authorize") => (self.config.logins, format!("rl:logins:{address}")),
            ("POST", "/api/v1/media" | "/api/v2/media" | "/api/starling/v1/media/uploads") => (self.config.media, format!("rl:media:{who}")),
            _ => (self.config.requests, format!("rl:requests:{who}")),
        };
        let now = self.clock.now_ms();
        let tat = self.kv.get(&key).await.and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok());
        let decision = quota.check(tat, now);
        let headers = headers(quota, &decision);
        if !decision.allowed {
            let mut response = EdgeResponse::error(429, "Too many requests");
            response.set_header("retry-after", decision.retry_after_ms.div_ceil(1000).max(1).to_string());
            for (k, v) in headers {
                response.set_header(&k, v);
            }
            return Err(response);
        }
        let ttl = (decision.tat_ms.saturating_sub(now)).div_ceil(1000).max(1);
        self.kv.put(&key, decision.tat_ms.to_string().into_bytes(), ttl).await;
        Ok(headers)
    }
}

fn headers(quota: Quota, decision: &Decision) -> Vec<(String, String)> {
    vec![
        ("x-ratelimit-limit".into(), quota.limit.to_string()),
        ("x-ratelimit-remaining".into(), decision.remaining.to_string()),
        ("x-ratelimit-reset".into(), shared::wire::timestamp(decision.reset_at_ms)),
    ]
}

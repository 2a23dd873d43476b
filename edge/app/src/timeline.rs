//! The cached home timeline: per-user entries served while younger than the staleness bound,
//! while core's per-user timeline version is unchanged (a followee's new post moves it), and
//! while the user has sent no write since the page was fetched (their own favourite, boost,
//! edit or follow shows at once). A write still in flight when a page is fetched can be missed
//! for up to the bound: clients read after their write's response.

use serde::{Deserialize, Serialize};
use shared::token::secret_digest;

use crate::auth::Caller;
use crate::ports::{Clock, Kv, Upstream};
use crate::{Edge, EdgeRequest, EdgeResponse};

/// Response header saying whether the edge cache answered.
pub const CACHE_HEADER: &str = "x-starling-cache";

#[derive(Serialize, Deserialize)]
struct CachedPage {
    stored_at_ms: u64,
    version: String,
    link: Option<String>,
    body: String,
}

impl<K: Kv, U: Upstream, C: Clock> Edge<K, U, C> {
    /// Serves `GET /api/v1/timelines/home`; `None` means forward (anonymous, wrong scope, or
    /// core's version unreadable — core then answers as usual).
    pub(crate) async fn home_timeline(&self, request: &EdgeRequest, caller: Option<&Caller>) -> Option<EdgeResponse> {
        let caller = caller?;
        let account = caller.account?;
        if !caller.scopes.allows("read:statuses") {
            return None;
        }
        // The account id comes from the verified token: one user's entry is never another's.
        let key = format!("home:{account}:{}", secret_digest(request.query().unwrap_or("")));
        let version = self.home_version(request).await?;
        let now = self.clock.now_ms();
        let last_write = self.last_write(account).await;
        if let Some(bytes) = self.kv.get(&key).await
            && let Ok(page) = serde_json::from_slice::<CachedPage>(&bytes)
            && page.version == version
            && now.saturating_sub(page.stored_at_ms) < self.config.home_cache_ttl_ms
            && last_write.is_none_or(|at| page.stored_at_ms > at)
        {
            let mut response = EdgeResponse::json(200, &serde_json::Value::Null);
            response.body = page.body.into_bytes();
            if let Some(link) = page.link {
                response.set_header("link", link);
            }
            response.set_header(CACHE_HEADER, "hit");
            response.set_header("cache-control", "private, no-store");
            return Some(response);
        }
        let mut response = self.upstream.send(request.clone()).await.ok()?;
        if response.status == 200
            && let Ok(body) = String::from_utf8(response.body.clone())
        {
            let page = CachedPage { stored_at_ms: now, version, link: response.header("link").map(str::to_owned), body };
            if let Ok(bytes) = serde_json::to_vec(&page) {
                let ttl = self.config.home_cache_ttl_ms.div_ceil(1000) + 1;
                self.kv.put(&key, bytes, ttl).await;
            }
        }
        response.set_header(CACHE_HEADER, "miss");
        response.set_header("cache-control", "private, no-store");
        Some(response)
    }

    /// Records that `caller` sent a write, so their cached pages from before it are not served.
    pub(crate) async fn note_write(&self, caller: Option<&Caller>) {
        if let Some(account) = caller.and_then(|c| c.account) {
            let ttl = self.config.home_cache_ttl_ms.div_ceil(1000) + 1;
            self.kv.put(&write_key(account), self.clock.now_ms().to_string().into_bytes(), ttl).await;
        }
    }

    async fn last_write(&self, account: shared::id::Id) -> Option<u64> {
        let bytes = self.kv.get(&write_key(account)).await?;
        String::from_utf8(bytes).ok()?.parse().ok()
    }

    async fn home_version(&self, request: &EdgeRequest) -> Option<String> {
        let mut probe = EdgeRequest { method: "GET".into(), uri: "/api/starling/v1/timelines/home/version".into(), ..EdgeRequest::default() };
        probe.headers.push((
            "authorization".into(),
            request.header("authorization").map_or_else(|| format!("Bearer {}", crate::auth::bearer(request).unwrap_or_default()), str::to_owned),
        ));
        let response = self.upstream.send(probe).await.ok()?;
        if response.status != 200 {
            return None;
        }
        serde_json::from_slice::<shared::wire::HomeVersion>(&response.body).ok().map(|v| v.version)
    }
}

fn write_key(account: shared::id::Id) -> String {
    format!("wrote:{account}")
}

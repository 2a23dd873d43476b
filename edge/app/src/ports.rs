//! What the edge needs from its platform. Shims implement these over Workers KV / Cache API /
//! fetch, Spin key-value / outbound HTTP, or (natively) process memory and core's router.
//! On wasm32 the traits do not require `Send`: platform handles are single-threaded there.

use crate::{EdgeRequest, EdgeResponse};

/// A key-value store with optional expiry (eventually consistent is acceptable).
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
pub trait Kv {
    /// Reads a value; errors read as absent (the edge degrades to asking core).
    async fn get(&self, key: &str) -> Option<Vec<u8>>;

    /// Writes a value that expires after `ttl_secs` (platforms round up to their minimum).
    async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64);
}

/// Why core could not be asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError(pub String);

/// Buffered HTTP to core (for the edge's own calls; plain proxying streams in the shim).
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
pub trait Upstream {
    /// Sends `request` to core and buffers the response.
    async fn send(&self, request: EdgeRequest) -> Result<EdgeResponse, UpstreamError>;
}

/// Wall-clock time.
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
}

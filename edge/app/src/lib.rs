//! The edge, platform-neutral: what runs in front of core on Cloudflare Workers, on Spin, and
//! natively in the embedded single process.
//!
//! Owns: bearer-token verification with core's public keys and revocation list, GCRA rate
//! limits, the cached home timeline, presigned S3 uploads, and the decision to forward
//! everything else. Must never: call platform APIs directly (shims implement [`ports`]),
//! require `Send` on wasm32, or forward a request it has refused.

pub mod config;
pub mod ports;

mod auth;
mod limits;
mod timeline;
mod uploads;

use std::sync::Mutex;

use shared::id::IdGenerator;

pub use crate::config::EdgeConfig;
use crate::ports::{Clock, Kv, Upstream};

/// A request as the edge sees it (shims convert their platform's type).
#[derive(Debug, Clone, Default)]
pub struct EdgeRequest {
    /// Upper-case HTTP method.
    pub method: String,
    /// Path and query, e.g. `/api/v1/timelines/home?limit=20`.
    pub uri: String,
    /// Headers, names in any case.
    pub headers: Vec<(String, String)>,
    /// The body (empty for reads; uploads never pass through the edge's body).
    pub body: Vec<u8>,
    /// The client's address, as the platform reports it.
    pub client_ip: Option<String>,
}

impl EdgeRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    /// The query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.uri.split_once('?').map(|(_, q)| q)
    }
}

/// A response produced by the edge (or by core, buffered).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeResponse {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl EdgeResponse {
    /// A JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        EdgeResponse { status, headers: vec![("content-type".into(), "application/json".into())], body: body.to_string().into_bytes() }
    }

    /// Mastodon's error envelope.
    pub fn error(status: u16, message: &str) -> Self {
        Self::json(status, &serde_json::json!({ "error": message }))
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Sets a header, replacing any of the same name.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
    }
}

/// What the shim should do with a request.
#[derive(Debug)]
pub enum Outcome {
    /// Answer with this response.
    Respond(EdgeResponse),
    /// Send the request to core unchanged (streaming both ways), then add these headers to
    /// core's response.
    Forward { request: EdgeRequest, response_headers: Vec<(String, String)> },
}

/// The edge, over its platform's ports.
pub struct Edge<K, U, C> {
    config: EdgeConfig,
    kv: K,
    upstream: U,
    clock: C,
    ids: Mutex<IdGenerator>,
}

impl<K: Kv, U: Upstream, C: Clock> Edge<K, U, C> {
    /// An edge with its configuration and ports.
    pub fn new(config: EdgeConfig, kv: K, upstream: U, clock: C) -> Self {
        let ids = Mutex::new(IdGenerator::new(config.node_id));
        Edge { config, kv, upstream, clock, ids }
    }

    /// The configuration.
    pub fn config(&self) -> &EdgeConfig {
        &self.config
    }

    /// Handles one request.
    pub async fn handle(&self, request: EdgeRequest) -> Outcome {
        let caller = match self.authenticate(&request).await {
            Ok(caller) => caller,
            Err(response) => return Outcome::Respond(response),
        };
        let limit = match self.rate_limit(&request, caller.as_ref()).await {
            Ok(limit) => limit,
            Err(response) => return Outcome::Respond(response),
        };
        let method = request.method.as_str();
        let routed = match (method, request.path()) {
            ("GET", "/api/v1/timelines/home") => self.home_timeline(&request, caller.as_ref()).await,
            ("POST", "/api/starling/v1/media/uploads") => Some(self.presign_upload(&request, caller.as_ref()).await),
            _ => None,
        };
        match routed {
            Some(mut response) => {
                for (k, v) in &limit {
                    response.set_header(k, v.clone());
                }
                Outcome::Respond(response)
            }
            None => {
                if !matches!(method, "GET" | "HEAD" | "OPTIONS") {
                    self.note_write(caller.as_ref()).await;
                }
                Outcome::Forward { request, response_headers: limit }
            }
        }
    }

    fn next_id(&self) -> shared::id::Id {
        let now = self.clock.now_ms();
        let mut ids = self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        ids.next(now)
    }
}

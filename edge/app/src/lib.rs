//! The edge, platform-neutral: what runs in front of core on Cloudflare Workers, on Spin, and
//! natively in the embedded single process.
//!
//! Owns: bearer-token verification with core's public keys and revocation list, GCRA rate
//! limits, the cached home timeline, presigned S3 uploads, and the decision to forward
//! everything else. Must never: call platform APIs directly (shims implement [`ports`]),
//! require `Send` on wasm32, or forward a request it has refused.

pub mod config;
pub mod cors;
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

/// The client address header the edge sets on forwarded requests.
pub const FORWARDED_FOR: &str = "x-forwarded-for";
/// The header carrying the secret shared with core ([`EdgeConfig::core_secret`]).
pub const EDGE_SECRET: &str = "x-starling-edge-secret";

/// Whether `request` asks to become a WebSocket (`Upgrade: websocket`).
pub fn is_websocket_upgrade(request: &EdgeRequest) -> bool {
    request.header("upgrade").is_some_and(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case("websocket")))
}

/// The answer of an edge whose platform cannot proxy a WebSocket (WASI-HTTP 0.2 has no
/// upgrade): 501 naming where streaming is served instead, with CORS headers.
pub fn websocket_unsupported(config: &EdgeConfig) -> EdgeResponse {
    let message = match &config.streaming_url {
        Some(url) => format!("WebSocket streaming is not available through this edge (WASI-HTTP has no connection upgrade); connect to {url}"),
        None => {
            "WebSocket streaming is not available through this edge (WASI-HTTP has no connection upgrade); use the instance's urls.streaming_api".to_owned()
        }
    };
    let mut response = EdgeResponse::error(501, &message);
    cors::decorate(&mut response);
    response
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

    /// Handles one request. Every response the edge builds itself carries core's CORS headers
    /// ([`cors`]); preflights are answered here, without a token check, a limit or core.
    pub async fn handle(&self, request: EdgeRequest) -> Outcome {
        if cors::is_preflight(&request) {
            return Outcome::Respond(cors::preflight());
        }
        match self.decide(request).await {
            Outcome::Respond(mut response) => {
                cors::decorate(&mut response);
                Outcome::Respond(response)
            }
            forward => forward,
        }
    }

    /// Headers the shim sets (replacing any the client sent) on a request it forwards to core:
    /// `x-forwarded-for` with the client's address as the platform reports it, and, when
    /// [`EdgeConfig::core_secret`] is set, `x-starling-edge-secret` proving to core that the
    /// address comes from its edge (core's `[server] edge_secret`, docs/operations.md).
    pub fn forward_headers(&self, request: &EdgeRequest) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        if let Some(ip) = &request.client_ip {
            headers.push((FORWARDED_FOR.to_owned(), ip.clone()));
        }
        if let Some(secret) = &self.config.core_secret {
            headers.push((EDGE_SECRET.to_owned(), secret.clone()));
        }
        headers
    }

    async fn decide(&self, request: EdgeRequest) -> Outcome {
        let caller = match self.authenticate(&request).await {
            Ok(caller) => caller,
            // A refused token counts against its address's quota as an anonymous request
            // does, and the refusal carries the quota's headers like every response.
            Err(mut refused) => {
                return Outcome::Respond(match self.rate_limit(&request, None).await {
                    Ok(limit) => {
                        for (k, v) in &limit {
                            refused.set_header(k, v.clone());
                        }
                        refused
                    }
                    Err(limited) => limited,
                });
            }
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

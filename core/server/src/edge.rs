//! The edge running natively in front of core, in one process: the embedded default's request
//! path is the production one (token checks, rate limits, cached home timeline), with process
//! memory as the edge's KV and core's router, called in-process, as its upstream.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use edge_app::ports::{Clock, Kv, Upstream, UpstreamError};
use edge_app::{Edge, EdgeConfig, EdgeRequest, EdgeResponse, Outcome};
use tower::ServiceExt as _;

/// Largest body the edge reads itself (its own JSON routes); others stream through untouched.
const EDGE_BODY_LIMIT: usize = 64 * 1024;
/// Entries the memory KV holds before sweeping expired ones.
const SWEEP_AT: usize = 100_000;

/// Value and expiry (ms since the epoch) per key.
type Entries = HashMap<String, (Vec<u8>, u64)>;

/// Edge KV in process memory, with expiry.
#[derive(Clone, Default)]
pub struct MemoryKv(Arc<Mutex<Entries>>);

#[async_trait::async_trait]
impl Kv for MemoryKv {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = SystemClock.now_ms();
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(key).filter(|(_, expires)| *expires > now).map(|(v, _)| v.clone())
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64) {
        let now = SystemClock.now_ms();
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= SWEEP_AT {
            map.retain(|_, (_, expires)| *expires > now);
        }
        map.insert(key.to_owned(), (value, now + ttl_secs.saturating_mul(1000)));
    }
}

/// Core's router, called without a network hop.
#[derive(Clone)]
pub struct InProcessCore(pub Router);

#[async_trait::async_trait]
impl Upstream for InProcessCore {
    async fn send(&self, request: EdgeRequest) -> Result<EdgeResponse, UpstreamError> {
        let mut builder = axum::http::Request::builder().method(request.method.as_str()).uri(request.uri.as_str());
        for (k, v) in &request.headers {
            builder = builder.header(k.as_str(), v.as_str());
        }
        let req = builder.body(Body::from(request.body)).map_err(|e| UpstreamError(e.to_string()))?;
        let response = self.0.clone().oneshot(req).await.map_err(|e| UpstreamError(e.to_string()))?;
        let status = response.status().as_u16();
        let headers = response.headers().iter().filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(|e| UpstreamError(e.to_string()))?;
        Ok(EdgeResponse { status, headers, body: body.to_vec() })
    }
}

/// The system clock.
#[derive(Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        core_ports::clock::system_now_ms()
    }
}

type NativeEdge = Edge<MemoryKv, InProcessCore, SystemClock>;

/// Puts the edge in front of `core`.
pub fn in_front_of(core: Router, config: EdgeConfig) -> Router {
    let edge = Arc::new(Edge::new(config, MemoryKv::default(), InProcessCore(core.clone()), SystemClock));
    Router::new().fallback(move |request: Request| handle(edge.clone(), core.clone(), request))
}

async fn handle(edge: Arc<NativeEdge>, core: Router, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let client_ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let reads_body = parts.method == Method::POST && parts.uri.path() == "/api/starling/v1/media/uploads";
    let (edge_body, body) = if reads_body {
        match axum::body::to_bytes(body, EDGE_BODY_LIMIT).await {
            Ok(bytes) => (bytes.to_vec(), Body::from(bytes)),
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(serde_json::json!({"error": "Request body is too large"}))).into_response(),
        }
    } else {
        (Vec::new(), body)
    };
    let edge_request = EdgeRequest {
        method: parts.method.as_str().to_owned(),
        uri: parts.uri.path_and_query().map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: parts.headers.iter().filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))).collect(),
        body: edge_body,
        client_ip,
    };
    match edge.handle(edge_request).await {
        Outcome::Respond(r) => into_response(r),
        Outcome::Forward { response_headers, .. } => {
            let Ok(mut response) = core.oneshot(Request::from_parts(parts, body)).await;
            for (k, v) in response_headers {
                if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
    }
}

fn into_response(r: EdgeResponse) -> Response {
    let mut response = Response::new(Body::from(r.body));
    *response.status_mut() = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in r.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

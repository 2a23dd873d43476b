//! The edge on Fermyon Spin: Spin's key-value store, Spin variables, outbound HTTP to core
//! (`core_url`) and the WASI wall clock implement the edge's ports. Owns only the translation
//! between wasi-http and `edge_app`; must never make an edge decision of its own, nor buffer a
//! request or response body it merely forwards.
//!
//! Two builds of the same handler, chosen by cargo feature:
//! - `spin` (default, production): state in Spin's `default` key-value store, configuration from
//!   Spin variables. Spin gives every request a fresh instance, so state must live in the host.
//! - `wasi-host` (tests): only standard WASI 0.2 imports (`wasi:http`, `wasi:cli/environment`,
//!   clocks), so a plain WASI-HTTP host such as `jco serve` or `wasmtime serve` can run it — they
//!   implement neither `fermyon:spin/key-value` nor `fermyon:spin/variables`. State lives in the
//!   instance's memory (those hosts reuse one instance across requests); configuration comes from
//!   environment variables (`STARLING_CORE_URL`, `STARLING_RATE_REQUESTS`, ...).

use std::convert::Infallible;
use std::pin::pin;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use edge_app::ports::{Clock, Kv, Upstream, UpstreamError};
use edge_app::{Edge, EdgeConfig, EdgeRequest, EdgeResponse, Outcome};
use futures::future::Either;
use futures::{Sink, SinkExt as _, Stream, StreamExt as _, stream};
use spin_sdk::http::{Fields, IncomingRequest, IncomingResponse, Method, OutgoingRequest, OutgoingResponse, ResponseOutparam, Scheme};

/// Largest body the edge reads itself (its own JSON routes); others stream through untouched.
const EDGE_BODY_LIMIT: usize = 64 * 1024;
/// Framing and routing headers a hop sets for itself; never copied from one message to the next.
const HOP_BY_HOP: [&str; 8] = ["connection", "host", "http2-settings", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade"];

#[cfg(feature = "spin")]
mod host {
    use super::{Clock as _, Kv, WasiClock, async_trait};
    use spin_sdk::key_value::Store;

    /// Edge state in Spin's `default` key-value store. Spin's store has no expiry, so each value
    /// carries its own (8 bytes, big-endian ms); an expired entry reads as absent and is deleted.
    pub struct HostKv(Store);

    impl HostKv {
        pub fn open() -> Option<HostKv> {
            Store::open_default().ok().map(HostKv)
        }
    }

    #[async_trait(?Send)]
    impl Kv for HostKv {
        async fn get(&self, key: &str) -> Option<Vec<u8>> {
            let stored = self.0.get(key).ok()??;
            let (expires_ms, value) = stored.split_first_chunk::<8>()?;
            if u64::from_be_bytes(*expires_ms) > WasiClock.now_ms() {
                return Some(value.to_vec());
            }
            let _ = self.0.delete(key);
            None
        }

        async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64) {
            let expires_ms = WasiClock.now_ms().saturating_add(ttl_secs.saturating_mul(1000));
            // A lost write only costs a later refetch or a looser limit: log it, carry on.
            if let Err(e) = self.0.set(key, &[&expires_ms.to_be_bytes()[..], &value].concat()) {
                eprintln!("edge kv put failed: key={key} error={e}");
            }
        }
    }

    /// Spin variables are the lower-case `EdgeConfig` names (`starling_rate_requests`), plus
    /// `core_url`; an undefined or empty variable keeps the default.
    pub fn var(name: &str) -> Option<String> {
        spin_sdk::variables::get(&name.to_ascii_lowercase()).ok().filter(|v| !v.is_empty())
    }

    pub const CORE_URL: &str = "CORE_URL";
}

#[cfg(not(feature = "spin"))]
mod host {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::{Clock as _, Kv, WasiClock, async_trait};

    /// Entries past which a write first sweeps out expired ones (per-address limiter state grows
    /// with the number of clients).
    const SWEEP_ABOVE: usize = 10_000;

    thread_local! {
        /// key → (expires at, ms since the epoch; value). Lives as long as the instance.
        static STORE: RefCell<HashMap<String, (u64, Vec<u8>)>> = RefCell::new(HashMap::new());
    }

    /// Edge state in the instance's memory: shared by every request a long-lived instance serves
    /// (as `jco serve` and `wasmtime serve` do), lost when the instance goes.
    pub struct HostKv;

    impl HostKv {
        pub fn open() -> Option<HostKv> {
            Some(HostKv)
        }
    }

    #[async_trait(?Send)]
    impl Kv for HostKv {
        async fn get(&self, key: &str) -> Option<Vec<u8>> {
            let now = WasiClock.now_ms();
            STORE.with_borrow(|m| m.get(key).filter(|(expires, _)| *expires > now).map(|(_, v)| v.clone()))
        }

        async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64) {
            let now = WasiClock.now_ms();
            let expires_ms = now.saturating_add(ttl_secs.saturating_mul(1000));
            STORE.with_borrow_mut(|m| {
                if m.len() >= SWEEP_ABOVE {
                    m.retain(|_, (expires, _)| *expires > now);
                }
                m.insert(key.to_owned(), (expires_ms, value));
            });
        }
    }

    /// Configuration from the WASI environment under the `EdgeConfig` names, plus
    /// `STARLING_CORE_URL`; an unset or empty variable keeps the default.
    pub fn var(name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    pub const CORE_URL: &str = "STARLING_CORE_URL";
}

/// Core over outbound HTTP (`wasi:http/outgoing-handler`), parsed from the core URL.
#[derive(Clone)]
struct Core {
    scheme: Scheme,
    authority: String,
    base_path: String,
}

impl Core {
    fn parse(url: &str) -> Option<Core> {
        let (scheme, rest) = url.split_once("://")?;
        let scheme = match scheme {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return None,
        };
        let (authority, base_path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p.trim_end_matches('/')));
        let base_path = if base_path.is_empty() { String::new() } else { format!("/{base_path}") };
        Some(Core { scheme, authority: authority.to_owned(), base_path })
    }

    /// Sends `method path_and_query` with `headers` and `body`, streaming the body while the
    /// response head is awaited.
    async fn exchange<E>(
        &self,
        method: &str,
        path_and_query: &str,
        headers: Fields,
        body: impl Stream<Item = Result<Vec<u8>, E>>,
    ) -> Result<IncomingResponse, UpstreamError> {
        let method = match method {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        };
        let request = OutgoingRequest::new(headers);
        let path = format!("{}{path_and_query}", self.base_path);
        if [
            request.set_method(&method),
            request.set_scheme(Some(&self.scheme)),
            request.set_authority(Some(&self.authority)),
            request.set_path_with_query(Some(&path)),
        ]
        .iter()
        .any(Result::is_err)
        {
            return Err(UpstreamError(format!("core refuses {method} {path}")));
        }
        let sink = request.take_body();
        let (response, _) = futures::join!(spin_sdk::http::send::<_, IncomingResponse>(request), pipe(body, sink));
        response.map_err(|e| UpstreamError(e.to_string()))
    }
}

#[async_trait(?Send)]
impl Upstream for Core {
    async fn send(&self, request: EdgeRequest) -> Result<EdgeResponse, UpstreamError> {
        let headers = fields(request.headers.into_iter().map(|(k, v)| (k, v.into_bytes())));
        let body = stream::iter([Ok::<_, Infallible>(request.body)]);
        let response = self.exchange(&request.method, &request.uri, headers, body).await?;
        let (status, headers) = (response.status(), response.headers().entries());
        let body = response.into_body().await.map_err(|e| UpstreamError(e.to_string()))?;
        Ok(EdgeResponse { status, headers: headers.into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())).collect(), body })
    }
}

/// The WASI wall clock (`wasi:clocks/wall-clock`, through std).
#[derive(Clone, Copy)]
struct WasiClock;

impl Clock for WasiClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

#[expect(unsafe_code, reason = "#[http_component] converts wasi-http resource handles with `unsafe`")]
mod component {
    #[spin_sdk::http_component]
    async fn handle_http(request: spin_sdk::http::IncomingRequest, out: spin_sdk::http::ResponseOutparam) {
        super::handle(request, out).await;
    }
}

async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let (Some(core), Ok(config)) = (host::var(host::CORE_URL).as_deref().and_then(Core::parse), EdgeConfig::from_vars(host::var)) else {
        eprintln!("edge misconfigured: core url unset or not http(s), or a starling_* variable malformed");
        return respond(out, EdgeResponse::error(500, "Internal server error")).await;
    };
    let Some(store) = host::HostKv::open() else {
        eprintln!("edge misconfigured: no `default` key-value store (key_value_stores in spin.toml)");
        return respond(out, EdgeResponse::error(500, "Internal server error")).await;
    };
    let path_and_query = incoming.path_with_query().unwrap_or_else(|| "/".to_owned());
    let method = incoming.method().to_string();
    let headers = incoming.headers().entries();
    // Spin reports the caller as `spin-client-addr: ip:port` (replacing any a client sent).
    let client_ip = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("spin-client-addr")).and_then(|(_, v)| {
        let addr = std::str::from_utf8(v).ok()?;
        Some(addr.rsplit_once(':').map_or(addr, |(ip, _)| ip).trim_matches(['[', ']']).to_owned())
    });
    // Only the edge's own JSON routes are read; every other body stays a stream for core.
    let buffered = if method == "POST" && path_and_query.split('?').next() == Some("/api/starling/v1/media/uploads") {
        match incoming.into_body().await {
            Ok(body) if body.len() <= EDGE_BODY_LIMIT => Either::Left(body),
            _ => return respond(out, EdgeResponse::error(413, "Request body is too large")).await,
        }
    } else {
        Either::Right(incoming)
    };
    let request = EdgeRequest {
        method: method.clone(),
        uri: path_and_query.clone(),
        headers: headers.iter().filter_map(|(k, v)| Some((k.clone(), String::from_utf8(v.clone()).ok()?))).collect(),
        body: if let Either::Left(body) = &buffered { body.clone() } else { Vec::new() },
        client_ip,
    };
    let edge = Edge::new(config, store, core.clone(), WasiClock);
    match edge.handle(request).await {
        Outcome::Respond(response) => respond(out, response).await,
        // WASI-HTTP 0.2 has no connection upgrade: neither the incoming request's connection nor
        // an outgoing one can become a WebSocket, so the edge says so (501 naming the streaming
        // URL) instead of forwarding a request core would refuse as not an upgrade.
        Outcome::Forward { request, .. } if edge_app::is_websocket_upgrade(&request) => respond(out, edge_app::websocket_unsupported(edge.config())).await,
        Outcome::Forward { request, response_headers } => {
            // The client address (and the secret core trusts it by): replace, never append to,
            // whatever the client sent.
            let added = edge.forward_headers(&request);
            let kept: Vec<_> = headers.into_iter().filter(|(k, _)| !added.iter().any(|(a, _)| k.eq_ignore_ascii_case(a))).collect();
            let headers = fields(kept.into_iter().chain(added.into_iter().map(|(k, v)| (k, v.into_bytes()))));
            let body = match buffered {
                Either::Left(body) => Either::Left(stream::iter([Ok(body)])),
                Either::Right(incoming) => Either::Right(incoming.into_body_stream()),
            };
            let response = match core.exchange(&method, &path_and_query, headers, body).await {
                Ok(response) => response,
                Err(e) => {
                    eprintln!("core unreachable: error={}", e.0);
                    return respond(out, EdgeResponse::error(502, "Bad gateway")).await;
                }
            };
            let added = |name: &str| response_headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name));
            let kept = response.headers().entries().into_iter().filter(|(k, _)| !added(k));
            let outgoing = OutgoingResponse::new(fields(kept.chain(response_headers.iter().map(|(k, v)| (k.clone(), v.clone().into_bytes())))));
            let _ = outgoing.set_status_code(response.status());
            let sink = outgoing.take_body();
            out.set(outgoing);
            if !pipe(response.take_body_stream(), sink).await {
                eprintln!("core response body cut short: uri={path_and_query}");
            }
        }
    }
}

async fn respond(out: ResponseOutparam, response: EdgeResponse) {
    let outgoing = OutgoingResponse::new(fields(response.headers.into_iter().map(|(k, v)| (k, v.into_bytes()))));
    let _ = outgoing.set_status_code(response.status);
    if let Err(e) = out.set_with_body(outgoing, response.body).await {
        eprintln!("response body not sent: error={e}");
    }
}

/// Headers as wasi-http fields, without hop-by-hop ones; a header the host refuses is dropped.
fn fields(headers: impl IntoIterator<Item = (String, Vec<u8>)>) -> Fields {
    let fields = Fields::new();
    for (name, value) in headers {
        if !HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            let _ = fields.append(&name, &value);
        }
    }
    fields
}

/// Copies `from` into `to` chunk by chunk (dropping `to` then finishes the body); false when a
/// chunk was lost.
async fn pipe<E>(from: impl Stream<Item = Result<Vec<u8>, E>>, to: impl Sink<Vec<u8>>) -> bool {
    let (mut from, mut to) = (pin!(from), pin!(to));
    while let Some(chunk) = from.next().await {
        let Ok(chunk) = chunk else { return false };
        if to.send(chunk).await.is_err() {
            return false;
        }
    }
    true
}

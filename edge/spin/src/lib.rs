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
        body: buffered.as_ref().left().cloned().unwrap_or_default(),
        client_ip,
    };
    let edge = Edge::new(config, store, core.clone(), WasiClock);
    match edge.handle(request).await {
        Outcome::Respond(response) => respond(out, response).await,
        Outcome::Forward { request, response_headers } => {
            // Core may trust this (`trust_forwarded_for`) for its backstop limiter: replace, never
            // append to, whatever the client sent.
            let headers = headers.into_iter().filter(|(k, _)| !k.eq_ignore_ascii_case("x-forwarded-for"));
            let headers = fields(headers.chain(request.client_ip.map(|ip| ("x-forwarded-for".to_owned(), ip.into_bytes()))));
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

//! The edge on Cloudflare Workers: a KV namespace (`EDGE_KV`), `fetch` to core
//! (`STARLING_CORE_URL`) and `Date::now()` implement the edge's ports; vars and secrets configure
//! it. Owns only the translation between the Workers API and `edge_app`; must never make an edge
//! decision of its own, nor buffer a request or response body it merely forwards.

use std::cell::RefCell;
use std::collections::HashMap;

use async_trait::async_trait;
use edge_app::ports::{Clock, Kv, Upstream, UpstreamError};
use edge_app::{Edge, EdgeConfig, EdgeRequest, EdgeResponse, Outcome};
use worker::js_sys::Uint8Array;
use worker::kv::KvStore;
use worker::{Context, Date, Env, Fetch, Method, Request, RequestInit, RequestRedirect, Response, Result, event};

/// Workers KV refuses expirations shorter than this.
const KV_MIN_TTL_SECS: u64 = 60;
/// Largest body the edge reads itself (its own JSON routes); others stream through untouched.
const EDGE_BODY_LIMIT: usize = 64 * 1024;

/// Bytes of values the isolate keeps in memory before it sweeps expired ones (and, if still
/// over, forgets all): a bound on what a long-lived isolate holds for cached pages and limits.
const MEMO_MAX_BYTES: usize = 8 * 1024 * 1024;

/// This isolate's view of recent KV writes: key → (expires at, ms; value), and their total size.
type Memo = (HashMap<String, (u64, Vec<u8>)>, usize);

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new((HashMap::new(), 0));
}

/// Edge state in a Workers KV namespace. Each value carries its own expiry (8 bytes, big-endian
/// ms) so that TTLs below KV's 60 s minimum (revocation lists, rate-limit state) still lapse on
/// time; KV's own expiry, clamped to its minimum, only collects the garbage.
///
/// Writes land in the isolate's memory at once and reach KV after the response (`waitUntil`):
/// a KV write costs milliseconds and KV is eventually consistent anyway, so the response never
/// waits for one, and requests served by the same isolate read their own writes.
struct WorkersKv<'a> {
    store: KvStore,
    ctx: &'a Context,
}

#[async_trait(?Send)]
impl Kv for WorkersKv<'_> {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = WorkersClock.now_ms();
        if let Some(value) = MEMO.with_borrow(|(m, _)| m.get(key).filter(|(expires, _)| *expires > now).map(|(_, v)| v.clone())) {
            return Some(value);
        }
        let stored = self.store.get(key).bytes().await.ok()??;
        let (expires_ms, value) = stored.split_first_chunk::<8>()?;
        (u64::from_be_bytes(*expires_ms) > now).then(|| value.to_vec())
    }

    async fn put(&self, key: &str, value: Vec<u8>, ttl_secs: u64) {
        let now = WorkersClock.now_ms();
        let expires_ms = now.saturating_add(ttl_secs.saturating_mul(1000));
        let stored = [&expires_ms.to_be_bytes()[..], &value].concat();
        MEMO.with_borrow_mut(|(m, bytes)| {
            *bytes += value.len();
            if let Some((_, old)) = m.insert(key.to_owned(), (expires_ms, value)) {
                *bytes -= old.len();
            }
            if *bytes > MEMO_MAX_BYTES {
                m.retain(|_, (expires, _)| *expires > now);
                *bytes = m.values().map(|(_, v)| v.len()).sum();
                if *bytes > MEMO_MAX_BYTES {
                    m.clear();
                    *bytes = 0;
                }
            }
        });
        let (store, key, ttl) = (self.store.clone(), key.to_owned(), ttl_secs.max(KV_MIN_TTL_SECS));
        self.ctx.wait_until(async move {
            // A lost write only costs a later refetch or a looser limit: log it, carry on.
            if let Err(e) = async { store.put_bytes(&key, &stored)?.expiration_ttl(ttl).execute().await }.await {
                worker::console_warn!("edge kv put failed: key={key} error={e}");
            }
        });
    }
}

/// Core over `fetch`, for the edge's own buffered calls (keys, revocations, home timeline).
struct CoreFetch(String);

#[async_trait(?Send)]
impl Upstream for CoreFetch {
    async fn send(&self, request: EdgeRequest) -> std::result::Result<EdgeResponse, UpstreamError> {
        let failed = |e: worker::Error| UpstreamError(e.to_string());
        let mut init = RequestInit::new();
        init.with_method(Method::from(request.method)).with_headers(request.headers.iter().collect()).with_redirect(RequestRedirect::Manual);
        if !request.body.is_empty() {
            init.with_body(Some(Uint8Array::from(request.body.as_slice()).into()));
        }
        let core_request = Request::new_with_init(&format!("{}{}", self.0, request.uri), &init).map_err(failed)?;
        let mut response = Fetch::Request(core_request).send().await.map_err(failed)?;
        let body = response.bytes().await.map_err(failed)?;
        Ok(EdgeResponse { status: response.status_code(), headers: response.headers().entries().collect(), body })
    }
}

/// The Workers clock (frozen during synchronous execution, as Workers' `Date.now()` is).
#[derive(Clone, Copy)]
struct WorkersClock;

impl Clock for WorkersClock {
    fn now_ms(&self) -> u64 {
        Date::now().as_millis()
    }
}

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> Result<Response> {
    let var = |name: &str| env.var(name).or_else(|_| env.secret(name)).ok().map(|v| v.to_string());
    let (Some(core_url), Ok(config)) = (var("STARLING_CORE_URL"), EdgeConfig::from_vars(var)) else {
        worker::console_error!("edge misconfigured: STARLING_CORE_URL unset or a STARLING_* variable malformed");
        return respond(EdgeResponse::error(500, "Internal server error"));
    };
    let core_url = core_url.trim_end_matches('/').to_owned();
    let edge = Edge::new(config, WorkersKv { store: env.kv("EDGE_KV")?, ctx: &ctx }, CoreFetch(core_url.clone()), WorkersClock);

    let url = req.url()?;
    let path_and_query = url.query().map_or_else(|| url.path().to_owned(), |q| format!("{}?{q}", url.path()));
    let method = req.method();
    // Only the edge's own JSON routes are read; every other body stays a stream for core.
    let buffered = if method == Method::Post && url.path() == "/api/starling/v1/media/uploads" {
        let body = req.bytes().await?;
        if body.len() > EDGE_BODY_LIMIT {
            return respond(EdgeResponse::error(413, "Request body is too large"));
        }
        Some(body)
    } else {
        None
    };
    let request = EdgeRequest {
        method: method.to_string(),
        uri: path_and_query.clone(),
        headers: req.headers().entries().collect(),
        body: buffered.clone().unwrap_or_default(),
        client_ip: req.headers().get("cf-connecting-ip")?,
    };
    match edge.handle(request).await {
        Outcome::Respond(response) => respond(response),
        Outcome::Forward { request, response_headers } => {
            let headers = req.headers().clone();
            // The client address (and the secret core trusts it by): replace, never append to,
            // whatever the client sent.
            for (name, value) in edge.forward_headers(&request) {
                headers.set(&name, &value)?;
            }
            let body = match buffered {
                Some(bytes) => Some(Uint8Array::from(bytes.as_slice()).into()),
                None => req.inner().body().map(Into::into),
            };
            let mut init = RequestInit::new();
            init.with_method(method).with_headers(headers).with_body(body).with_redirect(RequestRedirect::Manual);
            let core_request = Request::new_with_init(&format!("{core_url}{path_and_query}"), &init)?;
            let response = match Fetch::Request(core_request).send().await {
                Ok(response) => response,
                Err(e) => {
                    worker::console_error!("core unreachable: error={e}");
                    return respond(EdgeResponse::error(502, "Bad gateway"));
                }
            };
            // A WebSocket upgrade (`Upgrade: websocket` travels with the headers): workerd's fetch
            // answers 101 with core's end of the socket, and returning that response hands it to
            // the client, workerd relaying frames both ways (no JS in between); its headers are
            // core's handshake (subprotocol included).
            if response.status_code() == 101 {
                let handshake = response.headers().clone();
                return match response.websocket() {
                    Some(socket) => Ok(Response::from_websocket(socket)?.with_headers(handshake)),
                    None => respond(EdgeResponse::error(502, "Bad gateway")),
                };
            }
            // Core's headers are immutable: copy them, add the edge's, keep the body streaming.
            let headers = response.headers().clone();
            for (name, value) in &response_headers {
                headers.set(name, value)?;
            }
            Ok(response.with_headers(headers))
        }
    }
}

fn respond(response: EdgeResponse) -> Result<Response> {
    Ok(Response::from_bytes(response.body)?.with_status(response.status).with_headers(response.headers.iter().collect()))
}

//! The HTTP/1.1 accept loop behind [`crate::Application::serve`] (hyper's connection builder,
//! hyper-util's tokio glue): what `axum::serve` lacks for a server facing the internet.
//!
//! - a header-read timeout: a connection that has not sent a complete request head within
//!   `header_read_timeout_secs` (first request, or the next one on a keep-alive connection) is
//!   closed (hyper's `header_read_timeout`);
//! - an idle timeout: a connection that moved no byte either way for `idle_timeout_secs` is
//!   closed, request in flight or not: a stalled request body or a response the client stopped
//!   reading (streams send heartbeats every 15 s, so they stay). A connection waiting for its
//!   next request head is bounded by the header-read timeout already (hyper starts that timer
//!   when it begins waiting);
//! - a connection cap: past `max_connections`, the connection that has been quiet longest with no
//!   request in flight (silent ones first) is closed to admit the new one, so silent connections
//!   cannot starve real clients; when every connection is busy the new one is closed at once.
//!   Either way one warning is logged (at most every 10 s) naming the cap;
//! - the soft open-files limit raised to the hard one at startup ([`raise_open_files_limit`]);
//! - the client address: `ConnectInfo<SocketAddr>` for handlers, the TCP peer, or the address in
//!   `x-forwarded-for` when the request carries the edge's secret (`edge_secret`).
//!
//! WebSocket upgrades are served (`with_upgrades`); graceful shutdown stops accepting, lets
//! requests in flight finish (open streams end through the app's shutdown signal) for at most
//! [`DRAIN_LIMIT`], then closes what is left.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::config::{ConnectionConfig, Secret};

/// How long graceful shutdown waits for connections to finish before closing them.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(30);
/// Open-files descriptors kept for everything but connections when the cap is derived (store
/// files, search index segments, outbound connections).
const RESERVED_FILES: u64 = 64;
/// The header the edge proves itself with.
pub const EDGE_SECRET_HEADER: &str = "x-starling-edge-secret";
/// At most one "cap reached" warning per this interval.
const CAP_WARNING_EVERY: Duration = Duration::from_secs(10);

/// The listener's limits, resolved (the cap derived from the open-files limit when 0).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Time to send a complete request head.
    pub header_read_timeout: Duration,
    /// Time without traffic either way.
    pub idle_timeout: Duration,
    /// The edge's secret, if one is configured.
    pub edge_secret: Option<Secret>,
}

impl Limits {
    /// Resolves `config` against the process's open-files limit.
    pub fn resolve(config: &ConnectionConfig, open_files: Option<u64>) -> Limits {
        let derived = open_files.map_or(4096, |n| usize::try_from(n.saturating_sub(RESERVED_FILES) / 4 * 3).unwrap_or(usize::MAX)).max(16);
        Limits {
            max_connections: if config.max_connections == 0 { derived } else { config.max_connections },
            header_read_timeout: Duration::from_secs(config.header_read_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(config.idle_timeout_secs.max(1)),
            edge_secret: config.edge_secret.clone().filter(|s| !s.expose().is_empty()),
        }
    }
}

/// Raises the soft open-files limit (RLIMIT_NOFILE) to the hard one and logs both; returns the
/// soft limit in force afterwards (`None` where it cannot be read).
pub fn raise_open_files_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let before = getrlimit(Resource::Nofile);
        let (soft, hard) = (before.current, before.maximum);
        if soft.is_some() && soft != hard {
            let raised = rustix::process::Rlimit { current: hard, maximum: hard };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::warn!(soft = ?soft, hard = ?hard, error = %e, "cannot raise the open-files limit");
            }
        }
        let after = getrlimit(Resource::Nofile).current;
        tracing::info!(soft_before = ?soft, soft = ?after, hard = ?hard, "open-files limit (RLIMIT_NOFILE; None = unlimited)");
        after.or(Some(u64::MAX))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// One open connection as the cap sees it.
struct Tracked {
    /// When the connection last read or wrote (ms since the listener started).
    last_active: Arc<AtomicU64>,
    /// Requests whose handler has not answered yet.
    in_flight: Arc<AtomicUsize>,
    /// Whether a complete request head has ever arrived.
    spoke: Arc<AtomicBool>,
    /// Whether it became a WebSocket (never evicted: it is in use).
    upgraded: Arc<AtomicBool>,
    /// Closes the connection when notified.
    close: Arc<Notify>,
}

/// The open connections, by number.
struct Registry {
    started: Instant,
    connections: Mutex<HashMap<u64, Tracked>>,
    last_warning: Mutex<Option<Instant>>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn open(&self) -> usize {
        self.connections.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Closes the quietest evictable connection (silent ones first) and stops counting it;
    /// false when none is.
    fn evict_one(&self) -> bool {
        let mut connections = self.connections.lock().unwrap_or_else(PoisonError::into_inner);
        let victim = connections
            .iter()
            .filter(|(_, c)| c.in_flight.load(Ordering::Acquire) == 0 && !c.upgraded.load(Ordering::Acquire))
            .min_by_key(|(_, c)| (c.spoke.load(Ordering::Acquire), c.last_active.load(Ordering::Acquire)))
            .map(|(id, _)| *id);
        match victim.and_then(|id| connections.remove(&id)) {
            Some(c) => {
                c.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn warn_cap(&self, cap: usize, peer: SocketAddr, evicted: bool) {
        let mut last = self.last_warning.lock().unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < CAP_WARNING_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        if evicted {
            tracing::warn!(cap, %peer, "connection cap reached (server.max_connections): closing the longest-idle connection to admit a new one");
        } else {
            tracing::warn!(cap, %peer, "connection cap reached (server.max_connections) and every connection is busy: closing the new connection");
        }
    }
}

/// Removes a connection from the registry when its IO is dropped (after an upgrade, when the
/// WebSocket ends).
struct Registration {
    registry: Arc<Registry>,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.connections.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.id);
    }
}

/// A TCP stream that notes when it last moved bytes.
struct ActivityIo {
    inner: tokio::net::TcpStream,
    last_active: Arc<AtomicU64>,
    registry: Arc<Registry>,
    _registration: Registration,
}

impl ActivityIo {
    fn touch(&self) {
        self.last_active.store(self.registry.now_ms(), Ordering::Release);
    }
}

impl AsyncRead for ActivityIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl AsyncWrite for ActivityIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// The client address of a request: the peer's, or the forwarded one when the request proves
/// it comes from the edge. The secret header is removed either way.
fn client_address(request: &mut axum::http::Request<axum::body::Body>, peer: SocketAddr, secret: Option<&str>) -> SocketAddr {
    let presented = request.headers_mut().remove(EDGE_SECRET_HEADER);
    let (Some(secret), Some(presented)) = (secret, presented) else { return peer };
    if !shared::token::secure_eq(secret.as_bytes(), presented.as_bytes()) {
        return peer;
    }
    let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).and_then(|v| v.split(',').next()).map(str::trim);
    forwarded.and_then(|v| v.parse::<IpAddr>().ok()).map_or(peer, |ip| SocketAddr::new(ip, 0))
}

/// Serves `router` on `listener` with `limits` until `shutdown` resolves, then drains.
pub async fn serve(listener: TcpListener, router: axum::Router, limits: Limits, shutdown: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
    tracing::info!(
        max_connections = limits.max_connections,
        header_read_timeout_secs = limits.header_read_timeout.as_secs(),
        idle_timeout_secs = limits.idle_timeout.as_secs(),
        edge_secret = limits.edge_secret.is_some(),
        "connection limits"
    );
    let registry = Arc::new(Registry { started: Instant::now(), connections: Mutex::new(HashMap::new()), last_warning: Mutex::new(None) });
    // Each connection task holds a sender: when all are dropped, every connection has ended.
    let (alive, mut all_ended) = tokio::sync::mpsc::channel::<()>(1);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let limits = Arc::new(limits);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut next_id = 0_u64;
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors (EMFILE/ENFILE) or a connection reset before accept:
                    // back off briefly rather than spin, as axum::serve does.
                    tracing::warn!(error = %e, open = registry.open(), "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if registry.open() >= limits.max_connections {
            let evicted = registry.evict_one();
            registry.warn_cap(limits.max_connections, peer, evicted);
            if !evicted {
                drop(stream);
                continue;
            }
        }
        let _ = stream.set_nodelay(true);
        next_id += 1;
        let tracked = Tracked {
            last_active: Arc::new(AtomicU64::new(registry.now_ms())),
            in_flight: Arc::new(AtomicUsize::new(0)),
            spoke: Arc::new(AtomicBool::new(false)),
            upgraded: Arc::new(AtomicBool::new(false)),
            close: Arc::new(Notify::new()),
        };
        let (last_active, in_flight, spoke, upgraded, close) =
            (tracked.last_active.clone(), tracked.in_flight.clone(), tracked.spoke.clone(), tracked.upgraded.clone(), tracked.close.clone());
        registry.connections.lock().unwrap_or_else(PoisonError::into_inner).insert(next_id, tracked);
        let io = ActivityIo {
            inner: stream,
            last_active: last_active.clone(),
            registry: registry.clone(),
            _registration: Registration { registry: registry.clone(), id: next_id },
        };
        let service = {
            let (router, limits, in_flight) = (router.clone(), limits.clone(), in_flight.clone());
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let (router, limits, in_flight, spoke, upgraded) = (router.clone(), limits.clone(), in_flight.clone(), spoke.clone(), upgraded.clone());
                async move {
                    spoke.store(true, Ordering::Release);
                    in_flight.fetch_add(1, Ordering::AcqRel);
                    let mut request = request.map(axum::body::Body::new);
                    let client = client_address(&mut request, peer, limits.edge_secret.as_deref());
                    request.extensions_mut().insert(ConnectInfo(client));
                    let response = tower::ServiceExt::oneshot(router, request).await;
                    in_flight.fetch_sub(1, Ordering::AcqRel);
                    if let Ok(response) = &response
                        && response.status() == axum::http::StatusCode::SWITCHING_PROTOCOLS
                    {
                        upgraded.store(true, Ordering::Release);
                    }
                    response
                }
            })
        };
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
        let connection = builder.serve_connection(TokioIo::new(io), service).with_upgrades();
        let (registry, idle_timeout, alive, mut stopping) = (registry.clone(), limits.idle_timeout, alive.clone(), stopping.clone());
        tokio::spawn(async move {
            let _alive = alive;
            let mut connection = std::pin::pin!(connection);
            let mut draining = false;
            let idle_ms = u64::try_from(idle_timeout.as_millis()).unwrap_or(u64::MAX);
            loop {
                let quiet_for = registry.now_ms().saturating_sub(last_active.load(Ordering::Acquire));
                let wait = Duration::from_millis(idle_ms.saturating_sub(quiet_for).max(100));
                tokio::select! {
                    result = &mut connection => {
                        if let Err(e) = result {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                        return;
                    }
                    _ = stopping.wait_for(|stop| *stop), if !draining => {
                        // Finish the request in flight, then close (keep-alive off).
                        draining = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    () = close.notified() => {
                        tracing::debug!(%peer, "connection closed to admit another (cap reached)");
                        return;
                    }
                    () = tokio::time::sleep(wait) => {
                        let quiet_for = registry.now_ms().saturating_sub(last_active.load(Ordering::Acquire));
                        if quiet_for >= idle_ms {
                            tracing::debug!(%peer, "idle connection closed");
                            return;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    tokio::select! {
        _ = all_ended.recv() => {}
        () = tokio::time::sleep(DRAIN_LIMIT) => {
            tracing::warn!(open = registry.open(), "connections still open {}s after shutdown began: closing them", DRAIN_LIMIT.as_secs());
        }
    }
    Ok(())
}

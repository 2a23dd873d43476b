//! Starling core: the use cases and the Mastodon client API, over ports.
//!
//! Owns: accounts, OAuth, statuses, the social graph, timelines and fanout, notifications,
//! realtime streaming, and the HTTP
//! surface that exposes them. Must never: name a backend technology (adapters implement
//! [`ports`]), read configuration files or the environment (the server binary does), or send
//! internal error text to clients.

pub mod config;
pub mod error;
pub mod keys;
pub mod model;

/// The ports and domain events live in `core-ports` (adapters depend on it, not on this crate).
pub use core_ports::{events, ports};

mod accounts;
mod auth;
pub mod consumer;
mod fanout;
mod http;
mod instance;
pub mod media;
pub mod nodes;
mod notifications;
mod oauth;
mod ops;
mod push;
mod ratelimit;
mod render;
mod search;
mod statuses;
mod streaming;
mod timelines;

#[cfg(feature = "contract")]
pub mod contract;

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use shared::id::{Id, MAX_NODE};
use shared::token::{KeySet, TokenSigner, TokenVerifier};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::ports::{EventLog, MediaStore, PushPublisher, RateLimitStore, SearchIndex, Store, StreamHub, TimelineCache};
pub use crate::search::RebuildProgress;

/// The adapters one core process runs on.
#[derive(Clone)]
pub struct Backends {
    /// The store of record.
    pub store: Arc<dyn Store>,
    /// The event log the store's outbox feeds.
    pub events: Arc<dyn EventLog>,
    /// The home-timeline cache.
    pub timelines: Arc<dyn TimelineCache>,
    /// Rate-limit state.
    pub rate_limits: Arc<dyn RateLimitStore>,
    /// The full-text search index.
    pub search: Arc<dyn SearchIndex>,
    /// Live pub/sub for the streaming API.
    pub streams: Arc<dyn StreamHub>,
    /// Media files.
    pub media: Arc<dyn MediaStore>,
    /// Web Push hand-over (SNS); `None` keeps subscriptions but sends nothing.
    pub push: Option<Arc<dyn PushPublisher>>,
}

/// Shared state of every handler and consumer.
#[derive(Clone)]
pub struct App(Arc<Inner>);

#[doc(hidden)]
pub struct Inner {
    config: Config,
    store: Arc<dyn Store>,
    events: Arc<dyn EventLog>,
    timelines: Arc<dyn TimelineCache>,
    rate_limits: Arc<dyn RateLimitStore>,
    search: Arc<dyn SearchIndex>,
    search_lock: tokio::sync::Mutex<()>,
    streams: Arc<dyn StreamHub>,
    media: Arc<dyn MediaStore>,
    push: Option<Arc<dyn PushPublisher>>,
    ids: Arc<nodes::IdSource>,
    /// Stops the node-lease keeper (which then releases the number), and the keeper itself.
    node_keeper: Mutex<Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>>,
    signer: TokenSigner,
    keys: KeySet,
    verifier: TokenVerifier,
    celebrities: RwLock<Option<(Instant, Arc<HashSet<Id>>)>>,
    fanout_lock: tokio::sync::Mutex<()>,
    notifications_lock: tokio::sync::Mutex<()>,
    /// Fanout, search and notifications are fed from outside (Kinesis), not by log tails.
    external_consumers: std::sync::atomic::AtomicBool,
    /// Turns true when the server shuts down, ending open streams.
    shutdown: watch::Sender<bool>,
    /// Request, fanout and backend metrics (`/metrics`).
    metrics: ops::Metrics,
}

impl std::ops::Deref for App {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl App {
    /// A fresh time-sortable id; 503 while this process holds no valid node lease.
    fn next_id(&self) -> ApiResult<Id> {
        self.ids.next(now_ms()).map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// The node number ids are minted with now (`None` while no lease is held).
    pub fn node_id(&self) -> Option<u8> {
        self.ids.node()
    }

    /// Stops renewing the node lease and gives the number back (after the last id is minted:
    /// serving ends with this). Ids are refused afterwards. Does nothing for a fixed number.
    pub async fn release_node_lease(&self) {
        let keeper = self.node_keeper.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some((stop, keeper)) = keeper {
            let _ = stop.send(true);
            if tokio::time::timeout(Duration::from_secs(10), keeper).await.is_err() {
                tracing::warn!("node lease release did not finish within 10s");
            }
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// Milliseconds since the Unix epoch (0 before it); the one wall-clock reading core's crates share.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Seconds since the Unix epoch.
fn now_secs() -> u64 {
    now_ms() / 1000
}

/// A built core, ready to serve.
pub struct Application {
    app: App,
}

impl Application {
    /// Loads (or creates, on first start) the signing keys and wires the app together.
    pub async fn build(config: Config, backends: Backends) -> ApiResult<Self> {
        let (signer, keys) = auth::signing_keys(&config.auth, backends.store.as_ref()).await?;
        let verifier = TokenVerifier::new(&keys);
        let (ids, node_keeper) = match config.node_id {
            Some(node) if node > MAX_NODE => return Err(ApiError::Unavailable(format!("node_id {node} is out of range (0-{MAX_NODE})"))),
            Some(node) => (Arc::new(nodes::IdSource::fixed(node)), None),
            None => {
                let leases = nodes::NodeLeases::new(backends.store.clone(), &config.node_lease);
                let grant = leases.acquire(now_ms()).await.map_err(|e| ApiError::Unavailable(format!("cannot lease a node number for ids: {e}")))?;
                tracing::info!(node = grant.node, owner = leases.owner(), "leased node number");
                let ids = Arc::new(nodes::IdSource::leased(&grant));
                let (stop, stopped) = watch::channel(false);
                let every = Duration::from_secs(config.node_lease.renew_secs.max(1));
                let keeper = tokio::spawn(nodes::keep(leases, grant, ids.clone(), every, stopped));
                (ids, Some((stop, keeper)))
            }
        };
        let app = App(Arc::new(Inner {
            config,
            store: backends.store,
            events: backends.events,
            timelines: backends.timelines,
            rate_limits: backends.rate_limits,
            search: backends.search,
            search_lock: tokio::sync::Mutex::new(()),
            streams: backends.streams,
            media: backends.media,
            push: backends.push,
            ids,
            node_keeper: Mutex::new(node_keeper),
            signer,
            keys,
            verifier,
            celebrities: RwLock::new(None),
            fanout_lock: tokio::sync::Mutex::new(()),
            notifications_lock: tokio::sync::Mutex::new(()),
            external_consumers: std::sync::atomic::AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            metrics: ops::Metrics::default(),
        }));
        Ok(Application { app })
    }

    /// Fanout, search and notifications will be fed from outside the process (the Kinesis
    /// consumer, through [`consumer::sinks`]): [`Application::serve`] does not start their
    /// event-log tails. Streaming still tails the log on every instance (one publishes each event),
    /// and so does the outbox relay, which the server starts. [`App::drain_events`] still
    /// handles the log in-process when called.
    #[must_use]
    pub fn external_consumers(self) -> Self {
        self.app.external_consumers.store(true, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// The state, for tests and tools that call use cases directly.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// The HTTP router (no listener): for embedding behind the edge or calling in tests.
    pub fn router(&self) -> axum::Router {
        http::router(self.app.clone())
    }

    /// Serves `listener` and runs the event consumers until `shutdown` resolves.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = self.router();
        self.serve(listener, router, shutdown).await
    }

    /// Like [`Application::run`], serving `router` (core's, possibly behind the edge).
    pub async fn serve(self, listener: TcpListener, router: axum::Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut consumers = vec![("streaming", tokio::spawn(streaming::run(self.app.clone(), stop_rx.clone())))];
        if !self.app.runs_external_consumers() {
            consumers.push(("fanout", tokio::spawn(consumer::run::<fanout::Fanout>(self.app.clone(), stop_rx.clone()))));
            consumers.push(("search", tokio::spawn(consumer::run::<search::Indexer>(self.app.clone(), stop_rx.clone()))));
            consumers.push(("notifications", tokio::spawn(consumer::run::<notifications::Notifications>(self.app.clone(), stop_rx))));
        }
        let app = self.app.clone();
        // Open streams never end by themselves: end them when shutdown begins, so the
        // graceful shutdown does not wait on them.
        let shutdown = async move {
            shutdown.await;
            app.shutdown.send_replace(true);
        };
        let served = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).with_graceful_shutdown(shutdown).await;
        let _ = stop_tx.send(true);
        for (name, consumer) in consumers {
            if tokio::time::timeout(Duration::from_secs(10), consumer).await.is_err() {
                tracing::warn!(consumer = name, "event consumer did not stop within 10s");
            }
        }
        self.app.release_node_lease().await;
        served
    }
}

impl App {
    /// Processes every event logged so far (tests and tools use this to wait for fanout,
    /// search and notifications). It reads the log in-process even when the consumers are fed
    /// externally; tests of that path wait for the effects instead.
    pub async fn drain_events(&self) -> ApiResult<()> {
        consumer::drain::<fanout::Fanout>(self).await?;
        consumer::drain::<search::Indexer>(self).await?;
        consumer::drain::<notifications::Notifications>(self).await
    }

    /// Whether fanout, search and notifications are fed from outside (see
    /// [`Application::external_consumers`]).
    pub fn runs_external_consumers(&self) -> bool {
        self.external_consumers.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The event-log checkpoint of an in-process consumer (`fanout`, `search`, …).
    pub async fn consumer_checkpoint(&self, consumer: &str) -> ApiResult<u64> {
        Ok(self.events.checkpoint(consumer).await?)
    }

    /// Moves a consumer's checkpoint back to `seq`, so it handles everything after it again
    /// (operators re-running a consumer; tests proving consumers idempotent).
    pub async fn rewind_consumer(&self, consumer: &str, seq: u64) -> ApiResult<()> {
        Ok(self.events.save_checkpoint(consumer, seq).await?)
    }

    /// Drops a cached home timeline, as a cache eviction or a wiped cache would.
    pub async fn evict_home(&self, account: Id) -> ApiResult<()> {
        Ok(self.timelines.drop_timeline(&timelines::home_key(account)).await?)
    }
}

/// Converts an internal failure of a spawned blocking task.
fn join_error(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(e)
}

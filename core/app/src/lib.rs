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
pub use core_ports::{cursor, events, ports};

mod accounts;
pub mod admin;
mod auth;
mod clock;
pub mod consumers;
mod conversations;
pub mod decode_budget;
mod due;
mod endorsements;
mod filters;
pub mod hot;
pub mod hot_sync;
mod http;
mod instance;
mod listener;
mod lists;
pub mod media;
mod metrics;
pub mod migrations;
pub mod nodes;
mod notifications;
mod oauth;
mod ops;
mod policy;
pub mod polls;
mod push;
mod ratelimit;
mod relationships;
mod render;
mod reports;
pub mod revocation;
mod routes;
mod safety;
mod scan;
mod search;
pub mod signed_urls;
mod state;
mod statuses;
mod streaming;
mod tags;
mod timelines;
mod transaction;
mod web;
mod webapp;

/// The scheduler of scheduled statuses, for tests and tools that run it as of a chosen time.
pub mod scheduler {
    pub use crate::statuses::scheduled::publisher::publish_due;
}

/// The event-log consumers under their old name (`core_app::consumer::sinks`).
pub use crate::consumers as consumer;

#[cfg(feature = "contract")]
pub mod contract;

use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use shared::id::MAX_NODE;
use shared::token::TokenVerifier;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use crate::clock::now_ms;
pub(crate) use crate::clock::now_secs;
pub use crate::config::Config;
pub use crate::consumers::indexer::RebuildProgress;
use crate::error::{ApiError, ApiResult};
use crate::ports::{EventLog, MediaStore, PushPublisher, RateLimitStore, SearchIndex, Store, StreamHub, TimelineCache};
pub(crate) use crate::state::join_error;
pub use crate::state::{App, Inner};

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

/// A built core, ready to serve.
pub struct Application {
    app: App,
}

impl Application {
    /// Loads (or creates, on first start) the signing keys and wires the app together.
    pub async fn build(mut config: Config, backends: Backends) -> ApiResult<Self> {
        config.shards = config.shards.clamped();
        let hot = hot::HotCaches::new(Duration::from_millis(config.timelines.hot_ttl_ms));
        let (signer, keys) = auth::signing_keys(&config.auth, backends.store.as_ref()).await?;
        let verifier = TokenVerifier::new(&keys);
        let media_urls = signed_urls::UrlSigner::load(backends.store.as_ref()).await?;
        let decodes = decode_budget::DecodeBudget::new(config.media.decode_pixel_budget);
        let video_jobs = tokio::sync::Semaphore::new(config.media.processing_concurrency.max(1));
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
            local_rate_limits: core_ports::reference::MemoryRateLimiter::new(),
            unfinished_homes: Mutex::new(std::collections::HashSet::new()),
            search: backends.search,
            search_lock: tokio::sync::Mutex::new(()),
            streams: backends.streams,
            media: backends.media,
            media_urls,
            decodes,
            video_jobs,
            push: backends.push,
            ids,
            node_keeper: Mutex::new(node_keeper),
            signer,
            keys,
            verifier,
            celebrities: RwLock::new(None),
            hot,
            fanout_lock: tokio::sync::Mutex::new(()),
            notifications_lock: tokio::sync::Mutex::new(()),
            conversations_lock: tokio::sync::Mutex::new(()),
            external_consumers: std::sync::atomic::AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            metrics: metrics::Metrics::default(),
        }));
        // Items written under an older key layout are moved before anything reads them.
        migrations::run_pending(&app).await?;
        Ok(Application { app })
    }

    /// Fanout, search and notifications will be fed from outside the process (the Kinesis
    /// consumer, through [`consumers::sinks`]): [`Application::serve`] does not start their
    /// event-log tails, nor the streaming tail (fanout's sink publishes to the streams). The
    /// outbox relay, which the server starts, still reads the log (its leased partitions).
    /// [`App::drain_events`] still handles the log in-process when called.
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
        routes::router(self.app.clone())
    }

    /// Serves `listener` and runs the event consumers until `shutdown` resolves.
    pub async fn run(self, listener: TcpListener, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let router = self.router();
        self.serve(listener, router, shutdown).await
    }

    /// Like [`Application::run`], serving `router` (core's, possibly behind the edge).
    pub async fn serve(self, listener: TcpListener, router: axum::Router, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        // Fed from outside, fanout's feed also drives the streams (`consumers::sinks`).
        let mut consumers = Vec::new();
        if !self.app.runs_external_consumers() {
            consumers.push(("streaming", tokio::spawn(streaming::run(self.app.clone(), stop_rx.clone()))));
            consumers.extend(crate::consumers::spawn_tails(&self.app, &stop_rx));
        }
        // Every process forgets its kept copy of an account whose moderation changed anywhere.
        consumers.push(("moderation changes", tokio::spawn(crate::hot_sync::listen(self.app.clone(), stop_rx.clone()))));
        // Polls end on every backend and however events are fed (the schedule is in the store).
        consumers.push(("polls", tokio::spawn(crate::polls::expiry::run(self.app.clone(), stop_rx.clone()))));
        // So are scheduled statuses published (their schedule too is in the store).
        consumers.push(("scheduled statuses", tokio::spawn(crate::statuses::scheduled::publisher::run(self.app.clone(), stop_rx.clone()))));
        // Videos and GIFs accepted but not processed (the job index is in the store).
        if self.app.config.media.process_jobs {
            consumers.push(("media", tokio::spawn(crate::media::jobs::run(self.app.clone(), stop_rx.clone()))));
        }
        let app = self.app.clone();
        // Open streams never end by themselves: end them when shutdown begins, so the
        // graceful shutdown does not wait on them.
        let shutdown = async move {
            shutdown.await;
            app.shutdown.send_replace(true);
        };
        // Header-read and idle timeouts, a connection cap, the raised open-files limit (listener.rs).
        let limits = listener::Limits::resolve(&self.app.config.connections, listener::raise_open_files_limit());
        let served = listener::serve(listener, router, limits, shutdown).await;
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
        crate::consumers::drain_all(self).await
    }

    /// Publishes `events` to the stream channels as the streaming log tail does (claim, then
    /// publish to whoever listens), in the caller's task: for tools that attribute this work to
    /// the request that logged the events (loadgen's capacity model).
    pub async fn stream_events(&self, events: &[crate::ports::LoggedEvent]) -> ApiResult<()> {
        for logged in events {
            streaming::publisher::claim_and_publish(self, logged.seq, &logged.event).await?;
        }
        Ok(())
    }

    /// Whether fanout, search and notifications are fed from outside (see
    /// [`Application::external_consumers`]).
    pub fn runs_external_consumers(&self) -> bool {
        self.external_consumers.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The newest seq of every partition of the event log.
    pub async fn events_head(&self) -> ApiResult<cursor::Cursor> {
        Ok(self.events.head().await?)
    }

    /// The event-log checkpoint of an in-process consumer (`fanout`, `search`, …).
    pub async fn consumer_checkpoint(&self, consumer: &str) -> ApiResult<cursor::Cursor> {
        Ok(self.events.checkpoint(consumer).await?)
    }

    /// Moves a consumer's checkpoint back to the start of the log, so it handles everything
    /// still logged again (operators re-running a consumer; tests proving consumers idempotent).
    pub async fn rewind_consumer(&self, consumer: &str) -> ApiResult<()> {
        Ok(self.events.save_checkpoint(consumer, &cursor::Cursor::start(self.events.partitions())).await?)
    }

    /// Drops a cached home timeline, as a cache eviction or a wiped cache would.
    pub async fn evict_home(&self, account: shared::id::Id) -> ApiResult<()> {
        Ok(self.timelines.drop_timeline(&timelines::home_key(account)).await?)
    }

    /// Drops a cached list timeline (as a cache eviction would); whether it was cached.
    pub async fn evict_list(&self, list: shared::id::Id) -> ApiResult<bool> {
        let key = lists::list_key(list);
        let cached = self.timelines.exists(&key).await?;
        self.timelines.drop_timeline(&key).await?;
        Ok(cached)
    }
}

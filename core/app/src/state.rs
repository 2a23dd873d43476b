//! The state every handler and consumer shares: the ports, the configuration, the id source
//! and the token keys (plus, for now, the consumers' locks, the celebrity cache and the
//! metrics, which belong to their owners).
//!
//! Must never: depend on a feature module (features depend on this, not the other way round).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use shared::id::Id;
use shared::token::{KeySet, TokenSigner, TokenVerifier};
use tokio::sync::watch;

use crate::clock::now_ms;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::ports::{EventLog, MediaStore, PushPublisher, RateLimitStore, SearchIndex, Store, StreamHub, TimelineCache};

/// Shared state of every handler and consumer.
#[derive(Clone)]
pub struct App(pub(crate) Arc<Inner>);

#[doc(hidden)]
pub struct Inner {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) events: Arc<dyn EventLog>,
    pub(crate) timelines: Arc<dyn TimelineCache>,
    pub(crate) rate_limits: Arc<dyn RateLimitStore>,
    pub(crate) search: Arc<dyn SearchIndex>,
    pub(crate) search_lock: tokio::sync::Mutex<()>,
    pub(crate) streams: Arc<dyn StreamHub>,
    pub(crate) media: Arc<dyn MediaStore>,
    pub(crate) push: Option<Arc<dyn PushPublisher>>,
    pub(crate) ids: Arc<crate::nodes::IdSource>,
    /// Stops the node-lease keeper (which then releases the number), and the keeper itself.
    pub(crate) node_keeper: Mutex<Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>>,
    pub(crate) signer: TokenSigner,
    pub(crate) keys: KeySet,
    pub(crate) verifier: TokenVerifier,
    pub(crate) celebrities: RwLock<Option<(Instant, Arc<HashSet<Id>>)>>,
    pub(crate) fanout_lock: tokio::sync::Mutex<()>,
    pub(crate) notifications_lock: tokio::sync::Mutex<()>,
    /// Fanout, search and notifications are fed from outside (Kinesis), not by log tails.
    pub(crate) external_consumers: std::sync::atomic::AtomicBool,
    /// Turns true when the server shuts down, ending open streams.
    pub(crate) shutdown: watch::Sender<bool>,
    /// Request, fanout and backend metrics (`/metrics`).
    pub(crate) metrics: crate::metrics::Metrics,
}

impl std::ops::Deref for App {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl App {
    /// A fresh time-sortable id; 503 while this process holds no valid node lease.
    pub(crate) fn next_id(&self) -> ApiResult<Id> {
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

/// Converts an internal failure of a spawned blocking task.
pub(crate) fn join_error(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(e)
}

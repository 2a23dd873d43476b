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
    /// This process's own rate-limit state, judging while `rate_limits` is unreachable.
    pub(crate) local_rate_limits: core_ports::reference::MemoryRateLimiter,
    /// Homes whose rebuild into the cache was cut short by a cache failure (marked built but
    /// maybe not filled): dropped and rebuilt at their next read.
    pub(crate) unfinished_homes: Mutex<HashSet<Id>>,
    pub(crate) search: Arc<dyn SearchIndex>,
    pub(crate) search_lock: tokio::sync::Mutex<()>,
    pub(crate) streams: Arc<dyn StreamHub>,
    pub(crate) media: Arc<dyn MediaStore>,
    /// Signs the URLs of files not everyone may see.
    pub(crate) media_urls: crate::signed_urls::UrlSigner,
    /// The pixels image decodes may hold at once.
    pub(crate) decodes: crate::decode_budget::DecodeBudget,
    /// The videos and GIFs this process may transcode at once (`[media] processing_concurrency`).
    pub(crate) video_jobs: tokio::sync::Semaphore,
    pub(crate) push: Option<Arc<dyn PushPublisher>>,
    pub(crate) ids: Arc<crate::nodes::IdSource>,
    /// Stops the node-lease keeper (which then releases the number), and the keeper itself.
    pub(crate) node_keeper: Mutex<Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)>>,
    pub(crate) signer: TokenSigner,
    pub(crate) keys: KeySet,
    pub(crate) verifier: TokenVerifier,
    pub(crate) celebrities: RwLock<Option<(Instant, Arc<HashSet<Id>>)>>,
    /// In-process copies of hot, public data (viral statuses, celebrities' newest posts,
    /// instance counts), trusted for `[timelines] hot_ttl_ms`.
    pub(crate) hot: crate::hot::HotCaches,
    pub(crate) fanout_lock: tokio::sync::Mutex<()>,
    pub(crate) notifications_lock: tokio::sync::Mutex<()>,
    pub(crate) conversations_lock: tokio::sync::Mutex<()>,
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

    /// The store of record (tests inspect the key layout through it, and write as another
    /// process would).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The live pub/sub hub (tests publish on it as another process would).
    pub fn stream_hub(&self) -> &Arc<dyn StreamHub> {
        &self.streams
    }

    /// The event log (tests start a second core instance on the same store and log, as another
    /// process of the deployment would run).
    pub fn event_log(&self) -> &Arc<dyn EventLog> {
        &self.events
    }

    /// Counts a hit on `key` against `quota`: in the rate-limit store, or, while that is
    /// unreachable (a Redis outage: its circuit breaker answers at once), in this process's own
    /// state, so limits still hold (per process) and requests are not delayed.
    pub(crate) async fn rate_limit(&self, key: &str, quota: shared::rate::Quota, now_ms: u64) -> shared::rate::Decision {
        match self.rate_limits.hit(key, quota, now_ms).await {
            Ok(decision) => decision,
            Err(e) => {
                // Per request at debug only: the store adapter logs its outage (redis: the breaker opening).
                tracing::debug!(error = %e, "rate-limit store unavailable; this process judges alone");
                match self.local_rate_limits.hit(key, quota, now_ms).await {
                    Ok(decision) => decision,
                    // The in-memory limiter never fails; were it to, let the request through.
                    Err(_) => shared::rate::Decision { allowed: true, tat_ms: now_ms, remaining: quota.limit, reset_at_ms: now_ms, retry_after_ms: 0 },
                }
            }
        }
    }

    /// The pixels image decodes may hold at once: its use (`/metrics`), or a share of it (tests).
    pub fn decode_budget(&self) -> &crate::decode_budget::DecodeBudget {
        &self.decodes
    }
}

/// Converts an internal failure of a spawned blocking task.
pub(crate) fn join_error(e: tokio::task::JoinError) -> ApiError {
    ApiError::internal(e)
}

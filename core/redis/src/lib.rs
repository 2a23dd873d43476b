//! Redis adapters (through `fred`), for a single node or a Redis Cluster, in plain TCP or TLS
//! (`rediss://`, ElastiCache in-transit encryption; rustls with ring):
//!
//! - [`RedisTimelineCache`]: home timelines as sorted sets, their versions (which the edge
//!   reads to validate cached pages) and their "built" markers.
//! - [`RedisRateLimiter`]: GCRA rate-limit state, one key per caller and route class.
//! - [`RedisStreamHub`]: streaming channels over sharded pub/sub, so a client on any core
//!   process hears what any of them publishes.
//!
//! All share one [`Redis`] connection (the hub adds one subscriber connection). Every
//! multi-key operation touches the keys of one timeline only, and those share a hash tag, so
//! they live in one cluster slot; work across timelines (fanout, delete cascades) is pipelined
//! one script call per timeline.
//!
//! Must never: hold business rules (core/app decides what goes where), or be named by core/app.

mod breaker;
mod ratelimit;
mod stream;
#[cfg(feature = "test-server")]
pub mod test_server;
mod timeline;
mod tls;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use core_ports::ports::CacheError;
use fred::prelude::{ClientLike as _, LuaInterface as _};
use fred::types::scripts::Script;

pub use breaker::BreakerConfig;
pub use ratelimit::RedisRateLimiter;
pub use stream::{RedisStreamHub, SWEEP_INTERVAL};
pub use timeline::RedisTimelineCache;

/// How long startup waits for Redis before giving up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where Redis is, how to trust it, and how long to wait for it.
#[derive(Clone, Default)]
pub struct RedisConfig {
    /// `redis://[user:password@]host:port[/db]` for one node, `redis-cluster://host:port
    /// [?node=host:port…]` for a cluster; `rediss://` / `rediss-cluster://` for TLS.
    pub url: String,
    /// A PEM file of CA certificates to trust for TLS besides the system's (a private CA);
    /// only with a `rediss` URL.
    pub ca_file: Option<PathBuf>,
    /// Command and (re)connection timeouts.
    pub timeouts: Timeouts,
    /// When to stop sending commands to a failing Redis, and for how long.
    pub breaker: BreakerConfig,
}

impl RedisConfig {
    /// The server at `url`, trusting the system's CAs, with the default timeouts and breaker.
    pub fn new(url: &str) -> Self {
        RedisConfig { url: url.to_owned(), ..RedisConfig::default() }
    }
}

/// How long Redis may take once running (startup waits [`CONNECT_TIMEOUT`] regardless).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// One command (or one pipeline), from sending to its answer: past it the command fails
    /// and counts against the circuit breaker.
    pub command: Duration,
    /// One connection attempt (TCP + TLS + handshake) while reconnecting.
    pub connect: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { command: Duration::from_millis(250), connect: Duration::from_millis(500) }
    }
}

/// A connection to Redis (one node or a cluster, chosen by the URL's scheme) with the
/// adapters' Lua scripts.
#[derive(Clone)]
pub struct Redis {
    client: fred::prelude::Client,
    /// What the client was built from, for the streaming hub's subscriber connection.
    config: fred::prelude::Config,
    /// The URL without its password, for messages.
    location: String,
    scripts: Scripts,
    timeouts: Timeouts,
    /// Shared by every clone: one view of whether Redis is answering.
    breaker: Arc<breaker::Breaker>,
}

#[derive(Clone)]
struct Scripts {
    add: Script,
    remove: Script,
    gcra: Script,
}

/// A client builder with the adapters' timeouts and reconnect policy.
fn builder(config: &fred::prelude::Config, timeouts: Timeouts) -> fred::prelude::Builder {
    let mut builder = fred::prelude::Builder::from_config(config.clone());
    builder
        .with_connection_config(|c| {
            c.connection_timeout = timeouts.connect;
            c.internal_command_timeout = timeouts.command.max(Duration::from_secs(1));
            c.max_command_attempts = 3;
        })
        .with_performance_config(|p| {
            // The breaker bounds each command by `timeouts.command` too; this ends fred's
            // own wait (and its retries) at the same time.
            p.default_command_timeout = timeouts.command;
            // Pub/sub messages wait here for the hub's dispatcher: room for a burst.
            p.broadcast_channel_capacity = 4096;
        })
        // After startup, outages are ridden out by reconnecting forever (callers fall back
        // meanwhile: see `breaker`; the hub resubscribes), at most a second apart.
        .set_policy(fred::prelude::ReconnectPolicy::new_exponential(0, 100, 1_000, 2));
    builder
}

/// Connects `client` within [`CONNECT_TIMEOUT`].
async fn init(client: &impl fred::prelude::ClientLike, location: &str) -> Result<(), CacheError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, client.init()).await {
        Ok(Ok(_task)) => Ok(()),
        Ok(Err(e)) => Err(CacheError::new(format!("cannot connect to redis at {location}"), e)),
        Err(_) => {
            let _ = client.quit().await;
            Err(CacheError(format!("cannot connect to redis at {location}: no answer within {}s", CONNECT_TIMEOUT.as_secs()).into()))
        }
    }
}

impl Redis {
    /// Connects to `url` (see [`RedisConfig::url`]), trusting the system's CAs for TLS.
    pub async fn connect(url: &str) -> Result<Self, CacheError> {
        Self::connect_with(&RedisConfig::new(url)).await
    }

    /// Connects and loads the scripts. Fails within a few seconds when the server cannot be
    /// reached (or its certificate is not trusted), so a misconfigured core stops at startup.
    pub async fn connect_with(settings: &RedisConfig) -> Result<Self, CacheError> {
        let location = redact(&settings.url);
        let config = tls::client_config(&settings.url, settings.ca_file.as_deref())?;
        let client = builder(&config, settings.timeouts).build().map_err(|e| CacheError::new("cannot configure redis client", e))?;
        init(&client, &location).await?;
        let redis = Redis {
            client,
            config,
            location,
            scripts: Scripts {
                add: Script::from_lua(include_str!("lua/add.lua")),
                remove: Script::from_lua(include_str!("lua/remove.lua")),
                gcra: Script::from_lua(include_str!("lua/gcra.lua")),
            },
            timeouts: settings.timeouts,
            breaker: Arc::new(breaker::Breaker::new(settings.breaker)),
        };
        redis.load_scripts().await?;
        Ok(redis)
    }

    /// Whether the connection uses TLS.
    pub fn uses_tls(&self) -> bool {
        self.config.tls.is_some()
    }

    /// (Re)loads the scripts on every primary; needed after a server restart or failover
    /// empties the script cache.
    async fn load_scripts(&self) -> Result<(), CacheError> {
        for script in [&self.scripts.add, &self.scripts.remove, &self.scripts.gcra] {
            script.load(&self.client).await.map_err(|e| failed("script load", &e))?;
        }
        Ok(())
    }

    /// Whether the server answers (for readiness checks): down while the circuit is open.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.guarded("ping", async { self.client.ping::<()>(None).await.map_err(|e| failed("ping", &e)) }).await
    }

    /// Whether the circuit breaker lets commands through (false while Redis is considered down).
    pub fn is_available(&self) -> bool {
        self.breaker.is_closed()
    }

    /// Runs one command (or pipeline) through the circuit breaker, bounded by the command
    /// timeout. While reconnecting it refuses at once (and counts the failure) rather than
    /// queueing behind the outage.
    pub(crate) async fn guarded<T>(&self, operation: &str, command: impl Future<Output = Result<T, CacheError>>) -> Result<T, CacheError> {
        self.breaker
            .run(operation, self.timeouts.command, async {
                if !self.client.is_connected() {
                    return Err(CacheError(format!("redis {operation}: not connected").into()));
                }
                command.await
            })
            .await
    }

    /// Deletes every key on every node (tests and benchmarks only).
    pub async fn flush_all(&self) -> Result<(), CacheError> {
        let cmd = fred::types::CustomCommand::new_static("FLUSHALL", fred::types::ClusterHash::Random, false);
        self.client.custom::<(), String>(cmd, Vec::new()).await.map_err(|e| failed("flushall", &e))
    }

    /// The underlying client, for callers that need raw access (benchmarks).
    pub fn client(&self) -> &fred::prelude::Client {
        &self.client
    }

    fn is_noscript(error: &fred::prelude::Error) -> bool {
        error.details().starts_with("NOSCRIPT")
    }

    /// Runs `script` on `keys`, reloading the scripts once when the server lost them.
    async fn eval<R: fred::prelude::FromValue>(&self, script: &Script, keys: Vec<String>, args: Vec<String>) -> Result<R, fred::prelude::Error> {
        if !self.client.is_connected() {
            return Err(fred::prelude::Error::new(fred::prelude::ErrorKind::IO, "not connected"));
        }
        match self.client.evalsha(script.sha1().clone(), keys.clone(), args.clone()).await {
            Err(e) if Self::is_noscript(&e) => {
                tracing::warn!("redis lost its scripts; reloading");
                script.load(&self.client).await?;
                self.client.evalsha(script.sha1().clone(), keys, args).await
            }
            other => other,
        }
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://***@{}", &url[..scheme], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

fn failed(operation: &str, error: &fred::prelude::Error) -> CacheError {
    CacheError::new(format!("redis {operation}"), error.clone())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("redis://user:secret@cache:6379/0"), "redis://***@cache:6379/0");
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }
}

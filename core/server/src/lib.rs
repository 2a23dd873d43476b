//! Composition of the `starling` binary: layered settings (defaults → file → environment →
//! flags) pick the adapters, which are built and handed to core/app. No business logic here.

pub mod app_ports;
pub mod edge;
pub mod events;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use core_app::config::{AuthConfig, InstanceConfig, Limits, MediaConfig, RateLimitConfig, TimelineConfig};
use core_app::{Application, Backends, Config};
use core_embedded::{FsMediaStore, MemoryRateLimiter, MemoryStreamHub, MemoryTimelineCache, RedbStore};
use core_tantivy::{TantivyOptions, TantivySearch};
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

/// Everything the binary can be configured with.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where to listen and keep data.
    pub server: ServerSettings,
    /// Which store of record to use.
    pub store: StoreSettings,
    /// Which home-timeline cache to use.
    pub cache: CacheSettings,
    /// Where core keeps rate-limit state.
    pub rate_limit_store: RateLimitStoreSettings,
    /// Which hub carries streaming messages.
    pub streams: StreamsSettings,
    /// The Redis the `redis` backends use.
    pub redis: RedisSettings,
    /// The edge in front of core, in process.
    pub edge: EdgeSettings,
    /// Which search index to use.
    pub search: SearchSettings,
    /// Public identity of the instance.
    #[serde(skip_serializing)]
    pub instance: Option<InstanceConfig>,
    /// Content limits.
    #[serde(skip_serializing)]
    pub limits: Option<Limits>,
    /// Home-timeline behaviour.
    #[serde(skip_serializing)]
    pub timelines: Option<TimelineConfig>,
    /// Shard counts of deployment-wide partitions and counters.
    #[serde(skip_serializing)]
    pub shards: Option<core_app::config::ShardConfig>,
    /// Tokens.
    #[serde(skip_serializing)]
    pub auth: Option<AuthConfig>,
    /// Request rate limits.
    #[serde(skip_serializing)]
    pub rate_limits: Option<RateLimitConfig>,
    /// Media upload limits.
    #[serde(skip_serializing)]
    pub media: Option<MediaConfig>,
    /// Poll limits and the expiry scan.
    #[serde(skip_serializing)]
    pub polls: Option<core_app::config::PollConfig>,
    /// Scheduled statuses: minimum lead, limits, the scheduler's scan.
    #[serde(skip_serializing)]
    pub scheduled: Option<core_app::config::ScheduledConfig>,
    /// Where media files live.
    pub media_store: MediaStoreSettings,
    /// Fixed node number for ids (0–63), for a single core process. Unset (the default): each
    /// core process leases a free number (0–61) from the store at startup (docs/operations.md,
    /// "Scaling").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u8>,
    /// Node-number lease timing (`lease_secs`, `renew_secs`, `grace_secs`).
    #[serde(skip_serializing)]
    pub node_lease: Option<core_app::config::NodeLeaseConfig>,
    /// Where events go besides the in-process consumers (Kinesis).
    pub events: events::EventsSettings,
    /// The analytics warehouse the loader fills.
    pub analytics: events::AnalyticsSettings,
    /// Where Web Push deliveries go.
    pub push: events::PushSettings,
    /// Access to `/metrics` (`[metrics] token`).
    #[serde(skip_serializing)]
    pub metrics: Option<core_app::config::MetricsConfig>,
}

/// Listener and data directory.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for embedded data.
    pub data_dir: PathBuf,
    /// Open connections at most; 0 (the default): three quarters of the open-files limit, which
    /// is raised to the hard limit at startup (docs/operations.md, "Connections").
    pub max_connections: usize,
    /// Seconds a client has to send a complete request head.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may move no byte either way (a stalled body, an unread response).
    pub idle_timeout_secs: u64,
    /// Secret shared with the edge (its `STARLING_CORE_SECRET`): requests carrying it in
    /// `x-starling-edge-secret` are attributed to the address in their `x-forwarded-for`.
    #[serde(default, skip_serializing)]
    pub edge_secret: Option<core_app::config::Secret>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        let connections = core_app::config::ConnectionConfig::default();
        ServerSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            max_connections: connections.max_connections,
            header_read_timeout_secs: connections.header_read_timeout_secs,
            idle_timeout_secs: connections.idle_timeout_secs,
            edge_secret: None,
        }
    }
}

/// The edge running natively in front of core (the production request path, in one process).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdgeSettings {
    /// Whether requests pass through the edge first.
    pub enabled: bool,
    /// How long a cached home timeline may be served, in milliseconds.
    pub home_cache_ttl_ms: u64,
}

impl Default for EdgeSettings {
    fn default() -> Self {
        EdgeSettings { enabled: true, home_cache_ttl_ms: 5_000 }
    }
}

/// The store of record.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum StoreSettings {
    /// redb in `data_dir` (the zero-configuration default).
    #[default]
    Embedded,
    /// One DynamoDB table (docs/dynamodb.md): items, and the event outbox in the same
    /// transactions.
    Dynamodb {
        /// Table name.
        table: String,
        /// Region.
        #[serde(default = "default_region")]
        region: String,
        /// Endpoint override (a local emulator, a VPC endpoint); absent: the region's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// Access key id; absent: the standard AWS credential chain (environment, profile,
        /// ECS task role, instance metadata).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key_id: Option<String>,
        /// Secret access key, with `access_key_id`.
        #[serde(default, skip_serializing)]
        secret_access_key: Option<SecretString>,
        /// Create the table (on-demand capacity) when it is missing: for development; in
        /// production infra/ creates it.
        #[serde(default)]
        create_table: bool,
        /// Partitions of the event log: each has its own head item, so the deployment's
        /// event-producing writes are not serialised through one (docs/dynamodb.md, "The
        /// outbox"). Fixed for the table's lifetime; 1 keeps the layout of tables created
        /// before partitions existed.
        #[serde(default = "default_log_partitions")]
        log_partitions: u32,
    },
}

fn default_log_partitions() -> u32 {
    1
}

/// The home-timeline cache (timelines and their versions).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum CacheSettings {
    /// In process memory (the zero-configuration default).
    #[default]
    Memory,
    /// Sorted sets in Redis (`[redis] url`).
    Redis,
}

/// Core's rate-limit state.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum RateLimitStoreSettings {
    /// In process memory: limits are per core process (the default).
    #[default]
    Memory,
    /// In Redis (`[redis] url`): limits shared by every core process.
    Redis,
}

/// The streaming hub (`/api/v1/streaming`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum StreamsSettings {
    /// In process memory: streams hear what this process publishes (one core process).
    #[default]
    Memory,
    /// Redis sharded pub/sub (`[redis] url`, Redis 7.0+): streams on every core process hear
    /// every event.
    Redis,
}

/// The Redis server or cluster.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://[user:password@]host:port[/db]` for one node, `redis-cluster://host:port
    /// [?node=host:port…]` for a cluster; `rediss://` / `rediss-cluster://` for TLS. It may
    /// carry a password: a secret.
    #[serde(skip_serializing)]
    pub url: SecretString,
    /// PEM file of CA certificates trusted for TLS besides the system's (a private CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// How long one command may take before it fails (and counts against the breaker), ms.
    pub command_timeout_ms: u64,
    /// How long one (re)connection attempt may take, ms (startup waits 5 s regardless).
    pub connect_timeout_ms: u64,
    /// Consecutive failures or timeouts that open the circuit breaker: Redis is then treated
    /// as down (no command sent) until the cool-down has passed.
    pub breaker_failures: u32,
    /// How long an open circuit stays open before one probe command is let through, ms.
    pub breaker_cooldown_ms: u64,
    /// Redis channels each public timeline streaming channel is spread over (`[streams] type =
    /// "redis"`): every public post is published on them, and one channel lives on one shard.
    /// The same in every core process of a deployment.
    pub public_channel_shards: u32,
}

impl Default for RedisSettings {
    fn default() -> Self {
        let timeouts = core_redis::Timeouts::default();
        let breaker = core_redis::BreakerConfig::default();
        RedisSettings {
            url: "redis://127.0.0.1:6379".into(),
            ca_file: None,
            command_timeout_ms: u64::try_from(timeouts.command.as_millis()).unwrap_or(u64::MAX),
            connect_timeout_ms: u64::try_from(timeouts.connect.as_millis()).unwrap_or(u64::MAX),
            breaker_failures: breaker.failures,
            breaker_cooldown_ms: u64::try_from(breaker.cooldown.as_millis()).unwrap_or(u64::MAX),
            public_channel_shards: 1,
        }
    }
}

impl RedisSettings {
    /// What the Redis adapters are built from.
    pub fn config(&self) -> core_redis::RedisConfig {
        core_redis::RedisConfig {
            url: self.url.expose_secret().to_owned(),
            ca_file: self.ca_file.clone(),
            timeouts: core_redis::Timeouts {
                command: Duration::from_millis(self.command_timeout_ms.max(1)),
                connect: Duration::from_millis(self.connect_timeout_ms.max(1)),
            },
            breaker: core_redis::BreakerConfig { failures: self.breaker_failures.max(1), cooldown: Duration::from_millis(self.breaker_cooldown_ms) },
        }
    }
}

/// The full-text search index.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum SearchSettings {
    /// tantivy in `data_dir/search` (the zero-configuration default).
    #[default]
    Tantivy,
    /// An OpenSearch (2.8+) cluster; indices `{index_prefix}statuses` / `{index_prefix}accounts`
    /// are created at startup when absent.
    Opensearch {
        /// Base URL, e.g. `https://search.example.org:9200`.
        url: String,
        /// Basic-auth user, when the cluster wants one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        username: Option<String>,
        /// Basic-auth password.
        #[serde(default, skip_serializing)]
        password: Option<SecretString>,
        /// Prefix of the index names.
        #[serde(default = "default_index_prefix")]
        index_prefix: String,
    },
}

fn default_index_prefix() -> String {
    "starling-".into()
}

/// The media file store.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum MediaStoreSettings {
    /// Files under `path` (default: `media/` in the data directory).
    Filesystem {
        /// Root directory.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        path: Option<PathBuf>,
    },
    /// An S3 bucket (or anything speaking S3's REST protocol), path-style addressing.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Region.
        #[serde(default = "default_region")]
        region: String,
        /// Endpoint override, e.g. `http://127.0.0.1:5000`; absent: AWS's for the region.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        endpoint: Option<String>,
        /// Access key id; absent: the AWS SDK's default credential chain (task role, …).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        access_key_id: Option<String>,
        /// Secret access key.
        #[serde(default, skip_serializing)]
        secret_access_key: Option<SecretString>,
        /// Public base URL files are served from; absent: core serves them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        public_url: Option<String>,
        /// SQS queue receiving the bucket's `s3:ObjectCreated:*` notifications for `uploads/`;
        /// when set, core completes presigned uploads from them (docs/media.md).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upload_queue_url: Option<String>,
    },
}

impl Default for MediaStoreSettings {
    fn default() -> Self {
        MediaStoreSettings::Filesystem { path: None }
    }
}

fn default_region() -> String {
    "us-east-1".into()
}

impl Settings {
    /// Layers defaults, the optional TOML file, then `STARLING__SECTION__KEY` variables.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Self::defaults();
        if let Some(path) = file {
            anyhow::ensure!(path.exists(), "configuration file {} does not exist", path.display());
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("STARLING__").split("__").lowercase(true));
        figment.extract().context("invalid configuration")
    }

    /// Every default as a serialized provider, nested sections included, so a file or variable
    /// setting one field of a section (`STARLING__RATE_LIMITS__SIGN_UPS__LIMIT`) merges into the
    /// defaults field by field instead of replacing the section. `[instance]` stays out: unset,
    /// its URLs are derived from the listen address ([`Settings::core_config`]).
    pub fn defaults() -> Figment {
        Figment::from(Serialized::defaults(Settings::default())).merge(Serialized::defaults(serde_json::json!({
            "limits": Limits::default(),
            "timelines": TimelineConfig::default(),
            "shards": core_app::config::ShardConfig::default(),
            "rate_limits": RateLimitConfig::default(),
            "media": MediaConfig::default(),
            "polls": core_app::config::PollConfig::default(),
            "scheduled": core_app::config::ScheduledConfig::default(),
            "node_lease": core_app::config::NodeLeaseConfig::default(),
        })))
    }

    /// The core configuration, deriving the public URL from the listen address when unset.
    pub fn core_config(&self) -> Config {
        let mut instance = self.instance.clone().unwrap_or_else(|| {
            let listen = self.server.listen;
            let host = if listen.ip().is_unspecified() { format!("localhost:{}", listen.port()) } else { listen.to_string() };
            InstanceConfig { domain: host.clone(), base_url: format!("http://{host}"), ..InstanceConfig::default() }
        });
        instance.base_url = instance.base_url.trim_end_matches('/').to_owned();
        Config {
            instance,
            limits: self.limits.clone().unwrap_or_default(),
            timelines: self.timelines.clone().unwrap_or_default(),
            shards: self.shards.clone().unwrap_or_default(),
            auth: self.auth.clone().unwrap_or_default(),
            rate_limits: self.rate_limits.clone().unwrap_or_default(),
            media: self.media.clone().unwrap_or_default(),
            polls: self.polls.clone().unwrap_or_default(),
            scheduled: self.scheduled.clone().unwrap_or_default(),
            node_id: self.node_id,
            node_lease: self.node_lease.clone().unwrap_or_default(),
            metrics: self.metrics.clone().unwrap_or_default(),
            connections: core_app::config::ConnectionConfig {
                max_connections: self.server.max_connections,
                header_read_timeout_secs: self.server.header_read_timeout_secs,
                idle_timeout_secs: self.server.idle_timeout_secs,
                edge_secret: self.server.edge_secret.clone(),
            },
        }
    }
}

/// Builds the configured adapters; fails with a clear message when one cannot start.
pub async fn backends(settings: &Settings) -> anyhow::Result<Backends> {
    let (store, events): (Arc<dyn core_app::ports::Store>, Arc<dyn core_app::ports::EventLog>) = match &settings.store {
        StoreSettings::Dynamodb { table, region, endpoint, access_key_id, secret_access_key, create_table, log_partitions } => {
            let credentials = match (access_key_id, secret_access_key) {
                (Some(id), Some(secret)) => Some((id.clone(), secret.expose_secret().to_owned())),
                (None, None) => None,
                _ => anyhow::bail!("[store] access_key_id and secret_access_key go together"),
            };
            let config = core_dynamodb::DynamoConfig {
                table: table.clone(),
                region: region.clone(),
                endpoint: endpoint.clone(),
                credentials,
                create_table: *create_table,
                log_partitions: *log_partitions,
            };
            let store = core_dynamodb::DynamoStore::connect(&config).await.with_context(|| {
                format!(
                    "the dynamodb store is unusable (table {table:?}, region {region}{})",
                    endpoint.as_deref().map(|e| format!(", endpoint {e}")).unwrap_or_default()
                )
            })?;
            (Arc::new(store.clone()), Arc::new(store))
        }
        StoreSettings::Embedded => {
            let dir = &settings.server.data_dir;
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
            let path = dir.join("starling.redb");
            let store =
                RedbStore::open(&path).with_context(|| format!("cannot open the embedded store at {} (is another starling using it?)", path.display()))?;
            (Arc::new(store.clone()), Arc::new(store))
        }
    };
    let needs_redis = matches!(settings.cache, CacheSettings::Redis)
        || matches!(settings.rate_limit_store, RateLimitStoreSettings::Redis)
        || matches!(settings.streams, StreamsSettings::Redis);
    let redis_config = settings.redis.config();
    let redis = if needs_redis {
        Some(core_redis::Redis::connect_with(&redis_config).await.context("the redis backend is unreachable (check [redis] url and ca_file)")?)
    } else {
        None
    };
    let timelines: Arc<dyn core_app::ports::TimelineCache> = match (&settings.cache, &redis) {
        (CacheSettings::Redis, Some(redis)) => Arc::new(core_redis::RedisTimelineCache::new(redis.clone())),
        _ => Arc::new(MemoryTimelineCache::new()),
    };
    let rate_limits: Arc<dyn core_app::ports::RateLimitStore> = match (&settings.rate_limit_store, &redis) {
        (RateLimitStoreSettings::Redis, Some(redis)) => Arc::new(core_redis::RedisRateLimiter::new(redis.clone())),
        _ => Arc::new(MemoryRateLimiter::new()),
    };
    let streams: Arc<dyn core_app::ports::StreamHub> = match (&settings.streams, &redis) {
        (StreamsSettings::Redis, Some(redis)) => {
            let shards = settings.redis.public_channel_shards;
            Arc::new(
                core_redis::RedisStreamHub::connect_with(redis, core_redis::SWEEP_INTERVAL, shards)
                    .await
                    .context("the redis stream hub cannot subscribe (check [redis] url)")?,
            )
        }
        _ => Arc::new(MemoryStreamHub::new()),
    };
    let search: Arc<dyn core_app::ports::SearchIndex> = match &settings.search {
        SearchSettings::Tantivy => {
            let path = settings.server.data_dir.join("search");
            Arc::new(
                TantivySearch::open(&path, TantivyOptions::default())
                    .with_context(|| format!("cannot open the search index at {} (is another starling using it?)", path.display()))?,
            )
        }
        SearchSettings::Opensearch { url, username, password, index_prefix } => {
            let basic_auth = username.clone().map(|user| (user, password.as_ref().map(|p| p.expose_secret().to_owned()).unwrap_or_default()));
            let config = core_opensearch::OpenSearchConfig { basic_auth, index_prefix: index_prefix.clone(), ..core_opensearch::OpenSearchConfig::new(url) };
            Arc::new(
                core_opensearch::OpenSearchIndex::connect(&config)
                    .await
                    .context("the OpenSearch backend is unreachable or refused the index mappings (check [search] url)")?,
            )
        }
    };
    let media: Arc<dyn core_app::ports::MediaStore> = match &settings.media_store {
        MediaStoreSettings::Filesystem { path } => {
            let root = path.clone().unwrap_or_else(|| settings.server.data_dir.join("media"));
            Arc::new(FsMediaStore::open(&root).with_context(|| format!("cannot create the media directory {}", root.display()))?)
        }
        MediaStoreSettings::S3 { bucket, region, endpoint, public_url, .. } => {
            let config = core_s3::S3Config {
                bucket: bucket.clone(),
                region: region.clone(),
                endpoint: endpoint.clone(),
                credentials: s3_credentials(&settings.media_store),
                public_url: public_url.clone(),
            };
            let store = core_s3::S3MediaStore::new(config).await.context("cannot build the S3 media store")?;
            store.ping().await.with_context(|| format!("the S3 bucket {bucket} is unreachable (check [media_store])"))?;
            Arc::new(store)
        }
    };
    Ok(Backends { store, events, timelines, rate_limits, search, streams, media, push: events::push_publisher(&settings.push).await? })
}

fn s3_credentials(media: &MediaStoreSettings) -> Option<shared::sigv4::Credentials> {
    match media {
        MediaStoreSettings::S3 { access_key_id: Some(id), secret_access_key, .. } => Some(shared::sigv4::Credentials {
            access_key_id: id.clone(),
            secret_access_key: secret_access_key.as_ref().map(|s| s.expose_secret().to_owned()).unwrap_or_default(),
            session_token: None,
        }),
        _ => None,
    }
}

/// Starts the S3 upload intake when `[media_store] upload_queue_url` is set; sending `true`
/// stops it.
pub async fn start_upload_intake(settings: &Settings, app: &core_app::App) -> Option<tokio::sync::watch::Sender<bool>> {
    let MediaStoreSettings::S3 { bucket, region, endpoint, upload_queue_url: Some(queue_url), .. } = &settings.media_store else { return None };
    let sdk = core_s3::sdk_config(region, endpoint.as_deref(), s3_credentials(&settings.media_store).as_ref()).await;
    let intake =
        core_s3::intake::UploadIntake::new(&sdk, core_s3::intake::IntakeConfig { queue_url: queue_url.clone(), bucket: bucket.clone(), wait_secs: 20 });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(intake.run(Arc::new(app_ports::AppUploads(app.clone())), stopped));
    tracing::info!(queue = %queue_url, "upload intake polling");
    Some(stop)
}

/// Builds the application from settings.
pub async fn build(settings: &Settings) -> anyhow::Result<Application> {
    let backends = backends(settings).await?;
    Application::build(settings.core_config(), backends).await.map_err(|e| anyhow::anyhow!("core failed to start: {e:?}"))
}

/// Builds the application for serving, with the configured event pipelines (Kinesis relay and
/// consumers, analytics loader) running until the returned handle is dropped. When the stream
/// feeds fanout, search and notifications, the application does not tail the log for them.
pub async fn build_serving(settings: &Settings) -> anyhow::Result<(Application, events::Pipelines)> {
    let backends = backends(settings).await?;
    let mut app = Application::build(settings.core_config(), backends.clone()).await.map_err(|e| anyhow::anyhow!("core failed to start: {e:?}"))?;
    // The leased node number is unique among live processes: it names this one in shard leases.
    match events::start(&settings.events, &settings.analytics, app.app().node_id().unwrap_or_default(), &backends, app.app()).await {
        Ok(pipelines) => {
            if settings.events.feeds_app_consumers() {
                app = app.external_consumers();
            }
            Ok((app, pipelines))
        }
        Err(e) => {
            app.app().release_node_lease().await;
            Err(e)
        }
    }
}

/// The router to serve: core's, behind the in-process edge when enabled. The edge applies the
/// same quotas as core's own limiter.
pub fn front_router(settings: &Settings, application: &Application) -> axum::Router {
    let core = application.router();
    if !settings.edge.enabled {
        return core;
    }
    let limits = settings.rate_limits.clone().unwrap_or_default();
    let config = edge_app::EdgeConfig {
        home_cache_ttl_ms: settings.edge.home_cache_ttl_ms,
        rate_limits_enabled: limits.enabled,
        requests: limits.requests.quota(),
        sign_ups: limits.sign_ups.quota(),
        logins: limits.logins.quota(),
        media: limits.media.quota(),
        ..edge_app::EdgeConfig::default()
    };
    edge::in_front_of(core, config)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_debug_of_the_settings_prints_no_secret() {
        let toml = r#"
            [store]
            type = "dynamodb"
            table = "t"
            access_key_id = "AKIDSTORE"
            secret_access_key = "store-secret-key"
            [redis]
            url = "redis://user:redis-password@cache:6379/0"
            [search]
            type = "opensearch"
            url = "https://search:9200"
            username = "admin"
            password = "search-password"
            [media_store]
            type = "s3"
            bucket = "media"
            access_key_id = "AKIDMEDIA"
            secret_access_key = "media-secret-key"
            [events]
            type = "kinesis"
            stream = "events"
            access_key_id = "AKIDEVENTS"
            secret_access_key = "events-secret-key"
            [analytics]
            type = "redshift"
            url = "postgres://loader:warehouse-password@warehouse:5439/db"
            [push]
            type = "sns"
            topic_arn = "arn:aws:sns:us-east-1:1:push"
            access_key_id = "AKIDPUSH"
            secret_access_key = "push-secret-key"
            [auth]
            signing_keys = "signing-secret-of-at-least-32-characters"
            [metrics]
            token = "scrape-token"
            [server]
            edge_secret = "edge-shared-secret"
        "#;
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml)).extract().unwrap();
        let printed = format!("{settings:?}");
        for secret in [
            "store-secret-key",
            "redis-password",
            "search-password",
            "media-secret-key",
            "events-secret-key",
            "warehouse-password",
            "push-secret-key",
            "signing-secret",
            "scrape-token",
            "edge-shared-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(!format!("{:?}", settings.core_config()).contains("edge-shared-secret"), "the core config it becomes prints none either");
        assert_eq!(settings.core_config().connections.edge_secret.as_deref(), Some("edge-shared-secret"), "core reads the edge secret itself");
        assert!(printed.contains("AKIDSTORE") && !printed.contains("cache:6379"), "key ids are not secret, the redis URL is: {printed}");
        let SearchSettings::Opensearch { password, .. } = &settings.search else { panic!("opensearch") };
        assert_eq!(password.as_ref().map(|p| p.expose_secret()), Some("search-password"), "the secret itself is still there for the adapters");
        assert_eq!(settings.core_config().metrics.token.as_deref(), Some("scrape-token"));
    }

    /// The `STARLING__…` variables infra/core.yaml gives the task (environment and secrets,
    /// both branches of conditions), with literal values where the template has them.
    fn task_definition_variables() -> Vec<(String, Option<String>)> {
        let template = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/core.yaml")).unwrap();
        let lines: Vec<&str> = template.lines().collect();
        let mut vars = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = line.trim_start().trim_start_matches("- ").strip_prefix("Name: STARLING__") else { continue };
            let value =
                lines.get(i + 1).and_then(|next| next.trim().strip_prefix("Value: ")).filter(|v| !v.starts_with('!')).map(|v| v.trim_matches('"').to_owned());
            vars.push((name.to_owned(), value));
        }
        vars
    }

    #[test]
    fn the_task_definition_configures_only_settings_that_exist() {
        let vars = task_definition_variables();
        assert!(vars.len() > 20, "variables found: {vars:?}");
        let mut tree = serde_json::Map::new();
        for (name, value) in &vars {
            let path: Vec<String> = name.split("__").map(str::to_lowercase).collect();
            let value = match value.as_deref() {
                Some("true") => serde_json::Value::Bool(true),
                Some("false") => serde_json::Value::Bool(false),
                Some(v) => serde_json::Value::String(v.to_owned()),
                // Imported from another stack: a stand-in of the setting's type.
                None if name.ends_with("PARTITIONS") || name.ends_with("SHARDS") => serde_json::Value::from(64),
                None => serde_json::Value::String("placeholder".into()),
            };
            let (last, parents) = path.split_last().unwrap();
            let mut node = &mut tree;
            for part in parents {
                node = node.entry(part.clone()).or_insert_with(|| serde_json::Value::Object(serde_json::Map::new())).as_object_mut().unwrap();
            }
            node.insert(last.clone(), value);
        }
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Serialized::globals(serde_json::Value::Object(tree)))
            .extract()
            .expect("every variable names a setting");
        assert_eq!(settings.node_id, None, "tasks lease their node numbers");
        assert!(matches!(settings.store, StoreSettings::Dynamodb { .. }));
        assert!(matches!(settings.events, events::EventsSettings::Kinesis { .. }));
        assert!(matches!(settings.analytics, events::AnalyticsSettings::Redshift { .. }));
        assert!(matches!(settings.push, events::PushSettings::Sns { .. }));
        assert!(!settings.edge.enabled);
        assert_eq!(settings.redis.public_channel_shards, 64, "the public streaming channels spread as the data stack says");
    }

    /// One nested field set from the environment merges into that section's defaults (it used
    /// to replace the section: "missing field `period_secs`").
    #[test]
    #[expect(clippy::result_large_err, reason = "figment::Jail's closure returns figment::Error")]
    fn one_nested_field_from_the_environment_merges_with_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("STARLING__RATE_LIMITS__SIGN_UPS__LIMIT", "100");
            jail.set_env("STARLING__RATE_LIMITS__REQUESTS__PERIOD_SECS", "60");
            jail.set_env("STARLING__MEDIA__IMAGE_SIZE_LIMIT", "1000");
            jail.set_env("STARLING__NODE_LEASE__RENEW_SECS", "5");
            jail.set_env("STARLING__TIMELINES__CAP", "400");
            jail.set_env("STARLING__SERVER__MAX_CONNECTIONS", "512");
            jail.set_env("STARLING__EDGE__HOME_CACHE_TTL_MS", "1000");
            jail.set_env("STARLING__INSTANCE__STREAMING_URL", "wss://streaming.example.org");
            jail.set_env("STARLING__SHARDS__PUBLIC", "64");
            jail.set_env("STARLING__TIMELINES__HOT_TTL_MS", "1500");
            let settings = Settings::load(None).map_err(|e| format!("{e:#}"))?;
            let config = settings.core_config();
            let defaults = Settings::default().core_config();
            assert_eq!((config.rate_limits.sign_ups.limit, config.rate_limits.sign_ups.period_secs), (100, 1800));
            assert_eq!((config.rate_limits.requests.limit, config.rate_limits.requests.period_secs), (300, 60));
            assert_eq!(config.rate_limits.logins.limit, defaults.rate_limits.logins.limit);
            assert!(config.rate_limits.enabled);
            assert_eq!((config.media.image_size_limit, config.media.video_size_limit), (1000, defaults.media.video_size_limit));
            assert_eq!((config.node_lease.renew_secs, config.node_lease.lease_secs), (5, 60));
            assert_eq!((config.timelines.cap, config.timelines.backfill), (400, 40));
            assert_eq!((config.timelines.hot_ttl_ms, config.timelines.read_concurrency), (1500, 16));
            assert_eq!((config.shards.public, config.shards.tags, config.shards.status_counters), (64, 1, 1));
            assert_eq!((config.connections.max_connections, config.connections.header_read_timeout_secs), (512, 15));
            assert_eq!((settings.edge.home_cache_ttl_ms, settings.edge.enabled), (1000, true));
            assert_eq!(config.instance.streaming_base(), "wss://streaming.example.org");
            assert_eq!(config.instance.title, "Starling");
            Ok(())
        });
    }

    #[test]
    #[expect(clippy::result_large_err, reason = "figment::Jail's closure returns figment::Error")]
    fn one_nested_field_in_the_file_merges_with_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("starling.toml", "[rate_limits.logins]\nperiod_secs = 10\n")?;
            let settings = Settings::load(Some(Path::new("starling.toml"))).map_err(|e| format!("{e:#}"))?;
            let logins = settings.core_config().rate_limits.logins;
            assert_eq!((logins.limit, logins.period_secs), (25, 10));
            Ok(())
        });
    }

    #[test]
    fn node_id_is_leased_unless_set() {
        assert_eq!(Settings::default().core_config().node_id, None);
        let settings: Settings =
            Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string("node_id = 7\n[node_lease]\nlease_secs = 30")).extract().unwrap();
        assert_eq!(settings.core_config().node_id, Some(7));
        assert_eq!(settings.core_config().node_lease.lease_secs, 30);
    }
}

//! Core's typed configuration, with defaults that make the embedded setup work unconfigured.

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

/// A configuration secret (signing keys, tokens): kept in a [`SecretString`] (zeroed when
/// dropped), `Debug` prints `***`. It reads as the `str` it holds where core uses it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(SecretString);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::ops::Deref for Secret {
    type Target = str;

    fn deref(&self) -> &str {
        self.expose()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret(secret.into())
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Secret(secret.into())
    }
}

/// Everything core/app needs to know; adapters' settings live with the server binary.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Public identity of the instance.
    pub instance: InstanceConfig,
    /// Content limits.
    pub limits: Limits,
    /// Home-timeline behaviour.
    pub timelines: TimelineConfig,
    /// Token lifetimes and keys.
    pub auth: AuthConfig,
    /// Request rate limits.
    pub rate_limits: RateLimitConfig,
    /// Media upload limits.
    pub media: MediaConfig,
    /// Poll limits and the expiry scan.
    pub polls: PollConfig,
    /// Scheduled statuses: how far ahead, how many, how often the scheduler looks.
    pub scheduled: ScheduledConfig,
    /// Node number for id generation (0–63). `None` (the default): leased from the store at
    /// startup (`nodes`), so any number of core processes can share one store. A fixed number
    /// is for a single process; it must not be one another process leases or an edge uses.
    pub node_id: Option<u8>,
    /// Lease timing when `node_id` is `None`.
    pub node_lease: NodeLeaseConfig,
    /// Who may read `/metrics`.
    pub metrics: MetricsConfig,
    /// Connection limits and timeouts of the listener (`[server]` settings of the binary).
    pub connections: ConnectionConfig,
    /// How many shards each deployment-wide partition and counter is spread over.
    pub shards: ShardConfig,
}

/// Shard counts of the partitions and counters every account's writes would otherwise share
/// (docs/operations.md, "Shards"). A write goes to one shard, chosen by a fixed hash of the
/// written id (so a deletion finds it); a read queries every shard and merges by id, or sums.
/// Shard 0 is the unsharded key, so data written before sharding stays read (and deleted).
/// Raise counts only from 1: entries written under another count > 1 are read but their
/// deletion may miss them (docs/operations.md).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShardConfig {
    /// The public timeline (`PUB`).
    pub public: u32,
    /// Each hashtag's timeline (`T#{tag}`).
    pub tags: u32,
    /// The listing of every account (`ACCTS`).
    pub accounts: u32,
    /// The celebrity set (`CELEB`).
    pub celebrities: u32,
    /// The instance's user and status counts.
    pub instance_counters: u32,
    /// Each status's replies, boosts and favourites counts (a status read 3 × this many counter
    /// items with its record; at most 32).
    pub status_counters: u32,
    /// Each status's lists of who favourited and who boosted it (`SL#{status}#{kind}`).
    pub interactions: u32,
    /// The notifications of each celebrity (`N#{account}`): an account in the celebrity set gets
    /// its notifications written to this many shards, merged on read; every other account's
    /// stay in `N#{account}` alone.
    pub notifications: u32,
}

impl ShardConfig {
    /// Every partition and counter over `n` shards (status counters clamped when used).
    pub fn uniform(n: u32) -> Self {
        ShardConfig { public: n, tags: n, accounts: n, celebrities: n, instance_counters: n, status_counters: n, interactions: n, notifications: n }
    }
}

impl Default for ShardConfig {
    fn default() -> Self {
        ShardConfig { public: 1, tags: 1, accounts: 1, celebrities: 1, instance_counters: 1, status_counters: 1, interactions: 1, notifications: 1 }
    }
}

impl ShardConfig {
    /// Most shards of a status's counters: a deleted status's counter shards go in one
    /// transaction (3 × 32 writes).
    pub const MAX_STATUS_COUNTERS: u32 = 32;

    /// The counts as used: at least 1 each, status counters at most [`Self::MAX_STATUS_COUNTERS`].
    pub fn clamped(&self) -> ShardConfig {
        let at_least_one = |n: u32| n.max(1);
        ShardConfig {
            public: at_least_one(self.public),
            tags: at_least_one(self.tags),
            accounts: at_least_one(self.accounts),
            celebrities: at_least_one(self.celebrities),
            instance_counters: at_least_one(self.instance_counters),
            status_counters: self.status_counters.clamp(1, Self::MAX_STATUS_COUNTERS),
            interactions: at_least_one(self.interactions),
            notifications: at_least_one(self.notifications),
        }
    }
}

/// Connection limits and timeouts of the HTTP listener (docs/operations.md, "Connections").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Open connections at most; 0: three quarters of the open-files limit (after it is raised
    /// to the hard limit at startup). Past it, the longest-idle connection without a request in
    /// flight is closed to admit the new one; with none idle, the new one is closed at once.
    pub max_connections: usize,
    /// Seconds a client has to send a complete request head (the first request, and each next
    /// one on a keep-alive connection, counted from when the previous response was sent) before
    /// the connection is closed.
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may move no byte either way (a stalled body, a response not read)
    /// before it is closed; streams send heartbeats every 15 s, so they stay open.
    pub idle_timeout_secs: u64,
    /// Secret the edge sends in `x-starling-edge-secret`: a request carrying it is attributed to
    /// the address in its `x-forwarded-for` (rate limits, sign-up limits); unset, addresses come
    /// from the TCP peer (or `rate_limits.trust_forwarded_for`). Never serialised (only the
    /// defaults are, for layering, and they have none).
    #[serde(skip_serializing)]
    pub edge_secret: Option<Secret>,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig { max_connections: 0, header_read_timeout_secs: 15, idle_timeout_secs: 60, edge_secret: None }
    }
}

/// Node-number lease timing (docs/operations.md, "Scaling").
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeLeaseConfig {
    /// Each renewal lets the holder mint ids stamped up to this far past its clock's now.
    pub lease_secs: u64,
    /// How often the holder renews.
    pub renew_secs: u64,
    /// How long past a lease's end another process waits before taking the number over.
    pub grace_secs: u64,
}

impl Default for NodeLeaseConfig {
    fn default() -> Self {
        NodeLeaseConfig { lease_secs: 60, renew_secs: 10, grace_secs: 10 }
    }
}

/// Access to the Prometheus endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// When set, `GET /metrics` requires `Authorization: Bearer <token>` (401 otherwise);
    /// unset, it is open like `/health` and `/ready`.
    pub token: Option<Secret>,
}

/// Request rate limits, in the spirit of Mastodon's defaults.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Whether limits apply at all.
    pub enabled: bool,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy or the edge).
    pub trust_forwarded_for: bool,
    /// Every request, per token (per address when anonymous).
    pub requests: QuotaConfig,
    /// Sign-ups, per address.
    pub sign_ups: QuotaConfig,
    /// Logins and token requests, per address.
    pub logins: QuotaConfig,
    /// Failed password logins (the authorize form and the password grant), per account: past
    /// it the account refuses password logins (429) until the quota refills, from any address.
    pub login_failures: QuotaConfig,
    /// Media uploads, per token.
    pub media: QuotaConfig,
}

/// `limit` requests per `period_secs`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaConfig {
    /// Requests per period.
    pub limit: u32,
    /// Period in seconds.
    pub period_secs: u64,
}

impl QuotaConfig {
    /// As the shared GCRA quota.
    pub fn quota(self) -> shared::rate::Quota {
        shared::rate::Quota::new(self.limit, self.period_secs.saturating_mul(1000))
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            trust_forwarded_for: false,
            requests: QuotaConfig { limit: 300, period_secs: 300 },
            sign_ups: QuotaConfig { limit: 5, period_secs: 1800 },
            logins: QuotaConfig { limit: 25, period_secs: 300 },
            login_failures: QuotaConfig { limit: 10, period_secs: 900 },
            media: QuotaConfig { limit: 30, period_secs: 1800 },
        }
    }
}

/// Public identity of the instance.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstanceConfig {
    /// Domain in `acct`s and `uri`s.
    pub domain: String,
    /// Public base URL clients reach (no trailing slash).
    pub base_url: String,
    /// Instance title.
    pub title: String,
    /// Short description.
    pub description: String,
    /// Admin contact e-mail.
    pub contact_email: String,
    /// Who may sign up: `open` (anyone), `approval` (anyone, but a moderator approves each
    /// account before it may sign in) or `closed` (no one: operators create accounts with
    /// `starling accounts create`).
    pub registrations: Registrations,
    /// Base URL of the streaming API advertised to clients (`urls.streaming_api`,
    /// `configuration.urls.streaming`), e.g. `wss://streaming.example.org` when streaming is served
    /// by another host than `base_url` (an edge that cannot proxy WebSockets). Unset: `base_url`
    /// with `ws(s)://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub streaming_url: Option<String>,
    /// The server's rules, shown at sign-up and chosen from in reports (`violation`). Their
    /// ids are their positions from 1: append new rules, do not reorder them.
    pub rules: Vec<RuleConfig>,
}

/// Who may sign up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Registrations {
    /// Anyone.
    #[default]
    Open,
    /// Anyone, approved by a moderator before signing in.
    Approval,
    /// No one.
    Closed,
}

/// One server rule.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// The rule.
    pub text: String,
    /// Longer explanation.
    #[serde(default)]
    pub hint: String,
}

impl InstanceConfig {
    /// The rules as the API lists them.
    pub fn rules(&self) -> Vec<shared::wire::Rule> {
        self.rules.iter().enumerate().map(|(i, r)| shared::wire::Rule { id: (i + 1).to_string(), text: r.text.clone(), hint: r.hint.clone() }).collect()
    }
}

/// Content limits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Characters per status, counted as Mastodon counts them.
    pub max_status_chars: usize,
    /// Characters per bio.
    pub max_note_chars: usize,
    /// Profile fields.
    pub max_profile_fields: usize,
    /// Attachments per status.
    pub max_media_attachments: usize,
    /// Hashtags indexed per status.
    pub max_indexed_tags: usize,
}

/// Poll limits (Mastodon's defaults), advertised in the instance configuration, and how often
/// ended polls are looked for.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollConfig {
    /// Options per poll (at least 2 are always needed).
    pub max_options: usize,
    /// Characters per option.
    pub max_characters_per_option: usize,
    /// Shortest duration, seconds.
    pub min_expiration: u64,
    /// Longest duration, seconds.
    pub max_expiration: u64,
    /// How often, in milliseconds, each core process looks for polls that ended (their
    /// notifications follow the end by at most this much).
    pub expiry_scan_ms: u64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2_629_746, expiry_scan_ms: 1000 }
    }
}

/// Scheduled statuses (`scheduled_at` on `POST /api/v1/statuses`): Mastodon's rules by default,
/// and how often each core process publishes those due.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduledConfig {
    /// How far ahead, in seconds, `scheduled_at` must be at least (Mastodon: 5 minutes).
    pub min_lead_secs: u64,
    /// Scheduled statuses an account may have waiting at once (Mastodon: 300).
    pub max_per_account: usize,
    /// Scheduled statuses an account may have waiting for one UTC day (Mastodon: 25).
    pub max_per_day: usize,
    /// How often, in milliseconds, each core process publishes the scheduled statuses that are
    /// due (a status is published at most this much after its time).
    pub scan_ms: u64,
}

impl Default for ScheduledConfig {
    fn default() -> Self {
        ScheduledConfig { min_lead_secs: 300, max_per_account: 300, max_per_day: 25, scan_ms: 1000 }
    }
}

/// Home-timeline behaviour.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimelineConfig {
    /// Entries kept per cached home timeline.
    pub cap: usize,
    /// Accounts with at least this many followers are merged in at read time, not fanned out.
    pub celebrity_threshold: u64,
    /// Recent statuses of a newly followed account copied into the follower's home.
    pub backfill: usize,
    /// Followed accounts read at most when a home is rebuilt from the store (the newest follows
    /// first): the bound on one rebuild's cost (one query per followed account, and the posts
    /// of accounts followed earlier are not in the rebuilt home until fanout brings new ones).
    pub rebuild_max_followees: usize,
    /// Store queries a home rebuild or a celebrity pull-merge keeps in flight at once.
    pub read_concurrency: usize,
    /// Milliseconds the in-process copies of hot, public data are trusted: public and unlisted
    /// statuses' records and counts, celebrities' newest posts (merged into every follower's
    /// home), the instance's user and status counts. What this process changes itself is
    /// forgotten at once; other processes' changes show within this bound. 0: no copies.
    pub hot_ttl_ms: u64,
}

/// Token lifetimes and keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Access-token lifetime in seconds; 0 means tokens live until revoked (Mastodon's default).
    pub access_token_ttl_secs: u64,
    /// Authorization-code lifetime in seconds.
    pub code_ttl_secs: u64,
    /// Token signing keys as comma-separated secrets (each at least 32 characters, hashed into
    /// an Ed25519 seed): the first signs new tokens, every one verifies and is published at
    /// `/api/starling/v1/keys`. Unset: one key generated on first start and kept in the store.
    pub signing_keys: Option<Secret>,
    /// How often, in seconds, an open stream (SSE or WebSocket) re-checks that its token still
    /// authenticates, closing when it does not. Revocations also close streams at once over the
    /// streams backend ([`crate::revocation`]); this bounds how long a lost announcement leaves
    /// one open. At least 1.
    pub stream_recheck_secs: u64,
}

impl InstanceConfig {
    /// The streaming API's base URL clients are told: `streaming_url`, else `base_url` as `ws(s)://`.
    pub fn streaming_base(&self) -> String {
        match &self.streaming_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => self.base_url.replacen("http", "ws", 1),
        }
    }
}

impl Default for InstanceConfig {
    fn default() -> Self {
        InstanceConfig {
            domain: "localhost:8080".into(),
            base_url: "http://localhost:8080".into(),
            title: "Starling".into(),
            description: "A Starling social server".into(),
            contact_email: "admin@localhost".into(),
            registrations: Registrations::Open,
            streaming_url: None,
            rules: Vec::new(),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_status_chars: 500, max_note_chars: 500, max_profile_fields: 4, max_media_attachments: 4, max_indexed_tags: 20 }
    }
}

impl Default for TimelineConfig {
    fn default() -> Self {
        TimelineConfig { cap: 800, celebrity_threshold: 10_000, backfill: 40, rebuild_max_followees: 2_000, read_concurrency: 16, hot_ttl_ms: 0 }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { access_token_ttl_secs: 0, code_ttl_secs: 600, signing_keys: None, stream_recheck_secs: 5 }
    }
}

/// Media upload limits (Mastodon's defaults), advertised in the instance configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaConfig {
    /// Largest image file, in bytes.
    pub image_size_limit: u64,
    /// Largest video file, in bytes.
    pub video_size_limit: u64,
    /// Most pixels (width × height) an image may have: the decompression-bomb guard.
    pub image_matrix_limit: u64,
    /// Longest side an image may have, in pixels.
    pub max_image_side: u32,
    /// Characters of alt text.
    pub description_limit: usize,
    /// Seconds a signed file URL stays valid at least (files of followers-only and direct
    /// statuses and of unattached uploads are served only on such URLs; docs/media.md). Expiries
    /// are rounded up to the next 10 minutes, so a URL lives up to 10 minutes longer.
    pub signed_url_ttl_secs: u64,
    /// Pixels (width × height, read from the header) that may be decoded at once, over every
    /// concurrent upload: the memory bound of image processing (about 16 bytes a pixel at worst,
    /// docs/operations.md). An image larger than this (but within `image_matrix_limit`) waits
    /// until it can take the whole budget.
    pub decode_pixel_budget: u64,
    /// Milliseconds an upload waits for decode budget before it is refused with 503.
    pub decode_wait_ms: u64,
    /// Largest avatar or header file, in bytes (Mastodon's 8 MB).
    pub profile_image_size_limit: u64,
    /// The ffmpeg program (Debian's `ffmpeg` package) videos and GIFs are transcoded with.
    pub ffmpeg: String,
    /// The ffprobe program (same package) uploads are inspected with.
    pub ffprobe: String,
    /// The `prlimit` program (util-linux) both run under, for the memory and CPU limits.
    pub prlimit: String,
    /// Seconds one ffmpeg or ffprobe run may take before it is killed (its CPU seconds are
    /// limited to this times `ffmpeg_threads`).
    pub ffmpeg_timeout_secs: u64,
    /// Threads one ffmpeg run may use (`-threads`).
    pub ffmpeg_threads: u32,
    /// Bytes of address space one ffmpeg run may map (`prlimit --as`).
    pub ffmpeg_memory_limit: u64,
    /// Longest video or GIF accepted, in seconds (longer uploads are refused with 422).
    pub video_duration_limit_secs: u64,
    /// Longest side of a transcoded video, in pixels (larger ones are scaled down).
    pub max_video_side: u32,
    /// Videos and GIFs one process transcodes at once.
    pub processing_concurrency: usize,
    /// Milliseconds between scans for due media jobs (accepted while no process ran, or whose
    /// process died).
    pub processing_scan_ms: u64,
    /// Whether this process transcodes (a process that only serves requests may leave it to others).
    pub process_jobs: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            image_size_limit: 16 * 1024 * 1024,
            video_size_limit: 99 * 1024 * 1024,
            image_matrix_limit: 33_177_600,
            max_image_side: 16_384,
            description_limit: 1_500,
            signed_url_ttl_secs: 3_600,
            decode_pixel_budget: 50_000_000,
            decode_wait_ms: 10_000,
            profile_image_size_limit: 8 * 1024 * 1024,
            ffmpeg: "ffmpeg".into(),
            ffprobe: "ffprobe".into(),
            prlimit: "prlimit".into(),
            ffmpeg_timeout_secs: 600,
            ffmpeg_threads: 2,
            ffmpeg_memory_limit: 2 * 1024 * 1024 * 1024,
            video_duration_limit_secs: 600,
            max_video_side: 1920,
            processing_concurrency: 1,
            processing_scan_ms: 2_000,
            process_jobs: true,
        }
    }
}

#[cfg(test)]
mod secret_tests {
    use super::*;

    #[test]
    fn the_debug_of_the_config_prints_no_secret() {
        let config = Config {
            auth: AuthConfig { signing_keys: Some("a-signing-secret-of-at-least-32-characters".into()), ..AuthConfig::default() },
            metrics: MetricsConfig { token: Some("scrape-secret".into()) },
            connections: ConnectionConfig { edge_secret: Some("edge-shared-secret".into()), ..ConnectionConfig::default() },
            ..Config::default()
        };
        let printed = format!("{config:?}");
        for secret in ["a-signing-secret", "scrape-secret", "edge-shared-secret"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("signing_keys: Some(***)"), "{printed}");
        assert_eq!(config.metrics.token.as_deref(), Some("scrape-secret"), "core reads the secret itself");
    }
}

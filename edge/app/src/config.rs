//! Edge configuration, read from platform variables (Workers vars and secrets, Spin variables,
//! or the native process's settings) through one lookup function.

use shared::rate::Quota;
use shared::sigv4::Credentials;

/// Everything the edge is configured with.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// How long a cached home timeline may be served, in milliseconds.
    pub home_cache_ttl_ms: u64,
    /// How long core's public keys are cached.
    pub keys_ttl_secs: u64,
    /// How long core's revocation list is cached (the revocation delay at the edge).
    pub revocations_ttl_secs: u64,
    /// Whether rate limits apply at all (off only for load tests and trusted networks).
    pub rate_limits_enabled: bool,
    /// Every request, per token (per address when anonymous).
    pub requests: Quota,
    /// Sign-ups, per address.
    pub sign_ups: Quota,
    /// Logins and token requests, per address.
    pub logins: Quota,
    /// Media uploads, per token.
    pub media: Quota,
    /// Presigned uploads; none disables the route (it is then forwarded to core).
    pub uploads: Option<UploadConfig>,
    /// Node number for ids the edge mints (upload ids), distinct from core's nodes.
    pub node_id: u8,
    /// Secret shared with core (core's `[server] edge_secret`): sent on forwarded requests so
    /// core takes the client address from `x-forwarded-for`. None: not sent.
    pub core_secret: Option<String>,
    /// Where WebSocket streaming is served when this edge's platform cannot proxy it (Spin/WASI):
    /// named in its 501 (core's `[instance] streaming_url` should advertise the same).
    pub streaming_url: Option<String>,
}

/// Where and how uploads go.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// Bucket name.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Endpoint, e.g. `https://s3.us-east-1.amazonaws.com` or `http://127.0.0.1:5000`;
    /// path-style addressing (`/bucket/key`) is used.
    pub endpoint: String,
    /// Signing credentials.
    pub credentials: Credentials,
    /// How long a presigned URL is valid.
    pub expires_secs: u64,
    /// Largest image accepted.
    pub max_image_bytes: u64,
    /// Largest video accepted.
    pub max_video_bytes: u64,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            home_cache_ttl_ms: 5_000,
            keys_ttl_secs: 300,
            revocations_ttl_secs: 30,
            rate_limits_enabled: true,
            requests: Quota::new(300, 300_000),
            sign_ups: Quota::new(5, 1_800_000),
            logins: Quota::new(25, 300_000),
            media: Quota::new(30, 1_800_000),
            uploads: None,
            node_id: 63,
            core_secret: None,
            streaming_url: None,
        }
    }
}

/// A variable that is present but malformed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl EdgeConfig {
    /// Reads `STARLING_*` variables through `var`; absent ones keep their defaults.
    ///
    /// Quotas are `LIMIT/SECONDS`, e.g. `STARLING_RATE_REQUESTS=300/300`; `STARLING_RATE_LIMITS_ENABLED=false`
    /// turns them off. `STARLING_CORE_SECRET` is the secret shared with core for client
    /// addresses; `STARLING_STREAMING_URL` where WebSocket streaming is served when the platform
    /// cannot proxy it. Uploads are enabled
    /// by `STARLING_S3_BUCKET` and need `STARLING_S3_ENDPOINT`, `STARLING_S3_REGION`,
    /// `STARLING_S3_ACCESS_KEY_ID`, `STARLING_S3_SECRET_ACCESS_KEY`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = EdgeConfig::default();
        let number = |name: &str, default: u64| -> Result<u64, ConfigError> {
            match var(name) {
                Some(v) => v.trim().parse().map_err(|_| ConfigError(format!("{name} must be a whole number"))),
                None => Ok(default),
            }
        };
        let quota = |name: &str, default: Quota| -> Result<Quota, ConfigError> {
            let Some(v) = var(name) else { return Ok(default) };
            let (limit, secs) = v.split_once('/').ok_or_else(|| ConfigError(format!("{name} must be LIMIT/SECONDS")))?;
            let limit = limit.trim().parse().map_err(|_| ConfigError(format!("{name}: bad limit")))?;
            let secs: u64 = secs.trim().parse().map_err(|_| ConfigError(format!("{name}: bad seconds")))?;
            Ok(Quota::new(limit, secs.saturating_mul(1000)))
        };
        c.home_cache_ttl_ms = number("STARLING_HOME_CACHE_TTL_MS", c.home_cache_ttl_ms)?;
        c.keys_ttl_secs = number("STARLING_KEYS_TTL_SECS", c.keys_ttl_secs)?;
        c.revocations_ttl_secs = number("STARLING_REVOCATIONS_TTL_SECS", c.revocations_ttl_secs)?;
        c.rate_limits_enabled = match var("STARLING_RATE_LIMITS_ENABLED").as_deref().map(str::trim) {
            None | Some("true" | "1") => true,
            Some("false" | "0") => false,
            Some(_) => return Err(ConfigError("STARLING_RATE_LIMITS_ENABLED must be true or false".into())),
        };
        c.requests = quota("STARLING_RATE_REQUESTS", c.requests)?;
        c.sign_ups = quota("STARLING_RATE_SIGN_UPS", c.sign_ups)?;
        c.logins = quota("STARLING_RATE_LOGINS", c.logins)?;
        c.media = quota("STARLING_RATE_MEDIA", c.media)?;
        c.node_id =
            u8::try_from(number("STARLING_EDGE_NODE_ID", u64::from(c.node_id))?).map_err(|_| ConfigError("STARLING_EDGE_NODE_ID must be 0-63".into()))?;
        c.core_secret = var("STARLING_CORE_SECRET").filter(|v| !v.is_empty());
        c.streaming_url = var("STARLING_STREAMING_URL").filter(|v| !v.is_empty()).map(|v| v.trim_end_matches('/').to_owned());
        if let Some(bucket) = var("STARLING_S3_BUCKET").filter(|b| !b.is_empty()) {
            let required =
                |name: &str| var(name).filter(|v| !v.is_empty()).ok_or_else(|| ConfigError(format!("{name} is required when STARLING_S3_BUCKET is set")));
            c.uploads = Some(UploadConfig {
                bucket,
                region: var("STARLING_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
                endpoint: required("STARLING_S3_ENDPOINT")?.trim_end_matches('/').to_owned(),
                credentials: Credentials {
                    access_key_id: required("STARLING_S3_ACCESS_KEY_ID")?,
                    secret_access_key: required("STARLING_S3_SECRET_ACCESS_KEY")?,
                    session_token: var("STARLING_S3_SESSION_TOKEN").filter(|v| !v.is_empty()),
                },
                expires_secs: number("STARLING_UPLOAD_EXPIRES_SECS", 300)?,
                max_image_bytes: number("STARLING_MAX_IMAGE_BYTES", 16 * 1024 * 1024)?,
                max_video_bytes: number("STARLING_MAX_VIDEO_BYTES", 99 * 1024 * 1024)?,
            });
        }
        Ok(c)
    }
}

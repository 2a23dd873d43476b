//! The few Mastodon API calls the load needs, timed, over one pooled HTTP client. Nothing here
//! panics or retries: every answer, good or bad, is handed back as an [`Answer`].

use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use crate::stats::Outcome;

/// Header in which Starling's edge says whether its cache answered (`hit` / `miss`).
const CACHE_HEADER: &str = "x-starling-cache";

/// How long one request may take before it counts as a `timeout` failure.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A Starling server reached over HTTP.
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// One request's result.
pub struct Answer {
    pub outcome: Outcome,
    /// From sending to the last byte of the body.
    pub latency: Duration,
    /// The body, when asked for and it was JSON.
    pub json: Option<Value>,
    /// The start of the body, for error messages.
    pub excerpt: String,
    /// Whether the edge's cache answered, when the server said.
    pub cache_hit: Option<bool>,
}

impl Answer {
    /// A string field of the JSON body.
    pub fn field(&self, name: &str) -> Option<String> {
        self.json.as_ref()?.get(name)?.as_str().map(str::to_owned)
    }

    /// `status 429: {"error":…}` or `timeout`, for messages.
    pub fn describe(&self) -> String {
        match self.outcome {
            Outcome::Status(s) => format!("status {s}: {}", self.excerpt),
            Outcome::Transport(cause) => format!("{cause}: {}", self.excerpt),
        }
    }
}

impl Api {
    /// A client keeping up to `connections` idle keep-alive connections to `base`.
    pub fn new(base: &str, connections: usize) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(connections)
            .timeout(REQUEST_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Api { http, base: base.trim_end_matches('/').to_owned() })
    }

    /// A request to `path` (which starts with `/`), with a bearer token if given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends and reads the whole body; parses it as JSON when `want_json` and it succeeded.
    pub async fn send(&self, request: RequestBuilder, want_json: bool) -> Answer {
        let start = Instant::now();
        let result = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let cache_hit = response.headers().get(CACHE_HEADER).and_then(|v| v.to_str().ok()).map(|v| v.eq_ignore_ascii_case("hit"));
            let body = response.bytes().await;
            Ok::<_, reqwest::Error>((status, cache_hit, body))
        }
        .await;
        let latency = start.elapsed();
        match result {
            Ok((status, cache_hit, Ok(body))) => {
                let outcome = Outcome::Status(status);
                let json = if want_json || !outcome.is_success() { serde_json::from_slice(&body).ok() } else { None };
                let excerpt = if outcome.is_success() { String::new() } else { String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned() };
                Answer { outcome, latency, json, excerpt, cache_hit }
            }
            Ok((_, _, Err(e))) => Answer { outcome: Outcome::Transport("body"), latency, json: None, excerpt: e.to_string(), cache_hit: None },
            Err(e) => {
                let cause = if e.is_timeout() {
                    "timeout"
                } else if e.is_connect() {
                    "connect"
                } else {
                    "transport"
                };
                Answer { outcome: Outcome::Transport(cause), latency, json: None, excerpt: e.to_string(), cache_hit: None }
            }
        }
    }

    /// Registers an OAuth app and returns an app-only (client_credentials) token.
    pub async fn app_token(&self, scopes: &str) -> anyhow::Result<String> {
        let app = self.request(Method::POST, "/api/v1/apps", None).json(&serde_json::json!({
            "client_name": "starling-load",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": scopes,
        }));
        let app = self.send(app, true).await;
        let (Some(client_id), Some(client_secret)) = (app.field("client_id"), app.field("client_secret")) else {
            anyhow::bail!("cannot register an OAuth app at {}: {}", self.base, app.describe());
        };
        let token = self.request(Method::POST, "/oauth/token", None).json(&serde_json::json!({
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scopes,
        }));
        let token = self.send(token, true).await;
        token.field("access_token").with_context(|| format!("cannot get an app token: {}", token.describe()))
    }
}

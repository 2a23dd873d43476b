//! API tests: the real app on port 0 with embedded adapters in a temp dir, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts;
mod connections;
mod conversations;
mod dynamodb;
mod edge;
mod endorsements;
mod events;
mod filters;
mod instance;
mod kept;
mod lists;
mod media;
mod migrations;
mod moderation;
mod nodes;
mod notification_policy;
mod notifications;
mod oauth;
mod opensearch;
mod ops;
mod polls;
mod push;
mod quotes;
mod ratelimit;
mod redis;
mod safety;
mod scheduled;
mod schema;
mod search;
mod shards;
mod shared_streams;
mod statuses;
mod streaming;
mod tags;
mod timelines;
mod web;

use core_app::App;
use core_server::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A running Starling on a free port with its own data directory.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub app: App,
    pub settings: Settings,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    /// The redis-server this app's timelines and rate limits live in, when on Redis.
    pub redis: Option<std::sync::Arc<core_redis::test_server::RedisServer>>,
    /// The fake OpenSearch this app searches in, when on OpenSearch.
    pub opensearch: Option<core_opensearch::fake::Fake>,
}

/// A registered user and their token.
#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub username: String,
    pub token: String,
}

/// A response, decoded.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Asserts the status, returning the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self.body
    }

    /// The `error` text of an error envelope.
    pub fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or("")
    }
}

/// Builds the app. After a restart the previous server's last handles on the embedded store may
/// still be dropping on another runtime thread (redb and tantivy admit one opener): wait for them
/// briefly.
async fn build_when_released(settings: &Settings) -> (core_app::Application, core_server::events::Pipelines) {
    for _ in 0..50 {
        match core_server::build_serving(settings).await {
            Ok(application) => return application,
            Err(e) if format!("{e:#}").contains("is another starling using it?") => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            Err(e) => panic!("{e:#}"),
        }
    }
    panic!("the data directory stayed locked by the previous server for 5 s")
}

/// Opens a stopped server's embedded store, waiting as [`build_when_released`] does for its last
/// handles to drop.
pub async fn open_when_released(path: &std::path::Path) -> core_embedded::RedbStore {
    for _ in 0..50 {
        match core_embedded::RedbStore::open(path) {
            Ok(store) => return store,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    core_embedded::RedbStore::open(path).expect("the store stayed locked by the previous server for 5 s")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts on the embedded defaults with `store` as the store of record and event log (a
    /// store on a disk that fails on demand).
    pub async fn spawn_on_store(dir: tempfile::TempDir, store: core_embedded::RedbStore) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = test_settings(dir.path(), listener.local_addr().unwrap());
        let mut backends = core_server::backends(&settings).await.unwrap();
        backends.store = std::sync::Arc::new(store.clone());
        backends.events = std::sync::Arc::new(store);
        let application = core_app::Application::build(settings.core_config(), backends).await.unwrap();
        Self::serve(listener, settings, application, (), dir, None, None)
    }

    /// Serves `application` on `listener` until stopped, keeping `keep` (its pipelines) alive.
    fn serve(
        listener: tokio::net::TcpListener,
        settings: Settings,
        application: core_app::Application,
        keep: impl Send + 'static,
        dir: tempfile::TempDir,
        redis: Option<std::sync::Arc<core_redis::test_server::RedisServer>>,
        opensearch: Option<core_opensearch::fake::Fake>,
    ) -> Self {
        let app = application.app().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = core_server::front_router(&settings, &application);
        let server = tokio::spawn(async move {
            let _keep = keep;
            application
                .serve(listener, router, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        let base = app.config().instance.base_url.clone();
        TestApp { base, http: reqwest::Client::new(), app, settings, _dir: dir, stop: Some(stop), server: Some(server), redis, opensearch }
    }

    /// Starts a second core instance on this one's store of record and event log (whichever
    /// backend that is), as another process of the same deployment: its own listener, node
    /// number, caches and search index.
    pub async fn spawn_beside(&self, configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut settings = test_settings(dir.path(), listener.local_addr().unwrap());
        settings.shards = self.settings.shards.clone();
        configure(&mut settings);
        let mut backends = core_server::backends(&settings).await.unwrap();
        backends.store = self.app.store().clone();
        backends.events = self.app.event_log().clone();
        let application = core_app::Application::build(settings.core_config(), backends).await.unwrap();
        Self::serve(listener, settings, application, (), dir, None, None)
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::spawn_in(dir, configure).await
    }

    /// Starts on an existing data directory (restarts keep data).
    pub async fn spawn_in(dir: tempfile::TempDir, configure: impl FnOnce(&mut Settings)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut settings = test_settings(dir.path(), listener.local_addr().unwrap());
        // STARLING_TEST_BACKEND=redis runs every API test with timelines, rate limits and streams
        // in a redis-server of its own.
        let redis =
            (std::env::var("STARLING_TEST_BACKEND").is_ok_and(|b| b == "redis")).then(|| std::sync::Arc::new(core_redis::test_server::RedisServer::single()));
        if let Some(server) = &redis {
            use_redis(&mut settings, server);
        }
        // STARLING_TEST_BACKEND=dynamodb runs every API test on a DynamoDB table of its own at
        // STARLING_TEST_DYNAMODB_ENDPOINT (named after the data directory: restarts keep data).
        if std::env::var("STARLING_TEST_BACKEND").is_ok_and(|b| b == "dynamodb") {
            use_dynamodb(&mut settings, dir.path());
        }
        // STARLING_TEST_SHARDS=n spreads every sharded partition and counter over n shards
        // (scripts/test.sh runs the DynamoDB slice with 4).
        if let Some(n) = std::env::var("STARLING_TEST_SHARDS").ok().and_then(|n| n.parse().ok()) {
            settings.shards = Some(all_shards(n));
        }
        // STARLING_TEST_HOT_TTL_MS=n keeps hot data in process for n ms, as production does
        // (`[timelines] hot_ttl_ms`; scripts/test.sh runs the Redis slice so): what a test changes
        // through the API must show at once all the same.
        if let Some(ms) = std::env::var("STARLING_TEST_HOT_TTL_MS").ok().and_then(|n| n.parse().ok()) {
            settings.timelines = Some(core_app::config::TimelineConfig { hot_ttl_ms: ms, ..settings.timelines.take().unwrap_or_default() });
        }
        // STARLING_TEST_SEARCH=opensearch runs every API test with search in OpenSearch's
        // recorded-contract fake (no OpenSearch server runs here).
        let opensearch =
            if std::env::var("STARLING_TEST_SEARCH").is_ok_and(|b| b == "opensearch") { Some(opensearch::use_fake(&mut settings).await) } else { None };
        configure(&mut settings);
        let (application, pipelines) = build_when_released(&settings).await;
        Self::serve(listener, settings, application, pipelines, dir, redis, opensearch)
    }

    /// Stops the server gracefully and hands back its data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self._dir, dir)
    }

    /// Waits until fanout has processed every event so far.
    pub async fn settle(&self) {
        self.app.drain_events().await.unwrap();
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Body>) -> Reply {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{}", self.base, path) };
        let mut req = self.http.request(method, url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req = match body {
            Some(Body::Json(v)) => req.json(&v),
            Some(Body::Form(pairs)) => req.form(&pairs),
            None => req,
        };
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::POST, path, token, Some(Body::Json(body))).await
    }

    pub async fn post_form(&self, path: &str, token: Option<&str>, pairs: &[(&str, &str)]) -> Reply {
        let pairs = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.request(Method::POST, path, token, Some(Body::Form(pairs))).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PUT, path, token, Some(Body::Json(body))).await
    }

    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.request(Method::PATCH, path, token, Some(Body::Json(body))).await
    }

    pub async fn patch_form(&self, path: &str, token: Option<&str>, pairs: &[(&str, &str)]) -> Reply {
        let pairs = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        self.request(Method::PATCH, path, token, Some(Body::Form(pairs))).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Follows the `rel` link of a paginated reply.
    pub async fn follow_link(&self, reply: &Reply, rel: &str, token: Option<&str>) -> Reply {
        let url = link(reply, rel).unwrap_or_else(|| panic!("no rel=\"{rel}\" link in {:?}", reply.headers.get("link")));
        self.get(&url, token).await
    }

    /// Registers an OAuth app, returning (client_id, client_secret).
    pub async fn create_app(&self, scopes: &str) -> (String, String) {
        let app =
            self.post("/api/v1/apps", None, json!({"client_name": "tests", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes})).await.expect(200);
        (app["client_id"].as_str().unwrap().to_owned(), app["client_secret"].as_str().unwrap().to_owned())
    }

    /// An app-only token (client_credentials).
    pub async fn app_token(&self, scopes: &str) -> String {
        let (id, secret) = self.create_app(scopes).await;
        let token = self
            .post("/oauth/token", None, json!({"grant_type": "client_credentials", "client_id": id, "client_secret": secret, "scope": scopes}))
            .await
            .expect(200);
        token["access_token"].as_str().unwrap().to_owned()
    }

    /// A further token for an existing user with exactly `scopes` (password grant).
    pub async fn token_with_scopes(&self, user: &User, scopes: &str) -> String {
        let (id, secret) = self.create_app("read write follow profile").await;
        let token = self
            .post(
                "/oauth/token",
                None,
                json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": user.username, "password": PASSWORD, "scope": scopes}),
            )
            .await
            .expect(200);
        token["access_token"].as_str().unwrap().to_owned()
    }

    /// Signs up a user with full scopes.
    pub async fn register(&self, username: &str) -> User {
        self.register_with_scopes(username, "read write follow").await
    }

    /// Registers several users, in order.
    pub async fn register_all<const N: usize>(&self, usernames: [&str; N]) -> [User; N] {
        let mut users = Vec::with_capacity(N);
        for name in usernames {
            users.push(self.register(name).await);
        }
        users.try_into().unwrap_or_else(|_| unreachable!("one user per name"))
    }

    pub async fn register_with_scopes(&self, username: &str, scopes: &str) -> User {
        let app_token = self.app_token(scopes).await;
        let token = self
            .post(
                "/api/v1/accounts",
                Some(&app_token),
                json!({"username": username, "email": format!("{username}@example.org"), "password": PASSWORD, "agreement": true}),
            )
            .await
            .expect(200);
        let token = token["access_token"].as_str().unwrap().to_owned();
        let me = self.get("/api/v1/accounts/verify_credentials", Some(&token)).await.expect(200);
        User { id: me["id"].as_str().unwrap().to_owned(), username: username.to_owned(), token }
    }

    /// Posts a status, returning it.
    pub async fn post_status(&self, user: &User, body: Value) -> Value {
        self.post("/api/v1/statuses", Some(&user.token), body).await.expect(200)
    }

    pub async fn follow(&self, who: &User, whom: &User) {
        let rel = self.post(&format!("/api/v1/accounts/{}/follow", whom.id), Some(&who.token), json!({})).await.expect(200);
        assert_eq!(rel["following"], true);
    }

    /// Ids in a home timeline, after fanout settles.
    pub async fn home_ids(&self, user: &User) -> Vec<String> {
        self.settle().await;
        ids(&self.get("/api/v1/timelines/home", Some(&user.token)).await.expect(200))
    }
}

/// The settings every test app starts from: embedded backends in `data_dir`, listening on `listen`.
pub fn test_settings(data_dir: &std::path::Path, listen: std::net::SocketAddr) -> Settings {
    let mut settings = Settings::default();
    settings.server.listen = listen;
    settings.server.data_dir = data_dir.to_path_buf();
    // Tests register many accounts from one address; the limits have tests of their own.
    let mut limits = core_app::config::RateLimitConfig::default();
    limits.sign_ups.limit = 10_000;
    limits.logins.limit = 10_000;
    limits.requests.limit = 100_000;
    settings.rate_limits = Some(limits);
    // The API tests talk to core directly; the edge in front has tests of its own.
    settings.edge.enabled = false;
    settings
}

/// Every sharded partition and counter over `n` shards.
pub fn all_shards(n: u32) -> core_app::config::ShardConfig {
    core_app::config::ShardConfig::uniform(n)
}

/// Points timelines, core's rate limits and the streaming hub at `server`.
pub fn use_redis(settings: &mut Settings, server: &core_redis::test_server::RedisServer) {
    settings.cache = core_server::CacheSettings::Redis;
    settings.rate_limit_store = core_server::RateLimitStoreSettings::Redis;
    settings.streams = core_server::StreamsSettings::Redis;
    settings.redis.url = server.url.clone().into();
}

/// Points the store at a DynamoDB table named after `data_dir`, created on first use.
pub fn use_dynamodb(settings: &mut Settings, data_dir: &std::path::Path) {
    let endpoint = std::env::var("STARLING_TEST_DYNAMODB_ENDPOINT")
        .expect("STARLING_TEST_BACKEND=dynamodb needs STARLING_TEST_DYNAMODB_ENDPOINT (scripts/test.sh starts moto)");
    let name: String = data_dir.file_name().and_then(|n| n.to_str()).unwrap_or("data").chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    settings.store = core_server::StoreSettings::Dynamodb {
        table: format!("starling-it-{}-{name}", std::process::id()),
        region: "us-east-1".into(),
        endpoint: Some(endpoint),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        create_table: true,
        // Split, so every API test also proves the partitioned outbox.
        log_partitions: 8,
    };
}

/// The password every test user signs up with.
pub const PASSWORD: &str = "correct horse battery";

pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

/// The `id`s of a JSON array.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

/// The id of a JSON entity.
pub fn id(entity: &Value) -> String {
    entity["id"].as_str().unwrap().to_owned()
}

/// The URL of a `Link` header's `rel` entry.
pub fn link(reply: &Reply, rel: &str) -> Option<String> {
    let header = reply.headers.get("link")?.to_str().unwrap();
    header.split(", ").find(|part| part.ends_with(&format!("rel=\"{rel}\""))).map(|part| part[1..part.find('>').unwrap()].to_owned())
}

/// Asserts that `entity` has every field in `required` (dotted paths into nested objects), as
/// the named schema of the Mastodon OpenAPI description requires.
#[track_caller]
pub fn assert_required(entity: &Value, schema: &str, required: &[&str]) {
    for path in required {
        let mut at = entity;
        for part in path.split('.') {
            at = at.get(part).unwrap_or_else(|| panic!("{schema} lacks required field `{path}`: {entity}"));
        }
    }
}

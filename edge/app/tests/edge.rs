//! The edge against in-memory ports and a scripted core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use edge_app::config::UploadConfig;
use edge_app::ports::{Clock, Kv, Upstream, UpstreamError};
use edge_app::{Edge, EdgeConfig, EdgeRequest, EdgeResponse, Outcome};
use shared::id::Id;
use shared::rate::Quota;
use shared::sigv4::Credentials;
use shared::token::{Claims, KeySet, Scopes, TokenSigner};

#[derive(Default)]
struct MemKv(Mutex<HashMap<String, Vec<u8>>>);

#[async_trait::async_trait]
impl Kv for &MemKv {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.0.lock().unwrap().get(key).cloned()
    }
    async fn put(&self, key: &str, value: Vec<u8>, _ttl: u64) {
        self.0.lock().unwrap().insert(key.to_owned(), value);
    }
}

/// A scripted core: serves keys, revocations, versions and timelines, and counts calls.
struct Core {
    keys: KeySet,
    revoked: Mutex<Vec<String>>,
    version: AtomicU64,
    calls: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Upstream for &Core {
    async fn send(&self, request: EdgeRequest) -> Result<EdgeResponse, UpstreamError> {
        self.calls.lock().unwrap().push(request.uri.clone());
        let body = match request.path() {
            "/api/starling/v1/keys" => serde_json::to_value(&self.keys).unwrap(),
            "/api/starling/v1/revocations" => serde_json::json!({ "revoked": *self.revoked.lock().unwrap() }),
            "/api/starling/v1/timelines/home/version" => serde_json::json!({ "version": self.version.load(Ordering::SeqCst).to_string() }),
            "/api/v1/timelines/home" => serde_json::json!([{ "id": "1", "for": request.header("authorization") }]),
            other => return Err(UpstreamError(format!("unexpected {other}"))),
        };
        Ok(EdgeResponse::json(200, &body))
    }
}

struct FixedClock(AtomicU64);

impl Clock for &FixedClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

const NOW: u64 = 1_800_000_000_000;

struct World {
    signer: TokenSigner,
    kv: MemKv,
    core: Core,
    clock: FixedClock,
}

impl World {
    fn new() -> Self {
        let signer = TokenSigner::from_seed("k1", [9; 32]);
        let core = Core {
            keys: KeySet { keys: vec![signer.public_key()] },
            revoked: Mutex::new(Vec::new()),
            version: AtomicU64::new(1),
            calls: Mutex::new(Vec::new()),
        };
        World { signer, kv: MemKv::default(), core, clock: FixedClock(AtomicU64::new(NOW)) }
    }

    fn edge(&self, config: EdgeConfig) -> Edge<&MemKv, &Core, &FixedClock> {
        Edge::new(config, &self.kv, &self.core, &self.clock)
    }

    fn token(&self, account: u64, scope: &str, exp: Option<u64>) -> String {
        self.signer.sign(&Claims {
            sub: Some(Id::from_u64(account)),
            app: Id::from_u64(1),
            scope: Scopes::parse(scope).unwrap(),
            iat: NOW / 1000,
            exp,
            jti: Id::from_u64(account * 10),
        })
    }

    fn forwarded_calls(&self) -> Vec<String> {
        self.core.calls.lock().unwrap().iter().filter(|c| !c.starts_with("/api/starling/v1/")).cloned().collect()
    }
}

fn get(uri: &str, token: Option<&str>) -> EdgeRequest {
    let mut r = EdgeRequest { method: "GET".into(), uri: uri.into(), client_ip: Some("203.0.113.7".into()), ..EdgeRequest::default() };
    if let Some(t) = token {
        r.headers.push(("Authorization".into(), format!("Bearer {t}")));
    }
    r
}

fn respond(outcome: Outcome) -> EdgeResponse {
    match outcome {
        Outcome::Respond(r) => r,
        Outcome::Forward { request, .. } => panic!("expected a response, got a forward of {}", request.uri),
    }
}

#[tokio::test]
async fn bad_expired_and_revoked_tokens_get_401_without_reaching_core() {
    let w = World::new();
    let edge = w.edge(EdgeConfig::default());
    let garbage = respond(edge.handle(get("/api/v1/timelines/home", Some("stl1.k1.garbage.sig"))).await);
    assert_eq!(garbage.status, 401);
    assert_eq!(String::from_utf8(garbage.body).unwrap(), r#"{"error":"The access token is invalid"}"#);
    let expired = w.token(5, "read", Some(NOW / 1000 - 1));
    assert_eq!(respond(edge.handle(get("/api/v1/accounts/verify_credentials", Some(&expired))).await).status, 401);
    let forged = TokenSigner::from_seed("k1", [1; 32]).sign(&Claims {
        sub: Some(Id::from_u64(5)),
        app: Id::from_u64(1),
        scope: Scopes::parse("read").unwrap(),
        iat: 0,
        exp: None,
        jti: Id::from_u64(3),
    });
    assert_eq!(respond(edge.handle(get("/api/v1/accounts/verify_credentials", Some(&forged))).await).status, 401);
    w.core.revoked.lock().unwrap().push("70".into());
    let revoked = w.token(7, "read", None);
    assert_eq!(respond(edge.handle(get("/api/v1/accounts/verify_credentials", Some(&revoked))).await).status, 401);
    assert!(w.forwarded_calls().is_empty(), "core saw {:?}", w.forwarded_calls());
}

#[tokio::test]
async fn other_requests_are_forwarded_with_rate_limit_headers() {
    let w = World::new();
    let edge = w.edge(EdgeConfig::default());
    let token = w.token(5, "read write", None);
    match edge.handle(get("/api/v1/accounts/verify_credentials", Some(&token))).await {
        Outcome::Forward { request, response_headers } => {
            assert_eq!(request.uri, "/api/v1/accounts/verify_credentials");
            assert!(request.header("authorization").is_some(), "the token travels on to core");
            let names: Vec<&str> = response_headers.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names, vec!["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]);
            assert_eq!(response_headers[1].1, "299");
        }
        Outcome::Respond(r) => panic!("expected a forward, got {}", r.status),
    }
}

#[tokio::test]
async fn a_burst_past_the_limit_gets_429_with_retry_after() {
    let w = World::new();
    let edge = w.edge(EdgeConfig { requests: Quota::new(3, 60_000), ..EdgeConfig::default() });
    for _ in 0..3 {
        assert!(matches!(edge.handle(get("/api/v1/instance", None)).await, Outcome::Forward { .. }));
    }
    let refused = respond(edge.handle(get("/api/v1/instance", None)).await);
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("20"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    w.clock.0.fetch_add(20_000, Ordering::SeqCst);
    assert!(matches!(edge.handle(get("/api/v1/instance", None)).await, Outcome::Forward { .. }), "capacity returns with time");
}

#[tokio::test]
async fn home_timeline_misses_then_hits_then_follows_version_and_expiry() {
    let w = World::new();
    let edge = w.edge(EdgeConfig::default());
    let alice = w.token(5, "read", None);
    let bob = w.token(6, "read", None);
    let first = respond(edge.handle(get("/api/v1/timelines/home?limit=20", Some(&alice))).await);
    assert_eq!((first.status, first.header("x-starling-cache")), (200, Some("miss")));
    let second = respond(edge.handle(get("/api/v1/timelines/home?limit=20", Some(&alice))).await);
    assert_eq!(second.header("x-starling-cache"), Some("hit"));
    assert_eq!(second.body, first.body);
    let other = respond(edge.handle(get("/api/v1/timelines/home?limit=20", Some(&bob))).await);
    assert_eq!(other.header("x-starling-cache"), Some("miss"), "one user's cache is never another's");
    assert!(String::from_utf8(other.body).unwrap().contains(&bob));
    w.core.version.fetch_add(1, Ordering::SeqCst);
    assert_eq!(
        respond(edge.handle(get("/api/v1/timelines/home?limit=20", Some(&alice))).await).header("x-starling-cache"),
        Some("miss"),
        "a new version invalidates early"
    );
    assert_eq!(respond(edge.handle(get("/api/v1/timelines/home?limit=20", Some(&alice))).await).header("x-starling-cache"), Some("hit"));
    w.clock.0.fetch_add(5_000, Ordering::SeqCst);
    assert_eq!(
        respond(edge.handle(get("/api/v1/timelines/home?limit=20", Some(&alice))).await).header("x-starling-cache"),
        Some("miss"),
        "entries expire after the bound"
    );
    assert_eq!(w.forwarded_calls().len(), 4, "only misses reach core's timeline");
}

#[tokio::test]
async fn a_users_own_write_invalidates_their_cached_home_but_not_others() {
    let w = World::new();
    let edge = w.edge(EdgeConfig::default());
    let alice = w.token(5, "read write", None);
    let bob = w.token(6, "read write", None);
    let home = |t: &str| get("/api/v1/timelines/home", Some(t));
    respond(edge.handle(home(&alice)).await);
    respond(edge.handle(home(&bob)).await);
    w.clock.0.fetch_add(10, Ordering::SeqCst);
    let mut favourite = get("/api/v1/statuses/1/favourite", Some(&alice));
    favourite.method = "POST".into();
    assert!(matches!(edge.handle(favourite).await, Outcome::Forward { .. }));
    w.clock.0.fetch_add(10, Ordering::SeqCst);
    assert_eq!(respond(edge.handle(home(&alice)).await).header("x-starling-cache"), Some("miss"), "alice sees her favourite at once");
    assert_eq!(respond(edge.handle(home(&alice)).await).header("x-starling-cache"), Some("hit"), "and the page fetched after it is cached again");
    assert_eq!(respond(edge.handle(home(&bob)).await).header("x-starling-cache"), Some("hit"), "bob's cache is untouched");
}

#[tokio::test]
async fn rate_limits_can_be_turned_off() {
    let w = World::new();
    let edge = w.edge(EdgeConfig { rate_limits_enabled: false, requests: Quota::new(1, 60_000), ..EdgeConfig::default() });
    for _ in 0..5 {
        match edge.handle(get("/api/v1/instance", None)).await {
            Outcome::Forward { response_headers, .. } => assert!(response_headers.is_empty(), "no quota, no headers"),
            Outcome::Respond(r) => panic!("expected a forward, got {}", r.status),
        }
    }
}

fn uploads() -> EdgeConfig {
    EdgeConfig {
        uploads: Some(UploadConfig {
            bucket: "media".into(),
            region: "us-east-1".into(),
            endpoint: "http://127.0.0.1:5000".into(),
            credentials: Credentials { access_key_id: "test".into(), secret_access_key: "test".into(), session_token: None },
            expires_secs: 300,
            max_image_bytes: 1000,
            max_video_bytes: 5000,
        }),
        ..EdgeConfig::default()
    }
}

fn upload(token: &str, body: serde_json::Value) -> EdgeRequest {
    let mut r = get("/api/starling/v1/media/uploads", Some(token));
    r.method = "POST".into();
    r.body = body.to_string().into_bytes();
    r
}

#[tokio::test]
async fn presigned_uploads_sign_type_and_length_and_refuse_bad_files() {
    let w = World::new();
    let edge = w.edge(uploads());
    let token = w.token(5, "write:media", None);
    let ok = respond(edge.handle(upload(&token, serde_json::json!({"content_type": "image/png", "size": 999, "file_name": "cat.png"}))).await);
    assert_eq!(ok.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&ok.body).unwrap();
    let url = body["upload"]["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:5000/media/uploads/5/"), "{url}");
    assert!(url.contains("X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost"), "{url}");
    assert!(url.contains("X-Amz-Expires=300"), "{url}");
    assert_eq!(body["upload"]["headers"]["Content-Length"], "999");
    assert_eq!(respond(edge.handle(upload(&token, serde_json::json!({"content_type": "image/png", "size": 1001}))).await).status, 422);
    assert_eq!(respond(edge.handle(upload(&token, serde_json::json!({"content_type": "application/x-msdownload", "size": 10}))).await).status, 422);
    assert_eq!(respond(edge.handle(upload(&token, serde_json::json!({"content_type": "image/png"}))).await).status, 422);
    let read_only = w.token(6, "read", None);
    assert_eq!(respond(edge.handle(upload(&read_only, serde_json::json!({"content_type": "image/png", "size": 10}))).await).status, 403);
}

#[test]
fn config_reads_platform_variables() {
    let vars: HashMap<&str, &str> = [("STARLING_RATE_REQUESTS", "10/60"), ("STARLING_HOME_CACHE_TTL_MS", "2000")].into();
    let c = EdgeConfig::from_vars(|k| vars.get(k).map(|v| (*v).to_owned())).unwrap();
    assert_eq!(c.requests, Quota::new(10, 60_000));
    assert_eq!(c.home_cache_ttl_ms, 2000);
    assert!(c.uploads.is_none());
    let bad: HashMap<&str, &str> = [("STARLING_S3_BUCKET", "b")].into();
    assert!(EdgeConfig::from_vars(|k| bad.get(k).map(|v| (*v).to_owned())).is_err(), "a bucket without an endpoint is refused");
}

/// Asserts the CORS headers core's layer puts on a non-preflight response.
fn assert_cors(r: &EdgeResponse) {
    assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{r:?}");
    let exposed = r.header("access-control-expose-headers").unwrap_or_default();
    for name in ["link", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
        assert!(exposed.split(',').any(|h| h.trim() == name), "{name} not exposed: {exposed}");
    }
    assert_eq!(r.header("vary"), Some(edge_app::cors::VARY));
}

#[tokio::test]
async fn responses_the_edge_builds_carry_cors_headers() {
    let w = World::new();
    let edge = w.edge(EdgeConfig { requests: Quota::new(2, 60_000), ..EdgeConfig::default() });
    let unauthorized = respond(edge.handle(get("/api/v1/timelines/home", Some("stl1.k1.garbage.sig"))).await);
    assert_eq!(unauthorized.status, 401);
    assert_cors(&unauthorized);
    let token = w.token(5, "read", None);
    let miss = respond(edge.handle(get("/api/v1/timelines/home", Some(&token))).await);
    assert_eq!(miss.status, 200);
    assert_cors(&miss);
    let hit = respond(edge.handle(get("/api/v1/timelines/home", Some(&token))).await);
    assert_eq!(hit.status, 200);
    assert_cors(&hit);
    let limited = respond(edge.handle(get("/api/v1/timelines/home", Some(&token))).await);
    assert_eq!(limited.status, 429);
    assert_cors(&limited);
}

#[tokio::test]
async fn preflights_are_answered_by_the_edge_as_core_answers_them() {
    let w = World::new();
    // A limit of one: preflights neither count against it nor need a token.
    let edge = w.edge(EdgeConfig { requests: Quota::new(1, 60_000), ..EdgeConfig::default() });
    for _ in 0..3 {
        let mut request = get("/api/v1/statuses", Some("stl1.k1.garbage.sig"));
        request.method = "OPTIONS".into();
        request.headers.push(("Origin".into(), "https://app.example".into()));
        request.headers.push(("Access-Control-Request-Method".into(), "POST".into()));
        request.headers.push(("Access-Control-Request-Headers".into(), "authorization, content-type".into()));
        let r = respond(edge.handle(request).await);
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("access-control-allow-methods"), Some("*"));
        assert_eq!(r.header("access-control-allow-headers"), Some("*"));
        assert_eq!(r.header("vary"), Some(edge_app::cors::VARY));
    }
    assert!(w.forwarded_calls().is_empty(), "core saw {:?}", w.forwarded_calls());
}

#[tokio::test]
async fn forwarded_requests_carry_the_client_address_and_the_core_secret_when_configured() {
    let w = World::new();
    let request = get("/api/v1/accounts", None);
    assert_eq!(w.edge(EdgeConfig::default()).forward_headers(&request), vec![("x-forwarded-for".to_owned(), "203.0.113.7".to_owned())]);
    let edge = w.edge(EdgeConfig { core_secret: Some("s3cret".into()), ..EdgeConfig::default() });
    assert_eq!(
        edge.forward_headers(&request),
        vec![("x-forwarded-for".to_owned(), "203.0.113.7".to_owned()), ("x-starling-edge-secret".to_owned(), "s3cret".to_owned())]
    );
}

#[test]
fn websocket_upgrades_are_recognised_and_refused_clearly_where_unsupported() {
    let mut request = get("/api/v1/streaming?stream=user", None);
    assert!(!edge_app::is_websocket_upgrade(&request));
    request.headers.push(("Upgrade".into(), "WebSocket".into()));
    assert!(edge_app::is_websocket_upgrade(&request));
    let config = EdgeConfig { streaming_url: Some("wss://streaming.example".into()), ..EdgeConfig::default() };
    let r = edge_app::websocket_unsupported(&config);
    assert_eq!(r.status, 501);
    assert!(String::from_utf8(r.body.clone()).unwrap().contains("wss://streaming.example"));
    assert_cors(&r);
    let vars: HashMap<&str, &str> = [("STARLING_CORE_SECRET", "x"), ("STARLING_STREAMING_URL", "wss://s.example/")].into();
    let c = EdgeConfig::from_vars(|k| vars.get(k).map(|v| (*v).to_owned())).unwrap();
    assert_eq!((c.core_secret.as_deref(), c.streaming_url.as_deref()), (Some("x"), Some("wss://s.example")));
}

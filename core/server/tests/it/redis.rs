//! The API with home timelines, rate limits and streams in a real redis-server (started per test on a
//! free loopback port). The whole API suite also runs this way with
//! `STARLING_TEST_BACKEND=redis`; these tests always do. A missing redis-server fails them. Those
//! needing a server are `#[ignore]`d so that plain `cargo test` needs no services: `scripts/test.sh
//! tier2` runs them (`cargo test -p core-server --test it -- --ignored redis::`).

use secrecy::ExposeSecret as _;

use std::sync::Arc;

use core_redis::test_server::RedisServer;
use serde_json::json;

use crate::{TestApp, id, use_redis};

async fn on_redis() -> (Arc<RedisServer>, TestApp) {
    let server = Arc::new(RedisServer::single());
    let t = on(&server).await;
    (server, t)
}

async fn on(server: &Arc<RedisServer>) -> TestApp {
    let mut t = TestApp::spawn_with(|s| use_redis(s, server)).await;
    t.redis = Some(server.clone());
    t
}

async fn flush(server: &RedisServer) {
    core_redis::Redis::connect(&server.url).await.unwrap().flush_all().await.unwrap();
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn home_timelines_live_in_redis_with_one_entry_per_status() {
    let (server, t) = on_redis().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let carol = t.register("carol").await;
    t.follow(&bob, &alice).await;
    t.follow(&bob, &carol).await;
    assert!(t.home_ids(&bob).await.is_empty());
    let version = t.get("/api/starling/v1/timelines/home/version", Some(&bob.token)).await.expect(200)["version"].clone();
    let carols = t.post_status(&carol, json!({"status": "from carol"})).await;
    let alices = t.post_status(&alice, json!({"status": "from alice"})).await;
    t.post(&format!("/api/v1/statuses/{}/reblog", id(&carols)), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(t.home_ids(&bob).await, vec![id(&alices), id(&carols)], "the boost of a status already shown is skipped");
    assert_ne!(t.get("/api/starling/v1/timelines/home/version", Some(&bob.token)).await.expect(200)["version"], version, "fanout moves the version");
    let keys = std::process::Command::new("redis-cli").args(["-u", &server.url, "--scan", "--pattern", &format!("tl:{{home:{}}}:*", bob.id)]).output().unwrap();
    assert!(String::from_utf8_lossy(&keys.stdout).contains(":e"), "bob's timeline is a sorted set in redis");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn following_backfills_and_unfollowing_removes_on_redis() {
    let (_server, t) = on_redis().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    let old = t.post_status(&alice, json!({"status": "before the follow"})).await;
    assert!(t.home_ids(&bob).await.is_empty());
    t.follow(&bob, &alice).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&old)], "following backfills recent posts");
    t.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    assert!(t.home_ids(&bob).await.is_empty(), "unfollowing removes them");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn deleting_a_status_removes_it_from_homes_on_redis() {
    let (_server, t) = on_redis().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.follow(&bob, &alice).await;
    let keep = t.post_status(&alice, json!({"status": "keep"})).await;
    let gone = t.post_status(&alice, json!({"status": "delete me"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&gone), id(&keep)]);
    t.delete(&format!("/api/v1/statuses/{}", id(&gone)), Some(&alice.token)).await.expect(200);
    assert_eq!(t.home_ids(&bob).await, vec![id(&keep)]);
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_flushed_redis_rebuilds_home_timelines_on_read() {
    let (server, t) = on_redis().await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.follow(&bob, &alice).await;
    let posts = [t.post_status(&alice, json!({"status": "one"})).await, t.post_status(&alice, json!({"status": "two"})).await];
    let before = t.home_ids(&bob).await;
    assert_eq!(before, vec![id(&posts[1]), id(&posts[0])]);
    flush(&server).await;
    assert_eq!(t.home_ids(&bob).await, before, "the wiped home is rebuilt from the store");
    let three = t.post_status(&alice, json!({"status": "three"})).await;
    assert_eq!(t.home_ids(&bob).await[0], id(&three), "fanout resumes into the rebuilt home");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn rate_limits_in_redis_are_shared_by_core_processes() {
    let (server, first) = on_redis().await;
    let limited = |s: &mut core_server::Settings| {
        use_redis(s, &server);
        s.rate_limits.as_mut().unwrap().requests.limit = 3;
    };
    let first = {
        drop(first);
        TestApp::spawn_with(limited).await
    };
    let second = TestApp::spawn_with(limited).await;
    let mut codes = Vec::new();
    for app in [&first, &second, &first, &second] {
        codes.push(app.get("/api/v1/timelines/public", None).await.status.as_u16());
    }
    assert_eq!(codes, vec![200, 200, 200, 429], "one budget across both processes");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn ready_reports_a_lost_redis_as_unavailable() {
    let (server, t) = on_redis().await;
    assert_eq!(t.get("/ready", None).await.expect(200)["status"], "ready");
    let t = {
        let mut t = t;
        t.redis = None;
        t
    };
    drop(server);
    let reply = t.get("/ready", None).await;
    assert_eq!(reply.status.as_u16(), 503, "{:?}", reply.body);
    let down: Vec<&str> = reply.body["backends"].as_array().unwrap().iter().filter(|b| b["up"] == false).map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(down, ["timelines", "rate_limits", "streams"]);
    assert!(!reply.body.to_string().contains("redis"), "no internal error text: {}", reply.body);
}

#[tokio::test]
async fn startup_fails_fast_when_redis_is_unreachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = core_server::Settings::default();
    settings.server.data_dir = dir.path().to_path_buf();
    settings.cache = core_server::CacheSettings::Redis;
    settings.redis.url = format!("redis://127.0.0.1:{port}").into();
    let error = core_server::build(&settings).await.err().expect("no redis listens there");
    let message = format!("{error:#}");
    assert!(message.contains("redis backend is unreachable") && message.contains(&port.to_string()), "{message}");
}

#[tokio::test]
async fn the_redis_settings_parse_from_toml() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("starling.toml");
    std::fs::write(&path, "[cache]\ntype = \"redis\"\n[rate_limit_store]\ntype = \"redis\"\n[streams]\ntype = \"redis\"\n[redis]\nurl = \"rediss-cluster://10.0.0.1:6379?node=10.0.0.2:6379\"\nca_file = \"/etc/starling/redis-ca.pem\"\ncommand_timeout_ms = 100\nbreaker_failures = 2\n").unwrap();
    let settings = core_server::Settings::load(Some(&path)).unwrap();
    assert!(matches!(settings.cache, core_server::CacheSettings::Redis));
    assert!(matches!(settings.rate_limit_store, core_server::RateLimitStoreSettings::Redis));
    assert!(matches!(settings.streams, core_server::StreamsSettings::Redis));
    assert_eq!(settings.redis.url.expose_secret(), "rediss-cluster://10.0.0.1:6379?node=10.0.0.2:6379");
    assert_eq!(settings.redis.ca_file.as_deref(), Some(std::path::Path::new("/etc/starling/redis-ca.pem")));
    let config = settings.redis.config();
    assert_eq!((config.timeouts.command, config.breaker.failures), (std::time::Duration::from_millis(100), 2), "timeouts and breaker from [redis]");
    assert_eq!(
        (config.timeouts.connect, config.breaker.cooldown),
        (std::time::Duration::from_millis(500), std::time::Duration::from_secs(2)),
        "the rest keep their defaults"
    );
    assert!(matches!(core_server::Settings::default().streams, core_server::StreamsSettings::Memory), "streams stay in memory by default");
    assert!(!format!("{settings:?}").contains("10.0.0.1"), "the url (which may hold a password) is not logged");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn the_api_runs_on_a_tls_redis_with_a_private_ca() {
    let server = Arc::new(RedisServer::single_tls());
    let ca_file = server.ca_file.clone();
    let mut t = TestApp::spawn_with(|s| {
        use_redis(s, &server);
        s.redis.ca_file = ca_file;
    })
    .await;
    t.redis = Some(server.clone());
    assert!(t.settings.redis.url.expose_secret().starts_with("rediss://"));
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.follow(&bob, &alice).await;
    let mut stream = crate::streaming::Sse::open(&t, "/api/v1/streaming/user", Some(&bob.token)).await;
    let post = t.post_status(&alice, json!({"status": "over TLS"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&post)], "home timelines live in the TLS redis");
    let update = stream.next().await;
    assert_eq!((update.event.as_str(), update.json()["id"].clone()), ("update", json!(id(&post))), "streams pass through it");
    assert_eq!(t.get("/ready", None).await.expect(200)["status"], "ready");
    let keys = server.cli(&["--scan", "--pattern", &format!("tl:{{home:{}}}:*", bob.id)]);
    assert!(keys.contains(":e"), "bob's timeline is in the TLS redis: {keys}");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn startup_fails_clearly_when_the_redis_certificate_is_not_trusted() {
    let server = RedisServer::single_tls();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = core_server::Settings::default();
    settings.server.data_dir = dir.path().to_path_buf();
    settings.streams = core_server::StreamsSettings::Redis;
    settings.redis.url = server.url.clone().into();
    let message = format!("{:#}", core_server::build(&settings).await.err().expect("the test CA is not trusted by the system"));
    assert!(message.contains("redis backend is unreachable") && message.contains("ca_file"), "{message}");
}

/// Settings for the outage tests: short timeouts and a quick breaker, so the tests are quick too.
fn outage_settings(s: &mut core_server::Settings, server: &RedisServer) {
    use_redis(s, server);
    s.redis.command_timeout_ms = 200;
    s.redis.breaker_failures = 3;
    s.redis.breaker_cooldown_ms = 500;
}

/// `reply`, asserting it came within a second.
async fn within_a_second(what: &str, reply: impl std::future::Future<Output = crate::Reply>) -> crate::Reply {
    let start = std::time::Instant::now();
    let reply = reply.await;
    assert!(start.elapsed() < std::time::Duration::from_secs(1), "{what} took {:?} while redis is down", start.elapsed());
    reply
}

/// The ids of `bob`'s home as the Redis sorted set holds them (16-digit hex sort keys).
fn cached_home(server: &RedisServer, account: &str) -> String {
    server.cli(&["ZRANGE", &format!("tl:{{home:{account}}}:e"), "0", "-1"])
}

fn sort_key(status: &serde_json::Value) -> String {
    format!("{:016x}", id(status).parse::<u64>().unwrap())
}

/// Polls `/ready` until it answers 200 (Redis back and the breaker closed).
async fn wait_until_ready(t: &TestApp) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while t.get("/ready", None).await.status.as_u16() != 200 {
        assert!(std::time::Instant::now() < deadline, "not ready again within 15 s of redis coming back");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_frozen_or_lost_redis_is_failed_fast_and_nothing_is_lost() {
    let mut server = RedisServer::single();
    let t = TestApp::spawn_with(|s| outage_settings(s, &server)).await;
    let alice = t.register("alice").await;
    let bob = t.register("bob").await;
    t.follow(&bob, &alice).await;
    let before = t.post_status(&alice, json!({"status": "before the outage"})).await;
    assert_eq!(t.home_ids(&bob).await, vec![id(&before)]);

    // Frozen: connections open, no answers.
    server.pause();
    let mut posted = vec![before.clone()];
    for n in 0..4 {
        let post = within_a_second("a post", t.post("/api/v1/statuses", Some(&alice.token), json!({"status": format!("while frozen {n}")}))).await;
        posted.insert(0, post.expect(200));
        let home = within_a_second("a home read", t.get("/api/v1/timelines/home", Some(&bob.token))).await;
        assert_eq!(crate::ids(&home.expect(200)), posted.iter().map(id).collect::<Vec<_>>(), "the home is read from the store, posts included");
    }
    let ready = within_a_second("/ready", t.get("/ready", None)).await;
    assert_eq!(ready.status.as_u16(), 503, "{:?}", ready.body);
    let down: Vec<&str> = ready.body["backends"].as_array().unwrap().iter().filter(|b| b["up"] == false).map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(down, ["timelines", "rate_limits", "streams"]);
    let head = t.app.events_head().await.unwrap();
    assert!(t.app.consumer_checkpoint("fanout").await.unwrap().is_behind(&head), "fanout does not pass events it could not deliver");

    server.resume();
    wait_until_ready(&t).await;
    t.settle().await;
    assert_eq!(t.home_ids(&bob).await, posted.iter().map(id).collect::<Vec<_>>());
    let cached = cached_home(&server, &bob.id);
    for post in &posted {
        assert!(cached.contains(&sort_key(post)), "fanout delivered {} into the cached home after the freeze: {cached}", id(post));
    }

    // Lost: the server dies (its data with it) and comes back empty.
    server.kill();
    let during = within_a_second("a post", t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "while down"}))).await.expect(200);
    posted.insert(0, during.clone());
    for _ in 0..3 {
        let home = within_a_second("a home read", t.get("/api/v1/timelines/home", Some(&bob.token))).await;
        assert_eq!(crate::ids(&home.expect(200)), posted.iter().map(id).collect::<Vec<_>>());
    }
    assert_eq!(within_a_second("/ready", t.get("/ready", None)).await.status.as_u16(), 503);
    server.start_again();
    wait_until_ready(&t).await;
    t.settle().await;
    assert_eq!(t.home_ids(&bob).await, posted.iter().map(id).collect::<Vec<_>>(), "the emptied cache is rebuilt with everything");
    assert!(cached_home(&server, &bob.id).contains(&sort_key(&during)), "the home lives in redis again");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn rate_limits_hold_in_process_while_redis_is_frozen() {
    let server = RedisServer::single();
    let t = TestApp::spawn_with(|s| {
        outage_settings(s, &server);
        s.rate_limits.as_mut().unwrap().requests.limit = 3;
    })
    .await;
    server.pause();
    let mut codes = Vec::new();
    for _ in 0..4 {
        let reply = within_a_second("a rate-limited request", t.get("/api/v1/timelines/public", None)).await;
        assert!(reply.headers.contains_key("x-ratelimit-remaining"), "the local limiter's headers: {:?}", reply.headers);
        codes.push(reply.status.as_u16());
    }
    assert_eq!(codes, vec![200, 200, 200, 429], "the local limiter limits while redis cannot");
    server.resume();
}

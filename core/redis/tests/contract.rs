//! The port contract suites and Redis-specific behaviour against a real redis-server on a
//! free loopback port (and a three-node Redis Cluster, and both over TLS). `redis-server`
//! missing fails these tests. They are `#[ignore]`d so that plain `cargo test` needs no
//! services: `scripts/test.sh tier2` runs them (`cargo test -p core-redis -- --ignored`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core_ports::contract;
use std::time::Duration;

use core_ports::ports::{RateLimitStore as _, StreamHub as _, StreamMessage, TimelineCache, TimelineEntry};
use core_redis::test_server::RedisServer;
use core_redis::{Redis, RedisConfig, RedisRateLimiter, RedisStreamHub, RedisTimelineCache};
use shared::id::Id;
use shared::page::PageRequest;
use shared::rate::Quota;

async fn single() -> (RedisServer, Redis) {
    let server = RedisServer::single();
    let redis = Redis::connect(&server.url).await.unwrap();
    (server, redis)
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn redis_timelines_keep_the_timeline_cache_contract() {
    let (_server, redis) = single().await;
    contract::timeline_cache::all(&RedisTimelineCache::new(redis)).await;
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn redis_rate_limiter_keeps_the_rate_limit_contract() {
    let (_server, redis) = single().await;
    contract::rate_limit::all(&RedisRateLimiter::new(redis)).await;
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_redis_cluster_keeps_both_contracts() {
    let server = RedisServer::cluster();
    let redis = Redis::connect(&server.url).await.unwrap();
    contract::timeline_cache::all(&RedisTimelineCache::new(redis.clone())).await;
    contract::rate_limit::all(&RedisRateLimiter::new(redis.clone())).await;
    // Fanout over many timelines spreads over every node's slots.
    let cache = RedisTimelineCache::new(redis);
    let timelines: Vec<String> = (0..64).map(|i| format!("home:cluster-{i}")).collect();
    for t in &timelines[..32] {
        cache.create(t).await.unwrap();
    }
    let entry = TimelineEntry { id: Id::from_u64(7), reblog_of: None };
    assert_eq!(cache.fan_out(&timelines, entry, 10).await.unwrap(), 32, "fanout reaches the built timelines on every node");
    cache.remove_from_all(&timelines, &[Id::from_u64(7)]).await.unwrap();
    let all = PageRequest::new(None, None, None, Some(10), 10, 10).window();
    for t in &timelines {
        assert!(cache.range(t, &all).await.unwrap().is_empty());
    }
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn ids_beyond_53_bits_keep_their_exact_order() {
    let (_server, redis) = single().await;
    let cache = RedisTimelineCache::new(redis);
    // Same millisecond, neighbouring sequence numbers, high bits set: equal as f64 scores.
    let base = 0xFFFF_FFFF_FFFF_0000_u64;
    assert_eq!(base as f64, (base + 1) as f64, "the premise: these ids collide as f64");
    let t = "home:precision";
    cache.create(t).await.unwrap();
    let entries: Vec<TimelineEntry> = (0..5).map(|i| TimelineEntry { id: Id::from_u64(base + i), reblog_of: None }).collect();
    cache.insert(t, &entries, 800).await.unwrap();
    let all = PageRequest::new(None, None, None, Some(10), 10, 10).window();
    assert_eq!(cache.range(t, &all).await.unwrap(), (0..5).rev().map(|i| Id::from_u64(base + i)).collect::<Vec<_>>());
    let page = PageRequest::new(Some(Id::from_u64(base + 3)), Some(Id::from_u64(base + 1)), None, Some(10), 10, 10).window();
    assert_eq!(cache.range(t, &page).await.unwrap(), vec![Id::from_u64(base + 2)], "exclusive bounds one id apart");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_flushed_redis_reads_as_unbuilt_timelines_and_recovers_its_scripts() {
    let (_server, redis) = single().await;
    let cache = RedisTimelineCache::new(redis.clone());
    let limiter = RedisRateLimiter::new(redis.clone());
    let t = "home:flush";
    cache.create(t).await.unwrap();
    cache.insert(t, &[TimelineEntry { id: Id::from_u64(1), reblog_of: None }], 10).await.unwrap();
    let before = cache.version(t).await.unwrap();
    redis.flush_all().await.unwrap();
    assert!(!cache.exists(t).await.unwrap(), "a wiped timeline is not built, so the next read rebuilds it");
    assert_eq!(cache.fan_out(&[t.to_owned()], TimelineEntry { id: Id::from_u64(2), reblog_of: None }, 10).await.unwrap(), 0);
    // A restart or failover empties the script cache: calls reload the scripts.
    let flush = fred::types::CustomCommand::new_static("SCRIPT", fred::types::ClusterHash::Random, false);
    fred::prelude::ClientLike::custom::<(), _>(redis.client(), flush, vec!["FLUSH"]).await.unwrap();
    cache.create(t).await.unwrap();
    assert_eq!(cache.fan_out(&[t.to_owned()], TimelineEntry { id: Id::from_u64(3), reblog_of: None }, 10).await.unwrap(), 1, "fanout reloads lost scripts");
    assert!(cache.version(t).await.unwrap() > before, "a rebuilt timeline's version never repeats an old one");
    fred::prelude::ClientLike::custom::<(), _>(
        redis.client(),
        fred::types::CustomCommand::new_static("SCRIPT", fred::types::ClusterHash::Random, false),
        vec!["FLUSH"],
    )
    .await
    .unwrap();
    assert!(limiter.hit("k", Quota::new(1, 1000), 5).await.unwrap().allowed, "the limiter reloads lost scripts");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn redis_gcra_decides_exactly_like_the_shared_arithmetic() {
    let (_server, redis) = single().await;
    let limiter = RedisRateLimiter::new(redis);
    // A deterministic walk of bursts and pauses over several quotas, including a zero limit.
    for (n, quota) in [Quota::new(5, 1000), Quota::new(3, 300), Quota::new(300, 300_000), Quota::new(7, 1), Quota::new(0, 1000)].into_iter().enumerate() {
        let key = format!("walk-{n}");
        let mut tat = None;
        let mut now = 1_700_000_000_000_u64;
        let mut state = 0x2545_F491_u64;
        for _ in 0..300 {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            if (state >> 20) % 3 != 0 {
                // Otherwise a repeat of the same instant.
                now += (state >> 33) % (quota.period_ms / 2 + 2);
            }
            let expected = quota.check(tat, now);
            let got = limiter.hit(&key, quota, now).await.unwrap();
            assert_eq!(got, expected, "quota {quota:?} at {now}");
            if expected.allowed {
                tat = Some(expected.tat_ms);
            }
        }
    }
}

#[tokio::test]
async fn an_unreachable_redis_fails_fast_with_a_clear_message() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let started = std::time::Instant::now();
    let error = Redis::connect(&format!("redis://127.0.0.1:{port}")).await.err().expect("no server listens there");
    assert!(error.to_string().contains("cannot connect to redis at redis://127.0.0.1"), "{error}");
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "startup gives up within seconds");
    assert!(Redis::connect("not a url").await.is_err());
}

/// Two hubs on `redis`, as two core processes hold them, noticing departures quickly.
async fn two_hubs(url: &str, ca_file: Option<std::path::PathBuf>) -> (RedisStreamHub, RedisStreamHub) {
    let config = RedisConfig { ca_file, ..RedisConfig::new(url) };
    let a = Redis::connect_with(&config).await.unwrap();
    let b = Redis::connect_with(&config).await.unwrap();
    let sweep = Duration::from_millis(200);
    (RedisStreamHub::connect_with_sweep(&a, sweep).await.unwrap(), RedisStreamHub::connect_with_sweep(&b, sweep).await.unwrap())
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn redis_stream_hub_keeps_the_stream_hub_contracts() {
    let (server, _redis) = single().await;
    let (a, b) = two_hubs(&server.url, None).await;
    contract::stream_hub::all(&a).await;
    contract::shared_stream_hub::all(&a, &b).await;
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_redis_cluster_keeps_the_stream_hub_contracts_with_channels_on_every_node() {
    let server = RedisServer::cluster();
    let (a, b) = two_hubs(&server.url, None).await;
    contract::stream_hub::all(&a).await;
    contract::shared_stream_hub::all(&a, &b).await;
    // Channels spread over the three nodes' slots; each is heard from the other process.
    let channels: Vec<String> = (0..24).map(|i| format!("timeline:{i}")).collect();
    let mut receivers = Vec::new();
    for channel in &channels {
        receivers.push(b.subscribe(channel).await.unwrap());
    }
    for channel in &channels {
        assert!(a.has_subscribers(channel).await.unwrap(), "{channel}: the slot's node counts the other process's subscriber");
        a.publish(channel, StreamMessage { event: "update".into(), payload: channel.clone() }).await.unwrap();
    }
    for (channel, rx) in channels.iter().zip(&mut receivers) {
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a message within 5s").unwrap();
        assert_eq!(&got.payload, channel);
    }
    let nodes = server.cli(&["cluster", "nodes"]);
    assert_eq!(nodes.lines().filter(|l| l.contains("master")).count(), 3, "{nodes}");
}

/// The public timeline channels spread over four Redis channels each, on a cluster: the hub
/// contracts hold, a listener hears every message of every shard as one channel, one status's
/// messages keep their order, and the shards share the traffic.
#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn public_channels_spread_over_redis_channels_are_heard_whole_and_in_order_per_status() {
    let server = RedisServer::cluster();
    let sweep = Duration::from_millis(200);
    let (ra, rb) = (Redis::connect(&server.url).await.unwrap(), Redis::connect(&server.url).await.unwrap());
    let (a, b) = (RedisStreamHub::connect_with(&ra, sweep, 4).await.unwrap(), RedisStreamHub::connect_with(&rb, sweep, 4).await.unwrap());
    contract::stream_hub::all(&a).await;
    contract::shared_stream_hub::all(&a, &b).await;

    let mut heard = b.subscribe("timeline:public").await.unwrap();
    let _local = b.subscribe("timeline:public:local").await.unwrap();
    let _account = b.subscribe("timeline:7").await.unwrap();
    let mut subscribed = b.subscribed_channels();
    subscribed.retain(|c| c.starts_with("timeline:public") || c == "timeline:7"); // (not the contracts' channels)
    subscribed.sort();
    let mut want: Vec<String> =
        ["timeline:public", "timeline:public:local"].iter().flat_map(|c| [c.to_string(), format!("{c}#1"), format!("{c}#2"), format!("{c}#3")]).collect();
    want.push("timeline:7".into());
    want.sort();
    assert_eq!(subscribed, want, "every shard of a public channel, other channels as they are");
    // A process that does not spread (or a peek at one Redis channel) hears one shard's part.
    let plain = RedisStreamHub::connect_with_sweep(&Redis::connect(&server.url).await.unwrap(), sweep).await.unwrap();
    let mut one_shard = plain.subscribe("timeline:public#1").await.unwrap();
    for _ in 0..8 {
        assert!(a.has_subscribers("timeline:public").await.unwrap(), "whichever shard is asked counts the listener");
    }
    assert!(!a.has_subscribers("timeline:public:media").await.unwrap());

    let ids: Vec<String> = (0..40).map(|i| (117_742_382_636_335_104_u64 + i * 7_919).to_string()).collect();
    for id in &ids {
        a.publish("timeline:public", StreamMessage { event: "update".into(), payload: format!(r#"{{"id":"{id}","content":"<p>hi</p>"}}"#) }).await.unwrap();
        a.publish("timeline:public", StreamMessage { event: "delete".into(), payload: id.clone() }).await.unwrap();
    }
    let mut got = Vec::new();
    while got.len() < ids.len() * 2 {
        let message = tokio::time::timeout(Duration::from_secs(5), heard.recv()).await.expect("every message within 5s").unwrap();
        let id = if message.event == "delete" { message.payload.clone() } else { message.payload[7..25].to_owned() };
        got.push((message.event.clone(), id));
    }
    for id in &ids {
        let at = |event: &str| got.iter().position(|(e, i)| e == event && i == id).unwrap_or_else(|| panic!("{event} {id} not heard"));
        assert!(at("update") < at("delete"), "{id}: its update before its delete");
    }
    let mut peeked = 0;
    while let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(500), one_shard.recv()).await {
        peeked += 1;
    }
    assert!(peeked > 0 && peeked < ids.len() * 2, "shard 1 carried a share of the messages ({peeked} of {})", ids.len() * 2);
    assert_eq!(peeked % 2, 0, "a status's messages go to one shard");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn the_stream_hub_keeps_one_redis_subscription_per_channel_and_drops_it_when_listeners_leave() {
    let (server, _redis) = single().await;
    let (a, _b) = two_hubs(&server.url, None).await;
    let listeners: Vec<_> = futures_join((0..20).map(|_| a.subscribe("timeline:42"))).await;
    assert_eq!(a.subscribed_channels(), vec!["timeline:42".to_owned()], "one redis subscription for twenty local listeners");
    assert_eq!(server.cli(&["pubsub", "shardnumsub", "timeline:42"]).lines().nth(1), Some("1"), "redis sees one subscriber");
    drop(listeners);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !a.subscribed_channels().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the channel is unsubscribed once its listeners left");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(server.cli(&["pubsub", "shardnumsub", "timeline:42"]).lines().nth(1), Some("0"));
}

async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = Result<T, core_ports::ports::CacheError>>,
{
    let mut out = Vec::new();
    for f in futures {
        out.push(f.await.unwrap());
    }
    out
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn the_stream_hub_resubscribes_after_its_connection_is_killed() {
    let (server, _redis) = single().await;
    let (a, b) = two_hubs(&server.url, None).await;
    let mut rx = b.subscribe("timeline:7").await.unwrap();
    let killed = server.cli(&["client", "kill", "type", "pubsub"]);
    assert_eq!(killed.trim(), "1", "the subscriber connection was killed");
    // Until fred has reconnected and resubscribed, messages to the channel reach no one.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        a.publish("timeline:7", StreamMessage { event: "update".into(), payload: "after".into() }).await.unwrap();
        if let Ok(Ok(message)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
            assert_eq!(message.payload, "after");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the hub did not resubscribe within 10s");
    }
    assert_eq!(server.cli(&["pubsub", "shardnumsub", "timeline:7"]).lines().nth(1), Some("1"));
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn tls_redis_keeps_the_contracts_with_a_private_ca() {
    let server = RedisServer::single_tls();
    assert!(server.url.starts_with("rediss://"));
    let config = RedisConfig { ca_file: server.ca_file.clone(), ..RedisConfig::new(&server.url) };
    let redis = Redis::connect_with(&config).await.unwrap();
    assert!(redis.uses_tls());
    contract::timeline_cache::all(&RedisTimelineCache::new(redis.clone())).await;
    contract::rate_limit::all(&RedisRateLimiter::new(redis.clone())).await;
    let (a, b) = two_hubs(&server.url, server.ca_file.clone()).await;
    contract::stream_hub::all(&a).await;
    contract::shared_stream_hub::all(&a, &b).await;
    // Without the private CA the server's certificate is not trusted: startup fails, clearly.
    let started = std::time::Instant::now();
    let error = Redis::connect(&server.url).await.err().expect("an untrusted certificate is refused");
    assert!(error.to_string().contains("cannot connect to redis at rediss://127.0.0.1"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(8), "and fails within seconds");
    // A plain connection to the TLS port gets nowhere either.
    let plain = server.url.replacen("rediss://", "redis://", 1);
    assert!(Redis::connect(&plain).await.is_err(), "the server speaks only TLS");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_tls_redis_cluster_keeps_the_contracts() {
    let server = RedisServer::cluster_tls();
    assert!(server.url.starts_with("rediss-cluster://"));
    let config = RedisConfig { ca_file: server.ca_file.clone(), ..RedisConfig::new(&server.url) };
    let redis = Redis::connect_with(&config).await.unwrap();
    contract::timeline_cache::all(&RedisTimelineCache::new(redis.clone())).await;
    contract::rate_limit::all(&RedisRateLimiter::new(redis.clone())).await;
    let (a, b) = two_hubs(&server.url, server.ca_file.clone()).await;
    contract::stream_hub::all(&a).await;
    contract::shared_stream_hub::all(&a, &b).await;
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_frozen_redis_fails_fast_behind_the_breaker_and_is_used_again_when_it_answers() {
    use std::time::Instant;
    let server = RedisServer::single();
    let config = RedisConfig {
        timeouts: core_redis::Timeouts { command: Duration::from_millis(100), connect: Duration::from_millis(500) },
        breaker: core_redis::BreakerConfig { failures: 2, cooldown: Duration::from_millis(300) },
        ..RedisConfig::new(&server.url)
    };
    let redis = Redis::connect_with(&config).await.unwrap();
    let cache = RedisTimelineCache::new(redis.clone());
    cache.create("home:1").await.unwrap();
    server.pause();
    for _ in 0..2 {
        let start = Instant::now();
        assert!(cache.exists("home:1").await.is_err(), "no answer from a frozen server");
        assert!(start.elapsed() < Duration::from_millis(400), "bounded by the command timeout: {:?}", start.elapsed());
    }
    assert!(!redis.is_available(), "two failures open the circuit");
    let start = Instant::now();
    assert!(cache.exists("home:1").await.is_err());
    assert!(RedisRateLimiter::new(redis.clone()).hit("k", Quota { limit: 1, period_ms: 1000 }, 0).await.is_err());
    assert!(start.elapsed() < Duration::from_millis(20), "open: refused without waiting ({:?})", start.elapsed());
    server.resume();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !matches!(cache.exists("home:1").await, Ok(true)) {
        assert!(Instant::now() < deadline, "redis not used again within 5 s of answering");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(redis.is_available(), "the probe closed the circuit");
}

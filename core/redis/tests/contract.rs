//! The port contract suites and Redis-specific behaviour against a real redis-server on a
//! free loopback port (and a three-node Redis Cluster). `redis-server` missing fails these
//! tests; `STARLING_SKIP_REDIS=1` skips them locally.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use core_app::contract;
use core_app::ports::{RateLimitStore as _, TimelineCache, TimelineEntry};
use core_redis::test_server::{RedisServer, skip_requested};
use core_redis::{Redis, RedisRateLimiter, RedisTimelineCache};
use shared::id::Id;
use shared::page::PageRequest;
use shared::rate::Quota;

async fn single() -> Option<(RedisServer, Redis)> {
    if skip_requested() {
        eprintln!("STARLING_SKIP_REDIS=1: skipping");
        return None;
    }
    let server = RedisServer::single();
    let redis = Redis::connect(&server.url).await.unwrap();
    Some((server, redis))
}

#[tokio::test]
async fn redis_timelines_keep_the_timeline_cache_contract() {
    let Some((_server, redis)) = single().await else { return };
    contract::timeline_cache_suite(&RedisTimelineCache::new(redis)).await;
}

#[tokio::test]
async fn redis_rate_limiter_keeps_the_rate_limit_contract() {
    let Some((_server, redis)) = single().await else { return };
    contract::rate_limit_suite(&RedisRateLimiter::new(redis)).await;
}

#[tokio::test]
async fn a_redis_cluster_keeps_both_contracts() {
    if skip_requested() {
        return;
    }
    let server = RedisServer::cluster();
    let redis = Redis::connect(&server.url).await.unwrap();
    contract::timeline_cache_suite(&RedisTimelineCache::new(redis.clone())).await;
    contract::rate_limit_suite(&RedisRateLimiter::new(redis.clone())).await;
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
async fn ids_beyond_53_bits_keep_their_exact_order() {
    let Some((_server, redis)) = single().await else { return };
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
async fn a_flushed_redis_reads_as_unbuilt_timelines_and_recovers_its_scripts() {
    let Some((_server, redis)) = single().await else { return };
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
    fred::prelude::ClientLike::custom::<(), _>(redis.client(), fred::types::CustomCommand::new_static("SCRIPT", fred::types::ClusterHash::Random, false), vec!["FLUSH"]).await.unwrap();
    assert!(limiter.hit("k", Quota::new(1, 1000), 5).await.unwrap().allowed, "the limiter reloads lost scripts");
}

#[tokio::test]
async fn redis_gcra_decides_exactly_like_the_shared_arithmetic() {
    let Some((_server, redis)) = single().await else { return };
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
    assert!(error.0.contains("cannot connect to redis at redis://127.0.0.1"), "{}", error.0);
    assert!(started.elapsed() < std::time::Duration::from_secs(8), "startup gives up within seconds");
    assert!(Redis::connect("not a url").await.is_err());
}

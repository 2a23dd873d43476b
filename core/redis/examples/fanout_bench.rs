//! Fanout deliveries per second into Redis through [`RedisTimelineCache`], next to
//! `redis-benchmark`'s pipelined ZADD on the same server, in one run.
//!
//! ```text
//! cargo run --release -p core-redis --features test-server --example fanout_bench
//! ```
//!
//! Starts its own redis-server on a free loopback port, or uses `STARLING_BENCH_REDIS_URL`
//! (scripts/bench-fanout-redis.sh starts the server and runs `redis-benchmark` itself, with
//! `STARLING_BENCH_FANOUT_ONLY=1`). Timelines are pre-filled to the cap,
//! so every delivery also trims (the steady state of an active instance). The fanout consumer
//! hands the adapter 1,000 followers at a time; we measure that call sequentially (what one
//! consumer does) and with several in flight (several statuses or consumers at once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use core_ports::ports::{TimelineCache, TimelineEntry};
use core_redis::test_server::RedisServer;
use core_redis::{Redis, RedisTimelineCache};
use shared::id::Id;

const TIMELINES: usize = 2_000;
const CAP: usize = 800;
const BATCH: usize = 1_000;
const RUN: Duration = Duration::from_secs(5);

fn arg(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn fanout(cache: &RedisTimelineCache, timelines: &Arc<Vec<String>>, in_flight: usize, first_id: u64) -> (u64, f64) {
    let started = Instant::now();
    let mut next_id = first_id;
    let mut deliveries = 0u64;
    while started.elapsed() < RUN {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..in_flight {
            next_id += 1;
            let entry = TimelineEntry { id: Id::from_u64(next_id), reblog_of: None };
            for start in (0..timelines.len()).step_by(BATCH) {
                let (cache, timelines) = (cache.clone(), timelines.clone());
                calls.spawn(async move { cache.fan_out(&timelines[start..(start + BATCH).min(timelines.len())], entry, CAP).await.unwrap() });
            }
        }
        while let Some(delivered) = calls.join_next().await {
            deliveries += delivered.unwrap() as u64;
        }
    }
    (next_id, deliveries as f64 / started.elapsed().as_secs_f64())
}

fn redis_benchmark(port: u16, requests: usize, extra: &[&str]) -> f64 {
    let out = Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-P", "16", "-n", &requests.to_string(), "-q"])
        .args(extra)
        .output()
        .expect("run redis-benchmark (Debian's redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    // "ZADD: 412371.13 requests per second, p50=…" — the last \r-separated progress line.
    let line = text.rsplit('\r').next().unwrap_or_default();
    let line = line.lines().rev().find(|l| l.contains("requests per second")).unwrap_or_else(|| panic!("unexpected redis-benchmark output: {text}"));
    line.split(':').nth(1).and_then(|rest| rest.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("cannot parse {line}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let timelines_n = arg("TIMELINES", TIMELINES);
    let external = std::env::var("STARLING_BENCH_REDIS_URL").ok();
    let server = if external.is_none() { Some(RedisServer::single()) } else { None };
    let url = external.unwrap_or_else(|| server.as_ref().unwrap().url.clone());
    let port: u16 = url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap();
    let redis = Redis::connect(&url).await.unwrap();
    let cache = RedisTimelineCache::new(redis.clone());

    let timelines: Arc<Vec<String>> = Arc::new((0..timelines_n).map(|i| format!("home:{}", 1_000_000 + i)).collect());
    let filled: Vec<TimelineEntry> = (1..=CAP as u64).map(|i| TimelineEntry { id: Id::from_u64(i), reblog_of: None }).collect();
    let fill_started = Instant::now();
    for t in timelines.iter() {
        cache.create(t).await.unwrap();
        cache.insert(t, &filled, CAP).await.unwrap();
    }
    println!("setup: {timelines_n} timelines filled to {CAP} entries in {:.1}s", fill_started.elapsed().as_secs_f64());

    let (next, sequential) = fanout(&cache, &timelines, 1, CAP as u64 + 1).await;
    let (_, concurrent) = fanout(&cache, &timelines, 4, next + 1).await;
    println!("adapter fan_out, {BATCH} timelines per call, 1 call in flight: {sequential:.0} deliveries/s");
    println!("adapter fan_out, {BATCH} timelines per call, 4 statuses in flight: {concurrent:.0} deliveries/s");

    redis.flush_all().await.unwrap();
    if std::env::var("STARLING_BENCH_FANOUT_ONLY").is_ok_and(|v| v == "1") {
        return;
    }
    let zadd = redis_benchmark(port, 2_000_000, &["-t", "zadd"]);
    println!("redis-benchmark -P 16 -t zadd: {zadd:.0} ZADD/s");
    // The same shape of write as a delivery: a random one of the timelines' sorted sets, a
    // 16-hex member, score 0.
    let same_payload = redis_benchmark(port, 2_000_000, &["-r", &timelines_n.to_string(), "ZADD", "tl:{home:__rand_int__}:e", "0", "018f2a3b4c5d6e7f"]);
    println!("redis-benchmark -P 16 ZADD tl:{{home:<rand>}}:e 0 <16 hex>: {same_payload:.0} ZADD/s");
    println!("ratio adapter (1 in flight) / redis-benchmark zadd: {:.2}", sequential / zadd);
    println!("ratio adapter (4 in flight) / redis-benchmark zadd: {:.2}", concurrent / zadd);
    println!("ratio adapter (4 in flight) / same-payload ZADD: {:.2}", concurrent / same_payload);
}

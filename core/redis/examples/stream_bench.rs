//! The streaming hub across processes: what the hop through Redis costs next to the in-memory
//! hub. Two [`RedisStreamHub`]s on one redis-server stand for two core processes: one
//! publishes, the other's local listeners receive.
//!
//! ```text
//! cargo run --release -p core-redis --features test-server --example stream_bench
//! ```
//!
//! Prints, for each hub: one message at a time from publish to receipt (p50/p99), messages
//! delivered per second with 32 publishes in flight over 1,000 listened channels, and
//! `has_subscribers` lookups per second for channels nobody listens to (what a post to many
//! offline followers costs the publisher), with 32 in flight as the streaming consumer runs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use core_ports::ports::{StreamHub, StreamMessage};
use core_redis::test_server::RedisServer;
use core_redis::{Redis, RedisStreamHub};
use futures_util::StreamExt as _;

const ROUND_TRIPS: usize = 2_000;
const CHANNELS: usize = 1_000;
const MESSAGES: usize = 50_000;
const LOOKUPS: usize = 50_000;
const IN_FLIGHT: usize = 32;

fn message(n: usize) -> StreamMessage {
    // About the size of a rendered status.
    StreamMessage { event: "update".into(), payload: format!("{{\"id\":\"{n}\",\"content\":\"{}\"}}", "x".repeat(1_500)) }
}

async fn run(name: &str, publisher: Arc<dyn StreamHub>, listener: Arc<dyn StreamHub>) {
    let mut rx = listener.subscribe("timeline:rtt").await.unwrap();
    let mut latencies = Vec::with_capacity(ROUND_TRIPS);
    for n in 0..ROUND_TRIPS {
        let started = Instant::now();
        publisher.publish("timeline:rtt", message(n)).await.unwrap();
        rx.recv().await.unwrap();
        latencies.push(started.elapsed());
    }
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| ms(latencies[((q * latencies.len() as f64) as usize).min(latencies.len() - 1)]);

    let mut receivers = Vec::with_capacity(CHANNELS);
    for c in 0..CHANNELS {
        receivers.push(listener.subscribe(&format!("timeline:{c}")).await.unwrap());
    }
    let drained = tokio::spawn(async move {
        let mut got = 0;
        let per_channel = MESSAGES / CHANNELS;
        for rx in &mut receivers {
            for _ in 0..per_channel {
                rx.recv().await.unwrap();
                got += 1;
            }
        }
        got
    });
    let started = Instant::now();
    futures_util::stream::iter(0..MESSAGES)
        .for_each_concurrent(IN_FLIGHT, |n| {
            let publisher = publisher.clone();
            async move { publisher.publish(&format!("timeline:{}", n % CHANNELS), message(n)).await.unwrap() }
        })
        .await;
    let got = drained.await.unwrap();
    let delivered = got as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    futures_util::stream::iter(0..LOOKUPS)
        .for_each_concurrent(IN_FLIGHT, |n| {
            let publisher = publisher.clone();
            async move { assert!(!publisher.has_subscribers(&format!("timeline:idle{n}")).await.unwrap()) }
        })
        .await;
    let lookups = LOOKUPS as f64 / started.elapsed().as_secs_f64();
    println!("| {name} | {:.3} | {:.3} | {delivered:.0} | {lookups:.0} |", p(0.5), p(0.99));
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let server = RedisServer::single();
        let a = RedisStreamHub::connect(&Redis::connect(&server.url).await.unwrap()).await.unwrap();
        let b = RedisStreamHub::connect(&Redis::connect(&server.url).await.unwrap()).await.unwrap();
        println!("| hub | publish → receive p50 ms | p99 ms | messages delivered/s ({IN_FLIGHT} in flight, {CHANNELS} channels) | idle has_subscribers/s ({IN_FLIGHT} in flight) |");
        println!("|---|---|---|---|---|");
        let memory = core_embedded::MemoryStreamHub::new();
        run("memory (one process)", Arc::new(memory.clone()), Arc::new(memory)).await;
        run("redis (process A → process B)", Arc::new(a), Arc::new(b)).await;
    });
}

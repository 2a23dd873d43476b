//! Notification delivery latency: from sending `POST /api/v1/statuses` with a mention to the
//! mentioned user's `/api/v1/streaming/user` SSE connection receiving the `notification`.
//!
//! The real server (edge in front, embedded adapters, fsync'd commits) listens on a loopback
//! port; mentions are sent one at a time (closed loop), first on an idle server, then while
//! closed-loop clients run a DeathStarBench-like mix (60% home timeline, 30% account
//! statuses, 10% posts). Prints p50/p90/p99/max as a markdown table.
//!
//!   cargo bench -p core-server --bench notify_latency [-- MENTIONS MIX_CLIENTS]
//!
//! With `STARLING_BENCH_STREAMS_REDIS=redis://…` the streaming hub is Redis pub/sub there (the
//! rest stays embedded), so the difference is the hub's hop through Redis.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use core_server::Settings;
use serde_json::{Value, json};

struct User {
    id: String,
    token: String,
}

async fn call(http: &reqwest::Client, base: &str, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
    let mut req = http.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    res.json().await.unwrap()
}

async fn register(http: &reqwest::Client, base: &str, name: &str) -> User {
    let app = call(
        http,
        base,
        reqwest::Method::POST,
        "/api/v1/apps",
        None,
        Some(json!({"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"})),
    )
    .await;
    let token = call(
        http,
        base,
        reqwest::Method::POST,
        "/oauth/token",
        None,
        Some(json!({"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "read write follow"})),
    )
    .await;
    let user = call(
        http,
        base,
        reqwest::Method::POST,
        "/api/v1/accounts",
        token["access_token"].as_str(),
        Some(json!({"username": name, "email": format!("{name}@bench.test"), "password": "correct horse battery", "agreement": true})),
    )
    .await;
    let token = user["access_token"].as_str().unwrap().to_owned();
    let me = call(http, base, reqwest::Method::GET, "/api/v1/accounts/verify_credentials", Some(&token), None).await;
    User { id: me["id"].as_str().unwrap().to_owned(), token }
}

/// Reads SSE `notification` events, returning the mentioned status id of each.
struct Notifications {
    response: reqwest::Response,
    buffer: String,
}

impl Notifications {
    async fn next_status_id(&mut self) -> String {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: notification") {
                    let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
                    let n: Value = serde_json::from_str(data).unwrap();
                    // The mix's users follow alice: their follow notifications pass by too.
                    if n["type"] == "mention" {
                        return n["status"]["id"].as_str().unwrap().to_owned();
                    }
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk()).await.expect("a notification within 10s").unwrap().unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn measure(http: &reqwest::Client, base: &str, author: &User, stream: &mut Notifications, mentions: usize, target: &str) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(mentions);
    for n in 0..mentions {
        let started = Instant::now();
        let posted =
            call(http, base, reqwest::Method::POST, "/api/v1/statuses", Some(&author.token), Some(json!({"status": format!("@{target} ping {n}")}))).await;
        let id = posted["id"].as_str().unwrap().to_owned();
        while stream.next_status_id().await != id {}
        latencies.push(started.elapsed());
    }
    latencies.sort_unstable();
    latencies
}

fn row(label: &str, l: &[Duration], extra: &str) -> String {
    let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
    format!(
        "| {label} | {} | {} | {} | {} | {} | {extra} |",
        l.len(),
        ms(percentile(l, 50.0)),
        ms(percentile(l, 90.0)),
        ms(percentile(l, 99.0)),
        ms(*l.last().unwrap())
    )
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let mentions = args.first().copied().unwrap_or(1000);
    let mix_clients = args.get(1).copied().unwrap_or(16);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut settings = Settings::default();
        settings.server.listen = listener.local_addr().unwrap();
        settings.server.data_dir = dir.path().to_path_buf();
        settings.rate_limits = Some(core_app::config::RateLimitConfig { enabled: false, ..Default::default() });
        if let Ok(url) = std::env::var("STARLING_BENCH_STREAMS_REDIS") {
            settings.streams = core_server::StreamsSettings::Redis;
            settings.redis.url = url.into();
        }
        let application = core_server::build(&settings).await.unwrap();
        let base = application.app().config().instance.base_url.clone();
        let router = core_server::front_router(&settings, &application);
        tokio::spawn(async move { application.serve(listener, router, std::future::pending()).await.unwrap() });

        let http = reqwest::Client::new();
        let alice = register(&http, &base, "alice").await;
        let bob = register(&http, &base, "bob").await;
        let response = http.get(format!("{base}/api/v1/streaming/user")).bearer_auth(&alice.token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let mut stream = Notifications { response, buffer: String::new() };

        let idle = measure(&http, &base, &bob, &mut stream, mentions, "alice").await;

        // The mix, with a small graph: every mix user follows every other and alice.
        let mut users = Vec::new();
        for n in 0..mix_clients.max(1) {
            users.push(Arc::new(register(&http, &base, &format!("mix{n}")).await));
        }
        for a in &users {
            for b in users.iter().map(|u| u.id.clone()).chain([alice.id.clone()]) {
                if a.id != b {
                    call(&http, &base, reqwest::Method::POST, &format!("/api/v1/accounts/{b}/follow"), Some(&a.token), Some(json!({}))).await;
                }
            }
        }
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let mut clients = Vec::new();
        for (n, user) in users.iter().enumerate().take(mix_clients) {
            let (http, base, user, stop, done) = (http.clone(), base.clone(), user.clone(), stop.clone(), done.clone());
            let other = users[(n + 1) % users.len()].id.clone();
            clients.push(tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    match i % 10 {
                        0 => {
                            call(&http, &base, reqwest::Method::POST, "/api/v1/statuses", Some(&user.token), Some(json!({"status": format!("mix post {i}")})))
                                .await;
                        }
                        1..=3 => {
                            call(&http, &base, reqwest::Method::GET, &format!("/api/v1/accounts/{other}/statuses"), Some(&user.token), None).await;
                        }
                        _ => {
                            call(&http, &base, reqwest::Method::GET, "/api/v1/timelines/home", Some(&user.token), None).await;
                        }
                    }
                    i += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (before, started) = (done.load(Ordering::Relaxed), Instant::now());
        let loaded = measure(&http, &base, &bob, &mut stream, mentions, "alice").await;
        let throughput = (done.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }

        println!("| server state | mentions | p50 ms | p90 ms | p99 ms | max ms | mix throughput |");
        println!("|---|---|---|---|---|---|---|");
        println!("{}", row("idle", &idle, "–"));
        println!("{}", row(&format!("under the mix, {mix_clients} clients"), &loaded, &format!("{throughput:.0} req/s")));
    });
}

//! Criterion benches of the hot paths: fanout into home timelines and home-timeline reads,
//! through the real router and embedded adapters (no network).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, header};
use core_app::keys;
use core_app::model::Ref;
use core_app::ports::{Condition, Item, Store, TimelineCache, TimelineEntry, Value, Write};
use core_app::{App, Application};
use core_server::Settings;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value as Json, json};
use shared::id::Id;
use tower::ServiceExt as _;

struct Bench {
    router: axum::Router,
    app: App,
    store: Arc<dyn Store>,
    timelines: Arc<dyn TimelineCache>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.server.data_dir = dir.path().to_path_buf();
    // Benchmarks measure the work, not the limiter that would stop a client doing this much.
    settings.rate_limits = Some(core_app::config::RateLimitConfig { enabled: false, ..Default::default() });
    let backends = core_server::backends(&settings).await.unwrap();
    let (store, timelines) = (backends.store.clone(), backends.timelines.clone());
    let application = Application::build(settings.core_config(), backends).await.unwrap();
    Bench { router: application.router(), app: application.app().clone(), store, timelines, _dir: dir }
}

async fn call(router: &axum::Router, method: &str, path: &str, token: Option<&str>, body: Option<Json>) -> Json {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req.header(header::CONTENT_TYPE, "application/json").body(Body::from(b.to_string())).unwrap(),
        None => req.body(Body::empty()).unwrap(),
    };
    let res = router.clone().oneshot(req).await.unwrap();
    assert!(res.status().is_success(), "{method} {path}: {}", res.status());
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap_or(Json::Null)
}

/// Registers a user through the API, returning (id, token).
async fn register(router: &axum::Router, name: &str) -> (Id, String) {
    let app = call(
        router,
        "POST",
        "/api/v1/apps",
        None,
        Some(json!({"client_name": "bench", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"})),
    )
    .await;
    let token = call(
        router,
        "POST",
        "/oauth/token",
        None,
        Some(json!({"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"], "scope": "read write follow"})),
    )
    .await;
    let user = call(
        router,
        "POST",
        "/api/v1/accounts",
        token["access_token"].as_str(),
        Some(json!({"username": name, "email": format!("{name}@bench.test"), "password": "correct horse battery", "agreement": true})),
    )
    .await;
    let token = user["access_token"].as_str().unwrap().to_owned();
    let me = call(router, "GET", "/api/v1/accounts/verify_credentials", Some(&token), None).await;
    (me["id"].as_str().unwrap().parse().unwrap(), token)
}

/// Gives `author` `n` followers with built home timelines, writing the graph items directly
/// (registering thousands of accounts would benchmark argon2, not fanout).
async fn seed_followers(b: &Bench, author: Id, n: u64) -> Vec<String> {
    let mut homes = Vec::new();
    for chunk in (0..n).collect::<Vec<_>>().chunks(50) {
        let mut writes = Vec::new();
        for i in chunk {
            let follower = Id::from_u64(1_000_000 + i);
            let follow = Id::from_u64(2_000_000 + i);
            let doc = serde_json::to_vec(&Ref { id: follower }).unwrap();
            writes.push(Write::Put { item: Item { key: keys::followers(author, follow), value: Value::Doc(doc) }, condition: Condition::None });
            let home = format!("home:{follower}");
            b.timelines.create(&home).await.unwrap();
            homes.push(home);
        }
        b.store.transact(writes, vec![]).await.unwrap();
    }
    homes
}

fn fanout(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(setup());
    let (author, token) = rt.block_on(register(&b.router, "author"));
    let homes = rt.block_on(seed_followers(&b, author, 1000));

    let mut group = c.benchmark_group("fanout");
    group.throughput(Throughput::Elements(1000));
    let mut next = 10_000_000u64;
    group.bench_function("cache_insert_1000_timelines", |bench| {
        bench.iter(|| {
            next += 1;
            rt.block_on(b.timelines.fan_out(&homes, TimelineEntry { id: Id::from_u64(next), reblog_of: None }, 800)).unwrap()
        })
    });
    group.sample_size(20);
    group.bench_function("post_and_fan_out_to_1000_followers", |bench| {
        bench.iter_batched(
            || (),
            |()| {
                rt.block_on(async {
                    call(&b.router, "POST", "/api/v1/statuses", Some(&token), Some(json!({"status": "benchmark post #bench"}))).await;
                    b.app.drain_events().await.unwrap();
                })
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn home_reads(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(setup());
    let (reader, reader_token) = rt.block_on(register(&b.router, "reader"));
    let mut authors = Vec::new();
    for i in 0..5 {
        authors.push(rt.block_on(register(&b.router, &format!("author{i}"))));
    }
    rt.block_on(async {
        for (id, _) in &authors {
            call(&b.router, "POST", &format!("/api/v1/accounts/{id}/follow"), Some(&reader_token), Some(json!({}))).await;
        }
        // Build the home timeline, then fill it to the cap through fanout.
        call(&b.router, "GET", "/api/v1/timelines/home", Some(&reader_token), None).await;
        for n in 0..800 {
            let (_, token) = &authors[n % authors.len()];
            call(
                &b.router,
                "POST",
                "/api/v1/statuses",
                Some(token),
                Some(json!({"status": format!("post {n} with a #tag and a link https://example.com/{n}")})),
            )
            .await;
        }
        b.app.drain_events().await.unwrap();
    });
    let _ = reader;
    let mut group = c.benchmark_group("home_timeline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("read_20_cached", |bench| {
        bench.iter(|| rt.block_on(call(&b.router, "GET", "/api/v1/timelines/home?limit=20", Some(&reader_token), None)))
    });
    group.bench_function("read_40_second_page", |bench| {
        let first = rt.block_on(call(&b.router, "GET", "/api/v1/timelines/home?limit=40", Some(&reader_token), None));
        let max_id = first[39]["id"].as_str().unwrap().to_owned();
        bench.iter(|| rt.block_on(call(&b.router, "GET", &format!("/api/v1/timelines/home?limit=40&max_id={max_id}"), Some(&reader_token), None)))
    });
    group.sample_size(20);
    group.bench_function("rebuild_after_eviction_then_read_20", |bench| {
        bench.iter(|| {
            rt.block_on(async {
                b.app.evict_home(reader).await.unwrap();
                call(&b.router, "GET", "/api/v1/timelines/home?limit=20", Some(&reader_token), None).await
            })
        })
    });
    group.finish();

    // The public and hashtag timelines over the same 800 posts (every one public, tagged).
    let mut group = c.benchmark_group("public_timeline");
    group.throughput(Throughput::Elements(1));
    group.bench_function("read_20", |bench| bench.iter(|| rt.block_on(call(&b.router, "GET", "/api/v1/timelines/public?limit=20", None, None))));
    group.bench_function("read_40_second_page", |bench| {
        let first = rt.block_on(call(&b.router, "GET", "/api/v1/timelines/public?limit=40", None, None));
        let max_id = first[39]["id"].as_str().unwrap().to_owned();
        bench.iter(|| rt.block_on(call(&b.router, "GET", &format!("/api/v1/timelines/public?limit=40&max_id={max_id}"), None, None)))
    });
    group.bench_function("tag_read_20", |bench| bench.iter(|| rt.block_on(call(&b.router, "GET", "/api/v1/timelines/tag/tag?limit=20", None, None))));
    group.finish();
}

criterion_group!(benches, fanout, home_reads);
criterion_main!(benches);

//! Operational endpoints: `/ready` pings every backend port, `/metrics` speaks Prometheus.

use serde_json::json;

use crate::TestApp;

const BACKENDS: [&str; 8] = ["store", "events", "timelines", "rate_limits", "search", "media", "streams", "node_lease"];

/// The value of the first sample line starting with `series` (name and labels), if any.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')).and_then(|v| v.parse().ok()))
}

#[tokio::test]
async fn ready_lists_every_backend_when_all_answer() {
    let t = TestApp::spawn().await;
    let body = t.get("/ready", None).await.expect(200);
    assert_eq!(body["status"], "ready");
    let names: Vec<&str> = body["backends"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, BACKENDS);
    for b in body["backends"].as_array().unwrap() {
        assert_eq!(b["up"], true, "{b}");
        assert!(b["latency_ms"].as_f64().unwrap() >= 0.0);
    }
}

#[tokio::test]
async fn ready_is_503_and_names_the_backend_that_is_down() {
    let t = TestApp::spawn().await;
    // The filesystem media store's root turns into a file: every read fails (not "not found").
    let media = t.settings.server.data_dir.join("media");
    std::fs::remove_dir_all(&media).unwrap();
    std::fs::write(&media, b"not a directory").unwrap();

    let reply = t.get("/ready", None).await;
    assert_eq!(reply.status.as_u16(), 503, "{}", reply.body);
    assert_eq!(reply.body["status"], "unavailable");
    let down: Vec<&str> = reply.body["backends"].as_array().unwrap().iter().filter(|b| b["up"] == false).map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(down, ["media"]);
    assert!(!reply.body.to_string().contains("directory"), "no internal error text: {}", reply.body);

    let metrics = t.get("/metrics", None).await.expect(200);
    let text = metrics.as_str().unwrap();
    assert_eq!(sample(text, "starling_backend_up{backend=\"media\"}"), Some(0.0), "{text}");
    assert_eq!(sample(text, "starling_backend_up{backend=\"store\"}"), Some(1.0), "{text}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_method_and_status() {
    let t = TestApp::spawn().await;
    let user = t.register("counted").await;
    for _ in 0..3 {
        t.get("/api/v1/statuses/123456", Some(&user.token)).await.expect(404);
    }
    t.post_status(&user, json!({"status": "hello"})).await;
    t.get("/no/such/path/12345", None).await.expect(404);

    let reply = t.get("/metrics", None).await;
    assert_eq!(reply.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = reply.expect(200);
    let text = text.as_str().unwrap();
    assert_eq!(sample(text, "starling_http_requests_total{route=\"/api/v1/statuses/{id}\",method=\"GET\",status=\"404\"}"), Some(3.0), "{text}");
    assert_eq!(sample(text, "starling_http_requests_total{route=\"/api/v1/statuses\",method=\"POST\",status=\"200\"}"), Some(1.0), "{text}");
    assert_eq!(sample(text, "starling_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"), Some(1.0), "{text}");
    assert!(!text.contains("/no/such/path"), "unknown paths are not labels");
    let labels = "route=\"/api/v1/statuses/{id}\",method=\"GET\",status=\"404\"";
    assert_eq!(sample(text, &format!("starling_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}}")), Some(3.0), "{text}");
    assert_eq!(sample(text, &format!("starling_http_request_duration_seconds_count{{{labels}}}")), Some(3.0), "{text}");
    assert!(text.contains("# TYPE starling_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn metrics_report_fanout_deliveries_and_consumer_lag() {
    let t = TestApp::spawn().await;
    let [author, a, b] = t.register_all(["author", "reader_a", "reader_b"]).await;
    t.follow(&a, &author).await;
    t.follow(&b, &author).await;
    // Fanout only writes into built homes: read them once.
    t.home_ids(&a).await;
    t.home_ids(&b).await;
    t.settle().await;
    let before = t.get("/metrics", None).await.expect(200);
    let before = sample(before.as_str().unwrap(), "starling_fanout_deliveries_total").unwrap();

    t.post_status(&author, json!({"status": "to both followers"})).await;
    t.settle().await;
    let text = t.get("/metrics", None).await.expect(200);
    let text = text.as_str().unwrap();
    assert_eq!(sample(text, "starling_fanout_deliveries_total"), Some(before + 2.0), "{text}");
    assert!(sample(text, "starling_event_log_head").unwrap() > 0.0, "{text}");
    for consumer in ["fanout", "search", "notifications"] {
        assert_eq!(sample(text, &format!("starling_consumer_lag_events{{consumer=\"{consumer}\"}}")), Some(0.0), "{text}");
    }

    // A consumer moved back shows its lag.
    let head = sample(text, "starling_event_log_head").unwrap();
    t.app.rewind_consumer("search").await.unwrap();
    let text = t.get("/metrics", None).await.expect(200);
    let lag = sample(text.as_str().unwrap(), "starling_consumer_lag_events{consumer=\"search\"}").unwrap();
    assert!(lag >= head, "lag {lag} after rewinding to 0, head was {head}");
}

#[tokio::test]
async fn metrics_can_require_a_bearer_token() {
    let t = TestApp::spawn_with(|s| s.metrics = Some(core_app::config::MetricsConfig { token: Some("scrape-secret".into()) })).await;
    let reply = t.get("/metrics", None).await;
    assert_eq!(reply.status.as_u16(), 401);
    assert!(!reply.error().is_empty(), "Mastodon's error envelope: {}", reply.body);
    assert_eq!(t.get("/metrics", Some("wrong")).await.status.as_u16(), 401);
    assert_eq!(t.get("/metrics", Some("scrape-secret-longer")).await.status.as_u16(), 401);
    let text = t.get("/metrics", Some("scrape-secret")).await.expect(200);
    assert!(text.as_str().unwrap().contains("starling_backend_up{backend=\"store\"} 1"));
    // /ready and /health stay open for load balancers.
    t.get("/ready", None).await.expect(200);
    t.get("/health", None).await.expect(200);
}

const SECRET_A: &str = "first-signing-secret-0123456789abcdefghij";
const SECRET_B: &str = "second-signing-secret-0123456789abcdefghij";

fn with_keys(keys: &'static str) -> impl FnOnce(&mut core_server::Settings) {
    move |s| s.auth = Some(core_app::config::AuthConfig { signing_keys: Some(keys.into()), ..Default::default() })
}

/// Stops `t` and waits until its search index lock is free (tantivy's writer threads may
/// outlive the shutdown by a moment), handing back the data directory.
async fn stop_for_restart(t: TestApp) -> tempfile::TempDir {
    let dir = t.stop().await;
    let search = dir.path().join("search");
    for _ in 0..100 {
        if core_tantivy::TantivySearch::open(&search, core_tantivy::TantivyOptions::default()).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    dir
}

/// The key id a token names (`stl1.<kid>.<claims>.<signature>`).
fn kid(token: &str) -> &str {
    token.split('.').nth(1).unwrap()
}

#[tokio::test]
async fn signing_keys_rotate_with_an_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let t = TestApp::spawn_in(dir, with_keys(SECRET_A)).await;
    let old = t.register("rotating").await;
    let keys = t.get("/api/starling/v1/keys", None).await.expect(200);
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    let kid_a = keys["keys"][0]["kid"].as_str().unwrap().to_owned();
    assert_eq!(kid(&old.token), kid_a);
    assert!(!keys.to_string().contains(SECRET_A), "only public keys are published");

    // New key first, old one still verifying: tokens of both work, new ones use the new key.
    let dir = stop_for_restart(t).await;
    let t = TestApp::spawn_in(dir, with_keys(" second-signing-secret-0123456789abcdefghij , first-signing-secret-0123456789abcdefghij,")).await;
    let keys = t.get("/api/starling/v1/keys", None).await.expect(200);
    let kids: Vec<&str> = keys["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids.len(), 2);
    assert_eq!(kids[1], kid_a);
    let kid_b = kids[0].to_owned();
    assert_ne!(kid_b, kid_a);
    t.get("/api/v1/accounts/verify_credentials", Some(&old.token)).await.expect(200);
    let fresh = t.token_with_scopes(&old, "read").await;
    assert_eq!(kid(&fresh), kid_b);

    // Old key retired: its tokens stop working, the new ones keep working.
    let dir = stop_for_restart(t).await;
    let t = TestApp::spawn_in(dir, with_keys(SECRET_B)).await;
    assert_eq!(t.get("/api/v1/accounts/verify_credentials", Some(&old.token)).await.status.as_u16(), 401);
    t.get("/api/v1/accounts/verify_credentials", Some(&fresh)).await.expect(200);
}

#[tokio::test]
async fn short_signing_secrets_stop_startup() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = core_server::Settings::default();
    settings.server.data_dir = dir.path().to_path_buf();
    with_keys("too-short")(&mut settings);
    let error = core_server::build(&settings).await.err().expect("a short secret is refused");
    assert!(format!("{error:#}").contains("at least 32 characters"), "{error:#}");
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_503_until_space_returns_without_a_restart() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let full = Arc::new(AtomicBool::new(false));
    let disk = core_embedded::faults::fillable_disk(&dir.path().join("on-a-small-disk.redb"), full.clone());
    let store = core_embedded::RedbStore::open_with(disk, Arc::new(core_ports::SystemClock)).unwrap();
    let t = TestApp::spawn_on_store(dir, store).await;
    let alice = t.register("alice").await;
    let kept = t.post_status(&alice, json!({"status": "acknowledged before the disk filled"})).await;

    full.store(true, Ordering::SeqCst);
    for attempt in 0..3 {
        let refused = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": format!("while full {attempt}")})).await;
        assert_eq!(refused.status.as_u16(), 503, "{:?}", refused.body);
        assert!(refused.body["error"].is_string(), "Mastodon's error envelope: {:?}", refused.body);
        let ready = t.get("/ready", None).await;
        assert_eq!(ready.status.as_u16(), 503, "after {:?}: {:?}", refused.body, ready.body);
        let down: Vec<&str> = ready.body["backends"].as_array().unwrap().iter().filter(|b| b["up"] == false).map(|b| b["name"].as_str().unwrap()).collect();
        assert!(down.contains(&"store"), "the store is named down: {down:?}");
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }

    full.store(false, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    let after = loop {
        let reply = t.post("/api/v1/statuses", Some(&alice.token), json!({"status": "after space returned"})).await;
        if reply.status.as_u16() == 200 {
            break reply.body;
        }
        assert!(std::time::Instant::now() < deadline, "writes did not resume within 8 s: {:?}", reply.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(t.get("/ready", None).await.status.as_u16(), 200);
    let statuses = t.get(&format!("/api/v1/accounts/{}/statuses", alice.id), Some(&alice.token)).await.expect(200);
    assert_eq!(crate::ids(&statuses), vec![crate::id(&after), crate::id(&kept)], "nothing acknowledged was lost, nothing refused was kept");
}

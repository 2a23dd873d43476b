//! Node-number leases through the server: core processes sharing one store mint ids with
//! different node numbers, a restart after a clean stop gets its number back, and a process
//! whose lease ran out refuses to mint (503) and reports unready.

use core_server::Settings;
use serde_json::{Value, json};

use crate::TestApp;

/// The node number inside an id (bits 10–15).
fn node_of(id: &Value) -> u64 {
    let id: u64 = id.as_str().expect("ids are strings").parse().unwrap();
    (id >> 10) & 0x3f
}

/// One core serving on its own port.
struct Core {
    base: String,
    app: core_app::App,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Core {
    async fn start(settings: &Settings, backends: core_app::Backends) -> Core {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut settings = settings.clone();
        settings.server.listen = listener.local_addr().unwrap();
        let application = core_app::Application::build(settings.core_config(), backends).await.unwrap();
        let app = application.app().clone();
        let router = application.router();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            application
                .serve(listener, router, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Core { base: format!("http://{}", settings.server.listen), app, stop, server }
    }

    async fn create_app(&self) -> Value {
        let reply = reqwest::Client::new()
            .post(format!("{}/api/v1/apps", self.base))
            .json(&json!({ "client_name": "nodes", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob" }))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200);
        reply.json().await.unwrap()
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap();
    }
}

/// Settings for cores on the backend the suite runs on (embedded, or DynamoDB with
/// STARLING_TEST_BACKEND=dynamodb), data in `dir`.
fn settings_in(dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    settings.server.data_dir = dir.to_path_buf();
    settings.edge.enabled = false;
    settings.rate_limits = Some(core_app::config::RateLimitConfig { enabled: false, ..Default::default() });
    if std::env::var("STARLING_TEST_BACKEND").is_ok_and(|b| b == "dynamodb") {
        crate::use_dynamodb(&mut settings, dir);
    }
    settings
}

#[tokio::test]
async fn two_cores_on_one_store_lease_different_node_numbers_and_mint_distinct_ids() {
    let dir = tempfile::tempdir().unwrap();
    let settings = settings_in(dir.path());
    let backends = core_server::backends(&settings).await.unwrap();
    let first = Core::start(&settings, backends.clone()).await;
    let second = Core::start(&settings, backends).await;
    let (a, b) = (first.app.node_id().unwrap(), second.app.node_id().unwrap());
    assert_ne!(a, b, "two processes on one store never share a node number");
    assert!(a < 62 && b < 62, "the edges' numbers 62 and 63 are never leased");

    let mut ids = std::collections::HashSet::new();
    for _ in 0..5 {
        let (x, y) = (first.create_app().await, second.create_app().await);
        assert_eq!(node_of(&x["id"]), u64::from(a), "ids carry the first core's number");
        assert_eq!(node_of(&y["id"]), u64::from(b), "ids carry the second core's number");
        assert!(ids.insert(x["id"].as_str().unwrap().to_owned()) && ids.insert(y["id"].as_str().unwrap().to_owned()), "ids are distinct");
    }
    first.stop().await;
    second.stop().await;
}

#[tokio::test]
async fn a_cleanly_stopped_core_gives_its_number_back() {
    let t = TestApp::spawn().await;
    assert_eq!(t.app.node_id(), Some(0), "the first core on a store leases number 0");
    let dir = t.stop().await;
    let again = TestApp::spawn_in(dir, |_| {}).await;
    assert_eq!(again.app.node_id(), Some(0), "after a clean stop the number was released, not left to lapse");
    let id = again.post("/api/v1/apps", None, json!({ "client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob" })).await.expect(200);
    assert_eq!(node_of(&id["id"]), 0);
}

#[tokio::test]
async fn a_fixed_node_id_overrides_the_lease() {
    let t = TestApp::spawn_with(|s| s.node_id = Some(5)).await;
    assert_eq!(t.app.node_id(), Some(5));
    let body = t.post("/api/v1/apps", None, json!({ "client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob" })).await.expect(200);
    assert_eq!(node_of(&body["id"]), 5);
}

#[tokio::test]
async fn a_core_whose_lease_ran_out_refuses_ids_with_503_and_is_unready() {
    // A one-second lease that is never renewed: the span of id timestamps ends.
    let t = TestApp::spawn_with(|s| s.node_lease = Some(core_app::config::NodeLeaseConfig { lease_secs: 1, renew_secs: 3_600, grace_secs: 0 })).await;
    t.post("/api/v1/apps", None, json!({ "client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob" })).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let refused = t.post("/api/v1/apps", None, json!({ "client_name": "y", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob" })).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(!refused.error().contains("node"), "no internal text reaches the client: {}", refused.body);
    let ready = t.get("/ready", None).await;
    assert_eq!(ready.status, 503);
    let down: Vec<&str> = ready.body["backends"].as_array().unwrap().iter().filter(|b| b["up"] == false).map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(down, ["node_lease"]);
    // Reads need no ids and keep working.
    t.get("/api/v1/instance", None).await.expect(200);
}

#[tokio::test]
async fn a_core_refuses_to_start_when_every_node_number_is_leased() {
    // Embedded on every backend run: 62 leases are slow on the serialised moto, and the
    // node-lease contract below already exhausts the numbers on DynamoDB.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.store = core_server::StoreSettings::Embedded;
    let backends = core_server::backends(&settings).await.unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let config = core_app::config::NodeLeaseConfig::default();
    for expected in 0..core_app::nodes::LEASABLE_NODES {
        let grant = core_app::nodes::NodeLeases::new(backends.store.clone(), &config).acquire(now).await.unwrap();
        assert_eq!(grant.node, expected);
    }
    let refused = core_app::Application::build(settings.core_config(), backends).await.err().expect("no number is free");
    let message = format!("{refused:?}");
    assert!(message.contains("cannot lease a node number for ids: all 62 node numbers (0-61) are leased"), "{message}");
}

/// The node-lease contract (core's lease logic over the store's conditional writes) on the
/// store this run tests: embedded, or a fresh DynamoDB table with STARLING_TEST_BACKEND=dynamodb.
#[tokio::test]
async fn the_store_keeps_the_node_lease_contract() {
    let dir = tempfile::tempdir().unwrap();
    let backends = core_server::backends(&settings_in(dir.path())).await.unwrap();
    core_app::contract::node_lease_suite(backends.store).await;
}

#[tokio::test]
async fn a_crash_loop_on_the_embedded_store_never_locks_out_the_next_start() {
    use std::sync::Arc;

    use core_app::nodes::{IdSource, NodeLeases, RECLAIM_MARGIN_MS};

    // 70 starts on one data directory, each killed (no release) right after leasing and
    // minting: more than the 62 numbers there are, faster than the margin, one in three after
    // a renewal that reported what it had minted.
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings_in(dir.path());
    settings.store = core_server::StoreSettings::Embedded;
    let path = dir.path().join("starling.redb");
    let config = core_app::config::NodeLeaseConfig::default();
    let t0 = core_app::now_ms();
    let mut minted: Vec<u64> = Vec::new();
    for start in 0..70u64 {
        let store: Arc<dyn core_app::ports::Store> = Arc::new(core_embedded::RedbStore::open(&path).unwrap());
        let now = t0 + start;
        let leases = NodeLeases::new(store.clone(), &config);
        let grant = leases.acquire(now).await.unwrap_or_else(|e| panic!("start {start} refused: {e}"));
        assert_eq!(grant.node, 0, "start {start} reclaims the number of the start it follows");
        let ids = IdSource::leased(&grant);
        for _ in 0..3 {
            minted.push(ids.next(now).unwrap().as_u64());
        }
        if start % 3 == 1 {
            leases.renew_used(&grant, now, ids.used_until()).await.unwrap();
        }
        // SIGKILL: the lease is never released; the store closes with the process.
        drop((leases, store));
    }
    assert!(minted.last().unwrap() >> 16 <= t0 + 70 + 70 * RECLAIM_MARGIN_MS, "ids drift ahead of the clock by at most the margin per start, not by a lease");

    // The next real start leases at once and mints after everything the dead ones minted.
    let started = std::time::Instant::now();
    let backends = core_server::backends(&settings).await.unwrap();
    let core = Core::start(&settings, backends).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "the start waited {:?}", started.elapsed());
    assert_eq!(core.app.node_id(), Some(0));
    for _ in 0..3 {
        minted.push(core.create_app().await["id"].as_str().unwrap().parse().unwrap());
    }
    assert!(minted.windows(2).all(|w| w[0] < w[1]), "ids are unique and increasing across every start: {minted:?}");
    core.stop().await;
}

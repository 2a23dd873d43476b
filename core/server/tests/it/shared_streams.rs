//! Streaming across core processes: two applications on one store (the embedded one, or the
//! DynamoDB table under `STARLING_TEST_BACKEND=dynamodb`) and one redis-server, each with its
//! own Redis stream hub (its own subscriber connection), as two core tasks behind a load
//! balancer are. A client streaming from one hears what is posted on the other.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use core_app::{Application, Backends};
use core_redis::test_server::RedisServer;
use serde_json::{Value, json};

use crate::streaming::{Sse, late_recheck, revocable_token, ws_closed_within, ws_next, ws_url};
use crate::{TestApp, id, test_settings, use_dynamodb, use_redis};

/// Builds one core process on `backends`; `consumers: false` serves HTTP only, so whatever its
/// streams receive was published by the other process.
async fn instance(
    settings: &core_server::Settings,
    backends: Backends,
    node_id: u8,
    consumers: bool,
    redis: &Arc<RedisServer>,
    dir: tempfile::TempDir,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut settings = settings.clone();
    settings.server.listen = listener.local_addr().unwrap();
    settings.node_id = Some(node_id);
    let application = Application::build(settings.core_config(), backends).await.unwrap();
    let app = application.app().clone();
    let router = application.router();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = if consumers {
        tokio::spawn(async move {
            application
                .serve(listener, router, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        })
    } else {
        tokio::spawn(async move {
            let _application = application;
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        })
    };
    let base = app.config().instance.base_url.clone();
    TestApp {
        base,
        http: reqwest::Client::new(),
        app,
        settings,
        _dir: dir,
        stop: Some(stop),
        server: Some(server),
        redis: Some(redis.clone()),
        opensearch: None,
    }
}

/// Two core processes sharing the store, the search index, timelines and one Redis; process
/// `b` runs the event consumers only when `b_consumes`.
async fn two_instances(b_consumes: bool) -> (TestApp, TestApp) {
    two_instances_with(b_consumes, |_| {}).await
}

/// [`two_instances`] with `configure` applied to both processes' settings.
async fn two_instances_with(b_consumes: bool, configure: impl FnOnce(&mut core_server::Settings)) -> (TestApp, TestApp) {
    let redis = Arc::new(RedisServer::single());
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)));
    configure(&mut settings);
    use_redis(&mut settings, &redis);
    if std::env::var("STARLING_TEST_BACKEND").is_ok_and(|b| b == "dynamodb") {
        use_dynamodb(&mut settings, dir.path());
    }
    let shared = core_server::backends(&settings).await.unwrap();
    let other_hub = core_redis::RedisStreamHub::connect(&core_redis::Redis::connect(&redis.url).await.unwrap()).await.unwrap();
    let b_backends = Backends { streams: Arc::new(other_hub), ..shared.clone() };
    let a = instance(&settings, shared, 1, true, &redis, dir).await;
    let b = instance(&settings, b_backends, 2, b_consumes, &redis, tempfile::tempdir().unwrap()).await;
    (a, b)
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn a_stream_on_one_instance_hears_what_is_posted_on_another() {
    let (a, b) = two_instances(false).await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    b.follow(&bob, &alice).await;
    let mut user = Sse::open(&b, "/api/v1/streaming/user", Some(&bob.token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&b, &format!("?stream=hashtag&tag=relay&access_token={}", bob.token))).await.unwrap();

    let post = a.post_status(&alice, json!({"status": "@bob over the wire #relay"})).await;
    let mut seen = [user.next().await, user.next().await];
    seen.sort_by(|x, y| x.event.cmp(&y.event));
    assert_eq!(seen[0].event, "notification", "the mention made on a reaches bob's stream on b");
    assert_eq!(seen[0].json()["type"], "mention");
    assert_eq!(seen[0].json()["status"]["id"], id(&post));
    assert_eq!(seen[1].event, "update", "the post made on a reaches bob's home stream on b");
    assert_eq!(seen[1].json()["id"], id(&post));
    let tagged = ws_next(&mut socket).await;
    assert_eq!(tagged["stream"], json!(["hashtag", "relay"]));
    assert_eq!(tagged["event"], "update");
    assert_eq!(
        serde_json::from_str::<Value>(tagged["payload"].as_str().unwrap()).unwrap()["id"],
        id(&post),
        "the hashtag stream on b hears it over the WebSocket"
    );
    assert!(user.next_within(Duration::from_millis(500)).await.is_none(), "each event once");
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn every_instance_tails_the_log_yet_each_stream_hears_each_event_once() {
    let (a, b) = two_instances(true).await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let carol = a.register("carol").await;
    b.follow(&bob, &alice).await;
    a.follow(&carol, &alice).await;
    let mut on_b = Sse::open(&b, "/api/v1/streaming/user", Some(&bob.token)).await;
    let mut on_a = Sse::open(&a, "/api/v1/streaming/user", Some(&carol.token)).await;

    let mut posts = Vec::new();
    for (n, t) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        posts.push(id(&t.post_status(&alice, json!({"status": format!("post {n}")})).await));
    }
    posts.push(id(&b.post_status(&alice, json!({"status": "@bob @carol both of you"})).await));
    posts.sort();
    for (who, stream) in [("bob on b", &mut on_b), ("carol on a", &mut on_a)] {
        let mut updates = Vec::new();
        let mut notifications = Vec::new();
        for _ in 0..posts.len() + 1 {
            let event = stream.next().await;
            match event.event.as_str() {
                "update" => updates.push(event.json()["id"].as_str().unwrap().to_owned()),
                "notification" => notifications.push(event.json()["type"].as_str().unwrap().to_owned()),
                other => panic!("{who}: unexpected {other}"),
            }
        }
        updates.sort();
        assert_eq!(updates, posts, "{who} hears every post once, whichever instance it was made on");
        assert_eq!(notifications, ["mention"], "{who} hears the mention once, whichever instance created it");
        assert!(stream.next_within(Duration::from_millis(700)).await.is_none(), "{who}: nothing twice");
    }
}

#[tokio::test]
#[ignore = "needs redis-server: scripts/test.sh tier2 (redis section)"]
async fn revoking_a_token_on_one_instance_closes_its_streams_on_another() {
    // The re-check is far off: what closes the streams on b is a's announcement over Redis.
    let (a, b) = two_instances_with(false, late_recheck).await;
    let alice = a.register("alice").await;
    let (token, client_id, secret) = revocable_token(&a, &alice).await;
    let mut sse = Sse::open(&b, "/api/v1/streaming/user", Some(&token)).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url(&b, &format!("?stream=public&access_token={token}"))).await.unwrap();
    let mut untouched = Sse::open(&b, "/api/v1/streaming/user", Some(&alice.token)).await;

    a.post("/oauth/revoke", None, json!({"client_id": client_id, "client_secret": secret, "token": token})).await.expect(200);
    assert!(sse.ends_within(Duration::from_secs(2)).await, "the SSE stream on b ends within 2 s of the revocation on a");
    assert_eq!(ws_closed_within(&mut socket, Duration::from_secs(2)).await, Some(1008), "the WebSocket on b gets a close frame");
    a.post_status(&alice, json!({"status": "still streaming"})).await;
    assert_eq!(untouched.next().await.event, "update", "the account's other token streams on");
}

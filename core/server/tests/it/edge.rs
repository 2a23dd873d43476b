use serde_json::json;

use crate::{TestApp, ids};

async fn with_edge() -> TestApp {
    TestApp::spawn_with(|s| s.edge.enabled = true).await
}

#[tokio::test]
async fn the_in_process_edge_caches_home_and_invalidates_on_a_followees_post() {
    let t = with_edge().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&bob, &alice).await;
    t.settle().await;
    let first = t.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(first.headers["x-starling-cache"], "miss");
    let second = t.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(second.headers["x-starling-cache"], "hit");
    assert_eq!(second.body, first.body);
    let post = t.post_status(&alice, json!({"status": "fresh news"})).await;
    t.settle().await;
    let third = t.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(third.headers["x-starling-cache"], "miss", "a followee's post invalidates the cached page");
    assert_eq!(ids(&third.expect(200)), vec![crate::id(&post)]);
}

#[tokio::test]
async fn the_in_process_edge_refuses_bad_tokens_and_adds_rate_limit_headers() {
    let t = with_edge().await;
    let reply = t.get("/api/v1/timelines/home", Some("stl1.nope.nope.nope")).await;
    assert_eq!(reply.error(), "The access token is invalid");
    reply.expect(401);
    let anonymous = t.get("/api/v1/instance", None).await;
    assert!(anonymous.headers.contains_key("x-ratelimit-remaining"));
    anonymous.expect(200);
}

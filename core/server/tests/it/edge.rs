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

/// What core's CORS layer puts on every non-preflight response; the edge's own must match.
fn assert_cors_like_core(headers: &reqwest::header::HeaderMap, core: &reqwest::header::HeaderMap) {
    for name in ["access-control-allow-origin", "access-control-expose-headers", "vary"] {
        assert_eq!(headers.get(name), core.get(name), "{name}: edge {:?} vs core {:?}", headers.get(name), core.get(name));
    }
    assert_eq!(headers["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn responses_the_in_process_edge_builds_carry_cors_headers_as_cores_do() {
    let t = TestApp::spawn_with(|s| {
        s.edge.enabled = true;
        let mut limits = s.rate_limits.clone().unwrap();
        limits.requests.limit = 5;
        s.rate_limits = Some(limits);
    })
    .await;
    let alice = t.register("alice").await;
    // Forwarded: core's own headers.
    let forwarded = t.http.get(format!("{}/api/v1/instance", t.base)).header("origin", "https://app.example").send().await.unwrap();
    let core_headers = forwarded.headers().clone();
    assert_eq!(core_headers["access-control-allow-origin"], "*");
    let bad = t.get("/api/v1/timelines/home", Some("stl1.nope.nope.nope")).await;
    assert_eq!(bad.status, 401);
    assert_cors_like_core(&bad.headers, &core_headers);
    let miss = t.get("/api/v1/timelines/home", Some(&alice.token)).await;
    assert_eq!(miss.headers["x-starling-cache"], "miss", "{:?}", miss.status);
    let hit = t.get("/api/v1/timelines/home", Some(&alice.token)).await;
    assert_eq!(hit.headers["x-starling-cache"], "hit");
    assert_cors_like_core(&hit.headers, &core_headers);
    let mut limited = t.get("/api/v1/timelines/home", Some(&alice.token)).await;
    for _ in 0..5 {
        if limited.status == 429 {
            break;
        }
        limited = t.get("/api/v1/timelines/home", Some(&alice.token)).await;
    }
    assert_eq!(limited.status, 429);
    assert_cors_like_core(&limited.headers, &core_headers);
    // A preflight is answered as core answers it, without a token and past the limit.
    let preflight = t
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/api/v1/statuses", t.base))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    for (name, value) in [("access-control-allow-origin", "*"), ("access-control-allow-methods", "*"), ("access-control-allow-headers", "*")] {
        assert_eq!(preflight.headers()[name], value);
    }
}

#[tokio::test]
async fn the_edges_cached_home_follows_mutes_their_expiry_blocks_and_suspensions() {
    let t = with_edge().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let bobs = t.post_status(&bob, json!({"status": "from bob"})).await;
    let carols = t.post_status(&carol, json!({"status": "from carol"})).await;
    t.settle().await;
    let both = vec![crate::id(&carols), crate::id(&bobs)];
    assert_eq!(home(&t, &alice).await.1, both);
    assert_eq!(home(&t, &alice).await.0, "hit");
    t.post_form(&format!("/api/v1/accounts/{}/mute", bob.id), Some(&alice.token), &[("duration", "2")]).await.expect(200);
    assert_eq!(home(&t, &alice).await, ("miss".to_owned(), vec![crate::id(&carols)]), "a mute invalidates the cached page");
    assert_eq!(home(&t, &alice).await.0, "hit");
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(home(&t, &alice).await, ("miss".to_owned(), both.clone()), "and so does its end");
    t.post(&format!("/api/v1/accounts/{}/block", carol.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(home(&t, &alice).await.1, vec![crate::id(&bobs)], "a block too");
    // A moderator's suspension of an author reaches every cached home at once.
    core_app::admin::service::set_role(&t.app, carol.id.parse().unwrap(), core_app::model::Role::Admin).await.unwrap();
    let (client, secret) = t.create_app("admin:write").await;
    let body = json!({"grant_type": "password", "client_id": client, "client_secret": secret, "username": "carol", "password": crate::PASSWORD, "scope": "admin:write"});
    let admin = t.post("/oauth/token", None, body).await.expect(200)["access_token"].as_str().unwrap().to_owned();
    home(&t, &alice).await;
    assert_eq!(home(&t, &alice).await.0, "hit");
    t.post(&format!("/api/v1/admin/accounts/{}/action", bob.id), Some(&admin), json!({"type": "suspend"})).await.expect(200);
    assert_eq!(home(&t, &alice).await, ("miss".to_owned(), Vec::<String>::new()));
}

/// The caller's home through the edge: whether it was a cache hit, and the ids.
async fn home(t: &TestApp, user: &crate::User) -> (String, Vec<String>) {
    let reply = t.get("/api/v1/timelines/home", Some(&user.token)).await;
    (reply.headers["x-starling-cache"].to_str().unwrap().to_owned(), ids(&reply.expect(200)))
}

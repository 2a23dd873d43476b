use serde_json::json;

use crate::TestApp;

#[tokio::test]
async fn every_response_carries_rate_limit_headers() {
    let t = TestApp::spawn().await;
    let reply = t.get("/api/v1/instance", None).await;
    assert_eq!(reply.headers["x-ratelimit-limit"], "100000");
    let remaining: u64 = reply.headers["x-ratelimit-remaining"].to_str().unwrap().parse().unwrap();
    assert!(remaining < 100_000);
    assert!(reply.headers["x-ratelimit-reset"].to_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_token_over_its_request_quota_gets_429_with_retry_after() {
    let t = TestApp::spawn_with(|s| {
        let limits = s.rate_limits.as_mut().unwrap();
        limits.requests.limit = 5;
        limits.requests.period_secs = 300;
    })
    .await;
    let [alice, other] = t.register_all(["alice", "other"]).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(t.get("/api/v1/timelines/home", Some(&alice.token)).await.status.as_u16());
    }
    assert!(statuses[..5].iter().all(|s| *s == 200) || statuses.contains(&429), "{statuses:?}");
    let refused = t.get("/api/v1/timelines/home", Some(&alice.token)).await;
    assert!(refused.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(refused.headers["x-ratelimit-remaining"], "0");
    assert_eq!(refused.error(), "Too many requests");
    refused.expect(429);
    // Another token has its own quota.
    t.get("/api/v1/timelines/home", Some(&other.token)).await.expect(200);
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let t = TestApp::spawn_with(|s| {
        s.rate_limits.as_mut().unwrap().sign_ups.limit = 2;
    })
    .await;
    let app_token = t.app_token("read write").await;
    let mut codes = Vec::new();
    for name in ["a1", "a2", "a3"] {
        let reply = t
            .post(
                "/api/v1/accounts",
                Some(&app_token),
                json!({"username": name, "email": format!("{name}@example.org"), "password": "correct horse battery", "agreement": true}),
            )
            .await;
        codes.push(reply.status.as_u16());
    }
    assert_eq!(codes, vec![200, 200, 429]);
    assert!(t.get("/api/v1/accounts/lookup?acct=a3", None).await.status.as_u16() == 404, "a refused sign-up stores nothing");
}

/// The README: "Every response carries `X-RateLimit-Limit/Remaining/Reset`" — every answer of
/// the API, whatever its status, through core alone and through the in-process edge (the
/// operational endpoints `/health`, `/ready`, `/metrics` are exempt from limits, and CORS
/// preflights are answered before any limit, both as the README says).
#[tokio::test]
async fn rate_limit_headers_are_on_every_api_response_as_the_readme_says() {
    for edge in [false, true] {
        let t = TestApp::spawn_with(|s| s.edge.enabled = edge).await;
        let alice = t.register("alice").await;
        let status = t.post_status(&alice, json!({"status": "hello"})).await;
        let status_path = format!("/api/v1/statuses/{}", crate::id(&status));
        let mut missing = Vec::new();
        let mut check = |what: &str, reply: &crate::Reply| {
            if ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"].iter().any(|h| !reply.headers.contains_key(*h)) {
                missing.push(format!("{what} ({})", reply.status));
            }
        };
        check("GET anonymous", &t.get("/api/v1/instance", None).await);
        check("GET signed in", &t.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await);
        check("GET home", &t.get("/api/v1/timelines/home", Some(&alice.token)).await);
        check("GET home again (edge cache)", &t.get("/api/v1/timelines/home", Some(&alice.token)).await);
        check("POST", &t.post(&format!("{status_path}/favourite"), Some(&alice.token), json!({})).await);
        check("401", &t.get("/api/v1/timelines/home", None).await);
        check("401 bad token", &t.get("/api/v1/timelines/home", Some("not-a-token")).await);
        check("404 route", &t.get("/api/v1/nothing-here", None).await);
        check("404 entity", &t.get("/api/v1/statuses/1", Some(&alice.token)).await);
        check("405", &t.delete("/api/v1/instance", Some(&alice.token)).await);
        check("422", &t.post("/api/v1/statuses", Some(&alice.token), json!({"status": ""})).await);
        check("oauth", &t.get("/oauth/authorize?response_type=code&client_id=x&redirect_uri=urn:ietf:wg:oauth:2.0:oob", None).await);
        check("discovery", &t.get("/.well-known/nodeinfo", None).await);
        check("DELETE", &t.delete(&status_path, Some(&alice.token)).await);
        assert!(missing.is_empty(), "edge {edge}: responses without X-RateLimit-* headers: {missing:?}");
    }
}

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

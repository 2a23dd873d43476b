use serde_json::json;

use crate::TestApp;

#[tokio::test]
async fn password_grant_issues_a_token_that_verifies() {
    let t = TestApp::spawn().await;
    let alice = t.register("alice").await;
    let (id, secret) = t.create_app("read write").await;
    let token = t
        .post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice@example.org", "password": "correct horse battery", "scope": "read"}))
        .await
        .expect(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "read");
    let me = t.get("/api/v1/accounts/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let t = TestApp::spawn().await;
    t.register("alice").await;
    let (id, secret) = t.create_app("read").await;
    let token = t.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "alice", "password": "correct horse battery"})).await.expect(200);
    let access = token["access_token"].as_str().unwrap();
    t.get("/api/v1/accounts/verify_credentials", Some(access)).await.expect(200);
    t.post("/oauth/revoke", None, json!({"client_id": id, "client_secret": secret, "token": access})).await.expect(200);
    let reply = t.get("/api/v1/accounts/verify_credentials", Some(access)).await;
    assert_eq!(reply.error(), "The access token is invalid");
    reply.expect(401);
}

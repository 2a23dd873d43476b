//! Featured profiles (endorsements) and private notes on accounts.

use serde_json::{Value, json};

use crate::{TestApp, User, ids};

async fn act(t: &TestApp, who: &User, verb: &str, whom: &User) -> Value {
    t.post(&format!("/api/v1/accounts/{}/{verb}", whom.id), Some(&who.token), json!({})).await.expect(200)
}

async fn relationship(t: &TestApp, who: &User, whom: &User) -> Value {
    t.get(&format!("/api/v1/accounts/relationships?id[]={}", whom.id), Some(&who.token)).await.expect(200)[0].clone()
}

#[tokio::test]
async fn only_followed_accounts_are_endorsed_and_they_show_on_the_profile() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let refused = t.post(&format!("/api/v1/accounts/{}/endorse", bob.id), Some(&alice.token), json!({})).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body["error"].as_str().unwrap().contains("following"), "{:?}", refused.body);

    t.follow(&alice, &bob).await;
    t.follow(&alice, &carol).await;
    let rel = act(&t, &alice, "endorse", &bob).await;
    assert_eq!((rel["endorsed"].clone(), rel["following"].clone()), (json!(true), json!(true)));
    // The older name does the same, and endorsing again changes nothing.
    assert_eq!(act(&t, &alice, "pin", &carol).await["endorsed"], true);
    act(&t, &alice, "endorse", &bob).await;
    assert_eq!(ids(&t.get("/api/v1/endorsements", Some(&alice.token)).await.expect(200)), [carol.id.clone(), bob.id.clone()], "newest first");
    // Anyone can see whom alice features (as on her profile), page by page.
    let public = t.get(&format!("/api/v1/accounts/{}/endorsements?limit=1", alice.id), None).await;
    assert_eq!(ids(&public.body), [carol.id.as_str()]);
    let next = t.follow_link(&public, "next", None).await.expect(200);
    assert_eq!(ids(&next), [bob.id.as_str()]);
    assert_eq!(relationship(&t, &alice, &carol).await["endorsed"], true);
    assert_eq!(relationship(&t, &bob, &alice).await["endorsed"], false, "endorsement is one way");

    assert_eq!(act(&t, &alice, "unendorse", &carol).await["endorsed"], false);
    act(&t, &alice, "unpin", &carol).await;
    assert_eq!(ids(&t.get("/api/v1/endorsements", Some(&alice.token)).await.expect(200)), [bob.id.as_str()]);
    t.get("/api/v1/accounts/999999999/endorsements", None).await.expect(404);
}

#[tokio::test]
async fn an_endorsement_ends_with_the_follow() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    act(&t, &alice, "endorse", &bob).await;
    let rel = act(&t, &alice, "unfollow", &bob).await;
    assert_eq!((rel["following"].clone(), rel["endorsed"].clone()), (json!(false), json!(false)));
    assert!(ids(&t.get("/api/v1/endorsements", Some(&alice.token)).await.expect(200)).is_empty());
    // A block ends the follow, so the endorsement too.
    t.follow(&alice, &bob).await;
    act(&t, &alice, "endorse", &bob).await;
    act(&t, &bob, "block", &alice).await;
    assert_eq!(relationship(&t, &alice, &bob).await["endorsed"], false);
    assert!(ids(&t.get(&format!("/api/v1/accounts/{}/endorsements", alice.id), None).await.expect(200)).is_empty());
}

#[tokio::test]
async fn endorsing_needs_the_write_accounts_scope() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    t.follow(&alice, &bob).await;
    let read_only = t.token_with_scopes(&alice, "read").await;
    t.post(&format!("/api/v1/accounts/{}/endorse", bob.id), Some(&read_only), json!({})).await.expect(403);
    t.post(&format!("/api/v1/accounts/{}/note", bob.id), Some(&read_only), json!({"comment": "x"})).await.expect(403);
    t.get("/api/v1/endorsements", Some(&read_only)).await.expect(200);
}

#[tokio::test]
async fn notes_are_private_and_cleared_by_an_empty_comment() {
    let t = TestApp::spawn().await;
    let [alice, bob] = t.register_all(["alice", "bob"]).await;
    let rel = t.post(&format!("/api/v1/accounts/{}/note", bob.id), Some(&alice.token), json!({"comment": "met at the café"})).await.expect(200);
    assert_eq!(rel["note"], "met at the café");
    assert_eq!(relationship(&t, &alice, &bob).await["note"], "met at the café");
    assert_eq!(relationship(&t, &bob, &alice).await["note"], "", "only its author sees a note");
    // Form-encoded like most clients, and an empty comment clears it.
    let cleared = t.post_form(&format!("/api/v1/accounts/{}/note", bob.id), Some(&alice.token), &[("comment", "")]).await.expect(200);
    assert_eq!(cleared["note"], "");
    let long = "x".repeat(2001);
    let refused = t.post(&format!("/api/v1/accounts/{}/note", bob.id), Some(&alice.token), json!({ "comment": long })).await;
    assert_eq!(refused.status, 422);
    t.post("/api/v1/accounts/999999999/note", Some(&alice.token), json!({"comment": "x"})).await.expect(404);
}

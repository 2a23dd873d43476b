//! Quote posts (Mastodon 4.5): who may quote what, what a quote shows each reader, the quoted
//! author's list, revocation, the quote policy, notifications and deletions.

use serde_json::{Value, json};

use crate::streaming::Sse;
use crate::{TestApp, User, id, ids};

async fn quote(t: &TestApp, who: &User, quoted: &str, extra: Value) -> crate::Reply {
    let mut body = json!({"status": format!("quoting {quoted}"), "quoted_status_id": quoted});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    t.post("/api/v1/statuses", Some(&who.token), body).await
}

async fn show(t: &TestApp, who: Option<&User>, status: &str) -> Value {
    t.get(&format!("/api/v1/statuses/{status}"), who.map(|u| u.token.as_str())).await.expect(200)
}

async fn act(t: &TestApp, who: &User, verb: &str, whom: &User) {
    t.post(&format!("/api/v1/accounts/{}/{verb}", whom.id), Some(&who.token), json!({})).await.expect(200);
}

#[tokio::test]
async fn quoting_follows_the_quoted_posts_policy_and_visibility() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    t.follow(&bob, &alice).await;
    let public = id(&t.post_status(&alice, json!({"status": "a public thought"})).await);
    // Anyone may quote by default; an anonymous reader is told nothing about themself.
    let seen = show(&t, Some(&carol), &public).await;
    assert_eq!(seen["quote_approval"], json!({"automatic": ["public"], "manual": [], "current_user": "automatic"}));
    assert_eq!(seen["quote"], Value::Null);
    assert_eq!(show(&t, None, &public).await["quote_approval"]["current_user"], "unknown");

    let quoting = quote(&t, &bob, &public, json!({})).await.expect(200);
    assert_eq!(quoting["quote"]["state"], "accepted");
    assert_eq!(quoting["quote"]["quoted_status"]["id"], public.as_str());
    assert!(quoting["quote"]["quoted_status"]["content"].as_str().unwrap().contains("a public thought"));
    assert_eq!(show(&t, Some(&alice), &public).await["quotes_count"], 1);

    // Followers only: bob follows alice, carol does not.
    let followers = id(&t.post_status(&alice, json!({"status": "for followers to quote", "quote_approval_policy": "followers"})).await);
    assert_eq!(show(&t, Some(&carol), &followers).await["quote_approval"]["current_user"], "denied");
    assert_eq!(show(&t, Some(&bob), &followers).await["quote_approval"]["automatic"], json!(["followers"]));
    quote(&t, &bob, &followers, json!({})).await.expect(200);
    let refused = quote(&t, &carol, &followers, json!({})).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert!(refused.error().contains("followers"), "{}", refused.error());

    // Nobody: not even a follower, but the author themself.
    let nobody = id(&t.post_status(&alice, json!({"status": "do not quote", "quote_approval_policy": "nobody"})).await);
    assert_eq!(quote(&t, &bob, &nobody, json!({})).await.status, 422);
    assert_eq!(quote(&t, &alice, &nobody, json!({})).await.expect(200)["quote"]["state"], "accepted");

    // A private post: its follower sees it but may not quote it; others do not even learn of it.
    let private = id(&t.post_status(&alice, json!({"status": "between us", "visibility": "private"})).await);
    assert_eq!(show(&t, Some(&bob), &private).await["quote_approval"], json!({"automatic": [], "manual": [], "current_user": "denied"}));
    let refused = quote(&t, &bob, &private, json!({})).await;
    assert_eq!(refused.status, 422);
    assert!(refused.error().contains("Private"), "{}", refused.error());
    assert_eq!(quote(&t, &carol, &private, json!({})).await.status, 404);

    // Blocked either way: as if the post did not exist.
    act(&t, &alice, "block", &dave).await;
    assert_eq!(quote(&t, &dave, &public, json!({})).await.status, 404);
    assert_eq!(quote(&t, &bob, "999999999", json!({})).await.status, 404);
    assert_eq!(quote(&t, &bob, &public, json!({"quote_approval_policy": "everyone"})).await.status, 422);
    // A boost is not quotable (quote what it boosts); quotes are not scheduled.
    let boost = t.post(&format!("/api/v1/statuses/{public}/reblog"), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(quote(&t, &carol, &id(&boost), json!({})).await.status, 422);
    let scheduled = quote(&t, &bob, &public, json!({"scheduled_at": "2999-01-01T00:00:00Z"})).await;
    assert_eq!(scheduled.status, 422);
    assert!(scheduled.error().contains("scheduled"), "{}", scheduled.error());

    // The author's default for new posts (`source.quote_policy`).
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&carol.token)).await.expect(200);
    assert_eq!(me["source"]["quote_policy"], "public");
    t.patch_form("/api/v1/accounts/update_credentials", Some(&carol.token), &[("source[quote_policy]", "nobody")]).await.expect(200);
    let me = t.get("/api/v1/accounts/verify_credentials", Some(&carol.token)).await.expect(200);
    assert_eq!(me["source"]["quote_policy"], "nobody");
    let carols = id(&t.post_status(&carol, json!({"status": "mine alone"})).await);
    assert_eq!(quote(&t, &bob, &carols, json!({})).await.status, 422);
}

#[tokio::test]
async fn a_quote_never_shows_a_post_its_reader_may_not_see() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    t.follow(&bob, &alice).await;
    let private = id(&t.post_status(&alice, json!({"status": "secret words", "visibility": "private"})).await);
    // The author may quote her own private post in a public one.
    let quoting = id(&quote(&t, &alice, &private, json!({})).await.expect(200));
    let for_bob = show(&t, Some(&bob), &quoting).await;
    assert_eq!(for_bob["quote"]["state"], "accepted");
    assert_eq!(for_bob["quote"]["quoted_status"]["id"], private.as_str());
    for reader in [Some(&carol), None] {
        let seen = show(&t, reader, &quoting).await;
        assert_eq!(seen["quote"], json!({"state": "unauthorized", "quoted_status": null}));
        assert!(!seen.to_string().contains("secret words"));
    }

    // One level deep: a quote of that quote shows it with a shallow quote inside.
    let outer = id(&quote(&t, &bob, &quoting, json!({})).await.expect(200));
    let for_bob = show(&t, Some(&bob), &outer).await;
    assert_eq!(for_bob["quote"]["quoted_status"]["id"], quoting.as_str());
    assert_eq!(for_bob["quote"]["quoted_status"]["quote"], json!({"state": "accepted", "quoted_status_id": private}));
    let for_carol = show(&t, Some(&carol), &outer).await;
    assert_eq!(for_carol["quote"]["quoted_status"]["quote"], json!({"state": "unauthorized", "quoted_status_id": null}));
    assert!(!for_carol.to_string().contains("secret words"));

    // Timelines render quotes too (bob's home holds alice's quote and his own).
    t.settle().await;
    let home = t.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    let states: Vec<(String, Value)> = home.as_array().unwrap().iter().map(|s| (id(s), s["quote"]["state"].clone())).collect();
    assert!(states.contains(&(quoting.clone(), json!("accepted"))) && states.contains(&(outer.clone(), json!("accepted"))), "{states:?}");

    // A block hides the quoted post inside someone else's quote.
    act(&t, &carol, "block", &alice).await;
    let seen = show(&t, Some(&carol), &outer).await;
    assert_eq!(seen["quote"], json!({"state": "unauthorized", "quoted_status": null}));
}

#[tokio::test]
async fn the_author_lists_and_revokes_quotes_and_changes_who_may_quote() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    let quoted = id(&t.post_status(&alice, json!({"status": "quote me"})).await);
    let by_bob = id(&quote(&t, &bob, &quoted, json!({})).await.expect(200));
    let by_carol = id(&quote(&t, &carol, &quoted, json!({})).await.expect(200));
    let path = format!("/api/v1/statuses/{quoted}/quotes");
    let list = t.get(&path, Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&list), [by_carol.as_str(), by_bob.as_str()], "newest first");
    let first = t.get(&format!("{path}?limit=1"), Some(&alice.token)).await;
    assert_eq!(ids(&first.body), [by_carol.as_str()]);
    assert_eq!(ids(&t.follow_link(&first, "next", Some(&alice.token)).await.expect(200)), [by_bob.as_str()]);
    assert_eq!(t.get(&path, Some(&bob.token)).await.status, 403, "only the quoted author lists quotes");
    assert_eq!(t.get(&path, None).await.status, 401);

    // Revoking: the quote stays, without what it quoted; again changes nothing.
    let revoke = format!("/api/v1/statuses/{quoted}/quotes/{by_bob}/revoke");
    let revoked = t.post(&revoke, Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(id(&revoked), by_bob);
    assert_eq!(revoked["quote"], json!({"state": "revoked", "quoted_status": null}));
    t.post(&revoke, Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(show(&t, Some(&bob), &by_bob).await["quote"]["state"], "revoked");
    assert_eq!(t.post(&format!("/api/v1/statuses/{quoted}/quotes/{by_carol}/revoke"), Some(&bob.token), json!({})).await.status, 403);
    assert_eq!(t.post(&format!("/api/v1/statuses/{quoted}/quotes/{quoted}/revoke"), Some(&alice.token), json!({})).await.status, 404);
    assert_eq!(ids(&t.get(&path, Some(&alice.token)).await.expect(200)), [by_carol.as_str()]);
    assert_eq!(show(&t, Some(&alice), &quoted).await["quotes_count"], 1);

    // The policy changes future quotes only.
    let policy = format!("/api/v1/statuses/{quoted}/interaction_policy");
    let changed = t.put(&policy, Some(&alice.token), json!({"quote_approval_policy": "nobody"})).await.expect(200);
    assert_eq!(changed["quote_approval"]["automatic"], json!([]));
    assert_eq!(quote(&t, &dave, &quoted, json!({})).await.status, 422);
    assert_eq!(show(&t, Some(&dave), &by_carol).await["quote"]["state"], "accepted");
    assert_eq!(t.put(&policy, Some(&bob.token), json!({"quote_approval_policy": "public"})).await.status, 403);
    assert_eq!(t.put(&policy, Some(&alice.token), json!({"quote_approval_policy": "sometimes"})).await.status, 422);
    t.put(&policy, Some(&alice.token), json!({"quote_approval_policy": "public"})).await.expect(200);
    quote(&t, &dave, &quoted, json!({})).await.expect(200);
}

#[tokio::test]
async fn quotes_notify_the_quoted_author_and_deletions_settle_them() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol] = t.register_all(["alice", "bob", "carol"]).await;
    let quoted = id(&t.post_status(&alice, json!({"status": "original words"})).await);
    let by_bob = id(&quote(&t, &bob, &quoted, json!({})).await.expect(200));
    quote(&t, &alice, &quoted, json!({})).await.expect(200);
    act(&t, &alice, "mute", &carol).await;
    let by_carol = id(&quote(&t, &carol, &quoted, json!({})).await.expect(200));
    t.settle().await;
    let notifications = t.get("/api/v1/notifications", Some(&alice.token)).await.expect(200);
    let quotes: Vec<(String, String)> = notifications
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "quote")
        .map(|n| (n["account"]["id"].as_str().unwrap().to_owned(), id(&n["status"])))
        .collect();
    assert_eq!(quotes, [(bob.id.clone(), by_bob.clone())], "not her own quote, nor a muted account's");

    // An edit of the quoted post tells the quoters, with their quote attached.
    t.put(&format!("/api/v1/statuses/{quoted}"), Some(&alice.token), json!({"status": "edited words"})).await.expect(200);
    t.settle().await;
    let told = t.get("/api/v1/notifications", Some(&bob.token)).await.expect(200);
    let update = told.as_array().unwrap().iter().find(|n| n["type"] == "quoted_update").expect("quoted_update");
    assert_eq!(id(&update["status"]), by_bob);
    assert_eq!(update["status"]["quote"]["quoted_status"]["content"], "<p>edited words</p>");

    // Deleting a quote takes it off the list; deleting the quoted post leaves quotes `deleted`.
    t.delete(&format!("/api/v1/statuses/{by_bob}"), Some(&bob.token)).await.expect(200);
    let path = format!("/api/v1/statuses/{quoted}/quotes");
    assert!(!ids(&t.get(&path, Some(&alice.token)).await.expect(200)).contains(&by_bob));
    assert_eq!(show(&t, Some(&alice), &quoted).await["quotes_count"], 2);
    t.delete(&format!("/api/v1/statuses/{quoted}"), Some(&alice.token)).await.expect(200);
    let orphan = show(&t, Some(&carol), &by_carol).await;
    assert_eq!(orphan["quote"], json!({"state": "deleted", "quoted_status": null}));
    assert!(!orphan.to_string().contains("edited words"));
}

#[tokio::test]
async fn a_streamed_quote_hides_an_author_the_reader_blocks() {
    let t = TestApp::spawn().await;
    let [alice, bob, carol, dave] = t.register_all(["alice", "bob", "carol", "dave"]).await;
    let quoted = id(&t.post_status(&alice, json!({"status": "not for carol"})).await);
    act(&t, &carol, "block", &alice).await;
    let mut blocking = Sse::open(&t, "/api/v1/streaming/public", Some(&carol.token)).await;
    let mut other = Sse::open(&t, "/api/v1/streaming/public", Some(&dave.token)).await;
    let quoting = id(&quote(&t, &bob, &quoted, json!({})).await.expect(200));
    let seen = blocking.next().await;
    assert_eq!(id(&seen.json()), quoting);
    assert_eq!(seen.json()["quote"], json!({"state": "unauthorized", "quoted_status": null}));
    assert!(!seen.data.contains("not for carol"));
    let unblocked = other.next().await.json();
    assert_eq!((id(&unblocked), unblocked["quote"]["state"].clone()), (quoting, json!("accepted")));
}
